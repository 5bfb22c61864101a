"""SOC 2018 hierarchy and occupation crosswalks, from the real taxonomy files."""
from __future__ import annotations

import pytest

from taskshift.build.ingest import crosswalks, soc
from taskshift.build.sources import RawReader


@pytest.fixture(scope="module")
def raw(sources_dir):
    return RawReader(sources_dir)


@pytest.fixture(scope="module")
def groups(raw):
    return soc.load(raw)["soc_groups"].set_index("code")


@pytest.fixture(scope="module")
def xwalk(raw):
    return crosswalks.load(raw)["crosswalks"]


def test_soc_counts_per_level(groups):
    assert groups["level"].value_counts().to_dict() == {"major": 23, "minor": 98, "broad": 459, "detailed": 867}


def test_soc_parents_follow_the_official_structure(groups):
    assert groups.loc["15-1252", "parent_code"] == "15-1250"
    assert groups.loc["15-1250", "parent_code"] == "15-1200"  # minor group not ending in 000
    assert groups.loc["15-1200", "parent_code"] == "15-0000"
    assert groups.loc["29-1221", "parent_code"] == "29-1210"  # Pediatricians sit under broad Physicians
    assert groups.loc["11-3121", "parent_code"] == "11-3120"
    assert groups.loc["11-3120", "parent_code"] == "11-3000"  # not 11-3100 as the digits suggest
    assert groups.loc["15-1252", "major_code"] == "15-0000"
    majors = groups[groups["level"] == "major"]
    assert majors["parent_code"].isna().all() and (majors["major_code"] == majors.index).all()
    # every parent exists and is exactly one level up
    up = {"minor": "major", "broad": "minor", "detailed": "broad"}
    child = groups[groups["level"] != "major"]
    assert (child["parent_code"].map(groups["level"]) == child["level"].map(up)).all()


def test_soc_titles_and_definitions(groups):
    assert groups.loc["15-1252", "title"] == "Software Developers"
    assert groups.loc["11-1011", "definition"].startswith("Determine and formulate policies")
    assert groups.loc[groups["level"] == "detailed", "definition"].notna().all()
    assert groups.loc[groups["level"] == "major", "definition"].isna().all()


def test_crosswalk_sizes(xwalk):
    sizes = xwalk.groupby(["from_system", "to_system"]).agg(
        rows=("from_code", "size"), from_codes=("from_code", "nunique"), to_codes=("to_code", "nunique"))
    assert sizes.loc[("onetsoc2019", "soc2018")].tolist() == [1016, 1016, 867]
    assert sizes.loc[("soc2010", "soc2018")].tolist() == [900, 840, 867]
    assert sizes.loc[("onetsoc2010", "onetsoc2019")].tolist() == [1164, 1110, 1012]
    assert sizes.loc[("isco08", "soc2010")].tolist() == [1125, 438, 840]
    assert not xwalk.duplicated(["from_system", "from_code", "to_system", "to_code"]).any()


def test_crosswalks_reach_every_soc_detailed_code(xwalk, groups):
    detailed = set(groups.index[groups["level"] == "detailed"])
    for system in ("onetsoc2019", "soc2010"):
        to = set(xwalk.loc[(xwalk["from_system"] == system) & (xwalk["to_system"] == "soc2018"), "to_code"])
        assert to == detailed, system


def test_onet_to_soc_spot_values(xwalk):
    onet = xwalk[xwalk["from_system"] == "onetsoc2019"].set_index("from_code")
    assert onet.loc["11-1011.03", "to_code"] == "11-1011"  # Chief Sustainability Officers
    assert onet.loc["15-1252.00", "to_code"] == "15-1252"
    assert (onet["to_code"] == onet.index.str[:7]).all()  # O*NET-SOC codes extend their SOC code


def test_soc2010_titles_lose_bls_markers(xwalk):
    soc10 = xwalk[xwalk["from_system"] == "soc2010"]
    assert not soc10["from_title"].str.contains("#").any() and not soc10["to_title"].str.contains("#").any()
    split = soc10[soc10["from_code"] == "15-1132"]  # Software Developers, Applications
    assert set(split["to_code"]) == {"15-1252", "15-1253"}
    assert set(split["from_title"]) == {"Software Developers, Applications"}


def test_isco_codes_are_clean_text(xwalk):
    isco = xwalk[xwalk["from_system"] == "isco08"]
    assert (isco["from_code"].str.fullmatch(r"\d{4}") | isco["from_code"].isin(["211", "315"])).all()
    assert not (isco["to_code"].str.endswith(" ") | isco["from_code"].str.endswith(" ")).any()
    assert set(isco.loc[isco["from_code"] == "0110", "to_code"]) >= {"55-1011", "55-1019"}
    assert set(isco.loc[isco["from_code"] == "2512", "to_code"]) >= {"15-1132", "15-1133"}  # software developers


def test_isco_sheets_agree(raw):
    # isco_pairs raises if the two sheets list different pairs; the 'part' stars are consistent too
    by_isco = raw.read("taxonomy_isco_soc_crosswalk")
    code = crosswalks.isco_code(by_isco["ISCO-08 Code"], by_isco["Comment 8/17/11"])
    several = code.map(code.value_counts()) > 1
    starred = by_isco["part"].eq("*")
    assert (starred <= several).all()  # a star is only set on an ISCO code with several SOC matches
