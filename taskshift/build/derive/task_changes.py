"""Derive `task_list_changes` and `role_task_changes`: what changed between the task lists the measures
were built on and the role spine (O*NET 30.2), and how much of each role's measure weight rests on
tasks that no longer exist.

Task lists compared with the spine (`LISTS`):

- `onet_task_statements`: O*NET 29.3 (May 2025), the previous spine (task-level values and the
  `task_basis_score` of earlier builds); weight = coreweight (Core 2, else 1).
- `eloundou_full_labelset`: Eloundou et al.'s O*NET 27.x list (every eloundou2023_* measure);
  weight = the paper's coreweight.
- `anthropic_onet_task_statements`: the Anthropic Economic Index's O*NET ~20.1 list (O*NET-SOC 2010
  codes; task usage and observed exposure); weight = the statement's share of conversations
  (task_pct_v2), 0 where no conversation used it.
- `microsoft_soc_to_iwas`: Microsoft Working with AI, links of each OEWS code to O*NET 29.0 IWAs
  (the unit is an IWA link, not a task); weight = the link's weight in soc_iwa_weights.

Each task of a list is classified (`change`; the table lists every task that is not `unchanged` or
was retyped, role_task_changes counts them all):

- `unchanged`: the spine has its Task ID, with the same normalised statement;
- `reworded`: the spine has its Task ID, with another wording (O*NET keeps an id for a light revision);
- `replaced`: the Task ID is gone but the task matcher (`derive.task_match`: exact text, the id in
  another release's list, rewording above the measured threshold) finds its spine task: method and
  similarity are the evidence;
- `removed`: the Task ID is gone and the matcher finds nothing (the task no longer exists);
- `added`: a spine task of a role the list covers that no row of the list reaches.

`retyped` = 1 where both lists rate the task and Core <-> Supplemental changed (old and new types kept).
A Microsoft link is `unchanged` if some 30.2 task of the OEWS code's roles still links (Tasks to
DWAs) to the IWA, `removed` if none does; `added` = IWAs the 30.2 tasks link to that the code's
Microsoft links lack.

`role_task_changes`, one row per (role, list): counts per change, and `weight_share_retired` (share of
the role's weight on the list resting on tasks whose Task ID the spine no longer has: replaced or
removed) and `weight_share_removed` (on tasks with no successor at all). A removed task of an
O*NET-SOC 2010 list counts for every 2019 successor of its occupation.

Eloundou labels of replaced tasks are carried to their spine task when it has no label of its own
(`task_exposure.source_task_id` names the paper's task; the best similarity wins where two old tasks
reach one spine task).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from taskshift import scoring
from taskshift.build.derive import task_match

SPINE = "O*NET 30.2 (February 2026)"
LISTS = {
    "onet_task_statements": {
        "version": "O*NET 29.3 (May 2025)", "unit": "task", "weight_basis": "coreweight (Core 2, else 1)",
        "measures": "task-level values of the previous build (task_exposure, task_basis_score)"},
    "eloundou_full_labelset": {
        "version": "O*NET 27.x (Eloundou et al. 2024 label set)", "unit": "task",
        "weight_basis": "coreweight of the paper (Core 2, else 1)", "measures": "eloundou2023_*"},
    "anthropic_onet_task_statements": {
        "version": "O*NET ~20.1 (Anthropic Economic Index task list, O*NET-SOC 2010)", "unit": "task",
        "weight_basis": "share of Claude.ai conversations (task_pct_v2)",
        "measures": "anthropic2026_observed_exposure, task_usage, task_collaboration"},
    "microsoft_soc_to_iwas": {
        "version": "O*NET 29.0 IWAs (Microsoft Working with AI)", "unit": "iwa",
        "weight_basis": "IWA weight of the OEWS code (soc_iwa_weights)", "measures": "microsoft2025_applicability*"},
}
CHANGES = ("unchanged", "reworded", "replaced", "removed", "added")
COLUMNS = ["change_id", "list_id", "unit", "old_code", "old_task_id", "iwa_id", "task_id", "role_code", "change",
           "retyped", "old_task_type", "task_type", "method", "similarity", "weight", "evidence", "old_statement"]
SUMMARY = ["role_code", "list_id", "list_version", "unit", "measures", "weight_basis", "items", *CHANGES, "retyped",
           "weight", "weight_share_retired", "weight_share_removed"]


def _successor_frame(frames) -> pd.DataFrame:
    cw = frames["crosswalks"]
    return cw.loc[(cw["from_system"] == "onetsoc2010") & (cw["to_system"] == "onetsoc2019"),
                  ["from_code", "to_code"]].drop_duplicates()


def list_changes(h: pd.DataFrame, tasks: pd.DataFrame, matcher: task_match.TaskMatcher,
                 successors: pd.DataFrame) -> pd.DataFrame:
    """One row per task of the list `h` (list_id, code_system, occupation_code, task_id, statement,
    task_type, weight, key) plus one per spine task the list does not reach (added). `tasks` carries `key`,
    the normalised statement (task_match.normalise)."""
    spine = tasks[["task_id", "role_code", "statement", "task_type", "key"]].rename(
        columns={"statement": "new_statement", "task_type": "new_type", "key": "new_key"})
    h = h.reset_index(drop=True)
    out = h.rename(columns={"occupation_code": "old_code", "task_id": "old_task_id", "statement": "old_statement",
                            "task_type": "old_task_type"})
    out = out.merge(spine, left_on="old_task_id", right_on="task_id", how="left")
    same = out["task_id"].notna()
    key_old = out["key"].to_numpy(dtype=object)
    key_new = out["new_key"].fillna("").to_numpy(dtype=object)
    out["change"] = np.where(same, np.where(key_old == key_new, "unchanged", "reworded"), None)
    out["method"] = np.where(same, "same_id", None)
    out["similarity"] = np.where(same & (key_old == key_new), 1.0, np.nan)
    reworded = np.flatnonzero(out["change"].to_numpy() == "reworded")
    out.loc[reworded, "similarity"] = [scoring.text_similarity(a, b) for a, b in
                                       zip(out.loc[reworded, "old_statement"], out.loc[reworded, "new_statement"])]
    out["evidence"] = np.where(same, "the spine has the Task ID", None)

    # Task IDs the spine no longer has: the matcher, preferring a task of the occupation's successors
    gone = out.index[~same]
    if len(gone):
        matches = matcher.match(out.loc[gone, "old_statement"].drop_duplicates())
        matches = matches.merge(spine[["task_id", "new_statement", "new_type"]], on="task_id", how="left")
        rows = out.loc[gone, ["old_code", "old_statement", "code_system"]].reset_index(names="row")
        rows["succ"] = rows["old_code"]
        if (rows["code_system"] == "onetsoc2010").any():
            succ = successors.rename(columns={"from_code": "old_code", "to_code": "succ2019"})
            rows = rows.merge(succ, on="old_code", how="left")
            rows["succ"] = rows["succ2019"].where(rows["code_system"] == "onetsoc2010", rows["old_code"])
        cand = rows.merge(matches, left_on="old_statement", right_on="text", how="left")
        cand["own"] = (cand["role_code"] == cand["succ"]).astype(int)
        cand = cand.sort_values(["row", "own", "similarity", "task_id"], ascending=[True, False, False, True],
                                na_position="last", kind="stable")
        best = cand.drop_duplicates("row").set_index("row")
        # a match counts only in the task's own occupation (or its 2019 successors): the same statement
        # under another occupation is that occupation's task, not this one's successor
        hit = best["task_id"].notna() & (best["own"] == 1)
        elsewhere = best["task_id"].notna() & ~hit
        idx = best.index
        keep = lambda col: best[col].where(hit)  # noqa: E731
        out.loc[idx, "task_id"] = keep("task_id").astype("float64").to_numpy()
        out.loc[idx, "role_code"] = keep("role_code").to_numpy()
        out.loc[idx, "new_statement"] = keep("new_statement").to_numpy()
        out.loc[idx, "new_type"] = keep("new_type").to_numpy()
        out.loc[idx, "change"] = np.where(hit, "replaced", "removed")
        out.loc[idx, "method"] = np.where(hit, best["method"], "none")
        out.loc[idx, "similarity"] = best["similarity"].to_numpy()
        n = best["n_tasks"].fillna(0).astype(int)
        extra = np.where(hit & (n > 1), " (" + n.astype(str) + " spine tasks matched; the occupation's own kept)", "")
        other = ("Task ID gone; the matcher's " + best["method"].astype(str) + " match is Task ID "
                 + best["task_id"].astype("string").fillna("") + " of " + best["role_code"].astype(str)
                 + ", another occupation (not a successor of " + best["old_code"].astype(str) + "): no task of this occupation")
        out.loc[idx, "evidence"] = np.where(elsewhere, other, "Task ID gone; " + best["evidence"].astype(str) + extra)
    out["retyped"] = (out["old_task_type"].notna() & out["new_type"].notna()
                      & (out["old_task_type"] != out["new_type"])).astype("int64")
    # the role a removed task of a 2019 list belonged to is its own occupation (if the spine has it)
    removed = (out["change"] == "removed") & (out["code_system"] == "onetsoc2019") & out["old_code"].isin(tasks["role_code"].unique())
    out.loc[removed, "role_code"] = out.loc[removed, "old_code"]
    # keep the old statement only where it differs from the spine task's
    out.loc[out["change"] == "unchanged", "old_statement"] = None

    covered = set(out["role_code"].dropna())
    reached = set(out["task_id"].dropna().astype("int64"))
    added = spine[spine["role_code"].isin(covered) & ~spine["task_id"].isin(reached)]
    add = pd.DataFrame({"task_id": added["task_id"].to_numpy(dtype="float64"), "role_code": added["role_code"].to_numpy(),
                        "new_type": added["new_type"].to_numpy(), "change": "added", "retyped": 0,
                        "method": None, "similarity": np.nan,
                        "evidence": "a spine task no task of the list reaches (neither its Task ID nor a match)"})
    out = pd.concat([out, add], ignore_index=True)
    out["list_id"] = h["list_id"].iloc[0]
    out["unit"] = "task"
    out["iwa_id"] = None
    return out.rename(columns={"new_type": "task_type"})


def microsoft_changes(links: pd.DataFrame, frames) -> pd.DataFrame:
    """Microsoft's SOC-IWA links vs the IWAs the spine's tasks of each OEWS code's roles link to."""
    roles = frames["roles"][["code", "labor_code"]].dropna()
    ta = frames["task_activities"]
    t = frames["tasks"][["task_id", "role_code"]].merge(ta, on="task_id")
    t["iwa_id"] = t["dwa_id"].str.rsplit(".", n=1).str[0]
    spine = (t.merge(roles, left_on="role_code", right_on="code")[["labor_code", "iwa_id"]]
             .drop_duplicates().rename(columns={"labor_code": "old_code"}))
    ms = links.rename(columns={"soc": "old_code", "iwa": "iwa_id"})
    both = ms.merge(spine, on=["old_code", "iwa_id"], how="outer", indicator=True)
    both = both[both["old_code"].isin(ms["old_code"].unique())]
    change = both["_merge"].map({"both": "unchanged", "left_only": "removed", "right_only": "added"})
    evidence = change.map({
        "unchanged": "a 30.2 task of the code's roles links (Tasks to DWAs) to the IWA",
        "removed": "no 30.2 task of the code's roles links to the IWA any more",
        "added": "30.2 tasks of the code's roles link to the IWA; Microsoft's links for the code lack it"})
    return pd.DataFrame({
        "list_id": "microsoft_soc_to_iwas", "unit": "iwa", "old_code": both["old_code"].to_numpy(), "old_task_id": np.nan,
        "iwa_id": both["iwa_id"].to_numpy(), "task_id": np.nan, "role_code": None, "change": change.to_numpy(),
        "retyped": 0, "old_task_type": None, "task_type": None, "method": "iwa_link", "similarity": np.nan,
        "weight": both["weight"].to_numpy(dtype="float64"), "evidence": evidence.to_numpy(), "old_statement": None,
        "code_system": "oews"})


