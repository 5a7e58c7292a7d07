"""The SQL of the warehouse, kept in one place as module constants.

The model SQL sticks to a portable subset: no sequences (surrogate keys are
``md5`` hashes of natural keys), ``grouping_id(...)`` for cube levels, window
functions for history. Values that vary are named parameters (``$batch``, ``$lo``, ``$hi``,
``$anchor``, ``$money_unit``) bound by :mod:`crmkit.warehouse.build`; no value
is ever pasted into a statement. :mod:`crmkit.warehouse.dialect` translates a
statement for another engine.

>>> "CREATE SEQUENCE" in " ".join(v for k, v in globals().items() if k.isupper()
...                               and isinstance(v, str)) + " ".join(MARTS.values())
False
>>> list(MARTS)[-2:]
['marts.v_sales', 'marts.v_sales_snowflake']
"""

from __future__ import annotations

from .dialect import statements, target

__all__ = [
    "SCHEMAS",
    "META_DDL",
    "STAGING_DDL",
    "STAGING",
    "STAGING_KEYS",
    "STAGING_VIEWS",
    "STAGING_UPGRADE",
    "MARTS",
    "UNKNOWN",
    "MAX_QUANTITY",
    "MAX_AMOUNT",
    "ident",
    "literal",
]



def ident(name: object) -> str:
    """A SQL identifier, always quoted, with its quotes doubled: safe for any name.

    >>> print(ident('Ciudad "Real" 1'))
    "Ciudad ""Real"" 1"
    """
    return '"' + str(name).replace('"', '""') + '"'


def literal(value: object) -> str:
    """A SQL text literal with its quotes doubled (for DDL, where parameters cannot go).

    >>> literal("O'Brien")
    "'O''Brien'"
    """
    return "'" + str(value).replace("'", "''") + "'"


SCHEMAS = ("raw", "staging", "quarantine", "meta", "marts")

#: Label of the "unknown / guest" member each dimension carries.
UNKNOWN = "(unknown)"

META_DDL = """
CREATE TABLE IF NOT EXISTS meta.batches (
    batch_id VARCHAR, seq INTEGER, extracted_at DATE, loaded_at TIMESTAMP,
    source VARCHAR);
CREATE TABLE IF NOT EXISTS meta.files (
    batch_id VARCHAR, file VARCHAR, sha256 VARCHAR, lines_in_file BIGINT);
CREATE TABLE IF NOT EXISTS meta.load_report (
    batch_id VARCHAR, file VARCHAR, system VARCHAR, rows_read BIGINT, rows_loaded BIGINT,
    rows_quarantined BIGINT, lines_in_file BIGINT, balanced BOOLEAN, rows_inferred BIGINT);
CREATE TABLE IF NOT EXISTS quarantine.rows (
    batch_id VARCHAR, file VARCHAR, line BIGINT, reason VARCHAR, detail VARCHAR,
    record VARCHAR);
"""

# ------------------------------------------------------------------ staging tables
STAGING_DDL = """
CREATE TABLE IF NOT EXISTS staging.ref_city (city VARCHAR);
CREATE TABLE IF NOT EXISTS staging.customer_rows (
    batch_id VARCHAR, batch_seq INTEGER, file VARCHAR, line BIGINT,
    customer_id BIGINT, card VARCHAR, first_name VARCHAR, last_name VARCHAR,
    address VARCHAR, city VARCHAR, postal_code VARCHAR, country VARCHAR, email VARCHAR,
    phone VARCHAR, birth_date DATE, gender VARCHAR, education VARCHAR,
    acquisition_channel VARCHAR, acquisition_campaign_id BIGINT,
    preferred_payment_method VARCHAR, segment VARCHAR, email_consent BOOLEAN,
    phone_consent BOOLEAN, signup_date DATE, updated DATE);
CREATE TABLE IF NOT EXISTS staging.products (
    batch_id VARCHAR, batch_seq INTEGER, file VARCHAR, line BIGINT,
    product_id BIGINT, sku VARCHAR, name VARCHAR, department VARCHAR, category VARCHAR,
    subcategory VARCHAR, brand VARCHAR, unit_cost DOUBLE, list_price DOUBLE);
CREATE TABLE IF NOT EXISTS staging.pos_articles (
    batch_id VARCHAR, batch_seq INTEGER, file VARCHAR, line BIGINT,
    code VARCHAR, sku VARCHAR, product_id BIGINT, pos_price DOUBLE);
CREATE TABLE IF NOT EXISTS staging.campaigns (
    batch_id VARCHAR, batch_seq INTEGER, file VARCHAR, line BIGINT,
    campaign_id BIGINT, name VARCHAR, channel VARCHAR, goal VARCHAR, target_segment VARCHAR,
    objective VARCHAR, kpi VARCHAR, target_value DOUBLE, start_date DATE, end_date DATE,
    budget DOUBLE, cost_per_contact DOUBLE);
CREATE TABLE IF NOT EXISTS staging.order_lines (
    batch_id VARCHAR, batch_seq INTEGER, file VARCHAR, line BIGINT, source_system VARCHAR,
    order_id BIGINT, line_number BIGINT, product_id BIGINT, quantity BIGINT,
    unit_price DOUBLE, discount DOUBLE, customer_id BIGINT, placed_at TIMESTAMP,
    channel VARCHAR, status VARCHAR, paid_at TIMESTAMP, shipped_at TIMESTAMP,
    delivered_at TIMESTAMP, cancelled_at TIMESTAMP, returned_at TIMESTAMP,
    payment_method VARCHAR, shipping_cost DOUBLE, discount_code VARCHAR, campaign_id BIGINT,
    product_ref VARCHAR, customer_ref VARCHAR, amount_cents BIGINT, shipping_cents BIGINT,
    discount_cents BIGINT, tax_cents BIGINT, refunded_cents BIGINT);
CREATE TABLE IF NOT EXISTS staging.web_sessions (
    batch_id VARCHAR, batch_seq INTEGER, file VARCHAR, line BIGINT,
    session_id BIGINT, visitor_id VARCHAR, customer_id BIGINT, started_at TIMESTAMP,
    traffic_source VARCHAR, device VARCHAR, pages BIGINT, added_to_cart BOOLEAN,
    converted_order_id BIGINT, customer_ref VARCHAR);
CREATE TABLE IF NOT EXISTS staging.campaign_contacts (
    batch_id VARCHAR, batch_seq INTEGER, file VARCHAR, line BIGINT,
    campaign_id BIGINT, customer_id BIGINT, sent_at TIMESTAMP, opened BOOLEAN,
    clicked BOOLEAN, converted_order_id BIGINT, cost DOUBLE, customer_ref VARCHAR);
CREATE TABLE IF NOT EXISTS staging.tickets (
    batch_id VARCHAR, batch_seq INTEGER, file VARCHAR, line BIGINT,
    ticket_id BIGINT, customer_id BIGINT, order_id BIGINT, product_id BIGINT,
    category VARCHAR, channel VARCHAR, priority VARCHAR, opened_at TIMESTAMP,
    status VARCHAR, closed_at TIMESTAMP, product_ref VARCHAR, customer_ref VARCHAR);
"""

#: Columns added since the first warehouses were written (an older file gains them on load).
STAGING_UPGRADE = """
ALTER TABLE meta.load_report ADD COLUMN IF NOT EXISTS rows_inferred BIGINT;
ALTER TABLE staging.order_lines ADD COLUMN IF NOT EXISTS product_ref VARCHAR;
ALTER TABLE staging.order_lines ADD COLUMN IF NOT EXISTS customer_ref VARCHAR;
ALTER TABLE staging.order_lines ADD COLUMN IF NOT EXISTS amount_cents BIGINT;
ALTER TABLE staging.order_lines ADD COLUMN IF NOT EXISTS shipping_cents BIGINT;
ALTER TABLE staging.order_lines ADD COLUMN IF NOT EXISTS discount_cents BIGINT;
ALTER TABLE staging.order_lines ADD COLUMN IF NOT EXISTS tax_cents BIGINT;
ALTER TABLE staging.order_lines ADD COLUMN IF NOT EXISTS refunded_cents BIGINT;
CREATE TABLE IF NOT EXISTS meta.shop (currency VARCHAR);
ALTER TABLE staging.web_sessions ADD COLUMN IF NOT EXISTS customer_ref VARCHAR;
ALTER TABLE staging.campaign_contacts ADD COLUMN IF NOT EXISTS customer_ref VARCHAR;
ALTER TABLE staging.tickets ADD COLUMN IF NOT EXISTS product_ref VARCHAR;
ALTER TABLE staging.tickets ADD COLUMN IF NOT EXISTS customer_ref VARCHAR;
"""

