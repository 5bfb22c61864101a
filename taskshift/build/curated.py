"""Curated inputs: `dataset/curated/<name>.csv`, hand-written rows read like raw files.

Each curated CSV is the hand-written part of the output table of the same name (its columns are a
subset of `schema/tables/<name>.yaml`; the build adds the computed columns). It is read as strings,
checked against those columns of the table contract (types, patterns, allowed values, primary key)
with errors naming the CSV line, and every row must name its `source`. A `[cite:key]` in a text column
becomes the readable citation of `dataset/curated/citations.csv` ('Title', publisher, date, URL).
"""
from __future__ import annotations

import re
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
        frame = subset.validate(frame, where=where)
    except ContractError as err:
        raise BuildError(str(err).splitlines()) from None
    return frame if name == "citations" else expand_citations(frame, where)


CITE = re.compile(r"\[cite:([a-z0-9_]+)\]")


def citation_texts() -> dict[str, str]:
    """cite_key -> "'Title', Publisher, published, URL" from dataset/curated/citations.csv."""
    rows = read("citations")
    return {r.cite_key: f"'{r.title}', {r.publisher}, {r.published}, {r.url}" for r in rows.itertuples(index=False)}


def expand_citations(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """Replace every [cite:key] in the text columns with the readable citation; an unknown key is an error."""
    from taskshift.build.assemble import BuildError

    texts = None
    problems = []
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype != object and str(out[col].dtype) not in ("string", "str"):
            continue
        values = out[col]
        has = values.astype("string").str.contains(r"\[cite:", regex=True, na=False)
        if not has.any():
            continue
        texts = texts or citation_texts()

        def sub(m, line=None):
            key = m.group(1)
            if key not in texts:
                problems.append(f"{where}: row {line}: column '{col}': unknown citation [cite:{key}] (see dataset/curated/citations.csv)")
                return m.group(0)
            return texts[key]

        out.loc[has, col] = [CITE.sub(lambda m, line=line: sub(m, line), v) for line, v in values[has].items()]
    if problems:
        raise BuildError(problems)
    return out
