"""What a shop learns about people outside its till: newsletter, searches, social media,
influencers, surveys, customised products and the visitors its door counts.

These tables feed the segmentation tools of unit 3 of the course map (keyword alerts,
SEO, search trends, social-media listening, influencers, surveys, social sharing), the
newsletter of the Bendita case and the store footfall of shops without a web shop.
They are derived deterministically from the seed and the shop's other tables, with a
random stream of their own, so adding them changes no other table.

>>> from crmkit.dataset.synth import generate
>>> data = generate("boutique", n_customers=120, seed=3)
>>> sorted(k for k in OUTSIDE_TABLES if k in data.tables)[:3]
['customisations', 'influencer_orders', 'newsletter']
>>> bool(data.store_visits["visits"].sum() > (data.orders["channel"] == "store").sum())
True
>>> "web_referrals" in data.absent  # a shop that sells in store only has no web visits
True
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .profiles import ShopProfile

__all__ = ["OUTSIDE_TABLES", "SEARCH_TERMS", "INFLUENCERS", "outside_tables", "outside_parts"]

#: The tables this module adds to a generated shop, in canonical order.
OUTSIDE_TABLES = ("newsletter", "web_referrals", "social_mentions", "influencer_orders",
                  "surveys", "customisations", "store_visits")

#: What people type into a search engine before they visit each shop (Spanish shoppers).
SEARCH_TERMS: dict[str, tuple[str, ...]] = {
    "fashion_chain": ("vestidos fiesta", "vaqueros mujer", "rebajas ropa", "zapatillas blancas",
                      "camisas hombre", "tienda moda online"),
    "sports_shop": ("botas fútbol", "zapatillas running", "bicicleta montaña",
                    "equipaciones club", "tienda deportes puertollano", "pesas casa"),
    "frozen_foods": ("congelados a domicilio", "marisco congelado", "menú semanal",
                     "verduras congeladas", "helados familiares", "pescado congelado oferta"),
    "boutique": ("ropa mujer puertollano", "abrigos invierno", "vestidos boda",
                 "boutique moda", "jerséis lana", "bolsos piel"),
    "ice_cream": ("heladería puertollano", "granizado limón", "tarta helada",
                  "batidos", "helado artesano", "horchata"),
    "bendita": ("champú sin sulfatos", "mascarilla pelo rizado", "bendita champú",
                "tratamiento anticaída", "cosmética capilar natural", "acondicionador sólido"),
}
#: The influencer codes each shop gives out (a code on an order says who sent the buyer).
INFLUENCERS: dict[str, tuple[str, ...]] = {
    "fashion_chain": ("LUCIA_STYLE", "MODAMARTA", "JAVI_LOOKS"),
    "sports_shop": ("RUNNER_ANA", "FUTBOLPRO", "BIKE_DANI"),
    "frozen_foods": ("COCINA_RAPIDA", "MAMA_CHEF", "FIT_MENU"),
    "boutique": ("ELENA_CHIC", "MODALOCAL"),
    "ice_cream": ("DULCE_VERANO", "PUERTO_FOODIE"),
    "bendita": ("RIZOS_LAURA", "PELO_SANO", "CURLY_ANDREA", "BEAUTY_SARA"),
}
_OPTIONS = {
    "fashion_chain": ("name_print", "tailoring"), "sports_shop": ("name_print", "number_print"),
    "frozen_foods": ("custom_box", "gift_message"), "boutique": ("tailoring", "embroidery"),
    "ice_cream": ("custom_cake", "gift_message"), "bendita": ("custom_formula", "engraving"),
}
#: Share of the people who walk into the store who leave with a receipt.
_TILL_CONVERSION = {"fashion_chain": 0.28, "sports_shop": 0.35, "frozen_foods": 0.6,
                    "boutique": 0.22, "ice_cream": 0.8, "bendita": 0.3}
_NETWORKS = ("instagram", "tiktok", "facebook", "x")
_REFERRERS = {"social": ("instagram.com", "tiktok.com", "facebook.com"),
              "referral": ("blog-de-compras.es", "comparador-precios.es", "foro-local.es")}


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), 65, 2]))


def outside_tables(prof: ShopProfile, seed: int, tables: Mapping[str, pd.DataFrame]
                   ) -> dict[str, pd.DataFrame]:
    """The tables of this module for a generated shop, from its conformed ``tables``."""
    return dict(outside_parts(prof, seed, tables))


def outside_parts(prof: ShopProfile, seed: int, tables: Mapping[str, pd.DataFrame]
                  ) -> Iterator[tuple[str, pd.DataFrame]]:
    """The tables of :func:`outside_tables` one by one, in :data:`OUTSIDE_TABLES` order.

    Each is drawn when asked for and reads ``tables`` only then: a caller may add a table
    (``tickets``) or drop one (``web_sessions`` once the referrals are drawn) in between.
    Every table is drawn from one random stream, in this order.
    """
    rng = _rng(seed)
    name = prof.name if prof.name in SEARCH_TERMS else "boutique"
    yield "newsletter", _newsletter(rng, tables)
    yield "web_referrals", _referrals(rng, name, tables["web_sessions"])
    yield "social_mentions", _mentions(rng, name, tables)
    yield "influencer_orders", _influencer_orders(rng, name, tables["orders"])
    yield "surveys", _surveys(rng, tables)
    yield "customisations", _customisations(rng, name, tables)
    yield "store_visits", _store_visits(rng, name, tables["orders"])


def _span(orders: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    placed = orders["placed_at"]
    return placed.min().normalize(), placed.max().normalize() + pd.Timedelta(days=1)


def _at_most(moments: pd.Series, last: pd.Timestamp) -> pd.Series:
    """``moments`` with those after ``last`` moved back to ``last``."""
    return moments.where(moments <= last, last)


def _newsletter(rng, tables) -> pd.DataFrame:
    """Customers who agreed to e-mail (most subscribe) and people who never bought."""
    cust, orders = tables["customers"], tables["orders"]
    if not len(orders) or not len(cust):
        return pd.DataFrame()
    t0, t1 = _span(orders)
    ok = cust[cust["email_consent"].astype(bool) & cust["email"].notna()]
    ok = ok[rng.random(len(ok)) < 0.7]
    first = orders.dropna(subset=["customer_id"]).groupby("customer_id")["placed_at"].min()
    since = ok["signup_date"].fillna(ok["customer_id"].map(first)).fillna(t0)
    since = since.clip(lower=t0) + pd.to_timedelta(rng.integers(0, 20, len(ok)), unit="D")
    n_out = int(round(len(ok) * 0.35))  # people who subscribe and have not bought (yet)
    span = (t1 - t0).total_seconds()
    out_at = t0 + pd.to_timedelta(rng.random(n_out) * span, unit="s")
    at = np.concatenate([since.to_numpy("datetime64[ns]"), out_at.to_numpy("datetime64[ns]")])
    df = pd.DataFrame({
        "customer_id": pd.array(list(ok["customer_id"]) + [pd.NA] * n_out, dtype="Int64"),
        "subscribed_at": _at_most(pd.Series(pd.to_datetime(at).floor("s")),
                                  t1 - pd.Timedelta(seconds=1)),
        "source": rng.choice(["web_form", "checkout", "store", "social"], len(at),
                             p=[0.4, 0.3, 0.2, 0.1]),
    })
    gone = rng.random(len(df)) < 0.1
    left = df["subscribed_at"] + pd.to_timedelta(rng.integers(10, 300, len(df)), unit="D")
    df["unsubscribed_at"] = left.where(gone & (left < t1))
    df = df.sort_values("subscribed_at", kind="stable").reset_index(drop=True)
    df.insert(0, "subscriber_id", np.arange(1, len(df) + 1))
    return df


def _referrals(rng: np.random.Generator, name: str, sessions: pd.DataFrame) -> pd.DataFrame:
    """A search term for visits from a search engine, a referring site for the others.

    Converting visits favour the first terms (the shop's own name converts well), and each
    term has its month of interest, so the terms' trends differ.

    Every visit draws one number; the chance of each term depends only on the visit's
    month and whether it converted, so the 24 rows of cumulative chances are computed
    once and each visit is looked up among them (no visits x terms matrix)."""
    if not len(sessions):
        return pd.DataFrame()
    terms = SEARCH_TERMS[name]
    k, n = len(terms), len(sessions)
    kinds = ("organic", "paid_search", *_REFERRERS)  # codes 0, 1 (search engines), 2, 3
    kind = pc.index_in(pa.array(sessions["traffic_source"]), value_set=pa.array(kinds))
    kind = kind.fill_null(-1).to_numpy().astype(np.int8)
    month = sessions["started_at"].dt.month.to_numpy()
    conv = sessions["converted_order_id"].notna().to_numpy()
    cum = _term_chances(k, month.dtype)
    search = np.flatnonzero((kind == 0) | (kind == 1))
    u = rng.random(n)[search]
    group = (conv[search] * 12 + month[search] - 1).astype(np.int8)
    del month, conv
    pick = np.empty(len(search), dtype=np.int8)
    for g in range(len(cum)):
        rows = np.flatnonzero(group == g)
        pick[rows] = (u[rows, None] > cum[g][None, :]).sum(axis=1).clip(max=k - 1)
    del u, group
    labels = ["google.es", "google.es/ads"]
    site = np.full(n, -1, dtype=np.int8)
    site[search] = kind[search]  # organic: google.es, paid: google.es/ads
    for code, sites in enumerate(_REFERRERS.values(), start=2):
        m = kind == code
        site[m] = len(labels) + rng.choice(len(sites), int(m.sum()))
        labels += sites
    keep = kind >= 0
    term = np.full(n, -1, dtype=np.int8)
    term[search] = pick
    term = term[keep]
    return pd.DataFrame({
        "session_id": sessions["session_id"].to_numpy()[keep],
        "referrer": _text(labels, site[keep]),
        "search_term": _text(terms, pa.array(term, mask=term < 0)),
    }, copy=False)


def _term_chances(k: int, dtype: npt.DTypeLike) -> np.ndarray:
    """Cumulative chance of each search term, for a visit (not) converted in each month.

    Row ``12 * converted + month - 1``; the arithmetic of each row is the one a visit of
    that month would have on its own."""
    month = np.arange(1, 13, dtype=dtype)
    peak = (np.arange(k) * 12 // k) + 1
    season = 1 + 0.8 * np.cos(2 * np.pi * (month[:, None] - peak[None, :]) / 12)
    w = np.concatenate([season * 1.0, season * np.linspace(2.0, 0.5, k)[None, :]])
    return (w / w.sum(axis=1, keepdims=True)).cumsum(axis=1)


def _text(labels: Iterable[str], codes: npt.ArrayLike | pa.Array) -> pd.Series:
    """A text column from a few labels and one code per row (a null code: no text)."""
    return pd.Series(pd.array(pa.array(list(labels)).take(pa.array(codes)), dtype="str"))


def _mentions(rng: np.random.Generator, name: str, tables: Mapping[str, pd.DataFrame]
              ) -> pd.DataFrame:
    """Posts that name the shop: about one per 20 orders, with two bad weeks planted."""
    orders, cust = tables["orders"], tables["customers"]
    if not len(orders):
        return pd.DataFrame()
    t0, t1 = _span(orders)
    n = max(int(len(orders) * 0.05), 40)
    span = (t1 - t0).total_seconds()
    at = t0 + pd.to_timedelta(np.sort(rng.random(n)) * span, unit="s")
    keywords = np.asarray(("brand",) + SEARCH_TERMS[name][:3], dtype=object)
    df = pd.DataFrame({
        "posted_at": at.floor("s"),
        "network": rng.choice(_NETWORKS, n, p=[0.45, 0.25, 0.2, 0.1]),
        "kind": rng.choice(["mention", "share", "review"], n, p=[0.5, 0.3, 0.2]),
        "sentiment": rng.choice(["positive", "neutral", "negative"], n, p=[0.5, 0.35, 0.15]),
        "keyword": rng.choice(keywords, n, p=[0.55, 0.15, 0.15, 0.15]),
        "followers": np.round(rng.lognormal(6.0, 1.3, n)).astype(int) + 10,
    })
    weeks = pd.date_range(t0, t1, freq="7D")
    if len(weeks) > 6:  # two bad weeks: a wave of complaints about one keyword
        for start in rng.choice(weeks[1:-2], 2, replace=False):
            m = int(rng.integers(12, 20))
            df = pd.concat([df, pd.DataFrame({
                "posted_at": (start + pd.to_timedelta(rng.random(m) * 6 * 86400, unit="s")
                              ).floor("s"),
                "network": rng.choice(_NETWORKS, m), "kind": "mention",
                "sentiment": "negative", "keyword": "brand",
                "followers": np.round(rng.lognormal(6.0, 1.3, m)).astype(int) + 10})])
    codes = INFLUENCERS[name]
    by_influencer = rng.random(len(df)) < 0.08
    drawn = rng.choice(codes, len(df)).astype(object)
    drawn[~by_influencer] = None
    df["influencer_code"] = drawn
    df.loc[by_influencer, "followers"] = rng.integers(20_000, 400_000, int(by_influencer.sum()))
    known = cust["customer_id"].to_numpy() if len(cust) else np.array([], dtype=np.int64)
    who = rng.choice(known, len(df)) if len(known) else np.zeros(len(df), dtype=np.int64)
    linked = (rng.random(len(df)) < 0.25) & ~by_influencer & (len(known) > 0)
    df["customer_id"] = pd.array(np.where(linked, who, 0), dtype="Int64")
    df.loc[~linked, "customer_id"] = pd.NA
    df = df.sort_values("posted_at", kind="stable").reset_index(drop=True)
    df.insert(0, "mention_id", np.arange(1, len(df) + 1))
    return df


def _influencer_orders(rng: np.random.Generator, name: str, orders: pd.DataFrame) -> pd.DataFrame:
    """About 4 % of the non-cancelled orders carry an influencer's code, unequally shared."""
    ok = orders[orders["status"] != "cancelled"]
    if not len(ok):
        return pd.DataFrame()
    pick = ok[rng.random(len(ok)) < 0.04]
    codes = INFLUENCERS[name]
    weights = np.linspace(1.0, 0.3, len(codes))
    return pd.DataFrame({"order_id": pick["order_id"].to_numpy(),
                         "influencer_code": rng.choice(codes, len(pick),
                                                       p=weights / weights.sum())})


def _surveys(rng: np.random.Generator, tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One answer from some buyers, 0-10 (would you recommend us?): loyal buyers score
    higher, a buyer with an incident lower."""
    orders = tables["orders"].dropna(subset=["customer_id"])
    if not len(orders):
        return pd.DataFrame()
    per = orders.groupby("customer_id").agg(n=("order_id", "size"), last=("placed_at", "max"))
    per = per[rng.random(len(per)) < 0.2]
    tickets = tables.get("tickets")
    hurt = per.index.isin(tickets["customer_id"].dropna()) if tickets is not None and len(
        tickets) else np.zeros(len(per), dtype=bool)
    mean = 7.6 + 0.35 * np.minimum(per["n"].to_numpy() - 1, 5) - 2.5 * hurt
    score = np.clip(np.round(rng.normal(mean, 1.8)), 0, 10).astype(int)
    return pd.DataFrame({
        "response_id": np.arange(1, len(per) + 1),
        "customer_id": per.index.to_numpy(),
        "answered_at": (per["last"] + pd.to_timedelta(rng.integers(1, 10, len(per)), unit="D")
                        ).to_numpy(),
        "score": score,
        "channel": rng.choice(["email", "web", "store"], len(per), p=[0.6, 0.25, 0.15]),
    })


def _customisations(rng: np.random.Generator, name: str, tables: Mapping[str, pd.DataFrame]
                    ) -> pd.DataFrame:
    """Lines of the dearest products that the buyer customised (a name, a size, a cake)."""
    lines, products = tables["order_lines"], tables["products"]
    if not len(lines) or not len(products):
        return pd.DataFrame()
    dear = products.loc[products["list_price"] >= products["list_price"].quantile(0.7),
                        "product_id"]
    cand = lines[lines["product_id"].isin(dear)]
    pick = cand[rng.random(len(cand)) < 0.12]
    return pd.DataFrame({"order_id": pick["order_id"].to_numpy(),
                         "line_number": pick["line_number"].to_numpy(),
                         "option": rng.choice(_OPTIONS[name], len(pick))})


def _store_visits(rng: np.random.Generator, name: str, orders: pd.DataFrame) -> pd.DataFrame:
    """People counted at the door each day the store sold, beside its receipts."""
    store = orders[orders["channel"] == "store"]
    if not len(store):
        return pd.DataFrame()
    receipts = store.groupby(store["placed_at"].dt.normalize()).size()
    conv = _TILL_CONVERSION[name]
    walk_outs = rng.poisson(receipts.to_numpy() * (1 / conv - 1))
    return pd.DataFrame({"date": receipts.index, "visits": receipts.to_numpy() + walk_outs})
