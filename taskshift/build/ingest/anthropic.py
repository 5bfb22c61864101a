"""Anthropic Economic Index: observed exposure by occupation, and task usage shares as published.

Inputs:
- `job_exposure.csv` (labor_market_impacts): `observed_exposure` for 756 occupations, keyed by
  `occ_code`. Every code is a 6-digit detailed SOC 2018 code (all 756 are also OEWS detailed codes),
  so native_scores use code_system `soc2018`; coverage is unknown (null).
- `task_pct_v2.csv` (release 2025-03-27): percentage of Claude.ai conversations per O*NET task
  statement, keyed by lower-cased statement text; a `none` row holds conversations mapped to no task.
- `onet_task_statements.csv`: the O*NET (~20.1, O*NET-SOC 2010) task list those statements came
  from, with Task IDs: task history for the matcher.

- `automation_vs_augmentation_by_task.csv` (release 2025-03-27): per statement (same keys as
  task_pct_v2), the shares of conversations in five collaboration patterns plus `filtered`;
  matched to the spine by `taskshift.build.derive.collaboration`.

This module only reads: `task_pct` (one row per distinct statement after normalisation, shares as
fractions of all conversations) and `task_history` (Anthropic's task list). Matching the statements
to O*NET 30.2 task ids is a derive step (`taskshift.build.derive.task_usage`, using the reusable
`taskshift.build.derive.task_match`), so every source keyed on task text is matched the same way.

Usage: `load(RawReader(sources_dir))` -> frames `native_scores`, `anthropic_task_pct`, `task_history`.
"""
from __future__ import annotations

import pandas as pd

SOURCES = (
    "anthropic_job_exposure",
    "anthropic_task_pct_v2",
    "anthropic_onet_task_statements",
    "anthropic_automation_vs_augmentation",
)
COLLABORATION_SOURCE = "anthropic_automation_vs_augmentation"
#: The collaboration patterns of the Anthropic Economic Index and the mode each belongs to.
PATTERNS = {"directive": "automation", "feedback_loop": "automation", "task_iteration": "augmentation",
            "validation": "augmentation", "learning": "augmentation"}
CODE_SYSTEM = "soc2018"
MEASURE = "anthropic2026_observed_exposure"
NO_TASK = "none"
TASK_PCT_SOURCE = "anthropic_task_pct_v2"
HISTORY_SOURCE = "anthropic_onet_task_statements"


def observed_exposure(raw) -> pd.DataFrame:
    jobs = raw.read("anthropic_job_exposure")
    return pd.DataFrame({
        "measure_id": MEASURE, "code_system": CODE_SYSTEM, "native_code": jobs["occ_code"].to_numpy(),
        "score": jobs["observed_exposure"].to_numpy(dtype="float64"), "coverage": float("nan"),
    }).sort_values("native_code", ignore_index=True)


def task_pct(raw) -> pd.DataFrame:
    """The file as published: `source_id`, `task_name`, `share` (pct / 100: a fraction of all
    conversations, the `none` row included in the base). The `none` row (conversations Anthropic
    mapped to no task) is kept; the task_usage step reports it apart."""
    pct = raw.read("anthropic_task_pct_v2")
    return pd.DataFrame({"source_id": TASK_PCT_SOURCE, "task_name": pct["task_name"].to_numpy(),
                         "share": pct["pct"].to_numpy(dtype="float64") / 100.0})


def task_history(raw) -> pd.DataFrame:
    theirs = raw.read("anthropic_onet_task_statements")
    return pd.DataFrame({
        "list_id": HISTORY_SOURCE, "code_system": "onetsoc2010",
        "occupation_code": theirs["O*NET-SOC Code"].to_numpy(),
        "task_id": theirs["Task ID"].astype("int64").to_numpy(), "statement": theirs["Task"].to_numpy(),
        "task_type": theirs["Task Type"].astype(object).to_numpy() if "Task Type" in theirs else None,
        "weight": float("nan"),  # Anthropic weighs a task by its usage share (task_pct), not by its type
    })


def collaboration(raw) -> pd.DataFrame:
    """automation_vs_augmentation_by_task.csv as published: task_name, the five pattern shares, filtered."""
    c = raw.read(COLLABORATION_SOURCE)
    out = pd.DataFrame({"task_name": c["task_name"].to_numpy()})
    for col in (*PATTERNS, "filtered"):
        out[col] = c[col].to_numpy(dtype="float64")
    total = out[[*PATTERNS, "filtered"]].sum(axis=1)
    if not ((total - 1.0).abs() < 1e-6).all():
        bad = out.loc[(total - 1.0).abs() >= 1e-6, "task_name"].head(3).tolist()
        raise ValueError(f"anthropic: {COLLABORATION_SOURCE}: pattern shares plus filtered do not sum to 1 (e.g. {bad})")
    return out


def load(raw) -> dict[str, pd.DataFrame]:
    return {"native_scores": observed_exposure(raw), "anthropic_task_pct": task_pct(raw),
            "task_history": task_history(raw), "anthropic_collaboration": collaboration(raw)}
