"""Build the database: ingest modules -> derived tables -> contracts -> SQLite, atomically.

The previous database is never touched until the new one is complete and checked: everything is
written to a temporary file beside the target, validated (contracts, foreign keys, integrity),
then renamed into place. The same inputs give a byte-identical file: rows are written in a fixed
order, nothing depends on the clock (the build date comes from SOURCE_DATE_EPOCH or the manifest).
"""
from __future__ import annotations

import hashlib
import importlib
import json
import os
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sqlite_utils

from taskshift import __version__
from taskshift.contracts import Contract, ContractError, table_contracts, table_order
from taskshift.resources import project_metadata
from taskshift.build.digests import DIGEST_DESCRIPTION, DIGEST_KEY, frame_digest
from taskshift.build.output import (OutputError, check_output_file,  # noqa: F401 (OutputError: re-exported)
                                    clean_stale, is_io_error, lock_fd as hold_fd, on_signals, output_error,
                                    temp_db_pattern)
from taskshift.build.progress import Progress, count, frames_detail
from taskshift.build.parallel import (Background, call_in_child, fixed_workers, ingest_all, load_shared, warm_up,
                                      with_traceback_text, workers)
from taskshift.build.sources import (Manifest, RawReader, SourceError,  # noqa: F401 (RawReader: re-exported)
                                     load_manifest, unverified_report, verify)

# One module per source family, in taskshift/build/ingest/. Order does not matter: they only read raw files.
INGEST_MODULES = (
    "onet", "soc", "crosswalks", "oews", "sectors",
    "eloundou", "microsoft", "anthropic", "felten", "frs2018", "sml", "daioe", "ilo", "frey_osborne",
    "aijobs", "onet_history", "oews_history", "indeed",
    "oews_state",
)
# Steps that derive tables from the ingested frames, in order (each in its own module).
DERIVE_STEPS = tuple(f"taskshift.build.derive.{step}" for step in (
    "roles", "task_usage", "task_changes", "harmonise", "collaboration", "measures", "sector_exposure", "consensus", "isco",
    "published", "emerging", "title_aliases", "postings", "labour_history", "outlook", "pathways", "disagreement",
    "task_embeddings", "title_embeddings", "states"))
#: Derive steps that run in a worker process when the build may use two (taskshift.build.parallel), in the
#: order they start: (steps, after, joined before). The steps of one entry run one after the other in one
#: worker (each sees what the ones before it made); an entry starts once the step `after` is done and the
#: entry before it has finished (a third process on two cores slows every process), or at the latest
#: when the main chain ends, and is joined before the step `joined before` (None: at "validate tables",
#: the worker validating the tables it made). Their place in DERIVE_STEPS is kept in the progress lines,
#: and the output is the same as a serial build's: a step here reads nothing the main chain makes
#: meanwhile (the join checks it). The two sides are kept even: harmonise and emerging (which needs only
#: harmonise and roles) beside task_usage and task_changes (which share the task matcher with
#: collaboration); then the embeddings and states beside the steps after collaboration.
BACKGROUND = (
    (("harmonise", "emerging"), "roles", "collaboration"),
    (("task_embeddings", "title_embeddings"), "collaboration", None),
    (("states",), "consensus", None),
)
# outlook reads the consensus, role_collaboration (observed automation), the postings and the OEWS changes
# (labour_history); pathways reads role_outlook.


