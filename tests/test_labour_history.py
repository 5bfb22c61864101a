"""What is actually happening (#12): OEWS May 2019-2025 series, changes, "is exposure showing up?", and the
oews section of history in the library, the CLI and the API."""
from __future__ import annotations

import json

import pandas as pd
import pytest

import taskshift
from taskshift import cli, scoring

from .conftest import api_request

FILES = {2019: "history/national_M2019_dl.xlsx", 2020: "history/national_M2020_dl.xlsx",
         2021: "history/national_M2021_dl.xlsx", 2022: "history/national_M2022_dl.xlsx",
         2023: "history/national_M2023_dl.xlsx", 2024: "national_M2024_dl.csv", 2025: "national_M2025_dl.xlsx"}


def frame(conn, sql, params=()):
    return pd.read_sql_query(sql, conn, params=params)


@pytest.fixture(scope="module")
def series(conn):
    return frame(conn, "select * from oews_series")


def test_totals_per_year_equal_the_all_occupations_total(series):
    """Per year, the detailed codes add up to OEWS 00-0000 within rounding (each figure is rounded to 10), except
    for what OEWS does not publish in detail: May 2025 leaves 11-1031 Legislators inside 11-1000 Top Executives."""
    assert sorted(series["year"].unique()) == list(scoring.OEWS_YEARS)
    for year, s in series.groupby("year"):
        by_code = s.set_index("code")["employment"]
        detailed = s[s["o_group"] == "detailed"]
        gap = by_code["00-0000"] - detailed["employment"].sum()
        if year == 2025:
            assert "11-1031" not in by_code.index
            inside = by_code["11-1000"] - by_code["11-1011"] - by_code["11-1021"]  # Legislators by difference
            assert inside == 13_150
            gap -= inside
        bound = 5 * (len(detailed) + 1)
        assert abs(gap) <= bound, (year, gap, bound)
    assert series.loc[(series["year"] == 2020) & (series["code"] == "13-1074"), "employment"].isna().all()  # '**'


def test_every_code_published_in_all_seven_years_has_a_series(series, sources_dir):
    """A code with a detailed row in all seven raw files has one employment figure per year, 2019-2025."""
    raw = {}
    for year, name in FILES.items():
        path = sources_dir / "bls" / name
        f = pd.read_csv(path, dtype=str) if name.endswith(".csv") else pd.read_excel(path, engine="calamine", dtype=object)
        f.columns = [c.upper() for c in f.columns]
        raw[year] = f
    every = set.intersection(*(set(f.loc[f["O_GROUP"] == "detailed", "OCC_CODE"]) for f in raw.values()))
    assert len(every) == 757
    complete = series[series["code"].isin(every)]
    per_code = complete.dropna(subset=["employment"]).groupby("code")["year"].apply(sorted)
    full = [c for c, years in per_code.items() if years == list(scoring.OEWS_YEARS)]
    # all but one: 13-1074 Farm Labor Contractors is printed in May 2020 with employment '**'
    assert len(per_code) == 757 and sorted(set(per_code.index) - set(full)) == ["13-1074"]
    assert per_code["13-1074"] == [2019, 2021, 2022, 2023, 2024, 2025]
    flags = complete.drop_duplicates("code").set_index("code")["complete_series"]
    assert flags.drop("13-1074").eq(1).all() and flags["13-1074"] == 0
    assert (complete["code_kind"] != "hybrid_2019_2020").all()
    # hybrid codes: only 2019-2020, never beside the SOC 2018 codes they cover
    hybrid = series[series["code_kind"] == "hybrid_2019_2020"]
    assert hybrid["code"].nunique() == 24 and set(hybrid["year"]) == {2019, 2020}
    assert set(series.loc[series["code"] == "15-1252", "year"]) == set(range(2021, 2026))
    assert set(series.loc[series["code"] == "15-1256", "year"]) == {2019, 2020}
    # one code by hand, against the raw cells: Data Entry Keyers
    keyers = series[series["code"] == "43-9021"].set_index("year")
    assert keyers["employment"].tolist() == [159_930, 151_520, 147_170, 157_380, 154_230, 135_280, 127_080]
    for year, f in raw.items():
        cells = f[f["OCC_CODE"] == "43-9021"].iloc[0]
        assert int(cells["TOT_EMP"]) == keyers.loc[year, "employment"]
        assert int(cells["A_MEAN"]) == keyers.loc[year, "mean_wage"] and int(cells["A_MEDIAN"]) == keyers.loc[year, "median_wage"]
    assert (keyers["roles_sharing"] == 1).all() and (keyers["code_kind"] == "soc_2018").all()


