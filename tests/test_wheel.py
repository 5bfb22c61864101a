"""The package and the data together: a wheel built with `python -m build`, installed in a fresh
virtual environment, reads the database with no further step, both through $TASKSHIFT_DB and after
`taskshift download` from a release served on 127.0.0.1 (no internet: the dependencies come from
the package index pip is configured with, the data from the local server)."""
from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest


from taskshift import __version__
from taskshift.release.make import db_name, gzip_file, write_sums

from .conftest import serve_directory as serve

REPO = Path(__file__).resolve().parents[1]
# What the wheel is built from: pyproject.toml's package-dir, its readme and license files.
PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE", "DATA_LICENSE.md")
PROJECT_DIRS = ("taskshift", "schema", "dataset", "api")
SHAPE = "import taskshift; print(taskshift.table('roles').shape)"
SITE = """
import asyncio, os
from datasette.app import Datasette
async def main():
    ds = Datasette(immutables=[os.environ["TASKSHIFT_DB"]])
    await ds.invoke_startup()
    page = await ds.client.get("/role/15-1252.00")
    print(page.status_code, "Software Developers" in page.text)
    for path in ("/-/static-plugins/taskshift/vendor/d3/d3.min.js", "/-/static-plugins/taskshift/taskshift.js"):
        print((await ds.client.get(path)).status_code)
asyncio.run(main())
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("wheel_src")
    for name in PROJECT_FILES:
        if (REPO / name).is_file():
            shutil.copy2(REPO / name, src / name)
    for name in PROJECT_DIRS:
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = src.parent / "wheels"
    # -P: the repository's build.py must not shadow the `build` package (it would with cwd on sys.path)
    run = subprocess.run([sys.executable, "-P", "-m", "build", "--wheel", "--outdir", str(out), str(src)],
                         cwd=src.parent, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    wheels = list(out.glob("taskshift-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def test_wheel_carries_contracts_inside_the_package(wheel):
    assert wheel.name.startswith(f"taskshift-{__version__}-")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        top_level = z.read(next(n for n in names if n.endswith(".dist-info/top_level.txt"))).decode().split()
        entry_points = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    tops = {n.split("/", 1)[0] for n in names}
    assert not tops & {"api", "schema", "dataset"}, "a generic top-level module would land in site-packages"
    assert tops == {"taskshift", f"taskshift-{__version__}.dist-info"}
    assert top_level == ["taskshift"]
    for required in ("taskshift/schema/tables/roles.yaml", "taskshift/dataset/project.toml",
                     "taskshift/api/queries.yaml", "taskshift/release/download.py", "taskshift/site/plugin.py",
                     "taskshift/build/ingest/onet.py", "taskshift/service/scores.py",
                     # the pages: templates, static files and the vendored chart library with its license
                     "taskshift/site/pages.py", "taskshift/site/templates/_footer.html", "taskshift/site/templates/taskshift/role.html",
                     "taskshift/site/templates/taskshift/sections/role_measures.html", "taskshift/site/static/taskshift.js",
                     "taskshift/site/static/taskshift.css", "taskshift/site/static/vendor/d3/d3.min.js",
                     "taskshift/site/static/vendor/d3/LICENSE", "taskshift/api/plain_language.yaml", "taskshift/api/examples.yaml"):
        assert required in names
    assert "taskshift_pages = taskshift.site" in entry_points
    assert not [n for n in names if n.endswith((".db", ".db.gz"))], "the wheel ships no database"


def test_wheel_in_a_fresh_venv_reads_the_database(wheel, built_db, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    run = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    with contextlib.closing(sqlite3.connect(built_db)) as conn:
        rows = conn.execute("SELECT count(*) FROM roles").fetchone()[0]
        cols = len(conn.execute("PRAGMA table_info(roles)").fetchall())
    expected = f"({rows}, {cols})"

    work = tmp_path / "elsewhere"  # not the checkout: `import taskshift` must come from the wheel
    work.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("TASKSHIFT_DB", "TASKSHIFT_RELEASE_URL", "TASKSHIFT_DATA_DIR", "PYTHONPATH",
                        "VIRTUAL_ENV", "PYTHONHOME")}
    env |= {"NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1", "TASKSHIFT_DATA_DIR": str(tmp_path / "data")}

    def py(code: str, **extra) -> subprocess.CompletedProcess:
        return subprocess.run([str(python), "-c", code], cwd=work, env=env | extra, capture_output=True,
                              text=True, timeout=300)

    where = py("import taskshift; print(taskshift.__file__)")
    assert where.returncode == 0, where.stderr
    assert str(venv) in where.stdout and str(REPO) not in where.stdout

    # 1. with $TASKSHIFT_DB pointing at a built database
    shape = py(SHAPE, TASKSHIFT_DB=str(built_db))
    assert shape.returncode == 0, shape.stderr
    assert shape.stdout.strip() == expected

    # the pages are served from the installed wheel: templates, static files, the chart library
    site = py(SITE, TASKSHIFT_DB=str(built_db))
    assert site.returncode == 0, site.stderr[-3000:]
    assert site.stdout.split() == ["200", "True", "200", "200"], site.stdout

    # the embedding model travels in an installed wheel (wordllama, pinned): profile a posting from the fresh venv
    profile = py("import taskshift; r = taskshift.profile('Couple and uncouple trailers and secure loads\\n"
                 "Haul freight across the country in a tractor-trailer\\nInspect the truck before each trip'); "
                 "print(r.model['model'], r.nearest_roles[0].code, r.matched)", TASKSHIFT_DB=str(built_db))
    assert profile.returncode == 0, profile.stderr[-3000:]
    code, matched = profile.stdout.split()[-2:]
    assert profile.stdout.startswith("wordllama==") and code.startswith("53-") and int(matched) >= 2, profile.stdout

    # 2. nothing yet: a clear message that says how to get the data
    missing = py(SHAPE)
    assert missing.returncode != 0
    assert "taskshift download" in missing.stderr

    # 3. after `taskshift download` from a release served on 127.0.0.1, with no further step
    served = tmp_path / "served"
    served.mkdir()
    shutil.copyfile(built_db, served / db_name())
    gzip_file(served / db_name(), served / f"{db_name()}.gz")
    write_sums(served)
    with serve(served) as url:
        download = subprocess.run([str(bindir / "taskshift"), "download", "--url", url], cwd=work, env=env,
                                  capture_output=True, text=True, timeout=300)
    assert download.returncode == 0, download.stderr
    installed = Path(download.stdout.strip())
    assert installed == tmp_path / "data" / db_name()
    shape = py(SHAPE)
    assert shape.returncode == 0, shape.stderr
    assert shape.stdout.strip() == expected
    verify = subprocess.run([str(bindir / "taskshift"), "verify", str(installed)], cwd=work, env=env,
                            capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0, verify.stdout + verify.stderr
