"""The role spine, O*NET 30.2 (February 2026): occupations, tasks, work activities, titles, related
occupations, job zones, emerging tasks, technology skills.

Raw O*NET files -> tidy frames keyed on O*NET-SOC 2019 codes (`15-1252.00`) and O*NET task ids.
Labour figures and SOC groups are joined onto roles later (`taskshift.build.assemble`), not here.
`VINTAGE` names the release every table of this module comes from (metadata key `onet_vintages`).
The previous spine, O*NET 29.3, is read as task history only (`ingest.onet_history`); what changed
between the task lists is the `task_list_changes` table (`derive.task_changes`).
"""
from __future__ import annotations

import re

import pandas as pd

VINTAGE = "O*NET 30.2 (February 2026)"
#: Manifest id of each spine file (dataset/sources/onet_30_2.toml).
ID = {name: f"onet_30_2_{name}" for name in (
    "occupation_data", "task_statements", "tasks_to_dwas", "dwa_reference", "iwa_reference",
    "content_model_reference", "alternate_titles", "reported_titles", "emerging_tasks",
    "related_occupations", "job_zones", "technology_skills")}
SOURCES = tuple(ID.values())
#: Output tables of this module (their O*NET release is VINTAGE).
TABLES = ("roles", "tasks", "work_activities", "task_activities", "titles", "role_relations", "emerging_tasks",
          "technology_skills")

CODE = "O*NET-SOC Code"
GWA_ID = re.compile(r"4\.A\.\d\.[a-z]\.\d+")


def load(raw) -> dict[str, pd.DataFrame]:
    vintages = {table: VINTAGE for table in TABLES}
    metadata = pd.DataFrame([
        ("onet_vintage", VINTAGE, "O*NET release of the role spine (roles, tasks, work activities, titles, ...)"),
        ("onet_vintages", vintages, "O*NET release each spine table comes from (O*NET 30.2 has no Education, Training and "
                                    "Experience file here; the build reads none)"),
    ], columns=["key", "value", "description"])
    return {
        "metadata": metadata,
        "onet_roles": roles(raw),
        "tasks": tasks(raw),
        "work_activities": work_activities(raw),
        "task_activities": task_activities(raw),
        "titles": titles(raw),
        "role_relations": role_relations(raw),
        "emerging_tasks": emerging_tasks(raw),
        "technology_skills": technology_skills(raw),
    }


def roles(raw) -> pd.DataFrame:
    occ = raw.read(ID["occupation_data"]).rename(columns={CODE: "code", "Title": "title", "Description": "description"})
    zones = raw.read(ID["job_zones"]).rename(columns={CODE: "code", "Job Zone": "job_zone"})
    out = occ.merge(zones, on="code", how="left")
    out["soc_code"] = out["code"].str[:7]
    task_counts = raw.read(ID["task_statements"]).groupby(CODE).size()
    out["task_count"] = out["code"].map(task_counts).fillna(0).astype("Int64")
    return out.sort_values("code", ignore_index=True)


def tasks(raw) -> pd.DataFrame:
    t = raw.read(ID["task_statements"])
    out = pd.DataFrame({
        "task_id": t["Task ID"],
        "role_code": t[CODE],
        "statement": t["Task"],
        "task_type": t["Task Type"],
        "incumbents_responding": t["Incumbents Responding"],
        "date": t["Date"],
        "domain_source": t["Domain Source"],
    })
    return out.sort_values("task_id", ignore_index=True)


