"""The crmkit command line."""

from __future__ import annotations

import json

import pytest

from crmkit.cli import main


def test_generate_writes_a_dataset_folder(tmp_path, capsys):
    out = tmp_path / "shop"
    assert main(["generate", "--profile", "boutique", "--customers", "50", "--seed", "3",
                 "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["n_customers"] == 50 and manifest["seed"] == 3
    assert (out / "orders.csv").exists()
    assert "written to" in capsys.readouterr().out


def test_generate_parquet(tmp_path):
    out = tmp_path / "pq"
    assert main(["generate", "--profile", "ice_cream", "--customers", "30", "--format",
                 "parquet", "--out", str(out)]) == 0
    assert (out / "orders.parquet").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "bakery"], "profile='bakery' is not allowed"),
        (["--profile", "boutique", "--customers", "0"], "n_customers=0"),
        (["--profile", "boutique", "--start", "2025-02-01", "--end", "2025-01-01"],
         "end='2025-01-01' is before start='2025-02-01'"),
    ],
)
def test_generate_errors_exit_2_with_one_clear_line(tmp_path, capsys, args, message):
    assert main(["generate", *args, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_profiles_lists_all_six(capsys):
    assert main(["profiles"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 6
