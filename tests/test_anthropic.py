"""Anthropic Economic Index: observed exposure by SOC 2018, and task usage as published (matching: test_task_match)."""
from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from taskshift.build.derive import task_usage
from taskshift.build.ingest import anthropic
from taskshift.build.sources import RawReader

SOURCES = Path(os.environ.get("TASKSHIFT_SOURCES", Path(__file__).resolve().parents[1] / ".." / "shared" / "sources"))
FOLDER = SOURCES / "exposure" / "anthropic_economic_index"


@pytest.fixture(scope="module")
def out():
    return anthropic.load(RawReader(SOURCES))


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


def test_task_pct_as_published(out):
    pct = out["anthropic_task_pct"]
    assert len(pct) == 3365 and pct["share"].sum() == pytest.approx(1.0, abs=1e-9)
    statements, none_share = task_usage.statements(pct)
    assert len(statements) == 3360  # 3,365 rows - 'none' - 4 comma-only duplicates
    assert none_share == pytest.approx(0.017816720006244634, rel=1e-12)
    # two comma variants of one statement are added together
    variants = statements[statements["task_name"].str.startswith("advise students on academic and vocational curricula")
                          & (statements["variants"] == 2)]
    assert len(variants) == 1 and variants["task_name"].iloc[0].endswith("curricula and on career issues.")
    assert variants["share"].iloc[0] == pytest.approx((0.024239037997773293 + 0.009038285355101906) / 100, rel=1e-12)


def test_task_history(out):
    hist = out["task_history"]
    assert len(hist) == 19530 and set(hist["code_system"]) == {"onetsoc2010"}
    row = hist[hist["task_id"] == 3445].iloc[0]
    assert row["occupation_code"] == "15-1133.00" and row["statement"].startswith("Modify existing software")
