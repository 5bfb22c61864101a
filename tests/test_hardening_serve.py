"""Issue #16, serving: every request has bounded cost, no response leaks a path or another client's input,
no route answers 500 (through datasette.client, on the real database; limits made small where a test needs it)."""
from __future__ import annotations

import os
import shutil
import site
import sqlite3
import sys
import time

import pytest
import pytest_asyncio
from datasette.app import Datasette

from taskshift.service import models
from taskshift.site import guard, plugin
from taskshift.site.serve import SETTINGS

ROLE = "15-1252.00"
HOSTILE_SQL = [
    "select length(printf('%.*c', 900000000, 'x'))",   # 10.5 s before: one call the time limit never interrupts
    "select length(format('%.*c', 900000000, 'x'))",
    "select length(randomblob(900000000))",             # 3.5 s and 900 MB before
    "select length(zeroblob(900000000))",
    "select length(printf('%900000000d', 1))",
]


@pytest_asyncio.fixture
async def ds(built_db):
    datasette = Datasette(immutables=[str(built_db)], settings=SETTINGS)
    await datasette.invoke_startup()
    return datasette


def error_of(r, status):
    assert r.status_code == status, (r.status_code, r.text[:300])
    return r.json()


# --- SQL: value length, result size, response size ----------------------------------------------
@pytest.mark.asyncio
async def test_hostile_sql_stops_at_once(ds):
    for sql in HOSTILE_SQL:
        started = time.perf_counter()
        r = await ds.client.get("/taskshift.json", params={"sql": sql})
        elapsed = time.perf_counter() - started
        assert r.status_code == 400 and "string or blob too big" in r.json()["error"], (sql, r.text[:200])
        assert elapsed < 3, (sql, elapsed)
    # ordinary printf still works, * arguments included
    r = await ds.client.get("/taskshift.json", params={"sql": "select printf('%5.*f|%-4s|%d%%', 2, 3.14159, 'ab', 7) as v",
                                                        "_shape": "array"})
    assert r.json() == [{"v": " 3.14|ab  |7%"}]


@pytest.mark.asyncio
async def test_a_result_larger_than_the_budget_is_refused(ds):
    # 20 rows of 900 KB values: 18 MB, past MAX_RESULT_BYTES (a 200 MB row was returned in full before)
    r = await ds.client.get("/taskshift.json", params={"sql": "select printf('%.*c', 900000, 'x') from tasks limit 20"})
    assert r.status_code == 400 and "result too large" in r.json()["error"]
    r = await ds.client.get("/taskshift.json", params={"sql": "select printf('%.*c', 900000, 'x') from tasks limit 2",
                                                        "_shape": "array"})
    assert r.status_code == 200 and len(r.json()[0]["printf('%.*c', 900000, 'x')"]) == 900000


@pytest.mark.asyncio
async def test_response_size_cap(ds, monkeypatch):
    monkeypatch.setattr(guard, "MAX_RESPONSE_BYTES", 50_000)
    body = error_of(await ds.client.get("/taskshift/tasks.json?_size=1000"), 400)
    assert body["errors"][0]["field"] == "response" and "50,000 bytes" in body["error"]
    assert (await ds.client.get("/taskshift/tasks.json?_size=5")).status_code == 200


# --- the scoring API: caches keyed on validated input, bounded; bodies rebuilt per request ----------
@pytest.mark.asyncio
async def test_role_cache_keyed_on_validated_measures_and_bounded_in_bytes(ds, conn, monkeypatch):
    cache = plugin.BytesCache(400_000)
    monkeypatch.setattr(plugin, "_ROLE_CACHE", cache)
    a, b = "felten2021_aioe", "eloundou2023_gpt4_beta"
    forms = [f"measures={a},{b}", f"measures={b},{a}", f"measures={a}&measures={b}", f"measures={a},{b},{a}"]
    bodies = {(await ds.client.get(f"/-/score/{ROLE}?{q}")).content for q in forms}
    assert len(bodies) == 1 and len(cache.items) == 1  # one entry for one validated request
    for i in range(300):  # crafted measure strings: refused before any cache (8,192 grew RSS by 300 MB before)
        r = await ds.client.get(f"/-/score/{ROLE}?measures={'x' * 2000}{i}")
        assert r.status_code == 400
    for q in (f"measures={a},,{b}", f"measures={a},%20{b}", "measures="):
        assert error_of(await ds.client.get(f"/-/score/{ROLE}?{q}"), 400)["errors"][0]["field"] == "measures"
    assert len(cache.items) == 1
    codes = [c for (c,) in conn.execute("select code from roles where task_count > 20 order by code limit 80")]
    for code in codes:
        assert (await ds.client.get(f"/-/score/{code}")).status_code == 200
    assert cache.size <= 400_000 and 1 < len(cache.items) < len(codes)
    assert cache.size == sum(len(v) for v in cache.items.values())


