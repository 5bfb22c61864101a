"""Eloundou et al. (GPTs are GPTs): task labels and role scores recomputed with the paper's weights."""
from __future__ import annotations

import csv
import os
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest

from taskshift.build.ingest import eloundou
from taskshift.build.sources import RawReader

SOURCES = Path(os.environ.get("TASKSHIFT_SOURCES", Path(__file__).resolve().parents[1] / ".." / "shared" / "sources"))
FOLDER = SOURCES / "exposure" / "eloundou_gpts_are_gpts"

# Data Entry Keyers (43-9021.00), copied by hand from full_labelset.tsv / full_onet_data.tsv:
# (Task ID, Task Type, coreweight, human_exposure_agg, gpt4_exposure, gpt4_automation)
DATA_ENTRY_KEYERS = [
    (11405, "Core", 2, "E1", "E1", "T3"),
    (11402, "Core", 2, "E2", "E1", "T3"),
    (11403, "Core", 2, "E2", "E1", "T3"),
    (11404, "Core", 2, "E0", "E1", "T3"),
    (11407, "Core", 2, "E2", "E1", "T1"),
    (11401, "Supplemental", 1, "E2", "E2", "T4"),
    (11406, "Supplemental", 1, "E2", "E1", "T4"),
    (11408, "Supplemental", 1, "E0", "E0", "T0"),
    (11409, "Supplemental", 1, "E1", "E1", "T3"),
]


@pytest.fixture(scope="module")
def out():
    return eloundou.load(RawReader(SOURCES))


