"""The built database, as a user opens it: counts, keys, labour data, exposure, determinism, release."""
from __future__ import annotations

import json
import sqlite3

import pytest

from taskshift.build.assemble import build
from taskshift.release.make import db_name
from taskshift.build.sources import load_manifest, sha256_of


@pytest.fixture(scope="module")
def db(built_db):
    conn = sqlite3.connect(built_db)
    yield conn
    conn.close()


def one(db, sql, *args):
    return db.execute(sql, args).fetchone()[0]


def test_counts(db):
    assert one(db, "select count(*) from roles") == 1016
    assert one(db, "select count(*) from tasks") == 18796
    assert one(db, "select count(*) from soc_groups where level = 'detailed'") == 867
    assert {r: n for r, n in db.execute("select level, count(*) from soc_groups group by level")} == {
        "major": 23, "minor": 98, "broad": 459, "detailed": 867}
    assert one(db, "select count(*) from work_activities where level = 'dwa'") == 2087
    assert one(db, "select count(*) from work_activities where level = 'iwa'") == 332


def test_foreign_keys_and_integrity(db):
    assert db.execute("pragma foreign_key_check").fetchall() == []
    assert one(db, "pragma integrity_check") == "ok"
    # the keys are declared, not only satisfied
    fks = {(r[2], r[3]) for r in db.execute("pragma foreign_key_list(tasks)")}
    assert ("roles", "role_code") in fks


def test_table_digests_equal_the_tables_read_back(db):
    """The build digests the rows as it writes them (taskshift.build.digests.frame_digest); reading every
    table back from the file must give the same rows and hashes, table by table."""
    from taskshift.build.digests import DIGEST_KEY, database_digests
    from taskshift.contracts import table_contracts

    stored = json.loads(one(db, "select value from metadata where key = ?", DIGEST_KEY))
    assert stored == database_digests(db, table_contracts())
    assert set(stored) >= {"tasks", "task_embeddings", "title_embeddings", "metadata"}


def test_oews_employment_on_every_role_oews_publishes(db):
    missing = db.execute("""
        select r.code from roles r join oews_codes o on o.soc_code = r.soc_code
        join labor_stats l on l.code = o.oews_code
        where l.in_oews = 1 and r.employment is null""").fetchall()
    assert missing == []
    published = one(db, "select count(*) from roles where employment is not null")
    assert published == 996  # 1,016 roles less 19 military and 45-3031.00 (projections only)
    assert one(db, "select employment from roles where code = '15-1252.00'") == one(
        db, "select tot_emp from (select employment as tot_emp from labor_stats where code = '15-1252')")


def test_aggregate_labour_figures_are_marked(db):
    rows = db.execute("""select code, labor_code, labor_is_aggregate, roles_sharing_labor_code, employment
                         from roles where soc_code in ('13-1021', '13-1022', '13-1023') order by code""").fetchall()
    assert {r[1] for r in rows} == {"13-1020"} and {r[2] for r in rows} == {1}
    assert {r[3] for r in rows} == {len(rows)}
    assert {r[4] for r in rows} == {one(db, "select employment from labor_stats where code = '13-1020'")}


def test_sources_and_metadata(db):
    read = {r[0] for r in db.execute("select source_id from sources")}
    manifest = load_manifest()
    assert read <= set(manifest.sources)
    for sid, sha in db.execute("select source_id, sha256 from sources"):
        assert manifest[sid].sha256 == sha
    meta = dict(db.execute("select key, value from metadata"))
    assert meta["build_kind"] == "research"
    assert json.loads(meta["data_vintages"])["onet"].startswith("O*NET 30.2")
    assert meta["onet_vintage"] == "O*NET 30.2 (February 2026)" and set(json.loads(meta["onet_vintages"])) >= {"roles", "tasks", "titles"}
    assert "O*NET 30.2 Database" in meta["attribution"] and "Anthropic" in meta["attribution"]


def test_role_exposure_is_unique_bounded_and_cited(db):
    assert one(db, "select count(*) from (select role_code, measure_id from role_exposure group by 1, 2 having count(*) > 1)") == 0
    assert one(db, "select min(percentile) from role_exposure") == 0.0
    assert one(db, "select max(percentile) from role_exposure") == 100.0
    assert one(db, "select count(*) from measures where citation = '' or license = '' or citation is null") == 0
    covered = dict(db.execute("select measure_id, roles_covered from measures"))
    assert covered["eloundou2023_gpt4_beta"] == 923 and covered["eloundou2023_human_beta"] == 923
    assert covered["microsoft2025_applicability"] == 950  # 785 OEWS codes broadcast to O*NET roles


def test_role_exposure_carries_the_recomputed_scores(db):
    # Data Entry Keyers by hand (see test_eloundou): GPT-4 beta 25/28, human beta 1/2.
    beta = dict(db.execute("select measure_id, score from role_exposure where role_code = '43-9021.00' and measure_id like 'eloundou2023_%_beta'"))
    assert beta["eloundou2023_gpt4_beta"] == pytest.approx(25 / 28, abs=1e-12)
    assert beta["eloundou2023_human_beta"] == pytest.approx(1 / 2, abs=1e-12)
    row = db.execute("select derivation, native_codes from role_exposure where role_code = '13-1022.00' and measure_id = 'microsoft2025_applicability'").fetchone()
    assert row == ("broadcast", "13-1020")  # published for the OEWS aggregate, reaches each SOC code under it


def test_measure_correlations(db):
    rho, n = db.execute("select spearman, n from measure_correlations where measure_a = 'eloundou2023_gpt4_beta' and measure_b = 'eloundou2023_human_beta'").fetchone()
    assert n == 923 and 0.5 < rho < 1


def test_build_is_byte_identical(tmp_path, sources_dir, built_db, monkeypatch):
    """Two builds give the same bytes; the second runs in one process (TASKSHIFT_BUILD_WORKERS=1), so this
    also shows that the worker processes (taskshift.build.parallel) change nothing in the output."""
    again = tmp_path / "again.db"
    monkeypatch.setenv("TASKSHIFT_BUILD_WORKERS", "1")
    build(sources_dir, again, log=lambda *a: None)
    assert sha256_of(again) == sha256_of(built_db)


def test_release_build_leaves_out_non_redistributable_sources(release_dir):
    conn = sqlite3.connect(release_dir / db_name())
    closed = {s.id for s in load_manifest() if not s.redistributable}
    assert closed, "the manifest should flag some sources as not redistributable"
    assert not closed & {r[0] for r in conn.execute("select source_id from sources")}
    assert conn.execute("select count(*) from measures where redistributable = 0").fetchone()[0] == 0
    measures = {r[0] for r in conn.execute("select distinct measure_id from role_exposure")}
    assert "felten2021_aioe" not in measures and "eloundou2023_gpt4_beta" in measures
    meta = dict(conn.execute("select key, value from metadata"))
    assert meta["build_kind"] == "release"
    assert set(json.loads(meta["excluded_sources"])) == closed & {s.id for s in load_manifest()}
    assert conn.execute("pragma foreign_key_check").fetchall() == []
