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

from typing import TYPE_CHECKING, NamedTuple

import torch

if TYPE_CHECKING:
    from .models import BilinearMLP


def check_shape(name: str, t: torch.Tensor, shape: tuple) -> None:
    """Raise ``ValueError`` unless ``t`` is a floating tensor of ``shape`` (None =
    any)."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if not t.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {t.dtype}")
    if t.ndim != len(shape) or any(
        s is not None and s != ts for s, ts in zip(shape, t.shape)
    ):
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
    """The symmetric tensor ``B_aij = ½ (W_l)_ai (W_r)_aj + ½ (W_l)_aj (W_r)_ai``, ``(d,
    n, n)``.

    ``g(h)_a = Σ_ij B_aij h_i h_j``. Memory grows as ``d n²``: use it on small layers
    only.
    """
    check_shape("w_l", w_l, (None, None))
    check_shape("w_r", w_r, tuple(w_l.shape))
    outer = torch.einsum("ai,aj->aij", w_l, w_r)
    return 0.5 * (outer + outer.transpose(1, 2))


def interaction_matrices(
    w_l: torch.Tensor, w_r: torch.Tensor, w_u: torch.Tensor
) -> torch.Tensor:
    """``Q_c = Σ_a (W_u)_ca B_a = sym(W_lᵀ diag(u_c) W_r)`` for every output ``c``:
    ``(c, n, n)``.

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
    """``W_eᵀ Q_c W_e``: interaction matrices over the inputs (pixels), ``(c, p,
    p)``."""
    check_shape("q", q, (None, None, q.shape[1] if q.ndim == 3 else None))
    check_shape("w_e", w_e, (q.shape[1], None))
    return w_e.T @ q @ w_e


@torch.no_grad()
def input_forms(
    w_e: torch.Tensor,
    w_l: torch.Tensor,
    w_r: torch.Tensor,
    w_u: torch.Tensor,
    b_l: torch.Tensor | None = None,
    b_r: torch.Tensor | None = None,
) -> torch.Tensor:
    """The forms over the inputs, ``logit c = xᵀ P_c x`` with ``P_c = W_eᵀ Q_c W_e``:
    ``(c, p, p)``.

    With biases ``b_l``, ``b_r`` (both or neither), over ``[x; 1]`` (bias folding),
    ``(c, p + 1, p + 1)``: the last row and column hold the linear term and the
    constant.
    """
    if (b_l is None) != (b_r is None):
        raise ValueError("pass both biases b_l and b_r, or neither")
    if b_l is None or b_r is None:
        return to_input_basis(interaction_matrices(w_l, w_r, w_u), w_e)
    q = interaction_matrices(fold_bias(w_l, b_l), fold_bias(w_r, b_r), w_u)
    embed = torch.zeros(w_e.shape[0] + 1, w_e.shape[1] + 1, dtype=w_e.dtype)
    embed[:-1, :-1], embed[-1, -1] = w_e, 1.0  # [h; 1] = [[W_e, 0], [0, 1]] [x; 1]
    return to_input_basis(q, embed)


def model_input_forms(model: BilinearMLP) -> torch.Tensor:
    """:func:`input_forms` of a :class:`wbinterp.models.BilinearMLP`, biases included if
    it has them."""
    biases = (model.b_l, model.b_r) if model.config.bias else (None, None)
    return input_forms(model.w_e, model.w_l, model.w_r, model.w_u, *biases)


