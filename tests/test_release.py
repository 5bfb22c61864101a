"""Versioned releases: `taskshift release`, `verify`, `diff` and `download` on the real sources.

Three builds are shared by the whole module (session fixtures): release A (`make_release`), release
B (the `taskshift release` command, into a directory holding a stale previous release) and a release
build from a sources directory where one measure's raw file has one score edited.
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from taskshift import __version__
from taskshift.build.assemble import build
from taskshift.cli import main
from taskshift.contracts import table_contracts
from taskshift.release.make import DATAPACKAGE, NOTES, SUMS, db_name, read_sums, release_notes
from taskshift.resources import project_metadata
from taskshift.build.sources import load_manifest

from .conftest import replace_file, serve_directory as serve

QUIET = lambda *a: None  # noqa: E731
MEASURE_FILE = "exposure/anthropic_economic_index/job_exposure.csv"
MEASURE_SOURCE = "anthropic_job_exposure"
EDITED_CODE, OLD_SCORE, NEW_SCORE = "11-2011", "0.1731", "0.9731"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tables_of(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()
    return sorted(names & set(table_contracts()))


# --- shared builds -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def second_release_dir(tmp_path_factory, sources_dir) -> Path:
    """The same release again, through the command, over a stale release left in the directory."""
    out = tmp_path_factory.mktemp("release_b")
    (out / "csv").mkdir()
    (out / "csv" / "dropped_table.csv").write_text("a\n1\n")
    (out / SUMS).write_text("0" * 64 + "  csv/dropped_table.csv\n")
    assert main(["release", "--sources", str(sources_dir), "--out", str(out), "--quiet"]) == 0
    return out


@pytest.fixture(scope="session")
def changed_db(tmp_path_factory, sources_dir) -> Path:
    """A release build where one measure's raw file has one score edited (manifest re-pinned)."""
    root = tmp_path_factory.mktemp("changed") / "sources"
    for path in sources_dir.rglob("*"):
        if path.is_file():
            target = root / path.relative_to(sources_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
    text = (root / MEASURE_FILE).read_text(encoding="utf-8")
    line = next(l for l in text.splitlines() if l.startswith(EDITED_CODE + ","))
    assert line.endswith("," + OLD_SCORE)
    replace_file(root, MEASURE_FILE, text.replace(line, line[: -len(OLD_SCORE)] + NEW_SCORE))
    manifest = load_manifest().pinned_to(root, MEASURE_SOURCE)
    out = root.parent / "changed.db"
    build(root, out, release=True, manifest=manifest, log=QUIET)
    return out


# --- layout and determinism ----------------------------------------------------------------------

def test_release_layout(release_dir):
    db = release_dir / db_name()
    tables = tables_of(db)
    assert "roles" in tables and "role_exposure" in tables and "metadata" in tables
    expected = {db.name, f"{db.name}.gz", DATAPACKAGE, NOTES}
    expected |= {f"csv/{t}.csv" for t in tables} | {f"parquet/{t}.parquet" for t in tables}
    on_disk = {p.relative_to(release_dir).as_posix() for p in release_dir.rglob("*") if p.is_file()}
    assert on_disk == expected | {SUMS}
    sums = read_sums(release_dir / SUMS)
    assert set(sums) == expected
    for name, digest in sums.items():
        assert sha256(release_dir / name) == digest, name
    # sha256sum format: the same file checks with coreutils
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "--check", "--quiet", SUMS], cwd=release_dir, check=True)

    conn = sqlite3.connect(db)
    meta = dict(conn.execute("SELECT key, value FROM metadata"))
    redistributable = dict(conn.execute("SELECT source_id, redistributable FROM sources"))
    conn.close()
    assert meta["build_kind"] == "release"
    assert meta["version"] == __version__
    assert json.loads(meta["data_vintages"]) == project_metadata()["vintages"]
    excluded = json.loads(meta["excluded_sources"])
    manifest = load_manifest()
    assert excluded and all(not manifest[s].redistributable for s in excluded)
    assert set(redistributable.values()) == {1}


