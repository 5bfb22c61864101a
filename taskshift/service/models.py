"""Pydantic v2 models of every request and response of the scoring API (plugin, library and CLI).

The OpenAPI description (`GET /-/openapi.json`) is generated from these models, so the docs, the
validation and the responses cannot drift apart. Requests are strict: a string is not a number,
2.5 is not a headcount (3.0 is 3: JSON has one kind of number), unknown fields are refused.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, field_validator,
                      model_validator)

from taskshift import scoring

#: Limits of the API (also enforced by the library, so the three front ends agree).
MAX_TASKS = 200
MAX_WORKFORCE_ROLES = 1000
MAX_TEXT = 1000
MAX_TITLE = 200
#: Work budget of one request: each free-text task is a full-text search (FTS5 BM25 over every task
#: statement, up to 32 words OR-ed: ~5 ms typical, ~110 ms for 32 of the commonest words with a
#: base_role), so a request may carry at most this many free-text tasks (the others by task_id).
MAX_FREE_TEXT_TASKS = 20
MAX_MEASURES = 64
#: Body limit: larger than the compact JSON of any request the schema allows (20 texts of 1,000
#: characters, each up to 12 bytes as JSON escapes, plus 180 task ids), so a valid request always fits.
MAX_BODY_BYTES = 256 * 1024
ROLE_CODE_PATTERN = r"^\d{2}-\d{4}\.\d{2}$"
ISCO_CODE_PATTERN = r"^\d{1,4}$"
#: A state: USPS code (DC, ca) or FIPS code (11, 6).
STATE_CODE_PATTERN = r"^([A-Za-z]{2}|\d{1,2})$"

Outlook = Literal["elimination", "compression", "expansion", "limited", "unknown"]

#: Program and year of each labour figure of a role (also in the metadata table, key labor_figures).
LABOR_SOURCES = {
    "employment": "BLS OEWS May 2025 (wage and salary jobs; May 2024 for 11-1031 Legislators, not in May 2025: see labor_year)",
    "employment_allocated": "BLS OEWS May 2025, split evenly over the roles sharing the code",
    "mean_wage": "BLS OEWS May 2025, nominal USD",
    "median_wage": "BLS OEWS May 2025, nominal USD",
    "sector_figures": "BLS OEWS May 2024 by NAICS sector (no May 2025 by-sector file)",
    "employment_over_time": "BLS OEWS May 2019-2025 (GET /-/history/{role_code}, section oews)",
    "ep_employment_2024": "BLS Employment Projections 2024-34, 2024 base (includes self-employed)",
    "employment_2034": "BLS Employment Projections 2024-34, 2034 (includes self-employed)",
    "employment_change_pct": "BLS Employment Projections 2024-34",
}


def _integral(value):
    """JSON has one kind of number: 3.0 is the integer 3 (as JSON Schema's `integer` says); 2.5, "3" and true are not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: An integer field of a request: a JSON number with no fraction (3 or 3.0), never a string or a boolean.
Integer = Annotated[StrictInt, BeforeValidator(_integral)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True)

    def to_dict(self) -> dict:
        return self.model_dump()


# --- requests --------------------------------------------------------------------------------------
#: `?measures=` of GET /-/score: at most this many values of at most this many characters, so that any URL the
#: schema allows fits the server's 16 KB URL limit (all 21 measure ids comma-separated are ~560 characters).
MAX_QUERY_MEASURE_VALUES = 12
MAX_QUERY_MEASURE_LENGTH = 1000


class ScoreQuery(_Request):
    """Query string of `GET /-/score/{role_code}`."""
    measures: list[Annotated[StrictStr, Field(max_length=MAX_QUERY_MEASURE_LENGTH)]] | None = Field(
        None, min_length=1, max_length=MAX_QUERY_MEASURE_VALUES,
        description="Only these measures (comma-separated or repeated ?measures=); default every measure with role scores")


def _exactly_one_of_task_id_or_text(schema: dict) -> None:
    """JSON Schema of TaskIn: exactly one of task_id and text is given and not null (what `_one_of` checks)."""
    schema["oneOf"] = [
        {"required": ["task_id"], "properties": {"task_id": {"type": "integer"}, "text": {"type": "null"}}},
        {"required": ["text"], "properties": {"text": {"type": "string"}, "task_id": {"type": "null"}}},
    ]


class TaskIn(_Request):
    """One task of a custom role: an O*NET task id or free text, with its share of working time."""
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_exactly_one_of_task_id_or_text)

    task_id: Integer | None = Field(None, ge=1, description="O*NET task id (tasks.task_id)")
    text: StrictStr | None = Field(None, min_length=1, max_length=MAX_TEXT, description=(
        "Free text, matched to the closest O*NET task statement (FTS5 BM25); text with no word matches nothing (404)"))
    share: StrictFloat | StrictInt = Field(..., ge=0, le=1e9, allow_inf_nan=False,
                                           description="Share of working time (any non-negative scale; normalised to sum to 1)")

    @model_validator(mode="after")
    def _one_of(self):
        if (self.task_id is None) == (self.text is None):
            raise ValueError("give exactly one of task_id or text")
        return self


def _custom_role_schema(schema: dict) -> None:
    """What the validators of CustomRoleRequest check, in JSON Schema: a positive share, the free-text budget."""
    schema["properties"]["tasks"]["allOf"] = [
        {"contains": {"type": "object", "required": ["share"], "properties": {"share": {"exclusiveMinimum": 0}}}},
        {"contains": {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
         "minContains": 0, "maxContains": MAX_FREE_TEXT_TASKS},
    ]


class CustomRoleRequest(_Request):
    """Body of `POST /-/score`: a custom role as a list of tasks with time shares."""
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_custom_role_schema)

    tasks: list[TaskIn] = Field(..., min_length=1, max_length=MAX_TASKS, description=(
        f"At most {MAX_TASKS} tasks, of which at most {MAX_FREE_TEXT_TASKS} free text (the request's work budget); "
        "at least one share must be positive"))
    base_role: StrictStr | None = Field(None, json_schema_extra={"pattern": ROLE_CODE_PATTERN}, description=(
        "Optional O*NET-SOC code the custom role is a variant of: its tasks are preferred when matching free text, "
        "its employment projection decides the outlook, and its own scores are returned beside the custom ones"))
    measures: list[StrictStr] | None = Field(None, min_length=1, max_length=MAX_MEASURES,
                                             description="Only these measures (default: every measure with role scores)")

    @field_validator("tasks")
    @classmethod
    def _shares(cls, tasks):
        if not any(t.share > 0 for t in tasks):
            raise ValueError("task shares are all zero: at least one share must be positive")
        texts = sum(t.text is not None for t in tasks)
        if texts > MAX_FREE_TEXT_TASKS:
            raise ValueError(f"{texts} tasks are free text; a request may match at most {MAX_FREE_TEXT_TASKS} "
                             "(each is a full-text search): give task_id for the others or split the request")
        return tasks


