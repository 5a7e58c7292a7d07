"""The benchmark scripts publish figures only from a quiet machine, and say the load."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def common(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_common", ROOT / "benchmarks" /
                                                  "common.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "README", tmp_path / "README.md")
    monkeypatch.delenv("CRMKIT_BENCH_ANY_LOAD", raising=False)
    return module


def test_a_busy_start_is_refused_and_nothing_is_written(common):
    with pytest.raises(common.BusyMachineError, match="load average was 3.2"):
        common.write_block("b", "python b.py", "| x |", start_load=3.2)
    assert not common.README.exists()


def test_a_quiet_start_is_written_with_its_load(common):
    text = common.write_block("b", "python b.py", "| x |", start_load=0.4).read_text()
    assert "load average at the start 0.4." in text and "| x |" in text
    assert "busy" not in text


def test_asked_for_a_busy_run_is_written_and_says_so(common, monkeypatch):
    monkeypatch.setenv("CRMKIT_BENCH_ANY_LOAD", "1")
    text = common.write_block("b", "python b.py", "| x |", start_load=6.0).read_text()
    assert "The machine was busy (load average 6.0" in text


def test_a_second_write_replaces_the_block(common):
    common.write_block("b", "c", "first", start_load=0.1)
    text = common.write_block("b", "c", "second", start_load=0.1).read_text()
    assert "second" in text and "first" not in text and text.count("b:start") == 1
