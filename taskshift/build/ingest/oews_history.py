"""BLS OEWS national estimates of past years -> `oews_history` (one row per year and occupation code).

Years read (manifest `dataset/sources/oews_history.toml`; one source per year, added as they are used):

| year     | source id                          | codes                                                   |
|----------|------------------------------------|---------------------------------------------------------|
| May 2019 | oews_history_national_m2019_dl     | hybrid: SOC 2018 codes plus BLS aggregates (e.g. 15-1256, 13-1198) of codes the 2010 -> 2018 change could not split yet; lower-case headers |

`oews_history` columns: `year`, `code`, `title`, `o_group` (total/major/minor/broad/detailed),
`employment` (persons, wage and salary jobs; null where OEWS prints '**'). A code printed twice (as
broad and as detailed, an aggregate) keeps its detailed row.

Use in the build: `taskshift.build.derive.harmonise` weights SOC 2010 codes by their May 2019
employment where several of them feed one role (the last year before OEWS moved to SOC 2018; the
codes the 2018 SOC kept carry the figure under the same number).
"""
from __future__ import annotations

import pandas as pd

SOURCES = ("oews_history_national_m2019_dl",)
YEARS = {2019: "oews_history_national_m2019_dl"}
LEVELS = ["total", "major", "minor", "broad", "detailed"]


def tidy(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    cols = {c.lower(): c for c in frame.columns}  # 2019 uses lower-case headers, later years upper-case
    emp = frame[cols["tot_emp"]].astype(str)
    out = pd.DataFrame({
        "year": year,
        "code": frame[cols["occ_code"]].astype(str).str.strip().to_numpy(),
        "title": frame[cols["occ_title"]].astype(str).str.strip().to_numpy(),
        "o_group": frame[cols["o_group"]].to_numpy(),
        "employment": pd.to_numeric(emp.where(emp != "**")).astype("Int64").to_numpy(),
    })
    out["rank"] = out["o_group"].map(LEVELS.index)
    out = out.sort_values(["code", "rank"]).drop_duplicates("code", keep="last").drop(columns="rank")
    return out.reset_index(drop=True)


def load(raw) -> dict[str, pd.DataFrame]:
    parts = [tidy(raw.read(source_id), year) for year, source_id in sorted(YEARS.items())]
    return {"oews_history": pd.concat(parts, ignore_index=True)}
