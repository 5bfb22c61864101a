"""Derive `role_outlook` and `role_outlook_evidence`: each role's outlook label and the evidence that decided it.

The label is built here once, at build time, and the service (API, library, CLI) reads these tables,
so every front end and Datasette show the same label with the same figures.

Inputs, per role:
- the automation vs augmentation profile (`scoring.task_profile`) from the Eloundou et al. GPT-4 task
  labels, weighted by coreweight (Core 2, else 1): `exposed_share` = E1/E2 weight / labelled weight;
  `automatable_share` = weight of the *exposed* tasks rated T3/T4 / exposed weight. Eloundou et al.'s
  exposure rubric is about LLMs (E1: an LLM alone halves the task's time; E2: LLM-powered software
  would), but the GPT-4 automation rating T0-T4 is given to every task, E0 ones included, and there it
  rates automation by any technology: 169 tasks GPT-4 labels E0 (not exposed to LLMs) carry T3/T4
  (160 of them still O*NET 29.3 tasks),
  e.g. "Steer aircraft along planned routes, using autopilot and flight management computers" (T3),
  "Sort, count, and wrap currency and coins" (T4). taskshift reads automation only where the exposure
  rubric says the task is LLM-exposed, so autopilots and coin machines never count as LLM automation
  (`metadata` key `outlook_method` gives the counts);
- the BLS Employment Projections 2024-34 change of the role's EP code (`roles.employment_change_pct`)
  and the projected change of all occupations in the same table (labor_stats 00-0000).

The rules are `scoring.outlook_evidence` (thresholds in `taskshift/scoring.py`, docs/api.md);
`role_outlook_evidence` has one row per (role, evidence item) with the value, the test, the
threshold, whether it holds and whether the deciding rule read it. A new kind of evidence (observed
OEWS change, postings) is a new item of `scoring.OUTLOOK_EVIDENCE`, so these tables grow by rows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from taskshift import scoring

TASK_TYPE_ORDER = {"Core": 0, "Supplemental": 1}
#: Observed automation vs augmentation per role (Anthropic Economic Index, built by the task-list work of
#: issue #12); used when the build has it, else the evidence row says why it is missing.
COLLABORATION = "role_collaboration"


def average_change(labor_stats: pd.DataFrame) -> float:
    """Projected employment change of all occupations (EP 2024-34, code 00-0000), %."""
    total = labor_stats.loc[labor_stats["code"] == "00-0000", "ep_change_pct"]
    return float(total.iloc[0]) if len(total) and pd.notna(total.iloc[0]) else float("nan")


def role_profiles(roles: pd.DataFrame, tasks: pd.DataFrame, task_exposure: pd.DataFrame) -> pd.DataFrame:
    """Per role: the GPT-4 profile shares and task counts, computed like the service's index.

    Tasks are ordered as the index orders them (role, Core first, task id) so the sums, and so the
    shares, are bit-identical to what the service computes for a bundle of the role's tasks.
    """
    codes = roles["code"].sort_values().reset_index(drop=True)
    pos = pd.Series(np.arange(len(codes)), index=codes)
    t = tasks[tasks["role_code"].isin(pos.index)].copy()
    t["_type"] = t["task_type"].map(TASK_TYPE_ORDER).fillna(2)
    t = t.sort_values(["role_code", "_type", "task_id"], kind="stable", ignore_index=True)

    def one(measure: str, column: str) -> pd.Series:
        sub = task_exposure[task_exposure["measure_id"] == measure].set_index("task_id")[column]
        return t["task_id"].map(sub)

    labels = one(scoring.PROFILE_EXPOSURE_MEASURE, "label")
    automation = one(scoring.PROFILE_AUTOMATION_MEASURE, "value").astype("float64")
    weights = scoring.core_weight(t["task_type"])
    groups = t["role_code"].map(pos).to_numpy(dtype="int64")
    prof = scoring.task_profile(labels.to_numpy(dtype=object), automation.to_numpy(), weights, groups, len(codes))
    labelled = labels.notna()
    exposed = labels.isin(list(scoring.EXPOSED_LABELS))
    automatable = exposed & (automation >= scoring.AUTOMATABLE_MIN)
    counts = pd.DataFrame({"g": groups, "tasks": 1, "labelled_tasks": labelled.astype(int),
                           "exposed_tasks": exposed.astype(int), "automatable_tasks": automatable.astype(int)})
    counts = counts.groupby("g").sum().reindex(range(len(codes)), fill_value=0)
    out = pd.DataFrame({"role_code": codes, **{k: prof[k] for k in
                        ("labelled_share", "exposed_share", "automatable_share", "augmented_share")}})
    for col in ("tasks", "labelled_tasks", "exposed_tasks", "automatable_tasks"):
        out[col] = counts[col].to_numpy(dtype="int64")
    return out


def observed_inputs(frames: dict) -> tuple[dict[str, pd.Series], dict[str, float], dict[str, str]]:
    """Per role: consensus centre, observed automation, observed employment and postings change; the
    references they are compared with; and, for evidence missing from this build, why."""
    roles = frames["roles"].set_index("code")
    values: dict[str, pd.Series] = {}
    why: dict[str, str] = {}
    cons = frames.get("role_consensus")
    values["centre"] = roles.index.to_series().map(cons.set_index("role_code")["centre"]) if cons is not None else None
    collab = frames.get(COLLABORATION)
    if collab is not None and {"role_code", "automation_share"} <= set(collab.columns):
        c = collab.set_index("role_code")
        share = c["automation_share"].where(c["tasks_matched"] > 0) if "tasks_matched" in c.columns else c["automation_share"]
        values["observed_automation_share"] = roles.index.to_series().map(share)
    else:
        values["observed_automation_share"] = pd.Series(np.nan, index=roles.index)
        why["observed_automation_share"] = (f"not in this database: table {COLLABORATION} (Anthropic automation vs augmentation "
                                            "per role) was not built, so automation is GPT-4's prediction only")
    change = frames.get("oews_change")
    if change is not None:
        ch = change.set_index("code")[f"employment_change_{scoring.SINCE_YEARS[0]}_{scoring.SINCE_YEARS[1]}_pct"]
        values["observed_change_pct"] = roles["labor_code"].map(ch)
        observed_average = float(ch.get("00-0000", np.nan))
    else:
        values["observed_change_pct"] = pd.Series(np.nan, index=roles.index)
        observed_average = float("nan")
        why["observed_employment_change"] = "not in this database: no OEWS series (oews_change)"
    postings = frames.get("role_postings")
    if postings is not None and "indeed_categories" in frames:
        values["postings_change_pct"] = roles.index.to_series().map(
            postings.set_index("role_code")["change_since_nov2022_pct"])
        postings_reference = float(frames["indeed_categories"]["change_since_nov2022_pct"].dropna().median())
    else:
        values["postings_change_pct"] = pd.Series(np.nan, index=roles.index)
        postings_reference = float("nan")
        why["postings_change"] = "not in this database: no postings tables (role_postings)"
    refs = {"observed_average_pct": observed_average, "postings_reference_pct": postings_reference}
    return values, refs, why


def outlook_tables(roles: pd.DataFrame, tasks: pd.DataFrame, task_exposure: pd.DataFrame,
                   labor_stats: pd.DataFrame, frames: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    frames = dict(frames or {})
    frames.setdefault("roles", roles)
    out = role_profiles(roles, tasks, task_exposure)
    info = roles.set_index("code")
    out["employment_change_pct"] = out["role_code"].map(info["employment_change_pct"]).astype("float64")
    out["projection_code"] = out["role_code"].map(info["labor_code"])
    out.loc[out["employment_change_pct"].isna(), "projection_code"] = None
    avg = average_change(labor_stats)
    out["average_change_pct"] = avg
    # the GPT-4-only label (the rules a custom bundle gets), kept beside the label on evidence
    pred = scoring.outlook_evidence(out["exposed_share"], out["automatable_share"], out["employment_change_pct"], avg)
    out["predicted_outlook"] = pred["outlook"]
    out["predicted_rule"] = pred["rule"]
    values, refs, why = observed_inputs(frames)
    code = out["role_code"]
    centre = values["centre"]
    out["consensus_centre"] = code.map(centre).astype("float64") if centre is not None else np.nan
    out["observed_automation_share"] = code.map(values["observed_automation_share"]).astype("float64")
    out["observed_change_pct"] = code.map(values["observed_change_pct"]).astype("float64")
    out["observed_average_pct"] = refs["observed_average_pct"]
    out["observed_code"] = code.map(info["labor_code"]).where(out["observed_change_pct"].notna(), None)
    out["postings_change_pct"] = code.map(values["postings_change_pct"]).astype("float64")
    out["postings_reference_pct"] = refs["postings_reference_pct"]
    ev = scoring.role_outlook_evidence(out["consensus_centre"], out["exposed_share"], out["automatable_share"],
                                       out["observed_automation_share"], out["employment_change_pct"], avg,
                                       out["observed_change_pct"], refs["observed_average_pct"],
                                       out["postings_change_pct"], refs["postings_reference_pct"])
    out["outlook"] = ev["outlook"]
    out["rule"] = ev["rule"]
    out["exposure_basis"] = ev["exposure_basis"]
    out["automation_basis"] = ev["automation_basis"]
    gpt4 = out["exposure_basis"] == "gpt4"
    observed = out["automation_basis"] == "observed"
    tests = {"high_exposure": np.where(gpt4, ev["exposed_share"], ev["consensus_exposure"]),
             "mostly_automatable": np.where(observed, ev["observed_automation_share"], ev["automatable_share"]),
             "projected_decline": ev["projected_decline"], "below_average_growth": ev["below_average_growth"],
             "observed_below_average": ev["observed_employment_change"],
             "postings_below_reference": ev["postings_change"]}
    for name, t in tests.items():
        out[name] = pd.array(np.where(np.isnan(t), None, t), dtype="Int64")
    refs_all = {"average_change_pct": avg, **refs}
    reasons, rows = [], []
    for r in out.itertuples(index=False):
        v = {"consensus_exposure": r.consensus_centre, "high_consensus_exposure": r.consensus_centre,
             "exposed_share": r.exposed_share, "automatable_share": r.automatable_share,
             "observed_automation_share": r.observed_automation_share, "projected_decline": r.employment_change_pct,
             "below_average_growth": r.employment_change_pct, "observed_employment_change": r.observed_change_pct,
             "postings_change": r.postings_change_pct}
        reasons.append(scoring.role_outlook_reason(r.rule, {**v, **refs_all}))
        row_why = why
        if "observed_automation_share" not in why and pd.isna(r.observed_automation_share):
            row_why = {**why, "observed_automation_share": (
                f"no observed use for this role: none of its tasks carries a collaboration pattern in {COLLABORATION} "
                "(Anthropic), so automation is GPT-4's prediction")}
        for item in scoring.role_outlook_items(r.rule, v, refs_all, row_why, r.exposure_basis, r.automation_basis):
            rows.append({"role_code": r.role_code, **item})
    out["reason"] = reasons
    evidence = pd.DataFrame(rows)
    evidence["holds"] = pd.array([None if h is None else int(h) for h in evidence["holds"]], dtype="Int64")
    evidence["decided"] = evidence["decided"].astype(int)
    order = {name: i for i, (name, *_rest) in enumerate(scoring.ROLE_OUTLOOK_EVIDENCE)}
    evidence["position"] = evidence["evidence"].map(order).astype(int) + 1
    columns = ["role_code", "outlook", "rule", "reason", "exposure_basis", "consensus_centre", "labelled_share",
               "exposed_share", "automatable_share", "augmented_share", "automation_basis", "observed_automation_share",
               "tasks", "labelled_tasks", "exposed_tasks", "automatable_tasks",
               "employment_change_pct", "projection_code", "average_change_pct", "observed_change_pct", "observed_code",
               "observed_average_pct", "postings_change_pct", "postings_reference_pct", "high_exposure",
               "mostly_automatable", "projected_decline", "below_average_growth", "observed_below_average",
               "postings_below_reference", "predicted_outlook", "predicted_rule"]
    evidence = evidence[["role_code", "position", "evidence", "value", "test", "threshold", "holds", "decided", "source"]]
    return out[columns], evidence.sort_values(["role_code", "position"], ignore_index=True)


def non_llm_automation(tasks: pd.DataFrame, task_exposure: pd.DataFrame) -> dict:
    """Tasks GPT-4 rates T3/T4 (mostly automatable) although it labels them E0 (not exposed to LLMs)."""
    lab = task_exposure[task_exposure["measure_id"] == scoring.PROFILE_EXPOSURE_MEASURE].set_index("task_id")["label"]
    auto = task_exposure[task_exposure["measure_id"] == scoring.PROFILE_AUTOMATION_MEASURE].set_index("task_id")["label"]
    both = pd.DataFrame({"exposure": lab, "automation": auto}).dropna()
    odd = both[(both["exposure"] == "E0") & both["automation"].isin(["T3", "T4"])]
    statements = tasks.set_index("task_id")["statement"]
    wanted = odd.index[statements.reindex(odd.index).str.contains(r"autopilot|coins|pilot airplanes", na=False)]
    return {"tasks_labelled": int(len(both)),
            "e0_tasks_rated_t3_t4": int(len(odd)),
            "e0_examples": [f"{int(i)}: {statements[i]} ({odd.loc[i, 'automation']})" for i in sorted(wanted)],
            "exposed_tasks_rated_t3_t4": int((both["exposure"].isin(list(scoring.EXPOSED_LABELS))
                                              & both["automation"].isin(["T3", "T4"])).sum())}


def derive(ctx) -> None:
    if "task_exposure" not in ctx.frames:
        return
    role_outlook, evidence = outlook_tables(ctx.frames["roles"], ctx.frames["tasks"], ctx.frames["task_exposure"],
                                            ctx.frames["labor_stats"], ctx.frames)
    ctx.frames["role_outlook"] = role_outlook
    ctx.frames["role_outlook_evidence"] = evidence
    counts = role_outlook["outlook"].value_counts()
    before = role_outlook["predicted_outlook"].value_counts()
    ctx.note("outlook_method", {
        "exposure": f"role_consensus.centre (consensus of the measure families): exposed >= {scoring.OUTLOOK_EXPOSED_CENTRE_MIN:g}, "
                    f"high >= {scoring.OUTLOOK_HIGH_CENTRE_MIN:.1f}; without a consensus, task labels of "
                    f"{scoring.PROFILE_EXPOSURE_MEASURE} (GPT-4 E0/E1/E2), exposed = {list(scoring.EXPOSED_LABELS)} "
                    f"share >= {scoring.EXPOSED_SHARE_MIN:g}",
        "automation": f"observed: {COLLABORATION}.automation_share >= {scoring.OBSERVED_AUTOMATION_MIN:g} where the role has "
                      f"observed use; else predicted: {scoring.PROFILE_AUTOMATION_MEASURE} value >= {scoring.AUTOMATABLE_MIN} "
                      "(T3/T4), counted only on exposed tasks: the GPT-4 automation rating also rates automation by other "
                      "technology on E0 tasks",
        "observed_automation_available": COLLABORATION in ctx.frames,
        "thresholds": {"exposed_centre_min": scoring.OUTLOOK_EXPOSED_CENTRE_MIN,
                       "high_centre_min": scoring.OUTLOOK_HIGH_CENTRE_MIN,
                       "exposed_share_min": scoring.EXPOSED_SHARE_MIN, "automatable_share_min": scoring.AUTOMATABLE_SHARE_MIN,
                       "observed_automation_min": scoring.OBSERVED_AUTOMATION_MIN, "decline_max_pct": scoring.DECLINE_MAX_PCT,
                       "average_change_pct": average_change(ctx.frames["labor_stats"]),
                       "observed_average_pct": float(role_outlook["observed_average_pct"].iloc[0]),
                       "postings_reference_pct": float(role_outlook["postings_reference_pct"].iloc[0])},
        "rules": {key: text for _, key, text in scoring.ROLE_OUTLOOK_RULES},
        "counts": {k: int(counts.get(k, 0)) for k in scoring.OUTLOOKS},
        "counts_gpt4_only": {k: int(before.get(k, 0)) for k in scoring.OUTLOOKS},
        "changed_from_gpt4_only": int((role_outlook["outlook"] != role_outlook["predicted_outlook"]).sum()),
        "non_llm_automation": non_llm_automation(ctx.frames["tasks"], ctx.frames["task_exposure"]),
    }, "how role_outlook labels a role (evidence, rules, thresholds, counts; the GPT-4-only counts for comparison) "
       "and which GPT-4 automation ratings it leaves out")
