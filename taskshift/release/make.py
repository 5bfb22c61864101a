"""`taskshift release`: everything a versioned release publishes, in one directory, byte for byte
reproducible.

Layout of a release directory (default `dist/`):

    taskshift-<version>.db       the release build (redistributable sources only)
    taskshift-<version>.db.gz    the same, gzip-compressed (mtime 0, no file name in the header)
    datapackage.json             Frictionless Tabular Data Package: every table, from the contracts
    csv/<table>.csv              every table as CSV (UTF-8, header row, rows in the database's order)
    parquet/<table>.parquet      every table as Parquet (zstd; column descriptions in the schema)
    RELEASE_NOTES.md             the CHANGELOG.md section of this version ([Unreleased] until it has one)
    SHA256SUMS                   sha256 of every file above (`sha256sum -c SHA256SUMS` checks them)

Everything is made in a staging directory beside the target and moved into place only when all of it
is complete, SHA256SUMS last, so a failed release leaves the previous one as it was. Nothing depends
on the clock: the database is deterministic (see `taskshift.build.assemble`), exports read it in rowid
order, gzip gets mtime 0, Parquet files carry no timestamps (their `created_by` names the pyarrow
version, so releases are byte-identical for a given pyarrow).
"""
from __future__ import annotations

import base64
import csv
import gzip
import os
import re
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from taskshift.build.sources import sha256_of
from taskshift import __version__
from taskshift.contracts import Contract, table_contracts

SUMS = "SHA256SUMS"
STAGING_PREFIX = ".release-"
NOTES = "RELEASE_NOTES.md"
DATAPACKAGE = "datapackage.json"
GZIP_LEVEL = 6  # level 9 is ~3x slower for about 2% smaller files


class ReleaseError(Exception):
    """The release cannot be made (a missing tool); builds report their own BuildError / SourceError."""


def db_name(version: str = __version__) -> str:
    return f"taskshift-{version}.db"


@dataclass
class Release:
    out_dir: Path
    version: str
    files: list[str] = field(default_factory=list)  # relative paths, as listed in SHA256SUMS
    notes_section: str = ""  # the CHANGELOG heading the notes come from
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def db(self) -> Path:
        return self.out_dir / db_name(self.version)


def make_release(sources_dir: Path, out_dir: Path = Path("dist"), *, manifest=None, changelog: Path | None = None,
                 log=print) -> Release:
    """Build the release database from `sources_dir` and write the whole release into `out_dir`.

    `out_dir` is checked first (writable, room for a release); the staging folder is locked while the
    release runs, removed on any error, Ctrl-C, SIGTERM or SIGHUP, and one left by a killed run is
    removed by the next."""
    try:
        import pyarrow.parquet  # noqa: F401  (checked before the build, not after it)
    except ImportError:
        raise ReleaseError("taskshift release writes Parquet with pyarrow: pip install 'taskshift[test]' "
                           "or pip install pyarrow") from None
    from taskshift.build.output import check_output_dir, clean_stale, hold, on_signals, output_error

    out_dir = Path(out_dir)
    check_output_dir(out_dir)  # a bad --out fails now, not after the build
    clean_stale(out_dir, f"{STAGING_PREFIX}*", log)  # left by a killed release
    release = Release(out_dir, __version__)
    try:
        staging = Path(tempfile.mkdtemp(dir=out_dir, prefix=STAGING_PREFIX))
    except OSError as err:
        raise output_error(err, out_dir, "write into") from None
    lock = hold(staging)  # while this release runs, the next one leaves its staging folder alone
    try:
        with on_signals():
            _make(release, sources_dir, staging, out_dir, manifest=manifest, changelog=changelog, log=log)
    except OSError as err:
        raise output_error(err, out_dir) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        os.close(lock)
    return release


