"""Where the database is and how the library opens it.

`locate()` / `db_path()` is the one place that decides which database file the library, the CLI and
`taskshift serve` use: the path given, `$TASKSHIFT_DB`, `dist/taskshift.db` under the current
directory, the release `taskshift download` installed; the error lists every place it tried.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from urllib.parse import quote

ENV_VAR = "TASKSHIFT_DB"
DEFAULT_RELATIVE = Path("dist") / "taskshift.db"


class DatabaseNotFound(FileNotFoundError):
    """No taskshift database where `db_path` looked; `tried` lists each place and why it did not count."""

    def __init__(self, tried: list[str]):
        self.tried = tried
        super().__init__(
            "no taskshift database found; tried:\n" + "\n".join(f"  - {t}" for t in tried) +
            "\nget one with `taskshift download` (the release of this version) or `taskshift build --sources DIR` "
            f"(writes {DEFAULT_RELATIVE}), or pass a path or set {ENV_VAR}")


def locate(path: str | os.PathLike | None = None) -> tuple[Path, str]:
    """The database file and how it was chosen, in this order (the first that applies wins):

    1. `path`, if given (nothing else is tried);
    2. `$TASKSHIFT_DB`, if set (nothing else is tried);
    3. `dist/taskshift.db` under the current directory (a checkout that built it);
    4. the release `taskshift download` installed for this version (the user data directory).

    Relative paths are resolved here, once. Raises DatabaseNotFound listing every place tried.
    """
    if path is not None and str(path) != "":
        chosen = Path(path).expanduser()
        if chosen.is_file():
            return chosen.resolve(), "the path given"
        raise DatabaseNotFound([f"{chosen} (the path given): " + _why(chosen)])
    if os.environ.get(ENV_VAR):
        chosen = Path(os.environ[ENV_VAR]).expanduser()
        if chosen.is_file():
            return chosen.resolve(), f"${ENV_VAR}"
        raise DatabaseNotFound([f"{chosen} (${ENV_VAR}): " + _why(chosen)])
    tried = [f"${ENV_VAR}: not set"]
    local = Path.cwd() / DEFAULT_RELATIVE
    if local.is_file():
        return local.resolve(), f"{DEFAULT_RELATIVE} under the current directory"
    tried.append(f"{local} ({DEFAULT_RELATIVE} under the current directory): {_why(local)}")
    from taskshift.release.download import downloaded_db  # light: stdlib only
    release = downloaded_db()
    if release.is_file():
        return release.resolve(), "the release `taskshift download` installed"
    tried.append(f"{release} (where `taskshift download` puts the release of this version): {_why(release)}")
    raise DatabaseNotFound(tried)


def _why(path: Path) -> str:
    return "a directory, not a database file" if path.is_dir() else "no such file"


def db_path(path: str | os.PathLike | None = None) -> Path:
    """The database file the library, the CLI and `taskshift serve` use (see `locate` for the order).

    Raises DatabaseNotFound (a FileNotFoundError) naming every place it looked.
    """
    return locate(path)[0]


def connect(path: str | os.PathLike | None = None) -> sqlite3.Connection:
    """Open the database read-only (immutable: taskshift databases never change once built)."""
    file = db_path(path)
    uri = f"file:{quote(str(file))}?mode=ro&immutable=1"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
    return conn


_default: dict[Path, sqlite3.Connection] = {}
_lock = threading.Lock()


def default_connection(path: str | os.PathLike | None = None) -> sqlite3.Connection:
    """A shared connection to `db_path(path)` for the library functions called without `conn`."""
    file = db_path(path)
    with _lock:
        conn = _default.get(file)
        if conn is None:
            conn = _default[file] = connect(file)
        return conn
