"""Figures: legible at the book's column width, and the diagrams drawn by code."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from wbinterp import plotting  # noqa: E402


def _figure(width: float, title_size: float = 12.0, ticks: bool = True):
    fig, ax = plt.subplots(figsize=(width, 3))
    ax.plot([0, 1], [0, 1])
    ax.set_title("title", fontsize=title_size)
    ax.tick_params(labelsize=10)
    if not ticks:
        ax.axis("off")
    return fig


def test_smallest_text_is_the_smallest_drawn_font_scaled_to_the_column():
    narrow = _figure(5.0)
    assert plotting.smallest_text(narrow) == pytest.approx(
        10.0
    )  # tick labels, unscaled
    wide = _figure(14.4)
    width = wide.get_tightbbox(wide.canvas.get_renderer()).width
    assert plotting.smallest_text(wide) == pytest.approx(
        10.0 * plotting.COLUMN_INCHES / width
    )
    assert plotting.smallest_text(wide) < 7.0
    # text that is not drawn does not count: an axis turned off hides its tick labels
    assert plotting.smallest_text(_figure(5.0, ticks=False)) == pytest.approx(12.0)
    empty, _ = plt.subplots()
    empty.axes[0].axis("off")
    assert plotting.smallest_text(empty) == float("inf")
    plt.close("all")


@pytest.mark.parametrize("ncols", [5, 10, 12])
def test_image_grids_shrink_to_the_column(ncols):
    images = np.random.default_rng(0).random((ncols, 784))
    for fig in (
        plotting.digit_grid(
            images, titles=[str(i) for i in range(ncols)], ncols=ncols, size=1.5
        ),
        plotting.signed_grid(images - 0.5, ncols=ncols, size=1.5, row_labels=["row"]),
    ):
        assert fig.get_figwidth() <= plotting.COLUMN_INCHES + 1e-9
    plt.close("all")


def test_diagrams_are_legible_at_the_column():
    for fig in (plotting.layer_diagram(), plotting.architecture_diagram()):
        assert plotting.smallest_text(fig) >= 9.0
    plt.close("all")


@pytest.mark.parametrize("below", [False, True])
def test_curves_can_put_the_legend_under_the_axes_and_stay_legible(below):
    fig = plotting.curves(
        [0, 1, 2, 4],
        {"first": [1, 2, 3, 4], "second": [4, 3, 2, 1], "third": [2, 2, 2, 2]},
        xlabel="n",
        ylabel="accuracy",
        logx=True,
        legend_below=below,
    )
    fig.canvas.draw()
    ax = fig.axes[0]
    legend, frame = ax.get_legend().get_window_extent(), ax.get_window_extent()
    assert (legend.y1 <= frame.y0) == below  # wholly under the axes only when asked
    assert plotting.smallest_text(fig) >= 9.0
    plt.close(fig)


def test_histograms_show_each_population_as_shares_of_itself():
    fig = plotting.histograms(
        {"many": np.repeat(np.arange(10) / 10 + 0.05, 100), "few": [0.05, 0.15, 0.95]},
        bins=np.linspace(0, 1, 11),
        xlabel="selectivity",
    )
    heights = [patch.get_path().vertices[:, 1].max() for patch in fig.axes[0].patches]
    np.testing.assert_allclose(heights, [0.1, 1 / 3])  # 100 of 1000 per bin; 1 of 3
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "many",
        "few",
    ]
    assert plotting.smallest_text(fig) >= 9.0
    plt.close(fig)


def test_signed_grid_with_one_scale_shows_it_in_a_labelled_colour_bar():
    images = np.stack([np.linspace(-1, 1, 784), 3 * np.linspace(-1, 1, 784)])
    fig = plotting.signed_grid(
        images, ncols=2, shared_scale=True, colorbar_label="pixel weight"
    )
    *grid, bar = fig.axes
    assert len(grid) == 2 and bar.get_xlabel() == "pixel weight"
    assert [im.get_clim() for ax in grid for im in ax.get_images()] == [(-3.0, 3.0)] * 2
    assert plotting.smallest_text(fig) >= 9.0
    with pytest.raises(ValueError, match="shared_scale=True"):
        plotting.signed_grid(images, colorbar_label="pixel weight")
    plt.close("all")
