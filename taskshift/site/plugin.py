"""Datasette plugin: taskshift metadata, canned queries and the scoring API.

The API routes are listed once in `ROUTES` (method, path, handler, pydantic models); the Datasette
routes, the method checks, the request validation, the error responses and the OpenAPI description
(`GET /-/openapi.json`) are all made from that list, so one more endpoint is one more `Route`.
Handlers call `taskshift.service` (the functions the library and the CLI call), in Datasette's
database threads.
"""
from __future__ import annotations

import json
import logging
import re
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable
from urllib.parse import unquote

from datasette import hookimpl
from datasette.utils.asgi import Response
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from taskshift import __version__, service
from taskshift.service import models as m
from taskshift.service.suggest import render as render_errors
from taskshift.site.metadata import canned_queries_for, site_metadata, taskshift_databases

log = logging.getLogger("taskshift.plugin")


# --- routes --------------------------------------------------------------------------------------
@dataclass
class Call:
    """What a handler gets: the Datasette instance, the request, the taskshift database name,
    the path parameters, and the validated query and body models."""
    datasette: Any
    request: Any
    database: str
    params: dict[str, str]
    query: BaseModel | None
    body: BaseModel | None

    async def run(self, fn: Callable):
        """Run `fn(conn)` on a connection to the taskshift database (a Datasette database thread)."""
        return await self.datasette.get_database(self.database).execute_fn(fn)


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str                                     # OpenAPI path, parameters in braces
    handler: Callable[[Call], Awaitable[BaseModel | bytes]]
    summary: str
    response: type[BaseModel] | None
    description: str = ""
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    path_params: dict[str, str] = field(default_factory=dict)
    errors: tuple[int, ...] = (400, 404)
    parse: Callable[[bytes], BaseModel] | None = None   # body parser (default: validate JSON against `body`)

    @property
    def regex(self) -> str:
        return "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path)) + "$"


class ApiError(Exception):
    def __init__(self, status: int, field_name: str, problem: str, kind: str | None = None, headers: dict | None = None):
        super().__init__(problem)
        self.status, self.headers = status, headers or {}
        self.errors = [{"field": field_name, "problem": problem, "type": kind}]


_QUERY_KINDS: dict[type, dict[str, str]] = {}


def _query_kinds(model: type[BaseModel]) -> dict[str, str]:
    """JSON type of each query field ("array", "integer", "string"), from the model's schema."""
    kinds = _QUERY_KINDS.get(model)
    if kinds is None:
        kinds = {}
        for name, prop in model.model_json_schema().get("properties", {}).items():
            types = {prop.get("type")} | {p.get("type") for p in prop.get("anyOf", [])}
            kinds[name] = "array" if "array" in types else "integer" if "integer" in types else "string"
        _QUERY_KINDS[model] = kinds
    return kinds


def _query_dict(request, model: type[BaseModel]) -> dict:
    """Query string -> dict for a query model: array fields take every value, integer fields are parsed."""
    out = {}
    for name, kind in _query_kinds(model).items():
        values = request.args.getlist(name)
        if not values:
            continue
        if kind == "array":
            out[name] = values
        elif kind == "integer":
            out[name] = int(values[-1]) if re.fullmatch(r"[+-]?\d{1,9}", values[-1].strip()) else values[-1]
        else:
            out[name] = values[-1]
    return out


# GET /-/score/{role_code} answers from memory: the database is immutable.
_ROLE_CACHE: OrderedDict[tuple, bytes] = OrderedDict()
_ROLE_CACHE_SIZE = 8192


async def score_role(call: Call):
    code = call.params["role_code"]
    measures = call.query.measures if call.query else None
    key = (call.database, code, None if measures is None else tuple(measures))
    hit = _ROLE_CACHE.get(key)
    if hit is not None:
        return hit
    result = await call.run(lambda conn: service.score_role(conn, code, measures))
    body = result.model_dump_json().encode()
    _ROLE_CACHE[key] = body
    if len(_ROLE_CACHE) > _ROLE_CACHE_SIZE:
        _ROLE_CACHE.popitem(last=False)
    return body


