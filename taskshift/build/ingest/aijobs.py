"""aijobs.net salary survey -> `aijobs_title_years` (respondents and median salary per title and year).

The survey has no occupation codes: it is read only for its job titles, as evidence of AI-era titles
(how many respondents report a title in each work year, and what they are paid). Counts are survey
respondents, not job postings, and the survey is heavily US-weighted and concentrated in 2024 (2025
is a partial year in this snapshot). `median_salary_usd` is the median of the site's USD conversion
over every respondent of the title in the year (all employment types and countries).

Also returns `aijobs_responses` (job_title, work_year, salary_in_usd), consumed by
`taskshift.emerging` to pool several survey titles of one emerging title.
"""
from __future__ import annotations

import pandas as pd

SOURCES = ("aijobs_salaries",)
SOURCE_ID = "aijobs_salaries"


def title_years(responses: pd.DataFrame) -> pd.DataFrame:
    grouped = responses.groupby(["job_title", "work_year"], sort=True)
    out = pd.DataFrame({
        "respondents": grouped.size(),
        "respondents_us": grouped["employee_residence"].agg(lambda s: int((s == "US").sum())),
        "median_salary_usd": grouped["salary_in_usd"].median().astype("float64"),
    }).reset_index()
    out["first_year"] = out.groupby("job_title")["work_year"].transform("min")
    return out


def load(raw) -> dict[str, pd.DataFrame]:
    df = raw.read(SOURCE_ID)
    df["job_title"] = df["job_title"].str.strip()
    return {
        "aijobs_title_years": title_years(df),
        "aijobs_responses": df[["job_title", "work_year", "salary_in_usd"]].reset_index(drop=True),
    }
