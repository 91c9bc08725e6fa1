"""The book's column width, its colours, and the size of a figure's smallest text at that width."""

from __future__ import annotations

from matplotlib.figure import Figure

#: Blue for positive, red for negative, white for zero.
DIVERGING = "RdBu"


#: The width of the book's text column, in inches (about 690 CSS pixels): a wider
#: figure is shown scaled down to it, its text with it.
COLUMN_INCHES = 7.2


def smallest_text(fig: Figure, column_inches: float = COLUMN_INCHES) -> float:
    """The size, in points, of the smallest text drawn in ``fig`` as a reader sees it
    when
    the saved figure (cropped to its drawn content) is scaled down to the column's
    width."""
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
