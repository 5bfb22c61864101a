"""Issue #16, builds: a bad output location fails before the build, every OS error is one sentence naming the
path and what to do, the previous database is untouched, temporary files do not outlive the process (SIGTERM,
SIGHUP) or a killed one (cleaned by the next run), text fields refuse control characters, and trailing
delimiters are a named-file, named-row error."""
from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from taskshift.build import assemble, output
from taskshift.build.assemble import BuildError, build, write_database
from taskshift.build.output import OutputError
from taskshift.build.sources import SourceError, load_manifest, sha256_of
from taskshift.cli import main
from taskshift.contracts import ContractError, table_contracts

from .conftest import replace_file

QUIET = lambda *a: None  # noqa: E731
TASKS = "onet/Task Statements.txt"
OCC = "onet_30_2/Occupation Data.txt"  # the spine (O*NET 29.3 Task Statements stay read: task history)


@pytest.fixture()
def previous_db(tmp_path, built_db):
    target = tmp_path / "out" / "taskshift.db"
    target.parent.mkdir()
    shutil.copyfile(built_db, target)
    return target, sha256_of(target)


def metadata_tables(rows: int = 3):
    frame = pd.DataFrame({"key": [f"k{i:07d}" for i in range(rows)], "value": ["v" * 50] * rows,
                          "description": [None] * rows})
    contracts = table_contracts()
    return {"metadata": frame}, {"metadata": contracts["metadata"]}


# --- the output location, checked before the build ------------------------------------------------
def test_out_is_a_folder_fails_at_once(tmp_path, sources_dir, capsys):
    started = time.monotonic()
    assert main(["build", "--sources", str(sources_dir), "--out", str(tmp_path), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert time.monotonic() - started < 5  # before the ~15 s build, not after it
    assert f"cannot write {tmp_path}: it is a folder: give a file path such as {tmp_path / 'taskshift.db'}" in err
    assert "Traceback" not in err


def test_out_under_a_file_and_an_uncreatable_folder(tmp_path, sources_dir):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(OutputError, match=r"file\.txt is a file, not a folder"):
        build(sources_dir, tmp_path / "file.txt" / "taskshift.db", log=QUIET)
    with pytest.raises(OutputError, match="cannot create the folder .*a part of the path is a file"):
        build(sources_dir, tmp_path / "file.txt" / "deeper" / "x" / "taskshift.db", log=QUIET)
    # a missing folder is made
    out = tmp_path / "new" / "folder" / "taskshift.db"
    output.check_output_file(out)
    assert out.parent.is_dir() and list(out.parent.iterdir()) == []


def _read_only_mount(path: Path) -> bool:
    path.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(path)], capture_output=True)
    except OSError:
        return False
    return done.returncode == 0


def test_read_only_output_folder(tmp_path, sources_dir, monkeypatch, capsys):
    ro = tmp_path / "ro"
    if _read_only_mount(ro):  # a real read-only file system
        try:
            assert main(["build", "--sources", str(sources_dir), "--out", str(ro / "taskshift.db"), "--quiet"]) == 1
        finally:
            subprocess.run(["umount", str(ro)], capture_output=True)
    else:  # no mount here: the same OS error, raised where the file would be created
        real = output.tempfile.mkstemp

        def read_only(*args, dir=None, **kw):
            if dir is not None and Path(dir) == ro:
                raise OSError(errno.EROFS, "Read-only file system", str(ro / ".taskshift-write-test.x.tmp"))
            return real(*args, dir=dir, **kw)

        monkeypatch.setattr(output.tempfile, "mkstemp", read_only)
        assert main(["build", "--sources", str(sources_dir), "--out", str(ro / "taskshift.db"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "the file system is read-only: choose another --out on a writable disk" in err and "Traceback" not in err


def test_no_space_is_found_before_the_build(tmp_path, sources_dir, monkeypatch, capsys):
    small = tmp_path / "small"
    small.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)], capture_output=True).returncode == 0 \
        if shutil.which("mount") else False
    if not mounted:  # the free space a 1 MB disk would report
        real = output.shutil.disk_usage
        monkeypatch.setattr(output.shutil, "disk_usage",
                            lambda p: real(p)._replace(free=1 << 20) if Path(p) == small else real(p))
    try:
        started = time.monotonic()
        assert main(["build", "--sources", str(sources_dir), "--out", str(small / "taskshift.db"), "--quiet"]) == 1
        assert time.monotonic() - started < 5
    finally:
        if mounted:
            subprocess.run(["umount", str(small)], capture_output=True)
    err = capsys.readouterr().err
    assert f"{small} has 1 MB free, a build needs about 200 MB: free some space, or choose another --out" in err


