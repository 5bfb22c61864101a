"""Datasette plugin: taskshift metadata, canned queries and the scoring API.

The API routes are listed once in `ROUTES` (method, path, handler, pydantic models); the Datasette
routes, the method checks, the request validation, the error responses and the OpenAPI description
(`GET /-/openapi.json`) are all made from that list, so one more endpoint is one more `Route`.
Handlers call `taskshift.service` (the functions the library and the CLI call), in Datasette's
database threads.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
import sys
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
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
from taskshift.site import guard
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
        """Run `fn(conn)` on a connection to the taskshift database, in the API's own threads (`API_THREADS`):
        SQL queries of the site, however slow, never hold up a scoring request. A database file that
        cannot be read is the documented 503."""
        def in_thread():
            return fn(_api_connection(self.datasette, self.database))
        try:
            return await asyncio.get_running_loop().run_in_executor(_api_executor(), in_thread)
        except sqlite3.Error as err:
            if guard.is_unreadable(err):
                _unreadable(self.datasette)[self.database] = str(err)
                raise ApiError(503, "database", guard.UNREADABLE_PROBLEM, "unreadable") from None
            raise


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


#: Threads that answer the API (free-text matching runs SQL; everything else reads the in-memory index).
API_THREADS = 2
_EXECUTOR: ThreadPoolExecutor | None = None
_API_LOCAL = threading.local()


def _api_executor() -> ThreadPoolExecutor:
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = ThreadPoolExecutor(API_THREADS, thread_name_prefix="taskshift-api")
    return _EXECUTOR


def _api_connection(datasette, database: str) -> sqlite3.Connection:
    """This API thread's connection to `database` (opened as Datasette opens it, with the serving limits)."""
    conns = getattr(_API_LOCAL, "conns", None)
    if conns is None:
        conns = _API_LOCAL.conns = {}
    key = (id(datasette), database)
    conn = conns.get(key)
    if conn is None:
        conn = datasette.get_database(database).connect()
        guard.harden_connection(conn)
        conns[key] = conn
    return conn


def _unreadable(datasette) -> dict[str, str]:
    found = getattr(datasette, "_taskshift_unreadable", None)
    if found is None:
        found = datasette._taskshift_unreadable = {}
    return found


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
            number = re.fullmatch(r"([+-]?\d{1,9})(?:\.0*)?", values[-1])  # 3 or 3.0, as the JSON Schema integer
            out[name] = int(number.group(1)) if number else values[-1]
        else:
            out[name] = values[-1]
    return out


class BytesCache:
    """Least-recently-used cache of response bodies, bounded by their total size (not their number)."""

    def __init__(self, max_bytes: int):
        self.max_bytes, self.size = max_bytes, 0
        self.items: OrderedDict[tuple, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key) -> bytes | None:
        with self.lock:
            hit = self.items.get(key)
            if hit is not None:
                self.items.move_to_end(key)
            return hit

    def put(self, key, body: bytes) -> None:
        with self.lock:
            old = self.items.pop(key, None)
            self.size += len(body) - (len(old) if old is not None else 0)
            self.items[key] = body
            while self.size > self.max_bytes and self.items:
                _, dropped = self.items.popitem(last=False)
                self.size -= len(dropped)


# GET /-/score/{role_code} answers from memory: the database is immutable. Keys are validated input
# (a known role, the canonical list of known measures); the bodies of every role on every measure take
# ~40 MB, so the default answers all stay while narrowed ones come and go.
ROLE_CACHE_BYTES = 64 * 1024 * 1024
_ROLE_CACHE = BytesCache(ROLE_CACHE_BYTES)


def _known_measures(call: Call) -> tuple[str, ...] | None:
    return getattr(call.datasette, "_taskshift_measures", {}).get(call.database)


def _levels(call: Call) -> dict[str, str]:
    return getattr(call.datasette, "_taskshift_levels", {}).get(call.database, {})


