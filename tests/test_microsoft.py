"""Microsoft Working with AI: IWA metrics, Equation (1) applicability, task carry-down."""
from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from taskshift.build.ingest import microsoft
from taskshift.build.sources import RawReader

SOURCES = Path(os.environ.get("TASKSHIFT_SOURCES", Path(__file__).resolve().parents[1] / ".." / "shared" / "sources"))
FOLDER = SOURCES / "exposure" / "microsoft_working_with_ai"


@pytest.fixture(scope="module")
def raw():
    return RawReader(SOURCES)


@pytest.fixture(scope="module")
def out(raw):
    return microsoft.load(raw)


def read_csv(name):
    with open(FOLDER / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def equation_1_by_hand(soc):
    """The paper's Equation (1) for one SOC code, plain Python over the raw CSVs."""
    iwa = {r["IWA"]: r for r in read_csv("iwa_metrics.csv")}
    linked = [r["IWA"] for r in read_csv("soc_to_iwas.csv") if r["SOC Code"] == soc]
    weights = next(r for r in read_csv("soc_iwa_weights.csv") if r["SOC Code"] == soc)
    total = sum(float(weights[i]) for i in linked)
    sides = {}
    for side in ("user", "ai"):
        acc = 0.0
        for i in linked:
            if float(iwa[i][f"share_{side}"]) > 0.0005:
                acc += float(weights[i]) / total * float(iwa[i][f"completion_{side}"]) * float(iwa[i][f"impact_scope_{side}"])
        sides[side] = acc
    return sides


def score(out, measure, code):
    ns = out["native_scores"]
    hit = ns[(ns["measure_id"] == measure) & (ns["native_code"] == code)]
    assert len(hit) == 1
    return float(hit["score"].iloc[0])


@pytest.mark.parametrize("soc", ["15-1252", "43-4051", "47-2061"])
def test_equation_1_by_hand(out, soc):
    sides = equation_1_by_hand(soc)
    assert score(out, "microsoft2025_applicability_user", soc) == pytest.approx(sides["user"], abs=1e-12)
    assert score(out, "microsoft2025_applicability_ai", soc) == pytest.approx(sides["ai"], abs=1e-12)
    both = (sides["user"] + sides["ai"]) / 2
    assert score(out, "microsoft2025_applicability", soc) == pytest.approx(both, abs=1e-12)


def test_native_scores_shape(out):
    ns = out["native_scores"]
    assert set(ns["code_system"]) == {"oews"}
    counts = ns.groupby("measure_id")["native_code"].nunique()
    assert counts.to_dict() == {m: 785 for m in microsoft.MEASURES.values()}
    assert ns["score"].between(0, 1).all()
    assert ns["native_code"].str.fullmatch(r"\d{2}-\d{4}").all()
    assert not ns["native_code"].str.startswith("55-").any()  # military omitted upstream


def test_activity_exposure(out):
    act = out["activity_exposure"]
    assert len(act) == 332 and act["iwa_id"].is_unique
    published = {r["IWA"]: r for r in read_csv("iwa_metrics.csv")}
    for side in ("user", "ai"):
        # the published convenience column is exactly the thresholded product
        for row in act.itertuples():
            assert getattr(row, f"applicability_{side}") == pytest.approx(
                float(published[row.iwa_id][f"completion_x_scope_x_coverage_{side}"]), abs=1e-12)
        below = act[f"share_{side}"] <= 0.0005
        assert (act.loc[below, f"applicability_{side}"] == 0).all()
    assert (act["applicability"] == (act["applicability_user"] + act["applicability_ai"]) / 2).all()


def test_task_level_is_mean_over_the_tasks_iwas(raw, out):
    te = out["task_exposure"]
    act = out["activity_exposure"].set_index("iwa_id")
    t2d = raw.read("onet_30_2_tasks_to_dwas")
    task_id = int(t2d["Task ID"].iloc[0])
    iwas = sorted({d.rsplit(".", 1)[0] for d in t2d.loc[t2d["Task ID"] == task_id, "DWA ID"]})
    assert iwas
    row = te[(te["task_id"] == task_id)].set_index("measure_id")["value"]
    assert row["microsoft2025_applicability"] == pytest.approx(
        sum(act.loc[i, "applicability"] for i in iwas) / len(iwas), abs=1e-12)
    assert row["microsoft2025_applicability_user"] == pytest.approx(
        sum(act.loc[i, "applicability_user"] for i in iwas) / len(iwas), abs=1e-12)
    assert te["task_id"].nunique() == t2d["Task ID"].nunique()
    assert not te.duplicated(["task_id", "measure_id"]).any()
    assert te["value"].between(0, 1).all()
