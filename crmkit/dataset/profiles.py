"""Six shop profiles: declarative descriptions of how each kind of shop behaves.

A profile is data, not code: the generator in :mod:`crmkit.dataset.synth` reads the
same fields for every shop. The six profiles follow the shops of the course
(Actividad 6.5) and the Bendita e-commerce case.

>>> from crmkit.dataset.profiles import get_profile, PROFILE_NAMES
>>> PROFILE_NAMES
('fashion_chain', 'sports_shop', 'frozen_foods', 'boutique', 'ice_cream', 'bendita')
>>> ice = get_profile("ice_cream")
>>> ice.monthly[6] > 3 * ice.monthly[0]   # July is far busier than January
True
>>> get_profile("bakery")
Traceback (most recent call last):
...
crmkit.errors.ParameterError: profile='bakery' is not allowed; choose one of: 'fashion_chain', ...
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import check_choice

__all__ = ["ShopProfile", "PROFILES", "PROFILE_NAMES", "get_profile"]


@dataclass(frozen=True)
class ShopProfile:
    """How one kind of shop sells, to whom, and what it knows about its customers.

    Rates are per customer and year; shares are fractions that sum to one.
    ``fill`` gives, for each group of customer fields, the share of customers
    for whom the shop knows it (the data levels of the course).
    """

    name: str
    modelled_on: str
    default_customers: int
    sample_customers: int
    # purchase process (BG/NBD-like): purchases per year ~ Gamma, drop-out ~ Beta
    purchases_per_year: float
    rate_shape: float
    dropout_ab: tuple[float, float]
    existing_share: float  # customers already known when the period starts
    buy_at_signup: float  # new customers whose sign-up is their first purchase
    spend_shape: float  # Gamma shape of the per-customer spend multiplier
    basket_lines: float
    extra_units: float
    price_range: tuple[float, float]
    cost_share: tuple[float, float]
    assortment: tuple[tuple[str, str, tuple[str, ...]], ...]  # department, category, subs
    brands: tuple[str, ...]
    n_products: int
    monthly: tuple[float, ...]  # 12 relative weights, January first
    weekday: tuple[float, ...]  # 7 relative weights, Monday first
    store_hours: tuple[int, int]
    channel_mix: dict[str, float]
    guest_share: float
    cancel_rate: float
    return_rate: float
    shipping_fee: float
    free_shipping_over: float
    sale_months: tuple[int, ...]
    fill: dict[str, float]
    locality: str  # "local" (Puertollano area) or "national"
    age_mean: float
    tickets_per_order: float
    campaigns_per_year: float
    campaign_channels: tuple[str, ...]
    web_conversion: float  # orders per web session
    cart_rate: float  # non-buying sessions that still add to cart
    opportunities_per_year: float
    opportunity_value: float
    win_rate: float
    complements: float = 0.3  # chance that a line completes the previous one
    extra: dict[str, float] = field(default_factory=dict)


_TWO_SEASONS = (1.35, 0.8, 0.95, 1.0, 1.0, 0.95, 1.3, 0.8, 1.05, 1.05, 1.2, 1.55)
_FLAT_WEEK = (0.9, 0.9, 0.95, 1.0, 1.15, 1.35, 0.75)

PROFILES: dict[str, ShopProfile] = {
    p.name: p
    for p in (
        ShopProfile(
            name="fashion_chain",
            modelled_on="a multinational fashion group",
            default_customers=8000,
            sample_customers=700,
            purchases_per_year=2.6, rate_shape=1.2, dropout_ab=(1.0, 5.0),
            existing_share=0.5, buy_at_signup=0.9, spend_shape=2.0,
            basket_lines=2.2, extra_units=0.15,
            price_range=(7.0, 120.0), cost_share=(0.3, 0.5),
            assortment=(
                ("women", "tops", ("t-shirts", "blouses", "knitwear")),
                ("women", "bottoms", ("jeans", "skirts", "trousers")),
                ("women", "dresses", ("day dresses", "party dresses")),
                ("men", "tops", ("shirts", "polos", "sweaters")),
                ("men", "bottoms", ("chinos", "jeans")),
                ("kids", "kids wear", ("baby", "girls", "boys")),
                ("accessories", "accessories", ("bags", "belts", "scarves")),
                ("shoes", "footwear", ("sneakers", "boots", "sandals")),
            ),
            brands=("Zaro", "Bershy", "Pull&Co", "Oyshe", "Massimo"),
            n_products=80,
            monthly=_TWO_SEASONS, weekday=_FLAT_WEEK, store_hours=(10, 22),
            channel_mix={"store": 0.68, "web": 0.32, "phone": 0.0},
            guest_share=0.35, cancel_rate=0.03, return_rate=0.09,
            shipping_fee=3.95, free_shipping_over=30.0, sale_months=(1, 7),
            fill={"name": 0.95, "address": 0.7, "email": 0.85, "phone": 0.6,
                  "profile": 0.45, "acquisition": 0.5, "habits": 0.55},
            locality="national", age_mean=34.0,
            tickets_per_order=0.02, campaigns_per_year=8,
            campaign_channels=("email", "sms", "social"),
            web_conversion=0.03, cart_rate=0.12,
            opportunities_per_year=12, opportunity_value=4000.0, win_rate=0.4,
        ),
        ShopProfile(
            name="sports_shop",
            modelled_on="a local sports store",
            default_customers=2500,
            sample_customers=700,
            purchases_per_year=2.2, rate_shape=1.5, dropout_ab=(1.0, 6.0),
            existing_share=0.6, buy_at_signup=0.95, spend_shape=2.5,
            basket_lines=1.8, extra_units=0.3,
            price_range=(8.0, 180.0), cost_share=(0.45, 0.65),
            assortment=(
                ("apparel", "running", ("shirts", "shorts", "jackets")),
                ("apparel", "football", ("kits", "socks", "training tops")),
                ("footwear", "footwear", ("running shoes", "football boots", "trainers")),
                ("equipment", "ball sports", ("balls", "nets", "shin guards")),
                ("equipment", "fitness", ("weights", "mats", "bands")),
                ("equipment", "cycling", ("helmets", "gloves", "lights")),
            ),
            brands=("Adidax", "Nikka", "Joma", "Kelme", "Decatlo"),
            n_products=60,
            monthly=(1.1, 0.8, 0.9, 1.0, 1.0, 1.05, 0.9, 0.75, 1.35, 1.1, 1.0, 1.45),
            weekday=(0.95, 0.95, 1.0, 1.0, 1.15, 1.45, 0.3), store_hours=(10, 21),
            channel_mix={"store": 0.85, "web": 0.1, "phone": 0.05},
            guest_share=0.3, cancel_rate=0.02, return_rate=0.05,
            shipping_fee=4.95, free_shipping_over=50.0, sale_months=(1, 7),
            fill={"name": 0.9, "address": 0.6, "email": 0.55, "phone": 0.75,
                  "profile": 0.35, "acquisition": 0.3, "habits": 0.4},
            locality="local", age_mean=31.0,
            tickets_per_order=0.02, campaigns_per_year=4,
            campaign_channels=("email", "sms", "phone"),
            web_conversion=0.025, cart_rate=0.1,
            opportunities_per_year=30, opportunity_value=2500.0, win_rate=0.5,
        ),
        ShopProfile(
            name="frozen_foods",
            modelled_on="a frozen-food shop with home delivery",
            default_customers=2500,
            sample_customers=260,
            purchases_per_year=12.0, rate_shape=2.0, dropout_ab=(1.0, 20.0),
            existing_share=0.65, buy_at_signup=0.95, spend_shape=3.0,
            basket_lines=3.2, extra_units=0.8,
            price_range=(1.5, 22.0), cost_share=(0.55, 0.75),
            assortment=(
                ("meals", "ready meals", ("pizzas", "lasagne", "croquettes")),
                ("fish", "seafood", ("prawns", "hake", "squid")),
                ("vegetables", "vegetables", ("peas", "spinach", "mixed veg")),
                ("meat", "meat", ("burgers", "chicken", "meatballs")),
                ("desserts", "ice cream and desserts", ("tubs", "cakes", "lollies")),
            ),
            brands=("Fripi", "La Sirena", "Findux", "Pescanova", "Own brand"),
            n_products=50,
            monthly=(1.05, 0.95, 0.95, 1.0, 0.95, 0.9, 0.85, 0.8, 0.95, 1.0, 1.1, 1.5),
            weekday=(1.0, 1.0, 1.05, 1.05, 1.2, 1.3, 0.4), store_hours=(9, 21),
            channel_mix={"store": 0.5, "web": 0.2, "phone": 0.3},
            guest_share=0.25, cancel_rate=0.02, return_rate=0.01,
            shipping_fee=2.5, free_shipping_over=40.0, sale_months=(),
            fill={"name": 0.9, "address": 0.8, "email": 0.5, "phone": 0.85,
                  "profile": 0.3, "acquisition": 0.35, "habits": 0.7},
            locality="local", age_mean=45.0,
            tickets_per_order=0.012, campaigns_per_year=4,
            campaign_channels=("phone", "mail", "email"),
            web_conversion=0.04, cart_rate=0.15,
            opportunities_per_year=8, opportunity_value=1500.0, win_rate=0.45,
        ),
        ShopProfile(
            name="boutique",
            modelled_on="a local clothing shop",
            default_customers=600,
            sample_customers=300,
            purchases_per_year=4.5, rate_shape=2.5, dropout_ab=(1.0, 14.0),
            existing_share=0.75, buy_at_signup=1.0, spend_shape=3.0,
            basket_lines=1.7, extra_units=0.05,
            price_range=(35.0, 420.0), cost_share=(0.35, 0.5),
            assortment=(
                ("women", "dresses", ("cocktail", "day", "evening")),
                ("women", "outerwear", ("coats", "jackets")),
                ("women", "knitwear", ("cardigans", "jumpers")),
                ("accessories", "accessories", ("handbags", "jewellery", "scarves")),
            ),
            brands=("Mabenka", "Atelier Sol", "Lina Roca", "Vera Mar"),
            n_products=40,
            monthly=(1.2, 0.8, 0.9, 1.0, 1.05, 1.0, 1.1, 0.6, 1.0, 1.05, 1.15, 1.5),
            weekday=(0.8, 0.9, 1.0, 1.0, 1.2, 1.5, 0.1), store_hours=(10, 20),
            channel_mix={"store": 0.9, "web": 0.0, "phone": 0.1},
            guest_share=0.1, cancel_rate=0.01, return_rate=0.04,
            shipping_fee=0.0, free_shipping_over=0.0, sale_months=(1, 7),
            fill={"name": 1.0, "address": 0.9, "email": 0.7, "phone": 0.95,
                  "profile": 0.75, "acquisition": 0.6, "habits": 0.85},
            locality="local", age_mean=48.0,
            tickets_per_order=0.015, campaigns_per_year=4,
            campaign_channels=("phone", "mail", "sms"),
            web_conversion=0.03, cart_rate=0.1,
            opportunities_per_year=10, opportunity_value=1200.0, win_rate=0.6,
        ),
        ShopProfile(
            name="ice_cream",
            modelled_on="a local ice-cream parlour",
            default_customers=1500,
            sample_customers=400,
            purchases_per_year=7.0, rate_shape=1.0, dropout_ab=(1.0, 4.0),
            existing_share=0.4, buy_at_signup=1.0, spend_shape=4.0,
            basket_lines=1.6, extra_units=0.4,
            price_range=(1.5, 9.0), cost_share=(0.2, 0.35),
            assortment=(
                ("ice cream", "cones and cups", ("single scoop", "double scoop", "sundae")),
                ("ice cream", "take-away", ("half litre", "litre", "cake")),
                ("drinks", "granitas", ("lemon", "coffee", "horchata")),
                ("drinks", "shakes", ("milkshake", "smoothie")),
            ),
            brands=("Helados Romero",),
            n_products=30,
            monthly=(0.15, 0.2, 0.4, 0.7, 1.1, 1.8, 2.6, 2.4, 1.2, 0.5, 0.2, 0.35),
            weekday=(0.7, 0.75, 0.8, 0.9, 1.2, 1.6, 1.55), store_hours=(12, 24),
            channel_mix={"store": 1.0, "web": 0.0, "phone": 0.0},
            guest_share=0.8, cancel_rate=0.0, return_rate=0.0,
            shipping_fee=0.0, free_shipping_over=0.0, sale_months=(),
            fill={"name": 0.6, "address": 0.15, "email": 0.3, "phone": 0.12,
                  "profile": 0.1, "acquisition": 0.15, "habits": 0.25},
            locality="local", age_mean=30.0,
            tickets_per_order=0.003, campaigns_per_year=2,
            campaign_channels=("social", "sms"),
            web_conversion=0.03, cart_rate=0.1,
            opportunities_per_year=4, opportunity_value=400.0, win_rate=0.5,
            complements=0.15,
        ),
        ShopProfile(
            name="bendita",
            modelled_on="Bendita S.A., hair-care e-commerce on Shopify",
            default_customers=4000,
            sample_customers=800,
            purchases_per_year=2.4, rate_shape=0.9, dropout_ab=(1.2, 4.5),
            existing_share=0.35, buy_at_signup=0.55, spend_shape=2.0,
            basket_lines=2.1, extra_units=0.2,
            price_range=(6.0, 48.0), cost_share=(0.3, 0.45),
            assortment=(
                ("hair care", "shampoo", ("curly hair", "dry hair", "oily hair")),
                ("hair care", "conditioner", ("curly hair", "dry hair", "oily hair")),
                ("hair care", "treatments", ("masks", "oils", "serums")),
                ("styling", "styling", ("creams", "gels", "sprays")),
                ("accessories", "accessories", ("brushes", "towels", "scrunchies")),
            ),
            brands=("Bendita", "Bendita Rizos", "Bendita Pro"),
            n_products=40,
            monthly=(0.9, 0.85, 0.95, 0.95, 1.05, 1.0, 0.9, 0.85, 1.0, 1.05, 1.35, 1.4),
            weekday=(1.1, 1.05, 1.0, 1.0, 0.95, 0.85, 1.05), store_hours=(9, 21),
            channel_mix={"store": 0.0, "web": 1.0, "phone": 0.0},
            guest_share=0.12, cancel_rate=0.025, return_rate=0.03,
            shipping_fee=3.5, free_shipping_over=35.0, sale_months=(11,),
            fill={"name": 1.0, "address": 0.95, "email": 1.0, "phone": 0.45,
                  "profile": 0.25, "acquisition": 0.9, "habits": 0.9},
            locality="national", age_mean=33.0,
            tickets_per_order=0.025, campaigns_per_year=10,
            campaign_channels=("email", "social", "sms"),
            web_conversion=0.03, cart_rate=0.08,
            opportunities_per_year=6, opportunity_value=2000.0, win_rate=0.35,
            complements=0.45,
        ),
    )
}

PROFILE_NAMES: tuple[str, ...] = tuple(PROFILES)


def get_profile(profile: str | ShopProfile) -> ShopProfile:
    """Return the :class:`ShopProfile` called ``profile`` (or ``profile`` itself)."""
    if isinstance(profile, ShopProfile):
        return profile
    return PROFILES[check_choice("profile", profile, PROFILE_NAMES)]
