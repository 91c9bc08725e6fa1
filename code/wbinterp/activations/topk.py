"""TopK (Gao et al. 2024): each input keeps its ``k`` largest pre-activations (then
ReLU), so exactly ``k`` features are active at most and no penalty is needed."""

from __future__ import annotations

from typing import Any

import torch

from . import Activation, register


class TopK(Activation):
    """The ``k`` largest of each row of ``z``, the rest zero."""

    name = "topk"
    takes_k = True

    def __call__(
        self, pre: torch.Tensor, coder: Any, train: Any = None
    ) -> torch.Tensor:
        top = pre.topk(coder.config.k, dim=-1)
        return torch.zeros_like(pre).scatter(-1, top.indices, torch.relu(top.values))


register(TopK())
