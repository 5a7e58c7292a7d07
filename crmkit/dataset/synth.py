"""Believable synthetic shop data: :func:`generate` fills every canonical table.

Customers buy by a BG/NBD-like process: each has a purchase rate (Gamma
distributed across customers) and, after every purchase, a chance of
dropping out for good (Beta distributed). Spend varies by customer (a
Gamma multiplier), days follow the profile's weekly and yearly seasons, and
campaigns, web visits, incidents, negotiations and stock follow from the
orders. Every campaign keeps a random control group (a share of its audience
that is not contacted) and some campaigns test two variants (A/B); the true
incremental effect of each is in ``data.truth["campaigns"]``. The generator
keeps the truth it used in ``data.truth``, so later lessons can check their
models against it.

>>> from crmkit.dataset.synth import generate
>>> data = generate("ice_cream", n_customers=200, seed=7)
>>> bool(data.orders["customer_id"].isna().mean() > 0.5)      # mostly anonymous
True
>>> generate("ice_cream", n_customers=200, seed=7).orders.equals(data.orders)
True
>>> sorted(data.truth)
['campaigns', 'complements', 'customers']

Every draw comes from ``seed``: the same seed gives identical tables.
"""

from __future__ import annotations

import numbers
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import ndtr

from .._version import __version__
from ..errors import ParameterError, check_choice
from ..i18n import t
from .backoffice import inventory, numbered, opportunities, tickets
from .crmdata import FORMATS, CRMData, give_back_memory, write_tables
from .days import DayLike, parse_day
from .folder import LOCK_TIMEOUT, replace_folder
from .money import derive_line_amounts, minor_digits, to_cents
from .names import (
    EMAIL_DOMAINS,
    FIRST_NAMES_F,
    FIRST_NAMES_M,
    LAST_NAMES,
    LOCAL_CITIES,
    NATIONAL_CITIES,
    STREETS,
)
from .profiles import ShopProfile, get_profile
from .schema import CHANNELS, SEGMENTS, conform, empty_table
from .social import OUTSIDE_TABLES, outside_parts

__all__ = ["generate", "write_shop", "TABLE_ORDER", "DEFAULT_START", "DEFAULT_END"]

DEFAULT_START = "2024-01-01"
#: The currency of every synthetic shop.
CURRENCY = "EUR"
DEFAULT_END = "2025-12-31"
DAY = 86_400
_STREAMS = ("campaigns", "customers", "products", "purchases", "contacts", "orders",
            "lines", "sessions", "tickets", "opportunities", "experiments")

# Payment methods each channel accepts, with their shares.
PAYMENT_MIX = {
    "store": {"card": 0.72, "cash": 0.28},
    "web": {"card": 0.62, "paypal": 0.28, "transfer": 0.04, "cash_on_delivery": 0.06},
    "phone": {"card": 0.45, "cash_on_delivery": 0.45, "transfer": 0.10},
}
CONTACT_COST = {"email": 0.02, "sms": 0.06, "phone": 1.8, "mail": 0.85, "social": 0.05}
OPEN_RATE = {"email": 0.28, "sms": 0.45, "phone": 0.55, "mail": 0.6, "social": 0.2}
CONVERT_GIVEN_OPEN = {"email": 0.05, "sms": 0.04, "phone": 0.08, "mail": 0.03, "social": 0.03}
TARGET_LIFT = 3.0
HOLDOUT_SHARE = 0.2  # random share of every campaign's audience kept as a control group
AB_SHARE = 0.3  # share of non-acquisition campaigns that test two variants
VARIANT_B_LIFT = 1.6  # variant B (a stronger offer) multiplies the response by this


@dataclass
class _Calendar:
    """Days of the period, their seasonal weights and helpers to draw days and times."""

    start: pd.Timestamp
    n_days: int
    cum: np.ndarray  # cumulative weights, length n_days + 1, mean weight per day 1
    month: np.ndarray  # month (1-12) of each day

    @classmethod
    def build(cls, prof: ShopProfile, start: pd.Timestamp, end: pd.Timestamp) -> _Calendar:
        days = pd.date_range(start, end, freq="D")
        w = np.asarray(prof.monthly)[days.month - 1] * np.asarray(prof.weekday)[days.day_of_week]
        w = w / w.mean()
        return cls(start, len(days), np.concatenate([[0.0], np.cumsum(w)]),
                   np.asarray(days.month))

    def mass(self, lo: np.ndarray) -> np.ndarray:
        """Seasonal weight from day ``lo`` (clipped into the period) to the end."""
        lo = np.clip(lo, 0, self.n_days)
        return self.cum[-1] - self.cum[lo]

    def draw_days(self, rng: np.random.Generator, lo: np.ndarray | int, size: int) -> np.ndarray:
        """Days in ``[lo, end]`` drawn with the seasonal weights."""
        lo = np.clip(np.broadcast_to(lo, (size,)), 0, self.n_days)
        u = self.cum[lo] + rng.random(size) * (self.cum[-1] - self.cum[lo])
        return np.clip(np.searchsorted(self.cum, u, side="right") - 1, 0, self.n_days - 1)

    def seconds(self, day: np.ndarray, sec_of_day: np.ndarray) -> np.ndarray:
        """Seconds since the epoch of a day index plus a time of day."""
        base = self.start.value // 10**9
        return base + day.astype(np.int64) * DAY + sec_of_day.astype(np.int64)

    @property
    def end_seconds(self) -> int:
        return self.start.value // 10**9 + self.n_days * DAY


def _hour_weights(kind: str, prof: ShopProfile) -> np.ndarray:
    h = np.arange(24) + 0.5
    if kind == "store":
        lo, hi = prof.store_hours
        w = 1 + 0.8 * np.exp(-((h - 13.5) ** 2) / 4) + np.exp(-((h - 19) ** 2) / 4)
        w[(h < lo) | (h > hi)] = 0
    elif kind == "web":
        w = 0.15 + np.exp(-((h - 21.5) ** 2) / 8) + 0.6 * np.exp(-((h - 12) ** 2) / 8)
    else:  # phone / office hours
        w = np.where((h > 9) & (h < 20), 1.0, 0.0)
    return w / w.sum()


def _time_of_day(rng: np.random.Generator, kind_codes: np.ndarray, prof: ShopProfile) -> np.ndarray:
    """Seconds after midnight, drawn from each channel's hours."""
    out = np.empty(len(kind_codes), dtype=np.int64)
    for code, kind in enumerate(CHANNELS):
        idx = np.flatnonzero(kind_codes == code)
        if len(idx):
            hours = rng.choice(24, size=len(idx), p=_hour_weights(kind, prof))
            out[idx] = hours * 3600 + rng.integers(0, 3600, len(idx))
    return out


