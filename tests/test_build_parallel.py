"""The build's worker processes (taskshift.build.parallel): errors come back whole, a derive step run in
the background gives the serial result and refuses inputs that changed after it started. (That a
whole build in worker processes is byte-identical to one in a single process: test_database.)"""
from __future__ import annotations

import sys
import types

import pandas as pd
import pytest

from taskshift.build import parallel
from taskshift.build.assemble import BuildError
from taskshift.contracts import ContractError


@pytest.fixture(autouse=True)
def two_workers(monkeypatch):
    if not parallel.can_fork():
        pytest.skip("no fork on this platform: the build runs in one process")
    monkeypatch.setenv(parallel.ENV_WORKERS, "2")


def fail_with(err):
    raise err


def test_errors_from_a_worker_keep_their_type_problems_and_traceback():
    with pytest.raises(BuildError) as info:
        parallel.call_in_child(fail_with, BuildError(["table x: column 'a' rule not null failed", "table y: gone"])).result()
    assert info.value.problems == ["table x: column 'a' rule not null failed", "table y: gone"]
    assert "fail_with" in str(info.value.__cause__)  # where it was raised, in the worker
    failure = {"where": "f.csv", "column": "code", "rule": "unique", "count": 2, "examples": [("row 4", "x")]}
    with pytest.raises(ContractError, match=r"f.csv: column 'code' rule unique failed \(2 failing; e.g. row 4: 'x'\)"):
        parallel.call_in_child(fail_with, ContractError([failure])).result()


class Ctx:
    def __init__(self, frames):
        self.frames, self.metadata, self.timings = frames, {}, {}

    def note(self, key, value, description):
        self.metadata[key] = (str(value), description)


@pytest.fixture()
def step(monkeypatch):
    """A derive step module: doubles frame `a` into `b`, drops `scratch`, notes its row count."""
    module = types.ModuleType("fake_derive_step")

    def derive(ctx):
        ctx.frames["b"] = ctx.frames["a"].assign(x=lambda f: f["x"] * 2)
        ctx.frames.pop("scratch")
        ctx.note("b_rows", len(ctx.frames["b"]), "rows of b")

    module.derive = derive
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module.__name__


def test_a_background_step_gives_the_serial_result(step):
    ctx = Ctx({"a": pd.DataFrame({"x": [1, 2, 3]}), "scratch": pd.DataFrame(), "other": pd.DataFrame({"y": [1]})})
    task = parallel.Background(ctx, step)
    ctx.frames["other"] = pd.DataFrame({"y": [2]})  # the parent goes on with what the step does not read
    task.join(ctx)
    assert ctx.frames["b"]["x"].tolist() == [2, 4, 6] and "scratch" not in ctx.frames
    assert ctx.metadata["b_rows"] == ("3", "rows of b") and step in ctx.timings


def test_a_background_step_refuses_an_input_changed_after_it_started(step):
    ctx = Ctx({"a": pd.DataFrame({"x": [1, 2, 3]}), "scratch": pd.DataFrame()})
    task = parallel.Background(ctx, step)
    ctx.frames["a"] = pd.DataFrame({"x": [5]})  # a later step replaced what the background step read
    with pytest.raises(RuntimeError, match=r"fake_derive_step ran in a worker process, but .* changed a: start it later"):
        task.join(ctx)
    assert "b" not in ctx.frames


@pytest.fixture()
def next_step(monkeypatch):
    """A second derive step module: reads `b` (what `step` makes) and the parent's `a`, writes `c`."""
    module = types.ModuleType("fake_next_step")

    def derive(ctx):
        ctx.frames["c"] = pd.DataFrame({"x": ctx.frames["b"]["x"] + ctx.frames["a"]["x"]})

    module.derive = derive
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module.__name__


def test_background_steps_in_one_worker_see_what_the_ones_before_made(step, next_step):
    ctx = Ctx({"a": pd.DataFrame({"x": [1, 2, 3]}), "scratch": pd.DataFrame()})
    task = parallel.Background(ctx, [step, next_step])
    task.join(ctx)
    assert ctx.frames["c"]["x"].tolist() == [3, 6, 9] and ctx.frames["b"]["x"].tolist() == [2, 4, 6]
    assert step in ctx.timings and next_step in ctx.timings  # each step's own time


def test_background_steps_in_one_worker_refuse_a_parent_input_changed_meanwhile(step, next_step):
    ctx = Ctx({"a": pd.DataFrame({"x": [1, 2, 3]}), "scratch": pd.DataFrame()})
    task = parallel.Background(ctx, [step, next_step])
    ctx.frames["a"] = pd.DataFrame({"x": [5]})
    with pytest.raises(RuntimeError, match=r"fake_derive_step, fake_next_step ran in a worker process, but .* changed a"):
        task.join(ctx)
    assert "c" not in ctx.frames


def tiny_contracts():
    from taskshift.contracts import Contract
    parent = Contract.from_yaml("parent", "table", {
        "primary_key": "code", "columns": {"code": {"type": "text", "pattern": "[a-z]+"}}})
    child = Contract.from_yaml("child", "table", {
        "primary_key": ["code", "n"], "sort": ["n"],
        "foreign_keys": [{"columns": ["code"], "table": "parent"}],
        "columns": {"code": {"type": "text"}, "n": {"type": "integer", "min": 0}}})
    return {"parent": parent, "child": child}


class BuildCtx(Ctx):
    release = False


@pytest.mark.parametrize("bad, expected", [
    (None, None),
    ({"child": pd.DataFrame({"code": ["ab", "ab"], "n": [2, 2]})},
     ["table child: column 'code, n' rule primary key unique failed (2 failing"]),
    ({"parent": pd.DataFrame({"code": ["ab", "C1"]})},
     ["table parent: column 'code' rule str_matches(", "failed (1 failing; e.g. row 1: 'C1')",
      "table child: foreign key ['code'] references missing table parent"]),
    ({"child": pd.DataFrame({"code": ["zz", "ab"], "n": [2, 1]})},
     ["table child: column code rule foreign key to parent.code failed (1 rows; e.g. ['zz'])"]),
])
def test_checks_beside_the_write_stop_it_and_keep_the_previous_database(tmp_path, bad, expected):
    """A build with two processes converts its tables, then checks them in a worker while it writes them:
    what the checks find stops the build as before, and the previous database stays as it was."""
    from taskshift.build.assemble import prepare_tables, validate_tables, write_database
    contracts = tiny_contracts()
    frames = {"parent": pd.DataFrame({"code": ["ab", "cd"]}), "child": pd.DataFrame({"code": ["cd", "ab"], "n": [2, 1]})}
    frames.update(bad or {})
    out = tmp_path / "taskshift.db"
    out.write_bytes(b"the previous database")
    tables, checks = prepare_tables(BuildCtx(dict(frames)), contracts)
    assert tables["child"]["n"].tolist() == ([1, 2] if bad is None or "child" not in bad else sorted(bad["child"]["n"]))
    if expected is None:
        write_database(tables, contracts, out, checks)
        assert out.read_bytes().startswith(b"SQLite format 3")
        return
    with pytest.raises(BuildError) as info:
        write_database(tables, contracts, out, checks)
    with pytest.raises(BuildError) as serial:  # the same problems as the one-process build's validation
        validate_tables(BuildCtx(dict(frames)), contracts)
    assert info.value.problems == serial.value.problems
    said = "\n".join(info.value.problems)
    assert all(part in said for part in expected), said
    assert out.read_bytes() == b"the previous database"
    assert [p.name for p in tmp_path.iterdir()] == ["taskshift.db"]  # no temporary file left
