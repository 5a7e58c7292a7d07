"""Money in minor units: exact reading, one rounding at creation, kept exactly by every writer.

Each property is checked against something independent of crmkit.dataset.money: Python's
decimal module, ISO 4217's published minor units, hand-made tables whose answer is known,
or the generator's own lines recomputed with Decimal.
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pandas as pd
import pytest
from hand_edit import unseal

from crmkit.dataset.crmdata import CRMData
from crmkit.dataset.money import (
    derive_line_amounts,
    line_amounts,
    minor_digits,
    order_totals,
    parse_money,
    to_cents,
    to_decimal,
)
from crmkit.dataset.schema import conform, empty_table
from crmkit.dataset.synth import generate
from crmkit.errors import DatasetError, SchemaError


# ----------------------------------------------------------------------------- digits
@pytest.mark.parametrize("currency, digits", [
    ("EUR", 2), ("USD", 2), ("GBP", 2), ("JPY", 0), ("KRW", 0), ("BHD", 3), ("KWD", 3),
    ("TND", 3)])
def test_minor_digits_are_iso_4217s(currency, digits):
    # ISO 4217 list one, "minor unit" column
    assert minor_digits(currency) == digits


# ----------------------------------------------------------------------------- parsing
HOSTILE = {
    "inf": "non_finite", "Infinity": "non_finite", "-INF": "non_finite", "NaN": "non_finite",
    "1e400": "overflow", "-1E400": "overflow", "99999999999999999999": "overflow",
    "92233720368547758.08": "overflow", "12.345": "too_many_decimals",
    "1e-3": "too_many_decimals", "0.001": "too_many_decimals", "12,50": "not_a_number",
    "1,234.50": "not_a_number", "12.5.0": "not_a_number", "1_000": "not_a_number",
    "€12": "not_a_number", "٣": "not_a_number", ".": "not_a_number", "--1": "not_a_number",
    "0x10": "not_a_number", "12 50": "not_a_number",
}


@pytest.mark.parametrize("text, problem", HOSTILE.items())
def test_hostile_money_text_gets_its_problem_and_no_value(text, problem):
    cents, problems = parse_money(pd.Series([text, "1.00"]))
    assert cents.isna().tolist() == [True, False] and int(cents.iloc[1]) == 100
    assert problems.iloc[0] == problem and pd.isna(problems.iloc[1])


def test_empty_values_are_empty_not_a_problem():
    cents, problems = parse_money(pd.Series(["", "  ", None, "0"]))
    assert cents.isna().tolist() == [True, True, True, False]
    assert problems.isna().all()


def _reference(text: str, decimal: str, digits: int) -> int | None:
    """Python's decimal module: the exact value, or None if it is not whole minor units."""
    d = Decimal(text.strip().replace(decimal, "."))
    scaled = d.scaleb(digits)
    return int(scaled) if scaled == scaled.to_integral_value() else None


@pytest.mark.parametrize("decimal, currency", [(".", "EUR"), (",", "EUR"), (".", "JPY"),
                                               (",", "BHD")])
def test_parse_money_equals_pythons_decimal_on_random_text(decimal, currency):
    rng = random.Random(17)
    texts = []
    for _ in range(3000):
        whole = str(rng.randrange(0, 10 ** rng.randrange(1, 15)))
        frac = "".join(rng.choice("0123456789") for _ in range(rng.randrange(0, 5)))
        sign = rng.choice(["", "", "-", "+"])
        texts.append(sign + whole + ((decimal + frac) if frac or rng.random() < .1 else ""))
    cents, problems = parse_money(pd.Series(texts), decimal=decimal, currency=currency)
    digits = minor_digits(currency)
    for text, got, why in zip(texts, cents, problems, strict=True):
        want = _reference(text, decimal, digits)
        if want is None:
            assert pd.isna(got) and why == "too_many_decimals", text
        else:
            assert int(got) == want, text


