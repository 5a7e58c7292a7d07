"""The developer docs name only files and functions that exist.

docs/architecture.md points at code as `path/to/file.py: name` and at files and folders as
`crmkit/...`, `tests/...`, `benchmarks/...`, `notebooks/...`; each must still be there (a
``def``, ``class`` or assignment of that name in that file), so a move or a rename in the code
fails here until the page follows.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "architecture.md"


def _text() -> str:
    return " ".join(PAGE.read_text(encoding="utf-8").split())


def _defines(source: str, name: str) -> bool:
    head, _, attr = name.partition(".")
    if not re.search(rf"^(?:class|def) {head}\b|^{head}\b\s*(?::[^=]*)?=", source, re.M):
        return False
    return not attr or re.search(rf"^\s+def {attr}\b", source, re.M) is not None


def _code_references() -> list[tuple[str, str]]:
    return sorted(set(re.findall(r"`((?:crmkit|tests|benchmarks)/[\w/]+\.py): ?([\w.]+)", _text())))


def _paths() -> list[str]:
    found = re.findall(r"`((?:crmkit|tests|benchmarks|notebooks)/[\w./*<>-]*)", _text())
    return sorted({p for p in found if "NN" not in p and "*" not in p and "<" not in p})


def test_the_page_names_code_at_all():
    assert len(_code_references()) >= 15 and len(_paths()) >= 20


@pytest.mark.parametrize(("path", "name"), _code_references())
def test_every_named_function_or_class_is_defined_in_its_file(path, name):
    file = ROOT / path
    assert file.is_file(), f"docs/architecture.md names {path}, which does not exist"
    assert _defines(file.read_text(encoding="utf-8"), name), (
        f"docs/architecture.md says {path} defines {name}; it does not (moved or renamed?)")


@pytest.mark.parametrize("path", _paths())
def test_every_named_file_or_folder_exists(path):
    assert (ROOT / path.rstrip("/")).exists(), f"docs/architecture.md names {path}"


def test_the_page_shows_the_layers_contract_of_pyproject_and_a_row_per_layer():
    contract = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    layers = contract["tool"]["importlinter"]["contracts"][0]["layers"]
    page = PAGE.read_text(encoding="utf-8")
    shown = tomllib.loads(re.search(r"```toml\n(.*?)```", page, re.S).group(1))
    assert shown["tool"]["importlinter"]["contracts"][0]["layers"] == layers, (
        "docs/architecture.md shows another layers contract than pyproject.toml")
    rows = re.findall(r"^\| `(crmkit/[\w/.]+)`", page, re.M)
    for layer in layers:
        room = layer.replace(".", "/")
        assert f"{room}/" in rows or f"{room}.py" in rows, f"no row for {layer} in The rooms"
