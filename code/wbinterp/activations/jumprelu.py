"""JumpReLU (Rajamanoharan et al. 2024): ``f = z · H(z − θ)``, a ReLU whose step sits at
a learned threshold ``θ_i > 0`` per feature, trained with an L0 penalty
``λ Σ_i H(z_i − θ_i)`` (``train.l0_coefficient``).

Neither the step nor the count has a useful gradient in θ, so both are trained through
a straight-through estimator: in the backward pass ``∂H(z − θ)/∂θ`` is replaced by
``−K((z − θ)/ε)/ε`` with the rectangle kernel ``K(u) = 1[|u| < ½]`` and bandwidth
``ε`` (``train.bandwidth``), so θ moves when inputs fall within ``ε/2`` of it;
``z`` gets the gradient of ``z · H`` with ``H`` held fixed.

State: the weight ``log_threshold`` (F), ``θ = exp(log_threshold)`` so θ stays
positive, starting at ``SparseCoderConfig.threshold``.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from . import Activation, register


class _Jump(torch.autograd.Function):
    """``z · H(z − θ)`` with the estimator's gradient in θ."""

    @staticmethod
    def forward(
        ctx: Any, pre: torch.Tensor, theta: torch.Tensor, eps: float
    ) -> torch.Tensor:
        ctx.save_for_backward(pre, theta)
        ctx.eps = eps
        return pre * (pre > theta)

    @staticmethod
    def backward(
        ctx: Any, grad: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, None]:
        pre, theta = ctx.saved_tensors
        near = ((pre - theta).abs() < ctx.eps / 2).to(grad.dtype)
        d_theta = -(theta / ctx.eps) * near * grad
        return grad * (pre > theta), d_theta.sum(0), None


class _Step(torch.autograd.Function):
    """``H(z − θ)`` with the estimator's gradient in θ (none in z)."""

    @staticmethod
    def forward(
        ctx: Any, pre: torch.Tensor, theta: torch.Tensor, eps: float
    ) -> torch.Tensor:
        ctx.save_for_backward(pre, theta)
        ctx.eps = eps
        return (pre > theta).to(pre.dtype)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[None, torch.Tensor, None]:
        pre, theta = ctx.saved_tensors
        near = ((pre - theta).abs() < ctx.eps / 2).to(grad.dtype)
        return None, (-near * grad / ctx.eps).sum(0), None


class JumpReLU(Activation):
    """``z · H(z − θ)`` per feature; the estimator's gradients only in training."""

    name = "jumprelu"
    takes_threshold = True

    def add_state(self, coder: Any) -> None:
        start = torch.full((coder.config.n_features,), math.log(coder.config.threshold))
        coder.log_threshold = nn.Parameter(start)

    def __call__(
        self, pre: torch.Tensor, coder: Any, train: Any = None
    ) -> torch.Tensor:
        theta = coder.log_threshold.exp()
        if train is None:
            return pre * (pre > theta)
        return _Jump.apply(pre.float(), theta, train.bandwidth)

    def penalty(
        self, acts: torch.Tensor, pre: torch.Tensor, coder: Any, train: Any, warm: float
    ) -> torch.Tensor | None:
        if train.l0_coefficient == 0:
            return None
        fired = _Step.apply(pre.float(), coder.log_threshold.exp(), train.bandwidth)
        return warm * train.l0_coefficient * fired.sum(1).mean()

    @torch.no_grad()
    def resampled(self, coder: Any, index: torch.Tensor) -> None:
        coder.log_threshold[index] = math.log(coder.config.threshold)


register(JumpReLU())
