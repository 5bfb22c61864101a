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
- `oews_bridges`: the SOC 2010 -> 2018 break bridged. A SOC 2018 detailed code first published in May
  2021 sits, in May 2019-2020, inside one code of those years: a BLS hybrid code (curated in
  dataset/curated/oews_bridges.csv from the hybrid titles, e.g. 15-1256 = 15-1252 Software Developers +
  15-1253 QA Analysts and Testers) or its SOC 2018 broad group, published then at the detailed level (e.g.
  11-2030 = 11-2032 + 11-2033, from soc_groups). A *bridge unit* is that 2019-2020 code with its members
  summed from 2021: its employment before ChatGPT (2019 -> 2022) is the unit's 2019 figure against the
  members' 2022 sum, and its mean wage the members' employment-weighted mean. One row per (unit, member),
  with the unit's 2020 figure against its members' 2021 sum as a continuity check. `oews_change` carries the
  bridged before-change on each member (`bridge_code`, `bridge_*`), and the units join the balanced panel
  of `exposure_showing_up` (software developers are in the before period through 15-1256).
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


BRIDGE_COLUMNS = ["unit_code", "unit_title", "method", "code", "code_title", "note", "source", "unit_employment_2020",
                  "members_employment_2021", "continuity_2020_2021", "bridged"]
#: A bridge unit is used (bridged = 1: its before-change in oews_change, a unit of the exposure_showing_up panel)
#: when its members' May 2021 employment is within this share of the unit's May 2020 figure. All occupations
#: moved +1.3% in that year; a larger gap means the SOC 2018 members also took in (or lost) workers of
#: other 2019-2020 codes (e.g. 15-2098 -> Data Scientists, 1.84), so the two ends do not hold the same work.
CONTINUITY_TOLERANCE = 0.15


def bridge_members(series: pd.DataFrame, soc_groups: pd.DataFrame, curated_rows: pd.DataFrame) -> pd.DataFrame:
    """(unit_code, code, method, note, source): the hybrid units' members (curated) and the broad units' (SOC
    structure: the detailed codes of a SOC 2018 broad group OEWS published at the detailed level in 2019-2020).
    Raises BuildError when a row does not hold: a member published before 2021 or not from 2021, a unit
    published after 2020 at the detailed level, a member in two units."""
    from taskshift.build.assemble import BuildError

    where = "dataset/curated/oews_bridges.csv"
    det = series[series["o_group"] == "detailed"]
    pub = det[det["employment"].notna()].groupby("code")["year"].agg(["min", "max"])
    first_2021 = set(pub.index[pub["min"] == 2021])
    until_2020 = set(pub.index[pub["max"] == 2020])
    broad_units = sorted(set(series.loc[(series["year"] <= 2020) & (series["o_group"] == "detailed"), "code"])
                         & set(series.loc[(series["year"] >= 2021) & (series["o_group"] == "broad"), "code"]))
    kids = soc_groups[(soc_groups["level"] == "detailed") & soc_groups["parent_code"].isin(broad_units)]
    broad = pd.DataFrame({"unit_code": kids["parent_code"].to_numpy(), "code": kids["code"].to_numpy(),
                          "method": "soc_broad",
                          "note": "the SOC 2018 broad group, published at the detailed level in May 2019-2020",
                          "source": "BLS OEWS May 2019-2020 (the broad code as a detailed row) and SOC 2018 structure"})
    hybrid = curated_rows.assign(method="hybrid_title")[["unit_code", "code", "method", "note", "source"]]
    out = pd.concat([hybrid, broad], ignore_index=True)
    problems = []
    for line, row in zip(list(curated_rows.index) + [None] * len(broad), out.itertuples(index=False)):
        at = f"{where}: line {line}" if line is not None else f"SOC 2018 broad group {row.unit_code}"
        if row.code not in first_2021:
            problems.append(f"{at}: column code: {row.code} is not a detailed code OEWS first publishes in May 2021")
        if row.unit_code not in until_2020 and row.method == "hybrid_title":
            problems.append(f"{at}: column unit_code: {row.unit_code} is not a May 2019-2020 code (published until 2020)")
    twice = out[out["code"].duplicated(keep=False)]
    problems += [f"{where}: column code: {c} is in more than one unit" for c in sorted(set(twice["code"]))]
    if problems:
        raise BuildError(problems)
    return out.sort_values(["unit_code", "code"], ignore_index=True)