class BuildError(Exception):
    """The build failed; `problems` lists every failure found (file or table, column, rule, examples)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"build failed with {len(problems)} problem(s):\n" + "\n".join(f"- {p}" for p in problems))

    def __reduce__(self):  # from a build worker process back to the build (taskshift.build.parallel)
        return (type(self), (self.problems,), self.__dict__)


@dataclass
class BuildContext:
    sources_dir: Path
    manifest: Manifest
    release: bool = False
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    metadata: dict[str, tuple[str, str]] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)  # source id -> why it was left out
    sources_read: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    cache: dict = field(default_factory=dict)  # objects derive steps share within one build (the task matcher)

    def note(self, key: str, value, description: str) -> None:
        """Record a fact for the metadata table (JSON-encoded unless it is a string)."""
        self.metadata[key] = (value if isinstance(value, str) else json.dumps(value, sort_keys=True), description)


def build(sources_dir: Path, out: Path, *, release: bool = False, manifest: Manifest | None = None,
          log=print) -> BuildContext:
    """Build the database at `out` from the raw files in `sources_dir`; raise BuildError or SourceError."""
    with fixed_workers():  # one or two processes for the whole build (taskshift.build.parallel)
        return _build(sources_dir, out, release=release, manifest=manifest, log=log)


def _build(sources_dir: Path, out: Path, *, release: bool, manifest: Manifest | None, log) -> BuildContext:
    ctx = BuildContext(Path(sources_dir), manifest or load_manifest(), release=release)
    check_output_file(Path(out))  # a bad --out fails now, not after the build
    clean_stale(Path(out).parent, temp_db_pattern(Path(out)), log)  # left by a killed build
    problems: list[str] = []

    modules = []
    for name in INGEST_MODULES:
        module = importlib.import_module(f"taskshift.build.ingest.{name}")
        if release:
            closed = [s for s in module.SOURCES if not ctx.manifest[s].redistributable]
            if closed:
                for s in closed:
                    ctx.excluded[s] = f"{ctx.manifest[s].license}: no license that allows redistribution"
                log(f"release build: leaving out {name} ({', '.join(closed)})")
                continue
        modules.append((name, module))

    # One progress line per step (taskshift.build.progress): verify, each ingest module, each derive
    # step, validate, write; a "still running" line every few seconds while a step is long.
    progress = Progress(log, 1 + len(modules) + len(DERIVE_STEPS) + 2)

    # Every file is verified before anything is parsed: one run names every missing or damaged file.
    needed = sorted({sid for _, module in modules for sid in module.SOURCES})
    files = sorted({ctx.manifest[s].path for s in needed})
    with progress.step("verify sha256", f"{len(files)} pinned raw files") as info:
        missing = []
        for sid in needed:
            try:
                verify(ctx.manifest[sid], ctx.sources_dir)
            except SourceError as err:
                missing.append((ctx.manifest[sid], err))
        if missing:
            raise SourceError(unverified_report(missing, ctx.sources_dir, len(files)))
        info["detail"] += f" ({sum((ctx.sources_dir / p).stat().st_size for p in files) / 1e6:,.0f} MB)"
        info["detail"] += f", {workers()} process{'es' if workers() > 1 else ''}"

    # The modules run in worker processes (taskshift.build.parallel), merged here in INGEST_MODULES order.
    if workers() > 1:
        warm_up([module.__name__ for _, module in modules] + list(DERIVE_STEPS))
    used: list[str] = []
    results = ingest_all([name for name, _ in modules], ctx.sources_dir, ctx.manifest,
                         meanwhile=lambda: load_shared(list(DERIVE_STEPS)))
    try:
        for name, module in modules:
            with progress.step(f"ingest {name}") as info:
                # Each raw file was validated on its own first, so every broken file is reported, not only the first.
                result = next(results)
                ctx.timings.update(result.timings)
                used += [sid for sid in result.used if sid not in used]
                problems += [line for line in result.problems if line not in problems]
                info["detail"] = f"{len(module.SOURCES)} file{'s' if len(module.SOURCES) != 1 else ''}, {count(result.rows)} rows"
                if result.problems:
                    info["detail"] += ": contract failures (listed at the end)"
                    continue
                if problems:  # the build fails anyway: go on checking raw files, skip turning them into tables
                    info["detail"] += ": not ingested (another file failed its contract)"
                    continue
                if result.load_error is not None:
                    raise with_traceback_text(result.load_error)
                frames = result.frames
                info["detail"] += " -> " + frames_detail(frames)
                for key, frame in frames.items():
                    if key == "metadata":  # facts a module measured (match rates, counts) go to the metadata table
                        for row in frame.itertuples(index=False):
                            ctx.note(row.key, row.value, row.description)
                    elif key in ctx.frames:
                        ctx.frames[key] = pd.concat([ctx.frames[key], frame], ignore_index=True)
                    else:
                        ctx.frames[key] = frame
    finally:
        results.close()  # stops the workers when the build stops early
    if problems:
        raise BuildError(problems)
    ctx.sources_read = sorted(used)

    contracts = table_contracts()
    parallel = workers() > 1
    queue = list(BACKGROUND) if parallel else []  # not started yet, in order
    background: dict[tuple, Background] = {}  # started, not joined yet, by entry
    where = {step: (after, joined) for steps, after, joined in queue for step in steps}
    done: set[str] = set()

    def start(entry) -> None:
        steps, _, joined = entry
        queue.remove(entry)
        check = None if joined else (lambda table, frame: validate_table(table, frame, contracts.get(table)))
        background[entry] = Background(ctx, [f"taskshift.build.derive.{s}" for s in steps], check)

    def start_next() -> None:  # the next entry, once its step is done and the one before it has finished
        if queue and queue[0][1] in done and all(task.ready() for task in background.values()):
            start(queue[0])

    staging = Staging(Path(out)) if parallel else None  # started as soon as its tables are converted
    try:
        for step in DERIVE_STEPS:
            short = step.rsplit('.', 1)[-1]
            for entry in [e for e in queue if e[2] == short]:  # needed now: started now if it has not been
                start(entry)
            for entry in [e for e in background if e[2] == short]:
                background.pop(entry).join(ctx)
            start_next()
            before = {k: len(v) for k, v in ctx.frames.items()}
            with progress.step(f"derive {short}") as info:
                if short in where:
                    after, joined = where[short]
                    info["detail"] = f"in a worker process since {after}; joined before {joined or 'validate'}"
                    continue
                started = time.perf_counter()
                importlib.import_module(step).derive(ctx)
                ctx.timings[step] = time.perf_counter() - started
                made = {k: len(v) for k, v in ctx.frames.items() if before.get(k) != len(v) or k not in before}
                info["detail"] = ", ".join(f"{k} {count(n)}" for k, n in sorted(made.items())) or "no new rows"
            done.add(short)
            start_next()
        for entry in list(queue):  # the main chain is done: the rest start now
            start(entry)

        ctx.frames["sources"] = sources_frame(ctx.manifest, used)
        started = time.perf_counter()
        with progress.step("validate tables", f"{len(contracts)} contracts") as info:
            if parallel:  # converted here; the checks run in a worker while the rows are written
                tables, checks = prepare_tables(ctx, contracts, list(background.values()), staging)
                info["detail"] = (f"{len(tables)} tables, {count(sum(len(t) for t in tables.values()))} rows "
                                  "converted; checks and foreign keys beside the write")
            else:
                tables, checks = validate_tables(ctx, contracts, list(background.values())), None
                info["detail"] = f"{len(tables)} tables, {count(sum(len(t) for t in tables.values()))} rows, foreign keys"
    except BaseException:
        if staging is not None:
            staging.close()
        raise
    finally:
        for task in background.values():
            task.cancel()  # the build stopped early: no worker outlives it
    ctx.timings["validate.tables"] = time.perf_counter() - started
    try:
        describe_build(ctx, used)
        ctx.frames["metadata"] = pd.DataFrame(
            [(k, v, d) for k, (v, d) in sorted(ctx.metadata.items())], columns=["key", "value", "description"])
        tables["metadata"] = contracts["metadata"].validate(ctx.frames["metadata"], where="table metadata")

        started = time.perf_counter()
        with progress.step("write SQLite", "rows, FTS, ANALYZE, VACUUM, checks") as info:
            write_database(tables, contracts, Path(out), checks, staging)
            info["detail"] = f"{len(tables)} tables, {Path(out).stat().st_size / 1e6:,.1f} MB"
        ctx.timings["write"] = time.perf_counter() - started
    except BaseException:
        if checks is not None:
            checks.cancel()
        raise
    finally:
        if staging is not None:
            staging.close()
    return ctx


def validate_table(name: str, frame: pd.DataFrame, contract: Contract | None) -> tuple[pd.DataFrame | None, list[str]]:
    """One output frame checked against its contract (and sorted by its `sort`): (table, []) or
    (None, the failures). A frame without a contract is returned as it is."""
    if contract is None:
        return frame, []
    try:
        table = contract.validate(frame.reset_index(drop=True), where=f"table {name}")
    except ContractError as err:
        return None, str(err).splitlines()
    if contract.sort:
        table = table.sort_values(list(contract.sort), kind="stable", ignore_index=True)
    return table, []


def validate_tables(ctx: BuildContext, contracts: dict[str, Contract], background=()) -> dict[str, pd.DataFrame]:
    """Validate every output frame that has a contract; collect all failures before raising. The derive
    steps still running in `background` (taskshift.build.parallel.Background) are joined on the way:
    they validated the tables they made themselves."""
    checked = _collect(ctx, contracts, background, validate_table)
    problems = _missing_tables(ctx, contracts, checked)
    tables: dict[str, pd.DataFrame] = {}
    for name in sorted(checked):
        table, failures = checked[name]
        problems += failures
        if table is not None:
            tables[name] = table
    problems += foreign_key_problems(tables, contracts)
    if problems:
        raise BuildError(problems)
    return tables


def prepare_tables(ctx: BuildContext, contracts: dict[str, Contract], background=(), staging: Staging | None = None):
    """`validate_tables` in two halves, for a build with two processes: here every output frame is
    converted to its contract's types (`Contract.prepare`) and sorted, which is what the write needs;
    the rest of the checks (`Contract.check`) and the foreign keys run in a forked worker
    (`check_tables`) while the rows are written, and `write_database` raises their failures before the
    database replaces anything. Returns (tables, that worker). When a conversion already failed, the
    checks run here and the build stops with every failure, as `validate_tables` does. `staging`: the
    STAGED_TABLES are converted first and `staging.start`ed at once, so a worker writes them while the
    others are converted (unless one of them failed: the build stops anyway)."""
    tables: dict[str, pd.DataFrame] = {}

    def ready(name: str, table: pd.DataFrame) -> pd.DataFrame:  # converted here: sorted as the write takes it
        if name not in tables:
            contract = contracts[name]
            tables[name] = table.sort_values(list(contract.sort), kind="stable", ignore_index=True) if contract.sort else table
        return tables[name]

    def stage(converted: dict[str, tuple]) -> None:
        # only when every staged table is there already (one a background step makes is not, yet: then the
        # write starts the staging, with the same tables), and converted without a failure
        staged = {name: converted.get(name) for name in STAGED_TABLES if name in contracts}
        if staging is not None and all(c is not None and isinstance(c[1], _Prepared) and not c[1].failures
                                       for c in staged.values()):
            staging.start({name: ready(name, table) for name, (table, _) in staged.items()}, contracts)

    checked = _collect(ctx, contracts, background, prepare_table, first=(STAGED_TABLES, stage))
    problems = _missing_tables(ctx, contracts, checked)
    prepared: dict[str, tuple[pd.DataFrame, list[dict]]] = {}  # made here: converted, unsorted, and failures
    for name in sorted(checked):
        table, failures = checked[name]
        if isinstance(failures, _Prepared):  # converted here; checked below or in the worker
            prepared[name] = (table, failures.failures)
            ready(name, table)
        else:  # validated by its background worker, or it has no contract
            problems += failures
            if table is not None:
                tables[name] = table
    if problems or any(failures for _, failures in prepared.values()):  # the build fails: say everything now
        problems = _missing_tables(ctx, contracts, checked)
        for name in sorted(checked):
            failures = check_tables({name: prepared[name]}, {}, contracts) if name in prepared else checked[name][1]
            problems += failures
            if failures:
                tables.pop(name, None)
        raise BuildError(problems + foreign_key_problems(tables, contracts))
    return tables, call_in_child(check_tables, prepared, tables, contracts)


class _Prepared:
    """What `prepare_table` found wrong so far (its `failures`; the checks are still to run)."""

    def __init__(self, failures: list[dict]):
        self.failures = failures


def prepare_table(name: str, frame: pd.DataFrame, contract: Contract | None):
    """One output frame converted to its contract's types, unsorted, with a `_Prepared` of the failures
    found so far; (None, problems) when a declared column is missing; a frame without a contract as it is."""
    if contract is None:
        return frame, []
    try:
        table, failures = contract.prepare(frame.reset_index(drop=True), where=f"table {name}")
    except ContractError as err:
        return None, str(err).splitlines()
    return table, _Prepared(failures)


def check_tables(prepared: dict[str, tuple[pd.DataFrame, list[dict]]], tables: dict[str, pd.DataFrame],
                 contracts: dict[str, Contract]) -> list[str]:
    """The second half of `prepare_tables`: `Contract.check` of each table converted there (with the
    failures its conversion found), then the foreign keys over all `tables`: the problems, one per line.""" 
    problems: list[str] = []
    failed = set()
    for name in sorted(prepared):
        table, failures = prepared[name]
        try:
            contracts[name].check(table, f"table {name}", failures)
        except ContractError as err:
            problems += str(err).splitlines()
            failed.add(name)
    # as in `validate_tables`, a table that failed its checks is not there for the foreign keys
    return problems + foreign_key_problems({k: v for k, v in tables.items() if k not in failed}, contracts)


def _collect(ctx: BuildContext, contracts: dict[str, Contract], background, convert, first=((), None)) -> dict[str, tuple]:
    """`convert(name, frame, contract)` of every output frame that has a contract, by name; the steps still
    running in `background` are joined on the way (they validated the tables they made). `first`: (names,
    then): those frames are converted before the others, then `then(converted so far)` is called."""
    checked: dict[str, tuple] = {}
    pending = list(background)

    def join(task) -> None:
        pending.remove(task)
        checked.update({k: v for k, v in task.join(ctx).items() if k in contracts})

    names, then = first
    for name in names:
        if name in contracts and name in ctx.frames and name not in checked:
            checked[name] = convert(name, ctx.frames[name], contracts[name])
    if then is not None:
        then(checked)
    for name in sorted(contracts):
        for task in [t for t in pending if t.ready()]:
            join(task)
        if name in ctx.frames and name not in checked:
            checked[name] = convert(name, ctx.frames[name], contracts[name])
    for task in list(pending):
        join(task)
    for name in sorted(set(contracts) & set(ctx.frames) - set(checked)):  # made by a background step only
        checked[name] = convert(name, ctx.frames[name], contracts[name])
    return checked


def _missing_tables(ctx: BuildContext, contracts: dict[str, Contract], checked: dict) -> list[str]:
    missing = [name for name in contracts if name not in ctx.frames and name not in checked and name != "metadata"]
    if missing and not ctx.release:
        return [f"table {name}: no ingest module or step produced it" for name in missing]
    return []


def foreign_key_problems(tables: dict[str, pd.DataFrame], contracts: dict[str, Contract]) -> list[str]:
    """Every foreign-key value that names no parent row, with examples (before anything is written)."""
    problems = []
    for name, table in sorted(tables.items()):
        for fk in contracts[name].foreign_keys:
            if fk.table not in tables:
                problems.append(f"table {name}: foreign key {list(fk.columns)} references missing table {fk.table}")
                continue
            child = table[list(fk.columns)].dropna()
            parents = set(_keys(tables[fk.table][list(fk.ref_columns)]))
            found = np.fromiter((key in parents for key in _keys(child)), dtype=bool, count=len(child))
            if not found.all():
                orphans = child[~found].reset_index(drop=True)
                examples = [tuple(r) if len(r) > 1 else r[0] for r in orphans.drop_duplicates().head(3).astype(object).itertuples(index=False)]
                problems.append(f"table {name}: column {', '.join(fk.columns)} rule foreign key to {fk.table}."
                                f"{', '.join(fk.ref_columns)} failed ({len(orphans)} rows; e.g. {examples})")
    return problems


def _keys(frame: pd.DataFrame):
    """The rows of `frame` as keys (a value, or a tuple for several columns), plain Python values: a
    parent's keys go in a set, a child's are looked up in it, one hash per row."""
    columns = [frame[c].tolist() for c in frame.columns]
    return columns[0] if len(columns) == 1 else zip(*columns)


def sources_frame(manifest: Manifest, used: list[str]) -> pd.DataFrame:
    rows = []
    for sid in sorted(used):
        s = manifest[sid]
        rows.append({
            "source_id": s.id, "family": s.family, "path": s.path, "url": s.url, "sha256": s.sha256,
            "bytes": s.bytes, "version": s.version, "publisher": s.publisher or None, "license": s.license,
            "license_url": s.license_url or None, "citation": s.citation,
            "redistributable": int(s.redistributable), "origin": s.origin or None, "notes": s.notes or None,
        })
    return pd.DataFrame(rows)


def inputs_hash(manifest: Manifest, used: list[str]) -> str:
    """One hash over the pinned hashes of every file read: equal inputs, equal hash."""
    h = hashlib.sha256()
    for sid in sorted(used):
        h.update(f"{sid}\t{manifest[sid].sha256}\n".encode())
    return h.hexdigest()


def build_date(manifest: Manifest) -> str:
    """SOURCE_DATE_EPOCH if set, else the date in dataset/project.toml: never the wall clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return time.strftime("%Y-%m-%d", time.gmtime(int(epoch)))
    return project_metadata()["release"]["data_date"]


