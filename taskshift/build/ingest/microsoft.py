"""Microsoft Research, "Working with AI" (Tomlinson et al. 2025): IWA metrics and AI applicability.

Inputs: `iwa_metrics.csv` (332 O*NET 29.0 IWAs, metrics per side: user goal / AI action),
`soc_to_iwas.csv` (SOC -> IWA links) and `soc_iwa_weights.csv` (wide SOC x IWA weights), plus
O*NET 30.2 `Tasks to DWAs` and `DWA Reference` to carry IWA values down to tasks.

Equation (1), as in the paper and the repository README's reference code:
- IWA value per side s in {user, ai}: v_s = completion_s x impact_scope_s x 1[share_s > 0.0005].
- SOC side score: sum over the SOC's linked IWAs (soc_to_iwas) of weight x v_s, divided by the sum
  of those weights (weights from soc_iwa_weights, melted from wide to long).
- applicability = (user + ai) / 2. 785 SOC codes, code_system `oews` (BLS OEWS detailed codes; 12 of
  them are OEWS aggregates such as 13-1020 that are not single SOC 2018 detailed codes).
`coverage` in native_scores is 1.0: every linked IWA has a value (below the share threshold the
value is 0 by definition, not missing).

Decisions, from the data (checked on every load):
- `completion_x_scope_x_coverage_{user,ai}` in iwa_metrics.csv IS the thresholded product: it
  equals completion x impact_scope x 1[share > 0.0005] exactly for all 332 IWAs on both sides
  (and is 0, not NaN, where completion is missing below the threshold). We recompute it from the
  components and assert equality to 1e-12, so the file's own column is a check, not an input.
- soc_to_iwas has 13,698 links; 160 of them have weight 0 in soc_iwa_weights (they add nothing),
  and no SOC has a positive weight on an IWA it is not linked to.

activity_exposure (one row per IWA, wide by side): the IWA metrics as published plus
`applicability_user`, `applicability_ai` (the Eq. (1) IWA values) and `applicability` (their mean).

Task level (task_exposure, measures microsoft2025_applicability, _user, _ai): a task's value is the
unweighted mean of the Eq. (1) IWA values over the distinct IWAs of the task's DWAs in O*NET 30.2
Tasks to DWAs (IWA = DWA Reference `IWA ID`, equal to the DWA id up to `.I##`). Tasks without a DWA
get no row; `label` is null (the IWAs behind a value follow from O*NET Tasks to DWAs).

Usage: `load(RawReader(sources_dir))` -> frames `activity_exposure`, `task_exposure`,
`native_scores`, `metadata`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from taskshift import scoring

SOURCES = (
    "microsoft_iwa_metrics",
    "microsoft_soc_to_iwas",
    "microsoft_soc_iwa_weights",
    "onet_30_2_tasks_to_dwas",
    "onet_30_2_dwa_reference",
)
CODE_SYSTEM = "oews"
SIDES = ("user", "ai")
MEASURES = {
    "applicability": "microsoft2025_applicability",
    "user": "microsoft2025_applicability_user",
    "ai": "microsoft2025_applicability_ai",
}
METRICS = ("share", "completion", "impact_scope", "feedback_positive_fraction")


def iwa_values(raw) -> pd.DataFrame:
    """activity_exposure: one row per IWA with the published metrics and the Eq. (1) values."""
    iwa = raw.read("microsoft_iwa_metrics")
    out = pd.DataFrame({"iwa_id": iwa["IWA"].to_numpy()})
    for side in SIDES:
        for metric in METRICS:
            out[f"{metric}_{side}"] = iwa[f"{metric}_{side}"].to_numpy()
    for side in SIDES:
        value = scoring.microsoft_iwa_value(iwa[f"share_{side}"], iwa[f"completion_{side}"],
                                            iwa[f"impact_scope_{side}"]).to_numpy()
        published = iwa[f"completion_x_scope_x_coverage_{side}"].to_numpy()
        if np.isnan(value).any() or not np.allclose(value, published, rtol=0, atol=1e-12):
            raise ValueError(f"microsoft: completion_x_scope_x_coverage_{side} is no longer "
                             "completion x impact_scope x 1[share > 0.0005]; review Equation (1)")
        out[f"applicability_{side}"] = value
    out["applicability"] = (out["applicability_user"] + out["applicability_ai"]) / 2
    return out.sort_values("iwa_id", ignore_index=True)


def soc_links(raw) -> pd.DataFrame:
    """Long SOC-IWA links with weights: columns soc, iwa, weight (one row per soc_to_iwas link)."""
    links = raw.read("microsoft_soc_to_iwas").rename(columns={"SOC Code": "soc", "IWA": "iwa"})
    wide = raw.read("microsoft_soc_iwa_weights").set_index("SOC Code")  # one row per SOC code (contract)
    weights = wide.to_numpy(dtype="float64")
    # each link's cell of the wide table (its SOC code's row, its IWA's column); the links are unique (contract)
    row, col = wide.index.get_indexer(links["soc"]), wide.columns.get_indexer(links["iwa"])
    found = (row >= 0) & (col >= 0)
    weight = np.where(found, weights[row, col], np.nan)
    if np.isnan(weight).any():
        raise ValueError("microsoft: a soc_to_iwas link has no weight column in soc_iwa_weights")
    linked = np.zeros(weights.shape, dtype=bool)
    linked[row, col] = True
    if ((weights > 0) & ~linked).any():
        raise ValueError("microsoft: soc_iwa_weights has positive weights on IWAs not in soc_to_iwas")
    return links[["soc", "iwa"]].assign(weight=weight).reset_index(drop=True)


def role_scores(activity: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    values = activity.set_index("iwa_id")[["applicability_user", "applicability_ai"]]
    values.columns = ["user", "ai"]
    scores = scoring.microsoft_applicability(links, values)
    parts = [pd.DataFrame({"measure_id": MEASURES[col], "code_system": CODE_SYSTEM,
                           "native_code": scores.index, "score": scores[col].to_numpy(), "coverage": 1.0})
             for col in ("applicability", "user", "ai")]
    return pd.concat(parts, ignore_index=True)


def task_values(raw, activity: pd.DataFrame) -> pd.DataFrame:
    """task_exposure rows: mean Eq. (1) IWA value over each O*NET 30.2 task's distinct IWAs."""
    t2d = raw.read("onet_30_2_tasks_to_dwas")
    dwa = raw.read("onet_30_2_dwa_reference")[["DWA ID", "IWA ID"]]
    if not (dwa["DWA ID"].str.rsplit(".", n=1).str[0] == dwa["IWA ID"]).all():
        raise ValueError("onet: a DWA id does not start with its IWA id")
    pairs = t2d.merge(dwa, on="DWA ID", how="left", validate="many_to_one")
    if pairs["IWA ID"].isna().any():
        raise ValueError("onet: Tasks to DWAs names DWAs missing from DWA Reference")
    pairs = pairs[["Task ID", "IWA ID"]].drop_duplicates()
    pairs["Task ID"] = pairs["Task ID"].astype("int64")
    values = activity.set_index("iwa_id")
    unknown = ~pairs["IWA ID"].isin(values.index)
    if unknown.any():
        raise ValueError(f"microsoft: O*NET 30.2 IWAs without metrics: {sorted(pairs.loc[unknown, 'IWA ID'].unique())[:5]}")
    pairs = pairs.sort_values(["Task ID", "IWA ID"])
    grouped = pairs.assign(
        applicability=pairs["IWA ID"].map(values["applicability"]),
        user=pairs["IWA ID"].map(values["applicability_user"]),
        ai=pairs["IWA ID"].map(values["applicability_ai"]),
    ).groupby("Task ID", sort=True)
    means = grouped[["applicability", "user", "ai"]].mean()
    parts = [pd.DataFrame({"task_id": means.index.to_numpy(), "measure_id": MEASURES[col],
                           "value": means[col].to_numpy(), "label": None})
             for col in ("applicability", "user", "ai")]
    return pd.concat(parts, ignore_index=True).sort_values(["task_id", "measure_id"], ignore_index=True)


