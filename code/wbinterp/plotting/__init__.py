"""Figures for the book. These functions draw what they are given; they compute nothing.

One module per kind of picture: ``plotting.images`` (digits, signed
pictures, forms, heatmaps), ``plotting.curves`` (curves, histograms,
scatter plots) and ``plotting.diagrams`` (drawn by code), over
``plotting.legibility`` (the column's width, the colours, the smallest
text). Images use a diverging colormap centred at zero: blue positive, red negative,
white zero. Everything is importable from here: ``plotting.signed_grid(...)``.
"""

from .curves import (
    attack_curves,
    budget_curves,
    curves,
    frontier,
    histogram,
    histograms,
    recipe_frontier,
    scatter,
    scatter_by_class,
    spectra,
    training_curves,
)
from .diagrams import architecture_diagram, book_map, layer_diagram
from .images import digit_grid, explanation_rows, form_grid, heatmap, signed_grid
from .legibility import COLUMN_INCHES, DIVERGING, smallest_text

__all__ = [
    "COLUMN_INCHES",
    "DIVERGING",
    "architecture_diagram",
    "attack_curves",
    "book_map",
    "budget_curves",
    "curves",
    "digit_grid",
    "explanation_rows",
    "form_grid",
    "frontier",
    "heatmap",
    "histogram",
    "histograms",
    "layer_diagram",
    "recipe_frontier",
    "scatter",
    "scatter_by_class",
    "signed_grid",
    "smallest_text",
    "spectra",
    "training_curves",
]
