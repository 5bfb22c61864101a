"""What keeps one request from taking the server, and the server from telling more than it should.

- `harden_connection(conn)` (the plugin's `prepare_connection` hook, and every API connection):
  SQLite limits (`SQLITE_LIMITS`: the longest value or row, SQL text, LIKE pattern; no ATTACH), a
  `printf`/`format` that refuses widths and precisions past `MAX_PRINTF_WIDTH` (SQLite 3.40 spends
  10 s in `printf('%.*c', 900000000, 'x')` whatever the length limit, and the progress handler
  behind `sql_time_limit_ms` never runs inside one function call), and a row factory that stops a
  result once its values pass `MAX_RESULT_BYTES`.
- `GuardedApp` (the `asgi_wrapper` hook): routes a public read-only server does not serve
  (`BLOCKED_PATHS`: thread stacks, the messages and permissions debug tools) answer 404; any method
  other than GET/HEAD/OPTIONS outside the API answers 405 (Datasette answers 500 to a POST on a
  canned query or a table); absolute filesystem paths (the database's, the Python installation's,
  the working directory's) are replaced in every text response; a response body larger than
  `MAX_RESPONSE_BYTES` is replaced by a 400 naming the limit.
- `exception_response` (the `handle_exception` hook): an SQLite error that reaches Datasette is a
  400 naming it, or the documented 503 when the database file is unreadable (corrupt, truncated,
  missing), never a 500.
"""
from __future__ import annotations

import json
import os
import re
import site
import sqlite3
import sys
import threading
from pathlib import Path

#: SQLite limits of every served connection (`sqlite3.Connection.setlimit`).
SQLITE_LIMITS = {
    sqlite3.SQLITE_LIMIT_LENGTH: 1_000_000,           # longest string, blob or row (the largest in a taskshift db is ~4 KB)
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: 100_000,         # longest SQL statement
    sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 1_000,  # longest LIKE / GLOB pattern
    sqlite3.SQLITE_LIMIT_ATTACHED: 0,                 # no ATTACH: a served connection sees its own database only
}
#: Largest width or precision printf/format accepts: a larger one could not fit SQLITE_LIMIT_LENGTH anyway,
#: and gets the same "string or blob too big" error as randomblob() or zeroblob() past the limit.
MAX_PRINTF_WIDTH = SQLITE_LIMITS[sqlite3.SQLITE_LIMIT_LENGTH]
#: Values of one query result, summed (strings and blobs by length, numbers 8 bytes): past it the query
#: stops with an error. 2,000 rows (max_returned_rows) of the widest taskshift table are ~2 MB.
MAX_RESULT_BYTES = 8_000_000
#: Largest response body sent in one piece (pages, JSON); streamed downloads go chunk by chunk.
MAX_RESPONSE_BYTES = 16_000_000
#: Longest request target (path and query string) and total size of the request headers. uvicorn's h11
#: limit (16 KB) only bounds headers that arrive slowly; these bound the ones that arrive at once.
MAX_URL_BYTES = 16 * 1024
MAX_HEADER_BYTES = 16 * 1024
#: Routes a public read-only taskshift server does not serve: they show the Python installation's
#: paths (/-/threads) or are debugging tools with no use on an immutable database.
BLOCKED_PATHS = ("/-/threads", "/-/messages", "/-/permissions", "/-/allow-debug")
#: SQLite result codes that mean the database file itself cannot be read (API: 503).
UNREADABLE_CODES = {"SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_FULL"}


# --- connections ---------------------------------------------------------------------------------
def harden_connection(conn: sqlite3.Connection) -> None:
    """Apply the limits, the guarded printf and the result budget to one connection."""
    for limit, value in SQLITE_LIMITS.items():
        conn.setlimit(limit, value)
    for name in ("printf", "format"):
        conn.create_function(name, -1, guarded_printf, deterministic=True)
    if conn.row_factory in (None, sqlite3.Row):
        conn.row_factory = _budgeted_row if conn.row_factory is sqlite3.Row else _budgeted_tuple


class _Budget(threading.local):
    cursor = None
    used = 0


_budget = _Budget()


def _spend(cursor, row) -> None:
    if _budget.cursor is not cursor:  # a new query on this thread: a new budget
        _budget.cursor, _budget.used = cursor, 0
    size = 8 * len(row)
    for value in row:
        if isinstance(value, (str, bytes)):
            size += len(value)
    _budget.used += size
    if _budget.used > MAX_RESULT_BYTES:
        _budget.cursor = None
        raise sqlite3.OperationalError(
            f"result too large: its values pass {MAX_RESULT_BYTES:,} bytes; select fewer rows or columns "
            "(or download the table as CSV from its page)")


