"""Plots of the warehouse lesson: the schema drawn from its own metadata, the load report.

The star diagram is not drawn by hand: :func:`schema_links` reads DuckDB's
catalogue (``duckdb_columns()``) and finds, by the warehouse's conventions,
which table is a fact (``fact_*``), which a dimension (``dim_*``, or
``snow_*`` in the snowflake), and which ``*_key`` column of one points to
the key of another. Change the model and the picture follows.

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import duckdb
>>> con = duckdb.connect()
>>> _ = con.execute("CREATE SCHEMA marts; "
...     "CREATE TABLE marts.dim_date (date_key INT, year INT); "
...     "CREATE TABLE marts.dim_product (product_key VARCHAR, name VARCHAR); "
...     "CREATE TABLE marts.fact_sale (sale_id INT, date_key INT, product_key VARCHAR, "
...     "amount DOUBLE)")
>>> schema_links(con)[["table", "column", "refers_to"]]
       table       column    refers_to
0  fact_sale     date_key     dim_date
1  fact_sale  product_key  dim_product
>>> plot_star_schema(con, fact="fact_sale", lang="es").get_title()
'Esquema en estrella de fact_sale (leído de los metadatos del almacén)'
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..errors import ParameterError, check_choice
from ..i18n import check_lang, describe_figure, format_message, format_number, locale_axes, t
from .connection import opened

__all__ = ["schema_columns", "schema_links", "plot_star_schema", "plot_load_report"]

_FACT, _DIM, _SNOW = "fact_", "dim_", "snow_"
_COLORS = {"fact": "#e9c46a", "dim": "#8ecae6", "snow": "#b7e4c7"}
_NUMERIC = ("DOUBLE", "FLOAT", "DECIMAL", "BIGINT", "INTEGER", "HUGEINT", "SMALLINT")


def schema_columns(warehouse, schema: str = "marts") -> pd.DataFrame:
    """Every column of the base tables of ``schema``: table, column, type, position."""
    with opened(warehouse) as con:
        return con.execute(
            "SELECT table_name AS \"table\", column_name AS \"column\", data_type AS type, "
            "column_index AS position FROM duckdb_columns() WHERE schema_name = ? "
            "AND table_name IN (SELECT table_name FROM duckdb_tables() WHERE schema_name = ?) "
            "ORDER BY table_name, column_index", [schema, schema]).df()


def _own_key(cols: pd.DataFrame) -> str | None:
    first = cols.sort_values("position")["column"].iloc[0]
    return first if first.endswith("_key") else None


def schema_links(warehouse, schema: str = "marts") -> pd.DataFrame:
    """Foreign keys found from the metadata: ``table.column`` refers to ``refers_to``.

    A dimension's key is its first column when it ends in ``_key``; any other
    ``*_key`` column of a table refers to the dimension with that key (a role
    such as ``closed_date_key`` refers to the ``date_key`` dimension). When a
    star dimension and a snowflake table share a key, both links are listed
    (``kind`` says ``dim`` or ``snow``).
    """
    cols = schema_columns(warehouse, schema)
    keys = {}
    for table, c in cols.groupby("table"):
        if table.startswith((_DIM, _SNOW)):
            k = _own_key(c)
            if k:
                keys.setdefault(k, []).append(table)
    rows = []
    for table, c in cols.groupby("table", sort=True):
        own = _own_key(c) if table.startswith((_DIM, _SNOW)) else None
        for col in c.sort_values("position")["column"]:
            if not col.endswith("_key") or col == own:
                continue
            target = col if col in keys else next((k for k in keys if col.endswith("_" + k)),
                                                  None)
            for dim in keys.get(target, []):
                if dim != table:
                    rows.append((table, col, dim, "snow" if dim.startswith(_SNOW) else "dim"))
    return pd.DataFrame(rows, columns=["table", "column", "refers_to", "kind"])


def _box_text(table: str, cols: pd.DataFrame, links: pd.DataFrame, role: str,
              n_attributes: int) -> str:
    keys = set(links.loc[links["table"] == table, "column"])
    own = _own_key(cols) if role != "fact" else None
    lines = [table]
    if own:
        lines.append(f"PK {own}")
    lines += [f"FK {k}" for k in cols["column"] if k in keys]
    if role == "fact":
        rest = [c for c, ty in zip(cols["column"], cols["type"], strict=True)
                if not c.endswith("_key") and ty.startswith(_NUMERIC) and not c.endswith("_id")
                and c != "line_number"]
    else:
        rest = [c for c in cols["column"] if c != own and c not in keys]
    shown = rest[:n_attributes]
    lines += [f"   {c}" for c in shown]
    if len(rest) > len(shown):
        lines.append(f"   … +{len(rest) - len(shown)}")
    return "\n".join(lines)


def plot_star_schema(warehouse, *, fact: str = "fact_order_line", style: str = "star",
                     schema: str = "marts", lang: str = "en", n_attributes: int = 4,
                     ax=None):
    """Draw a fact table and its dimensions, as the warehouse's catalogue describes them.

    ``style='star'`` draws the ``dim_*`` dimensions (one join from the fact to
    any attribute); ``style='snowflake'`` prefers the normalised ``snow_*``
    tables and follows their own keys outwards (a chain of joins). Primary
    keys are marked PK, foreign keys FK; under them a few attributes (for the
    fact: its measures).
    """
    check_lang(lang)
    check_choice("style", style, ("star", "snowflake"))
    cols = schema_columns(warehouse, schema)
    _check_fact(cols, fact, schema)
    links = schema_links(warehouse, schema)
    branches = _branches(links, fact, style)
    placed, edges, deep = _place(fact, branches)
    ax = _ax(ax, (12, 7) if deep else (10, 7))
    _draw_edges(ax, placed, edges)
    _draw_tables(ax, placed, cols, links, fact, n_attributes)
    _frame(ax, placed)
    _schema_legend(ax, placed, lang)
    key = "chart.snowflake_schema_title" if style == "snowflake" else "chart.star_schema_title"
    ax.set_title(t(key, lang).format(fact=fact))
    alt = "plot_alt.snowflake_schema" if style == "snowflake" else "plot_alt.star_schema"
    return describe_figure(ax, format_message(t(alt, lang), lang, fact=fact,
                                              n=len(placed) - 1))


def _check_fact(cols: pd.DataFrame, fact: str, schema: str) -> None:
    """Refuse a fact that is not a table of the schema, naming the facts there are."""
    if fact not in set(cols["table"]):
        facts = sorted(x for x in cols["table"].unique() if x.startswith(_FACT))
        raise ParameterError(f"fact={fact!r} is not a table of schema {schema!r}; choose "
                             "one of: " + ", ".join(facts) + ".")


def _targets(links: pd.DataFrame, table: str, prefer: str) -> list[tuple[str, str]]:
    """(key column, table it refers to) of ``table``, the ``prefer`` kind first."""
    own = links[links["table"] == table]
    out = []
    for col, grp in own.groupby("column", sort=False):
        pick = grp[grp["kind"] == prefer]
        pick = pick if len(pick) else grp[grp["kind"] == "dim"]
        out += [(col, r) for r in pick["refers_to"]]
    return out


def _branches(links: pd.DataFrame, fact: str, style: str) -> list[list[tuple[str, str, str]]]:
    """One chain of joins (parent, child, key) per key of the fact; a snowflake follows the
    child's own keys outwards (up to four joins)."""
    prefer = "snow" if style == "snowflake" else "dim"
    branches = []
    for col, dim in _targets(links, fact, prefer):
        chain, parent = [(fact, dim, col)], dim
        while style == "snowflake" and len(chain) < 4:
            nxt = _targets(links, parent, prefer)
            if not nxt:
                break
            chain.append((parent, nxt[0][1], nxt[0][0]))
            parent = nxt[0][1]
        branches.append(chain)
    return branches


