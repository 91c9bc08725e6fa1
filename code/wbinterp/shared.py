"""Features shared across classes: one CP decomposition of the whole tensor.

Per-class eigendecompositions give each class its own orthogonal eigenvectors,
so a stroke used by several digits appears once per digit. A CP (PARAFAC)
decomposition of the stacked interaction matrices (``(c, n, n)``),

    Q_c ≈ Σ_r D_cr sym(l_r r_rᵀ),

finds components shared by all classes at once, with ``D_cr`` saying how much
class ``c`` uses component ``r``. It is a bilinear layer with ``rank`` neurons
(``l_r``, ``r_r`` its two readouts, ``D`` its head), so its fidelity is the
accuracy of that layer. TensorLy computes it by alternating least squares; the
tensor is handed over as float64 NumPy, so no global backend is switched.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from tensorly.decomposition import parafac

from .bilinear import check_shape


class CPLayer(NamedTuple):
    """A CP decomposition of ``(c, n, n)`` forms, read as a bilinear layer of ``rank``
    neurons."""

    head: torch.Tensor
    """``(c, rank)``: ``D``, how much each class uses each component (weights folded
    in)."""
    left: torch.Tensor
    """``(rank, n)``: the first readout of each component, unit norm."""
    right: torch.Tensor
    """``(rank, n)``: the second readout of each component, unit norm."""


def cp_decompose(
    q: torch.Tensor, rank: int, seed: int = 0, n_iter: int = 100
) -> CPLayer:
    """CP decomposition of the forms ``q`` ``(c, n, n)`` with ``rank`` components, by
    ``n_iter``
    sweeps of alternating least squares. Components are returned sorted by ``‖D_r‖``,
    each
    readout scaled to unit norm."""
    check_shape("q", q, (None, None, q.shape[1] if q.ndim == 3 else None))
    if not (isinstance(rank, int) and rank >= 1):
        raise ValueError(f"rank must be a positive integer, got {rank!r}")
    tensor = q.detach().double().cpu().numpy()
    # start from the unfoldings' singular vectors where every mode has that many (the
    # class
    # mode has only c), else from a seeded random start
    init = "svd" if rank <= min(tensor.shape) else "random"
    cp = parafac(tensor, rank, n_iter_max=n_iter, init=init, random_state=seed)
    weights, (d, a, b) = cp
    a_norm, b_norm = np.linalg.norm(a, axis=0), np.linalg.norm(b, axis=0)
    scale = np.where((a_norm > 0) & (b_norm > 0), a_norm * b_norm, 0.0)
    d = d * weights * scale
    a = a / np.where(a_norm > 0, a_norm, 1.0)
    b = b / np.where(b_norm > 0, b_norm, 1.0)
    order = np.argsort(-np.linalg.norm(d, axis=0))

    def as_tensor(m: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(m)).to(q.dtype)

    return CPLayer(
        as_tensor(d[:, order]), as_tensor(a[:, order].T), as_tensor(b[:, order].T)
    )


def reconstruct(cp: CPLayer) -> torch.Tensor:
    """``Σ_r D_cr sym(l_r r_rᵀ)``: the ``(c, n, n)`` forms of the decomposition."""
    outer = torch.einsum("ri,rj->rij", cp.left, cp.right)
    return torch.einsum("cr,rij->cij", cp.head, 0.5 * (outer + outer.transpose(1, 2)))


def cp_logits(cp: CPLayer, h: torch.Tensor) -> torch.Tensor:
    """``Σ_r D_cr (l_r·h)(r_r·h)`` for inputs ``h`` ``(batch, n)``: ``(batch, c)``,
    without
    forming the ``(c, n, n)`` tensor."""
    check_shape("h", h, (None, cp.left.shape[1]))
    return ((h @ cp.left.T) * (h @ cp.right.T)) @ cp.head.T


def classes_per_component(head: torch.Tensor, share: float = 0.25) -> torch.Tensor:
    """``(rank,)``: how many classes use each component, counting class ``c`` when
    ``|D_cr|`` is at least ``share`` of the largest ``|D_c'r|``."""
    check_shape("head", head, (None, None))
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share}")
    magnitude = head.abs()
    return (magnitude >= share * magnitude.amax(0, keepdim=True).clamp_min(1e-30)).sum(
        0
    )
