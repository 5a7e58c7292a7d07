"""The canonical schema: declarations, casting and validation errors."""

from __future__ import annotations

import pandas as pd
import pytest

from crmkit.dataset.schema import LEVELS, SCHEMA, conform, empty_table, validate_table
from crmkit.errors import SchemaError


def test_every_reference_points_to_a_declared_key_column():
    for table in SCHEMA.values():
        for col in table.columns:
            if col.references:
                ref_table, ref_col = col.references.split(".")
                assert ref_table in SCHEMA, col.references
                assert SCHEMA[ref_table].key == (ref_col,), col.references


def test_every_customer_contact_or_profile_field_has_a_data_level():
    levels = {c.name: c.level for c in SCHEMA["customers"].columns}
    assert {levels[c] for c in ("first_name", "address", "city", "postal_code")} == {1}
    assert levels["phone"] == 2
    assert {levels[c] for c in ("birth_date", "gender", "education")} == {3}
    assert levels["acquisition_channel"] == 4
    assert levels["preferred_payment_method"] == 5
    assert set(LEVELS) == {1, 2, 3, 4, 5}
    assert {lv for lv in levels.values() if lv} == set(LEVELS)


def test_keys_are_declared_columns_and_not_nullable():
    for table in SCHEMA.values():
        for k in table.key:
            assert k in table and not table[k].nullable


@pytest.mark.parametrize("name", list(SCHEMA))
def test_empty_table_validates(name):
    validate_table(name, empty_table(name))


def _products(**changes):
    df = pd.DataFrame({
        "product_id": [1, 2], "sku": ["A-1", "A-2"], "name": ["a", "b"],
        "department": ["d", "d"], "category": ["c", "c"], "subcategory": ["s", "s"],
        "brand": ["b", "b"], "unit_cost": [1.0, 2.0], "list_price": [2.0, 3.0],
    })
    for k, v in changes.items():
        df[k] = v
    return df


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (_products().drop(columns="sku"), "missing column(s) 'sku'"),
        (_products(product_id=[1, 1]), "key (product_id) is not unique"),
        (_products(list_price=[2.0, -1.0]), "column 'list_price' is below 0"),
        (_products(name=["a", None]), "column 'name' must not be empty"),
        (_products(unit_cost=["1", "2"]), "column 'unit_cost' has dtype"),
    ],
    ids=["missing", "duplicate-key", "negative", "null", "dtype"],
)
def test_validate_table_names_table_column_and_rows(frame, message):
    with pytest.raises(SchemaError) as err:
        validate_table("products", frame)
    assert "'products'" in str(err.value)
    assert message in str(err.value)


def test_allowed_values_error_lists_the_choices_and_rows():
    orders = empty_table("orders")
    row = {c: None for c in orders.columns}
    row.update(order_id=1, placed_at="2024-01-01 10:00:00", channel="fax", status="paid",
               payment_method="card", shipping_cost=0.0)
    df = conform("orders", pd.DataFrame([row]))
    with pytest.raises(SchemaError, match=r"column 'channel' has value\(s\) \['fax'\]; "
                                          r"allowed values are: store, web, phone, "
                                          r"first rows: 0"):
        validate_table("orders", df)


def test_conform_casts_text_to_declared_types_and_keeps_leading_zeros():
    raw = pd.DataFrame({"date": ["2024-01-02"], "product_id": ["7"], "on_hand": ["3"],
                        "units_sold": [0], "units_received": [1]})
    out = conform("inventory", raw)
    validate_table("inventory", out)
    assert out.loc[0, "date"] == pd.Timestamp("2024-01-02")
    assert out["on_hand"].tolist() == [3]


def test_conform_reports_uncastable_column():
    raw = pd.DataFrame({"date": ["2024-01-02"], "product_id": ["seven"], "on_hand": [3],
                        "units_sold": [0], "units_received": [1]})
    with pytest.raises(SchemaError, match="table 'inventory', column 'product_id'"):
        conform("inventory", raw)


def test_conform_output_and_input_do_not_share_changes():
    # conform builds its table without copying columns already of the right type; a change
    # to either side must still leave the other as it was
    lines = pd.DataFrame({"order_id": [1, 2], "line_number": [1, 1], "product_id": [7, 8],
                          "quantity": [2, 1], "unit_price": [9.95, 1.0], "discount": [0.5, 0.0],
                          "amount_cents": pd.array([995, 100], dtype="Int64")})
    out = conform("order_lines", lines)
    out.loc[0, "quantity"] = 99
    out.loc[1, "amount_cents"] = 1
    assert lines["quantity"].tolist() == [2, 1]
    assert lines["amount_cents"].tolist() == [995, 100]
    lines.loc[0, "unit_price"] = 0.0
    assert out["unit_price"].tolist() == [9.95, 1.0]
    assert out["quantity"].tolist() == [99, 1] and out["amount_cents"].tolist() == [995, 1]
