"""The O*NET 30.2 spine, what changed between the measures' task lists and the spine (task_list_changes,
role_task_changes), and automation vs augmentation in actual use (task_collaboration, role_collaboration),
recomputed from the raw files; the same new fields from the API, the library and the CLI."""
from __future__ import annotations

import json

import pandas as pd
import pytest

import taskshift
from taskshift import cli, scoring
from taskshift.build.derive import task_match

from .conftest import api_request
from tests.conftest import SOURCES

ONET30 = SOURCES / "onet_30_2" / "Task Statements.txt"
ONET29 = SOURCES / "onet" / "Task Statements.txt"
AEI = SOURCES / "exposure" / "anthropic_economic_index"
KNOWN = ("15-1252.00", "43-9021.00", "29-1141.00", "53-3032.00", "53-2011.00", "41-2011.00", "43-4051.00")


def frame(conn, sql, params=()):
    cur = conn.execute(sql, params)
    return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])


def onet(path):
    return pd.read_csv(path, sep="\t", dtype=str, quoting=3, keep_default_na=False, na_values=["", "n/a"])


# --- the spine ------------------------------------------------------------------------------------
def test_spine_is_onet_30_2(conn):
    raw = onet(ONET30)
    tasks = frame(conn, "select task_id, role_code, statement, task_type from tasks")
    assert len(tasks) == len(raw) == 18796
    assert set(tasks["task_id"]) == set(raw["Task ID"].astype(int))
    # 'n/a' is missing, not a type
    assert tasks["task_type"].isna().sum() == raw["Task Type"].isna().sum() == 845
    meta = dict(conn.execute("select key, value from metadata").fetchall())
    assert meta["onet_vintage"] == "O*NET 30.2 (February 2026)"
    assert json.loads(meta["onet_vintages"])["tasks"] == "O*NET 30.2 (February 2026)"
    used = {r[0] for r in conn.execute("select source_id from sources")}
    assert {"onet_30_2_task_statements", "onet_30_2_occupation_data", "onet_30_2_tasks_to_dwas"} <= used
    assert "onet_occupation_data" not in used  # the 29.3 files other than its task list are no longer read


# --- task list changes ----------------------------------------------------------------------------
def test_29_3_to_30_2_changes_recomputed_from_the_raw_lists(conn):
    old, new = onet(ONET29), onet(ONET30)
    ids_old, ids_new = set(old["Task ID"].astype(int)), set(new["Task ID"].astype(int))
    both = old.merge(new, on="Task ID", suffixes=("_o", "_n"))
    reworded = both[task_match.normalise(both["Task_o"]).to_numpy() != task_match.normalise(both["Task_n"]).to_numpy()]
    types = both.dropna(subset=["Task Type_o", "Task Type_n"])
    retyped = types[types["Task Type_o"] != types["Task Type_n"]]
    ch = frame(conn, "select * from task_list_changes where list_id = 'onet_task_statements'")
    counts = ch["change"].value_counts()
    assert counts["removed"] == len(ids_old - ids_new) == 21   # no 29.3 task that 30.2 dropped lives on in its occupation
    assert counts["added"] == len(ids_new - ids_old) == 21
    assert set(ch.loc[ch["change"] == "reworded", "old_task_id"]) == set(reworded["Task ID"].astype(int)) == {1638, 1641, 18493, 18494}
    assert ch["retyped"].sum() == len(retyped) == 168
    summary = json.loads(dict(conn.execute("select key, value from metadata").fetchall())["task_list_changes"])
    assert summary["onet_task_statements"]["unchanged"] == len(ids_old & ids_new) - 4
    # a removed task keeps its statement and the closest candidate as evidence
    row = ch[ch["old_task_id"] == 21675].iloc[0]
    assert row["change"] == "removed" and pd.isna(row["task_id"]) and row["role_code"] == "15-1252.00"
    assert row["old_statement"] == "Specify power supply requirements and configuration." and "closest" in row["evidence"]
    # the same text under another occupation is that occupation's task, not a successor
    row = ch[ch["old_task_id"] == 21674].iloc[0]
    assert row["change"] == "removed" and "another occupation" in row["evidence"] and "15-1253.00" in row["evidence"]


def test_a_known_replaced_task_and_its_carried_labels(conn):
    row = frame(conn, "select * from task_list_changes where list_id = 'eloundou_full_labelset' and old_task_id = 5605").iloc[0]
    assert row["change"] == "replaced" and row["task_id"] == 23990 and row["role_code"] == "21-1012.00"
    assert row["method"] == "reworded" and row["similarity"] >= task_match.REWORD_MIN
    statement = conn.execute("select statement from tasks where task_id = 23990").fetchone()[0]
    assert row["similarity"] == pytest.approx(scoring.text_similarity(row["old_statement"], statement))
    labels = pd.read_csv(SOURCES / "exposure" / "eloundou_gpts_are_gpts" / "full_labelset.tsv", sep="\t", dtype=str)
    paper = labels[labels["Task ID"].astype(float) == 5605].iloc[0]
    carried = dict(conn.execute("select measure_id, label from task_exposure where task_id = 23990 and source_task_id = 5605"
                                " and measure_id in ('eloundou2023_gpt4_beta', 'eloundou2023_gpt4_automation')").fetchall())
    assert carried == {"eloundou2023_gpt4_beta": paper["gpt4_exposure"], "eloundou2023_gpt4_automation": paper["gpt4_automation"]}


