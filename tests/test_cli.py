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


def test_extracts_then_warehouse_build_test_report_and_reload(tmp_path, capsys):
    ex, db = tmp_path / "ex", tmp_path / "shop.duckdb"
    assert main(["extracts", str(ex), "--profile", "boutique", "--customers", "80",
                 "--seed", "2"]) == 0
    assert "planted bad rows" in capsys.readouterr().out
    assert main(["warehouse", "build", str(db), "--from", str(ex)]) == 0
    assert "warehouse written" in capsys.readouterr().out
    assert main(["warehouse", "test", str(db)]) == 0
    assert " 0 failed" in capsys.readouterr().out
    before = db.read_bytes()
    assert main(["warehouse", "load", str(db), str(ex)]) == 0  # same batch: nothing changes
    assert db.read_bytes() == before
    assert main(["warehouse", "report", str(db)]) == 0
    assert "legacy_customers.csv" in capsys.readouterr().out


def test_warehouse_test_exits_1_when_a_data_test_fails(tmp_path, capsys):
    import duckdb

    db = tmp_path / "shop.duckdb"
    assert main(["warehouse", "build", str(db), "--profile", "ice_cream", "--customers",
                 "60"]) == 0
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO marts.fact_order_line SELECT * FROM marts.fact_order_line LIMIT 1")
    con.close()
    capsys.readouterr()
    assert main(["warehouse", "test", str(db)]) == 1
    assert "fail" in capsys.readouterr().out


def test_warehouse_report_on_a_missing_file_is_a_clear_error(tmp_path, capsys):
    assert main(["warehouse", "report", str(tmp_path / "none.duckdb")]) == 2
    assert "does not exist" in capsys.readouterr().err
