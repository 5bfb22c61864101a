"""Derive `task_usage`: Anthropic Economic Index task usage shares on O*NET 30.2 tasks, every share kept.

Anthropic publishes the share of Claude.ai conversations per O*NET task statement (text, no ids;
`anthropic_task_pct` from `ingest.anthropic`). Statements that differ only in punctuation are one
statement (their shares are added: four pairs differ only by a comma). Each statement is matched by
the reusable matcher (`taskshift.build.derive.task_match`: exact text, then O*NET task history, then
near-identical rewording, then nothing), and the table keeps every statement:

- a matched statement has one row per O*NET 30.2 task it matched, each with the statement's whole
  `share` and `share_split` = share / n_tasks (an even split over the tasks, our choice);
- an unmatched statement has one row with a null task_id and method `none`: its share stays visible;
- the conversations Anthropic mapped to no task (`none` in the file) are reported in the metadata
  (`task_match.anthropic_task_pct_v2`), not in the table.

sum(share_split) over the table = the share of conversations mapped to some statement (1 - none).
A 30.2 task can be matched by two statements (two old wordings O*NET merged into one task): the
task's share is the sum of its rows' share_split.
"""
from __future__ import annotations

import pandas as pd

from taskshift.build.derive import task_match

SOURCE = "anthropic_task_pct_v2"
NO_TASK = "none"
COLUMNS = ["usage_id", "task_name", "task_id", "role_code", "share", "share_split", "n_tasks", "method",
           "similarity", "evidence"]


def statements(pct: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    """(one row per distinct normalised statement: key, task_name, share, variants; share of 'none')."""
    none_share = float(pct.loc[pct["task_name"] == NO_TASK, "share"].sum())
    mapped = pct[pct["task_name"] != NO_TASK].assign(key=lambda f: task_match.normalise(f["task_name"]).to_numpy())
    out = (mapped.sort_values("task_name")
           .groupby("key", sort=True)
           .agg(task_name=("task_name", "first"), share=("share", "sum"), variants=("task_name", "size"))
           .reset_index())
    return out, none_share


def task_usage(pct: pd.DataFrame, matcher: task_match.TaskMatcher) -> tuple[pd.DataFrame, dict]:
    stmts, none_share = statements(pct)
    matches = matcher.match(stmts["task_name"])
    rows = matches.merge(stmts[["task_name", "share"]], left_on="text", right_on="task_name", how="left")
    rows["share_split"] = rows["share"] / rows["n_tasks"].clip(lower=1)
    rows = rows.sort_values(["task_name", "task_id"], na_position="last", ignore_index=True)
    rows["usage_id"] = range(1, len(rows) + 1)
    summary = task_match.summary(matches, stmts.set_index("task_name")["share"])
    summary.update({
        "source_id": SOURCE,
        "share_no_task": none_share,
        "share_mapped": float(stmts["share"].sum()),
        "share_matched_of_all": float(rows.loc[rows["task_id"].notna(), "share_split"].sum()),
        "tasks_matched": int(rows["task_id"].nunique()),
        "thresholds": {"reword_min": matcher.reword_min, "reword_min_any": matcher.reword_min_any},
        "methods": task_match.METHOD_TEXT,
    })
    top = rows[rows["method"] == "none"].nlargest(5, "share")
    summary["largest_unmatched"] = [{"statement": r.task_name, "share": float(r.share)} for r in top.itertuples()]
    return rows[COLUMNS], summary


def derive(ctx) -> None:
    pct = ctx.frames.pop("anthropic_task_pct", None)
    if pct is None:
        return
    matcher = task_match.shared(ctx)
    usage, summary = task_usage(pct, matcher)
    ctx.frames["task_usage"] = usage
    ctx.note(f"task_match.{SOURCE}", summary,
             "Anthropic task_pct_v2 statements matched to O*NET 30.2 tasks: statements and share of task-mapped "
             "conversations by method (text, task_id, reworded, reviewed, none), share_matched, thresholds, largest unmatched")
    by = summary["by_method"]
    facts = {
        "anthropic.statements": (summary["statements"], "distinct task_pct_v2 statements after normalisation ('none' excluded)"),
        "anthropic.share_match_rate": (summary["share_matched"], "share of task-mapped conversations whose statement matched an O*NET 30.2 task (any method)"),
        "anthropic.share_match_rate_text": (by["text"]["share"], "share of task-mapped conversations matched by normalised text alone"),
        "anthropic.share_unmatched": (by["none"]["share"], "share of task-mapped conversations whose statement matched no O*NET 30.2 task (rows with null task_id in task_usage)"),
        "anthropic.share_no_task": (summary["share_no_task"], "share of all conversations Anthropic mapped to no task ('none')"),
        "anthropic.statement_match_rate": (1 - by["none"]["statements"] / summary["statements"], "share of statements matched (any method)"),
        "anthropic.tasks_matched": (summary["tasks_matched"], "O*NET 30.2 task ids in task_usage"),
    }
    for key, (value, description) in facts.items():
        ctx.note(key, float(value), description)
