"""Find, verify, fetch and read the raw upstream files pinned in `dataset/sources/*.toml`.

Every file is checked against its sha256 before it is read; a missing file or a mismatch stops the
build with the file, both hashes and the URL to get it. Reads validate against `schema/raw/<id>.yaml`.
"""
from __future__ import annotations

import csv
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import pandas as pd

from taskshift.contracts import Contract, ContractError, raw_contracts
from taskshift.build.locate import ENV_SOURCES, SourceError, SourcesDirError, sha256_of, sources_dir  # noqa: F401
from taskshift.resources import dataset_files, toml_files


@dataclass(frozen=True)
class Source:
    id: str
    path: str
    url: str
    sha256: str
    bytes: int
    version: str
    license: str
    citation: str
    redistributable: bool
    publisher: str = ""
    license_url: str = ""
    origin: str = ""
    notes: str = ""
    family: str = ""
    read: dict = field(default_factory=dict, compare=False, hash=False)

    def where(self, sources_dir: Path) -> Path:
        return Path(sources_dir) / self.path


@dataclass(frozen=True)
class Manifest:
    sources: dict[str, Source]

    def __getitem__(self, source_id: str) -> Source:
        try:
            return self.sources[source_id]
        except KeyError:
            raise SourceError(f"source {source_id!r} is not in the manifest (dataset/sources/*.toml)") from None

    def __iter__(self):
        return iter(self.sources.values())

    def __len__(self) -> int:
        return len(self.sources)

    def pinned_to(self, sources_dir: Path, *ids: str) -> "Manifest":
        """A copy whose entries for `ids` pin the files as they are now in `sources_dir` (for tests)."""
        sources = dict(self.sources)
        for sid in ids:
            path = sources[sid].where(sources_dir)
            sources[sid] = replace(sources[sid], sha256=sha256_of(path), bytes=path.stat().st_size)
        return Manifest(sources)


@cache
def load_manifest() -> Manifest:
    sources: dict[str, Source] = {}
    for family, doc in toml_files(dataset_files() / "sources").items():
        for entry in doc.get("source", []):
            entry = dict(entry)
            entry.setdefault("family", family)
            if entry["id"] in sources:
                raise ValueError(f"source id {entry['id']!r} is declared twice in dataset/sources/")
            sources[entry["id"]] = Source(**entry)
    return Manifest(dict(sorted(sources.items())))


def verify(source: Source, root: Path) -> Path:
    path = source.where(root)
    if not path.is_file():
        raise SourceError(
            f"{source.path}: missing from {root}. Expected sha256 {source.sha256}; "
            f"get it with `taskshift fetch --sources {root}` or from {source.url}"
        )
    try:
        actual = sha256_of(path)
    except OSError as err:
        raise SourceError(f"{source.path}: cannot be read from {root} ({err.strerror or err}): "
                          "check that this user may read it (permissions), or fetch it again") from None
    if actual != source.sha256:
        raise SourceError(
            f"{source.path}: sha256 mismatch: expected {source.sha256}, actual {actual} "
            f"({path.stat().st_size} bytes, expected {source.bytes}). "
            f"The file is damaged or a different version; get the pinned file from {source.url}"
        )
    return path


MISSING_LISTED = 5  # more missing files than this are summarised in one line


def unverified_report(failures: list[tuple[Source, SourceError]], root: Path, total: int) -> str:
    """One message for the files that failed `verify`: each damaged file on its own line; missing
    files one per line when few, else summarised; a sources folder one level off named once."""
    from taskshift.build.locate import one_level_off, present

    seen: dict[str, tuple[Source, SourceError]] = {}
    for source, err in failures:  # several sources can pin one file (sheets of a workbook): report it once
        seen.setdefault(source.path, (source, err))
    absent = [s for s, _ in seen.values() if not s.where(root).is_file()]
    damaged = [str(e) for s, e in seen.values() if s.where(root).is_file()]
    near = one_level_off(root)
    if near is not None:
        return (f"sources directory {root} holds {present(root)} of the {total} pinned raw files, {near} holds "
                f"{present(near)}: did you mean --sources {near}?")
    lines = damaged
    if len(absent) > MISSING_LISTED:
        examples = ", ".join(s.path for s in absent[:3])
        lines = [f"{len(absent)} of the {total} pinned raw files are missing from {root} (e.g. {examples}); "
                 f"get them with `taskshift fetch --sources {root}` or pass the folder that holds them"] + lines
    else:
        lines = [str(e) for s, e in seen.values() if s in absent] + lines
    return "\n".join(lines)