def test_changes_per_code(conn):
    change = frame(conn, "select * from oews_change").set_index("code")
    keyers = change.loc["43-9021"]
    assert keyers["employment_change_2019_2022_pct"] == pytest.approx(100 * (157_380 / 159_930 - 1))
    assert keyers["employment_change_2022_2025_pct"] == pytest.approx(100 * (127_080 / 157_380 - 1))
    total = change.loc["00-0000"]
    assert total["employment_change_2022_2025_pct"] == pytest.approx(100 * (155_495_730 / 147_886_000 - 1))
    dev = change.loc["15-1252"]  # new in SOC 2018: no May 2019 figure, so no change before ChatGPT
    assert pd.isna(dev["employment_2019"]) and pd.isna(dev["employment_change_2019_2022_pct"])
    assert dev["employment_change_2022_2025_pct"] == pytest.approx(100 * (1_687_890 / 1_534_790 - 1))
    # a shared labour code is flagged, as in roles
    shared = frame(conn, "select labor_code, count(*) n from roles where labor_code is not null group by labor_code")
    shared = shared.set_index("labor_code")["n"].drop("45-3031")  # EP only: not in OEWS
    assert (change.loc[shared.index, "roles_sharing"] == shared).all() and change.loc["15-1299", "roles_sharing"] == 10


def test_showing_up_recomputed_for_one_band(conn):
    """The consensus 'high' band from role_consensus, roles, oews_change and the bridge units (oews_bridges,
    oews_series), recomputed here."""
    roles = frame(conn, "select r.labor_code, c.centre from roles r join role_consensus c on c.role_code = r.code "
                        "where r.labor_code is not null")
    by_code = roles.groupby("labor_code")["centre"].mean().dropna()
    change = frame(conn, "select * from oews_change where o_group = 'detailed'").set_index("code")
    high = change.loc[change.index.isin(by_code.index[by_code >= 200 / 3])]
    panel = high.dropna(subset=["employment_2019", "employment_2022", "employment_2025"])[
        ["employment_2019", "employment_2022", "employment_2025", "mean_wage_2022", "mean_wage_2025"]]
    # bridge units: the May 2019 code against its members' sums; exposure = the mean over the members' roles
    bridges = frame(conn, "select unit_code, code from oews_bridges where bridged = 1")
    member_roles = roles.merge(bridges, left_on="labor_code", right_on="code")
    unit_centre = member_roles.groupby("unit_code")["centre"].mean()
    series = frame(conn, "select code, year, employment, mean_wage from oews_series")
    units = []
    for unit in unit_centre.index[unit_centre >= 200 / 3]:
        own = series[(series["code"] == unit) & (series["year"] == 2019)].iloc[0]
        m = series[series["code"].isin(bridges.loc[bridges["unit_code"] == unit, "code"])]
        y = {yr: m[m["year"] == yr] for yr in (2022, 2025)}
        units.append({"employment_2019": own["employment"], **{f"employment_{yr}": y[yr]["employment"].sum() for yr in y},
                      # the members' employment-weighted mean wage; none if a member has no wage
                      **{f"mean_wage_{yr}": (y[yr]["employment"] * y[yr]["mean_wage"]).sum() / y[yr]["employment"].sum()
                         if y[yr]["mean_wage"].notna().all() else float("nan") for yr in y}})
    panel = pd.concat([panel, pd.DataFrame(units)], ignore_index=True)
    row = frame(conn, "select * from exposure_showing_up where group_id = 'consensus' and bin = 'high'").iloc[0]
    assert row["codes"] == len(panel) == 216 and row["bridged_units"] == len(units) == 7
    assert row["employment_2022"] == panel["employment_2022"].sum()
    assert row["employment_change_before_pct"] == pytest.approx(100 * (panel["employment_2022"].sum() / panel["employment_2019"].sum() - 1))
    assert row["employment_change_since_pct"] == pytest.approx(100 * (panel["employment_2025"].sum() / panel["employment_2022"].sum() - 1))
    wages = panel.dropna(subset=["mean_wage_2022", "mean_wage_2025"])
    w = wages["employment_2022"]
    since = (w * (wages["mean_wage_2025"] / wages["mean_wage_2022"] - 1)).sum() / w.sum() * 100
    assert row["mean_wage_change_since_pct"] == pytest.approx(since)
    assert row["codes_since"] == len(high.dropna(subset=["employment_2022", "employment_2025"]))
    # the figures quoted in docs/observed.md: the most exposed band grew slower since ChatGPT than the least exposed
    bands = frame(conn, "select bin, employment_change_since_pct from exposure_showing_up where group_id = 'consensus'")
    since = bands.set_index("bin")["employment_change_since_pct"].round(2).to_dict()
    assert since == {"all": 5.13, "low": 6.11, "medium": 6.66, "high": 2.10}
    groups = frame(conn, "select grouping, count(*) n from exposure_showing_up group by grouping").set_index("grouping")["n"]
    measures = frame(conn, "select count(distinct measure_id) n from role_exposure")["n"][0]
    assert groups.to_dict() == {"consensus": 4, "observed": 4, "predicted": 4, "measure_quintile": 6 * measures}


