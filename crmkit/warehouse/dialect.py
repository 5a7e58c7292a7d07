"""Where the warehouse's SQL meets an engine: statements, parameters, dialects.

Every model is written once, in DuckDB's SQL (:mod:`crmkit.warehouse.sql`,
:mod:`crmkit.warehouse.direct`), with named parameters (``$batch``, ``$lo``,
``$money_unit`` ...) for every value that varies; nothing is pasted into the
text. This module is the one place that knows how that text differs on
another engine:

* :func:`statements` splits a script into statements, :func:`target` names
  the table or view one creates, :func:`bind` picks the parameters one uses;
* :func:`to_spark` translates a statement to Spark SQL with sqlglot (pinned in
  ``pyproject.toml``), then corrects what sqlglot gets wrong or cannot know:
  ``CREATE OR REPLACE TABLE`` (Spark's own catalog has no replace: drop, then
  create as Parquet), ``TEMP TABLE`` (a cached temporary view), ``QUALIFY``
  (kept: sqlglot's subquery leaks its row number through ``SELECT *``),
  DuckDB's ``isodow`` (ISO weekday, Monday = 1; sqlglot makes Sunday 2),
  ``try_strptime`` (Spark's ``try_to_timestamp`` with a Java pattern),
  ``isfinite`` and ``to_json`` of a whole row. ``ltrim(x, chars)`` and
  ``strftime`` are translated right (tests/test_warehouse_dialect.py holds
  sqlglot to each of these).
  Spark's session time zone is pinned to UTC by the engine
  (:mod:`crmkit.warehouse.spark`), as DuckDB's is by
  :func:`crmkit.warehouse.build.connect`.

>>> statements("CREATE TABLE a (x INT);\\nCREATE VIEW b AS SELECT 1;\\n")
['CREATE TABLE a (x INT)', 'CREATE VIEW b AS SELECT 1']
>>> bind("SELECT * FROM t WHERE b = $batch", batch="2024-01", lo=None)
{'batch': '2024-01'}
>>> target("CREATE OR REPLACE TEMP TABLE _lines AS SELECT 1")
'_lines'
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp
    from sqlglot.dialects.dialect import Dialect

__all__ = ["statements", "bind", "target", "parameters", "to_spark", "SQLGLOT_VERSION"]

#: The sqlglot release the translations below were checked against (see tests).
SQLGLOT_VERSION = "30.31.0"

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_TARGET = re.compile(
    r"^\s*(?:--[^\n]*\n\s*)*CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+|TEMPORARY\s+)?(?:TABLE|VIEW)\s+"
    r"(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_.]*)", re.IGNORECASE)


def statements(script: str) -> list[str]:
    """The statements of ``script`` (each ends with ``;`` at the end of a line)."""
    parts = re.split(r";[ \t]*(?:\n|$)", script)
    return [p.strip() for p in parts if p.strip() and not _only_comments(p)]


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in text.splitlines())


def parameters(sql: str) -> list[str]:
    """Names of the named parameters ``sql`` uses, in order of first use.

    >>> parameters("SELECT $a, $b, $a")
    ['a', 'b']
    """
    return list(dict.fromkeys(_PARAM.findall(sql)))


def bind(sql: str, **values: object) -> dict[str, object]:
    """The values of the parameters ``sql`` uses (a parameter without a value is an error)."""
    names = parameters(sql)
    missing = [n for n in names if n not in values]
    if missing:
        raise KeyError(f"no value for parameter(s) {', '.join(missing)}")
    return {n: values[n] for n in names}


def target(sql: str) -> str | None:
    """The table or view a CREATE statement makes (``None`` for any other statement)."""
    m = _TARGET.match(sql)
    return m.group(1) if m else None


# ----------------------------------------------------------------------------- Spark
# strftime / strptime codes -> Java DateTimeFormatter patterns (the ones the models use)
_JAVA = {"%Y": "yyyy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%S": "ss",
         "%B": "MMMM", "%A": "EEEE"}


def _java(fmt: str) -> str:
    out = fmt
    for code, pattern in _JAVA.items():
        out = out.replace(code, pattern)
    if "%" in out:
        raise ValueError(f"no Spark pattern for {fmt!r}")
    return out


def _fix(node: exp.Expression) -> exp.Expression:
    """One DuckDB function sqlglot translates wrongly (or not at all) for Spark, corrected."""
    from sqlglot import exp

    if isinstance(node, exp.DayOfWeekIso):
        # ISO weekday, Monday = 1 ... Sunday = 7; sqlglot writes (DAYOFWEEK(d) % 7) + 1,
        # which makes Sunday 2. Spark's weekday is Monday = 0.
        return exp.paren(exp.Anonymous(this="WEEKDAY", expressions=[node.this])
                         + exp.Literal.number(1))
    if not isinstance(node, exp.Anonymous):
        return node
    name = node.name.lower()
    if name == "try_strptime":  # left as is by sqlglot: Spark has no such function
        value, fmt = node.expressions
        return exp.Anonymous(this="TRY_TO_TIMESTAMP",
                             expressions=[value, exp.Literal.string(_java(fmt.name))])
    if name == "isfinite":  # DuckDB: NULL for NULL, false for NaN and infinities
        x = node.expressions[0]
        return exp.Not(this=exp.paren(exp.or_(
            exp.Anonymous(this="ISNAN", expressions=[x.copy()]),
            exp.EQ(this=exp.Abs(this=x.copy()),
                   expression=exp.cast(exp.Literal.string("Infinity"), "DOUBLE")))))
    if name == "to_json" and isinstance(node.expressions[0], exp.Column) \
            and not node.expressions[0].table:  # to_json(alias): the whole row
        row = exp.Star(**{"table": None})
        return exp.Anonymous(this="TO_JSON", expressions=[exp.Anonymous(
            this="STRUCT", expressions=[exp.Column(this=row, table=node.expressions[0].this)])])
    return node


def _spark_dialect() -> type[Dialect]:
    """Spark's dialect as sqlglot writes it, but keeping QUALIFY (Spark 4 has it) instead
    of rewriting it into a subquery whose ``SELECT *`` would leak the row number."""
    from sqlglot import exp, transforms
    from sqlglot.dialects.spark import Spark
    from sqlglot.generators.spark import SparkGenerator  # what Spark.Generator names

    class Spark4(Spark):
        class Generator(SparkGenerator):
            TRANSFORMS = {**SparkGenerator.TRANSFORMS,
                          exp.Select: transforms.preprocess([
                              transforms.eliminate_distinct_on, transforms.unnest_to_explode,
                              transforms.any_to_exists])}

    return Spark4


def to_spark(sql: str) -> list[str]:
    """``sql`` (one DuckDB statement of the models) as Spark SQL statement(s).

    A ``CREATE OR REPLACE TABLE`` becomes ``DROP TABLE IF EXISTS`` then
    ``CREATE TABLE ... USING parquet AS``; a temporary table a cached temporary
    view. Named parameters stay named (``:name``), bound by Spark.

    >>> for s in to_spark("CREATE OR REPLACE TABLE marts.d AS SELECT isodow(d) AS w FROM t"):
    ...     print(s)
    DROP TABLE IF EXISTS marts.d
    CREATE TABLE marts.d USING parquet AS SELECT (WEEKDAY(d) + 1) AS w FROM t
    """
    import sqlglot
    from sqlglot import exp

    dialect = _spark_dialect()
    tree = sqlglot.parse_one(sql, read="duckdb").transform(_fix)
    if isinstance(tree, exp.Create) and tree.kind in ("TABLE", "VIEW"):
        props = tree.args.get("properties")
        temporary = props is not None and any(isinstance(p, exp.TemporaryProperty)
                                              for p in props.expressions)
        name = tree.this.sql(dialect=dialect)
        if tree.expression is None:  # CREATE TABLE IF NOT EXISTS t (columns)
            return [tree.sql(dialect=dialect) + " USING parquet"]
        query = tree.expression.sql(dialect=dialect)
        if temporary:
            return [f"CREATE OR REPLACE TEMPORARY VIEW {name} AS {query}",
                    f"CACHE LAZY TABLE {name}"]
        if tree.kind == "VIEW":
            return [f"CREATE OR REPLACE VIEW {name} AS {query}"]
        return [f"DROP TABLE IF EXISTS {name}", f"CREATE TABLE {name} USING parquet AS {query}"]
    return [tree.sql(dialect=dialect)]
