"""`taskshift verify PATH`: is this downloaded release whole, is it the published one, can this taskshift read it?

PATH is a release directory, its SHA256SUMS, a database (`.db`) or its compressed copy (`.db.gz`).
It fails closed: anything it cannot check is said, and anything that does not add up is an error.

1. SHA256SUMS: every name it lists is a plain relative path inside the release (`../x`, `/etc/x`,
   a symlink out of the directory are refused, never read); every listed file exists and has its
   sha256; every file of the release (the database, its gzip copy, datapackage.json and the files it
   names, everything under csv/ and parquet/) is listed — a SHA256SUMS with a line removed fails;
   the CSV files have the hashes datapackage.json gives them.
2. A `.db.gz` is decompressed no further than the size the release declares (datapackage.json's
   `database_bytes`, else the gzip trailer), after checking the temporary directory has room.
3. The database: an SQLite file as long as its header says, `PRAGMA integrity_check`, `PRAGMA
   foreign_key_check`, the `schema_version` this taskshift reads, every table's columns as its
   contract declares, and every table's row count and content sha256 against the digests the build
   wrote into its metadata (`taskshift.build.digests`): a changed cell fails even with no SHA256SUMS.
4. Authenticity, said apart: SHA256SUMS sits beside the files it lists, so whoever changed a file could
   rewrite it. A release is authenticated only by a hash from a second channel: `--sha256` (the sha256
   of SHA256SUMS for a directory, of the file itself otherwise, as published on the release page), or
   the sha256 this taskshift package pins for its own release (`[download.published]`).
"""
from __future__ import annotations

import errno
import gzip
import hashlib
import json
import shutil
import sqlite3
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from taskshift.build.sources import sha256_of
from taskshift.release.make import DATAPACKAGE, SUMS, read_sums

SQLITE_MAGIC = b"SQLite format 3\x00"
#: Largest database a release may declare (a taskshift database is ~80 MB).
MAX_DATABASE_BYTES = 4 * 1024 ** 3
#: Files of a release whose absence from SHA256SUMS is an error (besides those datapackage.json names).
RELEASE_FOLDERS = ("csv", "parquet")


@dataclass
class Report:
    target: Path
    ok: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)
    unchecked: list[str] = field(default_factory=list)   # what could not be checked, said plainly
    authenticated: str | None = None                     # how the release was authenticated, if it was

    @property
    def passed(self) -> bool:
        return not self.problems

    def text(self) -> str:
        lines = [f"ok: {m}" for m in self.ok]
        lines += [f"warning: {m}" for m in self.warnings]
        lines += [f"not checked: {m}" for m in self.unchecked]
        lines += [f"error: {m}" for m in self.problems]
        if not self.passed:
            lines.append(f"{self.target}: FAILED ({len(self.problems)} problem(s))")
        elif self.authenticated:
            lines.append(f"{self.target}: verified and authenticated ({self.authenticated})")
        else:
            lines.append(f"{self.target}: verified: whole and consistent, but NOT authenticated "
                         "(no hash from a second channel; see `not checked` above)")
        return "\n".join(lines)


NOT_AUTHENTICATED = ("authenticity: a checksum file beside the files it lists proves they are whole, not that they are the "
                     "published ones (whoever changed a file could rewrite it); compare `sha256sum SHA256SUMS` with the "
                     "hash on the release page, or pass --sha256 HASH")


def verify_path(path: Path, *, ignore_missing: bool = False, sha256: str | None = None) -> Report:
    path = Path(path)
    report = Report(path)
    if not path.exists():
        report.problems.append(f"{path} does not exist")
        return report
    if path.is_dir() or path.name == SUMS:
        sums = path / SUMS if path.is_dir() else path
        _verify_sums(sums, report, ignore_missing=ignore_missing)
        if sha256 and sums.is_file():
            _authenticate(sums, sha256, report, what=SUMS)
    elif path.name.endswith(".gz"):
        _file_checksum(path, report)
        _verify_gzip(path, report)
        if sha256:
            _authenticate(path, sha256, report, what=path.name)
    else:
        _file_checksum(path, report)
        check_database(path, report)
        if report.passed:
            _pinned(path, report)
        if sha256:
            _authenticate(path, sha256, report, what=path.name)
    if report.passed and not report.authenticated:
        report.unchecked.append(NOT_AUTHENTICATED)
    return report


def _authenticate(file: Path, expected: str, report: Report, *, what: str) -> None:
    actual = sha256_of(file)
    if actual == expected.strip().lower():
        report.authenticated = f"{what} has the sha256 given with --sha256"
        report.ok.append(f"{what}: sha256 {actual} is the one given (--sha256): authenticated")
    else:
        report.problems.append(f"{what}: sha256 {actual} is not the {expected.strip().lower()} given with --sha256: "
                               "this is not the published file")