def _budgeted_row(cursor, row):
    _spend(cursor, row)
    return sqlite3.Row(cursor, row)


def _budgeted_tuple(cursor, row):
    _spend(cursor, row)
    return row


_FORMAT = re.compile(r"%([-+ #0!,]*)(\*|\d+)?(?:\.(\*|\d*))?(l{0,2})(.)?", re.S)
_LEADING_INT = re.compile(r"\s*([+-]?\d+)")


def _int_value(value) -> int:
    """An SQL value as SQLite's printf reads a `*` argument (sqlite3_value_int64)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value == value and abs(value) < 2**63 else 2**63
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        m = _LEADING_INT.match(value)
        return int(m.group(1)) if m else 0
    return 0


_TOO_BIG = bytes(MAX_PRINTF_WIDTH + 1)


class _Helper(threading.local):
    conn: sqlite3.Connection | None = None


_helper = _Helper()


def guarded_printf(*args):
    """SQLite's printf/format; a width or precision above MAX_PRINTF_WIDTH is "string or blob too big"."""
    if not args or args[0] is None:
        return None
    fmt = args[0]
    fmt = fmt.decode("utf-8", "replace") if isinstance(fmt, bytes) else str(fmt)
    i = 1
    for m in _FORMAT.finditer(fmt):
        _flags, width, precision, _size, conversion = m.groups()
        for part in (width, precision):
            if not part:
                continue
            if part == "*":
                n = _int_value(args[i]) if i < len(args) else 0
                i += 1
            else:
                n = int(part)
            if abs(n) > MAX_PRINTF_WIDTH:  # a value SQLite refuses with SQLITE_TOOBIG, before any work
                return _TOO_BIG
        if conversion is not None and conversion != "%":
            i += 1
    if _helper.conn is None:  # SQLite's own printf, on a private connection with the same length limit
        _helper.conn = sqlite3.connect(":memory:", check_same_thread=False)
        _helper.conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, SQLITE_LIMITS[sqlite3.SQLITE_LIMIT_LENGTH])
    marks = ", ".join("?" * len(args))
    return _helper.conn.execute(f"select printf({marks})", args).fetchone()[0]


# --- errors --------------------------------------------------------------------------------------
def is_unreadable(err: BaseException) -> bool:
    """Does this SQLite error mean the database file cannot be read (rather than a bad query)?"""
    if not isinstance(err, sqlite3.DatabaseError):
        return False
    name = getattr(err, "sqlite_errorname", None)
    if name:  # SQLITE_CORRUPT, SQLITE_IOERR_SHORT_READ, ...
        return any(name == code or name.startswith(code + "_") for code in UNREADABLE_CODES)
    text = str(err).lower()
    return "malformed" in text or "not a database" in text or "disk i/o" in text or "unable to open" in text


def error_body(status: int, field: str, problem: str, kind: str) -> bytes:
    """The API's ErrorResponse JSON (taskshift.service.models.ErrorResponse)."""
    return json.dumps({"ok": False, "status": status, "error": f"{field}: {problem}",
                       "errors": [{"field": field, "problem": problem, "type": kind}]}).encode()


UNREADABLE_PROBLEM = ("the database file cannot be read (damaged, truncated or missing): the operator should run "
                      "`taskshift verify` on it and restore the release")


def quiet_default_exception_handler() -> None:
    """Datasette's default `handle_exception` prints every exception (an interrupted query, a bad table
    name...) as a `rich` traceback with its local variables, on the event loop: seconds per error, during
    which the server answers nothing (three interrupted queries stalled every request for ~5 s). Errors
    still get their pages; a 500 still prints a plain traceback."""
    from datasette import handle_exception as default

    default.rich = None


#: SQLite operations between two checks of Datasette's SQL time limit. Datasette checks every 1,000
#: (~0.08 ms): a Python callback, and the GIL taken, 12,000 times a second per running query, so three
#: long queries starve every other thread of the process (the API included). 50,000 (~4 ms) keeps the
#: limit as exact as anyone can tell and the GIL free.
TIME_LIMIT_CHECK_OPS = 50_000


