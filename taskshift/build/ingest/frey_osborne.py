"""Frey & Osborne (2013/2017): probability of computerisation of 702 occupations.

`frey_osborne2013_computerisation` = `Probability` (0-1) on the SOC 2010 codes of the paper's
appendix, as BLS OES 2010 used them. 685 are SOC 2010 detailed codes; 17 are not and are kept
exactly as published (`AGGREGATE_CODES` lists them with the SOC 2010 detailed codes they stand for):
SOC broad groups (`29-1060`, `15-1150`, `45-2090`: `xx-xxx0`), a minor group (`25-1000`), OES-only
aggregates (`xx-x799`, `xx-x999`, `51-9399`, `15-1179`, `39-4831`, `13-1078`, `29-2037`) and one SOC 2000
code (`29-1111`, Registered nurses; SOC 2010 29-1141, 29-1151, 29-1161, 29-1171). Titles carry parse
typos and are not carried.

The upstream repository also ships a SOC 2010->2018 crosswalk; it is not read. Its 900 code pairs are
identical to the BLS crosswalk pinned in taxonomy/ (soc_2010_to_2018_crosswalk.xlsx), which is what the
harmoniser uses.
"""
from __future__ import annotations

import pandas as pd

from taskshift.build.ingest import code_aliases, native_scores

SOURCES = ("frey_osborne_scores",)
MEASURE_ID = "frey_osborne2013_computerisation"

#: The 17 codes of the table that are not SOC 2010 detailed occupations -> the SOC 2010 detailed codes
#: they stand for (a proposal for the harmoniser; the groups are exact, the OES hybrids are inferred
#: from their titles and from which SOC 2010 codes are absent from the table). Every member listed is
#: absent from the table as a code of its own.
AGGREGATE_CODES: dict[str, tuple[str, ...]] = {
    # SOC 2010 broad groups (xx-xxx0) and a minor group (xx-x000): every detailed code under them.
    "29-1060": ("29-1061", "29-1062", "29-1063", "29-1064", "29-1065", "29-1066", "29-1067", "29-1069"),
    "15-1150": ("15-1151", "15-1152"),
    "45-2090": ("45-2091", "45-2092", "45-2093", "45-2099"),
    "25-1000": (
        "25-1011", "25-1021", "25-1022", "25-1031", "25-1032", "25-1041", "25-1042", "25-1043",
        "25-1051", "25-1052", "25-1053", "25-1054", "25-1061", "25-1062", "25-1063", "25-1064",
        "25-1065", "25-1066", "25-1067", "25-1069", "25-1071", "25-1072", "25-1081", "25-1082",
        "25-1111", "25-1112", "25-1113", "25-1121", "25-1122", "25-1123", "25-1124", "25-1125",
        "25-1126", "25-1191", "25-1192", "25-1193", "25-1194", "25-1199",
    ),
    # SOC 2000 code: Registered Nurses, split in SOC 2010 into RNs and three advanced-practice codes.
    "29-1111": ("29-1141", "29-1151", "29-1161", "29-1171"),
    # BLS OES 2010-2011 hybrid codes (not in SOC 2010). Members: the SOC 2010 codes named by the
    # aggregate's title, or the 'all other' code plus the SOC 2010 codes split out of it; none of the
    # members appears separately in the table.
    "25-3999": ("25-3099",),
    "13-1078": ("13-1071", "13-1075"),  # the SOC 2000 13-1079 remainder; covers 13-1071 only in part
    "15-1179": ("15-1122", "15-1134", "15-1143"),
    "15-1799": ("15-1199",),
    "29-2037": ("29-2034", "29-2035"),
    "29-2799": ("29-2092", "29-2099"),
    "29-9799": ("29-9092", "29-9099"),
    "31-9799": ("31-9097", "31-9099"),
    "39-4831": ("11-9061", "39-4031"),
    "47-4799": ("47-4099",),
    "49-9799": ("49-9081", "49-9099"),
    "51-9399": ("51-9199",),
}


def load(raw) -> dict[str, pd.DataFrame]:
    df = raw.read("frey_osborne_scores")
    return {"native_scores": native_scores(MEASURE_ID, "soc2010", df["SOC code"], df["Probability"]),
            "code_aliases": code_aliases("soc2010", AGGREGATE_CODES)}