# Reusable expressions (SQL text, substituted into the statements below).
_POS_TS = "try_strptime(trim({x}), '%d/%m/%Y %H:%M:%S')"
# ISO 8601 with an offset -> the shop's wall clock (UTC+1, see crmkit.dataset.extracts)
_WEB_TS = "(CAST(TRY_CAST(trim({x}) AS TIMESTAMPTZ) AS TIMESTAMP) + INTERVAL 1 HOUR)"
_DAY = ("coalesce(try_strptime(trim({x}), '%Y-%m-%d'), "
        "try_strptime(trim({x}), '%d/%m/%Y'))::DATE")
_NUM = "TRY_CAST(replace(trim({x}), ',', '.') AS DOUBLE)"
_INT = "TRY_CAST(trim({x}) AS BIGINT)"
_BOOL = ("CASE WHEN lower(trim({x})) IN ('yes', 'y', 'si', 'sí', '1', 'true') THEN TRUE "
         "WHEN lower(trim({x})) IN ('no', 'n', '0', 'false') THEN FALSE END")
_TITLE = ("CASE WHEN trim({x}) = upper(trim({x})) OR trim({x}) = lower(trim({x})) THEN "
          "list_aggregate(list_transform(string_split(lower(trim({x})), ' '), "
          "lambda w: upper(w[1]) || w[2:]), 'string_agg', ' ') ELSE trim({x}) END")
_ORDER_ID = "TRY_CAST(ltrim(trim({x}), '#') AS BIGINT)"
_TXT = "nullif(trim({x}), '')"


def _f(template: str, x: str) -> str:
    return template.replace("{x}", x)


# money as exact decimals from the text (a decimal comma read as a point), never a float
_DEC = "TRY_CAST(replace(trim({x}), ',', '.') AS DECIMAL(38,6))"


def _half_even(x: str) -> str:
    """SQL rounding ``x`` (an exact decimal) to a whole number, half to even."""
    fl = f"floor({x})"
    return (f"CAST(CASE WHEN ({x}) - {fl} > 0.5 THEN {fl} + 1 WHEN ({x}) - {fl} < 0.5 THEN {fl} "
            f"WHEN {fl} % 2 = 0 THEN {fl} ELSE {fl} + 1 END AS BIGINT)")


def _cents(quantity: str, price: str, discount: str) -> str:
    """Cents of euro a line cost: quantity x price x (1 - discount), exact from the text and
    rounded once, half to even (the rule of :func:`crmkit.dataset.money.derive_line_amounts`);
    empty when a value is unreadable or out of range (the row is quarantined)."""
    q, p, d = _f(_INT, quantity), _f(_DEC, price), _f(_DEC, discount)
    return (f"CASE WHEN {q} BETWEEN 0 AND {MAX_QUANTITY} AND {p} BETWEEN 0 AND {MAX_AMOUNT} "
            f"AND {d} BETWEEN 0 AND 1 THEN {_half_even(f'{q} * {p} * (1 - {d}) * 100')} END")


def _cents_of(value: str) -> str:
    """Cents of euro of one amount, exact from the text (empty when unreadable or huge)."""
    v = _f(_DEC, value)
    return f"CASE WHEN {v} BETWEEN 0 AND {MAX_AMOUNT} THEN {_half_even(f'{v} * 100')} END"


_NO_ORDER_MONEY = ("0 AS discount_cents, NULL::BIGINT AS tax_cents, "
                   "0 AS refunded_cents")


def _dedupe(*key: str) -> str:
    """The last step of a staging model: of the usable rows (``checked``) that share the
    natural ``key``, the first in the file wins and the later ones are ``duplicate_row``.

    The copies are found by counting rows per key (a hash aggregate) and joined back, rather
    than by numbering every row in a window sorted by key: the same answer, without sorting
    the whole batch. Keys compare as equal when both are empty (``IS NOT DISTINCT FROM``).

    >>> print(_dedupe("order_id", "line_number").splitlines()[2].strip())
    SELECT order_id, line_number, min(line) AS first_line FROM checked
    """
    cols = ", ".join(key)
    on = " AND ".join(f"d.{k} IS NOT DISTINCT FROM c.{k}" for k in key)
    return f"""
, copies AS (
    SELECT {cols}, min(line) AS first_line FROM checked
    WHERE _reason IS NULL GROUP BY {cols} HAVING count(*) > 1)
SELECT c.*, CASE WHEN c._reason IS NULL AND c.line > d.first_line THEN 'duplicate_row'
        ELSE c._reason END AS _final_reason, NULL AS _detail
FROM checked c LEFT JOIN copies d ON {on}"""


#: The largest quantity one order line may carry, and the largest price or amount.
MAX_QUANTITY = 10_000
MAX_AMOUNT = 1_000_000


def _non_finite(*cols: str) -> str:
    """SQL true when any of ``cols`` is NaN or infinite (NULLs are checked elsewhere)."""
    return " OR ".join(f"NOT isfinite({c})" for c in cols)


def _outside(*cols: str) -> str:
    """SQL true when any of ``cols`` (dates or timestamps) falls outside the batch's window.

    ``$lo`` and ``$hi`` are named parameters (dates) bound by :mod:`crmkit.warehouse.build`.
    """
    return " OR ".join(f"({c} < $lo OR {c} >= $hi + INTERVAL 1 DAY)" for c in cols)


# identity: every e-mail (type 1 history keeps the old ones too) and loyalty card
_IDENTITY = """
ident AS (
    SELECT kind, value, min(customer_id) AS customer_id FROM (
        SELECT 'email' AS kind, lower(trim(email)) AS value, customer_id
        FROM staging.customer_rows WHERE email IS NOT NULL
        UNION ALL
        SELECT 'card', trim(card), customer_id FROM staging.customer_rows WHERE card IS NOT NULL
    ) GROUP BY kind, value)"""

_WHO = """
    LEFT JOIN ident ie ON ie.kind = 'email' AND ie.value = lower(trim(r.customer_email))
    LEFT JOIN ident ic ON ic.kind = 'card' AND ic.value = trim(r.loyalty_card)"""
_WHO_ID = "coalesce(ie.customer_id, ic.customer_id)"
_WHO_GIVEN = "(nullif(trim(r.customer_email), '') IS NOT NULL OR " \
             "nullif(trim(r.loyalty_card), '') IS NOT NULL)"
# who a row names when no customer row matches it: the inferred member's natural key
_WHO_REF = ("CASE WHEN coalesce(ie.customer_id, ic.customer_id) IS NULL THEN coalesce("
            "'email:' || lower(nullif(trim(r.customer_email), '')), "
            "'card:' || nullif(trim(r.loyalty_card), '')) END")

_PRODUCTS_NOW = """
prod AS (
    SELECT product_id, sku, unit_cost FROM staging.products
    QUALIFY row_number() OVER (PARTITION BY sku ORDER BY batch_seq DESC, line DESC) = 1)"""

#: One SELECT per source file: typed columns, plus ``_reason`` (NULL when usable)
#: and ``_detail``. Placeholder: {batch} (the batch id).
STAGING: dict[str, str] = {}