def load(raw) -> dict[str, pd.DataFrame]:
    activity = iwa_values(raw)
    links = soc_links(raw)
    native = role_scores(activity, links)
    task_exposure = task_values(raw, activity)
    metadata = pd.DataFrame([
        ("microsoft.iwas", len(activity), "IWAs with metrics"),
        ("microsoft.iwas_above_threshold_user", int((activity["share_user"] > scoring.MICROSOFT_SHARE_THRESHOLD).sum()),
         "IWAs whose user-goal share exceeds 0.0005"),
        ("microsoft.iwas_above_threshold_ai", int((activity["share_ai"] > scoring.MICROSOFT_SHARE_THRESHOLD).sum()),
         "IWAs whose AI-action share exceeds 0.0005"),
        ("microsoft.soc_codes", links["soc"].nunique(), "OEWS SOC codes scored"),
        ("microsoft.soc_iwa_links", len(links), "SOC-IWA links (soc_to_iwas)"),
        ("microsoft.soc_iwa_links_zero_weight", int((links["weight"] == 0).sum()), "links with weight 0"),
        ("microsoft.tasks_scored", task_exposure["task_id"].nunique(), "O*NET 30.2 tasks with at least one DWA (task_exposure)"),
    ], columns=["key", "value", "description"])
    metadata["value"] = metadata["value"].astype("float64")
    # the SOC-IWA links (O*NET 29.0 IWAs) for task_list_changes (taskshift.build.derive.task_changes)
    return {"activity_exposure": activity, "task_exposure": task_exposure, "native_scores": native,
            "metadata": metadata, "microsoft_soc_iwa_links": links}
