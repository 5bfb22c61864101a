"""US states in the scoring API: `GET /-/score/state/{code}` and `GET /-/rank/states`.

Everything is read from the precomputed state tables (taskshift.build.derive.states): state_exposure,
state_consensus, state_roles, state_coverage, states. The consensus block is made by the function every
other block uses (service.consensus.block) from the state's votes (state_exposure.mean_percentile on each
family's headline measure), so it equals the state's row of state_consensus.
"""
from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass

import numpy as np

from taskshift.service import consensus as _consensus
from taskshift.service import models as m
from taskshift.service.errors import InvalidInput, NotFound
from taskshift.service.index import Index, PerDatabase, _f, _measures, _memo, _q, _rows, index_for

RULES = {
    "state": "OEWS by state (BLS, May 2024 and May 2025; detailed codes, the same codes and aggregates as nationally): a code's "
             "employment reaches its roles through roles.labor_code, a code shared by several roles counts once",
    "measures": "state_exposure: score = employment-weighted mean of the OEWS code scores (a code's score: the mean of its roles'); "
                "exposed_share = share of scored workers in roles more exposed than 75% of US workers on the measure",
    "consensus": _consensus.RULE + "; votes: the employment-weighted mean of the roles' percentiles on each headline measure",
    "coverage": "suppressed cells are not imputed: coverage = published employment / the state's total (from OEWS jobs per 1,000)",
    "change": "May 2024 -> May 2025 employment change in exposed vs unexposed roles, over the codes published in both years",
    "postings": "Indeed Job Postings Index by state (Indeed Hiring Lab, CC BY 4.0): a correlation with exposure across states "
                "is not a cause",
}


@dataclass
class StateData:
    states: dict[str, dict]             # USPS -> states row
    fips: dict[str, str]                # FIPS -> USPS
    years: list[int]
    exposure: dict[tuple, dict]         # (state, year, measure_id) -> row
    consensus: dict[tuple, dict]        # (state, year) -> row
    coverage: dict[tuple, dict]
    roles: dict[str, list[dict]]        # state -> state_roles rows by rank
    code_roles: dict[str, list[str]]    # OEWS code -> role codes
    correlation: dict | None


def data_for(conn: sqlite3.Connection, idx: Index) -> StateData | None:
    """The state tables of the database behind `conn` (None for a database built without them)."""
    return _DATA_FOR(conn, idx)


def _load(conn) -> StateData | None:
    if not _q(conn, "select count(*) from sqlite_master where name = 'state_consensus'").fetchone()[0]:
        return None
    states = {r["state"]: r for r in _rows(conn, "select * from states order by state")}
    cons = {(r["state"], r["year"]): r for r in _rows(conn, "select * from state_consensus")}
    roles: dict[str, list[dict]] = {}
    for r in _rows(conn, "select * from state_roles order by state, rank"):
        roles.setdefault(r["state"], []).append(r)
    code_roles: dict[str, list[str]] = {}
    for code, role in _q(conn, "select labor_code, code from roles where labor_code is not null order by code"):
        code_roles.setdefault(code, []).append(role)
    meta = _q(conn, "select value from metadata where key = 'state_postings_correlation'").fetchone()
    return StateData(
        states=states, fips={r["fips"]: s for s, r in states.items()}, years=sorted({y for _, y in cons}),
        exposure={(r["state"], r["year"], r["measure_id"]): r for r in _rows(conn, "select * from state_exposure")},
        consensus=cons, coverage={(r["state"], r["year"]): r for r in _rows(conn, "select * from state_coverage")},
        roles=roles, code_roles=code_roles, correlation=json.loads(meta[0]) if meta else None)


def _data(conn, idx: Index, field_name: str) -> StateData:
    data = data_for(conn, idx)
    if data is None:
        raise NotFound(field_name, "this database has no state tables (built before taskshift had them)", "no_states")
    return data


def resolve(data: StateData, code, field_name: str = "code") -> str:
    """A USPS code (any case) or a FIPS code (with or without its leading zero) -> the USPS code."""
    if not isinstance(code, str) or not re.fullmatch(m.STATE_CODE_PATTERN.strip("^$"), code):
        raise InvalidInput(field_name, f"{code!r} is not a state code: a USPS code such as DC or a FIPS code such as 11",
                           "pattern")
    if code.isdigit():
        usps = data.fips.get(code.zfill(2))
    else:
        usps = code.upper() if code.upper() in data.states else None
    if usps is None:
        problem = (f"unknown state {code!r}: the 50 states and DC by USPS code (e.g. DC, CA) or FIPS code (e.g. 11, 06); "
                   "no territories (OEWS by state covers none here)")
        raise NotFound(field_name, problem, "not_found")
    return usps


def _year(data: StateData, year, field_name: str = "year") -> int:
    if year is None:
        return data.years[-1]
    if not isinstance(year, int) or isinstance(year, bool):
        raise InvalidInput(field_name, f"{year!r} is not a year: give a whole number such as {data.years[-1]}", "int_type")
    if year not in data.years:
        raise NotFound(field_name, f"no state figures for {year}: the years are {', '.join(map(str, data.years))}", "not_found")
    return int(year)


