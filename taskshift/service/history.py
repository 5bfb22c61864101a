"""What is actually happening to a role over time: `history(conn, code)`, in sections.

- `oews`: employment and wages of the role's OEWS code (roles.labor_code), May 2019 -> May 2025
  (`oews_series`, `oews_change`, built by `taskshift.build.derive.labour_history`), the changes
  before (2019 -> 2022) and since (2022 -> 2025) ChatGPT beside those of all occupations, and the EP
  projection beside them. The figures are the code's: a shared code says so (roles_sharing).
- `postings`: the Indeed job postings of the role's categories (`role_postings`,
  `role_posting_categories`, `indeed_category_map`, `postings_by_category`, built by
  `taskshift.build.derive.postings`): the categories with the evidence that decided them, the monthly
  index, and the change since February 2020 and since ChatGPT (November 2022).

A new section is a model in `taskshift.service.models`, a field of `History`, and a builder here
named in `SECTIONS`. Cost per request: one role, its few categories, ~56 months each.
"""
from __future__ import annotations

import sqlite3

import pandas as pd

from taskshift import scoring
from taskshift.service import models as m
from taskshift.service.errors import NotFound
from taskshift.service.index import _q, _sql
from taskshift.service.suggest import check_role_code

SOURCE = ("Indeed Hiring Lab, Job Postings Index by occupational category (US), github.com/hiring-lab/job_postings_tracker; "
          "CC BY 4.0. Category -> role map: taskshift (indeed_category_map)")
VINTAGE = ("by-category file of 2024-10-03 (data 2020-02-01 to 2024-09-27): the vintage before Indeed's November 2024 "
           "revision of all history (Bundesbank daily seasonal adjustment)")
CAVEATS = (
    "Category postings, not the role's own: every role of a category gets the same series.",
    "Older vintage: not comparable point for point with the current US aggregate (postings_us) or state series.",
    "Postings measure demand for new hires on Indeed, not employment.",
    "The index is seasonally adjusted, a 7-day trailing average; the series ends 2024-09-27 (the last month is partial).",
)
METHOD = ("changes to the mean of end_month: since February 2020 = index_end / 100 - 1 (Indeed's baseline, 1 Feb 2020 = 100); "
          "since ChatGPT = index_end / index_nov2022 - 1; a role in several categories gets the weighted mean of their "
          "indexes (indeed_category_map weights, over categories with a series)")


def _f(v):
    return None if v is None or pd.isna(v) else float(v)


def _role(conn: sqlite3.Connection, code: str) -> m.HistoryRole:
    check_role_code(conn, code, "role_code")  # the same errors and suggestions as the score endpoints
    row = _q(conn, "select code, title, soc_code from roles where code = ?", (code,)).fetchone()
    return m.HistoryRole(code=row[0], title=row[1], soc_code=row[2])


def _series(frame: pd.DataFrame) -> list[m.MonthlyIndex]:
    return [m.MonthlyIndex(month=r.month, index=_f(r.index_mean), days=int(r.days)) for r in frame.itertuples(index=False)]


def postings(conn: sqlite3.Connection, code: str) -> m.PostingsHistory:
    """The postings section of `history` for one role code (known to exist)."""
    p = _sql(conn, "select * from role_postings where role_code = ?", (code,))
    if p.empty:  # a database built without the postings step
        raise NotFound("role_code", f"no postings data for {code!r} in this database", "no_postings")
    p = p.iloc[0]
    cats = _sql(conn, """select c.category, c.weight, c.has_series, c.map_id, c.via_code, c.via_level, k.code_title,
                               c.method, c.confidence, k.example_titles, k.matched_roles, k.note,
                               i.index_nov2022, i.index_end, i.change_since_feb2020_pct, i.change_since_nov2022_pct
                        from role_posting_categories c join indeed_category_map k on k.map_id = c.map_id
                        join indeed_categories i on i.category = c.category
                        where c.role_code = ? order by c.weight desc, c.category""", (code,))
    monthly = _sql(conn, """select b.category, b.month, b.index_mean, b.days from postings_by_category b
                           where b.category in (select category from role_posting_categories where role_code = ?)
                           order by b.category, b.month""", (code,))
    by_cat = {c: f for c, f in monthly.groupby("category", sort=False)}
    categories = []
    for r in cats.itertuples(index=False):
        categories.append(m.PostingsCategory(
            category=r.category, weight=float(r.weight), has_series=bool(r.has_series), map_id=int(r.map_id),
            via_code=r.via_code, via_level=r.via_level, via_title=r.code_title, method=r.method, confidence=r.confidence,
            example_titles=[t.strip() for t in r.example_titles.split("|")] if isinstance(r.example_titles, str) else [],
            matched_roles=r.matched_roles if isinstance(r.matched_roles, str) else None, note=r.note,
            index_nov2022=_f(r.index_nov2022), index_end=_f(r.index_end),
            change_since_feb2020_pct=_f(r.change_since_feb2020_pct), change_since_nov2022_pct=_f(r.change_since_nov2022_pct),
            series=_series(by_cat[r.category]) if r.category in by_cat else []))
    series = []
    if not monthly.empty:
        weighted = monthly.merge(cats[["category", "weight"]], on="category")
        combined = scoring.weighted_mean(weighted["index_mean"], weighted["weight"], weighted["month"])
        days = weighted.groupby("month")["days"].min()
        series = [m.MonthlyIndex(month=month, index=_f(v), days=int(days[month])) for month, v in combined["score"].items()]
    return m.PostingsHistory(
        status=p["status"], note=p["note"] if isinstance(p["note"], str) else None, categories=categories,
        weight_with_series=_f(p["weight_with_series"]), baseline="1 Feb 2020 = 100 (Indeed's pre-pandemic baseline)",
        chatgpt_month=scoring.CHATGPT_MONTH, end_month=p["end_month"] if isinstance(p["end_month"], str) else None,
        last_date=p["last_date"] if isinstance(p["last_date"], str) else None,
        index_nov2022=_f(p["index_nov2022"]), index_end=_f(p["index_end"]), index_last=_f(p["index_last"]),
        change_since_feb2020_pct=_f(p["change_since_feb2020_pct"]), change_since_nov2022_pct=_f(p["change_since_nov2022_pct"]),
        method=METHOD, series=series, source=SOURCE, vintage=VINTAGE, caveats=list(CAVEATS))