def canonical_measures(known: tuple[str, ...] | None, values: list[str] | None, field_name: str,
                       comma_separated: bool, levels: dict[str, str] | None = None) -> list[str] | None:
    """The measures a request names, checked exactly (no spaces, no empty names) against the database's
    measures with role scores, in the database's order: what the OpenAPI description allows."""
    if values is None or known is None:
        return values
    names = [p for v in values for p in (v.split(",") if comma_separated else [v])]
    bad = [n for n in names if n not in known]
    if bad:
        first = bad[0]
        if first == "":
            raise ApiError(400, field_name, "an empty measure name" + (" (a stray comma?)" if comma_separated else "")
                           + f"; measures with role scores: {', '.join(known)}", "unknown_measure")
        if first.strip() in known:
            raise ApiError(400, field_name, f"{first!r} has spaces around a measure id: write {first.strip()}",
                           "unknown_measure")
        from taskshift.service.suggest import unknown_measures  # the closest ids, as everywhere (service.suggest)

        raise unknown_measures(field_name, list(dict.fromkeys(bad)), known,
                               {n: levels[n] for n in bad if levels and n in levels})
    wanted = set(names)
    return [mid for mid in known if mid in wanted]


async def score_role(call: Call):
    code = call.params["role_code"]
    measures = canonical_measures(_known_measures(call), call.query.measures if call.query else None, "measures", True,
                                  _levels(call))
    key = (call.database, code, None if measures is None else tuple(measures))
    hit = _ROLE_CACHE.get(key)
    if hit is not None:
        return hit
    result = await call.run(lambda conn: service.score_role(conn, code, measures))
    body = result.model_dump_json().encode()
    _ROLE_CACHE.put(key, body)
    return body


async def score_isco(call: Call):
    code = call.params["isco_code"]
    measures = call.query.measures if call.query else None
    return await call.run(lambda conn: service.score_isco(conn, code, measures))


async def score_state(call: Call):
    q = call.query
    measures = canonical_measures(_known_measures(call), q.measures if q else None, "measures", True, _levels(call))
    return await call.run(lambda conn: service.score_state(conn, call.params["state_code"], measures,
                                                           q.year if q else None, q.top if q else 10))


async def rank_states(call: Call):
    q = call.query
    if q.measure is not None and q.measure != "consensus":
        canonical_measures(_known_measures(call), [q.measure], "measure", False, _levels(call))
    return await call.run(lambda conn: service.rank_states(conn, q.measure, q.year))


def _body_measures(call: Call):
    """The request body with its `measures` (if any) checked and made canonical against the database's ids."""
    body = call.body
    if body.measures is None:
        return body
    return body.model_copy(update={"measures": canonical_measures(_known_measures(call), body.measures, "measures", False,
                                                                  _levels(call))})


async def score_custom(call: Call):
    body = _body_measures(call)
    return await call.run(lambda conn: service.score_custom(conn, body))


async def score_workforce(call: Call):
    body = _body_measures(call)
    if body.rank_by is not None:
        canonical_measures(_known_measures(call), [body.rank_by], "rank_by", False, _levels(call))
    return await call.run(lambda conn: service.score_workforce(conn, body))


async def match(call: Call):
    q = call.query
    return await call.run(lambda conn: service.match_title(conn, q.title, q.limit))


async def transitions(call: Call):
    q = call.query
    if q.measure is not None:
        canonical_measures(_known_measures(call), [q.measure], "measure", False, _levels(call))
    return await call.run(lambda conn: service.transitions(conn, call.params["role_code"], q.measure,
                                                           q.max_job_zone_step, q.limit))


async def profile(call: Call):
    body = _body_measures(call)
    return await call.run(lambda conn: service.profile(conn, body))


async def history(call: Call):
    return await call.run(lambda conn: service.history(conn, call.params["role_code"]))


async def openapi_json(call: Call):
    names = sorted(getattr(call.datasette, "_taskshift_databases", set()))
    measures = getattr(call.datasette, "_taskshift_measures", {}).get(names[0]) if names else None
    return openapi_bytes(measures)


