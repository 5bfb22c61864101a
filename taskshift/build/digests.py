"""Per-table content digests: written into the `metadata` table by every build, recomputed by `taskshift verify`.

A database copied on its own (no SHA256SUMS beside it) still carries what it should contain: the row
count and a sha256 of every table's rows. `verify` recomputes them, so a changed cell, a dropped row or
a table emptied by hand is found. (Whoever rewrites a table can also rewrite its digest: the digests
find damage and naive edits; only a checksum from a second channel authenticates a file, see
docs/releases.md.)

Digest of a table: sha256 over its contract's columns, rows in rowid order (the build's write order),
in batches of `BATCH` rows, each batch encoded as compact JSON (`json.dumps(rows, ensure_ascii=False,
separators=(",", ":"))`, UTF-8; a blob as {"hex": ...}): JSON escapes only quotes, backslashes and control
characters, so the digest does not depend on the Python or Unicode version. The metadata table's own digest leaves out
its `table_digests` row.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3

DIGEST_KEY = "table_digests"
DIGEST_DESCRIPTION = ("rows and sha256 of each table's content (contract columns, rowid order, JSON batches of "
                      "4096 rows): `taskshift verify` recomputes them")
BATCH = 4096
def _blob(value):
    """A blob (embedding vectors) as {"hex": ...}: JSON has no bytes."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"hex": bytes(value).hex()}
    raise TypeError(f"cannot digest a {type(value).__name__}")


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False, default=_blob).encode


def table_digest(conn: sqlite3.Connection, table: str, columns: list[str], schema: str = "main") -> dict:
    """{"rows": n, "sha256": hex} of one table (see the module docstring)."""
    cols = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    where = f" WHERE key != '{DIGEST_KEY}'" if table == "metadata" else ""
    cur = conn.cursor()
    cur.row_factory = None
    cur.execute(f'SELECT {cols} FROM {schema}."{table}"{where} ORDER BY rowid')
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


def rows_digest(rows: list) -> dict:
    """`table_digest` computed from the rows as they are written (the build), not read back: `rows` in
    write (rowid) order, as the Python values bound to SQLite (int, float, str, bytes or None, matching
    the column types, so SQLite stores them unchanged), with -0.0 given as 0.0 (SQLite reads a REAL -0.0
    back as 0.0). Equal to `table_digest` of the written table (tests/test_database.py checks it)."""
    h = hashlib.sha256()
    for start in range(0, len(rows), BATCH):
        h.update(_ENCODE(rows[start:start + BATCH]).encode("utf-8", "surrogatepass"))
        h.update(b"\n")
    return {"rows": len(rows), "sha256": h.hexdigest()}


def database_digests(conn: sqlite3.Connection, contracts: dict) -> dict[str, dict]:
    """Digests of every table of the database that has a contract, by table name."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {name: table_digest(conn, name, contracts[name].column_names) for name in sorted(tables & set(contracts))}
