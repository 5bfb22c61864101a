"""OEWS May 2025 national estimates + EP 2024-34 projections -> `labor_stats` and `oews_codes`.

`labor_stats`: one row per OEWS or EP occupation code, any level (00-0000 total ... detailed).
Employment and wages are OEWS May 2025 (`oews_year` = 2025). May 2025 does not publish 11-1031
Legislators nor its broad group 11-1030 (their jobs stay inside 11-1000 Top Executives); those two
rows keep their May 2024 figures, with `oews_year` = 2024, so no role loses its labour figures and
every figure says its vintage. By-sector figures (`sectors`, `sector_roles`) stay May 2024: no May
2025 by-sector file is staged.
`oews_codes`:  one row per SOC 2018 detailed code (867) -> the OEWS/EP code that publishes it.

OEWS (May 2024 and May 2025 alike) publishes 819 SOC 2018 detailed codes as they are and 12 aggregates of several SOC detailed
codes. An aggregate covers the SOC detailed codes of its broad group that OEWS does not publish
separately; this rule is derived from the data in `aggregates()`, and every case was checked
against the titles:

| OEWS code | OEWS title                                                          | SOC 2018 detailed codes            |
|-----------|---------------------------------------------------------------------|------------------------------------|
| 13-1020   | Buyers and Purchasing Agents                                        | 13-1021, 13-1022, 13-1023          |
| 13-2020   | Property Appraisers and Assessors                                   | 13-2022, 13-2023                   |
| 21-1018   | Substance Abuse, Behavioral Disorder, and Mental Health Counselors  | 21-1011, 21-1014                   |
| 25-2052   | Special Education Teachers, Kindergarten and Elementary School      | 25-2055, 25-2056                   |
| 25-9045   | Teaching Assistants, Except Postsecondary                           | 25-9042, 25-9043, 25-9049          |
| 29-2010   | Clinical Laboratory Technologists and Technicians                   | 29-2011, 29-2012                   |
| 31-1120   | Home Health and Personal Care Aides                                 | 31-1121, 31-1122                   |
| 39-7010   | Tour and Travel Guides                                              | 39-7011, 39-7012                   |
| 47-4090   | Miscellaneous Construction and Related Workers                      | 47-4091, 47-4099                   |
| 51-2028   | Electrical, Electronic, and Electromechanical Assemblers, Except    | 51-2022, 51-2023                   |
|           | Coil Winders, Tapers, and Finishers                                 |                                    |
| 51-2090   | Miscellaneous Assemblers and Fabricators                            | 51-2092, 51-2099                   |
| 53-1047   | First-Line Supervisors of Transportation and Material Moving        | 53-1042, 53-1043, 53-1044, 53-1049 |
|           | Workers, Except Aircraft Cargo Handling Supervisors                 |                                    |

Seven of them are SOC broad codes (xx-xxx0); OEWS prints those rows twice, as broad and as
detailed, with the same estimates. The other five are OEWS-only codes.

Not published by OEWS (20 SOC codes): 45-3031 Fishing and Hunting Workers (published by EP only,
mostly self-employed) and the 19 military codes 55-1011 ... 55-3019 (neither OEWS nor EP).
EP uses the same codes as OEWS plus 45-3000/45-3031.

Wage cells: '#' = top-coded (>= $115.00/hour, $239,200/year); '*' = not available, which with
ANNUAL=TRUE means only annual wages are published and with HOURLY=TRUE only hourly wages;
'**' = employment not available. Such values are null and `wage_flag` says why.
"""
from __future__ import annotations

import pandas as pd

from taskshift.build.ingest import projections

SOURCES = ("bls_national_m2025_dl", "bls_national_m2024_dl", "bls_occupation_t1_2", "taxonomy_soc_2018_definitions")
#: The OEWS vintage of the current labour figures, and the one that fills codes it does not publish.
CURRENT_YEAR, FALLBACK_YEAR = 2025, 2024

LEVEL_ORDER = ["total", "major", "minor", "broad", "detailed"]


def number(s: pd.Series) -> pd.Series:
    """OEWS cell -> number; '#', '*', '**' -> null (the reason goes to wage_flag)."""
    return pd.to_numeric(s.where(~s.isin(["#", "*", "**"])))


def wage_flag(o: pd.DataFrame) -> pd.Series:
    wages = o[["H_MEAN", "A_MEAN", "H_MEDIAN", "A_MEDIAN"]]
    # 'TRUE' in the CSV, a boolean cell (read as 'True') in the sector workbook
    annual = o["ANNUAL"].fillna("").str.upper().eq("TRUE")
    hourly = o["HOURLY"].fillna("").str.upper().eq("TRUE")
    flags = pd.DataFrame({
        "top_coded": wages.eq("#").any(axis=1),
        "annual_only": annual,
        "hourly_only": hourly,
        # '*' or '**' that the ANNUAL/HOURLY columns do not explain
        "not_available": wages.isin(["*", "**"]).any(axis=1) & ~annual & ~hourly,
    })
    joined = pd.Series("", index=o.index)
    for name, on in flags.items():
        joined = joined + on.map({True: name + ";", False: ""})
    joined = joined.str.rstrip(";")
    return joined.where(joined != "", None)


