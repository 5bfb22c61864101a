"""Derive `roles`: one row per O*NET-SOC occupation with its SOC 2018 groups and labour figures."""
from __future__ import annotations

import pandas as pd


def soc_parents(soc_code: pd.Series) -> pd.DataFrame:
    """SOC 2018 major, minor and broad group codes of detailed codes (15-1252 -> 15-0000, 15-1200, 15-1250)."""
    return pd.DataFrame({
        "major_group": soc_code.str[:2] + "-0000",
        "minor_group": soc_code.str[:5] + "00",
        "broad_group": soc_code.str[:6] + "0",
    }, index=soc_code.index)


def derive(ctx) -> None:
    roles = ctx.frames.pop("onet_roles")
    roles = pd.concat([roles, soc_parents(roles["soc_code"])], axis=1)
    ctx.frames["roles"] = roles
