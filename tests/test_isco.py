"""Every measure and the consensus by ISCO-08 (issue #15, docs/isco.md): the tables, three unit groups
recomputed by hand, a workforce in ISCO-08 codes against the same workforce in roles, the API, library and CLI."""
from __future__ import annotations

import json
import math
import sqlite3

import numpy as np
import pytest

import taskshift
from taskshift import cli, service

from .conftest import api_request


@pytest.fixture(scope="module")
def db(built_db):
    c = taskshift.connect(built_db)
    yield c
    c.close()


def q(db, sql, params=()):
    return db.execute(sql, params).fetchall()


def _api(built_db, method: str, path: str, **kw):
    return api_request(built_db, path, method, **kw)


# --- the tables ----------------------------------------------------------------------------------------
def test_every_linked_unit_group_carries_every_measure_its_roles_carry(db):
    # every unit group of the crosswalk is a group; the ones without a role say why
    crosswalk = {c for (c,) in q(db, "select distinct from_code from crosswalks where from_system = 'isco08' and length(from_code) = 4")}
    units = dict(q(db, "select isco_code, n_roles from isco_groups where digits = 4"))
    assert crosswalk <= set(units) and len(units) == 436
    without = {c for c, n in units.items() if n == 0}
    assert without == {"1113", "4414", "7318"}  # Traditional chiefs, Scribes, Handicraft workers in textile: task fit
    notes = dict(q(db, "select isco_code, note from isco_groups where n_roles = 0 and digits = 4"))
    assert all("task-fit rule" in notes[c] for c in without) and "11-1011.00 Chief Executives" in notes["1113"]
    # at every level, each group carries every measure that one of its roles carries (measures published in
    # ISCO-08 come from the unit groups' own scores: a group carries them where one of its unit groups is scored)
    missing = q(db, """
        with need as (
          select distinct r.isco_code, e.measure_id from isco_roles r join role_exposure e using (role_code)
          join measures m using (measure_id) where m.code_system != 'isco08')
        select n.isco_code, n.measure_id from need n
        left join isco_exposure x on x.isco_code = n.isco_code and x.measure_id = n.measure_id where x.score is null""")
    assert missing == []
    extra = q(db, """select x.isco_code, x.measure_id from isco_exposure x join measures m using (measure_id)
                     where m.code_system != 'isco08' and not exists (
                       select 1 from isco_roles r join role_exposure e using (role_code)
                       where r.isco_code = x.isco_code and e.measure_id = x.measure_id)""")
    assert extra == []
    native = q(db, """select count(*), sum(x.score = o.mean_score_2025) from isco_exposure x
                      join ilo_occupation_exposure o on o.isco08_code = x.isco_code where x.measure_id = 'ilo2025_genai'""")
    assert native == [(427, 427)]  # every unit group the ILO scores, its published score
    for d in (1, 2, 3):  # every larger group with a scored unit group under it
        scored = {c[:d] for (c,) in q(db, "select isco08_code from ilo_occupation_exposure")}
        have = {c for (c,) in q(db, "select isco_code from isco_exposure where measure_id = 'ilo2025_genai' and digits = ?", (d,))}
        assert have == scored


def test_weights_count_each_labour_code_once(db):
    total = q(db, "select sum(employment_allocated) from roles")[0][0]
    for d in (1, 2, 3, 4):
        linked = q(db, "select sum(us_employment) from isco_roles where digits = ?", (d,))[0][0]
        assert linked == pytest.approx(total, rel=1e-12)  # every role's workers land in one group per level
        sums = q(db, "select min(s), max(s) from (select sum(weight) s from isco_roles where digits = ? group by isco_code)", (d,))
        assert sums[0] == pytest.approx((1.0, 1.0), abs=1e-12)
    shares = q(db, "select min(s), max(s) from (select sum(link_share) s from isco_roles where digits = 4 group by role_code)")
    assert shares[0] == pytest.approx((1.0, 1.0), abs=1e-12)
    # the armed forces have no OEWS employment: weighted by link share, and say so
    assert q(db, "select weighted_by, us_employment from isco_groups where isco_code = '0110'") == [("link_share", 0.0)]