STAGING["legacy_customers.csv"] = f"""
WITH typed AS (
    SELECT r._line AS line, r._file AS file, r.cust_no AS _cust_no,
        {_f(_INT, "r.cust_no")} AS customer_id,
        {_f(_TXT, "r.card")} AS card,
        {_f(_TITLE, "r.name")} AS first_name,
        {_f(_TITLE, "r.surname")} AS last_name,
        {_f(_TXT, "r.address")} AS address,
        coalesce(rc.city, {_f(_TITLE, "r.city")}) AS city,
        CASE WHEN nullif(trim(r.post_code), '') IS NOT NULL THEN
            lpad(replace(replace(trim(r.post_code), 'O', '0'), 'o', '0'), 5, '0') END
            AS postal_code,
        CASE WHEN upper(trim(r.country)) IN ('ES', 'ESP', 'SPAIN', 'ESPAÑA') THEN 'ES'
             ELSE upper({_f(_TXT, "r.country")}) END AS country,
        lower({_f(_TXT, "r.email")}) AS email,
        CASE WHEN r.phone IS NULL THEN NULL
             WHEN length(regexp_replace(r.phone, '[^0-9]', '', 'g')) = 11
                  AND regexp_replace(r.phone, '[^0-9]', '', 'g') LIKE '34%'
             THEN '+34 ' || substr(regexp_replace(r.phone, '[^0-9]', '', 'g'), 3)
             WHEN length(regexp_replace(r.phone, '[^0-9]', '', 'g')) = 9
             THEN '+34 ' || regexp_replace(r.phone, '[^0-9]', '', 'g')
             ELSE trim(r.phone) END AS phone,
        r.birth_date AS _birth, {_f(_DAY, "r.birth_date")} AS birth_date,
        CASE upper(trim(r.gender)) WHEN 'F' THEN 'female' WHEN 'FEMALE' THEN 'female'
             WHEN 'M' THEN 'male' WHEN 'MALE' THEN 'male' WHEN 'O' THEN 'other'
             WHEN 'OTHER' THEN 'other' END AS gender, r.gender AS _gender,
        lower({_f(_TXT, "r.education")}) AS education,
        lower({_f(_TXT, "r.acquired_via")}) AS acquisition_channel,
        {_f(_INT, "r.acq_campaign")} AS acquisition_campaign_id, r.acq_campaign AS _acq,
        lower({_f(_TXT, "r.pays_with")}) AS preferred_payment_method,
        lower({_f(_TXT, "r.segment")}) AS segment,
        coalesce({_f(_BOOL, "r.consent_email")}, FALSE) AS email_consent,
        r.consent_email AS _ce, r.consent_phone AS _cp,
        coalesce({_f(_BOOL, "r.consent_phone")}, FALSE) AS phone_consent,
        r.signed_up AS _signup, {_f(_DAY, "r.signed_up")} AS signup_date,
        r.updated AS _updated, {_f(_DAY, "r.updated")} AS _updated_day
    FROM raw.legacy_customers r
    LEFT JOIN staging.ref_city rc ON lower(rc.city) = lower(trim(r.city))
    WHERE r._batch_id = $batch
), checked AS (
    SELECT *, CASE
        WHEN customer_id IS NULL THEN 'missing_customer_id'
        WHEN signup_date IS NULL AND _signup IS NOT NULL THEN 'unparseable_date'
        WHEN birth_date IS NULL AND _birth IS NOT NULL THEN 'unparseable_date'
        WHEN _updated IS NOT NULL AND _updated_day IS NULL THEN 'unparseable_date'
        WHEN {_outside("signup_date", "_updated_day")}
          OR birth_date < DATE '1900-01-01' OR birth_date > $anchor THEN 'implausible_date'
        WHEN segment NOT IN ('premium', 'standard', 'budget') THEN 'invalid_value'
        WHEN gender IS NULL AND _gender IS NOT NULL THEN 'invalid_value'
        WHEN education NOT IN ('primary', 'secondary', 'vocational', 'university')
            THEN 'invalid_value'
        WHEN acquisition_campaign_id IS NULL AND _acq IS NOT NULL THEN 'invalid_number'
        WHEN ({_f(_BOOL, "_ce")}) IS NULL AND _ce IS NOT NULL THEN 'invalid_value'
        WHEN ({_f(_BOOL, "_cp")}) IS NULL AND _cp IS NOT NULL THEN 'invalid_value'
        END AS _reason
    FROM typed
)
SELECT *, coalesce(_updated_day, signup_date) AS updated,
    CASE WHEN _reason IS NULL AND row_number() OVER (
            PARTITION BY customer_id, _reason IS NULL
            ORDER BY coalesce(_updated_day, signup_date) DESC, line DESC) > 1
         THEN 'duplicate_customer' ELSE _reason END AS _final_reason,
    CASE WHEN _reason IS NULL AND row_number() OVER (
            PARTITION BY customer_id, _reason IS NULL
            ORDER BY coalesce(_updated_day, signup_date) DESC, line DESC) > 1
         THEN 'an older copy of customer ' || customer_id || ' (the newest row wins)'
         END AS _detail
FROM checked
"""

STAGING["web_products.csv"] = f"""
WITH typed AS (
    SELECT r._line AS line, r._file AS file,
        {_f(_INT, "r.product_id")} AS product_id, {_f(_TXT, "r.sku")} AS sku,
        {_f(_TXT, "r.name")} AS name, {_f(_TXT, "r.department")} AS department,
        {_f(_TXT, "r.category")} AS category, {_f(_TXT, "r.subcategory")} AS subcategory,
        {_f(_TXT, "r.brand")} AS brand,
        {_f(_NUM, "r.unit_cost")} AS unit_cost, {_f(_NUM, "r.list_price")} AS list_price,
        nullif(trim(r.unit_cost), '') AS _cost, nullif(trim(r.list_price), '') AS _price
    FROM raw.web_products r WHERE r._batch_id = $batch
), checked AS (
    SELECT *, CASE
        WHEN product_id IS NULL OR sku IS NULL OR name IS NULL THEN 'missing_value'
        WHEN (unit_cost IS NULL AND _cost IS NOT NULL)
          OR (list_price IS NULL AND _price IS NOT NULL) THEN 'invalid_number'
        WHEN {_non_finite("unit_cost", "list_price")} THEN 'non_finite_number'
        WHEN unit_cost < 0 OR list_price < 0 THEN 'negative_price'
        WHEN unit_cost > {MAX_AMOUNT} OR list_price > {MAX_AMOUNT} THEN 'out_of_range'
        END AS _reason FROM typed
){_dedupe("sku")}
"""

STAGING["pos_articles.csv"] = f"""
WITH {_PRODUCTS_NOW.strip()},
typed AS (
    SELECT r._line AS line, r._file AS file, {_f(_TXT, "r.codigo")} AS code,
        {_f(_TXT, "r.sku")} AS sku, p.product_id, {_f(_NUM, "r.pvp")} AS pos_price, r.pvp AS _pvp
    FROM raw.pos_articles r LEFT JOIN prod p ON p.sku = trim(r.sku)
    WHERE r._batch_id = $batch
), checked AS (
    SELECT *, CASE
        WHEN code IS NULL OR sku IS NULL THEN 'missing_value'
        WHEN pos_price IS NULL AND _pvp IS NOT NULL THEN 'invalid_number'
        WHEN {_non_finite("pos_price")} THEN 'non_finite_number'
        WHEN pos_price < 0 THEN 'negative_price'
        WHEN pos_price > {MAX_AMOUNT} THEN 'out_of_range' END AS _reason FROM typed
){_dedupe("code")}
"""

STAGING["web_campaigns.csv"] = f"""
WITH typed AS (
    SELECT r._line AS line, r._file AS file,
        {_f(_INT, "r.campaign_id")} AS campaign_id, {_f(_TXT, "r.name")} AS name,
        lower({_f(_TXT, "r.channel")}) AS channel, lower({_f(_TXT, "r.goal")}) AS goal,
        lower({_f(_TXT, "r.target_segment")}) AS target_segment,
        {_f(_TXT, "r.objective")} AS objective, lower({_f(_TXT, "r.kpi")}) AS kpi,
        {_f(_NUM, "r.target_value")} AS target_value,
        {_f(_DAY, "r.start_date")} AS start_date, {_f(_DAY, "r.end_date")} AS end_date,
        {_f(_NUM, "r.budget")} AS budget, {_f(_NUM, "r.cost_per_contact")} AS cost_per_contact
    FROM raw.web_campaigns r WHERE r._batch_id = $batch
), checked AS (
    SELECT *, CASE
        WHEN campaign_id IS NULL OR name IS NULL THEN 'missing_value'
        WHEN start_date IS NULL OR end_date IS NULL THEN 'unparseable_date'
        WHEN budget IS NULL OR cost_per_contact IS NULL THEN 'invalid_number'
        WHEN {_non_finite("budget", "cost_per_contact", "target_value")}
            THEN 'non_finite_number'
        WHEN budget < 0 OR cost_per_contact < 0 THEN 'negative_price'
        WHEN budget > {MAX_AMOUNT} * 100 OR cost_per_contact > {MAX_AMOUNT} THEN 'out_of_range'
        WHEN {_outside("start_date", "end_date")} THEN 'implausible_date'
        WHEN channel NOT IN ('email', 'sms', 'phone', 'mail', 'social') THEN 'invalid_value'
        END AS _reason FROM typed
){_dedupe("campaign_id")}
"""

