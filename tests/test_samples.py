"""The committed samples and data dictionary are exactly what the code produces."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmkit.dataset.profiles import PROFILE_NAMES, PROFILES
from crmkit.dataset.samples import (
    EXTRACTS_PROFILE,
    build_extracts_sample,
    build_samples,
    dictionary,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_sample_regenerates_byte_for_byte(profile, tmp_path):
    build_samples(tmp_path, [profile])
    committed = ROOT / "data" / "samples" / profile
    fresh = tmp_path / profile
    names = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file())
    for name in names:
        assert (fresh / name).read_bytes() == (committed / name).read_bytes(), (
            f"data/samples/{profile}/{name} is stale: run `make data` and commit it"
        )


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_samples_are_small_enough_for_a_spreadsheet(profile):
    import json

    manifest = json.loads((ROOT / "data/samples" / profile / "manifest.json").read_text())
    assert manifest["n_customers"] == PROFILES[profile].sample_customers
    assert 1500 <= manifest["tables"]["orders"] <= 10_000
    assert max(manifest["tables"].values()) < 1_000_000


def test_data_dictionary_is_current():
    assert (ROOT / "data" / "README.md").read_text(encoding="utf-8") == dictionary(), (
        "data/README.md is stale: run `make data` and commit it"
    )


def test_extracts_sample_regenerates_byte_for_byte(tmp_path):
    fresh = build_extracts_sample(tmp_path / "x")
    committed = ROOT / "data" / "extracts" / EXTRACTS_PROFILE
    names = sorted(p.name for p in fresh.iterdir())
    assert names == sorted(p.name for p in committed.iterdir())
    for name in names:
        assert (fresh / name).read_bytes() == (committed / name).read_bytes(), (
            f"data/extracts/{EXTRACTS_PROFILE}/{name} is stale: run `make data` and commit it"
        )