def coarser_time_limit_checks() -> None:
    """Datasette's `sqlite_timelimit`, checking the clock every TIME_LIMIT_CHECK_OPS operations, and
    closing the cursor of a query that fails, in the SQL thread that ran it.

    Why the cursor: the failed query's cursor stays referenced by the exception's traceback, a reference
    cycle only the garbage collector frees, later, in whatever thread it runs in, holding the GIL. Freeing
    the cursor finalizes its statement, which waits for its connection, which by then runs the next
    query: every thread of the server stopped until that query ended (the uncached /-/score that took
    1 s, 2 s or 3 s while three queries ran to the time limit)."""
    import time

    from datasette import database

    if getattr(database.sqlite_timelimit, "taskshift", False):
        return

    class sqlite_timelimit:
        taskshift = True

        def __init__(self, conn, ms):
            self.conn = conn
            self.deadline = time.perf_counter() + ms / 1000
            self.n = 1 if ms <= 20 else TIME_LIMIT_CHECK_OPS

        def __enter__(self):
            deadline = self.deadline

            def handler():
                if time.perf_counter() >= deadline:
                    return 1  # interrupts the query

            self.conn.set_progress_handler(handler, self.n)
            return self

        def __exit__(self, exc_type, exc, tb):
            self.conn.set_progress_handler(None, self.n)
            if exc is not None and tb is not None:
                cursor = tb.tb_frame.f_locals.get("cursor")
                if isinstance(cursor, sqlite3.Cursor):
                    cursor.close()
            return False

    database.sqlite_timelimit = sqlite_timelimit


#: Niceness of Datasette's SQL threads (Linux): on a busy machine, three queries running to the time
#: limit take every CPU; a lower priority leaves the event loop and the API threads theirs.
SQL_THREAD_NICENESS = 10


def lower_sql_thread_priority() -> None:
    """Give the calling thread (a Datasette SQL thread) a lower CPU priority, once (Linux only)."""
    if getattr(_budget, "niced", False) or not hasattr(os, "setpriority") or not sys.platform.startswith("linux"):
        return
    _budget.niced = True
    if threading.current_thread() is threading.main_thread():
        return  # Datasette without threads (num_sql_threads 0): the whole server would be niced
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), SQL_THREAD_NICENESS))
    except OSError:
        pass


def exception_response(exception: BaseException):
    """The Response for an SQLite error that reached Datasette: 503 if the file is unreadable, else 400."""
    from datasette.utils.asgi import Response

    if not isinstance(exception, sqlite3.Error):
        return None
    if is_unreadable(exception):
        body = error_body(503, "database", UNREADABLE_PROBLEM, "unreadable")
        status = 503
    else:
        body = error_body(400, "sql", _scrub_text(str(exception)), "sql_error")
        status = 400
    return Response(body, status=status, content_type="application/json; charset=utf-8")


# --- absolute paths ------------------------------------------------------------------------------
def _install_dirs() -> list[str]:
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.dirname(os.__file__)), os.getcwd()}
    try:
        dirs.update(site.getsitepackages())
    except AttributeError:  # some virtualenvs
        pass
    dirs.add(str(Path(__file__).resolve().parents[2]))  # the checkout or site-packages taskshift runs from
    return sorted((d for d in dirs if d and len(d) > 1), key=len, reverse=True)


class Scrubber:
    """Replaces absolute filesystem paths in response bodies: a database file by its name, a directory
    of the installation or the working directory by `<path>`. Only whole path components match (so
    `/work` is not found inside `/-/score/workforce`)."""

    def __init__(self, files: list[str], dirs: list[str]):
        self.names: dict[bytes, bytes] = {}
        for f in files:
            for variant in {f, os.path.realpath(f), os.path.abspath(f)}:
                if os.path.isabs(variant):
                    self.names[variant.encode()] = os.path.basename(variant).encode()
                    self.names.setdefault(os.path.dirname(variant).encode(), b"<path>")
        for d in dirs:
            for variant in {d, os.path.realpath(d)}:
                self.names.setdefault(variant.encode(), b"<path>")
        keys = sorted((k for k in self.names if len(k) > 1), key=len, reverse=True)
        self.pattern = re.compile(rb"(?<![\w.-])(?:" + b"|".join(re.escape(k) for k in keys) + rb")(?![\w.-])") if keys else None

    def __call__(self, body: bytes) -> bytes:
        if self.pattern is None or not body:
            return body
        if not any(key in body for key in self.names):  # a few fast substring scans; the regex only when needed
            return body
        return self.pattern.sub(lambda m: self.names[m.group(0)], body)


_default_scrubber: Scrubber | None = None


