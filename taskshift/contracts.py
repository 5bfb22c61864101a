"""Contracts: `schema/raw/*.yaml` and `schema/tables/*.yaml` turned into the things that use them.

A contract is declared once and drives
- type coercion and pandera validation (lazy: every failure is collected, then reported together),
- the SQLite DDL (types, NOT NULL, primary and foreign keys, indexes, full-text search),
- the column descriptions shown by Datasette and written to datapackage.json.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
try:  # pandas' own Arrow (its string columns): optional, as for pandas; without it the pure Python paths run
    import pyarrow as pa_arrow
    import pyarrow.compute as pc
except ImportError:  # pragma: no cover - the wheel's minimal install
    pa_arrow = pc = None

from taskshift.resources import schema_files, yaml_files

if TYPE_CHECKING:
    import pandera.pandas as pa
    from pandera.errors import SchemaErrors

TYPES = {"text": "TEXT", "integer": "INTEGER", "real": "REAL", "blob": "BLOB"}
EXAMPLES = 3  # failing values shown per (column, rule)
#: Control characters no text field may hold (C0 except tab, line feed and carriage return; DEL): a NUL
#: or an escape code in a task statement is damage, not data.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Every byte but those of CONTROL_CHARACTERS: deleting them from a text's UTF-8 leaves its control
#: characters (in UTF-8 a byte below 0x80 is always that ASCII character, never part of another one).
_NOT_CONTROL_BYTES = bytes(b for b in range(256) if not CONTROL_CHARACTERS.match(chr(b)))


class ContractError(Exception):
    """Validation failures of one raw file or output table.

    `failures` is a list of dicts: where (file or table), column, rule, count, examples
    (a list of (row, value)). `str()` gives one readable line per failure.
    """

    def __init__(self, failures: list[dict]):
        self.failures = failures
        super().__init__("\n".join(format_failure(f) for f in failures))

    def __reduce__(self):  # from a build worker process back to the build (taskshift.build.parallel)
        return (type(self), (self.failures,), self.__dict__)


def format_failure(f: dict) -> str:
    where = f["where"]
    column = f" column '{f['column']}'" if f.get("column") else ""
    examples = ", ".join(f"{row}: {value!r}" for row, value in f.get("examples", []))
    count = f.get("count", 1)
    tail = f" ({count} failing; e.g. {examples})" if examples else ""
    return f"{where}:{column} rule {f['rule']} failed{tail}"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str = ""
    nullable: bool = False
    unique: bool = False
    pattern: str | None = None
    isin: tuple | None = None
    min: float | None = None
    max: float | None = None
    min_length: int | None = None
    length: int | None = None  # blob: exact size in bytes

    @classmethod
    def from_yaml(cls, name: str, spec: dict) -> "Column":
        unknown = set(spec) - {f for f in cls.__dataclass_fields__ if f != "name"}
        if unknown:
            raise ValueError(f"column {name!r}: unknown contract keys {sorted(unknown)}")
        if spec.get("type") not in TYPES:
            raise ValueError(f"column {name!r}: type must be one of {sorted(TYPES)}, not {spec.get('type')!r}")
        spec = dict(spec)
        if "isin" in spec:
            spec["isin"] = tuple(spec["isin"])
        return cls(name=name, **spec)

    def checks(self) -> list[pa.Check]:
        import pandera.pandas as pa  # only for a table that fails (`Contract.check`): a clean build never loads it

        checks = []
        if self.pattern is not None:
            regex = self.regex()  # the rule reads as pandera's own str_matches check
            checks.append(pa.Check(_matches(re.compile(regex)), name=f"pattern {self.pattern}", error=f"str_matches('{regex}')"))
        if self.isin is not None:
            checks.append(pa.Check.isin(list(self.isin), name=f"one of {list(self.isin)}"))
        if self.min is not None:
            checks.append(pa.Check.ge(self.min, name=f">= {self.min}"))
        if self.max is not None:
            checks.append(pa.Check.le(self.max, name=f"<= {self.max}"))
        if self.min_length is not None:
            checks.append(pa.Check.str_length(min_value=self.min_length, name=f"length >= {self.min_length}"))
        if self.length is not None:
            n = self.length
            checks.append(pa.Check(lambda s: s.map(len) == n, name=f"{n} bytes"))
        return checks

    def regex(self) -> str:
        return f"(?:{self.pattern})\\Z"

    def holds(self, s: pd.Series, unique: bool = True) -> bool:
        """True when `s` passes every rule that `check` gives pandera for this column (not null; unique
        among the values present, as pandera counts, unless `unique` is False; `checks`), computed
        directly: pandera's cost per check is paid only for a column that fails (it then finds and words
        the failures). False when in doubt (a value a rule cannot compare)."""
        missing = s.isna()
        values = s[~missing] if missing.any() else s
        try:
            if (not self.nullable and len(values) < len(s)) or (unique and self.unique and values.duplicated().any()):
                return False
            if self.pattern is not None:  # as `_matches`: the regex once per distinct value
                rx = re.compile(self.regex())
                if not all(isinstance(v, str) and rx.match(v) is not None for v in pd.unique(values)):
                    return False
            if self.isin is not None and not values.isin(list(self.isin)).all():
                return False
            if self.min is not None and not (values >= self.min).all():
                return False
            if self.max is not None and not (values <= self.max).all():
                return False
            if self.min_length is not None and not (values.str.len() >= self.min_length).all():
                return False
            return self.length is None or bool((values.map(len) == self.length).all())
        except Exception:  # noqa: BLE001 - in doubt: pandera decides
            return False

    def sql(self) -> str:
        return f'"{self.name}" {TYPES[self.type]}' + ("" if self.nullable else " NOT NULL")


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class Contract:
    name: str
    kind: str  # "raw" or "table"
    columns: tuple[Column, ...]
    description: str = ""
    title: str = ""
    unique: tuple[tuple[str, ...], ...] = ()
    rows: int | None = None
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()
    fts: tuple[str, ...] = ()
    facets: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    sort: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_yaml(cls, name: str, kind: str, spec: dict) -> "Contract":
        spec = dict(spec)
        columns = tuple(Column.from_yaml(n, c) for n, c in (spec.pop("columns") or {}).items())

        def tuples(key):
            return tuple(tuple([v] if isinstance(v, str) else v) for v in spec.pop(key, []) or [])

        def strings(key):
            v = spec.pop(key, []) or []
            return tuple([v] if isinstance(v, str) else v)

        fks = tuple(
            ForeignKey(tuple(fk["columns"]), fk["table"], tuple(fk.get("ref_columns", fk["columns"])))
            for fk in spec.pop("foreign_keys", []) or []
        )
        contract = cls(
            name=name,
            kind=kind,
            columns=columns,
            description=spec.pop("description", ""),
            title=spec.pop("title", ""),
            unique=tuples("unique"),
            rows=spec.pop("rows", None),
            primary_key=strings("primary_key"),
            foreign_keys=fks,
            indexes=tuples("indexes"),
            fts=strings("fts"),
            facets=strings("facets"),
            sources=strings("sources"),
            sort=strings("sort"),
            extra=spec,
        )
        contract._check_names()
        return contract

    def _check_names(self) -> None:
        names = set(self.column_names)
        used = [*self.primary_key, *self.fts, *self.facets, *self.sort]
        used += [c for u in (*self.unique, *self.indexes) for c in u]
        used += [c for fk in self.foreign_keys for c in fk.columns]
        missing = sorted(set(used) - names)
        if missing:
            raise ValueError(f"contract {self.name}: keys name undeclared columns {missing}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    # --- validation -------------------------------------------------------------------------
    def validate(self, df: pd.DataFrame, where: str) -> pd.DataFrame:
        """Coerce `df` to the declared types and check it; raise ContractError listing every failure.

        Returns only the declared columns, in declared order. For raw files the index is the
        line (or sheet row) number, so failures name the row a person would open.
        """
        out, failures = self.prepare(df, where)
        self.check(out, where, failures)
        return out[self.column_names]

    def validate_many(self, frames: list[tuple[str, pd.DataFrame]]) -> list[pd.DataFrame | ContractError]:
        """`validate` of each (where, frame) of files that share this contract (one file per state and
        year): the same frames, or the same ContractError, as one `validate` call per file.

        When every file passes (the usual case) they are converted and checked together, in one pass over
        their concatenation: the cost of a call is paid once, not once per file. The rules that hold per
        file (unique columns, unique keys, the primary key) are checked per file there; a contract with a
        row count is always checked file by file. On any failure every file is validated on its own, so
        each failure names its file and row exactly as `validate` does."""
        names = self.column_names
        together = len(frames) > 1 and self.rows is None and all(
            f.columns.is_unique and set(names) <= set(f.columns) for _, f in frames)
        if together:
            out, failures = self.prepare(pd.concat([f[names] for _, f in frames], ignore_index=True), where="")
            file = np.repeat(np.arange(len(frames)), [len(f) for _, f in frames])
            if not failures and self._passes_per_file(out, file):
                ends = np.cumsum([len(f) for _, f in frames])
                return [out.iloc[end - len(f):end].set_axis(f.index) for end, (_, f) in zip(ends, frames)]
        results: list[pd.DataFrame | ContractError] = []
        for where, frame in frames:
            try:
                results.append(self.validate(frame, where))
            except ContractError as err:
                results.append(err)
        return results

    def _passes_per_file(self, out: pd.DataFrame, file: np.ndarray) -> bool:
        """True when the rows of several files (`file`: the file of each row), converted by `prepare`,
        pass every rule of `check` file by file (no failure to report)."""
        if not self._holds(out, unique=False):
            return False
        keys = [[c.name] for c in self.columns if c.unique] + [list(u) for u in self.unique]
        keys += [list(self.primary_key)] if self.primary_key else []
        # a key repeated within one file: (file, *key) repeated; columns by position, so no name clashes
        return not any(pd.DataFrame({0: file, **{i: out[c] for i, c in enumerate(key, 1)}}).duplicated().any()
                       for key in keys)

    def _holds(self, out: pd.DataFrame, unique: bool = True) -> bool:
        """True when `out` passes the pandera schema of `check` (`_schema`), found without pandera
        (`Column.holds`, and the one unique key); without the unique rules when `unique` is False."""
        if not all(c.holds(out[c.name], unique) for c in self.columns if c.name in out.columns):
            return False
        return not (unique and len(self.unique) == 1 and out.duplicated(list(self.unique[0])).any())

    def _schema(self, out: pd.DataFrame, unique: bool = True) -> pa.DataFrameSchema:
        """The pandera schema of `check` for the declared columns `out` has; without the unique rules
        when `unique` is False."""
        present = [c for c in self.columns if c.name in out.columns]
        import pandera.pandas as pa  # only for a table that fails (`check`): a clean build never loads it

        return pa.DataFrameSchema(
            {c.name: pa.Column(None, c.checks(), nullable=c.nullable, unique=c.unique and unique, required=True)
             for c in present},
            unique=[list(u) for u in self.unique] if unique and len(self.unique) == 1 else None,
            strict=False,
        )

    def prepare(self, df: pd.DataFrame, where: str) -> tuple[pd.DataFrame, list[dict]]:
        """The first half of `validate`: every declared column present (else ContractError at once),
        converted to its declared type, free of control characters, and the row count. Returns the
        converted columns and the failures found so far; `check` does the rest. (The build converts
        its output tables here and checks them in a worker while it writes them: assemble.py.)"""
        failures: list[dict] = []
        missing = [c for c in self.column_names if c not in df.columns]
        for name in missing:
            failures.append({"where": where, "column": name, "rule": "column present", "count": 1,
                             "examples": [("header", list(map(str, df.columns))[:12])]})
        present = [c for c in self.columns if c.name not in missing]
        converted = {}
        for col in present:
            converted[col.name], bad = coerce(df[col.name], col.type)
            if bad.any():
                failures.append(_failure(where, col.name, f"type {col.type}", df[col.name][bad]))
        out = pd.DataFrame(converted, index=df.index)
        for col in present:
            if col.type == "text" and not _free_of_control_bytes(df[col.name]):
                bad = control_characters(out[col.name])
                if bad is not None:
                    failures.append(_failure(where, col.name, "no control characters", out[col.name][bad]))
        if self.rows is not None and len(df) != self.rows:
            failures.append({"where": where, "column": None, "rule": f"row count {self.rows}",
                             "count": 1, "examples": [("rows", len(df))]})
        if failures and missing:
            raise ContractError(failures)
        return out, failures

    def check(self, out: pd.DataFrame, where: str, failures: list[dict] = ()) -> None:
        """The second half of `validate`, on what `prepare` returned: the pandera checks (nulls, unique
        columns, patterns, allowed values, ranges, lengths), unique keys and the primary key. Raises
        ContractError with `failures` (from `prepare`) and these, or returns None when there are none."""
        failures = list(failures)
        if not self._holds(out):  # pandera only for a table that fails: it finds and words the failures
            from pandera.errors import SchemaErrors

            try:
                self._schema(out).validate(out, lazy=True)
            except SchemaErrors as err:
                failures += _pandera_failures(err, where)
        for key in self.unique if len(self.unique) > 1 else ():
            dup = out.duplicated(list(key), keep=False)
            if dup.any():
                failures.append(_failure(where, ", ".join(key), "unique", out.loc[dup, list(key)].apply(tuple, axis=1)))
        if self.primary_key:  # every declared column is present here (`prepare` stops when one is missing)
            dup = out.duplicated(list(self.primary_key), keep=False)
            if dup.any():
                failures.append(_failure(where, ", ".join(self.primary_key), "primary key unique",
                                         out.loc[dup, list(self.primary_key)].apply(tuple, axis=1)))
        if failures:
            raise ContractError(failures)

    # --- SQLite ------------------------------------------------------------------------------
    def ddl(self) -> list[str]:
        parts = [c.sql() for c in self.columns]
        if self.primary_key:
            parts.append("PRIMARY KEY (" + ", ".join(f'"{c}"' for c in self.primary_key) + ")")
        for fk in self.foreign_keys:
            cols = ", ".join(f'"{c}"' for c in fk.columns)
            refs = ", ".join(f'"{c}"' for c in fk.ref_columns)
            parts.append(f'FOREIGN KEY ({cols}) REFERENCES "{fk.table}" ({refs})')
        statements = [f'CREATE TABLE "{self.name}" (\n  ' + ",\n  ".join(parts) + "\n)"]
        for cols in self.indexes:
            index = f"idx_{self.name}_" + "_".join(cols)
            statements.append(f'CREATE INDEX "{index}" ON "{self.name}" (' + ", ".join(f'"{c}"' for c in cols) + ")")
        return statements

    def descriptions(self) -> dict[str, str]:
        return {c.name: c.description for c in self.columns if c.description}


def _matches(rx: re.Pattern):
    """Check function: each value matches `rx` from its start (pandera's str_matches, i.e. `re.match`),
    with the regex run once per distinct value: a column of codes repeats few values many times."""
    def check(s: pd.Series) -> pd.Series:
        good = [v for v in pd.unique(s.dropna()) if isinstance(v, str) and rx.match(v) is not None]
        return s.isin(good)
    return check


def control_characters(s: pd.Series) -> pd.Series | None:
    """Mask of the values holding a control character (CONTROL_CHARACTERS), or None when there is none."""
    values = s.tolist()
    try:
        joined = "".join(filter(None, values))  # the usual column: text and None
    except TypeError:  # other values too: only the text counts
        joined = "".join(v for v in values if isinstance(v, str))
    # one scan of the whole column, as bytes (a regex search of the text costs ~8x more)
    if not joined or not joined.encode("utf-8", "surrogatepass").translate(None, _NOT_CONTROL_BYTES):
        return None
    return s.map(lambda v: isinstance(v, str) and CONTROL_CHARACTERS.search(v) is not None).astype(bool)


def _free_of_control_bytes(s: pd.Series) -> bool:
    """True when `s` is a column of Arrow strings whose UTF-8 bytes hold no control character (one scan of
    the bytes behind it, which hold every text `coerce` keeps of it); False otherwise, or when unsure."""
    arr = _arrow_text(s)
    if arr is None:
        return False
    for chunk in arr.chunks:
        _, offsets, data = chunk.buffers()
        width = np.int64 if pa_arrow.types.is_large_string(chunk.type) else np.int32
        ends = np.frombuffer(offsets, dtype=width)[[chunk.offset, chunk.offset + len(chunk)]] if len(chunk) else (0, 0)
        if data is not None and memoryview(data)[ends[0]:ends[1]].tobytes().translate(None, _NOT_CONTROL_BYTES):
            return False
    return True


def _arrow_text(s: pd.Series):
    """The Arrow array behind a column of pandas' Arrow-backed strings (what read_csv gives), or None."""
    if pa_arrow is not None and isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        return pa_arrow.chunked_array(s.array.__arrow_array__())
    return None


def _arrow_present(arr) -> np.ndarray:
    """Not missing and not blank (Arrow's whitespace is Python's: see `_present`), as a numpy mask."""
    kept = pc.and_kleene(pc.is_valid(arr), pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(arr)), 0))
    return np.asarray(kept.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _present(s: pd.Series) -> pd.Series:
    """Mask of the values that are there: not missing and not blank (only whitespace) as text. A number
    is never blank, so numeric columns skip the conversion to text."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype):
        return s.notna()
    arr = _arrow_text(s)
    if arr is not None:
        return pd.Series(_arrow_present(arr), index=s.index)
    if pd.api.types.is_object_dtype(s.dtype):
        # Python's whitespace is Arrow's (utf8_trim_whitespace), character for character (every code point
        # checked): a column of text and missing values is checked by Arrow in one pass (Arrow's nulls are
        # pandas' missing values: None, NaN, NA, NaT)
        try:
            if pa_arrow is None:
                raise TypeError("no pyarrow")
            arr = pa_arrow.array(s.to_numpy(), type=pa_arrow.large_string(), from_pandas=True)
        except (TypeError, ValueError, UnicodeError) + ((pa_arrow.ArrowException,) if pa_arrow else ()):  # one by one
            notna = s.notna()
            blank = [ok and (v == "" or v.isspace() if isinstance(v, str) else not str(v).strip())
                     for v, ok in zip(s.tolist(), notna.tolist())]
            return notna & ~pd.Series(blank, index=s.index, dtype=bool)
        return pd.Series(_arrow_present(arr), index=s.index)
    return s.notna() & ~s.astype("string").str.strip().eq("").fillna(False)


#: Numbers written plainly, which Arrow and pandas' to_numeric read alike (both round a decimal to the
#: nearest double; an integer of up to 15 digits is exact as a double); to_numeric takes more (padding,
#: 'inf', thousands of digits, ...): a column holding any other text is left to it
_PLAIN_NUMBER = {"real": r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$", "integer": r"^[+-]?\d{1,15}(?:\.0*)?$"}


def _arrow_number(s: pd.Series, type_: str, present: pd.Series) -> pd.Series | None:
    """`pd.to_numeric` of the `present` values of a column of Arrow strings (else missing), as float64,
    parsed by Arrow (~20x faster) when every one is a plain number (_PLAIN_NUMBER); else None."""
    arr = _arrow_text(s)
    if arr is None:
        return None
    values = pc.if_else(pa_arrow.array(present.to_numpy()), arr, pa_arrow.scalar(None, arr.type))
    if pc.all(pc.match_substring_regex(values, _PLAIN_NUMBER[type_])).as_py() is False:
        return None
    try:
        number = pc.cast(values, pa_arrow.float64())
    except pa_arrow.ArrowInvalid:  # out of a double's range: to_numeric says what it makes of it
        return None
    return pd.Series(number.to_numpy(zero_copy_only=False), index=s.index)


def _cell_text(v) -> str | None:
    """A value as text, None when blank (only whitespace); codes that a spreadsheet stored as numbers
    as they are written: 31.0 -> "31"."""
    text = str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
    return text if text.strip() else None


def coerce(s: pd.Series, type_: str) -> tuple[pd.Series, pd.Series]:
    """Convert a column to a declared type; return (converted, mask of values that would not convert)."""
    if type_ == "blob":  # bytes as they are; anything else does not convert
        present = s.notna()
        ok = s.map(lambda v: isinstance(v, (bytes, bytearray, memoryview)), na_action="ignore").fillna(False).astype(bool)
        converted = s.map(bytes, na_action="ignore").where(present & ok, None).astype(object)
        return converted, present & ~ok
    arr = _arrow_text(s) if type_ == "text" else None
    if arr is not None:  # Arrow-backed strings: kept where present, None elsewhere, in one pass
        keep = _arrow_present(arr)
        values = pc.if_else(pa_arrow.array(keep), arr, pa_arrow.scalar(None, arr.type)).to_numpy()
        return pd.Series(values, index=s.index, dtype=object), pd.Series(False, index=s.index)
    if type_ == "text" and pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty"):
        # not only strings (spreadsheet cells: text and numbers): each value converted, or found blank, in one pass
        converted = [_cell_text(v) if ok else None for v, ok in zip(s.tolist(), s.notna().tolist())]
        return pd.Series(converted, index=s.index, dtype=object), pd.Series(False, index=s.index)
    present = _present(s)
    if type_ == "text":  # already strings (every CSV/TSV column): no per-value call
        everywhere = bool(present.all())
        converted = s.astype(object)
        return converted if everywhere else converted.where(present, None), pd.Series(False, index=s.index)
    if type_ in ("integer", "real") and pd.api.types.is_integer_dtype(s.dtype) or (
            type_ == "real" and pd.api.types.is_float_dtype(s.dtype)):
        # already numbers of the declared kind (most derived columns): nothing to parse, nothing can fail
        return s.astype("Int64" if type_ == "integer" else "float64"), pd.Series(False, index=s.index)
    number = _arrow_number(s, type_, present)
    if number is None:
        number = pd.to_numeric(s.where(present), errors="coerce")
    bad = present & number.isna()
    if type_ == "integer":  # a whole number SQLite stores as INTEGER: finite, no fraction, within 64 bits
        as_float = number.astype("float64")
        fits = as_float.isna() | (np.isfinite(as_float) & (as_float == np.floor(as_float.fillna(0)))
                                  & (as_float.abs() < 2.0 ** 63))
        bad |= ~fits
        number = number.where(~bad).astype("Int64")
    else:
        number = number.astype("float64")
    return number, bad


def _failure(where: str, column: str, rule: str, values: pd.Series) -> dict:
    return {"where": where, "column": column, "rule": rule, "count": int(len(values)),
            "examples": [(_row(i), _plain(v)) for i, v in values.head(EXAMPLES).items()]}


def _pandera_failures(err: SchemaErrors, where: str) -> list[dict]:
    cases = err.failure_cases
    out = []
    for (column, check), group in cases.groupby(["column", "check"], sort=False, dropna=False):
        rule = str(check)
        if rule == "field_uniqueness":
            rule = "unique"
        elif rule == "not_nullable":
            rule = "not null"
        elif rule.startswith("column_in_dataframe"):
            rule = "column present"
        examples = [(_row(i), _plain(v)) for i, v in zip(group["index"].head(EXAMPLES), group["failure_case"].head(EXAMPLES))]
        out.append({"where": where, "column": None if pd.isna(column) else column, "rule": rule,
                    "count": int(len(group)), "examples": examples})
    return out


def _row(index) -> str:
    if index is None or (isinstance(index, float) and np.isnan(index)):
        return "row ?"
    return f"row {index}"


def _plain(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    return v


def _load(kind: str, folder: str) -> dict[str, Contract]:
    contracts = {}
    for name, spec in yaml_files(schema_files() / folder).items():
        try:
            contracts[name] = Contract.from_yaml(name, kind, spec)
        except (ValueError, TypeError, KeyError, AttributeError) as err:
            raise ValueError(f"schema/{folder}/{name}.yaml: {err}") from None
    return contracts


@cache
def raw_contracts() -> dict[str, Contract]:
    return _load("raw", "raw")


@cache
def table_contracts() -> dict[str, Contract]:
    return _load("table", "tables")


def table_order(contracts: dict[str, Contract]) -> list[str]:
    """Tables sorted so that every table comes after the tables its foreign keys reference."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            raise ValueError(f"foreign-key cycle through {name}")
        visiting.add(name)
        for fk in contracts[name].foreign_keys:
            if fk.table != name and fk.table in contracts:
                visit(fk.table)
        visiting.discard(name)
        order.append(name)

    for name in sorted(contracts):
        visit(name)
    return order

