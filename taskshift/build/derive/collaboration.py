"""Derive `task_collaboration` and `role_collaboration`: automation vs augmentation in actual use.

The Anthropic Economic Index (release 2025-03-27, automation_vs_augmentation_by_task.csv) gives, per
O*NET task statement (text, no ids), the shares of its Claude.ai conversations in five collaboration
patterns: directive and feedback loop (automation: the task is delegated), task iteration,
validation and learning (augmentation: the person works with the AI), plus `filtered` (not
classified; 1.0 = no pattern). Statements are matched to the spine (O*NET 30.2) by the same matcher
as task usage (`derive.task_match`: text, task_id, reworded, reviewed, none); statements that differ only in
punctuation are one statement (their patterns averaged, weighted by their conversation shares).

- `task_collaboration`: one row per (statement, matched task), like task_usage: the statement's
  pattern shares, its share of all conversations (task_pct_v2) and the even split over its tasks,
  the match evidence, and the task's own automation share and observed-use label (over every
  statement matched to the task).
- `role_collaboration`: per role with task usage, usage-weighted over its tasks
  (`scoring.collaboration_shares`): share_p = sum(usage x p) / sum(usage x (1 - filtered)), so
  automation_share + augmentation_share = 1 over the classified conversations; beside it GPT-4's
  predicted automation (eloundou2023_gpt4_automation: the coreweight-weighted mean of the T0-T4
  rubric, Eloundou et al.).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from taskshift import scoring
from taskshift.build.derive import task_match

SOURCE = "anthropic_automation_vs_augmentation"
PATTERNS = list(scoring.COLLABORATION_PATTERNS)
PREDICTED = scoring.PROFILE_AUTOMATION_MEASURE  # eloundou2023_gpt4_automation
TASK_COLUMNS = ["collab_id", "task_name", "task_id", "role_code", *PATTERNS, "filtered", "automation", "augmentation",
                "usage_share", "usage_split", "n_tasks", "method", "similarity", "evidence", "task_automation_share",
                "observed_use"]
ROLE_COLUMNS = ["role_code", "automation_share", "augmentation_share", *[f"{p}_share" for p in PATTERNS],
                "tasks_matched", "tasks_with_usage", "usage_share", "usage_share_matched", "classified_share",
                "gpt4_automation", "gpt4_automation_percentile"]


def statements(collab: pd.DataFrame, usage_by_key: pd.Series) -> pd.DataFrame:
    """One row per normalised statement: patterns averaged over spellings, weighted by conversation share."""
    c = collab.assign(key=task_match.normalise(collab["task_name"]).to_numpy())
    c["u"] = c["key"].map(usage_by_key).fillna(0.0)
    c["w"] = np.where(c.groupby("key")["u"].transform("sum") > 0, c["u"], 1.0)
    cols = [*PATTERNS, "filtered"]
    weighted = c[cols].mul(c["w"], axis=0).groupby(c["key"]).sum().div(c.groupby("key")["w"].sum(), axis=0)
    first = c.sort_values("task_name").groupby("key")["task_name"].first()
    out = weighted.assign(task_name=first).reset_index()
    out["usage_share"] = out["key"].map(usage_by_key).fillna(0.0)
    return out


def derive(ctx) -> None:
    collab = ctx.frames.pop("anthropic_collaboration", None)
    if collab is None:
        return
    usage = ctx.frames["task_usage"]
    usage_by_key = (usage.drop_duplicates("task_name").assign(key=lambda f: task_match.normalise(f["task_name"]).to_numpy())
                    .groupby("key")["share"].sum())
    stmts = statements(collab, usage_by_key)
    matcher = task_match.shared(ctx)
    matches = matcher.match(stmts["task_name"])
    rows = matches.merge(stmts.drop(columns="key"), left_on="text", right_on="task_name", how="left")
    rows["usage_split"] = rows["usage_share"] / rows["n_tasks"].clip(lower=1)
    rows["automation"] = rows["directive"] + rows["feedback_loop"]
    rows["augmentation"] = rows["task_iteration"] + rows["validation"] + rows["learning"]
    # the task's own shares over every statement matched to it (an unmatched statement: its own)
    group = np.where(rows["task_id"].notna(), "t" + rows["task_id"].astype("string").fillna(""), "s" + rows["task_name"])
    per_task = scoring.collaboration_shares(rows, rows["usage_split"].where(rows["usage_split"] > 0, 1e-12), group)
    rows["task_automation_share"] = pd.Series(group).map(per_task["automation_share"]).to_numpy()
    rows["observed_use"] = scoring.observed_use(rows["task_automation_share"])
    rows = rows.sort_values(["task_name", "task_id"], na_position="last", ignore_index=True)
    rows["collab_id"] = np.arange(1, len(rows) + 1)
    ctx.frames["task_collaboration"] = rows[TASK_COLUMNS]

    # roles: usage-weighted over their matched tasks
    matched = rows[rows["task_id"].notna()]
    shares = scoring.collaboration_shares(matched, matched["usage_split"], matched["role_code"])
    used = usage[usage["task_id"].notna()]
    role_usage = used.groupby("role_code")["share_split"].sum()
    tasks_used = used.groupby("role_code")["task_id"].nunique()
    with_pattern = matched[matched["filtered"] < 1.0]
    tasks_matched = with_pattern.groupby("role_code")["task_id"].nunique()
    usage_pattern = with_pattern.groupby("role_code")["usage_split"].sum()
    out = pd.DataFrame({"role_code": role_usage.index})
    out["usage_share"] = role_usage.to_numpy()
    out["tasks_with_usage"] = out["role_code"].map(tasks_used).fillna(0).astype("int64")
    out["tasks_matched"] = out["role_code"].map(tasks_matched).fillna(0).astype("int64")
    out["usage_share_matched"] = scoring.safe_share(out["role_code"].map(usage_pattern).fillna(0.0), out["usage_share"])
    for col in ("automation_share", "augmentation_share", *[f"{p}_share" for p in PATTERNS]):
        out[col] = out["role_code"].map(shares[col])
    out["classified_share"] = scoring.safe_share(out["role_code"].map(shares["usage_classified"]),
                                                 out["role_code"].map(shares["usage"]))
    re_ = ctx.frames["role_exposure"]
    pred = re_[re_["measure_id"] == PREDICTED].set_index("role_code")
    out["gpt4_automation"] = out["role_code"].map(pred["score"])
    out["gpt4_automation_percentile"] = out["role_code"].map(pred["percentile"])
    ctx.frames["role_collaboration"] = out[ROLE_COLUMNS].sort_values("role_code", ignore_index=True)

    # match rate on the statements that carry any pattern (filtered < 1), by method
    first = rows.drop_duplicates("task_name")
    carrying = first[first["filtered"] < 1.0]
    by_method = {m: int((carrying["method"] == m).sum()) for m in task_match.METHODS}
    rate = 1.0 - by_method["none"] / len(carrying) if len(carrying) else None
    usage_carrying = carrying["usage_share"].sum()
    summary = {
        "source_id": SOURCE, "statements": int(len(first)), "statements_with_pattern": int(len(carrying)),
        "by_method_with_pattern": by_method, "match_rate_with_pattern": rate,
        "usage_match_rate_with_pattern": float(carrying.loc[carrying["method"] != "none", "usage_share"].sum() / usage_carrying)
        if usage_carrying > 0 else None,
        "tasks_with_pattern": int(rows.loc[rows["filtered"] < 1.0, "task_id"].nunique()),
        "roles": int(len(out)), "roles_with_shares": int(out["automation_share"].notna().sum()),
        "thresholds": {"reword_min": matcher.reword_min, "reword_min_any": matcher.reword_min_any,
                       "observed_automation_min": scoring.OBSERVED_AUTOMATION_MIN},
        "unmatched_with_pattern": carrying.loc[carrying["method"] == "none"].nlargest(5, "usage_share")["task_name"].tolist(),
    }
    ctx.note(f"task_match.{SOURCE}", summary,
             "Anthropic automation_vs_augmentation_by_task statements matched to O*NET 30.2 tasks (the task usage matcher): "
             "statements carrying any pattern (filtered < 1) by method, match rate, usage-weighted match rate, thresholds")
    ctx.note("anthropic.collaboration_match_rate", float(rate) if rate is not None else None,
             "share of the automation_vs_augmentation statements that carry a pattern (filtered < 1) matched to an O*NET 30.2 task")