def test_gzip_copy_is_deterministic_and_whole(release_dir):
    db = release_dir / db_name()
    packed = (release_dir / f"{db.name}.gz").read_bytes()
    assert packed[:3] == b"\x1f\x8b\x08"
    assert packed[3] & 0x08 == 0, "a file name is stored in the gzip header"
    assert packed[4:8] == b"\0\0\0\0", "the gzip header carries an mtime"
    assert hashlib.sha256(gzip.decompress(packed)).hexdigest() == sha256(db)


def test_two_releases_are_byte_identical(release_dir, second_release_dir):
    assert (release_dir / SUMS).read_bytes() == (second_release_dir / SUMS).read_bytes()
    files_a = sorted(p.relative_to(release_dir) for p in release_dir.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(second_release_dir) for p in second_release_dir.rglob("*") if p.is_file())
    assert files_a == files_b, "the stale file of the previous release was not removed"
    parquet = [f for f in files_a if f.suffix == ".parquet"]
    assert parquet
    for f in files_a:
        assert (release_dir / f).read_bytes() == (second_release_dir / f).read_bytes(), f"{f} differs between runs"


def test_parquet_exports_match_the_database(release_dir):
    import pyarrow.parquet as pq

    db = release_dir / db_name()
    contracts = table_contracts()
    conn = sqlite3.connect(db)
    try:
        for name in tables_of(db):
            contract = contracts[name]
            table = pq.read_table(release_dir / "parquet" / f"{name}.parquet")
            assert table.column_names == contract.column_names, name
            types = {"text": "string", "integer": "int64", "real": "double", "blob": "binary"}
            for column in contract.columns:
                field = table.schema.field(column.name)
                assert str(field.type) == types[column.type], (name, column.name)
                if column.description:
                    assert field.metadata[b"description"].decode() == column.description
            assert table.schema.metadata[b"primary_key"].decode() == ",".join(contract.primary_key)
            cols = ", ".join(f'"{c}"' for c in contract.column_names)
            rows = conn.execute(f'SELECT {cols} FROM "{name}" ORDER BY rowid').fetchall()
            assert [tuple(r.values()) for r in table.to_pylist()] == rows, name
    finally:
        conn.close()


def test_csv_exports_match_the_database(release_dir):
    db = release_dir / db_name()
    conn = sqlite3.connect(db)
    try:
        for name in tables_of(db):
            frame = pd.read_csv(release_dir / "csv" / f"{name}.csv", dtype=str, keep_default_na=False)
            assert list(frame.columns) == table_contracts()[name].column_names
            assert len(frame) == conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0], name
        roles = pd.read_csv(release_dir / "csv" / "roles.csv")
        expected = pd.read_sql_query("SELECT * FROM roles ORDER BY rowid", conn)
        pd.testing.assert_frame_equal(roles, expected, check_dtype=False)
    finally:
        conn.close()


def test_release_notes(release_dir, tmp_path):
    heading, text = release_notes(__version__)
    assert (release_dir / NOTES).read_text(encoding="utf-8") == text
    assert text.startswith(f"# taskshift {__version__}")
    assert heading in (__version__, "Unreleased")

    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text("# Changelog\n\n## [Unreleased]\n\n### Added\n- next thing\n\n"
                         "## [9.9.0] - 2030-01-01\n\n### Data\n- O*NET 40\n\n### Added\n- a command\n\n"
                         "## [9.8.0]\n\n- older\n", encoding="utf-8")
    heading, text = release_notes("9.9.0", changelog)
    assert heading == "9.9.0"
    assert text == "# taskshift 9.9.0\n\n### Data\n- O*NET 40\n\n### Added\n- a command\n"
    heading, text = release_notes("10.0.0", changelog)
    assert heading == "Unreleased"
    assert "pre-release" in text and "- next thing" in text and "O*NET 40" not in text


# --- datapackage.json ------------------------------------------------------------------------------

