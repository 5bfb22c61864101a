"""The scoring API through datasette.client: values checked against the database, every kind of bad input, fuzzing."""
from __future__ import annotations

import asyncio
import json
import math
import shutil
import sqlite3
from urllib.parse import quote

import jsonschema
import pytest
import pytest_asyncio
from datasette.app import Datasette
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskshift.service import models
from taskshift import scoring
from taskshift.site.serve import SETTINGS

ROLE = "15-1252.00"  # Software Developers: the Eloundou task list equals O*NET 29.3's


@pytest_asyncio.fixture
async def ds(built_db):
    datasette = Datasette(immutables=[str(built_db)], settings=SETTINGS)
    await datasette.invoke_startup()
    return datasette


@pytest.fixture(scope="module")
def db(conn):
    return conn


def role_rows(db, code):
    rows = db.execute("select measure_id, score, percentile, coverage, derivation, employment_percentile "
                      "from role_exposure where role_code = ?", (code,))
    return {r[0]: r[1:] for r in rows}


def task_rows(db, code):
    return db.execute("select task_id, task_type from tasks where role_code = ? order by task_id", (code,)).fetchall()


def task_values(db, task_ids, measure):
    marks = ",".join("?" * len(task_ids))
    rows = db.execute(f"select task_id, value, label from task_exposure where measure_id = ? and task_id in ({marks})",
                      (measure, *task_ids))
    return {r[0]: (r[1], r[2]) for r in rows}


def assert_error(r, status, field):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["ok"] is False and body["status"] == status
    fields = [e["field"] for e in body["errors"]]
    assert any(f == field or f.startswith(field) for f in fields), (field, fields)
    assert all(e["problem"] for e in body["errors"])
    return body