def test_isco_role_weights_rule():
    from taskshift import scoring

    # group a: two roles by US workers (100 x 1, 300 x 0.5); group b: no employment at all, so link shares
    w, by_emp = scoring.isco_role_weights([1.0, 0.5, 0.25, 0.75], [100.0, 300.0, np.nan, 0.0], ["a", "a", "b", "b"])
    assert w.tolist() == pytest.approx([0.4, 0.6, 0.25, 0.75]) and by_emp.tolist() == [True, True, False, False]
    with pytest.raises(ValueError):
        scoring.isco_role_weights([-1.0], [1.0], ["a"])


def test_titles_come_from_pinned_files(db):
    rows = dict(q(db, "select isco_code, title from isco_groups where isco_code in ('2512', '2', '211', '25', '0')"))
    assert rows["2512"] == "Software developers" and rows["2"] == "Professionals"
    assert rows["211"] == "Physical and earth science professionals"  # one of the crosswalk's two 3-digit matches
    assert rows["25"] is None and rows["0"] is None  # no pinned file carries sub-major titles, nor major group 0's
    sources = {s for (s,) in q(db, "select distinct title_source from isco_groups where title is not null")}
    assert all("BLS ISCO-08" in s or "ILO" in s for s in sources)


# --- three unit groups by hand --------------------------------------------------------------------------
def _predecessor_soc(db, role):
    return sorted({c[:7] for (c,) in q(db, "select from_code from crosswalks where from_system = 'onetsoc2010' and to_code = ?",
                                        (role,))})


def _isco_of(db, soc):
    return sorted(c for (c,) in q(db, "select from_code from crosswalks where from_system = 'isco08' and to_code = ?", (soc,)))


@pytest.mark.parametrize("group, expected_shares", [
    # 2512 Software developers <- SOC 2010 15-1132, 15-1133. Software Developers come from O*NET-SOC 2010 15-1132.00
    # and 15-1133.00, both linked to 2512 alone: share 1. QA Analysts come from 15-1132.00, 15-1133.00 and 15-1199.01:
    # three SOC 2010 codes without an OEWS May 2019 figure (OEWS printed 15-1256 / 15-1299), so a third each, and
    # 15-1199 goes to 2519 and 2529: 2/3 to 2512.
    ("2512", {"15-1252.00": 1.0, "15-1253.00": 2 / 3}),
    # 2221 Nursing professionals <- 29-1141, 29-1151, 29-1171: each role has one SOC 2010 code linked to 2221 alone;
    # the five Registered Nurse roles share OEWS code 29-1141 (3,282,010), 656,402 each.
    ("2221", {"29-1141.00": 1.0, "29-1141.01": 1.0, "29-1141.02": 1.0, "29-1141.03": 1.0, "29-1141.04": 1.0,
              "29-1151.00": 1.0, "29-1171.00": 1.0}),
    # 5230 Cashiers and ticket clerks <- 41-2011 Cashiers, 41-2012 Gaming Change Persons and Booth Cashiers.
    ("5230", {"41-2011.00": 1.0, "41-2012.00": 1.0}),
])
def test_three_unit_groups_by_hand(db, group, expected_shares):
    # the link shares, from the crosswalks table and the documented rule (equal SOC 2010 codes where OEWS May 2019
    # has no figure for them, equal over the unit groups of a SOC 2010 code)
    for role, share in expected_shares.items():
        socs = _predecessor_soc(db, role)
        by_hand = sum((1 / len(socs)) * (1 / len(_isco_of(db, s))) for s in socs if group in _isco_of(db, s))
        assert by_hand == pytest.approx(share, rel=1e-12), role
    stored = dict(q(db, "select role_code, link_share from isco_roles where isco_code = ?", (group,)))
    assert stored.keys() == expected_shares.keys()
    assert all(stored[r] == pytest.approx(s, rel=1e-12) for r, s in expected_shares.items())
    basis = dict(q(db, "select role_code, weight_basis from isco_roles where isco_code = ?", (group,)))
    assert all(b.startswith(("one SOC 2010 code", "equal: no OEWS May 2019")) for b in basis.values())
    # the weights: US workers = OEWS May 2024 employment of the labour code / roles sharing it x link share
    emp = {r: e / n * expected_shares[r] for r, e, n in q(
        db, f"select code, employment, roles_sharing_labor_code from roles where code in ({','.join('?' * len(expected_shares))})",
        tuple(expected_shares))}
    total = sum(emp.values())
    weights = {r: e / total for r, e in emp.items()}
    stored_w = dict(q(db, "select role_code, weight from isco_roles where isco_code = ?", (group,)))
    assert all(stored_w[r] == pytest.approx(w, rel=1e-12) for r, w in weights.items())
    assert q(db, "select us_employment from isco_groups where isco_code = ?", (group,))[0][0] == pytest.approx(total, rel=1e-12)
    # the scores: weighted mean of the role scores on every measure not published in ISCO-08
    checked = 0
    for mid, score, unweighted, coverage in q(db, """select measure_id, score, score_unweighted, coverage from isco_exposure x
            join measures m using (measure_id) where isco_code = ? and m.code_system != 'isco08'""", (group,)):
        rows = dict(q(db, f"select role_code, score from role_exposure where measure_id = ? and role_code in "
                          f"({','.join('?' * len(weights))})", (mid, *weights)))
        num = sum(weights[r] * s for r, s in rows.items())
        den = sum(weights[r] for r in rows)
        assert score == pytest.approx(num / den, rel=1e-12), mid
        assert coverage == pytest.approx(den, rel=1e-12)
        plain = sum(expected_shares[r] * s for r, s in rows.items()) / sum(expected_shares[r] for r in rows)
        assert unweighted == pytest.approx(plain, rel=1e-12), mid
        checked += 1
    assert checked >= 15
    # the consensus: each family's vote is the weighted mean of the role percentiles; median and middle half
    heads = q(db, "select family, measure_id from measures where consensus_role = 'headline' order by family")
    votes = {}
    for fam, mid in heads:
        rows = dict(q(db, f"select role_code, percentile from role_exposure where measure_id = ? and role_code in "
                          f"({','.join('?' * len(weights))})", (mid, *weights)))
        if rows:
            votes[fam] = sum(weights[r] * p for r, p in rows.items()) / sum(weights[r] for r in rows)
    row = q(db, "select centre, low, high, n_families, family_percentiles, us_centre from isco_consensus where isco_code = ?",
            (group,))[0]
    v = np.array(list(votes.values()))
    assert row[0] == pytest.approx(np.median(v), rel=1e-12)
    assert (row[1], row[2]) == pytest.approx(tuple(np.percentile(v, [25, 75])), rel=1e-12)
    assert row[3] == len(votes)
    assert json.loads(row[4]) == pytest.approx({f: round(x, 2) for f, x in votes.items()}, abs=0.006)
    us = np.array([x for f, x in votes.items() if f != "ilo"])
    assert row[5] == pytest.approx(np.median(us), rel=1e-12)


