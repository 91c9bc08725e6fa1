"""Figures for the book. These functions draw what they are given; they compute nothing.

Images use a diverging colormap centred at zero: blue positive, red negative,
white zero.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

#: Blue for positive, red for negative, white for zero.
DIVERGING = "RdBu"


#: The width of the book's text column, in inches (about 690 CSS pixels): a wider
#: figure is shown scaled down to it, its text with it.
COLUMN_INCHES = 7.2


def smallest_text(fig: Figure, column_inches: float = COLUMN_INCHES) -> float:
    """The size, in points, of the smallest text drawn in ``fig`` as a reader sees it when
    the saved figure (cropped to its drawn content) is scaled down to the column's width."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]  # Agg canvases have one
    sizes: list[float] = []
    draw_text = renderer.draw_text

    def recording(gc, x, y, s, prop, *args, **kwargs):
        if str(s).strip():
            sizes.append(prop.get_size_in_points())
        return draw_text(gc, x, y, s, prop, *args, **kwargs)

    renderer.draw_text = recording
    try:
        fig.draw(renderer)
    finally:
        del renderer.draw_text
    width = fig.get_tightbbox(renderer).width
    return min(sizes, default=float("inf")) * min(1.0, column_inches / width)


def _as_images(images) -> np.ndarray:
    arr = np.asarray(images, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 784:
        raise ValueError(f"expected images of shape (n, 784), got {arr.shape}")
    return arr.reshape(-1, 28, 28)


def digit_grid(
    images, titles: Sequence[str] | None = None, ncols: int = 10, cmap: str = "gray_r", size: float = 1.1
) -> Figure:
    """Grid of 28×28 images (rows of ``images`` are flattened pixels in ``[0, 1]``), at most
    the column's width (``size`` shrinks to fit)."""
    arr = _as_images(images)
    nrows = -(-len(arr) // ncols)
    size = min(size, COLUMN_INCHES / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows * 1.15), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(arr):
            ax.imshow(arr[i], cmap=cmap, vmin=0, vmax=1)
            if titles is not None:
                ax.set_title(titles[i], fontsize=9)
    fig.tight_layout()
    return fig


def signed_grid(
    images,
    titles: Sequence[str] | None = None,
    ncols: int = 10,
    size: float = 1.1,
    row_labels: Sequence[str] | None = None,
    shared_scale: bool = False,
    colorbar_label: str | None = None,
) -> Figure:
    """Grid of signed 28×28 images (blue positive, red negative, white zero).

    Each image is scaled symmetrically about zero by its own largest magnitude,
    or by the largest over all images when ``shared_scale``, which a colour bar
    labelled ``colorbar_label`` then shows under the grid. The grid is at most
    the column's width, row labels included (``size`` shrinks to fit).
    """
    if colorbar_label is not None and not shared_scale:
        raise ValueError("a colour bar needs one scale for every image: pass shared_scale=True")
    arr = _as_images(images)
    nrows = -(-len(arr) // ncols)
    size = min(size, (COLUMN_INCHES - (1.4 if row_labels is not None else 0.0)) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows * 1.2), squeeze=False)
    global_max = np.abs(arr).max() or 1.0
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        if i < len(arr):
            vmax = global_max if shared_scale else (np.abs(arr[i]).max() or 1.0)
            ax.imshow(arr[i], cmap=DIVERGING, vmin=-vmax, vmax=vmax)
            if titles is not None:
                ax.set_title(titles[i], fontsize=9)
    if row_labels is not None:
        for r, label in enumerate(row_labels):
            axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    if colorbar_label is None:
        fig.tight_layout()
        return fig
    bar = 0.5 / fig.get_figheight()  # half an inch under the grid, whatever its height
    fig.tight_layout(rect=(0, bar, 1, 1))
    cax = fig.add_axes((0.3, 0.25 * bar, 0.4, 0.2 * bar))
    scale = plt.cm.ScalarMappable(cmap=DIVERGING, norm=plt.Normalize(-global_max, global_max))
    fig.colorbar(scale, cax=cax, orientation="horizontal")
    cax.set_xlabel(colorbar_label, fontsize=9)
    cax.tick_params(labelsize=9)
    return fig


def training_curves(histories: dict[str, dict[str, list[float]]]) -> Figure:
    """Test accuracy and training loss per epoch, one line per named model."""
    fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(COLUMN_INCHES, 3.4))
    for name, history in histories.items():
        ax_acc.plot(history["epoch"], np.asarray(history["test_accuracy"]) * 100, label=name)
        ax_loss.plot(history["epoch"], history["train_loss"], label=name)
    ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)", title="Test accuracy")
    ax_loss.set(
        xlabel="epoch", ylabel="cross-entropy", yscale="log", title="Training loss (with input noise)"
    )
    ax_acc.legend()
    fig.tight_layout()
    return fig


