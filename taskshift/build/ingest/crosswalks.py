"""Occupation crosswalks -> `crosswalks`, one long table of code pairs between classification systems.

| from_system -> to_system    | source                                 | rows  |
|-----------------------------|----------------------------------------|-------|
| onetsoc2019 -> soc2018      | O*NET-SOC 2019 to 2018 SOC crosswalk   | 1,016 |
| soc2010     -> soc2018      | BLS 2010 to 2018 SOC crosswalk         |   900 |
| onetsoc2010 -> onetsoc2019  | O*NET-SOC 2010 to 2019 crosswalk       | 1,164 |
| isco08      -> soc2010      | BLS ISCO-08 to 2010 SOC crosswalk      | 1,125 |

Pairs are many-to-many in general: weights are not published, so none are invented here.
ISCO-08 reaches SOC 2018 only through SOC 2010 (BLS publishes no direct ISCO-08 <-> SOC 2018 table).
"""
from __future__ import annotations

import pandas as pd

SOURCES = (
    "taxonomy_2019_to_soc_crosswalk",
    "taxonomy_soc_2010_to_2018_crosswalk",
    "taxonomy_2010_to_2019_crosswalk",
    "taxonomy_isco_soc_crosswalk",
    "taxonomy_isco_soc_crosswalk_by_soc",
)

COLUMNS = ["from_system", "from_code", "from_title", "to_system", "to_code", "to_title", "source_id"]


def pairs(frame: pd.DataFrame, source_id: str, from_system: str, from_cols: list[str],
          to_system: str, to_cols: list[str]) -> pd.DataFrame:
    out = pd.DataFrame({
        "from_system": from_system,
        "from_code": frame[from_cols[0]].str.strip(),
        "from_title": frame[from_cols[1]].str.strip(),
        "to_system": to_system,
        "to_code": frame[to_cols[0]].str.strip(),
        "to_title": frame[to_cols[1]].str.strip(),
        "source_id": source_id,
    })
    return out[COLUMNS]


def isco_code(code: pd.Series, comment: pd.Series) -> pd.Series:
    """ISCO-08 codes as 4-digit text; the file marks its two 3-digit minor-group matches in the comment.

    Guards against a reader that turned the text '0110' into the number 110.
    """
    code = code.str.strip()
    three_digit = comment.fillna("").str.contains("3-digit")
    return code.where(three_digit, code.str.zfill(4))


def isco_pairs(raw) -> pd.DataFrame:
    """ISCO-08 -> SOC 2010 from the ISCO-sorted sheet, checked against the SOC-sorted sheet."""
    by_isco = raw.read("taxonomy_isco_soc_crosswalk")
    by_soc = raw.read("taxonomy_isco_soc_crosswalk_by_soc")
    for sheet in (by_isco, by_soc):
        sheet["ISCO-08 Code"] = isco_code(sheet["ISCO-08 Code"], sheet["Comment 8/17/11"])
        sheet["2010 SOC Code"] = sheet["2010 SOC Code"].str.strip()
    key = ["ISCO-08 Code", "2010 SOC Code"]
    if set(map(tuple, by_isco[key].values)) != set(map(tuple, by_soc[key].values)):
        raise ValueError("the two sheets of isco_soc_crosswalk.xls list different ISCO-08/SOC 2010 pairs")
    return pairs(by_isco, "taxonomy_isco_soc_crosswalk", "isco08", ["ISCO-08 Code", "ISCO-08 Title EN"],
                 "soc2010", ["2010 SOC Code", "2010 SOC Title"])


def load(raw) -> dict[str, pd.DataFrame]:
    soc10 = raw.read("taxonomy_soc_2010_to_2018_crosswalk")
    for col in ("2010 SOC Title", "2018 SOC Title"):
        # BLS change markers, not part of the title: (#) 2010 code split, (##) 2018 code merged
        soc10[col] = soc10[col].str.replace(r"\s*\(#{1,2}\)\s*$", "", regex=True)
    frames = [
        pairs(raw.read("taxonomy_2019_to_soc_crosswalk"), "taxonomy_2019_to_soc_crosswalk",
              "onetsoc2019", ["O*NET-SOC 2019 Code", "O*NET-SOC 2019 Title"],
              "soc2018", ["2018 SOC Code", "2018 SOC Title"]),
        pairs(soc10, "taxonomy_soc_2010_to_2018_crosswalk",
              "soc2010", ["2010 SOC Code", "2010 SOC Title"], "soc2018", ["2018 SOC Code", "2018 SOC Title"]),
        pairs(raw.read("taxonomy_2010_to_2019_crosswalk"), "taxonomy_2010_to_2019_crosswalk",
              "onetsoc2010", ["O*NET-SOC 2010 Code", "O*NET-SOC 2010 Title"],
              "onetsoc2019", ["O*NET-SOC 2019 Code", "O*NET-SOC 2019 Title"]),
        isco_pairs(raw),
    ]
    table = pd.concat(frames, ignore_index=True)
    return {"crosswalks": table.sort_values(["from_system", "from_code", "to_code"], ignore_index=True)}