def _exactly_one_of_role_or_isco(schema: dict) -> None:
    """JSON Schema of WorkforceEntry: exactly one of role_code and isco_code is given and not null (`_one_code`)."""
    schema["oneOf"] = [
        {"required": ["role_code"], "properties": {"role_code": {"type": "string"}, "isco_code": {"type": "null"}}},
        {"required": ["isco_code"], "properties": {"isco_code": {"type": "string"}, "role_code": {"type": "null"}}},
    ]


class WorkforceEntry(_Request):
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_exactly_one_of_role_or_isco)

    # the patterns are documented, and checked by the service, which suggests the code meant (service.suggest, service.isco)
    role_code: StrictStr | None = Field(None, json_schema_extra={"pattern": ROLE_CODE_PATTERN},
                                        description="O*NET-SOC 2019 code, e.g. 15-1252.00")
    isco_code: StrictStr | None = Field(None, json_schema_extra={"pattern": ISCO_CODE_PATTERN}, description=(
        "Instead of role_code: an ISCO-08 code of any level (1 to 4 digits, e.g. 2512 or 2), standing for its US roles "
        "with the weights of isco_roles (docs/isco.md)"))
    headcount: Integer = Field(..., ge=0, le=10**9, description="Number of people in the role (non-negative integer, at most 1e9)")

    @model_validator(mode="after")
    def _one_code(self):
        if (self.role_code is None) == (self.isco_code is None):
            raise ValueError("give exactly one of role_code or isco_code")
        return self


def _workforce_schema(schema: dict) -> None:
    """What the validator of WorkforceRequest checks, in JSON Schema: some headcount is positive."""
    schema["properties"]["roles"]["contains"] = {
        "type": "object", "required": ["headcount"], "properties": {"headcount": {"type": "integer", "minimum": 1}}}


class WorkforceRequest(_Request):
    """Body of `POST /-/score/workforce`: a team or a company as roles with headcounts."""
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_workforce_schema)

    roles: list[WorkforceEntry] = Field(..., min_length=1, max_length=MAX_WORKFORCE_ROLES,
                                        description="At least one headcount must be positive")
    measures: list[StrictStr] | None = Field(None, min_length=1, max_length=MAX_MEASURES,
                                             description="Only these measures (default: every measure with role scores)")
    rank_by: StrictStr | None = Field(None, description="Measure that ranks the most exposed roles (default eloundou2023_gpt4_beta)")
    top: Integer = Field(10, ge=1, le=100, description="How many of the most exposed roles to return")

    @field_validator("roles")
    @classmethod
    def _headcount(cls, roles):
        if not any(e.headcount > 0 for e in roles):
            raise ValueError("headcounts are all zero: at least one headcount must be positive")
        return roles


class MatchQuery(_Request):
    """Query string of `GET /-/match`."""
    title: StrictStr = Field(..., min_length=1, max_length=MAX_TITLE,
                             description="A job title, e.g. prompt engineer (a title with no word matches no role)")
    limit: Integer = Field(10, ge=1, le=50, description="How many roles to return")


class TransitionsQuery(_Request):
    """Query string of `GET /-/transitions/{role_code}`."""
    measure: StrictStr | None = Field(None, min_length=1, max_length=80,
                                      description="Measure to rank by (default: the headline measure, eloundou2023_gpt4_beta)")
    max_job_zone_step: Integer = Field(1, ge=0, le=4, description="Largest rise in O*NET job zone allowed for a pivot")
    limit: Integer = Field(10, ge=1, le=50, description="How many pivots to return")


# --- responses -------------------------------------------------------------------------------------
class Thresholds(_Response):
    """The rules behind the profile and the outlook (constants of taskshift.scoring, and the average growth)."""
    exposed_labels: list[str] = list(scoring.EXPOSED_LABELS)
    automatable_min: float = scoring.AUTOMATABLE_MIN
    exposed_share_min: float = scoring.EXPOSED_SHARE_MIN
    automatable_share_min: float = scoring.AUTOMATABLE_SHARE_MIN
    decline_max_pct: float = scoring.DECLINE_MAX_PCT
    average_change_pct: float | None = Field(None, description="Projected employment change of all occupations, "
                                             "BLS EP 2024-34 (%): the average growth a role is compared with")
    rules: dict[str, str] = {
        "exposed": "task with GPT-4 exposure label E1 or E2 (eloundou2023_gpt4_*): an LLM, or LLM-powered software, "
                   "cuts the task's time by half (Eloundou et al. rubric)",
        "automatable": f"exposed task with GPT-4 automation value >= {scoring.AUTOMATABLE_MIN} (T3 or T4, "
                       "eloundou2023_gpt4_automation); read only on exposed tasks, since GPT-4 also rates automation "
                       "by other technology (autopilot, machines) on tasks it labels E0",
        "augmented": f"exposed task with automation value < {scoring.AUTOMATABLE_MIN} (T0-T2): AI assists the worker",
        "limited": f"exposed_share < {scoring.EXPOSED_SHARE_MIN}, whatever the projection",
        "elimination": f"exposed_share >= {scoring.EXPOSED_SHARE_MIN} and automatable_share >= {scoring.AUTOMATABLE_SHARE_MIN} "
                       f"and employment_change_pct <= {scoring.DECLINE_MAX_PCT} (a projected decline, BLS EP 2024-34)",
        "compression": f"exposed_share >= {scoring.EXPOSED_SHARE_MIN}, not elimination, and employment_change_pct "
                       "below the all-occupation average (stable or slower-than-average growth)",
        "expansion": f"exposed_share >= {scoring.EXPOSED_SHARE_MIN} and employment_change_pct at or above the "
                     "all-occupation average",
        "unknown": "no task carries a GPT-4 exposure label (or high exposure and no projection)",
    }
    exposed_centre_min: float = Field(scoring.OUTLOOK_EXPOSED_CENTRE_MIN, description="Role outlook: exposed from this consensus centre")
    high_centre_min: float = Field(scoring.OUTLOOK_HIGH_CENTRE_MIN, description="Role outlook: highly exposed (elimination possible) from this centre")
    observed_automation_min: float = Field(scoring.OBSERVED_AUTOMATION_MIN, description="Role outlook: observed use is mostly automation from this share")
    role_rules: dict[str, str] = Field(
        default_factory=lambda: {key: f"{label}: {text}" for label, key, text in scoring.ROLE_OUTLOOK_RULES},
        description="The rules of a ROLE's outlook (role_outlook, on evidence: consensus exposure, observed and predicted "
                    "automation, projected and observed change); `rules` above are those of a custom bundle or workforce, "
                    "which has no consensus and no observed change")


