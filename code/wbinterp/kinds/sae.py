"""Sparse autoencoders of a bilinear layer's outputs, on images or on unit input
pairs."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal, get_args

import torch

from .. import models, pairs, sparse
from ..optimisation import TrainResult
from ..sparse import SparseTrainConfig
from ..train import TrainConfig
from . import SPARSE_SOURCES, Run, SparseCoderKind, register, with_nested

SaeSource = Literal["outputs", "pairs"]


@dataclass(frozen=True)
class SaeConfig:
    """A sparse autoencoder on the outputs of a bilinear model's layer (before its
    head)."""

    base: TrainConfig
    """The bilinear model's recipe (so its key covers the model it reads)."""
    source: SaeSource
    """``"outputs"``: the layer's outputs ``g(W_e x)`` on the training images;
    ``"pairs"``: unit input-pair outputs ``g_ij`` over pixel pairs, from the weights alone."""
    sparse: SparseTrainConfig
    """The SAE's architecture and training (``d_in == d_out`` = the model's width)."""
    n_pairs: int = 0
    """For ``"pairs"``: how many pixel pairs to sample (the seed is ``sparse.seed``)."""

    kind = "sae"

    def __post_init__(self) -> None:
        if not isinstance(self.base, TrainConfig) or self.base.kind != "bilinear":
            raise ValueError(
                f"an SAE of the layer needs a bilinear model's TrainConfig, got {self.base!r}"
            )
        if self.source not in get_args(SaeSource):
            raise ValueError(
                f"SAE source must be one of {get_args(SaeSource)}, got {self.source!r}"
            )
        if not isinstance(self.sparse, SparseTrainConfig):
            raise TypeError(
                f"sparse must be a SparseTrainConfig, got {type(self.sparse).__name__}"
            )
        width = self.base.model.d_hidden
        if (self.sparse.coder.d_in, self.sparse.coder.d_out) != (width, width):
            raise ValueError(
                f"an SAE of a width-{width} layer reconstructs it: need d_in = d_out = {width}, "
                f"got {self.sparse.coder.d_in} and {self.sparse.coder.d_out}"
            )
        if self.source == "pairs" and self.n_pairs < 1:
            raise ValueError(
                f"an SAE on input pairs needs n_pairs >= 1, got {self.n_pairs}"
            )

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> SaeConfig:
        return cls(
            TrainConfig.from_dict(d["base"]),
            d["source"],
            SparseTrainConfig.from_dict(d["sparse"]),
            d.get("n_pairs", 0),
        )

    def with_(self, **changes) -> SaeConfig:
        """A copy with some fields changed; the sparse config's fields may be given by
        name."""
        return with_nested(self, "sparse", changes)


def training_data(
    config: SaeConfig, model: models.BilinearMLP, images: torch.Tensor
) -> torch.Tensor:
    """What the SAE of ``config`` is trained on, ``(n, d)``: layer outputs, or unit pair
    outputs."""
    with torch.no_grad():
        if config.source == "outputs":
            return model.bilinear(model.embed(images))
        return pairs.pair_dataset(
            model.w_l, model.w_r, model.w_e, config.n_pairs, config.sparse.seed
        )


class Sae(SparseCoderKind):
    """:func:`wbinterp.sparse.train_sparse` reconstructing :func:`training_data`."""

    names = ("sae",)
    config_type = SaeConfig
    sources = (*SPARSE_SOURCES, pairs.__file__, __file__)

    def train(self, config: SaeConfig, run: Run) -> TrainResult:
        if not isinstance(run.base, models.BilinearMLP):
            raise TypeError(
                f"an SAE is trained on a BilinearMLP, not {type(run.base).__name__}"
            )
        inputs = training_data(config, run.base, run.dataset.train.images)
        return sparse.train_sparse(
            config.sparse, inputs, inputs, run.device, precision=run.precision
        )

    def stem(self, config: SaeConfig) -> str:
        return f"sae-{config.source}{config.sparse.coder.n_features}"

    def describe(self, config: SaeConfig) -> str:
        c = config.sparse.coder
        return f"{c.d_in}->{c.n_features}->{c.d_out} of a bilinear layer's {config.source}, {sparse.describe(config.sparse)}"


register(Sae())
