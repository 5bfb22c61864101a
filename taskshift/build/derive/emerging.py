"""Derive the AI-era titles: `emerging_titles`, `emerging_title_roles`, `emerging_title_evidence`,
and add each title (and the names its evidence gives it) to `titles` as kind `emerging`.

Inputs:
- curated `dataset/curated/emerging_titles.csv` (title, family, description, source),
  `emerging_title_roles.csv` (nearest O*NET-SOC roles with the reason) and
  `emerging_title_evidence.csv` (seed mentions with the quote; exact aijobs.net survey titles);
- the aijobs.net survey (`taskshift.build.ingest.aijobs`): each survey title named in the evidence file
  becomes one evidence row per work year with respondents and median salary;
- O*NET Emerging Tasks whose statement matches the AI-related text filter below: attached to each
  emerging title whose nearest roles include the task's role, else listed with no title.

Title ids of the new `titles` rows follow the O*NET ones, in (title_key, name, role rank) order.
"""
from __future__ import annotations

import re

import pandas as pd

from taskshift.build import curated
from taskshift.scoring import HEADLINE_MEASURE

CURATED_SOURCE = "dataset/curated/emerging_titles.csv"
EVIDENCE_SOURCE = "dataset/curated/emerging_title_evidence.csv"
SURVEY_SOURCE = "aijobs_salaries"
SURVEY_YEAR = 2024  # latest full work year of the survey snapshot (2025 is partial)
#: AI-related text in an O*NET Emerging Task statement: explicit AI terms, and (weaker) automation,
#: autonomy and robotics. `match` says which list matched.
AI_TERMS = re.compile(r"\b(artificial intelligence|AI|machine learning|deep learning|neural networks?|large language models?|"
                      r"LLMs?|generative|chatbots?|algorithms?|predictive models?)\b", re.IGNORECASE)
AI_TERMS_CASED = re.compile(r"\bAI\b")
AUTOMATION_TERMS = re.compile(r"\b(autonomous|automated|automation|automate|robotic|robots?)\b", re.IGNORECASE)
KIND_ORDER = {"seed": 0, "aijobs": 1, "onet_emerging_task": 2}


def _problem(problems: list[str]) -> None:
    if problems:
        from taskshift.build.assemble import BuildError
        raise BuildError(problems)


def ai_match(statement: str) -> str | None:
    """'ai' if the statement names AI explicitly, 'automation' for automation/autonomy/robotics, else None."""
    for m in AI_TERMS.finditer(statement):
        if m.group(0).lower() != "ai" or AI_TERMS_CASED.search(m.group(0)):
            return "ai"
    return "automation" if AUTOMATION_TERMS.search(statement) else None


def ai_emerging_tasks(emerging: pd.DataFrame) -> pd.DataFrame:
    out = emerging.assign(match=emerging["statement"].map(ai_match))
    return out[out["match"].notna()].reset_index(drop=True)


def evidence(titles: pd.DataFrame, roles_near: pd.DataFrame, curated_ev: pd.DataFrame,
             survey: pd.DataFrame | None, tasks: pd.DataFrame, onet_roles: pd.DataFrame) -> pd.DataFrame:
    problems = []
    rows = []
    for line, r in curated_ev.iterrows():
        if r["title_key"] not in set(titles["title_key"]):
            problems.append(f"dataset/curated/emerging_title_evidence.csv: row {line}: unknown title_key {r['title_key']!r}")
            continue
        if r["kind"] == "seed":
            rows.append({"title_key": r["title_key"], "kind": "seed", "name": r["name"], "detail": r["detail"],
                         "source": r["source"]})
        elif r["kind"] == "aijobs":
            if survey is None:
                continue  # survey not read in this build
            years = survey[survey["job_title"] == r["name"]]
            if years.empty:
                problems.append(f"dataset/curated/emerging_title_evidence.csv: row {line}: {r['name']!r} is not a job title of the aijobs.net survey")
            for y in years.itertuples(index=False):
                rows.append({"title_key": r["title_key"], "kind": "aijobs", "name": r["name"], "detail": None,
                             "work_year": y.work_year, "respondents": y.respondents,
                             "median_salary_usd": y.median_salary_usd, "source": r["source"]})
        else:
            problems.append(f"dataset/curated/emerging_title_evidence.csv: row {line}: kind must be seed or aijobs "
                            f"(O*NET emerging tasks are found by the build), not {r['kind']!r}")
    _problem(problems)
    role_title = onet_roles.set_index("code")["title"]
    near = roles_near.groupby("role_code")["title_key"].agg(sorted)
    for t in tasks.itertuples(index=False):
        keys = near.get(t.role_code) or [None]
        for key in keys:
            rows.append({"title_key": key, "kind": "onet_emerging_task", "name": role_title.get(t.role_code),
                         "detail": t.statement, "role_code": t.role_code, "emerging_task_id": t.emerging_task_id,
                         "match": t.match, "source": f"onet_emerging_tasks (O*NET 29.3 Emerging Tasks, {t.date}); "
                                                      f"AI-related text filter: {t.match} terms"})
    out = pd.DataFrame(rows, columns=["title_key", "kind", "name", "detail", "work_year", "respondents",
                                      "median_salary_usd", "role_code", "emerging_task_id", "match", "source"])
    out["_k"] = out["kind"].map(KIND_ORDER)
    out = out.sort_values(["_k", "title_key", "name", "work_year", "emerging_task_id"], kind="stable",
                          na_position="last", ignore_index=True).drop(columns="_k")
    out.insert(0, "evidence_id", range(1, len(out) + 1))
    for col in ("work_year", "respondents", "emerging_task_id"):
        out[col] = out[col].astype("Int64")
    return out