def test_datapackage_comes_from_the_contracts(release_dir):
    package = json.loads((release_dir / DATAPACKAGE).read_text(encoding="utf-8"))
    db = release_dir / db_name()
    tables = tables_of(db)
    assert package["version"] == __version__
    assert package["taskshift"]["data_vintages"] == project_metadata()["vintages"]
    assert package["taskshift"]["files"]["database"] == db.name
    assert package["licenses"][0]["name"] == "CC-BY-4.0"
    resources = {r["name"]: r for r in package["resources"]}
    assert sorted(resources) == tables
    types = {"text": "string", "integer": "integer", "real": "number", "blob": "string"}  # blob: format binary (base64)
    for name in tables:
        contract, resource = table_contracts()[name], resources[name]
        assert resource["path"] == f"csv/{name}.csv"
        assert resource["hash"] == f"sha256:{sha256(release_dir / resource['path'])}"
        fields = resource["schema"]["fields"]
        assert [f["name"] for f in fields] == contract.column_names
        assert [f["type"] for f in fields] == [types[c.type] for c in contract.columns]
        assert [f.get("description", "") for f in fields] == [c.description for c in contract.columns]
        assert resource["schema"].get("primaryKey", []) == list(contract.primary_key)
        fks = resource["schema"].get("foreignKeys", [])
        assert len(fks) == sum(1 for fk in contract.foreign_keys if fk.table in tables)
    roles = resources["roles"]
    assert {"fields": ["soc_code"], "reference": {"resource": "soc_groups", "fields": ["code"]}} in roles["schema"]["foreignKeys"]
    assert any(l.get("name") == "CC-BY-4.0" for l in roles["licenses"])
    assert any("onet" in s["path"].lower() or "O*NET" in s["title"] for s in roles["sources"])
    # the measure tables list the sources of the measures in the release, and only those
    exposure_sources = {s["path"] for s in resources["role_exposure"]["sources"]}
    manifest = load_manifest()
    assert manifest[MEASURE_SOURCE].url in exposure_sources
    assert not exposure_sources & {s.url for s in manifest if not s.redistributable}


