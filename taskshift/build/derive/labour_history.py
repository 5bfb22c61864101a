"""Derive employment and wages over time per OEWS code, and "is exposure showing up?".

Input: `oews_history` (OEWS national May 2019 -> May 2025, `taskshift.build.ingest.oews_history`),
`soc_groups`, `roles`, `role_consensus`, `role_exposure`, `measures`. Outputs:

- `oews_series`: one row per (OEWS code, year), every level (00-0000 total ... detailed), with
  employment, mean and median wages (nominal USD) and flags: `code_kind` (soc_2018: a SOC 2018 code;
  oews_aggregate: an OEWS aggregate of several SOC 2018 detailed codes, e.g. 13-1020;
  hybrid_2019_2020: a May 2019-2020 BLS code of the SOC 2010 -> 2018 transition, e.g. 15-1256, with
  no row after 2020), `years_published`, `roles_sharing` (O*NET roles whose labour figures come from
  the code: a shared code's figures belong to the code, never to one role).
- `oews_change`: one row per OEWS code: the May 2019, 2022 and 2025 figures and the changes before
  ChatGPT (2019 -> 2022) and since (2022 -> 2025), employment and wages, nominal and real.
- `cpi`: the May CPI-U (BLS series CUUR0000SA0) of each OEWS year, curated in dataset/curated/cpi.csv;
  real wages are in May 2025 dollars (`scoring.REAL_WAGE_BASE_YEAR`): a May wage deflated by the May
  index (`scoring.deflate`, `scoring.real_change_pct`).
- `exposure_showing_up`: employment and wage change 2022 -> 2025 against 2019 -> 2022 by consensus
  exposure band (and over the predicted families only, and the observed ones only) and by each
  measure's quintile. Unit: OEWS detailed codes published in May 2019, 2022 and 2025 under the same
  code (a balanced panel); a code's exposure is the mean over its roles (roles.labor_code). Groups
  pool their codes (`scoring.pooled_change_pct`: employment-weighted); wage changes are the
  start-employment-weighted mean of each code's own change (`scoring.weighted_change_pct`), so a
  shift of workers between codes does not move them.

What this can show and cannot (also in docs/observed.md and the table descriptions): OEWS counts wage
and salary jobs in May of each year from a three-year rolling survey sample; the two periods differ
in more than AI (2019 -> 2022 holds the pandemic and its recovery; 2022 -> 2025 rates, the tech
hiring cycle); composition changes within a code are not seen; nothing here is a causal estimate.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from taskshift import scoring

Y0, Y1, Y2 = scoring.BEFORE_YEARS[0], scoring.SINCE_YEARS[0], scoring.SINCE_YEARS[1]

SERIES_COLUMNS = ["code", "year", "title", "o_group", "code_kind", "employment", "employment_rse", "mean_wage",
                  "median_wage", "mean_wage_real", "median_wage_real", "mean_hourly_wage", "median_hourly_wage", "wage_flag", "years_published",
                  "complete_series", "roles_sharing"]

#: Groupings of `exposure_showing_up`: name -> (role_consensus column, what it is).
CONSENSUS_GROUPINGS = {
    "consensus": ("centre", "consensus of every family (role_consensus.centre)"),
    "predicted": ("predicted_centre", "consensus of the predicted families only (what AI could do)"),
    "observed": ("observed_centre", "consensus of the observed families only (what people use AI for)"),
}

CAVEATS = ("OEWS is annual and dated May (May 2022 is six months before ChatGPT); estimates pool three years of survey "
           "panels, so a May 2025 figure still holds 2022-2023 responses; the periods differ in more than AI (the pandemic "
           "and its recovery before, interest rates and the tech hiring cycle since); changes of composition within a code "
           "are not seen; codes whose scope changed between years are left out (hybrid codes of 2019-2020); nothing here "
           "is a causal estimate of what AI did.")


def code_kinds(series: pd.DataFrame, soc_groups: pd.DataFrame) -> pd.Series:
    """Per code: soc_2018, oews_aggregate (published from 2021, not a SOC code) or hybrid_2019_2020."""
    soc = set(soc_groups["code"]) | {"00-0000"}
    later = set(series.loc[series["year"] >= 2021, "code"])
    codes = pd.Series(sorted(series["code"].unique()))
    kind = np.where(codes.isin(soc), "soc_2018", np.where(codes.isin(later), "oews_aggregate", "hybrid_2019_2020"))
    return pd.Series(kind, index=codes.to_numpy())


def cpi_table(cpi: pd.DataFrame) -> pd.DataFrame:
    """The curated May CPI-U with `to_base`: the factor from a year's dollars to REAL_WAGE_BASE_YEAR dollars."""
    c = cpi.sort_values("year", ignore_index=True)
    years = set(c["year"].astype(int))
    if years != set(scoring.OEWS_YEARS):
        from taskshift.build.assemble import BuildError
        raise BuildError([f"dataset/curated/cpi.csv: column year: the May CPI-U of {sorted(set(scoring.OEWS_YEARS) - years)} "
                          f"is missing (every OEWS year {scoring.OEWS_YEARS[0]}-{scoring.OEWS_YEARS[-1]} needs one)"])
    base = float(c.loc[c["year"] == scoring.REAL_WAGE_BASE_YEAR, "value"].iloc[0])
    c["to_base"] = base / c["value"].astype("float64")
    return c[["series_id", "year", "month", "value", "to_base", "source"]]