def test_disk_full_while_writing_leaves_the_previous_database(previous_db, monkeypatch):
    """SQLite's own 'database or disk is full' (a page limit stands in for the disk), then an OS-level ENOSPC."""
    target, before = previous_db
    tables, contracts = metadata_tables(20_000)
    real_connect = assemble.sqlite3.connect

    def small_disk(path, *args, **kw):
        conn = real_connect(path, *args, **kw)
        if str(path).endswith(".tmp"):
            conn.execute("PRAGMA max_page_count = 20")
        return conn

    monkeypatch.setattr(assemble.sqlite3, "connect", small_disk)
    with pytest.raises(OutputError, match="no space left on the device"):
        write_database(tables, contracts, target)
    monkeypatch.setattr(assemble.sqlite3, "connect", real_connect)
    assert sha256_of(target) == before and sorted(p.name for p in target.parent.iterdir()) == [target.name]

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr(assemble.os, "replace", full)
    with pytest.raises(OutputError, match=f"cannot write {target}: no space left on the device"):
        write_database(tables, contracts, target)
    assert sha256_of(target) == before and sorted(p.name for p in target.parent.iterdir()) == [target.name]


def test_unreadable_source_is_named(sources_copy, previous_db, monkeypatch):
    from taskshift.build import sources

    real = sources.sha256_of

    def denied(path):
        if Path(path).name == "Task Statements.txt":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(sources, "sha256_of", denied)
    target, before = previous_db
    with pytest.raises(SourceError, match=r"onet/Task Statements\.txt: cannot be read from .*Permission denied.*permissions"):
        build(sources_copy, target, log=QUIET)
    assert sha256_of(target) == before


# --- temporary files: signals, killed runs ---------------------------------------------------------
WRITER = textwrap.dedent("""
    import sys, time
    import pandas as pd
    from pathlib import Path
    from taskshift.build import assemble
    from taskshift.contracts import table_contracts
    rows = 2_000_000
    frame = pd.DataFrame({"key": [f"k{i:08d}" for i in range(rows)], "value": ["v" * 40] * rows, "description": [None] * rows})
    real = assemble._rows
    def slow_rows(f):  # the write, slowed down so the test can catch it in the middle
        for i, row in enumerate(real(f)):
            if i % 1000 == 0:
                time.sleep(0.01)
            yield row
    assemble._rows = slow_rows
    print("ready", flush=True)
    assemble.write_database({"metadata": frame}, {"metadata": table_contracts()["metadata"]}, Path(sys.argv[1]))
""")


