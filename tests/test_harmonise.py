"""Crosswalks that keep detail and weigh by people; ties; employment-weighted percentiles; one
employment basis per figure (issue #9). Asserts on the rows a user sees in the built database."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from taskshift import scoring
from taskshift.build.derive import harmonise


def frame(conn, sql, *params) -> pd.DataFrame:
    return pd.read_sql(sql, conn, params=params)


def exposure(conn, measure) -> pd.DataFrame:
    return frame(conn, "select * from role_exposure where measure_id = ?", measure).set_index("role_code")


# --- crosswalks ------------------------------------------------------------------------------------
def test_computer_occupations_all_other_follow_their_own_onet_detail(conn):
    fo = exposure(conn, "frey_osborne2013_computerisation")
    roles = [f"15-1299.0{i}" for i in range(10)]
    # before: every 15-1299.xx role got 0.50 = mean(15-1199 all other 0.22, Computer Operators 0.78)
    for code in ("15-1299.01", "15-1299.02", "15-1299.03", "15-1299.08", "15-1299.09"):
        row = fo.loc[code]
        # O*NET-SOC 2010 -> 2019 maps e.g. 15-1299.08 to 15-1199.02 alone: SOC 2010 15-1199 (published as 15-1799)
        assert (row["score"], row["native_codes"], row["derivation"]) == (0.22, "15-1799", "crosswalk_soc2010_onetsoc")
    for code in ("15-1299.04", "15-1299.05", "15-1299.06", "15-1299.07"):
        # added in 2019 (no predecessor): the BLS path, without Computer Operators, which O*NET folded into 15-1299.00
        assert (fo.loc[code, "score"], fo.loc[code, "derivation"]) == (0.22, "crosswalk_soc2010")
    base = fo.loc["15-1299.00"]  # the residual role takes both its O*NET predecessors
    assert base["native_codes"] == "15-1799,43-9011" and "no OEWS May 2019 employment" in base["weight_basis"]
    assert fo.loc[roles, "score"].nunique() == 2


def test_chief_executives_ilo_score_leaves_traditional_chiefs_out(conn):
    ilo = exposure(conn, "ilo2025_genai")
    ceo = ilo.loc["11-1011.00"]
    assert ceo["native_codes"] == "1112,1120" and "1113" in ceo["weight_basis"] and "task fit" in ceo["weight_basis"]
    published = dict(conn.execute("select isco08_code, mean_score_2025 from ilo_occupation_exposure "
                                  "where isco08_code in ('1112', '1120')").fetchall())
    assert ceo["score"] == pytest.approx((published["1112"] + published["1120"]) / 2, abs=1e-12)
    assert ilo.loc["11-1031.00", "native_codes"] == "1111"  # Legislators: not traditional chiefs either


def test_three_digit_isco_matches_reach_their_roles(conn):
    ilo = exposure(conn, "ilo2025_genai")
    # the BLS file matches 19-2099 to ISCO 211 and 53-2022 to ISCO 315 (3-digit): the unit groups under them
    assert set(ilo.loc["19-2099.00", "native_codes"].split(",")) == {"2111", "2112", "2113", "2114"}
    airfield = set(ilo.loc["53-2022.00", "native_codes"].split(","))
    assert airfield <= {"3151", "3152", "3153", "3154", "3155"} and {"3153", "3154"} <= airfield
    three_digit = frame(conn, "select to_code from crosswalks where from_system = 'isco08' and length(from_code) = 3")["to_code"]
    reached = frame(conn, "select r.code, e.role_code from roles r left join role_exposure e on e.role_code = r.code "
                          "and e.measure_id = 'ilo2025_genai' join crosswalks c on c.from_system = 'soc2010' "
                          "and c.to_code = r.soc_code where c.from_code in ({})".format(",".join("?" * len(three_digit))),
                    *three_digit)
    assert len(reached) and reached["role_code"].notna().all()


def test_every_crosswalked_score_keeps_codes_weights_and_basis(conn):
    rows = frame(conn, "select * from role_exposure")
    assert rows["weight_basis"].str.len().gt(0).all()
    weights = rows["native_weights"].str.split(",").map(lambda w: sum(map(float, w)))
    assert (weights - 1).abs().max() < 2e-3  # printed at 4 significant digits
    assert (rows["native_codes"].str.count(",") + 1 == rows["n_native"]).all()
    assert (rows["native_weights"].str.count(",") + 1 == rows["n_native"]).all()
    assert set(rows["derivation"]) <= set(harmonise.DERIVATIONS)
    employment = rows[rows["weight_basis"].str.startswith("OEWS May 2019")]
    assert len(employment) > 20 and (employment["n_native"] > 1).all()
    rules = json.loads(conn.execute("select value from metadata where key = 'crosswalk_rules'").fetchone()[0])
    assert {"crosswalk_soc2010_onetsoc", "isco_task_fit", "isco_3_digit", "weights"} <= set(rules)


def test_employment_weights_from_oews_may_2019(conn, sources_dir):
    """Where several SOC 2010 codes with a May 2019 figure feed a role, their weights are employment shares."""
    row = frame(conn, "select * from role_exposure where weight_basis like 'OEWS May 2019%' and native_system = 'soc2010' "
                      "order by measure_id, role_code limit 1").iloc[0]
    may2019 = pd.read_excel(sources_dir / "bls/history/national_M2019_dl.xlsx", engine="calamine", dtype=object)
    emp = may2019[may2019["o_group"] == "detailed"].set_index("occ_code")["tot_emp"].astype(float)
    codes = row["native_codes"].split(",")
    expected = emp.reindex(codes) / emp.reindex(codes).sum()
    assert [float(w) for w in row["native_weights"].split(",")] == pytest.approx(list(expected), abs=1e-3)


# --- ties and percentiles --------------------------------------------------------------------------
def test_equal_scores_equal_percentiles_on_every_measure(conn):
    rows = frame(conn, "select measure_id, score, percentile, employment_percentile from role_exposure")
    per_score = rows.groupby(["measure_id", "score"]).agg(p=("percentile", "nunique"), e=("employment_percentile", "nunique"))
    assert (per_score["p"] == 1).all() and (per_score["e"] == 1).all()
    # no two stored scores of a measure differ by float noise only (they would be one score)
    for _, g in rows.groupby("measure_id"):
        s = np.sort(g["score"].unique())
        gaps = np.diff(s) / np.maximum(np.abs(s[1:]), 1e-300)
        assert (gaps > scoring.TIE_RELATIVE).all()


def test_ilo_ties_that_float_noise_used_to_split(conn):
    ilo = exposure(conn, "ilo2025_genai")
    # 62 roles score 0.28 (published, or a mean such as (0.38 + 0.18) / 2 = 0.28000000000000003): they
    # used to get percentiles 45.9 and 49.0; now one score, one percentile
    tied = ilo[np.isclose(ilo["score"], 0.28, rtol=0, atol=1e-9)]
    assert len(tied) >= 60 and tied["score"].nunique() == 1 and tied["percentile"].nunique() == 1
    assert tied["score"].iloc[0] == 0.28


def test_exposed_employment_means_the_same_on_every_measure(conn):
    rows = frame(conn, "select e.measure_id, e.exposed, e.employment_percentile, r.employment_allocated "
                       "from role_exposure e join roles r on r.code = e.role_code")
    rows = rows[rows["employment_allocated"].notna()]
    share = rows.assign(x=rows["exposed"] * rows["employment_allocated"]).groupby("measure_id").apply(
        lambda g: g["x"].sum() / g["employment_allocated"].sum(), include_groups=False)
    assert share.between(0.22, 0.28).all(), share.to_dict()   # role quartiles gave 12% to 37%
    assert ((rows["employment_percentile"] >= 75) == (rows["exposed"] == 1)).all()


def test_employment_percentile_by_hand(conn):
    beta = frame(conn, "select e.role_code, e.score, e.employment_percentile, r.employment_allocated from role_exposure e "
                       "join roles r on r.code = e.role_code where e.measure_id = 'eloundou2023_gpt4_beta'")
    w = beta["employment_allocated"].fillna(0)
    total = w.sum()
    for code in ("15-1252.00", "43-9021.00", "29-1141.00", "53-3032.00"):
        s = beta.loc[beta["role_code"] == code, "score"].iloc[0]
        expected = 100 * (w[beta["score"] < s].sum() + 0.5 * w[beta["score"] == s].sum()) / total
        got = beta.loc[beta["role_code"] == code, "employment_percentile"].iloc[0]
        assert got == pytest.approx(expected, abs=1e-9), code
    # data entry keyers are more exposed than most workers, heavy truck drivers than few
    pct = beta.set_index("role_code")["employment_percentile"]
    assert pct["43-9021.00"] > 90 and pct["53-3032.00"] < 50 and pct["29-1141.00"] < pct["15-1252.00"]


# --- one employment basis per figure -------------------------------------------------------------
def test_projections_use_their_own_base(conn):
    writers = frame(conn, "select * from roles where code = '27-3043.00'").iloc[0]
    # OEWS May 2025 47,940 jobs (May 2024: 47,800) against EP's 2024 base of 135,400 (includes self-employed)
    assert (writers["employment"], writers["ep_employment_2024"], writers["employment_2034"]) == (47940, 135400, 140300)
    assert writers["employment_change_pct"] == pytest.approx(100 * (140300 / 135400 - 1), abs=0.05)
    # EP's change is measured from its own 2024 base (EP prints employment to the hundred and the change
    # from unrounded figures, so check the large occupations)
    rows = frame(conn, "select * from roles where ep_employment_2024 >= 100000 and employment_2034 is not null")
    implied = 100 * (rows["employment_2034"] / rows["ep_employment_2024"] - 1)
    assert len(rows) > 300 and (implied - rows["employment_change_pct"]).abs().max() < 0.15
    figures = json.loads(conn.execute("select value from metadata where key = 'labor_figures'").fetchone()[0])
    assert "OEWS May 2025" in figures["employment"] and "Employment Projections 2024-34" in figures["employment_2034"]


def test_employment_sums_without_double_counting(conn):
    totals = json.loads(conn.execute("select value from metadata where key = 'employment_total'").fetchone()[0])
    allocated = conn.execute("select sum(employment_allocated) from roles").fetchone()[0]
    once = conn.execute("select sum(e) from (select max(employment) e from roles where labor_code is not null group by labor_code)").fetchone()[0]
    assert allocated == pytest.approx(once, abs=1)
    assert totals["roles_employment_allocated_sum"] == round(allocated)
    # the OEWS total includes only occupations no role maps to (none here but rounding; 11-1031 Legislators
    # carry May 2024 figures: +13,360 over the jobs May 2025 leaves inside 11-1000, well within 0.1%)
    assert abs(once - totals["oews_may_2025_all_occupations"]) / totals["oews_may_2025_all_occupations"] < 0.001
    assert totals["roles_employment_summed_naively"] > 1.4 * once  # what summing roles.employment would give
    shared = frame(conn, "select * from roles where labor_code = '15-1299'")
    assert len(shared) == 10 and (shared["roles_sharing_labor_code"] == 10).all()
    assert shared["employment_allocated"].sum() == pytest.approx(shared["employment"].iloc[0])


def test_sector_exposure_counts_a_shared_code_once(conn):
    got = frame(conn, "select * from sector_exposure where measure_id = 'eloundou2023_gpt4_beta'")
    det = frame(conn, "select sum(employment) from sector_roles where o_group = 'detailed'").iloc[0, 0]
    assert got["scored_employment"].sum() <= det
    # economy-wide, about a quarter of the scored employment is exposed on every measure
    every = frame(conn, "select measure_id, sum(exposed_employment) x, sum(scored_employment) s from sector_exposure group by 1")
    assert (every["x"] / every["s"]).between(0.18, 0.32).all()


# --- registry ---------------------------------------------------------------------------------------
def test_every_role_level_measure_covers_roles(conn):
    measures = frame(conn, "select measure_id, level, roles_covered from measures")
    role_level = measures[measures["level"] == "role"]
    assert (role_level["roles_covered"] > 0).all(), role_level[role_level["roles_covered"] == 0]["measure_id"].tolist()
    assert (measures.loc[measures["level"] != "role", "roles_covered"] == 0).all()
    daioe = measures[measures["measure_id"].str.startswith("daioe2024_")].set_index("measure_id")["level"]
    assert daioe["daioe2024_allapps"] == "role" and (daioe.drop(["daioe2024_allapps", "daioe2024_genai"]) == "occupation_year").all()