def fetch(root: Path, manifest: Manifest | None = None, ids: list[str] | None = None,
          log=print) -> list[str]:
    """Download every missing (or damaged) file into `root` and verify it. Returns the ids fetched."""
    manifest = manifest or load_manifest()
    fetched = []
    for source in manifest:
        if ids and source.id not in ids:
            continue
        path = source.where(root)
        if path.is_file() and sha256_of(path) == source.sha256:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        log(f"fetching {source.path} from {source.url}")
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, prefix=".fetch-") as tmp:
            try:
                with urllib.request.urlopen(source.url, timeout=60) as response:
                    shutil.copyfileobj(response, tmp)
                tmp.close()
                actual = sha256_of(Path(tmp.name))
                if actual != source.sha256:
                    raise SourceError(f"{source.path}: downloaded file from {source.url} has sha256 {actual}, "
                                      f"expected {source.sha256}; not installed")
                os.replace(tmp.name, path)
            except Exception:
                Path(tmp.name).unlink(missing_ok=True)
                raise
        fetched.append(source.id)
    return fetched


class RawReader:
    """Reads raw files: verify the hash, parse with the manifest's read options, validate the contract.

    Each file is read once per reader; `read()` returns a frame of the declared columns with an index
    equal to the 1-based line (or sheet row) number, so errors point at the row to open. The files that
    share one contract (read.contract: one file per state and year) are read and validated together
    on the first `read` of one of them (`Contract.validate_many`: the same frames and errors as one by one);
    each file's own error is raised by the `read` of that file.
    """

    def __init__(self, root: Path, manifest: Manifest | None = None,
                 contracts: dict[str, Contract] | None = None):
        self.root = Path(root)
        self.manifest = manifest or load_manifest()
        self.contracts = raw_contracts() if contracts is None else contracts
        self._cache: dict[str, pd.DataFrame] = {}
        self._failed: dict[str, Exception] = {}
        self.used: list[str] = []

    def read(self, source_id: str) -> pd.DataFrame:
        if source_id not in self._cache and source_id not in self._failed:
            source = self.manifest[source_id]
            # several files of one layout (one per state and year) may share a contract: read.contract
            contract = source.read.get("contract", source_id)
            if contract not in self.contracts:
                raise SourceError(f"source {source_id!r} has no contract schema/raw/{contract}.yaml")
            ids = [source_id]
            if "contract" in source.read:
                done = {source_id, *self._cache, *self._failed}
                ids += [s.id for s in self.manifest if s.read.get("contract") == contract and s.id not in done]
            self._read_together(self.contracts[contract], ids)
        if source_id in self._failed:
            raise self._failed[source_id]
        if source_id not in self.used:  # in the order they were asked for, not read together
            self.used.append(source_id)
        return self._cache[source_id].copy(deep=False)  # copy-on-write: changes to it never reach the cache

    def _read_together(self, contract: Contract, ids: list[str]) -> None:
        """Read, verify and validate the files `ids` that share `contract`; each one's frame goes to the
        cache, or its error (SourceError, ContractError) to `_failed`."""
        frames = []
        for sid in ids:
            source = self.manifest[sid]
            try:
                frames.append((sid, source.path, read_file(verify(source, self.root), source.read)))
            except SourceError as err:
                self._failed[sid] = err
        results = contract.validate_many([(where, frame) for _, where, frame in frames])
        for (sid, _, _), result in zip(frames, results):
            if isinstance(result, ContractError):
                self._failed[sid] = result
            else:
                self._cache[sid] = result