class OutlookEvidence(_Response):
    """One test behind an outlook (a row of role_outlook_evidence for a role)."""
    evidence: str = Field(description="A role: scoring.ROLE_OUTLOOK_EVIDENCE (consensus_exposure, ..., postings_change); a custom "
                                      "bundle or workforce: exposed_share, automatable_share, projected_decline or below_average_growth")
    value: float | None = Field(description="The figure tested (null: not available)")
    test: str = Field(description="Comparison with the threshold: >=, <= or <")
    threshold: float | None
    holds: bool | None = Field(description="value <test> threshold (null where the value is missing)")
    decided: bool = Field(description="The rule that decided the label read this item")
    source: str


class Profile(_Response):
    """Automation vs augmentation profile from the Eloundou et al. GPT-4 task labels, and the outlook."""
    labelled_share: float | None = Field(description="Share of the task weight with a GPT-4 exposure label")
    exposed_share: float | None = Field(description="Share of the labelled task weight that is exposed (E1 or E2)")
    automatable_share: float | None = Field(description="Share of the exposed task weight judged mostly automatable (T3/T4)")
    augmented_share: float | None = Field(description="Share of the exposed task weight judged assisted / augmented (T0-T2)")
    employment_change_pct: float | None = Field(description="Projected employment change 2024-34, % (BLS EP)")
    outlook: Outlook
    outlook_rule: str = Field(description="The rule that decided the outlook (taskshift.scoring.OUTLOOK_RULES)")
    outlook_reason: str
    evidence: list[OutlookEvidence] = Field(description="Every test behind the outlook, with value and threshold")
    thresholds: Thresholds = Thresholds()


class RoleInfo(_Response):
    code: str
    title: str
    soc_code: str
    major_group: str
    job_zone: int | None
    employment: int | None = Field(description=(
        "BLS OEWS May 2025 (labor_year) wage and salary jobs of labor_code (no self-employed); shared by roles_sharing_labor_code roles"))
    employment_change_pct: float | None = Field(description="BLS Employment Projections 2024-34: % change, ep_employment_2024 -> employment_2034")
    task_count: int
    labor_code: str | None = Field(None, description="OEWS/EP code the labour figures belong to (the SOC code or an OEWS aggregate)")
    roles_sharing_labor_code: int | None = Field(None, description=(
        "How many roles share labor_code and so its figures: employment is the code's, not the role's alone"))
    employment_allocated: float | None = Field(None, description="employment / roles_sharing_labor_code: the role's even share (adds up without double counting)")
    ep_employment_2024: int | None = Field(None, description="BLS Employment Projections 2024 base employment of labor_code (includes self-employed)")
    employment_2034: int | None = Field(None, description="BLS Employment Projections 2034 projected employment of labor_code (includes self-employed)")
    labor_year: int | None = Field(None, description="OEWS vintage (May of this year) of employment: 2025, or 2024 for a code May 2025 does not publish")
    labor_sources: dict[str, str] = Field(default_factory=lambda: dict(LABOR_SOURCES), description="Program and year of each labour figure")


class MeasureScore(_Response):
    measure_id: str
    title: str
    scale: str
    direction: str
    score: float | None = Field(description="Score on the measure's own scale (null: not available)")
    percentile: float | None = Field(description="Percentile among the roles carrying the measure (0 least, 100 most exposed)")
    employment_percentile: float | None = Field(None, description=(
        "Employment-weighted percentile: more exposed than this % of US workers (OEWS May 2025, a shared code counted once)"))
    coverage: float | None = Field(description="Share of the task weight (or time / headcount) behind the score")
    derivation: str | None = Field(description=(
        "Role: how the score reached the role (role_exposure.derivation). Custom role: task_weighted "
        "(time-share-weighted mean of task values) or role_mixture (time-share-weighted mean of the scores of the tasks' roles)"))
    weight_share_retired: float | None = Field(None, description=(
        "Role: share of the role's weight on the task list this measure was built on (task_lists) resting on tasks whose "
        "Task ID the O*NET 30.2 spine no longer has (replaced or removed); null if the measure has no task list"))
    weight_share_removed: float | None = Field(None, description=(
        "Role: share of that weight resting on tasks that no longer exist in the spine at all (no successor found)"))
    task_basis_score: float | None = Field(None, description=(
        "Role, task-level measures only: the coreweight-weighted mean of the task values over the role's O*NET 30.2 tasks, "
        "i.e. what a custom role made of these tasks with their weights scores"))
    base_role_score: float | None = Field(None, description="Custom role with base_role: the base role's own score")


class TaskMatch(_Response):
    query: str
    task_id: int
    role_code: str
    statement: str
    relevance: float = Field(description="Negated FTS5 BM25 rank (higher is better)")
    in_base_role: bool
    alternatives: list[TaskCandidate] = []


class TaskCandidate(_Response):
    task_id: int
    role_code: str
    statement: str
    relevance: float


class TaskScore(_Response):
    task_id: int
    role_code: str
    statement: str
    task_type: str | None
    weight: float = Field(description="Role: coreweight (Core 2, else 1). Custom role: the share given")
    share: float = Field(description="weight / total weight")
    exposure_label: str | None = Field(description="GPT-4 exposure label E0/E1/E2")
    automation_label: str | None = Field(description="GPT-4 automation label T0-T4")
    exposed: bool | None
    automatable: bool | None
    values: dict[str, float] = Field(description="Task values of the task-level measures (task_exposure)")
    match: TaskMatch | None = None
    observed_use: Literal["automation", "augmentation", "none"] = Field("none", description=(
        "How people actually use AI for this task (Anthropic Economic Index, task_collaboration): automation if at least "
        f"{scoring.OBSERVED_AUTOMATION_MIN:g} of its classified conversations are directive or feedback loop, augmentation "
        "if less, none without classified conversations"))
    observed_automation_share: float | None = Field(None, description="The task's observed automation share (null: none classified)")
    observed_matched_by: str | None = Field(None, description=(
        "How the Anthropic statements behind observed_use reached this task, 'method: evidence' per statement, | separated "
        "(task_collaboration: text, task_id, reworded, reviewed; reviewed = a retired O*NET task a reviewer matched to this "
        "one, task_match_reviews); null without any"))


