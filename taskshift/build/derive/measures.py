"""Derive `measures`: the registry in `dataset/measures/*.yaml`, with what the build covered."""
from __future__ import annotations

import pandas as pd

from taskshift.resources import dataset_files, yaml_files

COLUMNS = ["measure_id", "family", "consensus_role", "evidence", "consensus_note", "title", "scale", "direction", "level", "code_system", "method",
           "citation", "url", "license", "redistributable", "source_ids"]


def registry() -> pd.DataFrame:
    rows = [entry for entries in yaml_files(dataset_files() / "measures").values() for entry in entries or []]
    frame = pd.DataFrame(rows)
    unknown = sorted(set(frame.columns) - set(COLUMNS))
    if unknown:
        raise ValueError(f"dataset/measures: unknown keys {unknown}")
    frame["source_ids"] = frame["source_ids"].map(lambda ids: ",".join(ids) if isinstance(ids, list) else ids)
    frame["redistributable"] = frame["redistributable"].astype(bool).astype(int)
    return frame[COLUMNS]


def derive(ctx) -> None:
    measures = registry()
    # A measure is in the build when every source it is made from was read (a release build does
    # not read the sources it may not redistribute).
    read = set(ctx.sources_read)
    measures = measures[measures["source_ids"].map(lambda ids: set(ids.split(",")) <= read)].copy()
    exposure = ctx.frames.get("role_exposure", pd.DataFrame(columns=["measure_id", "derivation"]))
    covered = exposure.groupby("measure_id").size()
    crosswalked = exposure[exposure["derivation"] != "native"].groupby("measure_id").size()
    measures["roles_covered"] = measures["measure_id"].map(covered).fillna(0).astype(int)
    measures["roles_crosswalked"] = measures["measure_id"].map(crosswalked).fillna(0).astype(int)
    ctx.frames["measures"] = measures.sort_values("measure_id", ignore_index=True)