def quadratic_form(q: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """``hᵀ Q_c h`` for every row of ``h`` ``(batch, n)`` and every ``Q_c``: ``(batch,
    c)``."""
    check_shape("q", q, (None, None, None))
    check_shape("h", h, (None, q.shape[1]))
    return torch.einsum("bi,cij,bj->bc", h, q, h)


class Spectrum(NamedTuple):
    """Eigendecompositions of ``c`` symmetric matrices, ``Q_c = Σ_i λ_ci v_ci
    v_ciᵀ``."""

    values: torch.Tensor
    """``(c, n)`` eigenvalues, each row sorted from most positive to most negative."""
    vectors: torch.Tensor
    """``(c, n, n)``: ``vectors[c, i]`` is the unit eigenvector of ``values[c, i]``."""


def canonical_signs(
    vectors: torch.Tensor, reference: torch.Tensor | None = None
) -> torch.Tensor:
    """Flip each vector (last axis) so the largest-magnitude entry of ``reference`` is
    positive.

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
    """Eigendecomposition of each symmetric ``Q_c`` (``(c, n, n)``), sorted, signs
    canonical.

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
    """Boolean mask ``(c, n)`` of the ``k`` eigenvalues of largest ``|λ|`` in each
    row."""
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


def by_magnitude(spec: Spectrum) -> Spectrum:
    """``spec`` with each class's eigenpairs reordered from largest ``|λ|`` to
    smallest."""
    order = spec.values.abs().argsort(dim=-1, descending=True)  # (c, n)
    values = torch.gather(spec.values, 1, order)
    vectors = torch.gather(spec.vectors, 1, order[..., None].expand_as(spec.vectors))
    return Spectrum(values, vectors)


@torch.no_grad()
def truncation_accuracy(
    spec: Spectrum,
    h: torch.Tensor,
    labels: torch.Tensor,
    ks: list[int],
    batch_size: int = 1000,
) -> dict[int, float]:
    """Accuracy of the top-``k`` logits for every ``k`` in ``ks``, in one pass.

    The contributions ``λ (v·h)²`` are sorted by ``|λ|`` and summed cumulatively,
    so all ``k`` cost the same as one.
    """
    check_shape("h", h, (None, spec.vectors.shape[-1]))
    if labels.shape != (h.shape[0],):
        raise ValueError(
            f"labels must have shape ({h.shape[0]},), got {tuple(labels.shape)}"
        )
    n = spec.values.shape[-1]
    if any(not 0 <= k <= n for k in ks):
        raise ValueError(f"every k must be between 0 and {n}, got {ks}")
    values, vectors = by_magnitude(spec)
    correct = {k: 0.0 for k in ks}
    for start in range(0, h.shape[0], batch_size):
        hb, yb = h[start : start + batch_size], labels[start : start + batch_size]
        contributions = torch.einsum("cin,bn->bci", vectors, hb).square() * values
        cumulative = torch.cat(
            [torch.zeros_like(contributions[..., :1]), contributions.cumsum(-1)], dim=-1
        )  # (b, c, n + 1)
        for k in ks:
            correct[k] += tie_aware_hits(cumulative[..., k], yb).sum().item()
    return {k: correct[k] / h.shape[0] for k in ks}


@torch.no_grad()
def per_image_truncation_accuracy(
    spec: Spectrum,
    h: torch.Tensor,
    labels: torch.Tensor,
    ns: list[int],
    batch_size: int = 500,
) -> dict[int, float]:
    """Accuracy when each input keeps only its own ``n`` largest terms ``|λ_ci
    (v_ci·h)²|``,
    chosen among all ``c × n`` terms after seeing the input, for every ``n`` in ``ns``.

    The per-image counterpart of :func:`truncation_accuracy` (a fixed ``k`` per class):
    it counts terms as a transcoder's top-``n`` counts features, per input."""
    check_shape("h", h, (None, spec.vectors.shape[-1]))
    if labels.shape != (h.shape[0],):
        raise ValueError(
            f"labels must have shape ({h.shape[0]},), got {tuple(labels.shape)}"
        )
    total = spec.values.numel()
    if any(not 0 <= n <= total for n in ns):
        raise ValueError(f"every n must be between 0 and {total}, got {ns}")
    correct = {n: 0.0 for n in ns}
    for start in range(0, h.shape[0], batch_size):
        hb, yb = h[start : start + batch_size], labels[start : start + batch_size]
        terms = eigen_contributions(spec, hb).flatten(1)  # (b, c·n), class-major
        order = terms.abs().argsort(dim=1, descending=True)
        classes = order // spec.values.shape[-1]
        ranked = torch.gather(terms, 1, order)
        for n in ns:
            logits = torch.zeros(hb.shape[0], spec.values.shape[0], dtype=terms.dtype)
            logits.scatter_add_(1, classes[:, :n], ranked[:, :n])
            correct[n] += tie_aware_hits(logits, yb).sum().item()
    return {n: correct[n] / h.shape[0] for n in ns}


def tie_aware_hits(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Expected correctness ``(batch,)`` when ties for the top logit are broken at
    random.

    With all-zero logits (``k = 0``) every class ties, so accuracy is exactly chance.
    """
    top = logits == logits.max(dim=-1, keepdim=True).values
    return top.gather(-1, labels[:, None]).squeeze(-1) / top.sum(-1)


def participation_ratio(x: torch.Tensor) -> torch.Tensor:
    """``(‖x‖₁ / ‖x‖₂)²`` along the last axis: how many entries really count (0 for x =
    0).

    Applied to eigenvalues it is the effective rank; applied to an eigenvector's
    pixels, the effective number of pixels it uses (lower is sparser).
    """
    l1 = x.abs().sum(-1)
    l2 = x.square().sum(-1).sqrt()
    return torch.where(
        l2 > 0,
        (l1 / l2.clamp_min(torch.finfo(x.dtype).tiny)) ** 2,
        torch.zeros_like(l1),
    )


def effective_rank(values: torch.Tensor) -> torch.Tensor:
    """``(‖λ‖₁ / ‖λ‖₂)²`` of each spectrum (last axis): how many eigenvalues really
    count."""
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


class MarginTerms(NamedTuple):
    """Why one input's logit for ``predicted`` beat the one for ``true``, in one basis:
    the eigenvectors ``u_i`` of ``Q_predicted − Q_true``."""

    predicted: int
    """The class with the larger logit (the model's answer)."""
    true: int
    """The class it should have been."""
    margin: float
    """``logit_predicted − logit_true = hᵀ (Q_p − Q_t) h = Σ_i μ_i (u_i·h)²``."""
    terms: torch.Tensor
    """``(n,)``: every term ``μ_i (u_i·h)²``, in the order of ``vectors``; they sum to
    ``margin``."""
    vectors: torch.Tensor
    """``(n, n)``: the unit eigenvectors ``u_i`` of ``Q_p − Q_t`` as rows, ``μ_i``
    descending."""
    values: torch.Tensor
    """``(n,)``: the eigenvalues ``μ_i``."""
    for_predicted: list[tuple[int, float]]
    """The largest positive terms (index, term): what made ``predicted`` win."""
    for_true: list[tuple[int, float]]
    """The largest negative terms (index, term): what argued for ``true``."""


def explain_margin(
    q: torch.Tensor, h: torch.Tensor, predicted: int, true: int, top: int = 3
) -> MarginTerms:
    """Decompose the margin ``logit_p − logit_t`` of one input ``h`` (``(n,)``) over the
    eigenvectors of ``Q_p − Q_t`` (``q`` is ``(c, n, n)``).

    Softmax ignores whatever all logits share, so the choice between two classes
    depends on ``h`` only through ``hᵀ (Q_p − Q_t) h``: one symmetric matrix, one basis,
    whose terms add up to the margin exactly. (The top terms of ``Q_p`` and of ``Q_t``
    separately would be in two different bases, and each includes what the two share.)
    """
    check_shape("q", q, (None, None, q.shape[1] if q.ndim == 3 else None))
    check_shape("h", h, (q.shape[1],))
    c = q.shape[0]
    if not (0 <= predicted < c and 0 <= true < c) or predicted == true:
        raise ValueError(
            f"predicted and true must be two different classes between 0 and {c - 1}, "
            f"got {predicted} and {true}"
        )
    if top < 0:
        raise ValueError(f"top must be non-negative, got {top}")
    values, vectors = torch.linalg.eigh(q[predicted] - q[true])
    values, vectors = values.flip(-1), vectors.flip(-1).T  # descending, rows
    terms = (vectors @ h).square() * values
    positive = [int(i) for i in terms.argsort(descending=True)[:top] if terms[i] > 0]
    negative = [int(i) for i in terms.argsort()[:top] if terms[i] < 0]
    return MarginTerms(
        predicted,
        true,
        float(terms.sum()),
        terms,
        vectors,
        values,
        [(i, float(terms[i])) for i in positive],
        [(i, float(terms[i])) for i in negative],
    )
