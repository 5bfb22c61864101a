"""Anthropic Economic Index: observed exposure by SOC 2018 and task usage matched to O*NET 29.3."""
from __future__ import annotations

import csv
import os
from pathlib import Path

import pandas as pd
import pytest

from taskshift.build.ingest import anthropic
from taskshift.build.sources import RawReader

SOURCES = Path(os.environ.get("TASKSHIFT_SOURCES", Path(__file__).resolve().parents[1] / ".." / "shared" / "sources"))
FOLDER = SOURCES / "exposure" / "anthropic_economic_index"

# Measured on the pinned files: 3,080 of 3,360 statements (91.7%) and 86.8% of task-mapped
# conversations match; by normalised text alone 88.75% and 84.8%.
MATCH_FLOOR = {
    "anthropic.statement_match_rate": 0.915,
    "anthropic.statement_match_rate_text": 0.885,
    "anthropic.share_match_rate": 0.865,
    "anthropic.share_match_rate_text": 0.845,
}


@pytest.fixture(scope="module")
def out():
    return anthropic.load(RawReader(SOURCES))


def test_normalise():
    got = anthropic.normalise(pd.Series(["Advise students on academic and vocational curricula, and on career issues.",
                                         "advise students on academic and vocational curricula and on career issues",
                                         "Use  GIS (geographic   information systems)!"]))
    assert got[0] == got[1] == "advisestudentsonacademicandvocationalcurriculaandoncareerissues"
    assert got[2] == "usegisgeographicinformationsystems"


def test_observed_exposure_as_published(out):
    ns = out["native_scores"]
    with open(FOLDER / "job_exposure.csv", newline="", encoding="utf-8") as f:
        published = {r["occ_code"]: float(r["observed_exposure"]) for r in csv.DictReader(f)}
    assert len(ns) == len(published) == 756
    assert set(ns["code_system"]) == {"soc2018"}
    assert set(ns["measure_id"]) == {"anthropic2026_observed_exposure"}
    assert dict(zip(ns["native_code"], ns["score"])) == published
    assert dict(zip(ns["native_code"], ns["score"]))["11-1021"] == 0.1378
    assert ns["coverage"].isna().all()


def test_match_rate_floor(out):
    meta = out["metadata"].set_index("key")["value"]
    for key, floor in MATCH_FLOOR.items():
        assert meta[key] >= floor, (key, meta[key])
    assert meta["anthropic.statements"] == 3360  # 3,365 rows - 'none' - 4 comma-only duplicates


def test_task_usage(out):
    usage = out["task_usage"]
    onet = pd.read_csv(SOURCES / "onet" / "Task Statements.txt", sep="\t", dtype=str, usecols=["Task ID", "Task"])
    assert usage["task_id"].is_unique
    assert set(usage["task_id"]) <= set(onet["Task ID"].astype(int))
    assert set(usage["match"]) == {"text", "task_id"}
    assert usage["share"].between(0, 1).all()
    assert (usage["share_split"] * usage["n_tasks"] - usage["share"]).abs().max() < 1e-15
    # the statement split across occupations sums back to the statement's share
    per_statement = usage.groupby("task_name").agg(split=("share_split", "sum"), share=("share", "first"))
    assert (per_statement["split"] - per_statement["share"]).abs().max() < 1e-12
    # two comma variants of one statement are added together
    variants = usage[usage["task_name"].str.startswith("advise students on academic and vocational curricula")]
    assert len(variants) > 0
    expected = (0.024239037997773293 + 0.009038285355101906) / 100
    assert variants["share"].iloc[0] == pytest.approx(expected, rel=1e-12)
    # a text match is really the same statement
    text = usage[usage["match"] == "text"].merge(onet.assign(task_id=onet["Task ID"].astype(int)), on="task_id")
    assert (anthropic.normalise(text["task_name"]) == anthropic.normalise(text["Task"])).all()
