"""The consensus across families of measures (docs/consensus.md): the math, the tables, the API blocks."""
from __future__ import annotations

import asyncio
import json
import math
import sqlite3

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import taskshift
from taskshift import scoring, service
from taskshift.build.assemble import BuildError
from taskshift.build.derive import consensus as derive
from taskshift.resources import site_files

KNOWN = {"15-1252.00": "Software Developers", "43-9021.00": "Data Entry Keyers", "29-1141.00": "Registered Nurses",
         "53-3032.00": "Heavy and Tractor-Trailer Truck Drivers", "53-2011.00": "Airline Pilots",
         "41-2011.00": "Cashiers", "43-4051.00": "Customer Service Representatives"}
NUMBERS = ("centre", "low", "high", "agreement", "above_by", "below_by", "worker_percentile", "theory_gap")


def frame(conn, sql, params=()):
    cur = conn.cursor()
    cur.row_factory = None
    cur.execute(sql, params)
    return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])


# --- the math (pure) -------------------------------------------------------------------------------
votes = st.lists(st.one_of(st.none(), st.floats(0, 100)), min_size=1, max_size=10)


@settings(max_examples=300, deadline=None)
@given(st.lists(votes, min_size=1, max_size=5))
def test_interval_contains_the_centre_and_the_votes_bound_it(rows):
    width = max(len(r) for r in rows)
    x = np.array([[np.nan if v is None else v for v in r] + [np.nan] * (width - len(r)) for r in rows])
    s = scoring.consensus_stats(x)
    for i, row in enumerate(x):
        present = row[~np.isnan(row)]
        if len(present) < scoring.CONSENSUS_MIN_FAMILIES:
            assert math.isnan(s["centre"][i]) and s["label"][i] == "too few measures" and s["above"][i] == -1
            continue
        assert present.min() <= s["low"][i] <= s["centre"][i] <= s["high"][i] <= present.max()
        assert s["centre"][i] == pytest.approx(np.median(present))
        assert s["n"][i] == len(present)
        assert s["above_by"][i] >= 0 and s["below_by"][i] >= 0
        assert s["agreement"][i] <= 1


def test_consensus_stats_on_hand_computed_rows():
    x = np.array([[27, 48, 84, 85, 90, 93, 98, 98],          # one outlier family
                  [50, 50, 50, 50, 50, 50, 50, 50],          # identical votes
                  [5, 32, 38, 43, 72, 77, 92, 95]], float)   # spread as unrelated measures
    s = scoring.consensus_stats(x)
    assert s["centre"].tolist() == [87.5, 50.0, 57.5]
    assert s["low"][0] == pytest.approx(48 + 0.75 * (84 - 48)) and s["high"][0] == pytest.approx(93 + 0.25 * 5)
    assert s["agreement"][1] == 1.0
    assert s["agreement"][0] == pytest.approx(1 - (94.25 - 75) / (50 * 7 / 9))
    assert list(s["label"]) == ["high exposure, measures agree", "medium exposure, measures agree", "uncertain: measures disagree"]
    assert list(s["confidence"]) == ["high", "high", "low"]
    assert s["above"][0] == 6 and s["above_by"][0] == 10.5  # first of the tied 98s
    assert s["below"][0] == 0 and s["below_by"][0] == 60.5


def test_random_interval_width_is_the_expected_width_of_unrelated_votes():
    assert scoring.random_interval_width(3) == 25.0 and scoring.random_interval_width(8) == pytest.approx(350 / 9)
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 100, (20000, 8))
    s = scoring.consensus_stats(x)
    assert abs(np.mean(s["agreement"])) < 0.02  # unrelated measures: agreement about 0


def test_weighted_percentile_counts_ties_half_and_ignores_zero_weight():
    ref, w = [10, 20, 20, 30, np.nan], [1, 1, 1, 2, 5]
    assert scoring.weighted_percentile_of([20, 5, 40, 25], ref, w).tolist() == [40.0, 0.0, 100.0, 60.0]
    assert scoring.weighted_percentile_of([20], [20, 30], [0, 1]).tolist() == [0.0]
    with pytest.raises(ValueError):
        scoring.weighted_percentile_of([1], [1, 2], [1])


def test_top_overlap_and_kappa():
    x = np.arange(100, dtype=float)
    assert scoring.top_overlap(x, x, 0.1)[:2] == (1.0, 1.0)
    overlap, kappa, nx, ny = scoring.top_overlap(x, -x, 0.25)
    assert overlap == 0.0 and kappa < 0 and nx == ny == 25
    assert scoring.weighted_share([0, 0.5, 0.6, np.nan], [1, 1, 2, 5], 0.5, "gt") == (50.0, 4.0)


