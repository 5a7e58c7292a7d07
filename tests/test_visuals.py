"""What a reader sees: legends beside the data, not on it."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from crmkit.dataset.synth import generate  # noqa: E402
from crmkit.lessons import plots  # noqa: E402


@pytest.fixture(scope="module")
def data():
    return generate("ice_cream", n_customers=300, seed=7)


@pytest.mark.parametrize("draw", [
    lambda d: plots.plot_stock(d, int(d.inventory["product_id"].iloc[0])),
    lambda d: plots.plot_time_in_state(d, sla_hours=72),
])
def test_legend_sits_outside_the_plotting_area(data, draw):
    ax = draw(data)
    fig = ax.figure
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    area = ax.get_window_extent()
    assert legend.y1 <= area.y0, "the legend would cover the lines or boxes"
    plt.close(fig)
