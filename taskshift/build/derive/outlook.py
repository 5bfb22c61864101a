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


def outlook_tables(roles: pd.DataFrame, tasks: pd.DataFrame, task_exposure: pd.DataFrame,
                   labor_stats: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    out = role_profiles(roles, tasks, task_exposure)
    info = roles.set_index("code")
    out["employment_change_pct"] = out["role_code"].map(info["employment_change_pct"]).astype("float64")
    out["projection_code"] = out["role_code"].map(info["labor_code"])
    out.loc[out["employment_change_pct"].isna(), "projection_code"] = None
    avg = average_change(labor_stats)
    out["average_change_pct"] = avg
    ev = scoring.outlook_evidence(out["exposed_share"], out["automatable_share"], out["employment_change_pct"], avg)
    out["outlook"] = ev["outlook"]
    out["rule"] = ev["rule"]
    for name in ("high_exposure", "mostly_automatable", "projected_decline", "below_average_growth"):
        out[name] = pd.array(np.where(np.isnan(ev[name]), None, ev[name]), dtype="Int64")
    out["reason"] = [scoring.outlook_reason(r.rule, r.exposed_share, r.automatable_share, r.employment_change_pct, avg)
                     for r in out.itertuples(index=False)]
    rows = []
    for r in out.itertuples(index=False):
        for item in scoring.outlook_items(r.rule, r.exposed_share, r.automatable_share, r.employment_change_pct, avg):
            rows.append({"role_code": r.role_code, **item})
    evidence = pd.DataFrame(rows)
    evidence["holds"] = pd.array([None if h is None else int(h) for h in evidence["holds"]], dtype="Int64")
    evidence["decided"] = evidence["decided"].astype(int)
    order = {name: i for i, (name, *_rest) in enumerate(scoring.OUTLOOK_EVIDENCE)}
    evidence["position"] = evidence["evidence"].map(order).astype(int) + 1
    columns = ["role_code", "outlook", "rule", "reason", "labelled_share", "exposed_share", "automatable_share",
               "augmented_share", "tasks", "labelled_tasks", "exposed_tasks", "automatable_tasks",
               "employment_change_pct", "projection_code", "average_change_pct", "high_exposure",
               "mostly_automatable", "projected_decline", "below_average_growth"]
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
                                            ctx.frames["labor_stats"])
    ctx.frames["role_outlook"] = role_outlook
    ctx.frames["role_outlook_evidence"] = evidence
    counts = role_outlook["outlook"].value_counts()
    ctx.note("outlook_method", {
        "exposure": f"task labels of {scoring.PROFILE_EXPOSURE_MEASURE} (GPT-4 E0/E1/E2); exposed = {list(scoring.EXPOSED_LABELS)}",
        "automation": f"{scoring.PROFILE_AUTOMATION_MEASURE} value >= {scoring.AUTOMATABLE_MIN} (T3/T4), counted only on "
                      "exposed tasks: the GPT-4 automation rating also rates automation by other technology on E0 tasks",
        "thresholds": {"exposed_share_min": scoring.EXPOSED_SHARE_MIN, "automatable_share_min": scoring.AUTOMATABLE_SHARE_MIN,
                       "decline_max_pct": scoring.DECLINE_MAX_PCT,
                       "average_change_pct": average_change(ctx.frames["labor_stats"])},
        "rules": {key: text for _, key, text in scoring.OUTLOOK_RULES},
        "counts": {k: int(counts.get(k, 0)) for k in scoring.OUTLOOKS},
        "non_llm_automation": non_llm_automation(ctx.frames["tasks"], ctx.frames["task_exposure"]),
    }, "how role_outlook labels a role (rules, thresholds, counts) and which GPT-4 automation ratings it leaves out")
