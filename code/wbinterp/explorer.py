"""The data behind the book's explorer: how a prediction builds up, term by term.

For a few test images, the logits of the bilinear model with only the ``k`` largest
eigenvectors of each digit kept (``k = 0, 1, …``), and those of the spliced transcoder
with only each image's ``n`` largest features kept. The book computes them at build
time and a small script on the page (no kernel) draws them.
"""

from __future__ import annotations

import torch

from .bilinear import by_magnitude, check_shape, eigen_contributions, spectrum
from .features import keep_top_n


@torch.no_grad()
def eigenvector_curves(model, images: torch.Tensor, k_max: int) -> torch.Tensor:
    """``(batch, k_max + 1, 10)``: row ``k`` holds the logits from the ``k`` eigenvectors of
    largest ``|λ|`` of every digit (row 0 is zeros; ``k = d`` would give the model's logits)."""
    check_shape("images", images, (None, model.config.d_input))
    spec = by_magnitude(spectrum(model.interaction_matrices()))
    if not 0 <= k_max <= spec.values.shape[-1]:
        raise ValueError(f"k_max must be between 0 and {spec.values.shape[-1]}, got {k_max}")
    terms = eigen_contributions(spec, model.embed(images))[..., :k_max]  # (batch, 10, k_max)
    steps = torch.cat([terms.new_zeros(*terms.shape[:2], 1), terms.cumsum(-1)], dim=-1)
    return steps.transpose(1, 2)


@torch.no_grad()
def feature_curves(transcoder, mlp, images: torch.Tensor, n_max: int) -> torch.Tensor:
    """``(batch, n_max + 1, 10)``: row ``n`` holds the spliced model's logits with only each
    image's ``n`` largest transcoder features kept (row 0: the decoder's bias alone)."""
    check_shape("images", images, (None, mlp.config.d_input))
    if n_max < 0:
        raise ValueError(f"n_max must be non-negative, got {n_max}")
    acts = transcoder(images).activations
    rows = [mlp.head(transcoder.decode(keep_top_n(acts, n))) for n in range(n_max + 1)]
    return torch.stack(rows, dim=1)


def explorer_data(
    images: torch.Tensor,
    labels: torch.Tensor,
    indices: list[int],
    views: dict[str, tuple[torch.Tensor, torch.Tensor]],
    class_names: list[str],
) -> dict:
    """JSON-ready data for the explorer: each image's pixels (0-255) and label, and for each
    view its name, the curves ``(batch, steps, 10)`` and the full model's logits ``(batch, 10)``,
    rounded to three decimals."""
    check_shape("images", images, (len(indices), None))
    out_views = []
    for name, (curves, full) in views.items():
        check_shape(f"curves of {name}", curves, (len(indices), None, len(class_names)))
        check_shape(f"logits of {name}", full, (len(indices), len(class_names)))
        out_views.append(
            {
                "name": name,
                "curves": torch.round(curves * 1000).div(1000).tolist(),
                "full": torch.round(full * 1000).div(1000).tolist(),
            }
        )
    return {
        "classes": class_names,
        "images": [
            {"index": i, "label": int(y), "pixels": (x * 255).round().clamp(0, 255).int().tolist()}
            for i, x, y in zip(indices, images, labels)
        ],
        "views": out_views,
    }
