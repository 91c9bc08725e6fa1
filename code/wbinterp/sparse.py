"""Transcoders and sparse autoencoders: models, training and metrics.

A transcoder reads an MLP's *input* and predicts its hidden activation through a
wide, sparse layer of features:

    f = φ(W_enc (x − b_pre) + b_enc),     ŷ = W_dec f + b_dec,

with φ a ReLU (sparsity from an L1 penalty) or TopK (keep the k largest
pre-activations, then ReLU). An SAE is the special case where the target is the
input itself. Decoder columns (one per feature) are kept at unit norm, so a
feature's activation is its size and the L1 penalty cannot be dodged by
shrinking activations while growing the decoder.

A coder's architecture (:class:`SparseCoderConfig`) and how it is trained
(:class:`SparseTrainConfig`, which holds the architecture as ``coder``) are separate
configs, as a classifier's :class:`~wbinterp.models.ModelConfig` and
:class:`~wbinterp.train.TrainConfig` are.

State-dict names: ``w_enc`` (F×d_in), ``b_enc`` (F), ``w_dec`` (d_out×F),
``b_dec`` (d_out) and ``b_pre`` (d_in: the training inputs' mean, fixed, when
``centre_inputs``; else zeros, the centring folded into ``b_enc`` at the start).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Literal, NamedTuple, get_args

import torch
import torch.nn.functional as F
from torch import nn

from . import activations
from . import precision as precision_mod
from .models import ReLUMLP
from .optimisation import TrainResult, cosine_schedule, optimiser_step

Init = Literal["examples", "random"]


@dataclass(frozen=True)
class SparseCoderConfig:
    """A sparse coder's architecture: its widths, dictionary and activation."""

    d_in: int = 784
    """Input width: what the encoder reads."""
    d_out: int = 512
    """Output width: what the decoder predicts (``d_in`` for an SAE)."""
    n_features: int = 2048
    """Dictionary size F."""
    activation: str = "topk"
    """How features fire (the registry ``wbinterp.activations``): ``"relu"``
    (sparsity from the L1 penalty), ``"topk"`` (exactly ``k`` active at most), ``"batchtopk"`` (``k`` on
    average) or ``"jumprelu"`` (learned thresholds, an L0 penalty)."""
    k: int = 32
    """Active features per input for ``"topk"`` and ``"batchtopk"``; ignored by the
    others."""
    threshold: float | None = None
    """``"jumprelu"``'s starting threshold (every feature's); ``None`` for the others."""
    centre_inputs: bool = False
    """Subtract the inputs' mean inside the encoder at every step (``b_pre``). False
    folds the centring into ``b_enc`` once, at the start: the same function then, but
    an input that is almost always zero (MNIST's blank border) gets a gradient only
    where it is inked, where centred it would pass the bias's gradient to its weights,
    which Adam scales up to full-size steps."""

    def __post_init__(self) -> None:
        if not isinstance(self.centre_inputs, bool):
            raise ValueError(
                f"centre_inputs must be True or False, got {self.centre_inputs!r}"
            )
        for name in ("d_in", "d_out", "n_features"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 1):
                raise ValueError(
                    f"{name} must be a positive integer, got {getattr(self, name)!r}"
                )
        activations.named(self.activation).check(self)

    def to_dict(self) -> dict:
        return asdict(self)

    def with_(self, **changes) -> SparseCoderConfig:
        return replace(self, **changes)


