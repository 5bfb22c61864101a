"""SOC 2018 hierarchy -> `soc_groups` (23 major, 98 minor, 459 broad, 867 detailed codes).

Parents come from the order of the official structure file (each code sits under the last code of
the level above), not from the digits: e.g. broad 15-1210 belongs to minor 15-1200, not 15-1000.
Titles and definitions come from the definitions file; both files must list the same codes.
"""
from __future__ import annotations

import pandas as pd

SOURCES = ("taxonomy_soc_structure_2018", "taxonomy_soc_2018_definitions")

LEVELS = {"Major Group": "major", "Minor Group": "minor", "Broad Group": "broad", "Detailed Occupation": "detailed"}


def hierarchy(structure: pd.DataFrame) -> pd.DataFrame:
    """code, level, parent_code, major_code from the structure sheet's layout."""
    rows, last = [], {}
    for line, cells in zip(structure.index, structure[list(LEVELS)].itertuples(index=False, name=None)):
        filled = [depth for depth, cell in enumerate(cells) if pd.notna(cell)]
        if len(filled) != 1:
            raise ValueError(f"SOC structure row has {len(filled)} codes: {structure.loc[line].to_dict()}")
        depth = filled[0]
        level = list(LEVELS.values())[depth]
        last[level] = cells[depth]
        parent = last[list(LEVELS.values())[depth - 1]] if depth else None
        rows.append({"code": cells[depth], "level": level, "parent_code": parent, "major_code": last["major"]})
    return pd.DataFrame(rows)


def load(raw) -> dict[str, pd.DataFrame]:
    tree = hierarchy(raw.read("taxonomy_soc_structure_2018"))
    defs = raw.read("taxonomy_soc_2018_definitions").rename(columns={
        "SOC Code": "code", "SOC Group": "group", "SOC Title": "title", "SOC Definition": "definition"})
    groups = tree.merge(defs, on="code", how="outer", validate="one_to_one", indicator=True)
    if not (groups["_merge"] == "both").all() or not (groups["group"].str.lower() == groups["level"]).all():
        bad = groups[(groups["_merge"] != "both") | (groups["group"].str.lower() != groups["level"])]
        raise ValueError(f"SOC structure and definitions disagree on {len(bad)} codes: {bad['code'].tolist()[:5]}")
    groups["title"] = groups["title"].str.strip()
    groups["definition"] = groups["definition"].str.strip()
    cols = ["code", "level", "title", "definition", "parent_code", "major_code"]
    return {"soc_groups": groups[cols].sort_values("code", ignore_index=True)}