def curves(
    x,
    ys: dict[str, Sequence[float]],
    xlabel: str,
    ylabel: str,
    title: str = "",
    logx: bool = False,
    reference: dict[str, tuple[Sequence[float], Sequence[float]]] | None = None,
    ax=None,
    legend_below: bool = False,
) -> Figure:
    """Lines of ``ys`` against ``x``; ``reference`` adds quoted numbers as markers.
    ``legend_below`` puts the legend under the axes, for lines that leave no corner free."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6.5, 3.8))
    for name, y in ys.items():
        ax.plot(x, y, marker="o", markersize=3, label=name)
    for name, (rx, ry) in (reference or {}).items():
        ax.plot(rx, ry, linestyle="none", marker="x", markersize=7, label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if logx:
        ax.set_xscale("symlog", linthresh=1)
    ax.grid(alpha=0.3)
    if legend_below:
        ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    else:
        ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def spectra(values, labels: Sequence[str], top: int = 40, title: str = "") -> Figure:
    """Eigenvalues of each class (rows of ``values``), largest ``|λ|`` first, one panel each."""
    vals = np.asarray(values, dtype=np.float64)
    ncols = 5
    nrows = -(-len(vals) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(COLUMN_INCHES, 1.9 * nrows), sharey=True, squeeze=False)
    for ax, row, label in zip(axes.flat, vals, labels):
        order = np.argsort(-np.abs(row))[:top]
        shown = row[order]
        ax.bar(np.arange(len(shown)), shown, color=np.where(shown >= 0, "#2166ac", "#b2182b"), width=0.8)
        ax.axhline(0, color="black", linewidth=0.5)
        ax.set_title(label, fontsize=9)
        ax.set_xticks([0, len(shown) - 1], [1, len(shown)])
    for ax in axes.flat[len(vals) :]:
        ax.axis("off")
    fig.supxlabel("eigenvector, by |eigenvalue|", fontsize=9)
    fig.supylabel("eigenvalue", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def attack_curves(
    sweep: dict[str, list[float]],
    quoted: dict[str, tuple[float, float]] | None = None,
    title: str = "Masks from the weights alone",
) -> Figure:
    """Accuracy and target rate against mask strength, masks and shuffled controls.

    ``sweep`` is :func:`wbinterp.adversarial.strength_sweep`'s result; ``quoted``
    adds reference points (std, percent) from elsewhere, drawn as black markers.
    """
    stds = sweep["std"]
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.plot(
        stds, 100 * np.array(sweep["accuracy"]), "o-", color="#2166ac", label="eigenvector mask: accuracy"
    )
    ax.plot(
        stds,
        100 * np.array(sweep["target_rate"]),
        "s-",
        color="#b2182b",
        label="eigenvector mask: classified as target",
    )
    ax.plot(
        stds,
        100 * np.array(sweep["control_accuracy"]),
        "o--",
        color="#6baed6",
        label="shuffled control: accuracy",
    )
    ax.plot(
        stds,
        100 * np.array(sweep["control_target_rate"]),
        "s--",
        color="#fc9272",
        label="shuffled control: classified as target",
    )
    for (name, (x, y)), marker in zip((quoted or {}).items(), "x+*^"):
        ax.plot([x], [y], marker, color="black", markersize=8, linestyle="none", label=name)
    ax.set(xlabel="mask pixel std ε", ylabel="% of test images", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def frontier(families: dict[str, list[dict[str, float]]], reference_accuracy: float | None = None) -> Figure:
    """L0 against FVU and against spliced accuracy, one line per family of transcoders.

    Each family is a list of :func:`wbinterp.sparse.evaluate_transcoder` results.
    """
    fig, (ax_fvu, ax_acc) = plt.subplots(1, 2, figsize=(COLUMN_INCHES, 3.6))
    for (name, runs), marker in zip(families.items(), "os^D"):
        pts = sorted((m["l0"], m["fvu"], m["spliced_accuracy"]) for m in runs)
        ax_fvu.plot([p[0] for p in pts], [p[1] for p in pts], marker + "-", label=name)
        ax_acc.plot([p[0] for p in pts], [100 * p[2] for p in pts], marker + "-", label=name)
    if reference_accuracy is not None:
        ax_acc.axhline(100 * reference_accuracy, color="gray", linestyle=":", label="MLP itself")
    ax_fvu.set(
        xlabel="L0 (active features per image)",
        ylabel="FVU",
        xscale="log",
        yscale="log",
        title="Reconstruction of the hidden layer",
    )
    ax_acc.set(
        xlabel="L0 (active features per image)",
        ylabel="spliced accuracy (%)",
        xscale="log",
        title="Accuracy with the transcoder spliced in",
    )
    for ax in (ax_fvu, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


def recipe_frontier(
    sweep: dict[str, tuple[float, float]],
    others: dict[str, tuple[float, float]] | None = None,
    reference: tuple[str, float] | None = None,
    chosen: str | None = None,
) -> Figure:
    """Full test accuracy against top-k accuracy, one point per recipe.

    ``sweep`` (joined by a line, in order) and ``others`` map a label to
    ``(top_k_accuracy, accuracy)``, fractions; ``reference`` a quoted full
    accuracy, drawn as a horizontal line; ``chosen`` the sweep label to ring.
    """
    fig, ax = plt.subplots(figsize=(6.5, 4.0))
    xs, ys = zip(*[(100 * a, 100 * b) for a, b in sweep.values()])
    ax.plot(xs, ys, "o-", color="#0072b2", label="one recipe, trained longer")
    for label, x, y in zip(sweep, xs, ys):
        ax.annotate(label, (x, y), textcoords="offset points", xytext=(6, -10), fontsize=9)
    for (label, (a, b)), marker in zip((others or {}).items(), "s^Dv"):
        ax.plot(100 * a, 100 * b, marker, color="#d55e00", linestyle="none", label=label)
    if chosen is not None:
        a, b = sweep[chosen]
        ax.plot(
            100 * a,
            100 * b,
            "o",
            markersize=14,
            markerfacecolor="none",
            color="black",
            label="the book's model",
        )
    if reference is not None:
        ax.axhline(100 * reference[1], color="gray", linestyle=":", label=reference[0])
    ax.set(xlabel="top-10 eigenvectors per digit: test accuracy (%)", ylabel="full model: test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def heatmap(
    matrix,
    xlabels: Sequence[str],
    ylabels: Sequence[str],
    title: str = "",
    signed: bool = True,
    colorbar_label: str = "",
) -> Figure:
    """A matrix as a colour grid (diverging and centred at zero when ``signed``), at most
    the column's width."""
    arr = np.asarray(matrix, dtype=np.float64)
    width = min(COLUMN_INCHES, max(4.0, 0.35 * arr.shape[1] + 2))
    fig, ax = plt.subplots(figsize=(width, max(3.0, 0.3 * arr.shape[0] + 1.5)))
    vmax = np.abs(arr).max() or 1.0
    im = ax.imshow(
        arr, cmap=DIVERGING if signed else "viridis", vmin=-vmax if signed else 0, vmax=vmax, aspect="auto"
    )
    ax.set_xticks(range(arr.shape[1]), xlabels, rotation=90, fontsize=9)
    ax.set_yticks(range(arr.shape[0]), ylabels, fontsize=9)
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, label=colorbar_label)
    fig.tight_layout()
    return fig


