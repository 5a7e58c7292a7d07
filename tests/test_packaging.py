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
    for extra in ("test", "spark"):  # `make test` installs both
        wanted.update(_split(r) for r in project["optional-dependencies"][extra])
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
    assert '-e ".[test,spark]"' in makefile
    assert re.search(r"^\$\(STAMP\): pyproject\.toml", makefile, re.M)
    for target in ("report:", "test:", "lab:"):
        assert re.search(rf"^{target}", makefile, re.M), target


#: The top of the package: everything else lives in a room of the data flow.
TOP_MODULES = {"__init__", "_version", "errors", "i18n", "report"}
#: The ``crmkit`` command, a package of its own (one module per group of subcommands).
TOP_PACKAGES = ["cli"]
ROOMS = ["dataset", "sources", "warehouse", "analytics", "lessons", "grading"]


def test_package_is_laid_out_as_the_data_flows():
    pkg = ROOT / "crmkit"
    assert {p.stem for p in pkg.glob("*.py")} == TOP_MODULES
    assert sorted(p.parent.name for p in pkg.glob("*/__init__.py")) == sorted(ROOMS + TOP_PACKAGES)
    for room in ROOMS:
        doc = (pkg / room / "__init__.py").read_text(encoding="utf-8")
        assert doc.startswith('"""') and "May import" in doc, f"crmkit/{room}/__init__.py"


def test_the_layers_contract_lists_every_room_in_data_flow_order_and_make_test_checks_it():
    contract = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = contract["contracts"][0]["layers"]
    assert [x.removeprefix("crmkit.") for x in layers] == [
        "cli", "grading", "report", "lessons", "analytics", "warehouse", "sources", "dataset",
        "i18n", "errors", "_version"]
    forbidden = contract["contracts"][1]
    assert (forbidden["type"], forbidden["source_modules"], forbidden["forbidden_modules"],
            forbidden["as_packages"]) == ("forbidden", ["crmkit.**"], ["crmkit"], False)
    makefile = (ROOT / "Makefile").read_text()
    assert "lint-imports" in makefile.split("test: $(STAMP)")[1].split("\n\n")[0]