def _place(fact: str, branches) -> tuple[dict, list, bool]:
    """Positions of the tables (the fact in the middle, the branches around it), the edges,
    and whether a branch is deeper than one join."""
    # the longest chain (a snowflaked hierarchy) points right, where there is room
    deep = max((len(b) for b in branches), default=1) > 1
    if deep:
        branches = sorted(branches, key=len, reverse=True)
    n = max(len(branches), 1)
    angles = (0.0 if deep else np.pi / 2) - np.arange(n) * 2 * np.pi / n
    placed = {fact: (0.0, 0.0)}
    edges = []
    for chain, ang in zip(branches, angles, strict=False):
        for depth, (parent, child, col) in enumerate(chain):
            radius = 1.0 + 0.85 * depth
            placed.setdefault(child, (np.cos(ang) * radius, np.sin(ang) * 0.95 * radius))
            edges.append((parent, child, col))
    return placed, edges, deep


def _draw_edges(ax, placed: dict, edges: list) -> None:
    """A line per join, its key column written half-way."""
    for a, b, col in edges:
        (x0, y0), (x1, y1) = placed[a], placed[b]
        ax.plot([x0, x1], [y0, y1], color="#555", lw=1.2, zorder=1)
        ax.text((x0 + x1) / 2, (y0 + y1) / 2, col, fontsize=7, ha="center", va="center",
                color="#333", zorder=2, bbox=dict(boxstyle="round,pad=0.15", fc="white",
                                                  ec="none", alpha=0.85))