def test_well_known_unit_groups_make_sense(db):
    """A labour economist's check: the consensus of each unit group is near its main role's."""
    rows = {c: (centre, label, main) for c, centre, label, main in q(db, """
        select c.isco_code, c.centre, c.label, (select r.role_code from isco_roles r where r.isco_code = c.isco_code
                                                order by r.weight desc limit 1)
        from isco_consensus c where c.isco_code in ('2512', '2221', '8332', '5230', '4132', '3153')""")}
    main = {"2512": "15-1252.00", "2221": "29-1141.00", "8332": "53-3032.00", "5230": "41-2011.00", "4132": "43-9021.00",
            "3153": "53-2011.00"}
    for code, role in main.items():
        centre, label, top = rows[code]
        assert top == role, code
        role_centre = q(db, "select centre from role_consensus where role_code = ?", (role,))[0][0]
        assert abs(centre - role_centre) < 6, (code, centre, role_centre)
    assert rows["4132"][0] > 90 and rows["2512"][0] > 80 and rows["8332"][0] < 40 and rows["5230"][1].startswith("uncertain")


def test_ilo_beside_the_us_consensus(db):
    agree = {(d, b): (n, rho, quart) for d, b, n, rho, quart in q(
        db, "select digits, measure_b, n, spearman, top_quartile_overlap from isco_agreement where measure_a = 'ilo2025_genai'")}
    n, rho, quart = agree[(4, "us_consensus")]
    assert n >= 400 and rho > 0.8 and quart > 0.7  # the ILO and the US measures rank unit groups alike
    assert agree[(4, "frs2018_ai_score")][1] < 0.3  # FRS 2018 (pre-generative benchmarks) does not
    # the per-group columns are the ones the agreement is computed from
    rows = q(db, """select c.ilo_score, x.score, c.ilo_percentile, x.percentile, c.us_percentile, c.ilo_minus_us
                    from isco_consensus c join isco_exposure x on x.isco_code = c.isco_code and x.measure_id = c.ilo_measure
                    where c.digits = 4""")
    assert len(rows) >= 420
    for ilo, score, ilo_p, p, us_p, diff in rows:
        assert ilo == score and ilo_p == p
        assert diff is None or diff == pytest.approx(ilo_p - us_p)


