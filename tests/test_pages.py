"""The pages people read, through datasette.client: what each page shows against the database,
redirects and errors, link previews and attribution on every page, the JSON behind the charts,
the workforce form, the API docs' runnable examples and the render_cell links in Datasette tables.
(The browser tests, tests/test_browser.py, check the same pages drawn in Chromium.)"""
from __future__ import annotations

import html as htmlmod
import json
import re
import sqlite3
import urllib.parse

import pytest
import pytest_asyncio
from datasette.app import Datasette

from taskshift.site import pages, plugin
from taskshift.site.serve import SETTINGS

ROLE = "15-1252.00"
PAGE_PATHS = ["/", f"/role/{ROLE}", "/sector/52", "/measure/eloundou2023_gpt4_beta", "/measures", "/sectors",
              "/observed", "/workforce", "/api"]


@pytest_asyncio.fixture
async def ds(built_db):
    datasette = Datasette(immutables=[str(built_db)], settings=SETTINGS)
    await datasette.invoke_startup()
    return datasette


@pytest.fixture(scope="module")
def db(built_db):
    c = sqlite3.connect(f"file:{built_db}?mode=ro", uri=True)
    c.row_factory = sqlite3.Row
    yield c
    c.close()


def text_of(page: str) -> str:
    """The visible text of a page (tags and scripts removed, entities decoded, spaces collapsed)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    text = " ".join(htmlmod.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    return re.sub(r"\s+([.,;:)])", r"\1", text)   # "<strong>88%</strong>." reads "88%."


def meta(page: str, key: str) -> str | None:
    m = re.search(rf'<meta (?:name|property)="{re.escape(key)}" content="([^"]*)"', page)
    return htmlmod.unescape(m.group(1)) if m else None


@pytest.mark.asyncio
async def test_every_page_has_title_preview_and_the_attribution_the_licenses_require(ds, db):
    cc_by = sorted({r["publisher"] for r in db.execute("select publisher, license from sources") if "CC BY" in r["license"]})
    assert {"National Center for O*NET Development, USDOL/ETA", "Anthropic", "Microsoft Research"} <= set(cc_by)
    onet_statement = db.execute("select value from metadata where key = 'attribution'").fetchone()[0]
    for path in PAGE_PATHS + ["/taskshift/roles", "/taskshift"]:  # Datasette's own pages carry it too
        r = await ds.client.get(path)
        assert r.status_code == 200, path
        body = text_of(r.text)
        assert onet_statement in body, path
        for publisher in cc_by:
            assert publisher in body, (path, publisher)
        if path.startswith("/taskshift"):
            continue
        title = re.search(r"<title>(.*?)</title>", r.text, re.S).group(1).strip()
        assert len(title) > 10 and "taskshift" in title, path
        description = meta(r.text, "description")
        assert description and len(description) > 40, path
        assert meta(r.text, "og:title") == htmlmod.unescape(title) and meta(r.text, "og:description") == description
        assert meta(r.text, "og:url").startswith("http") and meta(r.text, "twitter:card") == "summary"
        assert 'name="viewport"' in r.text
        # nothing from a CDN: every script and stylesheet is served by this site
        for url in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', r.text):
            assert not url.startswith(("http://", "https://", "//")) or url.startswith(meta(r.text, "og:url").split("/")[0]), (path, url)


@pytest.mark.asyncio
async def test_role_page_says_what_the_database_says(ds, db):
    r = await ds.client.get(f"/role/{ROLE}")
    body = text_of(r.text)
    role = db.execute("select * from roles where code = ?", (ROLE,)).fetchone()
    assert "Software Developers" in body and ROLE in body and role["description"][:80] in body
    # the headline sentence: the percentile of role_exposure, rounded
    pct = db.execute("select percentile from role_exposure where role_code = ? and measure_id = 'eloundou2023_gpt4_beta'",
                     (ROLE,)).fetchone()[0]
    assert f"Software Developers are more exposed than {pages.pct(pct)}% of occupations" in body
    rows = db.execute("select measure_id, percentile from role_exposure where role_code = ?", (ROLE,)).fetchall()
    lo, hi = min(x["percentile"] for x in rows), max(x["percentile"] for x in rows)
    assert f"Across {len(rows)} measures" in body and f"runs from {round(lo)}" in body and f"to {round(hi)}" in body
    # every measure next to its plain name, with its id
    words = pages.data.plain_language()["measures"]
    for x in rows:
        assert x["measure_id"] in body and words[x["measure_id"]] in body
    # labour figures with their program and year, rounded for reading
    assert f"{role['employment']:,}" in body and f"${role['median_wage']:,}" in body and "BLS OEWS May 2025" in body
    assert f"+{role['employment_change_pct']:.1f}%" in body
    # every task, with its GPT-4 labels
    tasks = db.execute("select task_id, statement from tasks where role_code = ?", (ROLE,)).fetchall()
    assert len(tasks) == 17  # O*NET 30.2 dropped 21674 (its text lives on under 15-1253.00) and 21675 of 29.3's 19
    for t in tasks:
        assert t["statement"] in body
    assert body.count("direct exposure (an LLM alone halves the time)") >= 10
    # readable numbers: no long float anywhere in the visible text
    assert not re.search(r"(?<![\d.:/])\d\.\d{5,}", body)
    # the pivots section comes after the page (slow to compute cold), from its own address
    assert f'data-lazy-src="/role/{ROLE}/section/pivots"' in r.text
    piv = await ds.client.get(f"/role/{ROLE}/section/pivots")
    expected = (await ds.client.get(f"/-/transitions/{ROLE}?limit=5")).json()
    for p in expected["pivots"]:
        assert f'href="/role/{p["to_code"]}"' in piv.text and htmlmod.escape(p["to_title"]) in piv.text
    # cite and download
    assert "How to cite" not in body and "Cite and download" in body
    assert f"/taskshift/role_exposure.csv?role_code={ROLE}" in htmlmod.unescape(r.text)
    csv = await ds.client.get(f"/taskshift/role_exposure.csv?role_code={ROLE}&_size=max")
    assert csv.status_code == 200 and csv.text.count("\n") == len(rows) + 1


@pytest.mark.asyncio
@pytest.mark.parametrize("code", [ROLE, "43-4051.00"])
async def test_role_page_shows_observed_use_beside_the_predicted_automation(ds, db, code):
    r = await ds.client.get(f"/role/{code}")
    body = text_of(r.text)
    rc = db.execute("select * from role_collaboration where role_code = ?", (code,)).fetchone()
    assert "How people actually use AI for this job: automation vs augmentation" in body
    assert f"{pages.share(rc['automation_share'])} automation" in body
    assert f"{pages.share(rc['augmentation_share'])} augmentation" in body
    assert f"GPT-4's automation rubric (Eloundou et al.) averages {pages.score(rc['gpt4_automation'])}" in body
    assert "Anthropic Economic Index" in body and "Claude" in body
    # one observed-use label per task, as task_collaboration says
    uses = dict(db.execute("select task_id, observed_use from task_collaboration where role_code = ?", (code,)).fetchall())
    cells = re.findall(r'<td class="ts-use" data-use="(\w+)">', r.text)
    tasks = [t[0] for t in db.execute("select task_id from tasks where role_code = ?", (code,)).fetchall()]
    assert len(cells) == len(tasks)
    assert sorted(cells) == sorted(uses.get(t, "none") for t in tasks)
    # the task lists behind the measures, with the weight on retired tasks
    lists = db.execute("select * from role_task_changes where role_code = ? order by list_id", (code,)).fetchall()
    assert "Task lists behind the measures vs O*NET 30.2" in body
    for row in lists:
        assert row["list_version"] in body
        cells = re.search(rf'<tr data-list="{row["list_id"]}"><td>[^<]*</td><td>[^<]*</td><td class="ts-r">(\d+)</td>', r.text)
        assert cells and int(cells.group(1)) == row["items"]
    j = (await ds.client.get(f"/role/{code}.json?section=use")).json()
    assert j["observed"]["automation_share"] == pytest.approx(rc["automation_share"])


@pytest.mark.asyncio
async def test_role_page_gives_the_consensus_with_its_interval_and_label(ds, db):
    c = db.execute("select * from role_consensus where role_code = ?", (ROLE,)).fetchone()
    r = await ds.client.get(f"/role/{ROLE}")
    body = text_of(r.text)
    assert f"{c['label'].capitalize()}. Across {c['n_families']} research groups, Software Developers sit at the " \
           f"{pages.ordinal(c['centre'])} percentile of occupations (middle half of the votes: {round(c['low'])}–{round(c['high'])}), " \
           f"more exposed than {pages.pct(c['worker_percentile'])}% of US workers." in body
    votes = (await ds.client.get(f"/role/{ROLE}.json?section=consensus")).json()
    assert votes["centre"] == pytest.approx(c["centre"]) and votes["label"] == c["label"]
    counted = {v["family"]: v["percentile"] for v in votes["votes"] if v["counted"]}
    assert counted == pytest.approx(json.loads(c["family_percentiles"]), abs=0.01)
    assert [v["family"] for v in votes["votes"] if not v["counted"]] == ["frey_osborne"]
    # a sector's consensus
    s = db.execute("select * from sector_consensus where sector_code = '52'").fetchone()
    body = text_of((await ds.client.get("/sector/52")).text)
    assert f"{s['label'].capitalize()}." in body and f"the {pages.ordinal(s['centre'])} percentile of occupations" in body
    # a workforce of one role has that role's consensus
    one = await ds.client.post("/workforce", data={"rows": f"{ROLE},7"})
    assert f"your average worker sits at the {pages.ordinal(c['centre'])} percentile" in text_of(one.text)


@pytest.mark.asyncio
async def test_role_page_shared_employment_is_flagged(ds, db):
    shared = db.execute("select code, labor_code, roles_sharing_labor_code from roles where roles_sharing_labor_code > 1 "
                        "and employment is not null order by code limit 1").fetchone()
    body = text_of((await ds.client.get(f"/role/{shared['code']}")).text)
    assert f"belong to the occupation code {shared['labor_code']}" in body
    assert f"splits into {shared['roles_sharing_labor_code']} roles" in body


@pytest.mark.asyncio
async def test_a_role_no_measure_scores_leaves_those_sections_out(ds, db):
    code = db.execute("select code from roles where code not in (select role_code from role_exposure) and task_count = 0 "
                      "order by code limit 1").fetchone()[0]
    r = await ds.client.get(f"/role/{code}")
    assert r.status_code == 200
    assert 'id="measures"' not in r.text and 'id="tasks"' not in r.text and 'id="summary"' in r.text
    assert "No published measure scores" in text_of(r.text)
    assert "No published AI-exposure measure scores it." in meta(r.text, "description")


@pytest.mark.asyncio
async def test_role_addresses_redirect_and_unknown_roles_get_a_404_page(ds):
    for short in ("15-1252", "151252", "15125200"):
        r = await ds.client.get(f"/role/{short}")
        assert r.status_code == 302 and r.headers["location"] == f"/role/{ROLE}", short
    r = await ds.client.get("/role/15-1252.json")
    assert r.status_code == 302 and r.headers["location"] == f"/role/{ROLE}.json"
    r = await ds.client.get("/role/15-1252.07")   # the SOC exists, the role does not: its roles are suggested
    assert r.status_code == 404 and f'href="/role/{ROLE}"' in r.text and "did you mean 15-1252.00" in text_of(r.text)
    r = await ds.client.get("/role/99-9999.00.json")
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "role_code" and "/search?q=" in r.json()["error"]
    r = await ds.client.get("/role/software%20developer")  # words: suggestions from the title matcher
    assert r.status_code == 404 and f'href="/role/{ROLE}"' in r.text


@pytest.mark.asyncio
async def test_search_box_uses_the_title_matcher(ds):
    r = await ds.client.get("/search?q=software+engineer")
    assert r.status_code == 302 and r.headers["location"] == f"/role/{ROLE}"
    r = await ds.client.get("/search?q=15-1252")
    assert r.status_code == 302 and r.headers["location"] == "/role/15-1252"
    r = await ds.client.get("/search?q=engineer+of+things")   # no exact title: a ranked list, each with its code
    assert r.status_code == 200
    found = (await ds.client.get("/-/match?title=engineer+of+things&limit=10")).json()["matches"]
    assert found and all(f'href="/role/{x["role_code"]}"' in r.text for x in found)
    r = await ds.client.get("/search?q=zzqqxxv")
    assert r.status_code == 404 and "No occupation title matches" in text_of(r.text)
    assert (await ds.client.get("/search?q=")).headers["location"] == "/"


@pytest.mark.asyncio
async def test_page_json_is_what_the_page_and_charts_use(ds, db):
    r = await ds.client.get(f"/role/{ROLE}.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    d = r.json()
    assert list(d) == [s.name for s in pages.PAGES["role"].sections]
    measures = (await ds.client.get(f"/role/{ROLE}.json?section=measures")).json()
    expected = {x["measure_id"]: x["percentile"] for x in db.execute(
        "select measure_id, percentile from role_exposure where role_code = ?", (ROLE,))}
    assert {x["measure_id"]: x["percentile"] for x in measures["measures"] if x["percentile"] is not None} == expected
    # predicted or observed: the registry's judgement, not the site's
    evidence = dict(db.execute("select measure_id, evidence from measures").fetchall())
    assert all(x["evidence"] == evidence[x["measure_id"]] for x in measures["measures"])
    assert {x["evidence"] for x in measures["measures"]} == {"predicted", "observed"}
    bad = await ds.client.get(f"/role/{ROLE}.json?section=nope")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "section"
    home = (await ds.client.get("/home.json?section=roles")).json()
    assert len(home["roles"]) == db.execute("select count(*) from roles").fetchone()[0]
    # the home chart places every role at its consensus (role_consensus.centre)
    centres = dict(db.execute("select role_code, centre from role_consensus").fetchall())
    assert home["basis"] == "consensus" and all(r["percentile"] == centres.get(r["code"]) for r in home["roles"])
    workers = db.execute("select sum(e) from (select max(employment) e from roles where labor_code is not null group by labor_code)").fetchone()[0]
    assert (await ds.client.get("/home.json?section=figures")).json()["workers"] == workers


@pytest.mark.asyncio
async def test_sector_page(ds, db):
    r = await ds.client.get("/sector/52")
    body = text_of(r.text)
    row = db.execute("select * from sector_exposure where sector_code = '52' and measure_id = 'eloundou2023_gpt4_beta'").fetchone()
    assert "Finance and Insurance" in body and f"{round(100 * row['exposed_share'])}% of them ({row['exposed_employment']:,})" in body
    assert f"rank {row['rank']} of 20 sectors" in body
    d = (await ds.client.get("/sector/52.json")).json()
    assert len(d["measures"]["measures"]) == db.execute("select count(*) from sector_exposure where sector_code = '52'").fetchone()[0]
    top = d["roles"]["most_exposed"]
    assert top and all(x["exposed"] for x in top) and [x["employment"] for x in top] == sorted((x["employment"] for x in top), reverse=True)
    assert top[0]["oews_code"] == "43-4051"  # customer service representatives: the largest exposed occupation in finance
    assert d["seeds"]["profiles"][0]["profile_key"] == "finance" and "the data agree" in body
    assert (await ds.client.get("/sector/32")).headers["location"] == "/sector/31-33"
    missing = await ds.client.get("/sector/77")
    assert missing.status_code == 404 and 'href="/sector/52"' in missing.text


@pytest.mark.asyncio
async def test_measure_pages(ds, db):
    mid = "eloundou2023_gpt4_beta"
    d = (await ds.client.get(f"/measure/{mid}.json")).json()
    top = db.execute("select role_code from role_exposure where measure_id = ? order by score desc, role_code limit 10", (mid,)).fetchall()
    assert [x["code"] for x in d["extremes"]["top"]] == [x[0] for x in top]
    assert sum(b["roles"] for b in d["distribution"]["bins"]) == d["distribution"]["roles"] == \
        db.execute("select count(*) from role_exposure where measure_id = ?", (mid,)).fetchone()[0]
    pairs = db.execute("select count(*) from measure_correlations where measure_a = ? or measure_b = ?", (mid, mid)).fetchone()[0]
    assert len(d["agreement"]["pairs"]) == pairs == 20
    body = text_of((await ds.client.get(f"/measure/{mid}")).text)
    assert "Eloundou, T., Manning, S., Mishkin, P., Rock, D. (2024)" in body and "MIT" in body
    # a measure with no role scores says where its values are, and leaves the role sections out
    r = await ds.client.get("/measure/felten2021_aiie")
    assert r.status_code == 200 and "/taskshift/industry_exposure?measure_id=felten2021_aiie" in r.text
    assert 'id="distribution"' not in r.text
    assert (await ds.client.get("/measure/nope")).status_code == 404
    listing = text_of((await ds.client.get("/measures")).text)
    for (m,) in db.execute("select measure_id from measures"):
        assert m in listing


@pytest.mark.asyncio
async def test_workforce_form_scores_titles_and_codes(ds, db):
    rows = "role,headcount\n15-1252.00,120\ncustomer service representative,300\ncashier,\"1,000\"\nzzqqxxv,5\n99-9999.00,2\n"
    r = await ds.client.post("/workforce", data={"rows": rows})
    assert r.status_code == 200
    body = text_of(r.text)
    assert "1,420 people in 3 occupations" in body
    assert "zzqqxxv" in body and "no role matches this job title" in body and "99-9999.00 is not an O*NET-SOC role code" in body
    assert "header row (skipped)" in body
    # the request shown for reuse gives the same answer from the API
    shown = json.loads(htmlmod.unescape(re.search(r"Request body</summary><pre[^>]*><code>(.*?)</code>", r.text, re.S).group(1)))
    assert {x["role_code"]: x["headcount"] for x in shown["roles"]} == {ROLE: 120, "43-4051.00": 300, "41-2011.00": 1000}
    api = await ds.client.post("/-/score/workforce", json={**shown, "top": 10})
    embedded = json.loads(re.search(r'<script type="application/json" id="ts-workforce-response">(.*?)</script>', r.text, re.S).group(1))
    assert embedded == api.json()
    # bad input: a clear message, no 500
    r = await ds.client.post("/workforce", data={"rows": "nothing useful here"})
    assert r.status_code == 400 and "no line has a role code or a job title" in text_of(r.text)
    r = await ds.client.post("/workforce", content=b"rows=" + b"x" * (pages.MAX_FORM_BYTES + 10),
                             headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
    r = await ds.client.post("/workforce", content=b"15-1252.00,10\n", headers={"content-type": "text/csv"})
    assert r.status_code == 200 and "10 people in 1 occupations" in text_of(r.text)


@pytest.mark.asyncio
async def test_api_docs_list_every_route_with_an_example_that_runs(ds):
    r = await ds.client.get("/api")
    assert r.status_code == 200
    body = text_of(r.text)
    docs = pages.api_docs("http://localhost")
    assert {d["id"] for d in docs} == {route.name for route in plugin.ROUTES}
    for route in plugin.ROUTES:
        assert f"{route.method} {route.path}" in body
    for d in docs:
        assert d["example_url"], d["id"]
        if d["method"] == "GET":
            res = await ds.client.get(d["example_url"])
        else:
            res = await ds.client.post(d["example_url"], content=d["example_body"], headers={"content-type": "application/json"})
        assert res.status_code == 200, (d["id"], res.text[:300])


@pytest.mark.asyncio
async def test_datasette_tables_link_roles_and_round_numbers(ds, db):
    r = await ds.client.get(f"/taskshift/role_exposure?role_code={ROLE}")
    assert f'href="/role/{ROLE}"' in r.text and "Software Developers" in r.text
    assert 'href="/measure/eloundou2023_gpt4_beta"' in r.text
    full = db.execute("select percentile from role_exposure where role_code = ? and measure_id = 'eloundou2023_gpt4_beta'", (ROLE,)).fetchone()[0]
    assert f'title="{full!r}"' in r.text and f">{pages.score(full)}<" in r.text   # rounded, full value in the tooltip
    cells = re.findall(r'<td class="col-percentile[^"]*"[^>]*>(.*?)</td>', r.text, re.S)
    assert cells and not any(re.search(r"\d\.\d{5,}<", c) for c in cells)
    # JSON keeps full precision
    j = (await ds.client.get(f"/taskshift/role_exposure.json?role_code={ROLE}&measure_id=eloundou2023_gpt4_beta&_shape=array")).json()
    assert j[0]["percentile"] == full
    roles = await ds.client.get("/taskshift/roles?_size=5")
    assert 'class="ts-role-link" href="/role/11-1011.00"' in roles.text
    sectors = await ds.client.get("/taskshift/sectors")
    assert 'href="/sector/52"' in sectors.text
    assert 'href="/measure/eloundou2023_gpt4_beta"' in (await ds.client.get("/taskshift/measures")).text


@pytest.mark.asyncio
async def test_datasette_index_stays_reachable_and_static_files_ship_with_licenses(ds):
    r = await ds.client.get("/-/index")
    assert r.status_code == 200 and 'href="/taskshift"' in r.text
    assert (await ds.client.get("/.json")).json()["taskshift"]["name"] == "taskshift"
    home = await ds.client.get("/")
    assert "How exposed is your job to AI" in home.text and 'action="/search"' in home.text
    for path in ("vendor/d3/d3.min.js", "vendor/d3/LICENSE", "taskshift.js", "taskshift.css"):
        s = await ds.client.get(f"/-/static-plugins/taskshift/{path}")
        assert s.status_code == 200, path
    lic = (await ds.client.get("/-/static-plugins/taskshift/vendor/d3/LICENSE")).text
    assert "Mike Bostock" in lic and "Permission to use, copy, modify" in lic
    d3 = (await ds.client.get("/-/static-plugins/taskshift/vendor/d3/d3.min.js")).text
    assert d3.startswith("// https://d3js.org v7.9.2")


def test_every_measure_and_family_has_plain_words(db):
    words = pages.data.plain_language()
    for mid, family in db.execute("select measure_id, family from measures"):
        assert words["measures"].get(mid), mid
        assert words["families"][family]["name"] and words["families"][family]["what"], family


def test_every_section_has_its_template():
    from importlib.resources import files
    root = files("taskshift.site") / "templates"
    for page in pages.PAGES.values():
        assert (root / page.template).is_file(), page.template
        for s in page.sections:
            assert (root / s.template).is_file(), s.template


def test_number_formats():
    assert pages.ordinal(1) == "1st" and pages.ordinal(12) == "12th" and pages.ordinal(22.4) == "22nd" and pages.ordinal(None) == "–"
    assert pages.compact(154186300) == "154.2 million" and pages.compact(11630) == "11,630"
    assert pages.share(0.5123) == "51%" and pages.signed(15.84) == "+15.8%" and pages.signed(-3) == "−3.0%"
    assert pages.score(0.57572383) == "0.576" and pages.score(-1.3601) == "−1.36" and pages.score(0.000124276) == "0.000124"
    assert pages.pct(87.4) == "87" and pages.pct(99.8) == "99.8" and pages.pct(100) == "100" and pages.pct(0.3) == "0.3"
    assert pages.signed_money(-15330) == "−$15,330" and pages.money(133080) == "$133,080"


# --- what is actually happening (#12): the role's OEWS series and "is exposure showing up?" ------------------
@pytest.mark.asyncio
async def test_role_page_shows_employment_and_wages_over_time(ds, db):
    r = await ds.client.get("/role/43-9021.00")
    assert r.status_code == 200
    section = r.text[r.text.index('id="observed"'):]
    section = section[:section.index("</section>")]
    body = text_of(section)
    series = db.execute("select year, employment, mean_wage from oews_series where code = '43-9021' order by year").fetchall()
    assert [s["year"] for s in series] == list(range(2019, 2026))
    for s in series:  # the table alternative of the chart, year by year
        assert f"{s['year']} {s['employment']:,} ${s['mean_wage']:,}" in body
    assert 'data-chart="series"' in section and 'data-y="employment"' in section and 'data-y="mean_wage"' in section
    change = db.execute("select * from oews_change where code = '43-9021'").fetchone()
    assert pages.signed(change["employment_change_2022_2025_pct"]) == "−19.3%" and "since) −19.3%" in body
    assert "projected 2024–34 (BLS EP) −25.9%" in body and "all occupations +5.1%" in body  # observed beside projected
    assert "Outlook on the evidence: elimination" in body and "nothing here is a causal estimate" in body
    # the chart's data is the history API's oews section
    data = (await ds.client.get("/role/43-9021.00.json?section=observed")).json()
    api = (await ds.client.get("/-/history/43-9021.00")).json()["oews"]
    assert [y["employment"] for y in data["chart"]] == [y["employment"] for y in api["years"]] == [s["employment"] for s in series]
    # a new SOC 2018 code says why it has no change before ChatGPT; GPT-4's label is named where the evidence differs
    nurse = text_of((await ds.client.get("/role/29-1141.00")).text)
    assert "GPT-4's labels and the projection alone would say expansion" in nurse
    dev = text_of((await ds.client.get(f"/role/{ROLE}")).text)
    assert "OEWS published this code first in May 2021" in dev
    # ... and, where the break is bridged, the group's change before ChatGPT; real wages beside nominal ones
    bridge = db.execute("select bridge_employment_change_2019_2022_pct b from oews_change where code = '15-1252'").fetchone()["b"]
    assert (f"Before that it was inside 15-1256 Software Developers and Software Quality Assurance Analysts and Testers: "
            f"that group's employment changed {pages.signed(bridge)} from May 2019 to May 2022") in dev
    real = db.execute("select mean_wage_real from oews_series where code = '43-9021' and year = 2019").fetchone()[0]
    assert f"2019 159,930 $" in body and f"${real:,}" in body and "real mean wage May 2022–25" in body


@pytest.mark.asyncio
async def test_observed_page_answers_is_exposure_showing_up(ds, db):
    r = await ds.client.get("/observed")
    assert r.status_code == 200
    body = text_of(r.text)
    rows = db.execute("select * from exposure_showing_up where grouping in ('consensus', 'predicted', 'observed')").fetchall()
    assert len(rows) == 12
    for row in rows:
        label = f"{row['grouping']}{'' if row['grouping'] == 'consensus' else ' families'}: {row['bin']} {row['codes']:,} {row['roles']:,} "
        assert label + f"{pages.signed(row['employment_change_before_pct'])} {pages.signed(row['employment_change_since_pct'])}" in body, label
    high = next(x for x in rows if x["group_id"] == "consensus" and x["bin"] == "high")
    assert f"employment changed by {pages.signed(high['employment_change_since_pct'])} in the occupations the measures agree" in body
    units = db.execute("select bridged_units from exposure_showing_up where group_id = 'consensus' and bin = 'all'").fetchone()[0]
    for words in ("dated May", "is a causal estimate of what AI did", "not a control group", "three years of survey panels",
                  "bridged by group", f"plus {units} groups that bridge the 2021 change of occupation codes"):
        assert words in body, words
    real = f"{pages.signed(high['real_mean_wage_change_before_pct'])} {pages.signed(high['real_mean_wage_change_since_pct'])}"
    assert f"{pages.signed(high['mean_wage_change_since_pct'])} {real}" in body
    assert meta(r.text, "description").startswith("Employment and wage change since ChatGPT")
    chart = (await ds.client.get("/observed.json?section=answer")).json()["chart"]
    assert [c["label"] for c in chart] == ["low exposure", "medium exposure", "high exposure"]
    assert chart[2]["since"] == high["employment_change_since_pct"]
    nav = (await ds.client.get("/")).text
    assert 'href="/observed"' in nav
