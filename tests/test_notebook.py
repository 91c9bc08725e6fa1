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


@pytest.fixture
def glued(monkeypatch):
    """What the page layer glues, by name: (value, display)."""
    import myst_nb

    calls: dict[str, tuple[object, bool]] = {}
    monkeypatch.setattr(
        myst_nb,
        "glue",
        lambda name, value, display=True: calls.update({name: (value, display)}),
    )
    return calls


def test_glue_table_glues_one_hidden_markdown_table(glued):
    notebook.glue_table("t", ["a", "b"], [[1, 2.5], ["x", None]])
    value, display = glued["t"]
    assert not display
    assert value.data == "| a | b |\n|---|---|\n| 1 | 2.5 |\n| x | None |"


def test_glue_all_glues_each_value_under_its_prefixed_name(glued):
    notebook.glue_all({"k1": 0.5, "k3": 7}, prefix="cmp_")
    assert glued == {"cmp_k1": (0.5, False), "cmp_k3": (7, False)}


def test_claim_passes_silently_and_names_the_sentence_that_fails():
    notebook.claim(3 > 2, "three beats two")
    with pytest.raises(
        notebook.ClaimError, match="the text says the transcoder leads, but"
    ):
        notebook.claim(0.1 > 0.2, "the transcoder leads")
    with pytest.raises(
        AssertionError
    ):  # a guard is an assertion: pytest and readers know it
        notebook.claim(False, "anything")