def describe_build(ctx: BuildContext, used: list[str]) -> None:
    meta = project_metadata()
    ctx.note("version", __version__, "taskshift package version (semantic); the schema and code that built this file")
    ctx.note("schema_version", str(meta["release"]["schema_version"]), "version of the table layout; bumps when a table or column changes")
    ctx.note("build_date", build_date(ctx.manifest), "build date (SOURCE_DATE_EPOCH or the release date in dataset/project.toml)")
    ctx.note("build_kind", "release" if ctx.release else "research",
             "release: only redistributable sources; research: every source, non-redistributable ones flagged")
    ctx.note("inputs_sha256", inputs_hash(ctx.manifest, used), "sha256 over the pinned hashes of every raw file read")
    ctx.note("data_vintages", meta["vintages"], "versions of the main upstream datasets")
    ctx.note("license", meta["license"]["data"], "license of the database as a whole")
    ctx.note("attribution", meta["license"]["attribution"], "attribution required by the O*NET CC BY 4.0 license")
    ctx.note("excluded_sources", ctx.excluded, "sources left out of this build and why (release builds leave out non-redistributable sources)")


def write_database(tables: dict[str, pd.DataFrame], contracts: dict[str, Contract], out: Path,
                   checks=None, staging: Staging | None = None) -> None:
    """Write to a temporary file beside `out` (locked while this build runs, removed on any error, Ctrl-C,
    SIGTERM or SIGHUP), check it, then rename it into place; OS and disk errors become OutputError.
    `checks`: the worker checking the tables meanwhile (`prepare_tables`), or None: its problems stop
    the write (BuildError) as soon as it has them, and the file replaces `out` only when it has none.
    `staging`: a `Staging` (`prepare_tables` may have started it already; the caller closes it), or None."""
    own = staging is None
    if own:
        staging = Staging(out)
    try:
        if not staging.started:
            staging.start(tables, contracts)
        _write_database(tables, contracts, out, checks, staging)
    except BaseException:
        if checks is not None:
            checks.cancel()
        raise
    finally:
        if own:
            staging.close()