def test_the_soc_break_is_bridged(conn, built_db, capsys):
    """Every SOC 2018 detailed code OEWS first publishes in May 2021 sits in one May 2019-2020 unit; software
    developers get a before-ChatGPT change through 15-1256 (with 15-1253), recomputed from the raw series;
    a unit whose two ends do not meet (15-2098 -> data scientists) is not used, and says why."""
    b = frame(conn, "select * from oews_bridges")
    first = frame(conn, "select code from oews_series where o_group = 'detailed' and employment is not null "
                        "group by code having min(year) = 2021")["code"]
    assert sorted(b["code"]) == sorted(first) and len(first) == 72 and not b["code"].duplicated().any()
    assert b.drop_duplicates("unit_code")["method"].value_counts().to_dict() == {"hybrid_title": 24, "soc_broad": 6}
    dev = b[b["unit_code"] == "15-1256"]
    assert sorted(dev["code"]) == ["15-1252", "15-1253"] and dev["bridged"].eq(1).all()
    s = frame(conn, "select code, year, employment from oews_series where code in ('15-1256', '15-1252', '15-1253')")
    e = s.set_index(["code", "year"])["employment"]
    expected = 100 * ((e["15-1252", 2022] + e["15-1253", 2022]) / e["15-1256", 2019] - 1)
    c = frame(conn, "select * from oews_change where code = '15-1252'").iloc[0]
    assert c["bridge_code"] == "15-1256" and c["bridge_employment_change_2019_2022_pct"] == pytest.approx(expected)
    assert round(expected, 1) == 23.1 and pd.isna(c["employment_change_2019_2022_pct"])
    ds = frame(conn, "select * from oews_bridges where code = '15-2051'").iloc[0]
    assert ds["unit_code"] == "15-2098" and ds["bridged"] == 0 and round(ds["continuity_2020_2021"], 2) == 1.84
    assert pd.isna(frame(conn, "select * from oews_change where code = '15-2051'").iloc[0]["bridge_employment_change_2019_2022_pct"])
    # the history answer and the CLI say it
    h = taskshift.history("15-1252.00", conn=taskshift.connect(built_db)).oews
    assert h.bridge.unit_code == "15-1256" and h.bridge.bridged and h.bridge.members == ["15-1252", "15-1253"]
    assert h.change.bridge_employment_change_2019_2022_pct == pytest.approx(expected)
    assert cli.main(["history", "15-1252.00", "--db", str(built_db)]) == 0
    assert "inside 15-1256 Software Developers and Software Quality Assurance Analysts and Testers (with 15-1253): " \
           "employment 2019-2022 +23.1%" in capsys.readouterr().out


def test_a_bridge_member_that_does_not_fit_fails_the_build(conn):
    from taskshift.build.assemble import BuildError
    from taskshift.build.derive import labour_history

    series = frame(conn, "select * from oews_series")
    soc = frame(conn, "select * from soc_groups")
    rows = pd.DataFrame({"unit_code": ["15-1256", "15-1256"], "code": ["15-1252", "15-1211"], "note": "test",
                         "source": "test"}, index=[2, 3])
    with pytest.raises(BuildError) as err:
        labour_history.bridge_members(series, soc, rows)
    assert err.value.problems == ["dataset/curated/oews_bridges.csv: line 3: column code: 15-1211 is not a detailed code "
                                  "OEWS first publishes in May 2021"]