def form_grid(
    matrices, titles: Sequence[str], ncols: int = 4, size: float = 1.7, annotate: bool = True
) -> Figure:
    """Small signed matrices side by side, on one colour scale centred at zero (blue
    positive, red negative), each entry written in its cell when ``annotate``."""
    arr = np.asarray(matrices, dtype=np.float64)
    if arr.ndim != 3 or len(titles) != len(arr):
        raise ValueError(f"expected (n, a, b) matrices and n titles, got {arr.shape} and {len(titles)}")
    nrows = -(-len(arr) // ncols)
    size = min(size, COLUMN_INCHES / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows * 1.1), squeeze=False)
    vmax = np.abs(arr).max() or 1.0
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= len(arr):
            ax.axis("off")
            continue
        ax.imshow(arr[i], cmap=DIVERGING, vmin=-vmax, vmax=vmax)
        ax.set_title(titles[i], fontsize=9)
        if annotate:
            for (r, c), v in np.ndenumerate(arr[i]):
                if abs(v) >= 0.005:
                    ax.text(c, r, f"{v:.2g}", ha="center", va="center", fontsize=9)
    fig.tight_layout()
    return fig


def histogram(
    values, bins, xlabel: str, ylabel: str = "features", title: str = "", logx: bool = False
) -> Figure:
    """A histogram of ``values``."""
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    ax.hist(np.asarray(values, dtype=np.float64), bins=bins, color="#2166ac")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if logx:
        ax.set_xscale("log")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def histograms(
    series: dict[str, Sequence[float]], bins, xlabel: str, title: str = "", logx: bool = False
) -> Figure:
    """Outlined histograms of several populations on one axis, each as the share of its
    own members per bin (so populations of different sizes compare)."""
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    for name, population in series.items():
        values = np.asarray(population, dtype=np.float64)
        weights = np.full(len(values), 1.0 / max(len(values), 1))
        ax.hist(values, bins=bins, weights=weights, histtype="step", linewidth=1.8, label=name)
    ax.set(xlabel=xlabel, ylabel="share of each population", title=title)
    if logx:
        ax.set_xscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def scatter_by_class(points, labels, class_names: Sequence[str], title: str = "") -> Figure:
    """2-D points coloured by class (for t-SNE maps)."""
    pts, lab = np.asarray(points), np.asarray(labels)
    fig, ax = plt.subplots(figsize=(6.5, 6))
    cmap = plt.get_cmap("tab10")
    for c, name in enumerate(class_names):
        sel = lab == c
        ax.scatter(pts[sel, 0], pts[sel, 1], s=4, color=cmap(c), label=name)
        if sel.any():
            cx, cy = np.median(pts[sel], axis=0)
            ax.text(
                cx,
                cy,
                name,
                fontsize=12,
                weight="bold",
                ha="center",
                va="center",
                bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none"},
            )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    fig.tight_layout()
    return fig