# --- the registry: one vote per family -------------------------------------------------------------
def test_every_family_votes_once_and_the_evidence_backs_the_choice(conn):
    m = frame(conn, "select measure_id, family, consensus_role, evidence, consensus_note, consensus_spearman, level "
                    "from measures")
    scored = set(frame(conn, "select distinct measure_id from role_exposure")["measure_id"])
    m = m[m["measure_id"].isin(scored)]
    picks = m[m["consensus_role"] != "variant"].groupby("family").size()
    assert (picks == 1).all() and set(picks.index) == set(m["family"])
    head = m[m["consensus_role"] == "headline"].set_index("family")
    assert head.loc["eloundou", "measure_id"] == "eloundou2023_gpt4_beta"
    assert set(head.index[head["evidence"] == "observed"]) == {"anthropic", "microsoft"}
    assert (head["consensus_spearman"] > 0).all(), head["consensus_spearman"]
    context = m[m["consensus_role"] == "context"]
    assert list(context["family"]) == ["frey_osborne"] and (context["consensus_spearman"] < 0).all()
    assert m["consensus_note"].str.len().min() > 40


def test_two_headlines_in_a_family_fail_the_build():
    measures = pd.DataFrame({"measure_id": ["a2020_x", "a2020_y"], "family": ["a", "a"], "consensus_role": ["headline"] * 2,
                             "evidence": ["predicted"] * 2})
    exposure = pd.DataFrame({"measure_id": ["a2020_x", "a2020_y"]})
    with pytest.raises(BuildError, match="family 'a' has 2 headline"):
        derive.family_choice(measures, exposure)


def _inputs(conn):
    roles = frame(conn, "select code, employment, roles_sharing_labor_code from roles")
    exposure = frame(conn, "select role_code, measure_id, score, percentile, native_codes from role_exposure")
    measures = frame(conn, "select measure_id, family, consensus_role, evidence from measures")
    return roles, exposure, measures


def test_a_duplicate_of_one_familys_measure_does_not_move_the_consensus(conn):
    roles, exposure, measures = _inputs(conn)
    before = derive.role_consensus(roles, exposure, derive.family_choice(measures, exposure))
    dup = exposure[exposure["measure_id"] == "daioe2024_allapps"].assign(measure_id="daioe2024_copy")
    exposure2 = pd.concat([exposure, dup], ignore_index=True)
    measures2 = pd.concat([measures, pd.DataFrame([{"measure_id": "daioe2024_copy", "family": "daioe",
                                                    "consensus_role": "variant", "evidence": "predicted"}])])
    after = derive.role_consensus(roles, exposure2, derive.family_choice(measures2, exposure2))
    pd.testing.assert_frame_equal(before, after)
    # the same copy counted as a family of its own would move it: the test above can fail
    measures3 = measures2.assign(family=lambda f: f["family"].where(f["measure_id"] != "daioe2024_copy", "copy"),
                                 consensus_role=lambda f: f["consensus_role"].where(f["measure_id"] != "daioe2024_copy", "headline"))
    moved = derive.role_consensus(roles, exposure2, derive.family_choice(measures3, exposure2))
    assert (moved["centre"] - before["centre"]).abs().max() > 1


# --- the tables ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rc(conn):
    return frame(conn, "select * from role_consensus").set_index("role_code")


def test_every_role_with_three_families_has_a_consensus(conn, rc):
    assert len(rc) == frame(conn, "select count(*) n from roles")["n"][0]
    has = rc[rc["n_families"] >= scoring.CONSENSUS_MIN_FAMILIES]
    assert len(has) > 900 and has[["centre", "low", "high", "agreement", "level", "label", "worker_percentile"]].notna().all().all()
    assert ((has["low"] <= has["centre"]) & (has["centre"] <= has["high"])).all()
    few = rc[rc["n_families"] < scoring.CONSENSUS_MIN_FAMILIES]
    assert few["centre"].isna().all() and (few["label"] == "too few measures").all()
    # the votes in the table are the headline percentiles of role_exposure
    head = frame(conn, "select e.role_code, m.family, e.percentile from role_exposure e join measures m using (measure_id) "
                       "where m.consensus_role = 'headline' and e.role_code = '41-2011.00'")
    votes = json.loads(rc.loc["41-2011.00", "family_percentiles"])
    assert votes == {f: round(p, 2) for f, p in zip(head["family"], head["percentile"])}
    assert rc.loc["41-2011.00", "centre"] == pytest.approx(np.median(head["percentile"]))


