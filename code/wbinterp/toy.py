"""Toy circuits: small bilinear layers trained on quadratic functions of sparse binary
inputs.

A task is a set of target forms ``P*_c`` (``(outputs, n, n)``, symmetric): the target
of output ``c`` on input ``x`` is ``xᵀ P*_c x``. On binary inputs ``x_i² = x_i``, so the
monomials ``x_i`` and ``x_i x_j`` (``i < j``) are linearly independent functions and a
quadratic function of binary inputs has exactly one such form: the truth table fixes
every entry of ``P*_c``, and a trained layer that computes the function must have it.

* :class:`BooleanPairs`: AND, OR or XOR of every pair of ``n`` features, as in the
  official tutorials of Pearce et al. (2025).
* :class:`Negation`: a stand-in for the paper's §5 circuit, two outputs that fire
  when a negation feature co-occurs with a positive (or negative) sentiment feature.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Literal, get_args

import torch

from .bilinear import model_input_forms, quadratic_form
from .models import BilinearMLP, ModelConfig
from .optimisation import TrainResult, optimiser_step

Operation = Literal["and", "or", "xor"]


def _check_probability(p_on: float) -> None:
    if not 0 < p_on < 1:
        raise ValueError(f"p_on must be between 0 and 1, got {p_on}")


@dataclass(frozen=True)
class BooleanPairs:
    """One Boolean operation of every pair of ``n_inputs`` binary features (each on with
    ``p_on``)."""

    operation: Operation = "and"
    """``"and"``, ``"or"`` or ``"xor"``."""
    n_inputs: int = 6
    """Binary input features; the task has ``n(n − 1)/2`` outputs, one per pair."""
    p_on: float = 0.3
    """Probability that a feature is 1, independently of the others."""

    def __post_init__(self) -> None:
        if self.operation not in get_args(Operation):
            raise ValueError(
                f"unknown operation {self.operation!r}; choose one of {get_args(Operation)}"
            )
        if not (isinstance(self.n_inputs, int) and self.n_inputs >= 2):
            raise ValueError(
                f"n_inputs must be an integer of at least 2, got {self.n_inputs!r}"
            )
        _check_probability(self.p_on)

    @property
    def pairs(self) -> list[tuple[int, int]]:
        """The output order: ``(i, j)`` with ``i < j``."""
        return list(itertools.combinations(range(self.n_inputs), 2))

    def target_forms(self) -> torch.Tensor:
        """``(pairs, n, n)``: AND = x_i x_j; OR = x_i + x_j − x_i x_j; XOR = x_i + x_j −
        2 x_i x_j,
        written with ``x_i = x_i²`` on the diagonal."""
        diagonal, cross = {"and": (0.0, 1.0), "or": (1.0, -1.0), "xor": (1.0, -2.0)}[
            self.operation
        ]
        forms = torch.zeros(len(self.pairs), self.n_inputs, self.n_inputs)
        for c, (i, j) in enumerate(self.pairs):
            forms[c, i, i] = forms[c, j, j] = diagonal
            forms[c, i, j] = forms[c, j, i] = cross / 2
        return forms

    def sample(
        self, n: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` random inputs ``(n, n_inputs)`` and their targets ``(n, pairs)``."""
        x = (torch.rand(n, self.n_inputs, generator=generator) < self.p_on).float()
        return x, quadratic_form(self.target_forms(), x)