def series_table(history: pd.DataFrame, soc_groups: pd.DataFrame, roles: pd.DataFrame,
                 cpi: pd.DataFrame) -> pd.DataFrame:
    s = history.copy()
    index = s["year"].map(cpi.set_index("year")["value"]).astype("float64")
    base = float(cpi.set_index("year").loc[scoring.REAL_WAGE_BASE_YEAR, "value"])
    for col in ("mean_wage", "median_wage"):
        s[f"{col}_real"] = pd.Series(np.round(scoring.deflate(s[col].astype("float64"), index, base)),
                                     index=s.index).astype("Int64")
    s["code_kind"] = s["code"].map(code_kinds(s, soc_groups))
    published = s[s["employment"].notna()].groupby("code")["year"].nunique()
    s["years_published"] = s["code"].map(published).fillna(0).astype("int64")
    s["complete_series"] = (s["years_published"] == len(scoring.OEWS_YEARS)).astype("int64")
    sharing = roles.dropna(subset=["labor_code"]).groupby("labor_code").size()
    s["roles_sharing"] = s["code"].map(sharing).fillna(0).astype("int64")
    return s[SERIES_COLUMNS].sort_values(["code", "year"], ignore_index=True)


def change_table(series: pd.DataFrame, cpi: pd.DataFrame) -> pd.DataFrame:
    """One row per code: the figures of May 2019, 2022 and 2025 and the changes between them (%), wages
    nominal and real (deflated by the May CPI-U of the two years)."""
    wide = series.pivot(index="code", columns="year", values=["employment", "mean_wage", "median_wage"])
    last = series.sort_values("year").groupby("code").last()
    out = pd.DataFrame(index=wide.index)
    out["title"] = last["title"]
    out["o_group"] = last["o_group"]
    out["code_kind"] = last["code_kind"]
    out["years_published"] = last["years_published"]
    out["complete_series"] = last["complete_series"]
    out["roles_sharing"] = last["roles_sharing"]
    for what in ("employment", "mean_wage", "median_wage"):
        for y in (Y0, Y1, Y2):
            out[f"{what}_{y}"] = wide[(what, y)].astype("Int64") if (what, y) in wide else pd.NA
        a, b, c = (out[f"{what}_{y}"].astype("float64") for y in (Y0, Y1, Y2))
        out[f"{what}_change_{Y0}_{Y1}_pct"] = scoring.index_change_pct(b, a)
        out[f"{what}_change_{Y1}_{Y2}_pct"] = scoring.index_change_pct(c, b)
    index = cpi.set_index("year")["value"]
    for what in ("mean_wage", "median_wage"):
        for y0, y1 in ((Y0, Y1), (Y1, Y2)):
            out[f"{what}_real_change_{y0}_{y1}_pct"] = scoring.real_change_pct(
                out[f"{what}_change_{y0}_{y1}_pct"].astype("float64"), index[y0], index[y1])
    out.index.name = "code"
    return out.reset_index()