def _to_datetime(seconds: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    out = seconds.astype("datetime64[s]").astype("datetime64[us]")
    if valid is not None:
        out[~valid] = np.datetime64("NaT")
    return out


def _choice(rng: np.random.Generator, mapping: dict[str, float], size: int) -> np.ndarray:
    """``size`` keys of ``mapping`` drawn with its weights (an object array)."""
    return np.asarray(list(mapping), dtype=object)[_choice_codes(rng, mapping, size)]


def _choice_codes(rng: np.random.Generator, mapping: dict[str, float], size: int) -> np.ndarray:
    """Positions in ``mapping`` of ``size`` keys drawn with its weights (the draws of
    :func:`_choice`)."""
    p = np.asarray(list(mapping.values()), dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


# ----------------------------------------------------------------------------- public
#: The tables of a generated shop, in the order :func:`generate` gives them.
TABLE_ORDER = ("customers", "products", "orders", "order_lines", "web_sessions", "campaigns",
               "campaign_contacts", "tickets", "ticket_events", "opportunities", "inventory",
               *OUTSIDE_TABLES)


def generate(
    profile: str | ShopProfile,
    *,
    n_customers: int | None = None,
    start: str | pd.Timestamp = DEFAULT_START,
    end: str | pd.Timestamp = DEFAULT_END,
    seed: int = 0,
) -> CRMData:
    """Generate a shop's CRM data: every canonical table, plus the truth behind it.

    Parameters
    ----------
    profile : str or ShopProfile
        One of :data:`crmkit.dataset.profiles.PROFILE_NAMES`.
    n_customers : int, optional
        Size of the customer file; the profile's default when omitted.
    start, end : str or Timestamp
        First and last day of the period (``YYYY-MM-DD``).
    seed : int
        Seed of every random draw.

    >>> data = generate("boutique", n_customers=100, seed=3)
    >>> len(data.customers)
    100
    >>> generate("boutique", n_customers=0)
    Traceback (most recent call last):
    ...
    crmkit.errors.ParameterError: n_customers=0 must be a whole number greater than 0.
    """
    plan = _Plan.of(profile, n_customers, start, end, seed)
    truth: dict[str, pd.DataFrame] = {}
    made = dict(_shop(plan, truth))
    tables = {k: made[k] for k in TABLE_ORDER if k in made}
    return CRMData(tables, plan.manifest(), truth)


def write_shop(
    path: str | Path,
    profile: str | ShopProfile,
    *,
    n_customers: int | None = None,
    start: str | pd.Timestamp = DEFAULT_START,
    end: str | pd.Timestamp = DEFAULT_END,
    seed: int = 0,
    format: str = "csv",
    lock_timeout: float = LOCK_TIMEOUT,
) -> Path:
    """Generate a shop straight into folder ``path``: the files of ``generate(...).save(path)``.

    Each table is written as soon as it is final and then dropped, so the memory a
    shop needs is about its largest table (the web sessions) and the few columns later
    tables are drawn from, not every table at once: a million customers of
    ``fashion_chain`` fit in a few GB. The files are byte for byte those of
    :meth:`CRMData.save <crmkit.dataset.crmdata.CRMData.save>` on :func:`generate`'s
    result, with the same manifest, written whole or not at all.

    >>> import tempfile
    >>> folder = write_shop(tempfile.mkdtemp() + "/shop", "boutique", n_customers=80, seed=3)
    >>> CRMData.load(folder).orders.equals(generate("boutique", n_customers=80, seed=3).orders)
    True
    """
    check_choice("format", format, FORMATS)
    plan = _Plan.of(profile, n_customers, start, end, seed)
    truth: dict[str, pd.DataFrame] = {}
    with replace_folder(Path(path), timeout=lock_timeout) as tmp:
        write_tables(tmp, format, _shop(plan, truth), truth, plan.manifest())
    return Path(path)


@dataclass(frozen=True)
class _Plan:
    """A shop to generate: its profile, size, period and seed, checked."""

    prof: ShopProfile
    n: int
    start: pd.Timestamp
    end: pd.Timestamp
    seed: int

    @classmethod
    def of(cls, profile: str | ShopProfile, n_customers: int | None, start: DayLike,
           end: DayLike, seed: int) -> _Plan:
        prof = get_profile(profile)
        n = prof.default_customers if n_customers is None else n_customers
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n <= 0:
            raise ParameterError(f"n_customers={n!r} must be a whole number greater than 0.")
        if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
            raise ParameterError(f"seed={seed!r} must be a whole number >= 0.")
        t0, t1 = parse_day("start", start), parse_day("end", end)
        if t1 < t0:
            raise ParameterError(
                f"end={str(t1.date())!r} is before start={str(t0.date())!r}; "
                "give an end on or after the start."
            )
        return cls(prof, int(n), t0, t1, int(seed))

    def manifest(self) -> dict:
        return {
            "profile": self.prof.name, "seed": self.seed, "n_customers": self.n,
            "start": str(self.start.date()), "end": str(self.end.date()),
            "crmkit_version": __version__, "source": "crmkit.generate",
            "shop_name": t(f"profile.{self.prof.name}", "en"), "currency": CURRENCY,
            "timezone": "Europe/Madrid", "origin": "synthetic",
        }


#: The columns of the customers, orders, lines and visits that tables drawn after them read.
_LATER = {
    "customers": ["customer_id", "signup_date", "email", "email_consent"],
    "orders": ["order_id", "customer_id", "placed_at", "channel", "status", "delivered_at",
               "campaign_id"],
    "order_lines": ["order_id", "line_number", "product_id", "quantity"],
    "web_sessions": ["session_id", "started_at", "traffic_source", "converted_order_id"],
}


def _shop(plan: _Plan, truth: dict[str, pd.DataFrame]) -> Iterator[tuple[str, pd.DataFrame]]:
    """Every table of the shop, conformed, each given as soon as it is final.

    ``truth`` is filled before the first table. Once a table is given this function keeps
    only the columns that later tables are drawn from (``_LATER``), so a caller that
    writes each table and drops it holds little more than the table being made.
    """
    prof, n, seed = plan.prof, plan.n, plan.seed
    cal = _Calendar.build(prof, plan.start, plan.end)
    rng = dict(zip(_STREAMS, (np.random.default_rng(s) for s in
                              np.random.SeedSequence(seed).spawn(len(_STREAMS))),
                   strict=True))

    campaigns = _variants(rng["experiments"], _campaigns(rng["campaigns"], prof, cal, n))
    customers, latent = _customers(rng["customers"], prof, cal, n, campaigns)
    products, partner = _products(rng["products"], prof)
    events, truth["customers"] = _purchases(rng["purchases"], prof, cal, customers, latent)
    contacts, conv_events, audiences = _contacts(rng["contacts"], rng["experiments"], prof,
                                                 cal, customers, latent, campaigns)
    events = {k: np.concatenate([events[k], conv_events[k]]) for k in events}
    del conv_events
    truth["campaigns"] = _campaign_truth(campaigns, audiences, events)
    del audiences
    orders, lines, contact_order = _orders(_OrderInputs(
        rng["orders"], rng["lines"], prof, cal, latent, products, partner, campaigns, events))
    del events, latent
    if len(contacts):
        conv = contacts.pop("_event").to_numpy()
        lookup = np.append(contact_order, -1)  # -1: the contact did not convert
        ids = lookup[np.where(conv >= 0, conv, len(contact_order))]
        contacts["converted_order_id"] = pd.array(np.where(ids >= 0, ids, 0), dtype="Int64")
        contacts.loc[ids < 0, "converted_order_id"] = pd.NA
    else:
        contacts = contacts.drop(columns="_event")
    campaigns = _finish_campaigns(campaigns, contacts, n, cal)
    truth["complements"] = _complement_pairs(products, partner)
    del partner, contact_order

    yield "campaign_contacts", _conformed("campaign_contacts", contacts)
    del contacts
    yield "campaigns", _conformed("campaigns", campaigns)
    kept: dict[str, pd.DataFrame] = {"products": _conformed("products", products)}
    yield "products", kept["products"]
    for name, table in (("customers", customers), ("orders", orders), ("order_lines", lines)):
        full = _conformed(name, table)
        yield name, full
        kept[name] = full[_LATER[name]]
        del full
    del table
    customers, orders, lines = kept["customers"], kept["orders"], kept["order_lines"]

    # newsletter, searches, social media...: one stream of draws, in this order
    outside = outside_parts(prof, seed, kept)
    yield from _outside(outside, "newsletter")
    give_back_memory()  # what the customers and orders were made from: before the largest
    sessions = _conformed("web_sessions", _sessions(rng["sessions"], prof, cal, customers,
                                                    orders, campaigns))
    yield "web_sessions", sessions
    kept["web_sessions"] = sessions[_LATER["web_sessions"]]
    del sessions
    yield from _outside(outside, "web_referrals")
    del kept["web_sessions"]

    tick, tick_events = tickets(rng["tickets"], prof, cal, orders, lines, customers)
    yield "ticket_events", _conformed("ticket_events", tick_events)
    del tick_events
    kept["tickets"] = _conformed("tickets", tick)
    del tick
    yield "tickets", kept["tickets"]
    yield "opportunities", _conformed("opportunities", opportunities(
        rng["opportunities"], prof, cal, customers))
    yield "inventory", _conformed("inventory", inventory(prof, cal, orders, lines, products))
    for name in OUTSIDE_TABLES[2:]:
        yield from _outside(outside, name)


def _conformed(name: str, table: pd.DataFrame) -> pd.DataFrame:
    return conform(name, table) if len(table) else empty_table(name)


def _outside(outside: Iterator[tuple[str, pd.DataFrame]], name: str
             ) -> Iterator[tuple[str, pd.DataFrame]]:
    """The next table of the outside world (``name``), conformed, unless it is empty."""
    got, table = next(outside)
    assert got == name, (got, name)
    if len(table):
        yield name, conform(name, table)


# ----------------------------------------------------------------------------- campaigns
def _campaigns(rng: np.random.Generator, prof: ShopProfile, cal: _Calendar, n: int) -> pd.DataFrame:
    years = cal.n_days / 365.25
    k = int(round(prof.campaigns_per_year * years)) if prof.campaigns_per_year else 0
    k = max(k, 1) if cal.n_days >= 30 and prof.campaigns_per_year else k
    if k == 0:
        return pd.DataFrame(columns=["campaign_id"]).astype({"campaign_id": "int64"})
    start = np.sort(rng.integers(0, max(cal.n_days - 10, 1), k))
    length = rng.integers(7, 29, k)
    end = np.minimum(start + length, cal.n_days - 1)
    goal = rng.choice(["acquisition", "retention", "reactivation", "cross_sell"], k,
                      p=[0.2, 0.35, 0.2, 0.25])
    channel = rng.choice(prof.campaign_channels, k)
    target = rng.choice([*SEGMENTS, "all"], k, p=[0.35, 0.3, 0.15, 0.2])
    target = np.where(goal == "acquisition", "all", target)
    kpi = np.select([goal == "acquisition", goal == "cross_sell"],
                    ["new_customers", "revenue"], "conversion_rate")
    start_d = cal.start + pd.to_timedelta(start, unit="D")
    names = [f"{g.replace('_', ' ').title()} {d:%b %Y} ({c})"
             for g, d, c in zip(goal, start_d, channel, strict=True)]
    objective = [
        f"Win new customers through {c}" if g == "acquisition" else
        f"{g.replace('_', ' ').capitalize()} of {s} customers by {c}"
        for g, c, s in zip(goal, channel, target, strict=True)
    ]
    return pd.DataFrame({
        "campaign_id": np.arange(1, k + 1),
        "name": names, "channel": channel, "goal": goal, "target_segment": target,
        "objective": objective, "kpi": kpi,
        "day0": start, "day1": end,
        "start_date": start_d, "end_date": cal.start + pd.to_timedelta(end, unit="D"),
        "cost_per_contact": [CONTACT_COST[c] for c in channel],
        "disc": rng.choice([0.1, 0.15, 0.2], k),
        "planning": rng.uniform(1.05, 1.35, k),
    })


def _finish_campaigns(c: pd.DataFrame, contacts: pd.DataFrame, n: int, cal: _Calendar
                      ) -> pd.DataFrame:
    """Budget and SMART target value once we know how many customers each campaign reaches."""
    if "day0" not in c:
        return c
    reach = contacts.groupby("campaign_id").size().reindex(c["campaign_id"], fill_value=0
                                                           ).to_numpy()
    spend = reach * c["cost_per_contact"].to_numpy() * c["planning"].to_numpy()
    acq_budget = np.round(300 + 2.5 * n * c["planning"].to_numpy(), -1)
    c["budget"] = np.where(c["goal"] == "acquisition", acq_budget, np.round(spend, 2))
    c["target_value"] = np.select(
        [c["kpi"] == "new_customers", c["kpi"] == "revenue"],
        [np.round(n * 0.01 * c["planning"].to_numpy()), np.round(reach * 2.0, -1)],
        np.round(0.02 * c["planning"].to_numpy() * 2, 3),
    )
    return c.drop(columns=["planning", "day0", "day1", "disc", "test", "variant", "lift"])


# ----------------------------------------------------------------------------- customers
def _customers(rng: np.random.Generator, prof: ShopProfile, cal: _Calendar, n: int,
               campaigns: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    existing = rng.random(n) < prof.existing_share
    signup = np.where(existing, -rng.integers(1, 3 * 365, n), 0)
    new_idx = np.flatnonzero(~existing)
    signup[new_idx] = cal.draw_days(rng, 0, len(new_idx))

    spend = rng.gamma(prof.spend_shape, 1 / prof.spend_shape, n)
    q_hi, q_lo = np.quantile(spend, [0.75, 0.35])
    segment = np.where(spend >= q_hi, "premium", np.where(spend < q_lo, "budget", "standard"))
    relabel = rng.random(n) < 0.1  # the marketing team's labels are not perfect
    segment[relabel] = rng.choice(SEGMENTS, int(relabel.sum()))

    female_share = prof.extra.get("female_share", 0.55)
    g = rng.random(n)
    gender = np.where(g < female_share, "female", np.where(g < 0.985, "male", "other"))
    first_f = np.asarray(FIRST_NAMES_F, dtype=object)[rng.integers(0, len(FIRST_NAMES_F), n)]
    first_m = np.asarray(FIRST_NAMES_M, dtype=object)[rng.integers(0, len(FIRST_NAMES_M), n)]
    other = rng.random(n) < 0.5
    first = np.where((gender == "female") | ((gender == "other") & other), first_f, first_m)
    last_names = np.asarray(LAST_NAMES, dtype=object)
    ln1 = last_names[rng.integers(0, len(last_names), n)]
    ln2 = last_names[rng.integers(0, len(last_names), n)]
    last = ln1 + " " + ln2

    cities = LOCAL_CITIES if prof.locality == "local" else NATIONAL_CITIES
    weights = np.asarray([c[3] for c in cities])
    ci = rng.choice(len(cities), n, p=weights / weights.sum())
    city = np.asarray([c[0] for c in cities], dtype=object)[ci]
    first_code = np.asarray([c[1] for c in cities])[ci]
    n_codes = np.asarray([c[2] for c in cities])[ci]
    postal = pd.Series(first_code + (rng.random(n) * n_codes).astype(int)).map("{:05d}".format)
    street = np.asarray(STREETS, dtype=object)[rng.integers(0, len(STREETS), n)]
    address = pd.Series(street) + ", " + pd.Series(rng.integers(1, 120, n)).astype(str)

    ids = np.arange(1, n + 1)
    ascii_first = pd.Series(first).map(_ascii_lower)
    ascii_last = pd.Series(ln1).map(_ascii_lower)
    domain = np.asarray(EMAIL_DOMAINS, dtype=object)[rng.integers(0, len(EMAIL_DOMAINS), n)]
    email = ascii_first + "." + ascii_last + pd.Series(ids).astype(str) + "@" + domain
    mobile = rng.random(n) < 0.8
    phone_digits = np.where(mobile, rng.integers(600_000_000, 700_000_000, n),
                            rng.integers(926_000_000, 927_000_000, n))
    phone = "+34 " + pd.Series(phone_digits).astype(str)

    age = np.clip(rng.normal(prof.age_mean, 12, n), 16, 88)
    birth = cal.start - pd.to_timedelta(np.round(age * 365.25).astype(int), unit="D")
    education = rng.choice(["primary", "secondary", "vocational", "university"], n,
                           p=[0.1, 0.35, 0.25, 0.3])

    mix = {k: v for k, v in prof.channel_mix.items() if v > 0}
    pref_channel = _choice(rng, mix, n)
    pay = np.empty(n, dtype=object)
    for ch in mix:
        idx = np.flatnonzero(pref_channel == ch)
        pay[idx] = _choice(rng, PAYMENT_MIX[ch], len(idx))

    acq = _acquisition_channels(rng, prof, n)
    acq_campaign = np.zeros(n, dtype=np.int64)
    if "day0" in campaigns:
        for row in campaigns[campaigns["goal"] == "acquisition"].itertuples():
            hit = np.flatnonzero((~existing) & (signup >= row.day0)
                                 & (signup <= row.day1))
            hit = hit[rng.random(len(hit)) < 0.45]
            acq[hit] = "campaign"
            acq_campaign[hit] = int(row.campaign_id)  # type: ignore[arg-type]

    # Which fields the shop knows: a Gaussian copula, so that customers known at a
    # high level tend to be known at the lower ones, with exact marginal fill rates.
    engagement = rng.standard_normal(n)

    def known(rate: float) -> np.ndarray:
        v = 0.8 * engagement + 0.6 * rng.standard_normal(n)
        return ndtr(v) < rate

    f = prof.fill
    name_ok, addr_ok, email_ok, phone_ok = (known(f[k]) for k in ("name", "address", "email",
                                                                   "phone"))
    birth_ok, gender_ok, edu_ok = (known(f["profile"]) for _ in range(3))
    acq_ok, habit_ok = known(f["acquisition"]), known(f["habits"])
    email_consent = email_ok & (rng.random(n) < 0.65)
    phone_consent = phone_ok & (rng.random(n) < 0.45)

    def blank(values: np.ndarray | pd.Series, ok: np.ndarray) -> pd.Series:
        s = pd.Series(values, dtype="str")
        return s.where(ok, None)

    customers = pd.DataFrame({
        "customer_id": ids,
        "signup_date": cal.start + pd.to_timedelta(signup, unit="D"),
        "first_name": blank(first, name_ok),
        "last_name": blank(last, name_ok),
        "address": blank(address, addr_ok),
        "city": blank(city, addr_ok),
        "postal_code": blank(postal, addr_ok),
        "country": blank(np.full(n, "ES", dtype=object), addr_ok),
        "email": blank(email, email_ok),
        "phone": blank(phone, phone_ok),
        "birth_date": pd.Series(birth).where(birth_ok),
        "gender": blank(gender, gender_ok),
        "education": blank(education, edu_ok),
        "acquisition_channel": blank(acq, acq_ok),
        "acquisition_campaign_id": pd.array(acq_campaign, dtype="Int64"),
        "preferred_payment_method": blank(pay, habit_ok),
        "segment": pd.Series(segment, dtype="str"),
        "email_consent": email_consent,
        "phone_consent": phone_consent,
    })
    customers.loc[(acq_campaign == 0) | ~acq_ok, "acquisition_campaign_id"] = pd.NA
    latent = {
        "existing": existing, "signup": signup, "spend": spend,
        "channel": pref_channel, "payment": pay,
    }
    return customers, latent


def _ascii_lower(text: str) -> str:
    return (unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
            .lower().replace(" ", ""))


def _acquisition_channels(rng: np.random.Generator, prof: ShopProfile, n: int) -> np.ndarray:
    mix = prof.channel_mix
    web = mix.get("web", 0)
    weights = {
        "store": mix.get("store", 0) * 0.8 + 0.02,
        "organic": web * 0.35, "paid_search": web * 0.25, "social": web * 0.2 + 0.03,
        "email": web * 0.1, "referral": 0.08 + mix.get("phone", 0) * 0.5,
    }
    return _choice(rng, {k: v for k, v in weights.items() if v > 0}, n)


# ----------------------------------------------------------------------------- products
_ADJECTIVES = ("Classic", "Essential", "Premium", "Soft", "Urban", "Natural", "Pro", "Light")


def _products(rng: np.random.Generator, prof: ShopProfile) -> tuple[pd.DataFrame, np.ndarray]:
    combos = [(d, c, s) for d, c, subs in prof.assortment for s in subs]
    k = prof.n_products
    pick = np.arange(k) % len(combos)
    dept = np.asarray([combos[i][0] for i in pick], dtype=object)
    cat = np.asarray([combos[i][1] for i in pick], dtype=object)
    sub = np.asarray([combos[i][2] for i in pick], dtype=object)
    lo, hi = prof.price_range
    base = np.exp(rng.uniform(np.log(lo), np.log(hi), len(combos)))
    price = np.clip(base[pick] * rng.lognormal(0, 0.25, k), lo, hi)
    price = np.round(price, 1) if hi < 20 else np.floor(price) + 0.95
    cost = np.round(price * rng.uniform(*prof.cost_share, k), 2)
    brand = np.asarray(prof.brands, dtype=object)[rng.integers(0, len(prof.brands), k)]
    adj = np.asarray(_ADJECTIVES, dtype=object)[rng.integers(0, len(_ADJECTIVES), k)]
    ids = np.arange(1, k + 1)
    names = [f"{a} {s} {b} {i:03d}" for a, s, b, i in zip(adj, sub, brand, ids, strict=True)]
    sku = [f"{c[:3].upper()}-{i:05d}" for c, i in zip(cat, ids, strict=True)]
    products = pd.DataFrame({
        "product_id": ids, "sku": sku, "name": names, "department": dept, "category": cat,
        "subcategory": sub, "brand": brand, "unit_cost": cost, "list_price": price,
    })
    # Cross-selling structure: each product has a partner in the next category
    # (shampoo -> conditioner, jeans -> tops), bought together more than by chance.
    cats = list(dict.fromkeys(cat))
    partner = np.empty(k, dtype=np.int64)
    for ci, c in enumerate(cats):
        mine = np.flatnonzero(cat == c)
        theirs = np.flatnonzero(cat == cats[(ci + 1) % len(cats)])
        partner[mine] = rng.choice(theirs, len(mine))
    return products, partner


def _complement_pairs(products: pd.DataFrame, partner: np.ndarray) -> pd.DataFrame:
    """The truth of the cross-selling structure: each product and the partner it pulls in."""
    return pd.DataFrame({"product_id": products["product_id"].to_numpy(),
                         "complement_id": partner + 1})


# ----------------------------------------------------------------------------- purchases
def _purchases(rng: np.random.Generator, prof: ShopProfile, cal: _Calendar, customers: pd.DataFrame,
               latent: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    n = len(customers)
    existing, signup = latent["existing"], latent["signup"]
    rate = rng.gamma(prof.rate_shape, prof.purchases_per_year / prof.rate_shape, n)
    a, b = prof.dropout_ab
    p = rng.beta(a, b, n)
    geom = rng.geometric(np.clip(p, 1e-6, 1))  # purchases until the one after which they leave
    buys_at_signup = (~existing) & (rng.random(n) < prof.buy_at_signup)
    # purchases the process may still make inside the period before the customer drops out
    allowed = np.where(buys_at_signup | existing, geom - 1, geom)
    window_start = np.where(existing, 0, signup + 1)
    count = rng.poisson(rate / 365.25 * cal.mass(window_start))

    cust = np.repeat(np.arange(n), count)
    day = cal.draw_days(rng, window_start[cust], len(cust))
    order = np.lexsort((rng.random(len(cust)), day, cust))
    cust, day = cust[order], day[order]
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    rank = np.arange(len(cust)) - first[cust]
    keep = rank < allowed[cust]
    cust, day = cust[keep], day[keep]

    alive = allowed > count
    made = np.minimum(count, allowed)
    last_day = np.full(n, -1)
    if len(cust):
        np.maximum.at(last_day, cust, day)
    dropout_day = np.where(alive, -1, np.where(made > 0, last_day,
                                               np.where(buys_at_signup, signup, -1)))
    latent["dropout_day"] = np.where(alive, cal.n_days + 1, dropout_day)

    sign_idx = np.flatnonzero(buys_at_signup)
    cust = np.concatenate([sign_idx, cust])
    day = np.concatenate([signup[sign_idx], day])
    # guests: anonymous orders, in the share the profile sets
    n_guest = int(round(len(cust) * prof.guest_share / max(1 - prof.guest_share, 1e-9)))
    gday = cal.draw_days(rng, 0, n_guest)
    events = {
        "cust": np.concatenate([cust, np.full(n_guest, -1)]),
        "day": np.concatenate([day, gday]),
        "campaign": np.full(len(cust) + n_guest, -1),
        "contact": np.full(len(cust) + n_guest, -1),
    }
    truth = pd.DataFrame({
        "customer_id": customers["customer_id"],
        "purchases_per_year": np.round(rate, 4),
        "dropout_probability": np.round(p, 4),
        "spend_multiplier": np.round(latent["spend"], 4),
        "alive_at_end": alive,
        "dropout_date": pd.Series(cal.start + pd.to_timedelta(np.maximum(dropout_day, 0),
                                                              unit="D")).where(dropout_day >= 0),
        "purchases_in_period": made + buys_at_signup,
    })
    return events, truth


# ----------------------------------------------------------------------------- contacts
def _contacts(rng, rng_exp, prof, cal, customers, latent, campaigns):
    """Contacts of every campaign, their conversion events and each test's audience.

    A campaign's audience is every reachable customer signed up by its first
    day who is in the target segment, plus a random quarter of the others. A
    random ``HOLDOUT_SHARE`` of the audience is kept as the control group (not
    contacted); in an A/B test the rest is split at random between the variants.
    """
    cols = ["campaign_id", "customer_id", "sent_at", "opened", "clicked", "cost", "_event"]
    empty_events = {k: np.empty(0, dtype=np.int64) for k in ("cust", "day", "campaign",
                                                             "contact")}
    if "day0" not in campaigns:
        return pd.DataFrame(columns=cols), empty_events, []
    signup = latent["signup"]
    reach = {
        "email": customers["email"].notna().to_numpy() & customers["email_consent"].to_numpy(),
        "sms": customers["phone"].notna().to_numpy() & customers["email_consent"].to_numpy(),
        "phone": customers["phone"].notna().to_numpy() & customers["phone_consent"].to_numpy(),
        "mail": customers["address"].notna().to_numpy(),
        "social": customers["email"].notna().to_numpy(),
    }
    segment = customers["segment"].to_numpy()
    parts, conv, audiences = [], [], []
    for _, arms in campaigns.groupby("test", sort=True):
        row = next(arms.itertuples())
        if row.goal == "acquisition":
            continue
        positions = arms.index.to_numpy()
        lift = arms["lift"].to_numpy()
        eligible = reach[row.channel] & (signup <= row.day0)
        in_target = (segment == row.target_segment) | (row.target_segment == "all")
        pick = eligible & (in_target | (rng.random(len(segment)) < 0.25))
        idx = np.flatnonzero(pick)
        m = len(idx)
        sent_day = row.day0 + rng.integers(0, 3, m)
        sent = cal.seconds(sent_day, rng.integers(9 * 3600, 20 * 3600, m))
        opened = rng.random(m) < OPEN_RATE[row.channel]
        alive = latent["dropout_day"][idx] > sent_day
        p_conv = (CONVERT_GIVEN_OPEN[row.channel]
                  * np.where(in_target[idx] & (row.target_segment != "all"), TARGET_LIFT, 1.0)
                  * np.where(alive, 1.0, 0.25))
        # responses come inside the campaign's own dates
        buy_day = np.minimum(sent_day + np.floor(rng.exponential(2.0, m)).astype(int), row.day1)
        u = rng.random(m)
        click_draw = rng.random(m)
        control = rng_exp.random(m) < HOLDOUT_SHARE
        arm = (rng_exp.random(m) < 0.5).astype(int) if len(arms) > 1 else np.zeros(m, int)
        converted = opened & (u < p_conv * lift[arm]) & (buy_day < cal.n_days) & ~control
        clicked = opened & (converted | (click_draw < 0.25))
        target_idx = np.flatnonzero(in_target[idx])
        audiences.append({
            "positions": positions, "cust": idx[target_idx], "day0": row.day0,
            "day1": row.day1, "control": control[target_idx], "arm": arm[target_idx],
            # chance that a contact converts, for every audience member and arm
            "q": {pos: OPEN_RATE[row.channel] * np.minimum(p_conv[target_idx] * lf, 1.0)
                  for pos, lf in zip(positions, lift, strict=True)},
        })
        for a, (ci, camp) in enumerate(zip(positions, arms.itertuples(), strict=True)):
            sel = ~control & (arm == a)
            conv_a = converted & sel
            event = np.full(m, -1)
            base = sum(len(c["cust"]) for c in conv)
            event[conv_a] = base + np.arange(int(conv_a.sum()))
            parts.append(pd.DataFrame({
                "campaign_id": camp.campaign_id, "customer_id": idx[sel] + 1,
                "sent_at": _to_datetime(sent[sel]), "opened": opened[sel],
                "clicked": clicked[sel], "cost": camp.cost_per_contact, "_event": event[sel],
            }))
            conv.append({"cust": idx[conv_a], "day": buy_day[conv_a],
                         "campaign": np.full(int(conv_a.sum()), ci),
                         "contact": np.ones(int(conv_a.sum()), dtype=np.int64)})
    if not parts:
        return pd.DataFrame(columns=cols), empty_events, audiences
    contacts = pd.concat(parts, ignore_index=True)
    events = {k: np.concatenate([c[k] for c in conv]) for k in empty_events}
    return contacts, events, audiences


def _campaign_truth(campaigns: pd.DataFrame, audiences: list[dict], events: dict) -> pd.DataFrame:
    """The true incremental effect of every contacted campaign on its target audience.

    The audience of a campaign is its eligible customers in the target segment
    (treated and control). A customer *converts* when they place any order
    between the campaign's first and last day. Without the campaign they would
    still have converted through their own purchases and other campaigns
    (``base``); with it, a contact adds an order with chance ``q``. The true
    uplift is the mean over the audience of ``(1 - base) * q``: the difference
    in conversion rate between contacting everyone and contacting no one.
    """
    cols: dict[str, list] = {"campaign_id": [], "variant": [], "audience": [], "control": [],
                             "treated": [], "true_uplift": []}
    variant = campaigns["variant"].to_numpy() if "variant" in campaigns else np.array([])
    for aud in audiences:
        d = events["day"]
        window = ((events["cust"] >= 0) & (d >= aud["day0"]) & (d <= aud["day1"])
                  & ~np.isin(events["campaign"], aud["positions"]))
        base = np.isin(aud["cust"], events["cust"][window])
        for a, pos in enumerate(aud["positions"]):
            q = aud["q"][pos]
            cols["campaign_id"].append(int(campaigns["campaign_id"].iloc[pos]))
            cols["variant"].append(variant[pos] or None)
            cols["audience"].append(len(q))
            cols["control"].append(int(aud["control"].sum()))
            cols["treated"].append(int((~aud["control"] & (aud["arm"] == a)).sum()))
            cols["true_uplift"].append(round(float(np.mean((1 - base) * q)), 6)
                                       if len(q) else np.nan)
    out = pd.DataFrame(cols)
    out["variant"] = out["variant"].astype("str")
    return out.sort_values("campaign_id", kind="stable").reset_index(drop=True)


def _variants(rng: np.random.Generator, campaigns: pd.DataFrame) -> pd.DataFrame:
    """Split some campaigns into an A/B test: two rows, names ending ``[A]`` and ``[B]``.

    Variant B is a stronger offer (10 points more discount) that multiplies the
    response by ``VARIANT_B_LIFT``. Campaign ids are renumbered in order.
    """
    if "day0" not in campaigns:
        return campaigns
    c = campaigns.assign(test=np.arange(len(campaigns)), variant="", lift=1.0)
    ab = (c["goal"] != "acquisition").to_numpy() & (rng.random(len(c)) < AB_SHARE)
    a, b = c[ab].copy(), c[ab].copy()
    a["name"], a["variant"] = a["name"] + " [A]", "A"
    b["name"], b["variant"], b["lift"] = b["name"] + " [B]", "B", VARIANT_B_LIFT
    b["disc"] = np.minimum(b["disc"] + 0.1, 0.3)
    out = pd.concat([c[~ab], a, b]).sort_values(["test", "variant"], kind="stable")
    out["campaign_id"] = np.arange(1, len(out) + 1)
    return out.reset_index(drop=True)


# ----------------------------------------------------------------------------- orders
@dataclass(frozen=True)
class _OrderInputs:
    """What :func:`_orders` turns into orders and their lines."""

    rng: np.random.Generator        # the orders stream: channel, time, payment, life cycle
    rng_lines: np.random.Generator  # the lines stream: products and quantities
    prof: ShopProfile
    cal: _Calendar
    latent: dict[str, np.ndarray]   # per customer: preferred channel and payment, spend
    products: pd.DataFrame
    partner: np.ndarray             # each product's complement (position in ``products``)
    campaigns: pd.DataFrame
    events: dict[str, np.ndarray]   # one per order: cust, day, campaign, contact (-1: none)


@dataclass(frozen=True)
class _Header:
    """Who buys where, when and how, for every purchase event (order)."""

    known: np.ndarray      # a customer of the base (not a guest)
    channel: np.ndarray
    secs: np.ndarray       # seconds since the epoch the order was placed
    order: np.ndarray      # positions of the events in time order
    order_id: np.ndarray   # 1.. in time order
    spend: np.ndarray      # spend multiplier
    pay: np.ndarray        # payment method


def _orders(inp: _OrderInputs) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Orders, their lines, and the order id of every conversion event (in contact order)."""
    head = _order_header(inp)
    contact_order = head.order_id[np.flatnonzero(inp.events["contact"] >= 0)]
    line_order, line_no, prod, qty, price = _order_lines(inp, head.spend)
    disc, amount = _line_money(inp, line_order, qty, price)
    goods = np.bincount(line_order, amount, minlength=len(head.secs)).astype(np.int64)
    shipping = _shipping(inp.prof, head.channel != "store", goods)
    life = _life_cycle(inp, head)
    orders = _order_frame(inp, head, life, shipping, goods)
    del life, shipping, goods
    # lines in (order id, line number) order: each order's lines, orders in time order
    per_order = np.bincount(line_order, minlength=len(head.order))
    first = (np.cumsum(per_order) - per_order)[head.order]
    count = per_order[head.order]
    at = np.repeat(first - (np.cumsum(count) - count), count) + np.arange(len(line_order))
    del per_order, count, first
    lines = pd.DataFrame({
        "order_id": head.order_id[line_order[at]], "line_number": line_no[at],
        "product_id": prod[at] + 1, "quantity": qty[at], "unit_price": price[at],
        "discount": disc[at], "amount_cents": pd.array(amount[at], dtype="Int64"),
    })
    return orders, lines, contact_order


def _order_header(inp: _OrderInputs) -> _Header:
    rng, prof, latent, ev = inp.rng, inp.prof, inp.latent, inp.events
    cust, day = ev["cust"], ev["day"]
    n_ev = len(cust)
    known = cust >= 0
    mix = {k: v for k, v in prof.channel_mix.items() if v > 0}
    random_channel = _choice(rng, mix, n_ev)
    pref = np.where(known, latent["channel"][np.maximum(cust, 0)], random_channel)
    channel = np.where(rng.random(n_ev) < 0.8, pref, random_channel)
    secs = inp.cal.seconds(day, _time_of_day(rng, _codes(channel), prof))

    # ids in time order: the conversion events keep a way back to their contacts
    order = np.argsort(secs, kind="stable")
    order_id = np.empty(n_ev, dtype=np.int64)
    order_id[order] = np.arange(1, n_ev + 1)

    spend = np.where(known, latent["spend"][np.maximum(cust, 0)],
                     rng.gamma(prof.spend_shape, 1 / prof.spend_shape, n_ev))
    pay = np.empty(n_ev, dtype=object)
    for ch in mix:
        idx = np.flatnonzero(channel == ch)
        pay[idx] = _choice(rng, PAYMENT_MIX[ch], len(idx))
    pref_pay = np.where(known, latent["payment"][np.maximum(cust, 0)], None)
    use_pref = _fits(pref_pay, channel) & (rng.random(n_ev) < 0.85)
    pay = np.where(use_pref, pref_pay, pay)
    return _Header(known, channel, secs, order, order_id, spend, pay)


def _order_lines(inp: _OrderInputs, spend: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(order position, line number, product position, quantity, unit price) of every line."""
    rng_lines, prof = inp.rng_lines, inp.prof
    n_lines = 1 + rng_lines.poisson(max(prof.basket_lines - 1, 0) * spend)
    n_lines = np.minimum(n_lines, 15)
    line_order = np.repeat(np.arange(len(spend)), n_lines)
    line_no = np.arange(len(line_order)) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines) + 1
    k = len(inp.products)
    pop = (np.arange(k) + 1.0) ** -0.9
    pop = rng_lines.permutation(pop)
    cum = np.cumsum(pop) / pop.sum()
    prod = np.minimum(np.searchsorted(cum, rng_lines.random(len(line_order))), k - 1)
    follow = (line_no > 1) & (rng_lines.random(len(line_order)) < prof.complements)
    prev = np.concatenate([[0], prod[:-1]])
    prod = np.where(follow, inp.partner[prev], prod)
    qty = 1 + rng_lines.poisson(prof.extra_units, len(line_order))
    price = inp.products["list_price"].to_numpy()[prod]
    return line_order, line_no, prod, qty, price


def _line_money(inp: _OrderInputs, line_order: np.ndarray, qty: np.ndarray, price: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """(discount, amount in cents) of every line: a campaign's discount, else a sale's."""
    camp, campaigns = inp.events["campaign"], inp.campaigns
    month = inp.cal.month[inp.events["day"]]
    on_sale = np.isin(month, inp.prof.sale_months) & (inp.rng.random(len(camp)) < 0.6) & \
        (camp < 0)
    camp_disc = (campaigns["disc"].to_numpy()[np.maximum(camp, 0)]
                 if "disc" in campaigns else np.zeros(len(camp)))
    disc_order = np.where(camp >= 0, camp_disc, np.where(on_sale, 0.3, 0.0))
    disc = np.round(disc_order[line_order], 4)
    # money is set once, here, in cents: one half-even rounding per line (money.py),
    # worked out once for each (quantity, price, discount) a line has
    combo, first = _combos(qty, price, disc)
    amount = derive_line_amounts(pd.DataFrame({"quantity": qty[first], "unit_price": price[first],
                                               "discount": disc[first]}), CURRENCY)
    return disc, amount.to_numpy(dtype=np.int64)[combo]


def _combos(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The combination of values of each row (a code) and a first row of each combination.

    >>> code, first = _combos(np.array([1, 1, 2, 1]), np.array([0.5, 0.5, 0.5, 0.7]))
    >>> code.tolist(), first.tolist()
    ([0, 0, 1, 2], [0, 2, 3])
    """
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for col in columns:
        code, uniques = pd.factorize(col, sort=False)
        key = key * len(uniques) + code
    combo, _ = pd.factorize(key, sort=False)
    first = np.full(int(combo.max()) + 1 if len(combo) else 0, -1, dtype=np.int64)
    first[combo[::-1]] = np.arange(len(combo))[::-1]
    return combo, first


def _shipping(prof: ShopProfile, remote: np.ndarray, goods: np.ndarray) -> np.ndarray:
    """Shipping cents of every order: the fee on a remote order below the free threshold."""
    fee = int(to_cents(pd.Series([prof.shipping_fee]), CURRENCY).iloc[0])
    threshold = int(to_cents(pd.Series([prof.free_shipping_over]), CURRENCY).iloc[0])
    if prof.free_shipping_over == 0:
        return np.where(remote, fee, 0)
    return np.where(remote & (goods < threshold), fee, 0)


def _life_cycle(inp: _OrderInputs, head: _Header) -> dict[str, np.ndarray]:
    """When each order was paid, shipped, delivered, cancelled or returned, and its status."""
    rng, prof, secs = inp.rng, inp.prof, head.secs
    n_ev, end_s = len(secs), inp.cal.end_seconds
    remote = head.channel != "store"
    cancelled = remote & (rng.random(n_ev) < prof.cancel_rate)
    cod = head.pay == "cash_on_delivery"
    paid = np.where(remote, secs + rng.integers(30, 1800, n_ev), secs)
    shipped = paid + (rng.uniform(0.2, 2.0, n_ev) * DAY).astype(np.int64)
    delivered = np.where(remote, shipped + (rng.uniform(1, 4, n_ev) * DAY).astype(np.int64),
                         secs)
    paid = np.where(cod, delivered, paid)
    returned = delivered + (rng.uniform(2, 20, n_ev) * DAY).astype(np.int64)
    is_returned = (~cancelled) & (rng.random(n_ev) < prof.return_rate) & (returned < end_s)
    cancel_at = secs + (rng.uniform(0.05, 1.0, n_ev) * DAY).astype(np.int64)
    cancelled &= cancel_at < end_s
    has_paid = (paid < end_s) & ~cancelled
    has_shipped = remote & (shipped < end_s) & ~cancelled
    has_delivered = (delivered < end_s) & ~cancelled
    status = np.select(
        [cancelled, is_returned, has_delivered, has_shipped, has_paid],
        ["cancelled", "returned", "delivered", "shipped", "paid"], "placed")
    return {"status": status,
            "paid_at": _to_datetime(paid, has_paid),
            "shipped_at": _to_datetime(shipped, has_shipped),
            "delivered_at": _to_datetime(delivered, has_delivered),
            "cancelled_at": _to_datetime(cancel_at, cancelled),
            "returned_at": _to_datetime(returned, is_returned),
            "is_returned": is_returned}


def _order_frame(inp: _OrderInputs, head: _Header, life: dict, shipping: np.ndarray,
                 goods: np.ndarray) -> pd.DataFrame:
    """The orders table, in time order."""
    cust, camp = inp.events["cust"], inp.events["campaign"]
    n_ev, known = len(cust), head.known
    codes = numbered(np.full(n_ev, "CAMP"), camp + 1).where(camp >= 0, None)
    orders = pd.DataFrame({
        "order_id": head.order_id,
        "customer_id": pd.array(np.where(known, cust + 1, 0), dtype="Int64"),
        "placed_at": _to_datetime(head.secs),
        "channel": head.channel.astype(str),
        "status": life["status"],
        **{k: life[k] for k in ("paid_at", "shipped_at", "delivered_at", "cancelled_at",
                                "returned_at")},
        "payment_method": head.pay.astype(str),
        "shipping_cost": shipping / 10 ** minor_digits(CURRENCY),
        "discount_code": codes.to_numpy(),
        "campaign_id": pd.array(np.where(camp >= 0, camp + 1, 0), dtype="Int64"),
        "shipping_cents": pd.array(shipping, dtype="Int64"),
        "discount_cents": pd.array(np.zeros(n_ev, dtype=np.int64), dtype="Int64"),
        "tax_cents": pd.array([pd.NA] * n_ev, dtype="Int64"),
        # a returned order is refunded its goods in full (shipping is kept)
        "refunded_cents": pd.array(np.where(life["is_returned"], goods, 0), dtype="Int64"),
    })
    orders.loc[~known, "customer_id"] = pd.NA
    orders.loc[camp < 0, "campaign_id"] = pd.NA
    return orders.iloc[head.order].reset_index(drop=True)


def _codes(values: np.ndarray, labels: Sequence[str] = CHANNELS) -> np.ndarray:
    """Position of each value in ``labels``."""
    out = np.zeros(len(values), dtype=np.int64)
    for i, c in enumerate(labels):
        out[values == c] = i
    return out


def _labels(labels: list[str], codes: np.ndarray) -> pd.Series:
    """A text column built fast from a few labels and one code per row."""
    return pd.Series(pd.array(pa.array(labels).take(pa.array(codes)), dtype="str"))


def _fits(pref_pay, channel: np.ndarray) -> np.ndarray:
    ok = np.zeros(len(channel), dtype=bool)
    for ch, methods in PAYMENT_MIX.items():
        ok |= (channel == ch) & np.isin(pref_pay, list(methods))
    return ok


# ----------------------------------------------------------------------------- sessions
_SOURCES = {"direct": 0.25, "organic": 0.3, "paid_search": 0.15, "social": 0.15,
            "email": 0.1, "referral": 0.05}
_SOURCE_CODE = {k: i for i, k in enumerate(_SOURCES)}


_SESSION_COLUMNS = ("session_id", "visitor_id", "customer_id", "started_at", "traffic_source",
                    "device", "pages", "added_to_cart", "converted_order_id")
_DEVICES = {"mobile": 0.6, "desktop": 0.32, "tablet": 0.08}


def _sessions(rng, prof, cal, customers, orders, campaigns) -> pd.DataFrame:
    """Web visits: one per web order (it converted) and the visits that did not buy.

    The columns are drawn whole, in a fixed order, kept in narrow integer arrays
    (codes instead of text) and put in time order one at a time, so a shop with
    tens of millions of visits never holds more than a column or two beyond them.
    """
    is_web = (orders["channel"] == "web").to_numpy()
    n_conv = int(is_web.sum())
    if n_conv == 0:
        return pd.DataFrame({c: [] for c in _SESSION_COLUMNS})
    n_other = int(round(n_conv * (1 / prof.web_conversion - 1)))
    web = orders.loc[is_web, ["order_id", "customer_id", "placed_at", "campaign_id"]]
    placed = web["placed_at"].to_numpy().astype("datetime64[s]").astype(np.int64)
    conv_start = np.maximum(placed - rng.integers(120, 2400, n_conv), cal.start.value // 10**9)
    conv_cust = web["customer_id"].to_numpy(dtype=np.int64, na_value=0)  # 0: a guest
    src = _choice_codes(rng, _SOURCES, n_conv)
    camp_channel = web["campaign_id"].map(
        dict(zip(campaigns.get("campaign_id", []), campaigns.get("channel", []), strict=True))
    ).to_numpy(dtype=object, na_value=None)
    src = np.where(camp_channel == "email", _SOURCE_CODE["email"],
                   np.where(camp_channel == "social", _SOURCE_CODE["social"], src))
    converted = web["order_id"].to_numpy().astype(np.int64)
    del web, camp_channel, placed

    oday = cal.draw_days(rng, 0, n_other)
    osec = cal.seconds(oday, _time_of_day(rng, np.ones(n_other, dtype=np.int8), prof))
    signup = ((customers["signup_date"] - cal.start).dt.days).to_numpy()
    cand = rng.integers(0, len(customers), n_other)
    logged = (rng.random(n_other) < 0.35) & (signup[cand] <= oday)
    del oday
    other_cust = np.where(logged, cand + 1, 0)  # 0: not logged in
    del cand, logged
    bounce = rng.random(n_other) < 0.4
    pages_other = np.where(bounce, 1, 2 + rng.poisson(3, n_other)).astype(np.int32)

    start = np.concatenate([conv_start, osec])
    del conv_start, osec
    n = len(start)
    cust = np.concatenate([conv_cust, other_cust]).astype(
        np.int32 if len(customers) < 2**31 else np.int64)
    del conv_cust, other_cust
    cookie = rng.integers(10**8, 10**9, n).astype(np.int32)
    sources = np.concatenate([src, _choice_codes(rng, _SOURCES, n_other)]).astype(np.int8)
    device = rng.choice(3, n, p=list(_DEVICES.values())).astype(np.int8)
    pages = np.concatenate([4 + rng.poisson(6, n_conv), pages_other]).astype(np.int32)
    del pages_other
    cart = np.concatenate([np.ones(n_conv, bool),
                           (~bounce) & (rng.random(n_other) < prof.cart_rate)])
    del bounce
    # ids in time order: every column is put in that order once, then becomes a column
    order = np.argsort(start, kind="stable")
    cols: dict[str, object] = {"session_id": np.arange(1, n + 1)}
    cust = cust[order]
    known = np.greater(cust, 0)
    cols["visitor_id"] = _visitors(known, np.where(known, cust, cookie[order]))
    del cookie
    cols["customer_id"] = pd.arrays.IntegerArray(cust.astype(np.int64), ~known)
    del cust, known
    cols["started_at"] = _to_datetime(start[order])
    del start
    cols["traffic_source"] = _labels(list(_SOURCES), sources[order])
    cols["device"] = _labels(list(_DEVICES), device[order])
    del sources, device
    cols["pages"] = pages[order].astype(np.int64)
    cols["added_to_cart"] = cart[order]
    del pages, cart
    is_conv = order < n_conv
    order_id = np.zeros(n, dtype=np.int64)
    order_id[is_conv] = converted[order[is_conv]]
    cols["converted_order_id"] = pd.arrays.IntegerArray(order_id, ~is_conv)
    del order, is_conv
    return pd.DataFrame(cols, copy=False)  # the columns as they are: no second copy


def _visitors(known: np.ndarray, number: np.ndarray) -> pd.Series:
    """``C-<customer id>`` for a logged-in visitor, ``A-<cookie>`` for an anonymous one."""
    text = pc.binary_join_element_wise(pc.if_else(pa.array(known), "C-", "A-"),
                                       pa.array(number).cast(pa.string()), "")
    return pd.Series(pd.array(text, dtype="str"))
