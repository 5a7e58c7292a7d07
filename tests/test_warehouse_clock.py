"""The load clock is UTC, as every other timestamp of the warehouse, whatever the time
zone of the machine that loads (an analyst's laptop in Madrid, a CI runner in UTC)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crmkit.dataset.synth import generate
from crmkit.warehouse.build import build_warehouse, connect

EXTRACTS = Path(__file__).resolve().parents[1] / "data" / "extracts" / "boutique"


@pytest.fixture
def far_east(monkeypatch):
    """This process at UTC+14 for the test (Python's clock functions read TZ)."""
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time.tzset()
    assert datetime.now().hour != datetime.now(UTC).hour  # the zone really took effect
    yield
    monkeypatch.undo()
    time.tzset()


def _loaded(db, raw_table: str) -> list[datetime]:
    """The batch's load time and its raw rows' (one raw table stands for all)."""
    con = connect(db)
    try:
        stamps = [r[0] for r in con.execute("SELECT loaded_at FROM meta.batches").fetchall()]
        stamps += [r[0] for r in con.execute(
            f"SELECT DISTINCT _loaded_at FROM raw.{raw_table}").fetchall()]
    finally:
        con.close()
    return stamps


def _close_to_utc_now(stamps: list[datetime], before: datetime) -> None:
    after = datetime.now(UTC).replace(tzinfo=None)
    assert stamps
    for s in stamps:
        assert before.replace(microsecond=0) <= s <= after, (s, before, after)


def test_extracts_are_stamped_in_utc(far_east, tmp_path):
    before = datetime.now(UTC).replace(tzinfo=None)
    db = build_warehouse(EXTRACTS, tmp_path / "w.duckdb")
    _close_to_utc_now(_loaded(db, "web_orders"), before)


def test_a_dataset_is_stamped_in_utc(far_east, tmp_path):
    folder = generate("boutique", n_customers=20, seed=3).save(tmp_path / "shop")
    before = datetime.now(UTC).replace(tzinfo=None)
    db = build_warehouse(folder, tmp_path / "w.duckdb")
    _close_to_utc_now(_loaded(db, "orders"), before)
