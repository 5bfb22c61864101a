"""`datapackage.json` (Frictionless Tabular Data Package) for a release, generated from the contracts.

Nothing is written by hand: every table of the release database becomes a resource whose fields,
types, descriptions, constraints, primary and foreign keys come from `schema/tables/<table>.yaml`,
and whose sources and licenses come from the manifest (`dataset/sources/*.toml`), restricted to the
sources the release actually read (the database's `sources` table). The package itself carries the
package version, the data vintages and the build date from the database's `metadata` table, never
from the clock, so the same release gives the same bytes.
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from taskshift.contracts import Column, Contract, table_contracts
from taskshift.resources import project_metadata
from taskshift.build.sources import Manifest, load_manifest

FIELD_TYPES = {"text": "string", "integer": "integer", "real": "number", "blob": "string"}


def license_entry(title: str, url: str | None) -> dict:
    """A Data Package license: an Open Definition id where one is recognisable, always the full text."""
    entry: dict = {}
    lowered = title.lower()
    if lowered.startswith("cc by 4.0") or lowered.startswith("cc-by-4.0"):
        entry["name"] = "CC-BY-4.0"
    elif lowered.startswith("mit"):
        entry["name"] = "MIT"
    elif lowered.startswith("public domain"):
        entry["name"] = "other-pd"
    if url:
        entry["path"] = url
    entry["title"] = title
    return entry


def field_descriptor(column: Column) -> dict:
    field: dict = {"name": column.name, "type": FIELD_TYPES[column.type]}
    if column.type == "blob":
        field["format"] = "binary"  # base64 in the CSV files
    if column.description:
        field["description"] = column.description
    constraints: dict = {}
    if not column.nullable:
        constraints["required"] = True
    if column.unique:
        constraints["unique"] = True
    if column.pattern is not None:
        constraints["pattern"] = column.pattern
    if column.isin is not None:
        constraints["enum"] = list(column.isin)
    if column.min is not None:
        constraints["minimum"] = _number(column.min, column.type)
    if column.max is not None:
        constraints["maximum"] = _number(column.max, column.type)
    if column.min_length is not None:
        constraints["minLength"] = column.min_length
    if constraints:
        field["constraints"] = constraints
    return field


def _number(value, type_: str):
    return int(value) if type_ == "integer" else value


def table_schema(contract: Contract, present: set[str]) -> dict:
    schema: dict = {"fields": [field_descriptor(c) for c in contract.columns], "missingValues": [""]}
    if contract.primary_key:
        schema["primaryKey"] = list(contract.primary_key)
    fks = []
    for fk in contract.foreign_keys:
        if fk.table not in present:  # a table the release left out (non-redistributable source)
            continue
        fks.append({"fields": list(fk.columns),
                    "reference": {"resource": "" if fk.table == contract.name else fk.table,
                                  "fields": list(fk.ref_columns)}})
    if fks:
        schema["foreignKeys"] = fks
    return schema


def source_entry(source) -> dict:
    entry = {"title": f"{source.publisher or source.family}, {source.version}: {source.path}", "path": source.url}
    return entry


def table_source_ids(contract: Contract, used: list[str], measure_sources: list[str]) -> list[str]:
    """Sources a table is built from: its contract's, or for the measure tables (declared `sources: []`)
    the sources of every measure in the release."""
    if contract.sources:
        return [s for s in contract.sources if s in used]
    if contract.name == "measures" or any(fk.table == "measures" for fk in contract.foreign_keys):
        return [s for s in measure_sources if s in used]
    return []


def build_datapackage(db: Path, csv_paths: dict[str, str], *, file_info: dict[str, tuple[int, str]] | None = None,
                      extra_files: dict[str, str] | None = None, manifest: Manifest | None = None) -> dict:
    """The datapackage.json content for the release database `db`.

    `csv_paths` maps each table to its CSV path relative to the package; `file_info` maps those
    paths to (bytes, sha256) so a validator can check the files; `extra_files` names the other
    formats of the release (database, compressed database, Parquet folder) for people to find.
    """
    manifest = manifest or load_manifest()
    contracts = table_contracts()
    project = project_metadata()
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        meta = dict(conn.execute("SELECT key, value FROM metadata"))
        used = [r[0] for r in conn.execute("SELECT source_id FROM sources ORDER BY source_id")]
        measure_sources: list[str] = []
        if "measures" in csv_paths:
            for (ids,) in conn.execute("SELECT source_ids FROM measures ORDER BY measure_id"):
                for sid in (ids or "").split(","):
                    sid = sid.strip()
                    if sid and sid not in measure_sources:
                        measure_sources.append(sid)
    finally:
        conn.close()

    present = set(csv_paths)
    resources = []
    for name in sorted(csv_paths):
        contract = contracts[name]
        path = csv_paths[name]
        resource: dict = {
            "name": name,
            "path": path,
            "profile": "tabular-data-resource",
            "title": contract.title or name,
            "description": " ".join(contract.description.split()),
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
        }
        if file_info and path in file_info:
            size, digest = file_info[path]
            resource["bytes"] = size
            resource["hash"] = f"sha256:{digest}"
        resource["schema"] = table_schema(contract, present)
        ids = table_source_ids(contract, used, measure_sources)
        if ids:
            resource["sources"] = [source_entry(manifest[s]) for s in ids]
            licenses = []
            for s in ids:
                entry = license_entry(manifest[s].license, manifest[s].license_url or None)
                if entry not in licenses:
                    licenses.append(entry)
            resource["licenses"] = licenses
        resources.append(resource)

    release = project["release"]
    package: dict = {
        "profile": "tabular-data-package",
        "name": release["name"],
        "title": release["title"],
        "description": release["description"],
        "version": meta.get("version", ""),
        "homepage": release["homepage"],
        "created": f"{meta['build_date']}T00:00:00Z" if meta.get("build_date") else None,
        "keywords": ["AI exposure", "occupations", "tasks", "O*NET", "SOC 2018", "labour statistics"],
        "licenses": [license_entry(project["license"]["data"], project["license"]["data_url"])
                     | {"name": "CC-BY-4.0"}],
        "sources": [source_entry(manifest[s]) for s in used],
        "contributors": [{"title": "taskshift contributors", "role": "author", "path": release["homepage"]}],
        "taskshift": {
            "version": meta.get("version", ""),
            "schema_version": meta.get("schema_version", ""),
            "data_vintages": json.loads(meta.get("data_vintages", "{}")),
            "build_kind": meta.get("build_kind", ""),
            "inputs_sha256": meta.get("inputs_sha256", ""),
            "excluded_sources": json.loads(meta.get("excluded_sources", "{}")),
            "attribution": project["license"]["attribution"],
            "files": dict(sorted((extra_files or {}).items())),
        },
        "resources": resources,
    }
    if package["created"] is None:
        del package["created"]
    return package


def write_datapackage(package: dict, path: Path) -> None:
    path.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
