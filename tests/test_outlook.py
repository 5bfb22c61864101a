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

# Well-known roles: (code, outlook, rule, evidence that must hold / fail). The figures behind each label
# (pinned data: GPT-4 exposed share, automatable share of the exposed work, BLS EP 2024-34 change,
# against the all-occupation average of +3.1%) are in the comments.
DOZEN = [
    # 0.93 exposed, 0.85 automatable, -25.9%
    ("43-9021.00", "Data Entry Keyers", "elimination", "exposed_automatable_declining"),
    # 1.00 exposed, 0.85 automatable, -5.5%
    ("43-4051.00", "Customer Service Representatives", "elimination", "exposed_automatable_declining"),
    # 0.78 exposed, 0.93 automatable, -36.1%
    ("43-9022.00", "Word Processors and Typists", "elimination", "exposed_automatable_declining"),
    # 1.00 exposed, 1.00 automatable, -22.1%
    ("41-9041.00", "Telemarketers", "elimination", "exposed_automatable_declining"),
    # 0.86 exposed, 0.84 automatable, but 0.0%: no projected decline
    ("43-4171.00", "Receptionists and Information Clerks", "compression", "exposed_below_average_growth"),
    # 0.81 exposed, 0.62 automatable, +0.2%
    ("23-2011.00", "Paralegals and Legal Assistants", "compression", "exposed_below_average_growth"),
    # 0.95 exposed, 0.33 automatable, +15.8%
    ("15-1252.00", "Software Developers", "expansion", "exposed_average_or_faster_growth"),
    # 1.00 exposed, 0.56 automatable, +33.5%: automatable work, but growth, so never elimination
    ("15-2051.00", "Data Scientists", "expansion", "exposed_average_or_faster_growth"),
    # 1.00 exposed, 0.56 automatable, +21.8%
    ("15-2011.00", "Actuaries", "expansion", "exposed_average_or_faster_growth"),
    # 0.54 exposed, 0.62 automatable, +12.5%
    ("31-9092.00", "Medical Assistants", "expansion", "exposed_average_or_faster_growth"),
    # 0.62 exposed, 0.15 automatable, +4.9%
    ("29-1141.00", "Registered Nurses", "expansion", "exposed_average_or_faster_growth"),
    # 0.62 exposed (GPT-4), 0.73 automatable, +3.9%; flying itself is E0 (autopilot rated T3 does not count)
    ("53-2011.00", "Airline Pilots, Copilots, and Flight Engineers", "expansion", "exposed_average_or_faster_growth"),
    # 0.38 exposed: limited, whatever the +4.0%
    ("53-3032.00", "Heavy and Tractor-Trailer Truck Drivers", "limited", "low_exposure"),
    # 0.33 exposed: the -9.9% decline (self-checkout) is not LLM pressure
    ("41-2011.00", "Cashiers", "limited", "low_exposure"),
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
    assert average == 3.1  # BLS EP 2024-34, all occupations
    for code, title, label, rule in DOZEN:
        row = outlook.loc[code]
        assert (row["title"], row["outlook"], row["rule"]) == (title, label, rule), code
        items = evidence[evidence["role_code"] == code].set_index("evidence")
        assert items.loc["exposed_share", "value"] == row["exposed_share"]
        assert items.loc["projected_decline", "value"] == row["employment_change_pct"]
        assert items.loc["below_average_growth", "threshold"] == average
        high = row["exposed_share"] >= scoring.EXPOSED_SHARE_MIN
        assert items.loc["exposed_share", "holds"] == high
        if label == "elimination":
            assert items.loc[["exposed_share", "automatable_share", "projected_decline"], "holds"].tolist() == [1, 1, 1]
            assert row["employment_change_pct"] <= scoring.DECLINE_MAX_PCT
        elif label == "compression":
            assert high and row["employment_change_pct"] < average
            assert not (items.loc["automatable_share", "holds"] and items.loc["projected_decline", "holds"])
        elif label == "expansion":
            assert high and row["employment_change_pct"] >= average
        else:
            assert not high and items.loc["exposed_share", "decided"] == 1
            assert items.loc["automatable_share", "decided"] == 0  # a low-exposure role is limited, whatever else
        assert f"{row['exposed_share']:.2f}" in row["reason"] and f"{row['employment_change_pct']:+.1f}%" in row["reason"]


def test_no_elimination_without_a_projected_decline(outlook):
    """Over every role: elimination needs high exposure, mostly automatable work and a projected decline."""
    elim = outlook[outlook["outlook"] == "elimination"]
    assert len(elim) >= 30
    assert (elim["employment_change_pct"] <= scoring.DECLINE_MAX_PCT).all()
    assert (elim["exposed_share"] >= scoring.EXPOSED_SHARE_MIN).all()
    assert (elim["automatable_share"] >= scoring.AUTOMATABLE_SHARE_MIN).all()
    assert not ((outlook["outlook"] == "elimination") & (outlook["employment_change_pct"] > 0)).any()
    # and every label is the rule applied to the row's own figures
    ev = scoring.outlook_evidence(outlook["exposed_share"], outlook["automatable_share"],
                                  outlook["employment_change_pct"], outlook["average_change_pct"].iloc[0])
    assert ev["outlook"].tolist() == outlook["outlook"].tolist() and ev["rule"].tolist() == outlook["rule"].tolist()
    counts = outlook["outlook"].value_counts()
    assert set(counts.index) == set(scoring.OUTLOOKS) and counts.sum() == len(outlook)


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
