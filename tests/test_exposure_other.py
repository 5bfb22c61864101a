"""The other exposure measures (Felten AIOE/AIIE, FRS 2018, SML, DAIOE, ILO, Frey-Osborne) from the real files.

Spot values were read from the raw files by hand; counts and ranges are those a user sees.
"""
from __future__ import annotations

import pandas as pd
import pytest
import yaml

from taskshift.contracts import Contract
from taskshift.build.ingest import daioe, felten, frey_osborne, frs2018, ilo, sml
from taskshift.resources import dataset_files, schema_files
from taskshift.build.sources import RawReader

MODULES = {"felten": felten, "frs2018": frs2018, "sml": sml, "daioe": daioe, "ilo": ilo, "frey_osborne": frey_osborne}
TABLES = ("industry_exposure", "ilo_task_exposure", "ilo_occupation_exposure", "exposure_by_year")
CODE_PATTERNS = {"soc2010": r"\d{2}-\d{4}", "onetsoc2010": r"\d{2}-\d{4}\.\d{2}", "isco08": r"\d{4}"}


@pytest.fixture(scope="module")
def raw(sources_dir):
    return RawReader(sources_dir)


@pytest.fixture(scope="module")
def loaded(raw):
    return {name: module.load(raw) for name, module in MODULES.items()}


@pytest.fixture(scope="module")
def scores(loaded):
    """All native scores, indexed by (measure_id, native_code)."""
    frames = pd.concat([out["native_scores"] for out in loaded.values()], ignore_index=True)
    return frames.set_index(["measure_id", "native_code"])


def score(scores, measure_id, code):
    return scores.loc[(measure_id, code), "score"]


@pytest.fixture(scope="module")
def registry():
    measures = {}
    for name in MODULES:
        for m in yaml.safe_load(dataset_files().joinpath("measures", f"{name}.yaml").read_text("utf-8")):
            measures[m["measure_id"]] = m
    return measures


# --- native_scores: shape shared by every module ---------------------------------------------------
def test_native_scores_are_clean_and_unique(loaded):
    for name, out in loaded.items():
        ns = out["native_scores"]
        assert list(ns.columns) == ["measure_id", "code_system", "native_code", "score", "coverage"], name
        assert not ns.duplicated(["measure_id", "native_code"]).any(), name
        assert ns["score"].notna().all() and ns["coverage"].isna().all(), name
        for system, codes in ns.groupby("code_system")["native_code"]:
            assert codes.str.fullmatch(CODE_PATTERNS[system]).all(), (name, system)
            assert (codes == codes.str.strip()).all()


def test_measure_counts_code_systems_and_ranges(scores):
    summary = scores.reset_index().groupby("measure_id").agg(
        n=("score", "size"), system=("code_system", "first"), lo=("score", "min"), hi=("score", "max"))
    expected = {  # measure: (rows, code system, min, max)
        "felten2021_aioe": (774, "soc2010", -2.669758, 1.527667),
        "felten2023_lm_aioe": (774, "soc2010", -1.853906, 1.925633),
        "felten2023_ig_aioe": (774, "soc2010", -3.654782, 2.420953),
        "frs2018_ai_score": (772, "soc2010", 1.416977047920227, 6.537287712097168),
        "bmr2018_sml": (951, "onetsoc2010", 2.780474662, 3.939378738),
        "daioe2024_allapps": (966, "onetsoc2010", None, 56.770428),
        "daioe2024_genai": (966, "onetsoc2010", None, 5.666683),
        "ilo2025_genai": (427, "isco08", 0.09, 0.70),
        "ilo2023_genai": (427, "isco08", 0.08, 0.77),
        "frey_osborne2013_computerisation": (702, "soc2010", 0.0028, 0.99),
    }
    assert sorted(summary.index) == sorted(expected)
    for measure, (n, system, lo, hi) in expected.items():
        row = summary.loc[measure]
        assert row["n"] == n and row["system"] == system, measure
        if lo is not None:
            assert row["lo"] == pytest.approx(lo, abs=1e-6), measure
        assert row["hi"] == pytest.approx(hi, abs=1e-6), measure


def test_every_measure_is_registered(loaded, registry):
    emitted = {m for out in loaded.values() for m in out["native_scores"]["measure_id"]}
    emitted |= set(loaded["felten"]["industry_exposure"]["measure_id"])
    emitted |= set(loaded["daioe"]["exposure_by_year"]["measure_id"])
    assert emitted == set(registry)
    keys = {"measure_id", "family", "consensus_role", "evidence", "consensus_note", "title", "scale", "direction",
            "level", "code_system", "method", "citation", "url", "license", "redistributable", "source_ids"}
    for m in registry.values():
        assert set(m) == keys, m["measure_id"]
    # the registry agrees with the manifest on licensing
    from taskshift.build.sources import load_manifest
    manifest = load_manifest()
    for m in registry.values():
        for sid in m["source_ids"]:
            assert manifest[sid].redistributable == m["redistributable"], (m["measure_id"], sid)
    assert {m["measure_id"] for m in registry.values() if m["redistributable"]} == {
        "frs2018_ai_score", *(f"daioe2024_{a}" for a in daioe.APPS)}