#: The pattern of each path parameter, as the service checks it (a code that fails it is a 400 naming the field).
PATH_PATTERNS = {"role_code": m.ROLE_CODE_PATTERN, "isco_code": m.ISCO_CODE_PATTERN, "state_code": m.STATE_CODE_PATTERN}

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
    Route("score_state", "GET", "/-/score/state/{state_code}", score_state,
          "Score a US state on every measure", m.StateScoreResponse, query=m.StateQuery,
          path_params={"state_code": "USPS code (DC) or FIPS code (11) of one of the 50 states and DC"},
          description="Every measure and the consensus (with its interval) for the state's workers (BLS OEWS by state, "
                      "employment-weighted), the share in highly exposed roles, the occupations behind it (employment x "
                      "exposure, location quotients), May 2024 -> May 2025 change, coverage of the published cells and "
                      "Indeed's state postings index (docs/states.md)."),
    Route("rank_states", "GET", "/-/rank/states", rank_states,
          "Rank the 50 states and DC on the consensus or a measure", m.StateRanking, query=m.RankQuery,
          description="Most exposed first, with the consensus interval, the share of workers in exposed roles, coverage, "
                      "and the correlation of exposure with Indeed's state postings across states (n, no causal claim).",
          errors=(400, 404)),
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
          body=m.ProfileRequest, parse=service.profile_request, errors=(400, 404, 413),
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
    unreadable = _unreadable(datasette)
    if not names or names[0] in unreadable:
        if unreadable:
            raise ApiError(503, "database", guard.UNREADABLE_PROBLEM, "unreadable")
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
        except sqlite3.Error as err:  # the database, not the request
            if guard.is_unreadable(err):
                return _error(503, [{"field": "database", "problem": guard.UNREADABLE_PROBLEM, "type": "unreadable"}])
            log.exception("taskshift API SQLite error")
            return _error(503, [{"field": "database", "problem": f"the database could not answer: {type(err).__name__}",
                                 "type": "database_error"}])
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
_BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _json_bounds(node) -> None:
    """Pydantic leaves the bounds of a wrapped or union number field beside the schema as `ge`/`le` (keys
    JSON Schema ignores): put them where JSON Schema reads them, on the field or on each numeric branch."""
    if isinstance(node, list):
        for item in node:
            _json_bounds(item)
        return
    if not isinstance(node, dict):
        return
    bounds = {_BOUNDS[k]: node.pop(k) for k in list(node) if k in _BOUNDS and not isinstance(node[k], (dict, list))}
    if bounds:
        numeric = [b for b in node.get("anyOf", []) if b.get("type") in ("integer", "number")]
        for target in numeric or [node]:
            target.update(bounds)
    for value in node.values():
        _json_bounds(value)


def _not_null(schema: dict) -> dict:
    """A query parameter's schema without pydantic's `null` branch and `default: null` (a query string has no null)."""
    schema = dict(schema)
    branches = [b for b in schema.get("anyOf", []) if b.get("type") != "null"]
    if "anyOf" in schema and len(branches) == 1:
        del schema["anyOf"]
        schema.update(branches[0])
    if schema.get("default", 0) is None:
        del schema["default"]
    return schema


def _measure_schemas(spec: dict, measures: tuple[str, ...]) -> None:
    """Narrow every measure field of `spec` to the served database's measures with role scores, exactly as
    `canonical_measures` checks them: ids in JSON lists and `measure`/`rank_by`; comma-separated ids in `?measures=`."""
    ids = list(measures)
    one = "(?:" + "|".join(re.escape(x) for x in ids) + ")"
    schemas = spec["components"]["schemas"]
    for name, prop in (("CustomRoleRequest", "measures"), ("WorkforceRequest", "measures"), ("WorkforceRequest", "rank_by"),
                       ("ProfileRequest", "measures")):
        for branch in schemas[name]["properties"][prop].get("anyOf", []):
            if branch.get("type") == "array":
                branch["items"] = {"type": "string", "enum": ids}
            elif branch.get("type") == "string":
                branch.clear()
                branch.update({"type": "string", "enum": ids})
    for ops in spec["paths"].values():
        for op in ops.values():
            for param in op.get("parameters", []):
                if param["in"] != "query":
                    continue
                if param["name"] == "measures":
                    param["schema"]["items"] = {"type": "string", "pattern": f"^{one}(?:,{one})*$",
                                                "maxLength": m.MAX_QUERY_MEASURE_LENGTH}
                elif param["name"] == "measure":
                    param["schema"] = {"type": "string", "enum": ids}


