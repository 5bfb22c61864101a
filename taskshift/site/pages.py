"""The pages people read: home, role, sector, measure, workforce and API docs, served by the plugin.

Each page is a list of `Section`s; a section is one service function (`taskshift.service.pages`)
feeding one template partial (`templates/taskshift/sections/`), plus the links to the rows and API
calls behind it. A section whose function returns None is left out. Adding a section (for a new
table such as role_consensus) is one service function, one partial and one line in `PAGES`.

Every page is also JSON at the same address plus `.json` (`/role/15-1252.00.json`, `?section=` for
one section); the charts draw from that JSON. Rendered pages and their data are cached per server
(the database is immutable). Datasette keeps the tables, SQL, JSON and CSV; its database index,
which `/` used to show, is at `/-/index`.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import shlex
import sys
import urllib.parse
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any, Callable

import jinja2
import markupsafe
import yaml
from datasette import hookimpl
from datasette.utils import tilde_encode
from datasette.utils.asgi import Response

from taskshift import __version__, service
from taskshift.resources import site_files
from taskshift.service import pages as data
from taskshift.service.errors import ServiceError
from taskshift.site import plugin
from taskshift.site.metadata import taskshift_databases

PLUGIN = "taskshift"              # the distribution name: static files are at /-/static-plugins/taskshift/
CACHE_SIZE = 4096
MAX_FORM_BYTES = 256 * 1024
ROLE_CODE = re.compile(r"^\d{2}-\d{4}\.\d{2}$")


# --- sections and pages -----------------------------------------------------------------------------
Links = Callable[[str, str], list[tuple[str, str]]]   # (database, key) -> [(label, href)]


@dataclass(frozen=True)
class Section:
    name: str
    template: str                               # partial under templates/taskshift/sections/
    data: Callable[[Any, str], dict | None]     # service function (conn, key) -> dict or None (section left out)
    links: Links = lambda db, key: []
    lazy: bool = False                          # fetched by the browser after the page (slow to compute cold)


@dataclass(frozen=True)
class Page:
    name: str
    template: str
    sections: tuple[Section, ...]
    json_path: Callable[[str], str]
    keyed: bool = True


def _row_url(db: str, table: str, pk: str) -> str:
    return f"/{db}/{table}/{tilde_encode(pk)}"


def _q(params: dict) -> str:
    return urllib.parse.urlencode(params)


def _role_links(section: str) -> Links:
    def links(db: str, code: str) -> list[tuple[str, str]]:
        return {
            "header": [("roles row", _row_url(db, "roles", code)), ("tasks (CSV)", f"/{db}/tasks_of_role.csv?{_q({'code': code})}")],
            "labour": [("roles row", _row_url(db, "roles", code)), ("labour figures by OEWS code", f"/{db}/labor_stats?{_q({'code': code[:7]})}")],
            "observed": [("GET /-/history/" + code, f"/-/history/{code}"), ("oews_series rows", f"/{db}/oews_series?{_q({'code': code[:7]})}"),
                         ("role_outlook_evidence rows", f"/{db}/role_outlook_evidence?{_q({'role_code': code})}")],
            "summary": [("GET /-/score/" + code, f"/-/score/{code}")],
            "use": [("role_collaboration row", _row_url(db, "role_collaboration", code)),
                    ("task_collaboration rows", f"/{db}/task_collaboration?{_q({'role_code': code})}"),
                    ("role_task_changes rows", f"/{db}/role_task_changes?{_q({'role_code': code})}"),
                    ("task_list_changes rows", f"/{db}/task_list_changes?{_q({'role_code': code})}"),
                    ("GET /-/score/" + code + " (observed_use, task_lists)", f"/-/score/{code}")],
            "consensus": [("role_consensus row", _row_url(db, "role_consensus", code)),
                          ("chart data (JSON)", f"/role/{code}.json?section=consensus"),
                          ("GET /-/score/" + code + " (consensus block)", f"/-/score/{code}")],
            "measures": [("role_exposure rows", f"/{db}/role_exposure?{_q({'role_code': code})}"),
                         ("CSV", f"/{db}/role_exposure.csv?{_q({'role_code': code, '_size': 'max'})}"),
                         ("GET /-/score/" + code, f"/-/score/{code}")],
            "tasks": [("tasks", f"/{db}/tasks?{_q({'role_code': code})}"), ("task_exposure (SQL)", f"/{db}?{_q({'sql': TASK_SQL, 'code': code})}"),
                      ("task_usage", f"/{db}/task_usage"), ("GET /-/score/" + code, f"/-/score/{code}")],
            "pivots": [("GET /-/transitions/" + code, f"/-/transitions/{code}"), ("transitions rows", f"/{db}/transitions?{_q({'from_code': code})}")],
            "sectors": [("sector_roles rows", f"/{db}/sector_roles?{_q({'oews_code': code[:7]})}")],
            "emerging": [("emerging_title_roles rows", f"/{db}/emerging_title_roles?{_q({'role_code': code})}")],
            "cite": [("this page as JSON", f"/role/{code}.json"), ("scores as CSV", f"/{db}/role_exposure.csv?{_q({'role_code': code, '_size': 'max'})}"),
                     ("tasks as CSV", f"/{db}/tasks_of_role.csv?{_q({'code': code})}"), ("sources", f"/{db}/sources")],
        }.get(section, [])
    return links


TASK_SQL = ("select t.task_id, t.task_type, t.statement, e.measure_id, e.value, e.label from tasks t "
            "join task_exposure e on e.task_id = t.task_id where t.role_code = :code order by t.task_id, e.measure_id")


def _sector_links(section: str) -> Links:
    def links(db: str, code: str) -> list[tuple[str, str]]:
        return {
            "header": [("sectors row", _row_url(db, "sectors", code))],
            "consensus": [("sector_consensus row", _row_url(db, "sector_consensus", code)),
                          ("chart data (JSON)", f"/sector/{code}.json?section=consensus")],
            "measures": [("sector_exposure rows", f"/{db}/sector_exposure?{_q({'sector_code': code})}"),
                         ("CSV", f"/{db}/sector_exposure.csv?{_q({'sector_code': code})}")],
            "roles": [("sector_roles rows", f"/{db}/sector_roles?{_q({'naics_code': code, 'o_group': 'detailed', '_sort_desc': 'employment'})}"),
                      ("method", f"/{db}/metadata/sector_exposure_method")],
            "seeds": [("sector_profile_sectors rows", f"/{db}/sector_profile_sectors?{_q({'naics_code': code})}"),
                      ("sector_profiles", f"/{db}/sector_profiles"), ("sector_profile_roles", f"/{db}/sector_profile_roles")],
        }.get(section, [])
    return links


def _measure_links(section: str) -> Links:
    def links(db: str, mid: str) -> list[tuple[str, str]]:
        return {
            "header": [("measures row", _row_url(db, "measures", mid))],
            "distribution": [("role_exposure rows", f"/{db}/role_exposure?{_q({'measure_id': mid, '_sort_desc': 'score'})}"),
                             ("CSV", f"/{db}/role_exposure.csv?{_q({'measure_id': mid, '_size': 'max'})}")],
            "extremes": [("most exposed roles (canned query)", f"/{db}/most_exposed_roles?{_q({'measure_id': mid})}")],
            "agreement": [("measure_correlations rows", f"/{db}/measure_correlations?{_q({'_where': f'measure_a = {mid!r} or measure_b = {mid!r}'})}")],
        }.get(section, [])
    return links


def _state_links(section: str) -> Links:
    def links(db: str, code: str) -> list[tuple[str, str]]:
        return {
            "header": [("states row", _row_url(db, "states", code)), ("state_coverage rows", f"/{db}/state_coverage?{_q({'state': code})}"),
                       ("GET /-/score/state/" + code, f"/-/score/state/{code}")],
            "consensus": [("state_consensus rows", f"/{db}/state_consensus?{_q({'state': code})}"),
                          ("chart data (JSON)", f"/state/{code}.json?section=consensus")],
            "measures": [("state_exposure rows", f"/{db}/state_exposure?{_q({'state': code})}"),
                         ("CSV", f"/{db}/state_exposure.csv?{_q({'state': code, '_size': 'max'})}")],
            "roles": [("state_roles rows", f"/{db}/state_roles?{_q({'state': code, '_sort': 'rank'})}"),
                      ("state_labor rows", f"/{db}/state_labor?{_q({'state': code})}"), ("method", f"/{db}/metadata/state_method")],
        }.get(section, [])
    return links


def _home_links(section: str) -> Links:
    def links(db: str, key: str) -> list[tuple[str, str]]:
        return {
            "figures": [("metadata", f"/{db}/metadata"), ("sources", f"/{db}/sources")],
            "roles": [("chart data (JSON)", "/home.json?section=roles"), ("roles", f"/{db}/roles"),
                      ("role_exposure", f"/{db}/role_exposure")],
            "sectors": [("sector_exposure", f"/{db}/sector_exposure"), ("chart data (JSON)", "/home.json?section=sectors")],
            "states": [("state_consensus", f"/{db}/state_consensus"), ("chart data (JSON)", "/home.json?section=states"),
                       ("GET /-/rank/states", "/-/rank/states")],
        }.get(section, [])
    return links


def _sections(prefix: str, linker: Callable[[str], Links], specs: list[tuple]) -> tuple[Section, ...]:
    out = []
    for spec in specs:
        name, fn = spec[0], spec[1]
        lazy = len(spec) > 2 and spec[2]
        out.append(Section(name, f"taskshift/sections/{prefix}_{name}.html", fn, linker(name), lazy))
    return tuple(out)


PAGES: dict[str, Page] = {
    "home": Page("home", "taskshift/home.html", _sections("home", _home_links, [
        ("figures", lambda conn, key: data.home_figures(conn)),
        ("roles", lambda conn, key: data.home_roles(conn)),
        ("sectors", lambda conn, key: data.home_sectors(conn)),
        ("states", lambda conn, key: data.states_map(conn)),
    ]), lambda key: "/home.json", keyed=False),
    "role": Page("role", "taskshift/role.html", _sections("role", _role_links, [
        ("header", data.role_header),
        ("summary", data.role_summary),
        ("use", data.role_use),
        ("consensus", data.role_consensus),
        ("labour", data.role_labour),
        ("observed", data.role_observed),
        ("measures", data.role_measures),
        ("tasks", data.role_tasks),
        ("pivots", data.role_pivots, True),
        ("emerging", data.role_emerging),
        ("sectors", data.role_sectors),
        ("cite", data.role_cite),
    ]), lambda code: f"/role/{code}.json"),
    "sector": Page("sector", "taskshift/sector.html", _sections("sector", _sector_links, [
        ("header", data.sector_header),
        ("consensus", data.sector_consensus),
        ("measures", data.sector_measures),
        ("roles", data.sector_roles),
        ("seeds", data.sector_seeds),
    ]), lambda code: f"/sector/{code}.json"),
    "state": Page("state", "taskshift/state.html", _sections("state", _state_links, [
        ("header", data.state_header),
        ("consensus", data.state_consensus),
        ("measures", data.state_measures),
        ("roles", data.state_roles),
    ]), lambda code: f"/state/{code}.json"),
    "measure": Page("measure", "taskshift/measure.html", _sections("measure", _measure_links, [
        ("header", data.measure_header),
        ("distribution", data.measure_distribution),
        ("extremes", data.measure_extremes),
        ("agreement", data.measure_agreement),
    ]), lambda mid: f"/measure/{mid}.json"),
    "measures": Page("measures", "taskshift/measures.html", (
        Section("list", "taskshift/sections/measures_list.html", lambda conn, key: data.measures_list(conn),
                lambda db, key: [("measures table", f"/{db}/measures"), ("measure_correlations", f"/{db}/measure_correlations")]),
    ), lambda key: "/measures.json", keyed=False),
    "observed": Page("observed", "taskshift/observed.html", (
        Section("answer", "taskshift/sections/observed_answer.html", lambda conn, key: data.observed_answer(conn),
                lambda db, key: [("exposure_showing_up", f"/{db}/exposure_showing_up"), ("oews_change", f"/{db}/oews_change"),
                                 ("oews_series", f"/{db}/oews_series")]),
    ), lambda key: "/observed.json", keyed=False),
    "sectors": Page("sectors", "taskshift/sectors.html", (
        Section("list", "taskshift/sections/sectors_list.html", lambda conn, key: data.sectors_list(conn),
                lambda db, key: [("sectors", f"/{db}/sectors"), ("sector_exposure", f"/{db}/sector_exposure")]),
    ), lambda key: "/sectors.json", keyed=False),
}


# --- formatting (Jinja filters) ---------------------------------------------------------------------
def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def ordinal(x) -> str:
    if _missing(x):
        return "–"
    n = int(round(float(x)))
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def num(x, digits: int = 0) -> str:
    if _missing(x):
        return "–"
    return f"{float(x):,.{digits}f}"


def compact(x) -> str:
    """154186300 -> '154.2 million'; 11630 -> '11,630'."""
    if _missing(x):
        return "–"
    x = float(x)
    for size, word in ((1e9, "billion"), (1e6, "million")):
        if abs(x) >= size:
            return f"{x / size:,.1f} {word}"
    return f"{x:,.0f}"


def money(x) -> str:
    return "–" if _missing(x) else f"${float(x):,.0f}"


def share(x, digits: int = 0) -> str:
    return "–" if _missing(x) else f"{100 * float(x):.{digits}f}%"


def signed(x, digits: int = 1, unit: str = "%") -> str:
    if _missing(x):
        return "–"
    v = round(float(x), digits)
    sign = "+" if v > 0 else "−" if v < 0 else "±"
    return f"{sign}{abs(v):,.{digits}f}{unit}"


def signed_money(x) -> str:
    if _missing(x):
        return "n/a"
    v = round(float(x))
    return f"{'+' if v > 0 else '−' if v < 0 else '±'}${abs(v):,.0f}"


def score(x) -> str:
    """A score on a measure's own scale, to 3 significant digits (full precision stays in the data)."""
    if _missing(x):
        return "–"
    x = float(x)
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    text = f"{x:.3g}"
    if "e" in text:
        text = f"{x:.4f}"
    return text.replace("-", "−")


