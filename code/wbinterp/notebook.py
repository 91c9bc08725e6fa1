"""Helpers a chapter (or any notebook) calls: reproducible setup, and the page layer.

The page layer puts what a chapter computed on its page, one line each: a value or a
figure (:func:`glue_all`), a table (:func:`glue_table`), and a sentence's guard
(:func:`claim`), which stops the build when the numbers no longer say what the text
does.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib
import torch

#: The PNG text chunk in which a notebook's figures record their smallest text.
TEXT_SIZE_KEY = "Smallest-Text-Points"


def setup(seed: int = 0) -> None:
    """Make a chapter's output stable and readable: seeds, threads, figure style.

    Figures get an opaque white background so they stay readable in dark mode,
    and, in IPython, each figure's PNG records the size of its smallest text at
    the book's column width (:func:`wbinterp.plotting.smallest_text`), which the
    book's build checks.
    """
    torch.manual_seed(seed)
    matplotlib.rcParams.update(
        {
            "figure.facecolor": "white",
            "axes.facecolor": "white",
            "savefig.facecolor": "white",
            "savefig.transparent": False,
            "figure.dpi": 100,
            "savefig.dpi": 120,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": 10,
        }
    )
    _record_text_size()


def _record_text_size() -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return
    from IPython.core.pylabtools import print_figure
    from matplotlib import pyplot
    from matplotlib.figure import Figure

    from .plotting import smallest_text

    # pyplot chooses its backend at the first figure, and the inline backend then
    # installs its own formatter: let that happen before installing ours
    pyplot.close(pyplot.figure())

    def png(fig: Figure) -> str | None:
        size = f"{smallest_text(fig):.2f}"
        return print_figure(fig, "png", base64=True, metadata={TEXT_SIZE_KEY: size})

    shell.display_formatter.formatters["image/png"].for_type(Figure, png)


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    """A Markdown table (for ``glue`` with ``IPython.display.Markdown``)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def glue_table(name: str, header: list[str], rows: list[list[object]]) -> None:
    """Glue a Markdown table under ``name``, for a ``{glue:md}`` directive."""
    from IPython.display import Markdown
    from myst_nb import glue

    glue(name, Markdown(markdown_table(header, rows)), display=False)


def glue_all(values: Mapping[str, object], prefix: str = "") -> None:
    """Glue each value under ``prefix + key``, shown only where the text cites it."""
    from myst_nb import glue

    for key, value in values.items():
        glue(prefix + key, value, display=False)


class ClaimError(AssertionError):
    """A sentence of the text that this build's numbers do not support."""


def claim(holds: bool, says: str) -> None:
    """Stop with :class:`ClaimError` unless ``holds``: the guard of the sentence
    ``says``.

    ``holds`` compares the number with its control (not only its sign); when it fails,
    the sentence must change, not the guard.
    """
    if not bool(holds):
        raise ClaimError(
            f"the text says {says}, but this build's numbers do not: rewrite the sentence"
        )