def _pinned(db: Path, report: Report) -> None:
    """Authenticate a release database against the sha256 this package pins for its version, if any."""
    from taskshift.release.download import download_settings

    version = report.facts.get("version")
    pin = (download_settings().get("published") or {}).get(version) if version else None
    if not pin:
        return
    actual = sha256_of(db)
    if actual == pin.lower():
        report.authenticated = f"{db.name} has the sha256 this taskshift pins for release {version}"
        report.ok.append(f"{db.name}: sha256 is the one published for taskshift {version} (pinned in this package)")
    elif report.facts.get("build_kind") == "release":
        report.problems.append(f"{db.name}: sha256 {actual} is not the {pin} published for taskshift {version} "
                               "(pinned in this package): not the published release")


# --- checksums ---------------------------------------------------------------------------------

def safe_name(root: Path, name: str) -> Path | None:
    """`root / name` if `name` is a plain relative path that stays inside `root` (symlinks resolved), else None."""
    if not name or "\\" in name or "\x00" in name or name != name.strip():
        return None
    pure = PurePosixPath(name)
    if pure.is_absolute() or any(part in ("..", ".", "") for part in name.split("/")):
        return None
    target = root / pure
    try:
        inside = target.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        return None
    return target if inside else None


def _release_files(root: Path, report: Report) -> tuple[set[str], dict]:
    """Names of the files that make up the release in `root`, and datapackage.json (or {})."""
    names: set[str] = set()
    package: dict = {}
    if (root / DATAPACKAGE).is_file():
        names.add(DATAPACKAGE)
        try:
            package = json.loads((root / DATAPACKAGE).read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as err:
            report.problems.append(f"{DATAPACKAGE} is damaged: {err}")
            package = {}
        extra = _package_files(package)
        for key in ("database", "database_gzip", "release_notes"):
            if isinstance(extra.get(key), str):
                names.add(extra[key])
        for value in (extra.get("parquet") or {}).values() if isinstance(extra.get("parquet"), dict) else []:
            if isinstance(value, str):
                names.add(value)
        for resource in package.get("resources", []) if isinstance(package, dict) else []:
            if isinstance(resource, dict) and isinstance(resource.get("path"), str):
                names.add(resource["path"])
    for folder in RELEASE_FOLDERS:
        if (root / folder).is_dir():
            names.update(p.relative_to(root).as_posix() for p in (root / folder).rglob("*") if p.is_file())
    names.update(p.name for p in root.glob("taskshift-*.db") if p.is_file())
    names.update(p.name for p in root.glob("taskshift-*.db.gz") if p.is_file())
    return names, package


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
    safe: dict[str, str] = {}
    for name, expected in sums.items():
        if safe_name(root, name) is None:
            report.problems.append(f"{SUMS} lists {name!r}, which is not a file inside the release: refused, not read "
                                   "(a checksum file may only name files under its own directory)")
        else:
            safe[name] = expected
    checked = missing = bad = 0
    for name, expected in safe.items():
        file = root / name
        if not file.is_file():
            missing += 1
            if not ignore_missing:
                report.problems.append(f"{name}: listed in {SUMS} but missing from {root}")
            continue
        checked += 1
        bad += not _compare(file, name, expected, SUMS, report)
    if checked and not bad:
        report.ok.append(f"{checked} file(s) match {SUMS}" + (f" ({missing} listed file(s) not present, not checked)" if missing else ""))
    if missing and ignore_missing:
        report.unchecked.append(f"{missing} file(s) {SUMS} lists are not present (--ignore-missing)")

    release, package = _release_files(root, report)
    unlisted = sorted(release - set(sums))
    for name in unlisted:
        report.problems.append(f"{name}: part of the release but not listed in {SUMS}: its checksum cannot be "
                               f"checked (a {SUMS} with lines removed is not a release's)")
    others = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                    if p.is_file() and p.name != SUMS and p.relative_to(root).as_posix() not in sums
                    and p.relative_to(root).as_posix() not in release)
    if others:
        report.warnings.append(f"{len(others)} file(s) beside the release are not part of it and were not checked: "
                               + ", ".join(others[:5]) + (" ..." if len(others) > 5 else ""))
    dbs = [name for name in safe if name.endswith(".db")]
    if not dbs:
        report.problems.append(f"{SUMS} lists no database (.db): a taskshift release always has one")
    if package:
        _check_package_hashes(root, package, safe, report)
    for name in dbs:
        if (root / name).is_file():
            check_database(root / name, report)
            _pinned(root / name, report)
        elif ignore_missing and f"{name}.gz" in safe and (root / f"{name}.gz").is_file():
            _verify_gzip(root / f"{name}.gz", report, declared=_declared_size(package))


