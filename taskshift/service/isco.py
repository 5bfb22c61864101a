"""ISCO-08 groups in the scoring API: `GET /-/score/isco/{isco_code}` and ISCO-08 entries of a workforce.

An ISCO-08 group (1 to 4 digits) is a weighted set of roles (`isco_roles`, made by the build:
taskshift.build.derive.isco, docs/isco.md). Its measures, percentiles and the ILO-beside-US columns
are the precomputed rows of `isco_exposure` and `isco_consensus`; its consensus block is made from the
weighted mean of its roles' percentiles with the function a workforce uses, so `score_isco(code)` and a
workforce of that group agree, and both agree with the table.
"""
from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

import numpy as np

from taskshift import scoring
from taskshift.service import consensus as _consensus
from taskshift.service import models as m
from taskshift.service.errors import InvalidInput, NotFound
from taskshift.service.index import Index, PerDatabase, _f, _measures, _memo, _q, _rows, index_for

RULES = {
    "isco": "an ISCO-08 group stands for the US roles of isco_roles (ISCO-08 -> SOC 2010 -> role, the crosswalk rules of "
            "role_exposure), each weighted by its share of the group's US workers (OEWS May 2025 employment_allocated x link "
            "share); 3-, 2- and 1-digit groups are the union of their unit groups (docs/isco.md)",
    "us_weights": "the weights are US ones (the US occupational mix inside each group); measures_unweighted use link shares only; "
                  "for another country's mix give its ISCO-08 headcounts as a workforce",
    "measures": "isco_exposure: score = weighted mean of the role scores; measures published in ISCO-08 (ILO) keep the published "
                "unit-group score (native) or the US-employment-weighted mean of the unit groups' scores (native_weighted); "
                "percentile = rank among the ISCO-08 groups with the same number of digits; employment_percentile = among US workers",
    "consensus": _consensus.RULE + "; votes: the weighted mean of the roles' percentiles on each headline measure (as a workforce)",
    "beside": "the ILO's own score beside the consensus of the US families (every family but the ILO's), each ranked among the "
              "ISCO-08 groups with the same number of digits; agreement over all groups: table isco_agreement",
    "workforce": "an ISCO-08 entry of a workforce is spread over the group's roles with headcount x weight (roles with weight 0 "
                 "left out); the workforce is then the workforce of those roles",
}


@dataclass
class Link:
    pos: np.ndarray          # role positions in the index (ascending: isco_roles is sorted by role_code)
    weight: np.ndarray
    link_share: np.ndarray
    us_employment: np.ndarray
    soc2010: list[list[str]]
    derivation: list[str]
    task_fit: np.ndarray


@dataclass
class IscoData:
    groups: dict[str, dict]
    links: dict[str, Link]
    exposure: dict[str, dict[str, dict]]
    consensus: dict[str, dict]


def data_for(conn: sqlite3.Connection, idx: Index) -> IscoData | None:
    """The ISCO-08 tables of the database behind `conn` (None for a database built without them)."""
    return _DATA_FOR(conn, idx)


def _load(conn: sqlite3.Connection, idx: Index) -> IscoData | None:
    if not _q(conn, "select count(*) from sqlite_master where name = 'isco_roles'").fetchone()[0]:
        return None
    groups = {r["isco_code"]: r for r in _rows(conn, "select * from isco_groups order by isco_code")}
    links: dict[str, Link] = {}
    by_code: dict[str, list] = {}
    for r in _q(conn, "select isco_code, role_code, weight, link_share, us_employment, soc2010_codes, derivation, task_fit "
                      "from isco_roles order by isco_code, role_code"):
        by_code.setdefault(r[0], []).append(r)
    for code, rows in by_code.items():
        links[code] = Link(pos=np.array([idx.role_pos[r[1]] for r in rows], dtype="int64"),
                           weight=np.array([r[2] for r in rows], dtype="float64"),
                           link_share=np.array([r[3] for r in rows], dtype="float64"),
                           us_employment=np.array([np.nan if r[4] is None else r[4] for r in rows], dtype="float64"),
                           soc2010=[r[5].split(",") for r in rows], derivation=[r[6] for r in rows],
                           task_fit=np.array([np.nan if r[7] is None else r[7] for r in rows], dtype="float64"))
    exposure: dict[str, dict[str, dict]] = {}
    for r in _rows(conn, "select * from isco_exposure"):
        exposure.setdefault(r["isco_code"], {})[r["measure_id"]] = r
    consensus = {r["isco_code"]: r for r in _rows(conn, "select * from isco_consensus")}
    return IscoData(groups=groups, links=links, exposure=exposure, consensus=consensus)


def _data(conn, idx: Index, field_name: str) -> IscoData:
    data = data_for(conn, idx)
    if data is None:
        raise NotFound(field_name, "this database has no ISCO-08 tables (built before taskshift had them)", "no_isco")
    return data