def pct(x) -> str:
    """A percentage of a whole for "more exposed than X% of ...": whole numbers, but one decimal near 0 and
    100 so that 99.8 never reads as "all" (100) nor 0.3 as "none"."""
    if _missing(x):
        return "–"
    x = float(x)
    if x in (0.0, 100.0):
        return f"{x:.0f}"
    return str(math.floor(x + 0.5)) if 0.5 <= x < 99.5 else f"{x:.1f}"


def pct1(x) -> str:
    return "–" if _missing(x) else f"{float(x):.1f}"


FILTERS = {"ordinal": ordinal, "num": num, "compact": compact, "money": money, "share": share, "signed": signed,
           "score": score, "pct1": pct1, "pct": pct, "signed_money": signed_money}


# --- static files --------------------------------------------------------------------------------------
@cache
def static_version() -> str:
    """A short hash of the static files, appended to their URLs so a new release is never served stale."""
    h = hashlib.sha256(__version__.encode())
    root = files("taskshift.site") / "static"
    for name in ("taskshift.css", "taskshift.js"):
        h.update((root / name).read_bytes())
    return h.hexdigest()[:10]


def static(path: str) -> str:
    return f"/-/static-plugins/{PLUGIN}/{path}?v={static_version()}"


def sync_env(datasette) -> jinja2.Environment:
    """A synchronous Jinja environment over Datasette's template folders, with its filters and ours."""
    env = getattr(datasette, "_taskshift_sync_env", None)
    if env is None:
        env = jinja2.Environment(loader=datasette.jinja_env.loader, autoescape=True)
        env.filters.update(datasette.jinja_env.filters)
        env.filters.update(FILTERS)
        datasette._taskshift_sync_env = env
    return env


