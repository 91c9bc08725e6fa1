"""What the weights guarantee: closed forms and bounds that hold for any bilinear layer.

Each function is the computable half of a short proof in the chapter "What the
weights guarantee"; ``tests/test_guarantees.py`` checks each one in float64.

* :func:`neuron_eigenvalues`: one neuron's form ``sym(l rᵀ)`` has the two non-zero
  eigenvalues ``(l·r ± ‖l‖‖r‖)/2``, one of each sign.
* :func:`reparametrise`: ``W_e → N W_e``, ``W_l → W_l N⁻¹``, ``W_r → W_r N⁻¹`` keeps
  every logit and changes every hidden-space ``Q_c`` to ``N⁻ᵀ Q_c N⁻¹``.
* :func:`centred`: softmax ignores a form shared by all classes; only differences count.
* :func:`truncation_bounds`, :func:`certified_agreement`, :func:`box_bound`: dropping
  the
  eigenvalues after the top ``k`` moves logit ``c`` by at most ``|λ_{k+1}^{(c)}| ‖h‖²``.
* :func:`noisy_logit_moments`: mean and variance of ``(x + ε)ᵀ P (x + ε)`` under
  Gaussian noise.
* :func:`min_factor_penalty`, :func:`neuron_factor_norms`: what weight decay costs a
  product of factors once the factors are balanced.
* :func:`rayleigh_quotient`: ``xᵀ Q x / ‖x‖²``, at most the top eigenvalue.
"""

from __future__ import annotations

import copy

import torch

from .bilinear import Spectrum, by_magnitude, check_shape, tie_aware_hits
from .models import BilinearMLP


