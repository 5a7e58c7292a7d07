"""The Spark engine's arguments reach Spark as given: --from, --batch, --master, --remote.

No Spark runs here: the session builder and the build are replaced by recorders, so the
plumbing is checked where no Spark Connect server (nor Java) is available.
"""

from __future__ import annotations

import contextlib

import pytest

from crmkit.cli import main
from crmkit.errors import ParameterError
from crmkit.warehouse.spark import runtime as session_mod


class _Builder:
    """Records what a SparkSession builder is asked for."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        def record(*args):
            self.calls.append((name, args))
            return self
        return record


def test_remote_goes_to_the_builder_with_utc_and_no_java_check(monkeypatch):
    b = _Builder()
    monkeypatch.setattr(session_mod, "_builder", lambda: b)
    monkeypatch.setattr(session_mod, "check_java",
                        lambda: pytest.fail("a Spark Connect client needs no local Java"))
    session_mod.session("unused", remote="sc://spark.example.com:15002")
    assert ("remote", ("sc://spark.example.com:15002",)) in b.calls
    assert ("config", ("spark.sql.session.timeZone", "UTC")) in b.calls
    assert not any(name == "master" for name, _ in b.calls)


def test_master_goes_to_the_builder_with_its_threads(monkeypatch, tmp_path):
    b = _Builder()
    monkeypatch.setattr(session_mod, "_builder", lambda: b)
    monkeypatch.setattr(session_mod, "check_java", lambda: 17)
    session_mod.session(tmp_path, master="local[3]")
    assert ("master", ("local[3]",)) in b.calls
    assert ("config", ("spark.sql.shuffle.partitions", "3")) in b.calls
    assert ("config", ("spark.sql.session.timeZone", "UTC")) in b.calls


@pytest.mark.parametrize("remote", ["http://x:1", "sc://", "sc://h:15002 --conf x", 7])
def test_a_remote_that_is_no_spark_connect_url_is_refused(remote):
    with pytest.raises(ParameterError, match="Spark Connect"):
        session_mod.check_remote(remote)


def test_cli_passes_from_batches_master_and_remote(monkeypatch, tmp_path, capsys):
    from crmkit.warehouse import spark

    seen = {}

    def build(source, out, **kw):
        seen["build"] = (source, out, kw)
        return tmp_path / "wh"

    class _Table:
        def toPandas(self):
            import pandas as pd
            return pd.DataFrame({"file": ["a.csv"]})

    class _Session:
        def table(self, name):
            return _Table()

    @contextlib.contextmanager
    def opened(out, **kw):
        seen["opened"] = (out, kw)
        yield _Session()

    monkeypatch.setattr(spark, "build_spark", build)
    monkeypatch.setattr(spark, "opened", opened)
    code = main(["warehouse", "build", str(tmp_path / "wh"), "--engine", "spark",
                 "--from", str(tmp_path / "b1"), "--batch", str(tmp_path / "b2"),
                 "--remote", "sc://h:15002", "--plausible-years", "12"])
    assert code == 0
    source, out, kw = seen["build"]
    assert source == str(tmp_path / "b1") and kw["batches"] == [str(tmp_path / "b2")]
    assert kw["remote"] == "sc://h:15002" and kw["master"] == "local[2]"
    assert kw["plausible_years"] == 12
    assert seen["opened"][1] == {"master": "local[2]", "remote": "sc://h:15002"}
    assert "warehouse written" in capsys.readouterr().out
