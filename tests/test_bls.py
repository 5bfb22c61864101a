"""BLS labour data (OEWS May 2024, EP 2024-34) and the OEWS -> SOC 2018 code mapping."""
from __future__ import annotations

import pandas as pd
import pytest

from taskshift.build.ingest import crosswalks, oews, projections
from taskshift.build.sources import RawReader

# OEWS aggregates -> the SOC 2018 detailed codes they cover (checked by title; see oews.py)
AGGREGATES = {
    "13-1020": {"13-1021", "13-1022", "13-1023"},
    "13-2020": {"13-2022", "13-2023"},
    "21-1018": {"21-1011", "21-1014"},
    "25-2052": {"25-2055", "25-2056"},
    "25-9045": {"25-9042", "25-9043", "25-9049"},
    "29-2010": {"29-2011", "29-2012"},
    "31-1120": {"31-1121", "31-1122"},
    "39-7010": {"39-7011", "39-7012"},
    "47-4090": {"47-4091", "47-4099"},
    "51-2028": {"51-2022", "51-2023"},
    "51-2090": {"51-2092", "51-2099"},
    "53-1047": {"53-1042", "53-1043", "53-1044", "53-1049"},
}


@pytest.fixture(scope="module")
def raw(sources_dir):
    return RawReader(sources_dir)


@pytest.fixture(scope="module")
def tables(raw):
    return oews.load(raw)


@pytest.fixture(scope="module")
def stats(tables):
    return tables["labor_stats"].set_index("code")


@pytest.fixture(scope="module")
def codes(tables):
    return tables["oews_codes"]


def test_oews_all_occupations(stats):
    total = stats.loc["00-0000"]
    assert (total["employment"], total["mean_wage"], total["median_wage"]) == (154_187_380, 67_920, 49_500)
    detailed = stats.loc[stats["in_oews"].astype(bool) & (stats["o_group"] == "detailed"), "employment"]
    assert len(detailed) == 831
    assert abs(detailed.sum() - 154_187_380) < 2_000  # detailed estimates are rounded to 10


def test_labor_stats_rows(stats):
    assert len(stats) == 1398  # 1,396 OEWS codes + 45-3000, 45-3031 from EP
    assert stats["o_group"].value_counts().to_dict() == {
        "detailed": 832, "broad": 448, "minor": 95, "major": 22, "total": 1}
    assert int(stats["in_oews"].sum()) == 1396 and int(stats["in_ep"].sum()) == 1113


def test_top_coded_and_missing_wages_are_flagged(stats):
    anesth = stats.loc["29-1211"]
    assert anesth["wage_flag"] == "top_coded" and pd.isna(anesth["median_wage"]) and anesth["mean_wage"] == 336_640
    top = stats[stats["wage_flag"] == "top_coded"]
    assert len(top) == 19 and top["median_wage"].isna().all()
    actors = stats.loc["27-2011"]
    assert actors["wage_flag"] == "hourly_only" and pd.isna(actors["mean_wage"]) and actors["median_hourly_wage"] == 23.33
    teachers = stats.loc["25-2021"]
    assert teachers["wage_flag"] == "annual_only" and teachers["median_wage"] == 62_340
    assert pd.isna(teachers["median_hourly_wage"])
    # a wage is null only when a flag says why
    plain = stats[stats["in_oews"].astype(bool) & stats["wage_flag"].isna()]
    assert plain[["mean_wage", "median_wage", "mean_hourly_wage", "median_hourly_wage"]].notna().all().all()


def test_spot_values(stats):
    dev = stats.loc["15-1252"]
    assert (dev["employment"], dev["median_wage"], dev["mean_hourly_wage"]) == (1_654_440, 133_080, 69.5)
    assert dev["ep_employment_2024"] == 1_693_800 and dev["ep_employment_2034"] == 1_961_400  # persons, not thousands
    assert (dev["ep_change_pct"], dev["ep_openings"], dev["education"]) == (15.8, 115_200, "Bachelor's degree")
    ceo = stats.loc["11-1011"]
    assert (ceo["work_experience"], ceo["job_training"]) == ("5 years or more", "None")
    assert stats.loc["00-0000", "ep_employment_2024"] == 169_956_100


