"""`taskshift fetch` downloads missing files and verifies them (against a local HTTP server)."""
from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

import pytest

from taskshift.cli import main
from taskshift.build.sources import Manifest, SourceError, fetch, load_manifest, sha256_of

from .conftest import serve_directory

IDS = ("onet_job_zones", "onet_occupation_data")


@pytest.fixture()
def server(sources_dir):
    with serve_directory(sources_dir) as url:
        yield url


def local_manifest(base: str, **overrides) -> Manifest:
    """The real manifest with URLs pointing at the local server."""
    manifest = load_manifest()
    return Manifest({sid: replace(manifest[sid], url=f"{base}{quote(manifest[sid].path)}", **overrides) for sid in IDS})


def test_fetch_downloads_and_verifies_missing_files(tmp_path, server):
    manifest = local_manifest(server)
    fetched = fetch(tmp_path, manifest, log=lambda m: None)
    assert fetched == sorted(IDS)
    for sid in IDS:
        assert sha256_of(manifest[sid].where(tmp_path)) == manifest[sid].sha256
    assert fetch(tmp_path, manifest, log=lambda m: None) == []  # all present: nothing to do


def test_fetch_refuses_a_file_with_the_wrong_hash(tmp_path, server):
    manifest = local_manifest(server, sha256="0" * 64)
    with pytest.raises(SourceError, match="has sha256 .* expected 0{64}; not installed"):
        fetch(tmp_path, manifest, log=lambda m: None)
    assert not any(p.is_file() for p in tmp_path.rglob("*")), "a file that failed verification was installed"


def test_cli_fetch_reports_missing_sources_dir(capsys, monkeypatch):
    monkeypatch.delenv("TASKSHIFT_SOURCES", raising=False)
    assert main(["fetch"]) == 2
    assert "pass --sources DIR or set TASKSHIFT_SOURCES" in capsys.readouterr().err