@dataclass(frozen=True)
class SparseTrainConfig:
    """How a sparse coder is trained; its architecture is ``coder``."""

    coder: SparseCoderConfig = field(default_factory=SparseCoderConfig)
    """The architecture trained."""
    l1_coefficient: float = 0.0
    """Weight of the L1 penalty ``Σ_i f_i`` (decoder columns have unit norm)."""
    l1_warmup: float = 0.05
    """Fraction of the steps over which the sparsity penalty's weight (L1, or
    JumpReLU's L0) ramps up from zero."""
    l0_coefficient: float = 0.0
    """Weight of JumpReLU's L0 penalty ``Σ_i H(z_i − θ_i)`` (``"jumprelu"`` only)."""
    bandwidth: float = 0.05
    """Width ε of JumpReLU's straight-through estimator (read by ``"jumprelu"``
    only)."""
    aux_k: int = 0
    """AuxK (Gao et al. 2024, ``"topk"`` and ``"batchtopk"`` only): the dead features
    with the ``aux_k`` largest pre-activations also predict the residual ``y − ŷ``,
    which gives dead features a gradient; 0 = off."""
    aux_coefficient: float = 1 / 32
    """Weight of the AuxK loss (read when ``aux_k > 0``)."""
    prefixes: tuple[int, ...] = ()
    """Matryoshka (Bussmann et al. 2025): sizes ``m_1 < m_2 < …`` below ``n_features``;
    the first ``m_j`` features must also reconstruct alone, each prefix's loss (and the
    whole dictionary's) averaged into the objective; ``()`` = off."""
    resample_every: int = 250
    """Every this many steps (in the first 3/4 of training), re-initialise dead
    features; 0 = never."""
    dead_steps: int = 200
    """Steps without firing after which a feature counts as dead during training."""
    epochs: int = 10
    """Passes over the training inputs."""
    batch_size: int = 256
    """Inputs per step."""
    lr: float = 3e-3
    """Adam learning rate (cosine decay to 10 % over training)."""
    seed: int = 0
    """Seeds initialisation and batch order."""
    init: Init = "examples"
    """``"examples"``: feature i starts as a matched pair, its encoder row a centred
    training input and its decoder column that input's centred target; ``"random"``:
    random unit rows and columns."""

    def __post_init__(self) -> None:
        if not isinstance(self.coder, SparseCoderConfig):
            raise TypeError(
                f"coder must be a SparseCoderConfig, got {type(self.coder).__name__}"
            )
        if self.init not in get_args(Init):
            raise ValueError(f"init must be one of {get_args(Init)}, got {self.init!r}")
        if not (isinstance(self.batch_size, int) and self.batch_size >= 1):
            raise ValueError(
                f"batch_size must be a positive integer, got {self.batch_size!r}"
            )
        if self.l1_coefficient < 0 or not 0 <= self.l1_warmup <= 1 or self.lr <= 0:
            raise ValueError(
                f"need l1_coefficient >= 0, 0 <= l1_warmup <= 1 and lr > 0, got "
                f"{self.l1_coefficient}, {self.l1_warmup} and {self.lr}"
            )
        for name in ("resample_every", "dead_steps", "epochs", "seed"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 0):
                raise ValueError(
                    f"{name} must be a non-negative integer, got {getattr(self, name)!r}"
                )
        activation = activations.named(self.coder.activation)
        for name, owner in (("l1_coefficient", "relu"), ("l0_coefficient", "jumprelu")):
            if getattr(self, name) != 0 and activation.name != owner:
                raise ValueError(
                    f"{name} is for activation {owner!r}; set it to 0 with "
                    f"{activation.name!r}"
                )
        if self.l0_coefficient < 0 or self.bandwidth <= 0 or self.aux_coefficient < 0:
            raise ValueError(
                f"need l0_coefficient >= 0, bandwidth > 0 and aux_coefficient >= 0, got "
                f"{self.l0_coefficient}, {self.bandwidth} and {self.aux_coefficient}"
            )
        if not (isinstance(self.aux_k, int) and self.aux_k >= 0):
            raise ValueError(
                f"aux_k must be a non-negative integer, got {self.aux_k!r}"
            )
        if self.aux_k and not activation.takes_k:
            raise ValueError(
                f"aux_k is for the TopK family ('topk', 'batchtopk'), not {activation.name!r}"
            )
        sizes = self.prefixes
        if not (
            isinstance(sizes, tuple)
            and all(isinstance(m, int) for m in sizes)
            and all(a < b for a, b in zip((0, *sizes), (*sizes, self.coder.n_features)))
        ):
            raise ValueError(
                f"prefixes must be a tuple of increasing sizes between 1 and "
                f"n_features={self.coder.n_features} (exclusive), got {sizes!r}"
            )

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> SparseTrainConfig:
        return cls(
            **{
                **d,
                "coder": SparseCoderConfig(**d["coder"]),
                "prefixes": tuple(d.get("prefixes", ())),
            }
        )

    def with_(self, **changes) -> SparseTrainConfig:
        """A copy with some fields changed; the coder's fields may be given by name
        too (``with_(k=8)`` sets ``coder.k``)."""
        coder_fields = {
            k: changes.pop(k)
            for k in list(changes)
            if k in SparseCoderConfig.__dataclass_fields__
        }
        return replace(self, coder=replace(self.coder, **coder_fields), **changes)


