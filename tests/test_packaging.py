"""Setup files agree with each other: pyproject, environment.yml, Makefile, CI."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"duckdb": "python-duckdb"}


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", req.strip())
    return m.group(1).lower(), m.group(2).replace(" ", "")


def test_environment_yml_equals_pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(_split(r) for r in project["dependencies"])
    wanted.update(_split(r) for r in project["optional-dependencies"]["test"])
    wanted = {CONDA_NAMES.get(k, k): v for k, v in wanted.items()}
    wanted["python"] = ">=" + project["requires-python"].lstrip(">=")
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = [d for d in env["dependencies"] if isinstance(d, str) and d != "pip"]
    have = dict(_split(d) for d in deps)
    assert have == wanted
    assert env["channels"] == ["conda-forge"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make report" in readme and "make test" in readme


def test_makefile_reinstalls_when_pyproject_changes():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^\$\(STAMP\): pyproject\.toml", makefile, re.M)
    for target in ("report:", "test:", "lab:"):
        assert re.search(rf"^{target}", makefile, re.M), target
