"""Use both cores: the build's independent work in forked worker processes (#12, build speed).

- `ingest_all`: the ingest modules shared by the build itself and a pool of `workers()` - 1 processes.
  Each reads, verifies and validates one module's raw files and turns them into frames
  (`ingest_module`), as the serial build did; the results are merged in the fixed `INGEST_MODULES`
  order, so the frames, the progress lines, every contract failure (file, row, column, rule) and the
  error a build stops with are those of a serial run. The build ingests the modules with the largest
  frames itself (`INGEST_HERE`: a worker's frames come back as a pickle, ~0.3 s each way for 20 MB);
  the pool is handed the longest of the others first, and the build takes back the shortest ones the
  pool has not started yet when it is done with its own.
- `Background`: derive steps run one after the other in a forked child on a copy of the build
  context, while the parent goes on with the steps after them; joined (their new tables and metadata
  notes taken over) before the first step that reads them, or before the output tables are validated.
  A step may run there only when what it reads is final when it starts: `Background.join` checks that
  no frame it read was replaced since, and that the parent did not replace a frame the step wrote.
- `call_in_child`: one function in a forked child, its result sent back (a pickle over a pipe).

Everything here uses the fork start method (the children see the parent's memory as it was, nothing is
re-imported or re-read) and falls back to running in-process where fork is not available or
TASKSHIFT_BUILD_WORKERS=1: the output is the same either way (tests/test_build_parallel.py).
"""
from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import pickle
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import pandas as pd

from taskshift.build.progress import FORK_LOCK
from taskshift.contracts import ContractError

ENV_WORKERS = "TASKSHIFT_BUILD_WORKERS"

#: Rough seconds of each ingest module (read + validate + load) on the reference machine: the pool is
#: handed the longest first so the two workers finish close together. Unknown modules count as 0.
INGEST_COST = {
    "oews_state": 2.6, "sectors": 1.6, "microsoft": 1.4, "onet": 1.3, "indeed": 1.1, "eloundou": 1.0,
    "oews_history": 0.9, "oews": 0.6, "aijobs": 0.55, "daioe": 0.4, "ilo": 0.35, "crosswalks": 0.25,
    "anthropic": 0.2, "onet_history": 0.2, "soc": 0.15, "felten": 0.15,
}


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


_FIXED: list[int] = []  # the number decided for the build that is running (fixed_workers)


def workers() -> int:
    """Processes the build may use: TASKSHIFT_BUILD_WORKERS; else the number decided when the build
    started (`fixed_workers`); else 2 when the machine has two cores that nothing else keeps busy
    (`idle_cores`), 1 otherwise; always 1 without fork."""
    if not can_fork():
        return 1
    env = os.environ.get(ENV_WORKERS, "").strip()
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise ValueError(f"{ENV_WORKERS}={env!r}: give a whole number of processes, e.g. 2") from None
    if _FIXED:
        return _FIXED[-1]
    cores = min(2, os.cpu_count() or 1)
    return 2 if cores > 1 and idle_cores() >= 1.5 else 1


@contextlib.contextmanager
def fixed_workers():
    """Decide `workers()` once for a whole build (the build's own workers would sway a later look)."""
    _FIXED.append(workers())
    try:
        yield _FIXED[-1]
    finally:
        _FIXED.pop()


def idle_cores(seconds: float = 0.1) -> float:
    """Cores idle over a short look at /proc/stat while this process sleeps: on a machine that others
    keep busy a second process only shares their cores, and costs more (forks, pickles) than it saves.
    Where /proc/stat cannot be read, every core counts as idle."""
    def sample():
        with open("/proc/stat") as fh:
            fields = [int(v) for v in fh.readline().split()[1:]]
        return sum(fields), fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return float(os.cpu_count() or 1)
    if total1 <= total0:
        return float(os.cpu_count() or 1)
    return (idle1 - idle0) / (total1 - total0) * (os.cpu_count() or 1)


