"""The bad-input corpus (tests/corpus/damage.py) through ``crmkit warehouse build``.

For every damaged copy of the good extract: the exit status, a message that
names the file (and the line), and rows in = rows loaded + rows quarantined,
where rows in is worked out from the damage and the two others are counted in
the warehouse's own tables (not read from its load report). Nothing is dropped,
nothing is made up, and every quarantined line has its true line number.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from crmkit.cli import main
from crmkit.dataset.extracts import FILES
from crmkit.warehouse.build import connect, quarantine
from crmkit.warehouse.checks import run_data_tests
from crmkit.warehouse.sql import STAGING_TABLE

_spec = importlib.util.spec_from_file_location(
    "corpus_damage", Path(__file__).parent / "corpus" / "damage.py")
damage = importlib.util.module_from_spec(_spec)
sys.modules["corpus_damage"] = damage
_spec.loader.exec_module(damage)


def _rows_in_good_file(name: str) -> int:
    return len(damage._lines(damage.GOOD / name)) - 1  # no blank or multi-line rows in it


def _counted(db, name: str) -> tuple[int, int]:
    """Rows of ``name`` in its staging table and in quarantine, counted in the tables."""
    con = connect(db)
    try:
        loaded = con.execute(f"SELECT count(*) FROM staging.{STAGING_TABLE[name]} "
                             "WHERE file = ?", [name]).fetchall()[0][0]
        held = con.execute("SELECT count(*) FROM quarantine.rows WHERE file = ?",
                           [name]).fetchall()[0][0]
    finally:
        con.close()
    return loaded, held


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """The good extract's own quarantine, per file: the truth every case is compared to."""
    root = tmp_path_factory.mktemp("good")
    assert main(["warehouse", "build", str(root / "shop.duckdb"), "--from",
                 str(damage.GOOD)]) == 0
    q = quarantine(root / "shop.duckdb")
    return {name: set(zip(q.loc[q["file"] == name, "line"], q.loc[q["file"] == name, "reason"],
                          strict=True)) for name in FILES}


def test_the_good_extract_quarantines_exactly_its_planted_rows(good):
    for name in FILES:
        assert {line for line, _ in good[name]} == damage.planted(name), name


@pytest.mark.parametrize("case", list(damage.CASES))
def test_corpus_case(case, good, tmp_path, capsys):
    folder = tmp_path / "batch"
    exp = damage.make(case, folder)
    db = tmp_path / "shop.duckdb"
    code = main(["warehouse", "build", str(db), "--from", str(folder)])
    out, err = capsys.readouterr()
    assert code == exp.exit, err
    if exp.exit:
        assert err.endswith("\n") and err.count("\n") == 1 and "Traceback" not in err, err
        for word in exp.message:
            assert word in err, (word, err)
        assert not db.exists()
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
        return

    # rows in = rows loaded + rows quarantined, file by file
    for name in FILES:
        if not (folder / name).exists():
            continue
        rows_in = exp.rows_in if name == exp.file else _rows_in_good_file(name)
        loaded, held = _counted(db, name)
        assert loaded + held == rows_in, (name, loaded, held, rows_in)

    # the damaged file's quarantine is the good one, moved, plus the damage: true lines
    q = quarantine(db)
    got = set(zip(q.loc[q["file"] == exp.file, "line"], q.loc[q["file"] == exp.file, "reason"],
                  strict=True))
    any_reason = {line for line, reason in exp.added if reason is None}
    want = {(exp.moved(line), reason) for line, reason in good[exp.file]
            if line not in exp.replaced}
    want |= {(line, reason) for line, reason in exp.added if reason is not None}
    assert {g for g in got if g[0] not in any_reason} == want
    assert {g for g in got if g[0] in any_reason} <= {
        (line, r) for line in any_reason for r in ("invalid_encoding", "malformed_line")}
    assert {line for line, _ in got} >= any_reason
    if not exp.cascades:
        for name in FILES:
            if name != exp.file:
                mine = set(zip(q.loc[q["file"] == name, "line"],
                               q.loc[q["file"] == name, "reason"], strict=True))
                assert mine == good[name], name

    # the command's own output names the file, the line and the reason
    for line, reason in exp.added[:1]:
        said = [s for s in out.splitlines()
                if s.startswith(f"quarantined: {exp.file} ") and (reason or "") in s]
        assert said and any(str(line) in s for s in said), out

    # and the warehouse is sound: every data test passes
    tests = run_data_tests(db)
    assert (tests["status"] == "pass").all(), tests[tests["status"] != "pass"]
