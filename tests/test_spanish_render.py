"""The Spanish edition reads wholly in Spanish: every notebook and the dashboard, two shops.

Each notebook's Spanish page (its edition run by :func:`notebook_runs.edition_run`, the
run the notebook tests check against their baselines, so nothing is rendered twice) and
the standalone dashboard are rendered for the notebook's default shop and for a shop
without web data (the boutique). What a reader sees (``tests/page_checks.py``: outputs,
the narrative without its code, image alt text) must hold

- no word of the kit's own English vocabulary: the English side of the catalog, the
  column and value codes of the data, the generator's product departments and
  categories, its campaign names and English month abbreviations;
- no English-written number and no ISO date (``page_checks.ENGLISH_NUMBERS``);
- no ``None``, ``nan``, ``NaT`` (``page_checks.MISSING``).

A few English terms are the course's own on purpose (a term introduced in parentheses,
the JupyterLab menu); they are listed in :data:`TERMS`. Raw lines of a source file shown
as the file holds them are the data, not prose: an output the lesson marks with
``lang="zxx"`` (no linguistic content) is left out, as ``page_checks.page`` leaves out
every element in another language.

English that a part of the kit prints outside the lessons' own output (the exercise
book's messages and options, the warehouse's names) would be listed by area in
:data:`ELSEWHERE` (empty: none is left); ``test_english_left_by_other_areas_is_gone``
fails on it and on an exercise's id shown to a reader.
"""

from __future__ import annotations

import re
from functools import cache

import pandas as pd
import pytest
from notebook_runs import NOTEBOOKS, TEST_PARAMETERS, edition_run
from page_checks import ENGLISH_NUMBERS, MISSING, page

from crmkit.i18n import catalog

STEMS = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
#: The second shop of every page: it sells in store (and by phone) only, no web data.
NO_WEB = "boutique"

#: English the Spanish narrative uses on purpose: terms it introduces in parentheses
#: and the names of JupyterLab's menu entries.
TERMS = (
    "Kernel → Restart & Run All", "Customer Relationship Management", "data warehouse",
    "pipeline", "attainable", "buyer persona", "Restart & Run All", "joins", "True/False",
    "Google Trends",  # a product's name
    "Actividad 6.5",  # the course's own numbering of its activities, not a decimal
)

#: Words English and Spanish share (or Spanish has borrowed): never a slip by themselves.
SHARED = frozenset("""
    social simple total normal general email web online club premium boutique marketing
    kernel cluster clusters ranking online offline test tests sms app big data business
    intelligence crm sku ticket tickets stock outlet cookie cookies spam newsletter
    influencer influencers hashtag feedback software hardware manager marketplace
    lasagne pizzas pizza croquettes horchata granitas sundae smoothie milkshake
    chinos polos jeans running fitness trainers sprays gels leggings tops shorts
    euro euros idea color error final real legal local global mini pro personal sale
    a al de del el en la las lo los no o se si un una y e es compare
    ene feb mar abr may jun jul ago sep sept oct nov dic
    """.split())

#: English month abbreviations beside a year: the generator's campaign names
#: ("Acquisition Jan 2024 (sms)"), pandas' period labels; Spanish writes "ene 2024".
ENGLISH_MONTH = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}\b")
#: A code of the data in snake_case (customer_id, recency_days) shown as a label.
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
WORD = re.compile(r"[A-Za-zÁÉÍÓÚÜÑáéíóúüñ]+(?:-[A-Za-z]+)*")
#: Things in a page that are no words: e-mail addresses, file names, web addresses.
def _product_names() -> str:
    """A generated product's name: a few words, its brand and its number (``Urban football
    boots Kelme 026``); it is the shop's name for the product, like a customer's name."""
    from crmkit.dataset.profiles import PROFILES

    brands = "|".join(re.escape(b) for p in PROFILES.values() for b in p.brands)
    return rf"(?:\S+ ){{1,4}}(?:{brands}) \d{{3}}"