_ORDER_CHECKS = f"""
    SELECT *, CASE
        WHEN order_id IS NULL OR line_number IS NULL THEN 'missing_value'
        WHEN placed_at IS NULL
          OR (_paid IS NOT NULL AND paid_at IS NULL)
          OR (_shipped IS NOT NULL AND shipped_at IS NULL)
          OR (_delivered IS NOT NULL AND delivered_at IS NULL)
          OR (_cancelled IS NOT NULL AND cancelled_at IS NULL)
          OR (_returned IS NOT NULL AND returned_at IS NULL) THEN 'unparseable_date'
        WHEN quantity IS NULL OR unit_price IS NULL OR discount IS NULL
          OR (shipping_cost IS NULL AND _ship IS NOT NULL)
          OR (campaign_id IS NULL AND _campaign IS NOT NULL)
          THEN 'invalid_number'
        WHEN {_non_finite("unit_price", "discount", "shipping_cost")} THEN 'non_finite_number'
        WHEN unit_price < 0 OR shipping_cost < 0 OR discount < 0 THEN 'negative_price'
        WHEN quantity < 1 THEN 'invalid_quantity'
        WHEN quantity > {MAX_QUANTITY} OR unit_price > {MAX_AMOUNT}
          OR shipping_cost > {MAX_AMOUNT} OR discount > 1 THEN 'out_of_range'
        WHEN {_outside("placed_at", "paid_at", "shipped_at", "delivered_at", "cancelled_at",
                       "returned_at")} THEN 'implausible_date'
        WHEN status IS NULL OR (payment_method IS NULL AND _pay IS NOT NULL)
          OR channel NOT IN ('store', 'web', 'phone') THEN 'invalid_value'
        END AS _reason FROM typed"""

_ORDER_DEDUPE = _dedupe("order_id", "line_number")

STAGING["pos_sales.csv"] = f"""
WITH {_IDENTITY.strip()},
{_PRODUCTS_NOW.strip()},
arts AS (
    SELECT code, product_id FROM staging.pos_articles
    QUALIFY row_number() OVER (PARTITION BY code ORDER BY batch_seq DESC, line DESC) = 1),
typed AS (
    SELECT r._line AS line, r._file AS file, 'pos' AS source_system,
        {_f(_INT, "r.ticket")} AS order_id, {_f(_INT, "r.linea")} AS line_number,
        a.product_id, {_f(_INT, "r.unidades")} AS quantity,
        {_f(_NUM, "r.precio")} AS unit_price, {_f(_NUM, "r.dto")} AS discount,
        ic.customer_id, nullif(trim(r.tarjeta), '') IS NOT NULL AS _who_given,
        CASE WHEN a.product_id IS NULL THEN 'till:' || nullif(trim(r.articulo), '') END
            AS product_ref,
        CASE WHEN ic.customer_id IS NULL THEN 'card:' || nullif(trim(r.tarjeta), '') END
            AS customer_ref,
        {_f(_POS_TS, "r.fecha || ' ' || r.hora")} AS placed_at, 'store' AS channel,
        CASE upper(trim(r.estado)) WHEN 'PENDIENTE' THEN 'placed' WHEN 'PAGADO' THEN 'paid'
            WHEN 'ENVIADO' THEN 'shipped' WHEN 'ENTREGADO' THEN 'delivered'
            WHEN 'ANULADO' THEN 'cancelled' WHEN 'DEVUELTO' THEN 'returned' END AS status,
        {_f(_POS_TS, "r.fecha_pago")} AS paid_at, r.fecha_pago AS _paid,
        {_f(_POS_TS, "r.fecha_envio")} AS shipped_at, r.fecha_envio AS _shipped,
        {_f(_POS_TS, "r.fecha_entrega")} AS delivered_at, r.fecha_entrega AS _delivered,
        {_f(_POS_TS, "r.fecha_anulacion")} AS cancelled_at, r.fecha_anulacion AS _cancelled,
        {_f(_POS_TS, "r.fecha_devolucion")} AS returned_at, r.fecha_devolucion AS _returned,
        CASE upper(trim(r.forma_pago)) WHEN 'TARJETA' THEN 'card' WHEN 'EFECTIVO' THEN 'cash'
            WHEN 'PAYPAL' THEN 'paypal' WHEN 'TRANSFERENCIA' THEN 'transfer'
            WHEN 'CONTRAREEMBOLSO' THEN 'cash_on_delivery' END AS payment_method,
        {_f(_NUM, "r.portes")} AS shipping_cost, {_f(_TXT, "r.cupon")} AS discount_code,
        {_cents("r.unidades", "r.precio", "r.dto")} AS amount_cents,
        {_cents_of("r.portes")} AS shipping_cents, {_NO_ORDER_MONEY},
        nullif(trim(r.portes), '') AS _ship, nullif(trim(r.articulo), '') AS _product,
        nullif(trim(r.forma_pago), '') AS _pay,
        {_f(_INT, "r.campana")} AS campaign_id, r.campana AS _campaign
    FROM raw.pos_sales r
    LEFT JOIN arts a ON a.code = trim(r.articulo)
    LEFT JOIN ident ic ON ic.kind = 'card' AND ic.value = trim(r.tarjeta)
    WHERE r._batch_id = $batch
), checked AS ({_ORDER_CHECKS}
){_ORDER_DEDUPE}
"""

STAGING["web_orders.csv"] = f"""
WITH {_IDENTITY.strip()},
{_PRODUCTS_NOW.strip()},
typed AS (
    SELECT r._line AS line, r._file AS file, 'web' AS source_system,
        {_f(_ORDER_ID, "r.order_number")} AS order_id, {_f(_INT, "r.line")} AS line_number,
        p.product_id, {_f(_INT, "r.quantity")} AS quantity,
        {_f(_NUM, "r.unit_price")} AS unit_price, {_f(_NUM, "r.discount")} AS discount,
        {_WHO_ID} AS customer_id, {_WHO_GIVEN} AS _who_given, {_WHO_REF} AS customer_ref,
        CASE WHEN p.product_id IS NULL THEN 'sku:' || nullif(trim(r.sku), '') END
            AS product_ref,
        {_f(_WEB_TS, "r.created_at")} AS placed_at, lower(trim(r.channel)) AS channel,
        CASE WHEN lower(trim(r.status)) IN ('placed', 'paid', 'shipped', 'delivered',
            'cancelled', 'returned') THEN lower(trim(r.status)) END AS status,
        {_f(_WEB_TS, "r.paid_at")} AS paid_at, r.paid_at AS _paid,
        {_f(_WEB_TS, "r.shipped_at")} AS shipped_at, r.shipped_at AS _shipped,
        {_f(_WEB_TS, "r.delivered_at")} AS delivered_at, r.delivered_at AS _delivered,
        {_f(_WEB_TS, "r.cancelled_at")} AS cancelled_at, r.cancelled_at AS _cancelled,
        {_f(_WEB_TS, "r.returned_at")} AS returned_at, r.returned_at AS _returned,
        CASE WHEN lower(trim(r.payment_method)) IN ('card', 'cash', 'paypal', 'transfer',
            'cash_on_delivery', 'other') THEN lower(trim(r.payment_method)) END
            AS payment_method,
        {_f(_NUM, "r.shipping_cost")} AS shipping_cost,
        {_cents("r.quantity", "r.unit_price", "r.discount")} AS amount_cents,
        {_cents_of("r.shipping_cost")} AS shipping_cents, {_NO_ORDER_MONEY},
        nullif(trim(r.shipping_cost), '') AS _ship, nullif(trim(r.sku), '') AS _product,
        nullif(trim(r.payment_method), '') AS _pay,
        {_f(_TXT, "r.discount_code")} AS discount_code,
        {_f(_INT, "r.campaign_id")} AS campaign_id, r.campaign_id AS _campaign
    FROM raw.web_orders r
    LEFT JOIN prod p ON p.sku = trim(r.sku){_WHO}
    WHERE r._batch_id = $batch
), checked AS ({_ORDER_CHECKS}
){_ORDER_DEDUPE}
"""

