"""A section of notebook 03 skipped on a small shop says why in the report's language.

The Spanish reason used to send the reader to the English report for the technical detail;
the detail (who did not buy again, how many, within how many days) is now said in Spanish,
with the figures of crmkit's own English refusal.
"""

from __future__ import annotations

import pandas as pd
import pytest
from test_analyst_reports import _few_repeat_buyers

from crmkit.i18n import catalog
from crmkit.lessons import mining
from crmkit.lessons.lesson03 import Split


def test_no_spanish_text_sends_the_reader_to_the_english_report():
    for key, texts in catalog().items():
        if isinstance(texts, (list, tuple)) and len(texts) == 2 and isinstance(texts[1], str):
            assert "versión en inglés" not in texts[1], key


@pytest.mark.parametrize("lang, says", [
    ("es", "solo 1 de 6 clientes no volvieron a comprar en los 90 días siguientes al corte "
           "de entrenamiento: demasiado pocos para aprender (hacen falta al menos 2 de cada "
           "clase)."),
    ("en", "only 1 customer did not buy again within horizon_days=90 after the training "
           "cutoff"),
])
def test_a_small_shops_repurchase_refusal_is_said_in_the_readers_language(lang, says):
    shop = _few_repeat_buyers()
    split = Split(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-10-02"),
                  pd.Timestamp("2024-12-31"))
    result, reason = mining.attempt("repurchase", mining.repurchase_check, shop, split, lang)
    assert result is None and says in reason, reason


@pytest.mark.parametrize("english, spanish", [
    ("min_support=0.31746: no pair of items appears in that share of the 63 baskets at "
     "level='product'; the most common pair appears in 0.0635 of them",
     "ningún par de productos se compra junto con la frecuencia suficiente en las 63 cestas "
     "de la tienda para buscar reglas de asociación."),
    ("none of the buy-till-you-die models fits this shop (bg_nbd: BG/NBD cannot be fitted: no "
     "customer bought more than once, so nothing tells how often customers buy",
     "ningún cliente ha comprado más de una vez, así que nada dice cada cuánto compran los "
     "clientes ni cuándo se van."),
])
def test_the_refusals_of_a_small_order_log_are_said_in_spanish(english, spanish):
    assert mining.refusal_text(english, "es") == spanish
