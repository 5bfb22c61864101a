"""`taskshift state CODE` and `taskshift states`: US states on the command line (taskshift.service.states).

    taskshift state DC [--year 2025] [--measures a,b] [--top 10] [--json]   # like GET /-/score/state/{code}
    taskshift states [--measure ID] [--year 2025] [--json]                 # like GET /-/rank/states
"""
from __future__ import annotations


def add_state_commands(sub) -> None:
    p = sub.add_parser("state", help="a US state's exposure on every measure, its consensus, top occupations and coverage")
    p.add_argument("code", help="USPS code (DC) or FIPS code (11)")
    p.add_argument("--year", type=int, help="OEWS year, 2024 or 2025 (default: the latest)")
    p.add_argument("--measures", help="comma-separated measure ids (default: all)")
    p.add_argument("--top", type=int, default=10, help="occupations listed (default 10)")
    p.add_argument("--db", help="database file (default: $TASKSHIFT_DB or dist/taskshift.db)")
    p.add_argument("--json", action="store_true", help="print the JSON response instead of tables")
    p.set_defaults(func=cmd_state)

    p = sub.add_parser("states", help="rank the 50 states and DC by the consensus or by a measure")
    p.add_argument("--measure", help="measure id (default: the consensus centre)")
    p.add_argument("--year", type=int, help="OEWS year, 2024 or 2025 (default: the latest)")
    p.add_argument("--db", help="database file (default: $TASKSHIFT_DB or dist/taskshift.db)")
    p.add_argument("--json", action="store_true", help="print the JSON response instead of a table")
    p.set_defaults(func=cmd_states)


def cmd_state(args) -> int:
    from taskshift import db, service
    from taskshift.cli_api import _fail

    measures = [x for x in args.measures.split(",") if x.strip()] if args.measures else None
    try:
        result = service.score_state(db.connect(args.db), args.code, measures, args.year, args.top)
    except (service.ServiceError, FileNotFoundError) as err:
        return _fail("state", err)
    print(result.model_dump_json(indent=2) if args.json else render_state(result))
    return 0


def cmd_states(args) -> int:
    from taskshift import db, service
    from taskshift.cli_api import _fail

    try:
        result = service.rank_states(db.connect(args.db), args.measure, args.year)
    except (service.ServiceError, FileNotFoundError) as err:
        return _fail("states", err)
    print(result.model_dump_json(indent=2) if args.json else render_ranking(result))
    return 0


def _pct(x) -> str:
    return "-" if x is None else f"{x:+.1f}%"


def render_state(r) -> str:
    from taskshift.cli_api import _consensus_lines, _fmt, table

    s, cov, c = r.state, r.coverage, r.consensus
    out = [f"{s.name} ({s.code}, FIPS {s.fips}), OEWS May {s.year}",
           f"employment {_fmt(cov.employment_total, 0)}; published cells cover {_fmt(100 * (cov.coverage or 0), 1)}% "
           f"({cov.codes_with_employment} codes, {cov.codes_suppressed} suppressed, {cov.codes_not_listed} not listed)", ""]
    if c is not None:
        out += _consensus_lines(c)
        out.append(f"rank among the states: {r.consensus_rank} (1 = most exposed); workers in exposed roles: "
                   f"{_fmt(100 * (r.exposed_share or 0), 1)}%")
    ch = r.change
    out.append(f"May 2024 -> May 2025: employment in exposed roles {_pct(ch.exposed_change_pct)}, in other roles "
               f"{_pct(ch.unexposed_change_pct)} ({ch.codes} codes published in both years)")
    p = r.postings
    out.append(f"Indeed job postings ({p.month}): {_pct(p.change_since_feb2020)} since Feb 2020, {_pct(p.change_since_chatgpt)} "
               "since Nov 2022 (Indeed Hiring Lab, CC BY 4.0)")
    out += ["", table(["measure", "score", "mean pct", "rank", "exposed", "coverage"],
                      [[x.measure_id, x.score, x.mean_percentile, x.rank, x.exposed_share, x.coverage] for x in r.measures],
                      {1, 2, 3, 4, 5})]
    if r.top_roles:
        out += ["", "occupations behind the exposure:",
                table(["#", "OEWS", "title", "employment", "LQ", "centre", "exposed emp"],
                      [[x.rank, x.oews_code, x.title[:45], x.employment, x.location_quotient, x.consensus_centre,
                        x.exposed_employment] for x in r.top_roles], {0, 3, 4, 5, 6})]
    return "\n".join(out)


def render_ranking(r) -> str:
    from taskshift.cli_api import table

    rows = [[x.rank, x.code, x.name, x.value, x.low, x.high, x.exposed_share, x.coverage] for x in r.states]
    out = [f"states by {r.measure}, OEWS May {r.year} ({r.direction})",
           table(["#", "state", "name", "value", "low", "high", "exposed", "coverage"], rows, {0, 3, 4, 5, 6, 7})]
    return "\n".join(out)