@pytest.mark.asyncio
async def test_match_answers_with_this_requests_title(ds):
    first = (await ds.client.get("/-/match?title=Private%20Data%20Xyzzy!!")).json()
    second = (await ds.client.get("/-/match?title=private%20data%20xyzzy")).json()
    assert first["query"] == "Private Data Xyzzy!!"
    assert second["query"] == "private data xyzzy"  # was "Private Data Xyzzy!!": another client's input
    assert second["matches"] == first["matches"]


@pytest.mark.asyncio
async def test_free_text_work_budget(ds):
    common = ("such using equipment other materials prepare maintain determine information work develop ensure systems "
              "provide procedures data activities tools products students perform conduct design research patients "
              "evaluate hand use machines parts reports monitor")  # the 32 commonest words of task statements
    texts = [{"text": f"{common} {i}", "share": 1} for i in range(models.MAX_FREE_TEXT_TASKS + 1)]
    started = time.perf_counter()
    body = error_of(await ds.client.post("/-/score", json={"tasks": texts, "base_role": ROLE}), 400)
    assert time.perf_counter() - started < 1  # refused before any full-text search
    assert body["errors"][0]["field"] == "tasks" and f"at most {models.MAX_FREE_TEXT_TASKS}" in body["error"]
    r = await ds.client.post("/-/score", json={"tasks": texts[:models.MAX_FREE_TEXT_TASKS] + [{"task_id": 21661, "share": 1}],
                                               "base_role": ROLE})
    assert r.status_code == 200 and len(r.json()["tasks"]) == models.MAX_FREE_TEXT_TASKS + 1


# --- no 500s ---------------------------------------------------------------------------------------
SITE_PATHS = ["/", "/taskshift", "/taskshift/roles", "/taskshift/roles/15-1252~2E00", "/taskshift/tasks_of_role",
              "/taskshift/most_exposed_roles", "/-/messages", "/-/permissions", "/-/logout", "/-/allow-debug",
              "/-/create-token", "/-/actor", "/-/threads", "/-/versions", "/-/databases", "/-/plugins", "/-/settings",
              "/-/metadata", "/-/patterns", "/-/auth-token", "/taskshift.db", "/nope", "/taskshift/nope",
              "/taskshift/roles/nope", "/-/static/app.css", "/role/15-1252.00", "/role/nope", "/api"]


@pytest.mark.asyncio
async def test_no_route_answers_500(ds):
    for path in SITE_PATHS:
        blocked = any(path.startswith(b) for b in guard.BLOCKED_PATHS)
        for method in ("POST", "PUT", "DELETE", "PATCH"):  # canned query and /-/messages POSTs were 500s
            r = await ds.client.request(method, path, data={"code": ROLE, "message": "x", "csrftoken": "x"})
            assert r.status_code == (404 if blocked else 405), (method, path, r.status_code)
            if not blocked:
                assert r.json()["errors"][0]["field"] == "method" and r.headers["allow"] == "GET, HEAD"
        for method in ("GET", "HEAD", "OPTIONS"):
            for suffix in ("", ".json") if method == "GET" and "." not in path.rsplit("/", 1)[-1] else ("",):
                r = await ds.client.request(method, path + suffix)
                assert r.status_code < 500, (method, path + suffix, r.status_code)
    for path in ("/-/threads", "/-/threads.json", "/-/messages", "/-/permissions.json"):
        assert error_of(await ds.client.get(path), 404)["errors"][0]["field"] == "path"
    # the workforce form of the pages still takes a POST
    r = await ds.client.post("/workforce", data={"roles": f"{ROLE} 10"})
    assert r.status_code < 500 and r.status_code != 405
    # the API's own POST routes still work, and answer 405 with their own Allow
    assert (await ds.client.post("/-/score", json={"tasks": [{"task_id": 21661, "share": 1}]})).status_code == 200
    r = await ds.client.post(f"/-/score/{ROLE}", json={})
    assert r.status_code == 405 and r.headers["allow"] == "GET"


