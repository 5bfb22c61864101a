"""`taskshift serve` as a real server (uvicorn, a subprocess on 127.0.0.1) with small connection limits:
slow or stalled clients are closed within a bound, oversized headers refused, and scoring answers while
hostile SQL runs; a database that cannot be served is one clear error."""
from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from taskshift.cli import main

from .conftest import free_port

READ_TIMEOUT = 1.0     # small limits, so the test is quick
KEEP_ALIVE = 1


@pytest.fixture(scope="module")
def server(built_db, tmp_path_factory):
    port = free_port()
    code = ("import sys; from pathlib import Path; from taskshift.site.server import serve; "
            f"serve(Path(sys.argv[1]), port={port}, log_level='warning', request_read_timeout={READ_TIMEOUT}, "
            f"timeout_keep_alive={KEEP_ALIVE})")
    log = open(tmp_path_factory.mktemp("server") / "server.log", "w+")
    proc = subprocess.Popen([sys.executable, "-c", code, str(built_db)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail(f"taskshift serve exited: {log.read()[-2000:]}")
        try:
            status, _ = get(port, "/-/score/15-1252.00")
            if status == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("taskshift serve did not answer within 120 s")
        time.sleep(0.3)
    yield port
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def get(port: int, path: str, timeout: float = 30) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def closed_after(port: int, data: bytes, limit: float = 30) -> float:
    """Send `data`, then wait: seconds until the server closes the connection."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(limit)
        if data:
            s.sendall(data)
        while s.recv(65536):
            pass
    return time.monotonic() - started


def test_slow_clients_are_closed_within_the_read_timeout(server):
    bound = READ_TIMEOUT + 3  # held open for 45 s and more before
    assert closed_after(server, b"GET /-/score/15-1252.00 HTTP/1.1\r\nHost: x\r\n") < bound       # half-sent headers
    assert closed_after(server, b"POST /-/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                b"Content-Length: 1000\r\n\r\n{\"tasks\": [") < bound              # half-sent body
    assert closed_after(server, b"") < bound                                                       # nothing sent
    # a client that trickles a header byte by byte is closed too: the clock runs from the first byte
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server)) as s:
        s.settimeout(10)
        try:
            for byte in b"GET / HTTP/1.1\r\nX-Slow: " + b"a" * 100:
                s.sendall(bytes([byte]))
                time.sleep(0.1)
        except OSError:
            pass
    assert time.monotonic() - started < bound + 1


def test_oversized_headers_and_idle_keep_alive(server):
    with socket.create_connection(("127.0.0.1", server)) as s:  # sent at once: refused by the app (431)
        s.settimeout(10)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 431")
    with socket.create_connection(("127.0.0.1", server)) as s:  # sent in pieces: refused by h11 (400)
        s.settimeout(10)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
        try:
            for _ in range(40):
                s.sendall(b"a" * 1000)
                time.sleep(0.01)
        except OSError:  # the server stopped reading: it has refused the request
            pass
        try:
            answer = s.recv(100)
        except ConnectionResetError:
            answer = b""
        assert answer == b"" or answer.startswith(b"HTTP/1.1 400"), answer
    status, _ = get(server, "/taskshift.json?sql=select+" + "1%2B" * 6000 + "1")  # a URL past 16 KB
    assert status == 414
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    conn.request("GET", "/-/openapi.json")
    assert conn.getresponse().read()
    time.sleep(KEEP_ALIVE + 1.5)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, http.client.BadStatusLine)):
        conn.request("GET", "/-/openapi.json")
        conn.getresponse()
    conn.close()


def test_scoring_answers_while_hostile_sql_runs(server, conn):
    # three queries that each run until the 2 s SQL time limit, occupying every Datasette SQL thread
    hostile = ("/taskshift.json?sql=" + "with%20recursive%20c(x)%20as%20(select%201%20union%20all%20select%20x%2B1%20from%20c)"
               "%20select%20count(*)%20from%20c")
    results = []
    threads = [threading.Thread(target=lambda: results.append(get(server, hostile)[0])) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    (code,) = conn.execute("select code from roles where task_count > 5 order by code desc limit 1 offset 7").fetchone()
    started = time.monotonic()
    status, body = get(server, f"/-/score/{code}")  # uncached: a role nothing asked for yet
    elapsed = time.monotonic() - started
    for t in threads:
        t.join()
    assert status == 200 and json.loads(body)["role"]["code"] == code
    assert results == [400, 400, 400] or set(results) <= {400, 200}  # interrupted by the time limit: a 400, never a 500
    assert elapsed < 1.5, elapsed  # ~2 s or more before: the API waited for Datasette's SQL threads


def test_serve_refuses_a_truncated_database_in_one_line(built_db, tmp_path, capsys):
    bad = tmp_path / "taskshift.db"
    with open(built_db, "rb") as src, open(bad, "wb") as dst:
        dst.write(src.read(1_000_000))
    assert main(["serve", str(bad), "--port", str(free_port())]) == 1
    err = capsys.readouterr().err
    assert f"{bad} is truncated: its header says" in err and "Traceback" not in err
    (tmp_path / "garbage.db").write_bytes(b"not a database at all" * 100)
    assert main(["serve", str(tmp_path / "garbage.db")]) == 1
    assert "is not an SQLite database" in capsys.readouterr().err