STAGING["web_sessions.csv"] = f"""
WITH {_IDENTITY.strip()},
typed AS (
    SELECT r._line AS line, r._file AS file,
        {_f(_INT, "r.session_id")} AS session_id, {_f(_TXT, "r.visitor_id")} AS visitor_id,
        {_WHO_ID} AS customer_id, {_WHO_GIVEN} AS _who_given, {_WHO_REF} AS customer_ref,
        {_f(_WEB_TS, "r.started_at")} AS started_at,
        lower({_f(_TXT, "r.traffic_source")}) AS traffic_source,
        lower({_f(_TXT, "r.device")}) AS device, {_f(_INT, "r.pages")} AS pages,
        {_f(_BOOL, "r.added_to_cart")} AS added_to_cart,
        {_f(_ORDER_ID, "r.converted_order")} AS converted_order_id, r.converted_order AS _conv
    FROM raw.web_sessions r{_WHO}
    WHERE r._batch_id = $batch
), checked AS (
    SELECT *, CASE
        WHEN session_id IS NULL OR visitor_id IS NULL THEN 'missing_value'
        WHEN started_at IS NULL THEN 'unparseable_date'
        WHEN {_outside("started_at")} THEN 'implausible_date'
        WHEN pages IS NULL OR (converted_order_id IS NULL AND _conv IS NOT NULL)
            THEN 'invalid_number'
        WHEN added_to_cart IS NULL THEN 'invalid_value'
        END AS _reason FROM typed
){_dedupe("session_id")}
"""

STAGING["web_campaign_contacts.csv"] = f"""
WITH {_IDENTITY.strip()},
typed AS (
    SELECT r._line AS line, r._file AS file,
        {_f(_INT, "r.campaign_id")} AS campaign_id,
        {_WHO_ID} AS customer_id, {_WHO_GIVEN} AS _who_given, {_WHO_REF} AS customer_ref,
        {_f(_WEB_TS, "r.sent_at")} AS sent_at,
        {_f(_BOOL, "r.opened")} AS opened, {_f(_BOOL, "r.clicked")} AS clicked,
        {_f(_ORDER_ID, "r.converted_order")} AS converted_order_id, r.converted_order AS _conv,
        {_f(_NUM, "r.cost")} AS cost
    FROM raw.web_campaign_contacts r{_WHO}
    WHERE r._batch_id = $batch
), checked AS (
    SELECT *, CASE
        WHEN campaign_id IS NULL THEN 'missing_value'
        WHEN customer_id IS NULL AND customer_ref IS NULL THEN 'missing_value'
        WHEN sent_at IS NULL THEN 'unparseable_date'
        WHEN cost IS NULL OR (converted_order_id IS NULL AND _conv IS NOT NULL)
            THEN 'invalid_number'
        WHEN {_non_finite("cost")} THEN 'non_finite_number'
        WHEN cost < 0 THEN 'negative_price'
        WHEN cost > {MAX_AMOUNT} THEN 'out_of_range'
        WHEN {_outside("sent_at")} THEN 'implausible_date'
        WHEN opened IS NULL OR clicked IS NULL THEN 'invalid_value'
        END AS _reason FROM typed
){_dedupe("campaign_id", "customer_id", "customer_ref")}
"""

STAGING["web_tickets.csv"] = f"""
WITH {_IDENTITY.strip()},
{_PRODUCTS_NOW.strip()},
typed AS (
    SELECT r._line AS line, r._file AS file,
        {_f(_INT, "r.ticket_id")} AS ticket_id,
        {_WHO_ID} AS customer_id, {_WHO_GIVEN} AS _who_given, {_WHO_REF} AS customer_ref,
        {_f(_ORDER_ID, "r.order_number")} AS order_id, r.order_number AS _order,
        p.product_id, {_f(_TXT, "r.sku")} AS _sku,
        CASE WHEN p.product_id IS NULL THEN 'sku:' || nullif(trim(r.sku), '') END
            AS product_ref,
        lower({_f(_TXT, "r.category")}) AS category, lower({_f(_TXT, "r.channel")}) AS channel,
        lower({_f(_TXT, "r.priority")}) AS priority,
        {_f(_WEB_TS, "r.opened_at")} AS opened_at, lower({_f(_TXT, "r.status")}) AS status,
        {_f(_WEB_TS, "r.closed_at")} AS closed_at, r.closed_at AS _closed
    FROM raw.web_tickets r
    LEFT JOIN prod p ON p.sku = trim(r.sku){_WHO}
    WHERE r._batch_id = $batch
), checked AS (
    SELECT *, CASE
        WHEN ticket_id IS NULL THEN 'missing_value'
        WHEN opened_at IS NULL OR (_closed IS NOT NULL AND closed_at IS NULL)
            THEN 'unparseable_date'
        WHEN {_outside("opened_at", "closed_at")} THEN 'implausible_date'
        WHEN order_id IS NULL AND _order IS NOT NULL THEN 'invalid_number'
        WHEN status NOT IN ('registered', 'technical_report', 'report_validated',
            'response_issued', 'closed') OR status IS NULL THEN 'invalid_value'
        END AS _reason FROM typed
){_dedupe("ticket_id")}
"""

#: Staging table each source file feeds.
STAGING_TABLE = {
    "legacy_customers.csv": "customer_rows", "web_products.csv": "products",
    "pos_articles.csv": "pos_articles", "web_campaigns.csv": "campaigns",
    "pos_sales.csv": "order_lines", "web_orders.csv": "order_lines",
    "web_sessions.csv": "web_sessions", "web_campaign_contacts.csv": "campaign_contacts",
    "web_tickets.csv": "tickets",
}

#: Natural key of each staging table: the newest batch wins in the *_current views.
STAGING_KEYS = {
    "customer_rows": ("customer_id",), "products": ("product_id",),
    "pos_articles": ("code",), "campaigns": ("campaign_id",),
    "order_lines": ("order_id", "line_number"), "web_sessions": ("session_id",),
    "campaign_contacts": ("campaign_id", "customer_id", "customer_ref"),
    "tickets": ("ticket_id",),
}

# the newest version of each key (latest batch, then latest line, then file name: a total
# order, so every engine and thread count picks the same row): a key held once passes as it
# is; only the keys held more than once (found by a hash aggregate) are numbered by a
# window, not the whole table
_CURRENT = """
CREATE OR REPLACE VIEW staging.{name}_current AS
WITH versioned AS (
    SELECT {key} FROM staging.{table} GROUP BY {key} HAVING count(*) > 1)
SELECT * EXCLUDE (batch_id, batch_seq, file, line) FROM staging.{table} s
WHERE NOT EXISTS (SELECT 1 FROM versioned v WHERE {same})
UNION ALL
SELECT * EXCLUDE (batch_id, batch_seq, file, line) FROM staging.{table} s
WHERE EXISTS (SELECT 1 FROM versioned v WHERE {same})
QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY batch_seq DESC, line DESC, file DESC)
    = 1;
"""


def _current(table: str, key: tuple[str, ...]) -> str:
    """The view of ``table``'s newest row of each natural ``key`` (keys compare as equal
    when both are empty, as in a window's partitions)."""
    return _CURRENT.format(name="customers" if table == "customer_rows" else table,
                           table=table, key=", ".join(key),
                           same=" AND ".join(f"v.{k} IS NOT DISTINCT FROM s.{k}" for k in key))


#: Views with the latest version of every row (the integrated, cleansed sources). An order
#: is what its newest staged line says (a later batch may re-send only the line that was
#: returned, or moved to another customer); the newest line is always a current one. Its
#: customer is the one the marts link it to: who the line names (e-mail, card) is matched
#: against every customer row loaded so far (``staging.customer_ident``), so a customer
#: whose row arrives in a later batch owns their earlier orders.
STAGING_VIEWS = "\n".join(_current(t, k) for t, k in STAGING_KEYS.items()) + """
CREATE OR REPLACE VIEW staging.customer_ident AS
SELECT kind || ':' || value AS ref, min(customer_id) AS customer_id FROM (
    SELECT 'email' AS kind, lower(trim(email)) AS value, customer_id
    FROM staging.customer_rows WHERE email IS NOT NULL
    UNION ALL
    SELECT 'card', trim(card), customer_id FROM staging.customer_rows WHERE card IS NOT NULL
) GROUP BY kind, value;

CREATE OR REPLACE VIEW staging.orders_current AS
SELECT o.order_id, coalesce(o.customer_id, ci.customer_id) AS customer_id, o.placed_at,
    o.channel, o.status, o.paid_at, o.shipped_at, o.delivered_at, o.cancelled_at,
    o.returned_at, o.payment_method, o.shipping_cost, o.discount_code, o.shipping_cents,
    o.discount_cents, o.tax_cents, o.refunded_cents, o.campaign_id
FROM (SELECT * FROM staging.order_lines
      QUALIFY row_number() OVER (PARTITION BY order_id
                                 ORDER BY batch_seq DESC, line DESC, file DESC) = 1) o
LEFT JOIN staging.customer_ident ci ON ci.ref = o.customer_ref;
"""

