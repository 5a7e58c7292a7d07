"""The small committed sample datasets, one per shop profile, and the data dictionary.

``make report`` (through ``crmkit samples``) rebuilds them; a test rebuilds
them again and compares byte for byte, so they never drift from the code.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .crmdata import CRMData
from .profiles import PROFILES
from .schema import data_dictionary
from .synth import DEFAULT_END, DEFAULT_START, generate

__all__ = ["SAMPLE_SEED", "EXTRACTS_PROFILE", "SHOPIFY_PROFILE", "SHOPIFY_CUSTOMERS",
           "build_sample", "build_samples", "build_extracts_sample", "shopify_example",
           "build_shopify_example", "dictionary", "write_dictionary"]

SAMPLE_SEED = 2024
#: The shop whose sample is also committed as messy source extracts (data/extracts/).
EXTRACTS_PROFILE = "boutique"
#: The shop committed as Shopify exports (data/examples/shopify/), and its size.
SHOPIFY_PROFILE = "bendita"
SHOPIFY_CUSTOMERS = 150
#: Shares of the example's web orders taken by phone (draft orders) and sold in the shop (POS):
#: Bendita sells on the web only, and a real Shopify export carries both.
SHOPIFY_DRAFTS, SHOPIFY_POS = 0.04, 0.06


def build_sample(profile: str) -> CRMData:
    """The sample dataset of one profile (its ``sample_customers``, two years).

    >>> build_sample("boutique").manifest["n_customers"]
    300
    """
    prof = PROFILES[profile]
    return generate(profile, n_customers=prof.sample_customers, start=DEFAULT_START,
                    end=DEFAULT_END, seed=SAMPLE_SEED)


def build_samples(out: str | Path, profiles: Iterable[str] | None = None) -> list[Path]:
    """Write the sample of every profile (or of ``profiles``) to ``out/<profile>/`` as CSV."""
    out = Path(out)
    return [build_sample(p).save(out / p, format="csv") for p in (profiles or PROFILES)]


def build_extracts_sample(out: str | Path) -> Path:
    """Write the :data:`EXTRACTS_PROFILE` sample as three systems' messy extracts to ``out``."""
    from .extracts import write_extracts

    info = write_extracts(build_sample(EXTRACTS_PROFILE), out, seed=SAMPLE_SEED)
    return Path(info["directory"])


def shopify_example() -> CRMData:
    """The shop behind the committed Shopify example (small: a file a person can open), with
    the cases a real Shopify export holds (order-level discounts, full and partial refunds,
    draft and POS orders, guest checkouts: :func:`crmkit.dataset.shopify.shopify_cases`)."""
    from .shopify import shopify_cases

    return shopify_cases(generate(SHOPIFY_PROFILE, n_customers=SHOPIFY_CUSTOMERS,
                                  start=DEFAULT_START, end=DEFAULT_END, seed=SAMPLE_SEED),
                         seed=SAMPLE_SEED, drafts=SHOPIFY_DRAFTS, pos=SHOPIFY_POS)


def build_shopify_example(out: str | Path) -> Path:
    """Write :func:`shopify_example` as Shopify's orders, customers and products exports,
    as Shopify writes each case (``full=True``)."""
    from .shopify import write_shopify

    write_shopify(shopify_example(), out, full=True)
    return Path(out)


def source_dictionary() -> str:
    """The source extracts (files, systems, encodings) and the quarantine reasons, as Markdown."""
    from .extracts import FILES, REASONS

    lines = ["", "## Source extracts", "",
             f"`data/extracts/{EXTRACTS_PROFILE}/` holds the `{EXTRACTS_PROFILE}` sample as "
             "three source systems export it (`crmkit extracts`), with every planted bad row",
             "listed in `bad_rows.csv`. `crmkit warehouse build shop.duckdb --from "
             f"data/extracts/{EXTRACTS_PROFILE}` loads them.", "",
             "| file | system | encoding | separator | content |", "|---|---|---|---|---|"]
    for spec in FILES.values():
        sep = "`;`" if spec.delimiter == ";" else "`,`"
        lines.append(f"| `{spec.name}` | {spec.system} | {spec.encoding} | {sep} | "
                     f"{spec.description} |")
    lines += ["", "Why a row lands in quarantine:", "", "| reason | meaning |", "|---|---|"]
    lines += [f"| `{k}` | {v} |" for k, v in REASONS.items()]
    return "\n".join(lines) + "\n"


def dictionary() -> str:
    """The whole ``data/README.md``: canonical tables, then the source extracts."""
    return data_dictionary() + source_dictionary()


def write_dictionary(path: str | Path) -> Path:
    """Write :func:`dictionary` to ``path``."""
    path = Path(path)
    path.write_text(dictionary(), encoding="utf-8")
    return path