def warm_up(modules: list[str]) -> None:
    """Import the build's step modules once in the parent before the first fork, so that no worker
    imports them again."""
    for module in modules:
        importlib.import_module(module)


def load_shared(modules: list[str]) -> None:
    """Run the `shared()` of each step module that has one: what the step loads in any process that runs
    it (the embedding model), loaded once here so that the workers forked later share it instead of
    each loading its own. The build calls it while its first worker ingests (`ingest_all`'s `meanwhile`).
    A failure is left for the step itself to raise when its turn comes, as in a build in one process."""
    for module in modules:
        shared = getattr(importlib.import_module(module), "shared", None)
        if shared is not None:
            try:
                shared()
            except Exception:  # noqa: BLE001 - the step raises it again, in its place
                pass


# --- ingest ------------------------------------------------------------------------------------------
@dataclass
class ModuleResult:
    """What ingesting one module gave: its read problems, or its frames, or the error its load raised."""
    name: str
    problems: list[str] = field(default_factory=list)
    rows: int = 0
    frames: dict[str, pd.DataFrame] | None = None
    load_error: BaseException | None = None
    timings: dict[str, float] = field(default_factory=dict)
    used: list[str] = field(default_factory=list)


def ingest_module(name: str, sources_dir, manifest) -> ModuleResult:
    """Read and validate every raw file of one ingest module (every broken file is reported, not only
    the first), then, if they all pass, turn them into frames. A SourceError while reading propagates
    (the build stops with it, as a serial build would); an error of `load` is kept in the result, so
    the merge raises it only where a serial build would have reached it."""
    from taskshift.build.sources import RawReader

    module = importlib.import_module(f"taskshift.build.ingest.{name}")
    raw = RawReader(sources_dir, manifest)
    result = ModuleResult(name)
    broken = False
    started = time.perf_counter()
    for sid in module.SOURCES:
        try:
            raw.read(sid)
        except ContractError as err:
            result.problems += [line for line in str(err).splitlines() if line not in result.problems]
            broken = True
    result.timings[f"read+validate.{name}"] = time.perf_counter() - started
    result.rows = sum(len(raw._cache[sid]) for sid in module.SOURCES if sid in raw._cache)
    if not broken:
        started = time.perf_counter()
        try:
            result.frames = module.load(raw)
        except Exception as err:  # noqa: BLE001 - handed to the merge, which raises it in order
            result.load_error = _portable(err)
        result.timings[f"ingest.{name}"] = time.perf_counter() - started
    result.used = list(raw.used)
    return result


#: The ingest modules the build runs itself when it uses more than one process: those whose frames are
#: largest (each 5-20 MB as a pickle), about half of all the ingest work (INGEST_COST), so the build and
#: its worker finish close together.
INGEST_HERE = ("onet", "anthropic", "daioe", "eloundou", "oews_state")


def ingest_all(names: list[str], sources_dir, manifest, meanwhile=None):
    """Yield a `ModuleResult` per module name, in the order given, computed by this process and
    `workers()` - 1 others (INGEST_HERE here, the rest in the pool, less those still waiting there when
    this process is done with its own: it runs them too, shortest first). An exception raised while a module
    was read (here or in a worker) is raised when its module's turn comes. `meanwhile()`, if given, runs
    here once the pool has started (with one process: not at all)."""
    n = min(workers(), len(names))
    here = [name for name in names if name in INGEST_HERE] if n > 1 else []
    there = [name for name in names if name not in here]
    if n <= 1 or not here or not there:
        for name in names:
            yield ingest_module(name, sources_dir, manifest)
        return
    executor = ProcessPoolExecutor(max_workers=n - 1, mp_context=multiprocessing.get_context("fork"))
    try:
        by_cost = sorted(there, key=lambda m: (-INGEST_COST.get(m, 0.0), names.index(m)))
        with FORK_LOCK:  # the workers are forked on the first submit
            futures = {name: executor.submit(ingest_module, name, sources_dir, manifest) for name in by_cost}
        done: dict[str, ModuleResult | Exception] = {}

        def run_here(name: str) -> None:
            try:
                done[name] = ingest_module(name, sources_dir, manifest)
            except Exception as err:  # noqa: BLE001 - raised when its turn comes, as a serial build would
                done[name] = err

        if meanwhile is not None:
            meanwhile()
        for name in here:  # all of them first: meanwhile the pool works through the others
            run_here(name)
        for name in reversed(by_cost):  # then the shortest the pool has not started (it takes the longest first)
            if futures[name].cancel():
                run_here(name)
        for name in names:
            if name not in done:
                yield futures[name].result()
            elif isinstance(done[name], Exception):
                raise done[name]
            else:
                yield done.pop(name)
    finally:
        # a failed or abandoned build does not wait for the modules nobody will look at
        executor.shutdown(wait=True, cancel_futures=True)