async def score_isco(call: Call):
    code = call.params["isco_code"]
    measures = call.query.measures if call.query else None
    return await call.run(lambda conn: service.score_isco(conn, code, measures))


async def score_custom(call: Call):
    return await call.run(lambda conn: service.score_custom(conn, call.body))


async def score_workforce(call: Call):
    return await call.run(lambda conn: service.score_workforce(conn, call.body))


async def match(call: Call):
    q = call.query
    return await call.run(lambda conn: service.match_title(conn, q.title, q.limit))


async def transitions(call: Call):
    q = call.query
    return await call.run(lambda conn: service.transitions(conn, call.params["role_code"], q.measure,
                                                           q.max_job_zone_step, q.limit))


async def profile(call: Call):
    return await call.run(lambda conn: service.profile(conn, call.body))


async def history(call: Call):
    return await call.run(lambda conn: service.history(conn, call.params["role_code"]))


async def openapi_json(call: Call):
    return openapi_bytes()


ROUTES: list[Route] = [
    # the literal /-/score/workforce comes before /-/score/{role_code}
    Route("score_workforce", "POST", "/-/score/workforce", score_workforce,
          "Score a workforce (roles with headcounts)", m.WorkforceResponse, body=m.WorkforceRequest,
          description="Headcount-weighted exposure per measure, exposed headcount, profile and the most exposed roles.",
          errors=(400, 404, 413)),
    Route("score_role", "GET", "/-/score/{role_code}", score_role,
          "Score a role on every measure", m.ScoreResponse, query=m.ScoreQuery,
          path_params={"role_code": "O*NET-SOC 2019 code, e.g. 15-1252.00"},
          description="Every measure for the role (score, percentile, coverage, derivation), the task-level breakdown, "
                      "and the automation vs augmentation profile with its outlook and thresholds."),
    Route("score_isco", "GET", "/-/score/isco/{isco_code}", score_isco,
          "Score an ISCO-08 group (1 to 4 digits) on every measure", m.IscoScoreResponse, query=m.ScoreQuery,
          path_params={"isco_code": "ISCO-08 code, 1 to 4 digits, e.g. 2512 (unit group) or 2 (major group)"},
          description="Every measure and the consensus for the US roles the ISCO-08 group stands for (US-employment weights, "
                      "isco_roles), the ILO's own score beside the US families' consensus, and the linked roles (docs/isco.md)."),
    Route("score_custom", "POST", "/-/score", score_custom,
          "Score a custom role (tasks with time shares)", m.ScoreResponse, body=m.CustomRoleRequest,
          description="Tasks given as O*NET task ids or free text (matched with FTS5 BM25), with time shares; "
                      "same output shape as GET /-/score/{role_code}.", errors=(400, 404, 413)),
    Route("match", "GET", "/-/match", match, "Rank roles for a job title", m.MatchResponse, query=m.MatchQuery,
          description="FTS5 BM25 over every title kind of the titles table (occupation, alternate, short, reported, emerging).",
          errors=(400,)),
    Route("transitions", "GET", "/-/transitions/{role_code}", transitions,
          "Rank pivots from a role to related, less exposed roles", m.Transitions, query=m.TransitionsQuery,
          path_params={"role_code": "O*NET-SOC 2019 code, e.g. 43-4051.00"},
          description="O*NET related roles that are less exposed on the measure, within max_job_zone_step job zones, "
                      "ranked by exposure drop x fit (relatedness and shared work activities), each with the reskilling "
                      "gap: the work activities and technology skills (hot technologies first) the target needs."),
    Route("profile", "POST", "/-/profile", profile, "Profile a job from its posting", m.ProfileResponse,
          body=m.ProfileRequest, parse=service.profile_request, errors=(400, 413),
          description="Splits the text (at most 20 KB) into duty statements, matches each to O*NET task statements by meaning "
                      "(offline embeddings + BM25) with a confidence band, ranks the nearest roles, and scores the job "
                      "as a custom role on every measure with the automation vs augmentation profile task by task."),
    Route("history", "GET", "/-/history/{role_code}", history,
          "What is actually happening to a role over time", m.History,
          path_params={"role_code": "O*NET-SOC 2019 code, e.g. 15-1252.00"},
          description="In sections. postings: the Indeed job postings of the role's occupational categories (Indeed "
                      "Hiring Lab, CC BY 4.0), with the curated category map rows and their evidence, the monthly index "
                      "(1 Feb 2020 = 100) and the change since February 2020 and since ChatGPT (November 2022)."),
    Route("openapi", "GET", "/-/openapi.json", openapi_json, "This OpenAPI description", None, errors=()),
]


