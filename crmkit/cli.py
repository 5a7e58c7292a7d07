"""The ``crmkit`` command line.

    crmkit generate --profile boutique --customers 500 --seed 1 --out my_shop
    crmkit samples data/samples
    crmkit dictionary --out data/README.md
    crmkit profiles
"""

from __future__ import annotations

import argparse
import sys
import time

from . import __version__
from .errors import CRMKitError
from .profiles import PROFILE_NAMES, PROFILES

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crmkit", description="CRM-analytics course kit: data, warehouse and reports."
    )
    parser.add_argument("--version", action="version", version=f"crmkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="generate a synthetic shop dataset")
    g.add_argument("--profile", required=True, help=f"one of: {', '.join(PROFILE_NAMES)}")
    g.add_argument("--customers", type=int, default=None,
                   help="number of customers (default: the profile's)")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("--start", default="2024-01-01", help="first day, YYYY-MM-DD")
    g.add_argument("--end", default="2025-12-31", help="last day, YYYY-MM-DD")
    g.add_argument("--format", default="csv", choices=["csv", "parquet"])
    g.add_argument("--out", required=True, help="folder to write")

    s = sub.add_parser("samples", help="rebuild the committed sample datasets")
    s.add_argument("out", nargs="?", default="data/samples")
    s.add_argument("--profile", action="append", choices=PROFILE_NAMES,
                   help="only this profile (repeatable)")

    d = sub.add_parser("dictionary", help="write the data dictionary (Markdown)")
    d.add_argument("--out", default="data/README.md")

    sub.add_parser("profiles", help="list the shop profiles")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except CRMKitError as exc:
        print(f"crmkit {args.command}: error: {exc}", file=sys.stderr)
        return 2


def _run(args) -> int:
    if args.command == "generate":
        from .synth import generate

        t0 = time.perf_counter()
        data = generate(args.profile, n_customers=args.customers, start=args.start,
                        end=args.end, seed=args.seed)
        path = data.save(args.out, format=args.format)
        print(f"{data!r}\nwritten to {path} in {time.perf_counter() - t0:.1f} s")
    elif args.command == "samples":
        from .samples import build_samples

        for path in build_samples(args.out, args.profile):
            print(f"sample written: {path}")
    elif args.command == "dictionary":
        from .samples import write_dictionary

        print(f"data dictionary written: {write_dictionary(args.out)}")
    elif args.command == "profiles":
        for p in PROFILES.values():
            print(f"{p.name:14} {p.modelled_on} (default {p.default_customers:,} customers)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