def score_state(conn: sqlite3.Connection, code: str, measures: list[str] | None = None, year: int | None = None,
                top: int = 10) -> m.StateScoreResponse:
    """Every measure and the consensus of a state, with the occupations behind its exposure and its coverage."""
    idx = index_for(conn)
    chosen = _measures(idx, measures)
    data = _data(conn, idx, "code")
    usps = resolve(data, code)
    year = _year(data, year)
    if not isinstance(top, int) or isinstance(top, bool) or not 1 <= top <= 100:
        raise InvalidInput("top", f"{top!r}: give a whole number from 1 to 100", "range")
    key = ("state", usps, year, None if measures is None else tuple(chosen), top)
    return _memo(idx, key, lambda: _score_state(conn, idx, data, usps, year, chosen, top))


def _int(x) -> int | None:
    return None if x is None else int(x)


def _vote(row: dict | None) -> float:
    return np.nan if row is None or row.get("mean_percentile") is None else float(row["mean_percentile"])


def _score_state(conn, idx: Index, data: StateData, usps: str, year: int, chosen: list[str], top: int) -> m.StateScoreResponse:
    entries = []
    for mid in chosen:
        r = data.exposure.get((usps, year, mid), {})
        info = idx.minfo[mid]
        entries.append(m.StateMeasure(
            measure_id=mid, title=info["title"], scale=info["scale"], direction=info["direction"], score=_f(r.get("score")),
            mean_percentile=_f(r.get("mean_percentile")), rank=_int(r.get("rank")), coverage=_f(r.get("coverage")),
            exposed_share=_f(r.get("exposed_share")), exposed_employment=int(r.get("exposed_employment") or 0),
            exposed_change_pct=_f(r.get("exposed_change_pct")), unexposed_change_pct=_f(r.get("unexposed_change_pct"))))
    fam = _consensus.families(conn, idx)
    block = None
    if fam is not None:
        votes = np.array([_vote(data.exposure.get((usps, year, mid))) for mid in fam.measure], dtype="float64")
        block = _consensus.block(fam, "state", votes)
    c = data.consensus.get((usps, year), {})
    cov = data.coverage.get((usps, year), {})
    st = data.states[usps]
    top_rows = data.roles.get(usps, [])[:top] if year == data.years[-1] else []
    return m.StateScoreResponse(
        state=m.StateInfo(code=usps, fips=st["fips"], name=st["name"], year=year, years=data.years),
        measures=entries, consensus=block, consensus_rank=_int(c.get("rank")), exposed_share=_f(c.get("exposed_share")),
        change=m.StateChange(exposed_change_pct=_f(c.get("exposed_change_pct")),
                             unexposed_change_pct=_f(c.get("unexposed_change_pct")), codes=_int(c.get("change_codes"))),
        top_roles=[m.StateRole(oews_code=r["oews_code"], title=r["title"], rank=int(r["rank"]), employment=_int(r["employment"]),
                               location_quotient=_f(r["location_quotient"]), consensus_centre=_f(r["consensus_centre"]),
                               exposed_fraction=_f(r["exposed_fraction"]), exposed_employment=_int(r["exposed_employment"]),
                               exposed_employment_share=_f(r["exposed_employment_share"]),
                               employment_change_pct=_f(r["employment_change_pct"]),
                               roles=data.code_roles.get(r["oews_code"], [])) for r in top_rows],
        coverage=m.StateCoverage(
            employment_total=_int(cov.get("employment_total")), employment_published=int(cov.get("employment_published") or 0),
            coverage=_f(cov.get("coverage")), codes_listed=int(cov.get("codes_listed") or 0),
            codes_with_employment=int(cov.get("codes_with_employment") or 0), codes_suppressed=int(cov.get("codes_suppressed") or 0),
            codes_not_listed=int(cov.get("codes_not_listed") or 0), scored_employment=_int(c.get("scored_employment"))),
        postings=m.StatePostings(month=st.get("postings_month"), index=_f(st.get("postings_index")),
                                 change_since_feb2020=_f(st.get("postings_change_since_feb2020")),
                                 change_since_chatgpt=_f(st.get("postings_change_since_chatgpt"))),
        rules=RULES)


def rank_states(conn: sqlite3.Connection, measure: str | None = None, year: int | None = None) -> m.StateRanking:
    """The 51 states ranked by the consensus centre (default) or by a measure's state score, most exposed first."""
    idx = index_for(conn)
    data = _data(conn, idx, "measure")
    if measure is not None and measure != "consensus":
        measure = _measures(idx, [measure], "measure")[0]
    year = _year(data, year)
    key = ("state_rank", measure or "consensus", year)
    return _memo(idx, key, lambda: _rank(data, measure, year))


def _rank(data: StateData, measure: str | None, year: int) -> m.StateRanking:
    rows = []
    for usps, st in data.states.items():
        c = data.consensus.get((usps, year), {})
        cov = data.coverage.get((usps, year), {})
        if measure in (None, "consensus"):
            rows.append(m.StateRank(rank=_int(c.get("rank")), code=usps, name=st["name"], value=_f(c.get("centre")),
                                    low=_f(c.get("low")), high=_f(c.get("high")), exposed_share=_f(c.get("exposed_share")),
                                    coverage=_f(cov.get("coverage"))))
        else:
            r = data.exposure.get((usps, year, measure), {})
            rows.append(m.StateRank(rank=_int(r.get("rank")), code=usps, name=st["name"], value=_f(r.get("score")),
                                    exposed_share=_f(r.get("exposed_share")), coverage=_f(r.get("coverage"))))
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.code))
    return m.StateRanking(measure=measure or "consensus", year=year, direction="rank 1 = most exposed", states=rows,
                          postings_correlation=data.correlation)


_DATA_FOR = PerDatabase(lambda conn, idx: _load(conn))  # loaded once per database
