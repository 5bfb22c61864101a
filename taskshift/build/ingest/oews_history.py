"""BLS OEWS national estimates May 2019 -> May 2025 -> `oews_history` (one row per year and occupation code).

Years read (manifests `dataset/sources/oews_history.toml` and `bls.toml`):

| year     | source id                          | codes                                                   |
|----------|------------------------------------|---------------------------------------------------------|
| May 2019 | oews_history_national_m2019_dl     | hybrid (see below); lower-case headers                  |
| May 2020 | oews_history_national_m2020_dl     | hybrid (see below)                                      |
| May 2021 | oews_history_national_m2021_dl     | SOC 2018 (831 detailed codes)                           |
| May 2022 | oews_history_national_m2022_dl     | SOC 2018 (830: 29-1024 Prosthodontists not published)   |
| May 2023 | oews_history_national_m2023_dl     | SOC 2018 (831)                                          |
| May 2024 | bls_national_m2024_dl (CSV)        | SOC 2018 (831)                                          |
| May 2025 | bls_national_m2025_dl              | SOC 2018 (830: 11-1031 Legislators not published)       |

May 2019 and May 2020 use BLS *hybrid* codes: the SOC 2018 codes that the 2010 -> 2018 change kept
or could already split, plus 30 BLS aggregates of codes it could not yet split (e.g. 15-1256
Software Developers and Software Quality Assurance Analysts and Testers = 15-1252 + 15-1253 from May
2021; 13-1198, 11-9198, ... "All Other" combinations). A hybrid code is never compared with a SOC 2018
code: it has no row after 2020, and the SOC 2018 codes it covers have none before 2021. The change
2019 -> 2022 exists only for codes published under the same number in both years.

Columns: `year`, `code`, `title`, `o_group` (total/major/minor/broad/detailed), `employment`,
`employment_rse`, `mean_wage`, `median_wage` (annual, USD), `mean_hourly_wage`,
`median_hourly_wage`, `wage_flag` (why a wage is null; the same rules as `labor_stats`). A code
printed twice (as broad and as detailed, an aggregate) keeps its detailed row.

Use in the build: `taskshift.build.derive.harmonise` weights SOC 2010 codes by their May 2019
employment where several of them feed one role; `taskshift.build.derive.labour_history` makes the
series, the changes and the "is exposure showing up?" table from it.
"""
from __future__ import annotations

import pandas as pd

from taskshift.build.ingest.oews import tidy_oews

YEARS = {
    2019: "oews_history_national_m2019_dl",
    2020: "oews_history_national_m2020_dl",
    2021: "oews_history_national_m2021_dl",
    2022: "oews_history_national_m2022_dl",
    2023: "oews_history_national_m2023_dl",
    2024: "bls_national_m2024_dl",
    2025: "bls_national_m2025_dl",
}
SOURCES = tuple(YEARS.values())


def upper(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.rename(columns=str.upper)  # 2019 uses lower-case headers, later years upper-case
    for col in ("ANNUAL", "HOURLY"):
        if col not in frame:
            frame[col] = None
    return frame


def load(raw) -> dict[str, pd.DataFrame]:
    # one tidy_oews over the rows of every year (per year and code), not one per year
    rows = pd.concat([upper(raw.read(source_id)).assign(year=year) for year, source_id in sorted(YEARS.items())],
                     ignore_index=True)
    return {"oews_history": tidy_oews(rows, by="year").sort_values(["year", "code"], ignore_index=True)}