NOT_PROSE = re.compile(r"\S+@\S+|\b[\w.-]+\.(?:csv|duckdb|parquet|json|html|ipynb|txt)\b"
                       r"|(?<![\w/])/[\w.+-]+(?:/[\w.+-]*)+"  # a folder on the machine
                       r"|https?://\S+|\b[\w-]+(?:\.[\w-]+)+\.(?:com|net|org|es)\b"
                       # a table of the warehouse, as SQL names it (marts.dim_customer)
                       r"|\b(?:raw|marts|quarantine)\.\w+|\b(?:dim|fact|snow|stg)_\w+"
                       r"|\b(?:raw|marts|staging|quarantine)\s+\w+"  # a schema and its table
                       r"|'[a-z_]+'"  # a code quoted for the reader's SQL ('pos', 'budget')
                       r"|\b[a-z]+-\d{2,}\b"  # a user's id in the CRM (sales-02), like a name
                       r"|" + _product_names())


#: Common English words of the kit's messages that the catalog does not hold (messages
#: written in Python: a quarantine detail, an error of a library).
COMMON_ENGLISH = frozenset("""
    the and with from for that this which than then there their where when what who
    older newer newest copy row rows wins expected found fields field line lines
    customer customers order orders product products campaign campaigns seed error
    failed missing unknown invalid value values column columns table tables not
    """.split())
#: Placeholders and inline code inside a catalog text: names, not words of the language.
_CODE = re.compile(r"\{[^}]*\}|`[^`]*`|\b\w+(?:\.\w+)+\b")


def _words(text: str) -> set[str]:
    return {w.casefold() for w in WORD.findall(_CODE.sub(" ", text))}


@cache
def english_vocabulary() -> frozenset[str]:
    """The kit's own English words that a Spanish page never needs.

    The English labels of the catalog less every word its Spanish labels use, the codes
    of columns and values, and the generator's departments, categories and campaign goals.
    """
    from crmkit.dataset.profiles import PROFILES

    english, spanish = set(), set()
    for name, (en, es) in catalog().items():
        english |= _words(en)
        spanish |= _words(es)
        group, key = name.split(".", 1)
        if group in ("column", "value") and "_" not in key:
            english |= _words(key)
    for prof in PROFILES.values():  # a product's own name is the shop's, not a label
        for department, category, _subcategories in prof.assortment:
            english |= _words(f"{department} {category}")
    english |= {"acquisition", "retention", "reactivation", "cross", "sell"} | COMMON_ENGLISH
    vocab = {w for w in english - spanish - SHARED if len(w) > 2}
    return frozenset(vocab)