# --- request handling ----------------------------------------------------------------------------
JSON = "application/json; charset=utf-8"


def _json_response(body: bytes | str, status: int = 200, headers: dict | None = None) -> Response:
    return Response(body, status=status, headers=headers or {}, content_type=JSON)


def _error(status: int, errors: list[dict], headers: dict | None = None) -> Response:
    summary = "; ".join(f"{e['field']}: {e['problem']}" for e in errors)
    payload = m.ErrorResponse(status=status, error=summary, errors=[m.ErrorItem(**e) for e in errors])
    return _json_response(payload.model_dump_json(), status, headers)


async def _read_body(request, limit: int = m.MAX_BODY_BYTES) -> bytes:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise ApiError(413, "body", f"request body is larger than {limit} bytes", "too_large")
    chunks, size, more = [], 0, True
    while more:
        message = await request.receive()
        if message.get("type") == "http.disconnect":
            break
        chunk = message.get("body", b"") or b""
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "body", f"request body is larger than {limit} bytes", "too_large")
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _database(datasette) -> str:
    names = sorted(getattr(datasette, "_taskshift_databases", set()))
    if not names:
        raise ApiError(503, "database", "no taskshift database is served", "no_database")
    return names[0]


def _view(routes: list[Route]):
    by_method = {r.method: r for r in routes}
    allow = ", ".join(sorted(by_method))

    async def view(request, datasette):
        route = by_method.get(request.method)
        if route is None:
            return _error(405, [{"field": "method", "problem": f"{request.method} not allowed; use {allow}",
                                 "type": "method_not_allowed"}], {"Allow": allow})
        try:
            query = service.validate(route.query, _query_dict(request, route.query)) if route.query else None
            body = None
            if route.body is not None:
                raw = await _read_body(request)
                if not raw.strip():
                    raise ApiError(400, "body", "a JSON body is required", "missing")
                body = route.parse(raw) if route.parse else service.validate(route.body, raw)
            database = _database(datasette) if route.name != "openapi" else ""
            params = {k: unquote(v) for k, v in (request.url_vars or {}).items()}  # Datasette routes the raw path
            result = await route.handler(Call(datasette, request, database, params, query, body))
        except service.ServiceError as err:
            return _error(err.status, render_errors(err.errors, "api"))
        except ApiError as err:
            return _error(err.status, err.errors, err.headers)
        except Exception as err:  # a bug, not bad input: still JSON, and logged
            log.exception("taskshift API error")
            print(f"taskshift API error on {request.path}: {err!r}", file=sys.stderr)
            return _error(500, [{"field": "server", "problem": f"internal error: {type(err).__name__}", "type": "internal"}])
        if isinstance(result, BaseModel):
            result = result.model_dump_json()
        return _json_response(result)

    return view


def _grouped_routes() -> list[tuple[str, list[Route]]]:
    groups: dict[str, list[Route]] = {}
    for route in ROUTES:
        groups.setdefault(route.regex, []).append(route)
    return list(groups.items())


