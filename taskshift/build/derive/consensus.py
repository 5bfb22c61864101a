"""Derive the consensus tables: one answer per role and sector, with its uncertainty (docs/consensus.md).

- `role_consensus`: one row per role. Each independent family of measures votes once, with its
  headline measure (`measures.consensus_role = headline`, chosen in `dataset/measures/*.yaml`); the
  votes are the role's percentiles on those measures (`role_exposure.percentile`). The consensus is
  their median, the interval their middle half, the agreement how much narrower that interval is
  than unrelated measures would give (`scoring.consensus_stats`). The same again over the predicted
  and over the observed families, and the gap between the two ("theory vs reality"). The
  employment-weighted percentile places the centre among US workers (each role carries its
  labour code's employment divided by the roles sharing the code, so a code counts once).
- `sector_consensus`: the same for the 20 OEWS sectors. A family's vote is where the sector's
  average worker sits: the employment-weighted mean of the role percentiles
  (`sector_exposure.mean_percentile`, each OEWS code counted once). Not the percentile of the
  sector's mean score: several measures are skewed (Anthropic's is 0 for over a third of roles),
  and the mean of a skewed score ranks high among roles whatever the sector.
- `measures.consensus_spearman`: the evidence for each headline (and context) choice, the rank
  correlation of the measure with the consensus of the other families.
- `measure_correlations` gains, for every pair of measures, the overlap of their most exposed
  decile and quartile and Cohen's kappa on the most exposed quartile.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from taskshift import scoring

COUNTED = "headline"
CONTEXT = "context"

METHOD = {
    "families": "one vote per family: its headline measure (measures.consensus_role = headline); variants are not counted; "
                "context measures (frey_osborne) are shown, not counted",
    "vote": "role: the role's percentile on the headline measure (role_exposure.percentile); sector (and workforce): the "
            "employment- (headcount-) weighted mean of the role percentiles (sector_exposure.mean_percentile)",
    "centre": "median of the family percentiles",
    "interval": "25th to 75th percentile of the family percentiles (the middle half of the families; linear interpolation)",
    "agreement": "1 - interval width / the width n unrelated measures would give on average (50 (n - 1) / (n + 1))",
    "label": f"level by the centre: low < {scoring.CONSENSUS_LEVELS[0]:.1f} <= medium < {scoring.CONSENSUS_LEVELS[1]:.1f} <= high; "
             f"measures agree if agreement >= {scoring.AGREE_MIN:g}, partly agree if >= {scoring.PARTLY_AGREE_MIN:g}, "
             f"else 'uncertain: measures disagree'; fewer than {scoring.CONSENSUS_MIN_FAMILIES} families: no consensus",
    "worker_percentile": "share of US workers (OEWS May 2025) in roles with a lower consensus centre, plus half of those with an "
                         "equal one; a role carries its labour code's employment / the roles sharing the code",
    "theory_gap": "observed centre (usage families) - predicted centre (capability families)",
    "coarse": f"a family's vote is coarse when {scoring.COARSE_SHARED_ROLES} or more roles get the same published code(s) from it",
}


def family_choice(measures: pd.DataFrame, exposure: pd.DataFrame) -> pd.DataFrame:
    """The measure each family votes with (headline) or is shown with (context), among measures with role scores.

    Raises BuildError unless every family with role scores has exactly one headline or context measure.
    """
    from taskshift.build.assemble import BuildError

    scored = measures[measures["measure_id"].isin(exposure["measure_id"].unique())]
    chosen = scored[scored["consensus_role"].isin([COUNTED, CONTEXT])]
    problems = []
    for family, rows in scored.groupby("family", sort=True):
        picks = rows[rows["consensus_role"].isin([COUNTED, CONTEXT])]
        if len(picks) != 1:
            problems.append(f"dataset/measures: family {family!r} has {len(picks)} headline/context measures with role scores "
                            f"({', '.join(picks['measure_id']) or 'none'}); exactly one is needed")
    if problems:
        raise BuildError(problems)
    out = chosen[["family", "measure_id", "evidence", "consensus_role"]].copy()
    out["counted"] = out["consensus_role"] == COUNTED
    return out.sort_values("family", ignore_index=True)


def percentile_matrix(exposure: pd.DataFrame, choice: pd.DataFrame, index: pd.Index, column: str = "percentile") -> pd.DataFrame:
    """Roles x families: `column` of role_exposure for each family's chosen measure."""
    wide = exposure[exposure["measure_id"].isin(choice["measure_id"])].pivot(
        index="role_code", columns="measure_id", values=column)
    wide = wide.reindex(index=index, columns=list(choice["measure_id"]))
    wide.columns = list(choice["family"])
    return wide.astype("float64")