def test_well_known_roles_make_sense(rc):
    """What a labour economist expects: developers, data entry keyers and customer service high; drivers and pilots not."""
    for code in ("15-1252.00", "43-9021.00", "43-4051.00"):
        assert rc.loc[code, "level"] == "high" and rc.loc[code, "worker_percentile"] > 80, code
    for code in ("53-3032.00", "53-2011.00", "29-1141.00"):
        assert rc.loc[code, "level"] in ("low", "medium") and rc.loc[code, "centre"] < 50, code
    assert rc.loc["41-2011.00", "label"] == "uncertain: measures disagree"   # cashiers: 5th to 95th percentile
    assert rc.loc["15-1252.00", "furthest_below"] == "sml"
    assert json.loads(rc.loc["15-1252.00", "context_percentiles"]).keys() == {"frey_osborne"}
    assert rc.loc["13-1075.00", "theory_gap"] < -40  # labor relations: predicted high, little observed use


def test_sector_consensus(conn):
    sc = frame(conn, "select * from sector_consensus").set_index("sector_code")
    assert len(sc) == 20 and ((sc["low"] <= sc["centre"]) & (sc["centre"] <= sc["high"])).all()
    assert sc["centre"].idxmax() == "52" and sc["centre"].idxmin() == "11"  # finance most, agriculture least
    mean_pct = frame(conn, "select e.sector_code, e.mean_percentile from sector_exposure e "
                           "where e.measure_id = 'eloundou2023_gpt4_beta'").set_index("sector_code")["mean_percentile"]
    votes = sc["family_percentiles"].map(lambda t: json.loads(t)["eloundou"])
    assert np.allclose(votes, mean_pct.round(2).reindex(votes.index))


def test_measure_correlations_carry_top_overlaps(conn):
    mc = frame(conn, "select * from measure_correlations")
    assert mc[["top_decile_overlap", "top_quartile_overlap", "top_quartile_kappa"]].notna().all().all()
    assert mc["top_decile_overlap"].between(0, 1).all() and mc["top_quartile_kappa"].between(-1, 1).all()
    pair = mc.set_index(["measure_a", "measure_b"]).loc[("felten2021_aioe", "felten2023_lm_aioe")]
    assert pair["top_decile_overlap"] > 0.5 and pair["top_quartile_kappa"] > 0.75  # rank correlation 0.98
    # the measures agree on direction more than on who is most exposed (the literature's finding)
    pair = mc.set_index(["measure_a", "measure_b"]).loc[("eloundou2023_gpt4_beta", "felten2021_aioe")]
    assert pair["spearman"] > 0.8 and pair["top_decile_overlap"] < 0.3


def test_published_figures_are_reproduced_within_their_tolerance(conn):
    pf = frame(conn, "select * from published_figures").set_index("figure_id")
    assert {"eloundou_workers_10pct", "eloundou_workers_50pct", "frey_osborne_high_risk", "microsoft_top_01",
            "anthropic_top_programmers", "anthropic_zero_coverage"} <= set(pf.index)
    assert pf["explanation"].str.len().min() > 50 and pf["source"].str.len().min() > 50
    assert (pf["within_tolerance"] == (pf["difference"].abs() <= pf["tolerance"] + 1e-9).astype(int)).all()
    expected = pf[pf["expected_match"] == 1]
    assert (expected["within_tolerance"] == 1).all(), expected.loc[expected["within_tolerance"] != 1, ["published_value", "reproduced_value"]]
    ranked = expected[expected["published_rank"].notna()]
    assert (ranked["published_rank"] == ranked["reproduced_rank"]).all()
    assert pf.loc["eloundou_workers_10pct", "reproduced_value"] == pytest.approx(80, abs=3)
    assert pf.loc["anthropic_zero_coverage", "within_tolerance"] == 0  # a documented gap, not hidden


# --- the API, the library and the CLI --------------------------------------------------------------
def test_role_block_equals_the_table_for_every_role(conn, rc):
    idx = service.index_for(conn)
    from taskshift.service import consensus as sc

    for code in list(KNOWN) + list(rc.index[::50]):
        got = service.consensus_role(conn, code)
        row = rc.loc[code]
        for key in NUMBERS:
            want = row[key]
            assert (getattr(got, key) is None) == pd.isna(want), (code, key)
            if not pd.isna(want):
                assert getattr(got, key) == pytest.approx(want, abs=1e-9), (code, key)
        assert got.label == row["label"] and got.n_families == row["n_families"]
        want = row["predicted_centre"]
        assert (got.predicted.centre is None and pd.isna(want)) or got.predicted.centre == pytest.approx(want)
        assert ",".join(got.coarse_families) == (row["coarse_families"] if isinstance(row["coarse_families"], str) else "")
    fam = sc.families(conn, idx)
    assert [f for f, c in zip(fam.family, fam.counted) if c] == rc.loc["15-1252.00", "families"].split(",")