def _check_package_hashes(root: Path, package: dict, sums: dict[str, str], report: Report) -> None:
    """The CSV files against the sha256 datapackage.json gives them (a second list SHA256SUMS must agree with)."""
    bad = 0
    for resource in package.get("resources", []):
        path, digest = resource.get("path"), str(resource.get("hash", ""))
        if not isinstance(path, str) or not digest:
            continue
        expected = digest.split(":", 1)[1] if digest.startswith("sha256:") else digest
        if path in sums and sums[path] != expected.lower():
            bad += 1
            report.problems.append(f"{path}: {SUMS} says {sums[path]}, {DATAPACKAGE} says {expected}: "
                                   "one of them was changed after the release was made")
    if not bad and package.get("resources"):
        report.ok.append(f"{DATAPACKAGE} and {SUMS} agree on the {len(package['resources'])} CSV files")


def _compare(file: Path, name: str, expected: str, where: str, report: Report) -> bool:
    actual = sha256_of(file)
    if actual != expected:
        report.problems.append(
            f"{name}: sha256 mismatch: {where} says {expected}, the file has {actual} "
            f"({file.stat().st_size:,} bytes): the file is damaged, incomplete or not the published one; download it again")
        return False
    return True


def _file_checksum(path: Path, report: Report) -> None:
    """Check one file against SHA256SUMS beside it, or `<file>.sha256`; say so when neither lists it."""
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
        elif not expected:
            report.problems.append(f"{side} does not list {path.name}")
        return
    report.warnings.append(f"no {SUMS} or {path.name}.sha256 beside {path.name}: its checksum was not checked")
    report.unchecked.append(f"{path.name} against a published checksum (none beside it); its content was checked "
                            "against the digests it carries, if it is a database")


# --- gzip --------------------------------------------------------------------------------------

def _package_files(package) -> dict:
    """datapackage.json's `taskshift.files`: the release's other files and the database's declared size."""
    files = (package.get("taskshift") or {}).get("files") if isinstance(package, dict) else None
    return files if isinstance(files, dict) else {}


def _declared_size(package: dict) -> int | None:
    value = _package_files(package).get("database_bytes")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def gzip_trailer_size(path: Path) -> int | None:
    """The uncompressed size a gzip file's trailer states (modulo 4 GiB), or None if it is too short."""
    size = path.stat().st_size
    if size < 18:
        return None
    with open(path, "rb") as f:
        f.seek(size - 4)
        return int.from_bytes(f.read(4), "little")


class GunzipError(Exception):
    pass


def bounded_gunzip(src: Path, dest: Path, limit: int) -> tuple[int, str]:
    """Decompress `src` into `dest`, stopping with GunzipError past `limit` bytes; returns (bytes, sha256)."""
    h = hashlib.sha256()
    total = 0
    with gzip.open(src, "rb") as fin, open(dest, "wb") as fout:
        while True:
            block = fin.read(1 << 20)
            if not block:
                break
            total += len(block)
            if total > limit:
                raise GunzipError(f"expands past the {limit:,} bytes declared for it: not the published file; "
                                  "decompression stopped")
            h.update(block)
            fout.write(block)
    return total, h.hexdigest()


