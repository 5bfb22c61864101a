"""The outlook follows the evidence: role_outlook / role_outlook_evidence, read by API, library and CLI alike."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import taskshift
from taskshift import scoring
from taskshift.cli import main

# Well-known roles: (code, title, outlook, rule, outlook on GPT-4 and the projection alone). The figures
# (pinned data) in the comments: consensus centre (percentile among roles), GPT-4 automatable share of the
# exposed work, BLS EP 2024-34 change (all occupations +3.1%), OEWS employment change May 2022-2025 (all
# occupations +5.1%), Indeed postings since November 2022 (median category -27.2%).
DOZEN = [
    # 96.2, -25.9%, OEWS -19.3%; observed use 1.00 automation (2 tasks; GPT-4 0.85)
    ("43-9021.00", "Data Entry Keyers", "elimination", "exposed_automatable_declining", "elimination"),
    # 88.1, -5.5%, OEWS -9.9%; GPT-4 predicts 0.85 automatable, but observed use is mostly augmentation (0.32
    # automation over 3 tasks, role_collaboration): fewer people doing the work, not the work gone
    ("43-4051.00", "Customer Service Representatives", "compression", "exposed_weak_demand", "elimination"),
    # 90.3, -36.1%, OEWS -16.6%; GPT-4 0.93 automatable, observed use 0.50 automation (7 tasks): not *mostly* automation
    ("43-9022.00", "Word Processors and Typists", "compression", "exposed_weak_demand", "elimination"),
    # 84.3, -22.1%, OEWS -39.5%; GPT-4 1.00 automatable, observed use 0.28 automation (2 tasks)
    ("41-9041.00", "Telemarketers", "compression", "exposed_weak_demand", "elimination"),
    # 83.3, 0.84, but 0.0%: no projected decline; OEWS -10.0%
    ("43-4171.00", "Receptionists and Information Clerks", "compression", "exposed_weak_demand", "compression"),
    # 78.3, 0.62, +0.2% below average (although OEWS +13.8%)
    ("23-2011.00", "Paralegals and Legal Assistants", "compression", "exposed_weak_demand", "compression"),
    # 87.5, 0.33, +15.8%, OEWS +10.0% (postings -53.6%: one observed signal weak, not every one)
    ("15-1252.00", "Software Developers", "expansion", "exposed_growing_demand", "expansion"),
    # 96.8, 0.56, +33.5%, OEWS +64.4%: automatable work, but growth, so never elimination
    ("15-2051.00", "Data Scientists", "expansion", "exposed_growing_demand", "expansion"),
    # 79.2, 0.56, +21.8%, OEWS +6.6%
    ("15-2011.00", "Actuaries", "expansion", "exposed_growing_demand", "expansion"),
    # 49.0 < 50: GPT-4 labels 54% of the tasks exposed, the families place it below the median role
    ("31-9092.00", "Medical Assistants", "limited", "low_exposure", "expansion"),
    # 43.6: GPT-4 labels 62% of the task weight exposed (documentation), the consensus does not
    ("29-1141.00", "Registered Nurses", "limited", "low_exposure", "expansion"),
    # 40.9: GPT-4 0.62 exposed (flying itself is E0); the consensus places pilots below the median role
    ("53-2011.00", "Airline Pilots, Copilots, and Flight Engineers", "limited", "low_exposure", "expansion"),
    # 33.6: limited, whatever the +4.0%
    ("53-3032.00", "Heavy and Tractor-Trailer Truck Drivers", "limited", "low_exposure", "limited"),
    # 57.7 (medium, not high: never elimination), -9.9% projected, OEWS -6.3%: compression (GPT-4 alone: 0.33, limited)
    ("41-2011.00", "Cashiers", "compression", "exposed_weak_demand", "limited"),
]


def frame(conn, sql, params=()):
    return pd.read_sql_query(sql, conn, params=params)


@pytest.fixture(scope="module")
def outlook(conn):
    return frame(conn, "select o.*, r.title from role_outlook o join roles r on r.code = o.role_code").set_index("role_code")


@pytest.fixture(scope="module")
def evidence(conn):
    return frame(conn, "select * from role_outlook_evidence")


def test_dozen_well_known_roles(outlook, evidence):
    average = outlook["average_change_pct"].iloc[0]
    observed_average = outlook["observed_average_pct"].iloc[0]
    assert average == 3.1  # BLS EP 2024-34, all occupations
    assert observed_average == pytest.approx(100 * (155_495_730 / 147_886_000 - 1))  # OEWS 00-0000, May 2022 -> 2025
    for code, title, label, rule, predicted in DOZEN:
        row = outlook.loc[code]
        assert (row["title"], row["outlook"], row["rule"], row["predicted_outlook"]) == (title, label, rule, predicted), code
        items = evidence[evidence["role_code"] == code].set_index("evidence")
        assert row["exposure_basis"] == "consensus" and items.loc["consensus_exposure", "value"] == row["consensus_centre"]
        assert items.loc["exposed_share", "value"] == row["exposed_share"]
        assert items.loc["projected_decline", "value"] == row["employment_change_pct"]
        assert items.loc["below_average_growth", "threshold"] == average
        assert items.loc["observed_employment_change", "threshold"] == observed_average
        assert items.loc["observed_employment_change", "value"] == row["observed_change_pct"]
        exposed = row["consensus_centre"] >= scoring.OUTLOOK_EXPOSED_CENTRE_MIN
        assert items.loc["consensus_exposure", "holds"] == exposed and items.loc["consensus_exposure", "decided"] == 1
        if label == "elimination":
            assert items.loc[["high_consensus_exposure", "automatable_share", "projected_decline"], "holds"].tolist() == [1, 1, 1]
            assert row["employment_change_pct"] <= scoring.DECLINE_MAX_PCT and row["observed_change_pct"] < observed_average
        elif label == "compression":
            assert exposed and (row["employment_change_pct"] < average or row["observed_change_pct"] < observed_average)
        elif label == "expansion":
            assert exposed and row["employment_change_pct"] >= average and row["observed_change_pct"] >= observed_average
        else:
            assert not exposed
            assert items.loc["automatable_share", "decided"] == 0  # a low-exposure role is limited, whatever else
        assert f"{row['consensus_centre']:.1f}" in row["reason"] and f"{row['employment_change_pct']:+.1f}%" in row["reason"]
        # the observed automation item is there, and says why it has no value (no role_collaboration table, or no
        # observed use of this role's tasks)
        obs = items.loc["observed_automation_share"]
        assert pd.isna(obs["value"]) == ("not in this database" in obs["source"] or "no observed use" in obs["source"])


def test_no_elimination_without_a_projected_decline(outlook):
    """Over every role: elimination needs high exposure, mostly automation, a projected decline and no observed growth."""
    elim = outlook[outlook["outlook"] == "elimination"]
    assert len(elim) >= 15  # 17 in the pinned data (37 with GPT-4's automation alone; observed use is mostly augmentation elsewhere)
    assert (elim["employment_change_pct"] <= scoring.DECLINE_MAX_PCT).all()
    assert (elim["mostly_automatable"] == 1).all() and (elim["high_exposure"] == 1).all()
    assert (elim.loc[elim["exposure_basis"] == "consensus", "consensus_centre"] >= scoring.OUTLOOK_HIGH_CENTRE_MIN).all()
    assert not (elim["observed_change_pct"] >= elim["observed_average_pct"]).any()
    assert not ((outlook["outlook"] == "elimination") & (outlook["employment_change_pct"] > 0)).any()
    # every label is the rule applied to the row's own figures
    ev = scoring.role_outlook_evidence(outlook["consensus_centre"], outlook["exposed_share"], outlook["automatable_share"],
                                       outlook["observed_automation_share"], outlook["employment_change_pct"],
                                       outlook["average_change_pct"].iloc[0], outlook["observed_change_pct"],
                                       outlook["observed_average_pct"].iloc[0], outlook["postings_change_pct"],
                                       outlook["postings_reference_pct"].iloc[0])
    assert ev["outlook"].tolist() == outlook["outlook"].tolist() and ev["rule"].tolist() == outlook["rule"].tolist()
    counts = outlook["outlook"].value_counts()
    assert set(counts.index) == set(scoring.OUTLOOKS) and counts.sum() == len(outlook)
    # and predicted_outlook is the GPT-4-only rule a custom bundle gets
    pred = scoring.outlook_evidence(outlook["exposed_share"], outlook["automatable_share"],
                                    outlook["employment_change_pct"], outlook["average_change_pct"].iloc[0])
    assert pred["outlook"].tolist() == outlook["predicted_outlook"].tolist()


def test_outlook_counts_before_and_after_observed_evidence(conn, outlook):
    """The metadata records the counts on the evidence and on GPT-4 alone (the label before issue #12)."""
    meta = json.loads(conn.execute("select value from metadata where key = 'outlook_method'").fetchone()[0])
    assert meta["counts"] == outlook["outlook"].value_counts().reindex(list(scoring.OUTLOOKS), fill_value=0).to_dict()
    assert meta["counts_gpt4_only"] == outlook["predicted_outlook"].value_counts().reindex(list(scoring.OUTLOOKS), fill_value=0).to_dict()
    assert meta["changed_from_gpt4_only"] == int((outlook["outlook"] != outlook["predicted_outlook"]).sum()) > 100
    assert meta["observed_automation_available"] == ("role_collaboration" in {
        r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")})


def test_automation_is_read_only_on_llm_exposed_tasks(conn, outlook):
    """GPT-4 rates 'Steer aircraft ... using autopilot' T3 but E0: it is not LLM automation and does not count."""
    tasks = frame(conn, """select t.task_id, t.task_type, e.label as exposure, a.label as automation, a.value
                           from tasks t join task_exposure e on e.task_id = t.task_id and e.measure_id = ?
                           join task_exposure a on a.task_id = t.task_id and a.measure_id = ?
                           where t.role_code = '53-2011.00'""",
                  (scoring.PROFILE_EXPOSURE_MEASURE, scoring.PROFILE_AUTOMATION_MEASURE))
    autopilot = tasks[tasks["task_id"] == 10566].iloc[0]
    assert (autopilot["exposure"], autopilot["automation"]) == ("E0", "T3")
    w = np.where(tasks["task_type"] == "Core", 2.0, 1.0)
    exposed = tasks["exposure"].isin(["E1", "E2"]).to_numpy()
    auto = (tasks["value"] >= 0.75).to_numpy()
    row = outlook.loc["53-2011.00"]
    assert math.isclose(row["automatable_share"], w[exposed & auto].sum() / w[exposed].sum())
    assert row["automatable_tasks"] == (exposed & auto).sum() < auto.sum()
    meta = json.loads(conn.execute("select value from metadata where key = 'outlook_method'").fetchone()[0])
    assert meta["non_llm_automation"]["e0_tasks_rated_t3_t4"] >= 150
    assert any("autopilot" in x for x in meta["non_llm_automation"]["e0_examples"])


def test_api_library_cli_read_the_table(conn, built_db, capsys, outlook, evidence):
    for code in ("43-9021.00", "15-2051.00", "53-3032.00"):
        p = taskshift.score(code, conn=conn).profile
        row = outlook.loc[code]
        assert (p.outlook, p.outlook_rule, p.outlook_reason) == (row["outlook"], row["rule"], row["reason"])
        assert p.exposed_share == row["exposed_share"] and p.thresholds.average_change_pct == row["average_change_pct"]
        items = evidence[evidence["role_code"] == code].sort_values("position")
        assert [(e.evidence, e.value, e.holds) for e in p.evidence] == \
            [(r.evidence, None if pd.isna(r.value) else r.value, None if pd.isna(r.holds) else bool(r.holds))
             for r in items.itertuples()]
        assert main(["score", code, "--db", str(built_db), "--json"]) == 0
        cli = json.loads(capsys.readouterr().out)["profile"]
        assert cli["outlook"] == row["outlook"] and cli["evidence"] == [e.model_dump() for e in p.evidence]
    # a custom role or workforce is labelled by the same rules, at request time
    wf = taskshift.score_workforce({"43-9021.00": 10, "15-2051.00": 10}, conn=conn).profile
    expected = scoring.outlook_evidence(wf.exposed_share, wf.automatable_share, wf.employment_change_pct, 3.1)
    assert wf.outlook == expected["outlook"][0] and wf.outlook_rule == expected["rule"][0]
    assert wf.headcount_by_outlook["elimination"] == 10 and wf.headcount_by_outlook["expansion"] == 10
