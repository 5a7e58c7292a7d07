"""What a person reads on a rendered page, and the slips a reader must never see (not a
test module).

A report's code cells hold ``None`` as Python; the checks read only what is shown to
the reader: outputs, the narrative (without its inline code) and the dashboard's text.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

#: Missing values printed as Python or pandas would print them.
MISSING = re.compile(r"\b(None|nan|NaN|NaT)\b")
#: Numbers and dates written the English way: a decimal point followed by other than three
#: digits (67.36), thousands grouped by commas in a longer number (1,477,000, or 1,477.5),
#: an ISO date (2025-01-03); and "1,477": a Spanish page writes a thousand and more as 1.477,
#: and shows decimals with fewer than three places or a leading zero (0,477).
ENGLISH_NUMBERS = re.compile(
    r"(?<![\w.,])(?<!Actividad )(?<!Activity )"  # the course's activity numbers (6.5)
    r"(\d+\.(?:\d{1,2}|\d{4,})(?![\d.,])"
    r"|[1-9]\d{0,2}(?:,\d{3})+(?![\d,])"
    r"|\d{1,3}(?:,\d{3})+\.\d+"
    r"|\d{4}-\d{2}-\d{2})(?![\w])")


#: A number pandas wrote as it is, not through the locale formatter: four decimals or more
#: (``0.4141``, ``1476.6667``), alone in a table's cell.
RAW_DECIMALS = re.compile(r"^-?[\d,]*\d\.\d{4,}$")


def raw_cells(html: str) -> list[str]:
    """The cells of the page's tables that show a number with four decimals or more."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.select(".jp-InputArea"):
        tag.decompose()
    return [cell.get_text(strip=True) for cell in soup.select("table td, table th")
            if RAW_DECIMALS.match(cell.get_text(strip=True))]


def page(html: str) -> tuple[str, str]:
    """The ``lang`` of a page and the text its reader sees."""
    soup = BeautifulSoup(html, "html.parser")
    lang = (soup.find("html") or {}).get("lang", "")
    for tag in soup(["script", "style"]):
        tag.decompose()
    for tag in soup.select(".jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt"):
        if not tag.select(".jp-RenderedMarkdown"):
            tag.decompose()
    for tag in soup.select(".jp-RenderedMarkdown code, .jp-RenderedMarkdown pre"):
        tag.decompose()
    for tag in soup.select(".jp-RenderedMarkdown :is(h1, h2, h3, h4, h5, h6)"):
        text = tag.get_text()  # a section number (4.1) is not a quantity
        tag.string = re.sub(r"^\s*\d+(\.\d+)*\.?\s", "", text)
    for tag in soup.select("[lang]"):  # a term marked as another language is its own
        if tag.name != "html" and tag.get("lang") != lang:
            tag.decompose()
    return lang, soup.get_text(" ")


def slips(html: str) -> list[str]:
    """Every missing value, in a Spanish page every English-written number or date, with a
    little context, and in any page a table's cell that shows a raw decimal (``0.4141``)."""
    lang, text = page(html)
    found = [m for m in MISSING.finditer(text)]
    if lang == "es":
        found += list(ENGLISH_NUMBERS.finditer(text))
    return ([" ".join(text[max(m.start() - 40, 0):m.end() + 20].split()) for m in found]
            + [f"table cell {cell}" for cell in raw_cells(html)])