def summarise(changes: pd.DataFrame, frames, successors: pd.DataFrame) -> pd.DataFrame:
    """role_task_changes: one row per (role, list)."""
    roles = frames["roles"][["code", "labor_code"]]
    ch = changes.reset_index(drop=True).assign(row=lambda f: np.arange(len(f)))
    # each row's roles: its spine role; else (removed) the successors of its old occupation; Microsoft: the
    # roles of the OEWS code
    task_rows = ch.loc[ch["unit"] == "task", ["row", "role_code", "old_code", "code_system"]]
    direct = task_rows.loc[task_rows["role_code"].notna(), ["row", "role_code"]]
    orphan = task_rows.loc[task_rows["role_code"].isna() & (task_rows["code_system"] == "onetsoc2010"), ["row", "old_code"]]
    via = orphan.merge(successors, left_on="old_code", right_on="from_code")[["row", "to_code"]].rename(
        columns={"to_code": "role_code"})
    iwa = ch.loc[ch["unit"] == "iwa", ["row", "old_code"]].merge(roles.dropna(), left_on="old_code", right_on="labor_code")
    iwa = iwa[["row", "code"]].rename(columns={"code": "role_code"})
    member = pd.concat([direct, via, iwa], ignore_index=True).drop_duplicates()
    member = member[member["role_code"].isin(roles["code"].unique())]
    m = member.merge(ch[["row", "list_id", "unit", "change", "retyped", "weight"]], on="row")
    counts = (m.groupby(["role_code", "list_id", "change"]).size().unstack("change", fill_value=0)
              .reindex(columns=list(CHANGES), fill_value=0))
    g = m.groupby(["role_code", "list_id"])
    out = counts.reset_index()
    keys = pd.MultiIndex.from_frame(out[["role_code", "list_id"]])
    out["retyped"] = g["retyped"].sum().reindex(keys).to_numpy()
    out["items"] = out[["unchanged", "reworded", "replaced", "removed"]].sum(axis=1)
    listed = m[m["change"] != "added"]
    w = listed["weight"].fillna(0.0)
    total = w.groupby([listed["role_code"], listed["list_id"]]).sum()
    retired = w.where(listed["change"].isin(["replaced", "removed"]), 0.0).groupby(
        [listed["role_code"], listed["list_id"]]).sum()
    gone = w.where(listed["change"] == "removed", 0.0).groupby([listed["role_code"], listed["list_id"]]).sum()
    out["weight"] = total.reindex(keys).to_numpy()
    out["weight_share_retired"] = scoring.safe_share(retired.reindex(keys).to_numpy(), out["weight"].to_numpy())
    out["weight_share_removed"] = scoring.safe_share(gone.reindex(keys).to_numpy(), out["weight"].to_numpy())
    info = pd.DataFrame.from_dict(LISTS, orient="index")
    out["list_version"] = out["list_id"].map(info["version"])
    out["unit"] = out["list_id"].map(info["unit"])
    out["measures"] = out["list_id"].map(info["measures"])
    out["weight_basis"] = out["list_id"].map(info["weight_basis"])
    for c in ("reworded", "replaced", "retyped"):  # not defined for IWA links
        out[c] = out[c].astype("Int64").where(out["unit"] == "task")
    return out[SUMMARY].sort_values(["role_code", "list_id"], ignore_index=True)


