"""Every role-level measure and the consensus by ISCO-08 (docs/isco.md): `isco_groups`, `isco_roles`,
`isco_exposure`, `isco_consensus`, `isco_agreement`.

An ISCO-08 group is a weighted set of O*NET roles, and every number of a group is the number of that
set taken as a workforce (`POST /-/score/workforce` with the group's roles and weights gives the same
scores and consensus). The chain, one rule set with `role_exposure` (taskshift.build.derive.harmonise):

1. ISCO-08 unit group -> SOC 2010 codes: the BLS ISCO-08 <-> SOC 2010 crosswalk; a 3-digit match (211,
   315) stands for each unit group under it; a link whose unit group's ILO tasks fit the role's O*NET
   tasks less than a quarter as well as the role's best-fitting linked group is left out (the task-fit
   rule of role_exposure; research builds only: it needs the ILO task statements).
2. SOC 2010 -> roles: the SOC 2010 codes of each role's O*NET-SOC 2010 predecessors, else the BLS SOC
   2010 -> 2018 crosswalk of the role's SOC code (the 'All Other' and folded-code rules).
3. The role's link share to each unit group: the role's weights over its SOC 2010 codes (OEWS May 2019
   employment, equal where a code has no May 2019 figure), split equally over the unit groups each SOC
   2010 code links to. A role's link shares sum to 1 (`harmonise.routed_links`, the weights with which
   the ILO score reaches the roles).
4. SOC 2018 -> OEWS code -> role employment: the role's labour code's OEWS May 2025 employment split
   evenly over the roles sharing the code (`roles.employment_allocated`).
5. US workers of a role in a group = employment_allocated x link share; the role's weight in the group
   is its share of the group's US workers (`scoring.isco_role_weights`). A labour code, and a role
   linked to several groups, is counted once. A group with no US employment (armed forces) falls back
   to the link shares. 3-, 2- and 1-digit groups are the union of their unit groups (shares added).

The weights are US ones: the US occupational mix inside each ISCO group, not another country's.
`score_unweighted` / `centre_unweighted` weigh the roles by link share only (no employment).

Measures published in ISCO-08 (ILO) are not sent round the crosswalk and back: a unit group carries
its published score (derivation `native`), and a larger group the US-employment-weighted mean of its
unit groups' published scores (`native_weighted`). The consensus votes are role percentiles, as for a
workforce; `us_centre` is the consensus of the families not published in ISCO-08, beside the ILO score.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from taskshift import scoring
from taskshift.build.derive import consensus as cons
from taskshift.build.derive import harmonise

DIGITS = (1, 2, 3, 4)
US_CONSENSUS = "us_consensus"
TITLE_SOURCES = {
    "bls": "BLS ISCO-08 <-> 2010 SOC crosswalk (taxonomy_isco_soc_crosswalk): ISCO-08 Title EN",
    "ilo": "ILO Gmyrek et al. 2025 scores file (ilo_genai_isco08): Title / label1d",
}

METHOD = {
    "chain": "ISCO-08 unit group -> SOC 2010 (BLS ISCO-08/SOC 2010 crosswalk, 3-digit matches expanded, task-fit rule) -> "
             "role (SOC 2010 codes of the role's O*NET-SOC 2010 predecessors, else BLS SOC 2010 -> 2018) -> the role's labour "
             "code (OEWS code of its SOC 2018 code)",
    "link_share": "the share of a role the crosswalk links to a unit group: the role's weights over its SOC 2010 codes (OEWS May "
                  "2019 employment; equal where a code has none), split equally over the unit groups each SOC 2010 code links "
                  "to; a role's link shares sum to 1 (the weights with which ILO scores reach roles, role_exposure.native_weights)",
    "us_employment": "US workers of a role in a group: roles.employment_allocated (OEWS May 2025 employment of the labour code / "
                     "roles sharing it) x link share; a labour code and a role linked to several groups are counted once",
    "weight": "a role's share of its group's US workers; groups without US employment (armed forces): link shares, normalised",
    "levels": "3-, 2- and 1-digit groups are the union of their unit groups' roles (link shares and US workers added)",
    "score": "weighted mean of the role scores (roles with a score); coverage = weight of the roles with a score; "
             "score_unweighted: the same with link shares as weights (no employment)",
    "native": "measures published in ISCO-08 (ILO): the published unit-group score (native), larger groups the US-employment-"
              "weighted mean of their unit groups' published scores (native_weighted; score_unweighted: plain mean)",
    "percentile": "rank among the ISCO-08 groups with the same number of digits (0 least, 100 most exposed, ties averaged)",
    "employment_percentile": "the value the score would have among US workers (role_exposure.employment_percentile's reference)",
    "consensus": "one vote per family: the weighted mean of the roles' percentiles on its headline measure (as for a workforce); "
                 "median, middle half and agreement as role_consensus (docs/consensus.md)",
    "us_consensus": "the consensus of the counted families not published in ISCO-08 (every family but the ILO's)",
    "ilo_beside": "ilo_score: the ILO headline measure's own score (native / native_weighted); ilo_percentile and us_percentile "
                  "rank the ILO score and us_centre among the groups with the same number of digits",
    "weights_are_us": "every weight is a US figure (OEWS); for another country's mix give its ISCO-08 headcounts as a workforce",
}


# --- links ----------------------------------------------------------------------------------------
def unit_links(frames: dict) -> tuple[pd.DataFrame, dict[str, str], harmonise.Crosswalks]:
    """(role_code, isco_code, link_share, soc2010_codes, derivation, weight_basis) for every unit group of the
    crosswalk, and a note for each unit group the task-fit rule left without a role."""
    native = frames.get("isco08_native_scores")
    known = () if native is None else native["native_code"].unique()
    xw = harmonise.prepare(frames["roles"], frames["crosswalks"], frames["oews_codes"], frames.get("oews_history"), known)
    fits = frames.get("isco_task_fit")  # computed once, by harmonise (research builds: it needs the ILO tasks)
    fit = harmonise.TaskFit.from_frame(fits) if fits is not None else None
    units = sorted(xw.isco["isco08"].unique())
    parts = []
    for derivation, links in harmonise.routed_links("isco08", xw, units, fit):
        parts.append(links.assign(derivation=derivation))
    links = pd.concat(parts, ignore_index=True)
    out = (links.sort_values(["role_code", "link_code", "unit"])
           .groupby(["role_code", "link_code"], sort=True)
           .agg(link_share=("weight", "sum"), derivation=("derivation", "first"), weight_basis=("weight_basis", "first"))
           .reset_index().rename(columns={"link_code": "isco_code"}))
    units_of: dict[tuple[str, str], set[str]] = {}  # the SOC 2010 codes of each (role, unit group) link
    for key, unit in zip(zip(links["role_code"], links["link_code"]), links["unit"]):
        units_of.setdefault(key, set()).add(unit)
    out.insert(3, "soc2010_codes", [",".join(sorted(units_of[key])) for key in zip(out["role_code"], out["isco_code"])])
    # evidence of each link: how well the unit group's ILO tasks fit the role's O*NET tasks (research builds)
    out["task_fit"] = np.nan if fit is None else fit(out.rename(columns={"isco_code": "link_code"})).to_numpy()
    titles = frames["roles"].set_index("code")["title"]
    notes = {}
    for g in sorted(set(units) - set(out["isco_code"])):
        left = links[links["weight_basis"].str.contains(f"left out by task fit: .*\\b{g} \\(", regex=True)]
        who = [f"{r} {titles.get(r, '')}" for r in sorted(left["role_code"].unique())]
        linked = sorted(xw.isco.loc[xw.isco["isco08"] == g, "soc2010"])
        notes[g] = (f"no role: every link (SOC 2010 {', '.join(linked)}) was left out by the task-fit rule"
                    + (f" ({'; '.join(who)} fit other unit groups better)" if who else ""))
    return out, notes, xw


def group_roles(links: pd.DataFrame, roles: pd.DataFrame) -> pd.DataFrame:
    """`isco_roles`: each unit-group link, and each 3-, 2- and 1-digit group as the union of its unit groups."""
    frames = []
    for d in DIGITS:
        f = links.assign(isco_code=links["isco_code"].str[:d])
        g = (f.sort_values(["isco_code", "role_code"])
             .groupby(["isco_code", "role_code"], sort=True)
             .agg(link_share=("link_share", "sum"), derivation=("derivation", "first"),
                  weight_basis=("weight_basis", "first"), task_fit=("task_fit", "first"))
             .reset_index())
        soc: dict[tuple[str, str], set[str]] = {}  # the SOC 2010 codes of the group's unit-group links
        for key, codes in zip(zip(f["isco_code"], f["role_code"]), f["soc2010_codes"]):
            soc.setdefault(key, set()).update(codes.split(","))
        g["soc2010_codes"] = [",".join(sorted(soc[key])) for key in zip(g["isco_code"], g["role_code"])]
        if d < 4:  # a fit is between a unit group and a role
            g["task_fit"] = np.nan
        frames.append(g.assign(digits=d))
    out = pd.concat(frames, ignore_index=True)
    emp = pd.to_numeric(roles.set_index("code")["employment_allocated"], errors="coerce").astype("float64")
    out["us_employment"] = out["role_code"].map(emp).to_numpy(dtype="float64") * out["link_share"].to_numpy(dtype="float64")
    out["weight"], by_emp = scoring.isco_role_weights(out["link_share"], out["role_code"].map(emp), out["isco_code"])
    out["weighted_by"] = np.where(by_emp, "us_employment", "link_share")
    out = out.sort_values(["isco_code", "role_code"], ignore_index=True)
    return out[["isco_code", "digits", "role_code", "weight", "link_share", "us_employment", "weighted_by",
                "soc2010_codes", "derivation", "weight_basis", "task_fit"]]


def title_table(crosswalks: pd.DataFrame, ilo: pd.DataFrame | None) -> pd.DataFrame:
    """ISCO-08 titles from the pinned files: the BLS crosswalk (unit groups, the two 3-digit groups it
    matches), then the ILO file (unit groups it alone has, and the 1-digit major groups of `label1d`)."""
    cw = crosswalks[crosswalks["from_system"] == "isco08"].drop_duplicates("from_code")
    rows = {c: (t.strip(), "bls") for c, t in zip(cw["from_code"], cw["from_title"]) if isinstance(t, str) and t.strip()}
    if ilo is not None:
        for c, t in zip(ilo["isco08_code"], ilo["title"]):
            if c not in rows and isinstance(t, str) and t.strip():
                rows[c] = (" ".join(t.split()), "ilo")
        for label in ilo["major_group"].dropna().unique():
            code, _, title = str(label).partition(" - ")
            if code.strip().isdigit() and title.strip() and code.strip() not in rows:
                rows[code.strip()] = (title.strip(), "ilo")
    return pd.DataFrame([(c, t, TITLE_SOURCES[s]) for c, (t, s) in sorted(rows.items())],
                        columns=["isco_code", "title", "title_source"])


def _under(codes, members) -> dict[str, list[str]]:
    """Each code -> the members that start with it (the unit groups under a group), in `members` order."""
    lengths = sorted({len(c) for c in codes})
    prefixed: dict[str, list[str]] = {}
    for m in members:
        for k in lengths:
            if len(m) >= k:
                prefixed.setdefault(m[:k], []).append(m)
    return {c: prefixed.get(c, []) for c in codes}


def groups_table(isco_roles: pd.DataFrame, xw: harmonise.Crosswalks, titles: pd.DataFrame, notes: dict[str, str],
                 extra_units=()) -> pd.DataFrame:
    units = sorted(set(xw.isco["isco08"]) | set(extra_units))
    codes = sorted({u[:d] for u in units for d in DIGITS})
    out = pd.DataFrame({"isco_code": codes})
    out["digits"] = out["isco_code"].str.len().astype("int64")
    out["parent_code"] = [c[:-1] if len(c) > 1 else None for c in codes]
    out = out.merge(titles, on="isco_code", how="left")
    under = _under(codes, units)
    linked_under = _under(codes, set(isco_roles.loc[isco_roles["digits"] == 4, "isco_code"]))
    out["unit_groups"] = [len(under[c]) for c in codes]
    out["linked_unit_groups"] = [len(linked_under[c]) for c in codes]
    soc = xw.isco.groupby("isco08")["soc2010"].agg(lambda s: set(s))
    out["soc2010_codes"] = [",".join(sorted(set().union(*[soc.get(u, set()) for u in under[c]]))) or None for c in codes]
    out["n_soc2010"] = [0 if s is None else len(s.split(",")) for s in out["soc2010_codes"]]
    per = isco_roles.groupby("isco_code").agg(n_roles=("role_code", "size"), us_employment=("us_employment", "sum"),
                                              weighted_by=("weighted_by", "first"), best_task_fit=("task_fit", "max"))
    out = out.merge(per.reset_index(), on="isco_code", how="left")
    out["n_roles"] = out["n_roles"].fillna(0).astype("int64")
    out["us_employment"] = out["us_employment"].where(out["n_roles"] > 0)
    out["note"] = out["isco_code"].map(notes)
    return out[["isco_code", "digits", "title", "title_source", "parent_code", "unit_groups", "linked_unit_groups",
                "n_soc2010", "soc2010_codes", "n_roles", "us_employment", "weighted_by", "best_task_fit", "note"]]


# --- measures -------------------------------------------------------------------------------------
def _role_matrix(exposure: pd.DataFrame, measure_ids: list[str], role_index: pd.Index, column: str) -> np.ndarray:
    wide = exposure.pivot(index="role_code", columns="measure_id", values=column)
    return wide.reindex(index=role_index, columns=measure_ids).to_numpy(dtype="float64")


def exposure_table(isco_roles: pd.DataFrame, groups: pd.DataFrame, exposure: pd.DataFrame, measures: pd.DataFrame,
                   roles: pd.DataFrame, native: pd.DataFrame | None) -> pd.DataFrame:
    measure_ids = sorted(exposure["measure_id"].unique())
    role_index = pd.Index(roles["code"])
    R = _role_matrix(exposure, measure_ids, role_index, "score")
    codes = list(dict.fromkeys(isco_roles["isco_code"]))  # sorted (isco_roles is)
    gid = pd.Index(codes).get_indexer(isco_roles["isco_code"])
    rows = role_index.get_indexer(isco_roles["role_code"])
    sub = R[rows]
    score, coverage = scoring.grouped_weighted_mean(sub, isco_roles["weight"].to_numpy(dtype="float64"), gid, len(codes))
    unweighted, _ = scoring.grouped_weighted_mean(sub, isco_roles["link_share"].to_numpy(dtype="float64"), gid, len(codes))
    n_scored = np.zeros((len(codes), len(measure_ids)))
    np.add.at(n_scored, gid, (~np.isnan(sub)).astype("float64"))
    k = len(measure_ids)
    frame = pd.DataFrame({
        "isco_code": np.repeat(np.asarray(codes, dtype=object), k),
        "measure_id": np.tile(np.asarray(measure_ids, dtype=object), len(codes)),
        "score": score.ravel(), "score_unweighted": unweighted.ravel(), "coverage": coverage.ravel(),
        "n_scored": n_scored.ravel().astype("int64"), "derivation": "roles"})
    isco_native = set(measures.loc[measures["code_system"] == "isco08", "measure_id"]) & set(measure_ids)
    if isco_native:
        frame = frame[~frame["measure_id"].isin(isco_native)]
        frame = pd.concat([frame, native_rows(native, sorted(isco_native), groups)], ignore_index=True)
    frame = frame[frame["score"].notna()].copy()
    frame["digits"] = frame["isco_code"].str.len().astype("int64")
    frame["percentile"] = scoring.percentile_rank(frame["score"], frame["digits"].astype(str) + "/" + frame["measure_id"])
    # the value each score would have among US workers (the reference of role_exposure.employment_percentile)
    allocated = pd.to_numeric(roles["employment_allocated"], errors="coerce").to_numpy(dtype="float64")
    frame["employment_percentile"] = np.nan
    for j, mid in enumerate(measure_ids):
        at = frame["measure_id"] == mid
        reference = scoring.employment_reference(R[:, j], allocated)
        frame.loc[at, "employment_percentile"] = scoring.employment_percentile_of(frame.loc[at, "score"].to_numpy(), reference)
    cols = ["isco_code", "digits", "measure_id", "score", "score_unweighted", "percentile", "employment_percentile",
            "coverage", "n_scored", "derivation"]
    return frame[cols].sort_values(["measure_id", "isco_code"], ignore_index=True)


def native_rows(native: pd.DataFrame | None, measure_ids: list[str], groups: pd.DataFrame) -> pd.DataFrame:
    """Measures published in ISCO-08: the unit group's own score; larger groups the mean of their unit
    groups' scores weighted by the unit groups' US workers (score) or equally (score_unweighted)."""
    units = groups[groups["digits"] == 4].set_index("isco_code")
    emp = units["us_employment"].fillna(0.0).astype("float64")
    out = []
    for mid in measure_ids:
        pub = native[native["measure_id"] == mid].dropna(subset=["score"]).set_index("native_code")["score"].astype("float64")
        pub = pub[pub.index.isin(units.index)]
        for d in DIGITS:
            parent = pd.Series(pub.index.str[:d], index=pub.index)
            w = emp.reindex(pub.index).to_numpy(dtype="float64")
            s_w = scoring.weighted_mean(pub, w, parent) if d < 4 else None
            s_u = scoring.weighted_mean(pub, np.ones(len(pub)), parent)
            all_emp = emp.groupby(emp.index.str[:d]).sum().to_dict()
            members = parent.groupby(parent.to_numpy(), sort=True).indices  # code -> positions in pub, in order
            weighted = {} if s_w is None else s_w["score"].to_dict()
            unweighted = s_u["score"].to_dict()
            for code in s_u.index:
                scored_emp = float(w[members[code]].sum())
                total = float(all_emp.get(code, 0.0))
                out.append({
                    "isco_code": code, "measure_id": mid,
                    "score": float(pub[code]) if d == 4 else float(weighted[code]) if scored_emp > 0 else float(unweighted[code]),
                    "score_unweighted": float(unweighted[code]),
                    "coverage": min(1.0, scored_emp / total) if total > 0 else None,
                    "n_scored": len(members[code]),
                    "derivation": "native" if d == 4 else "native_weighted" if scored_emp > 0 else "native_unweighted"})
    return pd.DataFrame(out)


# --- consensus --------------------------------------------------------------------------------------
def consensus_table(isco_roles: pd.DataFrame, exposure: pd.DataFrame, measures: pd.DataFrame, roles: pd.DataFrame,
                    role_consensus: pd.DataFrame, isco_exposure: pd.DataFrame) -> pd.DataFrame:
    choice = cons.family_choice(measures, exposure)
    role_index = pd.Index(roles["code"], name="role_code")
    codes = list(dict.fromkeys(isco_roles["isco_code"]))
    gid = pd.Index(codes).get_indexer(isco_roles["isco_code"])
    rows = role_index.get_indexer(isco_roles["role_code"])
    P = cons.percentile_matrix(exposure, choice, role_index).to_numpy(dtype="float64")[rows]
    votes, _ = scoring.grouped_weighted_mean(P, isco_roles["weight"].to_numpy(dtype="float64"), gid, len(codes))
    plain, _ = scoring.grouped_weighted_mean(P, isco_roles["link_share"].to_numpy(dtype="float64"), gid, len(codes))
    votes = pd.DataFrame(votes, index=pd.Index(codes, name="isco_code"), columns=list(choice["family"]))
    plain = pd.DataFrame(plain, index=votes.index, columns=votes.columns)
    counted = list(choice.loc[choice["counted"], "family"])
    context = votes[[f for f in votes.columns if f not in counted]]
    evidence = dict(zip(choice["family"], choice["evidence"]))
    weights = cons.role_weights(roles).reindex(role_consensus["role_code"]).to_numpy(dtype="float64")
    reference = (role_consensus["centre"].to_numpy(dtype="float64"), weights)
    out = cons.consensus_frame(votes[counted], evidence, context, reference)
    out["centre_unweighted"] = scoring.consensus_stats(plain[counted].to_numpy(dtype="float64"))["centre"]
    digits = pd.Series(votes.index.str.len(), index=votes.index).astype(str)
    out["isco_percentile"] = scoring.percentile_rank(out["centre"], digits)
    # the US families beside the ILO's own score
    system = dict(zip(measures["measure_id"], measures["code_system"]))
    fam_measure = dict(zip(choice["family"], choice["measure_id"]))
    us = [f for f in counted if system.get(fam_measure[f]) != "isco08"]
    s = scoring.consensus_stats(votes[us].to_numpy(dtype="float64"))
    out["us_centre"], out["us_low"], out["us_high"], out["us_n"] = s["centre"], s["low"], s["high"], s["n"]
    out["us_percentile"] = scoring.percentile_rank(out["us_centre"], digits)
    ilo = [fam_measure[f] for f in counted if system.get(fam_measure[f]) == "isco08"]
    out["ilo_measure"] = ilo[0] if ilo else None
    if ilo:
        own = isco_exposure[isco_exposure["measure_id"] == ilo[0]].set_index("isco_code")
        out["ilo_score"] = own["score"].reindex(out.index).astype("float64")
        out["ilo_percentile"] = own["percentile"].reindex(out.index).astype("float64")  # as in isco_exposure
    else:
        out["ilo_score"] = out["ilo_percentile"] = np.nan
    out["ilo_minus_us"] = out["ilo_percentile"] - out["us_percentile"]
    out["digits"] = votes.index.str.len().astype("int64")
    return out.reset_index()


def agreement_table(isco_exposure: pd.DataFrame, isco_consensus: pd.DataFrame, measures: pd.DataFrame,
                    exposure: pd.DataFrame) -> pd.DataFrame:
    """Each measure published in ISCO-08 against the US consensus and each counted US headline measure,
    over the ISCO-08 groups (of each number of digits) both cover."""
    choice = cons.family_choice(measures, exposure)
    system = dict(zip(measures["measure_id"], measures["code_system"]))
    isco_native = sorted(m for m in isco_exposure["measure_id"].unique() if system.get(m) == "isco08")
    us_headline = [m for m in choice.loc[choice["counted"], "measure_id"] if system.get(m) != "isco08"]
    wide = isco_exposure.pivot(index="isco_code", columns="measure_id", values="score")
    wide[US_CONSENSUS] = isco_consensus.set_index("isco_code")["us_centre"].reindex(wide.index)
    rows = []
    for d in DIGITS:
        part = wide[wide.index.str.len() == d]
        for a in isco_native:
            for b in [US_CONSENSUS] + us_headline:
                x, y = part[a].to_numpy(dtype="float64"), part[b].to_numpy(dtype="float64")
                n = int((~np.isnan(x) & ~np.isnan(y)).sum())
                dec, _, _, _ = scoring.top_overlap(x, y, 0.10)
                quart, kappa, _, _ = scoring.top_overlap(x, y, 0.25)
                rows.append({"digits": d, "measure_a": a, "measure_b": b, "n": n,
                             "spearman": scoring.spearman(x, y) if n > 2 else None,
                             "top_decile_overlap": dec, "top_quartile_overlap": quart, "top_quartile_kappa": kappa})
    return pd.DataFrame(rows, columns=["digits", "measure_a", "measure_b", "n", "spearman", "top_decile_overlap",
                                       "top_quartile_overlap", "top_quartile_kappa"])


def derive(ctx) -> None:
    exposure = ctx.frames.get("role_exposure")
    if exposure is None or "crosswalks" not in ctx.frames:
        return
    frames = ctx.frames
    links, notes, xw = unit_links(frames)
    native = frames.pop("isco08_native_scores", None)  # intermediate frames of harmonise, not tables
    frames.pop("isco_task_fit", None)
    roles = frames["roles"]
    isco_roles = group_roles(links, roles)
    titles = title_table(frames["crosswalks"], frames.get("ilo_occupation_exposure"))
    extra = () if native is None else native["native_code"].unique()
    groups = groups_table(isco_roles, xw, titles, notes, extra)
    measures = frames["measures"]
    isco_exposure = exposure_table(isco_roles, groups, exposure, measures, roles, native)
    isco_consensus = consensus_table(isco_roles, exposure, measures, roles, frames["role_consensus"], isco_exposure)
    frames["isco_groups"] = groups
    frames["isco_roles"] = isco_roles
    frames["isco_exposure"] = isco_exposure
    frames["isco_consensus"] = isco_consensus
    frames["isco_agreement"] = agreement_table(isco_exposure, isco_consensus, measures, exposure)
    ctx.note("isco_method", METHOD, "how isco_groups, isco_roles, isco_exposure, isco_consensus and isco_agreement are made "
                                    "(docs/isco.md)")
    units = groups[groups["digits"] == 4]
    ctx.note("isco_counts", {
        "unit_groups_in_crosswalk": int(len(units)),
        "unit_groups_with_roles": int((units["n_roles"] > 0).sum()),
        "unit_groups_without_roles": sorted(units.loc[units["n_roles"] == 0, "isco_code"]),
        "roles_linked": int(links["role_code"].nunique()),
        "links": int(len(links)),
        "us_employment_linked": round(float(isco_roles.loc[isco_roles["digits"] == 1, "us_employment"].sum())),
    }, "ISCO-08 unit groups, roles and US employment the ISCO tables cover")
    a = frames["isco_agreement"]
    head = a[(a["measure_b"] == US_CONSENSUS)]
    if len(head):
        ctx.note("isco_ilo_vs_us", {f"{r.measure_a}/{r.digits}-digit": {
            "n": int(r.n), "spearman": None if r.spearman is None or r.spearman != r.spearman else round(float(r.spearman), 3),
            "top_quartile_overlap": round(float(r.top_quartile_overlap), 3), "top_quartile_kappa": round(float(r.top_quartile_kappa), 3)}
            for r in head.itertuples(index=False)}, "the ILO's own scores against the consensus of the US families, by ISCO-08 level "
                                                  "(isco_agreement)")
