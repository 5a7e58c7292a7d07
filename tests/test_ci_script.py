"""The CI script is the first thing CI runs: it must at least be valid shell and end in
the README's command."""

import subprocess
from pathlib import Path

CI = Path(__file__).resolve().parents[1] / ".ci" / "run"


def test_ci_script_is_valid_bash():
    result = subprocess.run(["bash", "-n", str(CI)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_ci_script_runs_make_test_last():
    lines = [line.strip() for line in CI.read_text().splitlines()]
    commands = [line for line in lines if line and not line.startswith("#")]
    assert commands[-1] == "make test"
    assert sum(line == "make test" for line in lines) == 1