class ObservedUse(_Response):
    """How people actually use AI for the role's tasks (automation vs augmentation), beside GPT-4's prediction."""
    automation_share: float | None = Field(description=(
        "Observed: share of the role's classified Claude.ai conversations in automation patterns (directive, feedback loop), "
        "usage-weighted over its tasks (role_collaboration)"))
    augmentation_share: float | None = Field(description="1 - automation_share: task iteration, validation, learning")
    patterns: dict[str, float | None] = Field(description="Share of each of the five collaboration patterns")
    tasks_matched: int = Field(description="The role's tasks carrying a collaboration pattern")
    tasks_with_usage: int = Field(description="The role's tasks with task usage (task_usage)")
    usage_share: float = Field(description="The role's share of all conversations (task_pct_v2 over its tasks)")
    usage_share_matched: float | None = Field(description="Share of the role's task usage on tasks carrying a pattern")
    classified_share: float | None = Field(description="Share of those conversations that were classified (not filtered)")
    predicted_automation: float | None = Field(description=(
        "Predicted: eloundou2023_gpt4_automation, the coreweight-weighted mean of GPT-4's T0-T4 automation rubric (0..1)"))
    predicted_automation_percentile: float | None = Field(description="Its percentile among roles")
    predicted_automatable_share: float | None = Field(description=(
        "Predicted: share of the exposed task weight GPT-4 rates T3/T4 (profile.automatable_share)"))
    source: str
    predicted_source: str


class TaskListChange(_Response):
    """The role's tasks in one task list a measure was built on, against the O*NET 30.2 spine (role_task_changes)."""
    list_id: str
    list_version: str
    unit: Literal["task", "iwa"]
    measures: str
    weight_basis: str
    items: int
    unchanged: int
    reworded: int | None
    replaced: int | None
    removed: int
    added: int
    retyped: int | None
    weight: float | None
    weight_share_retired: float | None = Field(description="Share of the weight on tasks whose Task ID the spine no longer has")
    weight_share_removed: float | None = Field(description="Share of the weight on tasks that no longer exist in the spine")


# --- consensus across families of measures (docs/consensus.md; taskshift.service.consensus) ---------
class FamilyVote(_Response):
    family: str = Field(description="Family of measures (measures.family)")
    measure_id: str = Field(description="Its headline (or context) measure")
    evidence: Literal["predicted", "observed"] = Field(description="predicted: what AI could do; observed: what people use AI for")
    counted: bool = Field(description="true: votes in the consensus; false: context, shown beside it (Frey-Osborne)")
    percentile: float | None = Field(description=(
        "The vote, 0-100. Role and custom role: the percentile among roles on the measure; workforce: the "
        "headcount-weighted mean of the roles' percentiles (where the average worker sits)"))
    difference: float | None = Field(description="percentile - consensus centre (percentile points)")


class SideConsensus(_Response):
    centre: float | None = Field(description="Median of these families' votes")
    low: float | None = Field(description="25th percentile of their votes")
    high: float | None = Field(description="75th percentile of their votes")
    n_families: int


class Consensus(_Response):
    """One answer across the independent families of measures, with its uncertainty (docs/consensus.md)."""
    kind: Literal["role", "custom", "workforce", "isco", "state"]
    centre: float | None = Field(description=f"Median of the family votes (0-100); null with fewer than {scoring.CONSENSUS_MIN_FAMILIES} families")
    low: float | None = Field(description="Interval, lower end: 25th percentile of the votes (the middle half of the families lies in low..high)")
    high: float | None = Field(description="Interval, upper end: 75th percentile of the votes")
    n_families: int = Field(description="Families with a vote")
    families_in_database: int = Field(description="Families that vote in this database (a release build has fewer)")
    agreement: float | None = Field(description="1 - (high - low) / the width unrelated measures would give (1 identical votes, ~0 unrelated)")
    level: Literal["low", "medium", "high"] | None
    confidence: Literal["high", "medium", "low"] | None
    label: str = Field(description='e.g. "high exposure, measures agree", "uncertain: measures disagree"')
    furthest_above: str | None = Field(description="Family with the highest vote")
    above_by: float | None
    furthest_below: str | None = Field(description="Family with the lowest vote")
    below_by: float | None
    worker_percentile: float | None = Field(description='"More exposed than X% of US workers" (OEWS May 2025 employment; a labour code counts once)')
    predicted: SideConsensus = Field(description="The consensus of the predicted families only (what AI could do)")
    observed: SideConsensus = Field(description="The consensus of the observed families only (what people use AI for)")
    theory_gap: float | None = Field(description="observed.centre - predicted.centre: negative = used less than predicted")
    coarse_families: list[str] = Field([], description="Role: families whose vote comes from a code 10 or more roles share")
    votes: list[FamilyVote]


class ScoreResponse(_Response):
    """A role's or a custom role's scores: the same shape for both."""
    kind: Literal["role", "custom"]
    role: RoleInfo | None = Field(description="The role (kind role)")
    base_role: RoleInfo | None = Field(description="The base role of a custom role, if given")
    measures: list[MeasureScore]
    profile: Profile
    tasks: list[TaskScore]
    rules: dict[str, str]
    consensus: Consensus | None = Field(None, description="The consensus across families of measures (docs/consensus.md)")
    observed_use: ObservedUse | None = Field(None, description=(
        "Role: how people actually use AI for its tasks, automation vs augmentation (Anthropic Economic Index), beside "
        "GPT-4's predicted automation; null without task usage"))
    task_lists: list[TaskListChange] = Field([], description=(
        "Role: its tasks in each task list the measures were built on vs the O*NET 30.2 spine, with the share of weight "
        "on retired tasks (role_task_changes)"))


class WorkforceMeasure(_Response):
    measure_id: str
    title: str
    score: float | None = Field(description="Headcount-weighted mean of the role scores (over roles with a score)")
    percentile: float | None = Field(description="Percentile that score would have among the roles")
    employment_percentile: float | None = Field(None, description="Employment-weighted percentile that score would have among US workers")
    coverage: float | None = Field(description="Share of the headcount in roles with a score")
    exposed_headcount: int = Field(description=(
        f"Headcount in exposed roles: employment-weighted percentile >= {scoring.EXPOSED_PERCENTILE:g} on the measure "
        "(more exposed than 75% of US workers; the same definition on every measure)"))
    exposed_share: float | None = Field(description="exposed_headcount / headcount in roles with a score")


class WorkforceRole(_Response):
    role_code: str
    title: str
    headcount: int
    score: float | None
    percentile: float | None
    exposed_share: float | None
    automatable_share: float | None
    outlook: Outlook


class WorkforceProfile(_Response):
    exposed_share: float | None = Field(description="Headcount-weighted mean of the roles' exposed_share")
    automatable_share: float | None = Field(description="Share of the workforce's exposed work judged mostly automatable")
    augmented_share: float | None
    employment_change_pct: float | None = Field(description="Headcount-weighted mean projected employment change, %")
    outlook: Outlook
    outlook_rule: str
    outlook_reason: str
    evidence: list[OutlookEvidence]
    headcount_by_outlook: dict[str, int]
    thresholds: Thresholds = Thresholds()


