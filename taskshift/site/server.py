"""`taskshift serve`: the Datasette app run under uvicorn in this process, with connection limits.

`datasette serve` exposes none of uvicorn's connection settings, and uvicorn itself never times out a
client that sends half a request: a connection that stops in the middle of its headers or its body
was held for as long as the client liked (slowloris). `taskshift serve` builds the same Datasette
(immutable database, inspect file, `serve.SETTINGS`, the taskshift plugin) and runs it under uvicorn
with `CONNECTION`:

- `request_read_timeout`: a request's line, headers and body must all arrive within this many seconds
  of its first byte (or of the connection opening); otherwise the connection is closed
  (`GuardedH11Protocol`);
- `timeout_keep_alive`: an idle keep-alive connection is closed after this many seconds;
- `h11_max_incomplete_event_size`: the request line and headers together may not pass this many bytes
  (a 400 past it);
- `limit_concurrency`: past this many connections or requests in flight, requests get a 503 at once.

The database is checked before the server starts (`check_servable`): a truncated or damaged file is
one clear error, not a traceback. docs/deploy.md gives the reverse-proxy settings for a public server.
"""
from __future__ import annotations

import asyncio
import gc
import json
from pathlib import Path

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

#: Connection limits of `taskshift serve` (documented in docs/deploy.md).
CONNECTION = {
    "request_read_timeout": 10.0,
    "timeout_keep_alive": 5,
    "h11_max_incomplete_event_size": 16 * 1024,
    "limit_concurrency": 512,
}


class ServeError(Exception):
    """The database cannot be served (missing, truncated, damaged, not SQLite)."""


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request has not fully arrived within
    `read_timeout` seconds of its first byte (or of the connection opening)."""

    read_timeout: float = CONNECTION["request_read_timeout"]

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self._read_deadline: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        if self._read_deadline is None:
            self._read_deadline = self.loop.call_later(self.read_timeout, self._read_timed_out)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:  # the first bytes of a request: its clock starts
            self._arm()
        super().data_received(data)
        if self.conn.their_state not in (h11.IDLE, h11.SEND_BODY):  # the whole request is in
            self._disarm()

    def _read_timed_out(self) -> None:
        self._read_deadline = None
        if self.conn.their_state in (h11.IDLE, h11.SEND_BODY) and not self.transport.is_closing():
            self.logger.info("closing a connection whose request did not arrive within %.0f s", self.read_timeout)
            self.transport.close()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.conn.their_state is h11.IDLE:  # keep-alive: the next request's clock starts with its first byte
            self._disarm()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)


def check_servable(db: Path) -> None:
    """Raise ServeError, in one sentence naming the file and what to do, unless `db` is a whole SQLite file."""
    from taskshift.release.verify import readable_problem

    problem = readable_problem(Path(db))
    if problem == "does not exist":
        raise ServeError(f"{db} does not exist; run `taskshift build` first (or `taskshift download`)")
    if problem:
        raise ServeError(f"{db} {problem}: run `taskshift verify {db}`, then rebuild it (`taskshift build`) "
                         "or download it again (`taskshift download`)")


def make_datasette(db: Path):
    """The Datasette `taskshift serve` runs: immutable, with the inspect file and the serving settings."""
    from datasette.app import Datasette

    from taskshift.site.serve import SETTINGS, inspect_file

    inspect = json.loads(inspect_file(db).read_text())
    return Datasette(immutables=[str(db)], inspect_data=inspect, settings=dict(SETTINGS), cache_headers=True)


def serve(db: Path, host: str = "127.0.0.1", port: int = 8001, *, log_level: str = "info", **overrides) -> None:
    """Check `db`, then serve it until interrupted (raises ServeError for a database that cannot be served)."""
    import uvicorn

    check_servable(db)
    ds = make_datasette(Path(db))
    asyncio.run(ds.invoke_startup())
    # What start-up built (Datasette, templates, the scoring index) lives as long as the server: out of
    # the garbage collector's full passes, which stop every thread while they walk the heap.
    gc.collect()
    gc.freeze()
    limits = {**CONNECTION, **overrides}

    class Protocol(GuardedH11Protocol):
        read_timeout = float(limits.pop("request_read_timeout"))

    config = uvicorn.Config(ds.app(), host=host, port=port, http=Protocol, lifespan="on", log_level=log_level,
                            timeout_keep_alive=int(limits.pop("timeout_keep_alive")),
                            h11_max_incomplete_event_size=int(limits.pop("h11_max_incomplete_event_size")),
                            limit_concurrency=int(limits.pop("limit_concurrency")), **limits)
    uvicorn.Server(config).run()
