"""Sectors: OEWS by NAICS sector, sector_exposure (every sector x every role-level measure), the
curated sector profiles with their data; and the scoring math behind them."""
from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from taskshift import scoring
from taskshift.resources import dataset_files
from taskshift.scoring import HEADLINE_MEASURE


def frame(conn, sql, *params) -> pd.DataFrame:
    return pd.read_sql_query(sql, conn, params=params)


def test_sectors_add_up_to_the_national_total(conn):
    # sectors are OEWS May 2024 (no May 2025 by-sector file): compare with the May 2024 national total
    national = conn.execute("select employment from oews_series where code = '00-0000' and year = 2024").fetchone()[0]
    total = conn.execute("select sum(employment) from sectors").fetchone()[0]
    assert conn.execute("select count(*) from sectors").fetchone()[0] == 20
    assert abs(total - national) / national < 0.001, (total, national)
    # sector_roles: the 00-0000 row of each sector is the sector's employment; combined sectors kept
    rows = frame(conn, "select s.naics_code, s.employment, r.employment as total from sectors s "
                       "join sector_roles r on r.naics_code = s.naics_code and r.oews_code = '00-0000'")
    assert len(rows) == 20 and (rows["employment"] == rows["total"]).all()
    assert {"31-33", "44-45", "48-49"} <= set(rows["naics_code"])
    # the detailed codes of a sector add up to no more than its total, and nearly all of it
    detailed = frame(conn, "select naics_code, sum(employment) as emp from sector_roles where o_group = 'detailed' group by 1")
    merged = detailed.merge(rows, on="naics_code")
    assert ((merged["emp"] <= merged["total"]) & (merged["emp"] >= 0.9 * merged["total"])).all()


def test_sector_exposure_for_every_sector_and_role_level_measure(conn):
    measures = {r[0] for r in conn.execute("select distinct measure_id from role_exposure")}
    role_level = {r[0] for r in conn.execute("select measure_id from measures where roles_covered > 0")}
    assert measures == role_level and len(measures) >= 10
    got = frame(conn, "select * from sector_exposure")
    assert len(got) == 20 * len(measures)
    assert set(got["measure_id"]) == measures
    assert got.groupby("measure_id")["sector_code"].nunique().eq(20).all()
    assert got["score"].notna().all()
    assert (got["coverage"] > 0.75).all() and (got["coverage"] <= 1).all()
    assert (got["exposed_employment"] <= got["scored_employment"]).all()
    assert (got["scored_employment"] <= got["employment"]).all()
    assert sorted(got.loc[got["measure_id"] == HEADLINE_MEASURE, "rank"]) == list(range(1, 21))
    # Felten's industry measure stays at its own NAICS level, in industry_exposure
    industry = {r[0] for r in conn.execute("select distinct measure_id from industry_exposure")}
    assert industry and not industry & set(got["measure_id"])


def test_sector_exposure_recomputed_from_role_exposure(conn):
    """Headline measure, by hand: mean over roles per OEWS code, employment-weighted over the sector."""
    exp = frame(conn, "select r.labor_code, e.score from role_exposure e join roles r on r.code = e.role_code "
                      "where e.measure_id = ? and r.labor_code is not null", HEADLINE_MEASURE)
    code_score = exp.groupby("labor_code")["score"].mean()
    # exposed: the role is more exposed than 75% of US workers (employment-weighted percentile >= 75);
    # a code's employment counts as exposed in proportion to its exposed roles
    flags = frame(conn, "select r.labor_code, e.exposed, e.score from role_exposure e join roles r on r.code = e.role_code "
                        "where e.measure_id = ? and r.labor_code is not null", HEADLINE_MEASURE)
    code_exposed = flags.groupby("labor_code")["exposed"].mean()
    threshold = float(flags.loc[flags["exposed"] == 1, "score"].min())
    det = frame(conn, "select naics_code, oews_code, employment from sector_roles where o_group = 'detailed' and employment is not null")
    det["score"] = det["oews_code"].map(code_score)
    det = det.dropna(subset=["score"])
    totals = frame(conn, "select naics_code, employment from sectors").set_index("naics_code")["employment"]
    got = frame(conn, "select * from sector_exposure where measure_id = ?", HEADLINE_MEASURE).set_index("sector_code")
    for naics, rows in det.groupby("naics_code"):
        emp = rows["employment"].sum()
        assert got.loc[naics, "score"] == pytest.approx((rows["score"] * rows["employment"]).sum() / emp)
        assert got.loc[naics, "scored_employment"] == emp
        assert got.loc[naics, "coverage"] == pytest.approx(emp / totals[naics])
        exposed = (rows["oews_code"].map(code_exposed) * rows["employment"]).sum()
        assert got.loc[naics, "exposed_employment"] == round(exposed)
        assert got.loc[naics, "exposed_share"] == pytest.approx(exposed / emp)
        assert got.loc[naics, "threshold"] == pytest.approx(threshold)
    # finance is more exposed than accommodation and food services on the headline measure
    assert got.loc["52", "score"] > got.loc["72", "score"]