# --- the API, the library and the CLI ----------------------------------------------------------------------
def test_score_isco_is_the_table_and_a_workforce_of_the_group(db, built_db):
    for code in ("2512", "3153", "41", "9", "0110"):
        r = taskshift.score_isco(code, conn=db)
        assert r.kind == "isco" and r.isco.code == code
        table = {m: (s, p, e, c) for m, s, p, e, c in q(
            db, "select measure_id, score, percentile, employment_percentile, coverage from isco_exposure where isco_code = ?",
            (code,))}
        for x in r.measures:
            if x.measure_id in table:
                assert (x.score, x.percentile, x.employment_percentile, x.coverage) == table[x.measure_id]
            else:
                assert x.score is None
        cons = q(db, "select centre, low, high, agreement, worker_percentile, label from isco_consensus where isco_code = ?", (code,))[0]
        c = r.consensus
        assert (c.centre, c.low, c.high, c.agreement, c.worker_percentile, c.label) == cons  # same arithmetic, to the bit
        assert sum(x.weight for x in r.linked_roles) == pytest.approx(1.0)
        # a workforce of the group is the group (measures not published in ISCO-08, and the consensus)
        wf = taskshift.score_workforce(isco={code: 1000}, conn=db)
        system = dict(q(db, "select measure_id, code_system from measures"))
        for w, x in zip(wf.measures, r.measures):
            assert w.measure_id == x.measure_id
            if system[w.measure_id] != "isco08" and x.score is not None:
                assert w.score == pytest.approx(x.score, rel=1e-12, abs=1e-15)
                assert w.coverage == pytest.approx(x.coverage, rel=1e-12)
        if c.centre is not None:
            assert wf.consensus.centre == pytest.approx(c.centre, rel=1e-12)
        assert wf.headcount == 1000 and wf.isco[0].isco_code == code
    # the ILO family's vote and the ILO's own score: a unit group keeps its published score
    r = taskshift.score_isco("2512", conn=db)
    ilo = next(x for x in r.measures if x.measure_id == "ilo2025_genai")
    assert ilo.derivation == "native" and ilo.score == r.beside.ilo_score == 0.53
    # a group without a role still answers with its published score, and says why it has no consensus
    r = taskshift.score_isco("1113", conn=db)
    assert r.linked_roles == [] and r.consensus is None and "task-fit" in r.isco.note
    assert {x.measure_id for x in r.measures if x.score is not None} == {"ilo2023_genai", "ilo2025_genai"}


def test_workforce_in_isco_codes_equals_the_workforce_of_its_roles(db):
    """With headcounts three times the groups' US employment (OEWS May 2025), the roles' headcounts are three times their
    US workers (integers here: 15-1253's two-thirds share of 186,740 is not): the ISCO-08 workforce and the role
    workforce are the same workforce."""
    isco = [{"isco_code": "2512", "headcount": 3 * 1812383 + 1}, {"isco_code": "5230", "headcount": 3 * 3110940},
            {"isco_code": "4132", "headcount": 3 * 127080}]
    roles = [{"role_code": r, "headcount": 3 * h} for r, h in (("15-1252.00", 1687890), ("15-1253.00", 124493 + 1 / 3),
                                                               ("41-2011.00", 3089410), ("41-2012.00", 21530), ("43-9021.00", 127080))]
    roles = [{**r, "headcount": round(r["headcount"])} for r in roles]
    a = service.score_workforce(db, {"roles": isco + [{"role_code": "29-1141.00", "headcount": 12}]})
    b = service.score_workforce(db, {"roles": roles + [{"role_code": "29-1141.00", "headcount": 12}]})
    assert a.headcount == b.headcount and a.roles == b.roles == 6
    for x, y in zip(a.measures, b.measures):
        assert x.measure_id == y.measure_id
        assert x.score == pytest.approx(y.score, rel=1e-12, abs=1e-15) and x.percentile == pytest.approx(y.percentile, abs=1e-9)
        assert x.coverage == pytest.approx(y.coverage, rel=1e-12) and x.exposed_headcount == y.exposed_headcount
    assert a.consensus.centre == pytest.approx(b.consensus.centre, rel=1e-12)
    assert [v.percentile for v in a.consensus.votes] == pytest.approx([v.percentile for v in b.consensus.votes], rel=1e-12)
    assert a.profile.headcount_by_outlook == b.profile.headcount_by_outlook
    assert [x.role_code for x in a.most_exposed] == [x.role_code for x in b.most_exposed]
    # any headcount: the roles get headcount x isco_roles.weight (a 1-digit group here), computed by hand from the table
    wf = taskshift.score_workforce(isco={"4": 250}, conn=db)
    weights = dict(q(db, "select role_code, weight from isco_roles where isco_code = '4' and weight > 0"))
    rows = dict(q(db, f"select role_code, score from role_exposure where measure_id = 'eloundou2023_gpt4_beta' and role_code in "
                      f"({','.join('?' * len(weights))})", tuple(weights)))
    expected = sum(250 * weights[r] * s for r, s in rows.items()) / sum(250 * weights[r] for r in rows)
    beta = next(x for x in wf.measures if x.measure_id == "eloundou2023_gpt4_beta")
    assert beta.score == pytest.approx(expected, rel=1e-12) and wf.roles == len(weights)