def _verify_gzip(path: Path, report: Report, *, declared: int | None = None) -> None:
    inner_name = path.name.removesuffix(".gz")
    if declared is None and (path.parent / DATAPACKAGE).is_file():
        try:
            package = json.loads((path.parent / DATAPACKAGE).read_text(encoding="utf-8"))
            if _package_files(package).get("database_gzip") == path.name:
                declared = _declared_size(package)
        except (ValueError, UnicodeDecodeError, AttributeError):
            declared = None
    how = f"{DATAPACKAGE} declares" if declared else "its gzip trailer states"
    if declared is None:
        declared = gzip_trailer_size(path)
        if declared is None:
            report.problems.append(f"{path.name}: truncated: too short to be a gzip file; download it again")
            return
    if declared > MAX_DATABASE_BYTES:
        report.problems.append(f"{path.name}: {how} {declared:,} bytes, more than any taskshift database "
                               f"({MAX_DATABASE_BYTES:,}): not decompressed")
        return
    tmpdir = tempfile.gettempdir()
    free = shutil.disk_usage(tmpdir).free
    if free < declared + (1 << 20):
        report.problems.append(f"{path.name}: not enough space in {tmpdir} to check it ({declared:,} bytes needed, "
                               f"{free:,} free): set TMPDIR to a directory with more room, or verify the .db itself")
        return
    with tempfile.TemporaryDirectory() as tmp:
        inner = Path(tmp) / inner_name
        try:
            size, digest = bounded_gunzip(path, inner, declared)
        except GunzipError as err:
            report.problems.append(f"{path.name}: {err}")
            return
        except EOFError:
            report.problems.append(f"{path.name}: truncated: the compressed stream ends early; download it again")
            return
        except OSError as err:
            if err.errno in (errno.ENOSPC, errno.EDQUOT):
                report.problems.append(f"{path.name}: {tmpdir} ran out of space while decompressing it: set TMPDIR "
                                       "to a directory with more room, or verify the .db itself")
            elif isinstance(err, gzip.BadGzipFile) or err.errno is None:
                report.problems.append(f"{path.name}: not a valid gzip file ({err}); download it again")
            else:
                report.problems.append(f"{path.name}: cannot be decompressed into {tmpdir}: {err.strerror or err}")
            return
        except zlib.error as err:
            report.problems.append(f"{path.name}: not a valid gzip file ({err}); download it again")
            return
        if size != declared:
            report.problems.append(f"{path.name}: decompresses to {size:,} bytes, but {how} {declared:,}: "
                                   "not the published file")
            return
        report.ok.append(f"{path.name} decompresses to the {size:,} bytes {how}")
        sums_path = path.parent / SUMS
        if sums_path.is_file():
            try:
                expected = read_sums(sums_path).get(inner.name)
            except (ValueError, UnicodeDecodeError):
                expected = None
            if expected and digest != expected:
                report.problems.append(f"{inner.name} (inside {path.name}): sha256 mismatch: {SUMS} says {expected}, "
                                       f"the file has {digest}: not the published database")
            elif expected:
                report.ok.append(f"{inner.name} inside {path.name} matches {SUMS}")
        check_database(inner, report, label=f"{inner.name} (inside {path.name})")


# --- the database ------------------------------------------------------------------------------

def readable_problem(path: Path, *, quick_check: bool = True) -> str | None:
    """Why `path` is not a whole SQLite database (not SQLite, truncated, damaged), in a few words; None if it is."""
    path = Path(path)
    if not path.is_file():
        return "does not exist"
    size = path.stat().st_size
    with open(path, "rb") as f:
        header = f.read(100)
    if not header.startswith(SQLITE_MAGIC) or len(header) < 100:
        return f"is not an SQLite database ({size:,} bytes)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if header[92:96] == header[24:28] and pages and size < page_size * pages:
        return f"is truncated: its header says {page_size * pages:,} bytes, the file has {size:,}"
    if not quick_check:
        return None
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro&immutable=1", uri=True)
        try:
            result = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        return f"cannot be read by SQLite ({err})"
    return None if result == ["ok"] else "is damaged (" + "; ".join(result) + ")"


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
        if not mismatched:
            _check_digests(conn, name, meta, tables & set(contracts), contracts, report)
    finally:
        conn.close()


def _check_digests(conn: sqlite3.Connection, name: str, meta: dict, tables: set[str], contracts: dict, report: Report) -> None:
    """Row counts and content sha256 of every table against the digests the build wrote (taskshift.build.digests)."""
    from taskshift.build.digests import DIGEST_KEY, table_digest

    raw = meta.get(DIGEST_KEY)
    if raw is None:
        report.warnings.append(f"{name}: carries no table digests (built before taskshift wrote them)")
        report.unchecked.append(f"{name}: the content of each table (no digests to compare with)")
        return
    try:
        digests = json.loads(raw)
        assert isinstance(digests, dict) and all(isinstance(d, dict) for d in digests.values())
    except (ValueError, AssertionError):
        report.problems.append(f"{name}: its table digests (metadata {DIGEST_KEY}) are damaged")
        return
    bad = []
    for table in sorted(tables | set(digests)):
        want = digests.get(table)
        if want is None:
            bad.append(f"table {table} is not among the tables the build wrote")
            continue
        if table not in tables:
            bad.append(f"table {table} ({want.get('rows')} rows) is missing")
            continue
        try:
            got = table_digest(conn, table, list(contracts[table].columns), method=want.get("method", "json"))
        except sqlite3.DatabaseError as err:
            bad.append(f"table {table} cannot be read ({err})")
            continue
        if got["rows"] != want.get("rows"):
            bad.append(f"table {table} has {got['rows']:,} rows, the build wrote {want.get('rows'):,}")
        elif got["sha256"] != want.get("sha256"):
            bad.append(f"table {table}: content differs from what the build wrote (same {got['rows']:,} rows, other values)")
    if bad:
        for line in bad:
            report.problems.append(f"{name}: {line} (table digests): the file was changed after it was built")
    else:
        total = sum(int(d.get("rows", 0)) for d in digests.values())
        report.ok.append(f"{name}: the {len(digests)} tables match the digests written at build time "
                         f"(row counts and content sha256, {total:,} rows)")
