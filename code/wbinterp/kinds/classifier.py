"""The classifiers (bilinear, ReLU and deep bilinear MLPs):
:class:`wbinterp.train.TrainConfig`."""

from __future__ import annotations

from torch import nn

from .. import data as data_mod
from .. import models, optimisation
from .. import precision as precision_mod
from .. import train as train_mod
from ..optimisation import TrainResult
from ..train import TrainConfig
from . import Kind, Run, register


class Classifier(Kind):
    """A classifier trained on images: :func:`wbinterp.train.train` of a
    ``TrainConfig``."""

    names = ("bilinear", "relu", "deep")
    config_type = TrainConfig
    # This file only passes arguments on, so the key reads the code that trains.
    sources = (
        models.__file__,
        optimisation.__file__,
        train_mod.__file__,
        precision_mod.__file__,
    )

    def dataset(self, config: TrainConfig) -> data_mod.DatasetName:
        return config.dataset

    def build(self, config: TrainConfig) -> nn.Module:
        return models.new_model(config.model)

    def train(self, config: TrainConfig, run: Run) -> TrainResult:
        return train_mod.train(
            config,
            run.dataset,
            run.device,
            progress=run.progress,
            precision=run.precision,
        )

    def stem(self, config: TrainConfig) -> str:
        return f"{config.kind}{config.model.d_hidden}"

    def describe(self, config: TrainConfig) -> str:
        return (
            f"d={config.model.d_hidden:<4d} epochs={config.epochs:<3d} batch={config.batch_size:<5d} "
            f"lr={config.lr:g} wd={config.weight_decay:g} noise={config.input_noise:g} "
            f"dataset={config.dataset}"
        )


register(Classifier())