def title_rows(titles: pd.DataFrame, roles_near: pd.DataFrame, ev: pd.DataFrame, start: int) -> pd.DataFrame:
    """Each emerging title and each name its seed / survey evidence gives it, pointing at every nearest role."""
    names = pd.concat([
        titles[["title_key", "title"]].assign(source_id=CURATED_SOURCE, order=0),
        ev.loc[ev["kind"] == "seed", ["title_key", "name"]].rename(columns={"name": "title"}).assign(source_id=EVIDENCE_SOURCE, order=1),
        ev.loc[ev["kind"] == "aijobs", ["title_key", "name"]].rename(columns={"name": "title"}).assign(source_id=SURVEY_SOURCE, order=2),
    ], ignore_index=True)
    names["title"] = names["title"].str.strip()
    names["folded"] = names["title"].str.casefold()
    names = names.sort_values(["title_key", "order", "folded"], kind="stable").drop_duplicates(["title_key", "folded"])
    out = names.merge(roles_near[["title_key", "role_code", "rank"]], on="title_key")
    out = out.sort_values(["title_key", "order", "folded", "rank"], kind="stable").drop_duplicates(["role_code", "folded"])
    out = out.assign(kind="emerging").reset_index(drop=True)
    out.insert(0, "title_id", range(start, start + len(out)))
    return out[["title_id", "role_code", "title", "kind", "source_id"]]


def derive(ctx) -> None:
    titles = curated.read("emerging_titles")
    near = curated.read("emerging_title_roles")
    curated_ev = curated.read("emerging_title_evidence")
    keys = set(titles["title_key"])
    _problem([f"dataset/curated/emerging_title_roles.csv: row {i}: unknown title_key {k!r}"
              for i, k in near["title_key"].items() if k not in keys]
             + [f"dataset/curated/emerging_titles.csv: title {k!r} has no nearest role"
                for k in sorted(keys - set(near["title_key"]))])
    survey = ctx.frames.get("aijobs_title_years")
    responses = ctx.frames.pop("aijobs_responses", None)
    tasks = ai_emerging_tasks(ctx.frames["emerging_tasks"])
    ev = evidence(titles, near, curated_ev, survey, tasks, ctx.frames["roles"])

    exposure = ctx.frames.get("role_exposure", pd.DataFrame(columns=["role_code", "measure_id", "score", "percentile"]))
    head = exposure[exposure["measure_id"] == HEADLINE_MEASURE].set_index("role_code")
    near = near.reset_index(drop=True)
    near["measure_id"] = HEADLINE_MEASURE
    near["score"] = near["role_code"].map(head["score"])
    near["percentile"] = near["role_code"].map(head["percentile"])

    titles = titles.reset_index(drop=True)
    first = near.sort_values(["title_key", "rank"]).drop_duplicates("title_key").set_index("title_key")["role_code"]
    titles["nearest_role_code"] = titles["title_key"].map(first)
    titles["n_roles"] = titles["title_key"].map(near.groupby("title_key").size()).astype(int)
    titles["measure_id"] = HEADLINE_MEASURE
    titles["roles_percentile"] = titles["title_key"].map(near.groupby("title_key")["percentile"].mean())
    titles["seed_mentions"] = titles["title_key"].map(ev[ev["kind"] == "seed"].groupby("title_key").size()).fillna(0).astype(int)
    survey_ev = ev[ev["kind"] == "aijobs"]
    titles["survey_titles"] = titles["title_key"].map(survey_ev.groupby("title_key")["name"].nunique()).fillna(0).astype(int)
    titles["survey_respondents"] = titles["title_key"].map(survey_ev.groupby("title_key")["respondents"].sum()).fillna(0).astype(int)
    titles["survey_first_year"] = titles["title_key"].map(survey_ev.groupby("title_key")["work_year"].min()).astype("Int64")
    if responses is not None and len(survey_ev):
        names = survey_ev[["title_key", "name"]].drop_duplicates()
        pooled = (responses[responses["work_year"] == SURVEY_YEAR]
                  .merge(names, left_on="job_title", right_on="name")
                  .groupby("title_key"))
        titles[f"survey_respondents_{SURVEY_YEAR}"] = titles["title_key"].map(pooled.size()).fillna(0).astype(int)
        titles[f"survey_median_salary_usd_{SURVEY_YEAR}"] = titles["title_key"].map(pooled["salary_in_usd"].median())
    else:
        titles[f"survey_respondents_{SURVEY_YEAR}"] = 0
        titles[f"survey_median_salary_usd_{SURVEY_YEAR}"] = None
    titles["onet_emerging_tasks"] = titles["title_key"].map(
        ev[ev["kind"] == "onet_emerging_task"].groupby("title_key").size()).fillna(0).astype(int)

    ctx.frames["emerging_titles"] = titles
    ctx.frames["emerging_title_roles"] = near
    ctx.frames["emerging_title_evidence"] = ev
    existing = ctx.frames["titles"]
    ctx.frames["titles"] = pd.concat([existing, title_rows(titles, near, ev, int(existing["title_id"].max()) + 1)],
                                     ignore_index=True)
    counts = tasks["match"].value_counts()
    ctx.note("emerging_tasks_ai_filter", {
        "ai_terms": AI_TERMS.pattern, "automation_terms": AUTOMATION_TERMS.pattern,
        "emerging_tasks": int(len(ctx.frames["emerging_tasks"])),
        "matched_ai": int(counts.get("ai", 0)), "matched_automation": int(counts.get("automation", 0)),
        "matched_ids": [int(i) for i in tasks["emerging_task_id"]],
    }, "O*NET Emerging Tasks matched by the AI-related text filter (emerging_title_evidence, kind onet_emerging_task)")
