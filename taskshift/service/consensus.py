"""The consensus block of the scoring API: a role, a custom role, a workforce (docs/consensus.md).

The arithmetic is `taskshift.scoring.consensus_stats` and `weighted_percentile_of`, the functions
the build uses for `role_consensus`; the votes are:

- role: its percentile on each family's headline measure (role_exposure.percentile), so the block
  equals the role's row of role_consensus;
- custom role: its percentile on each headline measure, as in the response's measures (a custom
  role is one job, placed among the roles);
- workforce: the headcount-weighted mean of its roles' percentiles (where its average worker sits;
  not the percentile of the mean score, which a skewed measure pushes up), so a workforce of one
  role equals that role.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np

from taskshift import scoring
from taskshift.service import models as m
from taskshift.service.index import Index, PerDatabase, _f, _q, _role_pos, index_for

VOTES = {
    "role": "the role's percentile among roles on each family's headline measure (role_exposure.percentile)",
    "custom": "the custom role's percentile among roles on each family's headline measure (as in measures)",
    "workforce": "the headcount-weighted mean of the roles' percentiles on each family's headline measure",
}
RULE = (f"consensus: one vote per family (its headline measure); centre = median vote, interval = 25th-75th percentile of "
        f"the votes, agreement = 1 - width / the width unrelated measures give; at least {scoring.CONSENSUS_MIN_FAMILIES} "
        "families (docs/consensus.md)")


@dataclass
class Families:
    family: list[str]           # counted families, then context ones, each sorted
    measure: list[str]
    evidence: list[str]
    counted: np.ndarray         # bool per entry
    cols: np.ndarray            # column of each measure in idx.P
    weights: np.ndarray         # per role: its labour code's employment / roles sharing the code
    ref_centre: np.ndarray      # per role: its consensus centre
    reference: tuple            # the worker_percentile reference: centres and weights (scoring.weighted_reference)
    coarse: dict[str, list[str]]


def families(conn: sqlite3.Connection, idx: Index) -> Families | None:
    """The families of the database behind `conn` (None for a database built without consensus)."""
    return _FAMILIES(conn, idx)


def _load(conn: sqlite3.Connection, idx: Index) -> Families | None:
    columns = {r[1] for r in _q(conn, "pragma table_info(measures)")}
    if "consensus_role" not in columns:
        return None
    rows = _q(conn, "select family, measure_id, evidence, consensus_role from measures "
                    "where consensus_role in ('headline', 'context') order by consensus_role != 'headline', family").fetchall()
    rows = [r for r in rows if r[1] in idx.col]
    emp = dict((c, (e, n)) for c, e, n in _q(conn, "select code, employment, roles_sharing_labor_code from roles"))
    weights = np.array([(emp[c][0] / emp[c][1]) if emp.get(c, (None,))[0] is not None and emp[c][1] else 0.0
                        for c in idx.codes], dtype="float64")
    coarse = {}
    if _q(conn, "select count(*) from sqlite_master where name = 'role_consensus'").fetchone()[0]:
        coarse = {c: f.split(",") for c, f in _q(conn, "select role_code, coarse_families from role_consensus "
                                                       "where coarse_families is not null")}
    fam = Families(family=[r[0] for r in rows], measure=[r[1] for r in rows], evidence=[r[2] for r in rows],
                   counted=np.array([r[3] == "headline" for r in rows], dtype=bool),
                   cols=np.array([idx.col[r[1]] for r in rows], dtype="int64"), weights=weights,
                   ref_centre=np.empty(0), reference=(), coarse=coarse)
    fam.ref_centre = scoring.consensus_stats(idx.P[:, fam.cols[fam.counted]])["centre"]
    fam.reference = scoring.weighted_reference(fam.ref_centre, weights)
    return fam


def block(fam: Families, kind: str, votes: np.ndarray, coarse: list[str] | None = None) -> m.Consensus:
    """The consensus block for one unit from its votes (one per entry of `fam`, counted then context)."""
    votes = np.asarray(votes, dtype="float64")
    counted = votes[fam.counted]
    s = scoring.consensus_stats(counted[None, :])
    names = [f for f, c in zip(fam.family, fam.counted) if c]
    centre = _f(s["centre"][0])
    sides = {}
    for kind_ in ("predicted", "observed"):
        pick = [i for i, (c, e) in enumerate(zip(fam.counted, fam.evidence)) if c and e == kind_]
        side = scoring.consensus_stats(votes[pick][None, :], min_families=1)
        sides[kind_] = m.SideConsensus(centre=_f(side["centre"][0]), low=_f(side["low"][0]), high=_f(side["high"][0]),
                                       n_families=int(side["n"][0]))
    gap = None if sides["observed"].centre is None or sides["predicted"].centre is None else \
        sides["observed"].centre - sides["predicted"].centre
    worker = scoring.weighted_percentile_of([s["centre"][0]], fam.reference)[0]
    out = [m.FamilyVote(family=f, measure_id=mid, evidence=e, counted=bool(c), percentile=_f(v),
                        difference=None if centre is None or v != v else float(v) - centre)
           for f, mid, e, c, v in zip(fam.family, fam.measure, fam.evidence, fam.counted, votes.tolist())]
    above, below = int(s["above"][0]), int(s["below"][0])
    return m.Consensus(
        kind=kind, centre=centre, low=_f(s["low"][0]), high=_f(s["high"][0]), n_families=int(s["n"][0]),
        families_in_database=len(names), agreement=_f(s["agreement"][0]), level=s["level"][0], confidence=s["confidence"][0],
        label=str(s["label"][0]), furthest_above=names[above] if above >= 0 else None, above_by=_f(s["above_by"][0]),
        furthest_below=names[below] if below >= 0 else None, below_by=_f(s["below_by"][0]), worker_percentile=_f(worker),
        predicted=sides["predicted"], observed=sides["observed"], theory_gap=gap, coarse_families=coarse or [], votes=out)


def role_block(conn, idx: Index, pos: int) -> m.Consensus | None:
    fam = families(conn, idx)
    if fam is None:
        return None
    return block(fam, "role", idx.P[pos, fam.cols], fam.coarse.get(idx.codes[pos]))


def custom_block(conn, idx: Index, percentiles: dict[str, float | None]) -> m.Consensus | None:
    """`percentiles`: the custom role's percentile on each measure (at least every headline and context measure)."""
    fam = families(conn, idx)
    if fam is None:
        return None
    votes = np.array([np.nan if percentiles.get(mid) is None else percentiles[mid] for mid in fam.measure], dtype="float64")
    return block(fam, "custom", votes)


def workforce_block(conn, idx: Index, pos: np.ndarray, headcount: np.ndarray) -> m.Consensus | None:
    fam = families(conn, idx)
    if fam is None:
        return None
    votes, _ = scoring.grouped_weighted_mean(idx.P[np.ix_(pos, fam.cols)], headcount)
    return block(fam, "workforce", votes[0])


def consensus_role(conn: sqlite3.Connection, role_code: str) -> m.Consensus:
    """The consensus block of one role (the `consensus` of `score_role`), without the rest of the response."""
    from taskshift.service.errors import NotFound

    idx = index_for(conn)
    pos = _role_pos(idx, role_code, "role_code", conn)  # the same suggestions as score_role
    out = role_block(conn, idx, pos)
    if out is None:
        raise NotFound("role_code", "this database has no consensus (built before taskshift had one)", "no_consensus")
    return out


_FAMILIES = PerDatabase(lambda conn, idx: _load(conn, idx))  # loaded once per database