def _group(conn, idx: Index, code, field_name: str) -> tuple[IscoData, dict]:
    if not isinstance(code, str) or not re.fullmatch(m.ISCO_CODE_PATTERN.strip("^$"), code):
        raise InvalidInput(field_name, f"{code!r} is not an ISCO-08 code: 1 to 4 digits, e.g. 2512 (unit group) or 2 "
                                       "(major group)", "pattern")
    data = _data(conn, idx, field_name)
    group = data.groups.get(code)
    if group is None:
        near = [c for c in (code[:3], code[:2], code[:1]) if c and c != code and c in data.groups][:1]
        near += sorted(c for c in data.groups if len(c) == len(code) and c[:-1] == code[:-1])[:4]  # its siblings
        hint = f"; its nearest known group is {near[0]}" if near else ""
        problem = (f"unknown ISCO-08 group {code!r}: the groups are those of the BLS ISCO-08/SOC 2010 crosswalk "
                   f"(table isco_groups){hint}")
        raise NotFound(field_name, problem, "not_found",
                       errors=[{"field": field_name, "problem": problem, "type": "not_found", "suggestions": near or None}])
    return data, group


def headcounts(conn, idx: Index, code: str, headcount: int, field_name: str) -> tuple[np.ndarray, np.ndarray, m.WorkforceIsco]:
    """An ISCO-08 entry of a workforce spread over its roles: (role positions, headcounts, what was done)."""
    data, group = _group(conn, idx, code, field_name)
    link = data.links.get(code)
    if link is None:
        raise NotFound(field_name, f"ISCO-08 {code} stands for no US role: {group.get('note') or 'no link'}; leave it out "
                                   f"or give its parent group {group.get('parent_code')}", "no_roles")
    keep = link.weight > 0
    info = m.WorkforceIsco(isco_code=code, title=group.get("title"), headcount=int(headcount), roles=int(keep.sum()),
                           weighted_by=group.get("weighted_by") or "link_share")
    return link.pos[keep], float(headcount) * link.weight[keep], info


def score_isco(conn: sqlite3.Connection, isco_code: str, measures: list[str] | None = None) -> m.IscoScoreResponse:
    """Every measure and the consensus of an ISCO-08 group (1 to 4 digits), with the roles it stands for."""
    idx = index_for(conn)
    chosen = _measures(idx, measures)
    data, group = _group(conn, idx, isco_code, "isco_code")
    key = ("isco", isco_code, None if measures is None else tuple(chosen))
    return _memo(idx, key, lambda: _score_isco(conn, idx, data, group, chosen))


def _score_isco(conn, idx: Index, data: IscoData, group: dict, chosen: list[str]) -> m.IscoScoreResponse:
    code = group["isco_code"]
    rows = data.exposure.get(code, {})
    entries, plain = [], {}
    for mid in chosen:
        r = rows.get(mid, {})
        info = idx.minfo[mid]
        entries.append(m.MeasureScore(
            measure_id=mid, title=info["title"], scale=info["scale"], direction=info["direction"], score=_f(r.get("score")),
            percentile=_f(r.get("percentile")), employment_percentile=_f(r.get("employment_percentile")),
            coverage=_f(r.get("coverage")), derivation=r.get("derivation")))
        if r.get("score_unweighted") is not None:
            plain[mid] = float(r["score_unweighted"])
    link = data.links.get(code)
    block = None
    fam = _consensus.families(conn, idx)
    if fam is not None and link is not None:
        votes, _ = scoring.grouped_weighted_mean(idx.P[np.ix_(link.pos, fam.cols)], link.weight)
        block = _consensus.block(fam, "isco", votes[0])
    c = data.consensus.get(code)
    beside = None if c is None else m.IscoBeside(
        ilo_measure=c["ilo_measure"], ilo_score=_f(c["ilo_score"]), ilo_percentile=_f(c["ilo_percentile"]),
        us_centre=_f(c["us_centre"]), us_low=_f(c["us_low"]), us_high=_f(c["us_high"]), us_n=int(c["us_n"]),
        us_percentile=_f(c["us_percentile"]), ilo_minus_us=_f(c["ilo_minus_us"]),
        centre_unweighted=_f(c["centre_unweighted"]), isco_percentile=_f(c["isco_percentile"]))
    linked = [] if link is None else [
        m.IscoLinkedRole(role_code=idx.codes[p], title=idx.titles[p], weight=float(w), link_share=float(s),
                         us_employment=_f(e), soc2010_codes=soc, derivation=d, task_fit=_f(fit))
        for p, w, s, e, soc, d, fit in sorted(zip(link.pos, link.weight, link.link_share, link.us_employment, link.soc2010,
                                                  link.derivation, link.task_fit), key=lambda t: (-t[1], idx.codes[t[0]]))]
    info = m.IscoGroupInfo(code=code, digits=int(group["digits"]), title=group["title"], title_source=group["title_source"],
                           parent_code=group["parent_code"], unit_groups=int(group["unit_groups"]),
                           soc2010_codes=(group["soc2010_codes"] or "").split(",") if group["soc2010_codes"] else [],
                           n_roles=int(group["n_roles"]), us_employment=_f(group["us_employment"]),
                           weighted_by=group["weighted_by"], best_task_fit=_f(group["best_task_fit"]), note=group["note"])
    return m.IscoScoreResponse(isco=info, measures=entries, measures_unweighted=plain, consensus=block, beside=beside,
                               linked_roles=linked, rules=RULES)


_DATA_FOR = PerDatabase(lambda conn, idx: _load(conn, idx))  # loaded once per database
