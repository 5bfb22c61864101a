"""What to do next: the one place that turns a wrong role code or measure into a suggestion.

The API, the CLI and the library raise the same errors from here and say the same thing; only the
way to look a title up is written for each front end (`render`):

- a near-miss code suggests the right one: 15-1252 -> 15-1252.00, 151252 -> 15-1252.00,
  15-1252.05 -> the roles of SOC 15-1252, an O*NET-SOC 2010 code -> its 2019 code (crosswalks table);
- a job title where a code is expected suggests its best matching roles and how to match a title:
  `taskshift match "..."` (CLI), `GET /-/match?title=...` (API), `taskshift.match_title("...")` (library);
- an unknown measure suggests the closest measure ids and lists every measure with role scores.
"""
from __future__ import annotations

import difflib
import re
import sqlite3
import threading
from dataclasses import dataclass
from urllib.parse import quote_plus

from taskshift.service.errors import InvalidInput, NotFound, ServiceError
from taskshift.service.models import ROLE_CODE_PATTERN

SURFACES = ("library", "cli", "api", "site")
EXAMPLE = "15-1252.00"
MAX_SUGGESTIONS = 5
_CODE = re.compile(ROLE_CODE_PATTERN)
_LETTERS = re.compile(r"[^\W\d_]{2,}")


# --- how to look a title up, per front end ---------------------------------------------------------
def how_to_match(title: str, surface: str = "library") -> str:
    """How to look `title` up on `surface` ("" for a placeholder)."""
    title = " ".join(str(title).split())[:80]
    if not title:
        return {"cli": 'taskshift match "JOB TITLE"', "api": "GET /-/match?title=JOB+TITLE",
                "site": "the title search /search?q=JOB+TITLE"}.get(
            surface, 'taskshift.match_title("JOB TITLE")')
    if surface == "cli":
        return 'taskshift match "' + title.replace('"', "'") + '"'
    if surface == "api":
        return f"GET /-/match?title={quote_plus(title)}"
    if surface == "site":
        return f"the title search /search?q={quote_plus(title)}"
    return f"taskshift.match_title({title!r})"


def _problem(base: str, match: str | None, surface: str) -> str:
    if match is None:
        return base
    how = how_to_match(match, surface)
    return f"{base} Look a role up by its title with {how}" if base.endswith("?") else \
        f"{base}; look a role up by its title with {how}"


def item(field: str, base: str, kind: str, suggestions: list[str] | None = None, match: str | None = None) -> dict:
    """An error item as the service raises it (problem worded for the library; `render` rewords it)."""
    out = {"field": field, "problem": _problem(base, match, "library"), "type": kind, "_base": base, "_match": match}
    if suggestions:
        out["suggestions"] = list(suggestions)
    return out


def render(errors: list[dict], surface: str) -> list[dict]:
    """The error items worded for `surface` (library, cli or api), without the private keys."""
    out = []
    for e in errors:
        e = dict(e)
        if "_base" in e:
            e["problem"] = _problem(e["_base"], e.get("_match"), surface)
        out.append({k: v for k, v in e.items() if not k.startswith("_")})
    return out


# --- role codes ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Directory:
    """Codes and titles of the roles of one database (what suggestions are made from)."""
    titles: dict[str, str]           # code -> title
    by_soc: dict[str, list[str]]     # SOC 2018 code (15-1252) -> role codes, in code order


_DIRECTORIES: dict[tuple, Directory] = {}
_LOCK = threading.Lock()


def directory(conn: sqlite3.Connection) -> Directory:
    from taskshift.service.index import _db_key, _q

    key = _db_key(conn)
    hit = _DIRECTORIES.get(key)
    if hit is None:
        rows = _q(conn, "select code, title from roles order by code").fetchall()
        by_soc: dict[str, list[str]] = {}
        for code, _ in rows:
            by_soc.setdefault(code[:7], []).append(code)
        hit = Directory(titles={c: t for c, t in rows}, by_soc=by_soc)
        with _LOCK:
            _DIRECTORIES[key] = hit
    return hit


