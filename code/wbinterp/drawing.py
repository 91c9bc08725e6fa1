"""A drawn digit made into a model input, the way MNIST made its digits.

MNIST's digits were scanned, their bounding box scaled (aspect ratio kept) to fit a
20×20 box, with grey levels from the anti-aliasing, and the result placed in a 28×28
field with its centre of mass at the centre (LeCun, Cortes and Burges, the MNIST page).
:func:`to_mnist` does the same to any grey image, so a digit drawn on the explorer's
canvas reaches the models as the test images did. The scaling averages each output
pixel over the area of the image it covers (a box filter with fractional overlaps),
and the shift is a whole number of pixels that puts the centre of mass at ``(14, 14)``
in row and column indices: on MNIST's test images it sits at 13.99 ± 0.29 and 14.01 ±
0.29, as a whole-pixel shift leaves it. The explorer's script
(``wbbook-explorer.js``) computes the same steps in the same order; the browser check
compares the two.
"""

from __future__ import annotations

import math

import torch

#: The side of the box the digit's bounding box is scaled to fit, and of the field.
BOX, FIELD = 20, 28
#: Where the centre of mass goes, in row and column indices of the 28×28 field.
CENTRE = 14.0


def round_half_up(x: float) -> int:
    """``⌊x + ½⌋``: the rounding the page's script uses too (Python's ``round`` rounds
    halves to even)."""
    return math.floor(x + 0.5)


def area_weights(n_in: int, n_out: int) -> torch.Tensor:
    """``(n_out, n_in)``: row ``i`` averages the input over ``[i s, (i + 1) s)``, ``s =
    n_in / n_out``, each input cell weighted by its overlap (rows sum to one)."""
    if n_in < 1 or n_out < 1:
        raise ValueError(f"sizes must be positive, got {n_in} and {n_out}")
    s = n_in / n_out
    weights = torch.zeros(n_out, n_in, dtype=torch.float64)
    for i in range(n_out):
        lo, hi = i * s, (i + 1) * s
        for j in range(math.floor(lo), min(n_in, math.ceil(hi))):
            weights[i, j] = (min(hi, j + 1) - max(lo, j)) / s
    return weights


def to_mnist(image: torch.Tensor) -> torch.Tensor:
    """``(H, W)`` grey levels in ``[0, 1]`` (ink 1, paper 0) ``-> (784,)`` float32: the
    bounding box of the ink scaled to fit 20×20, placed with its centre of mass at the
    centre of 28×28. Raises ``ValueError`` on an empty image ("draw a digit")."""
    if image.ndim != 2 or min(image.shape) < 1:
        raise ValueError(
            f"image must be a 2-D (height, width) tensor, got shape {tuple(image.shape)}"
        )
    image = image.detach().to(torch.float64)
    if not bool(torch.isfinite(image).all()) or image.min() < 0 or image.max() > 1:
        raise ValueError("image must hold grey levels in [0, 1] (ink 1, paper 0)")
    rows, cols = (image > 0).any(1).nonzero(), (image > 0).any(0).nonzero()
    if len(rows) == 0:
        raise ValueError("the image is empty: draw a digit")
    ink = image[int(rows[0]) : int(rows[-1]) + 1, int(cols[0]) : int(cols[-1]) + 1]
    h, w = ink.shape
    scale = BOX / max(h, w)
    h_out, w_out = max(1, round_half_up(h * scale)), max(1, round_half_up(w * scale))
    small = area_weights(h, h_out) @ ink @ area_weights(w, w_out).T  # (h_out, w_out)
    mass = small.sum()
    com_row = float(
        (small.sum(1) * torch.arange(h_out, dtype=torch.float64)).sum() / mass
    )
    com_col = float(
        (small.sum(0) * torch.arange(w_out, dtype=torch.float64)).sum() / mass
    )
    top, left = round_half_up(CENTRE - com_row), round_half_up(CENTRE - com_col)
    field = torch.zeros(FIELD, FIELD, dtype=torch.float64)
    r0, r1 = max(0, top), min(FIELD, top + h_out)
    c0, c1 = max(0, left), min(FIELD, left + w_out)
    field[r0:r1, c0:c1] = small[r0 - top : r1 - top, c0 - left : c1 - left]
    return field.clamp(0, 1).flatten().to(torch.float32)
