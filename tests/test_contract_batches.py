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
