"""Other O*NET releases' task lists -> `task_history` (read by the task matcher only).

O*NET keeps a task's Task ID when it lightly revises the wording, and gives a new id when it
rewrites or replaces a task. Task lists of other releases, with their ids, let
`taskshift.build.derive.task_match` carry a statement published as text in another release's
wording to its O*NET 29.3 task. Lists read here:

- `onet_30_2_task_statements`: O*NET 30.2 (February 2026), O*NET-SOC 2019 codes.

(The other task lists the matcher reads come with the sources that used them: Anthropic's O*NET
~20.1 list from `ingest.anthropic`, Eloundou et al.'s O*NET 27.x list from `ingest.eloundou`.)
"""
from __future__ import annotations

import pandas as pd

SOURCES = ("onet_30_2_task_statements",)


def load(raw) -> dict[str, pd.DataFrame]:
    t = raw.read("onet_30_2_task_statements")
    history = pd.DataFrame({
        "list_id": "onet_30_2_task_statements", "code_system": "onetsoc2019",
        "occupation_code": t["O*NET-SOC Code"].to_numpy(), "task_id": t["Task ID"].astype("int64").to_numpy(),
        "statement": t["Task"].to_numpy(),
    })
    return {"task_history": history}
