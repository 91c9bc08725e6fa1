"""BatchTopK (Bussmann, Leask and Nanda 2024): in training, the ``k·B`` largest
pre-activations over a whole batch of ``B`` inputs survive, so ``k`` is the mean
number of active features and an input may use more or fewer than ``k``; at
inference, where there is no batch, a feature fires when its pre-activation is above
one global threshold θ, the mean over training batches of the smallest activation
the batch kept, so that the L0 stays near ``k``.

State: the buffer ``threshold`` (a scalar; 0 until training fixes it).
"""

from __future__ import annotations

from typing import Any

import torch

from . import Activation, register


class BatchTopK(Activation):
    """Top ``k·B`` over the batch in training; ``z · 1[z > θ]`` in eval mode."""

    name = "batchtopk"
    takes_k = True

    def add_state(self, coder: Any) -> None:
        coder.register_buffer("threshold", torch.zeros(()))

    def __call__(
        self, pre: torch.Tensor, coder: Any, train: Any = None
    ) -> torch.Tensor:
        if coder.training:
            return batch_top(pre, coder.config.k)
        return pre * (pre > coder.threshold)

    @torch.no_grad()
    def finish(self, coder: Any, inputs: torch.Tensor, batch_size: int) -> None:
        smallest = []
        for start in range(0, inputs.shape[0] - batch_size + 1, batch_size):
            x = inputs[start : start + batch_size]
            pre = (x - coder.b_pre) @ coder.w_enc.T + coder.b_enc
            kept = batch_top(pre, coder.config.k)
            if (kept > 0).any():
                smallest.append(kept[kept > 0].min())
        coder.threshold.copy_(torch.stack(smallest).mean() if smallest else 0.0)


def batch_top(pre: torch.Tensor, k: int) -> torch.Tensor:
    """``(B, F)``: the ``k·B`` largest entries of ``ReLU(pre)`` over the whole batch,
    the rest zero."""
    flat = torch.relu(pre).flatten()
    top = flat.topk(min(k * pre.shape[0], flat.numel()))
    return torch.zeros_like(flat).scatter(0, top.indices, top.values).view_as(pre)


register(BatchTopK())