def _make(release: Release, sources_dir: Path, staging: Path, out_dir: Path, *, manifest, changelog, log) -> None:
    from taskshift.build.assemble import build

    started = time.perf_counter()
    db = staging / db_name()
    build(Path(sources_dir), db, release=True, manifest=manifest, log=log)
    release.timings["build"] = time.perf_counter() - started

    started = time.perf_counter()
    csv_paths = export_tables(db, staging)
    release.timings["export"] = time.perf_counter() - started

    started = time.perf_counter()
    gzip_file(db, staging / f"{db.name}.gz")
    release.timings["gzip"] = time.perf_counter() - started

    started = time.perf_counter()
    write_package(db, staging, csv_paths, manifest=manifest)
    heading, notes = release_notes(__version__, changelog)
    release.notes_section = heading
    (staging / NOTES).write_text(notes, encoding="utf-8")
    release.files = write_sums(staging)
    release.timings["package"] = time.perf_counter() - started

    publish(staging, out_dir, release.files)


# --- exports -----------------------------------------------------------------------------------

def release_tables(conn: sqlite3.Connection) -> list[str]:
    """Tables of the database that have a contract (not the full-text index or sqlite_stat tables)."""
    contracts = table_contracts()
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return sorted(n for n in names if n in contracts)


def table_rows(conn: sqlite3.Connection, contract: Contract):
    cols = ", ".join(f'"{c}"' for c in contract.column_names)
    return conn.execute(f'SELECT {cols} FROM "{contract.name}" ORDER BY rowid')


def export_tables(db: Path, root: Path) -> dict[str, str]:
    """Write csv/<table>.csv and parquet/<table>.parquet for every table; return {table: csv path}."""
    contracts = table_contracts()
    (root / "csv").mkdir()
    (root / "parquet").mkdir()
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    paths = {}
    try:
        for name in release_tables(conn):
            contract = contracts[name]
            rows = table_rows(conn, contract).fetchall()
            write_csv(contract, rows, root / "csv" / f"{name}.csv")
            write_parquet(contract, rows, root / "parquet" / f"{name}.parquet")
            paths[name] = f"csv/{name}.csv"
    finally:
        conn.close()
    return paths


def _csv_value(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)  # shortest round-trip form, the same on every platform
    if isinstance(v, bytes):
        return base64.b64encode(v).decode("ascii")  # blob columns: base64 (datapackage format "binary")
    return v


