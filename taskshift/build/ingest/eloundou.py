"""Eloundou, Manning, Mishkin & Rock, "GPTs are GPTs" (Science 2024): task labels and role scores.

Inputs (O*NET 27.x task list, 19,265 tasks of 923 O*NET-SOC 2019 occupations):
- `full_labelset.tsv`: per task, the exposure label from GPT-4 (`gpt4_exposure`, rubric 1: the
  `dv_rating_*` columns of the paper's occ_level.csv) and from human annotators
  (`human_exposure_agg`), E0/E1/E2, and GPT-4's automation label T0-T4 (`gpt4_automation`).
- `full_onet_data.tsv`: the paper's task weights, `coreweight` (Core 2, Supplemental or untyped 1).
- `automation_gpt4_human_labels.tsv`: human automation labels (`human_automation`, 100 tasks).

Method (the paper's, reproduced exactly): task value alpha = 1[E1], beta = 1[E1] + 0.5 * 1[E2],
gamma = 1[E1 or E2]; a role's score is the weighted mean of its task values with `coreweight` as
weights. Automation T0..T4 -> 0, .25, .5, .75, 1, aggregated the same way
(`eloundou2023_gpt4_automation`, a taskshift extra measure; the paper publishes no occupation table
for it).

Decisions, from the data (checked on every load, so a changed file fails loudly):
- Task ID is unique across the whole label set (19,265 ids for 19,265 rows), so no task repeats
  across occupations; weights still join on (O*NET-SOC Code, Task ID), and the two files have the
  same (code, task) pairs.
- No task lacks a GPT-4 or human exposure label, so coverage (share of the role's task weight that
  has a label) is 1.0 for every role; the weighted mean is over labelled tasks should that change.
- `coreweight` is exactly 2 for Core and 1 for Supplemental or blank Task Type.
- Role scores use all of the paper's tasks (its own O*NET 27.x ids and statements). `task_exposure`
  keeps the paper's tasks whose Task ID exists in the spine, O*NET 30.2 Task Statements (metadata
  `eloundou.tasks_kept_spine`); the labels of the others (retired after 27.x) are carried to the spine
  task the task matcher finds for them, where it finds one (`taskshift.build.derive.task_changes`;
  evidence in `task_list_changes`, rows of task_exposure with `source_task_id`).
- `automation_gpt4_human_labels.tsv` carries a second, different GPT-4 automation labelling
  (agreeing with full_labelset's on 67% of tasks); only its `human_automation` column is used.
  `eloundou2023_gpt4_automation` uses full_labelset's `gpt4_automation`, the column whose numeric
  twin (`automation`) the released label set ships.

Usage: `load(RawReader(sources_dir))` -> frames `task_exposure`, `native_scores`, `metadata`, and
`task_history` (the paper's O*NET 27.x task list with ids, read by the task matcher).
"""
from __future__ import annotations

import pandas as pd

from taskshift import scoring

SOURCES = (
    "eloundou_full_labelset",
    "eloundou_full_onet_data",
    "eloundou_automation_gpt4_human_labels",
    "onet_30_2_task_statements",
)
SPINE = "onet_30_2_task_statements"
CODE_SYSTEM = "onetsoc2019"
RATERS = {"gpt4": "gpt4_exposure", "human": "human_exposure_agg"}
AGGREGATES = ("alpha", "beta", "gamma")
KEY = ["O*NET-SOC Code", "Task ID"]


def measure_id(rater: str, what: str) -> str:
    return f"eloundou2023_{rater}_{what}"


def tasks(raw) -> pd.DataFrame:
    """The paper's tasks with labels and weights: one row per (O*NET-SOC Code, Task ID)."""
    labels = raw.read("eloundou_full_labelset")
    weights = raw.read("eloundou_full_onet_data")
    human_auto = raw.read("eloundou_automation_gpt4_human_labels")
    if not labels["Task ID"].is_unique:
        raise ValueError("eloundou: Task ID repeats in full_labelset.tsv; the task_exposure key needs review")
    frame = labels.merge(weights[[*KEY, "coreweight", "Task Type"]], on=KEY, how="outer",
                         suffixes=("", "_w"), indicator=True, validate="one_to_one")
    if not (frame["_merge"] == "both").all():
        raise ValueError("eloundou: full_labelset.tsv and full_onet_data.tsv list different (code, task) pairs")
    expected = frame["Task Type"].map({"Core": 2}).fillna(1)
    if not frame["Task Type"].fillna("").eq(frame["Task Type_w"].fillna("")).all() or \
            not frame["coreweight"].astype("float64").eq(expected).all():
        raise ValueError("eloundou: coreweight is not Core 2 / Supplemental or untyped 1")
    frame = frame.merge(human_auto[[*KEY, "human_automation"]], on=KEY, how="left", validate="one_to_one")
    frame = frame.drop(columns=["_merge", "Task Type_w"])
    frame["Task ID"] = frame["Task ID"].astype("int64")
    frame["coreweight"] = frame["coreweight"].astype("float64")
    return frame.sort_values(KEY, ignore_index=True)