def neuron_eigenvalues(
    w_l: torch.Tensor, w_r: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The non-zero eigenvalues of each neuron's form ``sym(l_a r_aᵀ)``: two ``(d,)``
    tensors.

    ``w_l`` and ``w_r`` are ``(d, n)``; row ``a`` holds neuron ``a``'s ``l_a`` and
    ``r_a``.
    Returns ``((l·r + ‖l‖‖r‖)/2, (l·r − ‖l‖‖r‖)/2)``: the first is ``≥ 0``, the second
    ``≤ 0``;
    every other eigenvalue of the ``n × n`` form is zero.
    """
    check_shape("w_l", w_l, (None, None))
    check_shape("w_r", w_r, tuple(w_l.shape))
    dot = (w_l * w_r).sum(-1)
    norms = w_l.norm(dim=-1) * w_r.norm(dim=-1)
    return (dot + norms) / 2, (dot - norms) / 2


@torch.no_grad()
def reparametrise(model: BilinearMLP, a: torch.Tensor) -> BilinearMLP:
    """A copy of ``model`` with ``W_e → N W_e`` and ``W_l → W_l N⁻¹``, ``W_r → W_r
    N⁻¹``.

    ``a`` is an invertible ``(d, d)`` matrix. Every logit is unchanged, since
    ``W_l N⁻¹ (N W_e x) = W_l W_e x``; the hidden-space ``Q_c`` become ``N⁻ᵀ Q_c N⁻¹``.
    The copy has ``model``'s dtype (pass a float64 model for checks to float precision).
    """
    d = model.config.d_hidden
    check_shape("a", a, (d, d))
    a = a.to(model.w_e.dtype)
    if torch.linalg.matrix_rank(a) < d:
        raise ValueError("a must be invertible (full rank); draw another matrix")
    copied = copy.deepcopy(model)
    copied.w_e.copy_(a @ model.w_e)
    # W N⁻¹ = (N⁻ᵀ Wᵀ)ᵀ, solved without forming the inverse
    copied.w_l.copy_(torch.linalg.solve(a.T, model.w_l.T).T)
    copied.w_r.copy_(torch.linalg.solve(a.T, model.w_r.T).T)
    return copied


def centred(q: torch.Tensor) -> torch.Tensor:
    """``Q_c − (1/C) Σ_c' Q_c'``: the forms with their shared part removed, ``(c, n,
    n)``.

    Adding one form ``M`` to every ``Q_c`` adds ``hᵀMh`` to every logit and leaves
    softmax unchanged, so only these (and all differences ``Q_a − Q_b``) are fixed
    by the model's predictions.
    """
    check_shape("q", q, (None, None, None))
    return q - q.mean(0, keepdim=True)


def _next_magnitude(values: torch.Tensor, k: int) -> torch.Tensor:
    """``|λ_{k+1}|`` of each row of ``values`` sorted by magnitude: ``(c,)``, 0 when ``k
    = n``."""
    n = values.shape[-1]
    if not 0 <= k <= n:
        raise ValueError(f"k must be between 0 and {n}, got {k}")
    return values[:, k].abs() if k < n else values.new_zeros(values.shape[0])


@torch.no_grad()
def truncation_bounds(
    spec: Spectrum, h: torch.Tensor, k: int, sharp: bool = False
) -> torch.Tensor:
    """A bound ``(batch, c)`` on ``|logit_c − logit_c^{(k)}|`` from ``k`` eigenvectors
    per class.

    ``|λ_{k+1}^{(c)}| ‖h‖²`` (the largest dropped magnitude times the input's squared
    norm). With ``sharp=True``, ``‖h‖²`` is replaced by the part of it the kept
    eigenvectors do not see, ``‖h‖² − Σ_{kept} (v·h)²``.
    """
    check_shape("h", h, (None, spec.vectors.shape[-1]))
    values, vectors = by_magnitude(spec)
    energy = h.square().sum(-1, keepdim=True).expand(-1, values.shape[0])  # (b, c)
    if sharp:
        kept = torch.einsum("cin,bn->bci", vectors[:, :k], h).square().sum(-1)
        energy = (energy - kept).clamp_min(0)
    return _next_magnitude(values, k) * energy


@torch.no_grad()
def certified_agreement(
    spec: Spectrum,
    h: torch.Tensor,
    ks: list[int],
    sharp: bool = False,
    batch_size: int = 1000,
) -> dict[int, tuple[float, float]]:
    """For each ``k``: (fraction certified, fraction agreeing) of top-``k`` and full
    predictions.

    An input is *certified* at ``k`` when, with ``p`` the full model's prediction,
    ``logit_p − logit_c > b_p + b_c`` for every other class ``c`` (``b`` from
    :func:`truncation_bounds`): then the top-``k`` model provably predicts ``p`` too.
    *Agreeing* counts the inputs where it actually does (ties split as in
    :func:`wbinterp.bilinear.tie_aware_hits`). Certified never exceeds agreeing.
    """
    check_shape("h", h, (None, spec.vectors.shape[-1]))
    n = spec.values.shape[-1]
    if any(not 0 <= k <= n for k in ks):
        raise ValueError(f"every k must be between 0 and {n}, got {ks}")
    values, vectors = by_magnitude(spec)
    certified = {k: 0.0 for k in ks}
    agreeing = {k: 0.0 for k in ks}
    for start in range(0, h.shape[0], batch_size):
        hb = h[start : start + batch_size]
        squares = torch.einsum("cin,bn->bci", vectors, hb).square()  # (b, c, n)
        cumulative = torch.cat(
            [torch.zeros_like(squares[..., :1]), (squares * values).cumsum(-1)], -1
        )
        kept = torch.cat([torch.zeros_like(squares[..., :1]), squares.cumsum(-1)], -1)
        full = cumulative[..., n]
        predicted = full.argmax(-1)
        energy = hb.square().sum(-1, keepdim=True)
        for k in ks:
            residual = (energy - kept[..., k]).clamp_min(0) if sharp else energy
            bound = _next_magnitude(values, k) * residual  # (b, c)
            margin = full.gather(-1, predicted[:, None]) - full  # (b, c), 0 at p
            slack = bound.gather(-1, predicted[:, None]) + bound
            beaten = (margin > slack) | (
                torch.arange(full.shape[-1]) == predicted[:, None]
            )
            certified[k] += beaten.all(-1).sum().item()
            agreeing[k] += tie_aware_hits(cumulative[..., k], predicted).sum().item()
    return {k: (certified[k] / h.shape[0], agreeing[k] / h.shape[0]) for k in ks}


def box_bound(spec: Spectrum, w_e: torch.Tensor, k: int) -> torch.Tensor:
    """A data-free bound ``(c,)`` on the truncation error over every image in ``[0,
    1]^p``.

    ``‖h‖ = ‖W_e x‖ ≤ ‖W_e‖₂ ‖x‖ ≤ ‖W_e‖₂ √p``, so no image moves logit ``c`` by more
    than ``|λ_{k+1}^{(c)}| p ‖W_e‖₂²`` when the eigenvalues after the top ``k`` are
    dropped.
    """
    check_shape("w_e", w_e, (spec.vectors.shape[-1], None))
    values, _ = by_magnitude(spec)
    return (
        _next_magnitude(values, k)
        * w_e.shape[1]
        * torch.linalg.matrix_norm(w_e, ord=2) ** 2
    )


def noisy_logit_moments(
    p: torch.Tensor, x: torch.Tensor, sigma: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and variance ``(batch, c)`` of ``(x + ε)ᵀ P_c (x + ε)`` for ``ε ~ N(0, σ²
    I)``.

    ``p`` is ``(c, m, m)`` symmetric, ``x`` is ``(batch, m)``. Mean
    ``xᵀPx + σ² tr P``; variance ``4σ² ‖Px‖² + 2σ⁴ ‖P‖_F²``.
    """
    check_shape("p", p, (None, None, p.shape[1] if p.ndim == 3 else None))
    check_shape("x", x, (None, p.shape[1]))
    if sigma < 0:
        raise ValueError(f"sigma must be non-negative, got {sigma}")
    px = torch.einsum("cij,bj->bci", p, x)
    mean = (px * x[:, None]).sum(-1) + sigma**2 * p.diagonal(dim1=1, dim2=2).sum(-1)
    var = 4 * sigma**2 * px.square().sum(-1) + 2 * sigma**4 * p.square().sum((1, 2))
    return mean, var


def min_factor_penalty(norms: torch.Tensor) -> torch.Tensor:
    """``min ½ Σ_i ‖f_i‖²`` over rescalings of ``m`` factors that keep their product:
    ``(…,)``.

    ``norms`` is ``(…, m)``, the factors' norms. Rescaling ``f_i → s_i f_i`` with
    ``Π s_i = 1`` keeps the product; by the AM–GM inequality the least penalty is
    ``(m/2) (Π ‖f_i‖)^{2/m}``, reached when all the norms are equal.
    """
    if norms.ndim < 1 or norms.shape[-1] < 1:
        raise ValueError(
            f"norms must have a last axis of factors, got shape {tuple(norms.shape)}"
        )
    m = norms.shape[-1]
    return m / 2 * norms.prod(-1).abs() ** (2 / m)


def neuron_factor_norms(model: BilinearMLP) -> torch.Tensor:
    """``(d, 3)``: ``‖u_a‖, ‖l_a‖, ‖r_a‖`` for each hidden neuron ``a``.

    ``u_a`` is column ``a`` of ``W_u``, ``l_a`` and ``r_a`` rows ``a`` of ``W_l`` and
    ``W_r``. Neuron ``a`` adds the rank-one tensor ``u_a ⊗ l_a ⊗ r_a`` to the layer;
    rescaling its three factors by ``s_u s_l s_r = 1`` leaves the model unchanged.
    """
    return torch.stack(
        [model.w_u.norm(dim=0), model.w_l.norm(dim=1), model.w_r.norm(dim=1)], dim=-1
    ).detach()


def rayleigh_quotient(q: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``xᵀ Q_c x / ‖x‖²`` for every row of ``x`` ``(batch, m)`` and class: ``(batch,
    c)``.

    It never exceeds the largest eigenvalue of ``Q_c`` and equals it at the top
    eigenvector.
    """
    check_shape("q", q, (None, None, None))
    check_shape("x", x, (None, q.shape[1]))
    return torch.einsum("bi,cij,bj->bc", x, q, x) / x.square().sum(-1, keepdim=True)


def _sqrtm_psd(m: torch.Tensor) -> torch.Tensor:
    values, vectors = torch.linalg.eigh((m + m.T) / 2)
    return (vectors * values.clamp_min(0).sqrt()) @ vectors.T


def basis_penalty(model: BilinearMLP) -> tuple[torch.Tensor, torch.Tensor]:
    """The Gram matrices ``E = W_e W_eᵀ`` and ``H = W_lᵀ W_l + W_rᵀ W_r``, each ``(d,
    d)``.

    Under ``W_e → N W_e``, ``W_{l,r} → W_{l,r} N⁻¹`` (the same function,
    :func:`reparametrise`)
    the weight decay of these three matrices is ``tr(N E Nᵀ) + tr(N⁻ᵀ H N⁻¹)``."""
    w_e, w_l, w_r = model.w_e.detach(), model.w_l.detach(), model.w_r.detach()
    return w_e @ w_e.T, w_l.T @ w_l + w_r.T @ w_r


def best_basis(model: BilinearMLP) -> torch.Tensor:
    """The symmetric ``N`` ``(d, d)`` whose reparametrisation has the least weight
    decay.

    ``tr(E S) + tr(H S⁻¹)`` with ``S = NᵀN`` is least at
    ``S = E^{-1/2} (E^{1/2} H E^{1/2})^{1/2} E^{-1/2}`` (the geometric mean of ``E⁻¹``
    and
    ``H``), where its value is ``2 tr (E^{1/2} H E^{1/2})^{1/2}``; there ``N E Nᵀ = N⁻ᵀ
    H N⁻¹``,
    the stationarity condition. ``N = S^{1/2}``; any orthogonal ``O N`` does as well."""
    e, f = basis_penalty(model)
    e_half = _sqrtm_psd(e)
    e_inv_half = torch.linalg.inv(e_half)
    s = e_inv_half @ _sqrtm_psd(e_half @ f @ e_half) @ e_inv_half
    return _sqrtm_psd(s)


def basis_excess(model: BilinearMLP) -> float:
    """How much more weight decay ``W_e, W_l, W_r`` pay than in the best basis for the
    same
    function: ``(tr E + tr H) / (2 tr (E^{1/2} H E^{1/2})^{1/2})``, ``≥ 1``, and ``1``
    exactly
    when ``W_e W_eᵀ = W_lᵀ W_l + W_rᵀ W_r``: the basis that minimising weight decay
    would pick."""
    e, f = basis_penalty(model)
    e_half = _sqrtm_psd(e)
    least = 2 * torch.linalg.eigvalsh(e_half @ f @ e_half).clamp_min(0).sqrt().sum()
    return ((e.trace() + f.trace()) / least).item()
