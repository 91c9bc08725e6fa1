"""The mathematics of a bilinear layer, as pure functions of its weights.

Notation (weights act on column vectors, as in the equations):

* ``w_l``, ``w_r``: ``(d, n)``, the two halves of the bilinear layer
  ``g(h) = (W_l h) ⊙ (W_r h)``, with ``h`` of width ``n``;
* ``w_u``: ``(c, d)``, a readout (the classifier's head, or any other unembedding);
* ``w_e``: ``(n, p)``, an embedding from ``p`` input features (pixels) to ``h``.

Nothing here knows about MNIST: the functions apply to any bilinear layer.
The third-order tensor ``B`` (``d × n × n``) is never needed for the analyses;
:func:`bilinear_tensor` exists to teach and to test, on small layers.
"""

from __future__ import annotations

from typing import NamedTuple

import torch


def check_shape(name: str, t: torch.Tensor, shape: tuple) -> None:
    """Raise ``ValueError`` unless ``t`` is a floating tensor of ``shape`` (None = any)."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if not t.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {t.dtype}")
    if t.ndim != len(shape) or any(s is not None and s != ts for s, ts in zip(shape, t.shape)):
        want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {want}, got {tuple(t.shape)}")


def fold_bias(w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``[W, b]``: ``(d, n)`` and ``(d,)`` to ``(d, n + 1)``, for inputs ``[x; 1]``."""
    check_shape("w", w, (None, None))
    check_shape("b", b, (w.shape[0],))
    return torch.cat([w, b[:, None]], dim=1)


def append_one(x: torch.Tensor) -> torch.Tensor:
    """``[x; 1]``: ``(batch, n)`` to ``(batch, n + 1)``."""
    check_shape("x", x, (None, None))
    return torch.cat([x, x.new_ones(x.shape[0], 1)], dim=1)


def bilinear_tensor(w_l: torch.Tensor, w_r: torch.Tensor) -> torch.Tensor:
    """The symmetric tensor ``B_aij = ½ (W_l)_ai (W_r)_aj + ½ (W_l)_aj (W_r)_ai``, ``(d, n, n)``.

    ``g(h)_a = Σ_ij B_aij h_i h_j``. Memory grows as ``d n²``: use it on small layers only.
    """
    check_shape("w_l", w_l, (None, None))
    check_shape("w_r", w_r, tuple(w_l.shape))
    outer = torch.einsum("ai,aj->aij", w_l, w_r)
    return 0.5 * (outer + outer.transpose(1, 2))


def interaction_matrices(w_l: torch.Tensor, w_r: torch.Tensor, w_u: torch.Tensor) -> torch.Tensor:
    """``Q_c = Σ_a (W_u)_ca B_a = sym(W_lᵀ diag(u_c) W_r)`` for every output ``c``: ``(c, n, n)``.

    The head is contracted first, so the ``(d, n, n)`` tensor is never built:
    cost ``O(c d n²)``, peak memory one ``(c, n, n)`` array (plus a ``(c, d, n)`` one).
    """
    check_shape("w_l", w_l, (None, None))
    check_shape("w_r", w_r, tuple(w_l.shape))
    check_shape("w_u", w_u, (None, w_l.shape[0]))
    scaled_left = w_u[:, :, None] * w_l[None]  # (c, d, n): diag(u_c) W_l
    q = scaled_left.transpose(1, 2) @ w_r  # (c, n, n): W_lᵀ diag(u_c) W_r
    return 0.5 * (q + q.transpose(1, 2))


def to_input_basis(q: torch.Tensor, w_e: torch.Tensor) -> torch.Tensor:
    """``W_eᵀ Q_c W_e``: interaction matrices over the inputs (pixels), ``(c, p, p)``."""
    check_shape("q", q, (None, None, q.shape[1] if q.ndim == 3 else None))
    check_shape("w_e", w_e, (q.shape[1], None))
    return w_e.T @ q @ w_e


