"""The notebook setup: stable output, and figures that record their smallest text."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from PIL import Image  # noqa: E402

from wbinterp import notebook, plotting  # noqa: E402


@pytest.fixture
def shell():
    instance = InteractiveShell.instance()
    yield instance
    InteractiveShell.clear_instance()


def test_figures_shown_in_ipython_record_their_smallest_text(shell):
    notebook.setup()
    fig, ax = plt.subplots(figsize=(12, 3))
    ax.plot([0, 1])
    data, _ = shell.display_formatter.format(fig)
    png = Image.open(io.BytesIO(base64.b64decode(data["image/png"])))
    recorded = float(png.text[notebook.TEXT_SIZE_KEY])
    assert recorded == pytest.approx(plotting.smallest_text(fig), abs=0.01)
    assert recorded < 9.0  # 12 inches wide: its 10-point ticks shrink below 9 points
    plt.close("all")


def test_setup_outside_ipython_only_sets_the_style():
    notebook.setup()
    assert matplotlib.rcParams["savefig.facecolor"] == "white"