class WorkforceIsco(_Response):
    """An ISCO-08 entry of a workforce and the roles it was spread over (docs/isco.md)."""
    isco_code: str
    title: str | None
    headcount: int
    roles: int = Field(description="Roles the headcount is spread over, each with headcount x isco_roles.weight")
    weighted_by: str = Field(description="us_employment (US workers of each role in the group) or link_share")


class WorkforceResponse(_Response):
    headcount: int
    roles: int = Field(description="Number of distinct roles")
    rank_by: str
    exposed_percentile: float = scoring.EXPOSED_PERCENTILE
    measures: list[WorkforceMeasure]
    profile: WorkforceProfile
    most_exposed: list[WorkforceRole]
    rules: dict[str, str]
    consensus: Consensus | None = Field(None, description="The consensus across families of measures (docs/consensus.md)")
    isco: list[WorkforceIsco] = Field([], description=(
        "ISCO-08 entries and how they were spread over roles (headcounts of roles may then be fractions: counts shown rounded)"))


# --- ISCO-08 groups (GET /-/score/isco/{isco_code}; taskshift.service.isco, docs/isco.md) -------------
class IscoGroupInfo(_Response):
    code: str
    digits: int = Field(description="1 major group, 2 sub-major, 3 minor, 4 unit group")
    title: str | None = Field(description="ISCO-08 title from a pinned file (null where none carries it)")
    title_source: str | None
    parent_code: str | None
    unit_groups: int
    soc2010_codes: list[str] = Field(description="SOC 2010 codes the BLS crosswalk links to the group")
    n_roles: int
    us_employment: float | None = Field(description=(
        "US workers of the group (OEWS May 2025 employment of its roles x link shares; a labour code counted once)"))
    weighted_by: str | None = Field(description="us_employment or link_share (no US employment in the group)")
    best_task_fit: float | None = Field(None, description=(
        "Unit group: the best fit of its ILO tasks to a linked role's O*NET tasks (0-1; low flags a weak US counterpart)"))
    note: str | None = None


class IscoLinkedRole(_Response):
    role_code: str
    title: str
    weight: float = Field(description="The role's weight in the group (share of its US workers; sums to 1)")
    link_share: float = Field(description="Share of the role the crosswalk links to the group")
    us_employment: float | None = Field(description="The role's US workers in the group: employment_allocated x link_share")
    soc2010_codes: list[str] = Field(description="SOC 2010 codes through which the role is linked")
    derivation: str
    task_fit: float | None = Field(None, description="Unit group: fit of its ILO tasks to the role's O*NET tasks (TF-IDF cosine)")


class IscoBeside(_Response):
    """The ILO's own score (published in ISCO-08) beside the consensus of the US families."""
    ilo_measure: str | None
    ilo_score: float | None
    ilo_percentile: float | None = Field(description="Rank of the ILO score among the ISCO-08 groups with the same digits")
    us_centre: float | None = Field(description="Consensus of the families not published in ISCO-08 (all but the ILO's)")
    us_low: float | None
    us_high: float | None
    us_n: int
    us_percentile: float | None = Field(description="Rank of us_centre among the ISCO-08 groups with the same digits")
    ilo_minus_us: float | None = Field(description="ilo_percentile - us_percentile")
    centre_unweighted: float | None = Field(description="The consensus centre with link shares as weights (no US employment)")
    isco_percentile: float | None = Field(description="Rank of the consensus centre among the ISCO-08 groups with the same digits")


class IscoScoreResponse(_Response):
    """An ISCO-08 group's scores: the shape of a role score (measures, consensus), with its linked roles."""
    kind: Literal["isco"] = "isco"
    isco: IscoGroupInfo
    measures: list[MeasureScore] = Field(description=(
        "isco_exposure: score (US-employment-weighted over the roles), percentile among the ISCO-08 groups with the same "
        "digits, employment_percentile among US workers, coverage, derivation (roles / native / native_weighted)"))
    measures_unweighted: dict[str, float] = Field(description="score_unweighted of each measure (link shares, no employment)")
    consensus: Consensus | None = Field(None, description="The consensus across families (votes: weighted mean role percentiles)")
    beside: IscoBeside | None = None
    linked_roles: list[IscoLinkedRole]
    rules: dict[str, str]


class TitleHit(_Response):
    title: str
    kind: str
    relevance: float | None = Field(None, description="Negated FTS5 BM25 rank (full-text matches; null for exact ones)")


class TitleEdit(_Response):
    """One thing title matching did to the query: a part it removed, or an acronym it expanded."""
    text: str = Field(description="The words as found in the query")
    kind: str = Field(description="location, pay, modifier, level (removed); acronym, abbreviation (expanded)")
    replacement: str | None = Field(None, description="What an acronym or abbreviation was expanded to")
    source: str | None = Field(None, description="Where the expansion comes from (title_aliases.source)")


class RoleMatch(_Response):
    role_code: str
    role_title: str
    method: str = Field(description="exact (a title equals the query), exact_normalized (a title equals the cleaned "
                                    "query), fts_all_terms / fts_some_terms (full-text search), semantic (nearest in meaning: "
                                    "title embeddings, the fallback where no title equals or contains the words; relevance "
                                    "and similarity are then the cosine similarity)")
    relevance: float | None = Field(description="Negated FTS5 BM25 rank of the best title (full-text matches; null for exact ones)")
    exact: bool = Field(description="A title of the role equals the query as written (case, punctuation, a plural s aside)")
    all_terms: bool = Field(description="The best title contains every word of the cleaned query")
    query_coverage: float | None = Field(None, description="Share of the cleaned query's words the best title contains")
    title_coverage: float | None = Field(None, description="Share of the best title's own words the query covers")
    context_words: list[str] = Field([], description="Context words of the query (other segments) found in the role's titles")
    matched_title: str
    matched_kind: str
    matching_titles: int
    titles: list[TitleHit]
    similarity: float | None = Field(None, description="Semantic matches: cosine similarity of the best title (0-1)")


class MatchResponse(_Response):
    query: str
    title: str | None = Field(None, description="The part of the query taken as the title (the other segments are context)")
    normalized: str | None = Field(None, description="The words that matched (exact) or were searched (full text)")
    method: str = Field("none", description="How the first match was found; none: no match (another matcher may take over)")
    variant: str | None = Field(None, description="Which clean-up of the title matched")
    removed: list[TitleEdit] = Field([], description="Location, pay, modifiers and level words removed")
    expanded: list[TitleEdit] = Field([], description="Acronyms and abbreviations expanded")
    context: list[str] = Field([], description="Words of the other segments (ICU, Restaurant...), used to break ties")
    matches: list[RoleMatch]


