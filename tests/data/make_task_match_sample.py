"""Make tests/data/task_match_sample.csv: labelled statement pairs to measure the task matcher's thresholds.

    TASKSHIFT_SOURCES=../shared/sources .venv/bin/python tests/data/make_task_match_sample.py

Labels come from O*NET's own Task IDs, not from a person:
- label 1 (same task, reworded): a task whose Task ID is in another release's list (Anthropic's
  O*NET ~20.1 list, Eloundou et al.'s O*NET 27.x list, O*NET 30.2) and in O*NET 29.3 with a
  different normalised text. O*NET kept the id, so it is the same task in new words.
- label 0 (different tasks): for every O*NET 29.3 occupation with two or more tasks, its task with
  the lowest Task ID paired with the most similar *other* task of the same occupation (a hard
  negative: two tasks O*NET lists separately, in the candidate set the matcher searches).
Pairs are deduplicated on their normalised texts. Deterministic: same sources, same file.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from taskshift import scoring
from taskshift.build.derive.task_match import normalise
from taskshift.build.sources import RawReader

HERE = Path(__file__).resolve().parent
LISTS = {
    "anthropic_onet_task_statements": ("Task ID", "Task"),
    "eloundou_full_labelset": ("Task ID", "Task"),
    "onet_30_2_task_statements": ("Task ID", "Task"),
}


def sample(raw) -> pd.DataFrame:
    onet = raw.read("onet_task_statements")[["O*NET-SOC Code", "Task ID", "Task"]]
    onet = onet.assign(task_id=onet["Task ID"].astype("int64"), key=normalise(onet["Task"]))
    rows = []
    for list_id, (id_col, text_col) in LISTS.items():
        other = raw.read(list_id)
        other = other.assign(task_id=other[id_col].astype("int64"), key=normalise(other[text_col]))
        pairs = other.merge(onet, on="task_id", suffixes=("_a", "_b"))
        pairs = pairs[pairs["key_a"] != pairs["key_b"]]
        for r in pairs.itertuples(index=False):
            rows.append({"label": 1, "source": list_id, "task_id_a": r.task_id, "task_id_b": r.task_id,
                         "statement_a": getattr(r, f"{text_col}_a"), "statement_b": getattr(r, f"{text_col}_b"),
                         "key": r.key_a + "|" + r.key_b})
    for code, tasks in onet.sort_values("task_id").groupby("O*NET-SOC Code", sort=True):
        if len(tasks) < 2:
            continue
        first = tasks.iloc[0]
        others = tasks.iloc[1:]
        others = others[others["key"] != first["key"]]
        if others.empty:
            continue
        sims = np.array([scoring.text_similarity(first["Task"], t) for t in others["Task"]])
        best = others.iloc[int(np.argmax(sims))]
        rows.append({"label": 0, "source": "onet_task_statements same occupation", "task_id_a": first["task_id"],
                     "task_id_b": best["task_id"], "statement_a": first["Task"], "statement_b": best["Task"],
                     "key": first["key"] + "|" + best["key"]})
    out = pd.DataFrame(rows).drop_duplicates("key").drop(columns="key")
    return out.sort_values(["label", "source", "task_id_a", "task_id_b"], ascending=[False, True, True, True],
                           ignore_index=True)


if __name__ == "__main__":
    sources = Path(os.environ.get("TASKSHIFT_SOURCES", HERE.parents[1] / ".." / "shared" / "sources"))
    frame = sample(RawReader(sources))
    frame.to_csv(HERE / "task_match_sample.csv", index=False)
    print(f"{len(frame)} pairs: {int(frame['label'].sum())} positive, {int((frame['label'] == 0).sum())} negative")
