"""The dashboard's KPI lights read for a red-green colour-blind reader, in the picture and the page.

The colours are read back from what is drawn (the tiles' patches, the KPI table's cells), not
from the module's constant, and judged two independent ways: (1) no light is a red hue beside
a green one, (2) simulated for protanopia and deuteranopia (Machado, Oliveira & Fernandes
2009, full severity) the "above target" and "below target" lights stay far apart in CIELAB.
Each light also says in words whether the KPI is above or below its target.
"""

from __future__ import annotations

import colorsys
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex, to_rgb  # noqa: E402

from crmkit.i18n import t  # noqa: E402
from crmkit.lessons import dashboard as dash  # noqa: E402

#: Machado et al. (2009) simulation matrices, severity 1.0, on linear RGB
CVD = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
}
#: the lights the dashboard used to draw: teal green against coral red
OLD = {"green": "#2a9d8f", "amber": "#e9c46a", "red": "#e76f51"}
#: how each KPI is pushed to a light: its target set at value x factor
PUSH = {"sessions": ("green", 0.5), "conversion_rate": ("amber", 1.02),
        "cps_per_customer": ("red", 2.0), "active_customers": ("red", 3.0)}
WORDS = {"en": {"green": "above target", "amber": "below target", "red": "below target"},
         "es": {"green": "por encima", "amber": "por debajo", "red": "por debajo"}}


def _linear(colour) -> np.ndarray:
    c = np.asarray(to_rgb(colour))
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ linear / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def seen_apart(a, b, vision: str) -> float:
    """CIELAB distance of two colours as a reader with ``vision`` sees them."""
    sim = CVD[vision]
    return float(np.linalg.norm(_lab(np.clip(sim @ _linear(a), 0, 1))
                                - _lab(np.clip(sim @ _linear(b), 0, 1))))


def _hue(colour) -> tuple[float, float]:
    h, s, _ = colorsys.rgb_to_hsv(*to_rgb(colour))
    return h * 360, s


def red_green(a, b) -> bool:
    """One colour a red, the other a green (teal included): the pair to avoid."""
    def red(c):
        h, s = _hue(c)
        return s >= 0.25 and (h < 20 or h >= 345)

    def green(c):
        h, s = _hue(c)
        return s >= 0.25 and 75 <= h <= 180

    return (red(a) and green(b)) or (red(b) and green(a))


def problems(lights: dict[str, str]) -> list[str]:
    """What a red-green colour-blind reader could not read in ``lights`` (status -> colour)."""
    found = [f"{a} {lights[a]} against {b} {lights[b]} is red against green"
             for a in lights for b in lights if a < b and red_green(lights[a], lights[b])]
    if "green" in lights and "red" in lights:
        for vision in CVD:
            apart = seen_apart(lights["green"], lights["red"], vision)
            if apart < 50:
                found.append(f"above and below target only {apart:.0f} apart with {vision}")
    return found


def test_the_check_catches_the_old_red_and_green_lights():
    assert problems(OLD)
    assert red_green("#2a9d8f", "#e76f51") and not red_green("#56b4e9", "#de8f05")


@pytest.fixture(scope="module")
def pushed():
    """A shop whose four KPIs are pushed above, just below and far below their targets."""
    from crmkit.dataset.synth import generate

    data = generate("bendita", n_customers=300, seed=1)
    plain = dash.dashboard_tables(data)["board"]
    targets = {k: float(plain.loc[k, "value"]) * PUSH[k][1] for k in plain.index}
    board = dash.dashboard_tables(data, targets=targets)["board"]
    assert {k: board.loc[k, "status"] for k in board.index} == {
        k: PUSH[k][0] for k in board.index}
    return data, targets


def _tiles(fig, lang: str) -> dict[str, tuple[str, list[str]]]:
    """kpi -> (the tile's colour, its texts), read from the drawn figure."""
    names = {t(f"kpi.{k}", lang): k for k in PUSH}
    out = {}
    for ax in fig.axes:
        texts = [x.get_text() for x in ax.texts]
        kpi = next((names[x] for x in texts if x in names), None)
        if kpi is not None and ax.patches:
            out[kpi] = (to_hex(ax.patches[0].get_facecolor()), texts)
    return out


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_tiles_are_colour_blind_safe_and_say_above_or_below(pushed, lang):
    data, targets = pushed
    fig = dash.dashboard_figure(data, lang=lang, targets=targets)
    tiles = _tiles(fig, lang)
    plt.close(fig)
    assert set(tiles) == set(PUSH)
    lights = {PUSH[k][0]: colour for k, (colour, _) in tiles.items()}
    assert len(set(lights.values())) == 3, lights  # three lights, three colours
    assert not problems(lights), problems(lights)
    for kpi, (_, texts) in tiles.items():
        said = " ".join(texts).casefold()
        assert WORDS[lang][PUSH[kpi][0]] in said, (kpi, texts)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_page_lights_are_colour_blind_safe_and_say_above_or_below(pushed, lang):
    data, targets = pushed
    page = dash.dashboard_html(data, lang=lang, targets=targets)
    cells = re.findall(r"<td style='background:(#[0-9a-fA-F]{6})'>([^<]*)</td>", page)
    assert len(cells) == len(PUSH)
    by_word = {}
    for colour, text in cells:
        status = next(s for s in ("green", "amber", "red") if t(f"dash.{s}", lang) == text)
        assert WORDS[lang][status] in text.casefold()
        by_word[status] = colour
    assert set(by_word) == {"green", "amber", "red"}
    assert not problems(by_word), problems(by_word)