def test_ep_median_wage_is_the_oews_median(raw, stats):
    ep = projections.tidy(raw.read("bls_occupation_t1_2")).set_index("code")
    both = ep.join(stats[["median_wage", "in_oews"]], how="inner")
    both = both[both["in_oews"].astype(bool)]
    assert (both["ep_median_wage"].fillna(-1) == both["median_wage"].fillna(-1)).all()
    assert (both["ep_median_wage_flag"].eq("top_coded") == stats.loc[both.index, "wage_flag"].eq("top_coded")).all()


def test_oews_codes_cover_every_soc_detailed_code_once(codes):
    assert len(codes) == 867 and codes["soc_code"].is_unique
    assert codes["source"].value_counts().to_dict() == {"oews_ep": 847, "not_published": 19, "ep": 1}
    unpublished = codes[codes["source"] == "not_published"]
    assert unpublished["soc_code"].str.startswith("55-").all() and unpublished["oews_code"].isna().all()
    assert codes.set_index("soc_code").loc["45-3031", "oews_code"] == "45-3031"  # EP only


def test_oews_aggregates(codes, stats):
    agg = codes[codes["is_aggregate"].astype(bool)]
    assert agg.groupby("oews_code")["soc_code"].apply(set).to_dict() == AGGREGATES
    direct = codes[~codes["is_aggregate"].astype(bool) & codes["oews_code"].notna()]
    assert len(direct) == 820 and (direct["oews_code"] == direct["soc_code"]).all()
    # every OEWS/EP detailed code appears in the mapping
    published = set(stats.index[(stats["o_group"] == "detailed")])
    assert published == set(codes["oews_code"].dropna())
    assert stats.loc["53-1047", "employment"] == 605_510


def test_aggregate_rule_refuses_an_unmatched_code():
    soc = pd.Series(["11-1011", "11-1021"])
    with pytest.raises(ValueError):
        oews.aggregates(pd.Series(["11-1011", "11-1021", "11-9999"]), soc)


def test_onet_roles_reach_oews(raw, codes):
    onet = crosswalks.load(raw)["crosswalks"].query("from_system == 'onetsoc2019'")
    roles = onet.merge(codes, left_on="to_code", right_on="soc_code", validate="many_to_one")
    assert len(roles) == 1016
    how = roles["source"].where(roles["source"] != "oews_ep", roles["is_aggregate"].map({1: "aggregate", 0: "direct"}))
    assert how.value_counts().to_dict() == {"direct": 962, "aggregate": 34, "not_published": 19, "ep": 1}


@pytest.fixture(scope="module")
def sector_tables(raw):
    from taskshift.build.ingest import sectors
    return sectors.load(raw)


def test_sectors(sector_tables):
    sec = sector_tables["sectors"].set_index("naics_code")
    assert len(sec) == 20
    assert {"31-33", "44-45", "48-49", "99"} <= set(sec.index) and not {"31", "44", "48"} & set(sec.index)
    assert sec.loc["31-33", "title"] == "Manufacturing" and sec.loc["31-33", "supersector_code"] == "30"
    assert sec.loc["99", "supersector_title"] == "Government"
    assert sec["employment"].sum() == 154_187_400  # BLS: agrees with the national 154,187,380 up to rounding


def test_sector_roles(sector_tables, stats):
    roles = sector_tables["sector_roles"]
    assert not roles.duplicated(["naics_code", "oews_code"]).any()
    assert set(roles["oews_code"]) <= set(stats.index)
    dev = roles.set_index(["naics_code", "oews_code"]).loc[("51", "15-1252")]
    assert (dev["employment"], dev["median_wage"], dev["pct_of_sector"]) == (330_980, 161_640, 11.35)
    # per-sector employment of an occupation adds up to its national figure (rounding, suppressed cells)
    sum_dev = roles.loc[roles["oews_code"] == "15-1252", "employment"].sum()
    assert abs(sum_dev - stats.loc["15-1252", "employment"]) < 100