def test_library_cli_and_api_agree_on_isco(db, built_db, capsys):
    lib = taskshift.score_isco("2512", conn=db).model_dump(mode="json")
    assert cli.main(["score", "--isco", "2512", "--json", "--db", str(built_db)]) == 0
    assert json.loads(capsys.readouterr().out) == lib == _api(built_db, "get", "/-/score/isco/2512").json()
    body = {"roles": [{"isco_code": "2", "headcount": 700}, {"isco_code": "9", "headcount": 300}]}
    lib = taskshift.score_workforce(isco={"2": 700, "9": 300}, conn=db).model_dump(mode="json")
    assert lib == _api(built_db, "post", "/-/score/workforce", json=body).json()
    assert cli.main(["score", "--isco", "8332", "--db", str(built_db)]) == 0
    out = capsys.readouterr().out
    assert "Heavy truck and lorry drivers" in out and "53-3032.00" in out and "ILO beside the US measures" in out


def test_isco_errors_name_the_field(db, built_db):
    r = _api(built_db, "get", "/-/score/isco/25a")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "isco_code"
    r = _api(built_db, "get", "/-/score/isco/9999")
    assert r.status_code == 404 and "nearest known group is 9" in r.json()["error"]
    bad = [({"isco_code": "2512", "role_code": "15-1252.00", "headcount": 1}, 400, "roles.0"),
           ({"headcount": 1}, 400, "roles.0"),
           ({"isco_code": "25123", "headcount": 1}, 400, "roles.0.isco_code"),
           ({"isco_code": 2512, "headcount": 1}, 400, "roles.0.isco_code"),
           ({"isco_code": "1113", "headcount": 1}, 404, "roles.0.isco_code"),
           ({"isco_code": "9999", "headcount": 1}, 404, "roles.0.isco_code")]
    for entry, status, field in bad:
        r = _api(built_db, "post", "/-/score/workforce", json={"roles": [entry]})
        assert r.status_code == status, (entry, r.text)
        assert any(e["field"].startswith(field) for e in r.json()["errors"]), (entry, r.text)
    with pytest.raises(LookupError):
        taskshift.score_isco("9999", conn=db)
    spec = _api(built_db, "get", "/-/openapi.json").json()
    assert "/-/score/isco/{isco_code}" in spec["paths"]
    assert "isco_code" in json.dumps(spec["components"]["schemas"]["WorkforceEntry"])


def test_release_build_has_the_isco_tables_without_the_ilo(release_dir):
    from taskshift.release.make import db_name

    with sqlite3.connect(release_dir / db_name()) as rel:
        assert rel.execute("select count(*) from isco_groups where digits = 4").fetchone()[0] == 436
        assert rel.execute("select count(*) from isco_exposure where measure_id like 'ilo%'").fetchone()[0] == 0
        assert rel.execute("select count(*) from isco_consensus where ilo_score is not null").fetchone()[0] == 0
        assert rel.execute("select count(*) from isco_agreement").fetchone()[0] == 0
        # no ILO task statements, so no task-fit rule: every unit group the crosswalk links has its roles
        assert rel.execute("select count(*) from isco_groups where digits = 4 and n_roles = 0").fetchone()[0] == 0
        centre = rel.execute("select centre from isco_consensus where isco_code = '2512'").fetchone()[0]
        assert not math.isnan(centre)