def describe(config: SparseTrainConfig) -> str:
    """One line naming the coder's activation, sparsity and training length."""
    coder = config.coder
    if activations.named(coder.activation).takes_k:
        sparsity = f"k={coder.k}"
    elif coder.activation == "jumprelu":
        sparsity = f"threshold={coder.threshold:g} l0={config.l0_coefficient:g}"
    else:
        sparsity = f"l1={config.l1_coefficient:g}"
    extras = (f" aux_k={config.aux_k}" if config.aux_k else "") + (
        f" prefixes={','.join(map(str, config.prefixes))}" if config.prefixes else ""
    )
    return f"activation={coder.activation} {sparsity}{extras} epochs={config.epochs}"


class SparseOutput(NamedTuple):
    output: torch.Tensor
    """``(batch, d_out)`` prediction ``ŷ``."""
    activations: torch.Tensor
    """``(batch, F)`` feature activations ``f`` (non-negative, sparse)."""
    pre_activations: torch.Tensor
    """``(batch, F)`` encoder outputs before φ."""


class SparseCoder(nn.Module):
    """``ŷ = W_dec φ(W_enc (x − b_pre) + b_enc) + b_dec``: a transcoder, or an SAE
    when it is trained to reconstruct its input. Built from its architecture
    (:class:`SparseCoderConfig`) alone."""

    b_pre: torch.Tensor  # a buffer: ``(d_in,)``, subtracted before encoding

    def __init__(
        self,
        config: SparseCoderConfig,
        b_pre: torch.Tensor | None = None,
        b_dec: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        w_dec = torch.randn(config.d_out, config.n_features)
        w_dec /= w_dec.norm(dim=0, keepdim=True)
        self.w_dec = nn.Parameter(w_dec)
        # Encoder starts as the decoder's transpose where shapes allow (an SAE), else at
        # random scale.
        if config.d_in == config.d_out:
            w_enc = w_dec.T.clone()
        else:
            w_enc = torch.randn(config.n_features, config.d_in) / config.d_in**0.5
        self.w_enc = nn.Parameter(w_enc)
        self.b_enc = nn.Parameter(torch.zeros(config.n_features))
        self.b_dec = nn.Parameter(
            torch.zeros(config.d_out) if b_dec is None else b_dec.clone()
        )
        self.register_buffer(
            "b_pre", torch.zeros(config.d_in) if b_pre is None else b_pre.clone()
        )
        self.activation = activations.named(config.activation)
        self.activation.add_state(self)

    def encode(
        self, x: torch.Tensor, train: SparseTrainConfig | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(batch, d_in) -> (activations, pre-activations)``, both ``(batch, F)``;
        ``train`` is given by the training loop (JumpReLU's estimator reads it)."""
        pre = (x - self.b_pre) @ self.w_enc.T + self.b_enc
        return self.activation(pre, self, train), pre

    def decode(self, activations: torch.Tensor) -> torch.Tensor:
        """``(batch, F) -> (batch, d_out)``."""
        return activations @ self.w_dec.T + self.b_dec

    def decode_prefix(self, activations: torch.Tensor, size: int) -> torch.Tensor:
        """``(batch, F) -> (batch, d_out)`` from the first ``size`` features alone (a
        Matryoshka prefix)."""
        return activations[:, :size] @ self.w_dec[:, :size].T + self.b_dec

    def forward(
        self, x: torch.Tensor, train: SparseTrainConfig | None = None
    ) -> SparseOutput:
        acts, pre = self.encode(x, train)
        return SparseOutput(self.decode(acts), acts, pre)

    @torch.no_grad()
    def normalize_decoder(self) -> None:
        """Rescale decoder columns to unit norm."""
        # the sum of squares down each column is five times faster here than norm(dim=0)
        self.w_dec.div_(self.w_dec.square().sum(0, keepdim=True).sqrt().clamp_min(1e-8))

    @torch.no_grad()
    def project_decoder_grad(self) -> None:
        """Remove the gradient's component along each decoder column (it would only
        change the norm)."""
        if self.w_dec.grad is not None:
            parallel = (self.w_dec.grad * self.w_dec).sum(0, keepdim=True)
            self.w_dec.grad -= parallel * self.w_dec


def fvu(target: torch.Tensor, prediction: torch.Tensor) -> float:
    """Fraction of variance unexplained over a whole set: ``Σ‖y − ŷ‖² / Σ‖y − ȳ‖²``.

    ``ȳ`` is the mean over the set (centred variance, not about zero); the sums
    run over every example and dimension, not per example.
    """
    if target.shape != prediction.shape or target.ndim != 2:
        raise ValueError(
            f"target and prediction must have the same (n, d) shape, "
            f"got {tuple(target.shape)} and {tuple(prediction.shape)}"
        )
    residual = (target - prediction).double().square().sum()
    variance = (target - target.mean(0)).double().square().sum()
    if variance == 0:
        raise ValueError("the target has zero variance over the set; FVU is undefined")
    return (residual / variance).item()


#: A feature is dense when it fires on more than this fraction of a set's inputs: above
#: the largest MNIST class's share (the ones, 11.35 % of the test set), so a feature
#: that
#: fires on every image of one digit, the most specific a feature can be, is not dense.
DENSE_THRESHOLD = 0.2


def firing_stats(
    activations: torch.Tensor, dense_threshold: float = DENSE_THRESHOLD
) -> dict[str, float]:
    """L0, dead and dense features of ``(n, F)`` activations over a whole set.

    Dead: never fired on any of the ``n`` inputs. Dense: fired on more than
    ``dense_threshold`` of them.
    """
    if activations.ndim != 2:
        raise ValueError(
            f"activations must have shape (n, F), got {tuple(activations.shape)}"
        )
    fired = activations > 0
    frequency = fired.float().mean(0)
    return {
        "l0": fired.sum(1).float().mean().item(),
        "dead": int((frequency == 0).sum()),
        "dead_fraction": (frequency == 0).float().mean().item(),
        "dense": int((frequency > dense_threshold).sum()),
        "dense_fraction": (frequency > dense_threshold).float().mean().item(),
    }


def train_sparse(
    config: SparseTrainConfig,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    device: torch.device | str = "cpu",
    precision: precision_mod.Precision | None = None,
) -> TrainResult:
    """Train a sparse coder of ``config.coder`` to map ``inputs`` (n, d_in) to
    ``targets`` (n, d_out) (an SAE: ``targets`` is ``inputs``).

    Loss: ``‖y − ŷ‖² / mean‖y − ȳ‖²`` (so 1.0 is the mean predictor), plus the
    L1 penalty when ``l1_coefficient > 0``. Dead features are resampled
    (:func:`resample_dead`) every ``resample_every`` steps.
    """
    arch = config.coder
    if inputs.shape != (inputs.shape[0], arch.d_in) or targets.shape != (
        inputs.shape[0],
        arch.d_out,
    ):
        raise ValueError(
            f"inputs must be (n, {arch.d_in}) and targets (n, {arch.d_out}), "
            f"got {tuple(inputs.shape)} and {tuple(targets.shape)}"
        )
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    device = torch.device(device)
    precision = precision_mod.check(precision or precision_mod.preferred(device))
    centre = inputs.mean(0)
    model = SparseCoder(
        arch, b_pre=centre if arch.centre_inputs else None, b_dec=targets.mean(0)
    )
    with torch.no_grad():
        if config.init == "examples":
            # Every feature then fires on the inputs that resemble its example and
            # writes what they need from the start.
            pick = torch.randint(inputs.shape[0], (arch.n_features,), generator=gen)
            rows, cols = inputs[pick] - centre, targets[pick] - model.b_dec
            model.w_enc.copy_(rows / rows.norm(dim=1, keepdim=True).clamp_min(1e-8))
            model.w_dec.copy_((cols / cols.norm(dim=1, keepdim=True).clamp_min(1e-8)).T)
        model.b_enc.copy_(
            model.w_enc @ (model.b_pre - centre)
        )  # encodes x − mean either way
    model = model.to(device)
    inputs, targets = inputs.to(device), targets.to(device)
    scale = (targets - targets.mean(0)).square().sum(1).mean()  # mean ‖y − ȳ‖²
    n = inputs.shape[0]
    steps_per_epoch = n // config.batch_size
    total = steps_per_epoch * config.epochs
    # the fused Adam updates every weight in one kernel; the per-tensor loop took half
    # of each step
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, fused=True)
    sched = cosine_schedule(opt, total, floor=0.1)
    since_fired = torch.zeros(arch.n_features, dtype=torch.long, device=device)
    history: dict[str, list[float]] = {
        "epoch": [],
        "fvu": [],
        "l0": [],
        "resampled": [],
    }
    start, step = time.perf_counter(), 0
    for epoch in range(config.epochs):
        order = torch.randperm(n, generator=gen).to(device)
        sum_mse, sum_l0 = 0.0, 0.0
        for b in range(steps_per_epoch):
            idx = order[b * config.batch_size : (b + 1) * config.batch_size]
            x, y = inputs.index_select(0, idx), targets.index_select(0, idx)
            with precision_mod.autocast(precision, device):
                out = model(x, config)
                prefix_outputs = [
                    model.decode_prefix(out.activations, m) for m in config.prefixes
                ]
            residual = y - out.output.float()
            mse = residual.square().sum(1).mean() / scale
            loss = mse
            if prefix_outputs:
                loss = (
                    sum(
                        ((y - p.float()).square().sum(1).mean() / scale)
                        for p in prefix_outputs
                    )
                    + mse
                ) / (len(prefix_outputs) + 1)
            warm = min(1.0, step / max(1.0, config.l1_warmup * total))
            penalty = model.activation.penalty(
                out.activations, out.pre_activations, model, config, warm
            )
            if penalty is not None:
                loss = loss + penalty
            if config.aux_k and (since_fired > config.dead_steps).any():
                loss = loss + config.aux_coefficient * auxk_loss(
                    model,
                    out.pre_activations,
                    residual,
                    since_fired > config.dead_steps,
                    config.aux_k,
                    scale,
                )
            fired = (out.activations > 0).any(0)
            since_fired = torch.where(fired, 0, since_fired + 1)
            optimiser_step(loss, opt, sched, before_update=model.project_decoder_grad)
            model.normalize_decoder()
            sum_mse += mse.item()
            sum_l0 += (out.activations > 0).sum(1).float().mean().item()
            step += 1
            dead = since_fired > config.dead_steps
            if (
                config.resample_every
                and step % config.resample_every == 0
                and step < 0.75 * total
                and dead.any()
            ):
                resample_dead(model, opt, dead, x, y, gen, centre.to(device))
                since_fired[dead] = 0
                history["resampled"].append(int(dead.sum()))
        history["epoch"].append(epoch + 1)
        history["fvu"].append(sum_mse / steps_per_epoch)
        history["l0"].append(sum_l0 / steps_per_epoch)
    model.activation.finish(model, inputs, config.batch_size)
    model.eval()
    return TrainResult(model.cpu(), history, time.perf_counter() - start, precision)


def auxk_loss(
    coder: SparseCoder,
    pre: torch.Tensor,
    residual: torch.Tensor,
    dead: torch.Tensor,
    aux_k: int,
    scale: torch.Tensor,
) -> torch.Tensor:
    """AuxK's loss: the ``aux_k`` largest pre-activations ``(batch, F)`` among the
    ``dead`` features (F, bool) decode (without ``b_dec``) the main loss's ``residual``
    ``(batch, d_out)``, which is held fixed; normalised by ``scale`` as the main loss
    is."""
    masked = pre.float().masked_fill(~dead, float("-inf"))
    top = masked.topk(min(aux_k, int(dead.sum())), dim=-1)
    acts = torch.zeros_like(masked).scatter(-1, top.indices, torch.relu(top.values))
    return (residual.detach() - acts @ coder.w_dec.T).square().sum(1).mean() / scale


@torch.no_grad()
def resample_dead(
    model: SparseCoder,
    opt: torch.optim.Optimizer,
    dead: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    gen: torch.Generator,
    centre: torch.Tensor,
) -> None:
    """Re-initialise dead features on the inputs of the batch that are predicted worst.

    Each dead feature's encoder row becomes the input minus ``centre`` (d_in,) (at
    the live rows' mean norm, with the bias that makes it read ``x − centre``), its
    decoder column the unit residual of that input, and its optimiser state is
    cleared, so it starts out firing where the model fails.
    """
    idx = dead.nonzero().flatten()
    residual = y - model(x).output
    errors = residual.square().sum(1)
    pick = torch.multinomial(
        errors.cpu() + 1e-12, len(idx), replacement=True, generator=gen
    ).to(x.device)
    rows = x[pick] - centre
    scale = (
        model.w_enc[~dead].norm(dim=1).mean() if (~dead).any() else torch.tensor(1.0)
    )
    model.w_enc[idx] = rows / rows.norm(dim=1, keepdim=True).clamp_min(1e-8) * scale
    model.b_enc[idx] = model.w_enc[idx] @ (model.b_pre - centre)
    model.w_dec[:, idx] = (
        residual[pick] / residual[pick].norm(dim=1, keepdim=True).clamp_min(1e-8)
    ).T
    model.activation.resampled(model, idx)
    own = [(p, (idx,)) for n, p in model.named_parameters() if n == "log_threshold"]
    for param, index in (
        (model.w_enc, (idx,)),
        (model.b_enc, (idx,)),
        (model.w_dec, (slice(None), idx)),
        *own,
    ):
        for buf in opt.state.get(param, {}).values():
            if torch.is_tensor(buf) and buf.shape == param.shape:
                buf[index] = 0.0


@torch.no_grad()
def best_rescaling(
    coder: SparseCoder, inputs: torch.Tensor, targets: torch.Tensor
) -> tuple[float, float]:
    """``(γ*, FVU)``: the single factor that best rescales what the features write,
    ``ŷ_γ = b_dec + γ W_dec f``, over ``inputs`` (n, d_in) against ``targets`` (n,
    d_out)
    (least squares, ``γ* = Σ⟨y − b_dec, W_dec f⟩ / Σ‖W_dec f‖²``), and the FVU it
    leaves.
    L1's shrinkage makes ``γ* > 1``; the active features stay the same."""
    written = coder(inputs).output - coder.b_dec
    gamma = (
        (targets - coder.b_dec) * written
    ).double().sum() / written.double().square().sum()
    return gamma.item(), fvu(targets, coder.b_dec + gamma.float() * written)


@torch.no_grad()
def evaluate_transcoder(
    transcoder: SparseCoder,
    mlp: ReLUMLP,
    images: torch.Tensor,
    labels: torch.Tensor,
    mean_hidden: torch.Tensor | None = None,
) -> dict[str, float]:
    """Every metric of a transcoder spliced into ``mlp`` (which needs ``hidden`` and
    ``head``).

    * ``l0``, ``dead``/``dense`` counts and fractions, over the whole set;
    * ``fvu`` of the hidden activation, centred, over the whole set;
    * ``accuracy`` of the MLP and ``spliced_accuracy`` with the transcoder's output
      in place of its hidden layer;
    * ``loss_recovered_zero`` / ``loss_recovered_mean``:
      ``(CE_abl − CE_spliced) / (CE_abl − CE_orig)`` with the hidden layer
      replaced by zeros, or by its mean (``mean_hidden``, default: over ``images``).
    """
    hidden = mlp.hidden(images)
    out = transcoder(images)
    logits, spliced = mlp.head(hidden), mlp.head(out.output)
    mean = hidden.mean(0) if mean_hidden is None else mean_hidden
    ce = lambda z: F.cross_entropy(z, labels).item()
    ce_orig, ce_tc = ce(logits), ce(spliced)
    ce_zero = ce(mlp.head(torch.zeros_like(hidden)))
    ce_mean = ce(mlp.head(mean.expand_as(hidden)))
    return {
        **firing_stats(out.activations),
        "fvu": fvu(hidden, out.output),
        "accuracy": (logits.argmax(-1) == labels).float().mean().item(),
        "spliced_accuracy": (spliced.argmax(-1) == labels).float().mean().item(),
        "ce_orig": ce_orig,
        "ce_spliced": ce_tc,
        "ce_zero": ce_zero,
        "ce_mean": ce_mean,
        "loss_recovered_zero": (ce_zero - ce_tc) / (ce_zero - ce_orig),
        "loss_recovered_mean": (ce_mean - ce_tc) / (ce_mean - ce_orig),
    }
