"""Indeed Hiring Lab Job Postings Index and AI Tracker -> monthly postings tables and the AI share.

Every Indeed series is daily (a 7-day trailing average); the tables keep one row per month with the
monthly mean of the daily values (`*_mean`), the value on the last day of the month in the file
(`*_last`, `last_date`), the number of days and whether the month is complete. The latest daily value
of the AI share is kept exactly as published (`ai_postings_share_latest`).

- `postings_by_category`: the 46 categories of the by-category file. That file is an OLDER VINTAGE
  (version of 2024-10-03, data to 2024-09-27), before Indeed's November 2024 switch to Bundesbank
  daily seasonal adjustment and revision of all history; it is not comparable point for point with
  the aggregate and state series, which are the current vintage (to 2026-08-14).
- `postings_us` (total and new postings, SA and NSA), `postings_by_state` (50 states and DC).
- `ai_postings_share` (monthly, series ai and genai), `ai_postings_share_latest` (per country and
  series: the last published daily value, the mean of November 2022 and of the latest complete month).
  The GenAI series is discontinued (last data 2025-06-28).
- `indeed_category_examples` (intermediate): the 47 categories with their two example titles, read by
  `taskshift.build.derive.postings` with the curated category map.
"""
from __future__ import annotations

import json

import pandas as pd

from taskshift import scoring

SOURCES = ("indeed_job_postings_by_sector_us", "indeed_aggregate_job_postings_us", "indeed_state_job_postings_us",
           "indeed_ai_posting", "indeed_genai_posting", "indeed_sector_job_title_examples")

#: Facts the tables and the API repeat about the by-category file.
CATEGORY_VINTAGE = ("Indeed Job Postings Index by occupational category, version of 2024-10-03 (data to 2024-09-27): "
                    "the vintage before Indeed's November 2024 revision of all history (Bundesbank daily seasonal "
                    "adjustment); not comparable point for point with the current aggregate and state series")
GENAI_NOTE = "discontinued: Indeed removed the GenAI series on 2025-08-15; last data 2025-06-28"


def monthly(daily: pd.DataFrame, keys: list[str], values: dict[str, str]) -> pd.DataFrame:
    """Daily rows -> one row per `keys` and month: `<name>_mean` and `<name>_last` for each
    `values` item (name -> daily column), `last_date`, `days` and `complete` (1 if every day of the
    calendar month is present)."""
    d = daily.assign(month=daily["date"].str[:7]).sort_values([*keys, "date"], kind="stable")
    grouped = d.groupby([*keys, "month"], sort=True)
    aggs = {}
    for name, col in values.items():
        aggs[f"{name}_mean"] = (col, "mean")
        aggs[f"{name}_last"] = (col, "last")
    out = grouped.agg(**aggs, last_date=("date", "last"), days=("date", "size")).reset_index()
    in_month = pd.to_datetime(out["month"] + "-01").dt.days_in_month
    out["complete"] = (out["days"] == in_month).astype(int)
    return out


def example_titles(raw) -> pd.DataFrame:
    ex = raw.read("indeed_sector_job_title_examples").rename(columns={"sector": "category"})
    ex["example_titles"] = ex["job_titles"].map(lambda s: " | ".join(t.strip() for t in s.split(",") if t.strip()))
    return ex[["category", "example_titles"]].reset_index(drop=True)


def by_category(raw) -> pd.DataFrame:
    daily = raw.read("indeed_job_postings_by_sector_us").rename(columns={"display_name": "category"})
    out = monthly(daily, ["category"], {"index": "indeed_job_postings_index"})
    return out[["category", "month", "index_mean", "index_last", "last_date", "days", "complete"]]


def us_aggregate(raw) -> pd.DataFrame:
    daily = raw.read("indeed_aggregate_job_postings_us")
    daily["variable"] = daily["variable"].str.replace(" postings", "", regex=False)
    out = monthly(daily, ["variable"], {"sa": "indeed_job_postings_index_SA", "nsa": "indeed_job_postings_index_NSA"})
    return out[["variable", "month", "sa_mean", "sa_last", "nsa_mean", "nsa_last", "last_date", "days", "complete"]]


def by_state(raw) -> pd.DataFrame:
    daily = raw.read("indeed_state_job_postings_us")
    daily["state"] = daily["state"].str.upper()
    out = monthly(daily, ["state"], {"index": "indeed_job_postings_index"})
    return out[["state", "month", "index_mean", "index_last", "last_date", "days", "complete"]]


def ai_share(raw) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Monthly AI and GenAI shares per country, and per country and series the latest published value."""
    parts, latest = [], []
    for series, sid, col in (("ai", "indeed_ai_posting", "AI_share_postings"),
                             ("genai", "indeed_genai_posting", "GenAI_share_postings")):
        daily = raw.read(sid).rename(columns={"jobcountry": "country", col: "share"})
        m = monthly(daily, ["country"], {"share": "share"}).assign(series=series)
        parts.append(m)
        last = daily.sort_values(["country", "date"], kind="stable").groupby("country").tail(1)
        nov = m[m["month"] == scoring.CHATGPT_MONTH].set_index("country")["share_mean"]
        full = m[m["complete"] == 1].sort_values("month").groupby("country").tail(1).set_index("country")
        rows = pd.DataFrame({
            "country": last["country"].to_numpy(), "series": series,
            "date": last["date"].to_numpy(), "share_pct": last["share"].to_numpy(),
        })
        rows["share_nov2022"] = rows["country"].map(nov)
        rows["latest_complete_month"] = rows["country"].map(full["month"])
        rows["share_latest_month"] = rows["country"].map(full["share_mean"])
        rows["change_since_nov2022_pp"] = rows["share_latest_month"] - rows["share_nov2022"]
        rows["ratio_to_nov2022"] = rows["share_latest_month"] / rows["share_nov2022"]
        rows["discontinued"] = int(series == "genai")
        rows["note"] = GENAI_NOTE if series == "genai" else None
        latest.append(rows)
    monthly_share = pd.concat(parts, ignore_index=True)[
        ["country", "series", "month", "share_mean", "share_last", "last_date", "days", "complete"]]
    return monthly_share, pd.concat(latest, ignore_index=True)


def load(raw) -> dict[str, pd.DataFrame]:
    share, latest = ai_share(raw)
    cats = by_category(raw)
    us = us_aggregate(raw)
    meta = pd.DataFrame([
        ("indeed_postings_vintages", json.dumps({
            "postings_by_category": {"last_date": str(cats["last_date"].max()), "vintage": CATEGORY_VINTAGE},
            "postings_us": {"last_date": str(us["last_date"].max()), "vintage": "current (version of 2026-08-19)"},
            "ai_postings_share": {"ai_last_date": str(latest.loc[latest["series"] == "ai", "date"].max()),
                                  "genai_last_date": str(latest.loc[latest["series"] == "genai", "date"].max()),
                                  "genai": GENAI_NOTE},
        }, sort_keys=True), "Vintages and last dates of the Indeed Hiring Lab series (cite: Indeed Hiring Lab, CC BY 4.0)"),
    ], columns=["key", "value", "description"])
    return {
        "postings_by_category": cats,
        "postings_us": us,
        "postings_by_state": by_state(raw),
        "ai_postings_share": share,
        "ai_postings_share_latest": latest,
        "indeed_category_examples": example_titles(raw),
        "metadata": meta,
    }

