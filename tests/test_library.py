"""The Python API and the CLI: the same numbers as the HTTP API, db_path resolution, the scoring math behind them."""
from __future__ import annotations

import json
import math
import sqlite3
import time

import numpy as np
import pandas as pd
import pytest

import taskshift
from taskshift import cli, scoring, service
from taskshift.db import ENV_VAR

from .conftest import api_request

ROLE = "15-1252.00"


@pytest.fixture(scope="module")
def conn(built_db):
    return taskshift.connect(built_db)


# --- db_path / connect / table ---------------------------------------------------------------------
def test_db_path_resolution(built_db, tmp_path, monkeypatch):
    built_db = built_db.resolve()
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert taskshift.db_path(built_db) == built_db.resolve()
    monkeypatch.setenv(ENV_VAR, str(built_db))
    assert taskshift.db_path() == built_db.resolve()
    monkeypatch.delenv(ENV_VAR)
    monkeypatch.chdir(tmp_path)
    try:  # a release database fetched by `taskshift download` is the last fallback: pretend there is none
        import taskshift.download as download
        monkeypatch.setattr(download, "downloaded_db", lambda: tmp_path / "none" / "taskshift.db")
    except ImportError:
        pass
    with pytest.raises(FileNotFoundError, match="dist/taskshift.db"):
        taskshift.db_path()
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "taskshift.db").symlink_to(built_db)
    assert taskshift.db_path() == built_db.resolve()
    with pytest.raises(FileNotFoundError, match="TASKSHIFT_DB"):
        taskshift.db_path(tmp_path / "missing.db")


def test_connect_is_read_only_and_table(conn, built_db):
    with pytest.raises(sqlite3.OperationalError):
        conn.execute("delete from roles")
    roles = taskshift.table("roles", conn=conn)
    assert isinstance(roles, pd.DataFrame) and len(roles) == 1016 and "employment_change_pct" in roles
    with sqlite3.connect(built_db) as raw:
        assert len(taskshift.table("task_exposure", path=built_db)) == raw.execute("select count(*) from task_exposure").fetchone()[0]
    with pytest.raises(ValueError, match="no table"):
        taskshift.table("roles; drop table roles", conn=conn)


# --- same numbers from the library, the CLI and the plugin ---------------------------------------
def _api(built_db, method: str, path: str, **kw):
    return api_request(built_db, path, method, **kw)


def test_library_cli_and_api_agree(conn, built_db, capsys):
    lib = taskshift.score(ROLE, conn=conn).model_dump(mode="json")
    assert cli.main(["score", ROLE, "--json", "--db", str(built_db)]) == 0
    from_cli = json.loads(capsys.readouterr().out)
    api = _api(built_db, "get", f"/-/score/{ROLE}").json()
    assert lib == from_cli == api

    team = {"15-1252.00": 12, "43-4051.00": 30}
    lib = taskshift.score_workforce(team, conn=conn).model_dump(mode="json")
    api = _api(built_db, "post", "/-/score/workforce",
               json={"roles": [{"role_code": c, "headcount": h} for c, h in team.items()]}).json()
    assert lib == api

    tasks = [(21661, 0.5), ("write unit tests for software", 0.5)]
    lib = taskshift.score(tasks=tasks, conn=conn).model_dump(mode="json")
    api = _api(built_db, "post", "/-/score", json={"tasks": [{"task_id": 21661, "share": 0.5},
                                                             {"text": "write unit tests for software", "share": 0.5}]}).json()
    assert lib == api

    lib = taskshift.match_title("registered nurse", limit=5, conn=conn).model_dump(mode="json")
    assert cli.main(["match", "registered nurse", "--limit", "5", "--json", "--db", str(built_db)]) == 0
    assert json.loads(capsys.readouterr().out) == lib == _api(built_db, "get", "/-/match?title=registered%20nurse&limit=5").json()


def test_cli_tables_and_errors(built_db, tmp_path, capsys):
    assert cli.main(["score", ROLE, "--db", str(built_db), "--measures", "eloundou2023_gpt4_beta"]) == 0
    out = capsys.readouterr().out
    assert "Software Developers" in out and "eloundou2023_gpt4_beta" in out and "outlook: expansion" in out
    # the consensus decides (87.5); GPT-4's exposed share is shown, not read (0.947 on O*NET 29.3: 19 tasks; 17 in 30.2)
    assert "evidence: consensus_exposure 87.453 >= 50.000: yes" in out and "exposed_share 0.964 >= 0.500: yes (not read)" in out
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"tasks": [{"task_id": 21661, "share": 1}]}))
    assert cli.main(["score", "--custom", str(bundle), "--db", str(built_db)]) == 0
    assert "custom role" in capsys.readouterr().out
    team = tmp_path / "team.json"
    team.write_text(json.dumps({"roles": [{"role_code": ROLE, "headcount": 4}]}))
    assert cli.main(["score", "--workforce", str(team), "--db", str(built_db)]) == 0
    assert "workforce: 4 people in 1 roles" in capsys.readouterr().out
    assert cli.main(["match", "software engineer", "--db", str(built_db)]) == 0
    assert "15-1252.00" in capsys.readouterr().out.splitlines()[2]
    assert cli.main(["score", "99-9999.00", "--db", str(built_db)]) == 1
    assert "unknown role" in capsys.readouterr().err
    bundle.write_text(json.dumps({"tasks": [{"task_id": 21661, "share": -1}]}))
    assert cli.main(["score", "--custom", str(bundle), "--db", str(built_db)]) == 2
    assert "tasks.0.share" in capsys.readouterr().err