def test_tables_meet_their_contracts(loaded):
    frames = {"industry_exposure": loaded["felten"]["industry_exposure"],
              "exposure_by_year": loaded["daioe"]["exposure_by_year"],
              "ilo_task_exposure": loaded["ilo"]["ilo_task_exposure"],
              "ilo_occupation_exposure": loaded["ilo"]["ilo_occupation_exposure"]}
    for name in TABLES:
        spec = yaml.safe_load(schema_files().joinpath("tables", f"{name}.yaml").read_text("utf-8"))
        contract = Contract.from_yaml(name, "table", spec)
        table = contract.validate(frames[name].reset_index(drop=True), where=f"table {name}")
        assert len(table) == len(frames[name])


# --- Felten, Raj & Seamans ----------------------------------------------------------------------
def test_aioe_spot_values(scores):
    assert score(scores, "felten2021_aioe", "11-1011") == pytest.approx(1.334246)   # Chief Executives
    assert score(scores, "felten2021_aioe", "53-7121") == pytest.approx(-1.38776)
    assert score(scores, "felten2023_lm_aioe", "11-1021") == pytest.approx(0.6776147)
    assert score(scores, "felten2023_ig_aioe", "11-1011") == pytest.approx(1.309602)
    # the one SOC 2010 broad-group code, kept as published
    assert score(scores, "felten2021_aioe", "19-1020") == pytest.approx(0.752081)


def test_aioe_codes_outside_soc2010(raw, scores):
    soc2010 = set(raw.read("taxonomy_soc_2010_to_2018_crosswalk")["2010 SOC Code"].str.strip())
    for measure in ("felten2021_aioe", "felten2023_lm_aioe", "felten2023_ig_aioe"):
        assert set(scores.loc[measure].index) - soc2010 == set(felten.NON_SOC2010_CODES)
    assert all(set(v) <= soc2010 for v in felten.NON_SOC2010_CODES.values())


def test_aioe_is_standardised(scores):
    for measure in ("felten2021_aioe", "felten2023_lm_aioe", "felten2023_ig_aioe"):
        s = scores.loc[measure, "score"]
        assert s.mean() == pytest.approx(0, abs=1e-6) and s.std() == pytest.approx(1, abs=1e-6)


def test_aiie_industries(loaded):
    ind = loaded["felten"]["industry_exposure"].set_index(["measure_id", "industry_code"])
    assert ind.groupby(level=0).size().to_dict() == {
        "felten2021_aiie": 250, "felten2023_lm_aiie": 250, "felten2023_ig_aiie": 250}
    # every measure covers the same 250 industries
    codes = ind.reset_index().groupby("measure_id")["industry_code"].apply(frozenset)
    assert codes.nunique() == 1
    logging = ind.loc[("felten2021_aiie", "113300")]
    assert (logging["naics_code"], logging["naics_level"], logging["title"]) == ("1133", 4, "Logging")
    assert logging["score"] == pytest.approx(-1.360161)
    assert ind.loc[("felten2023_lm_aiie", "611100"), "score"] == pytest.approx(1.44894)
    assert ind.loc[("felten2023_ig_aiie", "113300"), "score"] == pytest.approx(-0.0750081)
    # appendix B's repeated label 3250 is told apart by title: (3251, 3252, 3253, 3259) is 3250A1
    chem = ind.loc[("felten2021_aiie", "3250A1")]
    assert chem["title"] == "Chemical Manufacturing (3251, 3252, 3253, and 3259 only)"
    assert chem["score"] == pytest.approx(-0.3080356)
    assert ind.loc[("felten2021_aiie", "3250A2"), "score"] == pytest.approx(-0.1203409)
    assert (chem["naics_code"], chem["naics_level"]) == ("325", 3)
    real_estate = ind.loc[("felten2021_aiie", "531000")]
    assert (real_estate["naics_code"], real_estate["naics_level"]) == ("531", 3)
    levels = ind.loc["felten2021_aiie"]
    assert levels["naics_level"].value_counts().to_dict() == {4: 230, 3: 20}  # 14 OES groups + 6 whole 3-digit subsectors
    assert levels.index.str.fullmatch(r"\d{3}0A\d").sum() == 14


# --- FRS 2018, SML -------------------------------------------------------------------------------
def test_frs2018_spot_values(scores):
    assert score(scores, "frs2018_ai_score", "53-2011") == pytest.approx(6.537287712097168)  # Air traffic controllers
    assert score(scores, "frs2018_ai_score", "41-9012") == pytest.approx(1.416977047920227)


def test_sml_spot_values(scores):
    assert score(scores, "bmr2018_sml", "11-1011.03") == pytest.approx(3.437006689)
    assert score(scores, "bmr2018_sml", "31-9011.00") == pytest.approx(2.780474662)  # Massage Therapists, lowest