def task_values(frame: pd.DataFrame) -> dict[str, tuple[pd.Series, pd.Series]]:
    """`{measure_id: (value, label)}` for every task-level measure, aligned with `frame`."""
    out = {}
    for rater, column in RATERS.items():
        for agg in AGGREGATES:
            out[measure_id(rater, agg)] = (scoring.eloundou_task_value(frame[column], agg), frame[column])
    out[measure_id("gpt4", "automation")] = (scoring.automation_value(frame["gpt4_automation"]),
                                              frame["gpt4_automation"])
    out[measure_id("human", "automation")] = (scoring.automation_value(frame["human_automation"]),
                                               frame["human_automation"])
    return out


#: Measures aggregated to roles (human automation has 100 tasks only: task level only).
ROLE_MEASURES = tuple(measure_id(r, a) for r in RATERS for a in AGGREGATES) + (measure_id("gpt4", "automation"),)


def role_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """native_scores: coreweight-weighted mean of task values per O*NET-SOC code, all paper tasks."""
    values = task_values(frame)
    parts = []
    for mid in ROLE_MEASURES:
        scored = scoring.weighted_mean(values[mid][0], frame["coreweight"], frame["O*NET-SOC Code"])
        parts.append(pd.DataFrame({
            "measure_id": mid, "code_system": CODE_SYSTEM, "native_code": scored.index,
            "score": scored["score"].to_numpy(), "coverage": scored["coverage"].to_numpy(),
        }))
    return pd.concat(parts, ignore_index=True)


def load(raw) -> dict[str, pd.DataFrame]:
    frame = tasks(raw)
    onet = raw.read(SPINE)[["Task ID"]].astype("int64")
    in_onet = frame["Task ID"].isin(onet["Task ID"])
    values = task_values(frame)
    parts = []
    for mid, (value, label) in values.items():
        keep = in_onet & value.notna()
        parts.append(pd.DataFrame({
            "task_id": frame.loc[keep, "Task ID"].to_numpy(), "measure_id": mid,
            "value": value[keep].to_numpy(), "label": label[keep].astype(object).to_numpy(),
        }))
    task_exposure = pd.concat(parts, ignore_index=True).sort_values(["task_id", "measure_id"], ignore_index=True)
    native = role_scores(frame)
    metadata = pd.DataFrame([
        ("eloundou.tasks_in_paper", len(frame), "tasks in the paper's label set (O*NET 27.x)"),
        ("eloundou.occupations_in_paper", frame["O*NET-SOC Code"].nunique(), "O*NET-SOC 2019 occupations scored"),
        ("eloundou.tasks_labelled_gpt4", int(frame["gpt4_exposure"].notna().sum()), "tasks with a GPT-4 exposure label"),
        ("eloundou.tasks_labelled_human", int(frame["human_exposure_agg"].notna().sum()), "tasks with a human exposure label"),
        ("eloundou.tasks_labelled_human_automation", int(frame["human_automation"].notna().sum()),
         "tasks with a human automation label"),
        ("eloundou.tasks_kept_spine", int(in_onet.sum()), "paper tasks whose Task ID is in the spine, O*NET 30.2 (in task_exposure)"),
        ("eloundou.tasks_dropped_spine", int((~in_onet).sum()),
         "paper tasks whose Task ID is not in O*NET 30.2 (used in role scores; their labels reach task_exposure only "
         "where the task matcher finds their spine task: task_list_changes)"),
    ], columns=["key", "value", "description"])
    metadata["value"] = metadata["value"].astype("float64")
    # the paper's O*NET 27.x task list, for the task matcher (taskshift.build.derive.task_match)
    history = pd.DataFrame({
        "list_id": "eloundou_full_labelset", "code_system": CODE_SYSTEM,
        "occupation_code": frame["O*NET-SOC Code"].to_numpy(), "task_id": frame["Task ID"].to_numpy(),
        "statement": frame["Task"].to_numpy(), "task_type": frame["Task Type"].astype(object).to_numpy(),
        "weight": frame["coreweight"].to_numpy(dtype="float64"),
    })
    # every paper task's labels (task_exposure above keeps those whose id the spine has): the
    # task_changes step carries the others' labels to their matched spine task
    paper_values = pd.concat([pd.DataFrame({
        "source_task_id": frame.loc[value.notna(), "Task ID"].to_numpy(), "measure_id": mid,
        "value": value[value.notna()].to_numpy(), "label": label[value.notna()].astype(object).to_numpy()})
        for mid, (value, label) in values.items()], ignore_index=True)
    return {"task_exposure": task_exposure, "native_scores": native, "metadata": metadata, "task_history": history,
            "eloundou_task_values": paper_values}
