"""write_shop: a generated shop written table by table is the folder generate().save() writes."""

from __future__ import annotations

import json

import pytest

import crmkit.dataset.synth as synth
from crmkit.dataset.crmdata import CRMData
from crmkit.dataset.synth import generate, write_shop
from crmkit.errors import ParameterError


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize(("profile", "n"), [("fashion_chain", 600), ("ice_cream", 300)])
def test_written_folder_is_byte_for_byte_the_saved_one(tmp_path, profile, n, fmt):
    saved = generate(profile, n_customers=n, seed=9).save(tmp_path / "saved", format=fmt)
    written = write_shop(tmp_path / "written", profile, n_customers=n, seed=9, format=fmt)
    a, b = _files(saved), _files(written)
    assert sorted(a) == sorted(b)
    assert [f for f in a if a[f] != b[f]] == []
    manifest = json.loads(b["manifest.json"])
    assert manifest["tables"]["orders"] == len(CRMData.load(written).orders) > 0


def test_a_failure_half_way_leaves_the_previous_folder(tmp_path, monkeypatch):
    folder = write_shop(tmp_path / "shop", "boutique", n_customers=60, seed=1)
    before = _files(folder)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    # inventory is made after the orders and the web sessions were written
    monkeypatch.setattr(synth, "inventory", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_shop(folder, "boutique", n_customers=90, seed=2)
    assert _files(folder) == before
    assert len(CRMData.load(folder).customers) == 60


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"format": "xlsx"}, "format='xlsx'"),
    ({"n_customers": 0}, "n_customers=0"),
    ({"seed": -1}, "seed=-1"),
])
def test_bad_parameters_are_refused_before_anything_is_written(tmp_path, kwargs, message):
    with pytest.raises(ParameterError, match=message):
        write_shop(tmp_path / "shop", "boutique", **{"n_customers": 20, **kwargs})
    assert not (tmp_path / "shop").exists()
