"""The registry of trained kinds: how each is built, trained, keyed, described and read
back.

A *kind* is one sort of trained model (a classifier, a transcoder, an SAE). Its
:class:`Kind` says everything the store (:mod:`wbinterp.store`) needs, which is why the
store knows no kind: it asks :func:`of` for a config's kind, or :func:`named` for the
kind a saved ``config.json`` names. A config names its kind in ``config.kind``; a sparse
coder's config holds its base model's config by value (``config.base``), so the key of
a sparse coder covers its base model's recipe.

A new kind is one file in this folder, defining its config dataclass and a
:class:`Kind` subclass that ends with ``register(...)``, and one line that imports it at
the foot of this file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar

import torch
from torch import nn

from .. import activations, models, optimisation, sparse
from .. import data as data_mod
from .. import precision as precision_mod
from .. import train as train_mod
from ..optimisation import TrainResult
from ..sparse import SparseCoder
from ..train import TrainConfig


@dataclass(frozen=True)
class Run:
    """What a kind's training is given by the store."""

    dataset: data_mod.Dataset
    """The dataset of the classifier at the root (a sparse coder's base model's)."""
    device: torch.device
    """Where the training steps run."""
    precision: precision_mod.Precision
    """What the training steps' matrix multiplies run in."""
    progress: bool
    """Show a progress bar."""
    base: nn.Module | None
    """The trained base model of a sparse coder (``None`` for a classifier)."""


class Kind(ABC):
    """One sort of trained model: subclass it, and :func:`register` an instance."""

    names: ClassVar[tuple[str, ...]]
    """The values of ``config.kind`` (and of ``"kind"`` in ``config.json``) it stands for."""
    config_type: ClassVar[type[Any]]
    """Its config dataclass (with ``kind``, ``to_dict`` and ``from_dict``)."""
    sources: ClassVar[tuple[str, ...]]
    """The files whose code decides its weights: their syntax trees enter its store key
    (:func:`wbinterp.hashing.sha256_code`). The kind's own file is among them when it
    computes anything the model is trained on."""

    def base(self, config: Any) -> TrainConfig | None:
        """The classifier a model of ``config`` is trained on (``None``: none)."""
        return None

    def dataset(self, config: Any) -> data_mod.DatasetName:
        """The dataset its training reads: its own, or its base model's."""
        base = self.base(config)
        if base is None:
            raise NotImplementedError(
                f"{type(self).__name__} must say which dataset it reads"
            )
        return base.dataset

    def from_dict(self, d: dict) -> Any:
        """The config saved as ``d`` (:func:`to_dict`)."""
        return self.config_type.from_dict(d)

    @abstractmethod
    def build(self, config: Any) -> nn.Module:
        """A freshly initialised model for ``config`` (its weights are then loaded or
        trained)."""

    @abstractmethod
    def train(self, config: Any, run: Run) -> TrainResult:
        """Train a model of ``config``."""

    @abstractmethod
    def stem(self, config: Any) -> str:
        """The readable part of its store folder's name, e.g. ``"bilinear512"``."""

    @abstractmethod
    def describe(self, config: Any) -> str:
        """One line for ``python -m wbinterp presets``."""


#: The files that decide a sparse coder's weights besides its kind's own file.
SPARSE_SOURCES = (
    models.__file__,
    optimisation.__file__,
    train_mod.__file__,
    precision_mod.__file__,
    sparse.__file__,
    *activations.SOURCES,
)


class SparseCoderKind(Kind):
    """A kind trained on a base classifier (``config.base``), by default a
    :class:`~wbinterp.sparse.SparseCoder` of ``config.sparse.coder``."""

    def base(self, config: Any) -> TrainConfig:
        return config.base

    def build(self, config: Any) -> nn.Module:
        return SparseCoder(config.sparse.coder)


_KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add ``kind`` to the registry under each of its names; returns it."""
    taken = [name for name in kind.names if name in _KINDS and _KINDS[name] is not kind]
    if taken:
        raise ValueError(f"kind names {taken} are already registered")
    for name in kind.names:
        _KINDS[name] = kind
    return kind


def names() -> list[str]:
    """Every registered kind name."""
    return list(_KINDS)


def named(name: object) -> Kind:
    """The kind registered as ``name``; ``KeyError`` naming the choices if none is."""
    if not isinstance(name, str) or name not in _KINDS:
        raise KeyError(f"unknown kind {name!r} (expected one of {', '.join(_KINDS)})")
    return _KINDS[name]


def of(config: object) -> Kind:
    """The kind of ``config`` (from its ``kind``); ``TypeError`` when it is not one's
    config."""
    kind = _KINDS.get(getattr(config, "kind", None))  # type: ignore[arg-type]
    if kind is None or not isinstance(config, kind.config_type):
        raise TypeError(
            f"{type(config).__name__} is not the config of a registered kind"
        )
    return kind


def to_dict(config: Any) -> dict:
    """``config`` as JSON-ready data, with its ``kind`` first."""
    of(config)
    return {"kind": config.kind, **config.to_dict()}


def from_dict(d: dict) -> Any:
    """The config :func:`to_dict` saved, read by the kind it names."""
    return named(d.get("kind")).from_dict(d)


def dataset(config: Any) -> data_mod.DatasetName:
    """The dataset a model of ``config`` is trained on."""
    return of(config).dataset(config)


def with_nested(config: Any, nested: str, changes: dict) -> Any:
    """``config`` with some fields changed; the fields its field ``nested`` takes in its
    own ``with_`` may be given by name too (``transcoder.with_(k=8)`` sets
    ``transcoder.sparse.coder.k``)."""
    own = {f.name for f in fields(config)}
    inner = {k: changes.pop(k) for k in list(changes) if k not in own}
    if inner:
        changes[nested] = changes.get(nested, getattr(config, nested)).with_(**inner)
    return replace(config, **changes)


# The built-in kinds, one file each; importing a kind's file registers it.
from . import classifier, sae, skip_transcoder, transcoder  # noqa: E402, F401
