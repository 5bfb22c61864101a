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
    # the articles' titles are there; the course-sales blog's hypothetical hybrid titles are not
    names = set(titles["title"].str.lower())
    for wanted in ("ai engineer", "prompt engineer", "workflow automation specialist", "ai implementation consultant",
                   "model governance and risk reviewer", "ai trainer and human-in-the-loop reviewer",
                   "synthetic media creator"):
        assert wanted in names
    assert not names & {"ai-augmented data strategist", "ai-supported customer experience specialist"}
    assert not conn.execute("select count(*) from titles where title like 'AI-Augmented%' or title like 'AI-Supported%'").fetchone()[0]


def test_every_title_has_a_counted_source_or_is_anecdotal(conn):
    titles = frame(conn, "select * from emerging_titles").set_index("title_key")
    assert set(titles["evidence_level"]) <= {"survey", "official", "anecdotal"}
    survey = titles[titles["evidence_level"] == "survey"]
    assert (survey["evidence_count"] == survey["survey_respondents"]).all() and (survey["evidence_count"] > 0).all()
    anecdotal = titles[titles["evidence_level"] == "anecdotal"]
    assert anecdotal["evidence_count"].isna().all() and (anecdotal["survey_respondents"] == 0).all()
    assert (anecdotal["article_mentions"] > 0).all()
    assert titles.loc["machine_learning_engineer", "evidence_level"] == "survey"
    assert titles.loc["ai_trainer", "evidence_level"] == "anecdotal"  # no survey count, articles only


def test_nearest_roles_are_justified_by_tasks(conn):
    """Not by words: 'AI Trainer' is not placed next to Training and Development Specialists."""
    links = frame(conn, "select * from emerging_title_roles")
    assert set(links["method"]) <= {"onet_title", "task_overlap", "weak_task_overlap"}
    assert "13-1151.00" not in set(links.loc[links["title_key"] == "ai_trainer", "role_code"])
    task_links = links[links["method"] == "task_overlap"]
    assert (task_links["task_overlap"] >= 0.22).all() and task_links["reason"].str.contains(" ~ ").all()
    weak = links[links["method"] == "weak_task_overlap"]
    assert (weak["task_overlap"] < 0.22).all() and (weak["rank"] == 1).all()
    assert weak["reason"].str.contains("no O\\*NET occupation").all()
    ml = links[links["title_key"] == "machine_learning_engineer"].set_index("role_code")
    assert ml.loc["15-2051.00", "method"] == "onet_title" and ml.loc["15-2051.00", "rank"] == 1
    tasks = frame(conn, "select * from emerging_title_tasks")
    assert (tasks.groupby("title_key").size() >= 3).all()
    assert tasks["source"].str.contains("https?://").all()
    known = {r[0] for r in conn.execute("select task_id from tasks")}
    assert set(tasks["best_task_id"]) <= known


def test_every_curated_row_names_its_source(conn):
    for table in ("emerging_titles", "emerging_title_roles", "emerging_title_evidence", "emerging_title_tasks",
                  "sector_profiles", "sector_profile_sectors", "sector_profile_roles", "citations", "title_aliases"):
        missing = conn.execute(f"select count(*) from {table} where source is null or trim(source) = ''").fetchone()[0]
        assert missing == 0, table
        if table != "citations":  # citations.source says how taskshift holds the article (its saved copy)
            files = conn.execute(f"select count(*) from {table} where source like '%.txt%' or source like '%[cite:%'").fetchone()[0]
            assert files == 0, table  # readable citations, not file names or unexpanded keys
    articles = frame(conn, "select * from emerging_title_evidence where kind = 'article'")
    assert articles["source"].str.match(r"'[^']+', .+, .+, https?://\S+").all()
    assert articles["detail"].str.len().gt(10).all()
    cites = frame(conn, "select * from citations").set_index("cite_key")
    assert cites.loc["seed001", "kind"] == "course-sales blog post" and cites["url"].str.startswith("http").all()


def test_reasons_that_cite_onet_titles_are_true(conn):
    """A reason saying O*NET lists 'X' for a role: X is one of that role's titles."""
    links = frame(conn, "select title_key, role_code, reason from emerging_title_roles")
    checked = 0
    for row in links.itertuples(index=False):
        for cited in re.findall(r"O\*NET lists '([^']+)'", row.reason):
            n = conn.execute("select count(*) from titles where role_code = ? and title = ? and kind != 'emerging'",
                             (row.role_code, cited)).fetchone()[0]
            assert n, (row.title_key, row.role_code, cited)
            checked += 1
    assert checked >= 4


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
                   "ok_title,OK Title,build,A description long enough,[cite:seed000]\n"
                   "bad_title,Bad Title,dream,A description long enough,\n", encoding="utf-8")
    monkeypatch.setattr(curated, "path_of", lambda name: bad)
    with pytest.raises(BuildError) as err:
        curated.read("emerging_titles")
    text = str(err.value)
    assert "emerging_titles.csv" in text and "row 3" in text and "family" in text and "source" in text
    bad.write_text("title_key,title,family,description,source,extra\nk,T,build,A description long enough,s s s s s,x\n")
    with pytest.raises(BuildError, match="extra"):
        curated.read("emerging_titles")