# --- caches and database access ---------------------------------------------------------------------------
def _cache(datasette) -> OrderedDict:
    c = getattr(datasette, "_taskshift_pages_cache", None)
    if c is None:
        c = datasette._taskshift_pages_cache = OrderedDict()
    return c


def _cached(datasette, key):
    c = _cache(datasette)
    hit = c.get(key)
    if hit is not None:
        c.move_to_end(key)
    return hit


def _store(datasette, key, value):
    c = _cache(datasette)
    c[key] = value
    if len(c) > CACHE_SIZE:
        c.popitem(last=False)
    return value


def _db(datasette) -> str | None:
    names = sorted(getattr(datasette, "_taskshift_databases", set()))
    return names[0] if names else None


async def _run(datasette, fn):
    return await datasette.get_database(_db(datasette)).execute_fn(fn)


async def page_data(datasette, page: Page, key: str, only: str | None = None, include_lazy: bool = True) -> dict:
    """{section name: data or None} for a page (cached per server)."""
    wanted = [s for s in page.sections if (only is None or s.name == only) and (include_lazy or not s.lazy)]
    missing = [s for s in wanted if _cached(datasette, ("data", page.name, key, s.name)) is None]
    if missing:
        def collect(conn):
            return {s.name: s.data(conn, key) for s in missing}
        fresh = await _run(datasette, collect)
        for name, value in fresh.items():
            _store(datasette, ("data", page.name, key, name), {"value": value})
    return {s.name: _cached(datasette, ("data", page.name, key, s.name))["value"] for s in wanted}


