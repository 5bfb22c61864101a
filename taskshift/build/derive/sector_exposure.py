"""Derive `sector_exposure` (every OEWS sector x every role-level measure) and the curated sector
profiles (`sector_profiles`, `sector_profile_sectors`, `sector_profile_roles`) with their data.

Role scores live on O*NET-SOC roles; sector employment (OEWS May 2024 by NAICS sector) on OEWS codes.
The steps, and the definitions written to the metadata table (key `sector_exposure_method`):

1. OEWS code score = equal-weight mean of the scores of the O*NET roles under the code
   (roles.labor_code), over the roles that carry the measure; O*NET publishes no employment below
   the OEWS code. The code's percentile = the same mean of the roles' percentiles.
2. Sector score = employment-weighted mean of the code scores over the sector's detailed OEWS codes
   with both a published employment and a score (`scoring.employment_weighted`).
3. coverage = that scored employment / the sector's total employment (OEWS 00-0000 row of the
   sector: includes codes whose employment OEWS does not publish ('**') and codes no score reaches).
4. exposed employment = the sector's employment in each OEWS code x the share of the code's scored
   roles that are exposed (role_exposure.exposed: employment-weighted percentile >= 75, i.e. the
   role is more exposed than 75% of US workers on the measure; the code's employment is split evenly
   over its roles, as O*NET publishes no employment below the code); exposed_share = exposed /
   scored employment. The same definition on every measure: across the whole economy the exposed
   roles hold about a quarter of scored employment whatever the measure's scale (a quartile of
   *roles* held 12% to 37% of employment depending on the measure). `threshold` is the lowest score
   of an exposed role.

Felten's AIIE, published for industries, stays at its own level in `industry_exposure`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from taskshift.build import curated
from taskshift import scoring
from taskshift.scoring import HEADLINE_MEASURE

METHOD = {
    "oews_code_score": "equal-weight mean of the scores of the O*NET roles under the OEWS code (roles.labor_code) that carry the measure",
    "sector_score": "employment-weighted mean of the OEWS code scores over the sector's detailed codes with a published employment and a score (OEWS May 2024 by sector)",
    "coverage": "employment with a score / the sector's total OEWS employment",
    "exposed_employment": f"sector employment of each OEWS code x the share of the code's scored roles that are exposed (employment-weighted "
                          f"percentile >= {scoring.EXPOSED_PERCENTILE:g}: more exposed than {scoring.EXPOSED_PERCENTILE:g}% of US workers on the measure)",
    "threshold": "the lowest score of an exposed role on the measure",
    "headline_measure": HEADLINE_MEASURE,
}


def oews_code_scores(roles: pd.DataFrame, exposure: pd.DataFrame) -> pd.DataFrame:
    """One row per (measure_id, oews_code): mean score, mean percentile and exposed share of the code's roles."""
    joined = exposure.merge(roles[["code", "labor_code"]].rename(columns={"code": "role_code"}), on="role_code")
    joined = joined[joined["labor_code"].notna()]
    parts = []
    for measure_id, rows in joined.groupby("measure_id", sort=True):
        scores = scoring.group_mean(rows["score"], rows["labor_code"])
        pct = scoring.group_mean(rows["percentile"], rows["labor_code"])
        exposed = scoring.group_mean(rows["exposed"].astype("float64"), rows["labor_code"])
        parts.append(pd.DataFrame({"measure_id": measure_id, "oews_code": scores.index, "score": scores["score"].to_numpy(),
                                   "percentile": pct["score"].to_numpy(), "exposed_fraction": exposed["score"].to_numpy(),
                                   "n_roles": scores["n"].to_numpy()}))
    return pd.concat(parts, ignore_index=True)


def sector_exposure(sectors: pd.DataFrame, sector_roles: pd.DataFrame, code_scores: pd.DataFrame,
                    exposure: pd.DataFrame) -> pd.DataFrame:
    detailed = sector_roles.loc[sector_roles["o_group"] == "detailed", ["naics_code", "oews_code", "employment"]]
    totals = sectors.set_index("naics_code")["employment"].astype("float64")
    thresholds = exposure[exposure["exposed"] == 1].groupby("measure_id")["score"].min()
    # every measure's rows are `detailed`'s, in its order: each row's sector as a number (sectors in sorted
    # order, so the sums come out in the same order as by code), made once
    sector, codes_of = pd.factorize(detailed["naics_code"], sort=True)
    codes_of = np.asarray(codes_of, dtype=object)
    sector_totals = pd.Series(totals.reindex(codes_of).to_numpy(), index=np.arange(len(codes_of)))
    employment = detailed["employment"].to_numpy(dtype="float64", na_value=np.nan)
    parts = []
    for measure_id, codes in code_scores.groupby("measure_id", sort=True):
        at = pd.Index(codes["oews_code"]).get_indexer(detailed["oews_code"])  # -1: the code has no score (NaN below)
        rows = {c: np.append(codes[c].to_numpy(dtype="float64"), np.nan)[at] for c in ("score", "percentile", "exposed_fraction")}
        agg = scoring.employment_weighted(rows["score"], employment, sector, totals=sector_totals)
        pct = scoring.employment_weighted(rows["percentile"], employment, sector)
        share = scoring.employment_weighted(rows["exposed_fraction"], employment, sector)
        agg["exposed_share"] = share["score"]
        agg["exposed_employment"] = share["score"].fillna(0.0) * share["scored_employment"]
        n_codes = pd.Series(sector[~np.isnan(rows["score"]) & ~np.isnan(employment)]).value_counts()
        out = agg.rename_axis("sector").reset_index()
        out.insert(0, "naics_code", codes_of[out.pop("sector")])
        out["mean_percentile"] = pct["score"].reindex(agg.index).to_numpy()
        out["n_codes"] = n_codes.reindex(agg.index).fillna(0).astype(int).to_numpy()
        out["measure_id"] = measure_id
        out["threshold"] = float(thresholds[measure_id])
        out["employment"] = out["naics_code"].map(totals).astype("Int64")
        out["rank"] = out["score"].rank(method="min", ascending=False).astype("Int64")
        parts.append(out)
    result = pd.concat(parts, ignore_index=True)
    for col in ("scored_employment", "exposed_employment"):
        result[col] = result[col].round().astype("Int64")
    result = result.rename(columns={"naics_code": "sector_code"})
    columns = ["sector_code", "measure_id", "score", "mean_percentile", "rank", "coverage", "employment",
               "scored_employment", "exposed_employment", "exposed_share", "threshold", "n_codes"]
    return result[columns].sort_values(["measure_id", "sector_code"], ignore_index=True)


