"""A two-layer bilinear model read top-down from its weights.

For :class:`wbinterp.models.DeepBilinearMLP` with two layers, ``h⁰ = W_e x``,
``h¹ = g₁(h⁰)`` (``+ h⁰`` with a residual stream) and ``logit_c = u_c · h²``:

* the last layer gives each digit an interaction matrix ``Q_c`` on ``h¹``, with
  eigenvectors ``v_cj`` and eigenvalues ``λ_cj``: ``u_c · g₂(h¹) = Σ_j λ_cj (v_cj ·
  h¹)²``;
* each ``v_cj`` is an output direction of the first layer, which reads it through the
  form ``M_cj = Σ_a (v_cj)_a B¹_a``: ``v_cj · g₁(h⁰) = h⁰ᵀ M_cj h⁰``, whose
  eigenvectors,
  drawn through ``W_e``, are pixel pictures.

So without a residual stream ``logit_c = Σ_j λ_cj (h⁰ᵀ M_cj h⁰)²``, a sum of squares of
quadratic forms of the image; with one, ``logit_c = u_c·h⁰ + h⁰ᵀ Q¹_c h⁰ + Σ_j λ_cj
(v_cj·h⁰ +
h⁰ᵀ M_cj h⁰)²``, where ``Q¹_c`` is the first layer's form for the head row ``u_c`` (the
path
that skips the second layer). :func:`composed_logits` computes these sums, truncated to
the
``k`` largest ``|λ|`` per digit and the ``m`` largest eigenvalues of each ``M_cj``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .bilinear import (
    Spectrum,
    by_magnitude,
    check_shape,
    interaction_matrices,
    spectrum,
)
from .models import DeepBilinearMLP


def _two_layers(model: DeepBilinearMLP) -> None:
    if not isinstance(model, DeepBilinearMLP) or model.config.n_layers != 2:
        raise ValueError(
            "the top-down reading is written for a DeepBilinearMLP with n_layers=2"
        )


def layer_forms(
    model: DeepBilinearMLP, layer: int, directions: torch.Tensor
) -> torch.Tensor:
    """``(m, d, d)``: the symmetric form through which ``layer`` writes each row of
    ``directions`` ``(m, d)``, ``direction · g(h) = hᵀ M h``."""
    check_shape("directions", directions, (None, model.config.d_hidden))
    return interaction_matrices(model.w_l[layer], model.w_r[layer], directions)


def output_spectrum(model: DeepBilinearMLP) -> Spectrum:
    """The last layer's ``Q_c`` for each digit, eigenpairs ordered by ``|λ|`` (``(10,
    d)``)."""
    _two_layers(model)
    return by_magnitude(spectrum(layer_forms(model, 1, model.w_u)))


class LowerSpectra(NamedTuple):
    """Eigendecompositions of the forms ``M_cj`` that read each digit's top
    directions."""

    values: torch.Tensor
    """``(10, k, d)``: eigenvalues ``μ_cji``, each row ordered by ``|μ|``."""
    vectors: torch.Tensor
    """``(10, k, d, d)``: ``vectors[c, j, i]`` is the unit eigenvector of ``values[c, j,
    i]``
    (hidden space; ``@ W_e`` draws it in pixels, sign chosen on that picture)."""


def lower_spectra(model: DeepBilinearMLP, top: Spectrum, k: int) -> LowerSpectra:
    """The spectra of ``M_cj`` for the ``k`` leading directions ``v_cj`` of every
    digit."""
    _two_layers(model)
    if not 0 < k <= top.values.shape[-1]:
        raise ValueError(f"k must be between 1 and {top.values.shape[-1]}, got {k}")
    n_classes, d = top.values.shape
    forms = layer_forms(model, 0, top.vectors[:, :k].reshape(-1, d))  # (10 k, d, d)
    spec = by_magnitude(spectrum(forms, w_e=model.w_e))
    return LowerSpectra(
        spec.values.view(n_classes, k, d), spec.vectors.view(n_classes, k, d, d)
    )


def composed_logits(
    model: DeepBilinearMLP,
    x: torch.Tensor,
    top: Spectrum,
    k: int,
    lower: LowerSpectra | None = None,
    m: int | None = None,
) -> torch.Tensor:
    """``(batch, 10)`` logits rebuilt from the weights, keeping ``k`` eigenvectors of
    each
    ``Q_c`` and, when ``m`` is given, ``m`` eigenvectors of each lower form ``M_cj``
    (and of
    the residual path's ``Q¹_c``); ``m=None`` keeps the lower forms whole. With ``k =
    d`` and
    ``m = None`` the result equals the model's logits up to rounding.
    """
    _two_layers(model)
    d = model.config.d_hidden
    if not 0 <= k <= d:
        raise ValueError(f"k must be between 0 and {d}, got {k}")
    if m is not None and (
        lower is None or lower.values.shape[1] < k or not 0 <= m <= d
    ):
        raise ValueError(
            "a truncated lower level needs lower_spectra for at least k directions "
            "and 0 <= m <= d"
        )
    h0 = model.embed(x)
    residual = model.config.residual

    def read(
        forms_values, forms_vectors, directions
    ):  # (…, d), (…, d, d), (…, d) -> (batch, …)
        if m is None:  # the exact form, through the layer itself
            values = model.bilinear(0, h0) @ directions.T
        else:
            proj = torch.einsum("...id,bd->b...i", forms_vectors[..., :m, :], h0)
            values = (proj.square() * forms_values[..., :m]).sum(-1)
        return values + h0 @ directions.T if residual else values

    per_class = []
    for c in range(top.values.shape[0]):
        v = top.vectors[c, :k]
        if m is None or lower is None:
            s = read(None, None, v)  # (batch, k): v_cj · h¹
        else:
            s = read(lower.values[c, :k], lower.vectors[c, :k], v)
        per_class.append((s.square() * top.values[c, :k]).sum(-1))
    logits = torch.stack(per_class, dim=-1)
    if residual:  # the path that skips the second layer: u_c · h¹
        if m is None:
            logits = logits + model.streams(x)[1] @ model.w_u.T
        else:
            q1 = by_magnitude(spectrum(layer_forms(model, 0, model.w_u)))
            proj = torch.einsum("cid,bd->bci", q1.vectors[:, :m], h0)
            logits = (
                logits + (proj.square() * q1.values[:, :m]).sum(-1) + h0 @ model.w_u.T
            )
    return logits
