"""Shared fixtures: the real sources directory and one real build of the database per test session."""
from __future__ import annotations

import contextlib
import functools
import http.server
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from taskshift.build.assemble import build

REPO = Path(__file__).resolve().parents[1]


def sources_root(value: str | None) -> Path:
    """The sources directory, absolute, resolved once here: `make test` passes the README's relative
    ../shared/sources, and a relative path means nothing from pytest's temporary folders."""
    return Path(value or REPO.parent / "shared" / "sources").expanduser().resolve()


SOURCES = sources_root(os.environ.get("TASKSHIFT_SOURCES"))


@pytest.fixture(scope="session")
def sources_dir() -> Path:
    if not SOURCES.is_dir():
        pytest.fail(f"raw sources not found at {SOURCES}: set TASKSHIFT_SOURCES")
    return SOURCES


@pytest.fixture(scope="session")
def built_db(tmp_path_factory, sources_dir) -> Path:
    """The database built from the real sources (research build), shared by the whole session."""
    prebuilt = os.environ.get("TASKSHIFT_TEST_DB")
    if prebuilt:
        return Path(prebuilt).resolve()
    out = tmp_path_factory.mktemp("build") / "taskshift.db"
    with pytest.MonkeyPatch.context() as mp:  # two processes (where fork exists), whatever the machine's load:
        mp.setenv("TASKSHIFT_BUILD_WORKERS", "2")  # test_build_is_byte_identical compares it with one process
        build(sources_dir, out, log=BUILD_LOG.append)
    return out


BUILD_LOG: list[str] = []  # what the session's build printed (its progress lines), for tests of the output


@pytest.fixture(scope="session")
def release_dir(tmp_path_factory, sources_dir) -> Path:
    """One `taskshift release` of the real sources (release build + exports), shared by the session."""
    from taskshift.release.make import make_release

    out = tmp_path_factory.mktemp("release_a")
    make_release(sources_dir, out, log=lambda *a: None)
    return out


def link_sources(sources: Path, root: Path) -> Path:
    """`root`: a tree of symlinks to every file under `sources` (absolute targets: they resolve from anywhere)."""
    sources = sources.resolve()
    for path in sources.rglob("*"):
        if path.is_file():
            target = root / path.relative_to(sources)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
    return root


@pytest.fixture()
def sources_copy(tmp_path, sources_dir) -> Path:
    """A sources directory of symlinks to the real files; tests replace one file with a broken copy."""
    return link_sources(sources_dir, tmp_path / "sources")


def replace_file(root: Path, relative: str, text: str | bytes) -> Path:
    """Swap a symlinked source for a real file with new content."""
    path = root / relative
    path.unlink()
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def conn(built_db):
    """A read-only connection to the session's database."""
    c = sqlite3.connect(f"file:{built_db}?mode=ro", uri=True)
    yield c
    c.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve_directory(directory: Path):
    """A static HTTP server for `directory` on 127.0.0.1 (an ephemeral port); yields its base URL (ending in /)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    """A free TCP port on 127.0.0.1, for a test server."""
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api_request(db: Path, path: str, method: str = "get", **kw):
    """One request to a fresh in-process Datasette serving `db` (immutable, the served settings), through
    `datasette.client`: the response."""
    import asyncio

    from datasette.app import Datasette

    from taskshift.site.serve import SETTINGS

    async def go():
        ds = Datasette(immutables=[str(db)], settings=SETTINGS)
        await ds.invoke_startup()
        return await getattr(ds.client, method)(path, **kw)
    return asyncio.run(go())
