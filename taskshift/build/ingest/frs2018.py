"""Felten, Raj & Seamans (2018, AEA P&P): AI impact on occupations through abilities.

`frs2018_ai_score` = `avg_wtd_impact`, the ability-impact score weighted by EFF AI-benchmark progress,
for 772 SOC 2010 detailed occupations (6-digit `53-2011`; all are in the BLS SOC 2010 list).
Unstandardised (about 1.4 to 6.5); the precursor of AIOE (2021) and on a different scale from it.
"""
from __future__ import annotations

import pandas as pd

from taskshift.build.ingest import native_scores

SOURCES = ("frs2018_occupations",)
MEASURE_ID = "frs2018_ai_score"


def load(raw) -> dict[str, pd.DataFrame]:
    df = raw.read("frs2018_occupations")
    return {"native_scores": native_scores(MEASURE_ID, "soc2010", df["occ_code"], df["avg_wtd_impact"])}
