"""Messy source extracts: each system's conventions, planted bad rows, determinism."""

from __future__ import annotations

import csv
import hashlib
import re

import pandas as pd
import pytest

from crmkit.dataset.extracts import (
    BAD_ROWS_NAME,
    FILES,
    REASONS,
    move_customers,
    write_customer_changes,
    write_extracts,
)
from crmkit.dataset.synth import generate
from crmkit.errors import ParameterError


@pytest.fixture(scope="module")
def shop():
    return generate("sports_shop", n_customers=250, seed=5)


@pytest.fixture(scope="module")
def extracts(shop, tmp_path_factory):
    return write_extracts(shop, tmp_path_factory.mktemp("extracts"), seed=3)


def _lines(path, encoding):
    with open(path, encoding=encoding, newline="") as f:
        return f.read().split("\n")


def test_every_file_is_written_with_its_systems_header(extracts):
    assert set(extracts["files"]) == set(FILES)
    for name, spec in FILES.items():
        first = _lines(extracts["files"][name], spec.encoding)[0]
        assert first.split(spec.delimiter) == list(spec.header), name


def test_till_export_uses_latin1_semicolons_day_first_dates_and_decimal_commas(extracts):
    raw = extracts["files"]["pos_sales.csv"].read_bytes()
    text = raw.decode("latin-1")
    rows = list(csv.reader(text.splitlines()[1:40], delimiter=";"))
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4}", r[2]) for r in rows if len(r) == 19
               and not r[2].startswith("31/02"))
    assert any("," in r[7] for r in rows if len(r) == 19)
    articles = extracts["files"]["pos_articles.csv"].read_bytes()
    with pytest.raises(UnicodeDecodeError):  # accented names in Latin-1 are not UTF-8
        (articles + "Ñ".encode("latin-1")).decode("utf-8")


def test_web_export_has_iso_timestamps_with_offset_and_email_identity(extracts, shop):
    web = pd.read_csv(extracts["files"]["web_orders.csv"], dtype=str, on_bad_lines="skip")
    good = web[web["created_at"].str.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+01:00$",
                                           na=False) & web["status"].notna()]
    assert len(good) >= len(web) - 5
    emails = set(shop.customers["email"].dropna())
    given = good["customer_email"].dropna().str.strip().str.lower()
    assert len(given) and given.isin(emails).all()
    assert (good["customer_email"].dropna() != given).any()  # some are messy


def test_legacy_sheet_is_messy_but_recoverable(extracts):
    sheet = pd.read_csv(extracts["files"]["legacy_customers.csv"], dtype=str,
                        on_bad_lines="skip", keep_default_na=False)
    assert sheet["Segment"].str.isupper().any() and sheet["Segment"].str.islower().any()
    assert (sheet["Post Code"].str.len() < 5).any() or sheet["Post Code"].str.contains(
        "O").any()
    assert sheet["Cust No"].duplicated().any()


def test_bad_rows_list_points_at_the_planted_lines(extracts):
    bad = pd.read_csv(extracts["directory"] / BAD_ROWS_NAME)
    assert set(bad["reason"]) <= set(REASONS)
    assert {"malformed_line", "unparseable_date", "negative_price", "unknown_product",
            "duplicate_customer", "missing_customer_id"} <= set(bad["reason"])
    for row in bad.itertuples():
        spec = FILES[row.file]
        lines = _lines(extracts["files"][row.file], spec.encoding)
        assert row.line >= 2
        fields = next(csv.reader([lines[row.line - 1]], delimiter=spec.delimiter))
        if row.reason == "malformed_line":
            assert len(fields) != len(spec.columns)
        else:
            assert len(fields) == len(spec.columns)


def test_same_seed_gives_the_same_bytes_and_input_is_untouched(shop, tmp_path):
    before = shop.customers.copy()
    a = write_extracts(shop, tmp_path / "a", seed=9)
    b = write_extracts(shop, tmp_path / "b", seed=9)
    for name in FILES:
        assert (hashlib.sha256(a["files"][name].read_bytes()).digest()
                == hashlib.sha256(b["files"][name].read_bytes()).digest()), name
    assert a["batch_id"] == b["batch_id"]
    pd.testing.assert_frame_equal(shop.customers, before)


def test_clean_extracts_plant_nothing(shop, tmp_path):
    out = write_extracts(shop, tmp_path, seed=1, bad_rows=False)
    assert len(out["bad_rows"]) == 0
    spec = FILES["pos_sales.csv"]
    n = len(_lines(out["files"]["pos_sales.csv"], spec.encoding)) - 2  # header, last newline
    assert n == int((shop.orders.set_index("order_id").loc[shop.order_lines["order_id"],
                                                            "channel"] == "store").sum())


def test_move_customers_changes_only_the_share_asked(shop):
    new, log = move_customers(shop.customers, share=0.1, seed=2)
    changed = log["customer_id"].unique()
    assert len(changed) == 25
    assert set(log["field"]) <= {"city", "postal_code", "address", "country", "segment"}
    same = ~shop.customers["customer_id"].isin(changed)
    pd.testing.assert_frame_equal(new[same], shop.customers[same])


@pytest.mark.parametrize("kwargs, word", [
    ({"share": 1.5}, "share"),
    ({"seed": -1}, "seed"),
])
def test_bad_parameters_are_named(shop, kwargs, word):
    with pytest.raises(ParameterError, match=word):
        move_customers(shop.customers, **kwargs)


def test_a_later_batch_must_describe_a_later_day(shop, tmp_path):
    with pytest.raises(ParameterError, match="as_of"):
        write_customer_changes(shop, tmp_path, as_of="2024-06-01")


@pytest.mark.parametrize("seed", range(1, 7))
def test_planted_lines_carry_no_python_missing_values(shop, tmp_path, seed):
    """A malformed line is cut from a planted row as a system would write it: an empty
    field stays empty, never Python's ``nan`` or ``None`` (which a report would show)."""
    extracts = write_extracts(shop, tmp_path, seed=seed)
    bad = pd.read_csv(extracts["directory"] / BAD_ROWS_NAME)
    for row in bad.itertuples():
        spec = FILES[row.file]
        line = _lines(extracts["files"][row.file], spec.encoding)[row.line - 1]
        fields = next(csv.reader([line], delimiter=spec.delimiter))
        assert not {"nan", "None", "NaT", "<NA>"} & set(fields), (row.file, row.line, line)