OEWS_SOURCE = ("U.S. Bureau of Labor Statistics, Occupational Employment and Wage Statistics (OEWS), national "
               "cross-industry estimates May 2019-2025 (public domain)")
OEWS_CAVEATS = (
    "Annual estimates dated May: May 2022 is six months before ChatGPT (30 November 2022).",
    "Each estimate pools three years of survey panels, so a May 2025 figure still holds 2022-2023 responses.",
    "The periods differ in more than AI: the pandemic and its recovery before, interest rates and the tech hiring cycle since.",
    "Wage and salary jobs only (no self-employed); wages nominal, and real in May 2025 dollars by the May CPI-U.",
    "May 2019-2020 use hybrid SOC 2010/2018 codes: a code new in SOC 2018 has no figure before May 2021.",
    "Nothing here is a causal estimate of what AI did.",
)
OEWS_WAGES = ("nominal USD, and real: May 2025 dollars, deflated by the May CPI-U (BLS series CUUR0000SA0, table cpi); "
              "real changes = (1 + nominal) x CPI(start) / CPI(end) - 1")
_CHANGE_FIELDS = tuple(m.OewsChange.model_fields)


def _change(row) -> m.OewsChange:
    return m.OewsChange(**{k: (None if row is None else _f(row[k])) for k in _CHANGE_FIELDS})


def oews(conn: sqlite3.Connection, code: str) -> m.OewsHistory:
    """The oews section of `history` for one role code (known to exist)."""
    role = _q(conn, "select labor_code, employment_change_pct from roles where code = ?", (code,)).fetchone()
    labor_code, projected = role[0], role[1]
    total = _sql(conn, "select * from oews_change where code = '00-0000'")
    if total.empty:  # a database built without the OEWS series
        raise NotFound("role_code", f"no OEWS series in this database for {code!r}", "no_oews_series")
    change = _sql(conn, "select * from oews_change where code = ?", (labor_code,)) if labor_code else total.iloc[0:0]
    years = _sql(conn, "select year, employment, mean_wage, median_wage, mean_wage_real, median_wage_real, wage_flag "
                       "from oews_series where code = ? "
                       "order by year", (labor_code,)) if labor_code else None
    c = change.iloc[0] if len(change) else None
    bridge = None
    if labor_code and _q(conn, "select 1 from sqlite_master where name = 'oews_bridges'").fetchone():
        b = _sql(conn, "select * from oews_bridges where unit_code = (select unit_code from oews_bridges where code = ?) "
                       "order by code", (labor_code,))
        if len(b):
            r0 = b.iloc[0]
            bridge = m.OewsBridge(unit_code=r0["unit_code"], unit_title=r0["unit_title"], method=r0["method"],
                                  members=b["code"].tolist(), continuity_2020_2021=_f(r0["continuity_2020_2021"]),
                                  bridged=bool(r0["bridged"]))
    series = [] if years is None else [
        m.OewsYear(year=int(r.year), employment=None if pd.isna(r.employment) else int(r.employment),
                   mean_wage=None if pd.isna(r.mean_wage) else int(r.mean_wage),
                   median_wage=None if pd.isna(r.median_wage) else int(r.median_wage),
                   mean_wage_real=None if pd.isna(r.mean_wage_real) else int(r.mean_wage_real),
                   median_wage_real=None if pd.isna(r.median_wage_real) else int(r.median_wage_real),
                   wage_flag=r.wage_flag if isinstance(r.wage_flag, str) else None) for r in years.itertuples(index=False)]
    return m.OewsHistory(
        labor_code=labor_code, code_title=None if c is None else c["title"], code_kind=None if c is None else c["code_kind"],
        roles_sharing=0 if c is None else int(c["roles_sharing"]), complete_series=bool(c is not None and c["complete_series"]),
        years=series, change=_change(c), all_occupations=_change(total.iloc[0]), projected_change_pct=_f(projected), bridge=bridge,
        wages=OEWS_WAGES, source=OEWS_SOURCE, caveats=list(OEWS_CAVEATS))


#: Sections of a history response, in order: name -> builder(conn, code).
SECTIONS = {"oews": oews, "postings": postings}


def history(conn: sqlite3.Connection, code: str) -> m.History:
    """What is actually happening to role `code`, one section per kind of evidence (see SECTIONS).

    Raises InvalidInput (400) for a malformed code and NotFound (404) for an unknown role.
    """
    role = _role(conn, code)
    parts = {name: build(conn, code) for name, build in SECTIONS.items()}
    return m.History(role=role, sections=list(parts), **parts)
