"""Anthropic Economic Index: observed exposure by occupation and task usage shares.

Inputs:
- `job_exposure.csv` (labor_market_impacts): `observed_exposure` for 756 occupations, keyed by
  `occ_code`. Every code is a 6-digit detailed SOC 2018 code (all 756 are also OEWS detailed codes),
  so native_scores use code_system `soc2018`; coverage is unknown (null).
- `task_pct_v2.csv` (release 2025-03-27): percentage of Claude.ai conversations per O*NET task
  statement, keyed by lower-cased statement text; a `none` row holds conversations mapped to no task.
- `onet_task_statements.csv`: the O*NET (~20.1) task list those statements came from, with ids.

Matching task_pct_v2 to O*NET 29.3 tasks (`Task Statements.txt`):
1. `text`: normalised statement equal to a normalised O*NET 29.3 statement. Normalisation:
   lower-case, then drop every character that is not a-z or 0-9 (punctuation and whitespace), so
   "curricula, and" and "curricula and" match. Four pairs of v2 statements differ only by a comma;
   they become one key and their shares are added.
2. `task_id`: otherwise, the normalised statement's O*NET Task ID in Anthropic's own task list, kept
   where that id still exists in O*NET 29.3 (O*NET keeps a task's id when it lightly revises its
   wording; median similarity of the two texts about 0.97).
A statement shared by several O*NET occupations matches several task ids: each row carries the
statement's whole `share` and `share_split` = share / n_tasks (an even split, our choice).
`share` is a fraction of all conversations (pct / 100, the `none` row included in the base).

Usage: `load(RawReader(sources_dir))` -> frames `native_scores`, `task_usage`, `metadata`
(metadata holds the match rates).
"""
from __future__ import annotations

import pandas as pd

SOURCES = (
    "anthropic_job_exposure",
    "anthropic_task_pct_v2",
    "anthropic_onet_task_statements",
    "onet_task_statements",
)
CODE_SYSTEM = "soc2018"
MEASURE = "anthropic2026_observed_exposure"
NO_TASK = "none"


def normalise(text: pd.Series) -> pd.Series:
    """Lower-case and keep only a-z and 0-9: the key task statements are matched on."""
    return pd.Series(text, dtype=object).str.lower().str.replace(r"[^a-z0-9]+", "", regex=True)


def observed_exposure(raw) -> pd.DataFrame:
    jobs = raw.read("anthropic_job_exposure")
    return pd.DataFrame({
        "measure_id": MEASURE, "code_system": CODE_SYSTEM, "native_code": jobs["occ_code"].to_numpy(),
        "score": jobs["observed_exposure"].to_numpy(dtype="float64"), "coverage": float("nan"),
    }).sort_values("native_code", ignore_index=True)


def task_usage(raw) -> tuple[pd.DataFrame, dict[str, float]]:
    """(task_usage frame, match statistics)."""
    pct = raw.read("anthropic_task_pct_v2")
    mapped = pct[pct["task_name"] != NO_TASK].copy()
    mapped["key"] = normalise(mapped["task_name"])
    statements = (mapped.sort_values("task_name")
                  .groupby("key", sort=True)
                  .agg(task_name=("task_name", "first"), pct=("pct", "sum"), variants=("task_name", "size"))
                  .reset_index())

    onet = raw.read("onet_task_statements")[["Task ID", "Task"]]
    onet = onet.assign(key=normalise(onet["Task"]), task_id=onet["Task ID"].astype("int64"))
    by_text = statements.merge(onet[["key", "task_id"]], on="key", how="inner").assign(match="text")

    theirs = raw.read("anthropic_onet_task_statements")[["Task ID", "Task"]]
    theirs = theirs.assign(key=normalise(theirs["Task"]), task_id=theirs["Task ID"].astype("int64"))
    rest = statements[~statements["key"].isin(by_text["key"])]
    by_id = (rest.merge(theirs[["key", "task_id"]].drop_duplicates(), on="key", how="inner")
             .loc[lambda f: f["task_id"].isin(onet["task_id"])]
             .assign(match="task_id"))

    rows = pd.concat([by_text, by_id], ignore_index=True)
    rows["n_tasks"] = rows.groupby("key")["task_id"].transform("size")
    rows["share"] = rows["pct"] / 100.0
    rows["share_split"] = rows["share"] / rows["n_tasks"]
    if rows["task_id"].duplicated().any():
        raise ValueError("anthropic: an O*NET task id matched two task_pct_v2 statements; review the matching")
    usage = (rows[["task_id", "task_name", "share", "share_split", "n_tasks", "match"]]
             .sort_values("task_id", ignore_index=True))

    matched = statements["key"].isin(rows["key"])
    text_only = statements["key"].isin(by_text["key"])
    total_pct = statements["pct"].sum()
    stats = {
        "anthropic.statements": float(len(statements)),
        "anthropic.statements_matched": float(matched.sum()),
        "anthropic.statement_match_rate": float(matched.mean()),
        "anthropic.statement_match_rate_text": float(text_only.mean()),
        "anthropic.share_match_rate": float(statements.loc[matched, "pct"].sum() / total_pct),
        "anthropic.share_match_rate_text": float(statements.loc[text_only, "pct"].sum() / total_pct),
        "anthropic.share_no_task": float(pct.loc[pct["task_name"] == NO_TASK, "pct"].sum() / 100.0),
        "anthropic.tasks_matched": float(len(usage)),
    }
    return usage, stats


DESCRIPTIONS = {
    "anthropic.statements": "distinct task_pct_v2 statements after normalisation ('none' excluded)",
    "anthropic.statements_matched": "statements matched to at least one O*NET 29.3 task",
    "anthropic.statement_match_rate": "share of statements matched (text or task id)",
    "anthropic.statement_match_rate_text": "share of statements matched by normalised text alone",
    "anthropic.share_match_rate": "share of task-mapped conversations whose statement matched (text or task id)",
    "anthropic.share_match_rate_text": "share of task-mapped conversations matched by normalised text alone",
    "anthropic.share_no_task": "share of conversations mapped to no task ('none')",
    "anthropic.tasks_matched": "O*NET 29.3 task ids in task_usage",
}


def load(raw) -> dict[str, pd.DataFrame]:
    usage, stats = task_usage(raw)
    metadata = pd.DataFrame({"key": list(stats), "value": list(stats.values()),
                             "description": [DESCRIPTIONS[k] for k in stats]})
    return {"native_scores": observed_exposure(raw), "task_usage": usage, "metadata": metadata}
