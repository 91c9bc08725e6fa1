"""Skip transcoders (Paulo et al. 2025): a transcoder with an affine path beside the
sparse one.

    ŷ = W_dec f + b_dec + W_skip x,     f = σ(W_enc (x − b_pre) + b_enc),

so the features need only carry what a linear map of the input cannot. Here the two
paths are trained one after the other: ``W_skip`` is the least-squares map from the
centred images to the centred hidden activation, then the sparse path
(:func:`wbinterp.sparse.train_sparse`) learns what it leaves (the paper trains both
together). This file is the whole kind: its config, its model, how it is trained,
and its registration.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import cast

import torch
from torch import nn

from .. import models, sparse
from ..optimisation import TrainResult
from ..sparse import SparseCoder, SparseCoderConfig, SparseOutput, SparseTrainConfig
from ..train import TrainConfig
from . import SPARSE_SOURCES, Run, SparseCoderKind, register, with_nested
from .transcoder import TranscoderConfig


@dataclass(frozen=True)
class SkipTranscoderConfig:
    """A skip transcoder of the hidden layer of the ReLU MLP that ``base`` trains."""

    base: TrainConfig
    """The ReLU MLP's recipe."""
    sparse: SparseTrainConfig
    """The sparse path's architecture and training (widths: the MLP's input and hidden)."""

    kind = "skip-transcoder"

    def __post_init__(self) -> None:
        TranscoderConfig(
            self.base, self.sparse
        )  # the same base and widths as a transcoder's

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> SkipTranscoderConfig:
        return cls(
            TrainConfig.from_dict(d["base"]), SparseTrainConfig.from_dict(d["sparse"])
        )

    def with_(self, **changes) -> SkipTranscoderConfig:
        """A copy with some fields changed; the sparse config's fields may be given by
        name."""
        return with_nested(self, "sparse", changes)


class SkipTranscoder(nn.Module):
    """``ŷ = coder(x) + W_skip x``: state dict ``coder.*`` (a
    :class:`~wbinterp.sparse.SparseCoder`)
    and ``w_skip`` (d_out×d_in)."""

    def __init__(
        self, config: SparseCoderConfig, coder: SparseCoder | None = None
    ) -> None:
        super().__init__()
        self.coder = coder if coder is not None else SparseCoder(config)
        self.w_skip = nn.Parameter(torch.zeros(config.d_out, config.d_in))

    def forward(self, x: torch.Tensor) -> SparseOutput:
        """``(batch, d_in)`` -> the prediction, features and pre-activations (as a
        transcoder's)."""
        out = self.coder(x)
        return out._replace(output=out.output + x @ self.w_skip.T)


def least_squares(inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``(d_out, d_in)``: the ``W`` minimising ``Σ‖(y − ȳ) − W (x − x̄)‖²`` over the
    set, the
    smallest such ``W`` where inputs never vary (MNIST's blank border), in float64."""
    x = (inputs - inputs.mean(0)).double()
    y = (targets - targets.mean(0)).double()
    return torch.linalg.lstsq(x, y, driver="gelsd").solution.T.float()


class SkipTranscoderKind(SparseCoderKind):
    """Least squares for the skip path, then :func:`wbinterp.sparse.train_sparse` on the
    rest."""

    names = ("skip-transcoder",)
    config_type = SkipTranscoderConfig
    sources = (*SPARSE_SOURCES, __file__)

    def build(self, config: SkipTranscoderConfig) -> nn.Module:
        return SkipTranscoder(config.sparse.coder)

    def train(self, config: SkipTranscoderConfig, run: Run) -> TrainResult:
        if not isinstance(run.base, models.ReLUMLP):
            raise TypeError(
                f"a skip transcoder is trained on a ReLUMLP, not {type(run.base).__name__}"
            )
        start = time.perf_counter()
        images = run.dataset.train.images
        with torch.no_grad():
            targets = run.base.hidden(images)
            w_skip = least_squares(images, targets)
            rest = targets - images @ w_skip.T
        result = sparse.train_sparse(
            config.sparse, images, rest, run.device, precision=run.precision
        )
        model = SkipTranscoder(config.sparse.coder, cast(SparseCoder, result.model))
        with torch.no_grad():
            model.w_skip.copy_(w_skip)
        return TrainResult(
            model.eval(), result.history, time.perf_counter() - start, result.precision
        )

    def stem(self, config: SkipTranscoderConfig) -> str:
        return f"skip-transcoder{config.sparse.coder.n_features}"

    def describe(self, config: SkipTranscoderConfig) -> str:
        c = config.sparse.coder
        return f"{c.d_in}->{c.n_features}->{c.d_out} + skip of a ReLU MLP, {sparse.describe(config.sparse)}"


register(SkipTranscoderKind())
