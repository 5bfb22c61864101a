"""The served site's metadata, made from the contracts, the manifest and `api/*.yaml`.

Nothing here is written by hand twice: table and column descriptions come from `schema/tables`,
per-table sources and licenses from the manifest, canned queries from `api/queries.yaml`.
"""
from __future__ import annotations

import sqlite3
from functools import cache

import yaml

from taskshift.contracts import table_contracts
from taskshift.resources import project_metadata, site_files
from taskshift.build.sources import load_manifest

MARKER_TABLE = "metadata"  # a database with this table and a schema_version row is a taskshift database


@cache
def queries() -> dict:
    return yaml.safe_load(site_files().joinpath("queries.yaml").read_text("utf-8")) or {}


@cache
def database_metadata() -> dict:
    """Metadata for one taskshift database: tables, columns, facets, sources, licenses, queries."""
    manifest = load_manifest()
    tables = {}
    for name, contract in sorted(table_contracts().items()):
        entry = {"title": contract.title or name, "description": contract.description.strip(),
                 "columns": contract.descriptions()}
        if contract.facets:
            entry["facets"] = list(contract.facets)
        if contract.sort:
            entry["sort"] = contract.sort[0]
        if contract.sources:
            first = manifest.sources.get(contract.sources[0])
            if first is not None:
                entry["source"] = "; ".join(sorted({manifest[s].publisher or s for s in contract.sources if s in manifest.sources}))
                entry["source_url"] = first.url
                entry["license"] = "; ".join(sorted({manifest[s].license for s in contract.sources if s in manifest.sources}))
                if first.license_url:
                    entry["license_url"] = first.license_url
        tables[name] = entry
    return {"tables": tables}


@cache
def _site() -> dict:
    meta = project_metadata()
    release = meta["release"]
    return {
        "title": release["title"],
        "description_html": (
            f"<p>{release['description']}</p>"
            f"<p><strong>Attribution.</strong> {meta['license']['attribution']}</p>"
            "<p>Every source with its license and citation is listed in the <code>sources</code> table.</p>"
        ),
        "license": "CC BY 4.0",
        "license_url": meta["license"]["data_url"],
        "source": "O*NET 30.2, BLS OEWS May 2025 (by sector May 2024; series May 2019-2025), BLS Employment Projections 2024-34 and the published AI-exposure measures",
        "source_url": release["homepage"],
        "about": "taskshift",
        "about_url": release["homepage"],
    }


async def taskshift_databases(datasette) -> set[str]:
    """Names of the served databases that are taskshift builds (found once at startup)."""
    names = set()
    unreadable = getattr(datasette, "_taskshift_unreadable", None)
    if unreadable is None:
        unreadable = datasette._taskshift_unreadable = {}
    for name, db in datasette.databases.items():
        if name.startswith("_"):
            continue
        try:
            if await db.table_exists(MARKER_TABLE):
                rows = await db.execute(f"select 1 from {MARKER_TABLE} where key = 'schema_version'")
                if rows.first():
                    names.add(name)
        except sqlite3.DatabaseError as err:  # a damaged file: the site and the API say so (503), no traceback
            unreadable[name] = str(err)
    datasette._taskshift_databases = names
    return names


def _known(datasette) -> set[str]:
    return getattr(datasette, "_taskshift_databases", set())


def site_metadata(datasette) -> dict:
    meta = dict(_site())
    meta["databases"] = {name: database_metadata() for name in sorted(_known(datasette))}
    return meta


def canned_queries_for(datasette, database: str) -> dict:
    return queries() if database in _known(datasette) else {}