class ErrorItem(BaseModel):
    field: str = Field(description="The field at fault, dotted (tasks.3.share); body for the body as a whole")
    problem: str
    type: str | None = None
    suggestions: list[str] | None = Field(None, description="What was probably meant (role codes, measure ids), best first")


class ErrorResponse(BaseModel):
    ok: Literal[False] = False
    status: int
    error: str
    errors: list[ErrorItem]


TaskMatch.model_rebuild()


# --- transitions (GET /-/transitions/{role_code}; taskshift.service.transitions) -----------------
class ActivityGap(_Response):
    dwa_id: str
    title: str
    target_tasks: int = Field(description="How many of the target role's tasks involve this activity")


class TechnologyGap(_Response):
    example: str
    commodity_title: str
    hot_technology: bool = Field(description="O*NET Hot Technology: frequent across employers' job postings")
    in_demand: bool = Field(description="O*NET In Demand: frequent in the target occupation's own job postings")
    roles_listing: int = Field(0, description="How many O*NET roles list the product (how widely it is used)")
    new_kind: bool = Field(True, description="The source role uses no product of this commodity class")


class Pivot(_Response):
    rank: int = Field(description="Position in this ranking (1 = best pivot)")
    to_code: str
    to_title: str
    tier: str = Field(description="O*NET Related Occupations tier")
    related_rank: int = Field(description="O*NET relatedness rank (1 = most related)")
    priority: int = Field(description="1 target not projected to shrink and sharing work activities, 2 not shrinking and "
                                      "sharing none, 3-4 the same for targets shrinking slower than the source, 5 less "
                                      "exposed by under 5 percentile points (offered last)")
    priority_reason: str
    pivot_score: float = Field(description="fit x (1 + exposure drop) / 2, 0..1 (taskshift.scoring.transition_score)")
    fit: float = Field(description="(O*NET relatedness + target_overlap) / 2 (taskshift.scoring.pivot_fit)")
    score: float
    percentile: float
    score_delta: float = Field(description="target minus source score on the measure")
    percentile_delta: float = Field(description="target minus source percentile (negative = less exposed)")
    job_zone: int | None
    job_zone_step: int | None
    median_wage: int | None
    wage_delta: int | None
    employment_change_pct: float | None = Field(description="Target's projected employment change 2024-34, % (BLS EP)")
    change_delta: float | None = Field(description="Target minus source projected change, percentage points")
    outlook: str | None = Field(description="Target's outlook (role_outlook); never elimination")
    checks: list[str] = Field(description="Why the pivot passed the filters, with the figures")
    shared_dwas: int
    dwa_jaccard: float | None
    target_overlap: float | None = Field(description="share of the target's DWAs the source role already does")
    missing_dwas_total: int
    missing_dwas: list[ActivityGap]
    missing_technologies_total: int
    missing_technologies: list[TechnologyGap]


class Transitions(_Response):
    role_code: str
    role_title: str
    measure_id: str
    score: float | None = Field(description="the source role's score on the measure (null: not scored)")
    percentile: float | None
    job_zone: int | None
    median_wage: int | None
    employment_change_pct: float | None = Field(None, description="Source's projected employment change 2024-34, % (BLS EP)")
    outlook: str | None = Field(None, description="Source's outlook (role_outlook)")
    max_job_zone_step: int | None
    related_roles: int = Field(description="O*NET related roles of the source role")
    candidates: int = Field(description="related roles that pass every filter (less exposed, not elimination, not "
                                        "shrinking faster than the source, within the job-zone step)")
    excluded: dict[str, int] = Field({}, description="Related roles left out, by reason (scoring.PIVOT_EXCLUSIONS, job_zone_step)")
    method: str
    pivots: list[Pivot]


# --- profile (POST /-/profile; taskshift.service.profile) ----------------------------------------
#: Longest posting, in characters (JSON Schema's maxLength counts characters, so the OpenAPI can say it
#: exactly; at most 80 KB of UTF-8, within the body limit even as JSON escapes). Longer: a 413.
MAX_PROFILE_TEXT_CHARS = 20 * 1024
MAX_PROFILE_TEXT_BYTES = MAX_PROFILE_TEXT_CHARS  # the name #14 gave it (the limit is in characters)


class ProfileRequest(_Request):
    """Body of `POST /-/profile`: a job posting or a list of duties, as plain text."""
    text: StrictStr = Field(..., min_length=1, json_schema_extra={"maxLength": MAX_PROFILE_TEXT_CHARS}, description=(
        f"The posting or duties (at most {MAX_PROFILE_TEXT_CHARS:,} characters; longer is a 413): bullets, lines or "
        "sentences; boilerplate (benefits, equal-opportunity text, pay) is dropped; a text with no duty statement is a 404"))
    measures: list[StrictStr] | None = Field(None, min_length=1, max_length=MAX_MEASURES,
                                             description="Only these measures (default: every measure with role scores)")
    roles: Integer = Field(5, ge=1, le=20, description="How many nearest roles to return")


class TaskHit(_Response):
    task_id: int
    role_code: str
    role_title: str
    statement: str
    similarity: float = Field(description="Cosine similarity of the statement and the task (semantic, 0-1)")
    lexical: float = Field(description="BM25 relative to the statement's best-matching task (0-1)")
    score: float = Field(description="Hybrid score that ranks the tasks: similarity + weight x lexical")


class ProfileStatement(_Response):
    line: int = Field(description="Line of the text the statement comes from (1-based)")
    text: str
    share: float = Field(description="Share of working time (equal unless the text states percentages)")
    share_source: Literal["equal", "stated", "rest"] = Field(
        description="equal: no percentages given; stated: the text gives this one; rest: what stated shares leave, split equally")
    confidence: Literal["high", "medium", "low", "none"] = Field(
        description="From the similarity of the best task: none = no good match (the statement is left out of the scores)")
    match: TaskHit | None = Field(description="The best task (null: no good match)")
    alternatives: list[TaskHit] = Field(description="The next best tasks")


class DroppedText(_Response):
    line: int
    text: str
    reason: str = Field(description="Why it is not a duty statement: heading, boilerplate (which), requirement, too short, limit ...")


