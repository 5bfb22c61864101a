"""Where the raw files are: the sources directory, resolved once at the edge (CLI, library, tests).

Light on purpose (stdlib and the packaged manifest only, no pandas): the CLI checks a sources
directory, and `taskshift download` hashes files, without importing the build.

A path from the command line or `$TASKSHIFT_SOURCES` is turned into an absolute path here, once;
everything after this works with that absolute path (a relative path would point somewhere else
from a test's temporary folder or a subprocess). A directory one level off (the folder above or a
folder below the one that holds the pinned files) is recognised and named in ONE message.
"""
from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

from taskshift.resources import dataset_files, toml_files

ENV_SOURCES = "TASKSHIFT_SOURCES"


class SourceError(Exception):
    """A raw file is missing, damaged or not what the manifest pins (re-exported by `taskshift.build.sources`)."""


class SourcesDirError(SourceError):
    """The sources directory is missing, not a directory, or one level off."""


@cache
def pinned_paths() -> tuple[str, ...]:
    """The relative path of every raw file pinned in `dataset/sources/*.toml` (each path once, sorted)."""
    paths = {entry["path"] for doc in toml_files(dataset_files() / "sources").values() for entry in doc.get("source", [])}
    return tuple(sorted(paths))


def present(root: Path, paths: tuple[str, ...] | None = None) -> int:
    """How many of the pinned files are in `root`."""
    return sum((root / p).is_file() for p in (pinned_paths() if paths is None else paths))


def one_level_off(root: Path, paths: tuple[str, ...] | None = None) -> Path | None:
    """A folder next to `root` (a child, or the parent) that holds more of the pinned files than
    `root` itself and at least half of them; None if `root` is the best place there is."""
    paths = pinned_paths() if paths is None else paths
    if not paths or not root.is_dir():
        return None
    here = present(root, paths)
    if here * 2 >= len(paths):
        return None
    candidates = [root.parent] if root.parent != root else []
    try:
        candidates += sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        pass
    best, best_n = None, here
    for candidate in candidates:
        n = present(candidate, paths)
        if n > best_n:
            best, best_n = candidate, n
    return best if best is not None and best_n * 2 >= len(paths) else None


def _as_given(given: str, root: Path, other: Path) -> str:
    """`other` written the way the user wrote `root` (relative stays relative): ../shared -> ../shared/sources."""
    if other.parent == root:
        return os.path.join(given, other.name)
    if root.parent == other:
        return os.path.normpath(os.path.join(given, os.pardir))
    return str(other)


def sources_dir(given: str | os.PathLike | None = None, *, must_exist: bool = True) -> Path:
    """The sources directory as an absolute path: `given`, else $TASKSHIFT_SOURCES.

    Raises SourcesDirError when none is given, when it is a file, when it does not exist
    (unless `must_exist` is false: `taskshift fetch` creates it), and when it is one level off the
    folder that holds the pinned files ("did you mean ../shared/sources?").
    """
    value = os.fspath(given) if given else os.environ.get(ENV_SOURCES)
    how = "--sources" if given else f"${ENV_SOURCES}"
    if not value:
        raise SourcesDirError(f"no sources directory: pass --sources DIR or set {ENV_SOURCES} "
                              "(the folder with onet/, bls/, exposure/ and taxonomy/, e.g. ../shared/sources)")
    path = Path(value).expanduser()
    if path.is_file():
        raise SourcesDirError(f"sources directory {value} ({how}) is a file, not a folder: give the folder that "
                              "holds onet/, bls/, exposure/ and taxonomy/ (e.g. ../shared/sources)")
    if not path.exists():
        if must_exist:
            parent, parent_given, hint = path.parent, os.path.dirname(value.rstrip("/")) or ".", ""
            if parent.is_dir():
                if present(parent) * 2 >= len(pinned_paths()):
                    hint = f"; did you mean {parent_given}?"
                elif (near := one_level_off(parent)) is not None:
                    hint = f"; did you mean {_as_given(parent_given, parent, near)}?"
            raise SourcesDirError(f"sources directory {value} ({how}) does not exist{hint}")
        return Path(os.path.abspath(path))
    path = path.resolve()
    near = one_level_off(path)
    if near is not None:
        n = len(pinned_paths())
        raise SourcesDirError(
            f"sources directory {value} ({how}) holds {present(path)} of the {n} pinned raw files, "
            f"{_as_given(value, path, near)} holds {present(near)}: did you mean {_as_given(value, path, near)}?")
    return path


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