def _write_database(tables: dict[str, pd.DataFrame], contracts: dict[str, Contract], out: Path, checks,
                    staging: Staging) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    except OSError as err:
        raise output_error(err, out.parent, "write into") from None
    tmp = Path(tmp_name)
    hold_fd(fd)
    try:
        with on_signals():
            try:
                _write(tables, contracts, tmp, checks, staging)
            except sqlite3.IntegrityError:  # a key or NOT NULL the checks find too, naming column and rows
                _raise_failed(checks, wait=True)
                raise
            _raise_failed(checks, wait=True)
            _check(tmp)
            tmp.chmod(0o644)  # mkstemp makes it private; a database is for reading
            os.replace(tmp, out)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, OSError) or (isinstance(err, sqlite3.Error) and is_io_error(err)):
            raise output_error(err, out) from None
        raise
    finally:
        os.close(fd)


#: The tables a worker writes into a staging file while the build writes the others (`stage_rows`), and
#: SQLite then copies in: large tables, ~60% of all the cells (rows x columns; the worker starts first),
#: mostly without a full-text index (the build makes those of its own tables while the worker still
#: writes; state_labor's is made after the copy), all made by ingest or the main chain, so the build converts them first and the worker starts while it
#: converts the rest (`prepare_tables`). A fixed list, so a build in one process writes the same file as
#: one in two.
STAGED_TABLES = ("exposure_by_year", "oews_series", "role_exposure", "sector_roles", "state_labor", "task_exposure",
                 "task_list_changes", "transitions")


