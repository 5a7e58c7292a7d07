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


# ------------------------------------------------------------------ the table of subcommands
def _every_command():
    from crmkit.cli import COMMANDS
    from crmkit.cli.imports import KINDS
    from crmkit.cli.warehouse import ACTIONS

    nested = {"warehouse": ACTIONS, "import": KINDS}
    for command in COMMANDS:
        yield [command.name], command
        for inner in nested.get(command.name, ()):
            yield [command.name, inner.name], inner


@pytest.mark.parametrize("path, command", list(_every_command()),
                         ids=[" ".join(p) for p, _ in _every_command()])
def test_every_subcommand_of_the_table_has_help_and_answers_help(path, command, capsys):
    assert command.help.strip() and command.help == command.help.strip()
    with pytest.raises(SystemExit) as done:
        main([*path, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: crmkit {' '.join(path)}")
    if command.description:
        assert " ".join(command.description.split())[:40] in " ".join(out.split())


def test_the_top_help_lists_every_subcommand_with_its_help_in_table_order(capsys):
    from crmkit.cli import COMMANDS

    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    where = [out.index(f"{c.name} {' '.join(c.help.split())}") for c in COMMANDS]
    assert where == sorted(where) and len(COMMANDS) == 14


def test_the_table_runs_the_command_named_and_returns_its_status(monkeypatch):
    from crmkit import cli
    from crmkit.cli.command import Command

    ran = []
    fake = Command("profiles", "list the shop profiles", lambda p: None,
                   lambda args: ran.append(args.command) or 7)
    monkeypatch.setattr(cli, "COMMANDS", tuple(fake if c.name == "profiles" else c
                                               for c in cli.COMMANDS))
    assert main(["profiles"]) == 7 and ran == ["profiles"]


def test_an_unknown_subcommand_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as done:
        main(["warehouse", "vacuum", "x.duckdb"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid choice: 'vacuum'" in err
