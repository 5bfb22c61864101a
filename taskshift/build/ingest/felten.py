"""Felten, Raj & Seamans: AI Occupational Exposure (AIOE) and AI Industry Exposure (AIIE).

Occupation scores (SOC 2010, 6-digit `15-1132`) -> `native_scores` for three measures:
`felten2021_aioe` (2021 SMJ appendix A), `felten2023_lm_aioe` (language modelling) and
`felten2023_ig_aioe` (image generation). All three are standardised (mean 0, sd 1 over the 774
occupations): compare by rank or percentile, not by level. One code, `19-1020` (Biologists), is not a
SOC 2010 detailed code: it is O*NET-SOC 2010 `19-1020.01` Biologists cut to 6 digits (O*NET-SOC 2019
19-1029.04; SOC 2010 19-1029). It is kept as published; `NON_SOC2010_CODES` says where it belongs.
The other 773 codes are SOC 2010 detailed codes.

Industry scores -> `industry_exposure` (`felten2021_aiie`, `felten2023_lm_aiie`, `felten2023_ig_aiie`),
keyed by the 6-character BLS OES industry code the 2023 files use: a NAICS code right-padded with
zeros (`113300` = NAICS 1133, `327000` = NAICS 327), or `xxx0A1`/`A2`/`A3` for OES groups of some
4-digit industries of a subsector (e.g. `3250A1` = NAICS 3251, 3252, 3253 and 3259), or `9991..9993`+`00`
for the OES government designations. Appendix B of the 2021 file labels rows by 4-digit NAICS only, so
its three repeated labels (3250, 3320, 4240) are told apart by their titles, which are identical to
the 2023 files' titles; the module joins on them and checks the join is one-to-one and agrees with
the 4-digit label.
"""
from __future__ import annotations

import pandas as pd

from taskshift.build.ingest import code_aliases, native_scores

SOURCES = ("felten_aioe", "felten_lm_aioe", "felten_ig_aioe", "felten_aiie", "felten_lm_aiie", "felten_ig_aiie")

#: measure_id -> (source id, score column) for occupation scores (SOC 2010).
OCCUPATION_MEASURES = {
    "felten2021_aioe": ("felten_aioe", "AIOE"),
    "felten2023_lm_aioe": ("felten_lm_aioe", "Language Modeling AIOE"),
    "felten2023_ig_aioe": ("felten_ig_aioe", "Image Generation AIOE"),
}
#: measure_id -> (source id, title column, score column) for industry scores.
INDUSTRY_MEASURES = {
    "felten2021_aiie": ("felten_aiie", "Industry Title", "AIIE"),
    "felten2023_lm_aiie": ("felten_lm_aiie", "NAICS Description", "Language Modeling AIIE"),
    "felten2023_ig_aiie": ("felten_ig_aiie", "NAICS Description", "Image Generation AIIE"),
}
#: Occupation codes that are not SOC 2010 detailed codes -> the SOC 2010 detailed code(s) they stand for.
NON_SOC2010_CODES = {"19-1020": ("19-1029",)}  # O*NET-SOC 2010 19-1020.01 Biologists -> 2019 19-1029.04


def load(raw) -> dict[str, pd.DataFrame]:
    return {"native_scores": occupation_scores(raw), "industry_exposure": industry_exposure(raw),
            "code_aliases": code_aliases("soc2010", NON_SOC2010_CODES)}


def soc_code(code: pd.Series) -> pd.Series:
    """SOC 2010 codes as `NN-NNNN`: stripped; a code stored without its hyphen gets one."""
    code = code.astype(str).str.strip().str.replace(r"^(\d{2})(\d{4})$", r"\1-\2", regex=True)
    bad = ~code.str.fullmatch(r"\d{2}-\d{4}")
    if bad.any():
        raise ValueError(f"unexpected SOC codes: {code[bad].tolist()[:5]}")
    return code


def occupation_scores(raw) -> pd.DataFrame:
    frames = []
    for measure_id, (source_id, column) in OCCUPATION_MEASURES.items():
        df = raw.read(source_id)
        frames.append(native_scores(measure_id, "soc2010", soc_code(df["SOC Code"]), df[column]))
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["measure_id", "native_code"], ignore_index=True)


def industry_code(naics: pd.Series) -> pd.Series:
    """The 6-character OES industry code: stripped, upper case; numbers stored as such become text."""
    code = naics.astype(str).str.strip().str.upper().str.replace(r"\.0$", "", regex=True)
    bad = ~code.str.fullmatch(r"\d{6}|\d{3}0A\d")
    if bad.any():
        raise ValueError(f"unexpected OES industry codes: {code[bad].tolist()[:5]}")
    return code


def naics_of(code: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(naics_code, naics_level) of an OES industry code.

    `113300` -> (`1133`, 4); `327000` -> (`327`, 3); `3250A1` -> (`325`, 3): an OES group of some of the
    4-digit industries of subsector 325 (the title says which). 4-digit NAICS codes never end in 0, so
    a 0 in the fourth place marks a 3-digit code. `999100`..`999300` -> (`9991`..`9993`, 4): OES
    designations for government, not NAICS codes.
    """
    three = code.str[3].eq("0")
    naics = code.str[:4].where(~three, code.str[:3])
    level = pd.Series(4, index=code.index, dtype="Int64").where(~three, 3)
    return naics, level


def industry_exposure(raw) -> pd.DataFrame:
    lm = raw.read("felten_lm_aiie")
    codes_by_title = pd.Series(industry_code(lm["NAICS"]).values, index=lm["NAICS Description"].str.strip())
    frames = []
    for measure_id, (source_id, title_col, score_col) in INDUSTRY_MEASURES.items():
        df = raw.read(source_id)
        title = df[title_col].astype(str).str.strip()
        if source_id == "felten_aiie":
            code = title.map(codes_by_title)
            label = df["NAICS"].astype(str).str.strip()
            if code.isna().any() or not (code.str[:4] == label).all():
                bad = df[code.isna() | (code.str[:4] != label)]
                raise ValueError(f"AIIE appendix B rows whose title/NAICS do not match the LM AIIE sheet: "
                                 f"{bad[title_col].tolist()[:5]}")
        else:
            code = industry_code(df["NAICS"])
        naics, level = naics_of(code)
        frames.append(pd.DataFrame({
            "measure_id": measure_id,
            "industry_code": code.values,
            "naics_code": naics.values,
            "naics_level": level.values,
            "title": title.values,
            "score": df[score_col].astype("float64").values,
        }))
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["measure_id", "industry_code"], ignore_index=True)
