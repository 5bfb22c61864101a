"""Scoring math shared by the build, the library and the API: pure functions, no I/O.

Everything is vectorised over pandas objects; missing inputs propagate as NaN rather than as 0,
so a caller can always tell "scored 0" from "not scored".

- `eloundou_task_value`: Eloundou et al. exposure label E0/E1/E2 -> alpha / beta / gamma task value.
- `automation_value`: Eloundou et al. automation rubric T0..T4 -> 0, .25, .5, .75, 1.
- `weighted_mean`: weighted mean of task (or activity) values per group, with the share of weight
  that had a value (coverage). This is how a role score is built from task values.
- `microsoft_iwa_value`, `microsoft_applicability`: Tomlinson et al. (2025) Equation (1).
- `percentile_rank`: 0-100 percentile rank, ties averaged, optionally within groups (measures).
- `spearman`: Spearman rank correlation (average ranks for ties).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

# --- Eloundou et al. (2023/2024), GPTs are GPTs ------------------------------------------------
#: Task value of each exposure label: alpha = E1, beta = E1 + 0.5 * E2, gamma = E1 + E2.
ELOUNDOU_VALUES: dict[str, dict[str, float]] = {
    "alpha": {"E0": 0.0, "E1": 1.0, "E2": 0.0},
    "beta": {"E0": 0.0, "E1": 1.0, "E2": 0.5},
    "gamma": {"E0": 0.0, "E1": 1.0, "E2": 1.0},
}
#: Automation rubric T0 (none) .. T4 (full automation) mapped to 0..1.
AUTOMATION_VALUES: dict[str, float] = {"T0": 0.0, "T1": 0.25, "T2": 0.5, "T3": 0.75, "T4": 1.0}


def _map_labels(labels: pd.Series, table: dict[str, float], what: str) -> pd.Series:
    labels = pd.Series(labels)
    present = labels.notna()
    unknown = present & ~labels.isin(list(table))
    if unknown.any():
        raise ValueError(f"unknown {what} labels: {sorted(map(str, labels[unknown].unique()))[:5]}")
    return labels.map(table).astype("float64")


def eloundou_task_value(labels: pd.Series, aggregate: str) -> pd.Series:
    """Task value of E0/E1/E2 labels for `aggregate` in {"alpha", "beta", "gamma"}; NaN where no label."""
    if aggregate not in ELOUNDOU_VALUES:
        raise ValueError(f"aggregate must be one of {sorted(ELOUNDOU_VALUES)}, not {aggregate!r}")
    return _map_labels(labels, ELOUNDOU_VALUES[aggregate], "exposure")


def automation_value(labels: pd.Series) -> pd.Series:
    """T0..T4 automation labels -> 0, 0.25, 0.5, 0.75, 1; NaN where no label."""
    return _map_labels(labels, AUTOMATION_VALUES, "automation")


# --- weighted means ------------------------------------------------------------------------------
def weighted_mean(values: pd.Series, weights: pd.Series, groups: pd.Series | list) -> pd.DataFrame:
    """Weighted mean of `values` per group, over the rows that have a value.

    Returns a frame indexed by group with `score` = sum(w * v) / sum(w) over rows with a value
    (NaN if none has one) and `coverage` = that weight / all the group's weight (NaN if the group's
    weight is 0). `values`, `weights` and `groups` are aligned row by row (same length).
    """
    v = np.asarray(values, dtype="float64")
    w = np.asarray(weights, dtype="float64")
    if v.shape != w.shape:
        raise ValueError("values and weights differ in length")
    if np.isnan(w).any() or (w < 0).any():
        raise ValueError("weights must be finite and >= 0")
    has = ~np.isnan(v)
    frame = pd.DataFrame({
        "g": np.asarray(groups),
        "wv": np.where(has, w * np.where(has, v, 0.0), 0.0),
        "w_has": np.where(has, w, 0.0),
        "w": w,
    })
    sums = frame.groupby("g", sort=True)[["wv", "w_has", "w"]].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        score = (sums["wv"] / sums["w_has"]).where(sums["w_has"] > 0)
        coverage = (sums["w_has"] / sums["w"]).where(sums["w"] > 0)
    out = pd.DataFrame({"score": score, "coverage": coverage})
    out.index.name = None
    return out


# --- Tomlinson et al. (2025), Working with AI, Equation (1) -------------------------------------
#: An IWA counts for a side only where that side's activity share exceeds this.
MICROSOFT_SHARE_THRESHOLD = 0.0005


def microsoft_iwa_value(share: pd.Series, completion: pd.Series, impact_scope: pd.Series,
                        threshold: float = MICROSOFT_SHARE_THRESHOLD) -> pd.Series:
    """One side's IWA value in Equation (1): completion x impact scope x 1[share > threshold].

    0 where the share is at or below the threshold (whatever completion and scope are, they may be
    missing there); NaN only if an IWA above the threshold lacks completion or scope.
    """
    share = pd.Series(share, dtype="float64")
    product = pd.Series(completion, dtype="float64").to_numpy() * pd.Series(impact_scope, dtype="float64").to_numpy()
    return pd.Series(np.where(share.to_numpy() > threshold, product, 0.0), index=share.index)


def microsoft_applicability(links: pd.DataFrame, iwa_values: pd.DataFrame) -> pd.DataFrame:
    """Equation (1): SOC-level applicability from IWA values and SOC-IWA weights.

    `links`: columns `soc`, `iwa`, `weight` (one row per SOC-IWA link; the weight normalisation is
    over the SOC's linked IWAs). `iwa_values`: indexed by IWA id, columns `user` and `ai` (each side's
    `microsoft_iwa_value`). Returns a frame indexed by SOC with `user`, `ai` (weighted means of the
    side values) and `applicability` = (user + ai) / 2.
    """
    missing = ~links["iwa"].isin(iwa_values.index)
    if missing.any():
        raise ValueError(f"links name IWAs without values: {sorted(links.loc[missing, 'iwa'].unique())[:5]}")
    out = {}
    for side in ("user", "ai"):
        values = links["iwa"].map(iwa_values[side])
        out[side] = weighted_mean(values, links["weight"], links["soc"])["score"]
    frame = pd.DataFrame(out)
    frame["applicability"] = (frame["user"] + frame["ai"]) / 2
    return frame


# --- ranks -------------------------------------------------------------------------------------
def percentile_rank(values: pd.Series, groups: pd.Series | None = None) -> pd.Series:
    """Percentile rank 0..100 of each value within its group (or overall), ties get their average rank.

    pct = 100 * (average rank - 1) / (n - 1), with n the number of non-missing values in the group:
    the lowest value is 0, the highest 100, equal values share one number. A group with one value
    gets 50. Missing values stay NaN and are not counted.
    """
    values = pd.Series(values, dtype="float64")

    def one(v: pd.Series) -> pd.Series:
        n = v.notna().sum()
        if n <= 1:
            return pd.Series(np.where(v.notna(), 50.0, np.nan), index=v.index)
        return 100.0 * (v.rank(method="average") - 1.0) / (n - 1.0)

    if groups is None:
        return one(values)
    groups = pd.Series(np.asarray(groups), index=values.index)
    ranks = values.groupby(groups, sort=False).rank(method="average")
    n = values.notna().groupby(groups, sort=False).transform("sum").astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = 100.0 * (ranks - 1.0) / (n - 1.0)
    return pct.where(n > 1, np.where(values.notna(), 50.0, np.nan)).where(values.notna())


def spearman(x: pd.Series, y: pd.Series) -> float:
    """Spearman rank correlation of two aligned series over pairs where both are present (NaN if < 2)."""
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    both = ~np.isnan(x) & ~np.isnan(y)
    if both.sum() < 2:
        return float("nan")
    rx = pd.Series(x[both]).rank(method="average").to_numpy(dtype="float64", copy=True)
    ry = pd.Series(y[both]).rank(method="average").to_numpy(dtype="float64", copy=True)
    rx = rx - rx.mean()
    ry = ry - ry.mean()
    denom = np.sqrt((rx * rx).sum() * (ry * ry).sum())
    return float((rx * ry).sum() / denom) if denom > 0 else float("nan")