# --- OpenAPI -------------------------------------------------------------------------------------
def openapi() -> dict:
    """OpenAPI 3.1 description of ROUTES, schemas generated from the pydantic models."""
    pairs = []
    for r in ROUTES:
        if r.body:
            pairs.append((r.body, "validation"))
        if r.query:
            pairs.append((r.query, "validation"))
        if r.response:
            pairs.append((r.response, "serialization"))
    pairs.append((m.ErrorResponse, "serialization"))
    pairs = list(dict.fromkeys(pairs))
    refs, top = models_json_schema(pairs, ref_template="#/components/schemas/{model}")
    schemas = top.get("$defs", {})
    paths: dict[str, dict] = {}
    for r in ROUTES:
        op: dict[str, Any] = {"operationId": r.name, "summary": r.summary}
        if r.description:
            op["description"] = r.description
        params = [{"name": n, "in": "path", "required": True, "description": d,
                   "schema": {"type": "string", "pattern": m.ROLE_CODE_PATTERN}} for n, d in r.path_params.items()]
        if r.query:
            qschema = r.query.model_json_schema()
            for name, prop in qschema.get("properties", {}).items():
                entry = {"name": name, "in": "query", "required": name in qschema.get("required", []),
                         "schema": {k: v for k, v in prop.items() if k not in ("description", "title")}}
                if prop.get("description"):
                    entry["description"] = prop["description"]
                if "array" in json.dumps(prop):
                    entry.update(style="form", explode=True)
                params.append(entry)
        if params:
            op["parameters"] = params
        if r.body:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": refs[(r.body, "validation")]}}}
        ok = refs[(r.response, "serialization")] if r.response else {"type": "object"}
        op["responses"] = {"200": {"description": "OK", "content": {"application/json": {"schema": ok}}}}
        for status in r.errors + ((503,) if r.errors else ()):
            op["responses"][str(status)] = {
                "description": {400: "Invalid input (the fields at fault are named)", 404: "Unknown role, task or no match",
                                413: f"Body larger than {m.MAX_BODY_BYTES} bytes", 503: "No taskshift database is served"}[status],
                "content": {"application/json": {"schema": refs[(m.ErrorResponse, "serialization")]}}}
        paths.setdefault(r.path, {})[r.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "taskshift scoring API", "version": __version__,
                 "description": "AI-exposure scores of O*NET roles, custom roles and workforces; see docs/api.md. "
                                f"Limits: body {m.MAX_BODY_BYTES} bytes, {m.MAX_TASKS} tasks, {m.MAX_WORKFORCE_ROLES} workforce roles."},
        "paths": paths,
        "components": {"schemas": schemas},
    }


_OPENAPI: bytes | None = None


def openapi_bytes() -> bytes:
    global _OPENAPI
    if _OPENAPI is None:
        _OPENAPI = json.dumps(openapi(), indent=1).encode()
    return _OPENAPI


# --- hooks ---------------------------------------------------------------------------------------
@hookimpl
def startup(datasette):
    async def inner():
        names = await taskshift_databases(datasette)
        for name in sorted(names):  # load the scoring index now, so the first request is fast
            try:
                await datasette.get_database(name).execute_fn(service.index_for)
                await datasette.get_database(name).execute_fn(service.titles.warm_title_lexicon)
                await datasette.get_database(name).execute_fn(service.warm_up)  # embeddings and the model (profile, match)
            except Exception as err:  # an older or partial database: the API answers with errors, the site still works
                print(f"taskshift: scoring index of {name} not loaded: {err!r}", file=sys.stderr)
    return inner


@hookimpl
def prepare_connection(conn, database, datasette):
    from taskshift.site.sql_functions import register

    register(conn)  # taskshift_fts(): safe full-text queries for the canned queries


@hookimpl
def get_metadata(datasette, key, database, table):
    return site_metadata(datasette)


@hookimpl
def canned_queries(datasette, database, actor):
    return canned_queries_for(datasette, database)


@hookimpl
def register_routes(datasette):
    from taskshift.site.redirects import ROUTES as ROLE_LINKS  # /taskshift/roles/15-1252.00 (/role/{code}: site.pages)

    return [(regex, _view(routes)) for regex, routes in _grouped_routes()] + ROLE_LINKS


@hookimpl
def skip_csrf(datasette, scope):
    path = scope.get("path", "")
    return any(r.method == "POST" and re.match(r.regex, path) for r in ROUTES)
