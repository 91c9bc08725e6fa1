"""Transcoders of a ReLU MLP's hidden layer: images in, the MLP's hidden activation
out."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from .. import models, sparse
from ..optimisation import TrainResult
from ..sparse import SparseTrainConfig
from ..train import TrainConfig
from . import SPARSE_SOURCES, Run, SparseCoderKind, register, with_nested


@dataclass(frozen=True)
class TranscoderConfig:
    """A transcoder of the hidden layer of the ReLU MLP that ``base`` trains."""

    base: TrainConfig
    """The ReLU MLP's recipe (so its key covers the MLP it reads)."""
    sparse: SparseTrainConfig
    """The transcoder's architecture and training (``d_in`` and ``d_out``: the MLP's
    input and hidden widths)."""

    kind = "transcoder"

    def __post_init__(self) -> None:
        if not isinstance(self.base, TrainConfig) or self.base.kind != "relu":
            raise ValueError(
                f"a transcoder needs a ReLU MLP's TrainConfig as its base, got {self.base!r}"
            )
        if not isinstance(self.sparse, SparseTrainConfig):
            raise TypeError(
                f"sparse must be a SparseTrainConfig, got {type(self.sparse).__name__}"
            )
        widths = (self.base.model.d_input, self.base.model.d_hidden)
        if (self.sparse.coder.d_in, self.sparse.coder.d_out) != widths:
            raise ValueError(
                f"a transcoder of this MLP needs d_in = {widths[0]} and d_out = {widths[1]}, "
                f"got {self.sparse.coder.d_in} and {self.sparse.coder.d_out}"
            )

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TranscoderConfig:
        return cls(
            TrainConfig.from_dict(d["base"]), SparseTrainConfig.from_dict(d["sparse"])
        )

    def with_(self, **changes) -> TranscoderConfig:
        """A copy with some fields changed; the sparse config's fields may be given by
        name."""
        return with_nested(self, "sparse", changes)


class Transcoder(SparseCoderKind):
    """:func:`wbinterp.sparse.train_sparse` from the images to the MLP's hidden
    activation."""

    names = ("transcoder",)
    config_type = TranscoderConfig
    sources = (*SPARSE_SOURCES, __file__)

    def train(self, config: TranscoderConfig, run: Run) -> TrainResult:
        if not isinstance(run.base, models.ReLUMLP):
            raise TypeError(
                f"a transcoder is trained on a ReLUMLP, not {type(run.base).__name__}"
            )
        images = run.dataset.train.images
        with torch.no_grad():
            targets = run.base.hidden(images)
        return sparse.train_sparse(
            config.sparse, images, targets, run.device, precision=run.precision
        )

    def stem(self, config: TranscoderConfig) -> str:
        return f"transcoder{config.sparse.coder.n_features}"

    def describe(self, config: TranscoderConfig) -> str:
        c = config.sparse.coder
        return f"{c.d_in}->{c.n_features}->{c.d_out} of a ReLU MLP, {sparse.describe(config.sparse)}"


register(Transcoder())
