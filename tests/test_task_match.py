"""The task matcher (taskshift.build.derive.task_match) and the Anthropic task usage it builds."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from taskshift import scoring
from taskshift.build.derive import task_match

SAMPLE = Path(__file__).resolve().parent / "data" / "task_match_sample.csv"


# --- the thresholds, measured on the labelled sample ---------------------------------------------
def test_thresholds_are_measured_on_the_labelled_sample():
    sample = pd.read_csv(SAMPLE)
    assert len(sample) > 1000 and sample["label"].sum() > 400 and (sample["label"] == 0).sum() > 900
    sim = [scoring.text_similarity(a, b) for a, b in zip(sample["statement_a"], sample["statement_b"])]
    fit = scoring.best_threshold(sim, sample["label"] == 1)
    # REWORD_MIN: the accuracy-maximising threshold; REWORD_MIN_ANY: the lowest one above every negative
    assert task_match.REWORD_MIN == fit["threshold"] == 0.66
    assert task_match.REWORD_MIN_ANY == fit["clean"] == 0.81
    assert fit["accuracy"] > 0.99 and fit["precision"] > 0.99 and fit["recall"] > 0.98


def test_sample_labels_come_from_onet_ids():
    sample = pd.read_csv(SAMPLE)
    pos, neg = sample[sample["label"] == 1], sample[sample["label"] == 0]
    assert (pos["task_id_a"] == pos["task_id_b"]).all()          # same Task ID in two releases
    assert (neg["task_id_a"] != neg["task_id_b"]).all()          # two tasks of one occupation
    assert set(neg["source"]) == {"onet_task_statements same occupation"}
    assert (task_match.normalise(pos["statement_a"]) != task_match.normalise(pos["statement_b"])).all()


# --- the matcher on small frames: every method and its evidence -----------------------------------
@pytest.fixture(scope="module")
def small():
    tasks = pd.DataFrame({
        "task_id": [21670, 21680, 100, 101, 200],
        "role_code": ["15-1252.00", "15-1253.00", "15-1252.00", "15-1252.00", "43-9021.00"],
        "statement": [
            "Modify existing software to correct errors, adapt it to new hardware, or upgrade interfaces and improve performance.",
            "Modify existing software to correct errors, allow it to adapt to new hardware, or to improve its performance.",
            "Confer with systems analysts, engineers, programmers and others to design systems.",
            "Store, retrieve, and manipulate data for analysis of system capabilities and requirements.",
            "Read source documents such as canceled checks, sales reports, or bills, and enter data in specific data fields.",
        ]})
    history = pd.DataFrame({
        "list_id": ["old_list"] * 3, "code_system": ["onetsoc2010"] * 3,
        "occupation_code": ["15-1133.00", "15-1132.00", "15-1132.00"], "task_id": [3445, 101, 999],
        "statement": [
            "Modify existing software to correct errors, to adapt it to new hardware, or to upgrade interfaces and improve performance.",
            "Store, retrieve, and manipulate data for analysis of system capabilities and requirements (old wording).",
            "Write poems about the sea.",
        ]})
    successors = pd.DataFrame({"from_code": ["15-1133.00", "15-1132.00"], "to_code": ["15-1252.00", "15-1252.00"]})
    return task_match.TaskMatcher(tasks, history, successors)


def test_match_methods(small):
    texts = [
        "modify existing software to correct errors, allow it to adapt to new hardware, or to improve its performance.",
        "store, retrieve, and manipulate data for analysis of system capabilities and requirements (old wording).",
        "modify existing software to correct errors, to adapt it to new hardware, or to upgrade interfaces and improve performance.",
        "read source documents such as canceled checks, sales reports or bills, and enter data in specific data fields!",
        "confer with systems analysts, engineers, programmers and others to design systems and to obtain information on project limitations.",
        "write poems about the sea.",
    ]
    out = small.match(texts)
    assert list(out.columns) == task_match.COLUMNS
    by = out.set_index("text")
    assert by.loc[texts[0], "method"] == "text" and by.loc[texts[0], "task_id"] == 21680
    assert by.loc[texts[0], "similarity"] == 1.0
    assert by.loc[texts[1], "method"] == "task_id" and by.loc[texts[1], "task_id"] == 101
    assert "Task ID 101 in old_list" in by.loc[texts[1], "evidence"]
    # reworded through the successor of the old occupation (the 6.65% Anthropic statement, in small)
    assert by.loc[texts[2], "method"] == "reworded" and by.loc[texts[2], "task_id"] == 21670
    assert "successor of 15-1133.00" in by.loc[texts[2], "evidence"]
    assert by.loc[texts[3], "method"] == "text"  # punctuation only
    # no history: only a near-identical statement of any occupation would do; this one is not near enough
    assert by.loc[texts[4], "method"] == "none" and pd.isna(by.loc[texts[4], "task_id"])
    assert by.loc[texts[4], "similarity"] < task_match.REWORD_MIN_ANY
    assert "closest: Task ID 100" in by.loc[texts[4], "evidence"]
    assert by.loc[texts[5], "method"] == "none" and by.loc[texts[5], "n_tasks"] == 0
    assert (out.loc[out["method"] != "none", "n_tasks"] == 1).all()


def test_any_occupation_only_without_history(small):
    # a statement in no history list may match near-identical wording of any occupation
    text = "confer with systems analysts, engineers and programmers and others to design systems"
    out = small.match([text]).iloc[0]
    assert (out["method"], out["task_id"], out["evidence"]) == ("reworded", 100, "most similar task of any occupation")
    # a statement whose old occupation is known is matched within its successors only
    hist = pd.concat([small.history, pd.DataFrame({"list_id": ["old_list"], "code_system": ["onetsoc2010"],
                                                   "occupation_code": ["43-9021.00"], "task_id": [5],
                                                   "statement": [text]})], ignore_index=True)
    scoped = task_match.TaskMatcher(small.tasks, hist, small.successors)
    assert scoped.match([text])["method"].iloc[0] == "none"


def test_reworded_needs_the_threshold(small):
    strict = task_match.TaskMatcher(small.tasks, small.history, small.successors, reword_min=1.01, reword_min_any=1.01)
    text = "modify existing software to correct errors, to adapt it to new hardware, or to upgrade interfaces and improve performance and speed."
    assert small.match([text])["method"].iloc[0] == "reworded"
    assert strict.match([text])["method"].iloc[0] == "none"


# --- the reviewed step: retired tasks read against their successors' tasks --------------------------
def _reviews(rows):
    frame = pd.DataFrame(rows, columns=["statement", "old_role_code", "old_task_id", "task_id", "candidate_rank",
                                        "decision", "note"]).assign(source="test review")
    frame.index = range(2, len(frame) + 2)  # CSV lines
    return frame


def test_reviewed_match_and_rejected_candidates(small):
    poem = "write poems about the sea."
    reviews = _reviews([
        [poem, "15-1132.00", 999, 101, 1, "same_work", "both write text about the sea (test)"],
        [poem, "15-1132.00", 999, 100, 2, "different_work", None],
    ])
    m = task_match.TaskMatcher(small.tasks, small.history, small.successors, reviews=reviews)
    assert m.check_reviews() == []
    out = m.match([poem]).iloc[0]
    assert (out["method"], out["task_id"], out["role_code"], out["n_tasks"]) == ("reviewed", 101, "15-1252.00", 1)
    assert out["evidence"] == ("O*NET retired Task ID 999 of 15-1132.00; a reviewer found this task of 15-1252.00 does "
                               "the same work: both write text about the sea (test)")
    # without the review the statement is unmatched; with only rejections it stays unmatched and says so
    assert small.match([poem])["method"].iloc[0] == "none"
    rejected = task_match.TaskMatcher(small.tasks, small.history, small.successors,
                                      reviews=reviews.assign(decision="different_work"))
    out = rejected.match([poem]).iloc[0]
    assert out["method"] == "none" and "reviewed: 2 successor task(s) rejected" in out["evidence"]
    table = m.reviews_table()
    assert list(table.columns) == task_match.REVIEW_COLUMNS and list(table["review_id"]) == [1, 2]
    assert list(table["role_code"]) == ["15-1252.00", "15-1252.00"]


def test_a_review_that_does_not_hold_names_line_and_column(small):
    poem = "write poems about the sea."
    matched = "store, retrieve, and manipulate data for analysis of system capabilities and requirements (old wording)."
    reviews = _reviews([
        [poem, "15-1132.00", 999, 200, 1, "same_work", "a data entry task is not a successor's task"],
        [poem, "15-1132.00", 999, 4242, 2, "same_work", "no such task in the spine"],
        [matched, "15-1132.00", 101, 100, 1, "same_work", "the automatic step matches this one already"],
    ])
    problems = task_match.TaskMatcher(small.tasks, small.history, small.successors, reviews=reviews).check_reviews()
    where = "dataset/curated/task_match_reviews.csv"
    assert problems == [
        f"{where}: line 2: column task_id: task 200 is a task of 43-9021.00, not of a successor of 15-1132.00",
        f"{where}: line 3: column task_id: 4242 is not an O*NET 30.2 task",
        f"{where}: line 4: column statement: {matched[:60]!r} is matched automatically (task_id, task 101): drop its review",
    ]


def test_reviews_cover_every_unmatched_statement_with_successors(sources_dir):
    """The curated reviews are the proposer's candidates today: every Anthropic statement the automatic steps
    leave unmatched, whose old occupation has successors in O*NET 30.2, has its three candidates reviewed."""
    from taskshift.build import curated
    from taskshift.dataset.curated import propose_task_match_reviews as propose

    proposed = propose.propose(propose.frames(sources_dir), "2026-12-02")
    done = curated.read(task_match.REVIEWS)
    key = ["statement", "old_role_code", "old_task_id", "task_id", "candidate_rank"]
    assert len(done) == len(proposed) == 555
    assert sorted(map(tuple, done[key].astype(str).to_numpy())) == sorted(map(tuple, proposed[key].astype(str).to_numpy()))
    accepted = done[done["decision"] == "same_work"]
    assert accepted["note"].str.len().gt(10).all() and done.loc[done["decision"] != "same_work", "note"].isna().all()


# --- Anthropic task usage in the built database --------------------------------------------------
def test_anthropic_usage_matched_with_evidence(conn):
    usage = pd.read_sql("select * from task_usage", conn)
    meta = json.loads(conn.execute("select value from metadata where key = 'task_match.anthropic_task_pct_v2'").fetchone()[0])
    by = meta["by_method"]
    # >= 95% of the task-mapped share matched; every method present and accounted for
    assert meta["share_matched"] >= 0.95
    assert abs(sum(m["share"] for m in by.values()) - 1) < 1e-12
    assert by["reworded"]["share"] > 0.08 and by["task_id"]["share"] > 0.01
    assert set(usage["method"]) == {"text", "task_id", "reworded", "reviewed", "none"}
    # nothing silently dropped: the table's shares add up to the task-mapped conversations
    assert usage.drop_duplicates("task_name")["share"].sum() == pytest.approx(meta["share_mapped"], abs=1e-12)
    assert usage["share_split"].sum() == pytest.approx(meta["share_mapped"], abs=1e-12)
    assert meta["share_mapped"] + meta["share_no_task"] == pytest.approx(1.0, abs=1e-9)
    unmatched = usage[usage["method"] == "none"]
    assert unmatched["task_id"].isna().all() and (unmatched["n_tasks"] == 0).all()
    assert unmatched["share"].sum() / meta["share_mapped"] == pytest.approx(by["none"]["share"], abs=1e-12)
    assert (usage.loc[usage["method"] == "reworded", "similarity"] >= task_match.REWORD_MIN - 1e-12).all()
    assert (usage.loc[usage["method"] == "text", "similarity"] == 1.0).all()
    assert usage["evidence"].str.len().gt(5).all()
    reviewed = usage[usage["method"] == "reviewed"]
    assert reviewed["evidence"].str.startswith("O*NET retired Task ID").all()
    reviews = pd.read_sql("select * from task_match_reviews where decision = 'same_work'", conn)
    assert set(zip(reviewed["task_name"], reviewed["task_id"])) <= set(zip(reviews["statement"], reviews["task_id"]))


def test_reviewed_matches_for_software_developers(conn):
    """O*NET-SOC 2010's Software Developers, Applications (15-1132.00) tasks that O*NET 30.2 rewrote for
    Software Developers (15-1252.00): the reviewer's match, its evidence, and a rejected look-alike."""
    row = pd.read_sql("select * from task_usage where task_name = ?", conn,
                      params=("consult with customers about software system design and maintenance.",)).iloc[0]
    assert (row["method"], row["task_id"], row["role_code"]) == ("reviewed", 21665, "15-1252.00")
    assert row["similarity"] < task_match.REWORD_MIN  # below the automatic threshold: a person decided
    assert "retired Task ID" in row["evidence"] and "15-1132.00" in row["evidence"]
    # a candidate judged different work stays unmatched, with the rejection in its evidence
    web = pd.read_sql("select * from task_usage where task_name like 'write, design, or edit web page content%'", conn).iloc[0]
    assert web["method"] == "none" and "3 successor task(s) rejected" in web["evidence"]


def test_software_developers_share_as_the_raw_file_implies(conn):
    usage = pd.read_sql("select * from task_usage", conn)
    top = usage.loc[usage["share"].idxmax()]
    assert top["task_name"].startswith("modify existing software to correct errors, to adapt it")
    assert top["share"] == pytest.approx(0.06650740112321237, rel=1e-12)
    assert (top["task_id"], top["role_code"], top["method"]) == (21670, "15-1252.00", "reworded")
    assert top["similarity"] == 1.0
    assert not usage["evidence"].str.contains("any occupation").any()  # every Anthropic statement has history
    # Software Developers' share of all conversations: about 7% (0.5% before the matcher)
    dev = usage.loc[usage["role_code"] == "15-1252.00", "share_split"].sum()
    assert 0.07 < dev < 0.08
