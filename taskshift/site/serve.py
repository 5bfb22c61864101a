"""How taskshift is served: Datasette, immutable, with an inspect file and bounded queries."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

SETTINGS = {
    "sql_time_limit_ms": 2000,   # no query may hold the server longer than this
    "max_returned_rows": 2000,   # rows one page or query may return
    "default_page_size": 50,
    "facet_time_limit_ms": 500,
}


def inspect_file(db: Path) -> Path:
    """Write (once per database file) the inspect JSON that lets Datasette skip counting rows at start."""
    target = db.with_suffix(".inspect.json")
    if not target.exists() or target.stat().st_mtime < db.stat().st_mtime:
        output = subprocess.run([_datasette(), "inspect", str(db)], check=True, capture_output=True, text=True).stdout
        target.write_text(json.dumps(json.loads(output), indent=2, sort_keys=True) + "\n")
    return target


def datasette_command(db: Path, host: str = "127.0.0.1", port: int = 8001) -> list[str]:
    command = [_datasette(), "serve", "-i", str(db), "--inspect-file", str(inspect_file(db)),
               "--host", host, "--port", str(port)]
    for key, value in SETTINGS.items():
        command += ["--setting", key, str(value)]
    return command


def _datasette() -> str:
    beside = Path(sys.executable).with_name("datasette")
    return str(beside) if beside.exists() else (shutil.which("datasette") or "datasette")
