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
- `group_mean`, `quantile_threshold`, `employment_weighted`: role scores -> OEWS codes -> sectors
  (employment-weighted score, coverage, exposed employment at or above the 75th percentile).
- `jaccard`, `transition_score`: shared work activities of two roles; how good a pivot is.
- `index_change_pct`: percent change of an index (Indeed job postings: since 1 Feb 2020 = 100, since
  ChatGPT = November 2022).
"""
from __future__ import annotations

import functools
import re
from collections import Counter

import numpy as np
import pandas as pd

#: The headline measure: Eloundou et al. GPT-4 beta (core-weighted share of a role's tasks exposed to
#: LLMs, E1 + 0.5 x E2), native on O*NET-SOC 2019 codes, redistributable (MIT). Transitions,
#: sectors and the workforce ranking use it where one measure must be chosen.
HEADLINE_MEASURE = "eloundou2023_gpt4_beta"


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


def microsoft_soc_metric(links: pd.DataFrame, iwa_metric: pd.Series) -> pd.Series:
    """A SOC-level IWA metric as Tomlinson et al. publish it (soc_metrics.csv: completion, impact scope,
    feedback per side): the `weight`-weighted mean over the SOC's linked IWAs, a missing IWA metric
    counting as 0 (the publisher's convention; their coverage_* is this mean of 1[share > threshold]).
    `links`: soc, iwa, weight; `iwa_metric`: indexed by IWA id. Returns a Series indexed by SOC."""
    values = links["iwa"].map(iwa_metric).astype("float64").fillna(0.0)
    return weighted_mean(values, links["weight"], links["soc"])["score"]


# --- ranks -------------------------------------------------------------------------------------
def percentile_rank(values: pd.Series, groups: pd.Series | None = None) -> pd.Series:
    """Percentile rank 0..100 of each value within its group (or overall), ties get their average rank.

    pct = 100 * (average rank - 1) / (n - 1), with n the number of non-missing values in the group:
    the lowest value is 0, the highest 100, equal values share one number. A group with one value
    gets 50. Missing values stay NaN and are not counted. Values equal up to float noise are one
    value (`snap_ties`, within each group), so float noise never splits a tie.
    """
    index = values.index if isinstance(values, pd.Series) else None
    if groups is None:  # numpy only: called for every pair of measures, where pandas' overhead dominated
        v = snap_ties(values)
        present = ~np.isnan(v)
        n = int(present.sum())
        if n <= 1:
            return pd.Series(np.where(present, 50.0, np.nan), index=index, dtype="float64")
        return pd.Series(100.0 * (average_rank(v) - 1.0) / (n - 1.0), index=index, dtype="float64")
    values = pd.Series(snap_ties(values, groups), index=index, dtype="float64")
    groups = pd.Series(np.asarray(groups), index=values.index)
    ranks = values.groupby(groups, sort=False).rank(method="average")
    n = values.notna().groupby(groups, sort=False).transform("sum").astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = 100.0 * (ranks - 1.0) / (n - 1.0)
    return pct.where(n > 1, np.where(values.notna(), 50.0, np.nan)).where(values.notna())


def average_rank(values: np.ndarray) -> np.ndarray:
    """1-based ranks of float values, ties given their average rank, NaN kept NaN: the numbers of
    pandas' `Series.rank(method="average")` (an average rank is a whole or half number, exact in floats)."""
    v = np.asarray(values, dtype="float64")
    out = np.full(v.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(v))
    if not ok.size:
        return out
    order = ok[np.argsort(v[ok], kind="stable")]
    sv = v[order]
    starts = np.concatenate(([0], np.flatnonzero(sv[1:] != sv[:-1]) + 1))
    ends = np.concatenate((starts[1:], [len(sv)]))
    out[order] = np.repeat((starts + 1 + ends) / 2.0, ends - starts)
    return out


def percentile_spread(exposure: pd.DataFrame) -> pd.DataFrame:
    """Per role, how far its measures disagree: from rows (role_code, measure_id, percentile), one row per
    role with `measures` (rows), `high_percentile`/`high_measure_id` (the measure that ranks the role most
    exposed), `low_percentile`/`low_measure_id` (least exposed) and `spread` = high - low (0..100).
    Ties go to the first measure id in alphabetical order, for both ends. Percentiles (not scores) make
    measures on different scales comparable."""
    rows = exposure[["role_code", "measure_id", "percentile"]].dropna(subset=["percentile"])
    high = rows.sort_values(["role_code", "percentile", "measure_id"], ascending=[True, False, True], kind="stable")
    low = rows.sort_values(["role_code", "percentile", "measure_id"], ascending=[True, True, True], kind="stable")
    high = high.drop_duplicates("role_code").set_index("role_code")
    low = low.drop_duplicates("role_code").set_index("role_code")
    out = pd.DataFrame({
        "measures": rows.groupby("role_code").size(),
        "high_percentile": high["percentile"], "high_measure_id": high["measure_id"],
        "low_percentile": low["percentile"], "low_measure_id": low["measure_id"],
    })
    out["spread"] = out["high_percentile"] - out["low_percentile"]
    return out.rename_axis("role_code").reset_index()


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


# --- aggregation up from roles: OEWS codes and sectors ------------------------------------------
#: "Exposed" on a measure = at or above this quantile of the measure's role scores (a percentile, so
#: the definition is the same on every scale: 0-1 shares, z-scores, probabilities, indices).
EXPOSED_QUANTILE = 0.75


def group_mean(values: pd.Series, groups: pd.Series) -> pd.DataFrame:
    """Equal-weight mean of `values` per group over the rows that have a value.

    Used to put role scores on an OEWS code (the mean over the O*NET roles under the code: O*NET
    publishes no employment below the OEWS code, so its roles count equally). Returns a frame
    indexed by group with `score` (NaN if no row has a value) and `n` (rows with a value).
    """
    v = pd.Series(np.asarray(values, dtype="float64"))
    g = pd.Series(np.asarray(groups))
    grouped = v.groupby(g, sort=True)
    out = pd.DataFrame({"score": grouped.mean(), "n": grouped.count().astype("int64")})
    out.index.name = None
    return out


def quantile_threshold(values: pd.Series, q: float = EXPOSED_QUANTILE,
                       groups: pd.Series | None = None) -> pd.Series | float:
    """The q-quantile of `values` (linear interpolation, missing values ignored), per group if given.

    Linear interpolation puts quantile q at sorted position q * (n - 1), the same positions as
    `percentile_rank`, so a value is at or above the 0.75-quantile exactly when its percentile rank
    is at least 75 (up to tied values, which share an average rank).
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be in [0, 1], not {q!r}")
    values = pd.Series(values, dtype="float64")
    if groups is None:
        present = values.dropna()
        return float(present.quantile(q)) if len(present) else float("nan")
    g = pd.Series(np.asarray(groups), index=values.index)
    return values.groupby(g, sort=True).quantile(q)


def employment_weighted(values: pd.Series, employment: pd.Series, groups: pd.Series,
                        totals: pd.Series | None = None,
                        thresholds: pd.Series | float | None = None) -> pd.DataFrame:
    """Employment-weighted exposure of groups of occupations (e.g. the OEWS codes of a sector).

    Row i is an occupation in group `groups[i]` with `employment[i]` workers and score `values[i]`
    (NaN: no score; an employment of NaN, i.e. not published, counts nowhere). Per group:

    - `score`: sum(emp * value) / sum(emp) over the rows with both a score and an employment;
    - `scored_employment`: that sum(emp);
    - `coverage`: scored_employment / totals[group] (the group's whole employment, which includes
      occupations with no published employment or no score); if `totals` is None, over the
      employment of the group's rows;
    - `exposed_employment` (if `thresholds` is given: one number, or a Series per group):
      sum(emp) over the scored rows whose value is at or above the threshold;
    - `exposed_share`: exposed_employment / scored_employment.
    """
    v = np.asarray(values, dtype="float64")
    e = np.asarray(employment, dtype="float64")
    if v.shape != e.shape:
        raise ValueError("values and employment differ in length")
    if (e[~np.isnan(e)] < 0).any():
        raise ValueError("employment must be >= 0")
    g = np.asarray(groups)
    use = ~np.isnan(v) & ~np.isnan(e)
    frame = pd.DataFrame({
        "g": g,
        "we": np.where(use, e, 0.0),
        "wv": np.where(use, e * np.where(use, v, 0.0), 0.0),
        "e_all": np.where(np.isnan(e), 0.0, e),
    })
    if thresholds is not None:
        t = (pd.Series(g).map(thresholds).to_numpy(dtype="float64") if isinstance(thresholds, pd.Series)
             else np.full(len(v), float(thresholds)))
        frame["wx"] = np.where(use & (np.where(use, v, -np.inf) >= t), e, 0.0)
    sums = frame.groupby("g", sort=True).sum()
    denominator = sums["e_all"] if totals is None else pd.Series(totals, dtype="float64").reindex(sums.index)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame({
            "score": (sums["wv"] / sums["we"]).where(sums["we"] > 0),
            "scored_employment": sums["we"],
            "coverage": (sums["we"] / denominator).where(denominator > 0),
        })
        if thresholds is not None:
            out["exposed_employment"] = sums["wx"]
            out["exposed_share"] = (sums["wx"] / sums["we"]).where(sums["we"] > 0)
    out.index.name = None
    return out


# --- transitions between roles -------------------------------------------------------------------
def jaccard(shared, size_a, size_b):
    """Jaccard similarity |A & B| / |A | B| from the intersection size and the two set sizes.

    Vectorised (numbers or arrays); NaN where both sets are empty.
    """
    shared = np.asarray(shared, dtype="float64")
    union = np.asarray(size_a, dtype="float64") + np.asarray(size_b, dtype="float64") - shared
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(union > 0, shared / np.where(union > 0, union, 1.0), np.nan)
    return float(out) if out.ndim == 0 else out


#: O*NET lists up to 20 related occupations per role, ranked 1 (most related) .. 20.
RELATED_MAX_RANK = 20


def pivot_fit(related_rank, target_overlap):
    """How much of a related role's work a worker already does: 0..1.

    fit = (relatedness + target_overlap) / 2, with relatedness = (21 - O*NET rank) / 20 (1 for rank 1,
    0.05 for rank 20) and target_overlap = the share of the target's detailed work activities (DWAs)
    the source role already does (0 where unknown).
    """
    rank = np.asarray(related_rank, dtype="float64")
    relatedness = np.clip((RELATED_MAX_RANK + 1 - rank) / RELATED_MAX_RANK, 0.0, 1.0)
    overlap = np.nan_to_num(np.clip(np.asarray(target_overlap, dtype="float64"), 0.0, 1.0), nan=0.0)
    out = (relatedness + overlap) / 2.0
    return float(out) if out.ndim == 0 else out


def transition_score(percentile_delta, related_rank, target_overlap):
    """How good a pivot from one role to a related, less exposed role is: 0 (none) .. 1.

    score = fit * (1 + exposure_drop) / 2 where the target is less exposed (else 0), with
    - fit = `pivot_fit` (O*NET relatedness and the share of the target's DWAs the source already does),
    - exposure_drop = -percentile_delta / 100 (the fall in percentile rank on the measure, 0..1).

    Fit comes first: it ranges 0.025..1 while the exposure drop scales the score by 0.5..1 only, so
    a related role whose work the worker already does outranks a loosely related one that is merely
    much less exposed (the old score, drop x fit, put pivots sharing no work activity above O*NET's
    rank-1 related role).
    """
    delta = np.asarray(percentile_delta, dtype="float64")
    drop = np.clip(-delta / 100.0, 0.0, 1.0)
    fit = np.asarray(pivot_fit(related_rank, target_overlap), dtype="float64")
    out = np.where(np.nan_to_num(delta, nan=0.0) < 0, fit * (1.0 + drop) / 2.0, 0.0)
    return float(out) if out.ndim == 0 else out


#: A target is *shrinking* when BLS projects a decline (EP 2024-34 change <= DECLINE_MAX_PCT); see below.
PIVOT_EXCLUSIONS = {
    "target_unscored": "the target has no score on the measure",
    "not_less_exposed": "the target is not less exposed than the source on the measure",
    "target_elimination": "the target's outlook is elimination",
    "target_shrinks_faster": "BLS projects the target to shrink faster than the source",
}
#: A pivot is *clearly* less exposed when it sits at least this many percentile points below the source on the
#: measure. Adjacent roles differ by a few points on any one measure (a consensus interval spans tens of
#: points), so data entry keyers (98.8) -> billing clerks (96.7) is hardly a move away from exposure: such
#: pivots are still offered (the worker may want them) but after every clearly less exposed one (priority 5).
PIVOT_MIN_DROP = 5.0
#: Order of pivots: 1 = target not projected to shrink and shares work activities with the source,
#: 2 = not shrinking, no shared DWA (O*NET-related only), 3 = shrinking (slower than the source) and
#: shares DWAs, 4 = shrinking, no shared DWA, 5 = less exposed by under PIVOT_MIN_DROP points.
#: Within a priority, by pivot_score.
PIVOT_PRIORITIES = {
    1: "not projected to shrink; shares work activities",
    2: "not projected to shrink; related by O*NET but shares no work activity",
    3: "projected to shrink, but slower than the source; shares work activities",
    4: "projected to shrink, but slower than the source; shares no work activity",
    5: f"less exposed by under {PIVOT_MIN_DROP:g} percentile points: within the measure's noise, offered last",
}


def pivot_exclusion(percentile_delta, to_outlook, from_change_pct, to_change_pct) -> np.ndarray:
    """Why a related role is not offered as a pivot (a PIVOT_EXCLUSIONS key), or None if it may be.

    Never into a role labelled elimination, nor into one BLS projects to shrink (change <=
    DECLINE_MAX_PCT) faster than the source (target change < source change); never to a role that
    is not less exposed on the measure. Vectorised.
    """
    delta = np.atleast_1d(np.asarray(percentile_delta, dtype="float64"))
    outlook_ = np.atleast_1d(np.asarray(to_outlook, dtype=object))
    src = np.atleast_1d(np.asarray(from_change_pct, dtype="float64"))
    dst = np.atleast_1d(np.asarray(to_change_pct, dtype="float64"))
    with np.errstate(invalid="ignore"):
        shrinks_faster = (dst <= DECLINE_MAX_PCT) & (dst < src)
        conditions = [np.isnan(delta), delta >= 0, outlook_ == "elimination", shrinks_faster]
    return np.select(conditions, list(PIVOT_EXCLUSIONS), default=None).astype(object)


def pivot_priority(to_change_pct, shared_dwas, percentile_delta=None) -> np.ndarray:
    """PIVOT_PRIORITIES key of each pivot (1 best .. 5), from the target's projected change, the shared DWAs and
    (if given) the exposure drop: a target less exposed by under PIVOT_MIN_DROP points is 5, whatever else."""
    dst = np.atleast_1d(np.asarray(to_change_pct, dtype="float64"))
    shared = np.nan_to_num(np.atleast_1d(np.asarray(shared_dwas, dtype="float64")), nan=0.0)
    with np.errstate(invalid="ignore"):
        shrinking = dst <= DECLINE_MAX_PCT
    out = (1 + 2 * shrinking.astype(int) + (shared <= 0).astype(int)).astype("int64")
    if percentile_delta is not None:
        delta = np.atleast_1d(np.asarray(percentile_delta, dtype="float64"))
        with np.errstate(invalid="ignore"):
            out = np.where(delta > -PIVOT_MIN_DROP, 5, out).astype("int64")
    return out


# --- text similarity (emerging titles -> the O*NET tasks that do the same work) -------------------
def tfidf_cosine(queries: list[list[str]], docs: list[list[str]]) -> np.ndarray:
    """Cosine similarity of TF-IDF term vectors, queries x documents (0..1).

    Terms are already tokenised and stemmed; tf = count in the text, idf = ln((1 + N) / (1 + df)) + 1
    over the N documents (so a query word no document has still counts in the query's length and
    lowers its similarity). Returns an array of shape (len(queries), len(docs)).
    """
    n = len(docs)
    vocab: dict[str, int] = {}
    rows, cols, counts = [], [], []
    for i, terms in enumerate(docs):
        tf = Counter(terms)  # terms in order of first occurrence, as everywhere below
        for t in tf:
            if t not in vocab:
                vocab[t] = len(vocab)
        rows += [i] * len(tf)
        cols += [vocab[t] for t in tf]
        counts += tf.values()
    rows_a, cols_a = np.asarray(rows, dtype="int64"), np.asarray(cols, dtype="int64")
    df = np.bincount(cols_a, minlength=len(vocab)).astype("float64")
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    w = np.asarray(counts, dtype="float64") * idf[cols_a]
    norms = np.sqrt(np.bincount(rows_a, weights=w * w, minlength=n))
    out = np.zeros((len(queries), n))
    order = np.argsort(cols_a, kind="stable")  # the (document, term) entries of each term, by document
    bounds = np.searchsorted(cols_a[order], np.arange(len(vocab) + 1))
    unknown = np.log(1.0 + n) + 1.0  # idf of a word no document has
    for qi, terms in enumerate(queries):
        qnorm = 0.0
        known, weights = [], []
        for t, c in Counter(terms).items():
            j = vocab.get(t)
            weight = c * (idf[j] if j is not None else unknown)
            qnorm += weight * weight
            if j is not None:
                known.append(j)
                weights.append(weight)
        if known:
            # every (term, document) product of the query at once, in term order: bincount adds them up
            # per document in that order, the same sums as adding one term at a time
            js = np.asarray(known, dtype="int64")
            starts, lengths = bounds[js], bounds[js + 1] - bounds[js]
            firsts = np.cumsum(lengths) - lengths
            hit = order[np.repeat(starts - firsts, lengths) + np.arange(int(lengths.sum()))]
            products = np.repeat(np.asarray(weights, dtype="float64"), lengths) * w[hit]
            acc = np.bincount(rows_a[hit], weights=products, minlength=n)
        else:
            acc = np.zeros(n)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[qi] = np.where((norms > 0) & (qnorm > 0), acc / (norms * np.sqrt(qnorm)), 0.0)
    return out


# --- bundles, profiles and outlooks (the scoring API: taskshift.service) -----------------------
#: Task labels behind the automation vs augmentation profile and the outlook (Eloundou et al. GPT-4):
#: the label column of this measure's task_exposure rows holds the GPT-4 E0/E1/E2 exposure label ...
PROFILE_EXPOSURE_MEASURE = "eloundou2023_gpt4_beta"
#: ... and this measure's value (0..1) and label (T0..T4) the GPT-4 automation rating.
PROFILE_AUTOMATION_MEASURE = "eloundou2023_gpt4_automation"
#: Eloundou et al. task weight ("coreweight"): Core tasks 2, Supplemental or unrated tasks 1.
CORE_WEIGHT = 2.0
OTHER_WEIGHT = 1.0

#: A task is *exposed* when its GPT-4 exposure label is one of these (E1 direct, E2 with tools).
EXPOSED_LABELS = ("E1", "E2")
#: An exposed task is *mostly automatable* when its GPT-4 automation value is at least this
#: (T3 = 0.75, T4 = 1.0); below it (T0-T2) the task is *assisted / augmented*.
AUTOMATABLE_MIN = 0.75
#: Outlook: a role's AI exposure is *high* when at least this share of its labelled task weight is
#: exposed (E1/E2) ...
EXPOSED_SHARE_MIN = 0.5
#: ... and its exposed work is *mostly automatable* when at least this share of the exposed weight
#: is T3/T4 (else mostly augmented: AI assists the worker).
AUTOMATABLE_SHARE_MIN = 0.5
#: Projected *decline*: BLS EP 2024-34 employment change at or below this (%). Smaller falls are
#: "little or no change" (EP rounds; a -0.3% change over ten years is no evidence of shrinking).
DECLINE_MAX_PCT = -1.0
#: The growth a role is compared with is the projected change of all occupations in the same EP
#: table (EP 2024-34: +3.1%); it is data (labor_stats 00-0000), so it is passed in, not a constant.
#: A role grows *faster than average* when its change is at least that.
#: Workforce: a role's headcount counts as exposed on a measure when the role's percentile is at least this.
EXPOSED_PERCENTILE = 75.0

OUTLOOKS = ("elimination", "compression", "expansion", "limited", "unknown")


def core_weight(task_type) -> np.ndarray:
    """Eloundou et al. task weight from O*NET Task Type: Core 2, Supplemental or missing 1."""
    types = np.asarray(task_type, dtype=object)
    return np.where(types == "Core", CORE_WEIGHT, OTHER_WEIGHT).astype("float64")


def grouped_weighted_mean(values, weights, groups=None, n_groups: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`weighted_mean` in numpy for many value columns at once (the fast path of the API).

    `values`: (n,) or (n, k) floats, NaN where a row has no value; `weights`: (n,) >= 0; `groups`:
    (n,) integer group numbers in [0, n_groups) (all rows in group 0 if None). Returns `(score,
    coverage)`, each (n_groups, k) (or (n_groups,) for 1-d values), with the definitions of
    `weighted_mean`: score = sum(w * v) / sum(w) over rows with a value (NaN if none), coverage =
    that weight / all the group's weight (NaN if the group's weight is 0).
    """
    v = np.asarray(values, dtype="float64")
    one = v.ndim == 1
    if one:
        v = v[:, None]
    w = np.asarray(weights, dtype="float64")
    n, k = v.shape
    if w.shape != (n,):
        raise ValueError("values and weights differ in length")
    if np.isnan(w).any() or (w < 0).any():
        raise ValueError("weights must be finite and >= 0")
    g = np.zeros(n, dtype="int64") if groups is None else np.asarray(groups, dtype="int64")
    if n_groups is None:
        n_groups = int(g.max()) + 1 if n else 1
    has = ~np.isnan(v)
    wide = np.broadcast_to(w[:, None], v.shape)
    cells = (g[:, None] * k + np.arange(k)[None, :]).ravel()
    size = n_groups * k
    wv = np.bincount(cells, weights=np.where(has, wide * np.where(has, v, 0.0), 0.0).ravel(), minlength=size)
    w_has = np.bincount(cells, weights=np.where(has, wide, 0.0).ravel(), minlength=size)
    w_all = np.bincount(g, weights=w, minlength=n_groups)
    wv, w_has = wv.reshape(n_groups, k), w_has.reshape(n_groups, k)
    # a mean of equal values is that value exactly (no rounding): a workforce of one role, or a
    # bundle of one role's tasks, gets the role's score to the last bit, and so its percentile
    flat = np.where(has, v, np.nan).ravel()
    lo = np.full(size, np.inf)
    hi = np.full(size, -np.inf)
    np.fmin.at(lo, cells, flat)
    np.fmax.at(hi, cells, flat)
    lo, hi = lo.reshape(n_groups, k), hi.reshape(n_groups, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(w_has > 0, np.where(lo == hi, lo, wv / w_has), np.nan)
        coverage = np.where(w_all[:, None] > 0, w_has / w_all[:, None], np.nan)
    return (score[:, 0], coverage[:, 0]) if one else (score, coverage)


def percentile_of(values, reference, tol: float = 0.0, presorted: bool = False) -> np.ndarray:
    """Percentile a score would have among `reference` scores (the roles), on `percentile_rank`'s scale.

    pct = 100 * (less + (equal - 1) / 2) / (n - 1), clipped to [0, 100], with n the number of
    reference scores, `less` how many are below the value and `equal` how many equal it (exactly, as
    `percentile_rank` counts ties, or within `tol` relative): a value equal to a role's score gets
    exactly that role's percentile; a value between two roles lands half a rank below the upper one.
    NaN for NaN values; 50 if n == 1.
    """
    ref = np.asarray(reference, dtype="float64")
    if not presorted:  # presorted: `reference` is already sorted and free of NaN
        ref = np.sort(snap_ties(ref[~np.isnan(ref)]))
    v = snap_to_reference(values, ref)
    n = len(ref)
    out = np.full(v.shape, np.nan)
    ok = ~np.isnan(v)
    if n == 0:
        return out
    if n == 1:
        out[ok] = 50.0
        return out
    slack = tol * np.maximum(1.0, np.abs(v[ok]))
    less = np.searchsorted(ref, v[ok] - slack, side="left")
    equal = np.searchsorted(ref, v[ok] + slack, side="right") - less
    out[ok] = np.clip(100.0 * (less + (equal - 1) / 2.0) / (n - 1), 0.0, 100.0)
    return out


def task_profile(exposure_labels, automation, weights, groups=None, n_groups: int | None = None) -> dict[str, np.ndarray]:
    """Automation vs augmentation profile of tasks, per group (a role, a custom bundle).

    `exposure_labels`: GPT-4 E0/E1/E2 label per task (None where unlabelled); `automation`: the task's
    GPT-4 automation value 0..1 (NaN where unlabelled); `weights`: task weights (coreweight or time
    shares). Returns arrays per group:
    `labelled_share` (weight with an exposure label / all weight), `exposed_share` (E1/E2 weight /
    labelled weight), `automatable_share` (exposed weight with automation >= AUTOMATABLE_MIN /
    exposed weight with an automation value) and `augmented_share` = 1 - automatable_share.
    """
    labels = np.asarray(exposure_labels, dtype=object)
    has_label = np.array([isinstance(x, str) for x in labels], dtype=bool)
    exposed = np.where(has_label, np.isin(labels, EXPOSED_LABELS).astype("float64"), np.nan)
    auto = np.asarray(automation, dtype="float64")
    automatable = np.where((exposed == 1.0) & ~np.isnan(auto), (auto >= AUTOMATABLE_MIN).astype("float64"), np.nan)
    both, coverage = grouped_weighted_mean(np.column_stack([exposed, automatable]), weights, groups, n_groups)
    return {"labelled_share": coverage[:, 0], "exposed_share": both[:, 0],
            "automatable_share": both[:, 1], "augmented_share": 1.0 - both[:, 1]}


#: The outlook rules, in the order they are tried (the first that holds decides the label).
OUTLOOK_RULES = (
    ("unknown", "no_labels", "no task of the role carries a GPT-4 exposure label"),
    ("limited", "low_exposure", "exposed_share < EXPOSED_SHARE_MIN: most of the work is not exposed to LLMs"),
    ("elimination", "exposed_automatable_declining",
     "exposed_share >= EXPOSED_SHARE_MIN and automatable_share >= AUTOMATABLE_SHARE_MIN and "
     "employment_change_pct <= DECLINE_MAX_PCT"),
    ("unknown", "no_projection", "exposed_share >= EXPOSED_SHARE_MIN and no employment projection"),
    ("compression", "exposed_below_average_growth",
     "exposed_share >= EXPOSED_SHARE_MIN and employment_change_pct < average_change_pct (stable, slower than "
     "average, or declining with mostly augmented work)"),
    ("expansion", "exposed_average_or_faster_growth",
     "exposed_share >= EXPOSED_SHARE_MIN and employment_change_pct >= average_change_pct"),
)


def outlook_evidence(exposed_share, automatable_share, employment_change_pct, average_change_pct) -> dict[str, np.ndarray]:
    """The outlook of each role (or bundle) and the tests that decided it, vectorised.

    Inputs (aligned arrays; NaN where unknown): the profile's `exposed_share` and
    `automatable_share`, the BLS EP projected employment change `employment_change_pct` (%), and
    `average_change_pct`, the projected change of all occupations (one number or an array).

    The label is *pressure from LLMs on headcount* and follows the evidence (the seeds' terms:
    elimination = headcount disappears; compression = fewer people do the same work with AI;
    productivity expansion = output and work grow):

    - unknown: no exposure label (exposed_share NaN), or high exposure and no projection;
    - limited: exposed_share < EXPOSED_SHARE_MIN, whatever the projection (most work not exposed);
    - elimination: high exposure, mostly automatable (automatable_share >= AUTOMATABLE_SHARE_MIN)
      AND a projected decline (change <= DECLINE_MAX_PCT): exposure alone never labels a growing role;
    - compression: high exposure and change below the all-occupation average (stable, slower than
      average, or declining while the exposed work is mostly augmented);
    - expansion: high exposure and change at or above the average.

    Returns arrays: `outlook`, `rule` (the OUTLOOK_RULES key that decided), and the tests
    `high_exposure`, `mostly_automatable`, `projected_decline`, `below_average_growth` (float 1/0,
    NaN where the input is missing).
    """
    es = np.atleast_1d(np.asarray(exposed_share, dtype="float64"))
    auto = np.atleast_1d(np.asarray(automatable_share, dtype="float64"))
    change = np.atleast_1d(np.asarray(employment_change_pct, dtype="float64"))
    avg = np.broadcast_to(np.asarray(average_change_pct, dtype="float64"), change.shape)

    def test(values, ok):
        return np.where(np.isnan(values), np.nan, ok.astype("float64"))

    with np.errstate(invalid="ignore"):
        high = test(es, es >= EXPOSED_SHARE_MIN)
        automatable = test(auto, auto >= AUTOMATABLE_SHARE_MIN)
        decline = test(change, change <= DECLINE_MAX_PCT)
        below = test(change + avg, change < avg)
    conditions = [
        np.isnan(es),
        high == 0.0,
        (high == 1.0) & (automatable == 1.0) & (decline == 1.0),
        (high == 1.0) & np.isnan(below),
        (high == 1.0) & (below == 1.0),
        (high == 1.0) & (below == 0.0),
    ]
    label = np.select(conditions, [r[0] for r in OUTLOOK_RULES], default="unknown").astype(object)
    rule = np.select(conditions, [r[1] for r in OUTLOOK_RULES], default="no_labels").astype(object)
    return {"outlook": label, "rule": rule, "high_exposure": high, "mostly_automatable": automatable,
            "projected_decline": decline, "below_average_growth": below}


def outlook(exposed_share, automatable_share, employment_change_pct, average_change_pct) -> np.ndarray:
    """The outlook labels of `outlook_evidence` (see there for the rules)."""
    return outlook_evidence(exposed_share, automatable_share, employment_change_pct, average_change_pct)["outlook"]


def _fmt(x, spec: str, missing: str = "n/a") -> str:
    return missing if x is None or x != x else format(x, spec)


def outlook_reason(rule: str, exposed_share, automatable_share, employment_change_pct,
                   average_change_pct) -> str:
    """One sentence naming the figures and thresholds that decided an outlook."""
    es = f"exposed share {_fmt(exposed_share, '.2f')}"
    auto = f"automatable share of exposed work {_fmt(automatable_share, '.2f')}"
    ch = f"projected employment change {_fmt(employment_change_pct, '+.1f')}% (BLS EP 2024-34)"
    avg = f"all-occupation average {_fmt(average_change_pct, '+.1f')}%"
    if rule == "no_labels":
        return "no task carries a GPT-4 exposure label"
    if rule == "low_exposure":
        return (f"{es} < {EXPOSED_SHARE_MIN:g}: most of the work is not exposed to LLMs, so LLM pressure on headcount "
                f"is limited whatever the projection ({ch})")
    if rule == "exposed_automatable_declining":
        return (f"{es} >= {EXPOSED_SHARE_MIN:g}, {auto} >= {AUTOMATABLE_SHARE_MIN:g} and {ch} <= {DECLINE_MAX_PCT:g}%: "
                "exposed work is mostly automatable and BLS projects fewer jobs (elimination pressure)")
    if rule == "no_projection":
        return f"{es} >= {EXPOSED_SHARE_MIN:g} but no employment projection: the outlook cannot be decided"
    if rule == "exposed_below_average_growth":
        if automatable_share is not None and automatable_share == automatable_share and automatable_share >= AUTOMATABLE_SHARE_MIN:
            how = (f"{auto} >= {AUTOMATABLE_SHARE_MIN:g}, but no projected decline (change > {DECLINE_MAX_PCT:g}%), "
                   "so not elimination")
        else:
            how = f"{auto} < {AUTOMATABLE_SHARE_MIN:g}: exposed work mostly augmented"
        return (f"{es} >= {EXPOSED_SHARE_MIN:g} and {ch} below the {avg} ({how}): fewer people may do the same work "
                "with AI (compression pressure)")
    return (f"{es} >= {EXPOSED_SHARE_MIN:g} and {ch} at or above the {avg}: exposed work with growing demand "
            "(productivity expansion)")


#: The evidence items behind an outlook: (name, test, threshold constant or None for the average,
#: source). Each role's items are the rows of `role_outlook_evidence`; a new kind of evidence
#: (observed employment change, postings) is a new item here and a new rule above.
OUTLOOK_EVIDENCE = (
    ("exposed_share", ">=", EXPOSED_SHARE_MIN,
     "eloundou2023_gpt4_beta: share of the labelled task weight with a GPT-4 exposure label E1 or E2"),
    ("automatable_share", ">=", AUTOMATABLE_SHARE_MIN,
     "eloundou2023_gpt4_automation: share of the exposed (E1/E2) task weight with a GPT-4 automation label T3 or T4"),
    ("projected_decline", "<=", DECLINE_MAX_PCT,
     "bls_occupation_t1_2: BLS Employment Projections 2024-34, projected employment change (%) of the role's EP code"),
    ("below_average_growth", "<", None,
     "bls_occupation_t1_2: the same change against the projected change of all occupations (EP 2024-34, 00-0000)"),
)
#: Which evidence items each rule reads (the rest are shown but did not decide).
OUTLOOK_RULE_INPUTS = {
    "no_labels": ("exposed_share",),
    "low_exposure": ("exposed_share",),
    "exposed_automatable_declining": ("exposed_share", "automatable_share", "projected_decline"),
    "no_projection": ("exposed_share", "projected_decline"),
    "exposed_below_average_growth": ("exposed_share", "automatable_share", "projected_decline", "below_average_growth"),
    "exposed_average_or_faster_growth": ("exposed_share", "automatable_share", "projected_decline", "below_average_growth"),
}


def outlook_items(rule: str, exposed_share, automatable_share, employment_change_pct, average_change_pct) -> list[dict]:
    """The evidence of one outlook as a list of items: name, value, test, threshold, holds (True/False/None
    where the value is missing), decided (the rule read it) and source."""
    values = {"exposed_share": exposed_share, "automatable_share": automatable_share,
              "projected_decline": employment_change_pct, "below_average_growth": employment_change_pct}
    used = OUTLOOK_RULE_INPUTS[rule]
    out = []
    for name, op, threshold, source in OUTLOOK_EVIDENCE:
        value = values[name]
        value = None if value is None or value != value else float(value)
        if threshold is None:
            threshold = None if average_change_pct is None or average_change_pct != average_change_pct else float(average_change_pct)
        holds = None
        if value is not None and threshold is not None:
            holds = bool({">=": value >= threshold, "<=": value <= threshold, "<": value < threshold}[op])
        out.append({"evidence": name, "value": value, "test": op, "threshold": threshold, "holds": holds,
                    "decided": name in used, "source": source})
    return out


def percentile_of_each(values, references) -> np.ndarray:
    """`percentile_of` for one value per reference: `values[j]` among `references[j]` (each sorted, NaN-free).

    The fast path for a score on many measures at once; the same numbers as `percentile_of` (tol 0).
    """
    v = np.array([snap_to_reference(x, ref)[0] for x, ref in zip(np.asarray(values, dtype="float64"), references)])
    less = np.zeros(len(v))
    equal = np.zeros(len(v))
    n = np.zeros(len(v))
    for j, ref in enumerate(references):
        n[j] = len(ref)
        if v[j] == v[j] and len(ref):
            less[j] = ref.searchsorted(v[j], "left")
            equal[j] = ref.searchsorted(v[j], "right") - less[j]
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.clip(100.0 * (less + (equal - 1) / 2.0) / (n - 1), 0.0, 100.0)
    pct = np.where(n == 1, 50.0, pct)
    return np.where(np.isnan(v) | (n == 0), np.nan, pct)


# --- consensus across families of measures (docs/consensus.md) ----------------------------------
#: A consensus needs at least this many independent families (their headline measures).
CONSENSUS_MIN_FAMILIES = 3
#: The interval is the middle half of the family percentiles: their 25th and 75th percentiles
#: (linear interpolation between order statistics, numpy's default).
CONSENSUS_INTERVAL = (0.25, 0.75)
#: Level bands of the centre on the 0-100 percentile scale: low below 100/3, high from 200/3.
CONSENSUS_LEVELS = (100.0 / 3.0, 200.0 / 3.0)
#: Agreement = 1 - interval width / the width unrelated measures would give (see consensus_stats):
#: the families agree at or above this, partly agree at or above PARTLY_AGREE_MIN, else disagree.
AGREE_MIN = 0.5
PARTLY_AGREE_MIN = 0.25
CONSENSUS_LABELS = {
    "agree": "{level} exposure, measures agree",
    "partly": "{level} exposure, measures partly agree",
    "disagree": "uncertain: measures disagree",
    "one": "{level} exposure, one family only",
    "too_few": "too few measures",
}
CONFIDENCE = {"agree": "high", "partly": "medium", "disagree": "low"}
#: A family's vote for a role is *coarse* when the published code(s) behind it reach this many roles
#: or more (an ISCO-08 unit group or a SOC 2010 aggregate spread over many O*NET roles): reported
#: with the consensus, not down-weighted.
COARSE_SHARED_ROLES = 10


def random_interval_width(n) -> np.ndarray:
    """Expected width of the consensus interval if the n family percentiles were unrelated.

    For n independent uniform percentiles on 0..100, the k-th smallest has expectation
    100 k / (n + 1), and the linear-interpolation quantile q sits at order statistic 1 + q (n - 1),
    so the expected width of the 25th-75th interval is 100 x 0.5 (n - 1) / (n + 1): 25 for three
    families, 33.3 for five, 38.9 for eight. NaN for n < 2.
    """
    n = np.asarray(n, dtype="float64")
    lo, hi = CONSENSUS_INTERVAL
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= 2, 100.0 * (hi - lo) * (n - 1.0) / (n + 1.0), np.nan)


def consensus_stats(percentiles, min_families: int = CONSENSUS_MIN_FAMILIES) -> dict[str, np.ndarray]:
    """The consensus of each row of family percentiles (rows: roles, sectors, ...; columns: families).

    `percentiles`: (n_rows, n_families) floats 0..100, NaN where a family does not cover the row
    (one column per independent family: its headline measure). Per row, over its non-missing values:

    - `n`: number of families;
    - `centre`: their median;
    - `low`, `high`: their 25th and 75th percentiles (the middle half of the families; it always
      contains the centre);
    - `agreement`: 1 - (high - low) / random_interval_width(n): 1 when every family gives the same
      percentile, about 0 when they are as spread as unrelated measures would be, below 0 when more;
    - `above`, `below`: column index of the family furthest above / below the centre (the first
      column on ties), `above_by` = its percentile - centre, `below_by` = centre - its percentile;
    - `level`: low / medium / high by CONSENSUS_LEVELS of the centre;
    - `agreement_class`: agree / partly / disagree by AGREE_MIN and PARTLY_AGREE_MIN (one: a single
      family, no agreement to measure);
    - `label`, `confidence`: the plain label (CONSENSUS_LABELS) and high / medium / low.

    Rows with fewer than `min_families` families get NaN numbers, index -1 and label "too few measures".
    """
    x = np.asarray(percentiles, dtype="float64")
    if x.ndim != 2:
        raise ValueError("percentiles must be a 2-d array (rows x families)")
    rows, cols = x.shape
    has = ~np.isnan(x)
    n = has.sum(axis=1)
    ok = n >= max(1, min_families)
    centre = np.full(rows, np.nan)
    low, high = centre.copy(), centre.copy()
    if ok.any() and cols:
        # quantile q of a row's n values: sort (NaN last), interpolate at position q (n - 1)
        srt = np.sort(x[ok], axis=1)
        k = n[ok].astype("float64")
        r = np.arange(len(srt))
        last = n[ok] - 1

        def q(p: float) -> np.ndarray:
            pos = p * (k - 1.0)
            i = pos.astype("int64")
            frac = pos - i
            a = srt[r, i]
            b = srt[r, np.minimum(i + 1, last)]
            return np.where(frac > 0, a + frac * (b - a), a)

        centre[ok] = q(0.5)
        low[ok] = q(CONSENSUS_INTERVAL[0])
        high[ok] = q(CONSENSUS_INTERVAL[1])
    lo_q, hi_q = CONSENSUS_INTERVAL
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.where(n >= 2, 100.0 * (hi_q - lo_q) * (n - 1.0) / (n + 1.0), np.nan)
        agreement = np.where(ok & (expected > 0), 1.0 - (high - low) / expected, np.nan)
    r_all = np.arange(rows)
    if cols:
        above = np.where(ok, np.where(has, x, -np.inf).argmax(axis=1), -1)
        below = np.where(ok, np.where(has, x, np.inf).argmin(axis=1), -1)
        above_by = np.where(ok, x[r_all, np.maximum(above, 0)] - centre, np.nan)
        below_by = np.where(ok, centre - x[r_all, np.maximum(below, 0)], np.nan)
    else:
        above = below = np.full(rows, -1)
        above_by = below_by = np.full(rows, np.nan)
    level = np.full(rows, None, dtype=object)
    level[ok] = np.where(centre[ok] < CONSENSUS_LEVELS[0], "low", np.where(centre[ok] < CONSENSUS_LEVELS[1], "medium", "high"))
    cls = np.full(rows, "too_few", dtype=object)
    a = agreement[ok]
    cls[ok] = np.where(np.isnan(a), "one", np.where(a >= AGREE_MIN, "agree", np.where(a >= PARTLY_AGREE_MIN, "partly", "disagree")))
    label = np.array([CONSENSUS_LABELS[c].format(level=lv) for c, lv in zip(cls, level)], dtype=object)
    confidence = np.array([CONFIDENCE.get(c) for c in cls], dtype=object)
    return {"n": n.astype("int64"), "centre": centre, "low": low, "high": high, "agreement": agreement,
            "above": above.astype("int64"), "above_by": above_by, "below": below.astype("int64"), "below_by": below_by,
            "level": level, "agreement_class": cls, "label": label, "confidence": confidence}


def weighted_reference(reference, weights) -> tuple[np.ndarray, np.ndarray]:
    """A weighted reference population for `weighted_percentile_of`, sorted once: (values, cumulative weights).

    NaN references and zero or NaN weights count nowhere; negative weights are an error.
    """
    ref = np.asarray(reference, dtype="float64")
    w = np.asarray(weights, dtype="float64")
    if ref.shape != w.shape:
        raise ValueError("reference and weights differ in length")
    if (w[~np.isnan(w)] < 0).any():
        raise ValueError("weights must be >= 0")
    keep = ~np.isnan(ref) & ~np.isnan(w) & (w > 0)
    ref, w = ref[keep], w[keep]
    order = np.argsort(ref, kind="stable")
    return ref[order], np.concatenate([[0.0], np.cumsum(w[order])])


def weighted_percentile_of(values, reference, weights=None) -> np.ndarray:
    """Percentile of each value in a weighted reference population: "more exposed than X% of workers".

    pct = 100 x (weight of the reference below the value + half the weight equal to it) / all the
    weight, with `reference` (e.g. the consensus centre of every role) and `weights` (e.g. each
    role's share of its labour code's employment, so a code shared by several roles counts once)
    aligned; NaN references and zero weights count nowhere. `reference` may instead be the pair
    `weighted_reference` returns (weights None). NaN for NaN values or no weight.
    """
    ref, cum = reference if weights is None else weighted_reference(reference, weights)
    v = np.atleast_1d(np.asarray(values, dtype="float64"))
    out = np.full(v.shape, np.nan)
    ok = ~np.isnan(v)
    total = cum[-1]
    if total <= 0:
        return out
    lo = np.searchsorted(ref, v[ok], side="left")
    hi = np.searchsorted(ref, v[ok], side="right")
    out[ok] = 100.0 * (cum[lo] + 0.5 * (cum[hi] - cum[lo])) / total
    return out


# --- agreement between two measures ---------------------------------------------------------------
def top_overlap(x, y, share: float) -> tuple[float, float, int, int]:
    """How two measures agree on the most exposed `share` of the roles both cover.

    Over pairs where both are present, a role is in a measure's top set when its percentile rank
    (`percentile_rank`, ties averaged) is at least 100 x (1 - share): tied roles at the cut are all in
    or all out. Returns (overlap, kappa, size_x, size_y):
    - overlap = |X & Y| / ((|X| + |Y|) / 2) (the Dice coefficient: the share of one top set in the
      other when the two have the same size), NaN if both are empty;
    - kappa = Cohen's kappa of the two in/out classifications (0 = chance agreement, 1 = identical).
    """
    return top_overlaps(x, y, (share,))[0]


def top_overlaps(x, y, shares) -> list[tuple[float, float, int, int]]:
    """`top_overlap` for each of `shares`, the two measures ranked once."""
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    both = ~np.isnan(x) & ~np.isnan(y)
    if both.sum() < 2:
        return [(float("nan"), float("nan"), 0, 0) for _ in shares]
    rank_x = percentile_rank(pd.Series(x[both])).to_numpy()
    rank_y = percentile_rank(pd.Series(y[both])).to_numpy()
    out = []
    for share in shares:
        cut = 100.0 * (1.0 - share)
        a = rank_x >= cut
        b = rank_y >= cut
        na, nb, inter, n = int(a.sum()), int(b.sum()), int((a & b).sum()), int(both.sum())
        overlap = inter / ((na + nb) / 2.0) if na + nb else float("nan")
        po = float((a == b).mean())
        pa, pb = na / n, nb / n
        pe = pa * pb + (1 - pa) * (1 - pb)
        kappa = (po - pe) / (1.0 - pe) if pe < 1.0 else float("nan")
        out.append((overlap, kappa, na, nb))
    return out


# --- published headline figures (the published_figures table) ------------------------------------
SHARE_OPS = {"ge": np.greater_equal, "gt": np.greater, "le": np.less_equal}


def weighted_share(values, weights, threshold: float, op: str = "ge") -> tuple[float, float]:
    """Percentage of the weight whose value is `op` threshold (ge >=, gt >, le <=), over rows with a value.

    Returns (share in %, the weight with a value). Rows with a NaN value or weight count nowhere;
    NaN share if no weight has a value. Used for "x% of workers" (weights: employment) and "x% of
    tasks" (weights: 1).
    """
    if op not in SHARE_OPS:
        raise ValueError(f"op must be one of {sorted(SHARE_OPS)}, not {op!r}")
    v = np.asarray(values, dtype="float64")
    w = np.asarray(weights, dtype="float64")
    if v.shape != w.shape:
        raise ValueError("values and weights differ in length")
    use = ~np.isnan(v) & ~np.isnan(w)
    base = float(w[use].sum())
    if base <= 0:
        return float("nan"), base
    hit = use & SHARE_OPS[op](np.where(use, v, 0.0), threshold)
    return 100.0 * float(w[hit].sum()) / base, base


# --- matching text by meaning (POST /-/profile, GET /-/match fallback) ----------------------------
#: Hybrid task score = cosine similarity + this x lexical score (BM25 / the text's best BM25). Measured with
#: bench/profile_bench.py: on 200 roles described by 8 of their O*NET work activities the role came first for 52
#: (semantic alone), 58 (BM25 alone) and 66-67 (hybrid, weight 0.5-1.0; 64 at 0.2 and 2); on the 52 postings the
#: three are within 2 postings of each other.
HYBRID_LEXICAL_WEIGHT = 0.5
#: Only a text's LEXICAL_TOP best tasks by BM25 carry a lexical score (as a top-k full-text query would).
LEXICAL_TOP = 200
#: nearest_roles rank roles by their lift: the mean best hybrid score over the posting's statements minus the
#: role's baseline, its mean best hybrid score for the statements of other roles (every BASELINE_STRIDE-th O*NET
#: task statement). Without it, roles with many or broad tasks lead for any text: on bench/profile_bench.py the
#: baseline raised nearest_roles top-1 from 35 to 37 of 52 postings and, on 200 roles described by 8 of their
#: O*NET work activities, from 66 to 79 (top-3 103 -> 118).
BASELINE_STRIDE = 40
#: Confidence of a statement's match, from the cosine similarity of the task chosen. Measured on 340 hand-judged
#: matches (bench/profile/judged_matches.yaml: 310 posting statements, 30 off-topic sentences) by a logistic fit of
#: P(right | similarity) (bench/profile_bench.py, calibration): P = 0.5 at 0.46 (below: "none", no good match), 0.7 at
#: 0.54 (medium from there), 0.85 at 0.61 (high from there). Observed: 12% right below 0.40, 42% in 0.40-0.45, 58% in
#: 0.45-0.50, 74% in 0.50-0.60, 84% in 0.60-0.65, 92% from 0.65.
MATCH_MIN_SIMILARITY = 0.46
MATCH_MEDIUM_SIMILARITY = 0.54
MATCH_HIGH_SIMILARITY = 0.61
#: A role explains a statement if one of its tasks is a good match for it (cosine >= MATCH_MIN_SIMILARITY).
EXPLAIN_MIN_SIMILARITY = MATCH_MIN_SIMILARITY
#: nearest_roles confidence: high if the role explains at least this share of the statements and leads
#: the next role by at least NEAREST_HIGH_MARGIN (mean hybrid score); medium from NEAREST_MEDIUM_SHARE.
NEAREST_HIGH_SHARE = 0.5
NEAREST_HIGH_MARGIN = 0.01
NEAREST_MEDIUM_SHARE = 0.3
#: Semantic title fallback: titles at least this similar (cosine, 128-d prefix) to the query. Measured on 200 random
#: letter strings (99% of them reach no title this similar; 95% stay under 0.63) and the 40 hard titles of
#: bench/profile/titles.yaml (top-3 hits 20 at 0.70 as at 0.55).
TITLE_MIN_SIMILARITY = 0.70
#: Where the lexical title matcher found only partial matches, they and the semantic ones are fused by
#: reciprocal rank with this k (bench/profile/titles.yaml, 40 hard titles: top-3 20 -> 22, top-1 16 -> 16;
#: semantic-first would give 20 and 15; the 20 easy titles are unchanged).
TITLE_FUSION_K = 3


def normalise_lexical(scores: np.ndarray, top: int = LEXICAL_TOP) -> np.ndarray:
    """Each row divided by its maximum, keeping only its `top` largest values (others 0); all-zero rows stay 0."""
    s = np.array(scores, dtype=np.float32, ndmin=2)
    for row in s:
        nz = np.flatnonzero(row)
        if len(nz) > top:  # partition the non-zero values only (a mostly-zero row is slow to partition whole)
            kth = np.partition(row[nz], len(nz) - top)[len(nz) - top]
            row[row < kth] = 0.0
        peak = row.max() if len(nz) else 0.0
        if peak > 0:
            row /= peak
    return s


def hybrid_score(cosine, lexical, weight: float = HYBRID_LEXICAL_WEIGHT) -> np.ndarray:
    """The score that ranks tasks for a text: cosine + weight x normalised lexical score."""
    return np.asarray(cosine, dtype=np.float32) + np.float32(weight) * np.asarray(lexical, dtype=np.float32)


def match_band(similarity) -> np.ndarray:
    """high / medium / low / none for cosine similarities (none: below MATCH_MIN_SIMILARITY, no good match)."""
    s = np.atleast_1d(np.asarray(similarity, dtype="float64"))
    return np.select([s >= MATCH_HIGH_SIMILARITY, s >= MATCH_MEDIUM_SIMILARITY, s >= MATCH_MIN_SIMILARITY],
                     ["high", "medium", "low"], default="none").astype(object)


def role_coverage(role_best_hybrid, role_best_cosine, weights) -> tuple[np.ndarray, np.ndarray]:
    """Roles for a set of statements: (score, share explained) per role.

    `role_best_hybrid` and `role_best_cosine` are (statements, roles): the best hybrid score and cosine
    similarity of each role's tasks for each statement; `weights` the statements' time shares. score =
    weighted mean over the statements of the role's best hybrid score; share explained = weighted share of
    the statements the role has a task for with cosine >= EXPLAIN_MIN_SIMILARITY.
    """
    h = np.asarray(role_best_hybrid, dtype="float64")
    c = np.asarray(role_best_cosine, dtype="float64")
    w = np.asarray(weights, dtype="float64")
    total = w.sum()
    if h.size == 0 or total <= 0:
        return np.zeros(h.shape[1] if h.ndim == 2 else 0), np.zeros(h.shape[1] if h.ndim == 2 else 0)
    score = (w[:, None] * h).sum(axis=0) / total
    explained = (w[:, None] * (c >= EXPLAIN_MIN_SIMILARITY)).sum(axis=0) / total
    return score, explained


def nearest_confidence(share_explained: float, margin: float) -> str:
    """high / medium / low confidence that a nearest role is the posting's occupation."""
    if share_explained >= NEAREST_HIGH_SHARE and margin >= NEAREST_HIGH_MARGIN:
        return "high"
    if share_explained >= NEAREST_MEDIUM_SHARE:
        return "medium"
    return "low"

# --- score precision, employment-weighted percentiles (issue #9) ---------------------------------
#: Scores are compared at this many significant digits: equal published scores that reach a role
#: through different arithmetic (a mean of 0.38 and 0.28 is 0.33000000000000007, not 0.33) are the
#: same score, and so get the same percentile. Float noise is ~1e-16 relative; 12 digits keep every
#: published value (none has more than 10 significant digits) exactly.
SCORE_DIGITS = 12

# --- score ties, employment-weighted percentiles (issue #9) -----------------------------------------
#: Two scores of a measure that differ by less than this (relative to the larger, or TIE_ABSOLUTE) are
#: one score: equal published scores reached through different arithmetic (a mean of 0.38 and 0.28 is
#: 0.33000000000000007, not 0.33) are the same score, and so get the same percentile. Float noise is
#: ~1e-16 relative; the closest distinct scores of any measure differ by far more than 1e-9.
TIE_RELATIVE = 1e-9
TIE_ABSOLUTE = 1e-12


def snap_ties(values, groups=None) -> np.ndarray:
    """Make scores that are equal up to float noise exactly equal, within each group (measure).

    Sorted values whose gap to their neighbour is at most TIE_RELATIVE x the larger magnitude (or
    TIE_ABSOLUTE) form one tie; every member takes the tie's most frequent value (ties broken by the
    shortest printed form, then the smallest). Values without a near neighbour are returned unchanged,
    bit for bit; NaN stays NaN. Idempotent."""
    v = np.asarray(values, dtype="float64").copy()
    g = np.zeros(len(v), dtype="int64") if groups is None else pd.factorize(np.asarray(groups, dtype=object))[0]
    ok = np.flatnonzero(~np.isnan(v))
    if len(ok) < 2:
        return v
    order = ok[np.lexsort((v[ok], g[ok]))]
    sv, sg = v[order], g[order]
    gap = np.diff(sv)
    tol = np.maximum(TIE_RELATIVE * np.maximum(np.abs(sv[1:]), np.abs(sv[:-1])), TIE_ABSOLUTE)
    joined = (sg[1:] == sg[:-1]) & (gap <= tol) & (gap > 0)
    if not joined.any():
        return v
    cluster = np.concatenate([[0], np.cumsum(~((sg[1:] == sg[:-1]) & (gap <= tol)))])
    for c in np.unique(cluster[1:][joined]):
        members = order[cluster == c]
        vals, counts = np.unique(v[members], return_counts=True)
        best = sorted(zip(vals, counts), key=lambda t: (-t[1], len(repr(float(t[0]))), t[0]))[0][0]
        v[members] = best
    return v


def snap_to_reference(values, reference_sorted) -> np.ndarray:
    """Each value replaced by the reference score it ties with (see `snap_ties`), if any; so a custom
    role or workforce whose score equals a role's up to float noise gets that role's percentile."""
    v = np.atleast_1d(np.asarray(values, dtype="float64")).copy()
    ref = np.asarray(reference_sorted, dtype="float64")
    ok = ~np.isnan(v)
    if not len(ref) or not ok.any():
        return v
    i = np.clip(np.searchsorted(ref, v[ok]), 1, len(ref) - 1) if len(ref) > 1 else np.zeros(ok.sum(), dtype="int64")
    lo, hi = ref[np.maximum(i - 1, 0)], ref[i]
    near = np.where(np.abs(v[ok] - lo) <= np.abs(hi - v[ok]), lo, hi)
    tol = np.maximum(TIE_RELATIVE * np.maximum(np.abs(near), np.abs(v[ok])), TIE_ABSOLUTE)
    v[ok] = np.where(np.abs(v[ok] - near) <= tol, near, v[ok])
    return v


def employment_percentile(values, weights, groups=None) -> np.ndarray:
    """Employment-weighted percentile 0..100 of each value within its group: the share of the group's
    weight (workers) with a lower value, plus half the weight with an equal value.

    "More exposed than X% of workers" for X = this number, ties counted half (as `percentile_rank`
    averages tied ranks; ties up to float noise, `snap_ties`). Rows with a NaN value get NaN and count
    nowhere; rows with weight 0 (no employment) get the percentile of their value but add no weight.
    A group whose weight is 0 gets NaN.
    """
    v = snap_ties(values, groups)
    w = np.nan_to_num(np.asarray(weights, dtype="float64"), nan=0.0)
    if v.shape != w.shape:
        raise ValueError("values and weights differ in length")
    if (w < 0).any():
        raise ValueError("weights must be >= 0")
    g = np.zeros(len(v), dtype="int64") if groups is None else pd.factorize(np.asarray(groups, dtype=object))[0]
    out = np.full(len(v), np.nan)
    for k in np.unique(g):
        rows = np.flatnonzero(g == k)
        # the same arithmetic as a score looked up later (employment_percentile_of), bit for bit
        out[rows] = employment_percentile_of(v[rows], employment_reference(v[rows], w[rows]))
    return out


def employment_reference(values, weights) -> tuple[np.ndarray, np.ndarray]:
    """`weighted_reference` of one measure's role scores, ties up to float noise snapped (`snap_ties`),
    for `employment_percentile_of`."""
    return weighted_reference(snap_ties(values), np.nan_to_num(np.asarray(weights, dtype="float64"), nan=0.0))


def employment_percentile_of(values, reference: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The employment-weighted percentile a score would have among the roles (`employment_reference`):
    `weighted_percentile_of` after snapping the score to a role score it equals up to float noise, so
    a score equal to a role's gets exactly that role's employment percentile."""
    return weighted_percentile_of(snap_to_reference(values, reference[0]), reference)


def exposed(employment_pct) -> np.ndarray:
    """1.0 where a role counts as exposed on a measure (employment-weighted percentile at or above
    EXPOSED_PERCENTILE), 0.0 where not, NaN where unscored. The same rule on every measure, so the
    exposed roles hold about a quarter of the scored workers whatever the measure's scale."""
    p = np.asarray(employment_pct, dtype="float64")
    return np.where(np.isnan(p), np.nan, (p >= EXPOSED_PERCENTILE).astype("float64"))


# --- task statement similarity (taskshift.build.derive.task_match) -------------------------------
#: Function words ignored when two task statements are compared.
STOP_WORDS = frozenset(
    "a an and are as at be by for from in into is it its of on or such that the their this to with".split())


_WORD = re.compile(r"[a-z0-9]+")


def content_tokens(text: str) -> list[str]:
    """The content words of a text, in order, repeats kept: lower-case runs of a-z/0-9, STOP_WORDS
    dropped, plural endings folded (a final -ies -> -y; a final -s dropped unless -ss; words of 3
    letters or fewer kept as they are), so "outcomes" and "outcome" are one word."""
    fold = _fold_word
    return [w for w in map(fold, _WORD.findall(str(text).lower())) if w]


@functools.lru_cache(maxsize=1 << 16)
def _fold_word(word: str) -> str:
    """The content word `content_tokens` keeps for `word` ("" for a stop word)."""
    if word in STOP_WORDS:
        return ""
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def content_words(text: str) -> frozenset[str]:
    """The set of `content_tokens` of a task statement."""
    return frozenset(content_tokens(text))


def dice(shared, size_a, size_b):
    """Sørensen–Dice similarity 2|A & B| / (|A| + |B|) from the intersection size and the two set
    sizes (0 = no word in common, 1 = the same words). Vectorised; NaN where both sets are empty."""
    shared = np.asarray(shared, dtype="float64")
    total = np.asarray(size_a, dtype="float64") + np.asarray(size_b, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(total > 0, 2.0 * shared / np.where(total > 0, total, 1.0), np.nan)
    return float(out) if out.ndim == 0 else out


def text_similarity(a: str, b: str) -> float:
    """Dice similarity of the content words of two statements (see `content_words`)."""
    wa, wb = content_words(a), content_words(b)
    return dice(len(wa & wb), len(wa), len(wb))


def best_threshold(similarity, label, step: float = 0.01) -> dict[str, float]:
    """The threshold t on a 0..1 similarity that best separates labelled pairs ("same" when
    similarity >= t): the t on a grid of `step` with the highest accuracy, the highest such t on ties
    (fewer false matches). Returns threshold, accuracy, precision, recall, n, and `clean`: the lowest
    grid t above every negative's similarity (precision 1 on the sample)."""
    s = np.asarray(similarity, dtype="float64")
    y = np.asarray(label, dtype=bool)
    if s.shape != y.shape or not len(s):
        raise ValueError("similarity and label must be non-empty and aligned")
    grid = np.round(np.arange(0.0, 1.0 + step / 2, step), 10)
    best = None
    for t in grid:
        pred = s >= t - 1e-12
        acc = float((pred == y).mean())
        if best is None or acc >= best[1]:
            best = (float(t), acc, pred)
    t, acc, pred = best
    tp = float((pred & y).sum())
    negatives = s[~y]
    top_negative = float(negatives.max()) if len(negatives) else 0.0
    clean = float(grid[np.argmax(grid > top_negative + 1e-12)]) if (grid > top_negative + 1e-12).any() else float("nan")
    return {"threshold": t, "accuracy": acc, "precision": tp / pred.sum() if pred.sum() else float("nan"),
            "recall": tp / y.sum() if y.sum() else float("nan"), "n": float(len(s)), "clean": clean}


# --- ISCO-08 unit groups as weighted sets of roles (taskshift.build.derive.isco, docs/isco.md) -------
def isco_role_weights(link_share, employment, groups) -> tuple[np.ndarray, np.ndarray]:
    """Each role's weight in an ISCO-08 group, from its link share and its US employment.

    Row i is a role in group `groups[i]`: `link_share[i]` is the share of the role the crosswalk links
    to the group (the role's weights over its unit groups sum to 1), `employment[i]` the role's US
    employment (its labour code's OEWS employment split over the roles sharing the code; NaN counts 0).
    The role's US workers in the group are employment x link_share; its weight is that over the group's
    total (so a labour code, and a role linked to several groups, is counted once). A group with no US
    employment at all falls back to the link shares, normalised. Returns (weights, by_employment): the
    weights (summing to 1 per group) and, per row, whether its group is employment-weighted.
    """
    share = np.asarray(link_share, dtype="float64")
    emp = np.nan_to_num(np.asarray(employment, dtype="float64"), nan=0.0)
    if share.shape != emp.shape:
        raise ValueError("link_share and employment differ in length")
    if (share < 0).any() or np.isnan(share).any() or (emp < 0).any():
        raise ValueError("link shares and employment must be >= 0")
    g = pd.factorize(np.asarray(groups, dtype=object))[0]
    people = emp * share
    people_total = np.bincount(g, weights=people)[g]
    share_total = np.bincount(g, weights=share)[g]
    by_employment = people_total > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        weights = np.where(by_employment, people / np.where(by_employment, people_total, 1.0),
                           share / np.where(share_total > 0, share_total, 1.0))
    return weights, by_employment

# --- job postings (Indeed Hiring Lab Job Postings Index) ------------------------------------------
#: Indeed's index is 100 on this date for every series: a change "since February 2020" is against it.
POSTINGS_BASE_DATE = "2020-02-01"
POSTINGS_BASE_INDEX = 100.0
#: ChatGPT was released on 30 November 2022: changes "since ChatGPT" are against this month's mean.
CHATGPT_MONTH = "2022-11"


def index_change_pct(end, base):
    """Percent change of an index (or share) from `base` to `end`: (end / base - 1) x 100.

    NaN where either is missing or `base` is not positive. With `base` = POSTINGS_BASE_INDEX this is
    Indeed's own reading of its index (a reading of 101 is 1% above 1 February 2020).
    """
    end = np.asarray(end, dtype="float64")
    base = np.asarray(base, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(base > 0, (end / base - 1.0) * 100.0, np.nan)
    return out if out.ndim else float(out)


# --- task lists and observed collaboration (Anthropic Economic Index) -----------------------------
def safe_share(part, total):
    """part / total, NaN where total is not positive (a role with no weight on a list has no share)."""
    part = np.asarray(part, dtype="float64")
    total = np.asarray(total, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, part / np.where(total > 0, total, 1.0), np.nan)


#: The task list each family of measures was built on (a measure id prefix -> task_list_changes.list_id).
MEASURE_TASK_LISTS = {"eloundou2023_": "eloundou_full_labelset", "microsoft2025_": "microsoft_soc_to_iwas",
                      "anthropic2026_": "anthropic_onet_task_statements"}

#: Collaboration patterns of the Anthropic Economic Index and the mode each belongs to (Handa et al. 2025).
COLLABORATION_PATTERNS = {"directive": "automation", "feedback_loop": "automation", "task_iteration": "augmentation",
                          "validation": "augmentation", "learning": "augmentation"}
#: A task's observed use is "automation" when at least this share of its classified conversations are
#: automation patterns (directive, feedback loop), else "augmentation"; "none" with no classified conversation.
OBSERVED_AUTOMATION_MIN = 0.5


def collaboration_shares(patterns: pd.DataFrame, usage, groups) -> pd.DataFrame:
    """Usage-weighted pattern shares per group, over the *classified* conversations.

    `patterns`: one row per (statement, task) with the five pattern columns and `filtered` (each row's
    shares of its conversations, summing to 1); `usage`: each row's share of all conversations (the
    weight); `groups`: the group (role or task) of each row. For group g and pattern p:
    share_p = sum(usage x p) / sum(usage x (1 - filtered)); automation_share = directive + feedback_loop,
    augmentation_share = 1 - automation_share. NaN where the group has no classified conversation.
    Also returned: `usage` (sum of usage), `usage_classified` (sum of usage x (1 - filtered)) and
    `tasks_with_pattern` is left to the caller.
    """
    u = np.asarray(usage, dtype="float64")
    frame = pd.DataFrame({"g": np.asarray(groups, dtype=object), "usage": u,
                          "usage_classified": u * (1.0 - patterns["filtered"].to_numpy(dtype="float64"))})
    for p in COLLABORATION_PATTERNS:
        frame[p] = u * patterns[p].to_numpy(dtype="float64")
    sums = frame.groupby("g", sort=True).sum()
    out = pd.DataFrame(index=sums.index)
    out["usage"] = sums["usage"]
    out["usage_classified"] = sums["usage_classified"]
    for p in COLLABORATION_PATTERNS:
        out[f"{p}_share"] = np.clip(safe_share(sums[p], sums["usage_classified"]), 0.0, 1.0)  # clip: rounding only
    auto = [f"{p}_share" for p, mode in COLLABORATION_PATTERNS.items() if mode == "automation"]
    out["automation_share"] = out[auto].sum(axis=1, min_count=len(auto)).clip(0.0, 1.0)
    out["augmentation_share"] = 1.0 - out["automation_share"]
    return out


def observed_use(automation_share) -> np.ndarray:
    """automation / augmentation / none (no classified conversation) from a task's automation share."""
    a = np.asarray(automation_share, dtype="float64")
    # the tolerance: a share of exactly one half computed as a ratio of sums may land a hair below it
    return np.where(np.isnan(a), "none", np.where(a >= OBSERVED_AUTOMATION_MIN - 1e-9, "automation", "augmentation"))


# --- employment and wages over time (OEWS May 2019 -> May 2025; taskshift.build.derive.labour_history) ---
#: The OEWS years of the series, and the three points of the two periods compared: before ChatGPT
#: (May 2019 -> May 2022) and since (May 2022 -> May 2025). Three years each, so their changes compare
#: directly. OEWS is dated May: May 2022 is six months before ChatGPT (30 November 2022).
OEWS_YEARS = (2019, 2020, 2021, 2022, 2023, 2024, 2025)
BEFORE_YEARS = (2019, 2022)
SINCE_YEARS = (2022, 2025)
#: Quintiles of a measure: bins of the (code-level mean of the) role percentile, 0-20, ..., 80-100.
QUINTILE_EDGES = (20.0, 40.0, 60.0, 80.0)


def pooled_change_pct(start, end) -> float:
    """Employment-weighted change of a group of codes, %: (sum(end) / sum(start) - 1) x 100.

    Equal to the start-employment-weighted mean of the codes' own changes. NaN when the start sum is
    not positive. Rows where either value is missing must be dropped by the caller (a balanced panel).
    """
    s = float(np.nansum(np.asarray(start, dtype="float64")))
    e = float(np.nansum(np.asarray(end, dtype="float64")))
    return (e / s - 1.0) * 100.0 if s > 0 else float("nan")


def weighted_change_pct(start, end, weight) -> float:
    """Weighted mean of the codes' own changes, %: sum(w x (end / start - 1)) / sum(w) x 100, over
    rows with start > 0, end and w present. Used for wages with w = start-year employment, so a shift
    of workers between codes (composition) does not move the figure."""
    s = np.asarray(start, dtype="float64")
    e = np.asarray(end, dtype="float64")
    w = np.asarray(weight, dtype="float64")
    ok = (s > 0) & ~np.isnan(e) & ~np.isnan(w) & (w > 0)
    if not ok.any():
        return float("nan")
    return float(np.sum(w[ok] * (e[ok] / s[ok] - 1.0)) / np.sum(w[ok]) * 100.0)


#: The year whose dollars real wages are expressed in (the newest OEWS year), by the May CPI-U (table `cpi`).
REAL_WAGE_BASE_YEAR = 2025


def real_change_pct(nominal_pct, cpi_start: float, cpi_end: float):
    """A nominal change (%) between two years as a real one (%): (1 + n/100) x cpi_start / cpi_end - 1, x 100.

    Because the deflator is one number per pair of years, the real change of a weighted mean of nominal
    changes is the weighted mean of the real changes (the map is affine)."""
    n = np.asarray(nominal_pct, dtype="float64")
    out = ((1.0 + n / 100.0) * float(cpi_start) / float(cpi_end) - 1.0) * 100.0
    return float(out) if out.ndim == 0 else out


def deflate(nominal, cpi_year, cpi_base: float):
    """A nominal amount of a year in base-year dollars: nominal x cpi_base / cpi_year (cpi_year: one index, or
    one per amount)."""
    return np.asarray(nominal, dtype="float64") * float(cpi_base) / np.asarray(cpi_year, dtype="float64")


def consensus_band(centre) -> np.ndarray:
    """low / medium / high of a consensus centre (0-100) by CONSENSUS_LEVELS; None where missing."""
    c = np.asarray(centre, dtype="float64")
    out = np.where(c < CONSENSUS_LEVELS[0], "low", np.where(c < CONSENSUS_LEVELS[1], "medium", "high")).astype(object)
    out[np.isnan(c)] = None
    return out


def quintile(percentile) -> np.ndarray:
    """Quintile 1 (least exposed) .. 5 of a percentile 0-100 by QUINTILE_EDGES; 0 where missing."""
    p = np.asarray(percentile, dtype="float64")
    out = np.searchsorted(np.asarray(QUINTILE_EDGES), p, side="right") + 1
    return np.where(np.isnan(p), 0, out).astype("int64")


# --- the role outlook on evidence (taskshift.build.derive.outlook -> role_outlook, role_outlook_evidence) ---
# A ROLE's outlook is decided from exposure (the consensus of the measure families, not GPT-4 alone),
# automation (observed use where the database has it, else GPT-4's prediction), the projected change
# (BLS EP 2024-34) and the observed change since ChatGPT (OEWS May 2022 -> May 2025 employment and Indeed
# postings since November 2022). A custom task bundle or workforce has no consensus and no observed
# change: it keeps the predicted rules above (OUTLOOK_RULES, `outlook_evidence`).
#: A role is *exposed* when its consensus centre (percentile among roles, role_consensus.centre) is at
#: least this: more exposed than the median role ...
OUTLOOK_EXPOSED_CENTRE_MIN = 50.0
#: ... and *highly* exposed (needed for elimination) from the consensus level "high" (66.7).
OUTLOOK_HIGH_CENTRE_MIN = CONSENSUS_LEVELS[1]
#: Observed automation (Anthropic Economic Index, role_collaboration.automation_share: directive and
#: feedback-loop use) is *mostly automation* from OBSERVED_AUTOMATION_MIN (0.5, defined above for a
#: task's observed use: one threshold for tasks and roles).

ROLE_OUTLOOK_RULES = (
    ("unknown", "no_exposure", "no consensus centre and no GPT-4 exposure label"),
    ("limited", "low_exposure",
     f"consensus centre < {OUTLOOK_EXPOSED_CENTRE_MIN:g} (without a consensus: GPT-4 exposed_share < {EXPOSED_SHARE_MIN:g})"),
    ("elimination", "exposed_automatable_declining",
     f"consensus centre >= {OUTLOOK_HIGH_CENTRE_MIN:.1f} (high; without a consensus: exposed_share >= {EXPOSED_SHARE_MIN:g}), "
     "mostly automation (observed share >= OBSERVED_AUTOMATION_MIN where the role has observed use, else GPT-4 "
     "automatable_share >= AUTOMATABLE_SHARE_MIN), a projected decline (EP change <= DECLINE_MAX_PCT) and no observed "
     "growth at or above the all-occupation change (OEWS 2022-2025)"),
    ("unknown", "no_change_evidence", "exposed, but neither a projection nor an observed employment change"),
    ("compression", "exposed_weak_demand",
     "exposed and demand below average: projected change below the all-occupation projection, or every observed "
     "signal below its reference (OEWS 2022-2025 employment change below the all-occupation change and, where the role "
     "has postings, their change since November 2022 below the median category)"),
    ("expansion", "exposed_growing_demand",
     "exposed, projected change at or above the all-occupation projection (or none) and observed demand not below average"),
)

#: The evidence items of a role outlook: (name, test, threshold constant or the name of a reference
#: passed in, source). One row each in role_outlook_evidence.
ROLE_OUTLOOK_EVIDENCE = (
    ("consensus_exposure", ">=", OUTLOOK_EXPOSED_CENTRE_MIN,
     "role_consensus.centre: median of the measure families' percentiles (0-100)"),
    ("high_consensus_exposure", ">=", OUTLOOK_HIGH_CENTRE_MIN,
     "role_consensus.centre against the consensus level 'high'"),
    ("exposed_share", ">=", EXPOSED_SHARE_MIN,
     "eloundou2023_gpt4_beta: share of the labelled task weight with a GPT-4 exposure label E1 or E2 (predicted; decides only "
     "without a consensus)"),
    ("automatable_share", ">=", AUTOMATABLE_SHARE_MIN,
     "eloundou2023_gpt4_automation: share of the exposed (E1/E2) task weight with a GPT-4 automation label T3 or T4 (predicted)"),
    ("observed_automation_share", ">=", OBSERVED_AUTOMATION_MIN,
     "role_collaboration.automation_share: Anthropic Economic Index, usage-weighted share of directive and feedback-loop use "
     "(observed)"),
    ("projected_decline", "<=", DECLINE_MAX_PCT,
     "bls_occupation_t1_2: BLS Employment Projections 2024-34, projected employment change (%) of the role's EP code"),
    ("below_average_growth", "<", "average_change_pct",
     "bls_occupation_t1_2: the same change against the projected change of all occupations (EP 2024-34, 00-0000)"),
    ("observed_employment_change", "<", "observed_average_pct",
     "oews_change: OEWS employment change May 2022 -> May 2025 (%) of the role's labour code, against 00-0000's"),
    ("postings_change", "<", "postings_reference_pct",
     "role_postings: Indeed postings change of the role's categories, November 2022 -> end month (%), against the median "
     "category (category-level, older vintage)"),
)
ROLE_OUTLOOK_RULE_INPUTS = {
    "no_exposure": ("consensus_exposure", "exposed_share"),
    "low_exposure": ("consensus_exposure",),
    "exposed_automatable_declining": ("consensus_exposure", "high_consensus_exposure", "automatable_share",
                                      "observed_automation_share", "projected_decline", "observed_employment_change"),
    "no_change_evidence": ("consensus_exposure", "projected_decline", "observed_employment_change"),
    "exposed_weak_demand": ("consensus_exposure", "below_average_growth", "observed_employment_change", "postings_change"),
    "exposed_growing_demand": ("consensus_exposure", "below_average_growth", "observed_employment_change", "postings_change"),
}


def _test(values, ok):
    return np.where(np.isnan(values), np.nan, ok.astype("float64"))


def role_outlook_evidence(centre, exposed_share, automatable_share, observed_automation_share, change_pct,
                          average_change_pct, observed_change_pct, observed_average_pct, postings_change_pct,
                          postings_reference_pct) -> dict[str, np.ndarray]:
    """The outlook of each role from its evidence, vectorised (aligned arrays, NaN where unknown).

    Returns `outlook`, `rule` (ROLE_OUTLOOK_RULES key), one test per ROLE_OUTLOOK_EVIDENCE item (1/0,
    NaN where the value is missing), and `exposure_basis` (consensus / gpt4 / none) and
    `automation_basis` (observed / predicted / none): which evidence stood for exposure and automation.
    """
    arr = lambda x: np.atleast_1d(np.asarray(x, dtype="float64"))  # noqa: E731
    c, es, auto, obs_auto, ch = arr(centre), arr(exposed_share), arr(automatable_share), arr(observed_automation_share), arr(change_pct)
    n = len(c)
    avg = np.broadcast_to(arr(average_change_pct), (n,))
    oc = arr(observed_change_pct)
    oavg = np.broadcast_to(arr(observed_average_pct), (n,))
    pc = arr(postings_change_pct)
    pref = np.broadcast_to(arr(postings_reference_pct), (n,))
    with np.errstate(invalid="ignore"):
        t = {
            "consensus_exposure": _test(c, c >= OUTLOOK_EXPOSED_CENTRE_MIN),
            "high_consensus_exposure": _test(c, c >= OUTLOOK_HIGH_CENTRE_MIN),
            "exposed_share": _test(es, es >= EXPOSED_SHARE_MIN),
            "automatable_share": _test(auto, auto >= AUTOMATABLE_SHARE_MIN),
            "observed_automation_share": _test(obs_auto, obs_auto >= OBSERVED_AUTOMATION_MIN),
            "projected_decline": _test(ch, ch <= DECLINE_MAX_PCT),
            "below_average_growth": _test(ch + avg, ch < avg),
            "observed_employment_change": _test(oc + oavg, oc < oavg),
            "postings_change": _test(pc + pref, pc < pref),
        }
    has_c = ~np.isnan(c)
    exposure_basis = np.where(has_c, "consensus", np.where(np.isnan(es), "none", "gpt4")).astype(object)
    exposed = np.where(has_c, t["consensus_exposure"], t["exposed_share"])
    high = np.where(has_c, t["high_consensus_exposure"], t["exposed_share"])
    has_obs_auto = ~np.isnan(obs_auto)
    automation_basis = np.where(has_obs_auto, "observed", np.where(np.isnan(auto), "none", "predicted")).astype(object)
    automatable = np.where(has_obs_auto, t["observed_automation_share"], t["automatable_share"])
    obs_emp, post = t["observed_employment_change"], t["postings_change"]
    # observed growth at or above the all-occupation change contradicts a decline
    observed_growth = obs_emp == 0.0
    # observed demand is weak when every observed signal the role has is below its reference
    observed_weak = np.where(np.isnan(obs_emp), post == 1.0, (obs_emp == 1.0) & (np.isnan(post) | (post == 1.0)))
    proj_below = t["below_average_growth"]
    conditions = [
        np.isnan(exposed),
        exposed == 0.0,
        (high == 1.0) & (automatable == 1.0) & (t["projected_decline"] == 1.0) & ~observed_growth,
        (exposed == 1.0) & np.isnan(proj_below) & np.isnan(obs_emp),
        (exposed == 1.0) & ((proj_below == 1.0) | observed_weak),
        exposed == 1.0,
    ]
    label = np.select(conditions, [r[0] for r in ROLE_OUTLOOK_RULES], default="unknown").astype(object)
    rule = np.select(conditions, [r[1] for r in ROLE_OUTLOOK_RULES], default="no_exposure").astype(object)
    return {"outlook": label, "rule": rule, "exposure_basis": exposure_basis, "automation_basis": automation_basis, **t}


def role_outlook_reason(rule: str, v: dict) -> str:
    """One sentence naming the figures and thresholds that decided a role's outlook (`v`: the item values
    by name, plus average_change_pct, observed_average_pct, postings_reference_pct)."""
    f = _fmt
    if v.get("consensus_exposure") is not None and v["consensus_exposure"] == v["consensus_exposure"]:
        exp = f"consensus exposure {f(v['consensus_exposure'], '.1f')} (percentile among roles)"
    else:
        exp = f"no consensus; GPT-4 exposed share {f(v.get('exposed_share'), '.2f')}"
    proj = (f"projected change {f(v.get('projected_decline'), '+.1f')}% (BLS EP 2024-34; all occupations "
            f"{f(v.get('average_change_pct'), '+.1f')}%)")
    obs = (f"observed employment change {f(v.get('observed_employment_change'), '+.1f')}% (OEWS May 2022-2025; all occupations "
           f"{f(v.get('observed_average_pct'), '+.1f')}%)")
    post = (f"postings since Nov 2022 {f(v.get('postings_change'), '+.1f')}% (median category "
            f"{f(v.get('postings_reference_pct'), '+.1f')}%)")
    oa = v.get("observed_automation_share")
    if oa is not None and oa == oa:
        auto = f"observed automation share {f(oa, '.2f')} (Anthropic)"
    else:
        auto = f"GPT-4 automatable share {f(v.get('automatable_share'), '.2f')}"
    if rule == "no_exposure":
        return "no consensus and no GPT-4 exposure label: the outlook cannot be decided"
    if rule == "low_exposure":
        lim = OUTLOOK_EXPOSED_CENTRE_MIN if "consensus" in exp else EXPOSED_SHARE_MIN
        return f"{exp} < {lim:g}: most of the work is not exposed to AI, so AI pressure on headcount is limited ({proj}; {obs})"
    if rule == "exposed_automatable_declining":
        return (f"{exp}, {auto} and {proj} <= {DECLINE_MAX_PCT:g}%, not contradicted by {obs}: exposed work that is mostly "
                "automation in a shrinking occupation (elimination pressure)")
    if rule == "no_change_evidence":
        return f"{exp}, but no projection and no observed change: the outlook cannot be decided"
    if rule == "exposed_weak_demand":
        return f"{exp}; demand below average: {proj}; {obs}; {post}: fewer people may do the same work with AI (compression pressure)"
    return f"{exp}; demand at or above average: {proj}; {obs}; {post}: exposed work with growing demand (productivity expansion)"


def role_outlook_items(rule: str, values: dict, references: dict, sources: dict | None = None,
                       exposure_basis: str = "consensus", automation_basis: str = "predicted") -> list[dict]:
    """The evidence rows of one role's outlook: name, value, test, threshold, holds (None where missing),
    decided (the rule read it: the exposure item of `exposure_basis`, the automation item of
    `automation_basis`) and source (`sources` may replace an item's source text, e.g. to say why an
    item is missing from this database)."""
    used = set(ROLE_OUTLOOK_RULE_INPUTS[rule])
    if exposure_basis == "gpt4" and used & {"consensus_exposure", "high_consensus_exposure"}:
        used = (used - {"consensus_exposure", "high_consensus_exposure"}) | {"exposed_share"}
    if rule == "no_exposure":
        used = {"consensus_exposure", "exposed_share"}
    used.discard("automatable_share" if automation_basis == "observed" else "observed_automation_share")
    out = []
    for name, op, threshold, source in ROLE_OUTLOOK_EVIDENCE:
        value = values.get(name)
        value = None if value is None or value != value else float(value)
        if isinstance(threshold, str):
            threshold = references.get(threshold)
            threshold = None if threshold is None or threshold != threshold else float(threshold)
        holds = None
        if value is not None and threshold is not None:
            holds = bool({">=": value >= threshold, "<=": value <= threshold, "<": value < threshold}[op])
        out.append({"evidence": name, "value": value, "test": op, "threshold": threshold, "holds": holds,
                    "decided": name in used, "source": (sources or {}).get(name, source)})
    return out
