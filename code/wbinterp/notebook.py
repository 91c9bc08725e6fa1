"""Helpers a chapter (or any notebook) calls: reproducible setup, and Markdown tables to glue."""

from __future__ import annotations

import matplotlib
import torch


def setup(seed: int = 0) -> None:
    """Make a chapter's output stable and readable: seeds, threads, figure style.

    Figures get an opaque white background so they stay readable in dark mode.
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


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    """A Markdown table (for ``glue`` with ``IPython.display.Markdown``)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