@pytest.fixture(scope="module")
def plain_rows():
    """The two raw files joined by (O*NET-SOC Code, Task ID) with the csv module only."""
    weights = {}
    with open(FOLDER / "full_onet_data.tsv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            weights[(r["O*NET-SOC Code"], r["Task ID"])] = int(r["coreweight"])
    rows = []
    with open(FOLDER / "full_labelset.tsv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            rows.append({**r, "w": weights[(r["O*NET-SOC Code"], r["Task ID"])]})
    return rows


def score(out, measure, code):
    ns = out["native_scores"]
    hit = ns[(ns["measure_id"] == measure) & (ns["native_code"] == code)]
    assert len(hit) == 1
    return float(hit["score"].iloc[0])


def by_hand(rows):
    """alpha, beta, gamma of one occupation from (weight, label) pairs, as exact fractions."""
    total = sum(w for w, _ in rows)
    e1 = sum(w for w, label in rows if label == "E1")
    e2 = sum(w for w, label in rows if label == "E2")
    return {"alpha": Fraction(e1, total), "beta": Fraction(2 * e1 + e2, 2 * total), "gamma": Fraction(e1 + e2, total)}


def test_data_entry_keyers_by_hand(out, plain_rows):
    in_file = {(int(float(r["Task ID"])), r["Task Type"], r["w"], r["human_exposure_agg"], r["gpt4_exposure"],
                r["gpt4_automation"]) for r in plain_rows if r["O*NET-SOC Code"] == "43-9021.00"}
    assert in_file == set(DATA_ENTRY_KEYERS)
    gpt4 = by_hand([(w, g) for _, _, w, _, g, _ in DATA_ENTRY_KEYERS])
    human = by_hand([(w, h) for _, _, w, h, _, _ in DATA_ENTRY_KEYERS])
    # Core tasks count twice: total weight 5*2 + 4*1 = 14; GPT-4 E1 weight 12, E2 weight 1.
    assert gpt4 == {"alpha": Fraction(6, 7), "beta": Fraction(25, 28), "gamma": Fraction(13, 14)}
    assert human == {"alpha": Fraction(3, 14), "beta": Fraction(1, 2), "gamma": Fraction(11, 14)}
    for agg in ("alpha", "beta", "gamma"):
        assert score(out, f"eloundou2023_gpt4_{agg}", "43-9021.00") == pytest.approx(float(gpt4[agg]), abs=1e-12)
        assert score(out, f"eloundou2023_human_{agg}", "43-9021.00") == pytest.approx(float(human[agg]), abs=1e-12)
    automation = {"T0": 0, "T1": Fraction(1, 4), "T2": Fraction(1, 2), "T3": Fraction(3, 4), "T4": 1}
    expected = sum(w * automation[t] for _, _, w, _, _, t in DATA_ENTRY_KEYERS) / Fraction(14)
    assert score(out, "eloundou2023_gpt4_automation", "43-9021.00") == pytest.approx(float(expected), abs=1e-12)


@pytest.mark.parametrize("code, gpt4, human", [
    # Software Developers: 19 untyped tasks, weight 1 each.
    ("15-1252.00", {"alpha": Fraction(15, 19), "beta": Fraction(33, 38), "gamma": Fraction(18, 19)},
     {"alpha": Fraction(1, 19), "beta": Fraction(17, 38), "gamma": Fraction(16, 19)}),
    # Construction Laborers: 32 tasks, total weight 40.
    ("47-2061.00", {"alpha": Fraction(0), "beta": Fraction(1, 20), "gamma": Fraction(1, 10)},
     {"alpha": Fraction(0), "beta": Fraction(1, 40), "gamma": Fraction(1, 20)}),
])
def test_roles_by_hand(out, plain_rows, code, gpt4, human):
    rows = [r for r in plain_rows if r["O*NET-SOC Code"] == code]
    assert by_hand([(r["w"], r["gpt4_exposure"]) for r in rows]) == gpt4
    assert by_hand([(r["w"], r["human_exposure_agg"]) for r in rows]) == human
    for agg in ("alpha", "beta", "gamma"):
        assert score(out, f"eloundou2023_gpt4_{agg}", code) == pytest.approx(float(gpt4[agg]), abs=1e-12)
        assert score(out, f"eloundou2023_human_{agg}", code) == pytest.approx(float(human[agg]), abs=1e-12)


def test_every_role_matches_plain_python(out, plain_rows):
    """All 923 x 6 scores against a plain-Python recount (no pandas, no scoring.py)."""
    sums: dict = {}
    for r in plain_rows:
        s = sums.setdefault(r["O*NET-SOC Code"], {"w": 0, "gpt4_exposure": [0, 0], "human_exposure_agg": [0, 0]})
        s["w"] += r["w"]
        for col in ("gpt4_exposure", "human_exposure_agg"):
            if r[col] == "E1":
                s[col][0] += r["w"]
            elif r[col] == "E2":
                s[col][1] += r["w"]
    ns = out["native_scores"].set_index(["measure_id", "native_code"])["score"]
    assert len(sums) == 923
    worst = 0.0
    for code, s in sums.items():
        for rater, col in (("gpt4", "gpt4_exposure"), ("human", "human_exposure_agg")):
            e1, e2 = s[col]
            for agg, value in (("alpha", e1 / s["w"]), ("beta", (e1 + 0.5 * e2) / s["w"]), ("gamma", (e1 + e2) / s["w"])):
                worst = max(worst, abs(ns[(f"eloundou2023_{rater}_{agg}", code)] - value))
    assert worst <= 1e-12


def test_native_scores_shape(out):
    ns = out["native_scores"]
    assert set(ns["code_system"]) == {"onetsoc2019"}
    counts = ns.groupby("measure_id")["native_code"].nunique()
    assert set(counts.index) == set(eloundou.ROLE_MEASURES)
    assert (counts == 923).all()
    assert ns["score"].between(0, 1).all()
    assert (ns["coverage"] == 1.0).all()  # every task of the paper has both exposure labels
    assert not ns.duplicated(["measure_id", "native_code"]).any()


def test_task_exposure_keeps_only_spine_tasks(out):
    # the spine is O*NET 30.2 (was 29.3: 18,751 kept, 514 dropped; 30.2 retired 12 more of the paper's ids)
    te = out["task_exposure"]
    onet = pd.read_csv(SOURCES / "onet_30_2" / "Task Statements.txt", sep="\t", dtype=str, usecols=["Task ID"])
    onet_ids = set(onet["Task ID"].astype(int))
    assert set(te["task_id"]) <= onet_ids
    counts = te["measure_id"].value_counts()
    for rater in ("gpt4", "human"):
        for agg in ("alpha", "beta", "gamma"):
            assert counts[f"eloundou2023_{rater}_{agg}"] == 18739  # of the paper's 19,265 tasks
    assert counts["eloundou2023_gpt4_automation"] == 18739
    assert counts["eloundou2023_human_automation"] == 98  # 100 labelled, 2 retired from O*NET
    assert not te.duplicated(["task_id", "measure_id"]).any()
    meta = out["metadata"].set_index("key")["value"]
    assert meta["eloundou.tasks_kept_spine"] == 18739
    assert meta["eloundou.tasks_dropped_spine"] == 526


def test_task_values_and_labels(out):
    te = out["task_exposure"].set_index(["task_id", "measure_id"])
    # Task 11402 (Data Entry Keyers): GPT-4 E1, human E2, automation T3.
    assert te.loc[(11402, "eloundou2023_gpt4_alpha")].tolist() == [1.0, "E1"]
    assert te.loc[(11402, "eloundou2023_human_alpha")].tolist() == [0.0, "E2"]
    assert te.loc[(11402, "eloundou2023_human_beta")].tolist() == [0.5, "E2"]
    assert te.loc[(11402, "eloundou2023_human_gamma")].tolist() == [1.0, "E2"]
    assert te.loc[(11402, "eloundou2023_gpt4_automation")].tolist() == [0.75, "T3"]
    values = out["task_exposure"].groupby("measure_id")["value"].agg(lambda v: set(v))
    assert values["eloundou2023_gpt4_alpha"] <= {0.0, 1.0}
    assert values["eloundou2023_gpt4_beta"] <= {0.0, 0.5, 1.0}
    assert values["eloundou2023_gpt4_automation"] <= {0.0, 0.25, 0.5, 0.75, 1.0}
