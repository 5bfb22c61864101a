"""Per-table content digests: written into the `metadata` table by every build, recomputed by `taskshift verify`.

A database copied on its own (no SHA256SUMS beside it) still carries what it should contain: the row
count and a sha256 of every table's rows. `verify` recomputes them, so a changed cell, a dropped row or
a table emptied by hand is found. (Whoever rewrites a table can also rewrite its digest: the digests
find damage and naive edits; only a checksum from a second channel authenticates a file, see
docs/releases.md.)

Each table's digest is {"rows": n, "sha256": hex, "method": METHOD}. Method `columns` (taskshift 0.x
from 2026-12): sha256 over the contract's columns in order, rows in rowid order (the build's write
order); per column its name and type, then the values in fixed-width binary form:
- integer: a null mask (one byte per row: 1 = null) and the values as little-endian int64 (0 for null);
- real: the null mask and the values as little-endian IEEE float64 (0.0 for null, -0.0 as 0.0, as
  SQLite reads it back);
- text: each value's length in code points as little-endian int64 (-1 for null), then the values joined,
  UTF-8;
- blob: each value's length in bytes as int64 (-1 for null), then the values joined.
A value of another type than its column's (a text in an integer column: possible in SQLite) gives
another digest. Binary forms, not text: no number formatting and no Unicode table is involved, so the
digest does not depend on the Python, NumPy or Unicode version, and the build computes it from whole
columns (a tenth of the time of the JSON batches before).
Without "method" a digest is the earlier `json` method (databases built before): sha256 over the rows
in batches of 4096, each batch compact JSON (`json.dumps(rows, ensure_ascii=False,
separators=(",", ":"))`, UTF-8; a blob as {"hex": ...}); `table_digest` still computes it for them.
The metadata table's own digest leaves out its `table_digests` row.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3

import numpy as np

DIGEST_KEY = "table_digests"
METHOD = "columns"
DIGEST_DESCRIPTION = ("rows and sha256 of each table's content (contract columns, rowid order, each column's values "
                      "in binary form: taskshift/build/digests.py): `taskshift verify` recomputes them")
BATCH = 4096  # rows per JSON batch of the earlier method
_INT64 = np.dtype("<i8")
_FLOAT64 = np.dtype("<f8")


class _WrongType(Exception):
    """A value whose type is not its column's (a hand-edited cell)."""


def column_bytes(values: list, type_: str):
    """The binary form of one column (see the module docstring): an iterator of byte strings. `values`:
    plain Python values (int, float, str, bytes or None), as SQLite gives them back."""
    kind = {"integer": int, "real": float, "text": str, "blob": bytes}[type_]
    types = set(map(type, values))
    if not types <= {kind, type(None)}:
        raise _WrongType(type_)
    if type(None) not in types:
        if type_ in ("integer", "real"):
            return _numbers(np.array(values, dtype=_INT64 if kind is int else _FLOAT64), np.zeros(len(values), bool), type_)
        return _sized(values, type_, lengths=np.fromiter(map(len, values), dtype=_INT64, count=len(values)))
    nulls = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    if type_ in ("integer", "real"):
        return _numbers(np.array([0 if v is None else v for v in values], dtype=_INT64 if kind is int else _FLOAT64),
                        nulls, type_)
    return _sized(values, type_)


def _numbers(numbers: np.ndarray, nulls: np.ndarray, type_: str):
    if type_ == "real":
        numbers = numbers + 0.0  # -0.0 -> 0.0 (SQLite reads a REAL -0.0 back as 0.0)
    yield nulls.astype(np.uint8).tobytes()
    yield numbers.astype(_INT64 if type_ == "integer" else _FLOAT64, copy=False).tobytes()


def _sized(values: list, type_: str, lengths: np.ndarray | None = None):
    """Lengths (-1 for null), then the values joined; `lengths` given when there is no null."""
    if lengths is None:
        lengths = np.fromiter((-1 if v is None else len(v) for v in values), dtype=_INT64, count=len(values))
        values = [v for v in values if v is not None]
    yield lengths.tobytes()
    yield "".join(values).encode("utf-8", "surrogatepass") if type_ == "text" else b"".join(values)


def _digest(columns, rows: int) -> dict:
    """`columns`: (name, type, iterator of byte strings) per column, in contract order."""
    h = hashlib.sha256()
    try:
        for name, type_, parts in columns:
            h.update(f"{name}\x00{type_}\x00".encode())
            for part in parts:
                h.update(part)
            h.update(b"\n")
    except _WrongType as err:  # no hash equals this: verify reports the table as changed
        return {"rows": rows, "sha256": f"a value is not of its column's type ({err})", "method": METHOD}
    return {"rows": rows, "sha256": h.hexdigest(), "method": METHOD}


def frame_digest(frame, columns: list) -> dict:
    """The digest of a table from the frame the build writes (the columns converted by its contract:
    Int64, float64, text and blobs as objects with None for missing), in write order; equal to
    `table_digest` of the written table (tests/test_database.py checks it). `columns`: the contract's
    `Column`s."""
    def parts(column):
        s = frame[column.name]
        if column.type in ("integer", "real"):
            dtype = _INT64 if column.type == "integer" else _FLOAT64
            return _numbers(s.to_numpy(dtype=dtype, na_value=0), s.isna().to_numpy(), column.type)
        return _sized(s.tolist(), column.type)
    return _digest(((c.name, c.type, parts(c)) for c in columns), len(frame))


def table_digest(conn: sqlite3.Connection, table: str, columns: list, schema: str = "main", method: str = METHOD) -> dict:
    """The digest of one table read from the database (see the module docstring). `columns`: the
    contract's `Column`s; `method`: the method of the digest to compare with (`json` for a database
    built before the `columns` method)."""
    names = [c.name for c in columns]
    cols = ", ".join('"' + c.replace('"', '""') + '"' for c in names)
    where = f" WHERE key != '{DIGEST_KEY}'" if table == "metadata" else ""
    cur = conn.cursor()
    cur.row_factory = None
    cur.execute(f'SELECT {cols} FROM {schema}."{table}"{where} ORDER BY rowid')
    if method == "json":
        return _json_digest(cur)
    rows = cur.fetchall()
    values = list(zip(*rows)) if rows else [() for _ in columns]
    return _digest(((c.name, c.type, column_bytes(list(v), c.type)) for c, v in zip(columns, values)), len(rows))


def _blob(value):
    """A blob (embedding vectors) as {"hex": ...}: JSON has no bytes (the `json` method)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"hex": bytes(value).hex()}
    raise TypeError(f"cannot digest a {type(value).__name__}")


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False, default=_blob).encode


def _json_digest(cur) -> dict:
    h = hashlib.sha256()
    rows = 0
    while True:
        batch = cur.fetchmany(BATCH)
        if not batch:
            break
        rows += len(batch)
        h.update(_ENCODE(batch).encode("utf-8", "surrogatepass"))
        h.update(b"\n")
    return {"rows": rows, "sha256": h.hexdigest()}


def database_digests(conn: sqlite3.Connection, contracts: dict) -> dict[str, dict]:
    """Digests (method `columns`) of every table of the database that has a contract, by table name."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {name: table_digest(conn, name, list(contracts[name].columns)) for name in sorted(tables & set(contracts))}