# --- the rules, over every role ---------------------------------------------------------------------
def test_every_roles_own_tasks_score_as_the_role(conn):
    """A bundle of a role's tasks with their coreweights as shares scores the role's task_basis_score on the
    task-weighted measures (= the role score wherever the Eloundou task list is the spine's, O*NET 30.2), and exactly the
    role's score and percentile on every role-level measure; the profile is the role's."""
    idx = service.index_for(conn)
    predicted = dict(conn.execute("select role_code, predicted_outlook from role_outlook").fetchall())
    same_list = 0
    for code in idx.codes:
        role = taskshift.score(code, conn=conn)
        if not role.tasks:
            continue
        bundle = taskshift.score(tasks=[(t.task_id, t.weight) for t in role.tasks], conn=conn)
        consistent = True
        for r, b in zip(role.measures, bundle.measures):
            if b.derivation == "task_weighted":
                assert b.score == r.task_basis_score, (code, r.measure_id)
                consistent &= r.score is not None and math.isclose(b.score, r.score, rel_tol=1e-12, abs_tol=1e-15)
                if r.score == b.score:
                    assert b.percentile == r.percentile
            else:
                assert b.score == r.score and b.percentile == r.percentile, (code, r.measure_id)
        same_list += consistent
        # the same profile; the outlook of a bundle uses the predicted rules (no consensus, no observed change): it is
        # the role's predicted_outlook, while the role's own label is decided on the evidence (role_outlook)
        label_fields = {"outlook", "outlook_rule", "outlook_reason", "evidence"}
        assert bundle.profile.model_dump(exclude=label_fields) == role.profile.model_dump(exclude=label_fields)
        assert bundle.profile.outlook == predicted[code], code
    # 535 roles in the pinned data: the paper's O*NET 27.x tasks and types are still the spine's (580 on O*NET 29.3; 30.2
    # retired 12 more of the paper's tasks and retyped others: role_task_changes)
    assert same_list >= 530


def test_workforce_of_one_role_is_the_role(conn):
    idx = service.index_for(conn)
    for code in idx.codes[::25]:
        role = taskshift.score(code, conn=conn)
        wf = taskshift.score_workforce([(code, 3)], conn=conn)
        for r, w in zip(role.measures, wf.measures):
            assert w.score == r.score and w.percentile == r.percentile
        # a workforce has no consensus and no observed change: its profile takes the predicted rules (the role's
        # predicted_outlook); its headcount_by_outlook counts the role's own label
        predicted = conn.execute("select predicted_outlook from role_outlook where role_code = ?", (code,)).fetchone()[0]
        assert wf.profile.outlook == predicted and wf.profile.exposed_share == role.profile.exposed_share
        assert wf.profile.headcount_by_outlook[role.profile.outlook] == 3


def test_score_all_is_vectorised_and_agrees(conn):
    taskshift.score_all(conn=conn)
    started = time.perf_counter()
    frame = taskshift.score_all(conn=conn)
    elapsed = time.perf_counter() - started
    idx = service.index_for(conn)
    assert len(frame) == len(idx.codes) * len(idx.scorable)
    assert elapsed < 0.5  # the bench holds it to 50 ms; this only guards against a per-role loop
    wide = frame.set_index(["role_code", "measure_id"])
    for code in (ROLE, "43-4051.00", "29-1141.00"):
        role = taskshift.score(code, conn=conn)
        for mscore in role.measures:
            row = wide.loc[(code, mscore.measure_id)]
            assert (row["score"] == mscore.score) or (mscore.score is None and np.isnan(row["score"]))
            assert (row["percentile"] == mscore.percentile) or mscore.percentile is None
        assert wide.loc[(code, "eloundou2023_gpt4_beta"), "outlook"] == role.profile.outlook
    with sqlite3.connect(idx.key[0]) as raw:
        n = raw.execute("select count(*) from role_exposure").fetchone()[0]
    assert frame["score"].notna().sum() == n
    narrowed = taskshift.score_all(["felten2021_aioe"], conn=conn)
    assert set(narrowed["measure_id"]) == {"felten2021_aioe"}


def test_library_errors_name_the_field(conn):
    with pytest.raises(LookupError) as err:
        taskshift.score("99-9999.00", conn=conn)
    assert err.value.errors[0]["field"] == "role_code"
    with pytest.raises(ValueError) as err:
        taskshift.score(tasks=[(21661, -1)], conn=conn)
    assert err.value.errors[0]["field"] == "tasks.0.share"
    with pytest.raises(LookupError):
        taskshift.score(tasks=[(999999, 1)], conn=conn)
    with pytest.raises(ValueError):
        taskshift.score_workforce({ROLE: 1.5}, conn=conn)
    with pytest.raises(ValueError):
        taskshift.score(ROLE, measures=["nope"], conn=conn)