def carry_eloundou(changes: pd.DataFrame, frames) -> pd.DataFrame:
    """task_exposure rows for spine tasks reached only through a replaced Eloundou task (labels carried)."""
    values = frames.get("eloundou_task_values")
    if values is None:
        return pd.DataFrame()
    te = frames["task_exposure"]
    labelled = set(te.loc[te["measure_id"].isin(values["measure_id"].unique()), "task_id"])
    rep = changes[(changes["list_id"] == "eloundou_full_labelset") & (changes["change"] == "replaced")]
    rep = rep[~rep["task_id"].astype("int64").isin(labelled)]
    rep = rep.sort_values(["task_id", "similarity", "old_task_id"], ascending=[True, False, True]).drop_duplicates("task_id")
    pairs = pd.DataFrame({"task_id": rep["task_id"].astype("int64").to_numpy(),
                          "source_task_id": rep["old_task_id"].astype("int64").to_numpy()})
    return pairs.merge(values, on="source_task_id")[["task_id", "measure_id", "value", "label", "source_task_id"]]


def derive(ctx) -> None:
    frames = ctx.frames
    history = frames.get("task_history")
    if history is None:
        return
    matcher = task_match.shared(ctx)
    successors = _successor_frame(frames)
    tasks = frames["tasks"].assign(key=lambda f: task_match.normalise(f["statement"], matcher.keys).to_numpy())
    history = history.assign(key=task_match.normalise(history["statement"], matcher.keys).to_numpy())
    usage = frames.get("task_usage")
    parts = []
    for list_id in LISTS:
        h = history[history["list_id"] == list_id]
        if h.empty:
            continue
        h = h.copy()
        if list_id == "anthropic_onet_task_statements":
            share = (pd.Series(dtype="float64") if usage is None else
                     usage.drop_duplicates("task_name").assign(key=lambda f: task_match.normalise(f["task_name"], matcher.keys).to_numpy())
                     .groupby("key")["share"].sum())
            h["weight"] = h["key"].map(share).fillna(0.0).to_numpy()
        parts.append(list_changes(h, tasks, matcher, successors))
    links = frames.pop("microsoft_soc_iwa_links", None)
    if links is not None:
        parts.append(microsoft_changes(links, frames))
    changes = pd.concat(parts, ignore_index=True)
    changes = changes.sort_values(["list_id", "change", "old_code", "old_task_id", "iwa_id", "task_id"],
                                  na_position="last", kind="stable", ignore_index=True)
    for c in ("old_task_id", "task_id"):
        changes[c] = changes[c].astype("Int64")
    frames["role_task_changes"] = summarise(changes, frames, successors)
    # the table lists what changed: unchanged tasks (and links) that kept their type are only counted
    listed = changes[(changes["change"] != "unchanged") | (changes["retyped"] == 1)].reset_index(drop=True)
    listed["change_id"] = np.arange(1, len(listed) + 1)
    frames["task_list_changes"] = listed[COLUMNS]

    carried = carry_eloundou(changes, frames)
    frames.pop("eloundou_task_values", None)
    te = frames["task_exposure"]
    if "source_task_id" not in te:
        te = te.assign(source_task_id=pd.Series(pd.NA, index=te.index, dtype="Int64"))
    if len(carried):
        te = pd.concat([te, carried.astype({"source_task_id": "Int64"})], ignore_index=True)
    frames["task_exposure"] = te.sort_values(["task_id", "measure_id"], ignore_index=True)

    counts = {lid: {k: int(v) for k, v in changes.loc[changes["list_id"] == lid, "change"].value_counts().items()}
              for lid in LISTS}
    for lid in LISTS:
        counts[lid]["retyped"] = int(changes.loc[changes["list_id"] == lid, "retyped"].sum())
        rep = changes[(changes["list_id"] == lid) & (changes["change"] == "replaced")]
        counts[lid]["replaced_by_method"] = {k: int(v) for k, v in rep["method"].value_counts().items()}
    ctx.note("task_list_changes", counts, f"per task list: tasks unchanged, reworded, replaced (Task ID gone, matched), "
             f"removed (no match), added, retyped (Core <-> Supplemental) against the spine, {SPINE}; replaced by match method")
    ctx.note("task_lists", {k: {"version": v["version"], "unit": v["unit"], "weight_basis": v["weight_basis"],
                                "measures": v["measures"]} for k, v in LISTS.items()},
             "the task lists the measures were built on, compared with the spine in task_list_changes")
    ctx.note("eloundou.labels_carried", int(carried["task_id"].nunique()) if len(carried) else 0,
             "spine tasks whose Eloundou et al. labels come from a replaced paper task (task_exposure.source_task_id)")