def _needles(*extra) -> list[str]:
    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.getcwd(), os.path.dirname(os.__file__), *extra}
    found.update(site.getsitepackages())
    return sorted(n for n in found if n and len(n) > 1)


@pytest.mark.asyncio
async def test_no_absolute_path_in_any_response(built_db, tmp_path):
    served = tmp_path / "private-folder" / "taskshift.db"
    served.parent.mkdir()
    os.symlink(built_db, served)
    datasette = Datasette(immutables=[str(served)], settings=SETTINGS)
    await datasette.invoke_startup()
    needles = _needles(str(tmp_path), str(built_db.parent), os.path.realpath(built_db.parent))
    queries = ["select * from pragma_database_list", "select file from pragma_database_list where name = 'main'",
               "select nonsense(", "select * from no_such_table", "select load_extension('/nope/x.so')"]
    paths = [p + s for p in SITE_PATHS for s in ("", ".json") if "." not in p.rsplit("/", 1)[-1]]
    paths += [f"/taskshift.json?sql={q}" for q in queries] + [f"/taskshift?sql={q}" for q in queries]
    paths += ["/-/score/99-9999.00", "/-/openapi.json", f"/-/score/{ROLE}"]
    leaks = []
    for path in paths:
        r = await datasette.client.get(path)
        leaks += [(path, n) for n in needles if n in r.text]
    assert not leaks, leaks[:5]
    rows = (await datasette.client.get("/taskshift.json?sql=select file from pragma_database_list&_shape=array")).json()
    assert rows == [{"file": "taskshift.db"}]
    dbs = (await datasette.client.get("/-/databases.json")).json()
    assert dbs[0]["path"] == "taskshift.db"


# --- an unreadable database is the documented 503 ---------------------------------------------------
def _truncate(path, pages: int = 64) -> None:
    with open(path, "r+b") as f:
        f.truncate(4096 * pages)


@pytest.mark.asyncio
async def test_damaged_database_answers_503_not_500(built_db, tmp_path):
    # damaged before the server starts
    bad = tmp_path / "before" / "taskshift.db"
    bad.parent.mkdir()
    with open(built_db, "rb") as src, open(bad, "wb") as dst:
        dst.write(src.read(4096 * 64))
    datasette = Datasette(immutables=[str(bad)], settings=SETTINGS)
    await datasette.invoke_startup()
    body = error_of(await datasette.client.get(f"/-/score/{ROLE}"), 503)
    assert body["errors"][0]["field"] == "database" and "cannot be read" in body["error"]
    for path in ("/taskshift/roles.json", "/taskshift/tasks", "/taskshift.json?sql=select count(*) from task_exposure"):
        assert (await datasette.client.get(path)).status_code in (200, 400, 404, 503), path

    # damaged while it is served: the index is in memory, the full-text index is read per request
    later = tmp_path / "later" / "taskshift.db"
    later.parent.mkdir()
    shutil.copyfile(built_db, later)
    datasette = Datasette(immutables=[str(later)], settings=SETTINGS)
    await datasette.invoke_startup()
    assert (await datasette.client.get(f"/-/score/{ROLE}")).status_code == 200
    _truncate(later)
    r = await datasette.client.post("/-/score", json={"tasks": [{"text": "schedule patient appointments", "share": 1}]})
    body = error_of(r, 503)
    assert body["errors"][0]["type"] == "unreadable" and body["status"] == 503
    r = await datasette.client.get("/taskshift.json?sql=select count(*) from task_exposure")
    assert r.status_code in (400, 503) and r.status_code != 500


def test_guard_limits_every_connection():
    conn = sqlite3.connect(":memory:")
    guard.harden_connection(conn)
    for limit, value in guard.SQLITE_LIMITS.items():
        assert conn.getlimit(limit) == value
    with pytest.raises(sqlite3.DataError, match="too big"):
        conn.execute("select printf('%.*c', 900000000, 'x')").fetchone()
    with pytest.raises(sqlite3.OperationalError):
        conn.execute("attach database ':memory:' as other")