def _json(value, status: int = 200) -> Response:
    return Response(json.dumps(value, allow_nan=False, default=_json_default), status=status,
                    content_type="application/json; charset=utf-8", headers={"Access-Control-Allow-Origin": "*"})


def _json_default(x):
    if hasattr(x, "item"):
        return x.item()
    raise TypeError(f"not JSON: {type(x).__name__}")


def _clean(value):
    """NaN -> None, recursively (JSON has no NaN)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


# --- page context and rendering ---------------------------------------------------------------------------
async def _context(datasette, request, kind: str, title: str, description: str, path: str, **extra) -> dict:
    return {
        "page": {"kind": kind, "title": title, "description": description, "path": path,
                 "url": datasette.absolute_url(request, path), "json": extra.pop("json_url", None)},
        "db": _db(datasette),
        "static": static,
        "site_nav": SITE_NAV,
        **extra,
    }


SITE_NAV = [("/", "Search"), ("/sectors", "Sectors"), ("/measures", "Measures"), ("/observed", "Observed"), ("/workforce", "Workforce"),
            ("/api", "API"), ("/-/index", "Data")]


async def _render(datasette, request, template: str, context: dict, status: int = 200) -> Response:
    html = await datasette.render_template(template, context, request=request, view_name=f"taskshift_{context['page']['kind']}")
    return Response.html(html, status=status)


async def _not_found(datasette, request, what: str, problem: str, choices: list | None = None, status: int = 404) -> Response:
    ctx = await _context(datasette, request, "notfound", f"{what} not found · taskshift", problem, request.path,
                         problem=problem, choices=choices or [], what=what)
    return await _render(datasette, request, "taskshift/not_found.html", ctx, status=status)


def _no_database() -> Response:
    return Response.text("No taskshift database is served.", status=503)


def _describe(page: str, d: dict) -> tuple[str, str]:
    """Title and link-preview description of a page from its data."""
    if page == "role":
        h, s = d["header"], d["summary"]
        title = f"{h['title']} ({h['code']}): AI exposure, tasks and where to move · taskshift"
        parts = [f"How exposed are {h['title']} ({h['code']}) to AI?"]
        if s.get("headline"):
            parts.append(f"On {s['headline']['name']} the role is more exposed than {pct(s['headline']['percentile'])}% of roles.")
        if s.get("lowest") and s.get("highest") and s["measures"] > 1:
            parts.append(f"Across {s['measures']} measures from {s['families']} research groups its percentile runs from "
                         f"{s['lowest']['percentile']:.0f} to {s['highest']['percentile']:.0f}.")
        elif not s.get("measures"):
            parts.append("No published AI-exposure measure scores it.")
        p = s["profile"]
        if p.get("exposed_share") is not None:
            parts.append(f"{100 * p['exposed_share']:.0f}% of its task weight is exposed to LLMs (GPT-4 labels).")
        return title, " ".join(parts)
    if page == "sector":
        h = d["header"]
        title = f"{h['title']} (NAICS {h['naics_code']}): AI exposure of its workforce · taskshift"
        desc = f"How exposed to AI are the {compact(h['employment'])} workers of {h['title']} (NAICS {h['naics_code']})?"
        if h.get("headline") and h["headline"].get("exposed_share") is not None:
            desc += (f" {100 * h['headline']['exposed_share']:.0f}% work in the most exposed quarter of occupations on "
                     f"{h['measure']['name']}; rank {h['headline']['rank']} of {h['sectors']} sectors.")
        return title, desc
    if page == "state":
        h = d["header"]
        st = h["state"]
        title = f"{st['name']} ({st['code']}): AI exposure of its workers · taskshift"
        desc = f"How exposed to AI are the {compact(h['coverage']['employment_total'])} workers of {st['name']}?"
        if h.get("exposed_share") is not None:
            desc += (f" {100 * h['exposed_share']:.0f}% work in roles among the most exposed quarter of US workers on the consensus "
                     f"of the measures; rank {h['consensus_rank']} of {h['states']} (BLS OEWS May {st['year']}).")
        return title, desc
    if page == "measure":
        h = d["header"]
        title = f"{h['name']} ({h['measure_id']}) · taskshift"
        desc = f"{h['name']}: {h['title']}. {h['what']}".strip()
        return title, desc[:300]
    return "taskshift", ""


async def show_page(datasette, request, page: Page, key: str) -> Response:
    db = _db(datasette)
    if db is None:
        return _no_database()
    # the page holds its own absolute address (link previews): one cached copy per Host it was asked for
    cache_key = ("html", page.name, key, request.headers.get("host", ""))
    if request.actor is None:
        hit = _cached(datasette, cache_key)
        if hit is not None:
            return Response.html(hit)
    d = await page_data(datasette, page, key, include_lazy=False)
    sections = [{"name": s.name, "template": s.template, "data": d.get(s.name), "lazy": s.lazy,
                 "links": s.links(db, key), "src": f"{page.json_path(key).removesuffix('.json')}/section/{s.name}" if s.lazy else None}
                for s in page.sections]
    title, description = _describe(page.name, d) if page.keyed else (None, None)
    extra = {}
    if page.name == "home":
        title = "taskshift: how exposed is your job to AI, task by task"
        f = d["figures"]
        description = (f"Search {f['roles']:,} occupations and see how {f['measures_scored']} published AI-exposure measures "
                       f"from {f['families']} research groups rate each one, task by task, with employment, wages and where to move.")
    elif page.name == "measures":
        title = "The AI-exposure measures side by side · taskshift"
        description = (f"{d['list']['measures']} published measures of AI exposure, {d['list']['scored']} with role scores: "
                       "what each measures, its scale, license and agreement with the others.")
    elif page.name == "observed":
        title = "Is AI exposure showing up in jobs and pay? · taskshift"
        description = ("Employment and wage change since ChatGPT (BLS OEWS May 2022-2025) against before (2019-2022), by consensus "
                       "AI exposure and by each measure's quintile, with what it can and cannot show.")
    elif page.name == "sectors":
        title = "AI exposure by sector (NAICS) · taskshift"
        description = "Every NAICS sector's share of workers in the most AI-exposed occupations, from BLS OEWS May 2024 by sector."
    path = request.path
    ctx = await _context(datasette, request, page.name, title, description, path, sections=sections, key=key,
                         json_url=page.json_path(key), data=d, **extra)
    # the page's body is rendered with a plain (synchronous) Jinja environment: several times faster than
    # Datasette's async one for a page of this size; Datasette's base template then wraps it
    ctx["body"] = markupsafe.Markup(sync_env(datasette).get_template(page.template).render(ctx))
    html = await datasette.render_template("taskshift/base.html", ctx, request=request, view_name=f"taskshift_{page.name}")
    if request.actor is None:
        _store(datasette, cache_key, html)
    return Response.html(html)


async def show_json(datasette, request, page: Page, key: str) -> Response:
    if _db(datasette) is None:
        return _json({"ok": False, "error": "no taskshift database is served"}, 503)
    only = request.args.get("section")
    if only is not None and only not in {s.name for s in page.sections}:
        names = ", ".join(s.name for s in page.sections)
        return _json({"ok": False, "status": 400, "error": f"section: unknown section {only!r}; one of {names}",
                      "errors": [{"field": "section", "problem": f"unknown section {only!r}; one of {names}", "type": "unknown"}]}, 400)
    d = await page_data(datasette, page, key, only=only)
    return _json(_clean(d if only is None else d[only]))


async def show_section(datasette, request, page: Page, key: str, name: str) -> Response:
    section = next((s for s in page.sections if s.name == name), None)
    if section is None:
        return Response.text(f"unknown section {name!r}", status=404)
    d = await page_data(datasette, page, key, only=name)
    ctx = {"s": {"name": name, "data": d[name], "links": section.links(_db(datasette), key)}, "db": _db(datasette),
           "key": key, "static": static}
    html = sync_env(datasette).get_template("taskshift/section.html").render({**ctx, "section_template": section.template})
    return Response.html(html)


# --- views ----------------------------------------------------------------------------------------------
def _errors(err: ServiceError) -> str:
    return "; ".join(e["problem"] for e in err.errors)


async def home(request, datasette):
    if _db(datasette) is None:
        return _no_database()
    return await show_page(datasette, request, PAGES["home"], "")


async def home_json(request, datasette):
    return await show_json(datasette, request, PAGES["home"], "")


async def list_page(request, datasette):
    name = request.url_vars["name"]
    page = PAGES[name]
    if request.url_vars.get("fmt"):
        return await show_json(datasette, request, page, "")
    return await show_page(datasette, request, page, "")


async def role_view(request, datasette):
    if _db(datasette) is None:
        return _no_database()
    raw = urllib.parse.unquote(request.url_vars["key"])
    as_json = bool(request.url_vars.get("fmt"))
    try:
        code = await _run(datasette, lambda conn: data.resolve_role(conn, raw))
    except ServiceError:
        # what to do next, as the API and the CLI say it (taskshift.service.suggest): near-miss codes,
        # O*NET-SOC 2010 codes through the crosswalks, the roles of a SOC code, a title's best matches
        problem, codes = await _run(datasette, lambda conn: _role_suggestions(conn, raw))
        if as_json:
            return _json({"ok": False, "status": 404, "error": problem,
                          "errors": [{"field": "role_code", "problem": problem, "type": "not_found", "suggestions": codes}]}, 404)
        titles = getattr(datasette, "_taskshift_lookup", {}).get(_db(datasette), ({}, set()))[0]
        suggestions = [{"code": c, "title": titles.get(c, "")} for c in codes] or await _suggest(datasette, raw)
        return await _not_found(datasette, request, "Role", problem, suggestions)
    if code != raw:
        return Response.redirect(f"/role/{code}{'.json' if as_json else ''}" + (f"?{request.query_string}" if request.query_string else ""))
    if as_json:
        return await show_json(datasette, request, PAGES["role"], code)
    return await show_page(datasette, request, PAGES["role"], code)


def _role_suggestions(conn, text: str) -> tuple[str, list[str]]:
    from taskshift.service.suggest import check_role_code, render
    try:
        check_role_code(conn, text)
    except ServiceError as err:
        e = render(err.errors, "site")[0]
        return e["problem"], list(e.get("suggestions") or [])
    return f"{text!r} is not a role", []


async def _suggest(datasette, text: str) -> list[dict]:
    words = re.sub(r"[^\w\s]", " ", text).strip()
    if not words or re.fullmatch(r"[\d\s]+", words):
        return []
    try:
        found = await _run(datasette, lambda conn: service.match_title(conn, words[:200], 5))
    except ServiceError:
        return []
    return [{"code": x.role_code, "title": x.role_title} for x in found.matches]


async def keyed_view(request, datasette):
    """/sector/<code> and /measure/<id> (and .json, and /section/<name> fragments)."""
    if _db(datasette) is None:
        return _no_database()
    kind = request.url_vars["kind"]
    page = PAGES[kind]
    raw = urllib.parse.unquote(request.url_vars["key"])
    resolve = RESOLVE[kind]
    try:
        key = await _run(datasette, lambda conn: resolve(conn, raw))
    except ServiceError as err:
        if request.url_vars.get("fmt"):
            return _json({"ok": False, "status": 404, "error": _errors(err), "errors": err.errors}, 404)
        choices = await _run(datasette, lambda conn: _choices(conn, kind))
        return await _not_found(datasette, request, kind.capitalize(), _errors(err), choices)
    if key != raw:
        return Response.redirect(f"/{kind}/{key}{request.url_vars.get('fmt') or ''}")
    if request.url_vars.get("fmt"):
        return await show_json(datasette, request, page, key)
    return await show_page(datasette, request, page, key)


RESOLVE = {"sector": data.resolve_sector, "measure": data.resolve_measure, "state": data.resolve_state}


def _choices(conn, kind: str) -> list[dict]:
    if kind == "state":
        return [{"href": f"/state/{c}", "code": c, "title": t} for c, t in conn.execute("select state, name from states order by state")]
    if kind == "sector":
        return [{"href": f"/sector/{c}", "code": c, "title": t} for c, t in conn.execute("select naics_code, title from sectors order by naics_code")]
    return [{"href": f"/measure/{c}", "code": c, "title": t} for c, t in conn.execute("select measure_id, title from measures order by measure_id")]


async def section_view(request, datasette):
    if _db(datasette) is None:
        return _no_database()
    kind, key, name = request.url_vars["kind"], urllib.parse.unquote(request.url_vars["key"]), request.url_vars["section"]
    try:
        if kind == "role":
            if await _run(datasette, lambda conn: data.resolve_role(conn, key)) != key:
                return Response.text("not a role code", status=404)
        else:
            resolve = RESOLVE[kind]
            if await _run(datasette, lambda conn: resolve(conn, key)) != key:
                return Response.text("not a key", status=404)
    except ServiceError as err:
        return Response.text(_errors(err), status=404)
    return await show_section(datasette, request, PAGES[kind], key, name)


async def search(request, datasette):
    """The home search box: a job title (or a role code) -> the role page, or a list of close roles."""
    if _db(datasette) is None:
        return _no_database()
    q = (request.args.get("q") or "").strip()
    if not q:
        return Response.redirect("/")
    if re.fullmatch(r"\d{2}-?\d{4}(\.\d{2})?", q):
        return Response.redirect(f"/role/{q}")
    try:
        found = await _run(datasette, lambda conn: service.match_title(conn, q[:200], 10))
        matches = found.matches
        problem = None
    except ServiceError as err:
        matches, problem = [], _errors(err)
    if matches and (matches[0].exact or len(matches) == 1):
        return Response.redirect(f"/role/{matches[0].role_code}")
    ctx = await _context(datasette, request, "search", f"Roles matching “{q}” · taskshift",
                         f"O*NET roles whose titles match the job title “{q}”.", request.path,
                         q=q, matches=[x.model_dump() for x in matches], problem=problem)
    return await _render(datasette, request, "taskshift/search.html", ctx, status=200 if matches else 404)


# --- workforce ----------------------------------------------------------------------------------------
EXAMPLE_WORKFORCE = """role or job title,headcount
15-1252.00,120
customer service representative,300
29-1141.00,45
cashier,80
heavy truck driver,40
data entry keyer,25
accountant,30
"""


async def workforce(request, datasette):
    if _db(datasette) is None:
        return _no_database()
    result, problem, text, status = None, None, "", 200
    if request.method == "POST":
        body = await _read_form(request)
        if isinstance(body, Response):
            return body
        text = (body.get("rows") or [""])[0]
        try:
            result = await _run(datasette, lambda conn: _score_workforce(conn, text))
        except ServiceError as err:
            problem, status = _errors(err), err.status
    elif request.method != "GET":
        return Response.text("GET or POST", status=405, headers={"Allow": "GET, POST"})
    api_url = datasette.absolute_url(request, "/-/score/workforce")
    if result is not None:
        body_json = json.dumps(result["parsed"]["request"], indent=1)
        result["curl"] = f"curl -X POST {shlex.quote(api_url)} -H 'content-type: application/json' -d {shlex.quote(json.dumps(result['parsed']['request']))}"
        result["request_json"] = body_json
    ctx = await _context(datasette, request, "workforce", "Score a workforce: how exposed is your team to AI? · taskshift",
                         "Paste or upload your roles or job titles with headcounts and see your workforce's AI exposure on every "
                         "published measure, the most exposed roles and where their people could move.", "/workforce",
                         text=text or EXAMPLE_WORKFORCE, example=EXAMPLE_WORKFORCE, result=result, problem=problem,
                         api_url=api_url, result_json=_script_json(result["response"]) if result else None,
                         chart_json=_script_json({"measures": result["measures"]}) if result else None)
    return await _render(datasette, request, "taskshift/workforce.html", ctx, status=status)


def _script_json(value) -> str:
    """JSON safe inside <script type="application/json"> (no closing tag can appear in it)."""
    return json.dumps(_clean(value)).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _score_workforce(conn, text: str) -> dict:
    parsed = data.parse_workforce(conn, text)
    if not parsed["request"]["roles"]:
        raise service.InvalidInput("rows", "no line has a role code or a job title that matches a role, with a headcount"
                                   + (f" ({parsed['skipped'][0]['problem']} on line {parsed['skipped'][0]['line']})" if parsed["skipped"] else ""),
                                   "empty")
    if not any(r["headcount"] > 0 for r in parsed["request"]["roles"]):
        raise service.InvalidInput("rows", "every headcount is zero", "zero")
    response = service.score_workforce(conn, {**parsed["request"], "top": 10})
    resp = response.model_dump()
    top = [r["role_code"] for r in resp["most_exposed"][:5]]
    pivots = data.workforce_pivots(conn, top)
    idx = service.index_for(conn)
    words = [{**w, **{k: v for k, v in data.measure_entry(conn, w["measure_id"]).items() if k not in w}} for w in resp["measures"]]
    order = {"predicted": 0, "observed": 1}
    measures = sorted(words, key=lambda r: (order.get(r["evidence"], 2), r["percentile"] is None, -(r["percentile"] or 0)))
    head = next((w for w in words if w["measure_id"] == resp["rank_by"]), None)
    return {"parsed": parsed, "response": resp, "measures": measures, "headline": head, "pivots": pivots,
            "rank_measure": data.measure_entry(conn, resp["rank_by"])}


async def _read_form(request) -> dict | Response:
    try:
        raw = await plugin._read_body(request, MAX_FORM_BYTES)
    except plugin.ApiError as err:
        return Response.text(err.errors[0]["problem"], status=err.status)
    ctype = request.headers.get("content-type", "")
    text = raw.decode("utf-8", errors="replace")
    if ctype.startswith("application/x-www-form-urlencoded") or not ctype:
        return urllib.parse.parse_qs(text, keep_blank_values=True)
    if ctype.startswith("text/"):
        return {"rows": [text]}
    return Response.text("send the form (application/x-www-form-urlencoded) or CSV text (text/csv)", status=415)


# --- API docs ---------------------------------------------------------------------------------------------
@cache
def api_examples() -> dict:
    return yaml.safe_load(site_files().joinpath("examples.yaml").read_text("utf-8")) or {}


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema


def _type(prop: dict, components: dict) -> str:
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in prop:
        return " or ".join(_type(p, components) for p in prop["anyOf"])
    t = prop.get("type", "object")
    if t == "array":
        return f"list of {_type(prop.get('items', {}), components)}"
    if "enum" in prop:
        return " | ".join(map(str, prop["enum"]))
    return t


def _fields(schema: dict, components: dict, prefix: str = "", depth: int = 0) -> list[dict]:
    """Rows (name, type, required, description) for the properties of a schema; the fields of a nested
    model (a list of tasks, a role) follow their parent as `parent[].field` (one level deep)."""
    schema = _resolve(schema, components)
    required = set(schema.get("required", []))
    rows = []
    for n, p in schema.get("properties", {}).items():
        inner = p.get("items", p) if p.get("type") == "array" else p
        target = _resolve(inner, components) if "$ref" in inner else None
        rows.append({"name": prefix + n, "type": _type(p, components), "required": n in required,
                     "description": p.get("description") or (target or {}).get("description", "")})
        if target and target.get("properties") and depth == 0:
            rows += _fields(target, components, prefix + n + ("[]." if p.get("type") == "array" else "."), depth + 1)
    return rows


def api_docs(base: str) -> list[dict]:
    spec = plugin.openapi()
    comps = spec.get("components", {}).get("schemas", {})
    examples = api_examples()
    out = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            ex = examples.get(op["operationId"], {})
            url = path
            for name, value in (ex.get("path") or {}).items():
                url = url.replace("{" + name + "}", urllib.parse.quote(str(value)))
            if ex.get("query"):
                url += "?" + urllib.parse.urlencode(ex["query"], doseq=True)
            body = json.dumps(ex["body"], indent=1) if "body" in ex else None
            runnable = "{" not in url
            curl = f"curl {shlex.quote(base + url)}" if method == "get" else (
                f"curl -X {method.upper()} {shlex.quote(base + url)} -H 'content-type: application/json' -d "
                f"{shlex.quote(json.dumps(ex.get('body', {})))}")
            body_schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            ok = op["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
            out.append({
                "id": op["operationId"], "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                "description": op.get("description", ""),
                "params": [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                            "type": _type(p.get("schema", {}), comps), "description": p.get("description", "")}
                           for p in op.get("parameters", [])],
                "body_fields": _fields(body_schema, comps) if body_schema else [],
                "response_fields": _fields(ok, comps) if ok else [],
                "errors": [{"status": s, "description": r.get("description", "")} for s, r in op["responses"].items() if s != "200"],
                "example_url": url if runnable else None, "example_body": body, "curl": curl, "note": ex.get("note"),
            })
    return out


async def api_page(request, datasette):
    base = datasette.absolute_url(request, "/").rstrip("/")
    endpoints = api_docs(base)
    ctx = await _context(datasette, request, "api", "The taskshift API: score roles, custom roles and workforces · taskshift",
                         "The taskshift scoring API described for people, with a runnable example per endpoint: score a role, "
                         "a custom role or a workforce on every AI-exposure measure, match job titles, find pivots.", "/api",
                         endpoints=endpoints, base=base, page_json=[("/role/15-1252.00.json", "a role page's data"),
                                                                   ("/sector/52.json", "a sector page's data"),
                                                                   ("/measure/eloundou2023_gpt4_beta.json", "a measure page's data"),
                                                                   ("/home.json", "the home page's data")])
    return await _render(datasette, request, "taskshift/api.html", ctx)


# --- routes and hooks --------------------------------------------------------------------------------------
async def datasette_index(request, datasette):
    from datasette.views.index import IndexView
    view = IndexView.as_view(datasette)
    return await view(request, None)


ROUTES = [
    (r"^/$", home),
    (r"^/home\.json$", home_json),
    (r"^/search$", search),
    (r"^/(?P<name>measures|sectors|observed)(?P<fmt>\.json)?$", list_page),
    (r"^/role/(?P<key>[^/]+?)(?P<fmt>\.json)?$", role_view),
    (r"^/(?P<kind>role|sector|measure|state)/(?P<key>[^/]+)/section/(?P<section>\w+)$", section_view),
    (r"^/(?P<kind>sector|measure|state)/(?P<key>[^/]+?)(?P<fmt>\.json)?$", keyed_view),
    (r"^/workforce$", workforce),
    (r"^/api$", api_page),
    (r"^/-/index(\.(?P<format>jsono?))?$", datasette_index),
]


@hookimpl
def register_routes(datasette):
    return ROUTES


@hookimpl
def skip_csrf(datasette, scope):
    # the workforce form only computes (no state changes): it may be posted from anywhere, like the API
    return scope.get("path") == "/workforce"


@hookimpl
def prepare_jinja2_environment(env, datasette):
    env.filters.update(FILTERS)


@hookimpl
def startup(datasette):
    async def inner():
        names = await taskshift_databases(datasette)
        lookup = {}
        for name in sorted(names):
            def load(conn):
                roles = dict(conn.execute("select code, title from roles").fetchall())
                measures = {r[0] for r in conn.execute("select measure_id from measures")}
                return roles, measures
            try:
                lookup[name] = await datasette.get_database(name).execute_fn(load)
            except Exception as err:  # an older database: the pages answer with errors, Datasette still works
                print(f"taskshift: pages of {name} not loaded: {err!r}", file=sys.stderr)
        datasette._taskshift_lookup = lookup
    return inner


@hookimpl
def extra_css_urls(template, database, table, columns, view_name, request, datasette):
    return [static("taskshift.css")]


@hookimpl
def extra_template_vars(template, database, table, columns, view_name, request, datasette):
    async def inner():
        db = _db(datasette)
        if db is None:
            return {}
        hit = _cached(datasette, ("attribution",))
        if hit is None:
            try:
                hit = _store(datasette, ("attribution",), await _run(datasette, data.attribution))
            except Exception:
                return {}
        return {"taskshift_attribution": hit, "taskshift_db": db}
    return inner


_FLOAT_TITLE = '<span class="ts-num" title="{full}">{short}</span>'


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    """In taskshift tables: role codes link to role pages (with the role's title), measure ids to
    measure pages, sector codes to sector pages, and floats are rounded for reading (the full value
    is the cell's tooltip; JSON and CSV keep it)."""
    lookup = getattr(datasette, "_taskshift_lookup", {}).get(database)
    if lookup is None:
        return None
    roles, measures = lookup
    raw = value["value"] if isinstance(value, dict) else value
    label = value.get("label") if isinstance(value, dict) else None
    if isinstance(raw, str):
        if ROLE_CODE.match(raw) and raw in roles:
            row_link = f'<a href="/{markupsafe.escape(database)}/roles/{tilde_encode(raw)}">{raw}</a>'
            return markupsafe.Markup(f'{row_link} <a class="ts-role-link" href="/role/{raw}" title="role page">'
                                     f'{markupsafe.escape(roles[raw])}&nbsp;↗</a>')
        if column in ("measure_id", "measure_a", "measure_b", "other", "rank_by") and raw in measures:
            return markupsafe.Markup(f'<a href="/measure/{markupsafe.escape(raw)}">{markupsafe.escape(label or raw)}</a>')
        if column in ("naics_code", "sector_code") and table in SECTOR_TABLES:
            return markupsafe.Markup(f'<a href="/sector/{markupsafe.escape(raw)}">{markupsafe.escape(label or raw)}</a>')
        page = TITLE_LINKS.get((table, column))
        if page is not None:
            try:
                key = row[page[0]]
            except (KeyError, IndexError, TypeError):
                return None
            if page[1] != "role" or key in roles:
                return markupsafe.Markup(f'<a class="ts-role-link" href="/{page[1]}/{markupsafe.escape(key)}" title="{page[1]} page">'
                                         f'{markupsafe.escape(raw)}&nbsp;↗</a>')
        return None
    if isinstance(raw, float) and not isinstance(value, dict):
        if math.isnan(raw) or raw == int(raw) and abs(raw) < 1e15:
            return None
        return markupsafe.Markup(_FLOAT_TITLE.format(full=repr(raw), short=score(raw).replace("−", "-")))
    return None


SECTOR_TABLES = {"sectors", "sector_exposure", "sector_roles", "sector_profile_sectors"}
#: (table, label column) -> (key column, page): the label links to the page of the row (the key is the row link)
TITLE_LINKS = {("roles", "title"): ("code", "role"), ("sectors", "title"): ("naics_code", "sector"),
               ("measures", "title"): ("measure_id", "measure")}
