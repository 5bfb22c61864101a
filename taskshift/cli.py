"""`taskshift` command line: build, fetch, serve (and the library's functions, mirrored)."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

DEFAULT_DB = Path("dist/taskshift.db")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="taskshift", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="build the SQLite database from the raw sources")
    p.add_argument("--sources", help="directory of raw files (default: $TASKSHIFT_SOURCES)")
    p.add_argument("--out", type=Path, default=None, help=f"database to write (default {DEFAULT_DB})")
    p.add_argument("--release", action="store_true", help="leave out sources that may not be redistributed")
    p.add_argument("--if-changed", action="store_true",
                   help="build only if an input changed since the last build of --out (raw files, code, contracts, "
                        "dataset, options, environment; recorded in OUT.inputs.json); `make serve` uses this")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors (no progress lines)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("fetch", help="download missing raw files into the sources directory and verify them")
    p.add_argument("--sources", help="directory of raw files (default: $TASKSHIFT_SOURCES)")
    p.add_argument("ids", nargs="*", help="only these source ids")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("serve", help="serve the database with Datasette (immutable, with an inspect file, connection limits: docs/deploy.md)",
                       description="Serve a taskshift database with Datasette and the taskshift plugin (the site, the "
                                   "canned queries and the scoring API), immutable, with an inspect file and bounded "
                                   "queries, under uvicorn with connection limits (docs/deploy.md). Stop it with Ctrl-C.")
    p.add_argument("db", nargs="?", type=Path, default=None, metavar="DB",
                   help="database file (default: $TASKSHIFT_DB, else dist/taskshift.db under the current directory, "
                        "else the release `taskshift download` installed)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for every interface)")
    p.add_argument("--port", type=int, default=8001, help="port to listen on (default 8001)")
    p.set_defaults(func=cmd_serve)

    add_release_commands(sub)

    from taskshift.cli_api import add_api_commands  # score, match (the scoring API)
    add_api_commands(sub)

    from taskshift.cli_states import add_state_commands  # state, states (US states)
    add_state_commands(sub)

    p = sub.add_parser("transitions", help="rank related, less exposed roles to move to from a role, with the reskilling gap")
    p.add_argument("code", help="O*NET-SOC code, e.g. 43-4051.00")
    p.add_argument("--measure", help="measure id (default: the headline measure, eloundou2023_gpt4_beta)")
    p.add_argument("--max-job-zone-step", type=int, default=1, help="at most this many job zones up (default 1)")
    p.add_argument("--limit", type=int, default=10, help="pivots listed (default 10)")
    p.add_argument("--db", help="database file (default: $TASKSHIFT_DB or dist/taskshift.db)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_transitions)

    p = sub.add_parser("history", help="what is actually happening to a role over time (OEWS employment and wages 2019-2025, job postings of its Indeed categories)")
    p.add_argument("code", help="O*NET-SOC code, e.g. 15-1252.00")
    p.add_argument("--db", help="database file (default: $TASKSHIFT_DB or dist/taskshift.db)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=cmd_history)

    args = parser.parse_args(argv)
    return args.func(args)


def _unchanged(out: Path, existed: bool) -> str:
    return f"{out} was not changed" if existed else f"nothing was written ({out} does not exist)"


def cmd_build(args) -> int:
    from taskshift.build.locate import SourceError, sources_dir
    from taskshift.build.output import Interrupted, OutputError
    from taskshift.build.stamp import needs_build, write_stamp

    log = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    given = args.out or (DEFAULT_DB.with_name("taskshift-release.db") if args.release else DEFAULT_DB)
    out = Path(os.path.abspath(given.expanduser()))  # resolved once, here; messages name it as given
    existed = out.exists()
    started = time.perf_counter()
    try:
        sources = sources_dir(args.sources)
    except SourceError as err:
        print(f"taskshift build: error: {err}", file=sys.stderr)
        print(f"taskshift build: {_unchanged(given, existed)}", file=sys.stderr)
        return 1
    if args.if_changed:
        reason = needs_build(out, sources, args.release)
        if reason is None:
            log(f"taskshift build: {given} is up to date (no input changed since it was built); not rebuilt")
            return 0
        log(f"taskshift build: building because {reason.replace(str(out), str(given))}")
    log(f"taskshift build: {'release' if args.release else 'research'} build from {sources} into {given}")
    from taskshift.build.assemble import BuildError, build  # heavy (pandas, pandera): after the up-to-date check

    try:
        ctx = build(sources, out, release=args.release, log=log)
    except (BuildError, SourceError, OutputError) as err:
        print(f"taskshift build: error: {err}", file=sys.stderr)
        print(f"taskshift build: {_unchanged(given, existed)}", file=sys.stderr)
        return 1
    except Interrupted as err:  # SIGTERM / SIGHUP: the temporary file is already removed
        print(f"taskshift build: interrupted; {_unchanged(given, existed)}", file=sys.stderr)
        return int(err.code)
    write_stamp(out, sources, args.release)
    log(f"built {given} in {time.perf_counter() - started:.1f}s ({len(ctx.frames)} tables)")
    return 0


def cmd_fetch(args) -> int:
    from taskshift.build.locate import SourceError, sources_dir

    try:
        root = sources_dir(args.sources, must_exist=False)  # created if missing; one level off is refused
    except SourceError as err:
        print(f"taskshift fetch: error: {err}", file=sys.stderr)
        return 2
    from taskshift.build.sources import fetch

    try:
        fetched = fetch(root, ids=args.ids or None, log=lambda m: print(m, file=sys.stderr))
    except (SourceError, OSError) as err:
        print(f"taskshift fetch: error: {err}", file=sys.stderr)
        return 1
    print(f"{len(fetched)} file(s) fetched; every pinned file in {root} is verified")
    return 0


def cmd_serve(args) -> int:
    from taskshift import db
    from taskshift.site.server import ServeError, serve

    try:  # the same rules as the library and the other commands: path, $TASKSHIFT_DB, dist/, download
        path, how = db.locate(args.db)
    except FileNotFoundError as err:
        print(f"taskshift serve: error: {err}", file=sys.stderr)
        return 1
    print(f"taskshift serve: serving {path} ({how}) on http://{args.host}:{args.port}/ (Ctrl-C stops)", file=sys.stderr)
    try:  # Datasette under uvicorn with connection limits (taskshift.site.server, docs/deploy.md)
        serve(path, host=args.host, port=args.port)
    except ServeError as err:
        print(f"taskshift serve: error: {err}", file=sys.stderr)
        return 1
    except OSError as err:  # the address is taken, or not ours to bind
        print(f"taskshift serve: error: cannot listen on {args.host}:{args.port}: {err.strerror or err}", file=sys.stderr)
        return 1
    return 0


# --- releases: release, verify, diff, download (docs/releases.md) ---------------------------------

def add_release_commands(sub) -> None:
    p = sub.add_parser("release", help="build the release database and write the whole release (db, gz, CSV, "
                                       "Parquet, datapackage.json, notes, SHA256SUMS) into a directory")
    p.add_argument("--sources", help="directory of raw files (default: $TASKSHIFT_SOURCES)")
    p.add_argument("--out", type=Path, default=Path("dist"), help="release directory (default dist)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("verify", help="check a release (directory, SHA256SUMS, .db or .db.gz): checksums, "
                                      "integrity, foreign keys, schema version, table digests; --sha256 authenticates")
    p.add_argument("path", type=Path)
    p.add_argument("--ignore-missing", action="store_true", help="do not fail on files SHA256SUMS lists but are absent")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--sha256", help="authenticate: the sha256 of SHA256SUMS (for a directory) or of the file, "
                                    "as published on the release page (a second channel)")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("diff", help="what changed between two releases, per table (by primary key)")
    p.add_argument("old", type=Path)
    p.add_argument("new", type=Path)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--limit", type=int, default=None,
                   help="keys and changed rows listed per table (default: 5 in text, all in --json; 0: all)")
    p.add_argument("--movers", type=int, default=10, help="role_exposure movers listed (default 10)")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("download", help="download the release database of this taskshift version and verify it")
    p.add_argument("--url", help="release directory URL (default: dataset/project.toml [download], or $TASKSHIFT_RELEASE_URL)")
    p.add_argument("--out", type=Path, default=None,
                   help="database file to write (default: $TASKSHIFT_DB, else the user data directory)")
    p.add_argument("--sha256", help="require this sha256 for the database")
    p.add_argument("--force", action="store_true", help="download even if a verified copy is already there")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_download)


def cmd_release(args) -> int:
    from taskshift.build.assemble import BuildError
    from taskshift.build.output import Interrupted, OutputError
    from taskshift.release.make import ReleaseError, make_release
    from taskshift.build.sources import SourceError, sources_dir

    log = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    started = time.perf_counter()
    existed = args.out.exists()
    try:
        release = make_release(sources_dir(args.sources), args.out, log=log)
    except (BuildError, SourceError, ReleaseError, OutputError) as err:
        print(f"taskshift release: error: {err}", file=sys.stderr)
        print(f"taskshift release: {_unchanged(args.out, existed)}", file=sys.stderr)
        return 1
    except Interrupted as err:  # SIGTERM / SIGHUP: the staging folder is already removed
        print(f"taskshift release: interrupted; {args.out} was not changed", file=sys.stderr)
        return int(err.code)
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in release.timings.items())
    log(f"release notes from CHANGELOG.md [{release.notes_section or 'none'}]")
    log(f"released taskshift {release.version} into {args.out}: {len(release.files)} files + SHA256SUMS "
        f"in {time.perf_counter() - started:.1f}s ({timings})")
    return 0


def cmd_verify(args) -> int:
    import json

    from taskshift.release.verify import verify_path

    report = verify_path(args.path, ignore_missing=args.ignore_missing, sha256=args.sha256)
    if args.json:
        print(json.dumps({"path": str(report.target), "passed": report.passed, "problems": report.problems,
                          "warnings": report.warnings, "ok": report.ok, "facts": report.facts,
                          "not_checked": report.unchecked, "authenticated": report.authenticated}, indent=2))
    else:
        print(report.text(), file=sys.stdout if report.passed else sys.stderr)
    return 0 if report.passed else 1


def cmd_diff(args) -> int:
    import json
    import sqlite3

    from taskshift.release.diff import DiffError, diff_databases, format_text

    if args.limit is None:  # text: 5 examples per table; JSON: everything
        limit, examples = (None, 0) if args.json else (5, 5)
    else:
        limit = examples = None if args.limit == 0 else args.limit
    try:
        result = diff_databases(args.old, args.new, limit=limit, movers=args.movers)
    except (FileNotFoundError, sqlite3.DatabaseError, DiffError) as err:
        print(f"taskshift diff: error: {err}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(format_text(result, examples=examples if examples is not None else 10**9))
    return 0


def cmd_download(args) -> int:
    from taskshift.release.download import DownloadError, download

    log = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    try:
        path = download(args.url, args.out, sha256=args.sha256, force=args.force, log=log)
    except DownloadError as err:
        print(f"taskshift download: error: {err}", file=sys.stderr)
        return 1
    print(path)
    return 0


def cmd_transitions(args) -> int:
    from taskshift import db, service
    from taskshift.cli_api import _fail

    try:  # the service function the library and GET /-/transitions/{code} call
        result = service.transitions(db.connect(args.db), args.code, args.measure, args.max_job_zone_step, args.limit)
    except (service.ServiceError, FileNotFoundError) as err:
        return _fail("transitions", err)
    if args.json:
        print(result.model_dump_json(indent=2))
        return 0
    pct = "unscored" if result.percentile is None else f"percentile {result.percentile:.0f}"
    change = "n/a" if result.employment_change_pct is None else f"{result.employment_change_pct:+.1f}%"
    left = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result.excluded.items() if v)
    print(f"{result.role_code} {result.role_title}: {pct} on {result.measure_id}, outlook {result.outlook}, "
          f"projected {change}, job zone {result.job_zone}; {result.candidates} of {result.related_roles} related roles "
          f"pass the filters" + (f" (left out: {left})" if left else ""))
    for p in result.pivots:
        step = "?" if p.job_zone_step is None else f"{p.job_zone_step:+d}"
        ch = "n/a" if p.employment_change_pct is None else f"{p.employment_change_pct:+.1f}%"
        print(f"{p.rank:>2}. {p.to_code} {p.to_title}  [priority {p.priority}] pivot score {p.pivot_score:.3f} "
              f"(fit {p.fit:.2f})  exposure {p.score:.3f} percentile {p.percentile:.0f} ({p.percentile_delta:+.0f})  "
              f"outlook {p.outlook}, projected {ch}  job zone {p.job_zone} ({step})  O*NET rank {p.related_rank}, "
              f"shared DWAs {p.shared_dwas}")
        if p.missing_dwas:
            print(f"      to learn ({p.missing_dwas_total} activities): " + "; ".join(a.title for a in p.missing_dwas[:5]))
        if p.missing_technologies:
            print(f"      technologies ({p.missing_technologies_total}): " + ", ".join(
                t.example + (" [in demand]" if t.in_demand else " [hot]" if t.hot_technology else "")
                for t in p.missing_technologies[:5]))
    return 0


def cmd_history(args) -> int:
    from taskshift import db, service
    from taskshift.cli_api import _fail
    from taskshift.cli_history import render_history

    try:  # the service function the library and GET /-/history/{code} call
        result = service.history(db.connect(args.db), args.code)
    except (service.ServiceError, FileNotFoundError) as err:
        return _fail("history", err)
    print(result.model_dump_json(indent=2) if args.json else render_history(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