# --- GET /-/score/{role_code} ----------------------------------------------------------------------
@pytest.mark.asyncio
async def test_score_role_matches_database(ds, db):
    r = await ds.client.get(f"/-/score/{ROLE}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    models.ScoreResponse.model_validate(body)
    assert body["kind"] == "role" and body["role"]["code"] == ROLE and body["role"]["title"] == "Software Developers"
    expected = role_rows(db, ROLE)
    all_measures = {m for (m,) in db.execute("select distinct measure_id from role_exposure")}
    got = {m["measure_id"]: m for m in body["measures"]}
    assert set(got) == all_measures
    for mid, (score, pct, cov, der, emp_pct) in expected.items():
        assert got[mid]["score"] == score and got[mid]["percentile"] == pct
        assert got[mid]["employment_percentile"] == emp_pct
        assert got[mid]["coverage"] == cov and got[mid]["derivation"] == der
    # the task breakdown: the role's tasks, coreweights, task_exposure values
    tasks = task_rows(db, ROLE)
    assert sorted(t["task_id"] for t in body["tasks"]) == [t for t, _ in tasks]
    types = dict(tasks)
    beta = task_values(db, [t for t, _ in tasks], "eloundou2023_gpt4_beta")
    for t in body["tasks"]:
        assert t["weight"] == (2.0 if types[t["task_id"]] == "Core" else 1.0)
        assert t["values"]["eloundou2023_gpt4_beta"] == beta[t["task_id"]][0]
        assert t["exposure_label"] == beta[t["task_id"]][1]
    assert math.isclose(sum(t["share"] for t in body["tasks"]), 1.0)
    # task_basis_score = coreweight-weighted mean of the task values over the spine's tasks; the paper's score also
    # counts the two tasks O*NET 30.2 retired (21674, 21675: weight_share_retired 2/19), so the two differ here
    weights = {t["task_id"]: t["weight"] for t in body["tasks"]}
    basis = sum(weights[t] * v for t, (v, _) in beta.items()) / sum(weights[t] for t in beta)
    assert math.isclose(got["eloundou2023_gpt4_beta"]["task_basis_score"], basis, rel_tol=1e-12)
    assert math.isclose(got["eloundou2023_gpt4_beta"]["weight_share_retired"], 2 / 19, rel_tol=1e-12)
    assert not math.isclose(got["eloundou2023_gpt4_beta"]["score"], basis, rel_tol=1e-6)


@pytest.mark.asyncio
async def test_score_role_profile_and_outlook(ds, db):
    body = (await ds.client.get(f"/-/score/{ROLE}")).json()
    p = body["profile"]
    tasks = task_rows(db, ROLE)
    ids = [t for t, _ in tasks]
    w = {t: (2.0 if ty == "Core" else 1.0) for t, ty in tasks}
    labels = task_values(db, ids, "eloundou2023_gpt4_beta")
    auto = task_values(db, ids, "eloundou2023_gpt4_automation")
    exposed = [t for t, (_, lab) in labels.items() if lab in ("E1", "E2")]
    exposed_share = sum(w[t] for t in exposed) / sum(w[t] for t in labels)
    automatable = sum(w[t] for t in exposed if auto[t][0] >= 0.75) / sum(w[t] for t in exposed)
    assert math.isclose(p["exposed_share"], exposed_share) and math.isclose(p["automatable_share"], automatable)
    assert math.isclose(p["augmented_share"], 1 - automatable)
    (change,) = db.execute("select employment_change_pct from roles where code = ?", (ROLE,)).fetchone()
    assert p["employment_change_pct"] == change
    (average,) = db.execute("select ep_change_pct from labor_stats where code = '00-0000'").fetchone()
    # Software developers: exposed, mostly augmented, growing faster than average (+15.8% vs +3.1%)
    expected = ("limited" if exposed_share < 0.5 else "elimination" if automatable >= 0.5 and change <= -1
                else "compression" if change < average else "expansion")
    (predicted,) = db.execute("select predicted_outlook from role_outlook where role_code = ?", (ROLE,)).fetchone()
    assert predicted == expected == "expansion"  # GPT-4 and the projection alone
    # on the evidence: consensus 87.5 >= 50, EP +15.8% >= +3.1%, OEWS 2022-2025 +10.0% >= +5.1% (postings -53.6%)
    assert p["outlook"] == "expansion" and p["outlook_rule"] == "exposed_growing_demand"
    th = p["thresholds"]
    assert th["automatable_min"] == scoring.AUTOMATABLE_MIN == 0.75
    assert th["exposed_share_min"] == 0.5 and th["automatable_share_min"] == 0.5 and th["decline_max_pct"] == -1.0
    assert th["average_change_pct"] == average == 3.1
    assert th["exposed_labels"] == ["E1", "E2"] and "elimination" in th["rules"] and "expansion" in p["outlook_reason"]
    assert th["exposed_centre_min"] == 50 and "exposed_weak_demand" in th["role_rules"]
    ev = {e["evidence"]: e for e in p["evidence"]}
    assert ev["exposed_share"]["value"] == p["exposed_share"] and ev["exposed_share"]["holds"] is True
    assert ev["below_average_growth"] == {**ev["below_average_growth"], "value": change, "threshold": average, "holds": False}
    rows = db.execute("select evidence, value, threshold, holds from role_outlook_evidence where role_code = ? "
                      "order by position", (ROLE,)).fetchall()
    assert [(e["evidence"], e["value"], e["threshold"], e["holds"]) for e in p["evidence"]] == \
        [(n, v, t, None if h is None else bool(h)) for n, v, t, h in rows]


@pytest.mark.asyncio
async def test_score_role_outlooks_cover_all_kinds(ds, db):
    """Every outlook the rules allow occurs among real roles, and a role without tasks is unknown."""
    seen = set()
    codes = [c for (c,) in db.execute("select code from roles order by code")]
    for code in codes[::7] + ["43-9021.00"]:  # data entry keyers: elimination
        r = await ds.client.get(f"/-/score/{code}?measures=eloundou2023_gpt4_beta")
        seen.add(r.json()["profile"]["outlook"])
    assert {"elimination", "compression", "expansion", "limited", "unknown"} <= seen | {"unknown"}
    assert {"elimination", "compression", "expansion", "limited"} <= seen
    # a role with no tasks and no consensus is unknown (with a consensus, a role without O*NET tasks is labelled:
    # its measures are published for its SOC code)
    (empty,) = db.execute("select code from roles join role_consensus c on c.role_code = code "
                          "where task_count = 0 and c.centre is null limit 1").fetchone()
    body = (await ds.client.get(f"/-/score/{empty}")).json()
    assert body["tasks"] == [] and body["profile"]["outlook"] == "unknown"


@pytest.mark.asyncio
async def test_score_role_measures_narrows(ds, db):
    want = ["felten2021_aioe", "eloundou2023_gpt4_beta"]
    for path in (f"/-/score/{ROLE}?measures={','.join(want)}",
                 f"/-/score/{ROLE}?measures={want[0]}&measures={want[1]}"):
        body = (await ds.client.get(path)).json()
        assert [m["measure_id"] for m in body["measures"]] == sorted(want)
        assert all(set(t["values"]) <= {"eloundou2023_gpt4_beta"} for t in body["tasks"])
        assert body["measures"][1]["score"] == role_rows(db, ROLE)["felten2021_aioe"][0]
    r = await ds.client.get(f"/-/score/{ROLE}?measures=eloundou2023_gpt4_beta,not_a_measure")
    body = assert_error(r, 400, "measures")
    assert "not_a_measure" in body["error"]
    r = await ds.client.get(f"/-/score/{ROLE}?measures=felten2021_aiie")  # industry level: no role scores
    assert "no role-level scores" in assert_error(r, 400, "measures")["error"]
    assert_error(await ds.client.get(f"/-/score/{ROLE}?measures="), 400, "measures")


@pytest.mark.asyncio
async def test_score_role_unknown_and_malformed(ds):
    assert_error(await ds.client.get("/-/score/99-9999.00"), 404, "role_code")
    assert_error(await ds.client.get("/-/score/software"), 400, "role_code")
    r = await ds.client.post(f"/-/score/{ROLE}", json={})
    assert r.status_code == 405 and r.headers["allow"] == "GET"


# --- POST /-/score ----------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_custom_bundle_of_one_roles_tasks_scores_as_the_role(ds, db):
    role = (await ds.client.get(f"/-/score/{ROLE}")).json()
    bundle = {"tasks": [{"task_id": t["task_id"], "share": t["weight"]} for t in role["tasks"]]}
    r = await ds.client.post("/-/score", json=bundle)
    assert r.status_code == 200, r.text
    custom = r.json()
    assert custom["kind"] == "custom" and custom["role"] is None
    mine = {m["measure_id"]: m for m in custom["measures"]}
    for m in role["measures"]:
        c = mine[m["measure_id"]]
        assert c["derivation"] == ("task_weighted" if m["measure_id"].startswith("eloundou") else "role_mixture")
        if m["task_basis_score"] is not None:  # the role's spine tasks: its task_basis_score (the paper's list had two more)
            assert c["score"] == m["task_basis_score"], m["measure_id"]
            continue
        assert c["score"] == m["score"] and c["percentile"] == m["percentile"], m["measure_id"]
    for key in ("exposed_share", "automatable_share", "augmented_share", "employment_change_pct", "outlook"):
        assert custom["profile"][key] == role["profile"][key]
    # the same bundle in another time unit (hours a week) scores the same
    hours = {"tasks": [{"task_id": t["task_id"], "share": t["weight"] * 2.5} for t in role["tasks"]]}
    again = (await ds.client.post("/-/score", json=hours)).json()
    for a, b in zip(again["measures"], custom["measures"]):
        assert math.isclose(a["score"], b["score"], rel_tol=1e-12)


@pytest.mark.asyncio
async def test_custom_bundle_rules_against_database(ds, db):
    """Two tasks of two roles: task-weighted measures mix task values, role-level measures mix role scores."""
    (t1,) = db.execute("select task_id from tasks where role_code = '15-1252.00' order by task_id limit 1").fetchone()
    (t2,) = db.execute("select task_id from tasks where role_code = '43-4051.00' order by task_id limit 1").fetchone()
    body = (await ds.client.post("/-/score", json={"tasks": [{"task_id": t1, "share": 1}, {"task_id": t2, "share": 3}]})).json()
    got = {m["measure_id"]: m for m in body["measures"]}
    v = {t: task_values(db, [t], "eloundou2023_gpt4_beta")[t][0] for t in (t1, t2)}
    assert math.isclose(got["eloundou2023_gpt4_beta"]["score"], 0.25 * v[t1] + 0.75 * v[t2])
    a, b = role_rows(db, "15-1252.00"), role_rows(db, "43-4051.00")
    assert math.isclose(got["felten2021_aioe"]["score"], 0.25 * a["felten2021_aioe"][0] + 0.75 * b["felten2021_aioe"][0])
    assert got["felten2021_aioe"]["derivation"] == "role_mixture" and got["felten2021_aioe"]["coverage"] == 1.0
    scores = sorted(s for (s,) in db.execute("select score from role_exposure where measure_id = 'felten2021_aioe'"))
    below = sum(s < got["felten2021_aioe"]["score"] for s in scores)
    assert 100 * (below - 0.5) / (len(scores) - 1) <= got["felten2021_aioe"]["percentile"] <= 100 * below / (len(scores) - 1)
    assert [t["share"] for t in body["tasks"]] == [0.25, 0.75]


@pytest.mark.asyncio
async def test_custom_free_text_is_matched(ds, db):
    statement, code, task_id = db.execute(
        "select statement, role_code, task_id from tasks where statement = 'Write supporting code for Web applications or Web sites.' "
        "and role_code = '15-1255.00'").fetchone()
    body = {"tasks": [{"text": statement, "share": 1}], "base_role": code}
    r = (await ds.client.post("/-/score", json=body)).json()
    match = r["tasks"][0]["match"]
    assert match["task_id"] == task_id and match["in_base_role"] is True and match["statement"] == statement
    assert match["query"] == statement and r["tasks"][0]["task_id"] == task_id and r["base_role"]["code"] == code
    assert r["profile"]["employment_change_pct"] == db.execute(
        "select employment_change_pct from roles where code = ?", (code,)).fetchone()[0]
    assert all(m["base_role_score"] == role_rows(db, code).get(m["measure_id"], (None,))[0] for m in r["measures"])
    r = (await ds.client.post("/-/score", json={"tasks": [{"text": "schedule appointments for patients", "share": 2},
                                                           {"task_id": task_id, "share": 1}]})).json()
    first = r["tasks"][0]["match"]
    assert "appointment" in first["statement"].lower() and first["relevance"] > 0
    assert db.execute("select statement from tasks where task_id = ?", (first["task_id"],)).fetchone()[0] == first["statement"]
    assert_error(await ds.client.post("/-/score", json={"tasks": [{"text": "zzqxj qqvvz", "share": 1}]}), 404, "tasks.0.text")
    # text with no word matches no statement: the same 404 as words that match nothing (the OpenAPI allows any text)
    assert_error(await ds.client.post("/-/score", json={"tasks": [{"text": "!!! ???", "share": 1}]}), 404, "tasks.0.text")
    assert_error(await ds.client.post("/-/score", json={"tasks": [{"text": " ", "share": 1}]}), 404, "tasks.0.text")


# --- POST /-/score/workforce ---------------------------------------------------------------------
@pytest.mark.asyncio
async def test_workforce_of_one_role_scores_as_the_role(ds, db):
    role = (await ds.client.get(f"/-/score/{ROLE}")).json()
    r = await ds.client.post("/-/score/workforce", json={"roles": [{"role_code": ROLE, "headcount": 37}]})
    assert r.status_code == 200, r.text
    wf = r.json()
    models.WorkforceResponse.model_validate(wf)
    mine = {m["measure_id"]: m for m in wf["measures"]}
    for m in role["measures"]:
        assert mine[m["measure_id"]]["score"] == m["score"] and mine[m["measure_id"]]["percentile"] == m["percentile"]
        assert mine[m["measure_id"]]["employment_percentile"] == m["employment_percentile"]
        # exposed: more exposed than 75% of US workers (employment-weighted percentile), on every measure
        assert mine[m["measure_id"]]["exposed_headcount"] == (37 if m["employment_percentile"] >= 75 else 0)
    for key in ("exposed_share", "automatable_share", "employment_change_pct", "outlook"):
        assert wf["profile"][key] == role["profile"][key]
    assert wf["headcount"] == 37 and wf["most_exposed"][0]["role_code"] == ROLE


@pytest.mark.asyncio
async def test_workforce_against_database(ds, db):
    team = {"15-1252.00": 40, "43-4051.00": 120, "29-1141.00": 0, "47-2061.00": 15}
    body = {"roles": [{"role_code": c, "headcount": h} for c, h in team.items()] + [{"role_code": "47-2061.00", "headcount": 5}],
            "top": 3}
    wf = (await ds.client.post("/-/score/workforce", json=body)).json()
    team["47-2061.00"] += 5
    assert wf["headcount"] == 180 and wf["roles"] == 4
    rows = {c: role_rows(db, c) for c in team}
    for m in wf["measures"]:
        mid = m["measure_id"]
        have = {c: rows[c][mid] for c in team if mid in rows[c]}
        total = sum(team[c] for c in have)
        assert math.isclose(m["score"], sum(team[c] * have[c][0] for c in have) / total, rel_tol=1e-12)
        assert m["exposed_headcount"] == sum(team[c] for c in have if have[c][4] >= scoring.EXPOSED_PERCENTILE)
    top = wf["most_exposed"]
    assert len(top) == 3 and wf["rank_by"] == "eloundou2023_gpt4_beta"
    pcts = [t["percentile"] for t in top]
    assert pcts == sorted(pcts, reverse=True)
    assert top[0]["percentile"] == max(rows[c]["eloundou2023_gpt4_beta"][1] for c in team)
    assert sum(wf["profile"]["headcount_by_outlook"].values()) == 180


# --- GET /-/match ---------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_match_titles(ds, db):
    body = (await ds.client.get("/-/match?title=software+engineer&limit=5")).json()
    assert body["matches"][0]["role_code"] == "15-1252.00" and body["matches"][0]["exact"]
    assert len(body["matches"]) == 5
    for m in body["matches"]:
        title = db.execute("select title from roles where code = ?", (m["role_code"],)).fetchone()[0]
        assert m["role_title"] == title
        assert db.execute("select 1 from titles where role_code = ? and title = ? and kind = ?",
                          (m["role_code"], m["matched_title"], m["matched_kind"])).fetchone()
    first = (await ds.client.get("/-/match?title=Data%20Scientist")).json()["matches"][0]
    assert first["role_code"] == "15-2051.00"
    cashier = (await ds.client.get("/-/match?title=cashiers&limit=3")).json()["matches"]
    assert cashier[0]["role_code"] == "41-2011.00" and cashier[0]["matched_kind"] == "occupation"
    assert_error(await ds.client.get("/-/match"), 400, "title")
    assert_error(await ds.client.get("/-/match?title=nurse&limit=0"), 400, "limit")
    assert_error(await ds.client.get("/-/match?title=nurse&limit=many"), 400, "limit")
    nothing = (await ds.client.get("/-/match?title=%22%2A%28")).json()  # no word: no match, not an error
    assert nothing["query"] == '"*(' and nothing["matches"] == [] and nothing["method"] == "none"
    assert (await ds.client.get("/-/match?title=zzqxjv")).json()["matches"] == []


@pytest.mark.asyncio
async def test_match_includes_emerging_titles(built_db, tmp_path):
    """Rows of kind emerging (AI-era titles) are matched like any other title."""
    copy = tmp_path / "taskshift.db"
    shutil.copy(built_db, copy)
    with sqlite3.connect(copy) as conn:
        (next_id,) = conn.execute("select max(title_id) + 1 from titles").fetchone()
        conn.execute("insert into titles (title_id, role_code, title, kind, source_id) values (?, '15-1252.00', "
                     "'Agent Orchestration Engineer', 'emerging', 'curated')", (next_id,))
        conn.execute("insert into titles_fts (titles_fts) values ('rebuild')")
    datasette = Datasette(immutables=[str(copy)], settings=SETTINGS)
    await datasette.invoke_startup()
    first = (await datasette.client.get("/-/match?title=agent+orchestration+engineer")).json()["matches"][0]
    assert first["role_code"] == "15-1252.00" and first["matched_kind"] == "emerging" and first["exact"]
    # the curated AI-era titles are in the built database too
    prompt = (await datasette.client.get("/-/match?title=prompt+engineer")).json()["matches"][0]
    assert prompt["matched_kind"] == "emerging" and prompt["exact"]


# --- bad input -----------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_bad_custom_bodies(ds):
    post = lambda body, **kw: ds.client.post("/-/score", **({"json": body} if not isinstance(body, (bytes, str)) else {"content": body}), **kw)  # noqa: E731
    assert_error(await post(b'{"tasks": [{"task_id": 1, "share": 1}'), 400, "body")        # malformed JSON
    assert_error(await post(b""), 400, "body")                                                # no body
    assert_error(await post([1, 2]), 400, "body")                                             # not an object
    assert_error(await post({"tasks": "21661"}), 400, "tasks")                                # wrong type
    assert_error(await post({"tasks": [{"task_id": "21661", "share": 1}]}), 400, "tasks.0.task_id")
    assert_error(await post({"tasks": [{"task_id": 21661, "share": "0.5"}]}), 400, "tasks.0.share")
    assert_error(await post({"tasks": [{"task_id": 21661, "share": True}]}), 400, "tasks.0.share")
    assert_error(await post({"tasks": [{"task_id": 21661}]}), 400, "tasks.0.share")
    assert_error(await post({"tasks": [{"task_id": 21661, "text": "x", "share": 1}]}), 400, "tasks.0")
    assert_error(await post({"tasks": [{"share": 1}]}), 400, "tasks.0")
    assert_error(await post({"tasks": [], "base_role": ROLE}), 400, "tasks")
    assert_error(await post({"tasks": [{"task_id": 21661, "share": 1}], "colour": "red"}), 400, "colour")
    assert_error(await post({"tasks": [{"task_id": 21661, "share": -0.1}]}), 400, "tasks.0.share")     # negative share
    assert_error(await post(b'{"tasks": [{"task_id": 21661, "share": NaN}]}'), 400, "tasks.0.share")
    assert_error(await post(b'{"tasks": [{"task_id": 21661, "share": 1e999}]}'), 400, "tasks.0.share")
    assert_error(await post({"tasks": [{"task_id": 21661, "share": 0}, {"task_id": 21662, "share": 0}]}), 400, "tasks")
    assert_error(await post({"tasks": [{"task_id": 21661, "share": 1}] * 201}), 400, "tasks")            # too many tasks
    assert (await post({"tasks": [{"task_id": 21661, "share": 1}] * 200})).status_code == 200
    assert_error(await post({"tasks": [{"task_id": 21661, "share": 1}, {"task_id": 999999, "share": 1}]}), 404, "tasks.1.task_id")
    assert_error(await post({"tasks": [{"task_id": 21661, "share": 1}], "base_role": "99-9999.00"}), 404, "base_role")
    assert_error(await post({"tasks": [{"task_id": 21661, "share": 1}], "base_role": "nurse"}), 400, "base_role")
    assert_error(await post({"tasks": [{"task_id": 21661, "share": 1}], "measures": ["nope"]}), 400, "measures")
    big = json.dumps({"tasks": [{"text": "x" * 1000, "share": 1}] * 300}).encode()
    assert len(big) > models.MAX_BODY_BYTES
    assert_error(await post(big), 413, "body")                                                # body > 256 KB
    too_many_texts = {"tasks": [{"text": f"review code {i}", "share": 1} for i in range(models.MAX_FREE_TEXT_TASKS + 1)]}
    body = assert_error(await post(too_many_texts), 400, "tasks")                             # the free-text budget
    assert f"at most {models.MAX_FREE_TEXT_TASKS}" in body["error"]
    r = await ds.client.get("/-/score")
    assert r.status_code == 405 and r.json()["errors"][0]["field"] == "method"


@pytest.mark.asyncio
async def test_bad_workforce_bodies(ds):
    post = lambda body: ds.client.post("/-/score/workforce", json=body)  # noqa: E731
    one = lambda h: {"roles": [{"role_code": ROLE, "headcount": h}]}  # noqa: E731
    assert_error(await post(one(-1)), 400, "roles.0.headcount")          # negative headcount
    assert_error(await post(one(2.5)), 400, "roles.0.headcount")         # non-integer headcount
    assert (await post(one(3.0))).json()["headcount"] == 3              # 3.0 is 3 (JSON numbers), as the OpenAPI says
    assert_error(await post(one("3")), 400, "roles.0.headcount")
    assert_error(await post(one(0)), 400, "roles")                        # all zero
    assert_error(await post({"roles": [{"role_code": "99-9999.00", "headcount": 1}]}), 404, "roles.0.role_code")
    assert_error(await post({"roles": [{"role_code": ROLE, "headcount": 1}], "rank_by": "nope"}), 400, "rank_by")
    assert_error(await post({"roles": [{"role_code": ROLE, "headcount": 1}], "top": 0}), 400, "top")
    assert_error(await post({"roles": []}), 400, "roles")
    r = await ds.client.post("/-/score/workforce", content=b"{")
    assert_error(r, 400, "body")


@pytest.mark.asyncio
async def test_post_routes_skip_csrf(ds):
    """A browser-like POST (cookie, form content type) reaches the API, not Datasette's CSRF check."""
    r = await ds.client.post("/-/score", content=b"tasks=1", cookies={"ds_csrftoken": "abc"},
                             headers={"content-type": "application/x-www-form-urlencoded"})
    assert_error(r, 400, "body")
    r = await ds.client.post("/-/score", json={"tasks": [{"task_id": 21661, "share": 1}]}, cookies={"ds_csrftoken": "abc"})
    assert r.status_code == 200


@pytest.mark.asyncio
async def test_plugin_registered_and_site_still_works(ds):
    plugins = (await ds.client.get("/-/plugins.json")).json()
    mine = [p for p in plugins if p["name"].startswith("taskshift")]  # the API plugin and the pages (taskshift.site)
    hooks = set().union(*(p["hooks"] for p in mine))
    assert mine and {"register_routes", "skip_csrf", "canned_queries", "get_metadata", "startup", "render_cell"} <= hooks
    r = await ds.client.get("/taskshift/tasks_of_role.json?code=15-1252.00&_shape=objects")
    assert r.status_code == 200 and len(r.json()["rows"]) == 17  # 19 on O*NET 29.3


# --- OpenAPI ---------------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_openapi_describes_every_route_and_validates_responses(ds):
    spec = (await ds.client.get("/-/openapi.json")).json()
    assert spec["openapi"].startswith("3.")
    assert {"/-/score/{role_code}", "/-/score", "/-/score/workforce", "/-/match", "/-/transitions/{role_code}",
            "/-/openapi.json"} <= set(spec["paths"])
    assert spec["paths"]["/-/score"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("CustomRoleRequest")
    defs = json.loads(json.dumps(spec["components"]["schemas"]).replace("#/components/schemas/", "#/$defs/"))

    def check(instance, path, method, status="200"):
        ref = spec["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        jsonschema.Draft202012Validator({"$ref": ref.replace("#/components/schemas/", "#/$defs/"), "$defs": defs}).validate(instance)

    check((await ds.client.get(f"/-/score/{ROLE}")).json(), "/-/score/{role_code}", "get")
    check((await ds.client.post("/-/score", json={"tasks": [{"text": "debug programs", "share": 1}]})).json(), "/-/score", "post")
    check((await ds.client.post("/-/score/workforce", json={"roles": [{"role_code": ROLE, "headcount": 3}]})).json(),
          "/-/score/workforce", "post")
    check((await ds.client.get("/-/match?title=nurse")).json(), "/-/match", "get")
    check((await ds.client.get("/-/transitions/43-4051.00")).json(), "/-/transitions/{role_code}", "get")
    check((await ds.client.get("/-/score/99-9999.00")).json(), "/-/score/{role_code}", "get", "404")


# --- fuzzing -------------------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=25)
task_items = st.fixed_dictionaries({}, optional={
    "task_id": st.one_of(st.integers(-5, 30000), st.text(max_size=5), st.none(), st.floats()),
    "text": st.one_of(st.text(max_size=60), st.integers()),
    "share": st.one_of(st.floats(-1, 1e6), st.integers(-3, 100), st.text(max_size=3), st.booleans()),
    "extra": json_values})
custom_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries({"tasks": st.lists(task_items, max_size=8)},
                          optional={"base_role": st.one_of(st.sampled_from([ROLE, "99-9999.00", "x"]), json_values),
                                    "measures": st.one_of(st.lists(st.sampled_from(["eloundou2023_gpt4_beta", "nope", ""])), json_values)}))
workforce_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries({"roles": st.lists(st.fixed_dictionaries({}, optional={
        "role_code": st.one_of(st.sampled_from([ROLE, "43-4051.00", "99-9999.00", "15-1252"]), st.text(max_size=12)),
        "isco_code": st.one_of(st.sampled_from(["2512", "2", "1113", "9999", "25123", ""]), st.text(max_size=6), st.integers()),
        "headcount": st.one_of(st.integers(-5, 10**9), st.floats(), st.text(max_size=3))}), max_size=6)},
        optional={"top": json_values, "rank_by": json_values, "measures": json_values}))
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def loop_ds(built_db):
    loop = asyncio.new_event_loop()
    datasette = Datasette(immutables=[str(built_db)], settings=SETTINGS)
    loop.run_until_complete(datasette.invoke_startup())
    yield loop, datasette
    loop.close()


def _assert_clean(r):
    # 405: a code such as "." or "workforce" makes the URL another route's (/-/score, /-/score/workforce)
    assert r.status_code in (200, 400, 404, 405, 413), (r.status_code, r.text[:300])
    if r.status_code == 405:
        assert r.headers["allow"] and r.json()["errors"][0]["field"] == "method"
    body = r.json()
    if r.status_code != 200:
        assert body["ok"] is False and body["errors"] and all(e["field"] and e["problem"] for e in body["errors"])


@FUZZ
@given(body=custom_bodies)
def test_fuzz_custom(loop_ds, body):
    loop, datasette = loop_ds
    _assert_clean(loop.run_until_complete(datasette.client.post("/-/score", content=json.dumps(body))))


@FUZZ
@given(body=workforce_bodies)
def test_fuzz_workforce(loop_ds, body):
    loop, datasette = loop_ds
    _assert_clean(loop.run_until_complete(datasette.client.post("/-/score/workforce", content=json.dumps(body))))


@FUZZ
@given(raw=st.binary(max_size=300))
def test_fuzz_raw_bytes(loop_ds, raw):
    loop, datasette = loop_ds
    _assert_clean(loop.run_until_complete(datasette.client.post("/-/score", content=raw)))


@FUZZ
@given(code=st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=20),
       measures=st.one_of(st.none(), st.text(max_size=40)), title=st.text(max_size=80), limit=st.text(max_size=4))
