"""Diagrams drawn by code: the layer, the two architectures, the book's map."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .legibility import COLUMN_INCHES

# --- diagrams: drawn, not computed
# ------------------------------------------------------


def _box(ax, xy, w, h, text, colour="#deebf7", fontsize=10):
    from matplotlib.patches import FancyBboxPatch

    x, y = xy
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.08",
            fc=colour,
            ec="#333333",
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, start, end, text="", offset=(0.0, 0.12), fontsize=10):
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        arrowprops={"arrowstyle": "-|>", "color": "#333333", "lw": 1.2},
    )
    if text:
        mid = ((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1])
        ax.text(
            *mid,
            text,
            ha="center",
            va="center",
            fontsize=fontsize,
            bbox={"fc": "white", "ec": "none", "pad": 1.0},
        )


def layer_diagram() -> Figure:
    """The bilinear classifier (left) and its tensor (right): contracting the tensor
    ``B``
    with the head row ``u_c`` along its neuron axis gives digit ``c``'s interaction
    matrix
    ``Q_c``, whose eigenvectors are the features (after the paper's Fig. 1)."""
    from matplotlib.patches import Polygon, Rectangle

    fig, (left, right) = plt.subplots(
        1, 2, figsize=(7.6, 3.3), gridspec_kw={"width_ratios": [1, 1.25]}
    )
    for ax in (left, right):
        ax.set_xlim(0, 10)
        ax.set_ylim(0.1, 6.3)
        ax.axis("off")
    # the network, bottom to top
    _box(left, (5, 0.6), 3.4, 0.75, "image $x$ (784)", "#f0f0f0")
    _box(left, (5, 2.1), 3.4, 0.75, "$h = W_e x$ ($d$)")
    _box(left, (2.0, 3.6), 2.6, 0.75, "$W_l h$", "#fde0dd")
    _box(left, (8.0, 3.6), 2.6, 0.75, "$W_r h$", "#e5f5e0")
    _box(left, (5, 4.4), 1.2, 0.75, r"$\odot$", "#ffffff", fontsize=14)
    _box(left, (5, 5.75), 4.6, 0.75, "logits $W_u\\,g(h)$ (10)", "#fff7bc")
    _arrow(left, (5, 0.98), (5, 1.72), "$W_e$", offset=(0.75, 0))
    _arrow(left, (4.0, 2.48), (2.6, 3.22))
    _arrow(left, (6.0, 2.48), (7.4, 3.22))
    _arrow(left, (3.3, 3.75), (4.4, 4.3))
    _arrow(left, (6.7, 3.75), (5.6, 4.3))
    _arrow(left, (5, 4.78), (5, 5.37), "$W_u$", offset=(0.75, 0))
    left.set_title("the layer: $g(h) = (W_l h) \\odot (W_r h)$", fontsize=10)
    # the tensor: a cube with the input axes i, j on its face and the neuron axis a in
    # depth
    right.add_patch(Rectangle((0.4, 1.1), 2.8, 2.8, fc="#c6dbef", ec="#333333"))
    right.add_patch(
        Polygon(
            [(0.4, 3.9), (1.5, 5.0), (4.3, 5.0), (3.2, 3.9)], fc="#deebf7", ec="#333333"
        )
    )
    right.add_patch(
        Polygon(
            [(3.2, 1.1), (4.3, 2.2), (4.3, 5.0), (3.2, 3.9)], fc="#9ecae1", ec="#333333"
        )
    )
    right.text(1.8, 2.5, "$B_{aij}$", ha="center", va="center", fontsize=13)
    right.text(1.8, 0.6, "$i, j$: input $h$", ha="center", fontsize=10)
    # the head row u_c, laid along the neuron axis a
    right.add_patch(
        Polygon(
            [(3.7, 0.9), (4.8, 2.0), (5.1, 2.0), (4.0, 0.9)], fc="#fec44f", ec="#333333"
        )
    )
    right.text(5.05, 1.2, "$u_c$ along $a$", fontsize=10)
    _arrow(right, (4.6, 3.4), (6.2, 3.4), "contract", offset=(0, 0.3))
    right.add_patch(Rectangle((6.4, 2.3), 2.2, 2.2, fc="#c6dbef", ec="#333333"))
    right.text(7.5, 3.4, "$Q_c$", ha="center", va="center", fontsize=13)
    right.text(7.5, 1.75, "$d \\times d$", ha="center", fontsize=10)
    right.text(
        7.5,
        5.45,
        "$\\mathrm{logit}_c = h^\\top Q_c h$\n$= \\sum_k \\lambda_k (v_k \\cdot h)^2$",
        ha="center",
        fontsize=10,
    )
    right.set_title("its tensor, one matrix per digit", fontsize=10)
    fig.tight_layout()
    return fig


def architecture_diagram() -> Figure:
    """The book's two classifiers side by side: the bilinear model (left) and the ReLU
    MLP with a transcoder beside its hidden layer (right), widths in brackets."""
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(COLUMN_INCHES, 4.0), gridspec_kw={"width_ratios": [1, 1.45]}
    )
    for ax, width in ((left, 6.0), (right, 8.7)):
        ax.set_xlim(0, width)
        ax.set_ylim(0.1, 6.4)
        ax.axis("off")
    x0 = 3.0
    _box(left, (x0, 0.6), 3.4, 0.7, "image $x$ (784)", "#f0f0f0")
    _box(left, (x0, 2.2), 3.4, 0.7, "$h$ (512)")
    _box(left, (x0, 3.8), 3.4, 0.7, "$g(h)$ (512)", "#fde0dd")
    _box(left, (x0, 5.4), 3.4, 0.7, "logits (10)", "#fff7bc")
    _arrow(left, (x0, 0.95), (x0, 1.85), "$W_e$", offset=(0.6, 0))
    _arrow(left, (x0, 2.55), (x0, 3.45), "$(W_l h) \\odot (W_r h)$", offset=(0.0, 0.0))
    _arrow(left, (x0, 4.15), (x0, 5.05), "$W_u$", offset=(0.6, 0))
    left.set_title("bilinear model", fontsize=10)
    x1, x2 = 2.2, 6.5
    _box(right, (x1, 0.6), 3.4, 0.7, "image $x$ (784)", "#f0f0f0")
    _box(right, (x1, 3.0), 3.4, 0.7, "$y$ (512)", "#e5f5e0")
    _box(right, (x1, 5.4), 3.4, 0.7, "logits (10)", "#fff7bc")
    _arrow(right, (x1, 0.95), (x1, 2.65), "ReLU$(W_\\mathrm{in} x)$", offset=(0.0, 0.0))
    _arrow(right, (x1, 3.35), (x1, 5.05), "$W_\\mathrm{out}$", offset=(0.6, 0))
    _box(right, (x2, 2.0), 3.6, 0.7, "features $f$ (2048)", "#efedf5")
    _box(right, (x2, 4.0), 3.6, 0.7, "$\\hat y$ (512)", "#efedf5")
    _arrow(
        right,
        (x1 + 1.2, 0.95),
        (x2 - 0.6, 1.65),
        "$\\phi(W_\\mathrm{enc} \\cdot)$",
        offset=(0.55, -0.3),
    )
    _arrow(right, (x2, 2.35), (x2, 3.65), "$W_\\mathrm{dec}$", offset=(0.7, 0))
    right.annotate(
        "",
        xy=(x1 + 1.75, 3.15),
        xytext=(x2 - 1.85, 3.85),
        arrowprops={
            "arrowstyle": "-|>",
            "color": "#6a51a3",
            "lw": 1.2,
            "linestyle": "--",
        },
    )
    right.text(
        x2 - 1.2,
        3.05,
        "spliced in\nfor $y$",
        ha="left",
        va="center",
        fontsize=10,
        color="#6a51a3",
    )
    right.set_title("ReLU MLP and its transcoder", fontsize=10)
    fig.tight_layout()
    return fig


