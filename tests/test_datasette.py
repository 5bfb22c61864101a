"""The served site, through datasette.client: role page, canned queries, full-text search, metadata."""
from __future__ import annotations

import sqlite3

import pytest
import pytest_asyncio
from datasette.app import Datasette

from taskshift.site.serve import SETTINGS


@pytest_asyncio.fixture
async def ds(built_db):
    datasette = Datasette(immutables=[str(built_db)], settings=SETTINGS)
    await datasette.invoke_startup()
    return datasette


@pytest.mark.asyncio
async def test_role_page(ds):
    r = await ds.client.get("/taskshift/roles/15-1252.00.json?_shape=objects")
    assert r.status_code == 200
    role = r.json()["rows"][0]
    assert role["title"] == "Software Developers"
    assert role["soc_code"] == "15-1252" and role["major_group"] == "15-0000"
    html = await ds.client.get("/taskshift/roles/15-1252~2E00")  # Datasette tilde-encodes the dot
    assert html.status_code == 200 and "Software Developers" in html.text


@pytest.mark.asyncio
async def test_canned_query_tasks_of_role(ds, built_db):
    r = await ds.client.get("/taskshift/tasks_of_role.json?code=15-1252.00&_shape=objects")
    assert r.status_code == 200
    rows = r.json()["rows"]
    with sqlite3.connect(built_db) as conn:
        expected = conn.execute("select task_id from tasks where role_code = '15-1252.00'").fetchall()
    assert sorted(row["task_id"] for row in rows) == sorted(t for (t,) in expected) and len(rows) == 17  # 19 on O*NET 29.3
    types = [row["task_type"] for row in rows]
    assert types == sorted(types, key=lambda t: {"Core": 0, "Supplemental": 1}.get(t, 2))  # Core first
    assert any("software" in row["statement"].lower() for row in rows)


@pytest.mark.asyncio
async def test_full_text_search_on_titles_finds_software_developers(ds):
    r = await ds.client.get("/taskshift/find_role_by_title.json?title=software+engineer&_shape=objects")
    rows = r.json()["rows"]
    assert rows[0]["code"] == "15-1252.00" and rows[0]["role_title"] == "Software Developers"
    r = await ds.client.get("/taskshift/titles.json?_search=software+engineer&_shape=objects")
    assert "15-1252.00" in {row["role_code"] for row in r.json()["rows"]}


@pytest.mark.asyncio
async def test_metadata_carries_attribution_descriptions_and_facets(ds):
    meta = (await ds.client.get("/-/metadata.json")).json()
    assert "O*NET 30.2 Database" in meta["description_html"] and "CC BY 4.0" in meta["description_html"]
    tasks = meta["databases"]["taskshift"]["tables"]["tasks"]
    assert tasks["columns"]["task_type"].startswith("Core or Supplemental")
    assert tasks["facets"] == ["task_type", "domain_source"]
    assert tasks["license"] == "CC BY 4.0"
    page = await ds.client.get("/taskshift/tasks.json?_facet=task_type")
    facet = {f["value"]: f["count"] for f in page.json()["facet_results"]["task_type"]["results"]}
    assert facet == {"Core": 13643, "Supplemental": 4308}  # O*NET 30.2 (29.3: 13,417 and 4,222)


@pytest.mark.asyncio
async def test_settings_bound_queries(ds):
    assert ds.setting("sql_time_limit_ms") == SETTINGS["sql_time_limit_ms"]
    assert ds.setting("max_returned_rows") == SETTINGS["max_returned_rows"]


@pytest.mark.asyncio
async def test_canned_query_measures_of_role_matches_role_exposure(ds, built_db):
    r = await ds.client.get("/taskshift/measures_of_role.json?code=43-4051.00&_shape=objects")
    rows = {row["measure_id"]: row for row in r.json()["rows"]}
    with sqlite3.connect(built_db) as conn:
        expected = dict(conn.execute("select measure_id, score from role_exposure where role_code = '43-4051.00'"))
    assert {k: v["score"] for k, v in rows.items()} == expected
    assert rows["eloundou2023_gpt4_beta"]["derivation"] == "native"


@pytest.mark.asyncio
async def test_canned_queries_most_exposed_and_disagreement(ds, built_db):
    r = await ds.client.get("/taskshift/most_exposed_roles.json?measure_id=eloundou2023_gpt4_beta&_shape=objects")
    scores = [row["score"] for row in r.json()["rows"]]
    with sqlite3.connect(built_db) as conn:
        top = conn.execute("select max(score) from role_exposure where measure_id = 'eloundou2023_gpt4_beta'").fetchone()[0]
    assert scores[0] == top and scores == sorted(scores, reverse=True)
    r = await ds.client.get("/taskshift/measures_disagree.json?min_measures=15&_shape=objects")
    rows = r.json()["rows"]
    assert rows and all(row["measures"] >= 15 for row in rows)
    first = rows[0]
    assert first["spread"] == pytest.approx(first["high_percentile"] - first["low_percentile"], abs=0.11)


@pytest.mark.asyncio
async def test_every_table_and_canned_query_page_renders(ds, built_db):
    with sqlite3.connect(built_db) as conn:
        tables = [r[0] for r in conn.execute(
            "select name from sqlite_master where type = 'table' and name not like '%_fts%' and name not like 'sqlite_%'")]
    meta = (await ds.client.get("/-/metadata.json")).json()["databases"]["taskshift"]["tables"]
    for table in tables:
        page = await ds.client.get(f"/taskshift/{table}")
        assert page.status_code == 200, table
        assert table in meta and meta[table]["description"], f"{table} has no description"
    home = await ds.client.get("/taskshift")
    for query in ("tasks_of_role", "roles_of_major_group", "find_role_by_title", "measures_of_role",
                  "most_exposed_roles", "measures_disagree"):
        assert f"/taskshift/{query}" in home.text
