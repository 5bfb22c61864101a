"""Other O*NET releases' task lists -> `task_history` (read by the task matcher and `task_list_changes`).

O*NET keeps a task's Task ID when it lightly revises the wording, and gives a new id when it
rewrites or replaces a task. Task lists of other releases, with their ids, let
`taskshift.build.derive.task_match` carry a statement published as text in another release's
wording to its task in the spine (O*NET 30.2). Lists read here:

- `onet_task_statements`: O*NET 29.3 (May 2025), the previous spine, O*NET-SOC 2019 codes.

(The other task lists the matcher reads come with the sources that used them: Anthropic's O*NET
~20.1 list from `ingest.anthropic`, Eloundou et al.'s O*NET 27.x list from `ingest.eloundou`.)
Columns: list_id, code_system, occupation_code, task_id, statement, task_type (Core, Supplemental or
null), weight (the task's weight in the measures built on the list: coreweight, Core 2, else 1).
"""
from __future__ import annotations

import pandas as pd

SOURCES = ("onet_task_statements",)
LIST_ID = "onet_task_statements"


def load(raw) -> dict[str, pd.DataFrame]:
    t = raw.read(LIST_ID)
    history = pd.DataFrame({
        "list_id": LIST_ID, "code_system": "onetsoc2019",
        "occupation_code": t["O*NET-SOC Code"].to_numpy(), "task_id": t["Task ID"].astype("int64").to_numpy(),
        "statement": t["Task"].to_numpy(), "task_type": t["Task Type"].astype(object).to_numpy(),
        "weight": t["Task Type"].map({"Core": 2.0}).fillna(1.0).to_numpy(dtype="float64"),
    })
    return {"task_history": history}
