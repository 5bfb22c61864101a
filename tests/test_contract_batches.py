"""Files that share one contract (the 102 state files) are validated together: the same frames and the
same errors (file, row, column, rule) as one file at a time; a clean table skips pandera, a failing one
is still named by it."""
from __future__ import annotations

import pandas as pd

from taskshift.build.ingest import oews_state
from taskshift.build.sources import RawReader, load_manifest, read_file, verify
from taskshift.contracts import ContractError, raw_contracts

STATES = oews_state.SOURCES[:6]


def _frames(sources_dir):
    manifest = load_manifest()
    return [(manifest[s].path, read_file(verify(manifest[s], sources_dir), manifest[s].read)) for s in STATES]


def _one_by_one(contract, frames):
    out = []
    for where, frame in frames:
        try:
            out.append(contract.validate(frame, where))
        except ContractError as err:
            out.append(err)
    return out


def test_together_gives_the_frames_of_one_by_one(sources_dir):
    contract = raw_contracts()["bls_state_oews"]
    frames = _frames(sources_dir)
    for alone, together in zip(_one_by_one(contract, frames), contract.validate_many(frames)):
        pd.testing.assert_frame_equal(alone, together, check_exact=True)
        assert type(alone.index) is type(together.index)


def test_together_names_each_failing_file_and_row(sources_dir):
    contract = raw_contracts()["bls_state_oews"]
    frames = [(where, frame.copy()) for where, frame in _frames(sources_dir)]
    frames[1][1].loc[3, "emp"] = "-5"  # a rule
    frames[2][1].loc[4, "code"] = frames[2][1].loc[2, "code"]  # unique within its file
    frames[3] = (frames[3][0], frames[3][1].drop(columns="lq"))  # a missing column
    frames[4][1].loc[5, "j1k"] = "many"  # a type
    alone = [str(r) if isinstance(r, ContractError) else None for r in _one_by_one(contract, frames)]
    together = [str(r) if isinstance(r, ContractError) else None for r in contract.validate_many(frames)]
    assert together == alone
    assert alone[0] is None and alone[5] is None
    assert alone[1] == f"{frames[1][0]}: column 'emp' rule greater_than_or_equal_to(0) failed (1 failing; e.g. row 3: -5)"
    assert f"{frames[2][0]}: column 'code' rule unique failed" in alone[2]
    assert f"{frames[3][0]}: column 'lq' rule column present failed" in alone[3]
    assert f"{frames[4][0]}: column 'j1k' rule type real failed (1 failing; e.g. row 5: 'many')" in alone[4]


def test_the_same_code_in_two_states_is_no_duplicate(sources_dir):
    contract = raw_contracts()["bls_state_oews"]
    frames = _frames(sources_dir)[:2]
    assert not any(isinstance(r, ContractError) for r in contract.validate_many(frames + frames))


def test_reader_reads_the_group_once_and_records_what_was_asked(sources_dir):
    raw = RawReader(sources_dir)
    first = raw.read(STATES[0])
    assert set(oews_state.SOURCES) <= set(raw._cache)  # the whole group was read and validated at once
    assert raw.used == [STATES[0]]  # but only what was asked for counts as used
    raw.read(STATES[1])
    assert raw.used == [STATES[0], STATES[1]]
    first["emp"] = 0  # a caller's change never reaches the reader's copy
    assert (raw.read(STATES[0])["emp"] != 0).any()


def _pandera_passes(contract, frame) -> bool:
    from pandera.errors import SchemaErrors

    try:
        contract._schema(frame).validate(frame, lazy=True)
    except SchemaErrors:
        return False
    return True


def _violations(column, frame):
    """Copies of `frame` that break one rule of `column` in its first rows (name, frame)."""
    name, s = column.name, frame[column.name]
    out = []

    def put(label, value, row=0):
        broken = frame.copy()
        values = broken[name].astype(object)
        values.iloc[row] = value
        broken[name] = values.astype(s.dtype) if value is not None or s.dtype == object else values
        out.append((label, broken))

    if not column.nullable:
        put("null", None)
    if column.unique and len(frame) > 1 and s.notna().iloc[0]:
        put("duplicate", s.iloc[0], row=1)
    if column.pattern is not None:
        put("pattern", "\u2603 not a code")
    if column.isin is not None:
        numeric = all(isinstance(v, (int, float)) for v in column.isin)
        put("isin", max(column.isin) + 1 if numeric else "not one of them")
    if column.min is not None:
        put("min", column.min - 1)
    if column.max is not None:
        put("max", column.max + 1)
    if column.min_length is not None and column.min_length > 1:
        put("min_length", "x" * (column.min_length - 1))
    return out


def test_the_fast_checks_agree_with_pandera_on_every_table(built_db):
    """`Contract.check` asks pandera only about a table that fails a rule (`Column.holds` computes the rules
    directly). For every output table, clean and with each rule of each column broken in turn, the fast
    path and pandera must agree: the contracts stay pandera's, the fast path only skips its cost."""
    import sqlite3

    from taskshift.contracts import table_contracts

    conn = sqlite3.connect(built_db)
    checked = broken = 0
    for name, contract in sorted(table_contracts().items()):
        frame = pd.read_sql(f'SELECT * FROM "{name}" ORDER BY rowid LIMIT 300', conn)
        out, failures = contract.prepare(frame, where=f"table {name}")
        assert not failures and contract._holds(out) and _pandera_passes(contract, out), name
        checked += 1
        for column in contract.columns:
            for label, bad in _violations(column, out):
                assert contract._holds(bad) is False, (name, column.name, label)
                assert _pandera_passes(contract, bad) is False, (name, column.name, label)
                broken += 1
    assert checked >= 70 and broken >= 300, (checked, broken)