def _json(values: pd.DataFrame) -> list[str | None]:
    out = []
    for row in values.itertuples(index=False):
        d = {f: round(float(v), 2) for f, v in zip(values.columns, row) if v == v}
        out.append(json.dumps(d, sort_keys=True) if d else None)
    return out


def consensus_frame(votes: pd.DataFrame, evidence: dict[str, str], context: pd.DataFrame | None,
                    worker_reference: tuple[np.ndarray, np.ndarray] | None) -> pd.DataFrame:
    """The consensus columns for rows of family votes (the same columns for roles and sectors)."""
    fams = list(votes.columns)
    x = votes.to_numpy(dtype="float64")
    s = scoring.consensus_stats(x)
    out = pd.DataFrame(index=votes.index)
    out["n_families"] = s["n"]
    has = ~np.isnan(x)
    out["families"] = [",".join(f for f, h in zip(fams, row) if h) or None for row in has]
    out["family_percentiles"] = _json(votes)
    for key in ("centre", "low", "high", "agreement"):
        out[key] = s[key]
    out["level"], out["confidence"], out["label"] = s["level"], s["confidence"], s["label"]
    names = np.asarray(fams + [None], dtype=object)
    out["furthest_above"] = names[s["above"]]
    out["above_by"] = s["above_by"]
    out["furthest_below"] = names[s["below"]]
    out["below_by"] = s["below_by"]
    if worker_reference is not None:
        ref, weights = worker_reference
        out["worker_percentile"] = scoring.weighted_percentile_of(s["centre"], ref, weights)
    for kind in ("predicted", "observed"):
        cols = [i for i, f in enumerate(fams) if evidence[f] == kind]
        side = scoring.consensus_stats(x[:, cols], min_families=1) if cols else None
        for key in ("centre", "low", "high"):
            out[f"{kind}_{key}"] = side[key] if side else np.nan
        out[f"{kind}_n"] = side["n"] if side else 0
    out["theory_gap"] = out["observed_centre"] - out["predicted_centre"]
    out["context_percentiles"] = _json(context) if context is not None and context.shape[1] else None
    return out


def role_weights(roles: pd.DataFrame) -> pd.Series:
    """Each role's share of its labour code's employment (0 where none is published)."""
    emp = pd.to_numeric(roles["employment"], errors="coerce")
    sharing = pd.to_numeric(roles["roles_sharing_labor_code"], errors="coerce")
    return (emp / sharing).fillna(0.0).set_axis(roles["code"])


def role_consensus(roles: pd.DataFrame, exposure: pd.DataFrame, choice: pd.DataFrame) -> pd.DataFrame:
    index = pd.Index(roles["code"], name="role_code")
    counted = choice[choice["counted"]]
    votes = percentile_matrix(exposure, counted, index)
    context = percentile_matrix(exposure, choice[~choice["counted"]], index)
    evidence = dict(zip(choice["family"], choice["evidence"]))
    # the employment-weighted percentile places a centre among the roles' own centres
    centres = scoring.consensus_stats(votes.to_numpy(dtype="float64"))["centre"]
    weights = role_weights(roles).reindex(index).to_numpy(dtype="float64")
    out = consensus_frame(votes, evidence, context, (centres, weights))
    # coarse votes: the published code(s) behind the vote reach COARSE_SHARED_ROLES roles or more
    sub = exposure[exposure["measure_id"].isin(counted["measure_id"])]
    shared = sub.groupby(["measure_id", "native_codes"])["role_code"].transform("size")
    coarse = sub.loc[shared >= scoring.COARSE_SHARED_ROLES, ["role_code", "measure_id"]]
    coarse = coarse.assign(family=coarse["measure_id"].map(dict(zip(counted["measure_id"], counted["family"]))))
    out["coarse_families"] = coarse.sort_values("family").groupby("role_code")["family"].agg(",".join).reindex(index)
    out["employment_weight"] = weights
    return out.reset_index()