def test_weight_on_retired_tasks_by_hand(conn):
    # Eloundou et al.'s list for software developers: the coreweight of the paper's tasks gone from the spine
    weights = pd.read_csv(SOURCES / "exposure" / "eloundou_gpts_are_gpts" / "full_onet_data.tsv", sep="\t", dtype=str)
    mine = weights[weights["O*NET-SOC Code"] == "15-1252.00"].assign(w=lambda f: f["coreweight"].astype(float))
    gone = ~mine["Task ID"].astype(float).astype(int).isin(set(onet(ONET30)["Task ID"].astype(int)))
    mine["Task ID"] = mine["Task ID"].astype(float).astype(int)
    assert set(mine.loc[gone, "Task ID"]) == {21674, 21675}
    row = frame(conn, "select * from role_task_changes where role_code = '15-1252.00' and list_id = 'eloundou_full_labelset'").iloc[0]
    assert row["items"] == len(mine) and row["removed"] == 2
    assert row["weight_share_removed"] == pytest.approx(mine.loc[gone, "w"].sum() / mine["w"].sum())
    assert row["weight_share_retired"] == pytest.approx(row["weight_share_removed"])
    # every role and list: the shares are shares, and removed <= retired
    rtc = frame(conn, "select * from role_task_changes")
    assert set(rtc["list_id"]) == {"onet_task_statements", "eloundou_full_labelset", "anthropic_onet_task_statements",
                                   "microsoft_soc_to_iwas"}
    ok = rtc.dropna(subset=["weight_share_retired"])
    assert (ok["weight_share_removed"] <= ok["weight_share_retired"] + 1e-12).all()
    assert set(KNOWN) <= set(rtc["role_code"])


# --- automation vs augmentation in actual use -----------------------------------------------------
def test_collaboration_match_rate_on_the_real_file(conn):
    raw = pd.read_csv(AEI / "automation_vs_augmentation_by_task.csv")
    carrying = raw[raw["filtered"] < 1.0]
    keys = set(task_match.normalise(carrying["task_name"]))
    tc = frame(conn, "select * from task_collaboration").drop_duplicates("task_name")
    tc = tc[task_match.normalise(tc["task_name"]).isin(keys)]
    assert len(tc) == len(keys) == 2295  # 2,298 rows, three spellings differ only in punctuation
    rate = (tc["method"] != "none").mean()
    usage_rate = tc.loc[tc["method"] != "none", "usage_share"].sum() / tc["usage_share"].sum()
    meta = json.loads(dict(conn.execute("select key, value from metadata").fetchall())[
        "task_match.anthropic_automation_vs_augmentation"])
    assert meta["match_rate_with_pattern"] == pytest.approx(rate)
    assert meta["by_method_with_pattern"] == tc["method"].value_counts().to_dict()
    # >= 95% of the statements carrying a pattern and of their conversations are matched: 2,150 automatically,
    # 48 retired O*NET-SOC 2010 tasks by review (task_match_reviews); the 97 others are retired tasks whose
    # successors' tasks do other work (or whose occupation has no successor with tasks in O*NET 30.2)
    assert usage_rate >= 0.95 and meta["usage_match_rate_with_pattern"] == pytest.approx(usage_rate)
    assert rate >= 0.95
    assert meta["by_method_with_pattern"]["reviewed"] == 48
    assert tc.loc[tc["method"] != "none", "evidence"].str.len().min() > 0


@pytest.mark.parametrize("role", ["15-1252.00", "43-4051.00"])
def test_role_shares_recomputed_by_hand(conn, role):
    raw = pd.read_csv(AEI / "automation_vs_augmentation_by_task.csv")
    pct = pd.read_csv(AEI / "task_pct_v2.csv")
    raw["key"] = task_match.normalise(raw["task_name"]).to_numpy()
    pct["key"] = task_match.normalise(pct["task_name"]).to_numpy()
    share = pct.groupby("key")["pct"].sum() / 100.0
    rows = frame(conn, "select task_name, task_id, n_tasks from task_collaboration where role_code = ?", (role,))
    rows["key"] = task_match.normalise(rows["task_name"]).to_numpy()
    p = raw.drop_duplicates("key").set_index("key")  # the roles checked have no punctuation twins
    u = rows["key"].map(share).to_numpy() / rows["n_tasks"].to_numpy()
    pats = p.loc[rows["key"]]
    classified = (u * (1 - pats["filtered"].to_numpy())).sum()
    automation = (u * (pats["directive"] + pats["feedback_loop"]).to_numpy()).sum() / classified
    learning = (u * pats["learning"].to_numpy()).sum() / classified
    rc = frame(conn, "select * from role_collaboration where role_code = ?", (role,)).iloc[0]
    assert rc["automation_share"] == pytest.approx(automation)
    assert rc["augmentation_share"] == pytest.approx(1 - automation)
    assert rc["learning_share"] == pytest.approx(learning)
    assert rc["tasks_matched"] == rows.loc[pats["filtered"].to_numpy() < 1, "task_id"].nunique()
    pred = conn.execute("select score from role_exposure where role_code = ? and measure_id = 'eloundou2023_gpt4_automation'",
                        (role,)).fetchone()[0]
    assert rc["gpt4_automation"] == pytest.approx(pred)