def test_frictionless_validate_passes(release_dir):
    exe = Path(sys.executable).with_name("frictionless")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "frictionless"]
    run = subprocess.run([*command, "validate", DATAPACKAGE], cwd=release_dir, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "INVALID" not in run.stdout
    assert run.stdout.count("VALID") >= len(tables_of(release_dir / db_name()))


# --- verify ------------------------------------------------------------------------------------------

def test_verify_passes_on_a_release(release_dir, capsys):
    assert main(["verify", str(release_dir)]) == 0
    out = capsys.readouterr().out
    assert f"file(s) match {SUMS}" in out and "integrity_check ok" in out and "foreign_key_check ok" in out
    assert f"schema version {project_metadata()['release']['schema_version']} matches" in out
    assert main(["verify", str(release_dir / SUMS)]) == 0
    assert main(["verify", str(release_dir / db_name())]) == 0
    assert f"{db_name()} matches" in capsys.readouterr().out


@pytest.fixture()
def db_copy(release_dir, tmp_path) -> Path:
    """The release database and its SHA256SUMS copied into a directory of their own."""
    shutil.copyfile(release_dir / db_name(), tmp_path / db_name())
    shutil.copyfile(release_dir / SUMS, tmp_path / SUMS)
    return tmp_path / db_name()


def test_verify_fails_on_a_truncated_copy(db_copy, capsys):
    size = db_copy.stat().st_size
    with open(db_copy, "r+b") as f:
        f.truncate(size // 2)
    assert main(["verify", str(db_copy)]) == 1
    err = capsys.readouterr().err
    assert f"{db_name()}: sha256 mismatch" in err
    assert f"{db_name()}: truncated: the header says" in err
    assert f"the file has {size // 2:,} bytes ({size - size // 2:,} bytes missing)" in err
    assert "FAILED" in err
    # without SHA256SUMS the structure alone still says what is wrong
    (db_copy.parent / SUMS).unlink()
    assert main(["verify", str(db_copy)]) == 1
    err = capsys.readouterr().err
    assert "truncated: the header says" in err and "sha256 mismatch" not in err
    assert "its checksum was not checked" in err


def test_verify_fails_on_one_changed_byte(db_copy, capsys):
    size = db_copy.stat().st_size
    with open(db_copy, "r+b") as f:
        f.seek(size // 2)
        byte = f.read(1)
        f.seek(size // 2)
        f.write(bytes([byte[0] ^ 0xFF]))
    assert main(["verify", str(db_copy)]) == 1
    err = capsys.readouterr().err
    assert f"{db_name()}: sha256 mismatch: " in err
    assert "damaged, incomplete or not the published one" in err
    assert main(["verify", str(db_copy.parent), "--ignore-missing"]) == 1
    assert "sha256 mismatch" in capsys.readouterr().err


def test_verify_fails_on_a_damaged_export_and_a_truncated_gzip(release_dir, tmp_path, capsys):
    copy = tmp_path / "release"
    shutil.copytree(release_dir, copy)
    roles_csv = copy / "csv" / "roles.csv"
    roles_csv.write_bytes(roles_csv.read_bytes().replace(b"Chief Executives", b"Chief Executivez", 1))
    assert main(["verify", str(copy)]) == 1
    err = capsys.readouterr().err
    assert "csv/roles.csv: sha256 mismatch" in err and "FAILED (1 problem(s))" in err
    packed = copy / f"{db_name()}.gz"
    packed.write_bytes(packed.read_bytes()[:1_000_000])
    assert main(["verify", str(packed)]) == 1
    err = capsys.readouterr().err
    assert "truncated: the compressed stream ends early" in err


def test_verify_fails_on_another_schema_version(db_copy, capsys):
    (db_copy.parent / SUMS).unlink()
    conn = sqlite3.connect(db_copy)
    conn.execute("UPDATE metadata SET value = '999' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    assert main(["verify", str(db_copy)]) == 1
    err = capsys.readouterr().err
    assert "schema version 999" in err and "reads schema version" in err


# --- diff ----------------------------------------------------------------------------------------------

def changed_keys_by_pandas(old: Path, new: Path) -> dict[str, set[tuple]]:
    """The rows that differ, found independently of taskshift.diff (pandas, per primary key)."""
    result = {}
    with contextlib.closing(sqlite3.connect(old)) as a, contextlib.closing(sqlite3.connect(new)) as b:
        for name in tables_of(new):
            key = list(table_contracts()[name].primary_key)
            left = pd.read_sql_query(f'SELECT * FROM "{name}"', a).set_index(key).sort_index()
            right = pd.read_sql_query(f'SELECT * FROM "{name}"', b).set_index(key).sort_index()
            assert left.index.equals(right.index), f"{name}: rows added or removed"
            differs = ~((left == right) | (left.isna() & right.isna())).all(axis=1)
            result[name] = {k if isinstance(k, tuple) else (k,) for k in left.index[differs]}
    return result


def test_diff_names_exactly_the_changed_rows(release_dir, changed_db, capsys):
    old = release_dir / db_name()
    assert main(["diff", str(old), str(changed_db), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    expected = changed_keys_by_pandas(old, changed_db)
    assert sorted(result["tables"]) == sorted(expected)
    for name, entry in result["tables"].items():
        assert entry["added"] == entry["removed"] == 0, name
        listed = {tuple(r["key"]) for r in entry["changed_rows"]}
        assert entry["changed"] == len(listed) == len(expected[name]), name
        assert listed == expected[name], name
    changed = {n for n, e in result["tables"].items() if e["changed"]}
    assert {"role_exposure", "sources", "metadata"} <= changed
    assert {(MEASURE_SOURCE,)} == {tuple(r["key"]) for r in result["tables"]["sources"]["changed_rows"]}
    # the inputs hash, and the table digests (taskshift.build.digests) of the tables whose content changed
    # (and the state notes, figures computed over the consensus of the measures: taskshift.build.derive.states)
    metadata = {tuple(r["key"]) for r in result["tables"]["metadata"]["changed_rows"]}
    assert {("inputs_sha256",), ("table_digests",)} <= metadata
    assert metadata - {("inputs_sha256",), ("table_digests",)} <= {("state_national_check",), ("state_postings_correlation",)}
    untouched = {"roles", "tasks", "titles", "task_exposure", "work_activities", "soc_groups", "labor_stats"}
    assert not changed & untouched

    # role_exposure: only the edited measure moved, and the edited role's score is the new one
    with contextlib.closing(sqlite3.connect(old)) as conn:
        measure = conn.execute("SELECT measure_id FROM measures WHERE ',' || source_ids || ',' LIKE ?",
                               (f"%,{MEASURE_SOURCE},%",)).fetchone()[0]
    rows = result["tables"]["role_exposure"]["changed_rows"]
    assert {r["key"][1] for r in rows} == {measure}
    edited = [r for r in rows if r["key"][0].startswith(EDITED_CODE + ".")]
    assert edited and all(r["changes"]["score"] == [float(OLD_SCORE), float(NEW_SCORE)] for r in edited)
    assert all("score" not in r["changes"] for r in rows if r not in edited)
    movers = result["role_exposure_movers"]
    assert movers["changed"] == len(rows)
    assert movers["by_percentile"][0]["role_code"].startswith(EDITED_CODE + ".")
    assert movers["by_score"][measure][0]["score_change"] == pytest.approx(float(NEW_SCORE) - float(OLD_SCORE))

    assert main(["diff", str(old), str(changed_db)]) == 0
    text = capsys.readouterr().out
    assert f"role_exposure changed (role_code, measure_id = {EDITED_CODE}." in text
    assert f"score {OLD_SCORE} -> {NEW_SCORE}" in text
    assert "most by percentile" in text


def test_diff_of_a_release_with_itself_is_empty(release_dir, capsys):
    db = str(release_dir / db_name())
    assert main(["diff", db, db]) == 0
    assert f"0 of {len(tables_of(Path(db)))} tables changed" in capsys.readouterr().out


# --- download -------------------------------------------------------------------------------------

def test_download_installs_the_verified_release_where_connect_finds_it(release_dir, tmp_path, monkeypatch, capsys):
    import taskshift
    from taskshift.release.download import downloaded_db

    monkeypatch.setenv("TASKSHIFT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.delenv("TASKSHIFT_DB", raising=False)
    monkeypatch.delenv("TASKSHIFT_RELEASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no dist/taskshift.db here
    with serve(release_dir) as url:
        assert main(["download", "--url", url, "--quiet"]) == 0
        target = downloaded_db()
        assert capsys.readouterr().out.strip() == str(target)
        assert sha256(target) == read_sums(release_dir / SUMS)[db_name()]
        assert main(["download", "--url", url]) == 0  # a second call finds the verified copy
        assert "already the verified release" in capsys.readouterr().err
    assert taskshift.db_path() == target.resolve()
    conn = taskshift.connect()
    with contextlib.closing(sqlite3.connect(release_dir / db_name())) as published:
        roles = published.execute("SELECT count(*) FROM roles").fetchone()[0]
    assert conn.execute("SELECT count(*) FROM roles").fetchone()[0] == roles
    conn.close()
    assert main(["verify", str(target)]) == 0  # the .sha256 written beside it
    assert f"matches {target.name}.sha256" in capsys.readouterr().out


def test_download_refuses_a_damaged_or_unpublished_release(release_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    served = tmp_path / "served"
    served.mkdir()
    shutil.copyfile(release_dir / SUMS, served / SUMS)
    packed = (release_dir / f"{db_name()}.gz").read_bytes()
    (served / f"{db_name()}.gz").write_bytes(packed[: len(packed) // 3])
    out = tmp_path / "out" / "taskshift.db"
    with serve(served) as url:
        assert main(["download", "--url", url, "--out", str(out), "--quiet"]) == 1
        err = capsys.readouterr().err
        assert f"{db_name()}.gz: sha256 mismatch" in err and "incomplete or damaged download" in err
        assert not out.exists()
        (served / f"{db_name()}.gz").write_bytes(packed)
        assert main(["download", "--url", url, "--out", str(out), "--sha256", "0" * 64, "--quiet"]) == 1
        assert "refusing a database that is not the published one" in capsys.readouterr().err
        assert not out.exists()
        (served / SUMS).unlink()
        assert main(["download", "--url", url, "--out", str(out), "--quiet"]) == 1
        assert "HTTP 404" in capsys.readouterr().err
    assert [p.name for p in out.parent.iterdir()] == [], "a partial download was left behind"
