"""Spanish speaks to the reader in one register, *tú*: no *usted* form in any catalog text.

An *usted* form is found by a list of markers: the word itself, the imperatives a course
text uses to tell the reader what to do (``pruebe``, ``revise``, ``recompénselos``) when
they open a sentence or a clause, and the *usted* imperatives with a pronoun attached
(``fíjese``, ``ofrézcales``), wherever they stand.
"""

from __future__ import annotations

import re
import unicodedata

import pytest

from crmkit.i18n import catalog

#: Imperatives of *usted* (the *tú* form is in the comment of each group), as a text
#: telling the reader what to do writes them.
USTED_IMPERATIVES = {
    # prueba, deja, pregunta, indica, elige, comprueba, revisa, escribe, calcula, usa
    "pruebe", "deje", "pregunte", "indique", "elija", "compruebe", "revise", "escriba",
    "calcule", "utilice", "use",
    # consulta, ejecuta, abre, cambia, pulsa, selecciona, recuerda, observa, mira, cuenta
    "consulte", "ejecute", "abra", "cambie", "pulse", "seleccione", "recuerde", "observe",
    "mire", "cuente",
    # suma, divide, toma, añade, ordena, agrupa, busca, lee, haz, ten, compara, pon, ve, di
    "sume", "divida", "tome", "anada", "ordene", "agrupe", "busque", "lea", "haga", "tenga",
    "compare", "ponga", "vea", "diga",
    # dales, muestra, vuelve, pierde, mantén, envía, llama, ofrece, recupera, reactiva, invita
    "deles", "dele", "delo", "muestre", "vuelva", "pierda", "mantenga", "envie", "llame",
    "ofrezca", "recupere", "reactive", "invite", "recompense", "pida", "piense", "fije",
    "asegure", "quede",
}
#: *Usted* forms told from other words by their stress mark only (``de`` is a preposition).
ACCENTED = {"dé"}
#: Pronouns a Spanish imperative carries at its end.
CLITICS = ("selos", "selas", "selo", "sela", "les", "los", "las", "le", "lo", "la", "se", "me",
           "nos")
#: Opens a sentence or a clause, where an imperative stands.
CLAUSE = re.compile(r"(?:^|[.;:!?¿¡(—]\s*|,\s*(?:y|o|pero|luego|después)?\s*|\by\s+|\bo\s+)"
                    r"(?P<word>[^\W\d_]+)", re.I)
#: A negative imperative (``no los pierda``).
NEGATIVE = re.compile(r"\bno\s+(?:(?:lo|la|los|las|le|les|se|me|nos)\s+)?(?P<word>[^\W\d_]+)",
                      re.I)
WORD = re.compile(r"[^\W\d_]+")


def _plain(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _with_clitic(word: str) -> bool:
    """``ofrézcales``, ``fíjese``: an *usted* imperative with its pronoun attached (its stress
    mark shows the pronoun was added)."""
    if word == _plain(word):  # no stress mark: not a verb with a pronoun added
        return False
    plain = _plain(word)
    for clitic in CLITICS:
        stem = plain[: -len(clitic)]
        if plain.endswith(clitic) and stem in USTED_IMPERATIVES:
            return True
    return False


def usted_markers(text: str) -> list[str]:
    """The *usted* forms of ``text`` (empty when it speaks in *tú* or to nobody)."""
    found = [w for w in WORD.findall(text) if _plain(w) in ("usted", "ustedes")]
    found += [m.group("word") for pattern in (CLAUSE, NEGATIVE) for m in pattern.finditer(text)
              if _plain(m.group("word")) in USTED_IMPERATIVES
              or m.group("word").casefold() in ACCENTED]
    found += [w for w in WORD.findall(text) if _with_clitic(w.casefold())]
    return found


@pytest.mark.parametrize("text, markers", [
    ("Recompénselos: acceso anticipado, pídales opiniones.", ["Recompénselos", "pídales"]),
    ("Pruebe una campaña; si no responden, deje de invertir.", ["Pruebe", "deje"]),
    ("Dé a conocer la marca: muestre el surtido.", ["Dé", "muestre"]),
    ("Fíjese en la tabla y ofrézcales novedades.", ["Fíjese", "ofrézcales"]),
    ("Usted elige.", ["Usted"]),
    ("Recupérelos en persona; no los pierda frente a la competencia.", ["Recupérelos", "pierda"]),
    ("Recompénsalos: acceso anticipado, pídeles opiniones.", []),
    ("Recupéralos en persona; no los pierdas frente a la competencia.", []),
    ("Prueba una campaña; si no responden, deja de invertir.", []),
    ("Ofréceles novedades y resuélvelo con la lección.", []),
    ("Un modelo que se vea mejor que la regla, para que cada paso haga algo.", []),
    ("Los clientes de esta tienda y sus pedidos.", []),
])
def test_the_markers_tell_usted_from_tu(text, markers):
    assert sorted(usted_markers(text)) == sorted(markers)


def test_every_spanish_catalog_text_speaks_in_tu():
    found = {key: usted_markers(es) for key, (_en, es) in catalog().items()}
    assert {key: words for key, words in found.items() if words} == {}