def _scrub_text(text: str) -> str:
    global _default_scrubber
    if _default_scrubber is None:
        _default_scrubber = Scrubber([], _install_dirs())
    return _default_scrubber(text.encode()).decode("utf-8", "replace")


def scrubber_for(datasette) -> Scrubber:
    files = [db.path for db in datasette.databases.values() if getattr(db, "path", None)]
    return Scrubber(files, _install_dirs())


# --- the ASGI wrapper ----------------------------------------------------------------------------
TEXTUAL = (b"text/", b"application/json", b"application/javascript", b"application/xml")


def _header(headers, name: bytes) -> bytes:
    for k, v in headers:
        if k.lower() == name:
            return v
    return b""


async def send_json(send, status: int, body: bytes, headers: list | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())] + (headers or [])})
    await send({"type": "http.response.body", "body": body})


class GuardedApp:
    """ASGI wrapper of the Datasette app (see the module docstring)."""

    def __init__(self, app, datasette, api_patterns: list[str]):
        self.app, self.datasette = app, datasette
        self.api = [re.compile(p) for p in api_patterns]
        self._scrubber: Scrubber | None = None

    @property
    def scrub(self) -> Scrubber:
        if self._scrubber is None:
            self._scrubber = scrubber_for(self.datasette)
        return self._scrubber

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "http":
            return await self.app(scope, receive, send)
        path, method = scope.get("path", ""), scope.get("method", "GET")
        target = len(scope.get("raw_path") or path.encode()) + len(scope.get("query_string") or b"")
        if target > MAX_URL_BYTES:
            return await send_json(send, 414, error_body(414, "url", f"the URL is longer than {MAX_URL_BYTES:,} bytes",
                                                         "too_large"), [(b"connection", b"close")])
        if sum(len(k) + len(v) + 4 for k, v in scope.get("headers", [])) > MAX_HEADER_BYTES:
            return await send_json(send, 431, error_body(431, "headers", f"the request headers are larger than "
                                                         f"{MAX_HEADER_BYTES:,} bytes", "too_large"),
                                   [(b"connection", b"close")])
        if any(path == p or path.startswith(p + ".") or path.startswith(p + "/") for p in BLOCKED_PATHS):
            return await send_json(send, 404, error_body(404, "path", f"{path} is not served here", "not_found"))
        if method not in ("GET", "HEAD", "OPTIONS") and not any(p.match(path) for p in self.api):
            return await send_json(send, 405, error_body(405, "method", f"{method} not allowed on {path}; use GET",
                                                         "method_not_allowed"), [(b"allow", b"GET, HEAD")])
        state = {"start": None, "textual": False, "streaming": False, "sent": False}
        try:
            await self.app(scope, receive, self._send(send, method, state))
        except sqlite3.Error as err:  # raised outside Datasette's views (its first-request setup reads every table)
            if state["sent"]:
                raise
            response = exception_response(err)
            await send_json(send, response.status, response.body)

    def _send(self, send, method: str, state: dict):

        async def guarded_send(message):
            kind = message.get("type")
            if kind == "http.response.start":
                headers = list(message.get("headers", []))
                state["textual"] = _header(headers, b"content-type").lower().startswith(TEXTUAL)
                state["start"] = dict(message, headers=headers)
                return
            state["sent"] = True
            if kind != "http.response.body":
                return await send(message)
            body = message.get("body", b"") or b""
            more = message.get("more_body", False)
            start = state["start"]
            if start is not None and not more and not state["streaming"]:  # the whole body at once
                state["start"] = None
                if len(body) > MAX_RESPONSE_BYTES:
                    return await send_json(send, 400, error_body(
                        400, "response", f"the response would be larger than {MAX_RESPONSE_BYTES:,} bytes; "
                        "ask for fewer rows or columns", "too_large"))
                if state["textual"]:
                    body = self.scrub(body)
                headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
                if method != "HEAD" or body:
                    headers.append((b"content-length", str(len(body)).encode()))
                else:
                    length = _header(start["headers"], b"content-length")
                    if length:
                        headers.append((b"content-length", length))
                await send(dict(start, headers=headers))
                return await send(dict(message, body=body))
            if start is not None:  # a streamed response: each chunk on its own
                state["start"], state["streaming"] = None, True
                headers = start["headers"]
                if state["textual"]:  # scrubbing may change the length
                    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                await send(dict(start, headers=headers))
            if state["textual"]:
                body = self.scrub(body)
            return await send(dict(message, body=body))

        return guarded_send
