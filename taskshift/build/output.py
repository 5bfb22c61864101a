"""Where a build or a release writes: checked before any work starts, every OS error turned into one
sentence naming the path and what to do, temporary files that do not outlive the process.

- `check_output_file` / `check_output_dir`: the target is a file path (not a directory), its folder
  exists or can be made, a file can be created in it, and the disk has room (`BUILD_BYTES`,
  `RELEASE_BYTES`) — all before the ~15 s build, so a bad `--out` fails at once.
- `output_error`: an OSError or SQLite error while writing -> `OutputError` (permission, read-only
  file system, no space, wrong kind of path), the previous database untouched (the build only ever
  writes a temporary file beside it).
- `on_signals`: SIGTERM and SIGHUP (as well as Ctrl-C) unwind the build like an error, so the
  temporary database (`.taskshift.db.*.tmp`) or release staging folder (`.release-*`) is removed.
- `locked_temp` / `clean_stale`: each temporary file or folder is locked (flock) while its build
  runs; the next build removes the ones nobody holds (left by a killed run: SIGKILL, a crash, a
  power cut), and leaves a concurrent build's alone.
"""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; stale files are then left for the user
    fcntl = None

MB = 1024 * 1024
#: Free space a build needs beside its output: the temporary database (~80 MB) and VACUUM's copy of it.
BUILD_BYTES = 200 * MB
#: Free space a release needs in its folder: the build, the gzip copy, CSV and Parquet exports.
RELEASE_BYTES = 400 * MB


class OutputError(Exception):
    """The output location cannot be written; the message names the path and what to do."""


_ADVICE = {
    errno.EACCES: "permission denied: make it writable for this user, or choose another --out",
    errno.EPERM: "operation not permitted: make it writable for this user, or choose another --out",
    errno.EROFS: "the file system is read-only: choose another --out on a writable disk",
    errno.ENOSPC: "no space left on the device: free some space, or choose another --out",
    errno.EDQUOT: "disk quota exceeded: free some space, or choose another --out",
    errno.ENOENT: "a folder on the way does not exist: create it, or choose another --out",
    errno.ENOTDIR: "a part of the path is a file, not a folder: choose another --out",
    errno.EISDIR: "it is a folder: give a file path such as DIR/taskshift.db",
    errno.ENAMETOOLONG: "the path is too long: choose a shorter --out",
}


def describe_os_error(err: OSError) -> str:
    return _ADVICE.get(err.errno, f"{err.strerror or err}: check the path, or choose another --out")


def is_io_error(err: BaseException) -> bool:
    """An SQLite error that is about the disk or the file, not about the data."""
    name = getattr(err, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM"))


def output_error(err: BaseException, path: Path, action: str = "write") -> OutputError:
    """One sentence for an error while writing `path` (OSError or SQLite error)."""
    if isinstance(err, OSError):
        where = err.filename if err.filename else path
        return OutputError(f"cannot {action} {where}: {describe_os_error(err)}")
    name = getattr(err, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_FULL") or "disk is full" in str(err):
        tmp = tempfile.gettempdir()
        return OutputError(f"cannot {action} {path}: no space left on the device (SQLite also needs room in {tmp} "
                           "for VACUUM; set SQLITE_TMPDIR to a larger folder): free some space, or choose another --out")
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")):
        return OutputError(f"cannot {action} {path}: {err}: make its folder writable, or choose another --out")
    if name.startswith("SQLITE_IOERR"):
        return OutputError(f"cannot {action} {path}: disk I/O error ({err}): check the disk, or choose another --out")
    return OutputError(f"cannot {action} {path}: {err}")


def _check_folder(folder: Path, need: int, what: str) -> None:
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"cannot write {what}: {folder} is a file, not a folder: choose another --out")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise output_error(err, folder, "create the folder") from None
    try:  # the real test: can this process create a file here (permissions, read-only mounts, quotas)?
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".taskshift-write-test.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise output_error(err, folder, "write into") from None
    free = shutil.disk_usage(folder).free
    if free < need:
        raise OutputError(f"cannot write {what}: {folder} has {free / MB:,.0f} MB free, a build needs about "
                          f"{need / MB:,.0f} MB: free some space, or choose another --out")


def check_output_file(out: Path, need: int = BUILD_BYTES) -> None:
    """Raise OutputError unless a database can be written at `out` (checked before the build)."""
    out = Path(out)
    if out.is_dir():
        raise OutputError(f"cannot write {out}: it is a folder: give a file path such as {out / 'taskshift.db'}")
    if out.exists() and not out.is_file():
        raise OutputError(f"cannot write {out}: it exists and is not a regular file: choose another --out")
    _check_folder(out.parent, need, str(out))


def check_output_dir(out_dir: Path, need: int = RELEASE_BYTES) -> None:
    """Raise OutputError unless a release can be written into `out_dir` (checked before the build)."""
    _check_folder(Path(out_dir), need, f"a release into {out_dir}")


# --- temporary files that do not outlive their build ---------------------------------------------
def _lock(fd: int) -> bool:
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def hold(path: Path) -> int:
    """Open and lock `path` (a file or a folder) for the life of this build; returns the descriptor."""
    fd = os.open(path, os.O_RDONLY)
    _lock(fd)
    return fd


def lock_fd(fd: int) -> None:
    """Lock an open temporary file for the life of this build (`clean_stale` leaves it alone)."""
    _lock(fd)


def clean_stale(folder: Path, pattern: str, log=None) -> list[Path]:
    """Remove the temporary files or folders matching `pattern` in `folder` that no running build holds."""
    removed = []
    if fcntl is None or not Path(folder).is_dir():
        return removed
    for path in sorted(Path(folder).glob(pattern)):
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            if not _lock(fd):  # a build that is still running holds it
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
        finally:
            os.close(fd)
    if removed and log:
        log(f"removed {len(removed)} temporary file(s) left by an interrupted run: {', '.join(p.name for p in removed)}")
    return removed


def temp_db_pattern(out: Path) -> str:
    return f".{Path(out).name}.*.tmp"


class Interrupted(SystemExit):
    """A build stopped by SIGTERM or SIGHUP: unwinds like an error (temporary files removed), then exits."""


@contextlib.contextmanager
def on_signals():
    """Turn SIGTERM and SIGHUP into an exception for the duration (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = [s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None]
    previous = {}

    def handler(signum, frame):
        raise Interrupted(128 + signum)

    for s in wanted:
        try:
            previous[s] = signal.signal(s, handler)
        except (ValueError, OSError):
            pass
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)