def book_map(parts: Sequence[tuple[str, Sequence[str]]]) -> Figure:
    """The book's parts side by side, each a column of its chapters in reading order."""
    longest = max(len(chapters) for _, chapters in parts)
    step, width = 0.75, 1.8
    fig, ax = plt.subplots(figsize=(width * len(parts), step * longest + 1.2))
    ax.set_xlim(0, width * len(parts))
    ax.set_ylim(-step * (longest - 0.5), 1.25)
    ax.axis("off")
    colours = ["#f0f0f0", "#deebf7", "#fde0dd", "#e5f5e0", "#fff7bc", "#efedf5"]
    for p, (caption, chapters) in enumerate(parts):
        x = width * p + width / 2
        ax.text(
            x,
            0.8,
            _wrap(caption, 18),
            ha="center",
            va="center",
            fontsize=10,
            fontweight="bold",
        )
        for i, title in enumerate(chapters):
            y = -step * i
            _box(
                ax,
                (x, y),
                width - 0.15,
                step - 0.15,
                _wrap(title, 19),
                colours[p % 6],
                9.5,
            )
            if i:
                ax.annotate(
                    "",
                    xy=(x, y + (step - 0.15) / 2),
                    xytext=(x, y + step / 2 + 0.07),
                    arrowprops={"arrowstyle": "-|>", "lw": 0.8},
                )
    fig.tight_layout()
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))
