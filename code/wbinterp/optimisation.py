"""What every training loop shares: one optimiser step, the cosine schedule, and the
result of a run.

The classifier's loop (:func:`wbinterp.train.train`), the sparse coders'
(:func:`wbinterp.sparse.train_sparse`) and the toy layers'
(:func:`wbinterp.toy.fit`) differ in their data and their loss; the step that turns
a loss into new weights is this one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from . import precision as precision_mod


@dataclass(frozen=True)
class TrainResult:
    """What any training run gives: a classifier, a sparse coder or a toy layer."""

    model: nn.Module
    """The trained model, in eval mode, on the CPU."""
    history: dict[str, list[float]]
    """Its curves (a classifier, per epoch: ``epoch``, ``train_loss``, ``test_loss``,
    ``test_accuracy`` and ``seconds``, the epoch's training steps without its
    evaluation; a sparse model, per epoch: ``epoch``, ``fvu``, ``l0``, and
    ``resampled`` per resampling; a toy layer, per step: ``step``, ``loss``)."""
    seconds: float
    """Wall-clock training time."""
    precision: precision_mod.Precision
    """What the training steps' matrix multiplies ran in (:mod:`wbinterp.precision`)."""


def optimiser_step(
    loss: torch.Tensor,
    optimiser: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler,
    before_update: Callable[[], None] | None = None,
) -> None:
    """One step on ``loss`` (a scalar): its gradients, then ``before_update`` (a change
    to the gradients, such as a projection), the optimiser's update and the
    schedule's."""
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    if before_update is not None:
        before_update()
    optimiser.step()
    schedule.step()


def cosine_schedule(
    optimiser: torch.optim.Optimizer, total_steps: int, floor: float = 0.0
) -> torch.optim.lr_scheduler.LambdaLR:
    """The peak learning rate times ``floor + (1 − floor) · ½(1 + cos(π s / S))`` at
    step ``s`` of ``S = total_steps``: from the peak down to ``floor`` of it, then
    constant."""
    if not 0 <= floor <= 1:
        raise ValueError(f"floor must be between 0 and 1, got {floor}")
    return torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda s: (
            floor
            + (1 - floor)
            * 0.5
            * (1 + math.cos(math.pi * min(s, total_steps) / max(total_steps, 1)))
        ),
    )
