"""Input pairs: every output a bilinear layer can produce, sampled from its weights
alone.

For input features ``v_i`` (columns of ``V``, e.g. the pixels' columns of ``W_e``), the
layer ``g(h) = (W_l h) ⊙ (W_r h)`` expands as ``g(Σ_i a_i v_i) = Σ_ij a_i a_j g_ij``
with

    g_ij = ½ [(W_l v_i) ⊙ (W_r v_j) + (W_l v_j) ⊙ (W_r v_i)],

so the ``g_ij`` span everything the layer can output. No image is needed to sample them:
the model store trains an SAE on them (preset ``sae-pairs``, chapter "Features from the
weights alone").
"""

from __future__ import annotations

import torch

from .bilinear import check_shape


def pair_outputs(
    w_l: torch.Tensor,
    w_r: torch.Tensor,
    inputs: torch.Tensor,
    i: torch.Tensor,
    j: torch.Tensor,
) -> torch.Tensor:
    """``g_ij = ½ [(W_l v_i) ⊙ (W_r v_j) + (W_l v_j) ⊙ (W_r v_i)]`` for index pairs:
    ``(len(i), d)``.

    ``inputs`` ``(n, m)`` holds the input features ``v`` as columns (the columns
    of ``W_e`` for pixels). Then ``g(Σ_i a_i v_i) = Σ_ij a_i a_j g_ij``.
    """
    check_shape("w_l", w_l, (None, None))
    check_shape("w_r", w_r, tuple(w_l.shape))
    check_shape("inputs", inputs, (w_l.shape[1], None))
    if i.shape != j.shape or i.ndim != 1:
        raise ValueError(
            f"i and j must be 1-D index tensors of one length, got {tuple(i.shape)} and {tuple(j.shape)}"
        )
    left, right = w_l @ inputs, w_r @ inputs  # (d, m)
    return 0.5 * (left[:, i] * right[:, j] + left[:, j] * right[:, i]).T


def sample_pairs(
    weights: torch.Tensor, n_pairs: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``n_pairs`` index pairs ``(i, j)``, each index independently ∝ ``weights``
    ``(m,)``.

    ``weights`` would be, e.g., the norms of the input features, so that inputs
    the layer ignores are rarely drawn. The full ``m²`` set is never built.
    """
    if weights.ndim != 1 or (weights < 0).any() or not weights.sum() > 0:
        raise ValueError(
            "weights must be a 1-D tensor of non-negative numbers with a positive sum"
        )
    if n_pairs < 1:
        raise ValueError(f"n_pairs must be positive, got {n_pairs}")
    draws = torch.multinomial(
        weights.double(), 2 * n_pairs, replacement=True, generator=generator
    )
    return draws[:n_pairs], draws[n_pairs:]


def pair_dataset(
    w_l: torch.Tensor,
    w_r: torch.Tensor,
    inputs: torch.Tensor,
    n_pairs: int,
    seed: int = 0,
) -> torch.Tensor:
    """``n_pairs`` unit vectors ``g_ij / ‖g_ij‖`` ``(n_pairs, d)``, from the weights
    alone.

    Each index is drawn ∝ ``‖v_i‖²`` (the squared norm of column ``i`` of
    ``inputs``): an input the layer has shrunk to nothing is rarely drawn. The
    directions are kept, not the sizes, so an SAE trained on them learns which
    output directions the pairs can produce rather than which pairs are loudest.
    """
    check_shape("inputs", inputs, (w_l.shape[1], None))
    gen = torch.Generator().manual_seed(seed)
    i, j = sample_pairs(inputs.square().sum(0), n_pairs, gen)
    u = pair_outputs(w_l, w_r, inputs, i, j)
    return u / u.norm(dim=1, keepdim=True).clamp_min(torch.finfo(u.dtype).tiny)
