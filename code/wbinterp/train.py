"""Training: one config dataclass, named presets, a seeded loop and a pure evaluation.

The loop keeps the whole dataset as tensors on the device and draws batches by
index, so an epoch costs little more than its matrix multiplies.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, replace
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from . import data as data_mod
from .models import ModelConfig, build


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a trained model (and so its cache key)."""

    model: ModelConfig = field(default_factory=ModelConfig)
    """Architecture: kind, widths, biases."""
    dataset: str = "mnist"
    """``"mnist"`` or ``"fashion-mnist"``."""
    epochs: int = 20
    """Passes over the 60,000 training images."""
    batch_size: int = 2048
    """Images per step; the last incomplete batch of an epoch is dropped."""
    lr: float = 1e-3
    """Peak learning rate of AdamW."""
    weight_decay: float = 1.0
    """AdamW's decoupled weight decay, applied to every weight."""
    schedule: str = "cosine"
    """``"cosine"`` (decay to zero over all steps) or ``"constant"``."""
    input_noise: float = 0.5
    """Std of Gaussian noise added to every pixel, during training only."""
    seed: int = 0
    """Seeds the initialisation, the batch order and the noise."""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        return cls(**{**d, "model": ModelConfig(**d["model"])})

    def with_(self, **changes) -> "TrainConfig":
        """A copy with some fields changed; model fields may be given by name too."""
        model_fields = {k: changes.pop(k) for k in list(changes) if k in ModelConfig.__dataclass_fields__}
        return replace(self, model=replace(self.model, **model_fields), **changes)


#: Named training recipes. ``book`` is the main bilinear model used throughout.
PRESETS: dict[str, TrainConfig] = {
    # The paper's Table 1: d = 512, AdamW 1e-3, wd 1.0, batch 2048, cosine, noise 0.5.
    "paper": TrainConfig(),
    # The seed notebook: the same model with 20 epochs and lighter noise (std 0.15).
    "seed-notebook": TrainConfig(input_noise=0.15),
    # The book's main model: the paper's recipe with smaller batches (more steps per
    # epoch), 15 epochs and lighter noise, chosen among a few recipes for full and
    # top-k accuracy at a cost that lets every chapter train it in its 3 CPU-minutes.
    "book": TrainConfig(epochs=15, batch_size=256, input_noise=0.2),
    # The ordinary ReLU MLP 784 -> 512 -> 10 that the transcoder chapters interpret.
    "relu": TrainConfig(model=ModelConfig(kind="relu"), epochs=15, batch_size=512, lr=2e-3,
                        weight_decay=0.1, input_noise=0.0),
}


def preset(name: str) -> TrainConfig:
    """The training config called ``name`` (see :data:`PRESETS`)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}") from None


class TrainResult(NamedTuple):
    model: nn.Module
    """The trained model, in eval mode, on the CPU."""
    history: dict[str, list[float]]
    """Per epoch: ``epoch``, ``train_loss``, ``test_loss``, ``test_accuracy``."""
    seconds: float
    """Wall-clock training time."""


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@torch.no_grad()
def evaluate(model: nn.Module, split: data_mod.Split, batch_size: int = 10_000) -> dict[str, float]:
    """Accuracy and mean cross-entropy of ``model`` on ``split`` (no side effects)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    correct, loss = 0, 0.0
    for start in range(0, len(split), batch_size):
        x = split.images[start:start + batch_size].to(device)
        y = split.labels[start:start + batch_size].to(device)
        logits = model(x)
        loss += F.cross_entropy(logits, y, reduction="sum").item()
        correct += (logits.argmax(-1) == y).sum().item()
    model.train(was_training)
    return {"accuracy": correct / len(split), "loss": loss / len(split)}


def train(config: TrainConfig, dataset: data_mod.Dataset | None = None,
          device: torch.device | str | None = None, progress: bool = False) -> TrainResult:
    """Train a model from nothing. Deterministic on the CPU for a given config."""
    if config.batch_size < 1 or config.epochs < 0:
        raise ValueError(f"need batch_size >= 1 and epochs >= 0, got {config}")
    dataset = dataset if dataset is not None else data_mod.load(config.dataset)
    device = torch.device(device) if device is not None else default_device()
    torch.manual_seed(config.seed)
    model = build(config.model).to(device)
    gen = torch.Generator(device=device).manual_seed(config.seed)

    x_train = dataset.train.images.to(device)
    y_train = dataset.train.labels.to(device)
    n = len(y_train)
    steps_per_epoch = n // config.batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"batch_size {config.batch_size} exceeds the {n} training images")
    total_steps = steps_per_epoch * config.epochs

    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    if config.schedule == "cosine":
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps)))
    elif config.schedule == "constant":
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0)
    else:
        raise ValueError(f"unknown schedule {config.schedule!r}; choose 'cosine' or 'constant'")

    history: dict[str, list[float]] = {"epoch": [], "train_loss": [], "test_loss": [], "test_accuracy": []}
    epochs = range(config.epochs)
    if progress:
        from tqdm import tqdm
        epochs = tqdm(epochs, desc=f"training {config.model.kind}", unit="epoch")
    start = time.perf_counter()
    model.train()
    for epoch in epochs:
        order = torch.randperm(n, generator=gen, device=device)
        running = torch.zeros((), device=device)
        for step in range(steps_per_epoch):
            idx = order[step * config.batch_size:(step + 1) * config.batch_size]
            x, y = x_train[idx], y_train[idx]
            if config.input_noise > 0:
                x = x + config.input_noise * torch.randn(x.shape, generator=gen, device=device)
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            running += loss.detach()
        metrics = evaluate(model, dataset.test)
        history["epoch"].append(epoch + 1)
        history["train_loss"].append(running.item() / steps_per_epoch)
        history["test_loss"].append(metrics["loss"])
        history["test_accuracy"].append(metrics["accuracy"])
        if progress:
            epochs.set_postfix(acc=f"{metrics['accuracy']:.4f}")
    seconds = time.perf_counter() - start
    model.eval()
    return TrainResult(model.cpu(), history, seconds)
