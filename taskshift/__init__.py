"""taskshift: an open, versioned dataset of how AI reshapes work, task by task.

The library mirrors the scoring API (same service functions, same numbers)::

    import taskshift
    taskshift.score("15-1252.00")                                   # a role, like GET /-/score/{code}
    taskshift.score(tasks=[(21661, 0.6), ("write unit tests", 0.4)])  # a custom role, like POST /-/score
    taskshift.score_workforce({"15-1252.00": 40, "43-4051.00": 120})  # like POST /-/score/workforce
    taskshift.score_workforce(isco={"2512": 40, "4": 120})            # a workforce in ISCO-08 codes (any level)
    taskshift.score_isco("2512")                                     # an ISCO-08 group, like GET /-/score/isco/{code}
    taskshift.score_state("DC")                                      # a US state, like GET /-/score/state/{code}
    taskshift.rank_states("felten2021_aioe")                         # the states ranked, like GET /-/rank/states
    taskshift.match_title("prompt engineer")                         # like GET /-/match
    taskshift.transitions("43-4051.00")                              # like GET /-/transitions/{code}
    taskshift.consensus("15-1252.00")                                # the consensus block of a role (or tasks=, workforce=)
    taskshift.profile(open("posting.txt").read())                    # like POST /-/profile
    taskshift.history("15-1252.00")                                  # like GET /-/history/{code}
    taskshift.ai_postings_share("US")                                # share of postings mentioning AI (DataFrame)
    taskshift.score_all()                                            # every role on every measure (DataFrame)
    taskshift.table("roles")                                         # any table as a DataFrame

The database is `taskshift.db_path()`: the path given, else $TASKSHIFT_DB, else dist/taskshift.db under
the current directory, else the release `taskshift download` installed (the error lists what was tried).
"""
# no `from __future__ import annotations` here: it would put `annotations` in `dir(taskshift)`
# (Python 3.11 evaluates `str | None` at runtime anyway)
__version__ = "0.1.0"

from taskshift.db import connect, db_path  # noqa: E402  (stdlib only: importing taskshift stays cheap)

__all__ = ["__version__", "connect", "db_path", "table", "score", "score_workforce", "match_title", "score_all", "transitions",
           "consensus", "profile", "score_isco", "history", "ai_postings_share",
           "score_state", "rank_states"]


def _conn(conn=None, path=None):
    if conn is not None:
        return conn
    from taskshift.db import default_connection
    return default_connection(path)


def table(name: str, *, conn=None, path=None):
    """A table (or view) of the database as a pandas DataFrame."""
    import pandas as pd

    c = _conn(conn, path)
    cur = c.cursor()
    cur.row_factory = None
    known = {r[0] for r in cur.execute("select name from sqlite_master where type in ('table', 'view')")}
    if name not in known:
        raise ValueError(f"no table {name!r} in the database; tables: {', '.join(sorted(n for n in known if '_fts' not in n))}")
    return pd.read_sql_query(f'select * from "{name}"', c)


def _task_item(item) -> dict:
    if isinstance(item, dict):
        return item
    key, share = item
    return {"task_id": key, "share": share} if isinstance(key, int) else {"text": key, "share": share}


def score(role: str | None = None, *, tasks=None, base_role: str | None = None, measures: list[str] | None = None,
          conn=None, path=None):
    """Score a role (an O*NET-SOC code) or a custom role (`tasks`), as `GET /-/score/{code}` / `POST /-/score`.

    `tasks`: a list of `{"task_id": int, "share": float}` / `{"text": str, "share": float}` dicts or
    `(task_id_or_text, share)` pairs. Returns a `taskshift.service.models.ScoreResponse`; bad input raises
    `taskshift.service.InvalidInput` (a ValueError) or `NotFound` (a LookupError) naming the field.
    """
    from taskshift import service

    if isinstance(role, (list, tuple)) and tasks is None:
        role, tasks = None, role
    c = _conn(conn, path)
    if tasks is not None:
        if role is not None:
            raise service.InvalidInput("role", "give a role code or tasks, not both")
        body = {"tasks": [_task_item(t) for t in tasks], "base_role": base_role, "measures": measures}
        return service.score_custom(c, body)
    if role is None:
        raise service.InvalidInput("role", "give a role code or tasks")
    return service.score_role(c, role, measures)


def score_workforce(roles=None, *, isco=None, measures: list[str] | None = None, rank_by: str | None = None, top: int = 10,
                    conn=None, path=None):
    """Score a workforce, as `POST /-/score/workforce`: `roles` is `{code: headcount}`, or a list of
    `{"role_code", "headcount"}` (or `{"isco_code", "headcount"}`) dicts or `(code, headcount)` pairs;
    `isco` is the same with ISCO-08 codes of any level (`{"2512": 40, "4": 120}`), spread over their US
    roles with the weights of the isco_roles table (docs/isco.md). Both may be given."""
    from taskshift import service

    def entries(items, key):
        if items is None:
            return []
        if isinstance(items, dict):
            items = list(items.items())
        return [r if isinstance(r, dict) else {key: r[0], "headcount": r[1]} for r in items]

    body = {"roles": entries(roles, "role_code") + entries(isco, "isco_code"), "measures": measures, "rank_by": rank_by,
            "top": top}
    return service.score_workforce(_conn(conn, path), body)