def _headers(html: str) -> list[str]:
    """The column and row heads of the tables a reader sees (not those of raw data)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.select(".jp-InputArea, [lang=zxx], [lang=en]"):
        tag.decompose()
    return [th.get_text(" ", strip=True) for th in soup.select("th")]


def english_slips(html: str) -> list[str]:
    """Every English word, English-written number or date and missing value a reader of
    the Spanish page ``html`` sees, with a little context.

    A name in snake_case (``web_orders``, ``premium_rows``) is the name of a table, a
    file or an exercise that the reader types in code; as a table's head it is a slip
    (``recency_days`` where the reader should read "Días desde la última compra").
    """
    lang, text = page(html)
    assert lang == "es"
    for term in TERMS:
        text = text.replace(term, " ")
    heads = NOT_PROSE.sub(" ", " | ".join(_headers(html)))
    found = [*SNAKE.finditer(heads), *(m for m in WORD.finditer(SNAKE.sub(" ", heads))
                                       if m.group().casefold() in english_vocabulary())]
    text = SNAKE.sub(" ", NOT_PROSE.sub(" ", text))
    found += [*MISSING.finditer(text), *ENGLISH_NUMBERS.finditer(text),
              *ENGLISH_MONTH.finditer(text)]
    vocab = english_vocabulary()
    found += [m for m in WORD.finditer(text) if m.group().casefold() in vocab]
    out = set()
    for m in found:
        where = m.string
        context = " ".join(where[max(m.start() - 50, 0):m.end() + 30].split())
        out.add(f"{m.group()!r} in …{context}…")
    return sorted(out)


def picture_slips(texts) -> list[str]:
    """The slips of a picture drawn for a Spanish reader: ``texts`` are what it writes
    (titles, ticks, legends, written values, a table's cells), read as one Spanish page.

    A page check reads a picture by its alt text only; the words drawn in it (a campaign's
    name in the dashboard's table, on the campaign plan's axis) are checked here.
    """
    import html

    body = "".join(f"<p>{html.escape(str(t))}</p>" for t in texts)
    return english_slips('<html lang="es"><body><div class="jp-OutputArea-output">'
                         f"{body}</div></body></html>")


def drawn_texts(fig) -> list[str]:
    """Every text a figure draws: titles, the ticks and labels of the axes shown, written
    values, legends and the cells of its tables."""
    fig.canvas.draw()
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        out += [t.get_text() for t in (ax.title, ax._left_title, ax._right_title, *ax.texts)]
        if ax.axison:
            for axis in (ax.xaxis, ax.yaxis):
                out += [axis.label.get_text(), *(t.get_text() for t in axis.get_ticklabels())]
        legend = ax.get_legend()
        if legend is not None:
            out += [t.get_text() for t in legend.get_texts()]
        for table in ax.tables:
            out += [cell.get_text().get_text() for cell in table.get_celld().values()]
    return [t for t in out if t.strip()]


#: English still printed by parts of the kit this check does not cover, by area, as
#: patterns of the slips they cause.
ELSEWHERE: dict[str, tuple[str, ...]] = {}


def _elsewhere(slip: str) -> str | None:
    for area, patterns in ELSEWHERE.items():
        if any(re.search(p, slip) for p in patterns):
            return area
    return None


def _shops(stem: str) -> list[str]:
    from crmkit.report import notebook_parameters

    return [notebook_parameters(NOTEBOOKS / f"{stem}.ipynb")["profile"], NO_WEB]


PAGES = [(stem, shop) for stem in STEMS for shop in _shops(stem)]


def _page_html(stem: str, shop: str, factory) -> str:
    """The Spanish page of notebook ``stem`` for ``shop`` (rendered once per session)."""
    import filelock

    from crmkit.report import to_html

    out = edition_run(stem, shop, "es", factory)
    html = out.with_suffix(".html")
    with filelock.FileLock(str(html) + ".lock"):
        if not html.exists():
            to_html(out, html.with_suffix(".partial.html"), lang="es").replace(html)
    return html.read_text(encoding="utf-8")


def _exercise_ids(stem: str, shop: str, factory) -> set[str]:
    """The ids of the page's exercises: the exercise book's summary shows them as rows."""
    from crmkit.lessons.figures import read_figures

    return set(read_figures(edition_run(stem, shop, "es", factory))["exercise_status"].index)


#: The slips of each page checked in this process, all and those of this area's own.
_SLIPS: dict[tuple[str, str], tuple[list[str], list[str]]] = {}


def _slips(stem, shop, factory) -> tuple[list[str], list[str]]:
    """Every slip of a page, and those this area owns (not another area's, not an
    exercise's id); each page is read and checked once per process."""
    if (stem, shop) not in _SLIPS:
        ids = _exercise_ids(stem, shop, factory)
        every = english_slips(_page_html(stem, shop, factory))
        _SLIPS[stem, shop] = every, [s for s in every if _elsewhere(s) is None
                                     and s.split("'")[1] not in ids]
    return _SLIPS[stem, shop]


def _own_slips(stem, shop, factory) -> list[str]:
    return _slips(stem, shop, factory)[1]


@pytest.mark.parametrize(("stem", "shop"), PAGES)
def test_notebook_page_reads_in_spanish(stem, shop, tmp_path_factory):
    slips = _own_slips(stem, shop, tmp_path_factory)
    assert slips == [], "\n".join(slips)


@pytest.mark.parametrize("shop", ["bendita", NO_WEB])
def test_dashboard_reads_in_spanish(shop):
    from crmkit.dataset.synth import generate
    from crmkit.lessons.dashboard import dashboard_html

    data = generate(shop, **TEST_PARAMETERS)
    slips = [s for s in english_slips(dashboard_html(data, lang="es"))
             if _elsewhere(s) is None]
    assert slips == [], "\n".join(slips)


@pytest.mark.parametrize("shop", ["bendita", NO_WEB])
def test_the_dashboard_picture_and_the_campaign_plan_read_in_spanish(shop):
    """The words drawn in the dashboard's picture (the best campaigns' table) and on the
    campaign plan (a campaign per row) are Spanish: a generated campaign's name is written
    by campaign_label ("Venta cruzada sept 2024 (Correo electrónico) [B]")."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crmkit.analytics.campaigns import plot_plan
    from crmkit.dataset.synth import generate
    from crmkit.lessons.dashboard import dashboard_figure

    data = generate(shop, **TEST_PARAMETERS)
    try:
        board = drawn_texts(dashboard_figure(data, lang="es"))
        plan = drawn_texts(plot_plan(data.campaigns, lang="es").figure)
    finally:
        plt.close("all")
    names = [n for n in data.campaigns["name"] if re.search(r"\b(Acquisition|Cross Sell)\b", n)]
    assert names, "the shop's generated campaigns (the case this test is about)"
    assert any(ENGLISH_MONTH.search(n) for n in names)
    slips = picture_slips(board) + picture_slips(plan)
    assert slips == [], "\n".join(slips)


def test_a_customers_time_line_names_its_campaigns_in_the_readers_language():
    """A campaign contact on a customer's time line (notebook 01, section 5) reads as the
    campaign's name (from the campaigns table) in Spanish, and says whether it led to an
    order; nothing of it is left in English."""
    from crmkit.analytics.service import customer_history
    from crmkit.dataset.synth import generate
    from crmkit.lessons.notebook import campaign_label, localize

    data = generate(NO_WEB, n_customers=80, seed=1)
    contacts = data.campaign_contacts
    who = int(contacts.loc[contacts["converted_order_id"].notna(), "customer_id"].iloc[0])
    mine = contacts[contacts["customer_id"] == who].merge(data.campaigns, on="campaign_id")
    names = {campaign_label(n, "es") + (" · Con compra" if pd.notna(o) else "")
             for n, o in zip(mine["name"], mine["converted_order_id"], strict=True)}
    shown = localize(customer_history(data, who), "es")
    assert set(shown.loc[shown["Qué"] == "Campaña", "Detalle"]) == names
    assert any(n.endswith(" · Con compra") for n in names)
    html = ('<html lang="es"><body><div class="jp-OutputArea-output">'
            f"{shown.to_html()}</div></body></html>")
    assert english_slips(html) == []


def test_the_check_catches_what_it_is_named_after():
    """A hand-made Spanish page with one slip of each kind, and one without any."""
    def html(body):
        return (f'<html lang="es"><body><div class="jp-OutputArea-output">{body}</div>'
                "</body></html>")

    bad = html("<p>label customers share</p><p>Acquisition Jan 2024 (sms)</p>"
               "<table><tr><th>recency_days</th></tr></table>"
               "<p>16,614 clientes · 3.53% · 2024-01-01</p>"
               "<p>Origen del tráfico None</p><p>women</p><p>an older copy of customer 7</p>")
    found = " ".join(english_slips(bad))
    for slip in ("'customers'", "'Jan 2024'", "'Acquisition'", "'recency_days'", "'16,614'",
                 "'3.53'", "'2024-01-01'", "'None'", "'women'", "'older'"):
        assert slip in found, slip
    good = html("<p>16.614 clientes · 3,53 % · 1 ene 2024 · Mujer · el correo a@b.net"
                " de web_orders.csv en raw.web_orders</p><p>Extractos y almacén en /tmp/run1/"
                "02_warehouse.es.wh</p><p>Un almacén de datos (data warehouse)"
                '</p><pre lang="zxx">order_number,created_at\n#1,2024-01-01T14:50:47</pre>')
    assert english_slips(good) == []


def test_english_left_by_other_areas_is_gone(tmp_path_factory):
    left = []
    for stem, shop in PAGES:
        every, own = _slips(stem, shop, tmp_path_factory)
        left += [s for s in every if s not in own]
    assert left == [], "\n".join(left)