def test_parse_money_thousands_only_in_groups_of_three():
    cents, problems = parse_money(pd.Series(["1.234.567,89", "1.23,00", "12.345", "1234,5"]),
                                  decimal=",", thousands=".")
    assert cents.tolist()[0] == 123456789 and cents.tolist()[2] == 1234500
    assert int(cents.iloc[3]) == 123450
    assert problems.iloc[1] == "not_a_number"


def test_parse_money_refuses_binary_floats():
    with pytest.raises(TypeError, match="text"):
        parse_money(pd.Series([0.1, 0.2]))


def test_to_decimal_is_exact_and_to_cents_never_rounds():
    assert to_decimal(10, "EUR") + to_decimal(20, "EUR") == Decimal("0.30")
    assert to_decimal(1234, "JPY") == Decimal("1234")
    assert to_cents(pd.Series([0.1, 0.2, 19.99])).tolist() == [10, 20, 1999]
    with pytest.raises(SchemaError, match="minor units"):
        to_cents(pd.Series([19.999]))
    with pytest.raises(SchemaError):
        to_cents(pd.Series([1.5]), "JPY")


# ----------------------------------------------------------------------------- one rounding
def test_derived_line_amounts_round_once_half_to_even():
    # by construction: exact products 26.955 (-> .96), 0.025 (-> .02), 0.075 (-> .08),
    # 2 x 0.335 = 0.67, 3 x 9.95 x 0.9 = 26.865 (-> .86)
    lines = pd.DataFrame({"quantity": [1, 1, 1, 2, 3],
                          "unit_price": [29.95, 0.05, 0.15, 0.335, 9.95],
                          "discount": [0.1, 0.5, 0.5, 0.0, 0.1]})
    assert derive_line_amounts(lines).tolist() == [2696, 2, 8, 67, 2686]


def test_generated_lines_cost_what_decimal_says():
    data = generate("sports_shop", n_customers=300, seed=5)
    ln = data.order_lines
    want = [int((q * Decimal(repr(p)) * (1 - Decimal(repr(d)))).scaleb(2).quantize(
        Decimal(1), rounding=ROUND_HALF_EVEN)) for q, p, d in
        zip(ln["quantity"], ln["unit_price"], ln["discount"], strict=True)]
    assert ln["amount_cents"].dtype == "Int64" and ln["amount_cents"].tolist() == want


def test_generated_returns_are_refunded_their_goods_and_shipping_is_in_cents():
    data = generate("fashion_chain", n_customers=400, seed=2)
    o = data.orders.set_index("order_id")
    goods = data.order_lines.groupby("order_id")["amount_cents"].sum()
    returned = o["status"] == "returned"
    assert returned.any()
    assert (o.loc[returned, "refunded_cents"] == goods.reindex(o.index[returned])).all()
    assert (o.loc[~returned, "refunded_cents"] == 0).all()
    ship = [int(Decimal(repr(x)).scaleb(2)) for x in o["shipping_cost"]]
    assert o["shipping_cents"].tolist() == ship
    assert (o["discount_cents"] == 0).all() and o["tax_cents"].isna().all()


# ----------------------------------------------------------------------------- totals
def _tiny() -> CRMData:
    orders = empty_table("orders").iloc[:0]
    orders = conform("orders", pd.DataFrame({
        "order_id": [1, 2, 3], "customer_id": [None, None, None],
        "placed_at": ["2024-01-01 10:00"] * 3, "channel": ["web"] * 3,
        "status": ["paid", "returned", "paid"], "paid_at": [None] * 3, "shipped_at": [None] * 3,
        "delivered_at": [None] * 3, "cancelled_at": [None] * 3, "returned_at": [None] * 3,
        "payment_method": ["card"] * 3, "shipping_cost": [3.95, 0.0, None],
        "discount_code": [None] * 3, "campaign_id": [None] * 3,
        "discount_cents": [500, 0, 0], "refunded_cents": [0, 1000, 0]}))
    lines = conform("order_lines", pd.DataFrame({
        "order_id": [1, 1, 2], "line_number": [1, 2, 1], "product_id": [None] * 3,
        "quantity": [1, 2, 1], "unit_price": [None] * 3, "discount": [None] * 3,
        "amount_cents": [1999, 3001, 1000]}))
    return CRMData({"orders": orders, "order_lines": lines})