def _start_writer(target: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not list(target.parent.glob(output.temp_db_pattern(target))):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the writer never created its temporary file: {proc.stderr.read()[-2000:]!r}")
        time.sleep(0.1)
    time.sleep(0.5)
    return proc


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_signals_remove_the_temporary_database(previous_db, signum):
    target, before = previous_db
    proc = _start_writer(target)
    proc.send_signal(signum)
    assert proc.wait(60) == 128 + signum
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # 24-35 MB left behind before
    assert sha256_of(target) == before


def test_a_killed_builds_temporary_file_is_removed_by_the_next_run(previous_db, sources_copy):
    target, before = previous_db
    proc = _start_writer(target)
    proc.kill()  # SIGKILL: nothing can clean up
    proc.wait(60)
    stale = list(target.parent.glob(output.temp_db_pattern(target)))
    assert len(stale) == 1
    # a build still running holds its temporary file: the next run leaves it alone
    live = target.parent / f".{target.name}.live.tmp"
    live.write_bytes(b"x")
    fd = output.hold(live)
    try:
        (sources_copy / TASKS).unlink()  # the next run fails early, yet cleans first
        with pytest.raises(SourceError):
            build(sources_copy, target, log=QUIET)
        assert not stale[0].exists() and live.exists()
    finally:
        os.close(fd)
    live.unlink()
    assert sha256_of(target) == before


RELEASE_WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from taskshift.build import assemble
    from taskshift.release import make
    def slow_build(sources, out, **kw):
        Path(out).write_bytes(b"x" * 1000)
        print("building", flush=True)
        time.sleep(600)
    assemble.build = slow_build
    make.make_release(Path(sys.argv[1]), Path(sys.argv[2]), log=lambda *a: None)
""")


def test_release_staging_removed_on_sigterm_and_after_sigkill(tmp_path, sources_dir):
    from taskshift.release.make import STAGING_PREFIX, make_release

    out = tmp_path / "dist"
    for signum in (signal.SIGTERM, signal.SIGKILL):
        proc = subprocess.Popen([sys.executable, "-c", RELEASE_WRITER, str(sources_dir), str(out)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout.readline().strip() == b"building"
        assert len(list(out.glob(f"{STAGING_PREFIX}*"))) == 1
        proc.send_signal(signum)
        proc.wait(60)
        left = list(out.glob(f"{STAGING_PREFIX}*"))
        assert left == [] if signum == signal.SIGTERM else len(left) == 1  # 105 MB left behind before
    empty = tmp_path / "no-sources"
    empty.mkdir()
    with pytest.raises(SourceError):  # the next release cleans the killed one's folder, even if it then fails
        make_release(empty, out, log=QUIET)
    assert list(out.glob(f"{STAGING_PREFIX}*")) == []


# --- text fields and delimiters ------------------------------------------------------------------------
def failing_build(root, previous_db, *pinned, expect=BuildError) -> str:
    target, before = previous_db
    with pytest.raises(expect) as info:
        build(root, target, manifest=load_manifest().pinned_to(root, *pinned), log=QUIET)
    assert sha256_of(target) == before
    return str(info.value)


def test_control_characters_in_a_text_field_are_refused(sources_copy, previous_db):
    lines = (sources_copy / TASKS).read_text(encoding="utf-8").splitlines(keepends=True)
    fields = lines[4].split("\t")
    fields[3] = fields[3][:10] + "\x00" + fields[3][10:]
    lines[4] = "\t".join(fields)
    replace_file(sources_copy, TASKS, "".join(lines))
    message = failing_build(sources_copy, previous_db, "onet_task_statements")
    assert "onet/Task Statements.txt: column 'Task' rule no control characters failed (1 failing; e.g. row 5:" in message
    assert "\\x00" in message
    # the output contract refuses it too (tasks.statement), for a value a derive step might make
    tasks = pd.DataFrame({"task_id": [1], "role_code": ["15-1252.00"], "statement": ["Write\x1b[31m code"],
                          "task_type": ["Core"], "incumbents_responding": [1.0], "date": ["08/2023"],
                          "domain_source": ["Analyst"]})
    with pytest.raises(ContractError, match="table tasks: column 'statement' rule no control characters"):
        table_contracts()["tasks"].validate(tasks, where="table tasks")
    ok = tasks.assign(statement=["Write code\tand tests\r\n"])
    assert table_contracts()["tasks"].validate(ok, where="table tasks")["statement"][0] == "Write code\tand tests\r\n"


def test_trailing_delimiters_are_a_named_error(sources_copy, previous_db):
    lines = (sources_copy / OCC).read_text(encoding="utf-8").splitlines()
    text = lines[0] + "\n" + "".join(line + "\t\n" for line in lines[1:])
    replace_file(sources_copy, OCC, text)
    message = failing_build(sources_copy, previous_db, "onet_30_2_occupation_data", expect=SourceError)
    assert message.startswith("Occupation Data.txt: row 2: 4 fields but the header (row 1) has 3: a trailing delimiter")