# --- the scoring math added for the API -------------------------------------------------------------
def test_grouped_weighted_mean_equals_weighted_mean():
    rng = np.random.default_rng(4)
    values = pd.Series(np.where(rng.random(500) < 0.2, np.nan, rng.random(500)))
    weights = pd.Series(rng.integers(0, 3, 500).astype(float))
    groups = rng.integers(0, 40, 500)
    expected = scoring.weighted_mean(values, weights, groups)
    score, coverage = scoring.grouped_weighted_mean(values, weights, groups, 40)
    assert np.allclose(score, expected["score"].reindex(range(40)), equal_nan=True, rtol=1e-12)
    assert np.allclose(coverage, expected["coverage"].reindex(range(40)), equal_nan=True, rtol=1e-12)
    two, _ = scoring.grouped_weighted_mean(np.column_stack([values, values * 2]), weights, groups, 40)
    assert np.allclose(two[:, 1], 2 * two[:, 0], equal_nan=True)
    # a mean of equal values is that value to the last bit
    s, c = scoring.grouped_weighted_mean([0.34, 0.34, 0.34, np.nan], [1.0, 3.0, 7.0, 1.0])
    assert s == 0.34 and c == 11 / 12
    with pytest.raises(ValueError):
        scoring.grouped_weighted_mean([1.0], [-1.0])


def test_percentile_of_matches_percentile_rank():
    ref = pd.Series([0.1, 0.5, 0.5, 0.9, 0.3, np.nan])
    ranks = scoring.percentile_rank(ref)
    got = scoring.percentile_of(ref.to_numpy(), ref.to_numpy())
    assert np.allclose(got, ranks, equal_nan=True)
    assert scoring.percentile_of([0.0, 2.0], ref)[0] == 0 and scoring.percentile_of([2.0], ref)[0] == 100
    between = scoring.percentile_of([0.2], ref)[0]
    assert 0 < between < ranks[4]
    refs = [np.sort(ref.dropna().to_numpy()), np.array([1.0]), np.array([])]
    each = scoring.percentile_of_each([0.5, 7.0, 1.0], refs)
    assert each[0] == scoring.percentile_of([0.5], ref)[0] and each[1] == 50.0 and np.isnan(each[2])
    assert np.isnan(scoring.percentile_of_each([np.nan], refs[:1])[0])


def test_profile_and_outlook_thresholds():
    p = scoring.task_profile(["E1", "E2", "E0", None], [0.75, 0.5, 1.0, 1.0], [1.0, 1.0, 2.0, 1.0])
    assert p["labelled_share"][0] == 0.8 and p["exposed_share"][0] == 0.5
    assert p["automatable_share"][0] == 0.5 and p["augmented_share"][0] == 0.5
    # exposed_share, automatable_share, EP change %, against an average change of +3.1%
    cases = [
        (0.5, 0.5, -1.0, "elimination", "exposed_automatable_declining"),      # every threshold met exactly
        (0.5, 0.5, -0.9, "compression", "exposed_below_average_growth"),       # automatable but no decline
        (0.5, 0.49, -20.0, "compression", "exposed_below_average_growth"),     # declining but mostly augmented
        (0.9, 0.9, 3.0, "compression", "exposed_below_average_growth"),        # slower than average growth
        (0.9, 0.9, 3.1, "expansion", "exposed_average_or_faster_growth"),      # automatable, growing: never elimination
        (0.5, 0.1, 33.5, "expansion", "exposed_average_or_faster_growth"),
        (0.49, 1.0, -30.0, "limited", "low_exposure"),                         # declining, but not exposed to LLMs
        (0.49, 1.0, 12.0, "limited", "low_exposure"),
        (0.49, 1.0, np.nan, "limited", "low_exposure"),
        (0.9, 1.0, np.nan, "unknown", "no_projection"),
        (np.nan, 0.0, 3.0, "unknown", "no_labels"),
    ]
    es, auto, change, labels, rules = map(list, zip(*cases))
    ev = scoring.outlook_evidence(es, auto, change, 3.1)
    assert ev["outlook"].tolist() == labels and ev["rule"].tolist() == rules
    assert scoring.outlook(es, auto, change, 3.1).tolist() == labels
    items = scoring.outlook_items("exposed_automatable_declining", 0.5, 0.5, -1.0, 3.1)
    assert [(i["evidence"], i["holds"], i["decided"]) for i in items] == [
        ("exposed_share", True, True), ("automatable_share", True, True), ("projected_decline", True, True),
        ("below_average_growth", True, False)]
    assert scoring.outlook_items("low_exposure", 0.2, None, None, 3.1)[2]["holds"] is None
    assert "-1%" in scoring.outlook_reason("exposed_automatable_declining", 0.5, 0.5, -1.0, 3.1)
    assert scoring.core_weight(["Core", "Supplemental", None]).tolist() == [2.0, 1.0, 1.0]