# --- one function in a forked child ------------------------------------------------------------------
class RemoteTraceback(Exception):
    """The traceback of an exception raised in a child process (set as the exception's __cause__)."""

    def __str__(self) -> str:
        return self.args[0]


def _portable(err: BaseException) -> BaseException:
    """`err`, picklable, carrying its traceback as text (`with_traceback_text` makes it the __cause__ in
    the parent); an unpicklable exception becomes a RuntimeError naming its type and message."""
    tb = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    try:
        copy = pickle.loads(pickle.dumps(err))
    except Exception:  # noqa: BLE001
        copy = RuntimeError(f"{type(err).__name__}: {err}")
    copy._remote_traceback = tb  # in __dict__: travels with the pickle
    return copy


def with_traceback_text(err: BaseException) -> BaseException:
    """An exception from a child, its child-side traceback shown as the cause."""
    tb = getattr(err, "_remote_traceback", None)
    if tb and err.__cause__ is None:
        err.__cause__ = RemoteTraceback(f"\n\"\"\"\n{tb}\"\"\"")
    return err


class Child:
    """`fn(*args)` running in a forked child; `result()` returns its value or raises its exception."""

    def __init__(self, fn, *args):
        self._value = None
        self._error: BaseException | None = None
        self._done = False
        if workers() <= 1:
            try:
                self._value = fn(*args)
            except Exception as err:  # noqa: BLE001 - raised by result(), as from a child
                self._error = err
            self._done = True
            self.process = None
            return
        ctx = multiprocessing.get_context("fork")
        self._recv, send = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_child_main, args=(send, fn, args), daemon=True)
        with FORK_LOCK:
            self.process.start()
        send.close()

    def result(self):
        if not self._done:
            try:
                try:
                    status, payload = self._recv.recv()  # before join: a large result fills the pipe
                except EOFError:
                    self.process.join()
                    status, payload = "error", RuntimeError(
                        f"a build worker process died (exit code {self.process.exitcode}) without a result")
                self.process.join()
            finally:
                self._recv.close()
            self._done = True
            if status == "ok":
                self._value = payload
            else:
                self._error = payload
        if self._error is not None:
            raise with_traceback_text(self._error)
        return self._value

    def ready(self) -> bool:
        """True when result() will not wait."""
        return self._done or self._recv.poll()

    def cancel(self) -> None:
        """Stop the child if it still runs (the build failed elsewhere)."""
        if self.process is not None and not self._done:
            if self.process.is_alive():
                self.process.kill()
            self.process.join()
            self._recv.close()
            self._done = True


def _child_main(send, fn, args) -> None:
    try:
        message = ("ok", fn(*args))
    except BaseException as err:  # noqa: BLE001 - everything goes back to the parent
        message = ("error", _portable(err))
    try:
        send.send(message)
    except Exception as err:  # noqa: BLE001 - an unpicklable result
        send.send(("error", _portable(err)))
    send.close()


