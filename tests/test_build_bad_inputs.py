"""A bad source file stops the build with a message naming file, row, column and rule, and the
previous database stays exactly as it was."""
from __future__ import annotations

import shutil

import pytest

from taskshift.build.assemble import BuildError, build
from taskshift.build.sources import SourceError, load_manifest, sha256_of

from .conftest import replace_file

# the role spine, O*NET 30.2 (CRLF lines, no Title column in Task Statements and Job Zones)
OCC = "onet_30_2/Occupation Data.txt"
TASKS = "onet_30_2/Task Statements.txt"
ZONES = "onet_30_2/Job Zones.txt"


@pytest.fixture()
def previous_db(tmp_path, built_db):
    target = tmp_path / "out" / "taskshift.db"
    target.parent.mkdir()
    shutil.copyfile(built_db, target)
    return target, sha256_of(target)


def failing_build(root, previous_db, *pinned_ids, expect=BuildError):
    target, before = previous_db
    manifest = load_manifest().pinned_to(root, *pinned_ids)
    with pytest.raises(expect) as info:
        build(root, target, manifest=manifest, log=lambda *a: None)
    assert sha256_of(target) == before, "the previous database was modified by a failed build"
    assert [p.name for p in target.parent.iterdir()] == [target.name], "a temporary file was left behind"
    return str(info.value)


def lines(root, relative):
    return (root / relative).read_text(encoding="utf-8").splitlines(keepends=True)


def test_missing_column(sources_copy, previous_db):
    rows = [line.split("\t") for line in lines(sources_copy, OCC)]
    replace_file(sources_copy, OCC, "".join("\t".join(r[:2]) + "\n" for r in rows))  # drop Description
    message = failing_build(sources_copy, previous_db, "onet_30_2_occupation_data")
    assert "onet_30_2/Occupation Data.txt: column 'Description' rule column present failed" in message


def test_duplicate_key(sources_copy, previous_db):
    text = lines(sources_copy, TASKS)
    text.insert(5, text[3])  # task on line 4 appears again as line 6
    replace_file(sources_copy, TASKS, "".join(text))
    message = failing_build(sources_copy, previous_db, "onet_30_2_task_statements")
    assert "onet_30_2/Task Statements.txt: column 'Task ID' rule unique failed (2 failing; e.g. row 4: 8827, row 6: 8827)" in message
    assert "rule row count 18796 failed" in message


def test_malformed_soc_code(sources_copy, previous_db):
    text = lines(sources_copy, OCC)
    text[10] = text[10].replace(text[10][:10], "11-30X1.00", 1)
    replace_file(sources_copy, OCC, "".join(text))
    message = failing_build(sources_copy, previous_db, "onet_30_2_occupation_data")
    assert "onet_30_2/Occupation Data.txt: column 'O*NET-SOC Code' rule str_matches" in message
    assert "row 11: '11-30X1.00'" in message


def test_out_of_range_value(sources_copy, previous_db):
    text = lines(sources_copy, ZONES)
    fields = text[2].split("\t")
    fields[1] = "7"
    text[2] = "\t".join(fields)
    replace_file(sources_copy, ZONES, "".join(text))
    message = failing_build(sources_copy, previous_db, "onet_30_2_job_zones")
    assert "onet_30_2/Job Zones.txt: column 'Job Zone' rule less_than_or_equal_to(5) failed (1 failing; e.g. row 3: 7)" in message


def test_truncated_file(sources_copy, previous_db):
    data = (sources_copy / TASKS).read_bytes()
    replace_file(sources_copy, TASKS, data[: len(data) // 2])  # cut in the middle of a line
    message = failing_build(sources_copy, previous_db, "onet_30_2_task_statements")
    assert "onet_30_2/Task Statements.txt:" in message
    assert "rule row count 18796 failed" in message
    # the cut line lacks its last columns: the message names the row and the column
    assert "column 'Date' rule not null failed" in message or "column 'Domain Source' rule not null failed" in message


def test_hash_mismatch(sources_copy, previous_db):
    text = lines(sources_copy, OCC)
    replace_file(sources_copy, OCC, "".join(text[:-1]))  # not re-pinned: the manifest hash no longer matches
    message = failing_build(sources_copy, previous_db, expect=SourceError)
    source = load_manifest()["onet_30_2_occupation_data"]
    assert f"onet_30_2/Occupation Data.txt: sha256 mismatch: expected {source.sha256}, actual " in message
    assert source.url in message


def test_missing_file_names_where_to_get_it(sources_copy, previous_db):
    (sources_copy / ZONES).unlink()
    message = failing_build(sources_copy, previous_db, expect=SourceError)
    assert "onet_30_2/Job Zones.txt: missing from" in message
    assert load_manifest()["onet_30_2_job_zones"].url in message


def test_every_failure_is_listed_in_one_run(sources_copy, previous_db):
    """Lazy validation: two broken files, one build, both reported."""
    occ = lines(sources_copy, OCC)
    occ[10] = occ[10].replace(occ[10][:10], "11-30X1.00", 1)
    replace_file(sources_copy, OCC, "".join(occ))
    zones = lines(sources_copy, ZONES)
    fields = zones[2].split("\t")
    fields[1] = "0"
    zones[2] = "\t".join(fields)
    replace_file(sources_copy, ZONES, "".join(zones))
    message = failing_build(sources_copy, previous_db, "onet_30_2_occupation_data", "onet_30_2_job_zones")
    assert "'11-30X1.00'" in message and "column 'Job Zone' rule greater_than_or_equal_to(1)" in message


def test_an_integer_that_is_infinite_or_too_big_is_a_contract_failure(sources_copy, previous_db):
    """Not a crash in the conversion: the row, the column and the rule, like any other bad value."""
    text = lines(sources_copy, ZONES)
    for line, value in ((2, "inf"), (4, "99999999999999999999999")):
        fields = text[line].split("\t")
        fields[1] = value
        text[line] = "\t".join(fields)
    replace_file(sources_copy, ZONES, "".join(text))
    message = failing_build(sources_copy, previous_db, "onet_30_2_job_zones")
    assert ("onet_30_2/Job Zones.txt: column 'Job Zone' rule type integer failed (2 failing; "
            "e.g. row 3: 'inf', row 5: '99999999999999999999999')") in message
