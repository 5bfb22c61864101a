"""Derive `title_aliases`: the posting words title matching expands, unifies or drops, with their source.

Input: curated `dataset/curated/title_aliases.csv` (alias, expansion, kind, case_sensitive, source).
The build checks that every acronym, abbreviation and spelling expansion is attested by at least one
title of the `titles` table (`onet_titles` counts them); an expansion no title contains would only make
the matcher look for words nobody uses. Runs after `emerging` so the titles table is complete.
"""
from __future__ import annotations

import re

import pandas as pd

from taskshift.build import curated

WORD = re.compile(r"[a-z0-9]+(?:\+\+|#)?")
EXPANDED = ("acronym", "abbreviation", "synonym", "spelling")


def words(text: str) -> str:
    return " ".join(WORD.findall(str(text).lower()))


def occurrences(phrase: str, text: str) -> int:
    """How often `phrase` occurs in `text` with no letter or digit right before or after it (non-overlapping,
    left to right): `len(re.findall(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", text))`, with
    `str.find` doing the scanning (one regex scan of every title per alias was most of this step)."""
    if not phrase:
        return len(re.findall(r"(?<![a-z0-9])(?![a-z0-9])", text))
    n, start, size = 0, 0, len(phrase)
    while True:
        i = text.find(phrase, start)
        if i < 0:
            return n
        end = i + size
        if (i == 0 or not _ALNUM(text[i - 1])) and (end == len(text) or not _ALNUM(text[end])):
            n += 1
            start = end
        else:
            start = i + 1


def _ALNUM(c: str) -> bool:
    return "a" <= c <= "z" or "0" <= c <= "9"


def derive(ctx) -> None:
    from taskshift.build.assemble import BuildError

    aliases = curated.read("title_aliases")
    titles = " | ".join(words(t) for t in ctx.frames["titles"]["title"])
    titles = f"| {titles} |"
    problems, counts = [], []
    for line, r in aliases.iterrows():
        if r["kind"] in EXPANDED:
            if not isinstance(r["expansion"], str) or not r["expansion"].strip():
                problems.append(f"dataset/curated/title_aliases.csv: row {line}: kind {r['kind']} needs an expansion")
                counts.append(None)
                continue
            n = occurrences(words(r["expansion"]), titles)
            if n == 0 and r["kind"] != "abbreviation":
                problems.append(f"dataset/curated/title_aliases.csv: row {line}: expansion {r['expansion']!r} is in no title")
            counts.append(n)
        else:
            if isinstance(r["expansion"], str) and r["expansion"].strip():
                problems.append(f"dataset/curated/title_aliases.csv: row {line}: kind {r['kind']} is dropped, not expanded")
            counts.append(None)
    if problems:
        raise BuildError(problems)
    out = aliases.reset_index(drop=True)
    out["onet_titles"] = pd.array(counts, dtype="Int64")
    out["case_sensitive"] = out["case_sensitive"].astype(int)
    ctx.frames["title_aliases"] = out.sort_values(["kind", "alias"], ignore_index=True)