def test_order_totals_on_a_hand_made_shop():
    got = order_totals(_tiny())
    want = pd.DataFrame({"order_id": [1, 2, 3], "lines_cents": [5000, 1000, 0],
                         "discount_cents": [500, 0, 0], "shipping_cents": [395, 0, None],
                         "refunded_cents": [0, 1000, 0], "net_cents": [5000, 0, 0]})
    pd.testing.assert_frame_equal(got, want.astype({c: "Int64" for c in want
                                                    if c != "order_id"}), check_dtype=False)


def test_line_amounts_asks_for_the_column():
    assert line_amounts(_tiny().order_lines).sum() == 6000
    with pytest.raises(SchemaError, match="amount_cents"):
        line_amounts(pd.DataFrame({"quantity": [1]}))


def test_lines_without_price_need_an_amount():
    with pytest.raises(SchemaError, match="amount_cents"):
        conform("order_lines", pd.DataFrame({
            "order_id": [1], "line_number": [1], "product_id": [None], "quantity": [1],
            "unit_price": [None], "discount": [0.0]}))


# ----------------------------------------------------------------------------- writers
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_save_and_load_keep_every_cent(tmp_path, fmt):
    data = generate("boutique", n_customers=150, seed=4)
    back = CRMData.load(data.save(tmp_path / "shop", format=fmt))
    pd.testing.assert_series_equal(back.order_lines["amount_cents"],
                                   data.order_lines["amount_cents"])
    for col in ("shipping_cents", "discount_cents", "tax_cents", "refunded_cents"):
        pd.testing.assert_series_equal(back.orders[col], data.orders[col])


def test_a_folder_from_an_older_crmkit_gets_its_amounts_derived_once(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "orders.csv").write_text(
        "order_id,customer_id,placed_at,channel,status,paid_at,shipped_at,delivered_at,"
        "cancelled_at,returned_at,payment_method,shipping_cost,discount_code,campaign_id\n"
        "1,,2024-01-01 10:00:00,web,paid,,,,,,card,4.95,,\n", encoding="utf-8")
    (folder / "order_lines.csv").write_text(
        "order_id,line_number,product_id,quantity,unit_price,discount\n"
        "1,1,,3,9.95,0.1\n1,2,,1,0.05,0.5\n", encoding="utf-8")
    data = CRMData.load(folder)
    assert data.order_lines["amount_cents"].tolist() == [2686, 2]  # 26.865 -> .86, .025 -> .02
    assert data.orders["shipping_cents"].tolist() == [495]
    assert data.orders["refunded_cents"].tolist() == [0]


def test_a_money_column_with_a_fraction_of_a_cent_is_refused_naming_the_file(tmp_path):
    folder = generate("boutique", n_customers=30, seed=1).save(tmp_path / "shop")
    ln = (folder / "order_lines.csv").read_text(encoding="utf-8").splitlines()
    head = ln[0].split(",")
    row = ln[1].split(",")
    row[head.index("amount_cents")] = "12.5"
    ln[1] = ",".join(row)
    (unseal(folder) / "order_lines.csv").write_text("\n".join(ln) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"order_lines\.csv.*amount_cents.*line 2"):
        CRMData.load(folder)


def test_generated_amounts_are_whole_and_non_negative():
    data = generate("ice_cream", n_customers=200, seed=9)
    a = data.order_lines["amount_cents"]
    assert a.notna().all() and (a >= 0).all()
    assert np.array_equal(a.to_numpy(dtype="int64"), a.to_numpy(dtype="float64").astype(int))
