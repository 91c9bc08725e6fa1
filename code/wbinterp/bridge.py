"""Between weights and data: dictionaries inside a bilinear layer, and the tensor's SVD.

Notation as in :mod:`wbinterp.bilinear`: ``w_l``, ``w_r`` are ``(d, n)``, the
layer is ``g(h) = (W_l h) ⊙ (W_r h)`` and ``B`` is its symmetric ``(d, n, n)``
tensor. Three ideas from Pearce and Dooms' technical note:

* **The pseudoinverse trick.** A dictionary ``D`` (``(d, F)``, features as
  columns, e.g. an SAE's decoder) explains outputs as ``y ≈ D a + b``. Using
  ``D⁺`` as an unembedding gives activations ``f̂ = D⁺ (y − b)`` that plug into
  the exact bilinear computation: feature ``f`` of the output is the quadratic
  form ``hᵀ Q_i h`` with ``Q_i = Σ_a (D⁺)_ia B_a``, and ``D D⁺`` projects onto
  ``span(D)``, so the reconstruction is exact when ``D`` has rank ``d``.
* **The tensor's SVD.** The mode-1 unfolding of ``B`` (``d × n²``, or
  ``c × n²`` after a head ``W_u``) has a Gram matrix that needs no unfolding:
  ``G = ½ [(L Lᵀ ∘ R Rᵀ) + (L Rᵀ ∘ R Lᵀ)]`` with ``L = W_l``, ``R = W_r`` (and
  ``U G Uᵀ`` after a head). Its eigenvectors are the left singular vectors;
  each right singular vector is an interaction matrix.
* **Input pairs.** For input features ``v_i`` (columns of ``V``),
  ``g(Σ_i a_i v_i) = Σ_ij a_i a_j g_ij``: the pair outputs ``g_ij`` span everything
  the layer can output, and can be sampled without data (:mod:`wbinterp.pairs`, which
  the model store uses to train an SAE on them).

Nothing here builds the ``(d, n, n)`` tensor or the unfolding except
:func:`explicit_unfolding`, which exists to test the rest on small layers.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F

from .bilinear import (
    bilinear_tensor,
    canonical_signs,
    check_shape,
    interaction_matrices,
)

# --- the pseudoinverse trick -------------------------------------------------


def pinv(dictionary: torch.Tensor) -> torch.Tensor:
    """``D⁺``: the Moore–Penrose pseudoinverse of a ``(d, F)`` dictionary, ``(F, d)``.

    Computed in float64 and returned in the dictionary's dtype: for ``F > d`` a
    float32 SVD loses the small singular values that ``D⁺`` divides by.
    """
    check_shape("dictionary", dictionary, (None, None))
    return torch.linalg.pinv(dictionary.double()).to(dictionary.dtype)


def pinv_activations(
    y: torch.Tensor,
    dictionary: torch.Tensor,
    bias: torch.Tensor | None = None,
    dictionary_pinv: torch.Tensor | None = None,
) -> torch.Tensor:
    """``f̂ = D⁺ (y − b)`` for every row of ``y`` ``(batch, d)``: ``(batch, F)``.

    The least-squares (minimum-norm) activations: ``D a + b`` is the projection
    of ``y`` onto ``b + span(D)``, equal to ``y`` when ``D`` has rank ``d``.
    Pass ``dictionary_pinv`` to reuse a computed ``D⁺``.
    """
    check_shape("dictionary", dictionary, (None, None))
    check_shape("y", y, (None, dictionary.shape[0]))
    if bias is not None:
        check_shape("bias", bias, (dictionary.shape[0],))
        y = y - bias
    d_pinv = pinv(dictionary) if dictionary_pinv is None else dictionary_pinv
    check_shape("dictionary_pinv", d_pinv, (dictionary.shape[1], dictionary.shape[0]))
    return y @ d_pinv.T


def feature_interactions(
    w_l: torch.Tensor, w_r: torch.Tensor, dictionary_pinv: torch.Tensor
) -> torch.Tensor:
    """``Q_i = Σ_a (D⁺)_ia B_a`` for each row ``i`` of ``D⁺`` ``(F, d)``: ``(F, n, n)``.

    The interaction matrices of the layer in the dictionary's basis, with
    ``D⁺`` as the unembedding; pass only the rows (features) you need, since
    memory grows as ``F n²``.
    """
    return interaction_matrices(w_l, w_r, dictionary_pinv)


def loss_recovered_vs_guessing(
    logits: torch.Tensor, approx_logits: torch.Tensor, labels: torch.Tensor
) -> float:
    """``(CE_guess − CE_approx) / (CE_guess − CE_model)``, with ``CE_guess = log c``.

    The technical note's measure: 1 when the approximation is as good as the
    model, 0 when it is no better than guessing uniformly among ``c`` classes.
    """
    check_shape("logits", logits, (None, None))
    check_shape("approx_logits", approx_logits, tuple(logits.shape))
    if labels.shape != (logits.shape[0],):
        raise ValueError(
            f"labels must have shape ({logits.shape[0]},), got {tuple(labels.shape)}"
        )
    guess = math.log(logits.shape[1])
    ce_model = F.cross_entropy(logits, labels).item()
    ce_approx = F.cross_entropy(approx_logits, labels).item()
    if not guess - ce_model > 1e-9 * guess:
        raise ValueError(
            f"the model's cross-entropy ({ce_model:.3f}) is no better than guessing "
            f"({guess:.3f}); loss recovered is undefined"
        )
    return (guess - ce_approx) / (guess - ce_model)


# --- the tensor's SVD ---------------------------------------------------------


def tensor_gram(
    w_l: torch.Tensor,
    w_r: torch.Tensor,
    w_u: torch.Tensor | None = None,
    w_e: torch.Tensor | None = None,
) -> torch.Tensor:
    """Gram matrix of the tensor's mode-1 unfolding, without forming the unfolding.

    ``G_ab = ⟨B_a, B_b⟩_F = ½ [(L Lᵀ)_ab (R Rᵀ)_ab + (L Rᵀ)_ab (R Lᵀ)_ab]``, ``(d, d)``;
    with a head ``w_u`` ``(c, d)`` it is ``U G Uᵀ`` ``(c, c)``, the Gram matrix of
    the ``c`` interaction matrices. With an embedding ``w_e`` ``(n, p)`` the pairs
    are pairs of inputs (pixels): ``L = W_l W_e``, ``R = W_r W_e``, through the
    ``(n, n)`` matrix ``W_e W_eᵀ`` only.
    """
    check_shape("w_l", w_l, (None, None))
    check_shape("w_r", w_r, tuple(w_l.shape))
    metric = None
    if w_e is not None:
        check_shape("w_e", w_e, (w_l.shape[1], None))
        metric = w_e @ w_e.T  # (n, n)
    inner = (
        (lambda a, b: a @ b.T) if metric is None else (lambda a, b: a @ metric @ b.T)
    )
    l_l, r_r, l_r = inner(w_l, w_l), inner(w_r, w_r), inner(w_l, w_r)
    gram = 0.5 * (l_l * r_r + l_r * l_r.T)
    if w_u is not None:
        check_shape("w_u", w_u, (None, w_l.shape[0]))
        gram = w_u @ gram @ w_u.T
    return 0.5 * (gram + gram.T)


class TensorSVD(NamedTuple):
    """Mode-1 SVD of a bilinear tensor: ``B_a = Σ_k σ_k U_ak S_k``."""

    values: torch.Tensor
    """``(r,)`` singular values ``σ_k``, descending."""
    left: torch.Tensor
    """``(m, r)``: column ``k`` is the unit output direction ``u_k`` (``m`` = d, or c
    after a head)."""


def tensor_svd(
    w_l: torch.Tensor,
    w_r: torch.Tensor,
    w_u: torch.Tensor | None = None,
    w_e: torch.Tensor | None = None,
) -> TensorSVD:
    """Singular values and output directions of the unfolding, from :func:`tensor_gram`.

    The right singular vectors are interaction matrices, built on demand by
    :func:`svd_interactions`. Signs follow the largest-magnitude entry of each
    left vector (made positive), so results are stable from run to run.
    """
    gram = tensor_gram(w_l, w_r, w_u, w_e).double()
    eigvals, eigvecs = torch.linalg.eigh(gram)  # ascending
    eigvals, eigvecs = eigvals.flip(0), eigvecs.flip(1)
    values = eigvals.clamp_min(0).sqrt().to(w_l.dtype)
    return TensorSVD(values, canonical_signs(eigvecs.T).T.to(w_l.dtype))


def svd_interactions(
    svd: TensorSVD,
    w_l: torch.Tensor,
    w_r: torch.Tensor,
    components: list[int] | range,
    w_u: torch.Tensor | None = None,
) -> torch.Tensor:
    """The right singular vectors ``S_k = Σ_a U_ak B_a / σ_k`` as ``(len(components), n,
    n)``.

    Each is a symmetric interaction matrix of unit Frobenius norm (pass the same
    ``w_u`` as to :func:`tensor_svd` when the SVD was taken after a head). Map to
    inputs with :func:`wbinterp.bilinear.to_input_basis`.
    """
    components = list(components)
    if any(not 0 <= k < svd.values.shape[0] for k in components):
        raise ValueError(
            f"components must lie in 0..{svd.values.shape[0] - 1}, got {components}"
        )
    directions = svd.left[:, components].T  # (k, m)
    readout = directions if w_u is None else directions @ w_u  # (k, d)
    sigma = svd.values[components].clamp_min(torch.finfo(svd.values.dtype).tiny)
    return interaction_matrices(w_l, w_r, readout) / sigma[:, None, None]


def bottleneck(outputs: torch.Tensor, svd: TensorSVD, k: int) -> torch.Tensor:
    """Outputs ``(batch, m)`` projected onto the top-``k`` output directions ``U_k
    U_kᵀ``.

    The layer restricted to ``k`` singular components: ``k = m`` (all) returns
    the outputs unchanged, ``k = 0`` returns zeros.
    """
    m = svd.left.shape[0]
    check_shape("outputs", outputs, (None, m))
    if not 0 <= k <= svd.left.shape[1]:
        raise ValueError(f"k must be between 0 and {svd.left.shape[1]}, got {k}")
    top = svd.left[:, :k]
    return outputs @ top @ top.T


def explicit_unfolding(
    w_l: torch.Tensor, w_r: torch.Tensor, w_u: torch.Tensor | None = None
) -> torch.Tensor:
    """The ``(d, n²)`` (or ``(c, n²)``) unfolding, built from the full tensor: small
    layers only."""
    tensor = bilinear_tensor(w_l, w_r)
    if w_u is not None:
        tensor = torch.einsum("ca,aij->cij", w_u, tensor)
    return tensor.reshape(tensor.shape[0], -1)


def best_match(a: torch.Tensor, b: torch.Tensor, signed: bool = False) -> torch.Tensor:
    """For each row of ``a`` ``(p, d)``, the largest cosine similarity to any row of
    ``b`` ``(q, d)``.

    Absolute values unless ``signed``: SVD directions have no meaningful sign.
    Returns ``(p,)``.
    """
    check_shape("a", a, (None, None))
    check_shape("b", b, (None, a.shape[1]))
    cos = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T
    return (cos if signed else cos.abs()).max(dim=1).values
