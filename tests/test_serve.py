"""`taskshift serve` runs plain Datasette: immutable, with an inspect file, with bounded queries."""
from __future__ import annotations

import json
import shutil

from taskshift.site.serve import SETTINGS, datasette_command


def test_serve_command_is_immutable_with_inspect_file(tmp_path, built_db):
    db = tmp_path / "taskshift.db"
    shutil.copyfile(built_db, db)
    command = datasette_command(db, port=9999)
    assert command[1:4] == ["serve", "-i", str(db)]
    inspect = tmp_path / "taskshift.inspect.json"
    assert command[command.index("--inspect-file") + 1] == str(inspect)
    counts = json.loads(inspect.read_text())["taskshift"]["tables"]
    assert counts["roles"]["count"] == 1016 and counts["tasks"]["count"] == 18796
    for key, value in SETTINGS.items():
        assert command[command.index(key) - 1:command.index(key) + 2] == ["--setting", key, str(value)]
