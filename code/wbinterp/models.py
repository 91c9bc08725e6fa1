"""The two classifiers of the book, with weights named after the maths.

State-dict names (what ``python -m wbinterp train`` exports):

* ``BilinearMLP``: ``w_e`` (d×784), ``w_l`` and ``w_r`` (d×d), ``w_u`` (10×d),
  plus ``b_l`` and ``b_r`` (d) when built with ``bias=True``.
* ``ReLUMLP``: ``w_in`` (h×784), ``w_out`` (10×h), plus ``b_in`` (h) and
  ``b_out`` (10) when built with ``bias=True``.
* ``DeepBilinearMLP``: ``w_e`` (d×784), ``w_l`` and ``w_r`` (L×d×d, one d×d matrix per
  layer), ``w_u`` (10×d).

Every weight is a plain 2-D matrix acting on column vectors, ``y = W x``, as in
the equations; a batch of inputs is a ``(batch, features)`` tensor.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal, get_args

import torch
from torch import nn

from .bilinear import interaction_matrices

ModelKind = Literal["bilinear", "relu", "deep"]


@dataclass(frozen=True)
class ModelConfig:
    """The architecture of a classifier."""

    kind: ModelKind = "bilinear"
    """``"bilinear"`` for :class:`BilinearMLP`, ``"relu"`` for :class:`ReLUMLP`, ``"deep"`` for
    :class:`DeepBilinearMLP`."""
    d_input: int = 784
    """Input width: 28×28 pixels, flattened."""
    d_hidden: int = 512
    """Hidden width ``d`` (the paper uses 512; the official code's default is 256)."""
    n_classes: int = 10
    """Number of output logits."""
    bias: bool = False
    """Add biases (the paper drops them: "it did not harm performance"; not for ``"deep"``)."""
    n_layers: int = 1
    """Bilinear layers between the embedding and the head (more than one only for ``"deep"``)."""
    residual: bool = False
    """``"deep"`` only: each layer adds its output to its input, ``h ← h + g(h)``."""

    def __post_init__(self) -> None:
        if self.kind not in get_args(ModelKind):
            raise ValueError(
                f"unknown model kind {self.kind!r}; choose one of {get_args(ModelKind)}"
            )
        for name in ("d_input", "d_hidden", "n_classes"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 1):
                raise ValueError(
                    f"{name} must be a positive integer, got {getattr(self, name)!r}"
                )
        if not (isinstance(self.n_layers, int) and self.n_layers >= 1):
            raise ValueError(
                f"n_layers must be a positive integer, got {self.n_layers!r}"
            )
        if self.kind != "deep" and (self.n_layers != 1 or self.residual):
            raise ValueError(
                f"a {self.kind!r} model has one layer and no residual; use kind='deep'"
            )
        if self.kind == "deep" and self.bias:
            raise ValueError("a 'deep' model has no biases; set bias=False")

    def to_dict(self) -> dict:
        return asdict(self)


def _init_linear(out_features: int, in_features: int) -> nn.Parameter:
    # PyTorch's nn.Linear default (Kaiming-uniform with a=sqrt(5)): U(-1/sqrt(in),
    # 1/sqrt(in)).
    bound = in_features**-0.5
    return nn.Parameter(torch.empty(out_features, in_features).uniform_(-bound, bound))


class BilinearMLP(nn.Module):
    """``logits = W_u [(W_l h + b_l) ⊙ (W_r h + b_r)]`` with ``h = W_e x``."""

    def __init__(self, config: ModelConfig = ModelConfig()) -> None:
        super().__init__()
        if config.kind != "bilinear":
            raise ValueError(f"BilinearMLP needs kind='bilinear', got {config.kind!r}")
        self.config = config
        d = config.d_hidden
        self.w_e = _init_linear(d, config.d_input)
        self.w_l = _init_linear(d, d)
        self.w_r = _init_linear(d, d)
        self.w_u = _init_linear(config.n_classes, d)
        if config.bias:
            self.b_l = nn.Parameter(torch.zeros(d))
            self.b_r = nn.Parameter(torch.zeros(d))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, 784) -> (batch, d)``: ``h = W_e x``."""
        return x @ self.w_e.T

    def bilinear(self, h: torch.Tensor) -> torch.Tensor:
        """``(batch, d) -> (batch, d)``: ``g(h) = (W_l h + b_l) ⊙ (W_r h + b_r)``."""
        left, right = h @ self.w_l.T, h @ self.w_r.T
        if self.config.bias:
            left, right = left + self.b_l, right + self.b_r
        return left * right

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, 784) -> (batch, 10)`` logits."""
        return self.bilinear(self.embed(x)) @ self.w_u.T

    def interaction_matrices(self) -> torch.Tensor:
        """``(10, d, d)``: the symmetric ``Q_c`` with logit ``c = hᵀ Q_c h`` (no
        biases), from
        :func:`wbinterp.bilinear.interaction_matrices` of ``w_l``, ``w_r`` and
        ``w_u``."""
        return interaction_matrices(self.w_l, self.w_r, self.w_u)