class NearestRole(_Response):
    rank: int
    code: str
    title: str
    score: float = Field(description="What ranks the roles: mean_best - baseline (the lift over what the role scores for any text)")
    mean_best: float = Field(description="Time-share-weighted mean over the duty statements of the role's best hybrid task score")
    baseline: float = Field(description="The role's mean best hybrid score for the task statements of other roles")
    share_explained: float = Field(description="Time share of the duty statements the role has a task for with similarity "
                                               ">= the no-good-match threshold (a good match)")
    statements_explained: int
    confidence: Literal["high", "medium", "low"]


class ProfileResponse(_Response):
    """A posting decomposed into duty statements matched to O*NET tasks, its nearest roles and its exposure."""
    statements: list[ProfileStatement]
    dropped: list[DroppedText]
    matched: int = Field(description="Statements with a good match (they make the custom role)")
    unmatched: int
    nearest_roles: list[NearestRole]
    score: ScoreResponse | None = Field(description=(
        "The custom role made of the matched tasks with the statements' time shares, scored like POST /-/score "
        "(every measure, percentile, the automation vs augmentation profile task by task; tasks in statement order). "
        "Null if no statement has a good match"))
    method: dict[str, str | float | int]
    model: dict[str, str | int]


# --- history (GET /-/history/{role_code}; taskshift.service.history) -----------------------------
# What is actually happening to a role, in sections: `oews` (employment and wages of its OEWS code,
# May 2019-2025) and `postings` (Indeed job postings of its categories). Another section is added the
# same way: a model here, a field of History, a builder in taskshift.service.history, its name in `sections`.
class MonthlyIndex(_Response):
    month: str = Field(description="YYYY-MM")
    index: float | None = Field(description="Monthly mean of the daily index (1 Feb 2020 = 100)")
    days: int = Field(description="Days of the month in the file (a month with fewer days than the calendar is partial)")


class PostingsCategory(_Response):
    category: str = Field(description="Indeed occupational category")
    weight: float = Field(description="Share of the role's postings assigned to this category")
    has_series: bool = Field(description="False for Insurance: no series in this vintage of the by-category file")
    map_id: int = Field(description="The deciding row of indeed_category_map")
    via_code: str = Field(description="Its code: the most specific SOC 2018 code (or role code) covering the role")
    via_level: str
    via_title: str
    method: Literal["example_title_match", "manual_review"]
    confidence: Literal["high", "medium", "low"]
    example_titles: list[str] = Field(description="Indeed's example titles behind the row (example_title_match)")
    matched_roles: str | None = Field(description="The title matcher's answer for those example titles")
    note: str = Field(description="Reviewer note")
    index_nov2022: float | None
    index_end: float | None
    change_since_feb2020_pct: float | None
    change_since_nov2022_pct: float | None
    series: list[MonthlyIndex]


class PostingsHistory(_Response):
    """Indeed job postings of the role's categories (CATEGORY postings: every role of a category gets the same series)."""
    status: Literal["mapped", "no_series", "no_category", "not_reviewed"]
    note: str | None = Field(description="Reviewer note(s) of the deciding map rows, or why there are no postings")
    categories: list[PostingsCategory]
    weight_with_series: float | None = Field(description="Share of the role's category weight that has a series")
    baseline: str = Field(description="What 100 means")
    chatgpt_month: str = Field(description="Base month of the change since ChatGPT")
    end_month: str | None = Field(description="Last complete month of the by-category file: changes run to it")
    last_date: str | None
    index_nov2022: float | None
    index_end: float | None
    index_last: float | None = Field(description="Weighted index on last_date (daily value)")
    change_since_feb2020_pct: float | None = Field(description="Postings change from 1 Feb 2020 to end_month, %")
    change_since_nov2022_pct: float | None = Field(description="Postings change from November 2022 to end_month, %")
    method: str
    series: list[MonthlyIndex] = Field(description="The role's index: weighted mean of its categories' monthly means")
    source: str
    vintage: str
    caveats: list[str]


class OewsYear(_Response):
    year: int = Field(description="OEWS reference year (estimates dated May)")
    employment: int | None = Field(description="Wage and salary jobs of the code, rounded to 10 (null: not published)")
    mean_wage: int | None = Field(description="Mean annual wage, nominal USD")
    median_wage: int | None = Field(description="Median annual wage, nominal USD (null if top-coded or hourly only)")
    mean_wage_real: int | None = Field(description="Mean annual wage in May 2025 dollars (May CPI-U, table cpi)")
    median_wage_real: int | None = Field(description="Median annual wage in May 2025 dollars")
    wage_flag: str | None = Field(description="Why a wage is null (top_coded, annual_only, hourly_only, not_available)")


class OewsChange(_Response):
    """Changes before ChatGPT (May 2019 -> May 2022) and since (May 2022 -> May 2025), %: wages nominal and real
    (deflated by the May CPI-U of the two years)."""
    employment_change_2019_2022_pct: float | None
    employment_change_2022_2025_pct: float | None
    mean_wage_change_2019_2022_pct: float | None
    mean_wage_change_2022_2025_pct: float | None
    median_wage_change_2019_2022_pct: float | None
    median_wage_change_2022_2025_pct: float | None
    mean_wage_real_change_2019_2022_pct: float | None
    mean_wage_real_change_2022_2025_pct: float | None
    median_wage_real_change_2019_2022_pct: float | None
    median_wage_real_change_2022_2025_pct: float | None
    bridge_employment_change_2019_2022_pct: float | None = Field(None, description=(
        "A code first published in May 2021: the 2019 -> 2022 employment change of the May 2019-2020 code that held it "
        "(oews_bridges), i.e. of this code and the others it was published with; null if none or not bridged"))
    bridge_mean_wage_change_2019_2022_pct: float | None = Field(None, description="The same for the mean wage, nominal")
    bridge_mean_wage_real_change_2019_2022_pct: float | None = Field(None, description="The same, real (May CPI-U)")


class OewsBridge(_Response):
    """The May 2019-2020 code that held a code new in May 2021, and whether its series is used (oews_bridges)."""
    unit_code: str
    unit_title: str
    method: Literal["hybrid_title", "soc_broad"]
    members: list[str] = Field(description="The SOC 2018 codes the unit holds from May 2021 (this code among them)")
    continuity_2020_2021: float | None = Field(description="The members' May 2021 employment / the unit's May 2020")
    bridged: bool = Field(description="true: continuity within 15% of 1, the unit's before-change is given (change.bridge_*)")


