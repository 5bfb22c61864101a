"""BLS labour data (OEWS May 2025, with May 2024 where May 2025 publishes nothing; EP 2024-34) and the OEWS -> SOC 2018 code mapping."""
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
    # OEWS May 2025 (was May 2024: 154,187,380 / 67,920 / 49,500)
    assert (total["employment"], total["mean_wage"], total["median_wage"], total["oews_year"]) == (155_495_730, 69_770, 50_980, 2025)
    detailed = stats[stats["in_oews"].astype(bool) & (stats["o_group"] == "detailed")]
    assert len(detailed) == 831  # 830 of May 2025 + 11-1031 Legislators from May 2024
    current = detailed.loc[detailed["oews_year"] == 2025, "employment"]
    assert len(current) == 830
    # May 2025 leaves Legislators inside 11-1000: its detailed codes fall 13,890 short of the total
    # (13,150 Legislators by difference in 11-1000 + rounding to 10)
    assert 0 < 155_495_730 - current.sum() < 13_150 + 2_000


def test_codes_may_2025_does_not_publish_keep_may_2024(stats):
    """11-1030/11-1031 Legislators are not in OEWS May 2025: their row is May 2024's and says so."""
    old = stats[stats["oews_year"] == 2024]
    assert sorted(old.index) == ["11-1030", "11-1031"]
    assert (old.loc["11-1031", "employment"], old.loc["11-1031", "median_wage"]) == (26_510, 44_810)
    assert stats.loc[["45-3000", "45-3031"], "oews_year"].isna().all()  # EP only: no OEWS vintage
    assert (stats.loc[stats["in_oews"].astype(bool), "oews_year"].notna()).all()


def test_labor_stats_rows(stats):
    # 1,394 OEWS May 2025 codes + 11-1030, 11-1031 (May 2024) + 45-3000, 45-3031 from EP: the same 1,398 codes as before
    assert len(stats) == 1398
    assert stats["o_group"].value_counts().to_dict() == {
        "detailed": 832, "broad": 448, "minor": 95, "major": 22, "total": 1}
    assert int(stats["in_oews"].sum()) == 1396 and int(stats["in_ep"].sum()) == 1113


def test_top_coded_and_missing_wages_are_flagged(stats):
    # May 2025 top-codes no wage (May 2024 withheld 19 medians, e.g. anesthesiologists'): every median is published
    anesth = stats.loc["29-1211"]
    assert pd.isna(anesth["wage_flag"]) and (anesth["median_wage"], anesth["mean_wage"]) == (391_490, 360_570)
    assert not (stats["wage_flag"] == "top_coded").any()
    actors = stats.loc["27-2011"]
    assert actors["wage_flag"] == "hourly_only" and pd.isna(actors["mean_wage"]) and actors["median_hourly_wage"] == 29.05
    teachers = stats.loc["25-2021"]
    assert teachers["wage_flag"] == "annual_only" and teachers["median_wage"] == 63_970
    assert pd.isna(teachers["median_hourly_wage"])
    # a wage is null only when a flag says why
    plain = stats[stats["in_oews"].astype(bool) & stats["wage_flag"].isna()]
    assert plain[["mean_wage", "median_wage", "mean_hourly_wage", "median_hourly_wage"]].notna().all().all()


def test_spot_values(stats):
    dev = stats.loc["15-1252"]
    assert (dev["employment"], dev["median_wage"], dev["mean_hourly_wage"]) == (1_687_890, 135_980, 71.2)  # May 2025
    assert dev["ep_employment_2024"] == 1_693_800 and dev["ep_employment_2034"] == 1_961_400  # persons, not thousands
    assert (dev["ep_change_pct"], dev["ep_openings"], dev["education"]) == (15.8, 115_200, "Bachelor's degree")
    ceo = stats.loc["11-1011"]
    assert (ceo["work_experience"], ceo["job_training"]) == ("5 years or more", "None")
    assert stats.loc["00-0000", "ep_employment_2024"] == 169_956_100


def test_ep_median_wage_is_the_oews_median(raw, stats):
    # EP 2024-34 prints the OEWS May 2024 median: it agrees with the May 2024 file, not with labor_stats (May 2025)
    may2024 = oews.tidy_oews(raw.read("bls_national_m2024_dl")).set_index("code")
    ep = projections.tidy(raw.read("bls_occupation_t1_2")).set_index("code")
    both = ep.join(may2024[["median_wage", "wage_flag"]], how="inner")
    assert len(both) > 1000
    assert (both["ep_median_wage"].fillna(-1) == both["median_wage"].fillna(-1)).all()
    assert (both["ep_median_wage_flag"].eq("top_coded") == both["wage_flag"].eq("top_coded")).all()
    assert (stats.loc[both.index, "median_wage"] != both["median_wage"]).mean() > 0.9  # May 2025 wages moved


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
    assert stats.loc["53-1047", "employment"] == 623_640  # May 2025 (May 2024: 605,510)


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
    # per-sector employment of an occupation adds up to its national figure of the same vintage, May 2024
    # (rounding, suppressed cells), not to labor_stats, which is May 2025 (1,687,890)
    sum_dev = roles.loc[roles["oews_code"] == "15-1252", "employment"].sum()
    assert abs(sum_dev - 1_654_440) < 100 and stats.loc["15-1252", "employment"] - sum_dev > 30_000