class ReLUMLP(nn.Module):
    """``logits = W_out ReLU(W_in x + b_in) + b_out``."""

    def __init__(self, config: ModelConfig = ModelConfig(kind="relu")) -> None:
        super().__init__()
        if config.kind != "relu":
            raise ValueError(f"ReLUMLP needs kind='relu', got {config.kind!r}")
        self.config = config
        self.w_in = _init_linear(config.d_hidden, config.d_input)
        self.w_out = _init_linear(config.n_classes, config.d_hidden)
        if config.bias:
            self.b_in = nn.Parameter(torch.zeros(config.d_hidden))
            self.b_out = nn.Parameter(torch.zeros(config.n_classes))

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, 784) -> (batch, h)``: the post-ReLU activations a transcoder
        predicts."""
        pre = x @ self.w_in.T
        if self.config.bias:
            pre = pre + self.b_in
        return torch.relu(pre)

    def head(self, hidden: torch.Tensor) -> torch.Tensor:
        """``(batch, h) -> (batch, 10)``: the readout, used to splice in a
        transcoder."""
        logits = hidden @ self.w_out.T
        if self.config.bias:
            logits = logits + self.b_out
        return logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.hidden(x))


class DeepBilinearMLP(nn.Module):
    """``h⁰ = W_e x``, then for each layer ``k``: ``hᵏ = g_k(hᵏ⁻¹)``, or ``hᵏ⁻¹ +
    g_k(hᵏ⁻¹)``
    with a residual stream, where ``g_k(h) = (W_l[k] h) ⊙ (W_r[k] h)``; ``logits = W_u
    hᴸ``."""

    def __init__(
        self, config: ModelConfig = ModelConfig(kind="deep", n_layers=2)
    ) -> None:
        super().__init__()
        if config.kind != "deep":
            raise ValueError(f"DeepBilinearMLP needs kind='deep', got {config.kind!r}")
        self.config = config
        d, n_layers = config.d_hidden, config.n_layers
        self.w_e = _init_linear(d, config.d_input)
        self.w_l = nn.Parameter(
            torch.stack([_init_linear(d, d).data for _ in range(n_layers)])
        )
        self.w_r = nn.Parameter(
            torch.stack([_init_linear(d, d).data for _ in range(n_layers)])
        )
        self.w_u = _init_linear(config.n_classes, d)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, 784) -> (batch, d)``: ``h⁰ = W_e x``."""
        return x @ self.w_e.T

    def bilinear(self, layer: int, h: torch.Tensor) -> torch.Tensor:
        """``(batch, d) -> (batch, d)``: ``g_k(h) = (W_l[k] h) ⊙ (W_r[k] h)`` for ``k =
        layer``."""
        return (h @ self.w_l[layer].T) * (h @ self.w_r[layer].T)

    def streams(self, x: torch.Tensor) -> list[torch.Tensor]:
        """``[h⁰, h¹, …, hᴸ]``, each ``(batch, d)``."""
        hs = [self.embed(x)]
        for layer in range(self.config.n_layers):
            out = self.bilinear(layer, hs[-1])
            hs.append(hs[-1] + out if self.config.residual else out)
        return hs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, 784) -> (batch, 10)`` logits."""
        return self.streams(x)[-1] @ self.w_u.T


def new_model(config: ModelConfig) -> nn.Module:
    """A freshly initialised classifier for ``config`` (seed torch first for
    reproducibility)."""
    return {"bilinear": BilinearMLP, "relu": ReLUMLP, "deep": DeepBilinearMLP}[
        config.kind
    ](config)


def load_weights(model: nn.Module, state: dict[str, torch.Tensor]) -> nn.Module:
    """Put ``state`` into ``model`` after checking its names and shapes; returns
    ``model``."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state.items()}
    if expected != got:
        raise ValueError(
            f"weights do not match the model: expected {expected}, got {got}"
        )
    model.load_state_dict(state)
    return model
