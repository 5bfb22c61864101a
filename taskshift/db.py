"""Where the database is and how the library opens it.

`db_path()` is the one place that decides which database file the library and the CLI use; extend it
here (e.g. a packaged or fetched default) and every caller follows.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from urllib.parse import quote

ENV_VAR = "TASKSHIFT_DB"
DEFAULT_RELATIVE = Path("dist") / "taskshift.db"


def db_path(path: str | os.PathLike | None = None) -> Path:
    """The database file: `path` if given, else `$TASKSHIFT_DB`, else `dist/taskshift.db` under the cwd,
    else the release database `taskshift download` put in the user data directory.

    Raises FileNotFoundError naming where it looked when the file does not exist.
    """
    if path is not None and str(path) != "":
        chosen, how = Path(path), "the path given"
    elif os.environ.get(ENV_VAR):
        chosen, how = Path(os.environ[ENV_VAR]), f"${ENV_VAR}"
    else:
        chosen, how = Path.cwd() / DEFAULT_RELATIVE, f"the default {DEFAULT_RELATIVE} under {Path.cwd()}"
        if not chosen.is_file():  # an installed package: the release that `taskshift download` fetched
            from taskshift.release.download import downloaded_db
            if downloaded_db().is_file():
                chosen, how = downloaded_db(), "the release `taskshift download` installed"
    chosen = chosen.expanduser()
    if not chosen.is_file():
        raise FileNotFoundError(
            f"taskshift database not found at {chosen} ({how}); run `taskshift download` (the release "
            f"for this version), build it with `taskshift build`, pass a path, or set {ENV_VAR}")
    return chosen.resolve()


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