def profiles(ctx, exposure: pd.DataFrame, sector_exp: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The curated sector profiles with the data beside them (headline measure and every measure)."""
    prof = curated.read("sector_profiles")
    sect = curated.read("sector_profile_sectors")
    roles = curated.read("sector_profile_roles")
    known = set(prof["profile_key"])
    problems = [f"dataset/curated/{name}.csv: row {i}: profile_key {k!r} is not in sector_profiles.csv"
                for name, frame in (("sector_profile_sectors", sect), ("sector_profile_roles", roles))
                for i, k in frame["profile_key"].items() if k not in known]
    if problems:
        from taskshift.build.assemble import BuildError
        raise BuildError(problems)

    headline = exposure[exposure["measure_id"] == HEADLINE_MEASURE].set_index("role_code")
    roles = roles.reset_index(drop=True)
    roles["measure_id"] = HEADLINE_MEASURE
    roles["score"] = roles["role_code"].map(headline["score"])
    roles["percentile"] = roles["role_code"].map(headline["percentile"])
    mean_pct = exposure.groupby("role_code")["percentile"].mean()
    n_measures = exposure.groupby("role_code").size()
    roles["mean_percentile_all"] = roles["role_code"].map(mean_pct)
    roles["n_measures"] = roles["role_code"].map(n_measures).fillna(0).astype(int)

    # Employment of the role's OEWS code in the profile's sectors (detailed rows; '**' counts as 0).
    labor = ctx.frames["roles"].set_index("code")["labor_code"]
    roles["labor_code"] = roles["role_code"].map(labor)
    by_sector = ctx.frames["sector_roles"]
    by_sector = by_sector[by_sector["o_group"] == "detailed"]
    in_profile = sect[["profile_key", "naics_code"]].merge(by_sector[["naics_code", "oews_code", "employment"]], on="naics_code")
    emp = in_profile.groupby(["profile_key", "oews_code"])["employment"].sum(min_count=1)
    roles["employment_in_sectors"] = [
        emp.get((p, c)) if isinstance(c, str) else None for p, c in zip(roles["profile_key"], roles["labor_code"])]
    roles["employment_in_sectors"] = pd.to_numeric(roles["employment_in_sectors"]).round().astype("Int64")

    head_sect = sector_exp[sector_exp["measure_id"] == HEADLINE_MEASURE].set_index("sector_code")
    sect = sect.reset_index(drop=True)
    sect["measure_id"] = HEADLINE_MEASURE
    for col in ("score", "mean_percentile", "rank", "coverage", "exposed_share"):
        sect[col] = sect["naics_code"].map(head_sect[col]) if len(head_sect) else None

    # Do the data agree with the narrative? Mean percentile of the under-pressure roles vs the growing
    # ones, on the headline measure and counted over every measure.
    prof = prof.reset_index(drop=True)
    side = roles.groupby(["profile_key", "side"])["percentile"].mean()
    prof["measure_id"] = HEADLINE_MEASURE
    prof["growing_percentile"] = prof["profile_key"].map(lambda k: side.get((k, "growing")))
    prof["under_pressure_percentile"] = prof["profile_key"].map(lambda k: side.get((k, "under_pressure")))
    prof["percentile_gap"] = prof["under_pressure_percentile"] - prof["growing_percentile"]
    prof["data_agree"] = (prof["percentile_gap"] > 0).astype("Int64").where(prof["percentile_gap"].notna())
    every = roles[["profile_key", "side", "role_code"]].merge(exposure[["role_code", "measure_id", "percentile"]], on="role_code")
    per = every.groupby(["profile_key", "measure_id", "side"])["percentile"].mean().unstack("side")
    per = per.dropna(subset=[c for c in ("growing", "under_pressure") if c in per.columns])
    agree = (per["under_pressure"] > per["growing"]).groupby("profile_key")
    prof["measures_agreeing"] = prof["profile_key"].map(agree.sum()).fillna(0).astype(int)
    prof["measures_compared"] = prof["profile_key"].map(agree.size()).fillna(0).astype(int)
    prof["naics_codes"] = prof["profile_key"].map(sect.groupby("profile_key")["naics_code"].agg(",".join))
    return {"sector_profiles": prof, "sector_profile_sectors": sect, "sector_profile_roles": roles.drop(columns="labor_code")}


def derive(ctx) -> None:
    exposure = ctx.frames.get("role_exposure")
    if exposure is None or "sector_roles" not in ctx.frames:
        return
    codes = oews_code_scores(ctx.frames["roles"], exposure)
    result = sector_exposure(ctx.frames["sectors"], ctx.frames["sector_roles"], codes, exposure)
    ctx.frames["sector_exposure"] = result
    ctx.frames.update(profiles(ctx, exposure, result))
    ctx.note("sector_exposure_method", METHOD, "how sector_exposure aggregates role scores to OEWS codes and sectors")
