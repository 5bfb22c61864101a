"""`taskshift diff OLD.db NEW.db`: what changed between two releases (or any two builds), per table.

Rows are matched by the primary key their contract declares (`schema/tables/<table>.yaml`): a key
only in NEW is added, only in OLD removed, in both with any other column different (NULLs equal,
numbers compared exactly) changed. Tables and columns that appear or disappear are named. For
`role_exposure` the roles whose percentile or score moved most are listed. The comparison runs
inside SQLite (OLD attached to NEW, primary-key indexes), so even the largest tables take well
under a second.
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from taskshift.contracts import table_contracts

class DiffError(Exception):
    """One of the two files cannot be compared (damaged, truncated, not SQLite); the message names it."""


META_KEYS = ("version", "schema_version", "build_kind", "build_date", "data_vintages", "inputs_sha256")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(conn: sqlite3.Connection, schema: str) -> dict[str, list[str]]:
    names = [r[0] for r in conn.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'")]
    return {n: [r[1] for r in conn.execute(f"PRAGMA {schema}.table_info({_q(n)})")] for n in names}


def _meta(conn: sqlite3.Connection, schema: str, tables: dict) -> dict:
    if "metadata" not in tables:
        return {}
    rows = dict(conn.execute(f"SELECT key, value FROM {schema}.metadata"))
    return {k: rows[k] for k in META_KEYS if k in rows}


def diff_databases(old: Path, new: Path, *, limit: int | None = None, movers: int = 10) -> dict:
    """The differences from `old` to `new` as a JSON-ready dict.

    Counts are always exact; `limit` caps the keys and changed rows listed per table (None: all).
    """
    from taskshift.release.verify import readable_problem

    for side, path in (("old", old), ("new", new)):
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path} does not exist")
        problem = readable_problem(Path(path))
        if problem:  # name the file at fault, before SQLite fails somewhere in the comparison
            raise DiffError(f"{side} database {path} {problem}: run `taskshift verify {path}`")
    conn = sqlite3.connect(Path(new).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        conn.execute("ATTACH DATABASE ? AS old", (Path(old).resolve().as_uri() + "?mode=ro",))
        old_tables, new_tables = _tables(conn, "old"), _tables(conn, "main")
        contracts = table_contracts()
        result: dict = {
            "old": {"path": str(old), **_meta(conn, "old", old_tables)},
            "new": {"path": str(new), **_meta(conn, "main", new_tables)},
            "tables": {},
        }
        names = sorted((set(old_tables) | set(new_tables)) & set(contracts))
        for name in names:
            result["tables"][name] = _diff_table(conn, name, contracts[name].primary_key,
                                                 old_tables.get(name), new_tables.get(name), limit)
        if "role_exposure" in old_tables and "role_exposure" in new_tables:
            result["role_exposure_movers"] = _movers(conn, movers, "roles" in new_tables)
    finally:
        conn.close()
    return result


def _diff_table(conn, name: str, key: tuple[str, ...], old_cols: list[str] | None, new_cols: list[str] | None,
                limit: int | None) -> dict:
    t = _q(name)
    entry: dict = {"primary_key": list(key)}
    if old_cols is None or new_cols is None:
        entry["status"] = "added" if old_cols is None else "removed"
        entry["rows_old"] = 0 if old_cols is None else conn.execute(f"SELECT count(*) FROM old.{t}").fetchone()[0]
        entry["rows_new"] = 0 if new_cols is None else conn.execute(f"SELECT count(*) FROM main.{t}").fetchone()[0]
        entry["added"] = entry["rows_new"]
        entry["removed"] = entry["rows_old"]
        entry["changed"] = 0
        return entry
    entry["rows_old"] = conn.execute(f"SELECT count(*) FROM old.{t}").fetchone()[0]
    entry["rows_new"] = conn.execute(f"SELECT count(*) FROM main.{t}").fetchone()[0]
    entry["columns_added"] = [c for c in new_cols if c not in old_cols]
    entry["columns_removed"] = [c for c in old_cols if c not in new_cols]
    if not key or any(k not in old_cols or k not in new_cols for k in key):
        entry["status"] = "not compared"
        entry["note"] = "no primary key common to both versions: rows not compared"
        return entry
    keys = ", ".join(f"{{a}}.{_q(k)}" for k in key)
    join = " AND ".join(f"o.{_q(k)} = n.{_q(k)}" for k in key)
    order = ", ".join(_q(k) for k in key)
    cap = "" if limit is None else f" LIMIT {int(limit)}"

    def keyed(sql_from: str, count_sql: str) -> tuple[int, list]:
        count = conn.execute(count_sql).fetchone()[0]
        rows = conn.execute(sql_from + f" ORDER BY {order}{cap}").fetchall() if count else []
        return count, [list(r) for r in rows]

    added_from = (f"SELECT {keys.format(a='n')} FROM main.{t} n "
                  f"WHERE NOT EXISTS (SELECT 1 FROM old.{t} o WHERE {join})")
    removed_from = (f"SELECT {keys.format(a='o')} FROM old.{t} o "
                    f"WHERE NOT EXISTS (SELECT 1 FROM main.{t} n WHERE {join})")
    entry["added"], entry["added_keys"] = keyed(added_from, f"SELECT count(*) FROM ({added_from})")
    entry["removed"], entry["removed_keys"] = keyed(removed_from, f"SELECT count(*) FROM ({removed_from})")

    common = [c for c in new_cols if c in old_cols and c not in key]
    if common:
        differs = " OR ".join(f"o.{_q(c)} IS NOT n.{_q(c)}" for c in common)
        pairs = ", ".join(f"o.{_q(c)}, n.{_q(c)}" for c in common)
        changed_from = (f"SELECT {keys.format(a='n')}, {pairs} FROM main.{t} n JOIN old.{t} o ON {join} "
                        f"WHERE {differs}")
        count = conn.execute(f"SELECT count(*) FROM main.{t} n JOIN old.{t} o ON {join} WHERE {differs}").fetchone()[0]
        rows = conn.execute(changed_from + f" ORDER BY {', '.join('n.' + _q(k) for k in key)}{cap}").fetchall() if count else []
        changed = []
        for row in rows:
            k, values = list(row[:len(key)]), row[len(key):]
            changes = {c: [values[2 * i], values[2 * i + 1]] for i, c in enumerate(common)
                       if values[2 * i] != values[2 * i + 1]}
            changed.append({"key": k, "changes": changes})
        entry["changed"], entry["changed_rows"] = count, changed
    else:
        entry["changed"], entry["changed_rows"] = 0, []
    touched = entry["added"] or entry["removed"] or entry["changed"] or entry["columns_added"] or entry["columns_removed"]
    entry["status"] = "changed" if touched else "same"
    return entry


def _movers(conn, n: int, titles: bool) -> dict:
    """Roles whose percentile moved most (all measures), and whose score moved most within each measure."""
    title = "(SELECT r.title FROM main.roles r WHERE r.code = x.role_code)" if titles else "NULL"
    base = ("SELECT x.role_code, x.measure_id, y.score, x.score, y.percentile, x.percentile, " + title +
            " FROM main.role_exposure x JOIN old.role_exposure y "
            "ON x.role_code = y.role_code AND x.measure_id = y.measure_id "
            "WHERE x.score IS NOT y.score OR x.percentile IS NOT y.percentile")
    rows = [_mover(r) for r in conn.execute(base)]
    by_pct = sorted((r for r in rows if r["percentile_change"]),
                    key=lambda r: (-abs(r["percentile_change"]), r["measure_id"], r["role_code"]))[:n]
    by_score: dict[str, list] = {}
    for r in sorted((r for r in rows if r["score_change"]),
                    key=lambda r: (r["measure_id"], -abs(r["score_change"]), r["role_code"])):
        if len(by_score.setdefault(r["measure_id"], [])) < n:
            by_score[r["measure_id"]].append(r)
    return {"changed": len(rows), "by_percentile": by_pct, "by_score": by_score}


def _mover(row) -> dict:
    role, measure, s0, s1, p0, p1, title = row

    def delta(a, b):
        return None if a is None or b is None else b - a

    return {"role_code": role, "title": title, "measure_id": measure, "score_old": s0, "score_new": s1,
            "score_change": delta(s0, s1), "percentile_old": p0, "percentile_new": p1,
            "percentile_change": delta(p0, p1)}


# --- text ----------------------------------------------------------------------------------------

def _short(v, width: int = 48) -> str:
    if isinstance(v, float):
        text = f"{v:.6g}"
    else:
        text = repr(v) if isinstance(v, str) else str(v)
    return text if len(text) <= width else text[: width - 1] + "…"


def _key(values: list) -> str:
    return ", ".join(str(v) for v in values)


def format_text(result: dict, *, examples: int = 5) -> str:
    old, new = result["old"], result["new"]
    lines = [f"old: {old['path']} (taskshift {old.get('version', '?')}, {old.get('build_kind', '?')} build, "
             f"schema {old.get('schema_version', '?')})",
             f"new: {new['path']} (taskshift {new.get('version', '?')}, {new.get('build_kind', '?')} build, "
             f"schema {new.get('schema_version', '?')})"]
    for key in ("data_vintages", "inputs_sha256"):
        if old.get(key) != new.get(key):
            lines.append(f"{key}: {_vintages(old.get(key))} -> {_vintages(new.get(key))}")
        else:
            lines.append(f"{key}: unchanged")
    tables = result["tables"]
    width = max([len(n) for n in tables] + [5])
    lines += ["", f"{'table':<{width}}  {'rows old':>9}  {'rows new':>9}  {'added':>7}  {'removed':>7}  {'changed':>7}"]
    for name, t in tables.items():
        flag = "" if t["status"] in ("same", "changed") else f"  ({t['status']})"
        lines.append(f"{name:<{width}}  {t['rows_old']:>9,}  {t['rows_new']:>9,}  {t.get('added', 0):>7,}  "
                     f"{t.get('removed', 0):>7,}  {t.get('changed', 0):>7,}{flag}")
    changed = [n for n, t in tables.items() if t["status"] != "same"]
    lines.append("")
    lines.append(f"{len(changed)} of {len(tables)} tables changed" + (f": {', '.join(changed)}" if changed else ""))
    for name in changed:
        t = tables[name]
        pk = ", ".join(t["primary_key"])
        if t.get("columns_added") or t.get("columns_removed"):
            lines.append(f"  {name}: columns added {t.get('columns_added', [])}, removed {t.get('columns_removed', [])}")
        for label, keys_name, count_name in (("added", "added_keys", "added"), ("removed", "removed_keys", "removed")):
            keys = t.get(keys_name) or []
            if keys:
                shown = "; ".join(_key(k) for k in keys[:examples])
                more = f" (+{t[count_name] - min(len(keys), examples)} more)" if t[count_name] > examples else ""
                lines.append(f"  {name} {label} ({pk}): {shown}{more}")
        for row in (t.get("changed_rows") or [])[:examples]:
            cols = "; ".join(f"{c} {_short(a)} -> {_short(b)}" for c, (a, b) in row["changes"].items())
            lines.append(f"  {name} changed ({pk} = {_key(row['key'])}): {cols}")
        if t.get("changed", 0) > examples:
            lines.append(f"  {name}: {t['changed'] - examples:,} more changed row(s) (--json --limit 0 lists them all)")
    movers = result.get("role_exposure_movers")
    if movers and movers["changed"]:
        lines += ["", f"role_exposure: {movers['changed']:,} (role, measure) scores or percentiles moved; most by percentile:"]
        for r in movers["by_percentile"]:
            title = (r["title"] or "")[:40]
            lines.append(f"  {r['role_code']} {title:<40}  {r['measure_id']:<32} "
                         f"percentile {_short(r['percentile_old'])} -> {_short(r['percentile_new'])} ({r['percentile_change']:+.3g}), "
                         f"score {_short(r['score_old'])} -> {_short(r['score_new'])}")
        for measure, rows in movers["by_score"].items():
            top = rows[0]
            lines.append(f"  largest score move in {measure}: {top['role_code']} {_short(top['score_old'])} -> "
                         f"{_short(top['score_new'])} ({top['score_change']:+.3g}); {len(rows)} listed in --json")
    return "\n".join(lines)


def _vintages(value) -> str:
    if value is None:
        return "?"
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return str(value)
    if isinstance(parsed, dict):
        return ", ".join(f"{k}={v}" for k, v in parsed.items())
    return str(value)