def quadratic_form(q: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """``hᵀ Q_c h`` for every row of ``h`` ``(batch, n)`` and every ``Q_c``: ``(batch, c)``."""
    check_shape("q", q, (None, None, None))
    check_shape("h", h, (None, q.shape[1]))
    return torch.einsum("bi,cij,bj->bc", h, q, h)


class Spectrum(NamedTuple):
    """Eigendecompositions of ``c`` symmetric matrices, ``Q_c = Σ_i λ_ci v_ci v_ciᵀ``."""

    values: torch.Tensor
    """``(c, n)`` eigenvalues, each row sorted from most positive to most negative."""
    vectors: torch.Tensor
    """``(c, n, n)``: ``vectors[c, i]`` is the unit eigenvector of ``values[c, i]``."""


def canonical_signs(vectors: torch.Tensor, reference: torch.Tensor | None = None) -> torch.Tensor:
    """Flip each vector (last axis) so the largest-magnitude entry of ``reference`` is positive.

    ``reference`` defaults to ``vectors``; pass the pixel images of hidden-space
    eigenvectors to make the *displayed* largest pixel positive. ``(Σ v·h)²`` is
    unchanged by the flip, so this only makes figures stable from build to build.
    """
    reference = vectors if reference is None else reference
    if reference.shape[:-1] != vectors.shape[:-1]:
        raise ValueError(
            f"reference must have shape {tuple(vectors.shape[:-1])} + (*,), got {tuple(reference.shape)}"
        )
    idx = reference.abs().argmax(dim=-1, keepdim=True)
    signs = torch.gather(reference, -1, idx).sign()
    signs[signs == 0] = 1
    return vectors * signs


def spectrum(q: torch.Tensor, w_e: torch.Tensor | None = None) -> Spectrum:
    """Eigendecomposition of each symmetric ``Q_c`` (``(c, n, n)``), sorted, signs canonical.

    With an embedding ``w_e`` (``(n, p)``), signs are chosen on the input-space
    images ``v W_e`` of the eigenvectors, the pictures a reader sees.
    """
    check_shape("q", q, (None, None, q.shape[1] if q.ndim == 3 else None))
    if w_e is not None:
        check_shape("w_e", w_e, (q.shape[1], None))
    values, vectors = torch.linalg.eigh(q)  # ascending; columns are eigenvectors
    values, vectors = values.flip(-1), vectors.flip(-1).transpose(1, 2)
    reference = None if w_e is None else vectors @ w_e
    return Spectrum(values, canonical_signs(vectors, reference))


def reconstruct(spec: Spectrum) -> torch.Tensor:
    """``Σ_i λ_i v_i v_iᵀ`` for every class: ``(c, n, n)``."""
    return torch.einsum("ci,cin,cim->cnm", spec.values, spec.vectors, spec.vectors)


def top_by_magnitude(values: torch.Tensor, k: int) -> torch.Tensor:
    """Boolean mask ``(c, n)`` of the ``k`` eigenvalues of largest ``|λ|`` in each row."""
    if not 0 <= k <= values.shape[-1]:
        raise ValueError(f"k must be between 0 and {values.shape[-1]}, got {k}")
    mask = torch.zeros_like(values, dtype=torch.bool)
    order = values.abs().argsort(dim=-1, descending=True)[..., :k]
    return mask.scatter(-1, order, True)


def truncated_logits(spec: Spectrum, h: torch.Tensor, k: int) -> torch.Tensor:
    """``Σ_{i ∈ top-k |λ|} λ_ci (v_ci · h)²``: logits from ``k`` eigenvectors per class.

    ``k = n`` gives the exact logits; ``k = 0`` gives zeros.
    """
    check_shape("h", h, (None, spec.vectors.shape[-1]))
    mask = top_by_magnitude(spec.values, k)
    projections = torch.einsum("cin,bn->bci", spec.vectors, h)
    return (projections.square() * (spec.values * mask)).sum(-1)


@torch.no_grad()
def truncation_accuracy(
    spec: Spectrum, h: torch.Tensor, labels: torch.Tensor, ks: list[int], batch_size: int = 1000
) -> dict[int, float]:
    """Accuracy of the top-``k`` logits for every ``k`` in ``ks``, in one pass.

    The contributions ``λ (v·h)²`` are sorted by ``|λ|`` and summed cumulatively,
    so all ``k`` cost the same as one.
    """
    check_shape("h", h, (None, spec.vectors.shape[-1]))
    if labels.shape != (h.shape[0],):
        raise ValueError(f"labels must have shape ({h.shape[0]},), got {tuple(labels.shape)}")
    n = spec.values.shape[-1]
    if any(not 0 <= k <= n for k in ks):
        raise ValueError(f"every k must be between 0 and {n}, got {ks}")
    order = spec.values.abs().argsort(dim=-1, descending=True)  # (c, n)
    values = torch.gather(spec.values, 1, order)
    vectors = torch.gather(spec.vectors, 1, order[..., None].expand_as(spec.vectors))
    correct = {k: 0 for k in ks}
    for start in range(0, h.shape[0], batch_size):
        hb, yb = h[start : start + batch_size], labels[start : start + batch_size]
        contributions = torch.einsum("cin,bn->bci", vectors, hb).square() * values
        cumulative = torch.cat(
            [torch.zeros_like(contributions[..., :1]), contributions.cumsum(-1)], dim=-1
        )  # (b, c, n + 1)
        for k in ks:
            correct[k] += tie_aware_hits(cumulative[..., k], yb).sum().item()
    return {k: correct[k] / h.shape[0] for k in ks}


def tie_aware_hits(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Expected correctness ``(batch,)`` when ties for the top logit are broken at random.

    With all-zero logits (``k = 0``) every class ties, so accuracy is exactly chance.
    """
    top = logits == logits.max(dim=-1, keepdim=True).values
    return top.gather(-1, labels[:, None]).squeeze(-1) / top.sum(-1)


def participation_ratio(x: torch.Tensor) -> torch.Tensor:
    """``(‖x‖₁ / ‖x‖₂)²`` along the last axis: how many entries really count (0 for x = 0).

    Applied to eigenvalues it is the effective rank; applied to an eigenvector's
    pixels, the effective number of pixels it uses (lower is sparser).
    """
    l1 = x.abs().sum(-1)
    l2 = x.square().sum(-1).sqrt()
    return torch.where(l2 > 0, (l1 / l2.clamp_min(torch.finfo(x.dtype).tiny)) ** 2, torch.zeros_like(l1))


def effective_rank(values: torch.Tensor) -> torch.Tensor:
    """``(‖λ‖₁ / ‖λ‖₂)²`` of each spectrum (last axis): how many eigenvalues really count."""
    return participation_ratio(values)


def eigen_contributions(spec: Spectrum, h: torch.Tensor) -> torch.Tensor:
    """``λ_ci (v_ci · h)²`` for every input, class and eigenvector: ``(batch, c, n)``.

    ``spec`` is a ``(c, n)`` spectrum and ``h`` a ``(batch, n)`` batch of inputs
    to the quadratic forms (embedded images for a hidden-space spectrum). Summed
    over the last axis the contributions are the logits ``hᵀ Q_c h`` exactly: they
    are a complete, per-input account of the model's output, term by term, in the
    order of ``spec`` (most positive eigenvalue first).
    """
    check_shape("h", h, (None, spec.vectors.shape[-1]))
    return torch.einsum("cin,bn->bci", spec.vectors, h).square() * spec.values


class LogitGap(NamedTuple):
    """Why one input's logit for ``predicted`` beat the one for ``true``, eigenvector by eigenvector."""

    predicted: int
    """The class with the larger logit (the model's answer)."""
    true: int
    """The class it should have been."""
    margin: float
    """``logit_predicted − logit_true``: the sum of all of ``predicted``'s contributions
    minus the sum of all of ``true``'s."""
    for_predicted: list[tuple[int, float]]
    """The largest-magnitude terms of the predicted class's logit: (eigenvector index, ``λ (v·h)²``)."""
    for_true: list[tuple[int, float]]
    """The largest-magnitude terms of the true class's logit: (eigenvector index, ``λ (v·h)²``)."""


def explain_logit_gap(contributions: torch.Tensor, predicted: int, true: int, top: int = 3) -> LogitGap:
    """The terms that decide between two classes for one input.

    ``contributions`` is that input's ``(c, n)`` slice of :func:`eigen_contributions`.
    Indices refer to the spectrum the contributions came from (row ``predicted``
    or ``true``); each list is sorted by ``|λ (v·h)²|``, largest first, and keeps
    the sign: a negative term is an eigenvector with ``λ < 0`` arguing against
    its class.
    """
    check_shape("contributions", contributions, (None, None))
    c = contributions.shape[0]
    if not (0 <= predicted < c and 0 <= true < c):
        raise ValueError(f"predicted and true must be classes between 0 and {c - 1}, got {predicted}, {true}")
    if top < 0:
        raise ValueError(f"top must be non-negative, got {top}")

    def largest(row: torch.Tensor) -> list[tuple[int, float]]:
        order = row.abs().argsort(descending=True)[:top]
        return [(int(i), float(row[i])) for i in order]

    margin = float(contributions[predicted].sum() - contributions[true].sum())
    return LogitGap(predicted, true, margin, largest(contributions[predicted]), largest(contributions[true]))
