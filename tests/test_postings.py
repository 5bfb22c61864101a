"""Indeed job postings: raw -> monthly tables, the curated category map and its evidence, the per-role
changes, the AI share, and `history` (library, CLI and API give the same numbers)."""
from __future__ import annotations

import csv
import json
import re
import sqlite3
from collections import defaultdict
from statistics import mean

import pandas as pd
import pytest

import taskshift
from taskshift import cli, scoring, service
from taskshift.build import curated
from taskshift.build.assemble import BuildError
from taskshift.build.derive import postings as derive_postings

from .conftest import api_request

INDEED = "postings/indeed_hiring_lab"
#: Well-known roles and the Indeed category everyone would put them in.
WELL_KNOWN = {
    "15-1252.00": "Software Development",
    "29-1141.00": "Nursing",
    "53-3032.00": "Driving",
    "41-2011.00": "Retail",
    "43-4051.00": "Customer Service",
    "43-9021.00": "Administrative Assistance",
    "13-2011.00": "Accounting",
    "23-1011.00": "Legal",
    "35-2014.00": "Food Preparation & Service",
    "53-7051.00": "Loading & Stocking",
}


@pytest.fixture(scope="module")
def lib_conn(built_db):
    return taskshift.connect(built_db)


def _rows(sources_dir, name):
    with open(sources_dir / INDEED / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _q(conn, sql, params=()):
    cur = conn.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


# --- the AI share: Indeed's published latest US value, exactly --------------------------------------
def test_latest_us_ai_share_is_indeeds_published_value(sources_dir, conn, lib_conn):
    rows = [r for r in _rows(sources_dir, "AI_posting.csv") if r["jobcountry"] == "US"]
    last = max(rows, key=lambda r: r["date"])
    (row,) = _q(conn, "select * from ai_postings_share_latest where country = 'US' and series = 'ai'")
    assert row["date"] == last["date"] == "2026-06-30"
    assert row["share_pct"] == float(last["AI_share_postings"])  # exact, not approximate
    assert repr(row["share_pct"]) == last["AI_share_postings"]
    lib = taskshift.ai_postings_share("us", latest=True, conn=lib_conn)
    assert len(lib) == 1 and lib.loc[0, "share_pct"] == float(last["AI_share_postings"])
    # the monthly table: the mean of the raw daily values of a month, and the last day of the last month
    nov = [float(r["AI_share_postings"]) for r in rows if r["date"].startswith(scoring.CHATGPT_MONTH)]
    (m,) = _q(conn, "select * from ai_postings_share where country='US' and series='ai' and month=?", (scoring.CHATGPT_MONTH,))
    assert m["share_mean"] == pytest.approx(mean(nov), rel=1e-12) and m["days"] == 30 and m["complete"] == 1
    assert row["share_nov2022"] == m["share_mean"]
    (june,) = _q(conn, "select * from ai_postings_share where country='US' and series='ai' and month='2026-06'")
    assert june["share_last"] == row["share_pct"] and row["latest_complete_month"] == "2026-06"
    genai = _q(conn, "select * from ai_postings_share_latest where series='genai'")
    assert len(genai) == 9 and {g["date"] for g in genai} == {"2025-06-28"} and {g["discontinued"] for g in genai} == {1}
    assert {r["country"] for r in _q(conn, "select distinct country from ai_postings_share")} == {
        "AU", "CA", "DE", "FR", "GB", "IE", "IT", "NL", "US"}
    with pytest.raises(ValueError) as err:
        taskshift.ai_postings_share("XX", conn=lib_conn)
    assert err.value.errors[0]["field"] == "country"


def test_monthly_tables_are_means_of_the_raw_daily_index(sources_dir, conn):
    daily = defaultdict(list)
    for r in _rows(sources_dir, "job_postings_by_sector_US.csv"):
        daily[(r["display_name"], r["date"][:7])].append(float(r["indeed_job_postings_index"]))
    cats = _q(conn, "select * from postings_by_category")
    assert len(cats) == len(daily) and len({c["category"] for c in cats}) == 46
    for c in cats:
        assert c["index_mean"] == pytest.approx(mean(daily[(c["category"], c["month"])]), rel=1e-12)
        assert c["index_last"] == daily[(c["category"], c["month"])][-1]
    sept = [c for c in cats if c["month"] == "2024-09"]
    assert {c["days"] for c in sept} == {27} and {c["complete"] for c in sept} == {0}
    us = {(r["variable"], r["month"]): r for r in _q(conn, "select * from postings_us")}
    assert us[("total", "2026-08")]["days"] == 14 and us[("total", "2026-08")]["complete"] == 0
    last = [r for r in _rows(sources_dir, "aggregate_job_postings_US.csv") if r["variable"] == "new postings"][-1]
    assert us[("new", "2026-08")]["sa_last"] == float(last["indeed_job_postings_index_SA"])
    states = _q(conn, "select state, count(*) n, max(last_date) d from postings_by_state group by state")
    assert len(states) == 51 and "DC" in {s["state"] for s in states} and {s["d"] for s in states} == {"2026-08-14"}


# --- the curated map: every category, every row with its evidence ------------------------------------
def test_category_map_covers_every_category_and_role_with_evidence(conn):
    cats = _q(conn, "select * from indeed_categories")
    assert len(cats) == 47 and all(c["map_rows"] >= 1 for c in cats)
    assert [c["category"] for c in cats if not c["has_series"]] == ["Insurance"]
    rows = _q(conn, "select * from indeed_category_map")
    for r in rows:
        assert r["method"] in ("example_title_match", "manual_review") and len(r["note"]) >= 5 and r["source"]
        if r["method"] == "example_title_match":
            assert r["example_titles"] and r["matched_roles"] and r["category"]
            examples = {t.strip() for t in _q(conn, "select example_titles e from indeed_categories where category=?",
                                              (r["category"],))[0]["e"].split("|")}
            assert set(t.strip() for t in r["example_titles"].split("|")) <= examples
        else:
            assert r["example_titles"] is None and r["matched_roles"] is None
    status = dict(conn.execute("select status, count(*) from role_postings group by status").fetchall())
    assert status.get("not_reviewed", 0) == 0  # every role is decided: a category, or explicitly none
    assert sum(status.values()) == conn.execute("select count(*) from roles").fetchone()[0]
    assert status["mapped"] >= 900
    # weights: every role's categories sum to 1; split roles are few and say so
    sums = conn.execute("select role_code, sum(weight) from role_posting_categories group by role_code").fetchall()
    assert all(abs(s - 1) < 1e-9 for _, s in sums)
    split = conn.execute("select count(*) from role_postings where n_categories > 1").fetchone()[0]
    assert 0 < split <= 10


def test_map_evidence_is_what_the_title_matcher_says(conn, lib_conn):
    """Each example_title_match row's recorded matcher answer still holds on this database: the role it names
    is among the matcher's top 10 for that example title, and the row's code covers it."""
    roles = {r["code"]: r for r in _q(conn, "select code, soc_code, broad_group, minor_group, major_group from roles")}
    checked = 0
    for r in _q(conn, "select * from indeed_category_map where method = 'example_title_match'"):
        for title, evidence in zip(r["example_titles"].split(" | "), r["matched_roles"].split(" | ")):
            found = re.match(r"'(.+?)': rank (\d+) (\d{2}-\d{4}\.\d{2}) ", evidence)
            assert found and found.group(1) == title, evidence
            code = found.group(3)
            role = roles[code]
            assert r["code"] in (code, role["soc_code"], role["broad_group"], role["minor_group"], role["major_group"])
            top = [x.role_code for x in taskshift.match_title(title, limit=10, conn=lib_conn).matches]
            assert code in top, (title, code, top)
            checked += 1
    assert checked >= 100


@pytest.mark.parametrize("code,category", sorted(WELL_KNOWN.items()))
def test_well_known_roles_land_in_the_obvious_category(conn, code, category):
    rows = _q(conn, "select category, weight from role_posting_categories where role_code = ?", (code,))
    assert rows == [{"category": category, "weight": 1.0}]


def test_split_and_unmapped_roles_say_why(conn):
    retail = _q(conn, "select category, weight, method from role_posting_categories where role_code='41-2031.00' order by category")
    assert retail == [{"category": "Retail", "weight": 0.5, "method": "example_title_match"},
                      {"category": "Sales", "weight": 0.5, "method": "example_title_match"}]
    (pilot,) = _q(conn, "select * from role_postings where role_code = '53-2011.00'")
    assert pilot["status"] == "no_category" and "aviation" in pilot["note"] and pilot["change_since_nov2022_pct"] is None
    (agent,) = _q(conn, "select * from role_postings where role_code = '41-3021.00'")
    assert agent["status"] == "no_series" and agent["categories"] == "Insurance"


def test_role_changes_reproduce_the_raw_category_series(sources_dir, conn):
    """Software developers: the change since Feb 2020 and since Nov 2022, recomputed from the raw daily file."""
    days = defaultdict(list)
    for r in _rows(sources_dir, "job_postings_by_sector_US.csv"):
        if r["display_name"] == "Software Development":
            days[r["date"][:7]].append(float(r["indeed_job_postings_index"]))
    end, nov = mean(days["2024-08"]), mean(days["2022-11"])
    (sd,) = _q(conn, "select * from role_postings where role_code = '15-1252.00'")
    assert sd["end_month"] == "2024-08" and sd["status"] == "mapped" and sd["confidence"] == "high"
    assert sd["change_since_feb2020_pct"] == pytest.approx(end - 100, rel=1e-12)
    assert sd["change_since_nov2022_pct"] == pytest.approx((end / nov - 1) * 100, rel=1e-12)
    assert sd["change_since_nov2022_pct"] < -40  # software postings halved after ChatGPT (to Aug 2024)
    # a split role is the weighted mean of its categories
    cats = {c["category"]: c for c in _q(conn, "select * from indeed_categories")}
    (rs,) = _q(conn, "select * from role_postings where role_code = '41-2031.00'")
    assert rs["index_end"] == pytest.approx(0.5 * cats["Retail"]["index_end"] + 0.5 * cats["Sales"]["index_end"], rel=1e-12)


def test_bad_map_rows_are_named(conn, built_db):
    """A broken curated map stops the build with the CSV line and the rule."""
    from taskshift.contracts import table_contracts  # noqa: F401  (contracts load)

    cmap = curated.read("indeed_category_map")
    examples = pd.read_sql_query("select category, example_titles from indeed_categories", conn)
    roles = pd.read_sql_query("select * from roles", conn)
    groups = pd.read_sql_query("select * from soc_groups", conn)
    derive_postings.check_map(cmap, examples, roles, groups)  # the real map passes
    bad = cmap.copy()
    first = bad.index[0]
    bad.loc[first, "weight"] = 0.7
    bad.loc[bad.index[1], "category"] = "Astrology"
    bad.loc[bad.index[2], "code"] = "99-9999"
    bad = bad[bad["category"] != "Pharmacy"]
    with pytest.raises(BuildError) as err:
        derive_postings.check_map(bad, examples, roles, groups)
    text = str(err.value)
    assert f"rows [{first}]: weights of code" in text
    assert "'Astrology' is not an Indeed category" in text
    assert "code '99-9999' is neither" in text
    assert "Indeed category 'Pharmacy' has no row" in text


# --- history: the same numbers from the library, the CLI and the API ---------------------------------
def test_history_library_cli_and_api_agree(built_db, lib_conn, conn, capsys):
    for code in ("15-1252.00", "41-2031.00", "53-2011.00"):
        lib = taskshift.history(code, conn=lib_conn).model_dump(mode="json")
        assert cli.main(["history", code, "--json", "--db", str(built_db)]) == 0
        from_cli = json.loads(capsys.readouterr().out)
        response = api_request(built_db, f"/-/history/{code}")
        assert response.status_code == 200
        assert lib == from_cli == response.json()
    h = taskshift.history("15-1252.00", conn=lib_conn)
    assert h.sections == ["oews", "postings"] and h.postings.status == "mapped"
    (row,) = _q(conn, "select * from role_postings where role_code = '15-1252.00'")
    series = {s.month: s.index for s in h.postings.series}
    assert series["2024-08"] == pytest.approx(row["index_end"], rel=1e-12) == h.postings.index_end
    assert series["2022-11"] == pytest.approx(row["index_nov2022"], rel=1e-12)
    assert h.postings.change_since_nov2022_pct == row["change_since_nov2022_pct"]
    (cat,) = h.postings.categories
    assert cat.category == "Software Development" and cat.method == "example_title_match"
    assert cat.example_titles == ["software engineer", "full stack developer"] and "15-1252.00" in cat.matched_roles
    assert "Indeed Hiring Lab" in h.postings.source and "2024-09-27" in h.postings.vintage
    assert cli.main(["history", "15-1252.00", "--db", str(built_db)]) == 0
    assert "since ChatGPT (Nov 2022): -5" in capsys.readouterr().out


def test_history_errors_and_openapi(built_db, lib_conn, capsys):
    bad = api_request(built_db, "/-/history/15-1252")  # the same errors and suggestions as /-/score
    item = bad.json()["errors"][0]
    assert bad.status_code == 400 and item["field"] == "role_code" and item["suggestions"] == ["15-1252.00"]
    missing = api_request(built_db, "/-/history/99-9999.00")
    assert missing.status_code == 404 and "unknown role" in missing.json()["error"]
    with pytest.raises(LookupError):
        taskshift.history("99-9999.00", conn=lib_conn)
    assert cli.main(["history", "nope", "--db", str(built_db)]) == 2
    assert "role_code" in capsys.readouterr().err
    spec = api_request(built_db, "/-/openapi.json").json()
    op = spec["paths"]["/-/history/{role_code}"]["get"]
    assert op["operationId"] == "history" and "History" in spec["components"]["schemas"]
    assert "postings" in spec["components"]["schemas"]["History"]["properties"]