def test_fuzz_query_strings(loop_ds, code, measures, title, limit):
    loop, datasette = loop_ds
    params = {} if measures is None else {"measures": measures}
    r = loop.run_until_complete(datasette.client.get(f"/-/score/{quote(code, safe='')}", params=params))
    if r.status_code != 404 or r.headers.get("content-type", "").startswith("application/json"):
        _assert_clean(r)
    _assert_clean(loop.run_until_complete(datasette.client.get("/-/match", params={"title": title, "limit": limit})))
    r = loop.run_until_complete(datasette.client.get(f"/-/score/isco/{quote(code, safe='')}", params=params))
    if r.status_code != 404 or r.headers.get("content-type", "").startswith("application/json"):
        _assert_clean(r)
    r = loop.run_until_complete(datasette.client.get(f"/-/transitions/{quote(code, safe='')}",
                                                     params={"limit": limit, "measure": title, "max_job_zone_step": limit}))
    if r.status_code != 404 or r.headers.get("content-type", "").startswith("application/json"):
        _assert_clean(r)


@pytest.mark.asyncio
async def test_without_a_taskshift_database_the_api_says_so():
    datasette = Datasette(memory=True)
    await datasette.invoke_startup()
    assert_error(await datasette.client.get(f"/-/score/{ROLE}"), 503, "database")
    assert (await datasette.client.get("/-/openapi.json")).status_code == 200