# --- DAIOE ---------------------------------------------------------------------------------------
def test_daioe_panel(loaded):
    panel = loaded["daioe"]["exposure_by_year"]
    assert not panel.duplicated(["measure_id", "native_code", "year"]).any()
    assert panel["native_code"].nunique() == 966
    assert len(panel) == 123648  # 966 x 14 x 11 minus the years before an application was measured
    assert panel["score"].notna().all() and panel["pctl_rank"].between(0, 100).all()
    first_year = panel.groupby("measure_id")["year"].min().to_dict()
    assert first_year["daioe2024_allapps"] == 2010 and first_year["daioe2024_videogames"] == 2013
    assert first_year["daioe2024_lngmod"] == 2012 and first_year["daioe2024_imgcompr"] == 2016
    ceo = panel.set_index(["measure_id", "native_code", "year"]).loc[("daioe2024_allapps", "11-1011.00", 2010)]
    assert ceo["score"] == pytest.approx(0.23486593) and ceo["pctl_rank"] == pytest.approx(38.349998)


def test_daioe_role_scores_are_the_2023_levels(loaded, scores):
    panel = loaded["daioe"]["exposure_by_year"]
    latest = panel[panel["year"] == 2023].set_index(["measure_id", "native_code"])["score"]
    for measure in ("daioe2024_allapps", "daioe2024_genai"):
        native = scores.loc[measure, "score"]
        pd.testing.assert_series_equal(native.sort_index(), latest.loc[measure].sort_index(), check_names=False)


# --- ILO -----------------------------------------------------------------------------------------
def test_ilo_scores(loaded, scores):
    assert score(scores, "ilo2025_genai", "1111") == pytest.approx(0.31)  # Legislators
    assert score(scores, "ilo2023_genai", "1111") == pytest.approx(0.22)
    occ = loaded["ilo"]["ilo_occupation_exposure"].set_index("isco08_code")
    assert len(occ) == 427 and occ.index.str.fullmatch(r"\d{4}").all()
    assert occ.loc["1111", "gradient_2025"] == "Not Exposed" and occ.loc["1111", "task_count"] == 8
    assert occ["gradient_2025"].value_counts()["Exposed: Gradient 4"] > 0
    assert occ["task_count"].sum() == 3266


def test_ilo_tasks(loaded):
    tasks = loaded["ilo"]["ilo_task_exposure"]
    assert len(tasks) == 3266 and not tasks.duplicated(["isco08_code", "task_no"]).any()
    first = tasks.set_index(["isco08_code", "task_no"]).loc[("1111", 1)]
    assert first["score_2025"] == pytest.approx(0.34) and first["score_2023"] == pytest.approx(0.1)
    assert first["score_2025_gpt4o"] == pytest.approx(0.33) and first["score_2025_gemini"] == pytest.approx(0.35)
    assert (tasks["score_2025_method"] == "reconciled").sum() == 46
    assert tasks["score_2023"].isna().sum() == 3
    # the published occupation mean is the task mean rounded to 2 decimals
    means = tasks.groupby("isco08_code")["score_2025"].mean()
    occ = loaded["ilo"]["ilo_occupation_exposure"].set_index("isco08_code")["mean_score_2025"]
    assert (means - occ).abs().max() <= 0.0051


def test_isco_codes_keep_leading_zeros():
    assert ilo.isco_code(pd.Series(["110", 210, "0310", " 1111 ", 2511.0])).tolist() == ["0110", "0210", "0310", "1111", "2511"]


# --- Frey & Osborne ------------------------------------------------------------------------------
def test_frey_osborne_spot_values(scores):
    assert score(scores, "frey_osborne2013_computerisation", "29-1125") == pytest.approx(0.0028)  # Recreational therapists
    assert score(scores, "frey_osborne2013_computerisation", "41-9041") == pytest.approx(0.99)  # Telemarketers
    assert score(scores, "frey_osborne2013_computerisation", "29-1060") == pytest.approx(0.0042)  # broad group, kept


def test_frey_osborne_aggregate_codes(raw, scores):
    soc2010 = set(raw.read("taxonomy_soc_2010_to_2018_crosswalk")["2010 SOC Code"].str.strip())
    codes = set(scores.loc["frey_osborne2013_computerisation"].index)
    assert codes - soc2010 == set(frey_osborne.AGGREGATE_CODES)  # the 17 codes outside SOC 2010, kept as is
    for aggregate, members in frey_osborne.AGGREGATE_CODES.items():
        assert members and set(members) <= soc2010, aggregate  # members are SOC 2010 detailed codes
        assert not set(members) & codes, aggregate  # ... that the table does not score on their own
    assert set(frey_osborne.AGGREGATE_CODES["25-1000"]) == {c for c in soc2010 if c.startswith("25-1")}


def test_frey_osborne_shipped_crosswalk_equals_the_bls_one(raw, sources_dir):
    bls = raw.read("taxonomy_soc_2010_to_2018_crosswalk")
    shipped = pd.read_csv(sources_dir / "exposure/frey_osborne/crosswalk_soc2010_to_soc2018.csv", dtype=str)
    pairs = lambda df: set(zip(df["2010 SOC Code"].str.strip(), df["2018 SOC Code"].str.strip()))  # noqa: E731
    assert len(shipped) == 900 and pairs(shipped) == pairs(bls)