def tidy_oews(o: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """OEWS rows -> one row per code (per code and value of the column `by`: the sector's rows of the
    by-sector file), wage flags as in labor_stats; the index is that of the row kept."""
    keys = [by, "code"] if by else ["code"]
    out = pd.DataFrame({
        **({by: o[by]} if by else {}),
        "code": o["OCC_CODE"],
        "title": o["OCC_TITLE"].str.strip(),
        "o_group": o["O_GROUP"],
        "employment": number(o["TOT_EMP"]).astype("Int64"),
        "employment_rse": number(o["EMP_PRSE"]),
        "mean_wage": number(o["A_MEAN"]).astype("Int64"),
        "median_wage": number(o["A_MEDIAN"]).astype("Int64"),
        "mean_hourly_wage": number(o["H_MEAN"]),
        "median_hourly_wage": number(o["H_MEDIAN"]),
        "wage_flag": wage_flag(o),
    })
    # A code printed as both broad and detailed (an aggregate) must carry the same estimates; keep
    # one row, at the detailed level where it is used.
    dup = out[out.duplicated(keys, keep=False)]
    distinct = dup.drop(columns="o_group").drop_duplicates()
    disagree = distinct.duplicated(keys)
    if disagree.any():
        if by:  # named for the first of the `by` values (sectors) with such codes
            dup = dup[dup[by] == distinct.loc[disagree, by].min()]
        raise ValueError(f"OEWS rows of one code disagree: {sorted(set(dup['code']))}")
    out["rank"] = out["o_group"].map(LEVEL_ORDER.index)
    out = out.sort_values("rank").drop_duplicates(keys, keep="last").drop(columns="rank")
    return out


def aggregates(published: pd.Series, soc_detailed: pd.Series) -> pd.DataFrame:
    """(oews_code, soc_code) for each published detailed code that is not a SOC detailed code.

    It covers the SOC detailed codes of the same broad group (same first 6 characters) that are not
    published on their own. Each SOC code must be covered once.
    """
    direct = set(published) & set(soc_detailed)
    rows = [(code, soc) for code in sorted(set(published) - direct)
            for soc in soc_detailed if soc[:6] == code[:6] and soc not in direct]
    pairs = pd.DataFrame(rows, columns=["oews_code", "soc_code"])
    empty = set(published) - direct - set(pairs["oews_code"])
    if empty or pairs["soc_code"].duplicated().any():
        raise ValueError(f"OEWS aggregates do not partition SOC codes: empty {sorted(empty)}, "
                         f"shared {sorted(pairs.loc[pairs['soc_code'].duplicated(), 'soc_code'])}")
    return pairs


def code_map(oews: pd.DataFrame, ep: pd.DataFrame, soc: pd.DataFrame) -> pd.DataFrame:
    soc_detailed = soc.loc[soc["SOC Group"] == "Detailed", "SOC Code"].sort_values()
    in_oews = set(oews.loc[oews["o_group"] == "detailed", "code"])
    in_ep = set(ep.loc[ep["ep_type"] == "Line item", "code"])
    published = pd.Series(sorted(in_oews | in_ep))
    direct = published[published.isin(soc_detailed)]
    pairs = pd.concat([
        pd.DataFrame({"oews_code": direct, "soc_code": direct, "is_aggregate": False}),
        aggregates(published, soc_detailed).assign(is_aggregate=True),
    ])
    table = pd.DataFrame({"soc_code": soc_detailed}).merge(pairs, on="soc_code", how="left")
    table["is_aggregate"] = table["is_aggregate"].fillna(False).astype(int)
    table["source"] = [
        "not_published" if pd.isna(c) else "oews_ep" if c in in_oews and c in in_ep
        else "oews" if c in in_oews else "ep" for c in table["oews_code"]]
    return table[["soc_code", "oews_code", "is_aggregate", "source"]].reset_index(drop=True)


def current(latest: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """The latest OEWS rows, plus the previous year's rows of codes the latest does not publish;
    `oews_year` says which vintage each row is."""
    kept = previous[~previous["code"].isin(latest["code"])]
    return pd.concat([latest.assign(oews_year=CURRENT_YEAR), kept.assign(oews_year=FALLBACK_YEAR)],
                     ignore_index=True).sort_values("code", ignore_index=True)


def load(raw) -> dict[str, pd.DataFrame]:
    oews = current(tidy_oews(raw.read("bls_national_m2025_dl")), tidy_oews(raw.read("bls_national_m2024_dl")))
    ep = projections.tidy(raw.read("bls_occupation_t1_2"))
    soc = raw.read("taxonomy_soc_2018_definitions")
    codes = code_map(oews, ep, soc)

    stats = oews.assign(in_oews=True).merge(
        ep.drop(columns=["ep_median_wage", "ep_median_wage_flag"]), on="code", how="outer", suffixes=("", "_ep"))
    stats["in_oews"] = stats["in_oews"].fillna(False).astype(int)
    stats["oews_year"] = stats["oews_year"].astype("Int64")
    stats["in_ep"] = stats["ep_type"].notna().astype(int)
    # EP-only codes (45-3000, 45-3031): title from EP, level from the SOC
    level = soc.set_index("SOC Code")["SOC Group"].str.lower()
    stats["title"] = stats["title"].fillna(stats.pop("title_ep"))
    stats["o_group"] = stats["o_group"].fillna(stats["code"].map(level))
    return {"labor_stats": stats.sort_values("code", ignore_index=True), "oews_codes": codes}
