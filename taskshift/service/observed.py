"""Observed use of AI per role and task (role_collaboration, task_collaboration) and the task-list
changes behind each measure (role_task_changes), for the role score, the library, the CLI and pages.

Everything is read from the precomputed tables once per database (`Index.extras["observed"]`):
role_collaboration (one row per role with task usage), the observed-use label of every matched task
(task_collaboration.observed_use / task_automation_share, the task's own) and role_task_changes.
"""
from __future__ import annotations

import sqlite3

import pandas as pd

from taskshift import scoring
from taskshift.service import models as m
from taskshift.service.index import Index, _f, _sql

SOURCE = ("Anthropic Economic Index, release 2025-03-27, automation_vs_augmentation_by_task (Claude.ai conversations; "
          "CC BY, Anthropic), matched to O*NET 30.2 tasks (task_collaboration)")
PREDICTED = ("Eloundou et al. (2024), GPT-4's automation rubric T0-T4 (0, .25, .5, .75, 1), coreweight-weighted mean over "
             "the role's tasks (eloundou2023_gpt4_automation)")
PATTERNS = tuple(scoring.COLLABORATION_PATTERNS)


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}


def _load(conn: sqlite3.Connection) -> dict:
    have = _tables(conn)
    out: dict = {"roles": {}, "tasks": {}, "lists": {}}
    if "role_collaboration" in have:
        rc = _sql(conn, "select * from role_collaboration")
        for r in rc.to_dict("records"):
            out["roles"][r["role_code"]] = r
    if "task_collaboration" in have:
        tc = _sql(conn, "select task_id, observed_use, task_automation_share, group_concat(method || ': ' || evidence, ' | ') "
                        "as matched_by from (select * from task_collaboration where task_id is not null order by task_name) "
                        "group by task_id")
        out["tasks"] = {int(t): (u, _f(s), b) for t, u, s, b in
                        zip(tc["task_id"], tc["observed_use"], tc["task_automation_share"], tc["matched_by"])}
    if "role_task_changes" in have:
        rtc = _sql(conn, "select * from role_task_changes order by role_code, list_id")
        for code, g in rtc.groupby("role_code", sort=False):
            out["lists"][code] = [m.TaskListChange(**{k: (None if pd.isna(v) else v) for k, v in r.items() if k != "role_code"})
                                  for r in g.to_dict("records")]
    return out


def data(conn: sqlite3.Connection, idx: Index) -> dict:
    hit = idx.extras.get("observed")
    if hit is None:
        hit = idx.extras["observed"] = _load(conn)
    return hit


def role_block(conn: sqlite3.Connection, idx: Index, pos: int) -> m.ObservedUse | None:
    """The role's observed automation vs augmentation beside GPT-4's predicted automation (null: no task usage)."""
    code = idx.codes[pos]
    r = data(conn, idx)["roles"].get(code)
    if r is None:
        return None
    auto = _f(idx.role_arrays["automatable_share"][pos])
    return m.ObservedUse(
        automation_share=_f(r["automation_share"]), augmentation_share=_f(r["augmentation_share"]),
        patterns={p: _f(r[f"{p}_share"]) for p in PATTERNS},
        tasks_matched=int(r["tasks_matched"]), tasks_with_usage=int(r["tasks_with_usage"]),
        usage_share=float(r["usage_share"]), usage_share_matched=_f(r["usage_share_matched"]),
        classified_share=_f(r["classified_share"]),
        predicted_automation=_f(r["gpt4_automation"]), predicted_automation_percentile=_f(r["gpt4_automation_percentile"]),
        predicted_automatable_share=auto, source=SOURCE, predicted_source=PREDICTED)


def task_use(conn: sqlite3.Connection, idx: Index, task_id: int) -> tuple[str, float | None, str | None]:
    """(observed_use, the task's automation share, how its statements were matched): 'none' for a task with no
    classified conversation or no usage."""
    return data(conn, idx)["tasks"].get(int(task_id), ("none", None, None))


def task_lists(conn: sqlite3.Connection, idx: Index, pos: int) -> list[m.TaskListChange]:
    return list(data(conn, idx)["lists"].get(idx.codes[pos], []))


def measure_list(measure_id: str) -> str | None:
    """The task list a measure was built on (scoring.MEASURE_TASK_LISTS), if any."""
    for prefix, list_id in scoring.MEASURE_TASK_LISTS.items():
        if measure_id.startswith(prefix):
            return list_id
    return None