# ------------------------------------------------------------------ marts
_UNK = "md5('{dim}|unknown')"

_RESOLVE = """
CREATE OR REPLACE TEMP TABLE _ident AS SELECT * FROM staging.customer_ident;

CREATE OR REPLACE TEMP TABLE _prod_ref AS
SELECT 'sku:' || sku AS ref, min(product_id) AS product_id FROM staging.products_current
GROUP BY sku
UNION ALL
SELECT 'till:' || a.code, coalesce(a.product_id, p.product_id)
FROM staging.pos_articles_current a
LEFT JOIN (SELECT sku, min(product_id) AS product_id FROM staging.products_current
           GROUP BY sku) p ON p.sku = a.sku
WHERE coalesce(a.product_id, p.product_id) IS NOT NULL;

-- a till code whose article is known but whose product is not: the product's SKU names it
CREATE OR REPLACE TEMP TABLE _till_sku AS
SELECT 'till:' || code AS ref, 'sku:' || sku AS sku_ref FROM staging.pos_articles_current;

CREATE OR REPLACE TEMP TABLE _lines AS
SELECT l.* EXCLUDE (product_id, customer_id, product_ref, customer_ref),
    coalesce(l.product_id, pr.product_id) AS product_id,
    coalesce(l.customer_id, ci.customer_id) AS customer_id,
    CASE WHEN pr.product_id IS NULL THEN coalesce(ts.sku_ref, l.product_ref) END
        AS product_ref,
    CASE WHEN ci.customer_id IS NULL THEN l.customer_ref END AS customer_ref
FROM staging.order_lines_current l
LEFT JOIN _prod_ref pr ON pr.ref = l.product_ref
LEFT JOIN _till_sku ts ON ts.ref = l.product_ref
LEFT JOIN _ident ci ON ci.ref = l.customer_ref;

CREATE OR REPLACE TEMP TABLE _sessions AS
SELECT s.* EXCLUDE (customer_id, customer_ref),
    coalesce(s.customer_id, ci.customer_id) AS customer_id,
    CASE WHEN ci.customer_id IS NULL THEN s.customer_ref END AS customer_ref
FROM staging.web_sessions_current s LEFT JOIN _ident ci ON ci.ref = s.customer_ref;

CREATE OR REPLACE TEMP TABLE _contacts AS
SELECT c.* EXCLUDE (customer_id, customer_ref),
    coalesce(c.customer_id, ci.customer_id) AS customer_id,
    CASE WHEN ci.customer_id IS NULL THEN c.customer_ref END AS customer_ref
FROM staging.campaign_contacts_current c LEFT JOIN _ident ci ON ci.ref = c.customer_ref;

CREATE OR REPLACE TEMP TABLE _tickets AS
SELECT t.* EXCLUDE (product_id, customer_id, product_ref, customer_ref),
    coalesce(t.product_id, pr.product_id) AS product_id,
    coalesce(t.customer_id, ci.customer_id) AS customer_id,
    CASE WHEN pr.product_id IS NULL THEN t.product_ref END AS product_ref,
    CASE WHEN ci.customer_id IS NULL THEN t.customer_ref END AS customer_ref
FROM staging.tickets_current t
LEFT JOIN _prod_ref pr ON pr.ref = t.product_ref
LEFT JOIN _ident ci ON ci.ref = t.customer_ref;

CREATE OR REPLACE TEMP TABLE _inferred_customers AS
SELECT DISTINCT coalesce('id:' || CAST(customer_id AS VARCHAR), customer_ref) AS nk,
    customer_id, customer_ref
FROM (SELECT customer_id, customer_ref FROM _lines
      UNION ALL SELECT customer_id, customer_ref FROM _sessions
      UNION ALL SELECT customer_id, customer_ref FROM _contacts
      UNION ALL SELECT customer_id, customer_ref FROM _tickets) x
WHERE (x.customer_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM staging.customer_rows c WHERE c.customer_id = x.customer_id))
   OR (x.customer_id IS NULL AND x.customer_ref IS NOT NULL);

CREATE OR REPLACE TEMP TABLE _inferred_products AS
SELECT DISTINCT coalesce('id:' || CAST(product_id AS VARCHAR), product_ref) AS nk,
    product_id, product_ref
FROM (SELECT product_id, product_ref FROM _lines
      UNION ALL SELECT product_id, product_ref FROM _tickets) x
WHERE (x.product_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM staging.products_current p WHERE p.product_id = x.product_id))
   OR (x.product_id IS NULL AND x.product_ref IS NOT NULL);
"""

# the natural key a fact row names a customer or product by: its id, else the reference
# (e-mail, card, SKU, till code) no dimension row matched
_CUST_NK = "coalesce('id:' || CAST({t}.customer_id AS VARCHAR), {t}.customer_ref)"
_PROD_NK = "coalesce('id:' || CAST({t}.product_id AS VARCHAR), {t}.product_ref)"
_INFERRED_NAME = ("'unknown product ' || coalesce(CAST(product_id AS VARCHAR), "
                  "substr(product_ref, strpos(product_ref, ':') + 1))")
_DEPT = f"coalesce(department, '{UNKNOWN}')"
_CAT = f"coalesce(category, '{UNKNOWN}')"



def _by_target(script: str) -> dict[str, str]:
    """Each statement of ``script`` under the name of the table or view it creates."""
    out: dict[str, str] = {}
    for sql in statements(script):
        name = target(sql)
        if name is None or name in out:
            raise ValueError("every model statement creates one table or view, each once")
        out[name] = sql
    return out


