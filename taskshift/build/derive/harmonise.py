"""Put every measure on the roles: `native_scores` (any code system) -> `role_exposure`.

The crosswalk rules live here and only here (they are also written to the `metadata` table):

- `onetsoc2019` scores are native: the score of role X is the score published for X.
- `soc2018` scores are broadcast to every O*NET-SOC role under the SOC 2018 detailed code.
- `oews` scores (BLS OEWS occupation codes) are expanded to the SOC 2018 codes each OEWS code
  covers (`oews_codes`: an aggregate such as 13-1020 reaches all of its detailed codes), then broadcast.
- `onetsoc2010` scores go through the O*NET-SOC 2010 -> 2019 crosswalk.
- `soc2010` scores go through the BLS SOC 2010 -> 2018 crosswalk, then are broadcast.
- `isco08` scores go through the BLS ISCO-08 -> SOC 2010 crosswalk, then SOC 2010 -> 2018, then broadcast.

Some measures publish codes that are not codes of their system (Frey-Osborne's SOC 2010 broad
groups and OES-only aggregates, AIOE's 19-1020): their modules name the codes these stand for
(`code_aliases`), and the score reaches those codes.

Across a crosswalk, one-to-many links copy the source score to every target; many-to-one links
average the sources with equal weights, because the pinned data have no employment for SOC 2010,
O*NET-SOC 2010 or ISCO-08 codes. Each `role_exposure` row keeps the native codes and weights used.
Employment weights (OEWS May 2024) are used when scores are aggregated *up* from roles
(sectors, workforces), never to invent a source code's size.
"""
from __future__ import annotations

import pandas as pd

from taskshift import scoring

RULES = {
    "native": "published for this O*NET-SOC 2019 code",
    "broadcast": "published for the SOC 2018 (or OEWS) code of the role and copied to each O*NET-SOC role under it",
    "crosswalk_onetsoc2010": "published for O*NET-SOC 2010 codes; O*NET-SOC 2010->2019 crosswalk, equal-weight mean where several codes merge",
    "crosswalk_soc2010": "published for SOC 2010 codes; BLS SOC 2010->2018 crosswalk, equal-weight mean where several codes merge, then broadcast",
    "crosswalk_isco08": "published for ISCO-08 unit groups; BLS ISCO-08->SOC 2010->SOC 2018 crosswalks, equal-weight mean where several codes merge, then broadcast",
}


