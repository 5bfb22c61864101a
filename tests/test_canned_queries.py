"""Every canned query of the site, through Datasette as a user runs it, with realistic and hostile
parameters: each answers 200 with the right rows, none is an SQL or FTS5 error, none races the time
limit (the slow one reads a precomputed table; timings are in bench/queries.py)."""
from __future__ import annotations

import sqlite3
from urllib.parse import urlencode

import pytest
import pytest_asyncio
from datasette.app import Datasette

from taskshift import service
from taskshift.site.metadata import queries
from taskshift.site.serve import SETTINGS

HOSTILE = ["", " ", '"', "'", '""', "c++ developer", "AI/ML engineer", "software-engineer", "NEAR(a b)",
           "a AND b OR NOT c", "*", "^x", "title:x", "\\", "%", "(", ")", "-", "--", ";", "1; drop table roles",
           "ü", "\t", "\x00", "null", "0", "-1", "99999999999999999999", "1e9", "x" * 1000, "15-1252", "151252"]

# realistic parameters of every canned query (a query without an entry here fails test_every_query_is_covered)
REALISTIC = {
    "tasks_of_role": {"code": "15-1252.00"},
    "roles_of_major_group": {"major_group": "15-0000"},
    "find_role_by_title": {"title": "software engineer"},
    "measures_of_role": {"code": "43-9021.00"},
    "most_exposed_roles": {"measure_id": "eloundou2023_gpt4_beta"},
    "measures_disagree": {"min_measures": "15"},
    "most_exposed_sectors": {"measure_id": "eloundou2023_gpt4_beta"},
    "emerging_titles_by_family": {"family": "build"},
    "transitions_out_of_role": {"code": "43-4051.00", "max_job_zone_step": ""},
    "consensus_of_roles": {"label": ""},
    "families_disagree": {"min_families": "3"},
    "theory_vs_reality": {},
    "sectors_by_consensus": {},
    "headline_figures_reproduced": {},
    "postings_change_by_exposure": {"category": "Software Development"},
    "ai_share_of_postings": {},
}

# the window-function SQL the site ran before role_disagreement: the oracle for the precomputed table
BEFORE_DISAGREE = """
with ranked as (
  select e.role_code, e.measure_id, e.percentile,
         row_number() over (partition by e.role_code order by e.percentile desc, e.measure_id) as hi,
         row_number() over (partition by e.role_code order by e.percentile asc, e.measure_id) as lo,
         count(*) over (partition by e.role_code) as n
  from role_exposure e
)
select r.code, r.title, h.n as measures, round(h.percentile - l.percentile, 1) as spread,
       h.measure_id as most_exposed_by, round(h.percentile, 1) as high_percentile,
       l.measure_id as least_exposed_by, round(l.percentile, 1) as low_percentile
from ranked h join ranked l on l.role_code = h.role_code and l.lo = 1
join roles r on r.code = h.role_code
where h.hi = 1 and h.n >= cast(:min_measures as integer)
order by spread desc, r.code
limit 100"""


@pytest_asyncio.fixture
async def ds(built_db):
    datasette = Datasette(immutables=[str(built_db)], settings=SETTINGS)
    await datasette.invoke_startup()
    return datasette


async def run(ds, name: str, **params) -> list[dict]:
    r = await ds.client.get(f"/taskshift/{name}.json?" + urlencode({**params, "_shape": "objects"}))
    assert r.status_code == 200, (name, params, r.text[:300])
    body = r.json()
    assert body["ok"] is True, (name, params, body)
    return body["rows"]


def test_every_query_is_covered():
    assert set(queries()) == set(REALISTIC)


@pytest.mark.asyncio
@pytest.mark.parametrize("name", sorted(REALISTIC))
async def test_hostile_parameters_answer_200(ds, name):
    """Every parameter of every query, set to each hostile value in turn (the others realistic): a page
    of rows (maybe none), never an SQL or FTS5 error, a 400 or a timeout."""
    for param in REALISTIC[name]:
        for value in HOSTILE:
            rows = await run(ds, name, **{**REALISTIC[name], param: value})
            assert isinstance(rows, list) and len(rows) <= 200  # bounded (LIMIT)
    rows = await run(ds, name)  # every parameter missing
    assert isinstance(rows, list)


@pytest.mark.asyncio
async def test_find_role_by_title(ds):
    first = lambda rows: rows[0]["code"]  # noqa: E731
    assert first(await run(ds, "find_role_by_title", title="software engineer")) == "15-1252.00"
    assert first(await run(ds, "find_role_by_title", title="software-engineer")) == "15-1252.00"
    assert first(await run(ds, "find_role_by_title", title="data entry keyer")) == "43-9021.00"
    cpp = await run(ds, "find_role_by_title", title="c++ professor")  # 'C++ Developer' is not an O*NET 30.2 title
    assert {"title": "C++ Professor", "code": "25-1021.00"} in [{k: r[k] for k in ("title", "code")} for r in cpp]
    ai = await run(ds, "find_role_by_title", title="AI/ML engineer")
    # every title has a word the query's words begin (the query matches word prefixes: 'ml' finds O*NET 30.2's 'MLS')
    assert ai and all(any(w.startswith(q) for q in ("ai", "ml", "engineer")
                          for w in r["title"].lower().replace("/", " ").replace("(", " ").split()) for r in ai)
    assert [r["all_words"] for r in ai] == sorted((r["all_words"] for r in ai), reverse=True)  # every word first
    assert await run(ds, "find_role_by_title", title="") == []
    assert await run(ds, "find_role_by_title", title='"*^:(') == []


