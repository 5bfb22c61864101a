"""Issue #16, releases: `taskshift verify` fails closed (unlisted files, paths outside the release, gzip bombs,
a lone or re-checksummed database with a changed cell), says what it could not check, authenticates only
with a second channel; `taskshift diff` names the damaged file."""
from __future__ import annotations

import errno
import gzip
import hashlib
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from taskshift.cli import main
from taskshift.release import verify
from taskshift.release.make import DATAPACKAGE, SUMS, db_name, read_sums, write_sums


def clone(release: Path, dest: Path) -> Path:
    """A copy of a release made of hard links (cheap); change a file only by replacing it (`rewrite`)."""
    for path in release.rglob("*"):
        target = dest / path.relative_to(release)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except OSError:
                shutil.copyfile(path, target)
    return dest


def rewrite(path: Path, data: bytes) -> None:
    path.unlink()
    path.write_bytes(data)


def sums_without(root: Path, name: str) -> None:
    lines = [l for l in (root / SUMS).read_text().splitlines(keepends=True) if not l.rstrip("\n").endswith("  " + name)]
    rewrite(root / SUMS, "".join(lines).encode())


def run(capsys, *args) -> tuple[int, str]:
    code = main(["verify", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out + out.err


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_release_whose_checksum_file_leaves_out_the_database_fails(release_dir, tmp_path, capsys):
    copy = clone(release_dir, tmp_path / "r")
    sums_without(copy, db_name())
    code, text = run(capsys, copy)
    assert code == 1  # "verified" before, the database never checked
    assert f"{db_name()}: part of the release but not listed in {SUMS}" in text
    sums_without(copy, "csv/roles.csv")
    code, text = run(capsys, copy)
    assert "csv/roles.csv: part of the release but not listed" in text
    # a file beside the release that is not part of it is named, not an error
    copy2 = clone(release_dir, tmp_path / "r2")
    (copy2 / "taskshift.db").write_bytes(b"research build")
    code, text = run(capsys, copy2)
    assert code == 0 and "1 file(s) beside the release are not part of it and were not checked: taskshift.db" in text


def test_names_outside_the_release_are_refused_not_read(release_dir, tmp_path, capsys):
    copy = clone(release_dir, tmp_path / "r")
    outside = tmp_path / "secret.txt"
    outside.write_text("not part of any release\n")
    (copy / "link.txt").symlink_to(outside)
    extra = (f"{sha(outside)}  ../../../../{outside}\n{sha(outside)}  {outside}\n{sha(outside)}  link.txt\n"
             f"{'0' * 64}  /etc/shadow\n{'0' * 64}  ../../../../etc/passwd\n")
    rewrite(copy / SUMS, (copy / SUMS).read_bytes() + extra.encode())
    code, text = run(capsys, copy)
    assert code == 1
    for name in (f"../../../../{outside}", str(outside), "link.txt", "/etc/shadow", "../../../../etc/passwd"):
        assert f"{SUMS} lists {name!r}, which is not a file inside the release: refused, not read" in text
    if Path("/etc/passwd").is_file():
        assert sha(Path("/etc/passwd")) not in text  # its hash was printed before
    assert "sha256 mismatch" not in text


def test_gzip_is_decompressed_no_further_than_declared(release_dir, tmp_path, capsys, monkeypatch):
    bomb = tmp_path / "lone" / db_name()
    bomb = bomb.with_name(bomb.name + ".gz")
    bomb.parent.mkdir()
    with gzip.GzipFile(bomb, "wb", mtime=0) as f:  # 64 MB of zeros in ~64 KB
        for _ in range(64):
            f.write(bytes(1 << 20))
    data = bytearray(bomb.read_bytes())
    data[-4:] = (1 << 20).to_bytes(4, "little")  # its trailer claims 1 MB
    bomb.write_bytes(bytes(data))
    code, text = run(capsys, bomb)
    assert code == 1 and "expands past the 1,048,576 bytes declared for it: not the published file; decompression stopped" in text

    # in a release, datapackage.json declares the size; a re-checksummed bomb stops there
    copy = clone(release_dir, tmp_path / "r")
    packed = copy / f"{db_name()}.gz"
    declared = json.loads((copy / DATAPACKAGE).read_text())["taskshift"]["files"]["database_bytes"]
    assert declared == (release_dir / db_name()).stat().st_size
    with gzip.open(release_dir / f"{db_name()}.gz", "rb") as f:
        inner = f.read()
    packed.unlink()
    with gzip.GzipFile(packed, "wb", mtime=0) as f:
        f.write(inner + bytes(8 << 20))  # 8 MB more than declared
    (copy / SUMS).unlink()
    write_sums(copy)
    code, text = run(capsys, packed)
    assert code == 1 and f"expands past the {declared:,} bytes declared for it" in text

    # not enough room: said before decompressing, and a disk that fills up is not "not a valid gzip file"
    real = verify.shutil.disk_usage
    monkeypatch.setattr(verify.shutil, "disk_usage", lambda p: real(p)._replace(free=10 << 20))
    code, text = run(capsys, release_dir / f"{db_name()}.gz")
    assert code == 1 and "not enough space in" in text and "set TMPDIR" in text
    monkeypatch.setattr(verify.shutil, "disk_usage", real)

    def disk_full(src, dest, limit):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(verify, "bounded_gunzip", disk_full)
    code, text = run(capsys, release_dir / f"{db_name()}.gz")
    assert code == 1 and "ran out of space while decompressing" in text and "not a valid gzip" not in text


def changed_cell(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("UPDATE roles SET title = 'Chief Executivez' WHERE code = '11-1011.00'")
    conn.commit()
    conn.close()


def test_a_lone_database_is_checked_against_the_digests_it_carries(release_dir, tmp_path, capsys):
    lone = tmp_path / "lone" / db_name()
    lone.parent.mkdir()
    shutil.copyfile(release_dir / db_name(), lone)
    code, text = run(capsys, lone)
    assert code == 0
    assert "tables match the digests written at build time" in text
    assert f"not checked: {db_name()} against a published checksum" in text and "NOT authenticated" in text
    changed_cell(lone)  # "verified" with only a warning before
    code, text = run(capsys, lone)
    assert code == 1 and "table roles: content differs from what the build wrote" in text
    conn = sqlite3.connect(lone)
    conn.execute("DELETE FROM task_exposure WHERE rowid IN (SELECT rowid FROM task_exposure LIMIT 3)")
    conn.commit()
    conn.close()
    code, text = run(capsys, lone, "--json")
    report = json.loads(text)
    assert not report["passed"] and any("task_exposure has" in p and "rows, the build wrote" in p for p in report["problems"])


def test_digests_of_the_earlier_json_method_are_still_checked(release_dir, tmp_path, capsys):
    """A database built before the `columns` digests carries digests without a method (JSON batches):
    verify recomputes those the same way; and a cell of the wrong type (SQLite allows it) is caught."""
    from taskshift.build.digests import DIGEST_KEY, table_digest
    from taskshift.contracts import table_contracts

    lone = tmp_path / db_name()
    shutil.copyfile(release_dir / db_name(), lone)
    conn = sqlite3.connect(lone)
    contracts = table_contracts()
    tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table'") if r[0] in contracts]
    old = {t: table_digest(conn, t, list(contracts[t].columns), method="json") for t in tables}
    assert all(set(d) == {"rows", "sha256"} for d in old.values())
    conn.execute("UPDATE metadata SET value = ? WHERE key = ?", (json.dumps(old, sort_keys=True), DIGEST_KEY))
    conn.commit()
    conn.close()
    code, text = run(capsys, lone)
    assert code == 0 and "tables match the digests written at build time" in text
    changed_cell(lone)
    code, text = run(capsys, lone)
    assert code == 1 and "table roles: content differs from what the build wrote" in text

    typed = tmp_path / "typed" / db_name()
    typed.parent.mkdir()
    shutil.copyfile(release_dir / db_name(), typed)
    conn = sqlite3.connect(typed)  # text in an INTEGER column (SQLite keeps it): named, not a crash
    conn.execute("UPDATE oews_series SET employment = 'not a number' WHERE rowid = (SELECT min(rowid) FROM oews_series)")
    conn.commit()
    conn.close()
    code, text = run(capsys, typed)
    assert code == 1 and "table oews_series: content differs from what the build wrote" in text


def test_a_tampered_release_with_regenerated_checksums_fails(release_dir, tmp_path, capsys):
    published = sha(release_dir / SUMS)  # what a release page (a second channel) would show
    copy = clone(release_dir, tmp_path / "r")
    db = copy / db_name()
    rewrite(db, db.read_bytes())
    changed_cell(db)
    (copy / SUMS).unlink()
    write_sums(copy)  # "verified" before
    code, text = run(capsys, copy)
    assert code == 1 and "table roles: content differs from what the build wrote" in text
    code, text = run(capsys, copy, "--sha256", published)
    assert code == 1 and "this is not the published file" in text

    copy2 = clone(release_dir, tmp_path / "r2")
    roles = copy2 / "csv" / "roles.csv"
    rewrite(roles, roles.read_bytes().replace(b"Chief Executives", b"Chief Executivez", 1))
    (copy2 / SUMS).unlink()
    write_sums(copy2)
    code, text = run(capsys, copy2)
    assert code == 1 and f"csv/roles.csv: {SUMS} says" in text and f"{DATAPACKAGE} says" in text

    code, text = run(capsys, release_dir, "--sha256", published)
    assert code == 0 and f"verified and authenticated ({SUMS} has the sha256 given with --sha256)" in text
    code, text = run(capsys, release_dir)
    assert code == 0 and "NOT authenticated" in text and "--sha256" in text


def test_a_pinned_release_authenticates_its_database(release_dir, tmp_path, capsys, monkeypatch):
    from taskshift.release import download

    from taskshift import __version__

    pins = {"published": {__version__: sha(release_dir / db_name())}}
    monkeypatch.setattr(download, "download_settings", lambda: pins)
    code, text = run(capsys, release_dir / db_name())
    assert code == 0 and "verified and authenticated" in text and "pins for release" in text
    lone = tmp_path / db_name()
    shutil.copyfile(release_dir / db_name(), lone)
    conn = sqlite3.connect(lone)  # rewrite a cell and its digest too: only the pin can tell
    conn.execute("UPDATE roles SET title = 'Chief Executivez' WHERE code = '11-1011.00'")
    from taskshift.build.digests import DIGEST_KEY, database_digests
    from taskshift.contracts import table_contracts
    digests = database_digests(conn, table_contracts())
    conn.execute("UPDATE metadata SET value = ? WHERE key = ?", (json.dumps(digests, sort_keys=True), DIGEST_KEY))
    conn.commit()
    conn.close()
    code, text = run(capsys, lone)
    assert code == 1 and "not the published release" in text


def test_diff_names_the_damaged_file(release_dir, tmp_path, capsys):
    bad = tmp_path / "bad.db"
    with open(release_dir / db_name(), "rb") as src, open(bad, "wb") as dst:
        dst.write(src.read(2_000_000))
    assert main(["diff", str(release_dir / db_name()), str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"new database {bad} is truncated" in err and "Traceback" not in err
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"\0" * 8192)
    assert main(["diff", str(garbage), str(release_dir / db_name())]) == 1
    assert f"old database {garbage} is not an SQLite database" in capsys.readouterr().err


def test_sums_read_by_the_verifier_are_relative_names_only():
    root = Path("/tmp")
    assert verify.safe_name(root, "csv/roles.csv") == root / "csv" / "roles.csv"
    for name in ("../x", "/etc/passwd", "csv/../../x", "a\\b", "./x", "", "csv//x", " x"):
        assert verify.safe_name(root, name) is None, name
    assert read_sums  # the parser accepts any name; the verifier decides what it may read
