"""`taskshift verify PATH`: is this downloaded release whole, and can this taskshift read it?

PATH is a release directory, its SHA256SUMS, a database (`.db`) or its compressed copy (`.db.gz`).
Checks, in order, each reported in plain words:

1. checksums: every file SHA256SUMS lists (or, for one file, its line in SHA256SUMS beside it or
   its `<file>.sha256`) has that sha256;
2. the file is an SQLite database and is as long as its header says (a truncated download is named
   as such, with the missing byte count);
3. `PRAGMA integrity_check` and `PRAGMA foreign_key_check`;
4. it is a taskshift database (`metadata` table) whose `schema_version` is the one this installed
   taskshift reads, and its tables have the columns their contracts declare.
"""
from __future__ import annotations

import gzip
import shutil
import sqlite3
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from taskshift.release.make import SUMS, read_sums
from taskshift.build.sources import sha256_of

SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass
class Report:
    target: Path
    ok: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.problems

    def text(self) -> str:
        lines = [f"ok: {m}" for m in self.ok]
        lines += [f"warning: {m}" for m in self.warnings]
        lines += [f"error: {m}" for m in self.problems]
        if self.passed:
            lines.append(f"{self.target}: verified")
        else:
            lines.append(f"{self.target}: FAILED ({len(self.problems)} problem(s))")
        return "\n".join(lines)


def verify_path(path: Path, *, ignore_missing: bool = False) -> Report:
    path = Path(path)
    report = Report(path)
    if not path.exists():
        report.problems.append(f"{path} does not exist")
    elif path.is_dir() or path.name == SUMS:
        sums = path / SUMS if path.is_dir() else path
        _verify_sums(sums, report, ignore_missing=ignore_missing)
    elif path.name.endswith(".gz"):
        _file_checksum(path, report)
        _verify_gzip(path, report)
    else:
        _file_checksum(path, report)
        check_database(path, report)
    return report


# --- checksums ---------------------------------------------------------------------------------

def _verify_sums(sums_path: Path, report: Report, *, ignore_missing: bool) -> None:
    root = sums_path.parent
    if not sums_path.is_file():
        report.problems.append(f"no {SUMS} in {root}: cannot check the files against the published checksums")
        return
    try:
        sums = read_sums(sums_path)
    except (ValueError, UnicodeDecodeError) as err:
        report.problems.append(f"{sums_path} is damaged: {err}")
        return
    if not sums:
        report.problems.append(f"{sums_path} lists no files")
        return
    checked = missing = 0
    for name, expected in sums.items():
        file = root / name
        if not file.is_file():
            missing += 1
            if not ignore_missing:
                report.problems.append(f"{name}: listed in {SUMS} but missing from {root}")
            continue
        _compare(file, name, expected, SUMS, report)
        checked += 1
    bad = sum(1 for p in report.problems if "sha256 mismatch" in p)
    if checked and not bad:
        report.ok.append(f"{checked} file(s) match {SUMS}" + (f" ({missing} listed file(s) not present, not checked)" if missing else ""))
    dbs = [name for name in sums if name.endswith(".db") and (root / name).is_file()]
    if not dbs:
        report.warnings.append(f"{SUMS} lists no database (.db) present in {root}: only checksums were checked")
    for name in dbs:
        check_database(root / name, report)


def _compare(file: Path, name: str, expected: str, where: str, report: Report) -> bool:
    actual = sha256_of(file)
    if actual != expected:
        report.problems.append(
            f"{name}: sha256 mismatch: {where} says {expected}, the file has {actual} "
            f"({file.stat().st_size:,} bytes): the file is damaged, incomplete or not the published one; download it again")
        return False
    return True


def _file_checksum(path: Path, report: Report) -> None:
    """Check one file against SHA256SUMS beside it, or `<file>.sha256`; warn when neither lists it."""
    sums_path = path.parent / SUMS
    if sums_path.is_file():
        try:
            sums = read_sums(sums_path)
        except (ValueError, UnicodeDecodeError) as err:
            report.problems.append(f"{sums_path} is damaged: {err}")
            return
        if path.name in sums:
            if _compare(path, path.name, sums[path.name], str(sums_path), report):
                report.ok.append(f"{path.name} matches {sums_path}")
            return
    side = path.with_name(path.name + ".sha256")
    if side.is_file():
        try:
            sums = read_sums(side)
        except (ValueError, UnicodeDecodeError) as err:
            report.problems.append(f"{side} is damaged: {err}")
            return
        expected = sums.get(path.name) or (next(iter(sums.values())) if len(sums) == 1 else None)
        if expected and _compare(path, path.name, expected, str(side), report):
            report.ok.append(f"{path.name} matches {side.name}")
        return
    report.warnings.append(f"no {SUMS} or {path.name}.sha256 beside {path.name}: its checksum was not checked")


