"""Ingest modules: one per source family, raw files -> tidy frames (see docs/conventions.md).

The two frames every exposure module hands to `taskshift.build.derive.harmonise` are made here, so their shape
is declared once.
"""
from __future__ import annotations

import pandas as pd


def native_scores(measure_id: str, code_system: str, codes, scores, coverage=None) -> pd.DataFrame:
    """Scores of one measure at its native codes, sorted by code."""
    out = pd.DataFrame({"measure_id": measure_id, "code_system": code_system,
                        "native_code": pd.Series(codes).astype(str).str.strip().to_numpy(),
                        "score": pd.Series(scores).astype("float64").to_numpy(), "coverage": coverage})
    return out.sort_values("native_code", ignore_index=True)


def code_aliases(code_system: str, members: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """Published codes that are not codes of their system, and the codes each stands for."""
    return pd.DataFrame([(code_system, code, member) for code, group in sorted(members.items()) for member in group],
                        columns=["code_system", "native_code", "member_code"])