def call_in_child(fn, *args) -> Child:
    return Child(fn, *args)


# --- a derive step in the background -----------------------------------------------------------------
class _Recording(dict):
    """The frames dict of a background step: remembers which frames the step read (a step that goes
    over every frame, or copies the dict, counts as reading them all)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.read: set[str] = set()

    def _all(self) -> None:
        self.read.update(dict.keys(self))

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def pop(self, key, *default):
        self.read.add(key)
        return super().pop(key, *default)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)

    def __iter__(self):
        self._all()
        return super().__iter__()

    def keys(self):
        self._all()
        return super().keys()

    def items(self):
        self._all()
        return super().items()

    def values(self):
        self._all()
        return super().values()


def _run_step(ctx, step: str, validate):
    before = dict(ctx.frames)
    notes_before = dict(ctx.metadata)
    frames = ctx.frames = _Recording(ctx.frames)
    started = time.perf_counter()
    importlib.import_module(step).derive(ctx)
    seconds = time.perf_counter() - started
    after = dict(dict.items(frames))
    written = {k: v for k, v in after.items() if before.get(k) is not v}
    removed = sorted(k for k in before if k not in after)
    notes = {k: v for k, v in ctx.metadata.items() if notes_before.get(k) != v}
    # (table or None, problems) per table: validated here when the step is joined at "validate tables"
    checked = {k: validate(k, v) if validate else (v, []) for k, v in written.items()}
    return checked, removed, notes, sorted(frames.read), seconds


def _run_steps(ctx, steps: list[str], validate):
    """`_run_step` of each step in turn, in one process (each sees what the ones before it made, and the
    objects they shared in `ctx.cache`): their frames, removals and notes together, what they read from
    the parent, and each one's seconds."""
    parent = set(ctx.frames)
    checked, removed, notes, read, seconds = {}, set(), {}, set(), {}
    for step in steps:
        made, gone, noted, seen, seconds[step] = _run_step(ctx, step, validate)
        ctx.frames = dict(dict.items(ctx.frames))  # the next step records its own reads
        read.update(k for k in seen if k in parent and k not in checked)
        checked.update(made)
        removed.update(gone)
        notes.update(noted)
    return checked, sorted(removed), notes, sorted(read), seconds


class Background:
    """Derive steps started now, one after the other, in a forked child on a copy of `ctx`. With
    `validate(name, frame)` -> (table or None, problems), the child also validates the tables they made
    (for steps joined at "validate tables"); without, it returns them as made (for steps joined before a
    later step). `join(ctx)` takes their frames, removals and notes over into `ctx` (and records their
    times), after checking that the frames they read are still the parent's and that the parent did not
    change a frame they wrote or removed; it returns (table or None, problems) by frame name."""

    def __init__(self, ctx, steps: str | list[str], validate=None):
        self.steps = [steps] if isinstance(steps, str) else list(steps)
        self.step = ", ".join(self.steps)
        self.snapshot = dict(ctx.frames)
        self.child = Child(_run_steps, ctx, self.steps, validate)

    def join(self, ctx) -> dict[str, tuple]:
        checked, removed, notes, read, seconds = self.child.result()
        changed = sorted(k for k in {*read, *checked, *removed} if ctx.frames.get(k) is not self.snapshot.get(k))
        if changed:
            raise RuntimeError(
                f"derive step {self.step} ran in a worker process, but the steps the build ran meanwhile changed "
                f"{', '.join(changed)}: start it later (taskshift.build.assemble.BACKGROUND)")
        for name, (table, _) in checked.items():
            if table is not None:
                ctx.frames[name] = table
        for name in removed:
            ctx.frames.pop(name, None)
        ctx.metadata.update(notes)
        ctx.timings.update(seconds)
        return checked

    def ready(self) -> bool:
        return self.child.ready()

    def cancel(self) -> None:
        self.child.cancel()
