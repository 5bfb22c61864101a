"""Emerging AI-era titles: curated titles linked to roles, their evidence (seeds, aijobs.net survey,
O*NET Emerging Tasks) and their rows in the titles table."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from taskshift.build.derive.emerging import ai_match


def frame(conn, sql, *params) -> pd.DataFrame:
    return pd.read_sql_query(sql, conn, params=params)


FAMILIES = {"build", "deploy and integrate", "govern and audit", "supervise and train", "create"}


def test_every_emerging_title_links_to_an_existing_role(conn):
    titles = frame(conn, "select * from emerging_titles")
    assert len(titles) >= 15
    assert set(titles["family"]) == FAMILIES
    links = frame(conn, "select l.*, r.code as found from emerging_title_roles l left join roles r on r.code = l.role_code")
    assert links["found"].notna().all()
    assert set(links["title_key"]) == set(titles["title_key"])
    first = links[links["rank"] == 1].set_index("title_key")["role_code"]
    assert (titles.set_index("title_key")["nearest_role_code"] == first).all()
    # the seeds' titles are there
    names = set(titles["title"].str.lower())
    for wanted in ("ai engineer", "prompt engineer", "workflow automation specialist", "ai implementation consultant",
                   "model governance and risk reviewer", "ai trainer and human-in-the-loop reviewer",
                   "synthetic media creator", "ai-augmented data strategist"):
        assert wanted in names


def test_every_curated_row_names_its_source(conn):
    for table in ("emerging_titles", "emerging_title_roles", "emerging_title_evidence",
                  "sector_profiles", "sector_profile_sectors", "sector_profile_roles"):
        missing = conn.execute(f"select count(*) from {table} where source is null or trim(source) = ''").fetchone()[0]
        assert missing == 0, table
    seeds = frame(conn, "select * from emerging_title_evidence where kind = 'seed'")
    assert seeds["source"].str.match(r"seed \d{3}_[0-9a-f]+\.txt").all()
    assert seeds["detail"].str.len().gt(10).all()


def test_reasons_that_cite_onet_titles_are_true(conn):
    """A reason saying O*NET lists 'X' for a role: X is one of that role's titles."""
    links = frame(conn, "select title_key, role_code, reason from emerging_title_roles")
    checked = 0
    for row in links.itertuples(index=False):
        for cited in re.findall(r"'([^']+)'", row.reason) if "O*NET lists" in row.reason else []:
            n = conn.execute("select count(*) from titles where role_code = ? and title = ? and kind != 'emerging'",
                             (row.role_code, cited)).fetchone()[0]
            assert n, (row.title_key, row.role_code, cited)
            checked += 1
    assert checked >= 15


def test_emerging_titles_are_searchable_titles(conn):
    rows = frame(conn, "select * from titles where kind = 'emerging'")
    onet_max = conn.execute("select max(title_id) from titles where kind != 'emerging'").fetchone()[0]
    assert len(rows) and rows["title_id"].min() == onet_max + 1
    assert rows["title_id"].tolist() == list(range(onet_max + 1, onet_max + 1 + len(rows)))
    links = frame(conn, "select t.title, l.role_code from emerging_titles t join emerging_title_roles l using (title_key)")
    pairs = set(zip(rows["title"], rows["role_code"]))
    assert all((t, r) in pairs for t, r in zip(links["title"], links["role_code"]))
    hits = frame(conn, "select t.title, t.kind, t.role_code from titles_fts join titles t on t.rowid = titles_fts.rowid "
                       "where titles_fts match 'prompt engineer' order by titles_fts.rank")
    assert ((hits["title"] == "Prompt Engineer") & (hits["kind"] == "emerging")).any()


def test_survey_counts_and_salaries(conn, sources_dir):
    raw = pd.read_csv(sources_dir / "exposure/aijobs_net_salaries/salaries.csv")
    years = frame(conn, "select * from aijobs_title_years")
    assert years["respondents"].sum() == len(raw) == 74301
    prompt = raw[raw["job_title"] == "Prompt Engineer"].groupby("work_year")["salary_in_usd"].agg(["size", "median"])
    ev = frame(conn, "select work_year, respondents, median_salary_usd from emerging_title_evidence "
                     "where kind = 'aijobs' and name = 'Prompt Engineer'").set_index("work_year")
    assert list(ev.index) == list(prompt.index) and min(ev.index) == 2023
    assert (ev["respondents"] == prompt["size"]).all()
    assert (ev["median_salary_usd"] == prompt["median"]).all()
    title = frame(conn, "select * from emerging_titles where title_key = 'prompt_engineer'").iloc[0]
    assert title["survey_respondents"] == len(raw[raw["job_title"] == "Prompt Engineer"])
    assert title["survey_median_salary_usd_2024"] == raw.loc[(raw["job_title"] == "Prompt Engineer")
                                                             & (raw["work_year"] == 2024), "salary_in_usd"].median()
    # every AI title of the survey is pooled under some emerging title
    ai = re.compile(r"\bAI\b|Machine Learning|\bML|Deep Learning|\bNLP\b|Computer Vision|Prompt")
    ai_titles = {t for t in raw["job_title"].unique() if ai.search(t)}
    pooled = {r[0] for r in conn.execute("select distinct name from emerging_title_evidence where kind = 'aijobs'")}
    assert ai_titles and ai_titles <= pooled, sorted(ai_titles - pooled)


def test_onet_emerging_tasks_filter(conn):
    tasks = frame(conn, "select emerging_task_id, statement from emerging_tasks")
    expected = {i: ai_match(s) for i, s in zip(tasks["emerging_task_id"], tasks["statement"]) if ai_match(s)}
    ev = frame(conn, "select * from emerging_title_evidence where kind = 'onet_emerging_task'")
    assert set(ev["emerging_task_id"]) == set(expected)
    assert all(expected[i] == m for i, m in zip(ev["emerging_task_id"], ev["match"]))
    assert ai_match("Train machine learning models.") == "ai" and ai_match("Use AI tools.") == "ai"
    assert ai_match("Operate autonomous vehicles.") == "automation" and ai_match("Paint walls, said Mr. Ai.") is None
    meta = conn.execute("select value from metadata where key = 'emerging_tasks_ai_filter'").fetchone()[0]
    assert f'"matched_automation": {sum(v == "automation" for v in expected.values())}' in meta


def test_curated_rows_are_validated(tmp_path, monkeypatch):
    """A curated CSV is read through the table contract: a row without a source, a bad family or an
    unknown column stops the build, naming the CSV line."""
    from taskshift.build import curated
    from taskshift.build.assemble import BuildError

    bad = tmp_path / "emerging_titles.csv"
    bad.write_text("title_key,title,family,description,source\n"
                   "ok_title,OK Title,build,A description long enough,seed 000\n"
                   "bad_title,Bad Title,dream,A description long enough,\n", encoding="utf-8")
    monkeypatch.setattr(curated, "path_of", lambda name: bad)
    with pytest.raises(BuildError) as err:
        curated.read("emerging_titles")
    text = str(err.value)
    assert "emerging_titles.csv" in text and "row 3" in text and "family" in text and "source" in text
    bad.write_text("title_key,title,family,description,source,extra\nk,T,build,A description long enough,s s s s s,x\n")
    with pytest.raises(BuildError, match="extra"):
        curated.read("emerging_titles")
