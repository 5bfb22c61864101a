"""Curated inputs: `dataset/curated/<name>.csv`, hand-written rows read like raw files.

Each curated CSV is the hand-written part of the output table of the same name (its columns are a
subset of `schema/tables/<name>.yaml`; the build adds the computed columns). It is read as strings,
checked against those columns of the table contract (types, patterns, allowed values, primary key)
with errors naming the CSV line, and every row must name its `source`.
"""
from __future__ import annotations

from dataclasses import replace
from importlib.resources import as_file

import pandas as pd

from taskshift.contracts import ContractError, table_contracts
from taskshift.resources import dataset_files
from taskshift.build.sources import read_file


def path_of(name: str):
    return dataset_files().joinpath("curated", f"{name}.csv")


def read(name: str, table: str | None = None) -> pd.DataFrame:
    """The validated rows of `dataset/curated/<name>.csv` (index = CSV line number).

    Validated against the columns of `schema/tables/<table or name>.yaml` that the CSV has; a CSV
    column the contract does not declare, or a missing `source`, is an error.
    """
    from taskshift.build.assemble import BuildError

    contract = table_contracts()[table or name]
    with as_file(path_of(name)) as path:
        frame = read_file(path, {"format": "csv", "encoding": "utf-8"})
    where = f"dataset/curated/{name}.csv"
    unknown = [c for c in frame.columns if c not in contract.column_names]
    problems = [f"{where}: column '{c}' is not a column of table {contract.name}" for c in unknown]
    if "source" not in frame.columns:
        problems.append(f"{where}: column 'source' missing (every curated row names its source)")
    if problems:
        raise BuildError(problems)
    columns = tuple(c for c in contract.columns if c.name in frame.columns)
    subset = replace(
        contract, columns=columns,
        primary_key=contract.primary_key if set(contract.primary_key) <= set(frame.columns) else (),
        unique=tuple(u for u in contract.unique if set(u) <= set(frame.columns)),
        foreign_keys=(), indexes=(), fts=(), facets=(), sort=(), rows=None)
    try:
        return subset.validate(frame, where=where)
    except ContractError as err:
        raise BuildError(str(err).splitlines()) from None
