"""OEWS by state, May 2024 and May 2025 (a derived extract of the BLS state workbooks, one JSON file per
state and year: ../shared/sources/bls/state/PROVENANCE.md) -> `states` and `state_labor`.

`state_labor`: one row per (state, year, OEWS code) that the state's file lists: employment and wages as
BLS published them; a suppressed cell is null (BLS '**' for employment; '*' and '#' for wages cannot be
told apart in the extract, so no wage flag is guessed). Codes are the OEWS codes of the national file
(SOC 2018 detailed codes and the OEWS aggregates such as 13-1020): they reach roles through
`oews_codes` / `roles.labor_code` exactly as the national figures do (taskshift.build.derive.states).

The extract drops the all-occupations row, so a state's total employment is recovered from the
published cells: JOBS_1000 = 1000 x TOT_EMP / the state's total, hence total = sum(emp) / sum(j1k) x 1000
over the cells with both, and the share of the state's employment the published cells cover is
sum(j1k) / 1000 (checked: the 51 totals of May 2024 add up to 154,194,185 against the national
154,186,300 published by BLS).
"""
from __future__ import annotations

import pandas as pd


#: USPS code and FIPS code of the 50 states and DC (Census Bureau FIPS state codes).
USPS = {
    "01": "AL", "02": "AK", "04": "AZ", "05": "AR", "06": "CA", "08": "CO", "09": "CT", "10": "DE", "11": "DC",
    "12": "FL", "13": "GA", "15": "HI", "16": "ID", "17": "IL", "18": "IN", "19": "IA", "20": "KS", "21": "KY",
    "22": "LA", "23": "ME", "24": "MD", "25": "MA", "26": "MI", "27": "MN", "28": "MS", "29": "MO", "30": "MT",
    "31": "NE", "32": "NV", "33": "NH", "34": "NJ", "35": "NM", "36": "NY", "37": "NC", "38": "ND", "39": "OH",
    "40": "OK", "41": "OR", "42": "PA", "44": "RI", "45": "SC", "46": "SD", "47": "TN", "48": "TX", "49": "UT",
    "50": "VT", "51": "VA", "53": "WA", "54": "WV", "55": "WI", "56": "WY",
}
#: Manifest ids: bls_state_m{year}_{fips}.
PREFIX = "bls_state_m"
YEARS = (2024, 2025)
SOURCES = tuple(f"{PREFIX}{year}_{fips}" for year in YEARS for fips in sorted(USPS))

def check_fips(frame: pd.DataFrame, source_id: str) -> None:
    fips = frame["fips"].iloc[0]
    expected = source_id.rsplit("_", 1)[1]
    if fips != expected or frame["fips"].nunique() != 1:
        raise ValueError(f"{source_id}: the file is for FIPS {fips}, its manifest id says {expected}")


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of the state files, each with its `source_id` -> `state_labor` rows (in the same order)."""
    return pd.DataFrame({
        "state": frame["fips"].map(USPS), "year": frame["source_id"].str[len(PREFIX):len(PREFIX) + 4].astype(int),
        "oews_code": frame["code"], "title": frame["title"].str.strip(),
        "employment": frame["emp"].astype("Int64"), "jobs_per_1000": frame["j1k"],
        "location_quotient": frame["lq"], "mean_wage": frame["avg"].astype("Int64"),
        "median_wage": frame["med"].astype("Int64"), "mean_hourly_wage": frame["havg"],
        "median_hourly_wage": frame["hmed"], "source_id": frame["source_id"],
    })

def load(raw) -> dict[str, pd.DataFrame]:
    frames, names = {}, {}
    for sid in SOURCES:
        frame = frames[sid] = raw.read(sid)
        check_fips(frame, sid)
        names[frame["fips"].iloc[0]] = frame["name"].iloc[0]
    # one pass over the rows of every file, not one per file
    rows = pd.concat([frame.assign(source_id=sid) for sid, frame in frames.items()], ignore_index=True)
    labor = tidy(rows).sort_values(["state", "year", "oews_code"], ignore_index=True)
    states = pd.DataFrame({"state": [USPS[f] for f in sorted(USPS)], "fips": sorted(USPS),
                           "name": [names[f] for f in sorted(USPS)]})
    return {"state_labor": labor, "states": states.sort_values("state", ignore_index=True)}
