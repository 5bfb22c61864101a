"""Datasette plugin: taskshift metadata and canned queries (scoring routes arrive in later modules)."""
from __future__ import annotations

from datasette import hookimpl

from .site import canned_queries_for, site_metadata, taskshift_databases


@hookimpl
def startup(datasette):
    async def inner():
        await taskshift_databases(datasette)
    return inner


@hookimpl
def get_metadata(datasette, key, database, table):
    return site_metadata(datasette)


@hookimpl
def canned_queries(datasette, database, actor):
    return canned_queries_for(datasette, database)