def _either(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _named(codes: list[str], d: Directory) -> str:
    shown = [f"{c} ({d.titles[c]})" for c in codes[:MAX_SUGGESTIONS]]
    more = len(codes) - len(shown)
    if more > 0:
        return ", ".join(shown) + f" or one of {more} more"
    return _either(shown)


def _crosswalked(conn: sqlite3.Connection | None, code8: str, soc6: str, d: Directory) -> tuple[str, list[str]] | None:
    """(system, 2019 codes) when the code is an O*NET-SOC 2010 or SOC 2010 code that the crosswalks table maps."""
    if conn is None:
        return None
    from taskshift.service.index import _q

    try:
        if code8:
            rows = _q(conn, "select to_code from crosswalks where from_system = 'onetsoc2010' and from_code = ? "
                            "and to_system = 'onetsoc2019' order by to_code", (code8,)).fetchall()
            codes = [c for (c,) in rows if c in d.titles]
            if codes:
                return "O*NET-SOC 2010", codes
        rows = _q(conn, "select to_code from crosswalks where from_system = 'soc2010' and from_code = ? "
                        "and to_system = 'soc2018' order by to_code", (soc6,)).fetchall()
    except sqlite3.Error:  # an older database without the crosswalks table
        return None
    codes = [c for (s,) in rows for c in d.by_soc.get(s, [])]
    return ("SOC 2010", codes) if codes else None


def _title_matches(conn: sqlite3.Connection | None, text: str) -> list[str]:
    if conn is None:
        return []
    from taskshift.service.titles import match_title

    try:
        return [m.role_code for m in match_title(conn, text, 3).matches]
    except (ServiceError, sqlite3.Error, ValueError):
        return []


def role_code_error(conn: sqlite3.Connection | None, code, field: str, d: Directory | None = None) -> ServiceError:
    """The error for a role code that is not a code of the roles table, with what to do next:
    InvalidInput (400) when it is not written like a code, NotFound (404) when it is but no role has it."""
    if d is None:
        if conn is None:
            raise ValueError("role_code_error needs a connection or a directory")
        d = directory(conn)
    if not isinstance(code, str):
        return InvalidInput(field, f"must be an O*NET-SOC 2019 code like {EXAMPLE} (a string)", "type")
    text = code.strip()
    shown = repr(code if len(code) <= 80 else code[:77] + "...")
    digits = re.sub(r"\D", "", text)
    if _LETTERS.search(text) and len(digits) < 6:  # words, not a code: a job title
        found = _title_matches(conn, text)
        base = f"{shown} looks like a job title, not an O*NET-SOC 2019 code like {EXAMPLE}"
        if found:
            base += f"; did you mean {_named(found, d)}?"
        return InvalidInput(field, "", "not_a_code", errors=[item(field, base, "not_a_code", found, text)])
    code8 = f"{digits[:2]}-{digits[2:6]}.{digits[6:8]}" if len(digits) == 8 else ""
    soc6 = f"{digits[:2]}-{digits[2:6]}" if len(digits) >= 6 else ""
    found, note = [], ""
    if code8 in d.titles:                 # the right digits, written another way: 151252.00, 15 1252 00, ' 15-1252.00'
        found = [code8]
    elif soc6 in d.by_soc:                # the SOC code (15-1252) or an O*NET suffix that does not exist (15-1252.05)
        found = list(d.by_soc[soc6])
    elif soc6 and (mapped := _crosswalked(conn, code8, soc6, d)):   # a 2010 code: its 2019 code(s)
        system, found = mapped
        note = f" (it is an {system} code)" if system.startswith("O") else f" (it is a {system} code)"
    if _CODE.fullmatch(code):
        base = f"unknown role {shown}: no role has this O*NET-SOC 2019 code{note}"
        if found:
            return NotFound(field, "", "not_found", errors=[item(field, f"{base}; did you mean {_named(found, d)}?",
                                                                  "not_found", found)])
        return NotFound(field, "", "not_found", errors=[item(field, base, "not_found", None, "")])
    base = f"{shown} is not an O*NET-SOC 2019 code like {EXAMPLE}{note}"
    if found:
        return InvalidInput(field, "", "pattern", errors=[item(field, f"{base}; did you mean {_named(found, d)}?",
                                                               "pattern", found)])
    return InvalidInput(field, "", "pattern", errors=[item(
        field, f"{base} (two digits, a dash, four digits, a dot, two digits)", "pattern", None, "")])


def check_role_code(conn: sqlite3.Connection, code, field: str = "role_code") -> str:
    """`code` if it is a code of the roles table; else the error with what to do next."""
    d = directory(conn)
    if isinstance(code, str) and code in d.titles:
        return code
    raise role_code_error(conn, code, field, d)


# --- measures --------------------------------------------------------------------------------------
def unknown_measures(field: str, unknown: list[str], scorable, registry_levels: dict[str, str] | None = None) -> InvalidInput:
    """The error for measure ids that have no role scores: the closest ids, and every id there is."""
    scorable = list(scorable)
    registry_levels = registry_levels or {}
    parts, suggestions = [], []
    for name in unknown:
        if name in registry_levels:
            parts.append(f"{name} has no role-level scores (level {registry_levels[name]})")
            continue
        close = difflib.get_close_matches(str(name), scorable, n=3, cutoff=0.5)
        if not close:
            close = [m for m in scorable if str(name).lower() in m.lower()][:3]
        suggestions += close
        parts.append(f"unknown measure {str(name)[:80]!r}" + (f" (did you mean {_either(close)}?)" if close else ""))
    base = "; ".join(parts) + f". Measures with role scores ({len(scorable)}): {', '.join(scorable)}"
    return InvalidInput(field, "", "unknown_measure", errors=[item(field, base, "unknown_measure", suggestions or None)])
