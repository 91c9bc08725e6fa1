"""Curves, histograms and scatter plots of measured numbers."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .legibility import COLUMN_INCHES


def training_curves(histories: dict[str, dict[str, list[float]]]) -> Figure:
    """Test accuracy and training loss per epoch, one line per named model."""
    fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(COLUMN_INCHES, 3.4))
    for name, history in histories.items():
        ax_acc.plot(
            history["epoch"], np.asarray(history["test_accuracy"]) * 100, label=name
        )
        ax_loss.plot(history["epoch"], history["train_loss"], label=name)
    ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)", title="Test accuracy")
    ax_loss.set(
        xlabel="epoch",
        ylabel="cross-entropy",
        yscale="log",
        title="Training loss (with input noise)",
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
    ``legend_below`` puts the legend under the axes, for lines that leave no corner
    free."""
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
    """Eigenvalues of each class (rows of ``values``), largest ``|λ|`` first, one panel
    each."""
    vals = np.asarray(values, dtype=np.float64)
    ncols = 5
    nrows = -(-len(vals) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(COLUMN_INCHES, 1.9 * nrows), sharey=True, squeeze=False
    )
    for ax, row, label in zip(axes.flat, vals, labels):
        order = np.argsort(-np.abs(row))[:top]
        shown = row[order]
        ax.bar(
            np.arange(len(shown)),
            shown,
            color=np.where(shown >= 0, "#2166ac", "#b2182b"),
            width=0.8,
        )
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
        stds,
        100 * np.array(sweep["accuracy"]),
        "o-",
        color="#2166ac",
        label="eigenvector mask: accuracy",
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
        ax.plot(
            [x], [y], marker, color="black", markersize=8, linestyle="none", label=name
        )
    ax.set(xlabel="mask pixel std ε", ylabel="% of test images", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def frontier(
    families: dict[str, list[dict[str, float]]], reference_accuracy: float | None = None
) -> Figure:
    """L0 against FVU and against spliced accuracy, one line per family of transcoders.

    Each family is a list of :func:`wbinterp.sparse.evaluate_transcoder` results.
    """
    fig, (ax_fvu, ax_acc) = plt.subplots(1, 2, figsize=(COLUMN_INCHES, 3.6))
    for (name, runs), marker in zip(families.items(), "os^D"):
        pts = sorted((m["l0"], m["fvu"], m["spliced_accuracy"]) for m in runs)
        ax_fvu.plot([p[0] for p in pts], [p[1] for p in pts], marker + "-", label=name)
        ax_acc.plot(
            [p[0] for p in pts], [100 * p[2] for p in pts], marker + "-", label=name
        )
    if reference_accuracy is not None:
        ax_acc.axhline(
            100 * reference_accuracy, color="gray", linestyle=":", label="MLP itself"
        )
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
        ax.annotate(
            label, (x, y), textcoords="offset points", xytext=(6, -10), fontsize=9
        )
    for (label, (a, b)), marker in zip((others or {}).items(), "s^Dv"):
        ax.plot(
            100 * a, 100 * b, marker, color="#d55e00", linestyle="none", label=label
        )
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
    ax.set(
        xlabel="top-10 eigenvectors per digit: test accuracy (%)",
        ylabel="full model: test accuracy (%)",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def histogram(
    values,
    bins,
    xlabel: str,
    ylabel: str = "features",
    title: str = "",
    logx: bool = False,
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
    series: dict[str, Sequence[float]],
    bins,
    xlabel: str,
    title: str = "",
    logx: bool = False,
) -> Figure:
    """Outlined histograms of several populations on one axis, each as the share of its
    own members per bin (so populations of different sizes compare)."""
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    for name, population in series.items():
        values = np.asarray(population, dtype=np.float64)
        weights = np.full(len(values), 1.0 / max(len(values), 1))
        ax.hist(
            values,
            bins=bins,
            weights=weights,
            histtype="step",
            linewidth=1.8,
            label=name,
        )
    ax.set(xlabel=xlabel, ylabel="share of each population", title=title)
    if logx:
        ax.set_xscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def scatter_by_class(
    points, labels, class_names: Sequence[str], title: str = ""
) -> Figure:
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
        ax.plot(
            x, y, **{"marker": "o", "markersize": 3, **styles.get(name, {})}, label=name
        )
    for name, level in (baselines or {}).items():
        ax.axhline(
            level,
            **{
                "linestyle": "--",
                "linewidth": 1,
                "color": "gray",
                **styles.get(name, {}),
            },
            label=name,
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


def scatter(
    series: dict[str, tuple[Sequence[float], Sequence[float]]],
    xlabel: str,
    ylabel: str,
    title: str = "",
    diagonal: bool = False,
    logx: bool = False,
) -> Figure:
    """Point clouds ``name -> (x, y)`` on one axis; ``diagonal`` draws ``y = x``,
    ``logx``
    puts x on a log scale."""
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for name, (x, y) in series.items():
        ax.scatter(
            np.asarray(x), np.asarray(y), s=3, alpha=0.4, label=name, rasterized=True
        )
    if diagonal:
        lo, hi = ax.get_xlim()
        ax.plot(
            [lo, hi],
            [lo, hi],
            color="black",
            linewidth=0.8,
            linestyle="--",
            label="y = x",
        )
    if logx:
        ax.set_xscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, markerscale=4)
    fig.tight_layout()
    return fig