class Staging:
    """The staging file beside `out` and the worker writing the STAGED_TABLES into it (`stage_rows`; in
    the build itself with one process). The staging file is created before the temporary database, so
    the worker does not hold that file's lock. `close` stops the worker if it still runs and removes the file."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self.names: list[str] = []
        self.started = False
        self.path: Path | None = None
        self.child = None
        self._fd: int | None = None

    def start(self, tables: dict[str, pd.DataFrame], contracts: dict[str, Contract]) -> None:
        """Start writing the STAGED_TABLES among `tables` (converted and sorted, as the write takes them)."""
        self.started = True
        self.names = sorted(n for n in STAGED_TABLES if n in tables)
        if not self.names:
            return
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            self._fd, name = tempfile.mkstemp(dir=self.out.parent, prefix=f".{self.out.name}.", suffix=".stage.tmp")
        except OSError as err:
            raise output_error(err, self.out.parent, "write into") from None
        self.path = Path(name)
        hold_fd(self._fd)
        self.child = call_in_child(stage_rows, {n: tables[n] for n in self.names}, contracts, self.path)

    def close(self) -> None:
        if self.child is not None:
            self.child.cancel()  # nothing when it has finished
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self.path = None


def stage_rows(tables: dict[str, pd.DataFrame], contracts: dict[str, Contract], path: Path) -> None:
    """The rows of `tables` and their indexes into a new SQLite file at `path` (empty), for `_write` to
    copy in SQLite (INSERT ... SELECT, which copies the indexes' entries too, as they are) instead of
    binding every value from Python: run in a worker while the build writes the other tables (in the
    build itself when it runs in one process)."""
    conn = _connect_new(path)
    try:
        conn.execute("BEGIN")
        for name in table_order(contracts):
            if name in tables:
                _insert(conn, name, contracts[name], tables[name])
                for statement in contracts[name].ddl()[1:]:
                    conn.execute(statement)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _connect_new(path: Path) -> sqlite3.Connection:
    """A connection for writing a fresh file no one else reads yet: no journal, no fsync, and a page cache
    the whole database fits in (CACHE_KIB)."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("page_size = 4096", "journal_mode = OFF", "synchronous = OFF", f"cache_size = -{CACHE_KIB}"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def _insert(conn: sqlite3.Connection, name: str, contract: Contract, table: pd.DataFrame) -> None:
    """CREATE TABLE and its rows (executemany): no indexes but its keys."""
    conn.execute(contract.ddl()[0])
    cols = contract.column_names
    quoted = ", ".join(f'"{c}"' for c in cols)
    conn.executemany(f'INSERT INTO "{name}" ({quoted}) VALUES ({", ".join("?" for _ in cols)})', _rows(table[cols]))


def table_digests(tables: dict[str, pd.DataFrame], contracts: dict[str, Contract]) -> dict[str, dict]:
    """`digests.frame_digest` of every table, from the frames `_write` writes."""
    return {name: frame_digest(tables[name], contracts[name].columns)
            for name in table_order(contracts) if name in tables}


#: SQLite page cache while writing (KiB, negative = size): the whole database fits, so no page is
#: written twice while tables and their indexes are filled.
CACHE_KIB = 256 * 1024


def _raise_failed(checks, wait: bool) -> None:
    """BuildError with the problems the checking worker found (`prepare_tables`), once it has finished
    (at once unless `wait`); nothing when it found none or there is no such worker."""
    if checks is not None and (wait or checks.ready()):
        problems = checks.result()
        if problems:
            raise BuildError(problems)


def _write(tables: dict[str, pd.DataFrame], contracts: dict[str, Contract], path: Path,
           checks=None, staging: Staging | None = None) -> None:
    """Per table (foreign-key order) CREATE TABLE, its rows (executemany), then its indexes (built once
    over the loaded rows rather than kept up to date row by row), in one transaction, then their full-text
    indexes; then, in a second transaction, the tables `stage_rows` wrote (`staging`, or None), copied in
    their turn (foreign-key order) by INSERT ... SELECT with their indexes, then their full-text indexes;
    the table digests of the frames written (`table_digests`: with two processes, in a worker started when
    the staging file is complete, so that it runs beside the copy rather than beside the two writers);
    then ANALYZE. VACUUM only when something left free pages (a fresh file written in one pass has none).
    `checks` (see `write_database`) is looked at after each table: a failure stops the write."""
    copied = set(staging.names) if staging is not None else set()
    digests = None
    conn = _connect_new(path)
    try:
        order = [n for n in table_order(contracts) if n in tables]
        conn.execute("BEGIN")
        for name in [n for n in order if n not in copied]:
            _insert(conn, name, contracts[name], tables[name])
            for statement in contracts[name].ddl()[1:]:
                conn.execute(statement)
            _raise_failed(checks, wait=False)  # a failed check stops the write now
        conn.execute("COMMIT")
        db = sqlite_utils.Database(conn)

        def full_text(names: list[str]) -> None:
            for name in names:
                if contracts[name].fts:
                    db[name].enable_fts(list(contracts[name].fts), tokenize="porter", create_triggers=False)

        full_text([n for n in order if n not in copied])  # while the staging file is still being written
        if copied:
            staging.child.result()  # the staging file is complete (or its error is raised here)
        if workers() > 1:
            digests = call_in_child(table_digests, tables, contracts)
        if copied:
            conn.execute("ATTACH DATABASE ? AS stage", (str(staging.path),))
            conn.execute("BEGIN")
            for name in [n for n in order if n in copied]:
                for statement in contracts[name].ddl():  # the table and its (empty) indexes, as in the stage:
                    conn.execute(statement)              # SQLite then copies rows and index entries as they are
                conn.execute(f'INSERT INTO main."{name}" SELECT * FROM stage."{name}"')
            conn.execute("COMMIT")
            conn.execute("DETACH DATABASE stage")
            full_text([n for n in order if n in copied])
        _raise_failed(checks, wait=False)
        if "metadata" in tables:  # what each table holds, for `taskshift verify` of a database on its own
            digest = digests.result() if digests is not None else table_digests(tables, contracts)
            conn.execute('INSERT INTO "metadata" ("key", "value", "description") VALUES (?, ?, ?)',
                         (DIGEST_KEY, json.dumps(dict(sorted(digest.items())), sort_keys=True), DIGEST_DESCRIPTION))
        conn.execute("ANALYZE")
        if conn.execute("PRAGMA freelist_count").fetchone()[0]:
            conn.execute("VACUUM")
    except BaseException:
        if digests is not None:
            digests.cancel()
        raise
    finally:
        conn.close()


def _rows(frame: pd.DataFrame) -> list[tuple]:
    """Rows as plain Python values (None for missing; -0.0 as 0.0, which SQLite reads back anyway),
    in frame order, converted a column at a time."""
    columns = []
    for name in frame.columns:
        s = frame[name]
        missing = s.isna().to_numpy()
        if pd.api.types.is_integer_dtype(s.dtype):
            values = s.to_numpy(dtype="int64", na_value=0).tolist()
        elif pd.api.types.is_float_dtype(s.dtype):
            values = (s.to_numpy(dtype="float64", na_value=0.0) + 0.0).tolist()  # + 0.0: -0.0 -> 0.0
        else:
            values = s.tolist()
        if missing.any():
            for i in missing.nonzero()[0].tolist():
                values[i] = None
        columns.append(values)
    return list(zip(*columns))


def _check(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        problems = []
        violations = conn.execute("PRAGMA foreign_key_check").fetchall()
        if violations:
            by_table: dict[tuple, list] = {}
            for table, rowid, parent, fkid in violations:
                by_table.setdefault((table, parent), []).append(rowid)
            for (table, parent), rowids in sorted(by_table.items()):
                problems.append(f"table {table}: foreign key to {parent} failed for {len(rowids)} row(s), e.g. rowids {rowids[:3]}")
        # quick_check: every page, record and NOT NULL constraint of the fresh file, in a quarter of the time of
        # integrity_check (which also compares each index with its table: `taskshift verify` and the tests run it)
        integrity = conn.execute("PRAGMA quick_check").fetchone()[0]
        if integrity != "ok":
            problems.append(f"quick_check: {integrity}")
        if problems:
            raise BuildError(problems)
    finally:
        conn.close()
