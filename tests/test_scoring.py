"""taskshift.scoring: the pure scoring math."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from taskshift import scoring


def test_eloundou_task_values():
    labels = pd.Series(["E0", "E1", "E2", None])
    assert scoring.eloundou_task_value(labels, "alpha").tolist()[:3] == [0.0, 1.0, 0.0]
    assert scoring.eloundou_task_value(labels, "beta").tolist()[:3] == [0.0, 1.0, 0.5]
    assert scoring.eloundou_task_value(labels, "gamma").tolist()[:3] == [0.0, 1.0, 1.0]
    assert math.isnan(scoring.eloundou_task_value(labels, "beta").iloc[3])
    with pytest.raises(ValueError):
        scoring.eloundou_task_value(pd.Series(["E3"]), "alpha")
    with pytest.raises(ValueError):
        scoring.eloundou_task_value(labels, "delta")


def test_automation_values():
    got = scoring.automation_value(pd.Series(["T0", "T1", "T2", "T3", "T4"])).tolist()
    assert got == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_weighted_mean_and_coverage():
    out = scoring.weighted_mean(
        values=pd.Series([1.0, 0.0, 0.5, np.nan, np.nan]),
        weights=pd.Series([2, 1, 1, 2, 1]),
        groups=pd.Series(["a", "a", "a", "a", "b"]),
    )
    assert out.loc["a", "score"] == pytest.approx((2 * 1 + 1 * 0 + 1 * 0.5) / 4)
    assert out.loc["a", "coverage"] == pytest.approx(4 / 6)
    assert math.isnan(out.loc["b", "score"]) and out.loc["b", "coverage"] == 0
    with pytest.raises(ValueError):
        scoring.weighted_mean(pd.Series([1.0]), pd.Series([-1.0]), pd.Series(["a"]))


def test_microsoft_iwa_value_threshold():
    got = scoring.microsoft_iwa_value(
        share=pd.Series([0.001, 0.0005, 0.0001, 0.01]),
        completion=pd.Series([0.8, 0.9, np.nan, 0.5]),
        impact_scope=pd.Series([0.5, 0.5, np.nan, 0.2]),
    )
    assert got.tolist() == pytest.approx([0.4, 0.0, 0.0, 0.1])  # share must EXCEED 0.0005


def test_microsoft_applicability_small_example():
    values = pd.DataFrame({"user": [0.4, 0.0, 0.6], "ai": [0.2, 0.1, 0.0]}, index=["i1", "i2", "i3"])
    links = pd.DataFrame({"soc": ["s", "s", "s", "t"], "iwa": ["i1", "i2", "i3", "i2"], "weight": [1.0, 3.0, 0.0, 5.0]})
    out = scoring.microsoft_applicability(links, values)
    assert out.loc["s", "user"] == pytest.approx((1 * 0.4 + 3 * 0.0) / 4)
    assert out.loc["s", "ai"] == pytest.approx((1 * 0.2 + 3 * 0.1) / 4)
    assert out.loc["s", "applicability"] == pytest.approx((0.1 + 0.125) / 2)
    assert out.loc["t", "applicability"] == pytest.approx(0.05)
    with pytest.raises(ValueError):
        scoring.microsoft_applicability(links.assign(iwa="zz"), values)


def test_percentile_rank_bounds_and_ties():
    got = scoring.percentile_rank(pd.Series([10.0, 20.0, 20.0, 30.0, np.nan]))
    assert got.iloc[0] == 0.0 and got.iloc[3] == 100.0
    assert got.iloc[1] == got.iloc[2] == pytest.approx(50.0)  # ranks 2 and 3 averaged: 2.5 -> 50
    assert math.isnan(got.iloc[4])
    rng = np.random.default_rng(0)
    tied = scoring.percentile_rank(pd.Series(rng.integers(0, 20, 1000).astype(float)))
    assert tied.between(0, 100).all()  # tied extremes share an average rank, so 0/100 need not occur
    distinct = scoring.percentile_rank(pd.Series(rng.permutation(1000).astype(float)))
    assert distinct.min() == 0.0 and distinct.max() == 100.0


def test_percentile_rank_within_groups():
    values = pd.Series([1.0, 2.0, 3.0, 5.0, 5.0, 7.0, np.nan])
    groups = pd.Series(["a", "a", "a", "b", "b", "c", "c"])
    got = scoring.percentile_rank(values, groups)
    assert got.iloc[:3].tolist() == [0.0, 50.0, 100.0]
    assert got.iloc[3] == got.iloc[4] == 50.0  # all tied
    assert got.iloc[5] == 50.0  # a group of one
    assert math.isnan(got.iloc[6])
    ungrouped = scoring.percentile_rank(values.iloc[:3])
    assert ungrouped.tolist() == got.iloc[:3].tolist()


def test_spearman():
    x = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0])
    assert scoring.spearman(x, x ** 3) == pytest.approx(1.0)
    assert scoring.spearman(x, -x) == pytest.approx(-1.0)
    # with ties and a missing pair: ranks x [1,2,3,4], y [1.5,1.5,3,4] -> Pearson of ranks
    got = scoring.spearman(pd.Series([1.0, 2.0, 3.0, 4.0, np.nan]), pd.Series([7.0, 7.0, 8.0, 9.0, 1.0]))
    rx, ry = np.array([1, 2, 3, 4.0]), np.array([1.5, 1.5, 3, 4])
    assert got == pytest.approx(np.corrcoef(rx, ry)[0, 1])
    assert math.isnan(scoring.spearman(pd.Series([1.0]), pd.Series([2.0])))