def write_csv(contract: Contract, rows: list[tuple], path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(contract.column_names)
        for row in rows:
            writer.writerow([_csv_value(v) for v in row])


def write_parquet(contract: Contract, rows: list[tuple], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"text": pa.string(), "integer": pa.int64(), "real": pa.float64(), "blob": pa.binary()}
    fields = [pa.field(c.name, types[c.type], nullable=c.nullable,
                       metadata={"description": c.description} if c.description else None)
              for c in contract.columns]
    columns = list(zip(*rows)) if rows else [() for _ in fields]
    arrays = [pa.array(list(values), type=f.type) for values, f in zip(columns, fields)]
    schema = pa.schema(fields, metadata={
        "table": contract.name,
        "title": contract.title or contract.name,
        "description": " ".join(contract.description.split()),
        "primary_key": ",".join(contract.primary_key),
        "taskshift_version": __version__,
    })
    table = pa.Table.from_arrays(arrays, schema=schema)
    pq.write_table(table, path, compression="zstd", use_dictionary=True, write_statistics=True,
                   row_group_size=1 << 20)


def gzip_file(src: Path, dest: Path) -> None:
    """gzip with mtime 0 and no file name in the header: the same input gives the same bytes."""
    with open(src, "rb") as fin, open(dest, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=GZIP_LEVEL) as out:
            shutil.copyfileobj(fin, out, 1 << 20)


# --- package, notes, sums ------------------------------------------------------------------------

def write_package(db: Path, root: Path, csv_paths: dict[str, str], *, manifest=None) -> None:
    from taskshift.release.datapackage import build_datapackage, write_datapackage

    info = {}
    for path in csv_paths.values():
        file = root / path
        info[path] = (file.stat().st_size, sha256_of(file))
    extra = {
        "database": db.name,
        "database_bytes": db.stat().st_size,  # `taskshift verify` decompresses the gzip no further than this
        "database_gzip": f"{db.name}.gz",
        "parquet": {name: f"parquet/{name}.parquet" for name in sorted(csv_paths)},
        "release_notes": NOTES,
        "checksums": SUMS,
    }
    package = build_datapackage(db, csv_paths, file_info=info, extra_files=extra, manifest=manifest)
    write_datapackage(package, root / DATAPACKAGE)


HEADING = re.compile(r"^## \[(?P<name>[^\]]+)\]", re.M)


def changelog_path() -> Path | None:
    """CHANGELOG.md of the checkout this package runs from, else of the current directory (a wheel has none)."""
    for path in (Path(__file__).resolve().parents[1] / "CHANGELOG.md", Path.cwd() / "CHANGELOG.md"):
        if path.is_file():
            return path
    return None


def release_notes(version: str, changelog: Path | None = None) -> tuple[str, str]:
    """(heading used, notes text): the `## [<version>]` section of CHANGELOG.md, else `## [Unreleased]`.

    A version with no section of its own is a release candidate made before the changelog was cut:
    its notes are the [Unreleased] section, titled so nobody mistakes them for a final release.
    """
    changelog = changelog or changelog_path()
    text = changelog.read_text(encoding="utf-8") if changelog and changelog.is_file() else ""
    sections: dict[str, str] = {}
    matches = list(HEADING.finditer(text))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        sections.setdefault(m.group("name").strip(), text[m.start():end].strip())
    if version in sections:
        body = sections[version]
        heading = version
        title = f"# taskshift {version}"
    elif "Unreleased" in sections:
        body = sections["Unreleased"]
        heading = "Unreleased"
        title = (f"# taskshift {version} (pre-release)\n\nCHANGELOG.md has no section for {version} yet; "
                 "these are the changes under [Unreleased].")
    else:
        heading = ""
        body = "No release notes: CHANGELOG.md has neither a section for this version nor [Unreleased]."
        title = f"# taskshift {version}"
    body = body.split("\n", 1)[1].strip() if body.startswith("## ") and "\n" in body else body
    return heading, f"{title}\n\n{body}\n"


def write_sums(root: Path) -> list[str]:
    """SHA256SUMS in `sha256sum` format (two spaces, relative paths with /), sorted by path."""
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name != SUMS)
    lines = [f"{sha256_of(root / f)}  {f}\n" for f in files]
    (root / SUMS).write_text("".join(lines), encoding="utf-8")
    return files


def read_sums(path: Path) -> dict[str, str]:
    """{relative path: sha256} from a SHA256SUMS file (also accepts the `*` binary marker)."""
    sums = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        m = re.fullmatch(r"([0-9a-fA-F]{64}) [ *](.+)", line)
        if not m:
            raise ValueError(f"{path}: line {n} is not '<sha256>  <file>': {line[:80]!r}")
        sums[m.group(2)] = m.group(1).lower()
    return sums


def publish(staging: Path, out_dir: Path, files: list[str]) -> None:
    """Move the staged release into `out_dir`: csv/ and parquet/ are replaced whole, SHA256SUMS last."""
    (out_dir / SUMS).unlink(missing_ok=True)  # a half-replaced release must not look verified
    for folder in ("csv", "parquet"):
        target = out_dir / folder
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging / folder, target)
        target.chmod(0o755)
    for f in files:
        if f.split("/", 1)[0] in ("csv", "parquet"):
            continue
        os.replace(staging / f, out_dir / f)
        (out_dir / f).chmod(0o644)
    os.replace(staging / SUMS, out_dir / SUMS)
    (out_dir / SUMS).chmod(0o644)