def score_isco(isco_code: str, *, measures: list[str] | None = None, conn=None, path=None):
    """Every measure and the consensus of an ISCO-08 group (1 to 4 digits), as `GET /-/score/isco/{code}`:
    a `taskshift.service.models.IscoScoreResponse` (measures, consensus, the ILO score beside the US
    consensus, linked roles). The weights are US ones (docs/isco.md)."""
    from taskshift import service

    return service.score_isco(_conn(conn, path), isco_code, measures)


def score_state(code: str, *, measures: list[str] | None = None, year: int | None = None, top: int = 10, conn=None,
                path=None):
    """A US state (USPS `DC` or FIPS `11`), as `GET /-/score/state/{code}`: a
    `taskshift.service.models.StateScoreResponse` (every measure, the consensus with its interval, the
    occupations behind the state's exposure, coverage of the published OEWS cells, Indeed postings)."""
    from taskshift import service

    return service.score_state(_conn(conn, path), code, measures, year, top)


def rank_states(measure: str | None = None, *, year: int | None = None, conn=None, path=None):
    """The 50 states and DC ranked by the consensus centre (default) or a measure, as `GET /-/rank/states`."""
    from taskshift import service

    return service.rank_states(_conn(conn, path), measure, year)


def match_title(title: str, *, limit: int = 10, conn=None, path=None):
    """Roles ranked for a job title, as `GET /-/match?title=...`."""
    from taskshift import service

    return service.match_title(_conn(conn, path), title, limit)


def score_all(measures: list[str] | None = None, *, conn=None, path=None):
    """Every role on every measure in one long DataFrame (vectorised; the numbers of `score`)."""
    from taskshift import service

    return service.score_all(_conn(conn, path), measures)


def transitions(role_code: str, *, measure: str | None = None, max_job_zone_step: int = 1, limit: int = 10,
                conn=None, path=None):
    """Related, less exposed roles to move to, with the reskilling gap, as `GET /-/transitions/{code}`."""
    from taskshift import service

    return service.transitions(_conn(conn, path), role_code, measure, max_job_zone_step, limit)


def consensus(role: str | None = None, *, tasks=None, workforce=None, base_role: str | None = None, conn=None, path=None):
    """The consensus across families of measures (docs/consensus.md) of a role, a custom role (`tasks`, as
    in `score`) or a workforce (`workforce`, as the `roles` of `score_workforce`): the `consensus` block of
    the matching API response, a `taskshift.service.models.Consensus`."""
    from taskshift import service

    given = [x is not None for x in (role, tasks, workforce)]
    if sum(given) != 1:
        raise service.InvalidInput("role", "give one of a role code, tasks or workforce")
    c = _conn(conn, path)
    if role is not None:
        return service.consensus_role(c, role)
    if tasks is not None:
        out = score(tasks=tasks, base_role=base_role, conn=c).consensus
    else:
        out = score_workforce(workforce, conn=c).consensus
    if out is None:
        raise service.NotFound("role", "this database has no consensus (built before taskshift had one)", "no_consensus")
    return out


def profile(text: str | bytes, *, measures: list[str] | None = None, roles: int = 5, conn=None, path=None):
    """A job posting or a list of duties, profiled as `POST /-/profile`: duty statements matched to O*NET
    tasks by meaning, the nearest roles, and the exposure of the job as a custom role. `text` may be bytes
    (UTF-8). Returns a `taskshift.service.models.ProfileResponse`."""
    from taskshift import service
    from taskshift.service.profile import text_of

    body = {"text": text_of(text), "measures": measures, "roles": roles}
    return service.profile(_conn(conn, path), body)


def history(role_code: str, *, conn=None, path=None):
    """What is actually happening to a role over time (job postings of its Indeed categories, ...),
    as `GET /-/history/{code}`: a `taskshift.service.models.History`."""
    from taskshift import service

    return service.history(_conn(conn, path), role_code)


def ai_postings_share(country: str | None = None, *, series: str = "ai", latest: bool = False, conn=None, path=None):
    """Share of job postings mentioning AI (series "ai") or generative AI ("genai", discontinued
    2025-06) by country and month (Indeed Hiring Lab AI Tracker, CC BY 4.0), as a DataFrame: the
    `ai_postings_share` table, or with `latest=True` the `ai_postings_share_latest` table (the last
    published daily value). `country`: ISO code (US, GB, ...) or None for all nine."""
    from taskshift import service

    if series not in ("ai", "genai"):
        raise service.InvalidInput("series", f"must be 'ai' or 'genai', not {series!r}")
    frame = table("ai_postings_share_latest" if latest else "ai_postings_share", conn=conn, path=path)
    frame = frame[frame["series"] == series]
    if country is not None:
        known = sorted(frame["country"].unique())
        if country.upper() not in known:
            raise service.InvalidInput("country", f"unknown country {country!r}; countries: {', '.join(known)}")
        frame = frame[frame["country"] == country.upper()]
    return frame.reset_index(drop=True)