def code_exposure(roles: pd.DataFrame, consensus: pd.DataFrame, exposure: pd.DataFrame) -> pd.DataFrame:
    """Per labour code: the mean over its roles of each consensus centre and of each measure's percentile."""
    r = roles[["code", "labor_code"]].dropna().rename(columns={"code": "role_code"})
    c = r.merge(consensus[["role_code"] + [col for col, _ in CONSENSUS_GROUPINGS.values()]], on="role_code", how="left")
    by_code = c.groupby("labor_code")[[col for col, _ in CONSENSUS_GROUPINGS.values()]].mean()
    e = exposure[["role_code", "measure_id", "percentile"]].merge(r, on="role_code")
    per_measure = e.groupby(["labor_code", "measure_id"])["percentile"].mean().unstack("measure_id")
    roles_n = r.groupby("labor_code").size().rename("n_roles")
    return by_code.join(per_measure, how="outer").join(roles_n, how="left")


def _summary(panel: pd.DataFrame, since_all: pd.DataFrame, cpi: pd.Series) -> dict:
    w = {
        "codes": int(len(panel)),
        "roles": int(panel["n_roles"].sum()),
        "shared_codes": int((panel["n_roles"] > 1).sum()),
        f"employment_{Y0}": int(panel[f"employment_{Y0}"].sum()),
        f"employment_{Y1}": int(panel[f"employment_{Y1}"].sum()),
        f"employment_{Y2}": int(panel[f"employment_{Y2}"].sum()),
        "employment_change_before_pct": scoring.pooled_change_pct(panel[f"employment_{Y0}"], panel[f"employment_{Y1}"]),
        "employment_change_since_pct": scoring.pooled_change_pct(panel[f"employment_{Y1}"], panel[f"employment_{Y2}"]),
        "mean_wage_change_before_pct": scoring.weighted_change_pct(panel[f"mean_wage_{Y0}"], panel[f"mean_wage_{Y1}"],
                                                                   panel[f"employment_{Y0}"]),
        "mean_wage_change_since_pct": scoring.weighted_change_pct(panel[f"mean_wage_{Y1}"], panel[f"mean_wage_{Y2}"],
                                                                  panel[f"employment_{Y1}"]),
        "wage_codes": int((panel[[f"mean_wage_{y}" for y in (Y0, Y1, Y2)]].notna().all(axis=1)).sum()),
        "codes_since": int(len(since_all)),
        "employment_change_since_all_pct": scoring.pooled_change_pct(since_all[f"employment_{Y1}"],
                                                                     since_all[f"employment_{Y2}"]),
    }
    w["difference_pts"] = w["employment_change_since_pct"] - w["employment_change_before_pct"]
    w["wage_difference_pts"] = w["mean_wage_change_since_pct"] - w["mean_wage_change_before_pct"]
    w["real_mean_wage_change_before_pct"] = scoring.real_change_pct(w["mean_wage_change_before_pct"], cpi[Y0], cpi[Y1])
    w["real_mean_wage_change_since_pct"] = scoring.real_change_pct(w["mean_wage_change_since_pct"], cpi[Y1], cpi[Y2])
    w["real_wage_difference_pts"] = w["real_mean_wage_change_since_pct"] - w["real_mean_wage_change_before_pct"]
    return w


def showing_up(changes: pd.DataFrame, exposure_by_code: pd.DataFrame, measures: pd.DataFrame,
               cpi: pd.DataFrame) -> pd.DataFrame:
    """The `exposure_showing_up` rows: every grouping and bin, with an `all` row per grouping."""
    det = changes[changes["o_group"] == "detailed"].set_index("code")
    det = det.join(exposure_by_code, how="inner")  # codes some role maps to
    det = det[det[f"employment_{Y1}"].notna() & det[f"employment_{Y2}"].notna()]
    panel = det[det[f"employment_{Y0}"].notna()]
    index = cpi.set_index("year")["value"].astype("float64")
    rows = []

    def add(grouping, measure_id, evidence, bin_, order, lower, upper, in_bin_panel, in_bin_since):
        rows.append({"grouping": grouping, "group_id": measure_id or grouping, "measure_id": measure_id, "evidence": evidence, "bin": bin_,
                     "bin_order": order, "lower": lower, "upper": upper,
                     **_summary(panel[in_bin_panel], det[in_bin_since], index)})

    bands = [("low", 0.0, scoring.CONSENSUS_LEVELS[0]), ("medium", scoring.CONSENSUS_LEVELS[0], scoring.CONSENSUS_LEVELS[1]),
             ("high", scoring.CONSENSUS_LEVELS[1], 100.0)]
    for grouping, (col, _) in CONSENSUS_GROUPINGS.items():
        evidence = None if grouping == "consensus" else grouping
        band_p, band_s = scoring.consensus_band(panel[col]), scoring.consensus_band(det[col])
        for i, (name, lo, hi) in enumerate(bands, start=1):
            add(grouping, None, evidence, name, i, lo, hi, band_p == name, band_s == name)
        add(grouping, None, evidence, "all", 0, None, None, band_p != None, band_s != None)  # noqa: E711
    info = measures.set_index("measure_id")
    edges = (0.0,) + scoring.QUINTILE_EDGES + (100.0,)
    for mid in sorted(c for c in exposure_by_code.columns if c in info.index):
        q_p, q_s = scoring.quintile(panel[mid]), scoring.quintile(det[mid])
        evidence = info.loc[mid, "evidence"] if "evidence" in info.columns else None
        for q in range(1, 6):
            add("measure_quintile", mid, evidence, f"Q{q}", q, edges[q - 1], edges[q], q_p == q, q_s == q)
        add("measure_quintile", mid, evidence, "all", 0, None, None, q_p > 0, q_s > 0)
    return pd.DataFrame(rows)