def test_history_oews_section_api_library_cli(built_db, conn, capsys):
    lib = taskshift.history("43-9021.00", conn=taskshift.connect(built_db))
    assert cli.main(["history", "43-9021.00", "--json", "--db", str(built_db)]) == 0
    from_cli = json.loads(capsys.readouterr().out)["oews"]
    response = api_request(built_db, "/-/history/43-9021.00")
    assert response.status_code == 200
    assert lib.oews.model_dump(mode="json") == from_cli == response.json()["oews"]
    o = lib.oews
    assert o.labor_code == "43-9021" and o.complete_series and [y.year for y in o.years] == list(scoring.OEWS_YEARS)
    assert [y.employment for y in o.years] == [159_930, 151_520, 147_170, 157_380, 154_230, 135_280, 127_080]
    (row,) = conn.execute("select employment_change_2022_2025_pct from oews_change where code = '43-9021'").fetchall()
    assert o.change.employment_change_2022_2025_pct == row[0] and o.projected_change_pct == -25.9
    assert "real: May 2025 dollars" in o.wages and any("causal" in c for c in o.caveats)
    cpi = dict(conn.execute("select year, value from cpi").fetchall())
    y22 = next(y for y in o.years if y.year == 2022)
    assert y22.mean_wage_real == round(y22.mean_wage * cpi[2025] / cpi[2022])
    assert o.change.mean_wage_real_change_2022_2025_pct == pytest.approx(
        100 * (43_310 / 37_970 * cpi[2022] / cpi[2025] - 1))
    assert cli.main(["history", "43-9021.00", "--db", str(built_db)]) == 0
    text = capsys.readouterr().out
    assert "2025: employment 127,080" in text and "2022-2025 (since) -19.3%" in text
    assert "real mean wage 2019-2022 -4.5%" in text and "(real $43,310)" in text
    # a shared code says so; a role OEWS does not publish has no series but a valid answer
    shared = taskshift.history("15-1299.08", conn=taskshift.connect(built_db)).oews
    assert shared.labor_code == "15-1299" and shared.roles_sharing == 10
    military = conn.execute("select code from roles where labor_code is null limit 1").fetchone()[0]
    none = taskshift.history(military, conn=taskshift.connect(built_db)).oews
    assert none.labor_code is None and none.years == [] and none.all_occupations.employment_change_2022_2025_pct > 5


def test_cpi_is_the_bls_series_and_deflates_wages(conn):
    """The curated May CPI-U equals BLS's series CUUR0000SA0 as the cpi package (PyPI, cpi==2.1.0) ships it, read
    straight from its database; real wages and real changes are the nominal ones deflated by hand."""
    import importlib.util
    import sqlite3
    from pathlib import Path

    db = Path(importlib.util.find_spec("cpi").origin).parent / "cpi.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as ref:
        published = dict(ref.execute("select year, value from indexes where series = 'CUUR0000SA0' and period = 'M05' "
                                     "and year between 2019 and 2025").fetchall())
    ours = frame(conn, "select * from cpi").set_index("year")
    assert ours["value"].to_dict() == published and len(published) == 7
    assert (ours["series_id"] == "CUUR0000SA0").all() and (ours["month"] == 5).all()
    assert ours.loc[2025, "to_base"] == 1.0 and ours.loc[2019, "to_base"] == pytest.approx(321.465 / 256.092)
    series = frame(conn, "select year, mean_wage, mean_wage_real, median_wage, median_wage_real from oews_series "
                         "where code = '00-0000' order by year").set_index("year")
    assert (series["mean_wage_real"] == (series["mean_wage"] * ours["to_base"]).round().astype("int64")).all()
    total = frame(conn, "select * from oews_change where code = '00-0000'").iloc[0]
    for a, b in ((2019, 2022), (2022, 2025)):
        for w in ("mean_wage", "median_wage"):
            real = 100 * (total[f"{w}_{b}"] / total[f"{w}_{a}"] * published[a] / published[b] - 1)
            assert total[f"{w}_real_change_{a}_{b}_pct"] == pytest.approx(real)
    # all occupations: nominal +12.7% since ChatGPT is +2.5% after inflation; before, +15.7% was +1.4%
    assert round(total["mean_wage_real_change_2022_2025_pct"], 1) == 2.5
    assert round(total["mean_wage_real_change_2019_2022_pct"], 1) == 1.4
    band = frame(conn, "select * from exposure_showing_up where group_id = 'consensus' and bin = 'high'").iloc[0]
    assert band["real_mean_wage_change_since_pct"] == pytest.approx(
        100 * ((1 + band["mean_wage_change_since_pct"] / 100) * published[2022] / published[2025] - 1))


def test_a_missing_cpi_year_fails_the_build_naming_the_file():
    from taskshift.build.assemble import BuildError
    from taskshift.build.derive import labour_history

    cpi = pd.DataFrame({"series_id": "CUUR0000SA0", "year": [2019, 2020, 2021, 2022, 2023, 2025], "month": 5,
                        "value": [256.092, 256.394, 269.195, 292.296, 304.127, 321.465], "source": "test"})
    with pytest.raises(BuildError) as err:
        labour_history.cpi_table(cpi)
    assert err.value.problems == ["dataset/curated/cpi.csv: column year: the May CPI-U of [2024] is missing "
                                  "(every OEWS year 2019-2025 needs one)"]