class OewsHistory(_Response):
    """Employment and wages of the role's OEWS code, May 2019 -> May 2025 (the code's figures, shared by its roles)."""
    labor_code: str | None = Field(description="The OEWS code (roles.labor_code); null: OEWS publishes none (e.g. military)")
    code_title: str | None
    code_kind: str | None = Field(description="soc_2018 or oews_aggregate (an aggregate of several SOC 2018 codes)")
    roles_sharing: int = Field(description="O*NET roles sharing the code: more than 1 = a shared labour code, never sum over roles")
    complete_series: bool = Field(description="Employment published in all seven years under this code")
    years: list[OewsYear]
    change: OewsChange
    all_occupations: OewsChange = Field(description="The same changes for all occupations (OEWS 00-0000)")
    projected_change_pct: float | None = Field(description="BLS EP 2024-34 projected change of the code, %, beside the observed")
    bridge: OewsBridge | None = Field(None, description=(
        "How the SOC 2010 -> 2018 break is bridged for a code first published in May 2021 (oews_bridges); null otherwise"))
    wages: str = Field(description="Nominal USD, and real in May 2025 dollars (May CPI-U, table cpi)")
    source: str
    caveats: list[str]


class HistoryRole(_Response):
    code: str
    title: str
    soc_code: str


class History(_Response):
    """What is actually happening to a role over time, one section per kind of evidence."""
    role: HistoryRole
    sections: list[str] = Field(description="Names of the sections present in this response")
    oews: OewsHistory = Field(description="Employment and wages over time (BLS OEWS May 2019-2025)")
    postings: PostingsHistory


# --- US states (GET /-/score/state/{code}, GET /-/rank/states; taskshift.service.states) -----------
class StateQuery(_Request):
    """Query string of `GET /-/score/state/{code}`."""
    measures: list[Annotated[StrictStr, Field(max_length=MAX_QUERY_MEASURE_LENGTH)]] | None = Field(
        None, min_length=1, max_length=MAX_QUERY_MEASURE_VALUES,
        description="Only these measures (comma-separated or repeated ?measures=); default every measure with role scores")
    year: Integer | None = Field(None, ge=1997, le=2100, description="OEWS reference year, 2024 or 2025 (default the latest)")
    top: Integer = Field(10, ge=1, le=100, description="How many of the occupations behind the state's exposure to list")


class RankQuery(_Request):
    """Query string of `GET /-/rank/states`."""
    measure: Annotated[StrictStr, Field(max_length=MAX_QUERY_MEASURE_LENGTH)] | None = Field(
        None, description="Rank by this measure's state score (default: the consensus centre)")
    year: Integer | None = Field(None, ge=1997, le=2100, description="OEWS reference year, 2024 or 2025 (default the latest)")


class StateInfo(_Response):
    code: str = Field(description="USPS code")
    fips: str
    name: str
    year: int = Field(description="OEWS reference year of the figures (May)")
    years: list[int] = Field(description="Years the database holds")


class StateCoverage(_Response):
    """How much of the state's employment the published OEWS cells hold (suppression), never imputed."""
    employment_total: int | None = Field(description="The state's total employment (recovered from OEWS jobs per 1,000)")
    employment_published: int = Field(description="Employment in the cells BLS published")
    coverage: float | None = Field(description="employment_published / employment_total")
    codes_listed: int
    codes_with_employment: int
    codes_suppressed: int = Field(description="Listed codes whose employment BLS did not release (**)")
    codes_not_listed: int = Field(description="Codes another state lists that year that this one does not")
    scored_employment: int | None = Field(description="Published employment in codes with a consensus")


class StateMeasure(_Response):
    measure_id: str
    title: str
    scale: str
    direction: str
    score: float | None = Field(description="Employment-weighted mean of the OEWS code scores (the measure's own scale)")
    mean_percentile: float | None = Field(description="Employment-weighted mean of the role percentiles (the family's consensus vote)")
    rank: int | None = Field(description="Rank among the 51 states (1 = most exposed)")
    coverage: float | None = Field(description="Scored employment / the state's total employment")
    exposed_share: float | None = Field(description="Share of scored workers in roles more exposed than 75% of US workers on the measure")
    exposed_employment: int
    exposed_change_pct: float | None = Field(description="% change of employment in exposed roles since the previous year (same codes)")
    unexposed_change_pct: float | None = Field(description="% change of employment in unexposed roles (same codes)")


class StateRole(_Response):
    oews_code: str
    title: str
    rank: int
    employment: int | None
    location_quotient: float | None = Field(description="Share of the state's employment / share of US employment (1 = as nationally)")
    consensus_centre: float | None = Field(description="Mean consensus centre of the code's roles")
    exposed_fraction: float | None = Field(description="Share of the code's roles exposed on the consensus")
    exposed_employment: int | None = Field(description="employment x exposed_fraction")
    exposed_employment_share: float | None = Field(description="Its share of the state's exposed employment")
    employment_change_pct: float | None = Field(description="% change of the code's employment, May 2024 -> May 2025")
    roles: list[str] = Field(description="O*NET roles under the code (roles.labor_code)")


class StateChange(_Response):
    """May 2024 -> May 2025: employment in roles exposed on the consensus vs the others (codes published in both years)."""
    exposed_change_pct: float | None
    unexposed_change_pct: float | None
    codes: int | None


class StatePostings(_Response):
    """Indeed Job Postings Index for the state (Indeed Hiring Lab, CC BY 4.0; 1 Feb 2020 = 100)."""
    month: str | None = Field(description="Last complete month")
    index: float | None
    change_since_feb2020: float | None = Field(description="% change since 1 February 2020")
    change_since_chatgpt: float | None = Field(description="% change since November 2022")


class StateScoreResponse(_Response):
    """A state's scores: the shape of a role score (measures, consensus), with its top occupations and coverage."""
    kind: Literal["state"] = "state"
    state: StateInfo
    measures: list[StateMeasure]
    consensus: Consensus | None = Field(None, description="The consensus across families (votes: employment-weighted mean role percentiles)")
    consensus_rank: int | None = Field(description="Rank of the consensus centre among the states (1 = most exposed)")
    exposed_share: float | None = Field(description="Share of workers in roles exposed on the consensus (worker_percentile >= 75)")
    change: StateChange
    top_roles: list[StateRole] = Field(description="The occupations behind the state's exposure (state_roles, latest year)")
    coverage: StateCoverage
    postings: StatePostings
    rules: dict[str, str]


class StateRank(_Response):
    rank: int | None
    code: str
    name: str
    value: float | None = Field(description="The consensus centre, or the measure's state score")
    low: float | None = Field(None, description="Consensus: 25th percentile of the family votes")
    high: float | None = Field(None, description="Consensus: 75th percentile of the family votes")
    exposed_share: float | None
    coverage: float | None


class StateRanking(_Response):
    measure: str = Field(description='"consensus" or a measure id')
    year: int
    direction: str = Field(description="rank 1 = most exposed")
    states: list[StateRank]
    postings_correlation: dict | None = Field(None, description=(
        "Indeed postings change vs state exposure across states (n, Pearson, Spearman): a correlation, not a cause"))