def sector_consensus(sectors: pd.DataFrame, sector_exposure: pd.DataFrame, choice: pd.DataFrame,
                     roles_out: pd.DataFrame) -> pd.DataFrame:
    """A family's vote for a sector: the employment-weighted mean of the role percentiles on its
    headline measure (sector_exposure.mean_percentile), i.e. where the sector's average worker sits."""
    index = pd.Index(sorted(sectors["naics_code"]), name="sector_code")
    votes, coverage = {}, {}
    for row in choice.itertuples(index=False):
        sec = sector_exposure[sector_exposure["measure_id"] == row.measure_id].set_index("sector_code").reindex(index)
        votes[row.family] = sec["mean_percentile"].astype("float64")
        coverage[row.family] = sec["coverage"].astype("float64")
    votes = pd.DataFrame(votes, index=index)
    counted = list(choice.loc[choice["counted"], "family"])
    context = votes[[f for f in votes.columns if f not in counted]]
    evidence = dict(zip(choice["family"], choice["evidence"]))
    reference = (roles_out["centre"].to_numpy(dtype="float64"), roles_out["employment_weight"].to_numpy(dtype="float64"))
    out = consensus_frame(votes[counted], evidence, context, reference)
    out["min_coverage"] = pd.DataFrame(coverage, index=index)[counted].min(axis=1)
    out["employment"] = sectors.set_index("naics_code")["employment"].reindex(index).astype("Int64")
    return out.reset_index()


def consensus_evidence(votes: pd.DataFrame, context: pd.DataFrame) -> dict[str, float]:
    """Leave-one-out rank correlation of each family with the consensus of the other counted families."""
    out = {}
    for fam in list(votes.columns) + list(context.columns):
        others = votes.drop(columns=fam, errors="ignore")
        s = scoring.consensus_stats(others.to_numpy(dtype="float64"))
        own = (votes[fam] if fam in votes.columns else context[fam]).to_numpy(dtype="float64")
        out[fam] = scoring.spearman(own, s["centre"])
    return out


def pair_agreement(exposure: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Top-decile overlap, top-quartile overlap and top-quartile kappa for every pair of measures."""
    wide = exposure.pivot(index="role_code", columns="measure_id", values="score")
    rows = []
    for a, b in zip(pairs["measure_a"], pairs["measure_b"]):
        x, y = wide[a].to_numpy(dtype="float64"), wide[b].to_numpy(dtype="float64")
        (dec, _, _, _), (quart, kappa, _, _) = scoring.top_overlaps(x, y, (0.10, 0.25))
        rows.append({"measure_a": a, "measure_b": b, "top_decile_overlap": dec,
                     "top_quartile_overlap": quart, "top_quartile_kappa": kappa})
    return pd.DataFrame(rows, columns=["measure_a", "measure_b", "top_decile_overlap", "top_quartile_overlap", "top_quartile_kappa"])


def derive(ctx) -> None:
    exposure = ctx.frames.get("role_exposure")
    if exposure is None:
        return
    measures = ctx.frames["measures"]
    choice = family_choice(measures, exposure)
    roles = ctx.frames["roles"]
    roles_out = role_consensus(roles, exposure, choice)
    ctx.frames["role_consensus"] = roles_out.drop(columns="employment_weight")
    if "sector_exposure" in ctx.frames:
        ctx.frames["sector_consensus"] = sector_consensus(ctx.frames["sectors"], ctx.frames["sector_exposure"], choice, roles_out)

    index = pd.Index(roles["code"], name="role_code")
    votes = percentile_matrix(exposure, choice[choice["counted"]], index)
    context = percentile_matrix(exposure, choice[~choice["counted"]], index)
    evidence = consensus_evidence(votes, context)
    by_measure = {m: evidence[f] for f, m in zip(choice["family"], choice["measure_id"])}
    ctx.frames["measures"] = measures.assign(consensus_spearman=measures["measure_id"].map(by_measure))

    pairs = ctx.frames.get("measure_correlations")
    if pairs is not None and len(pairs):
        extra = pair_agreement(exposure, pairs)
        ctx.frames["measure_correlations"] = pairs.merge(extra, on=["measure_a", "measure_b"], how="left")
    ctx.note("consensus_method", {**METHOD, "headline_measures": dict(zip(choice["family"], choice["measure_id"])),
                                  "counted_families": list(votes.columns), "context_families": list(context.columns)},
             "how role_consensus and sector_consensus are made (docs/consensus.md)")