def read_file(path: Path, options: dict) -> pd.DataFrame:
    """Parse a raw file into strings (or spreadsheet values); index = 1-based line/row number."""
    fmt = options.get("format") or path.suffix.lstrip(".")
    header = int(options.get("header_row", 1))
    if fmt in ("tsv", "csv", "txt"):
        quoting = csv.QUOTE_NONE if options.get("quoting") == "none" else csv.QUOTE_MINIMAL
        try:
            frame = pd.read_csv(
                path, sep="\t" if fmt in ("tsv", "txt") else ",", dtype=str, keep_default_na=False,
                na_values=["", *options.get("na_values", [])], skiprows=header - 1, encoding=options.get("encoding", "utf-8"),
                quoting=quoting, on_bad_lines="error",
            )
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
            raise SourceError(f"{path.name}: cannot be parsed as {fmt}: {err}") from None
        except OSError as err:
            raise SourceError(f"{path.name}: cannot be read ({err.strerror or err}): check its permissions") from None
        if not isinstance(frame.index, pd.RangeIndex):
            # pandas takes the first column as the index when the data rows have one field more than the
            # header: a delimiter at the end of the rows
            raise SourceError(
                f"{path.name}: row {header + 1}: {len(frame.columns) + 1} fields but the header (row {header}) has "
                f"{len(frame.columns)}: a trailing delimiter at the end of the rows? Remove it, or restore the pinned file")
        frame.index = frame.index + header + 1
    elif fmt in ("xlsx", "xls"):
        try:
            # dtype=object keeps text cells as text ('0110' stays '0110'); numbers stay numbers.
            frame = pd.read_excel(path, sheet_name=options.get("sheet", 0), header=header - 1,
                                  engine="calamine", dtype=object)
        except Exception as err:  # calamine raises its own types for damaged workbooks
            raise SourceError(f"{path.name}: cannot be read as {fmt}: {err}") from None
        frame.index = frame.index + header + 1
    elif fmt == "json":
        frame = read_json_records(path, options)
    else:
        raise SourceError(f"{path.name}: unknown format {fmt!r} in the manifest")
    frame.columns = [str(c).strip() if options.get("strip_header", True) else str(c) for c in frame.columns]
    return frame


def read_json_records(path: Path, options: dict) -> pd.DataFrame:
    """A JSON file of records -> a frame of strings, one row per record (index = 1-based record number).

    Read options: `records` = the top-level key holding the records (an object keyed by id, or a list;
    omit it when the file itself is the list); `record_key` = the column that takes an object's keys;
    `meta` = top-level keys repeated on every row. Numbers keep their JSON text (no float rounding); a
    key absent from a record is null, as a blank cell is in a CSV.
    """
    import json

    try:
        with open(path, encoding=options.get("encoding", "utf-8")) as fh:
            doc = json.load(fh, parse_float=str, parse_int=str)
    except (ValueError, UnicodeDecodeError) as err:
        raise SourceError(f"{path.name}: cannot be parsed as json: {err}") from None
    except OSError as err:
        raise SourceError(f"{path.name}: cannot be read ({err.strerror or err}): check its permissions") from None
    where = options.get("records")
    records = doc.get(where) if where and isinstance(doc, dict) else doc
    key = options.get("record_key")
    if isinstance(records, dict) and key:
        rows = [{key: k, **v} if isinstance(v, dict) else None for k, v in records.items()]
    elif isinstance(records, list):
        rows = list(records)
    else:
        raise SourceError(f"{path.name}: no records at {where or 'the top level'!r} (an object keyed by id needs read.record_key)")
    bad = [i for i, r in enumerate(rows, 1) if not isinstance(r, dict)]
    if bad:
        raise SourceError(f"{path.name}: record {bad[0]} of {where or 'the file'!r} is not an object")
    meta = {m: doc.get(m) if isinstance(doc, dict) else None for m in options.get("meta", [])}
    frame = pd.DataFrame([{**meta, **r} for r in rows], dtype=object)
    frame = frame.map(lambda v: None if v is None or v != v else v if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v))
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame
