"""Progress lines of the build: one line per step with what it made and how long it took, and a
"still running" line every few seconds while a step is long, so a build is never silent.

    [ 3/24] ingest onet            9 files, 123,456 rows -> 6 frames          3.1s
    [22/24] validate               35 tables, 1,234,567 rows                  ... 5s
    [22/24] validate               35 tables, 1,234,567 rows                  5.2s

`log` is the build's log function (the CLI's prints to stderr; tests collect the lines). A quiet
build passes a log that drops everything; the heartbeat then costs one timer per step.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager

HEARTBEAT_SECONDS = 5.0
#: Held by the heartbeat while it prints and by taskshift.build.parallel while it forks: a worker process
#: never starts with the output stream's lock taken by a thread it does not have.
FORK_LOCK = threading.Lock()
DETAIL = 52  # width of the detail column


def fit(text: str, width: int = DETAIL) -> str:
    """`text` cut at a comma (or a word) to fit `width`, with an ellipsis when cut."""
    if len(text) <= width:
        return text
    cut = text[: width - 4]
    for sep in (", ", " "):
        if sep in cut:
            cut = cut[: cut.rindex(sep)]
            break
    return cut + " ..."


def count(n: int) -> str:
    return f"{n:,}"


class Progress:
    def __init__(self, log, total: int, heartbeat: float = HEARTBEAT_SECONDS):
        self.log, self.total, self.heartbeat = log, total, heartbeat
        self.done = 0
        self.started = time.perf_counter()

    def _prefix(self, label: str) -> str:
        width = len(str(self.total))
        return f"[{self.done:>{width}}/{self.total}] {label:<24}"

    @contextmanager
    def step(self, label: str, detail: str = ""):
        """Time one step; the block may set `info["detail"]` (counts) before it ends."""
        self.done += 1
        info = {"detail": detail}
        prefix = self._prefix(label)
        started = time.perf_counter()
        stop = threading.Event()

        def beat():
            while not stop.wait(self.heartbeat):
                with FORK_LOCK:  # never mid-print when the build forks a worker process
                    self.log(f"{prefix} {fit(info['detail']):<{DETAIL}} ... {time.perf_counter() - started:.0f}s")

        timer = threading.Thread(target=beat, daemon=True, name="taskshift-progress")
        timer.start()
        try:
            yield info
        finally:
            stop.set()
            timer.join()
        self.log(f"{prefix} {fit(info['detail']):<{DETAIL}} {time.perf_counter() - started:5.1f}s")

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def frames_detail(frames: dict) -> str:
    """'3 frames, 12,345 rows' for a dict of DataFrames (metadata rows not counted)."""
    tables = {k: v for k, v in frames.items() if k != "metadata"}
    rows = sum(len(v) for v in tables.values())
    return f"{len(tables)} frame{'s' if len(tables) != 1 else ''}, {count(rows)} rows"
