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
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("fetch", help="download missing raw files into the sources directory and verify them")
    p.add_argument("--sources", help="directory of raw files (default: $TASKSHIFT_SOURCES)")
    p.add_argument("ids", nargs="*", help="only these source ids")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("serve", help="serve the database with Datasette (immutable, with an inspect file)")
    p.add_argument("db", nargs="?", type=Path, default=DEFAULT_DB)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8001)
    p.set_defaults(func=cmd_serve)

    args = parser.parse_args(argv)
    return args.func(args)


def cmd_build(args) -> int:
    from .assemble import BuildError, build
    from .sources import SourceError, sources_dir

    log = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    out = args.out or (DEFAULT_DB.with_name("taskshift-release.db") if args.release else DEFAULT_DB)
    started = time.perf_counter()
    try:
        ctx = build(sources_dir(args.sources), out, release=args.release, log=log)
    except (BuildError, SourceError) as err:
        print(f"taskshift build: error: {err}", file=sys.stderr)
        print(f"taskshift build: {out} was not changed", file=sys.stderr)
        return 1
    log(f"built {out} in {time.perf_counter() - started:.1f}s ({len(ctx.frames)} tables)")
    return 0


def cmd_fetch(args) -> int:
    from .sources import SourceError, fetch

    given = args.sources or os.environ.get("TASKSHIFT_SOURCES")
    if not given:
        print("taskshift fetch: error: pass --sources DIR or set TASKSHIFT_SOURCES", file=sys.stderr)
        return 2
    root = Path(given)
    try:
        fetched = fetch(root, ids=args.ids or None, log=lambda m: print(m, file=sys.stderr))
    except (SourceError, OSError) as err:
        print(f"taskshift fetch: error: {err}", file=sys.stderr)
        return 1
    print(f"{len(fetched)} file(s) fetched; every pinned file in {root} is verified")
    return 0


def cmd_serve(args) -> int:
    from .serve import datasette_command

    if not args.db.is_file():
        print(f"taskshift serve: error: {args.db} does not exist; run `taskshift build` first", file=sys.stderr)
        return 1
    command = datasette_command(args.db, host=args.host, port=args.port)
    print(" ".join(command), file=sys.stderr)
    os.execvp(command[0], command)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
