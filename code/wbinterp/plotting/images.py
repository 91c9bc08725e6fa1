"""Pictures of images and matrices: digits, signed eigenvector pictures, quadratic forms, heatmaps."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .legibility import COLUMN_INCHES, DIVERGING


def _as_images(images) -> np.ndarray:
    arr = np.asarray(images, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 784:
        raise ValueError(f"expected images of shape (n, 784), got {arr.shape}")
    return arr.reshape(-1, 28, 28)


def digit_grid(
    images,
    titles: Sequence[str] | None = None,
    ncols: int = 10,
    cmap: str = "gray_r",
    size: float = 1.1,
) -> Figure:
    """Grid of 28×28 images (rows of ``images`` are flattened pixels in ``[0, 1]``), at
    most
    the column's width (``size`` shrinks to fit)."""
    arr = _as_images(images)
    nrows = -(-len(arr) // ncols)
    size = min(size, COLUMN_INCHES / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows * 1.15), squeeze=False
    )
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
        raise ValueError(
            "a colour bar needs one scale for every image: pass shared_scale=True"
        )
    arr = _as_images(images)
    nrows = -(-len(arr) // ncols)
    size = min(size, (COLUMN_INCHES - (1.4 if row_labels is not None else 0.0)) / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows * 1.2), squeeze=False
    )
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
            axes[r, 0].set_ylabel(
                label, rotation=0, ha="right", va="center", fontsize=9
            )
    if colorbar_label is None:
        fig.tight_layout()
        return fig
    bar = 0.5 / fig.get_figheight()  # half an inch under the grid, whatever its height
    fig.tight_layout(rect=(0, bar, 1, 1))
    cax = fig.add_axes((0.3, 0.25 * bar, 0.4, 0.2 * bar))
    scale = plt.cm.ScalarMappable(
        cmap=DIVERGING, norm=plt.Normalize(-global_max, global_max)
    )
    fig.colorbar(scale, cax=cax, orientation="horizontal")
    cax.set_xlabel(colorbar_label, fontsize=9)
    cax.tick_params(labelsize=9)
    return fig


def form_grid(
    matrices,
    titles: Sequence[str],
    ncols: int = 4,
    size: float = 1.7,
    annotate: bool = True,
) -> Figure:
    """Small signed matrices side by side, on one colour scale centred at zero (blue
    positive, red negative), each entry written in its cell when ``annotate``."""
    arr = np.asarray(matrices, dtype=np.float64)
    if arr.ndim != 3 or len(titles) != len(arr):
        raise ValueError(
            f"expected (n, a, b) matrices and n titles, got {arr.shape} and {len(titles)}"
        )
    nrows = -(-len(arr) // ncols)
    size = min(size, COLUMN_INCHES / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows * 1.1), squeeze=False
    )
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


def heatmap(
    matrix,
    xlabels: Sequence[str],
    ylabels: Sequence[str],
    title: str = "",
    signed: bool = True,
    colorbar_label: str = "",
) -> Figure:
    """A matrix as a colour grid (diverging and centred at zero when ``signed``), at
    most
    the column's width."""
    arr = np.asarray(matrix, dtype=np.float64)
    width = min(COLUMN_INCHES, max(4.0, 0.35 * arr.shape[1] + 2))
    fig, ax = plt.subplots(figsize=(width, max(3.0, 0.3 * arr.shape[0] + 1.5)))
    vmax = np.abs(arr).max() or 1.0
    im = ax.imshow(
        arr,
        cmap=DIVERGING if signed else "viridis",
        vmin=-vmax if signed else 0,
        vmax=vmax,
        aspect="auto",
    )
    ax.set_xticks(range(arr.shape[1]), xlabels, rotation=90, fontsize=9)
    ax.set_yticks(range(arr.shape[0]), ylabels, fontsize=9)
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, label=colorbar_label)
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
        figsize=(size * sum(widths) + 0.3 * len(groups), size * m * 1.3 + 0.4),
        layout="constrained",
    )
    panels_row = fig.subfigures(1, len(widths), width_ratios=widths, wspace=0.02)
    subfigs = np.atleast_1d(panels_row)  # type: ignore[arg-type]
    panels: list[tuple[str, np.ndarray, Sequence[Sequence[str]], bool]] = [
        ("input", digit_arr[:, None], [[t] for t in digit_titles], True)
    ]
    panels += [
        (
            label,
            _as_images(np.asarray(pics).reshape(-1, 784)).reshape(m, -1, 28, 28),
            titles,
            False,
        )
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
