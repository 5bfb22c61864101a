"""Derive the state tables: where people live (50 states and DC; OEWS by state, May 2024 and May 2025).

Inputs: `state_labor` and `states` (taskshift.build.ingest.oews_state), `roles`, `role_exposure`,
`role_consensus`, `measures`, `postings_by_state`. Outputs (definitions in the metadata table, key
`state_method`):

- `state_coverage` (state x year): the state's total employment (recovered from JOBS_1000, since the
  extract has no all-occupations row), the employment its published cells hold and their share
  (`coverage`: what suppression leaves out, stated, never imputed), codes listed, suppressed, missing.
- `state_exposure` (state x year x measure): exactly the sector arithmetic (taskshift.build.derive.
  sector_exposure): an OEWS code's score is the equal-weight mean of its roles' scores (roles.labor_code,
  so the OEWS aggregates and the codes several roles share are handled as nationally), the state's score
  the employment-weighted mean over its codes with a published employment and a score, the exposed
  employment the code employment x the share of its roles that are exposed (role_exposure.exposed: more
  exposed than 75% of US workers on the measure, the #9 definition). For May 2025 the change since May
  2024 of the employment in exposed and in unexposed roles, over the codes published in both years
  (so a cell suppressed in one year does not count as a change).
- `state_consensus` (state x year): the consensus of the families, each family's vote being where the
  state's average worker sits (the employment-weighted mean of the role percentiles on its headline
  measure), as for sectors; the share of workers in roles the consensus puts among the most exposed
  quarter of US workers (role_consensus.worker_percentile >= 75), and its change May 2024 -> May 2025.
- `state_roles` (state x OEWS code, latest year): the codes that drive the state's exposure: employment,
  location quotient, the code's consensus centre, exposed employment and its share of the state's.
- `states` gains Indeed's state postings index: change since February 2020 and since November 2022
  (ChatGPT) to the last complete month; the relationship with exposure across states is a correlation
  with its n in the metadata (key `state_postings_correlation`), no causal claim.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from taskshift import scoring
from taskshift.build.derive import consensus as _consensus
from taskshift.build.derive.sector_exposure import oews_code_scores

METHOD = {
    "total_employment": "the state's total employment = sum(published employment) / sum(published jobs per 1,000) x 1,000 "
                        "(OEWS JOBS_1000 = 1,000 x TOT_EMP / the state total; the extract has no all-occupations row)",
    "coverage": "published employment / total employment = sum of the published JOBS_1000 / 1,000: the share suppression "
                "leaves; suppressed cells are not imputed",
    "oews_code_score": "equal-weight mean of the scores of the O*NET roles under the OEWS code (roles.labor_code), as for sectors",
    "state_score": "employment-weighted mean of the code scores over the state's codes with a published employment and a score",
    "exposed_employment": f"state employment of each code x the share of its scored roles that are exposed (role_exposure.exposed: "
                          f"employment-weighted percentile >= {scoring.EXPOSED_PERCENTILE:g}, the same definition on every measure)",
    "consensus_vote": "a family's vote = the employment-weighted mean of the role percentiles on its headline measure "
                      "(state_exposure.mean_percentile): where the state's average worker sits",
    "consensus_exposed": f"a role is exposed on the consensus when role_consensus.worker_percentile >= {scoring.EXPOSED_PERCENTILE:g}",
    "change": "May 2024 -> May 2025 change of employment in exposed and in unexposed roles, over the codes with a published "
              "employment in both years (x the May 2025 scores); exposed = code employment x exposed fraction. OEWS pools "
              "three years of survey panels and BLS warns against reading it as a time series: compare states, do not "
              "read a one-year difference as an effect of AI",
    "drivers": "state_roles: codes ranked by exposed employment on the consensus (employment x exposed fraction), then by "
               "employment x consensus centre; location_quotient as BLS published it",
    "postings": "Indeed Job Postings Index by state (1 Feb 2020 = 100): mean of the last complete month vs 100 (since February "
                "2020) and vs the mean of November 2022 (since ChatGPT)",
}


def coverage(labor: pd.DataFrame, codes_with_roles: set[str]) -> pd.DataFrame:
    """One row per (state, year): total employment, what the published cells cover, codes listed and suppressed."""
    rows = []
    listed_any = labor.groupby("year")["oews_code"].apply(set)
    # numpy arrays sliced per (state, year): the sums are numpy's over the same values in the same order
    # as a pandas Series' sum (which adds missing values as 0)
    employment = labor["employment"].astype("float64").to_numpy()
    jobs = labor["jobs_per_1000"].to_numpy(dtype="float64")
    codes = labor["oews_code"].to_numpy()
    mapped_all = labor["oews_code"].isin(codes_with_roles).to_numpy()
    groups = labor.groupby(["state", "year"], sort=True).indices
    for state, year in sorted(groups):
        at = groups[(state, year)]
        emp, mapped = employment[at], mapped_all[at]
        published_emp = ~np.isnan(emp)
        both = published_emp & ~np.isnan(jobs[at])
        j = float(jobs[at][both].sum())
        total = float(emp[both].sum()) / j * 1000.0 if j > 0 else np.nan
        published = float(np.nansum(emp))
        rows.append({
            "state": state, "year": int(year), "employment_total": round(total) if total == total else None,
            "employment_published": round(published), "coverage": published / total if total > 0 else None,
            "codes_listed": len(at), "codes_with_employment": int(published_emp.sum()),
            "codes_suppressed": int((~published_emp).sum()),
            "codes_not_listed": len(listed_any[year] - set(codes[at])),
            "codes_without_role": int((~mapped).sum()),
            "employment_without_role": round(float(np.nansum(emp[~mapped]))),
        })
    out = pd.DataFrame(rows)
    for col in ("employment_total", "employment_published", "employment_without_role"):
        out[col] = out[col].astype("Int64")
    return out


def _keys(labor: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """An integer group id per row of `labor` for its (state, year), and the (state, year) of each id."""
    state, states = pd.factorize(labor["state"], sort=True)
    year, years = pd.factorize(labor["year"], sort=True)
    gid, pairs = pd.factorize(state * len(years) + year, sort=True)  # ids in (state, year) order
    return gid, pd.DataFrame({"state": pd.Index(list(states))[pairs // len(years)],  # str, as a MultiIndex level infers
                              "year": years[pairs % len(years)].astype(int)})


def state_exposure(labor: pd.DataFrame, cov: pd.DataFrame, code_scores: pd.DataFrame, exposure: pd.DataFrame) -> pd.DataFrame:
    gid, keys = _keys(labor)
    totals = keys.merge(cov, on=["state", "year"], how="left")["employment_total"].astype("float64")
    thresholds = exposure[exposure["exposed"] == 1].groupby("measure_id")["score"].min()
    years = sorted(labor["year"].unique())
    pairs = matched_pairs(labor, years)
    employment = labor["employment"].astype("float64").to_numpy()
    lookup = CodeLookup(labor["oews_code"])
    pair_lookup = CodeLookup(pairs["oews_code"])
    parts, fractions = [], {}
    for measure_id, codes in code_scores.groupby("measure_id", sort=True):
        by_code = codes.set_index(codes["oews_code"].astype(object))
        score, pct, frac = (lookup.take(by_code[c]) for c in ("score", "percentile", "exposed_fraction"))
        agg = scoring.employment_weighted(score, employment, gid, totals=totals)
        mean_pct = scoring.employment_weighted(pct, employment, gid)
        share = scoring.employment_weighted(frac, employment, gid)
        out = keys.copy()
        ids = np.arange(len(keys))
        out["score"] = agg["score"].reindex(ids).to_numpy()
        out["coverage"] = agg["coverage"].reindex(ids).to_numpy()
        out["scored_employment"] = agg["scored_employment"].reindex(ids).to_numpy()
        out["mean_percentile"] = mean_pct["score"].reindex(ids).to_numpy()
        out["exposed_share"] = share["score"].reindex(ids).to_numpy()
        out["exposed_employment"] = out["exposed_share"].fillna(0.0) * out["scored_employment"]
        counted = ~np.isnan(score) & ~np.isnan(employment)
        out["n_codes"] = np.bincount(gid[counted], minlength=len(keys))
        out["employment"] = totals.round().astype("Int64").to_numpy()
        out["measure_id"] = measure_id
        out["threshold"] = float(thresholds[measure_id]) if measure_id in thresholds.index else np.nan
        fractions[measure_id] = pair_lookup.take(by_code["exposed_fraction"])
        parts.append(out)
    result = pd.concat(parts, ignore_index=True)
    result["rank"] = result.groupby(["measure_id", "year"])["score"].rank(method="min", ascending=False).astype("Int64")
    result = result.merge(exposed_changes(pairs, fractions, years), on=["measure_id", "state", "year"], how="left")
    for col in ("scored_employment", "exposed_employment"):
        result[col] = result[col].round().astype("Int64")
    columns = ["state", "year", "measure_id", "score", "mean_percentile", "rank", "coverage", "employment",
               "scored_employment", "exposed_employment", "exposed_share", "threshold", "n_codes",
               "exposed_change_pct", "unexposed_change_pct", "change_codes"]
    return result[columns].sort_values(["measure_id", "state", "year"], ignore_index=True)


class CodeLookup:
    """Values per OEWS code put on many rows fast: the rows' codes are matched to the codes once."""

    def __init__(self, codes: pd.Series):
        self.index = pd.Index(sorted(set(codes)), dtype=object)
        self.pos = self.index.get_indexer(pd.Index(codes, dtype=object))

    def take(self, values: pd.Series) -> np.ndarray:
        aligned = np.append(values.reindex(self.index).to_numpy(dtype="float64"), np.nan)
        return aligned[self.pos]  # pos is never -1: every row's code is in the index


