"""Where the packaged, non-code files live.

`schema/`, `dataset/` and `api/` are top-level folders in the repository but are installed as
`taskshift.schema`, `taskshift.dataset` and `taskshift.api`, so they are found the same way from a
checkout, an editable install and a wheel.
"""
from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

import yaml


def schema_files() -> Traversable:
    return files("taskshift.schema")


def dataset_files() -> Traversable:
    return files("taskshift.dataset")


def site_files() -> Traversable:
    return files("taskshift.api")


def _sorted(folder: Traversable, suffix: str) -> list[Traversable]:
    if not folder.is_dir():
        return []
    return sorted((f for f in folder.iterdir() if f.name.endswith(suffix)), key=lambda f: f.name)


#: libyaml's parser where PyYAML has it (the same documents, about ten times faster: every build and
#: test process parses the ~120 contract and measure files), else PyYAML's own.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str):
    """`yaml.safe_load`, with libyaml when available."""
    return yaml.load(text, Loader=_YAML_LOADER)


def yaml_files(folder: Traversable) -> dict[str, dict]:
    """`{stem: parsed yaml}` for every `*.yaml` in a folder, in name order."""
    return {f.name.removesuffix(".yaml"): load_yaml(f.read_text("utf-8")) for f in _sorted(folder, ".yaml")}


def toml_files(folder: Traversable) -> dict[str, dict]:
    return {f.name.removesuffix(".toml"): tomllib.loads(f.read_text("utf-8")) for f in _sorted(folder, ".toml")}


@cache
def project_metadata() -> dict:
    """`dataset/project.toml`: release name, licence and the things said once about the whole dataset."""
    return tomllib.loads(dataset_files().joinpath("project.toml").read_text("utf-8"))