def _verify_gzip(path: Path, report: Report) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        inner = Path(tmp) / path.name.removesuffix(".gz")
        try:
            with gzip.open(path, "rb") as fin, open(inner, "wb") as fout:
                shutil.copyfileobj(fin, fout, 1 << 20)
        except EOFError:
            report.problems.append(f"{path.name}: truncated: the compressed stream ends early; download it again")
            return
        except (gzip.BadGzipFile, zlib.error, OSError) as err:
            report.problems.append(f"{path.name}: not a valid gzip file ({err}); download it again")
            return
        report.ok.append(f"{path.name} decompresses ({inner.stat().st_size:,} bytes)")
        sums_path = path.parent / SUMS
        if sums_path.is_file():
            try:
                expected = read_sums(sums_path).get(inner.name)
            except (ValueError, UnicodeDecodeError):
                expected = None
            if expected and _compare(inner, f"{inner.name} (inside {path.name})", expected, SUMS, report):
                report.ok.append(f"{inner.name} inside {path.name} matches {SUMS}")
        check_database(inner, report, label=f"{inner.name} (inside {path.name})")


# --- the database ------------------------------------------------------------------------------

def check_database(path: Path, report: Report, *, label: str | None = None) -> None:
    """Structure, integrity, foreign keys, schema version and columns of one database file."""
    from taskshift.contracts import table_contracts
    from taskshift.resources import project_metadata
    from taskshift import __version__

    name = label or path.name
    size = path.stat().st_size
    if size == 0:
        report.problems.append(f"{name}: empty file (0 bytes)")
        return
    with open(path, "rb") as f:
        header = f.read(100)
    if not header.startswith(SQLITE_MAGIC):
        report.problems.append(f"{name}: not an SQLite database (its first bytes are {header[:16]!r})")
        return
    if len(header) < 100:
        report.problems.append(f"{name}: truncated: {size} bytes, shorter than the 100-byte SQLite header")
        return
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    expected = page_size * pages
    valid = header[92:96] == header[24:28]  # the in-header page count is valid only when these agree
    if valid and pages and size < expected:
        report.problems.append(
            f"{name}: truncated: the header says {pages:,} pages of {page_size:,} bytes = {expected:,} bytes, "
            f"the file has {size:,} bytes ({expected - size:,} bytes missing); download it again")
        return
    if page_size and size % page_size:
        report.problems.append(f"{name}: damaged: {size:,} bytes is not a whole number of {page_size:,}-byte pages")
        return

    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as err:
        report.problems.append(f"{name}: cannot be opened by SQLite: {err}")
        return
    try:
        try:
            integrity = [r[0] for r in conn.execute("PRAGMA integrity_check(20)")]
        except sqlite3.DatabaseError as err:
            report.problems.append(f"{name}: cannot be read: {err}; the file is damaged, download it again")
            return
        if integrity != ["ok"]:
            report.problems.append(f"{name}: integrity_check failed: " + "; ".join(integrity[:5])
                                   + (f" (and {len(integrity) - 5} more)" if len(integrity) > 5 else ""))
        else:
            report.ok.append(f"{name}: integrity_check ok")
        try:
            violations = conn.execute("PRAGMA foreign_key_check").fetchall()
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as err:
            report.problems.append(f"{name}: cannot be read: {err}; the file is damaged, download it again")
            return
        if violations:
            by_table: dict[tuple[str, str], int] = {}
            for table, _rowid, parent, _fkid in violations:
                by_table[(table, parent)] = by_table.get((table, parent), 0) + 1
            for (table, parent), n in sorted(by_table.items()):
                report.problems.append(f"{name}: table {table}: {n} row(s) reference missing rows of {parent} (foreign_key_check)")
        else:
            report.ok.append(f"{name}: foreign_key_check ok")

        if "metadata" not in tables:
            report.problems.append(f"{name}: not a taskshift database (no metadata table)")
            return
        try:
            meta = dict(conn.execute("SELECT key, value FROM metadata"))
        except sqlite3.DatabaseError as err:
            report.problems.append(f"{name}: metadata table cannot be read: {err}")
            return
        wanted = str(project_metadata()["release"]["schema_version"])
        found = meta.get("schema_version")
        if found is None:
            report.problems.append(f"{name}: metadata has no schema_version: not a taskshift release database")
        elif found != wanted:
            report.problems.append(
                f"{name}: schema version {found} (built by taskshift {meta.get('version', '?')}); this taskshift "
                f"{__version__} reads schema version {wanted}: install taskshift=={meta.get('version', '?')} "
                "or download the release that matches your taskshift")
        else:
            report.ok.append(f"{name}: schema version {found} matches this taskshift ({__version__})")
        for key in ("version", "build_kind", "build_date", "data_vintages", "inputs_sha256"):
            if key in meta:
                report.facts[key] = meta[key]

        contracts = table_contracts()
        mismatched = []
        for table in sorted(tables & set(contracts)):
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
            if columns != contracts[table].column_names:
                missing = [c for c in contracts[table].column_names if c not in columns]
                extra = [c for c in columns if c not in contracts[table].column_names]
                mismatched.append(f"{table} (missing {missing}, unexpected {extra})")
        if mismatched and found == wanted:
            report.problems.append(f"{name}: tables differ from their contracts: " + "; ".join(mismatched))
        elif not mismatched:
            report.ok.append(f"{name}: {len(tables & set(contracts))} tables have the columns their contracts declare")
    finally:
        conn.close()
