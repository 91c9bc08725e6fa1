"""``f = ReLU(z)``: features made sparse by an L1 penalty on their sizes (the
decoder's columns have unit norm, so the penalty cannot be dodged by scaling)."""

from __future__ import annotations

from typing import Any

import torch

from . import Activation, register


class ReLU(Activation):
    """``ReLU(z)``, with the penalty ``α Σ_i f_i`` (``train.l1_coefficient``)."""

    name = "relu"

    def __call__(
        self, pre: torch.Tensor, coder: Any, train: Any = None
    ) -> torch.Tensor:
        return torch.relu(pre)

    def penalty(
        self,
        acts: torch.Tensor,
        pre: torch.Tensor,
        coder: Any,
        train: Any,
        warm: float,
    ) -> torch.Tensor | None:
        if train.l1_coefficient == 0:
            return None
        return warm * train.l1_coefficient * acts.float().sum(1).mean()


register(ReLU())
