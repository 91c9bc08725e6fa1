"""The registry of sparse coders' activations: how a coder's features fire.

A sparse coder (:class:`wbinterp.sparse.SparseCoder`) computes pre-activations
``z = W_enc (x − b_pre) + b_enc`` and then its features ``f = φ(z)``; the
activation φ is what makes one kind of coder differ from another (SAELens calls
these its architectures). Each is an :class:`Activation`, named by
``SparseCoderConfig.activation``, in one file of this folder:

* ``relu`` (:mod:`.relu`): ``f = ReLU(z)``, made sparse by an L1 penalty;
* ``topk`` (:mod:`.topk`): the ``k`` largest of each input's ``z`` (Gao et al. 2024);
* ``batchtopk`` (:mod:`.batchtopk`): the ``k·B`` largest over a batch of ``B`` in
  training, one global threshold at inference (Bussmann et al. 2024);
* ``jumprelu`` (:mod:`.jumprelu`): ``f = z · H(z − θ)`` with a learned threshold per
  feature and an L0 penalty, both trained through a straight-through estimator
  (Rajamanoharan et al. 2024).

A new activation is one file here, defining an :class:`Activation` subclass that ends
with ``register(...)``, and its name in the import at the foot of this file. Nothing
in this folder imports the rest of the package: a coder and its configs are passed in.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import torch


class Activation(ABC):
    """One way for a sparse coder's features to fire: subclass it, :func:`register`
    an instance."""

    name: ClassVar[str]
    """The value of ``SparseCoderConfig.activation`` it stands for."""
    takes_k: ClassVar[bool] = False
    """Whether it reads ``SparseCoderConfig.k`` (the features active per input)."""
    takes_threshold: ClassVar[bool] = False
    """Whether it reads ``SparseCoderConfig.threshold`` (an initial threshold)."""

    def check(self, coder: Any) -> None:
        """One clear ``ValueError`` when the coder config ``coder`` (a
        :class:`~wbinterp.sparse.SparseCoderConfig`) sets a field this activation
        does not take, or leaves out one it needs."""
        if self.takes_k and not (
            isinstance(coder.k, int) and 1 <= coder.k <= coder.n_features
        ):
            raise ValueError(
                f"k must be between 1 and n_features={coder.n_features}, got {coder.k!r}"
            )
        if self.takes_threshold:
            if not (isinstance(coder.threshold, int | float) and coder.threshold > 0):
                raise ValueError(
                    f"activation {self.name!r} needs a positive threshold, got {coder.threshold!r}"
                )
        elif coder.threshold is not None:
            raise ValueError(
                f"threshold is for activation 'jumprelu'; activation {self.name!r} takes "
                f"none (leave threshold=None)"
            )

    def add_state(self, coder: Any) -> None:
        """Give a freshly built coder the weights or buffers this activation keeps."""
        return None  # none by default

    @abstractmethod
    def __call__(
        self, pre: torch.Tensor, coder: Any, train: Any = None
    ) -> torch.Tensor:
        """``(batch, F)`` pre-activations -> ``(batch, F)`` non-negative features.
        ``coder.training`` picks the training behaviour where the two differ;
        ``train`` (a :class:`~wbinterp.sparse.SparseTrainConfig`) is given inside
        the training loop only."""

    def penalty(
        self,
        acts: torch.Tensor,
        pre: torch.Tensor,
        coder: Any,
        train: Any,
        warm: float,
    ) -> torch.Tensor | None:
        """The sparsity penalty added to the loss, already weighted (``warm`` ramps
        from 0 to 1 over ``train.l1_warmup`` of the steps); ``None``: none."""
        return None

    def finish(self, coder: Any, inputs: torch.Tensor, batch_size: int) -> None:
        """After training, on the training ``inputs`` (n, d_in): fix what inference
        needs (a threshold)."""
        return None  # none by default

    def resampled(self, coder: Any, index: torch.Tensor) -> None:
        """Features ``index`` were re-initialised: reset this activation's state for
        them."""
        return None  # none by default


_ACTIVATIONS: dict[str, Activation] = {}


def register(activation: Activation) -> Activation:
    """Add ``activation`` under its name; returns it."""
    if activation.name in _ACTIVATIONS:
        raise ValueError(f"activation {activation.name!r} is already registered")
    _ACTIVATIONS[activation.name] = activation
    return activation


def names() -> tuple[str, ...]:
    """Every registered activation's name."""
    return tuple(_ACTIVATIONS)


def named(name: object) -> Activation:
    """The activation registered as ``name``; one clear ``ValueError`` if none is."""
    if not isinstance(name, str) or name not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {names()}, got {name!r}")
    return _ACTIVATIONS[name]


#: The files that decide how features fire (they enter sparse coders' store keys).
SOURCES = tuple(sorted(str(p) for p in Path(__file__).parent.glob("*.py")))

# The built-in activations, one file each; importing a file registers it.
from . import batchtopk, jumprelu, relu, topk  # noqa: E402, F401
