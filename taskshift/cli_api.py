"""`taskshift score` and `taskshift match`: the scoring API on the command line (same service functions).

    taskshift score 15-1252.00 [--measures a,b] [--json]
    taskshift score --custom bundle.json [--json]      # the body of POST /-/score (file or - for stdin)
    taskshift score --workforce team.json [--json]     # the body of POST /-/score/workforce (role_code or isco_code entries)
    taskshift score --isco 2512 [--json]               # an ISCO-08 group (1 to 4 digits), like GET /-/score/isco/{code}
    taskshift match "prompt engineer" [--limit 10] [--json]
    taskshift profile posting.txt [--roles 5] [--measures a,b] [--json]   # POST /-/profile (file or - for stdin)
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def add_api_commands(sub) -> None:
    p = sub.add_parser("score", help="score a role, a custom role (--custom) or a workforce (--workforce)")
    p.add_argument("role", nargs="?", help="O*NET-SOC code, e.g. 15-1252.00")
    p.add_argument("--custom", metavar="FILE", help="JSON body of POST /-/score (tasks with shares); - reads stdin")
    p.add_argument("--workforce", metavar="FILE", help="JSON body of POST /-/score/workforce; - reads stdin")
    p.add_argument("--isco", metavar="CODE", help="an ISCO-08 group, 1 to 4 digits (e.g. 2512), instead of a role")
    p.add_argument("--measures", help="comma-separated measure ids (default: all)")
    p.add_argument("--db", help="database file (default: $TASKSHIFT_DB or dist/taskshift.db)")
    p.add_argument("--json", action="store_true", help="print the JSON response instead of tables")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("match", help="rank roles for a job title")
    p.add_argument("title")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--db", help="database file (default: $TASKSHIFT_DB or dist/taskshift.db)")
    p.add_argument("--json", action="store_true", help="print the JSON response instead of a table")
    p.set_defaults(func=cmd_match)

    p = sub.add_parser("profile", help="profile a job from its posting: duty statements -> O*NET tasks, nearest roles, exposure")
    p.add_argument("file", help="text file of the posting or duties (UTF-8); - reads stdin")
    p.add_argument("--roles", type=int, default=5, help="nearest roles listed (default 5)")
    p.add_argument("--measures", help="comma-separated measure ids (default: all)")
    p.add_argument("--db", help="database file (default: $TASKSHIFT_DB or dist/taskshift.db)")
    p.add_argument("--json", action="store_true", help="print the JSON response instead of tables")
    p.set_defaults(func=cmd_profile)


def _read(file: str) -> bytes:
    return sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()


def _fail(command: str, err: Exception) -> int:
    from taskshift.service import ServiceError

    if isinstance(err, ServiceError):
        from taskshift.service.suggest import render

        for e in render(err.errors, "cli"):  # worded for the command line (taskshift match "...")
            print(f"taskshift {command}: error: {e['field']}: {e['problem']}", file=sys.stderr)
        return 2 if err.status == 400 else 1
    print(f"taskshift {command}: error: {err}", file=sys.stderr)
    return 1


def cmd_score(args) -> int:
    from taskshift import db, service

    given = [x for x in (args.role, args.custom, args.workforce, args.isco) if x]
    if len(given) != 1:
        print("taskshift score: error: give one of ROLE, --custom FILE, --workforce FILE or --isco CODE", file=sys.stderr)
        return 2
    measures = [x for x in args.measures.split(",") if x.strip()] if args.measures else None
    try:
        conn = db.connect(args.db)
        if args.role:
            result = service.score_role(conn, args.role, measures)
        elif args.isco:
            result = service.score_isco(conn, args.isco, measures)
        else:
            raw = json.loads(_read(args.custom or args.workforce))
            if measures is not None and isinstance(raw, dict):
                raw["measures"] = measures
            result = service.score_custom(conn, raw) if args.custom else service.score_workforce(conn, raw)
    except (service.ServiceError, FileNotFoundError, json.JSONDecodeError, OSError) as err:
        return _fail("score", err)
    if args.json:
        print(result.model_dump_json(indent=2))
    elif args.workforce:
        print(render_workforce(result))
    elif args.isco:
        print(render_isco(result))
    else:
        print(render_score(result))
    return 0


def cmd_match(args) -> int:
    from taskshift import db, service

    try:
        result = service.match_title(db.connect(args.db), args.title, args.limit)
    except (service.ServiceError, FileNotFoundError) as err:
        return _fail("match", err)
    if args.json:
        print(result.model_dump_json(indent=2))
    else:
        print(render_match(result))
    return 0


def cmd_profile(args) -> int:
    from taskshift import db, service
    from taskshift.service.profile import text_of

    measures = [x for x in args.measures.split(",") if x.strip()] if args.measures else None
    try:
        text = text_of(_read(args.file), "text")
        result = service.profile(db.connect(args.db), {"text": text, "measures": measures, "roles": args.roles})
    except (service.ServiceError, FileNotFoundError, OSError) as err:
        return _fail("profile", err)
    if args.json:
        print(result.model_dump_json(indent=2))
    else:
        print(render_profile(result))
    return 0


# --- plain-text tables -----------------------------------------------------------------------------
def _fmt(x, digits: int = 3) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def table(headers: list[str], rows: list[list], right: set[int] = frozenset()) -> str:
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()

    return "\n".join([line(cells[0]), line(["-" * w for w in widths])] + [line(r) for r in cells[1:]])


def _profile_lines(p) -> list[str]:
    return [
        f"profile: exposed share {_fmt(p.exposed_share)}, of which automatable {_fmt(p.automatable_share)} / "
        f"augmented {_fmt(p.augmented_share)}; employment change {_fmt(p.employment_change_pct, 1)}%",
        f"outlook: {p.outlook} ({p.outlook_reason})",
        "evidence: " + "; ".join(
            f"{e.evidence} {_fmt(e.value)} {e.test} {_fmt(e.threshold)}: {'yes' if e.holds else 'no' if e.holds is False else 'n/a'}"
            + ("" if e.decided else " (not read)") for e in p.evidence),
    ]


def _consensus_lines(c) -> list[str]:
    """The consensus block as text: the answer, its interval, the votes."""
    if c is None:
        return []
    if c.centre is None:
        return [f"consensus: {c.label} ({c.n_families} of {c.families_in_database} families)"]
    out = [f"consensus: {c.label} -- percentile {c.centre:.1f} (middle half of the families {c.low:.1f}-{c.high:.1f}), "
           f"agreement {c.agreement:.2f}, {c.n_families} of {c.families_in_database} families",
           f"  more exposed than {c.worker_percentile:.0f}% of US workers" if c.worker_percentile is not None else "  (no employment)",
           f"  furthest above: {c.furthest_above} (+{c.above_by:.1f}); furthest below: {c.furthest_below} (-{c.below_by:.1f})"]
    p, o = c.predicted, c.observed
    if p.centre is not None and o.centre is not None:
        out.append(f"  predicted (what AI could do) {p.centre:.1f} [{p.n_families}] vs observed (what people use AI for) "
                   f"{o.centre:.1f} [{o.n_families}]: theory vs reality {c.theory_gap:+.1f}")
    rows = [[v.family, v.measure_id, v.evidence, v.percentile, "yes" if v.counted else "context"] for v in c.votes]
    out += [""] + ["  " + line for line in table(["family", "measure", "evidence", "vote", "counted"], rows, {3}).splitlines()]
    return out


def render_score(r) -> str:
    if r.kind == "role":
        head = [f"{r.role.code}  {r.role.title}"]
        if r.role.employment is not None:
            shared = f", shared by {r.role.roles_sharing_labor_code} roles" if (r.role.roles_sharing_labor_code or 1) > 1 else ""
            head.append(f"employment {r.role.employment:,} (BLS OEWS May {r.role.labor_year or 2025}, code {r.role.labor_code}{shared}); "
                        f"EP 2024-34: {_fmt(r.role.ep_employment_2024)} -> {_fmt(r.role.employment_2034)} "
                        f"({_fmt(r.role.employment_change_pct, 1)}%)")
    else:
        head = ["custom role" + (f" (base role {r.base_role.code} {r.base_role.title})" if r.base_role else "")]
    rows = [[x.measure_id, x.score, x.percentile, x.employment_percentile, x.coverage, x.derivation] for x in r.measures]
    out = head + [""] + [table(["measure", "score", "percentile", "% workers below", "coverage", "derivation"], rows, {1, 2, 3, 4})]
    out += [""] + _profile_lines(r.profile) + [""]
    if r.consensus is not None:
        out += _consensus_lines(r.consensus) + [""]
    if r.observed_use is not None:
        o = r.observed_use
        out += [f"observed use (Anthropic Economic Index): automation {_fmt(o.automation_share, 3)}, augmentation "
                f"{_fmt(o.augmentation_share, 3)} over {o.tasks_matched} tasks; predicted (GPT-4 automation rubric): "
                f"{_fmt(o.predicted_automation, 3)}", ""]
    if r.task_lists:
        out += ["task lists vs O*NET 30.2: " + "; ".join(
            f"{t.list_id}: {t.removed} removed, weight on retired ids {_fmt(t.weight_share_retired, 3)}, "
            f"on removed tasks {_fmt(t.weight_share_removed, 3)}" for t in r.task_lists), ""]
    trows = []
    for t in r.tasks:
        text = t.statement if len(t.statement) <= 70 else t.statement[:67] + "..."
        if t.match is not None:
            text = f"[{t.match.query[:30]}] -> {text}"
        trows.append([t.task_id, t.role_code, t.share, t.exposure_label, t.automation_label, t.observed_use, text])
    out.append(table(["task", "role", "share", "exp", "auto", "use", "statement"], trows, {2}))
    return "\n".join(out)


def render_workforce(r) -> str:
    rows = [[x.measure_id, x.score, x.percentile, x.employment_percentile, x.coverage, x.exposed_headcount] for x in r.measures]
    isco = [f"ISCO-08 {x.isco_code} ({x.title or 'untitled'}): {x.headcount} people over {x.roles} roles" for x in r.isco]
    out = [f"workforce: {r.headcount} people in {r.roles} roles"] + isco + ["",
           table(["measure", "score", "percentile", "% workers below", "coverage", "exposed headcount"], rows, {1, 2, 3, 4, 5}), ""]
    out += _profile_lines(r.profile)
    if r.consensus is not None:
        out += [""] + _consensus_lines(r.consensus) + [""]
    out += ["headcount by outlook: " + ", ".join(f"{k} {v}" for k, v in r.profile.headcount_by_outlook.items() if v), "",
            f"most exposed (by {r.rank_by}):"]
    out.append(table(["role", "title", "headcount", "score", "percentile", "outlook"],
                     [[x.role_code, x.title[:50], x.headcount, x.score, x.percentile, x.outlook] for x in r.most_exposed],
                     {2, 3, 4}))
    return "\n".join(out)


def render_isco(r) -> str:
    g = r.isco
    emp = "no US employment" if g.us_employment is None else f"US employment {g.us_employment:,.0f} (OEWS May 2025, weights by {g.weighted_by})"
    out = [f"ISCO-08 {g.code}  {g.title or '(no title in the pinned files)'}  [{g.digits}-digit]",
           f"{g.n_roles} US roles; {emp}; SOC 2010: {', '.join(g.soc2010_codes[:12])}{' ...' if len(g.soc2010_codes) > 12 else ''}"]
    if g.note:
        out.append(f"note: {g.note}")
    rows = [[x.measure_id, x.score, r.measures_unweighted.get(x.measure_id), x.percentile, x.employment_percentile, x.coverage,
             x.derivation] for x in r.measures if x.score is not None]
    out += ["", table(["measure", "score", "unweighted", "ISCO pct", "% workers below", "coverage", "derivation"], rows,
                      {1, 2, 3, 4, 5}), ""]
    if r.consensus is not None:
        out += _consensus_lines(r.consensus) + [""]
    b = r.beside
    if b is not None and b.ilo_score is not None:
        us = "-" if b.us_centre is None else f"{b.us_centre:.1f}"
        out.append(f"ILO beside the US measures: {b.ilo_measure} {b.ilo_score:.3f} (rank {_fmt(b.ilo_percentile, 1)} among "
                   f"{g.digits}-digit groups) vs US consensus {us} [{b.us_n} families] (rank {_fmt(b.us_percentile, 1)}): "
                   f"ILO - US {_fmt(b.ilo_minus_us, 1)} points")
        out.append("")
    out.append(table(["role", "title", "weight", "link share", "US workers", "task fit", "SOC 2010"],
                     [[x.role_code, x.title[:45], x.weight, x.link_share, _fmt(x.us_employment, 0), x.task_fit,
                       ",".join(x.soc2010_codes)] for x in r.linked_roles[:25]], {2, 3, 4, 5}))
    if len(r.linked_roles) > 25:
        out.append(f"... {len(r.linked_roles) - 25} more roles (--json lists all)")
    return "\n".join(out)


def render_match(r) -> str:
    rows = [[i + 1, x.role_code, x.role_title[:50], x.matched_title[:40], x.matched_kind, x.relevance]
            for i, x in enumerate(r.matches)]
    if not rows:
        return f"no role matches {r.query!r}"
    return table(["#", "role", "title", "matched title", "kind", "relevance"], rows, {0, 5})


def render_profile(r) -> str:
    out = [f"{len(r.statements)} duty statements ({r.matched} matched, {r.unmatched} without a good match), "
           f"{len(r.dropped)} lines dropped", ""]
    rows = []
    for s in r.statements:
        text = s.text if len(s.text) <= 48 else s.text[:45] + "..."
        hit = s.match
        task = "-" if hit is None else (hit.statement if len(hit.statement) <= 48 else hit.statement[:45] + "...")
        rows.append([s.line, s.share, text, s.confidence, None if hit is None else hit.similarity,
                     "-" if hit is None else hit.role_code, task])
    out.append(table(["line", "share", "statement", "confidence", "similarity", "role", "O*NET task"], rows, {0, 1, 4}))
    out += ["", "nearest roles:"]
    out.append(table(["#", "role", "title", "explains", "score", "confidence"],
                     [[n.rank, n.code, n.title[:50], n.share_explained, n.score, n.confidence] for n in r.nearest_roles],
                     {0, 3, 4}))
    if r.score is not None:
        rows = [[x.measure_id, x.score, x.percentile, x.coverage] for x in r.score.measures]
        out += ["", "exposure of this job (its matched tasks as a custom role):",
                table(["measure", "score", "percentile", "coverage"], rows, {1, 2, 3}), ""]
        out += _profile_lines(r.score.profile)
    if r.dropped:
        out += ["", "dropped: " + "; ".join(f"line {d.line} {d.reason}" for d in r.dropped[:12])
                + (" ..." if len(r.dropped) > 12 else "")]
    return "\n".join(out)