def matched_pairs(labor: pd.DataFrame, years: list) -> pd.DataFrame:
    """(state, oews_code, e0, e1): the codes with a published employment in the first and the last year."""
    if len(years) < 2:
        return pd.DataFrame(columns=["state", "oews_code", "e0", "e1"])
    pub = labor[labor["employment"].notna()]
    a = pub[pub["year"] == years[0]][["state", "oews_code", "employment"]].rename(columns={"employment": "e0"})
    b = pub[pub["year"] == years[-1]][["state", "oews_code", "employment"]].rename(columns={"employment": "e1"})
    out = a.merge(b, on=["state", "oews_code"])
    out["e0"] = out["e0"].astype("float64")
    out["e1"] = out["e1"].astype("float64")
    return out


def exposed_change(pairs: pd.DataFrame, fraction, years: list) -> pd.DataFrame:
    """For each state, the change from the first to the last year of the employment in exposed roles
    (code employment x its exposed `fraction`) and in unexposed roles (x 1 - fraction), over the codes with
    a fraction and a published employment in both years (`matched_pairs`). One row per state, on the last year."""
    f = (pairs["oews_code"].map(fraction) if isinstance(fraction, pd.Series) else pd.Series(fraction)).to_numpy(dtype="float64")
    return exposed_changes(pairs, {None: f}, years).drop(columns="measure_id")