def links_to_roles(code_system: str, roles: pd.DataFrame, crosswalks: pd.DataFrame,
                   oews_codes: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """(native_code, role_code) pairs for a code system, and the derivation name."""
    by_soc = roles[["code", "soc_code"]].rename(columns={"code": "role_code"})

    def step(frm: str, to: str) -> pd.DataFrame:
        cw = crosswalks[(crosswalks["from_system"] == frm) & (crosswalks["to_system"] == to)]
        return cw[["from_code", "to_code"]].drop_duplicates()

    if code_system == "onetsoc2019":
        return pd.DataFrame({"native_code": roles["code"], "role_code": roles["code"]}), "native"
    if code_system == "soc2018":
        return by_soc.rename(columns={"soc_code": "native_code"})[["native_code", "role_code"]], "broadcast"
    if code_system == "oews":
        soc = oews_codes.rename(columns={"oews_code": "native_code"})[["native_code", "soc_code"]]
        return soc.merge(by_soc, on="soc_code")[["native_code", "role_code"]], "broadcast"
    if code_system == "onetsoc2010":
        cw = step("onetsoc2010", "onetsoc2019").rename(columns={"from_code": "native_code", "to_code": "role_code"})
        return cw[cw["role_code"].isin(roles["code"])], "crosswalk_onetsoc2010"
    if code_system == "soc2010":
        cw = step("soc2010", "soc2018").rename(columns={"from_code": "native_code", "to_code": "soc_code"})
        return cw.merge(by_soc, on="soc_code")[["native_code", "role_code"]], "crosswalk_soc2010"
    if code_system == "isco08":
        isco = step("isco08", "soc2010").rename(columns={"from_code": "native_code", "to_code": "soc2010"})
        soc = step("soc2010", "soc2018").rename(columns={"from_code": "soc2010", "to_code": "soc_code"})
        chain = isco.merge(soc, on="soc2010").merge(by_soc, on="soc_code")
        return chain[["native_code", "role_code"]].drop_duplicates(), "crosswalk_isco08"
    raise ValueError(f"unknown code system {code_system!r}")


def role_exposure(native: pd.DataFrame, roles: pd.DataFrame, crosswalks: pd.DataFrame,
                  oews_codes: pd.DataFrame, aliases: pd.DataFrame | None = None) -> pd.DataFrame:
    """`aliases` (code_system, native_code, member_code): published codes that are not codes of their
    system (an aggregate, a retired code) and the codes they stand for; the rest link as they are."""
    if aliases is None:
        aliases = pd.DataFrame(columns=["code_system", "native_code", "member_code"])
    frames = []
    for (measure_id, system), scores in native.groupby(["measure_id", "code_system"], sort=True):
        links, derivation = links_to_roles(system, roles, crosswalks, oews_codes)
        members = aliases.loc[aliases["code_system"] == system, ["native_code", "member_code"]]
        scores = scores.merge(members, on="native_code", how="left")
        scores["link_code"] = scores["member_code"].fillna(scores["native_code"])
        joined = links.rename(columns={"native_code": "link_code"}).drop_duplicates().merge(
            scores[["link_code", "native_code", "score", "coverage"]], on="link_code")
        joined = (joined.drop(columns="link_code").drop_duplicates(["role_code", "native_code"])
                  .dropna(subset=["score"]).sort_values(["role_code", "native_code"]))
        if joined.empty:
            continue
        n = joined.groupby("role_code")["native_code"].transform("size")
        joined["weight"] = 1.0 / n  # equal weights across the native codes that reach one role
        joined["coverage"] = pd.to_numeric(joined["coverage"]).astype("float64")  # None -> NaN: a numeric mean
        grouped = joined.groupby("role_code", sort=True)
        out = pd.DataFrame({
            "score": scoring.weighted_mean(joined["score"], joined["weight"], joined["role_code"])["score"],
            "coverage": grouped["coverage"].mean(),
            "native_codes": grouped["native_code"].agg(",".join),
            "n_native": grouped.size(),
        }).rename_axis("role_code").reset_index()
        # the weights are equal, so their text follows from n (one format per distinct n)
        text = {k: ",".join([f"{1.0 / k:.4g}"] * k) for k in out["n_native"].unique()}
        out["native_weights"] = out["n_native"].map(text)
        out["derivation"] = derivation
        out["measure_id"] = measure_id
        out["native_system"] = system
        frames.append(out)
    result = pd.concat(frames, ignore_index=True)
    result["percentile"] = scoring.percentile_rank(result["score"], result["measure_id"])
    columns = ["role_code", "measure_id", "score", "percentile", "coverage", "derivation",
               "native_system", "native_codes", "native_weights", "n_native"]
    return result[columns].sort_values(["measure_id", "role_code"], ignore_index=True)


def correlations(exposure: pd.DataFrame) -> pd.DataFrame:
    """Spearman rank correlation between every pair of measures, over the roles both cover."""
    wide = exposure.pivot(index="role_code", columns="measure_id", values="score")
    ids = sorted(wide.columns)
    rows = []
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            both = wide[[a, b]].dropna()
            rows.append({"measure_a": a, "measure_b": b, "n": len(both),
                         "spearman": scoring.spearman(both[a].to_numpy(), both[b].to_numpy()) if len(both) > 2 else None})
    return pd.DataFrame(rows)


def derive(ctx) -> None:
    native = ctx.frames.pop("native_scores", None)
    if native is None:
        return
    aliases = ctx.frames.pop("code_aliases", None)
    exposure = role_exposure(native, ctx.frames["roles"], ctx.frames["crosswalks"], ctx.frames["oews_codes"], aliases)
    ctx.frames["role_exposure"] = exposure
    ctx.frames["measure_correlations"] = correlations(exposure)
    ctx.note("crosswalk_rules", RULES, "how each measure reaches the roles (derivation column of role_exposure)")
