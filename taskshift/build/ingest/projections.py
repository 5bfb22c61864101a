"""BLS Employment Projections 2024-34 (Table 1.2) -> one tidy row per EP occupation code.

EP codes are OEWS codes (the same 12 OEWS aggregates, see `oews.py`) plus 45-3000/45-3031 Fishing
and hunting workers, which OEWS does not publish. The file gives employment and openings in
thousands; they are returned in persons. `oews.py` joins this frame into `labor_stats`.
"""
from __future__ import annotations

import pandas as pd

SOURCES = ("bls_occupation_t1_2",)

TOP_CODED = ">=$239,200"  # EP prints OEWS top-coded median wages this way
NA = "—"                  # EP: "data is unavailable"

RENAME = {
    "2024 National Employment Matrix code": "code",
    "2024 National Employment Matrix title": "title",
    "Occupation type": "ep_type",
    "Employment, 2024": "ep_employment_2024",
    "Employment, 2034": "ep_employment_2034",
    "Employment change, percent, 2024–34": "ep_change_pct",
    "Occupational openings, 2024–34 annual average": "ep_openings",
    "Percent self employed, 2024": "ep_self_employed_pct",
    "Median annual wage, dollars, 2024[1]": "ep_median_wage",
    "Typical education needed for entry": "education",
    "Work experience in a related occupation": "work_experience",
    "Typical on-the-job training needed to attain competency in the occupation": "job_training",
}


def thousands_to_persons(s: pd.Series) -> pd.Series:
    return (s * 1000).round().astype("Int64")


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    ep = frame.rename(columns=RENAME)[list(RENAME.values())]
    ep = ep[ep["code"].notna()].copy()  # drop the footnote rows under the table
    for col in ("ep_employment_2024", "ep_employment_2034", "ep_openings"):
        ep[col] = thousands_to_persons(ep[col])
    ep["ep_self_employed_pct"] = pd.to_numeric(ep["ep_self_employed_pct"].replace(NA, None))
    wage = ep["ep_median_wage"]
    ep["ep_median_wage_flag"] = wage.map({TOP_CODED: "top_coded", NA: "not_available"})
    ep["ep_median_wage"] = pd.to_numeric(wage.where(~wage.isin([TOP_CODED, NA]))).astype("Int64")
    line = ep["ep_type"] == "Line item"
    for col in ("education", "work_experience", "job_training"):
        ep[col] = ep[col].replace(NA, None)  # '—' on summary rows: not assigned to groups
    for col in ("work_experience", "job_training"):
        # BLS leaves the category "None" blank on line items (e.g. chief executives: no OJT)
        ep.loc[line & ep[col].isna(), col] = "None"
    ep["title"] = ep["title"].str.strip()
    return ep.reset_index(drop=True)


def load(raw) -> dict[str, pd.DataFrame]:
    """Standalone use only: the build takes these columns through `oews.load` -> `labor_stats`."""
    return {"ep_projections": tidy(raw.read("bls_occupation_t1_2"))}
