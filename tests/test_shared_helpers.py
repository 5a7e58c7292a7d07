"""Shared helpers live once, in the lowest room that needs them, and nothing imports upwards."""

from __future__ import annotations

import ast
import importlib.metadata
import tomllib
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import crmkit
from crmkit._version import __version__
from crmkit.dataset.days import parse_day
from crmkit.errors import DatasetError, ParameterError
from crmkit.warehouse.connection import connect, opened

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "crmkit"


# ------------------------------------------------------------------ days
@pytest.mark.parametrize("value, day", [
    ("2024-02-29", pd.Timestamp("2024-02-29")),
    (pd.Timestamp("2024-03-01 23:59"), pd.Timestamp("2024-03-01")),
    (pd.Timestamp("2024-03-01").date(), pd.Timestamp("2024-03-01")),
])
def test_parse_day_reads_texts_and_timestamps_as_midnight(value, day):
    assert parse_day("as_of", value) == day


@pytest.mark.parametrize("value", ["2023-02-29", "01/03/2024", "March 1", "", None, 20240301,
                                   1.5, True])
def test_parse_day_names_the_parameter_it_refuses(value):
    with pytest.raises(ParameterError, match=r"^as_of=.* is not a date"):
        parse_day("as_of", value)


def test_every_day_parameter_is_read_by_the_one_parse_day():
    """No module but crmkit/dataset/days.py defines parse_day (it was in the generator)."""
    owners = [p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*.py")
              if any(isinstance(n, ast.FunctionDef) and n.name == "parse_day"
                     for n in ast.walk(ast.parse(p.read_text(encoding="utf-8"))))]
    assert owners == ["crmkit/dataset/days.py"]


# ------------------------------------------------------------------ connections
def test_opened_closes_what_it_opened_and_leaves_the_callers_connection(tmp_path):
    db = tmp_path / "w.duckdb"
    duckdb.connect(str(db)).close()
    with opened(db) as con:
        assert con.execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(duckdb.ConnectionException):
        con.execute("SELECT 1")
    mine = duckdb.connect()
    with opened(mine) as con:
        assert con is mine
    assert mine.execute("SELECT 2").fetchone() == (2,)


def test_opened_without_external_access_cannot_read_other_files(tmp_path):
    db, other = tmp_path / "w.duckdb", tmp_path / "other.csv"
    duckdb.connect(str(db)).close()
    other.write_text("x\n1\n")
    with opened(db, external_access=False) as con, pytest.raises(duckdb.Error):
        con.execute(f"SELECT * FROM read_csv('{other}')")


def test_connect_refuses_a_missing_file_and_a_folder(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        connect(tmp_path / "missing.duckdb")
    with pytest.raises(DatasetError, match="is a folder"):
        connect(tmp_path, read_only=False)


# ------------------------------------------------------------------ version, upward imports
def test_the_version_has_one_home():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" in config["project"]["dynamic"]
    assert config["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "crmkit._version.__version__"}
    assert crmkit.__version__ == __version__ == importlib.metadata.version("crmkit")


def _imports_the_top(text: str, depth: int) -> list[int]:
    """Lines of ``text`` (a module ``depth`` folders below the project root) that import
    the package top: ``from .. import x`` at the right depth, ``from crmkit import x``,
    ``import crmkit``."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and (
                (node.level == depth and node.module is None)
                or (node.level == 0 and node.module == "crmkit")):
            found.append(node.lineno)
        elif isinstance(node, ast.Import) and any(a.name == "crmkit" for a in node.names):
            found.append(node.lineno)
    return found


def test_no_module_imports_the_package_top():
    upward = {}
    for path in PACKAGE.rglob("*.py"):
        if path != PACKAGE / "__init__.py":
            depth = len(path.relative_to(PACKAGE).parts)  # crmkit/x.py 1, crmkit/room/x.py 2
            if lines := _imports_the_top(path.read_text(encoding="utf-8"), depth):
                upward[path.relative_to(ROOT).as_posix()] = lines
    assert upward == {}


def test_the_upward_import_check_sees_a_planted_one():
    planted = ("from .. import __version__\nfrom crmkit import CRMData\nimport crmkit\n"
               "from . import days\nfrom ..errors import ParameterError\n")
    assert _imports_the_top(planted, 2) == [1, 2, 3]
    assert _imports_the_top("from . import __version__\n", 1) == [1]