@pytest.mark.asyncio
async def test_code_parameters_accept_what_people_type(ds, conn):
    tasks = await run(ds, "tasks_of_role", code="15-1252.00")
    assert len(tasks) == conn.execute("select count(*) from tasks where role_code = '15-1252.00'").fetchone()[0] == 17  # 19 on O*NET 29.3
    for typed in ("15-1252", "151252", " 15-1252.00 "):
        assert await run(ds, "tasks_of_role", code=typed) == tasks
    measures = await run(ds, "measures_of_role", code="43-9021.00")
    assert len(measures) == conn.execute("select count(*) from role_exposure where role_code = '43-9021.00'").fetchone()[0]
    group = await run(ds, "roles_of_major_group", major_group="15-0000")
    assert group == await run(ds, "roles_of_major_group", major_group="15") and "15-1252.00" in {r["code"] for r in group}
    employment = [r["employment"] for r in group if r["employment"] is not None]
    assert employment == sorted(employment, reverse=True)


@pytest.mark.asyncio
async def test_measures_disagree_equals_the_window_query_it_replaces(ds, built_db):
    sql = queries()["measures_disagree"]["sql"]
    assert "role_disagreement" in sql and " over (" not in sql  # precomputed, not ranked per request
    with sqlite3.connect(built_db) as c:
        c.row_factory = sqlite3.Row
        for value in ("15", "", "abc", "21", "22"):
            before = [dict(r) for r in c.execute(BEFORE_DISAGREE, {"min_measures": value})]
            assert await run(ds, "measures_disagree", min_measures=value) == before, value
    rows = await run(ds, "measures_disagree", min_measures="15")
    assert len(rows) == 100 and all(r["measures"] >= 15 for r in rows)
    assert all(r["spread"] == pytest.approx(r["high_percentile"] - r["low_percentile"], abs=0.11) for r in rows)


def test_role_disagreement_table(conn):
    """One row per scored role; the extremes are the role's own highest and lowest percentiles."""
    n_scored = conn.execute("select count(distinct role_code) from role_exposure").fetchone()[0]
    assert conn.execute("select count(*) from role_disagreement").fetchone()[0] == n_scored
    for code in ("15-1252.00", "43-9021.00", "29-1141.00", "53-3032.00", "53-2011.00", "41-2011.00", "43-4051.00"):
        row = conn.execute("select measures, families, spread, high_percentile, high_measure_id, low_percentile, "
                           "low_measure_id from role_disagreement where role_code = ?", (code,)).fetchone()
        pcts = dict(conn.execute("select measure_id, percentile from role_exposure where role_code = ?", (code,)))
        families = conn.execute("select count(distinct m.family) from role_exposure e join measures m using (measure_id) "
                                "where e.role_code = ?", (code,)).fetchone()[0]
        assert row[0] == len(pcts) and row[1] == families
        assert row[3] == max(pcts.values()) == pcts[row[4]] and row[5] == min(pcts.values()) == pcts[row[6]]
        assert row[2] == pytest.approx(row[3] - row[5])


@pytest.mark.asyncio
async def test_transitions_query_gives_the_api_answer(ds, conn):
    """The web query and the API/CLI filter and order the pivots the same way (one answer to one question)."""
    for code in ("43-4051.00", "43-9021.00", "41-2011.00", "15-1252.00", "53-3032.00"):
        for step in ("", "2", "0"):
            rows = await run(ds, "transitions_out_of_role", code=code, max_job_zone_step=step)
            api = service.transitions(conn, code, max_job_zone_step=int(step or 1), limit=50)
            assert [r["to_code"] for r in rows] == [p.to_code for p in api.pivots], (code, step)
            assert len(rows) == api.candidates
            assert [r["pivot_score"] for r in rows] == pytest.approx([p.pivot_score for p in api.pivots])
            assert all(r["percentile_delta"] < 0 for r in rows)


@pytest.mark.asyncio
async def test_other_queries_rows(ds, conn):
    scores = [r["score"] for r in await run(ds, "most_exposed_roles", measure_id="eloundou2023_gpt4_beta")]
    assert len(scores) == 100 and scores == sorted(scores, reverse=True)
    sectors = await run(ds, "most_exposed_sectors", measure_id="")  # empty: the headline measure
    assert len(sectors) == 20 and sectors == await run(ds, "most_exposed_sectors", measure_id="eloundou2023_gpt4_beta")
    build = await run(ds, "emerging_titles_by_family", family="build")
    everything = await run(ds, "emerging_titles_by_family", family="")
    assert build and {r["family"] for r in build} == {"build"} and len(everything) > len(build)
    assert len(everything) == conn.execute("select count(*) from emerging_titles").fetchone()[0]


@pytest.mark.asyncio
async def test_consensus_queries_rows(ds, conn):
    roles = await run(ds, "consensus_of_roles", label="")
    assert len(roles) == 200 and [r["centre"] for r in roles] == sorted((r["centre"] for r in roles), reverse=True)
    label = roles[0]["label"]
    assert {r["label"] for r in await run(ds, "consensus_of_roles", label=label)} == {label}
    spread = await run(ds, "families_disagree", min_families="3")
    assert spread and all(r["n_families"] >= 3 for r in spread)
    assert await run(ds, "families_disagree", min_families="") == spread  # empty: the default, 3
    assert await run(ds, "theory_vs_reality") and len(await run(ds, "sectors_by_consensus")) == 20
    assert len(await run(ds, "headline_figures_reproduced")) == conn.execute("select count(*) from published_figures").fetchone()[0]
