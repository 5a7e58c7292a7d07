"""Data subcommands: ``generate``, ``samples``, ``dictionary``, ``extracts``, ``profiles``."""

from __future__ import annotations

import argparse
import time

from ..dataset.profiles import PROFILE_NAMES, PROFILES
from ..errors import ParameterError
from .command import Command, no_arguments

__all__ = ["GENERATE", "SAMPLES", "DICTIONARY", "EXTRACTS", "PROFILES_COMMAND"]


def _generate_arguments(g: argparse.ArgumentParser) -> None:
    g.add_argument("--profile", required=True, help=f"one of: {', '.join(PROFILE_NAMES)}")
    g.add_argument("--customers", type=int, default=None,
                   help="number of customers (default: the profile's)")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("--start", default="2024-01-01", help="first day, YYYY-MM-DD")
    g.add_argument("--end", default="2025-12-31", help="last day, YYYY-MM-DD")
    g.add_argument("--format", default="csv", choices=["csv", "parquet"])
    g.add_argument("--out", required=True, help="folder to write")


def _generate(args: argparse.Namespace) -> int:
    """Written table by table (:func:`~crmkit.dataset.synth.write_shop`): a big shop needs
    the memory of its largest table, not of every table at once."""
    from ..dataset.synth import write_shop

    t0 = time.perf_counter()
    path = write_shop(args.out, args.profile, n_customers=args.customers, start=args.start,
                      end=args.end, seed=args.seed, format=args.format)
    print(f"{args.profile} shop written to {path} in {time.perf_counter() - t0:.1f} s")
    return 0


def _samples_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("out", nargs="?", default="data/samples")
    s.add_argument("--profile", action="append", choices=PROFILE_NAMES,
                   help="only this profile (repeatable)")
    s.add_argument("--extracts", metavar="DIR",
                   help="also write the boutique sample as messy source extracts to DIR")
    s.add_argument("--shopify", metavar="DIR",
                   help="also write the small bendita example as Shopify exports to DIR")


def _samples(args: argparse.Namespace) -> int:
    from ..dataset.samples import build_extracts_sample, build_samples, build_shopify_example

    for path in build_samples(args.out, args.profile):
        print(f"sample written: {path}")
    if args.extracts:
        print(f"extracts written: {build_extracts_sample(args.extracts)}")
    if args.shopify:
        print(f"Shopify exports written: {build_shopify_example(args.shopify)}")
    return 0


def _dictionary(args: argparse.Namespace) -> int:
    from ..dataset.samples import write_dictionary

    print(f"data dictionary written: {write_dictionary(args.out)}")
    return 0


def _extracts_arguments(x: argparse.ArgumentParser) -> None:
    x.add_argument("out", help="folder to write")
    shop = x.add_mutually_exclusive_group(required=True)
    shop.add_argument("--profile", help=f"one of: {', '.join(PROFILE_NAMES)}")
    shop.add_argument("--data", default=None,
                      help="a saved dataset folder (read a slice of rows at a time)")
    x.add_argument("--customers", type=int, default=None)
    x.add_argument("--seed", type=int, default=0)
    x.add_argument("--clean", action="store_true", help="plant no bad rows")


def _extracts(args: argparse.Namespace) -> int:
    from ..dataset.extracts import write_extracts
    from ..dataset.synth import generate

    if args.data is not None and args.customers is not None:
        raise ParameterError("--customers sizes a generated shop; a --data folder has its own.")
    data = (args.data if args.data is not None
            else generate(args.profile, n_customers=args.customers, seed=args.seed))
    info = write_extracts(data, args.out, seed=args.seed, bad_rows=not args.clean)
    print(f"batch {info['batch_id']}: {len(info['files'])} files and "
          f"{len(info['bad_rows'])} planted bad rows written to {info['directory']}")
    return 0


def _profiles(args: argparse.Namespace) -> int:
    for p in PROFILES.values():
        print(f"{p.name:14} {p.modelled_on} (default {p.default_customers:,} customers)")
    return 0


GENERATE = Command("generate", "generate a synthetic shop dataset", _generate_arguments,
                   _generate)
SAMPLES = Command("samples", "rebuild the committed sample datasets", _samples_arguments,
                  _samples)
DICTIONARY = Command("dictionary", "write the data dictionary (Markdown)",
                     lambda d: d.add_argument("--out", default="data/README.md"), _dictionary)
EXTRACTS = Command("extracts", "write a shop as three messy source-system extracts",
                   _extracts_arguments, _extracts)
PROFILES_COMMAND = Command("profiles", "list the shop profiles", no_arguments, _profiles)