def totals_check(series: pd.DataFrame) -> dict:
    """Per year: the OEWS all-occupations total, the sum of detailed codes, and what is not published in detail."""
    out = {}
    for year, s in series.groupby("year"):
        total = int(s.loc[s["code"] == "00-0000", "employment"].iloc[0])
        detailed = int(s.loc[s["o_group"] == "detailed", "employment"].sum())
        missing = s.loc[(s["o_group"] == "detailed") & s["employment"].isna(), "code"].tolist()
        out[str(year)] = {"all_occupations": total, "sum_of_detailed": detailed, "difference": total - detailed,
                          "detailed_codes": int((s["o_group"] == "detailed").sum()), "employment_not_available": missing}
    return out


def derive(ctx) -> None:
    if "oews_history" not in ctx.frames:
        return
    from taskshift.build import curated

    cpi = cpi_table(curated.read("cpi"))
    ctx.frames["cpi"] = cpi
    series = series_table(ctx.frames["oews_history"], ctx.frames["soc_groups"], ctx.frames["roles"], cpi)
    changes = change_table(series, cpi)
    ctx.frames["oews_series"] = series
    ctx.frames["oews_change"] = changes
    complete = series.loc[(series["o_group"] == "detailed") & (series["complete_series"] == 1), "code"].nunique()
    kinds = series.drop_duplicates("code")["code_kind"].value_counts().to_dict()
    ctx.note("oews_series", {
        "years": list(scoring.OEWS_YEARS), "codes": int(series["code"].nunique()), "code_kinds": kinds,
        "detailed_codes_in_all_years": int(complete), "totals": totals_check(series),
        "unpublished": {"2020": "13-1074 Farm Labor Contractors: employment '**'",
                        "2022": "29-1024 Prosthodontists not published",
                        "2025": "11-1030/11-1031 Legislators not published; their jobs stay inside 11-1000 Top Executives"},
        "wages": f"nominal USD (OEWS annual mean and median) and real: May {scoring.REAL_WAGE_BASE_YEAR} dollars by the May "
                 "CPI-U (BLS CUUR0000SA0, table cpi)",
    }, "OEWS May 2019-2025 series: codes, kinds, codes with a complete series, and per year the all-occupations total "
       "against the sum of detailed codes (the difference is rounding plus the codes OEWS does not publish in detail)")
    if "role_consensus" not in ctx.frames or "role_exposure" not in ctx.frames:
        return
    by_code = code_exposure(ctx.frames["roles"], ctx.frames["role_consensus"], ctx.frames["role_exposure"])
    table = showing_up(changes, by_code, ctx.frames["measures"], cpi)
    ctx.frames["exposure_showing_up"] = table
    cons = table[table["grouping"] == "consensus"].set_index("bin")
    ctx.note("exposure_showing_up", {
        "unit": f"OEWS detailed codes published in May {Y0}, {Y1} and {Y2} that some role maps to (balanced panel)",
        "consensus": {b: {"codes": int(r.codes), "before_pct": round(r.employment_change_before_pct, 2),
                          "since_pct": round(r.employment_change_since_pct, 2)} for b, r in cons.iterrows()},
        "caveats": CAVEATS,
    }, "Is exposure showing up? employment change since ChatGPT against before, by consensus band (see exposure_showing_up)")