def test_a_workforce_of_one_role_equals_that_role(conn):
    for code in KNOWN:
        role = taskshift.consensus(code, conn=conn)
        team = taskshift.consensus(workforce={code: 37}, conn=conn)
        assert team.kind == "workforce" and role.kind == "role"
        a = role.model_dump(exclude={"kind", "coarse_families"})
        b = team.model_dump(exclude={"kind", "coarse_families"})
        assert a == b, code


def test_workforce_votes_are_headcount_weighted_mean_percentiles(conn):
    team = taskshift.score_workforce({"15-1252.00": 30, "41-2011.00": 10}, conn=conn)
    one = {c: {v.family: v.percentile for v in taskshift.consensus(c, conn=conn).votes} for c in ("15-1252.00", "41-2011.00")}
    for v in team.consensus.votes:
        assert v.percentile == pytest.approx((30 * one["15-1252.00"][v.family] + 10 * one["41-2011.00"][v.family]) / 40)
    # the consensus ignores which measures were asked for
    narrow = taskshift.score_workforce({"15-1252.00": 30, "41-2011.00": 10}, measures=["bmr2018_sml"], conn=conn)
    assert narrow.consensus == team.consensus


def test_custom_role_block(conn):
    role = taskshift.score("43-9021.00", conn=conn)
    tasks = [(t.task_id, 1.0) for t in role.tasks]
    custom = taskshift.score(tasks=tasks, measures=["bmr2018_sml"], conn=conn)
    assert custom.consensus.kind == "custom" and custom.consensus.n_families == role.consensus.n_families
    assert custom.consensus.level == "high"
    full = taskshift.score(tasks=tasks, conn=conn)
    assert custom.consensus == full.consensus
    pct = {m.measure_id: m.percentile for m in full.measures}
    assert all(v.percentile == pytest.approx(pct[v.measure_id]) for v in full.consensus.votes)
    with pytest.raises(service.InvalidInput):
        taskshift.consensus("43-9021.00", workforce={"43-9021.00": 1}, conn=conn)


def test_cli_score_prints_the_consensus(built_db, capsys):
    from taskshift import cli

    assert cli.main(["score", "41-2011.00", "--db", str(built_db)]) == 0
    out = capsys.readouterr().out
    assert "consensus: uncertain: measures disagree" in out and "theory vs reality" in out and "frey_osborne" in out


def test_disagreement_ranking_is_a_table(conn, rc):
    """The canned query reads the precomputed table through an index (no window functions over role_exposure)."""
    q = yaml.safe_load(site_files().joinpath("queries.yaml").read_text("utf-8"))["families_disagree"]["sql"]
    assert "role_exposure" not in q and "over (" not in q
    plan = " ".join(r[-1] for r in conn.execute(f"explain query plan {q}", {"min_families": ""}))
    assert "role_consensus" in plan and "INDEX" in plan.upper()
    rows = conn.execute(q, {"min_families": ""}).fetchall()
    agreement = [r[3] for r in rows]
    assert len(rows) == 100 and agreement == sorted(agreement) and agreement[0] < 0


def test_api_role_and_workforce_carry_the_block(built_db):
    from datasette.app import Datasette
    from taskshift.site.serve import SETTINGS

    async def go():
        ds = Datasette(immutables=[str(built_db)], settings=SETTINGS)
        await ds.invoke_startup()
        a = await ds.client.get("/-/score/53-3032.00")
        b = await ds.client.post("/-/score/workforce", json={"roles": [{"role_code": "53-3032.00", "headcount": 3}]})
        c = await ds.client.get("/taskshift/role_consensus.json?_shape=objects&role_code=53-3032.00")
        d = await ds.client.get("/-/openapi.json")
        return a.json(), b.json(), c.json(), d.json()

    role, team, row, openapi = asyncio.run(go())
    assert role["consensus"]["centre"] == team["consensus"]["centre"] == row["rows"][0]["centre"]
    assert role["consensus"]["label"] == row["rows"][0]["label"]
    assert "Consensus" in json.dumps(openapi)


def test_release_build_counts_only_redistributable_families(release_dir):
    from taskshift.release.make import db_name

    with sqlite3.connect(release_dir / db_name()) as c:
        fams = {f for (t,) in c.execute("select families from role_consensus where families is not null") for f in t.split(",")}
        assert fams == {"anthropic", "daioe", "eloundou", "frs2018", "microsoft"}
        bad = c.execute("select count(*) from role_consensus where n_families >= 3 and centre is null").fetchone()[0]
        assert bad == 0
        assert c.execute("select count(*) from published_figures where measure_id like 'frey%'").fetchone()[0] == 0
