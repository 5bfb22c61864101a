"""`taskshift build --if-changed` (and so `make serve`): rebuild only when an input of the database changed.

After every build the CLI writes `<out>.inputs.json` beside the database: what the database was made
from. The next `--if-changed` build compares that record with the inputs as they are now and builds
only if one differs, naming the first difference:

- the raw files: size and modification time of every file pinned in `dataset/sources/*.toml`
  (a file replaced, touched or removed counts as changed; the build then checks its sha256);
- the code the build ran: the sha256 of every taskshift module the build imported (its list is
  recorded: a service or site change does not rebuild the data);
- the contracts and the dataset: the sha256 of every file under `schema/` and `dataset/` (manifest,
  measure registry, curated tables, project.toml);
- the options (`--release`) and the environment (Python, SQLite and the versions of the libraries
  that read and write the data);
- the database itself: its size and modification time as written (a database replaced or edited by
  hand is rebuilt).

Light: stdlib only, so an up-to-date check does not import pandas.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import sqlite3
import sys
from importlib import metadata
from pathlib import Path

from taskshift.build.locate import pinned_paths
from taskshift.resources import dataset_files, schema_files

FORMAT = 1
LIBRARIES = ("pandas", "numpy", "pandera", "sqlite-utils", "pydantic", "python-calamine", "openpyxl", "xlrd", "pyyaml")
PACKAGE = Path(__file__).resolve().parents[1]   # the taskshift package directory


def stamp_path(out: Path) -> Path:
    return out.with_name(out.name + ".inputs.json")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(root, prefix: str) -> dict[str, str]:
    """sha256 of every file under a (Traversable) folder, by path."""
    out: dict[str, str] = {}

    def walk(folder, rel: str):
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.startswith((".", "__pycache__")) or entry.name.endswith(".pyc"):
                continue
            if entry.is_dir():
                walk(entry, f"{rel}/{entry.name}")
            else:
                out[f"{rel}/{entry.name}"] = hashlib.sha256(entry.read_bytes()).hexdigest()

    walk(root, prefix)
    return out


def build_modules() -> list[str]:
    """The taskshift modules loaded in this process, as paths relative to the package (after a build:
    the code the build ran)."""
    found = set()
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if not file or not module.__name__.startswith("taskshift"):
            continue
        path = Path(file).resolve()
        if path.suffix == ".py" and path.is_relative_to(PACKAGE):
            found.add(path.relative_to(PACKAGE).as_posix())
    return sorted(found)


def environment() -> dict[str, str]:
    env = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for name in LIBRARIES:
        try:
            env[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            env[name] = "missing"
    return env


def sources_state(sources: Path) -> dict[str, list[int] | None]:
    state: dict[str, list[int] | None] = {}
    for rel in pinned_paths():
        try:
            st = (sources / rel).stat()
            state[rel] = [st.st_size, st.st_mtime_ns]
        except OSError:
            state[rel] = None
    return state


def fingerprint(sources: Path, release: bool, modules: list[str]) -> dict:
    """The inputs of a build from `sources` (absolute) with the code in `modules` (relative to the package)."""
    code = {}
    for rel in modules:
        path = PACKAGE / rel
        code[rel] = _sha(path) if path.is_file() else "missing"
    return {
        "format": FORMAT,
        "options": {"release": bool(release), "sources": str(sources)},
        "environment": environment(),
        "code": code,
        "contracts": _tree(schema_files(), "schema"),
        "dataset": _tree(dataset_files(), "dataset"),
        "sources": sources_state(sources),
    }


def _db_state(out: Path) -> list[int]:
    st = out.stat()
    return [st.st_size, st.st_mtime_ns]


def write_stamp(out: Path, sources: Path, release: bool) -> Path:
    """Record the inputs of the database just built at `out` (call right after the build)."""
    record = fingerprint(sources, release, build_modules())
    record["database"] = _db_state(out)
    target = stamp_path(out)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, target)
    return target


def _first_difference(kind: str, old: dict, new: dict) -> str | None:
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            if key not in old:
                return f"{kind}: {key} added"
            if key not in new:
                return f"{kind}: {key} removed"
            if kind in ("options", "environment"):
                return f"{kind}: {key} {old[key]} -> {new[key]}"
            return f"{kind}: {key} changed"
    return None


def needs_build(out: Path, sources: Path, release: bool) -> str | None:
    """Why the database at `out` must be (re)built from `sources`, or None when it is up to date."""
    if not out.is_file():
        return f"{out} does not exist"
    stamp = stamp_path(out)
    try:
        record = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"no record of what {out} was built from ({stamp.name} missing or unreadable)"
    if record.get("format") != FORMAT:
        return f"{stamp.name} is from another taskshift version"
    if record.get("database") != _db_state(out):
        return f"{out} was changed after it was built"
    now = fingerprint(sources, release, sorted(record.get("code", {})))
    for kind in ("options", "environment", "code", "contracts", "dataset", "sources"):
        reason = _first_difference(kind, record.get(kind, {}), now[kind])
        if reason:
            return reason
    return None