def _role(table: str, fact: str) -> str:
    return "fact" if table == fact else ("snow" if table.startswith(_SNOW) else "dim")


def _draw_tables(ax, placed: dict, cols: pd.DataFrame, links: pd.DataFrame, fact: str,
                 n_attributes: int) -> None:
    """A box per table: its name, keys and a few attributes (the fact: its measures)."""
    for table, (x, y) in placed.items():
        role = _role(table, fact)
        text = _box_text(table, cols[cols["table"] == table], links, role,
                         n_attributes + 3 if role == "fact" else n_attributes)
        ax.text(x, y, text, ha="center", va="center", fontsize=8, family="monospace",
                multialignment="left", zorder=3,
                bbox=dict(boxstyle="round,pad=0.4", fc=_COLORS[role], ec="#333"))


def _frame(ax, placed: dict) -> None:
    xs = [x for x, _ in placed.values()]
    ys = [y for _, y in placed.values()]
    ax.set_xlim(min(xs) - 0.45, max(xs) + 0.45)
    ax.set_ylim(min(ys) - 0.4, max(ys) + 0.4)
    ax.set_axis_off()


def _schema_legend(ax, placed: dict, lang: str) -> None:
    """The colours of the kinds of table drawn, under the diagram."""
    from matplotlib.patches import Patch

    roles = {r for r in ("dim", "snow") if any(
        (tb.startswith(_SNOW) if r == "snow" else tb.startswith(_DIM)) for tb in placed)}
    legend = [Patch(fc=_COLORS["fact"], ec="#333", label=t("label.fact_table", lang))]
    legend += [Patch(fc=_COLORS[r], ec="#333", label=t(
        "label.snowflake_table" if r == "snow" else "label.dimension_table", lang))
        for r in ("dim", "snow") if r in roles]
    ax.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3,
              fontsize=8, frameon=False)


def _ax(ax, size):
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def plot_load_report(data: pd.DataFrame, *, lang: str = "en", ax=None):
    """Rows loaded and quarantined per file (log scale: a few bad rows among thousands).

    ``data`` is a :func:`crmkit.warehouse.build.load_report` table; with several
    batches the rows of each file are added up.
    """
    check_lang(lang)
    need = {"file", "rows_read", "rows_loaded", "rows_quarantined"}
    if not need <= set(data.columns):
        raise ParameterError("data must be a load report with columns " + ", ".join(
            sorted(need)) + "; get one with crmkit.warehouse.build.load_report(warehouse).")
    per = data.groupby("file")[["rows_read", "rows_loaded", "rows_quarantined"]].sum()
    per = per.sort_values("rows_read")
    ax = _ax(ax, (9, 0.5 * len(per) + 1.6))
    y = np.arange(len(per))
    h = 0.38
    ax.barh(y + h / 2, per["rows_loaded"].clip(lower=0.8), h, color="#2a9d8f",
            label=t("column.rows_loaded", lang))
    ax.barh(y - h / 2, per["rows_quarantined"].clip(lower=0.8), h, color="#e76f51",
            label=t("column.rows_quarantined", lang))
    for yi, (_, r) in zip(y, per.iterrows(), strict=True):
        ax.text(max(r["rows_loaded"], 1) * 1.08, yi + h / 2,
                format_number(int(r["rows_loaded"]), lang), va="center", fontsize=8)
        ax.text(max(r["rows_quarantined"], 1) * 1.08, yi - h / 2,
                format_number(int(r["rows_quarantined"]), lang), va="center", fontsize=8,
                color="#9d0208")
    ax.set_xscale("log")
    ax.set_xlim(0.8, per["rows_read"].max() * 4)
    ax.set_yticks(y, per.index)
    ax.set_xlabel(t("chart.rows_log", lang))
    ax.set_title(t("chart.load_report_title", lang))
    ax.legend(loc="lower right", fontsize=8)
    locale_axes(ax, lang)
    return describe_figure(ax, format_message(t("plot_alt.load_report", lang), lang,
                                              n=len(per)))