def openapi(measures: tuple[str, ...] | None = None) -> dict:
    """OpenAPI 3.1 description of ROUTES, schemas generated from the pydantic models; with `measures` (those
    of the served database) every measure field lists the ids the server accepts."""
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
    _json_bounds(schemas)
    paths: dict[str, dict] = {}
    for r in ROUTES:
        op: dict[str, Any] = {"operationId": r.name, "summary": r.summary}
        if r.description:
            op["description"] = r.description
        params = [{"name": n, "in": "path", "required": True, "description": d,
                   "schema": {"type": "string", "pattern": PATH_PATTERNS[n]}} for n, d in r.path_params.items()]
        if r.query:
            qschema = r.query.model_json_schema()
            _json_bounds(qschema)
            for name, prop in qschema.get("properties", {}).items():
                entry = {"name": name, "in": "query", "required": name in qschema.get("required", []),
                         "schema": _not_null({k: v for k, v in prop.items() if k not in ("description", "title")})}
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
        for status in r.errors + ((414, 431, 503) if r.errors else ()):
            op["responses"][str(status)] = {
                "description": {400: "Invalid input (the fields at fault are named)", 404: "Unknown role, task or no match",
                                413: f"Body larger than {m.MAX_BODY_BYTES} bytes",
                                414: "URL longer than 16 KB (taskshift.site.guard)",
                                431: "Request headers larger than 16 KB (taskshift.site.guard)",
                                503: "No taskshift database is served, or its file cannot be read"}[status],
                "content": {"application/json": {"schema": refs[(m.ErrorResponse, "serialization")]}}}
        paths.setdefault(r.path, {})[r.method.lower()] = op
    spec = {
        "openapi": "3.1.0",
        "info": {"title": "taskshift scoring API", "version": __version__,
                 "description": "AI-exposure scores of O*NET roles, custom roles and workforces; see docs/api.md. "
                                f"Limits: body {m.MAX_BODY_BYTES} bytes, {m.MAX_TASKS} tasks of which "
                                f"{m.MAX_FREE_TEXT_TASKS} free text, {m.MAX_WORKFORCE_ROLES} workforce roles."},
        "paths": paths,
        "components": {"schemas": schemas},
    }
    if measures:
        _measure_schemas(spec, tuple(measures))
    return spec


_OPENAPI: dict[tuple | None, bytes] = {}


def openapi_bytes(measures: tuple[str, ...] | None = None) -> bytes:
    key = None if measures is None else tuple(measures)
    body = _OPENAPI.get(key)
    if body is None:
        body = _OPENAPI[key] = json.dumps(openapi(key), indent=1).encode()
    return body


# --- hooks ---------------------------------------------------------------------------------------
@hookimpl
def startup(datasette):
    guard.quiet_default_exception_handler()
    guard.coarser_time_limit_checks()

    async def inner():
        names = await taskshift_databases(datasette)
        datasette._taskshift_measures, datasette._taskshift_levels = {}, {}
        loop = asyncio.get_running_loop()
        for name in sorted(names):  # load the scoring index now, so the first request is fast
            try:
                idx = await loop.run_in_executor(_api_executor(), lambda: service.index_for(_api_connection(datasette, name)))
                await loop.run_in_executor(_api_executor(),
                                           lambda: service.titles.warm_title_lexicon(_api_connection(datasette, name)))
                # embeddings and the model (profile, match)
                await loop.run_in_executor(_api_executor(), lambda: service.warm_up(_api_connection(datasette, name)))
                datasette._taskshift_measures[name] = tuple(idx.scorable)
                datasette._taskshift_levels[name] = {mid: str(level) for mid, level in idx.measures["level"].items()}
            except sqlite3.Error as err:
                if guard.is_unreadable(err):
                    _unreadable(datasette)[name] = str(err)
                print(f"taskshift: database {name} cannot be read ({err}); the API answers 503", file=sys.stderr)
            except Exception as err:  # an older or partial database: the API answers with errors, the site still works
                print(f"taskshift: scoring index of {name} not loaded: {err!r}", file=sys.stderr)
    return inner


# --- serving guards (taskshift.site.guard) -------------------------------------------------------
@hookimpl
def prepare_connection(conn, database, datasette):
    from taskshift.site.sql_functions import register

    register(conn)  # taskshift_fts(): safe full-text queries for the canned queries
    guard.harden_connection(conn)
    guard.lower_sql_thread_priority()  # this runs in the Datasette SQL thread that opened `conn`


#: Paths that take a POST besides the API's: the workforce form of the pages (taskshift.site.pages).
PAGE_POST_PATHS = [r"^/workforce$"]


@hookimpl
def asgi_wrapper(datasette):
    patterns = [r.regex for r in ROUTES] + PAGE_POST_PATHS  # any other POST (canned queries, tables...) is a 405
    return lambda app: guard.GuardedApp(app, datasette, patterns)


@hookimpl
def handle_exception(datasette, request, exception):
    guard.quiet_default_exception_handler()
    return guard.exception_response(exception)


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