def budget_curves(
    series: dict[str, tuple[Sequence[float], Sequence[float]]],
    xlabel: str,
    ylabel: str,
    baselines: dict[str, float] | None = None,
    styles: dict[str, dict] | None = None,
    title: str = "",
    logx: bool = True,
) -> Figure:
    """Lines that each have their own x values, plus dashed horizontal baselines.

    ``series`` maps a name to ``(x, y)``; ``baselines`` maps a name to a y value
    (a full model's accuracy, say). ``styles`` may give matplotlib keyword
    arguments by name (colour, linestyle, marker) for either kind, so a curve and
    its baseline can share a colour. With ``logx`` the x axis is symmetric-log
    (linear below 1), so x = 0 can be drawn.
    """
    styles = styles or {}
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, (x, y) in series.items():
        ax.plot(x, y, **{"marker": "o", "markersize": 3, **styles.get(name, {})}, label=name)
    for name, level in (baselines or {}).items():
        ax.axhline(
            level, **{"linestyle": "--", "linewidth": 1, "color": "gray", **styles.get(name, {})}, label=name
        )
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if logx:
        ax.set_xscale("symlog", linthresh=1)
    xs = [v for x, _ in series.values() for v in x]
    if xs:
        ax.set_xlim(min(xs), max(xs) * (1.25 if logx else 1.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="lower right")
    fig.tight_layout()
    return fig


def explanation_rows(
    digits,
    digit_titles: Sequence[str],
    groups: Sequence[tuple[str, np.ndarray, Sequence[Sequence[str]]]],
    size: float = 1.25,
) -> Figure:
    """One row per input: the input (grey) and, per group, a few signed pictures.

    ``digits`` is ``(m, 784)`` in ``[0, 1]``. Each group is ``(label, pictures,
    titles)`` with ``pictures`` of shape ``(m, j, 784)`` (drawn blue positive, red
    negative, each scaled to its own largest magnitude) and ``titles`` an
    ``m × j`` nested list; the label is written above the group's columns.
    """
    digit_arr = _as_images(digits)
    m = len(digit_arr)
    widths = [1] + [np.asarray(pics).shape[1] for _, pics, _ in groups]
    fig = plt.figure(
        figsize=(size * sum(widths) + 0.3 * len(groups), size * m * 1.3 + 0.4), layout="constrained"
    )
    subfigs = np.atleast_1d(fig.subfigures(1, len(widths), width_ratios=widths, wspace=0.02))  # type: ignore[arg-type]
    panels: list[tuple[str, np.ndarray, Sequence[Sequence[str]], bool]] = [
        ("input", digit_arr[:, None], [[t] for t in digit_titles], True)
    ]
    panels += [
        (label, _as_images(np.asarray(pics).reshape(-1, 784)).reshape(m, -1, 28, 28), titles, False)
        for label, pics, titles in groups
    ]
    for sub, (label, arr, titles, grey) in zip(subfigs, panels):
        axes = sub.subplots(m, arr.shape[1], squeeze=False)
        for r in range(m):
            for j in range(arr.shape[1]):
                ax = axes[r, j]
                ax.set_xticks([])
                ax.set_yticks([])
                for spine in ax.spines.values():
                    spine.set_visible(grey)
                if grey:
                    ax.imshow(arr[r, j], cmap="gray_r", vmin=0, vmax=1)
                else:
                    vmax = np.abs(arr[r, j]).max() or 1.0
                    ax.imshow(arr[r, j], cmap=DIVERGING, vmin=-vmax, vmax=vmax)
                ax.set_title(titles[r][j], fontsize=9)
        sub.suptitle(label, fontsize=10)
    return fig


def scatter(
    series: dict[str, tuple[Sequence[float], Sequence[float]]],
    xlabel: str,
    ylabel: str,
    title: str = "",
    diagonal: bool = False,
    logx: bool = False,
) -> Figure:
    """Point clouds ``name -> (x, y)`` on one axis; ``diagonal`` draws ``y = x``, ``logx``
    puts x on a log scale."""
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for name, (x, y) in series.items():
        ax.scatter(np.asarray(x), np.asarray(y), s=3, alpha=0.4, label=name, rasterized=True)
    if diagonal:
        lo, hi = ax.get_xlim()
        ax.plot([lo, hi], [lo, hi], color="black", linewidth=0.8, linestyle="--", label="y = x")
    if logx:
        ax.set_xscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, markerscale=4)
    fig.tight_layout()
    return fig