def test_collaboration_tables_hold_together(conn):
    rc = frame(conn, "select * from role_collaboration")
    ok = rc.dropna(subset=["automation_share"])
    assert ((ok["automation_share"] + ok["augmentation_share"] - 1).abs() < 1e-9).all()
    pats = ok[[f"{p}_share" for p in scoring.COLLABORATION_PATTERNS]].sum(axis=1)
    assert ((pats - 1).abs() < 1e-9).all()
    assert set(KNOWN) <= set(rc["role_code"])
    tc = frame(conn, "select * from task_collaboration")
    assert ((tc["automation"] + tc["augmentation"] + tc["filtered"] - 1).abs() < 1e-9).all()
    assert set(tc["observed_use"]) == {"automation", "augmentation", "none"}
    single = tc[tc["task_id"].notna() & ~tc["task_id"].duplicated(keep=False)]
    assert (single.loc[single["filtered"] == 1.0, "observed_use"] == "none").all()
    auto = single[single["filtered"] < 1.0]
    auto = auto[((auto["automation"] / (1 - auto["filtered"])) - scoring.OBSERVED_AUTOMATION_MIN).abs() > 1e-6]
    share = auto["automation"] / (1 - auto["filtered"])
    assert (auto["observed_use"] == share.ge(scoring.OBSERVED_AUTOMATION_MIN - 1e-6).map({True: "automation", False: "augmentation"})).all()


# --- API = library = CLI ----------------------------------------------------------------------------
def test_observed_fields_from_api_library_and_cli_agree(conn, built_db, capsys):
    role = "43-4051.00"
    lib = taskshift.score(role, conn=conn).model_dump(mode="json")
    assert cli.main(["score", role, "--json", "--db", str(built_db)]) == 0
    from_cli = json.loads(capsys.readouterr().out)

    api = api_request(built_db, f"/-/score/{role}").json()
    for d in (from_cli, api):
        assert d["observed_use"] == lib["observed_use"] and d["task_lists"] == lib["task_lists"]
        assert [(t["task_id"], t["observed_use"]) for t in d["tasks"]] == [(t["task_id"], t["observed_use"]) for t in lib["tasks"]]
        assert [(x["measure_id"], x["weight_share_retired"]) for x in d["measures"]] == \
               [(x["measure_id"], x["weight_share_retired"]) for x in lib["measures"]]
    rc = frame(conn, "select * from role_collaboration where role_code = ?", (role,)).iloc[0]
    o = lib["observed_use"]
    assert o["automation_share"] == pytest.approx(rc["automation_share"])
    assert o["predicted_automation"] == pytest.approx(rc["gpt4_automation"])
    el = next(x for x in lib["measures"] if x["measure_id"] == "eloundou2023_gpt4_beta")
    rtc = conn.execute("select weight_share_retired from role_task_changes where role_code = ? and list_id = "
                       "'eloundou_full_labelset'", (role,)).fetchone()[0]
    assert el["weight_share_retired"] == pytest.approx(rtc) and rtc > 0  # 2 of the paper's 15 tasks are gone
    uses = dict(conn.execute("select task_id, observed_use from task_collaboration where role_code = ?", (role,)).fetchall())
    for t in lib["tasks"]:
        assert t["observed_use"] == uses.get(t["task_id"], "none")
    assert cli.main(["score", role, "--db", str(built_db)]) == 0
    out = capsys.readouterr().out
    assert f"observed use (Anthropic Economic Index): automation {rc['automation_share']:.3f}" in out


def test_each_task_says_how_its_observed_use_was_matched(conn, built_db):
    """The score's tasks carry the matcher's method and evidence for the statements behind observed_use: a
    reviewed match (a retired 15-1132.00 task) says so, in the library and the API alike."""
    role, task = "15-1252.00", 21665
    lib = taskshift.score(role, conn=conn).model_dump(mode="json")
    t = next(x for x in lib["tasks"] if x["task_id"] == task)
    rows = conn.execute("select method, evidence from task_collaboration where task_id = ? order by task_name", (task,)).fetchall()
    assert t["observed_matched_by"] == " | ".join(f"{m}: {e}" for m, e in rows)
    assert "reviewed: O*NET retired Task ID" in t["observed_matched_by"] and "15-1132.00" in t["observed_matched_by"]
    bare = next(x for x in lib["tasks"] if x["observed_matched_by"] is None)
    assert bare["observed_use"] == "none"

    api = api_request(built_db, f"/-/score/{role}").json()
    assert [(x["task_id"], x["observed_matched_by"]) for x in api["tasks"]] == \
           [(x["task_id"], x["observed_matched_by"]) for x in lib["tasks"]]
