"""Propose the candidates of dataset/curated/task_match_reviews.csv (then decided by hand).

    .venv/bin/python dataset/curated/propose_task_match_reviews.py --sources ../shared/sources > /tmp/proposals.csv

For every Anthropic Economic Index statement (task_pct_v2) that the automatic steps of the task matcher
leave unmatched, and whose old occupation (in a task list with Task IDs) has successors in O*NET 30.2:
the three successor tasks most similar to it, ranked by wordllama cosine + Dice similarity of content
words. Statements whose old occupation has no successor with tasks in 30.2 get no candidate. The output
has the CSV's columns with `decision` = different_work and an empty `note`: a reviewer reads each
candidate and sets `same_work` (the same activity on the same object) with a note saying why. Rows
already in the curated file keep their decision and note.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from taskshift import embedding
from taskshift.build import curated
from taskshift.build.derive import task_match
from taskshift.build.sources import RawReader, load_manifest
from taskshift.build.ingest import anthropic, crosswalks, eloundou, onet, onet_history

SOURCE = ("taskshift review of O*NET task statements: a retired task of the old occupation against the three most "
          "similar O*NET 30.2 tasks of its successors (wordllama cosine + Dice), {date}")


def frames(sources: Path) -> dict[str, pd.DataFrame]:
    raw = RawReader(sources, load_manifest())
    out: dict[str, pd.DataFrame] = {}
    for module in (onet, crosswalks, eloundou, anthropic, onet_history):
        for key, frame in module.load(raw).items():
            out[key] = pd.concat([out[key], frame], ignore_index=True) if key in out else frame
    return out


def propose(f: dict[str, pd.DataFrame], date: str) -> pd.DataFrame:
    matcher = task_match.from_frames(f)
    enc = embedding.load()
    spine = enc.encode(list(matcher._statements))
    pct = f["anthropic_task_pct"]
    texts = pct.loc[pct["task_name"] != "none", "task_name"].drop_duplicates()
    rows = []
    for text in texts:
        if matcher.match_one(text, reviewed=False)[0]["method"] != "none":
            continue
        key = task_match.normalise([text]).iloc[0]
        succ: dict[str, tuple[str, int]] = {}
        for o in sorted(matcher._history.get(key, []), key=lambda o: (o.list_id, o.occupation_code, o.task_id)):
            for role in matcher._successor_roles(o.code_system, o.occupation_code):
                if role in matcher._role_rows:
                    succ.setdefault(role, (o.occupation_code, o.task_id))
        if not succ:
            continue
        cos = spine @ enc.encode([text])[0]
        dice = np.nan_to_num(matcher.similarity(text))
        cand = np.concatenate([matcher._role_rows[r] for r in sorted(succ)])
        for rank, k in enumerate(cand[np.argsort(-(cos[cand] + dice[cand]), kind="stable")][:3], start=1):
            old_role, old_id = succ[matcher._roles[k]]
            rows.append({"statement": text, "old_role_code": old_role, "old_task_id": old_id,
                         "task_id": int(matcher._ids[k]), "candidate_rank": rank, "decision": "different_work",
                         "note": "", "source": SOURCE.format(date=date)})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, required=True)
    parser.add_argument("--date", default=pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d"))
    args = parser.parse_args()
    out = propose(frames(args.sources), args.date)
    try:
        done = curated.read(task_match.REVIEWS).set_index(["statement", "task_id"])
    except FileNotFoundError:
        done = None
    if done is not None:  # keep what was decided
        idx = pd.MultiIndex.from_frame(out[["statement", "task_id"]])
        known = idx.isin(done.index)
        for col in ("decision", "note", "source"):
            out.loc[known, col] = done.loc[idx[known], col].fillna("").to_numpy()
    out.sort_values(["statement", "candidate_rank"]).to_csv(sys.stdout, index=False)


if __name__ == "__main__":
    main()