# --- diagrams: drawn, not computed ------------------------------------------------------


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
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "-|>", "color": "#333333", "lw": 1.2})
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
    """The bilinear classifier (left) and its tensor (right): contracting the tensor ``B``
    with the head row ``u_c`` along its neuron axis gives digit ``c``'s interaction matrix
    ``Q_c``, whose eigenvectors are the features (after the paper's Fig. 1)."""
    from matplotlib.patches import Polygon, Rectangle

    fig, (left, right) = plt.subplots(1, 2, figsize=(7.6, 3.3), gridspec_kw={"width_ratios": [1, 1.25]})
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
    # the tensor: a cube with the input axes i, j on its face and the neuron axis a in depth
    right.add_patch(Rectangle((0.4, 1.1), 2.8, 2.8, fc="#c6dbef", ec="#333333"))
    right.add_patch(Polygon([(0.4, 3.9), (1.5, 5.0), (4.3, 5.0), (3.2, 3.9)], fc="#deebf7", ec="#333333"))
    right.add_patch(Polygon([(3.2, 1.1), (4.3, 2.2), (4.3, 5.0), (3.2, 3.9)], fc="#9ecae1", ec="#333333"))
    right.text(1.8, 2.5, "$B_{aij}$", ha="center", va="center", fontsize=13)
    right.text(1.8, 0.6, "$i, j$: input $h$", ha="center", fontsize=10)
    # the head row u_c, laid along the neuron axis a
    right.add_patch(Polygon([(3.7, 0.9), (4.8, 2.0), (5.1, 2.0), (4.0, 0.9)], fc="#fec44f", ec="#333333"))
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
    _arrow(right, (x1 + 1.2, 0.95), (x2 - 0.6, 1.65), "$\\phi(W_\\mathrm{enc} \\cdot)$", offset=(0.55, -0.3))
    _arrow(right, (x2, 2.35), (x2, 3.65), "$W_\\mathrm{dec}$", offset=(0.7, 0))
    right.annotate(
        "",
        xy=(x1 + 1.75, 3.15),
        xytext=(x2 - 1.85, 3.85),
        arrowprops={"arrowstyle": "-|>", "color": "#6a51a3", "lw": 1.2, "linestyle": "--"},
    )
    right.text(x2 - 1.2, 3.05, "spliced in\nfor $y$", ha="left", va="center", fontsize=10, color="#6a51a3")
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
        ax.text(x, 0.8, _wrap(caption, 18), ha="center", va="center", fontsize=10, fontweight="bold")
        for i, title in enumerate(chapters):
            y = -step * i
            _box(ax, (x, y), width - 0.15, step - 0.15, _wrap(title, 19), colours[p % 6], 9.5)
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