def exposed_changes(pairs: pd.DataFrame, fractions: dict, years: list) -> pd.DataFrame:
    """`exposed_change` for several measures at once: `fractions` maps a measure id to the exposed fraction
    of each row of `pairs`; one row per (measure_id, state) where the state has a code with a fraction."""
    cols = ["measure_id", "state", "year", "exposed_change_pct", "unexposed_change_pct", "change_codes"]
    if len(years) < 2 or not len(pairs) or not fractions:
        return pd.DataFrame(columns=cols)
    f = np.column_stack([np.asarray(v, dtype="float64") for v in fractions.values()])  # pairs x measures, NaN: none
    state, states = pd.factorize(pairs["state"], sort=True)
    measure, row = np.nonzero(~np.isnan(f.T))  # the (measure, pair row) with a fraction, measure by measure
    f, e0, e1 = f[row, measure], pairs["e0"].to_numpy()[row], pairs["e1"].to_numpy()[row]
    grouped = pd.DataFrame({"x0": e0 * f, "x1": e1 * f, "u0": e0 * (1 - f), "u1": e1 * (1 - f)}).groupby(
        measure * len(states) + state[row], sort=True)  # one group per (measure, state)
    sums, n = grouped.sum(), grouped.size()
    return pd.DataFrame({"measure_id": np.array(list(fractions), dtype=object)[sums.index // len(states)],
                         "state": np.asarray(states, dtype=object)[sums.index % len(states)], "year": int(years[-1]),
                         "exposed_change_pct": scoring.index_change_pct(sums["x1"], sums["x0"]),
                         "unexposed_change_pct": scoring.index_change_pct(sums["u1"], sums["u0"]),
                         "change_codes": n.to_numpy()})[cols]


def code_consensus(roles: pd.DataFrame, role_cons: pd.DataFrame) -> pd.DataFrame:
    """Per OEWS code: the mean consensus centre of its roles and the share of them exposed on the consensus."""
    joined = role_cons[["role_code", "centre", "worker_percentile"]].merge(
        roles[["code", "labor_code"]].rename(columns={"code": "role_code"}), on="role_code")
    joined = joined[joined["labor_code"].notna() & joined["centre"].notna()]
    centre = scoring.group_mean(joined["centre"], joined["labor_code"])
    exposed = scoring.group_mean(pd.Series(scoring.exposed(joined["worker_percentile"])), joined["labor_code"])
    return pd.DataFrame({"oews_code": centre.index, "centre": centre["score"].to_numpy(),
                         "exposed_fraction": exposed["score"].reindex(centre.index).to_numpy(),
                         "n_roles": centre["n"].to_numpy()})


def state_consensus(states: pd.DataFrame, labor: pd.DataFrame, cov: pd.DataFrame, exp: pd.DataFrame,
                    choice: pd.DataFrame, reference, codes: pd.DataFrame) -> pd.DataFrame:
    keys = cov[["state", "year"]].sort_values(["state", "year"])
    index = pd.MultiIndex.from_frame(keys)
    votes, cover = {}, {}
    for row in choice.itertuples(index=False):
        sub = exp[exp["measure_id"] == row.measure_id].set_index(["state", "year"]).reindex(index)
        votes[row.family] = sub["mean_percentile"].astype("float64")
        cover[row.family] = sub["coverage"].astype("float64")
    votes = pd.DataFrame(votes, index=index)
    counted = list(choice.loc[choice["counted"], "family"])
    context = votes[[f for f in votes.columns if f not in counted]]
    evidence = dict(zip(choice["family"], choice["evidence"]))
    out = _consensus.consensus_frame(votes[counted], evidence, context, reference)
    out["min_coverage"] = pd.DataFrame(cover, index=index)[counted].min(axis=1)
    out = out.reset_index()
    # exposed on the consensus, and its change May 2024 -> May 2025
    gid, keys = _keys(labor)
    fraction = codes.set_index("oews_code")["exposed_fraction"]
    share = scoring.employment_weighted(labor["oews_code"].map(fraction).to_numpy(dtype="float64"),
                                        labor["employment"].astype("float64").to_numpy(), gid)
    share = keys.assign(scored_employment=share["scored_employment"].reindex(np.arange(len(keys))).to_numpy(),
                        exposed_share=share["score"].reindex(np.arange(len(keys))).to_numpy())
    out = out.merge(share, on=["state", "year"], how="left")
    out["exposed_employment"] = (out["exposed_share"].fillna(0.0) * out["scored_employment"]).round().astype("Int64")
    out["scored_employment"] = out["scored_employment"].round().astype("Int64")
    years = sorted(labor["year"].unique())
    out = out.merge(exposed_change(matched_pairs(labor, years), fraction, years), on=["state", "year"], how="left")
    out = out.merge(cov[["state", "year", "employment_total"]].rename(columns={"employment_total": "employment"}),
                    on=["state", "year"], how="left")
    out["rank"] = out.groupby("year")["centre"].rank(method="min", ascending=False).astype("Int64")
    return out.sort_values(["state", "year"], ignore_index=True)


def state_roles(labor: pd.DataFrame, codes: pd.DataFrame) -> pd.DataFrame:
    """The codes behind each state's exposure in the latest year, with their change since the first year."""
    years = sorted(labor["year"].unique())
    last = labor[labor["year"] == years[-1]]
    prev = labor[labor["year"] == years[0]].set_index(["state", "oews_code"])["employment"] if len(years) > 1 else None
    out = last[["state", "year", "oews_code", "title", "employment", "jobs_per_1000", "location_quotient"]].merge(
        codes, on="oews_code", how="left")
    emp = out["employment"].astype("float64")
    out["exposed_employment"] = emp * out["exposed_fraction"]
    out["weighted_exposure"] = emp * out["centre"]
    total = out.groupby("state")["exposed_employment"].transform("sum")
    out["exposed_employment_share"] = (out["exposed_employment"] / total).where(total > 0)
    if prev is not None:
        out["employment_prev"] = pd.Series(list(zip(out["state"], out["oews_code"]))).map(prev).astype("Int64").to_numpy()
        out["employment_change_pct"] = scoring.index_change_pct(emp, out["employment_prev"].astype("float64"))
    else:
        out["employment_prev"], out["employment_change_pct"] = pd.NA, np.nan
    out = out.sort_values(["state", "exposed_employment", "weighted_exposure", "employment", "oews_code"],
                          ascending=[True, False, False, False, True], na_position="last", ignore_index=True)
    out["rank"] = out.groupby("state").cumcount() + 1
    out["exposed_employment"] = out["exposed_employment"].round().astype("Int64")
    out["n_roles"] = out["n_roles"].astype("Int64")
    return out.rename(columns={"centre": "consensus_centre", "exposed_fraction": "exposed_fraction"})[
        ["state", "year", "oews_code", "title", "rank", "employment", "jobs_per_1000", "location_quotient", "n_roles",
         "consensus_centre", "exposed_fraction", "exposed_employment", "exposed_employment_share", "weighted_exposure",
         "employment_prev", "employment_change_pct"]]


def postings(states: pd.DataFrame, by_state: pd.DataFrame | None) -> pd.DataFrame:
    out = states.copy()
    cols = ["postings_month", "postings_index", "postings_change_since_feb2020", "postings_change_since_chatgpt"]
    if by_state is None or not len(by_state):
        for c in cols:
            out[c] = None
        return out
    complete = by_state[by_state["complete"] == 1]
    last = complete["month"].max()
    end = complete[complete["month"] == last].set_index("state")["index_mean"]
    chatgpt = by_state[by_state["month"] == scoring.CHATGPT_MONTH].set_index("state")["index_mean"]
    out["postings_month"] = last
    out["postings_index"] = out["state"].map(end)
    out["postings_change_since_feb2020"] = scoring.index_change_pct(out["postings_index"], scoring.POSTINGS_BASE_INDEX)
    out["postings_change_since_chatgpt"] = scoring.index_change_pct(out["postings_index"], out["state"].map(chatgpt))
    return out


def pearson(x, y) -> float:
    x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    ok = ~np.isnan(x) & ~np.isnan(y)
    if ok.sum() < 3:
        return float("nan")
    return float(np.corrcoef(x[ok], y[ok])[0, 1])


def correlations(cons: pd.DataFrame, states: pd.DataFrame) -> dict:
    latest = cons[cons["year"] == cons["year"].max()].set_index("state")
    out = {"year": int(cons["year"].max()), "postings_month": states["postings_month"].iloc[0],
           "note": "across the 50 states and DC, one point per state; a correlation, not a cause: states differ in "
                   "industry mix, population growth and recovery from 2020 in ways neither series controls"}
    for exposure_col in ("centre", "exposed_share"):
        for change in ("postings_change_since_feb2020", "postings_change_since_chatgpt"):
            x = latest[exposure_col].reindex(states["state"]).to_numpy(dtype="float64")
            y = states[change].to_numpy(dtype="float64")
            ok = ~np.isnan(x) & ~np.isnan(y)
            out[f"{exposure_col}~{change}"] = {"n": int(ok.sum()), "pearson": round(pearson(x, y), 4),
                                               "spearman": round(scoring.spearman(x[ok], y[ok]), 4)}
    return out


def national_check(labor: pd.DataFrame, labor_stats: pd.DataFrame, code_scores: pd.DataFrame, codes: pd.DataFrame,
                   measure_id: str) -> dict:
    """National exposure recomputed from the state tables beside the national figure (labor_stats employment)."""
    nat = labor_stats.loc[labor_stats["o_group"] == "detailed", ["code", "employment"]].rename(columns={"code": "oews_code"})
    head = code_scores[code_scores["measure_id"] == measure_id][["oews_code", "score", "percentile"]]
    out = {"measure_id": measure_id}
    total_nat = labor_stats.set_index("code")["employment"].get("00-0000")
    for year, g in labor.groupby("year"):
        summed = g.groupby("oews_code")["employment"].sum(min_count=1).rename("employment").reset_index()
        row = {}
        for name, frame in (("states", summed), ("national", nat)):
            f = frame.merge(head, on="oews_code", how="left").merge(codes[["oews_code", "centre"]], on="oews_code", how="left")
            e = f["employment"].astype("float64")
            for col in ("score", "percentile", "centre"):
                w = scoring.employment_weighted(f[col], e, pd.Series(0, index=f.index))
                row[f"{name}_{col}"] = round(float(w["score"].iloc[0]), 4)
            row[f"{name}_employment"] = int(e.sum())
        row["employment_ratio"] = round(row["states_employment"] / float(total_nat), 4) if total_nat else None
        out[str(int(year))] = row
    return out


def derive(ctx) -> None:
    labor = ctx.frames.get("state_labor")
    exposure = ctx.frames.get("role_exposure")
    if labor is None:
        return
    # plain Python strings: the arithmetic below groups and maps on them 51 x 2 x 21 times
    labor = labor.astype({"state": object, "oews_code": object})
    roles = ctx.frames["roles"]
    cov = coverage(labor, set(roles["labor_code"].dropna()))
    ctx.frames["state_coverage"] = cov
    states = postings(ctx.frames["states"], ctx.frames.get("postings_by_state"))
    ctx.frames["states"] = states
    if exposure is None or "role_consensus" not in ctx.frames:
        return
    code_scores = oews_code_scores(roles, exposure)
    exp = state_exposure(labor, cov, code_scores, exposure)
    ctx.frames["state_exposure"] = exp
    choice = _consensus.family_choice(ctx.frames["measures"], exposure)
    role_cons = ctx.frames["role_consensus"]
    weights = _consensus.role_weights(roles).reindex(role_cons["role_code"]).to_numpy(dtype="float64")
    reference = (role_cons["centre"].to_numpy(dtype="float64"), weights)
    codes = code_consensus(roles, role_cons)
    cons = state_consensus(states, labor, cov, exp, choice, reference, codes)
    ctx.frames["state_consensus"] = cons
    ctx.frames["state_roles"] = state_roles(labor, codes)
    ctx.note("state_method", METHOD, "how the state tables are made from OEWS by state (taskshift.build.derive.states)")
    ctx.note("state_postings_correlation", correlations(cons, states),
             "Indeed state postings change vs state exposure (consensus centre, exposed share) across states: n, Pearson, Spearman")
    ctx.note("state_national_check", national_check(labor, ctx.frames["labor_stats"], code_scores, codes,
                                                    scoring.HEADLINE_MEASURE),
             "national exposure recomputed from the state tables (employment summed over states) beside the national "
             "figure (labor_stats employment), per state year: headline score, mean role percentile, consensus centre")