#: Every mart, and the temporary tables they are built from, in build order: one
#: statement each (name -> statement). Parameter: ``$money_unit`` (see build.money_unit).
MARTS: dict[str, str] = _by_target(_RESOLVE + f"""
CREATE OR REPLACE TABLE marts.dim_date AS
WITH bounds AS (
    SELECT min(d) AS lo, max(d) AS hi FROM (
        SELECT CAST(placed_at AS DATE) AS d FROM _lines
        UNION ALL SELECT CAST(started_at AS DATE) FROM _sessions
        UNION ALL SELECT CAST(sent_at AS DATE) FROM staging.campaign_contacts_current
        UNION ALL SELECT CAST(opened_at AS DATE) FROM staging.tickets_current
        UNION ALL SELECT CAST(closed_at AS DATE) FROM staging.tickets_current
        UNION ALL SELECT start_date FROM staging.campaigns_current
        UNION ALL SELECT end_date FROM staging.campaigns_current
        UNION ALL SELECT signup_date FROM staging.customers_current
        UNION ALL SELECT updated FROM staging.customer_rows)),
series AS (
    SELECT unnest(generate_series(CAST(date_trunc('year', lo) AS DATE),
        CAST(date_trunc('year', hi) AS DATE) + INTERVAL 1 YEAR - INTERVAL 1 DAY,
        INTERVAL 1 DAY)) AS d FROM bounds WHERE lo IS NOT NULL),
days AS (SELECT CAST(d AS DATE) AS d FROM series)
SELECT year(d) * 10000 + month(d) * 100 + day(d) AS date_key, d AS date,
    year(d) AS year, quarter(d) AS quarter, month(d) AS month,
    strftime(d, '%Y-%m') AS year_month, strftime(d, '%B') AS month_name,
    isodow(d) AS day_of_week, strftime(d, '%A') AS day_name, isodow(d) >= 6 AS is_weekend
FROM days
UNION ALL
SELECT -1, NULL, NULL, NULL, NULL, '{UNKNOWN}', '{UNKNOWN}', NULL, '{UNKNOWN}', NULL;

CREATE OR REPLACE TABLE marts.dim_customer AS
WITH rows AS (
    SELECT *, md5(concat_ws('|', coalesce(address, ''), coalesce(city, ''),
        coalesce(postal_code, ''), coalesce(country, ''), segment)) AS t2_hash
    FROM staging.customer_rows),
ordered AS (
    SELECT *, lag(t2_hash) OVER (PARTITION BY customer_id
        ORDER BY batch_seq, updated, line) AS prev_hash FROM rows),
changes AS (SELECT * FROM ordered WHERE prev_hash IS NULL OR prev_hash <> t2_hash),
latest AS (
    SELECT * FROM rows QUALIFY row_number() OVER (PARTITION BY customer_id
        ORDER BY batch_seq DESC, updated DESC, line DESC) = 1),
versions AS (
    SELECT customer_id, address, city, postal_code, country, segment, batch_id,
        row_number() OVER w AS version,
        CASE WHEN row_number() OVER w = 1 THEN coalesce(signup_date, DATE '1900-01-01')
             ELSE updated END AS valid_from
    FROM changes WINDOW w AS (PARTITION BY customer_id ORDER BY batch_seq, updated, line)),
spans AS (
    SELECT *, coalesce(lead(valid_from) OVER (PARTITION BY customer_id ORDER BY version),
        DATE '9999-12-31') AS valid_to,
        lead(valid_from) OVER (PARTITION BY customer_id ORDER BY version) IS NULL
            AS is_current
    FROM versions)
SELECT md5('customer|' || CAST(s.customer_id AS VARCHAR) || '|'
           || CAST(s.valid_from AS VARCHAR)) AS customer_key,
    s.customer_id, s.version, s.valid_from, s.valid_to, s.is_current,
    s.batch_id AS from_batch,
    s.address, s.city, s.postal_code, s.country, s.segment,
    l.first_name, l.last_name, l.email, l.phone, l.birth_date, l.gender, l.education,
    l.acquisition_channel, l.acquisition_campaign_id, l.preferred_payment_method,
    l.email_consent, l.phone_consent, l.signup_date, l.card AS loyalty_card,
    FALSE AS is_inferred
FROM spans s JOIN latest l USING (customer_id)
UNION ALL
SELECT md5('customer|inferred|' || nk), customer_id, 1, DATE '1900-01-01',
    DATE '9999-12-31', TRUE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    CASE WHEN customer_ref LIKE 'email:%' THEN substr(customer_ref, 7) END, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, FALSE, FALSE, NULL,
    CASE WHEN customer_ref LIKE 'card:%' THEN substr(customer_ref, 6) END, TRUE
FROM _inferred_customers
UNION ALL
SELECT {_UNK.format(dim="customer")}, -1, 1, DATE '1900-01-01', DATE '9999-12-31', TRUE,
    NULL, NULL, '{UNKNOWN}', NULL, NULL, '{UNKNOWN}', '(guest)', NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, FALSE, FALSE, NULL, NULL, FALSE;

CREATE OR REPLACE TABLE marts.dim_product AS
SELECT md5('product|' || sku) AS product_key, product_id, sku, name, subcategory,
    {_CAT} AS category, {_DEPT} AS department, brand, unit_cost, list_price,
    FALSE AS is_inferred
FROM staging.products_current
UNION ALL
SELECT md5('product|inferred|' || nk), product_id,
    CASE WHEN product_ref LIKE 'sku:%' THEN substr(product_ref, 5) END, {_INFERRED_NAME},
    '{UNKNOWN}', '{UNKNOWN}', '{UNKNOWN}', '{UNKNOWN}', NULL, NULL, TRUE
FROM _inferred_products
UNION ALL
SELECT {_UNK.format(dim="product")}, -1, '{UNKNOWN}', '{UNKNOWN}', '{UNKNOWN}', '{UNKNOWN}',
    '{UNKNOWN}', '{UNKNOWN}', NULL, NULL, FALSE;

CREATE OR REPLACE TEMP TABLE _prod_keys AS
SELECT 'id:' || CAST(product_id AS VARCHAR) AS nk, product_key, unit_cost
FROM marts.dim_product WHERE NOT is_inferred AND product_id <> -1
UNION ALL
SELECT i.nk, md5('product|inferred|' || i.nk), NULL FROM _inferred_products i;

CREATE OR REPLACE TABLE marts.snow_department AS
SELECT DISTINCT md5('department|' || {_DEPT}) AS department_key, {_DEPT} AS department
FROM staging.products_current WHERE {_DEPT} <> '{UNKNOWN}'
UNION ALL SELECT {_UNK.format(dim="department")}, '{UNKNOWN}';

CREATE OR REPLACE TABLE marts.snow_category AS
SELECT DISTINCT md5('category|' || {_DEPT} || '|' || {_CAT}) AS category_key,
    {_CAT} AS category, CASE WHEN {_DEPT} = '{UNKNOWN}' THEN {_UNK.format(dim="department")}
    ELSE md5('department|' || {_DEPT}) END AS department_key
FROM staging.products_current
WHERE {_CAT} <> '{UNKNOWN}' OR {_DEPT} <> '{UNKNOWN}'
UNION ALL SELECT {_UNK.format(dim="category")}, '{UNKNOWN}', {_UNK.format(dim="department")};

CREATE OR REPLACE TABLE marts.snow_product AS
SELECT md5('product|' || sku) AS product_key, product_id, sku, name, subcategory, brand,
    unit_cost, list_price,
    CASE WHEN {_CAT} = '{UNKNOWN}' AND {_DEPT} = '{UNKNOWN}' THEN {_UNK.format(dim="category")}
    ELSE md5('category|' || {_DEPT} || '|' || {_CAT}) END AS category_key,
    FALSE AS is_inferred
FROM staging.products_current
UNION ALL
SELECT md5('product|inferred|' || nk), product_id,
    CASE WHEN product_ref LIKE 'sku:%' THEN substr(product_ref, 5) END, {_INFERRED_NAME},
    '{UNKNOWN}', '{UNKNOWN}', NULL, NULL, {_UNK.format(dim="category")}, TRUE
FROM _inferred_products
UNION ALL
SELECT {_UNK.format(dim="product")}, -1, '{UNKNOWN}', '{UNKNOWN}', '{UNKNOWN}', '{UNKNOWN}',
    NULL, NULL, {_UNK.format(dim="category")}, FALSE;

CREATE OR REPLACE TABLE marts.dim_channel AS
SELECT md5('channel|' || channel) AS channel_key, channel,
    CASE WHEN channel = 'store' THEN 'physical' ELSE 'remote' END AS channel_type,
    CASE WHEN channel = 'store' THEN 'pos' ELSE 'web' END AS source_system
FROM (SELECT unnest(['store', 'web', 'phone']) AS channel)
UNION ALL SELECT {_UNK.format(dim="channel")}, '{UNKNOWN}', '{UNKNOWN}', '{UNKNOWN}';

CREATE OR REPLACE TABLE marts.dim_campaign AS
SELECT md5('campaign|' || CAST(campaign_id AS VARCHAR)) AS campaign_key, campaign_id, name,
    channel, goal, target_segment, objective, kpi, target_value, start_date, end_date,
    budget, cost_per_contact
FROM staging.campaigns_current
UNION ALL
SELECT {_UNK.format(dim="campaign")}, -1, '(no campaign)', '{UNKNOWN}', '{UNKNOWN}',
    '{UNKNOWN}', NULL, NULL, NULL, NULL, NULL, NULL, NULL;

CREATE OR REPLACE TEMP TABLE _cust_versions AS
SELECT customer_key, 'id:' || CAST(customer_id AS VARCHAR) AS nk,
    CASE WHEN version = 1 THEN DATE '1900-01-01' ELSE valid_from END AS eff_from, valid_to
FROM marts.dim_customer WHERE customer_id <> -1 AND NOT is_inferred
UNION ALL
SELECT md5('customer|inferred|' || nk), nk, DATE '1900-01-01', DATE '9999-12-31'
FROM _inferred_customers;

CREATE OR REPLACE TABLE marts.fact_order_line AS
SELECT l.order_id, l.line_number,
    year(l.placed_at) * 10000 + month(l.placed_at) * 100 + day(l.placed_at) AS date_key,
    coalesce(cv.customer_key, {_UNK.format(dim="customer")}) AS customer_key,
    coalesce(p.product_key, {_UNK.format(dim="product")}) AS product_key,
    coalesce(ch.channel_key, {_UNK.format(dim="channel")}) AS channel_key,
    coalesce(cp.campaign_key, {_UNK.format(dim="campaign")}) AS campaign_key,
    l.placed_at, l.status, l.payment_method, l.source_system,
    l.quantity, l.unit_price, l.discount,
    l.quantity * l.unit_price AS gross_amount,
    l.amount_cents, CAST(l.amount_cents AS DECIMAL(18,0)) * $money_unit AS net_amount,
    l.quantity * p.unit_cost AS cost_amount,
    CASE WHEN l.line_number = 1 THEN CAST(coalesce(l.shipping_cents, 0) AS DECIMAL(18,0))
         * $money_unit ELSE 0 END AS shipping_amount,
    CASE WHEN l.line_number = 1 THEN CAST(coalesce(l.refunded_cents, 0) AS DECIMAL(18,0))
         * $money_unit ELSE 0 END AS refunded_amount
FROM _lines l
LEFT JOIN _cust_versions cv ON cv.nk = {_CUST_NK.format(t="l")}
    AND CAST(l.placed_at AS DATE) >= cv.eff_from AND CAST(l.placed_at AS DATE) < cv.valid_to
LEFT JOIN _prod_keys p ON p.nk = {_PROD_NK.format(t="l")}
LEFT JOIN marts.dim_channel ch ON ch.channel = l.channel
LEFT JOIN marts.dim_campaign cp ON cp.campaign_id = l.campaign_id;

CREATE OR REPLACE TABLE marts.fact_web_session AS
SELECT s.session_id,
    year(s.started_at) * 10000 + month(s.started_at) * 100 + day(s.started_at) AS date_key,
    coalesce(cv.customer_key, {_UNK.format(dim="customer")}) AS customer_key,
    s.visitor_id, s.started_at, s.traffic_source, s.device, s.pages, s.added_to_cart,
    s.converted_order_id IS NOT NULL AS converted, s.converted_order_id
FROM _sessions s
LEFT JOIN _cust_versions cv ON cv.nk = {_CUST_NK.format(t="s")}
    AND CAST(s.started_at AS DATE) >= cv.eff_from AND CAST(s.started_at AS DATE) < cv.valid_to;

CREATE OR REPLACE TABLE marts.fact_campaign_contact AS
SELECT coalesce(cp.campaign_key, {_UNK.format(dim="campaign")}) AS campaign_key,
    coalesce(cv.customer_key, {_UNK.format(dim="customer")}) AS customer_key,
    c.campaign_id, c.customer_id,
    year(c.sent_at) * 10000 + month(c.sent_at) * 100 + day(c.sent_at) AS date_key,
    c.sent_at, c.opened, c.clicked, c.converted_order_id IS NOT NULL AS converted,
    c.converted_order_id, c.cost
FROM _contacts c
LEFT JOIN marts.dim_campaign cp ON cp.campaign_id = c.campaign_id
LEFT JOIN _cust_versions cv ON cv.nk = {_CUST_NK.format(t="c")}
    AND CAST(c.sent_at AS DATE) >= cv.eff_from AND CAST(c.sent_at AS DATE) < cv.valid_to;

CREATE OR REPLACE TABLE marts.fact_ticket AS
SELECT t.ticket_id,
    coalesce(cv.customer_key, {_UNK.format(dim="customer")}) AS customer_key,
    coalesce(p.product_key, {_UNK.format(dim="product")}) AS product_key,
    year(t.opened_at) * 10000 + month(t.opened_at) * 100 + day(t.opened_at) AS date_key,
    coalesce(year(t.closed_at) * 10000 + month(t.closed_at) * 100 + day(t.closed_at), -1)
        AS closed_date_key,
    t.order_id, t.category, t.channel, t.priority, t.status, t.opened_at, t.closed_at,
    date_diff('second', t.opened_at, t.closed_at) / 3600.0 AS hours_to_close
FROM _tickets t
LEFT JOIN _prod_keys p ON p.nk = {_PROD_NK.format(t="t")}
LEFT JOIN _cust_versions cv ON cv.nk = {_CUST_NK.format(t="t")}
    AND CAST(t.opened_at AS DATE) >= cv.eff_from AND CAST(t.opened_at AS DATE) < cv.valid_to;

CREATE OR REPLACE TABLE marts.fact_customer_month AS
WITH span AS (
    SELECT CAST(date_trunc('month', min(placed_at)) AS DATE) AS lo,
           CAST(date_trunc('month', max(placed_at)) AS DATE) AS hi
    FROM _lines),
series AS (
    SELECT unnest(generate_series(lo, hi, INTERVAL 1 MONTH)) AS month
    FROM span WHERE lo IS NOT NULL),
months AS (SELECT CAST(month AS DATE) AS month FROM series),
custs AS (
    SELECT customer_id, signup_date FROM staging.customers_current
    UNION ALL
    SELECT customer_id, NULL FROM _inferred_customers WHERE customer_id IS NOT NULL),
firsts AS (
    SELECT customer_id, min(placed_at) AS first_at FROM _lines
    WHERE customer_id IS NOT NULL GROUP BY customer_id),
grid AS (
    SELECT c.customer_id, m.month,
        CAST(m.month + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) AS month_end
    FROM custs c LEFT JOIN firsts f USING (customer_id) JOIN months m
      ON m.month >= CAST(date_trunc('month', coalesce(c.signup_date, f.first_at)) AS DATE)),
monthly AS (
    SELECT customer_id, CAST(date_trunc('month', placed_at) AS DATE) AS month,
        count(DISTINCT order_id) AS orders,
        sum(CAST(amount_cents AS DECIMAL(18,0)) * $money_unit) AS revenue,
        max(placed_at) AS last_order_at
    FROM _lines
    WHERE customer_id IS NOT NULL AND status NOT IN ('cancelled', 'returned')
    GROUP BY customer_id, CAST(date_trunc('month', placed_at) AS DATE)),
filled AS (
    SELECT g.customer_id, g.month, g.month_end, coalesce(m.orders, 0) AS orders,
        coalesce(m.revenue, 0) AS revenue,
        max(m.last_order_at) OVER w AS last_order_at,
        sum(coalesce(m.orders, 0)) OVER w AS orders_to_date,
        sum(coalesce(m.revenue, 0)) OVER w AS revenue_to_date
    FROM grid g LEFT JOIN monthly m USING (customer_id, month)
    WINDOW w AS (PARTITION BY g.customer_id ORDER BY g.month
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW))
SELECT year(f.month_end) * 10000 + month(f.month_end) * 100 + day(f.month_end) AS date_key,
    coalesce(cv.customer_key, {_UNK.format(dim="customer")}) AS customer_key,
    f.customer_id, f.month, f.orders, f.revenue, f.orders_to_date, f.revenue_to_date,
    f.last_order_at,
    date_diff('day', CAST(f.last_order_at AS DATE), f.month_end) AS days_since_last_order,
    coalesce(date_diff('day', CAST(f.last_order_at AS DATE), f.month_end) <= 365, FALSE)
        AS is_active
FROM filled f
LEFT JOIN _cust_versions cv ON cv.nk = 'id:' || CAST(f.customer_id AS VARCHAR)
    AND f.month_end >= cv.eff_from AND f.month_end < cv.valid_to;

CREATE OR REPLACE VIEW marts.v_sales AS
SELECT f.order_id, f.line_number, f.placed_at, d.year, d.quarter, d.month, d.year_month,
    d.day_name, p.department, p.category, p.subcategory, p.brand, p.sku,
    ch.channel, ch.channel_type, c.segment, c.city, c.country, cp.name AS campaign,
    f.status, f.payment_method, f.quantity, f.gross_amount, f.net_amount, f.cost_amount,
    f.net_amount - f.cost_amount AS margin
FROM marts.fact_order_line f
JOIN marts.dim_date d USING (date_key)
JOIN marts.dim_product p USING (product_key)
JOIN marts.dim_channel ch USING (channel_key)
JOIN marts.dim_customer c USING (customer_key)
JOIN marts.dim_campaign cp USING (campaign_key);

CREATE OR REPLACE VIEW marts.v_sales_snowflake AS
SELECT f.order_id, f.line_number, sp.sku, sp.subcategory, sc.category, sd.department,
    f.quantity, f.net_amount
FROM marts.fact_order_line f
JOIN marts.snow_product sp USING (product_key)
JOIN marts.snow_category sc USING (category_key)
JOIN marts.snow_department sd USING (department_key);
""")
