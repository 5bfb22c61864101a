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
