"""`taskshift download`: get the release database that matches the installed taskshift.

The wheel carries no data (the release database is ~70 MB, ~15 MB gzipped). A `pip install taskshift`
user runs `taskshift download` once; it

1. fetches `SHA256SUMS` from the release URL of this version (`dataset/project.toml` [download],
   `{version}` = `taskshift.__version__`; `--url` or `$TASKSHIFT_RELEASE_URL` point elsewhere),
2. fetches `taskshift-<version>.db.gz`, checks its sha256, decompresses it and checks the database's
   sha256 against SHA256SUMS and, where the package pins one ([download.published] in
   project.toml), against the pinned value,
3. checks the database (integrity, foreign keys, schema version: see `taskshift.verify`) and only
   then moves it into place: `$TASKSHIFT_DB` if set, else the user data directory
   (`data_dir()`), as `taskshift-<version>.db`, with a `.sha256` file beside it.

`taskshift.connect()` then finds it with no further step (see `taskshift.db.db_path`).
This module imports nothing heavy at the top: `taskshift.db` asks it where a downloaded database is.
"""
from __future__ import annotations

import os
import sys
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from taskshift.build.locate import sha256_of
from taskshift import __version__

ENV_DATA_DIR = "TASKSHIFT_DATA_DIR"
ENV_RELEASE_URL = "TASKSHIFT_RELEASE_URL"
ENV_DB = "TASKSHIFT_DB"


class DownloadError(Exception):
    """The release could not be fetched, or what was fetched is not what was published."""


def data_dir() -> Path:
    """Where `taskshift download` puts the database: $TASKSHIFT_DATA_DIR, else the platform's user data dir."""
    given = os.environ.get(ENV_DATA_DIR)
    if given:
        return Path(given).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "taskshift"


def downloaded_db(version: str = __version__) -> Path:
    """The path `taskshift download` writes for `version` (whether or not it exists yet)."""
    return data_dir() / f"taskshift-{version}.db"


def download_settings() -> dict:
    from taskshift.resources import project_metadata

    return project_metadata().get("download", {})


def release_url(version: str = __version__) -> str:
    base = os.environ.get(ENV_RELEASE_URL) or download_settings().get("base_url", "")
    if not base:
        raise DownloadError("no release URL: dataset/project.toml has no [download] base_url; pass --url")
    base = base.format(version=version)
    return base if base.endswith("/") else base + "/"


def _get(url: str, dest, log, *, label: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            total = 0
            for block in iter(lambda: response.read(1 << 20), b""):
                dest.write(block)
                total += len(block)
    except urllib.error.HTTPError as err:
        raise DownloadError(f"cannot download {label} from {url}: HTTP {err.code} {err.reason}") from None
    except (urllib.error.URLError, OSError) as err:
        raise DownloadError(f"cannot download {label} from {url}: {getattr(err, 'reason', err)}") from None
    log(f"downloaded {label} ({total:,} bytes) from {url}")
    return total


def download(url: str | None = None, dest: str | os.PathLike | None = None, *, sha256: str | None = None,
             force: bool = False, version: str = __version__, log=print) -> Path:
    """Download, verify and install the release database; return its path. Raises DownloadError."""
    from taskshift.release.make import SUMS, db_name, read_sums
    from taskshift.release.verify import (MAX_DATABASE_BYTES, GunzipError, Report, bounded_gunzip, check_database,
                                          gzip_trailer_size)

    overridden = bool(url or os.environ.get(ENV_RELEASE_URL))
    base = url if url else release_url(version)
    base = base if base.endswith("/") else base + "/"
    name = db_name(version)
    target = Path(dest) if dest else Path(os.environ[ENV_DB]) if os.environ.get(ENV_DB) else downloaded_db(version)
    target = target.expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".taskshift-download-") as tmp:
        tmp = Path(tmp)
        with open(tmp / SUMS, "wb") as f:
            _get(base + SUMS, f, log, label=SUMS)
        try:
            sums = read_sums(tmp / SUMS)
        except (ValueError, UnicodeDecodeError) as err:
            raise DownloadError(f"{base}{SUMS} is not a checksum file: {err}") from None
        if name not in sums:
            raise DownloadError(f"{base}{SUMS} does not list {name}: is this the release of taskshift {version}?")
        expected = sums[name]
        pinned = sha256 or (None if overridden else download_settings().get("published", {}).get(version))
        if pinned and pinned.lower() != expected:
            raise DownloadError(f"{base}{SUMS} lists sha256 {expected} for {name}, but this taskshift {version} "
                                f"was released with {pinned}: refusing a database that is not the published one")

        if not force and target.is_file() and sha256_of(target) == expected:
            log(f"{target} is already the verified release database of taskshift {version}")
            return target

        db = tmp / name
        if f"{name}.gz" in sums:
            packed = tmp / f"{name}.gz"
            with open(packed, "wb") as f:
                _get(base + packed.name, f, log, label=packed.name)
            actual = sha256_of(packed)
            if actual != sums[packed.name]:
                raise DownloadError(f"{packed.name}: sha256 mismatch: {SUMS} says {sums[packed.name]}, the download "
                                    f"has {actual} ({packed.stat().st_size:,} bytes): incomplete or damaged download")
            limit = min(gzip_trailer_size(packed) or MAX_DATABASE_BYTES, MAX_DATABASE_BYTES)
            try:  # no further than the size the gzip states: a bomb stops there
                bounded_gunzip(packed, db, limit)
            except (EOFError, OSError, zlib.error, GunzipError) as err:
                raise DownloadError(f"{packed.name}: cannot be decompressed into {db.parent}: {err}") from None
            packed.unlink()
        else:
            with open(db, "wb") as f:
                _get(base + name, f, log, label=name)
        actual = sha256_of(db)
        if actual != expected:
            raise DownloadError(f"{name}: sha256 mismatch: {SUMS} says {expected}, the download has {actual}: "
                                "incomplete or damaged download")
        report = Report(db)
        check_database(db, report)
        if not report.passed:
            raise DownloadError(f"{name} was downloaded intact but cannot be used: " + "; ".join(report.problems))
        db.chmod(0o644)
        os.replace(db, target)
        Path(f"{target}.sha256").write_text(f"{expected}  {target.name}\n", encoding="utf-8")
    log(f"verified {name} (sha256 {expected}) and installed it at {target}")
    return target
