"""The canonical schema: every table of a CRM dataset, declared once.

Synthetic data, cleansed source extracts and a user's own exports all become
the same tables (see :class:`crmkit.dataset.crmdata.CRMData`). This module declares each
table's grain, columns, logical types, keys, nullability, allowed values,
references to other tables and, for customer fields, the *data level* (1-5)
of the course text: the more levels a shop fills in, the more it can do.

>>> from crmkit.dataset.schema import SCHEMA, LEVELS
>>> SCHEMA["orders"].key
('order_id',)
>>> SCHEMA["customers"]["phone"].level
2
>>> LEVELS[3].unlocks
('segmentation',)

:func:`conform` casts a DataFrame to the declared dtypes and :func:`validate_table`
checks it, naming the table, the column and the first offending rows:

>>> import pandas as pd
>>> bad = pd.DataFrame({"product_id": [1, 1]})
>>> validate_table("products", bad)
Traceback (most recent call last):
...
crmkit.errors.SchemaError: table 'products' is missing column(s) 'sku', ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import SchemaError

__all__ = [
    "Column",
    "Table",
    "Level",
    "LEVELS",
    "SCHEMA",
    "TABLE_NAMES",
    "DTYPES",
    "DtypeName",
    "TICKET_STATES",
    "ORDER_STATUSES",
    "PAYMENT_METHODS",
    "REQUIRED_TABLES",
    "NEEDS",
    "CONTENT",
    "needs",
    "conform",
    "fill_money",
    "empty_table",
    "validate_table",
    "data_dictionary",
]

#: The pandas dtypes of the schema's columns, by name (a type for pandas' ``astype``).
DtypeName = Literal["int64", "Int64", "float64", "str", "bool", "datetime64[us]"]

#: Logical type -> pandas dtype used in memory.
DTYPES: dict[str, DtypeName] = {
    "int": "int64",
    "Int": "Int64",  # nullable integer (foreign keys that may be unknown)
    "float": "float64",
    "str": "str",
    "bool": "bool",
    "datetime": "datetime64[us]",
    "date": "datetime64[us]",  # a day at midnight
}

TICKET_STATES = ("registered", "technical_report", "report_validated", "response_issued", "closed")
ORDER_STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled", "returned", "other")
CHANNELS = ("store", "web", "phone")
PAYMENT_METHODS = ("card", "cash", "paypal", "transfer", "cash_on_delivery", "other")
SEGMENTS = ("premium", "standard", "budget")
CAMPAIGN_CHANNELS = ("email", "sms", "phone", "mail", "social")


@dataclass(frozen=True)
class Level:
    """One of the five levels of customer knowledge (course text, seed 003)."""

    number: int
    name: str
    unlocks: tuple[str, ...]


LEVELS: dict[int, Level] = {
    1: Level(1, "identity", ("direct_mail",)),
    2: Level(2, "contact", ("telemarketing",)),
    3: Level(3, "profile", ("segmentation",)),
    4: Level(4, "campaign_response", ("campaign_roi",)),
    5: Level(5, "habits", ("loyalty", "one_to_one")),
}


@dataclass(frozen=True)
class Column:
    """A column: logical type, meaning, and the rules every row must follow."""

    name: str
    dtype: str
    description: str
    nullable: bool = False
    level: int | None = None
    allowed: tuple[str, ...] | None = None
    references: str | None = None  # "table.column"
    minimum: float | None = None

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"column {self.name!r}: unknown dtype {self.dtype!r}")


@dataclass(frozen=True)
class Table:
    """A canonical table: its grain, columns and primary key."""

    name: str
    grain: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    _by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {c.name: c for c in self.columns})

    def __getitem__(self, name: str) -> Column:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name: str, dtype: str, description: str, **kw: Any) -> Column:
    return Column(name, dtype, description, **kw)


_TABLES = (
    Table(
        "customers",
        "one row per known customer",
        "The customer file of the CRM's customers module.",
        (
            _c("customer_id", "int", "Customer identifier."),
            _c("signup_date", "date", "Day the customer was registered (empty when the "
               "source does not say).", nullable=True),
            _c("first_name", "str", "First name.", nullable=True, level=1),
            _c("last_name", "str", "Last name.", nullable=True, level=1),
            _c("address", "str", "Street address.", nullable=True, level=1),
            _c("city", "str", "City.", nullable=True, level=1),
            _c("postal_code", "str", "Postal code (text: keeps leading zeros).",
               nullable=True, level=1),
            _c("country", "str", "ISO 3166 country code.", nullable=True, level=1),
            _c("email", "str", "E-mail address.", nullable=True, level=1),
            _c("phone", "str", "Telephone number.", nullable=True, level=2),
            _c("birth_date", "date", "Date of birth.", nullable=True, level=3),
            _c("gender", "str", "Gender as declared.", nullable=True, level=3,
               allowed=("female", "male", "other")),
            _c("education", "str", "Highest level of education.", nullable=True, level=3,
               allowed=("primary", "secondary", "vocational", "university")),
            _c("acquisition_channel", "str", "How the customer first came to the shop.",
               nullable=True, level=4,
               allowed=("store", "organic", "paid_search", "social", "email", "referral",
                        "campaign")),
            _c("acquisition_campaign_id", "Int", "Campaign that brought the customer in.",
               nullable=True, level=4, references="campaigns.campaign_id"),
            _c("preferred_payment_method", "str", "Payment method the customer uses most.",
               nullable=True, level=5, allowed=PAYMENT_METHODS),
            _c("segment", "str", "Value segment the marketing team assigned (empty when "
               "the shop has none).", nullable=True, allowed=SEGMENTS),
            _c("email_consent", "bool", "Agreed to receive marketing e-mail and SMS."),
            _c("phone_consent", "bool", "Agreed to receive marketing calls."),
        ),
        ("customer_id",),
    ),
    Table(
        "products",
        "one row per SKU",
        "The assortment, with a product -> category -> department hierarchy.",
        (
            _c("product_id", "int", "Product identifier."),
            _c("sku", "str", "Stock-keeping unit code."),
            _c("name", "str", "Product name."),
            _c("department", "str", "Department (top of the hierarchy).", nullable=True),
            _c("category", "str", "Category.", nullable=True),
            _c("subcategory", "str", "Subcategory.", nullable=True),
            _c("brand", "str", "Brand.", nullable=True),
            _c("unit_cost", "float", "Cost of one unit to the shop.", nullable=True,
               minimum=0),
            _c("list_price", "float", "Catalogue price of one unit, taxes included.",
               nullable=True, minimum=0),
        ),
        ("product_id",),
    ),
    Table(
        "orders",
        "one row per order",
        "Orders with their life cycle placed -> paid -> shipped -> delivered "
        "(or cancelled / returned).",
        (
            _c("order_id", "int", "Order identifier."),
            _c("customer_id", "Int", "Customer; empty for a guest order.", nullable=True,
               references="customers.customer_id"),
            _c("placed_at", "datetime", "When the order was placed."),
            _c("channel", "str", "Sales channel (empty when the source does not say).",
               nullable=True, allowed=CHANNELS),
            _c("status", "str", "Current status.", allowed=ORDER_STATUSES),
            _c("paid_at", "datetime", "When payment was received.", nullable=True),
            _c("shipped_at", "datetime", "When the parcel left the warehouse.", nullable=True),
            _c("delivered_at", "datetime", "When the customer received it.", nullable=True),
            _c("cancelled_at", "datetime", "When the order was cancelled.", nullable=True),
            _c("returned_at", "datetime", "When the goods came back.", nullable=True),
            _c("payment_method", "str", "Payment method (``other``: one the source names "
               "but crmkit does not map; empty: not known).", nullable=True,
               allowed=PAYMENT_METHODS),
            _c("shipping_cost", "float", "Shipping charged to the customer, in currency units "
               "(informational, for people; sums use `shipping_cents`).", nullable=True,
               minimum=0),
            _c("discount_code", "str", "Discount code used, if any.", nullable=True),
            _c("campaign_id", "Int", "Campaign the order is attributed to.", nullable=True,
               references="campaigns.campaign_id"),
            _c("shipping_cents", "Int", "Shipping charged, in minor units of the currency "
               "(cents; empty when the source does not say). Not revenue of goods.",
               nullable=True, minimum=0),
            _c("discount_cents", "Int", "Order-level discount in minor units (0 when none). "
               "Already shared out into the lines' `amount_cents`: shown, never subtracted "
               "again.", minimum=0),
            _c("tax_cents", "Int", "Taxes of the order in minor units (empty when the source "
               "does not say); the manifest's `taxes_included` says whether the amounts "
               "already include them.", nullable=True, minimum=0),
            _c("refunded_cents", "Int", "Money given back to the customer, in minor units "
               "(0 when none; a full or partial refund). Net revenue of an order = "
               "sum of its lines' `amount_cents` - `refunded_cents`.", minimum=0),
        ),
        ("order_id",),
    ),
    Table(
        "order_lines",
        "one row per order line",
        "What each order contained.",
        (
            _c("order_id", "int", "Order.", references="orders.order_id"),
            _c("line_number", "int", "Position of the line in the order, from 1.", minimum=1),
            _c("product_id", "Int", "Product (empty when the source names none, as in an "
               "order log of amounts).", nullable=True, references="products.product_id"),
            _c("quantity", "int", "Units.", minimum=1),
            _c("unit_price", "float", "Price of one unit before discount, in currency units "
               "(informational; empty when the source gives only the line's amount).",
               nullable=True, minimum=0),
            _c("discount", "float", "Line discount as a fraction of the price (0-1; "
               "informational; empty when the source does not say).", nullable=True,
               minimum=0),
            _c("amount_cents", "Int", "What the line cost the customer after all its "
               "discounts (its own and its share of the order's), in minor units of the "
               "currency (cents; none for JPY), exactly as the source says. The revenue "
               "of the line: money is summed from this column only. When a table comes "
               "without it (a frame built by hand, a folder from an older crmkit) it is "
               "derived once: quantity x unit_price x (1 - discount), computed exactly "
               "from the decimal text of each number and rounded once, half to even.",
               minimum=0),
        ),
        ("order_id", "line_number"),
    ),
    Table(
        "web_sessions",
        "one row per visit to the web shop",
        "Web-analytics visits: the visit -> cart -> order funnel.",
        (
            _c("session_id", "int", "Visit identifier."),
            _c("visitor_id", "str", "Browser cookie of the visitor."),
            _c("customer_id", "Int", "Customer, when logged in.", nullable=True,
               references="customers.customer_id"),
            _c("started_at", "datetime", "Start of the visit."),
            _c("traffic_source", "str", "Where the visit came from.",
               allowed=("direct", "organic", "paid_search", "social", "email", "referral")),
            _c("device", "str", "Device type.", allowed=("desktop", "mobile", "tablet")),
            _c("pages", "int", "Pages viewed.", minimum=1),
            _c("added_to_cart", "bool", "Whether something was put in the cart."),
            _c("converted_order_id", "Int", "Order placed during the visit.", nullable=True,
               references="orders.order_id"),
        ),
        ("session_id",),
    ),
    Table(
        "campaigns",
        "one row per marketing campaign",
        "Campaigns with SMART objectives, target segment and budget.",
        (
            _c("campaign_id", "int", "Campaign identifier."),
            _c("name", "str", "Campaign name."),
            _c("channel", "str", "Contact channel.", allowed=CAMPAIGN_CHANNELS),
            _c("goal", "str", "What the campaign is for.",
               allowed=("acquisition", "retention", "reactivation", "cross_sell")),
            _c("target_segment", "str", "Segment the campaign is aimed at.",
               allowed=(*SEGMENTS, "all")),
            _c("objective", "str", "Specific: what the campaign wants to achieve."),
            _c("kpi", "str", "Measurable: the indicator that tells success.",
               allowed=("conversion_rate", "revenue", "new_customers")),
            _c("target_value", "float", "Attainable: the value of the KPI aimed at."),
            _c("start_date", "date", "Timely: first day."),
            _c("end_date", "date", "Timely: last day."),
            _c("budget", "float", "Money set aside for the campaign.", minimum=0),
            _c("cost_per_contact", "float", "Cost of contacting one customer.", minimum=0),
        ),
        ("campaign_id",),
    ),
    Table(
        "campaign_contacts",
        "one row per campaign and contacted customer",
        "Who each campaign reached and how they responded. Members of a campaign's "
        "audience who are not listed were held out at random: its control group. An A/B "
        "test is two campaigns whose names end in [A] and [B].",
        (
            _c("campaign_id", "int", "Campaign.", references="campaigns.campaign_id"),
            _c("customer_id", "int", "Customer contacted.", references="customers.customer_id"),
            _c("sent_at", "datetime", "When the message went out."),
            _c("opened", "bool", "Opened or answered the message."),
            _c("clicked", "bool", "Clicked or asked for more."),
            _c("converted_order_id", "Int", "Order placed in response.", nullable=True,
               references="orders.order_id"),
            _c("cost", "float", "Cost of this contact.", minimum=0),
        ),
        ("campaign_id", "customer_id"),
    ),
    Table(
        "tickets",
        "one row per incident",
        "After-sales incidents (complaints, defects, delivery problems).",
        (
            _c("ticket_id", "int", "Incident identifier."),
            _c("customer_id", "Int", "Customer who raised it.", nullable=True,
               references="customers.customer_id"),
            _c("order_id", "Int", "Order concerned.", nullable=True, references="orders.order_id"),
            _c("product_id", "Int", "Product concerned.", nullable=True,
               references="products.product_id"),
            _c("category", "str", "Kind of incident.",
               allowed=("delivery", "defect", "billing", "return", "information", "complaint")),
            _c("channel", "str", "How it came in.",
               allowed=("phone", "email", "web_form", "store", "social")),
            _c("priority", "str", "Priority.", allowed=("low", "normal", "high")),
            _c("opened_at", "datetime", "When it was registered."),
            _c("status", "str", "Current state in the workflow.", allowed=TICKET_STATES),
            _c("closed_at", "datetime", "When it was closed.", nullable=True),
        ),
        ("ticket_id",),
    ),
    Table(
        "ticket_events",
        "one row per state change of an incident",
        "The incident workflow: registered -> technical report -> report validated "
        "-> response issued -> closed.",
        (
            _c("event_id", "int", "Event identifier."),
            _c("ticket_id", "int", "Incident.", references="tickets.ticket_id"),
            _c("state", "str", "State entered.", allowed=TICKET_STATES),
            _c("occurred_at", "datetime", "When the state was entered."),
            _c("actor_role", "str", "Role of whoever moved the incident.",
               allowed=("operator", "technician", "validator", "customer_service")),
            _c("actor_id", "str", "Who moved it."),
        ),
        ("event_id",),
    ),
    Table(
        "opportunities",
        "one row per sales negotiation",
        "The sales pipeline: open negotiations and those won or lost.",
        (
            _c("opportunity_id", "int", "Negotiation identifier."),
            _c("customer_id", "Int", "Customer, if already one.", nullable=True,
               references="customers.customer_id"),
            _c("created_at", "datetime", "When the negotiation was opened."),
            _c("stage", "str", "Current stage.",
               allowed=("prospect", "qualification", "proposal", "negotiation", "won", "lost")),
            _c("amount", "float", "Expected value of the deal.", minimum=0),
            _c("closed_at", "datetime", "When it was won or lost.", nullable=True),
            _c("owner", "str", "Salesperson in charge."),
        ),
        ("opportunity_id",),
    ),
    Table(
        "inventory",
        "one row per product and day",
        "Stock on hand at the end of each day (semi-additive: sum over products, "
        "never over days).",
        (
            _c("date", "date", "Day."),
            _c("product_id", "int", "Product.", references="products.product_id"),
            _c("on_hand", "int", "Units in stock at the end of the day.", minimum=0),
            _c("units_sold", "int", "Units that left with orders that day.", minimum=0),
            _c("units_received", "int", "Units received from suppliers that day.", minimum=0),
        ),
        ("date", "product_id"),
    ),
    # What the shop learns outside its till (crmkit.dataset.social): every one optional.
    Table(
        "newsletter",
        "one row per newsletter subscription",
        "Who subscribed to the newsletter, and when; a subscriber who never bought is a "
        "potential customer.",
        (
            _c("subscriber_id", "int", "Subscription identifier."),
            _c("customer_id", "Int", "Customer, when the subscriber is one.", nullable=True,
               references="customers.customer_id"),
            _c("subscribed_at", "datetime", "When the person subscribed."),
            _c("source", "str", "Where the person subscribed.",
               allowed=("web_form", "checkout", "store", "social")),
            _c("unsubscribed_at", "datetime", "When the person left (empty: still "
               "subscribed).", nullable=True),
        ),
        ("subscriber_id",),
    ),
    Table(
        "web_referrals",
        "one row per web visit that came from a search engine or another site",
        "The search term typed before a visit from a search engine, or the site that sent "
        "the visitor (SEO and search trends).",
        (
            _c("session_id", "int", "Visit.", references="web_sessions.session_id"),
            _c("referrer", "str", "Site the visitor came from.", nullable=True),
            _c("search_term", "str", "What the visitor searched for (empty when the visit "
               "did not come from a search engine).", nullable=True),
        ),
        ("session_id",),
    ),
    Table(
        "social_mentions",
        "one row per public post that names the shop",
        "Social-media listening: mentions, shares of the shop's posts and reviews.",
        (
            _c("mention_id", "int", "Post identifier."),
            _c("posted_at", "datetime", "When it was posted."),
            _c("network", "str", "Social network.",
               allowed=("instagram", "tiktok", "facebook", "x")),
            _c("kind", "str", "A mention, a share of the shop's post, or a review.",
               allowed=("mention", "share", "review")),
            _c("sentiment", "str", "Tone of the post.",
               allowed=("positive", "neutral", "negative")),
            _c("keyword", "str", "Keyword the listening tool matched ('brand': the shop's "
               "name)."),
            _c("followers", "int", "Followers of the author: how many may see it.", minimum=0),
            _c("influencer_code", "str", "Code of the influencer who posted it, if one did.",
               nullable=True),
            _c("customer_id", "Int", "Customer who posted it, when known.", nullable=True,
               references="customers.customer_id"),
        ),
        ("mention_id",),
    ),
    Table(
        "influencer_orders",
        "one row per order placed with an influencer's code",
        "Which influencer sent each buyer.",
        (
            _c("order_id", "int", "Order.", references="orders.order_id"),
            _c("influencer_code", "str", "Influencer's code used in the order."),
        ),
        ("order_id",),
    ),
    Table(
        "surveys",
        "one row per survey answer",
        "Customer surveys: 'how likely are you to recommend us?', from 0 to 10.",
        (
            _c("response_id", "int", "Answer identifier."),
            _c("customer_id", "int", "Customer who answered.",
               references="customers.customer_id"),
            _c("answered_at", "datetime", "When the customer answered."),
            _c("score", "int", "Answer from 0 (never) to 10 (certainly).", minimum=0),
            _c("channel", "str", "Where the survey was answered.",
               allowed=("email", "web", "store")),
        ),
        ("response_id",),
    ),
    Table(
        "customisations",
        "one row per order line the customer customised",
        "Products the customers customised themselves (a name, a size, a message).",
        (
            _c("order_id", "int", "Order.", references="orders.order_id"),
            _c("line_number", "int", "Line of the order.", minimum=1),
            _c("option", "str", "What the customer customised."),
        ),
        ("order_id", "line_number"),
    ),
    Table(
        "store_visits",
        "one row per day the store was open",
        "People counted at the store's door: the store's footfall.",
        (
            _c("date", "date", "Day."),
            _c("visits", "int", "People who came in.", minimum=0),
        ),
        ("date",),
    ),
)

SCHEMA: dict[str, Table] = {t.name: t for t in _TABLES}
TABLE_NAMES: tuple[str, ...] = tuple(SCHEMA)

#: The tables every dataset has; a real shop's data may lack any of the others.
REQUIRED_TABLES: tuple[str, ...] = ("orders",)

#: What each kind of analysis needs: a topic -> the tables it reads. Analyses call
#: ``data.require(topic)``; notebook sections ask ``data.has(topic)`` and skip with a note.
NEEDS: dict[str, tuple[str, ...]] = {
    "orders": ("orders",),
    "sales": ("orders", "order_lines"),
    "customers": ("customers",),
    "products": ("products",),
    "pipeline": ("opportunities",),
    "marketing": ("campaigns", "campaign_contacts"),
    "incidents": ("tickets", "ticket_events"),
    "web": ("web_sessions",),
    "stock": ("products", "inventory"),
    "order_times": ("orders",),
    "profitability": ("orders", "order_lines", "products"),
    "web_visits": ("web_sessions",),
    "acquisition": ("customers",),
    "demographics": ("customers",),
    "newsletter": ("newsletter",),
    "search": ("web_sessions", "web_referrals"),
    "listening": ("social_mentions",),
    "influencers": ("influencer_orders", "orders", "order_lines"),
    "surveys": ("surveys",),
    "customisation": ("customisations", "order_lines"),
    "store_visits": ("store_visits", "orders"),
    "customer_habits": ("customers", "orders", "order_lines", "products"),
}

#: Topics that need more than their tables: (table, column, what must be in it). An order
#: log of days (CDNOW) has orders but no time of day.
CONTENT: dict[str, tuple[str, str, str]] = {
    "order_times": ("orders", "placed_at", "times of day, not only dates"),
    "web_visits": ("web_sessions", "session_id", "visits (a shop that sells in store only)"),
    "acquisition": ("customers", "acquisition_channel",
                    "the channel that brought each customer (a Shopify export has none)"),
    "demographics": ("customers", "gender", "genders and birth dates (data level 3)"),
}


def needs(topic: str) -> tuple[str, ...]:
    """The tables an analysis topic (or a single table) needs.

    >>> needs("incidents")
    ('tickets', 'ticket_events')
    >>> needs("inventory")
    ('inventory',)
    >>> needs("weather")
    Traceback (most recent call last):
    ...
    crmkit.errors.SchemaError: unknown analysis topic or table 'weather'; ...
    """
    if topic in NEEDS:
        return NEEDS[topic]
    if topic in SCHEMA:
        return (topic,)
    raise SchemaError(
        f"unknown analysis topic or table {topic!r}; the topics are: {', '.join(NEEDS)}; "
        f"the tables are: {', '.join(TABLE_NAMES)}."
    )


def _table(name: str) -> Table:
    if name not in SCHEMA:
        raise SchemaError(
            f"unknown table {name!r}; the canonical tables are: {', '.join(TABLE_NAMES)}."
        )
    return SCHEMA[name]


def empty_table(name: str) -> pd.DataFrame:
    """An empty DataFrame with the columns and dtypes of table ``name``.

    >>> empty_table("inventory").dtypes["on_hand"]
    dtype('int64')
    """
    t = _table(name)
    return pd.DataFrame({c.name: pd.Series([], dtype=DTYPES[c.dtype]) for c in t.columns})


def _rows_preview(df: pd.DataFrame, mask: np.ndarray, limit: int = 5) -> str:
    rows = np.flatnonzero(mask)[:limit]
    return ", ".join(str(int(r)) for r in rows)


def conform(name: str, df: pd.DataFrame, *, currency: str = "EUR") -> pd.DataFrame:
    """Return a copy of ``df`` with the canonical column order and dtypes of ``name``.

    Values that cannot be cast raise :class:`SchemaError` naming the column and
    the first rows at fault. Extra columns are kept after the canonical ones.

    Money columns a frame lacks are filled by one documented rule each (see
    :func:`fill_money`): a line's ``amount_cents`` from quantity, unit price and
    discount (rounded once, half to even, to the minor units of ``currency``),
    ``shipping_cents`` from ``shipping_cost`` (exactly, or refused), order
    discounts and refunds 0, taxes unknown.

    >>> import pandas as pd
    >>> out = conform("inventory", pd.DataFrame({"date": ["2024-01-01"], "product_id": ["7"],
    ...     "on_hand": [3], "units_sold": [0], "units_received": [0]}))
    >>> out["date"].iloc[0], out["product_id"].dtype
    (Timestamp('2024-01-01 00:00:00'), dtype('int64'))
    """
    t = _table(name)
    df = fill_money(name, df, currency=currency)
    _check_columns(t, df)
    out = {}
    for col in t.columns:
        s = df[col.name]
        target = DTYPES[col.dtype]
        if str(s.dtype) == target:
            out[col.name] = s
            continue
        try:
            if col.dtype in ("datetime", "date"):
                conv = pd.to_datetime(s, format="ISO8601") if s.dtype.kind not in "mM" else s
                if getattr(conv.dtype, "tz", None) is not None:
                    conv = conv.dt.tz_convert(None)
                conv = conv.astype(target)
            elif col.dtype == "bool":
                conv = s.map(_to_bool, na_action="ignore") if s.dtype.kind != "b" else s
                if conv.isna().any():
                    raise ValueError("missing or unreadable true/false values")
                conv = conv.astype("bool")
            elif col.dtype == "str":
                conv = s.astype("str").where(s.notna(), None)
                conv = conv.astype("str")
            else:
                if col.dtype in ("int", "Int") and s.dtype.kind == "f":
                    given = s.dropna()
                    whole = (given == given.round()) & (given.abs() < 2**63)
                    if not whole.all():  # astype would truncate or wrap around silently
                        raise ValueError(f"{given[~whole].iloc[0]!r} is not a whole number "
                                         "in the 64-bit range")
                conv = s.astype(target)
        except (ValueError, TypeError, OverflowError) as exc:
            raise SchemaError(
                f"table {name!r}, column {col.name!r}: cannot read the values as "
                f"{col.dtype} ({exc}). Fix the column so every value is a {col.dtype}."
            ) from exc
        out[col.name] = conv
    extras = [c for c in df.columns if c not in t]
    # copy=False: the columns are not stacked into 2-D blocks (a copy of the whole
    # table); copy-on-write keeps ``df`` and the result independent all the same
    result = pd.DataFrame(out, index=df.index, copy=False)
    for c in extras:
        result[c] = df[c]
    return result.reset_index(drop=True)


def fill_money(name: str, df: pd.DataFrame, *, currency: str = "EUR") -> pd.DataFrame:
    """``df`` with the money columns of ``orders``/``order_lines`` it lacks, filled once.

    - ``order_lines.amount_cents``: :func:`crmkit.dataset.money.derive_line_amounts`
      (quantity x unit_price x (1 - discount), exact, one half-even rounding);
      ``unit_price``/``discount`` absent beside a given amount: empty (unknown).
    - ``orders.shipping_cents`` from ``shipping_cost`` (exact; more decimals than the
      currency has is refused), or ``shipping_cost`` from ``shipping_cents``;
      ``discount_cents`` and ``refunded_cents`` 0; ``tax_cents`` empty.

    Columns already present are never touched.

    >>> lines = pd.DataFrame({"order_id": [1], "line_number": [1], "product_id": [7],
    ...                       "quantity": [2], "unit_price": [9.95], "discount": [0.5]})
    >>> int(fill_money("order_lines", lines)["amount_cents"].iloc[0])
    995
    """
    from .money import derive_line_amounts, minor_digits, to_cents

    have = set(df.columns)
    if name == "order_lines":
        if "amount_cents" not in have and {"quantity", "unit_price", "discount"} <= have:
            df = df.assign(amount_cents=derive_line_amounts(df, currency))
        elif "amount_cents" in have:
            df = df.assign(**{c: np.nan for c in ("unit_price", "discount") if c not in have})
    elif name == "orders":
        new = {}
        if "shipping_cents" not in have:
            new["shipping_cents"] = (to_cents(df["shipping_cost"], currency)
                                     if "shipping_cost" in have
                                     else _int64s(len(df), missing=True))
        elif "shipping_cost" not in have:
            cents = df["shipping_cents"].astype("Int64")
            new["shipping_cost"] = (cents.astype("float64") / 10 ** minor_digits(currency))
        for col in ("discount_cents", "refunded_cents"):
            if col not in have:
                new[col] = _int64s(len(df), missing=False)
        if "tax_cents" not in have:
            new["tax_cents"] = _int64s(len(df), missing=True)
        if new:
            df = df.assign(**new)
    return df


def _int64s(n: int, *, missing: bool) -> pd.api.extensions.ExtensionArray:
    """``n`` Int64 values: all 0, or all missing (built from arrays, not Python lists).

    >>> _int64s(2, missing=False).tolist(), _int64s(1, missing=True).tolist()
    ([0, 0], [<NA>])
    """
    return pd.arrays.IntegerArray(np.zeros(n, dtype="int64"), np.full(n, missing, dtype=bool))


_TRUE = {"true", "1", "yes", "y", "t", "si", "sí"}
_FALSE = {"false", "0", "no", "n", "f"}


def _to_bool(v: object) -> bool | None:
    if isinstance(v, bool | np.bool_):
        return bool(v)
    text = str(v).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def _check_columns(t: Table, df: pd.DataFrame) -> None:
    missing = [c for c in t.column_names if c not in df.columns]
    if missing:
        raise SchemaError(
            f"table {t.name!r} is missing column(s) "
            + ", ".join(repr(m) for m in missing)
            + f". Expected columns: {', '.join(t.column_names)}."
        )


def validate_table(name: str, df: pd.DataFrame) -> None:
    """Check one table against the schema; raise :class:`SchemaError` on the first problem.

    Checks column presence, dtypes, non-null columns, allowed values, minimums
    and primary-key uniqueness. Cross-table references are checked by
    :meth:`crmkit.dataset.crmdata.CRMData.validate`.
    """
    t = _table(name)
    _check_columns(t, df)
    for col in t.columns:
        s = df[col.name]
        target = DTYPES[col.dtype]
        ok = (
            s.dtype.kind == "M" and getattr(s.dtype, "tz", None) is None
            if col.dtype in ("datetime", "date")
            else str(s.dtype) == target
            or (col.dtype == "str" and s.dtype == object)
        )
        if not ok:
            raise SchemaError(
                f"table {name!r}, column {col.name!r} has dtype {s.dtype}, expected "
                f"{target}. Use crmkit.dataset.schema.conform({name!r}, df) to cast it."
            )
        if col.dtype == "float":
            inf = np.isinf(s.to_numpy(dtype=float, na_value=np.nan))
            if inf.any():
                raise _located(name, col.name, inf, f"is not a finite number in "
                               f"{int(inf.sum())} row(s) (inf, Infinity, or beyond the range "
                               "of numbers such as 1e400)", df)
        null = s.isna().to_numpy()
        if not col.nullable and null.any():
            raise _located(name, col.name, null, f"must not be empty but is empty (or NaN) "
                           f"in {int(null.sum())} row(s)", df)
        if col.allowed is not None:
            bad = ~(s.isin(col.allowed).to_numpy() | null)
            if bad.any():
                values = sorted({str(v) for v in s[bad].head(5)})
                raise _located(name, col.name, bad, f"has value(s) {values}; allowed values "
                               f"are: {', '.join(col.allowed)}", df)
        if col.minimum is not None:
            bad = (s.to_numpy(dtype=float, na_value=np.nan) < col.minimum)
            if bad.any():
                raise _located(name, col.name, bad, f"is below {col.minimum} in "
                               f"{int(bad.sum())} row(s)", df)
    dup = _shared_keys(df, list(t.key))
    if dup.any():
        raise _located(name, ", ".join(t.key), dup, f"key ({', '.join(t.key)}) is not "
                       f"unique; {int(dup.sum())} rows share a key", df)


def _shared_keys(df: pd.DataFrame, key: list[str]) -> np.ndarray:
    """Rows whose key another row has too (``df.duplicated(key, keep=False)``). Integer keys
    in strictly increasing order, as crmkit writes its tables, are unique at a glance.

    >>> _shared_keys(pd.DataFrame({"a": [1, 1, 2], "b": [1, 2, 1]}), ["a", "b"]).tolist()
    [False, False, False]
    >>> _shared_keys(pd.DataFrame({"a": [1, 2, 1], "b": [1, 1, 1]}), ["a", "b"]).tolist()
    [True, False, True]
    """
    columns = [df[k] for k in key]
    if len(df) > 1 and all(isinstance(c.dtype, np.dtype) and c.dtype.kind in "iu"
                           for c in columns):
        later, tied = np.zeros(len(df) - 1, dtype=bool), np.ones(len(df) - 1, dtype=bool)
        for c in columns:
            v = c.to_numpy()
            later |= tied & (v[1:] > v[:-1])
            tied &= v[1:] == v[:-1]
        if later.all():
            return np.zeros(len(df), dtype=bool)
    return df.duplicated(key, keep=False).to_numpy()


def _located(table: str, column: str, mask: np.ndarray, problem: str,
             df: pd.DataFrame) -> SchemaError:
    """A SchemaError that also carries where it is, so a dataset folder can name the file's
    lines: ``table``, ``column``, ``rows`` (0-based positions) and ``problem``."""
    return SchemaError(f"table {table!r}, column {column!r} {problem}, first rows: "
                       f"{_rows_preview(df, mask)}.", table=table, column=column,
                       problem=problem, rows=np.flatnonzero(mask).tolist())


def data_dictionary() -> str:
    """The data dictionary of every table, as Markdown (the source of ``data/README.md``).

    >>> print(data_dictionary().splitlines()[0])
    # Data dictionary
    """
    lines = [
        "# Data dictionary",
        "",
        "<!-- Generated by `crmkit dictionary` from crmkit/dataset/schema.py;"
        " do not edit by hand. -->",
        "",
        "Every dataset folder (the samples below, `crmkit generate` output, or your own",
        "exports after mapping) holds these tables, one file per table (`<table>.csv` or",
        "`<table>.parquet`) and a `manifest.json`. Customer fields carry their *data level*",
        "(1-5): the more levels a shop fills in, the more it can do.",
        "",
        "A folder is written whole or not at all (into a temporary folder beside it, then",
        "renamed), one writer at a time (a lock file `.<folder>.lock` beside it). Its",
        "`manifest.json` records every file's rows and SHA-256 under `files`; loading refuses",
        "a folder whose files do not match, naming the file.",
        "",
        "Money is integer minor units of the shop's currency (`manifest.json`'s `currency`;",
        "cents for EUR and USD, none for JPY): the `*_cents` columns. A line's revenue is its",
        "`amount_cents`; an order's net revenue is the sum of its lines' `amount_cents` less its",
        "`refunded_cents`. `unit_price`, `discount` and `shipping_cost` are informational.",
        "",
        "| level | name | unlocks |",
        "|---|---|---|",
    ]
    for lv in LEVELS.values():
        lines.append(f"| {lv.number} | {lv.name} | {', '.join(lv.unlocks)} |")
    lines += ["", "## Partial datasets", "",
              "A real shop's data may hold only some tables: `orders` always, the others when "
              "the source has them (an order log has no incidents). Each kind of analysis "
              "needs these tables; a notebook section whose tables are absent says so and is "
              "skipped.", "", "| analysis | needs |", "|---|---|"]
    for topic, tables in NEEDS.items():
        lines.append(f"| {topic} | {', '.join(f'`{x}`' for x in tables)} |")
    lines.append("")
    lines.append("## Samples")
    lines.append("")
    lines.append("`data/samples/<profile>/` holds a small dataset for each shop profile, rebuilt")
    lines.append("byte for byte by `crmkit samples data/samples` (a test checks it).")
    for t in SCHEMA.values():
        lines += ["", f"## `{t.name}`", "", f"{t.description} Grain: {t.grain}. "
                  f"Key: `{', '.join(t.key)}`.", "",
                  "| column | type | null | level | rule | meaning |",
                  "|---|---|---|---|---|---|"]
        for c in t.columns:
            rule = []
            if c.allowed:
                rule.append("one of " + ", ".join(f"`{a}`" for a in c.allowed))
            if c.references:
                rule.append(f"-> `{c.references}`")
            if c.minimum is not None:
                rule.append(f">= {c.minimum:g}")
            lines.append(
                f"| `{c.name}` | {c.dtype} | {'yes' if c.nullable else 'no'} | "
                f"{c.level or ''} | {'; '.join(rule)} | {c.description} |"
            )
    return "\n".join(lines) + "\n"
