"""Training a classifier: one config dataclass, a seeded loop and a pure evaluation.

The loop keeps the whole dataset as tensors on the device and draws batches by
index, so an epoch costs little more than its matrix multiplies.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from typing import Literal, get_args

import torch
import torch.nn.functional as F
from torch import nn

from . import data as data_mod
from . import precision as precision_mod
from .models import ModelConfig, new_model
from .optimisation import TrainResult, cosine_schedule, optimiser_step

Schedule = Literal["cosine", "constant"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a trained model (and so its cache key)."""

    model: ModelConfig = field(default_factory=ModelConfig)
    """Architecture: kind, widths, biases."""
    dataset: data_mod.DatasetName = "mnist"
    """``"mnist"`` or ``"fashion-mnist"``."""
    epochs: int = 20
    """Passes over the 60,000 training images."""
    batch_size: int = 2048
    """Images per step; the last incomplete batch of an epoch is dropped."""
    lr: float = 1e-3
    """Peak learning rate of AdamW."""
    weight_decay: float = 1.0
    """AdamW's decoupled weight decay, applied to every weight."""
    schedule: Schedule = "cosine"
    """``"cosine"`` (decay to zero over all steps) or ``"constant"``."""
    input_noise: float = 0.5
    """Std of Gaussian noise added to every pixel, during training only."""
    max_shift: int = 0
    """Largest random translation of a training image, in pixels along each axis
    (0 = none); needs square images. Training only."""
    seed: int = 0
    """Seeds the initialisation, the batch order and the noise."""

    def __post_init__(self) -> None:
        if not isinstance(self.model, ModelConfig):
            raise TypeError(
                f"model must be a ModelConfig, got {type(self.model).__name__}"
            )
        if self.dataset not in get_args(data_mod.DatasetName):
            raise ValueError(
                f"unknown dataset {self.dataset!r}; choose one of {get_args(data_mod.DatasetName)}"
            )
        if self.schedule not in get_args(Schedule):
            raise ValueError(
                f"unknown schedule {self.schedule!r}; choose one of {get_args(Schedule)}"
            )
        for name in ("epochs", "seed"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 0):
                raise ValueError(
                    f"{name} must be a non-negative integer, got {getattr(self, name)!r}"
                )
        if not (isinstance(self.batch_size, int) and self.batch_size >= 1):
            raise ValueError(
                f"batch_size must be a positive integer, got {self.batch_size!r}"
            )
        if not (isinstance(self.max_shift, int) and 0 <= self.max_shift < 14):
            raise ValueError(
                f"max_shift must be an integer from 0 to 13 pixels, got {self.max_shift!r}"
            )
        if not (self.lr > 0 and self.weight_decay >= 0 and self.input_noise >= 0):
            raise ValueError(
                f"need lr > 0, weight_decay >= 0 and input_noise >= 0, got "
                f"{self.lr}, {self.weight_decay} and {self.input_noise}"
            )

    @property
    def kind(self) -> str:
        """What is trained: the model's kind (``"bilinear"``, ``"relu"`` or
        ``"deep"``)."""
        return self.model.kind

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        d = {k: v for k, v in d.items() if k != "kind"}
        return cls(**{**d, "model": ModelConfig(**d["model"])})

    def with_(self, **changes) -> TrainConfig:
        """A copy with some fields changed; model fields may be given by name too."""
        model_fields = {
            k: changes.pop(k)
            for k in list(changes)
            if k in ModelConfig.__dataclass_fields__
        }
        return replace(self, model=replace(self.model, **model_fields), **changes)


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@torch.no_grad()
def evaluate(
    model: nn.Module, split: data_mod.Split, batch_size: int = 10_000
) -> dict[str, float]:
    """Accuracy and mean cross-entropy of ``model`` on ``split`` (no side effects)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    correct, loss = 0, 0.0
    for start in range(0, len(split), batch_size):
        x = split.images[start : start + batch_size].to(device)
        y = split.labels[start : start + batch_size].to(device)
        logits = model(x)
        loss += F.cross_entropy(logits, y, reduction="sum").item()
        correct += (logits.argmax(-1) == y).sum().item()
    model.train(was_training)
    return {"accuracy": correct / len(split), "loss": loss / len(split)}


def shift(
    images: torch.Tensor, max_shift: int, generator: torch.Generator
) -> torch.Tensor:
    """Translate each flattened square image ``(batch, side²)`` by its own random
    offset of at most ``max_shift`` pixels per axis, filling with zeros."""
    batch, pixels = images.shape
    side = math.isqrt(pixels)
    if side * side != pixels:
        raise ValueError(f"random shifts need square images, got {pixels} pixels")
    device = images.device
    padded = F.pad(images.view(batch, side, side), (max_shift,) * 4)
    offsets = torch.randint(
        0, 2 * max_shift + 1, (2, batch), generator=generator, device=device
    )
    grid = torch.arange(side, device=device)
    rows = (offsets[0, :, None] + grid)[:, :, None]  # (batch, side, 1)
    cols = (offsets[1, :, None] + grid)[:, None, :]  # (batch, 1, side)
    return padded[
        torch.arange(batch, device=device)[:, None, None], rows, cols
    ].reshape(batch, pixels)


class GaussianNoise:
    """Seeded Gaussian noise drawn in two halves, on the CPU on two threads.

    PyTorch draws normal numbers on the CPU serially, and the paper's recipe needs
    a full batch of them every step; two generators, one per half of the batch,
    let both cores draw at once. The halves are fixed by the seed, so the noise
    does not depend on the machine's thread count.
    """

    def __init__(self, seed: int, device: torch.device) -> None:
        self.device = device
        self.generators = [
            torch.Generator(device=device).manual_seed(seed + i) for i in (1, 2)
        ]
        self.pool = ThreadPoolExecutor(1) if device.type == "cpu" else None

    def __call__(self, shape: tuple[int, ...]) -> torch.Tensor:
        """Noise of ``shape`` ``(batch, ...)``, standard normal."""
        out = torch.empty(shape, device=self.device)
        half = shape[0] // 2
        first, second = out[:half], out[half:]
        draw = lambda part, gen: torch.randn(
            part.shape, generator=gen, device=self.device, out=part
        )
        if self.pool is None:
            draw(first, self.generators[0])
            draw(second, self.generators[1])
        else:
            pending = self.pool.submit(draw, second, self.generators[1])
            draw(first, self.generators[0])
            pending.result()
        return out

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def train(
    config: TrainConfig,
    dataset: data_mod.Dataset | None = None,
    device: torch.device | str | None = None,
    progress: bool = False,
    precision: precision_mod.Precision | None = None,
) -> TrainResult:
    """Train a model from nothing. Deterministic on the CPU for a given config, machine
    and ``precision`` (default: :func:`wbinterp.precision.preferred` for the device)."""
    dataset = dataset if dataset is not None else data_mod.load(config.dataset)
    device = torch.device(device) if device is not None else default_device()
    precision = precision_mod.check(precision or precision_mod.preferred(device))
    torch.manual_seed(config.seed)
    model = new_model(config.model).to(device)
    gen = torch.Generator(device=device).manual_seed(config.seed)

    x_train = dataset.train.images.to(device)
    y_train = dataset.train.labels.to(device)
    n = len(y_train)
    steps_per_epoch = n // config.batch_size
    if steps_per_epoch == 0:
        raise ValueError(
            f"batch_size {config.batch_size} exceeds the {n} training images"
        )
    total_steps = steps_per_epoch * config.epochs

    # the fused AdamW updates every weight in one kernel instead of a dozen per tensor
    opt = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay, fused=True
    )
    noise = GaussianNoise(config.seed, device)
    sched = (
        cosine_schedule(opt, total_steps)
        if config.schedule == "cosine"
        else torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0)
    )

    history: dict[str, list[float]] = {
        "epoch": [],
        "train_loss": [],
        "test_loss": [],
        "test_accuracy": [],
        "seconds": [],
    }
    epochs: Iterable[int] = range(config.epochs)
    bar = None
    if progress:
        from tqdm import tqdm

        epochs = bar = tqdm(epochs, desc=f"training {config.model.kind}", unit="epoch")
    start = time.perf_counter()
    model.train()
    for epoch in epochs:
        epoch_start = time.perf_counter()
        order = torch.randperm(n, generator=gen, device=device)
        running = torch.zeros((), device=device)
        for step in range(steps_per_epoch):
            idx = order[step * config.batch_size : (step + 1) * config.batch_size]
            x, y = x_train.index_select(0, idx), y_train.index_select(0, idx)
            if config.max_shift > 0:
                x = shift(x, config.max_shift, gen)
            if config.input_noise > 0:
                x = x + config.input_noise * noise(tuple(x.shape))
            with precision_mod.autocast(precision, device):
                logits = model(x)
            loss = F.cross_entropy(logits.float(), y)
            optimiser_step(loss, opt, sched)
            running += loss.detach()
        history["seconds"].append(time.perf_counter() - epoch_start)
        metrics = evaluate(model, dataset.test)
        history["epoch"].append(epoch + 1)
        history["train_loss"].append(running.item() / steps_per_epoch)
        history["test_loss"].append(metrics["loss"])
        history["test_accuracy"].append(metrics["accuracy"])
        if bar is not None:
            bar.set_postfix(acc=f"{metrics['accuracy']:.4f}")
    seconds = time.perf_counter() - start
    noise.close()
    model.eval()
    return TrainResult(model.cpu(), history, seconds, precision)