@dataclass(frozen=True)
class Negation:
    """Negation × sentiment: output 0 ("not good") counts (negation, positive word)
    pairs,
    output 1 ("not bad") (negation, negative word) pairs; other features are
    distractors."""

    n_negation: int = 3
    """Negation features ("not", "never", …)."""
    n_positive: int = 4
    """Positive-sentiment features."""
    n_negative: int = 4
    """Negative-sentiment features."""
    n_other: int = 5
    """Features that take part in no output."""
    p_on: float = 0.15
    """Probability that a feature is 1, independently of the others."""

    def __post_init__(self) -> None:
        for name in ("n_negation", "n_positive", "n_negative", "n_other"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 1):
                raise ValueError(
                    f"{name} must be a positive integer, got {getattr(self, name)!r}"
                )
        _check_probability(self.p_on)

    @property
    def n_inputs(self) -> int:
        return self.n_negation + self.n_positive + self.n_negative + self.n_other

    def families(self) -> dict[str, torch.Tensor]:
        """Boolean masks ``(n_inputs,)`` of each feature family, in input order."""
        sizes = {"negation": self.n_negation, "positive": self.n_positive,
                 "negative": self.n_negative, "other": self.n_other}  # fmt: skip
        masks, start = {}, 0
        for name, size in sizes.items():
            masks[name] = torch.zeros(self.n_inputs, dtype=torch.bool)
            masks[name][start : start + size] = True
            start += size
        return masks

    def target_forms(self) -> torch.Tensor:
        """``(2, n, n)``: ``(Σ negation)(Σ positive)`` and ``(Σ negation)(Σ
        negative)``."""
        fam = self.families()
        forms = torch.zeros(2, self.n_inputs, self.n_inputs)
        for c, sentiment in enumerate(["positive", "negative"]):
            block = torch.outer(fam["negation"].float(), fam[sentiment].float()) / 2
            forms[c] = block + block.T
        return forms

    def sample(
        self, n: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` random inputs ``(n, n_inputs)`` and their targets ``(n, 2)``."""
        x = (torch.rand(n, self.n_inputs, generator=generator) < self.p_on).float()
        return x, quadratic_form(self.target_forms(), x)


Task = BooleanPairs | Negation


def fit(
    task: Task,
    d_hidden: int = 32,
    steps: int = 2000,
    batch_size: int = 512,
    lr: float = 1e-2,
    weight_decay: float = 0.0,
    seed: int = 0,
) -> TrainResult:
    """Train a bias-free bilinear model (embedding, layer, head) on ``task`` with MSE.

    Fresh inputs every step, AdamW with a cosine schedule, in float32. The result's
    model is frozen (read from its weights, like the store's models) and its history
    has the loss of every step. Runs on one CPU thread: the matrices are tiny, and a
    second thread only adds the cost of waking it at every operation.
    """
    if not (isinstance(steps, int) and steps >= 1):
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _fit(task, d_hidden, steps, batch_size, lr, weight_decay, seed)
    finally:
        torch.set_num_threads(threads)


def _fit(
    task: Task,
    d_hidden: int,
    steps: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    seed: int,
) -> TrainResult:
    start = time.perf_counter()
    torch.manual_seed(seed)
    n_outputs = task.target_forms().shape[0]
    model = BilinearMLP(
        ModelConfig(d_input=task.n_inputs, d_hidden=d_hidden, n_classes=n_outputs)
    )
    generator = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    losses = []
    for _ in range(steps):
        x, y = task.sample(batch_size, generator)
        loss = torch.nn.functional.mse_loss(model(x), y)
        optimiser_step(loss, opt, sched)
        losses.append(loss.item())
    model.eval().requires_grad_(False)
    history = {"step": [float(s) for s in range(1, steps + 1)], "loss": losses}
    return TrainResult(model, history, time.perf_counter() - start, "float32")


def learned_forms(model: BilinearMLP) -> torch.Tensor:
    """The model's forms over its inputs, ``W_eᵀ Q_c W_e``: ``(outputs, n, n)``, a
    property
    of the function it computes (not of its hidden basis)."""
    return model_input_forms(model)


def all_binary_inputs(n: int) -> torch.Tensor:
    """Every binary input of ``n`` features, ``(2ⁿ, n)``: the full truth table."""
    if n > 20:
        raise ValueError(f"2^{n} inputs is too many to enumerate; use n <= 20")
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=n)))