def test_curated_csvs_name_their_source():
    folder = dataset_files() / "curated"
    files = sorted(f for f in folder.iterdir() if f.name.endswith(".csv"))
    assert {f.name for f in files} >= {"sector_profiles.csv", "sector_profile_sectors.csv", "sector_profile_roles.csv",
                                       "emerging_titles.csv", "emerging_title_tasks.csv", "emerging_title_evidence.csv",
                                       "citations.csv", "title_aliases.csv"}
    for f in files:
        rows = list(csv.DictReader(f.read_text("utf-8").splitlines()))
        assert rows, f.name
        assert all((r.get("source") or "").strip() for r in rows), f"{f.name}: a row without source"


def test_sector_profiles_with_their_data(conn):
    prof = frame(conn, "select * from sector_profiles").set_index("profile_key")
    assert set(prof.index) == {"technology", "healthcare", "finance", "education", "customer_support", "creative_work"}
    # readable citations (article title, publisher, date, URL), not file names
    assert prof["source"].str.contains("'How AI is creating jobs and destroying others', ascendurepro.com").all()
    assert prof["source"].str.contains("https://ascendurepro.com/").all() and not prof["source"].str.contains(r"\.txt").any()
    assert prof.loc["customer_support", "roles_under_pressure"] == "Scripted first-line support"
    roles = frame(conn, "select p.*, e.percentile as check_pct from sector_profile_roles p left join role_exposure e "
                        "on e.role_code = p.role_code and e.measure_id = p.measure_id")
    assert roles["source"].str.len().gt(0).all()
    assert (roles["percentile"] == roles["check_pct"]).all()  # every linked role is scored, and the same
    sides = roles.groupby(["profile_key", "side"])["percentile"].mean().unstack()
    assert set(sides.columns) == {"growing", "under_pressure"} and sides.notna().all().all()
    for key, row in sides.iterrows():
        assert prof.loc[key, "growing_percentile"] == pytest.approx(row["growing"])
        assert prof.loc[key, "under_pressure_percentile"] == pytest.approx(row["under_pressure"])
        assert prof.loc[key, "data_agree"] == int(row["under_pressure"] > row["growing"])
    assert (prof["measures_compared"] > 0).all()
    sect = frame(conn, "select * from sector_profile_sectors")
    assert set(sect["profile_key"]) == set(prof.index)
    head = frame(conn, "select sector_code, score from sector_exposure where measure_id = ?", HEADLINE_MEASURE).set_index("sector_code")
    assert np.allclose(sect["score"], sect["naics_code"].map(head["score"]))


def test_scoring_sector_math():
    values = pd.Series([0.2, 0.8, np.nan, 0.5])
    employment = pd.Series([100.0, 50.0, 10.0, np.nan])
    groups = pd.Series(["a", "a", "a", "b"])
    out = scoring.employment_weighted(values, employment, groups, totals=pd.Series({"a": 200.0, "b": 10.0}), thresholds=0.5)
    assert out.loc["a", "score"] == pytest.approx(0.4)
    assert out.loc["a", "scored_employment"] == 150 and out.loc["a", "coverage"] == pytest.approx(0.75)
    assert out.loc["a", "exposed_employment"] == 50 and out.loc["a", "exposed_share"] == pytest.approx(1 / 3)
    assert np.isnan(out.loc["b", "score"]) and out.loc["b", "coverage"] == 0
    means = scoring.group_mean(pd.Series([1.0, np.nan, 3.0, 4.0]), pd.Series(["x", "x", "y", "y"]))
    assert means.loc["x", "score"] == 1.0 and means.loc["x", "n"] == 1 and means.loc["y", "score"] == 3.5
    assert scoring.quantile_threshold(pd.Series([1.0, 2, 3, 4, 5])) == 4.0
    # the 0.75 quantile and percentile rank 75 agree (no ties)
    v = pd.Series(np.arange(101, dtype=float))
    assert ((v >= scoring.quantile_threshold(v)) == (scoring.percentile_rank(v) >= 75)).all()
    with pytest.raises(ValueError):
        scoring.quantile_threshold(v, 1.5)
