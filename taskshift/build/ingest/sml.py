"""Brynjolfsson, Mitchell & Rock (2018): suitability for machine learning (SML).

`bmr2018_sml` = `mSML`, the mean SML rating (1-5 rubric) of an occupation's tasks, for 951
O*NET-SOC 2010 occupations (8-digit `11-1011.03`; all are in the O*NET-SOC 2010 taxonomy and
map to O*NET-SOC 2019 through the O*NET 2010->2019 crosswalk). Pre-LLM measure.
"""
from __future__ import annotations

import pandas as pd

from taskshift.build.ingest import native_scores

SOURCES = ("sml_scores",)
MEASURE_ID = "bmr2018_sml"


def load(raw) -> dict[str, pd.DataFrame]:
    df = raw.read("sml_scores")
    return {"native_scores": native_scores(MEASURE_ID, "onetsoc2010", df["occ_code"], df["mSML"])}