def work_activities(raw) -> pd.DataFrame:
    """GWA -> IWA -> DWA as one table with a `level` column and parent links."""
    model = raw.read(ID["content_model_reference"])
    gwa = model[model["Element ID"].str.fullmatch(GWA_ID.pattern)]
    iwa = raw.read(ID["iwa_reference"])
    dwa = raw.read(ID["dwa_reference"])
    frames = [
        pd.DataFrame({"activity_id": gwa["Element ID"], "level": "gwa", "title": gwa["Element Name"],
                      "description": gwa["Description"], "parent_id": None, "gwa_id": gwa["Element ID"]}),
        pd.DataFrame({"activity_id": iwa["IWA ID"], "level": "iwa", "title": iwa["IWA Title"],
                      "description": None, "parent_id": iwa["Element ID"], "gwa_id": iwa["Element ID"]}),
        pd.DataFrame({"activity_id": dwa["DWA ID"], "level": "dwa", "title": dwa["DWA Title"],
                      "description": None, "parent_id": dwa["IWA ID"], "gwa_id": dwa["Element ID"]}),
    ]
    out = pd.concat(frames, ignore_index=True)
    # Only GWAs that IWAs hang under belong to the work-activity hierarchy.
    keep = (out["level"] != "gwa") | out["activity_id"].isin(iwa["Element ID"])
    return out[keep].sort_values("activity_id", ignore_index=True)


def task_activities(raw) -> pd.DataFrame:
    links = raw.read(ID["tasks_to_dwas"])
    out = links.rename(columns={"Task ID": "task_id", "DWA ID": "dwa_id"})[["task_id", "dwa_id"]]
    return out.drop_duplicates().sort_values(["task_id", "dwa_id"], ignore_index=True)


def titles(raw) -> pd.DataFrame:
    """Every title that names an occupation: its own, alternate, short and reported titles."""
    occ = raw.read(ID["occupation_data"])
    alt = raw.read(ID["alternate_titles"])
    rep = raw.read(ID["reported_titles"])
    frames = [
        pd.DataFrame({"role_code": occ[CODE], "title": occ["Title"], "kind": "occupation", "source_id": ID["occupation_data"]}),
        pd.DataFrame({"role_code": alt[CODE], "title": alt["Alternate Title"], "kind": "alternate", "source_id": ID["alternate_titles"]}),
        pd.DataFrame({"role_code": alt[CODE], "title": alt["Short Title"], "kind": "short", "source_id": ID["alternate_titles"]}).dropna(subset=["title"]),
        pd.DataFrame({"role_code": rep[CODE], "title": rep["Reported Job Title"], "kind": "reported", "source_id": ID["reported_titles"]}),
    ]
    out = pd.concat(frames, ignore_index=True)
    out["title"] = out["title"].str.strip()
    out = out.drop_duplicates(["role_code", "title", "kind"])
    kind_order = {"occupation": 0, "alternate": 1, "short": 2, "reported": 3}
    out = out.assign(_k=out["kind"].map(kind_order)).sort_values(["role_code", "_k", "title"]).drop(columns="_k")
    out.insert(0, "title_id", range(1, len(out) + 1))
    return out.reset_index(drop=True)


def role_relations(raw) -> pd.DataFrame:
    rel = raw.read(ID["related_occupations"])
    out = pd.DataFrame({
        "role_code": rel[CODE],
        "related_code": rel["Related O*NET-SOC Code"],
        "tier": rel["Relatedness Tier"],
        "rank": rel["Index"],
    })
    return out.sort_values(["role_code", "rank"], ignore_index=True)


def emerging_tasks(raw) -> pd.DataFrame:
    em = raw.read(ID["emerging_tasks"])
    out = pd.DataFrame({
        "role_code": em[CODE],
        "statement": em["Task"],
        "category": em["Category"],
        "original_task_id": em["Original Task ID"],
        "date": em["Date"],
        "domain_source": em["Domain Source"],
    }).sort_values(["role_code", "statement"], ignore_index=True)
    out.insert(0, "emerging_task_id", range(1, len(out) + 1))
    return out


def technology_skills(raw) -> pd.DataFrame:
    ts = raw.read(ID["technology_skills"])
    out = pd.DataFrame({
        "role_code": ts[CODE],
        "example": ts["Example"],
        "commodity_code": ts["Commodity Code"],
        "commodity_title": ts["Commodity Title"],
        "hot_technology": ts["Hot Technology"].eq("Y").astype("Int64"),
        "in_demand": ts["In Demand"].eq("Y").astype("Int64"),
    })
    return out.drop_duplicates(["role_code", "example"]).sort_values(["role_code", "example"], ignore_index=True)
