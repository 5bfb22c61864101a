#!/usr/bin/env python
"""Build benchmark: full build wall time vs. the time only to read (and verify) every raw file.

Both are measured in the same run on the same machine; the ratio says how much of the build is
spent beyond reading its inputs (validation, derivation, SQLite writing, FTS, VACUUM).

    python bench/build.py --sources ../shared/sources [--repeat 3]
"""
from __future__ import annotations

import argparse
import gc
import re
import statistics
import tempfile
import time
from pathlib import Path

from taskshift.build.assemble import build
from taskshift.build.sources import load_manifest, read_file, verify


PROCESSES = re.compile(r"(\d+) process(?:es)?\b")  # the build's first progress line says how many it used


def read_everything(root: Path) -> int:
    """Hash-check and parse every raw file in the manifest (no validation): the floor of any build."""
    rows = 0
    for source in load_manifest():
        rows += len(read_file(verify(source, root), source.read))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", required=True, type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    reads, builds, processes = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            started = time.perf_counter()
            rows = read_everything(args.sources)
            reads.append(time.perf_counter() - started)
            lines: list[str] = []
            started = time.perf_counter()
            timings = build(args.sources, Path(tmp) / "taskshift.db", log=lambda *a: lines.append(" ".join(map(str, a)))).timings
            builds.append(time.perf_counter() - started)
            processes.append(next((m.group(1) for m in map(PROCESSES.search, lines) if m), "?"))
            gc.collect()  # the next read starts from the same memory as the first: no build's frames still held
        size = (Path(tmp) / "taskshift.db").stat().st_size
    read_s, build_s = statistics.median(reads), statistics.median(builds)
    print(f"raw files: {len(load_manifest())} ({rows:,} rows)")
    print(f"read + verify every raw file: median {read_s:.2f}s over {args.repeat} runs")
    print(f"full build:                  median {build_s:.2f}s over {args.repeat} runs  ({size / 1e6:.1f} MB)")
    print(f"  each run: {', '.join(f'{b:.2f}s ({n} proc.)' for b, n in zip(builds, processes))}; "
          f"reads: {', '.join(f'{r:.2f}s' for r in reads)}")
    print(f"ratio build / read:          {build_s / read_s:.2f}x")
    print("slowest steps of the last build:")
    for step, seconds in sorted(timings.items(), key=lambda kv: -kv[1])[:10]:
        print(f"  {step:<32} {seconds:6.2f}s")


if __name__ == "__main__":
    main()