def unit_series(series: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """Per bridge unit and year: employment and mean wage (the unit's own until 2020; from 2021 the members'
    sum and employment-weighted mean wage, null if a member has no wage)."""
    s = series[["code", "year"]].assign(employment=series["employment"].astype("float64"),
                                        mean_wage=series["mean_wage"].astype("float64"))
    own = s[s["code"].isin(members["unit_code"]) & (s["year"] <= 2020)].rename(columns={"code": "unit_code"})
    m = s[s["year"] >= 2021].merge(members[["unit_code", "code"]], on="code")
    m = m.assign(bill=m["employment"] * m["mean_wage"])
    m["missing"] = m["bill"].isna()
    g = m.groupby(["unit_code", "year"])
    summed = pd.DataFrame({"employment": g["employment"].sum(min_count=1),
                           "bill": g["bill"].sum(min_count=1), "missing": g["missing"].any()})
    summed["mean_wage"] = np.where(summed["missing"], np.nan, summed["bill"] / summed["employment"])
    summed = summed.reset_index()[["unit_code", "year", "employment", "mean_wage"]]
    return pd.concat([own, summed], ignore_index=True).sort_values(["unit_code", "year"], ignore_index=True)


def bridges_table(members: pd.DataFrame, units: pd.DataFrame, series: pd.DataFrame) -> pd.DataFrame:
    titles = series.sort_values("year").groupby("code")["title"].last()
    emp = units.pivot(index="unit_code", columns="year", values="employment")
    out = members.assign(unit_title=members["unit_code"].map(titles), code_title=members["code"].map(titles))
    out["unit_employment_2020"] = out["unit_code"].map(emp[2020]).astype("Int64")
    out["members_employment_2021"] = out["unit_code"].map(emp[2021]).astype("Int64")
    out["continuity_2020_2021"] = out["members_employment_2021"].astype("float64") / out["unit_employment_2020"].astype("float64")
    out["bridged"] = ((out["continuity_2020_2021"] - 1.0).abs() <= CONTINUITY_TOLERANCE).astype("int64")
    return out[BRIDGE_COLUMNS]


def bridge_changes(units: pd.DataFrame, cpi: pd.DataFrame) -> pd.DataFrame:
    """Per unit: employment and mean wage in May 2019, 2022, 2025 and the before change (employment, mean wage
    nominal and real), as `change_table` columns."""
    wide = units.pivot(index="unit_code", columns="year", values=["employment", "mean_wage"])
    out = pd.DataFrame(index=wide.index)
    for what in ("employment", "mean_wage"):
        for y in (Y0, Y1, Y2):
            out[f"{what}_{y}"] = wide[(what, y)].astype("float64")
    out["employment_change"] = scoring.index_change_pct(out[f"employment_{Y1}"], out[f"employment_{Y0}"])
    out["mean_wage_change"] = scoring.index_change_pct(out[f"mean_wage_{Y1}"], out[f"mean_wage_{Y0}"])
    index = cpi.set_index("year")["value"]
    out["mean_wage_real_change"] = scoring.real_change_pct(out["mean_wage_change"], index[Y0], index[Y1])
    return out


def code_exposure(roles: pd.DataFrame, consensus: pd.DataFrame, exposure: pd.DataFrame) -> pd.DataFrame:
    """Per labour code: the mean over its roles of each consensus centre and of each measure's percentile."""
    r = roles[["code", "labor_code"]].dropna().rename(columns={"code": "role_code"})
    c = r.merge(consensus[["role_code"] + [col for col, _ in CONSENSUS_GROUPINGS.values()]], on="role_code", how="left")
    by_code = c.groupby("labor_code")[[col for col, _ in CONSENSUS_GROUPINGS.values()]].mean()
    e = exposure[["role_code", "measure_id", "percentile"]].merge(r, on="role_code")
    per_measure = e.groupby(["labor_code", "measure_id"])["percentile"].mean().unstack("measure_id")
    roles_n = r.groupby("labor_code").size().rename("n_roles")
    return by_code.join(per_measure, how="outer").join(roles_n, how="left")


def add_bridges(changes: pd.DataFrame, members: pd.DataFrame, unit_change: pd.DataFrame) -> pd.DataFrame:
    """oews_change with the bridged before-change on each member and on the unit itself."""
    unit_of = pd.concat([members.set_index("code")["unit_code"],
                         pd.Series(members["unit_code"].unique(), index=members["unit_code"].unique())])
    out = changes.copy()
    out["bridge_code"] = out["code"].map(unit_of)
    for col, src in (("bridge_employment_change_2019_2022_pct", "employment_change"),
                     ("bridge_mean_wage_change_2019_2022_pct", "mean_wage_change"),
                     ("bridge_mean_wage_real_change_2019_2022_pct", "mean_wage_real_change")):
        out[col] = out["bridge_code"].map(unit_change[src])
    return out


def _summary(panel: dict, since_all: dict, cpi: pd.Series) -> dict:
    """The figures of one bin. `panel` and `since_all` map each column (n_roles, employment_<year>,
    mean_wage_<year>; for the panel also `unit`: 1 for a bridge unit) to the bin's rows, as float arrays
    (NaN: not published)."""
    w = {
        "codes": int(len(panel["n_roles"])),
        "roles": int(panel["n_roles"].sum()),
        "shared_codes": int((panel["n_roles"] > 1).sum()),
        "bridged_units": int(panel["unit"].sum()),
        f"employment_{Y0}": int(np.nansum(panel[f"employment_{Y0}"])),
        f"employment_{Y1}": int(np.nansum(panel[f"employment_{Y1}"])),
        f"employment_{Y2}": int(np.nansum(panel[f"employment_{Y2}"])),
        "employment_change_before_pct": scoring.pooled_change_pct(panel[f"employment_{Y0}"], panel[f"employment_{Y1}"]),
        "employment_change_since_pct": scoring.pooled_change_pct(panel[f"employment_{Y1}"], panel[f"employment_{Y2}"]),
        "mean_wage_change_before_pct": scoring.weighted_change_pct(panel[f"mean_wage_{Y0}"], panel[f"mean_wage_{Y1}"],
                                                                   panel[f"employment_{Y0}"]),
        "mean_wage_change_since_pct": scoring.weighted_change_pct(panel[f"mean_wage_{Y1}"], panel[f"mean_wage_{Y2}"],
                                                                  panel[f"employment_{Y1}"]),
        "wage_codes": int(np.logical_and.reduce([~np.isnan(panel[f"mean_wage_{y}"]) for y in (Y0, Y1, Y2)]).sum()),
        "codes_since": int(len(since_all["n_roles"])),
        "employment_change_since_all_pct": scoring.pooled_change_pct(since_all[f"employment_{Y1}"],
                                                                     since_all[f"employment_{Y2}"]),
    }
    w["difference_pts"] = w["employment_change_since_pct"] - w["employment_change_before_pct"]
    w["wage_difference_pts"] = w["mean_wage_change_since_pct"] - w["mean_wage_change_before_pct"]
    w["real_mean_wage_change_before_pct"] = scoring.real_change_pct(w["mean_wage_change_before_pct"], cpi[Y0], cpi[Y1])
    w["real_mean_wage_change_since_pct"] = scoring.real_change_pct(w["mean_wage_change_since_pct"], cpi[Y1], cpi[Y2])
    w["real_wage_difference_pts"] = w["real_mean_wage_change_since_pct"] - w["real_mean_wage_change_before_pct"]
    return w


def unit_exposure(members: pd.DataFrame, exposure_by_code: pd.DataFrame, roles: pd.DataFrame) -> pd.DataFrame:
    """Per bridge unit: the mean over the roles of its members of each consensus centre and measure percentile."""
    r = roles[["code", "labor_code"]].dropna().merge(members[["unit_code", "code"]].rename(columns={"code": "labor_code"}),
                                                     on="labor_code")
    if r.empty:
        return exposure_by_code.iloc[0:0]
    per_role = exposure_by_code.drop(columns="n_roles").reindex(r["labor_code"])  # the code's mean = each of its roles'
    per_role.index = r["unit_code"].to_numpy()
    out = per_role.groupby(level=0).mean()
    out["n_roles"] = r.groupby("unit_code").size()
    return out


def showing_up(changes: pd.DataFrame, exposure_by_code: pd.DataFrame, measures: pd.DataFrame,
               cpi: pd.DataFrame, units: pd.DataFrame | None = None) -> pd.DataFrame:
    """The `exposure_showing_up` rows: every grouping and bin, with an `all` row per grouping. `units` (bridge
    units with their figures and exposure, indexed by unit code) join the balanced panel."""
    det = changes[changes["o_group"] == "detailed"].set_index("code")
    det = det.join(exposure_by_code, how="inner")  # codes some role maps to
    det = det[det[f"employment_{Y1}"].notna() & det[f"employment_{Y2}"].notna()]
    panel = det[det[f"employment_{Y0}"].notna()]
    unit_codes: set = set()
    if units is not None and len(units):
        complete = units[units[[f"employment_{y}" for y in (Y0, Y1, Y2)]].notna().all(axis=1)]
        panel = pd.concat([panel, complete])
        unit_codes = set(complete.index)
    index = cpi.set_index("year")["value"].astype("float64")
    rows = []
    # the columns _summary reads, as arrays: each bin takes its rows of these (not of every measure's percentile)
    figures = ["n_roles"] + [f"{kind}_{y}" for kind in ("employment", "mean_wage") for y in (Y0, Y1, Y2)]
    panel_figures = {c: np.asarray(panel[c], dtype="float64") for c in figures}
    panel_figures["unit"] = panel.index.isin(unit_codes).astype("float64")
    det_figures = {c: np.asarray(det[c], dtype="float64") for c in figures}

    def add(grouping, measure_id, evidence, bin_, order, lower, upper, in_bin_panel, in_bin_since):
        in_panel, in_since = np.asarray(in_bin_panel, dtype=bool), np.asarray(in_bin_since, dtype=bool)
        rows.append({"grouping": grouping, "group_id": measure_id or grouping, "measure_id": measure_id, "evidence": evidence, "bin": bin_,
                     "bin_order": order, "lower": lower, "upper": upper,
                     **_summary({c: a[in_panel] for c, a in panel_figures.items()},
                                {c: a[in_since] for c, a in det_figures.items()}, index)})

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
    members = bridge_members(series, ctx.frames["soc_groups"], curated.read("oews_bridges"))
    units = unit_series(series, members)
    bridges = bridges_table(members, units, series)
    ctx.frames["oews_bridges"] = bridges
    used = set(bridges.loc[bridges["bridged"] == 1, "unit_code"])
    unit_change = bridge_changes(units, cpi)
    unit_change = unit_change[unit_change.index.isin(used)]
    changes = add_bridges(change_table(series, cpi), members, unit_change)
    ctx.frames["oews_series"] = series
    ctx.frames["oews_change"] = changes
    cont = bridges.drop_duplicates("unit_code")
    ctx.note("oews_bridges", {
        "units": int(len(cont)), "hybrid_units": int((cont["method"] == "hybrid_title").sum()),
        "broad_units": int((cont["method"] == "soc_broad").sum()), "members": int(len(bridges)),
        "continuity_2020_2021": {"min": round(float(cont["continuity_2020_2021"].min()), 3),
                                 "max": round(float(cont["continuity_2020_2021"].max()), 3)},
        "tolerance": CONTINUITY_TOLERANCE, "bridged_units": sorted(used),
        "not_bridged": {u: round(float(c), 3) for u, c in zip(cont["unit_code"], cont["continuity_2020_2021"])
                        if u not in used},
        "employment_2019_bridged": int(unit_change[f"employment_{Y0}"].sum()),
    }, "The SOC 2010 -> 2018 break bridged: May 2019-2020 codes (BLS hybrid codes, SOC broad groups published at the "
       "detailed level) and the SOC 2018 detailed codes they hold from May 2021; continuity = members' May 2021 "
       "employment / the unit's May 2020")
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
    bridged = unit_change.join(unit_exposure(members, by_code, ctx.frames["roles"]), how="inner")
    table = showing_up(changes, by_code, ctx.frames["measures"], cpi, bridged)
    ctx.frames["exposure_showing_up"] = table
    cons = table[table["grouping"] == "consensus"].set_index("bin")
    ctx.note("exposure_showing_up", {
        "unit": f"OEWS detailed codes published in May {Y0}, {Y1} and {Y2} that some role maps to (balanced panel)",
        "consensus": {b: {"codes": int(r.codes), "before_pct": round(r.employment_change_before_pct, 2),
                          "since_pct": round(r.employment_change_since_pct, 2)} for b, r in cons.iterrows()},
        "caveats": CAVEATS,
    }, "Is exposure showing up? employment change since ChatGPT against before, by consensus band (see exposure_showing_up)")
