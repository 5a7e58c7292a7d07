"""``crmkit import shopify|orders``: a shop's own exports into a dataset folder."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .command import Command, add_commands, run_command

if TYPE_CHECKING:
    from ..sources.orders import OrderLogMapping
    from ..sources.quarantine import ImportResult

__all__ = ["IMPORT", "KINDS"]

#: The order log's column flags; each names the column holding that field.
ROLES = ("customer", "date", "amount", "order", "quantity", "product", "product-name",
         "price", "status", "cancel-flag")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="dataset folder to write")
    p.add_argument("--shop-name", help="the shop's name (titles and report folders)")
    p.add_argument("--timezone",
                   help="the shop's time zone (IANA); default: for Shopify the zone its "
                   "times' offsets show (Europe/Madrid when they are Madrid's), UTC for an "
                   "order log")
    p.add_argument("--encoding", help="file encoding (default: detected)")
    p.add_argument("--format", default="csv", choices=["csv", "parquet"])
    p.add_argument("--wait", type=float, default=60.0, metavar="SECONDS",
                   help="how long to wait for another import into the same --out "
                   "(default 60)")


def _shopify_arguments(sh: argparse.ArgumentParser) -> None:
    sh.add_argument("orders", help="orders_export.csv")
    sh.add_argument("--customers", help="customers_export.csv")
    sh.add_argument("--products", help="products_export.csv")
    sh.add_argument("--currency", help="ISO code (default: the export's Currency column)")
    _common(sh)


def _orders_arguments(lg: argparse.ArgumentParser) -> None:
    lg.add_argument("file", help="the log file")
    lg.add_argument("--mapping", help="YAML file with the mapping (see --save-mapping)")
    for role in ROLES:
        lg.add_argument(f"--{role}", metavar="COLUMN",
                        help=f"column holding the {role.replace('-', ' ')} (header name, or "
                        "1-based position with --no-header)")
    lg.add_argument("--date-format", help="e.g. %%Y%%m%%d (default: detected)")
    order = lg.add_mutually_exclusive_group()
    order.add_argument("--dayfirst", action="store_true", default=None,
                       help="dates are day/month/year (default: decided from the column)")
    order.add_argument("--monthfirst", dest="dayfirst", action="store_false",
                       help="dates are month/day/year")
    lg.add_argument("--cancel-prefix", help="order numbers starting with this are "
                    "cancellations (Online Retail: C)")
    lg.add_argument("--status-map", metavar="VALUE=STATUS,...",
                    help="the status column's values -> statuses, e.g. "
                    "'Anulado=cancelled,Devuelto=returned' (statuses: placed, paid, shipped, "
                    "delivered, cancelled, returned, other)")
    lg.add_argument("--no-header", action="store_true", help="the file has no header line")
    lg.add_argument("--delimiter", help="',', ';', '\\t', '|' or 'whitespace' "
                    "(default: detected)")
    lg.add_argument("--decimal", choices=[".", ","], help="decimal mark (default: detected)")
    lg.add_argument("--currency", default="EUR", help="ISO code (default EUR)")
    lg.add_argument("--save-mapping", metavar="FILE", help="also write the mapping as YAML")
    _common(lg)


def _read_shopify(args: argparse.Namespace) -> ImportResult:
    from pathlib import Path

    from ..sources.shopify import import_shopify

    return import_shopify(args.orders, customers=args.customers, products=args.products,
                          shop_name=args.shop_name or Path(args.out).name,
                          currency=args.currency, timezone=args.timezone,
                          encoding=args.encoding)


def _read_orders(args: argparse.Namespace) -> ImportResult:
    from pathlib import Path

    from ..sources.orders import OrderLogMapping, import_orders

    mapping = _mapping(args, OrderLogMapping)
    if args.save_mapping:
        Path(args.save_mapping).write_text(mapping.to_yaml(), encoding="utf-8")
        print(f"mapping written: {args.save_mapping}")
    return import_orders(args.file, mapping, shop_name=args.shop_name or Path(args.out).name,
                         currency=args.currency, timezone=args.timezone)


def _importer(read: Callable[[argparse.Namespace], ImportResult]
              ) -> Callable[[argparse.Namespace], int]:
    """The ``run`` of an import kind: check --out, ``read(args)``, write what is usable."""
    def run(args: argparse.Namespace) -> int:
        from ..dataset.folder import check_target

        t0 = time.perf_counter()
        check_target(args.out)  # a file, or a folder of other files: refused before any work
        result = read(args)
        print(result.summary())
        if not result.usable:
            print(f"crmkit import: nothing usable remains (every row quarantined); nothing "
                  f"written to {args.out}.", file=sys.stderr)
            return 1
        path = result.save(args.out, format=args.format, lock_timeout=args.wait)
        print(f"dataset written: {path} ({time.perf_counter() - t0:.1f} s); quarantined "
              f"rows: {path / 'quarantine.csv'}")
        return 0
    return run


def _status_map(text: str | None) -> dict | None:
    """``--status-map 'Anulado=cancelled,Devuelto=returned'`` -> a dict (None if not given).

    >>> _status_map("Anulado=cancelled, Devuelto=returned")
    {'Anulado': 'cancelled', 'Devuelto': 'returned'}
    """
    if text is None:
        return None
    pairs = [p.split("=", 1) for p in text.split(",") if p.strip()]
    if any(len(p) != 2 for p in pairs):
        from ..errors import SourceError

        raise SourceError(f"--status-map {text!r}: write VALUE=STATUS pairs separated by "
                          "commas, e.g. 'Anulado=cancelled,Devuelto=returned'.")
    return {k.strip(): v.strip() for k, v in pairs}


def _mapping(args: argparse.Namespace, cls: type[OrderLogMapping]) -> OrderLogMapping:
    from dataclasses import replace

    given = {"customer": args.customer, "date": args.date, "amount": args.amount,
             "order": args.order, "quantity": args.quantity, "product": args.product,
             "product_name": args.product_name, "price": args.price,
             "date_format": args.date_format, "cancel_prefix": args.cancel_prefix,
             "status": args.status, "cancel_flag": args.cancel_flag,
             "status_map": _status_map(args.status_map),
             "delimiter": args.delimiter, "decimal": args.decimal, "encoding": args.encoding}
    given = {k: v for k, v in given.items() if v is not None}
    flags = {} if args.dayfirst is None else {"dayfirst": args.dayfirst}
    if args.no_header:
        flags["header"] = False
    if args.mapping:
        return replace(cls.from_yaml(args.mapping), **given, **flags)
    if "date" not in given:
        from ..errors import SourceError

        raise SourceError("give the log's columns: at least --date and --amount (or "
                          "--price), usually --customer; or a YAML file with --mapping.")
    return cls(customer=given.pop("customer", None), date=given.pop("date"), **given, **flags)


KINDS = (
    Command("shopify", "Shopify orders export (+ customers, products)", _shopify_arguments,
            _importer(_read_shopify)),
    Command("orders", "any delimited order or transaction log", _orders_arguments,
            _importer(_read_orders), description="Map the log's columns with --customer, "
            "--date, --amount (or --price with --quantity)... or a YAML --mapping file."),
)

IMPORT = Command(
    "import", "import your own shop's exports into a dataset folder",
    lambda imp: add_commands(imp, KINDS, dest="kind"),
    lambda args: run_command(KINDS, "kind", args),
    description="Read a Shopify export or any order log into a dataset folder (one file "
    "per table, manifest.json, import_report.json, quarantine.csv). Bad rows are "
    "quarantined with file, line, column and reason; exit 1 only if nothing usable "
    "remains.")
