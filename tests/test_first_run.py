"""The first ten minutes (#10): the README's commands as written, role links people type, one way to
find the database, progress you can see, rebuilds only when an input changed, and errors that say
what to do next, the same in the library, the CLI and the API."""
from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import pytest_asyncio
from datasette.app import Datasette

import taskshift
from taskshift import cli, db, service
from taskshift.build.assemble import INGEST_MODULES
from taskshift.build.locate import SourcesDirError, pinned_paths, sources_dir
from taskshift.build.progress import Progress
from taskshift.build.sources import SourceError, load_manifest
from taskshift.build.stamp import needs_build, stamp_path, write_stamp
from taskshift.site.serve import SETTINGS

from .conftest import BUILD_LOG, REPO, SOURCES, link_sources, sources_root

ROLE = "15-1252.00"


# --- 1. `make test` as the README writes it: relative ../shared/sources ------------------------------
def test_sources_copy_links_resolve(sources_copy):
    """Every symlink of the fixture points at a file (it did not when `make test` passed ../shared/sources)."""
    links = [p for p in sources_copy.rglob("*") if p.is_symlink()]
    assert len(links) >= len(pinned_paths()) and all(p.is_file() for p in links)


def test_relative_sources_path_is_resolved_once(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    relative = os.path.relpath(SOURCES, REPO)  # ../shared/sources in a checkout beside ../shared
    root = sources_root(relative)
    assert root.is_absolute() and root == SOURCES
    copy = link_sources(Path(relative), tmp_path / "sources")
    monkeypatch.chdir(tmp_path)  # from elsewhere (pytest's temporary folders), the links still resolve
    assert all((copy / p).is_file() for p in pinned_paths())
    monkeypatch.chdir(REPO)
    assert sources_dir(relative) == SOURCES  # the CLI's edge does the same


def test_makefile_and_ci_run_the_readme_commands():
    make = subprocess.run(["make", "-n", "-W", "pyproject.toml", "build", "test", "serve"], cwd=REPO,
                          capture_output=True, text=True, env={k: v for k, v in os.environ.items()
                                                               if k not in ("TASKSHIFT_SOURCES", "MAKEFLAGS")})
    assert make.returncode == 0, make.stderr
    out = make.stdout
    assert "taskshift build --if-changed --sources ../shared/sources --out dist/taskshift.db" in out
    assert "TASKSHIFT_SOURCES=../shared/sources .venv/bin/pytest -q" in out
    assert "taskshift serve dist/taskshift.db --host 127.0.0.1 --port 8001" in out
    assert "--quiet" not in out  # pip's progress is shown (filtered), not hidden
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci and "make serve" in ci
    assert "export TASKSHIFT_SOURCES" not in ci and "unset TASKSHIFT_SOURCES" in ci


# --- 6. a sources folder that is wrong says what to do --------------------------------------------
@pytest.fixture()
def shared(tmp_path, sources_dir):
    """tmp/shared/sources: a sources tree one level below a `shared` folder, like ../shared/sources."""
    link_sources(sources_dir, tmp_path / "shared" / "sources")
    (tmp_path / "shared" / "seeds").mkdir()
    return tmp_path / "shared"


def test_sources_one_level_off_is_one_message(shared, monkeypatch):
    monkeypatch.chdir(shared.parent)
    with pytest.raises(SourcesDirError) as high:
        sources_dir("shared")
    assert str(high.value).endswith("did you mean shared/sources?") and "\n" not in str(high.value)
    assert f"holds 0 of the {len(pinned_paths())} pinned raw files" in str(high.value)
    with pytest.raises(SourcesDirError) as low:
        sources_dir("shared/sources/onet")
    assert str(low.value).endswith("did you mean shared/sources?")
    with pytest.raises(SourcesDirError) as typo:
        sources_dir("shared/source")
    assert "does not exist; did you mean shared/sources?" in str(typo.value)
    with pytest.raises(SourcesDirError) as file:
        sources_dir(str(REPO / "README.md"))
    assert "is a file, not a folder" in str(file.value)
    assert sources_dir("shared/sources") == (shared / "sources").resolve()


def test_build_cli_sources_errors(shared, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(shared.parent)
    out = tmp_path / "out" / "x.db"
    assert cli.main(["build", "--sources", "shared", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"taskshift build: error: sources directory shared (--sources) holds 0 of the {len(pinned_paths())} "
                   f"pinned raw files, shared/sources holds {len(pinned_paths())}: did you mean shared/sources?",
                   f"taskshift build: nothing was written ({out} does not exist)"]
    out.parent.mkdir()
    out.write_bytes(b"previous")
    assert cli.main(["build", "--sources", str(REPO / "README.md"), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and f"{out} was not changed" in err and out.read_bytes() == b"previous"
    assert cli.main(["fetch", "--sources", "shared"]) == 2
    assert "did you mean shared/sources?" in capsys.readouterr().err


def test_missing_files_are_reported_once_each_or_summarised(sources_copy, tmp_path):
    from taskshift.build.assemble import build

    (sources_copy / "exposure/felten_aioe/AIOE_DataAppendix.xlsx").unlink()  # pinned by two sources
    (sources_copy / "onet_30_2/Job Zones.txt").unlink()
    with pytest.raises(SourceError) as few:
        build(sources_copy, tmp_path / "a.db", log=lambda *a: None)
    lines = str(few.value).splitlines()
    assert len(lines) == 2 and sum("AIOE_DataAppendix.xlsx: missing from" in x for x in lines) == 1
    for path in pinned_paths()[:12]:
        (sources_copy / path).unlink(missing_ok=True)
    with pytest.raises(SourceError) as many:
        build(sources_copy, tmp_path / "a.db", log=lambda *a: None)
    text = str(many.value)
    assert text.count("\n") == 0 and re.search(r"\d+ of the \d+ pinned raw files are missing from", text)
    assert "taskshift fetch" in text
    assert not (tmp_path / "a.db").exists()
    with pytest.raises(SourceError) as off:  # the build itself (library use) also recognises a folder one level off
        build(sources_copy.parent, tmp_path / "a.db", log=lambda *a: None)
    assert "did you mean --sources" in str(off.value) and "\n" not in str(off.value)


# --- 4. one way to find the database -------------------------------------------------------------
@pytest.fixture()
def no_db(tmp_path, monkeypatch):
    monkeypatch.delenv("TASKSHIFT_DB", raising=False)
    monkeypatch.setenv("TASKSHIFT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_database_not_found_lists_what_was_tried(no_db):
    with pytest.raises(db.DatabaseNotFound) as info:
        db.db_path()
    tried = info.value.tried
    assert tried[0] == "$TASKSHIFT_DB: not set"
    assert str(no_db / "dist" / "taskshift.db") in tried[1]
    assert str(no_db / "data" / f"taskshift-{taskshift.__version__}.db") in tried[2] and "taskshift download" in tried[2]
    assert "taskshift download" in str(info.value) and "taskshift build" in str(info.value)


def test_serve_library_and_cli_find_the_downloaded_database(no_db, built_db, monkeypatch, capsys):
    release = no_db / "data" / f"taskshift-{taskshift.__version__}.db"
    release.parent.mkdir()
    release.symlink_to(built_db)
    assert db.locate() == (release.resolve(), "the release `taskshift download` installed")
    assert taskshift.connect().execute("select count(*) from roles").fetchone()[0] == 1016
    served = []
    # taskshift serve runs the server in-process (taskshift.site.server.serve): record which database it got
    monkeypatch.setattr("taskshift.site.server.serve", lambda path, host, port: served.append(["datasette", str(path)]))
    assert cli.main(["serve"]) == 0
    assert served == [["datasette", str(release.resolve())]]
    assert "the release `taskshift download` installed" in capsys.readouterr().err
    local = no_db / "dist" / "taskshift.db"  # a build under the current directory comes first
    local.parent.mkdir()
    local.symlink_to(built_db)
    assert cli.main(["serve"]) == 0 and served[-1] == ["datasette", str(local.resolve())]
    monkeypatch.setenv("TASKSHIFT_DB", str(no_db / "nope.db"))  # set but wrong: an error, not a fallback
    assert cli.main(["serve"]) == 1
    assert "nope.db ($TASKSHIFT_DB): no such file" in capsys.readouterr().err
    assert cli.main(["serve", str(release)]) == 0 and served[-1] == ["datasette", str(release.resolve())]


# --- 5. progress, and rebuilding only when an input changed -----------------------------------------
def test_build_prints_its_steps_with_counts_and_timings():
    if not BUILD_LOG:
        pytest.skip("the session's database was not built here (TASKSHIFT_TEST_DB)")
    done = [line for line in BUILD_LOG if re.match(r"\[ ?\d+/\d+\] .* \d+\.\ds$", line)]  # one per step, timed
    total = int(done[0].split("/")[1].split("]")[0])
    assert len(done) == total and [int(x[1:3]) for x in done] == list(range(1, total + 1))
    text = "\n".join(done)
    # the files the ingest modules read (the O*NET 29.3 spine files stay pinned, unread since the spine is 30.2)
    manifest = load_manifest()
    read = {manifest[sid].path for name in INGEST_MODULES
            for sid in importlib.import_module(f"taskshift.build.ingest.{name}").SOURCES}
    assert read <= set(pinned_paths())
    assert "verify sha256" in done[0] and f"{len(read)} pinned raw files" in done[0]
    assert "ingest onet" in text and "rows ->" in text and "derive disagreement" in text and "role_disagreement" in text
    assert "write SQLite" in done[-1] and "MB" in done[-1]


def test_progress_heartbeat_on_a_long_step():
    lines = []
    progress = Progress(lines.append, total=2, heartbeat=0.05)
    with progress.step("slow", "counting") as info:
        time.sleep(0.3)
        info["detail"] = "12 rows"
    with progress.step("fast"):
        pass
    beats = [x for x in lines if x.startswith("[1/2] slow") and "..." in x]
    assert len(beats) >= 2 and lines[len(beats)].startswith("[1/2] slow") and lines[len(beats)].rstrip().endswith("s")
    assert "12 rows" in lines[len(beats)] and lines[-1].startswith("[2/2] fast")


@pytest.fixture()
def stamped(tmp_path, built_db, sources_copy):
    out = tmp_path / "dist" / "taskshift.db"
    out.parent.mkdir()
    shutil.copyfile(built_db, out)
    write_stamp(out, sources_copy, False)
    return out, sources_copy


def test_if_changed_skips_an_up_to_date_build(stamped, capsys):
    out, sources = stamped
    assert needs_build(out, sources, False) is None
    before = out.stat().st_mtime_ns
    started = time.perf_counter()
    assert cli.main(["build", "--if-changed", "--sources", str(sources), "--out", str(out)]) == 0
    assert time.perf_counter() - started < 10 and out.stat().st_mtime_ns == before
    assert "is up to date" in capsys.readouterr().err


def test_if_changed_rebuilds_when_an_input_changed(stamped):
    out, sources = stamped
    assert needs_build(out, sources, True) == "options: release False -> True"
    assert needs_build(out, sources.parent, False).startswith("options: sources")
    record = json.loads(stamp_path(out).read_text())
    record["code"]["scoring.py"] = "0" * 64  # the code the build ran changed
    stamp_path(out).write_text(json.dumps(record))
    assert needs_build(out, sources, False) == "code: scoring.py changed"
    write_stamp(out, sources, False)
    record = json.loads(stamp_path(out).read_text())
    record["contracts"]["schema/tables/roles.yaml"] = "0" * 64
    stamp_path(out).write_text(json.dumps(record))
    assert needs_build(out, sources, False) == "contracts: schema/tables/roles.yaml changed"
    write_stamp(out, sources, False)
    jobs = sources / "onet_30_2" / "Job Zones.txt"
    data = jobs.read_bytes()
    jobs.unlink()
    jobs.write_bytes(data)  # same bytes, a new file: the build must look again (and check its sha256)
    assert needs_build(out, sources, False) == "sources: onet_30_2/Job Zones.txt changed"
    write_stamp(out, sources, False)
    assert needs_build(out, sources, False) is None
    os.utime(out, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert needs_build(out, sources, False).endswith("was changed after it was built")
    stamp_path(out).unlink()
    assert "no record of what" in needs_build(out, sources, False)
    out.unlink()
    assert needs_build(out, sources, False).endswith("does not exist")


# --- 6. errors that say what to do next, the same in library, CLI and API -------------------------
NEAR_MISS = {
    "15-1252": ["15-1252.00"],
    "151252": ["15-1252.00"],
    "15-1252.0": ["15-1252.00"],
    " 15-1252.00": ["15-1252.00"],
    "15-1132.00": ["15-1252.00", "15-1253.00"],  # an O*NET-SOC 2010 code: its 2019 codes (crosswalks)
}


def library_errors(conn, code):
    """The error each entry point of the library raises for one role code."""
    out = []
    for call in (lambda: service.score_role(conn, code), lambda: service.transitions(conn, code),
                 lambda: service.score_workforce(conn, {"roles": [{"role_code": code, "headcount": 3}]}),
                 lambda: service.score_custom(conn, {"tasks": [{"task_id": 21661, "share": 1}], "base_role": code})):
        with pytest.raises(service.ServiceError) as info:
            call()
        out.append(info.value)
    return out


@pytest.mark.parametrize("code, suggested", NEAR_MISS.items())
def test_near_miss_code_suggests_the_right_one_everywhere(conn, code, suggested):
    errors = library_errors(conn, code)
    problems = {e.errors[0]["problem"] for e in errors}
    assert len(problems) == 1, problems  # score, transitions, workforce and base_role say the same thing
    problem = problems.pop()
    assert f"did you mean {suggested[0]} (" in problem and "pattern" not in problem.lower()
    assert all(e.errors[0].get("suggestions") == suggested for e in errors)
    assert {e.status for e in errors} == {404 if code == "15-1132.00" else 400}


def test_title_where_a_code_is_expected_suggests_match(conn, built_db, capsys):
    (err, *_) = library_errors(conn, "software developer")
    assert "looks like a job title" in str(err) and "taskshift.match_title('software developer')" in str(err)
    assert err.errors[0]["suggestions"][0] == ROLE
    assert cli.main(["score", "software developer", "--db", str(built_db)]) == 2
    cli_err = capsys.readouterr().err
    assert 'taskshift match "software developer"' in cli_err and f"did you mean {ROLE} (Software Developers)" in cli_err
    assert cli.main(["transitions", "15-1252", "--db", str(built_db)]) == 2
    assert f"did you mean {ROLE} (Software Developers)?" in capsys.readouterr().err
    assert cli.main(["score", "99-9999.00", "--db", str(built_db)]) == 1
    assert 'unknown role \'99-9999.00\'' in capsys.readouterr().err


def test_unknown_measure_lists_the_measures_not_a_website(conn, built_db, capsys):
    assert cli.main(["score", ROLE, "--db", str(built_db), "--measures", "eloundou_beta"]) == 2
    err = capsys.readouterr().err
    assert "/taskshift/measures" not in err and "did you mean eloundou2023_gpt4_beta" in err
    measures = [r[0] for r in conn.execute("select distinct measure_id from role_exposure order by 1")]
    assert all(m in err for m in measures)
    with pytest.raises(service.InvalidInput) as info:
        service.transitions(conn, ROLE, measure="felten_aioe")
    assert "did you mean felten2021_aioe" in str(info.value) and all(m in str(info.value) for m in measures)


@pytest_asyncio.fixture
async def ds(built_db):
    datasette = Datasette(immutables=[str(built_db)], settings=SETTINGS)
    await datasette.invoke_startup()
    return datasette


@pytest.mark.asyncio
async def test_api_gives_the_same_errors(ds, conn):
    library = library_errors(conn, "15-1252")[0].errors[0]["problem"]
    for r in (await ds.client.get("/-/score/15-1252"), await ds.client.get("/-/transitions/15-1252"),
              await ds.client.post("/-/score/workforce", json={"roles": [{"role_code": "15-1252", "headcount": 2}]})):
        assert r.status_code == 400, r.text
        item = r.json()["errors"][0]
        assert item["problem"] == library and item["suggestions"] == [ROLE] and item["type"] == "pattern"
    r = await ds.client.get("/-/score/software%20developer")
    item = r.json()["errors"][0]
    assert r.status_code == 400 and "GET /-/match?title=software+developer" in item["problem"]
    assert item["suggestions"][0] == ROLE
    r = await ds.client.get(f"/-/score/{ROLE}?measures=eloundou_beta")
    assert r.status_code == 400 and "did you mean eloundou2023_gpt4_beta" in r.json()["error"]


# --- 3. role links people can type -------------------------------------------------------------
@pytest.mark.asyncio
async def test_dotted_role_url_reaches_the_role(ds):
    r = await ds.client.get("/taskshift/roles/15-1252.00")
    assert r.status_code == 302 and r.headers["location"] == "/taskshift/roles/15-1252~2E00"
    page = await ds.client.get(r.headers["location"])
    assert page.status_code == 200 and "Software Developers" in page.text
    r = await ds.client.get("/taskshift/roles/15-1252.00?_col=title")
    assert r.headers["location"] == "/taskshift/roles/15-1252~2E00?_col=title"
    assert (await ds.client.get("/taskshift/roles/15-1252.00.json")).json()["rows"][0][0] == ROLE


@pytest.mark.asyncio
async def test_short_role_link(ds):
    # /role/{code} is the role page (#13); a code written another way redirects to it
    assert (await ds.client.get(f"/role/{ROLE}")).status_code == 200
    for typed in ("15-1252", "151252"):
        r = await ds.client.get(f"/role/{typed}")
        assert r.status_code == 302 and r.headers["location"] == f"/role/{ROLE}", typed
    r = await ds.client.get("/role/registered%20nurse")
    assert r.status_code == 404 and 'href="/role/29-1141.00"' in r.text and "looks like a job title" in r.text
    r = await ds.client.get("/role/99-9999.00")
    assert r.status_code == 404 and "unknown role" in r.text and "/search?q=" in r.text


# --- small ------------------------------------------------------------------------------------------
def test_serve_help_documents_its_arguments(capsys):
    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    out = capsys.readouterr().out
    for text in ("DB ", "database file (default: $TASKSHIFT_DB", "--host HOST  address to listen on", "--port PORT  port"):
        assert text in out, text


def test_import_taskshift_exports_only_its_api():
    assert "annotations" not in dir(taskshift)
    public = {n for n in dir(taskshift) if not n.startswith("_") and not isinstance(getattr(taskshift, n), type(os))}
    assert public == set(taskshift.__all__) - {"__version__"}


def test_manifest_paths_are_what_locate_checks():
    assert set(pinned_paths()) == {s.path for s in load_manifest()}
