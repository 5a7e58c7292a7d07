"""The dashboard from a dataset folder reads only the tables it shows, and shows the same.

``crmkit dashboard --data DIR`` loads ``dashboard.TABLES`` (not the inventory, the ticket
events, the web referrals...); its page must be the page of the whole dataset, byte for
byte. The visitors per month are counted group by group (no Python string per visit);
they must equal pandas' ``groupby(...).nunique()``. Parquet files are read column by
column; the frame must equal ``pd.read_parquet``'s.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from crmkit.analytics.kpis import conversion_rate, footfall, monthly_kpis  # noqa: E402
from crmkit.cli import main  # noqa: E402
from crmkit.dataset.crmdata import CRMData, _read_parquet  # noqa: E402
from crmkit.dataset.synth import generate  # noqa: E402
from crmkit.errors import ParameterError  # noqa: E402
from crmkit.lessons.dashboard import TABLES, dashboard_html, dashboard_tables  # noqa: E402


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("lean")
    out = {}
    for profile, fmt in (("fashion_chain", "parquet"), ("bendita", "csv")):
        data = generate(profile, n_customers=250, seed=3)
        out[profile] = data.save(root / profile, format=fmt)
    return out


@pytest.mark.parametrize("profile", ["fashion_chain", "bendita"])
def test_the_page_from_the_dashboards_tables_is_the_whole_datasets_page(folders, profile):
    whole = CRMData.load(folders[profile])
    lean = CRMData.load(folders[profile], tables=TABLES)
    assert set(lean.tables) < set(whole.tables)  # something is left on disk
    assert set(lean.tables) == set(TABLES) & set(whole.tables)
    for lang in ("en", "es"):
        assert dashboard_html(lean, lang=lang) == dashboard_html(whole, lang=lang)
    a, b = dashboard_tables(whole), dashboard_tables(lean)
    pd.testing.assert_frame_equal(a["board"], b["board"])
    pd.testing.assert_frame_equal(a["monthly"], b["monthly"])


def test_cli_dashboard_writes_the_whole_datasets_page(folders, tmp_path, capsys):
    out = tmp_path / "page.html"
    assert main(["dashboard", "--data", str(folders["fashion_chain"]), "--out", str(out)]) == 0
    whole = CRMData.load(folders["fashion_chain"])
    assert out.read_text(encoding="utf-8") == dashboard_html(whole)


def _nunique(s: pd.DataFrame, by: str | None) -> pd.DataFrame:
    month = s["started_at"].dt.to_period("M").rename("month")
    g = s.groupby([month] if by is None else [s[by], month], observed=True)
    return pd.DataFrame({"sessions": g["session_id"].size(),
                         "visitors": g["visitor_id"].nunique()})


@pytest.mark.parametrize("by", [None, "traffic_source", "device"])
def test_visitors_per_month_equal_pandas_nunique(by):
    s = generate("sports_shop", n_customers=400, seed=7).web_sessions
    pd.testing.assert_frame_equal(footfall(s, by=by), _nunique(s, by), check_exact=True)


def test_visitors_count_distinct_ids_and_skip_missing_ones():
    s = pd.DataFrame({
        "session_id": [1, 2, 3, 4, 5, 6],
        "visitor_id": pd.array(["a", "a", "b", None, "c", "c"], dtype="str"),
        "started_at": pd.to_datetime(["2025-01-03", "2025-01-09", "2025-01-20",
                                      "2025-02-01", "2025-02-02", "2025-03-04"]),
        "converted_order_id": pd.array([None] * 6, dtype="Int64")})
    got = footfall(s)
    assert got["sessions"].tolist() == [3, 2, 1] and got["visitors"].tolist() == [2, 1, 1]
    pd.testing.assert_frame_equal(got, _nunique(s, None), check_exact=True)


def _conversion(s: pd.DataFrame, by: str | None) -> pd.DataFrame:
    month = s["started_at"].dt.to_period("M").rename("month")
    conv = s["converted_order_id"].notna()
    g = conv.groupby([month] if by is None else [s[by], month], observed=True)
    out = pd.DataFrame({"sessions": g.size(), "orders": g.sum().astype(int)})
    out["conversion_rate"] = out["orders"] / out["sessions"]
    return out


@pytest.mark.parametrize("by", [None, "device"])
def test_monthly_counts_with_a_month_without_visits_and_an_unknown_time(by):
    s = generate("fashion_chain", n_customers=300, seed=2).web_sessions
    s = s[s["started_at"].dt.month != 5].copy()  # a gap: no May in either year
    s.loc[s.index[3], "started_at"] = pd.NaT
    pd.testing.assert_frame_equal(footfall(s, by=by), _nunique(s, by), check_exact=True)
    pd.testing.assert_frame_equal(conversion_rate(s, monthly=True, by=by), _conversion(s, by),
                                  check_exact=True)
    assert pd.Period("2024-05", "M") not in footfall(s).index
    empty = s.iloc[:0]
    pd.testing.assert_frame_equal(footfall(empty), _nunique(empty, None), check_exact=True)
    pd.testing.assert_frame_equal(conversion_rate(empty, monthly=True),
                                  _conversion(empty, None), check_exact=True)


def test_monthly_kpis_of_a_loaded_shop_are_unchanged(folders):
    data = CRMData.load(folders["fashion_chain"])
    m = monthly_kpis(data)
    want = _nunique(data.web_sessions, None)
    assert m["visitors"].reindex(want.index).tolist() == want["visitors"].tolist()


def test_parquet_read_column_by_column_equals_read_parquet(folders, tmp_path):
    for name in ("web_sessions", "orders", "customers"):
        file = folders["fashion_chain"] / f"{name}.parquet"
        pd.testing.assert_frame_equal(_read_parquet(file), pd.read_parquet(file))
    # a file that stores its index as a column is read whole, index included
    df = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}, index=pd.Index([7, 9], name="k"))
    df.to_parquet(tmp_path / "indexed.parquet")
    pd.testing.assert_frame_equal(_read_parquet(tmp_path / "indexed.parquet"), df)
    one = pd.DataFrame({"x": np.arange(3)})
    one.to_parquet(tmp_path / "one.parquet")
    pd.testing.assert_frame_equal(_read_parquet(tmp_path / "one.parquet"), one)


def test_load_refuses_unknown_tables_and_a_load_without_orders(folders):
    with pytest.raises(ParameterError, match="no table named 'sales'"):
        CRMData.load(folders["bendita"], tables=["orders", "sales"])
    with pytest.raises(ParameterError, match="must include 'orders'"):
        CRMData.load(folders["bendita"], tables=["customers"])
