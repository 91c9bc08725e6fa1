"""A store of trained models: train once, reuse in every chapter and every rebuild.

A checkpoint's key hashes the training config, the dataset checksum and the
source of the code that trains (``models.py`` and ``train.py``), so a change to
any of them means a new key and a retrain. A checkpoint is loaded with
``torch.load(weights_only=True)`` and checked (key, digest of its tensors,
names and shapes) before it is trusted; an unusable one is reported with a
:class:`CacheWarning` and retrained, never silently used.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

from . import data as data_mod
from . import bridge, models, sparse, train as train_mod
from .build import BUILDING_ENV
from .sparse import SparseConfig
from .train import TrainConfig

#: Environment variable that chooses the model store.
CACHE_ENV = "WBINTERP_CACHE"
FORMAT = 1
_TRAINING_SOURCES = (models.__file__, train_mod.__file__)
_SPARSE_SOURCES = (models.__file__, train_mod.__file__, sparse.__file__)
_SAE_SOURCES = _SPARSE_SOURCES + (bridge.__file__,)


@dataclass(frozen=True)
class TranscoderSpec:
    """A transcoder for the hidden layer of the MLP trained by preset ``mlp``."""

    mlp: str
    """Name of the MLP's training preset (its config, not its name, enters the key)."""
    sparse: SparseConfig
    """The transcoder's architecture and training."""

    def mlp_config(self) -> TrainConfig:
        return train_mod.preset(self.mlp)

    def to_dict(self) -> dict:
        return {"mlp": self.mlp, "mlp_config": self.mlp_config().to_dict(), **self.sparse.to_dict()}


#: Named transcoders of the ReLU MLP, 2048 features each: TopK with k = 32 and L1 with
#: α = 1e-2, the middle penalty of chapter 9's sweep (which uses 512 features). Trained for
#: 3 epochs: the TopK one is shared by four chapters, each of which may have to train it on
#: a reader's CPU.
TRANSCODER_PRESETS: dict[str, TranscoderSpec] = {
    "transcoder-topk": TranscoderSpec("relu", SparseConfig(activation="topk", k=32, epochs=3)),
    "transcoder-l1": TranscoderSpec("relu", SparseConfig(activation="relu", l1_coefficient=1e-2, epochs=3)),
}


def transcoder_preset(name: str) -> TranscoderSpec:
    try:
        return TRANSCODER_PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown transcoder preset {name!r}; choose one of {sorted(TRANSCODER_PRESETS)}") from None


@dataclass(frozen=True)
class SaeSpec:
    """A sparse autoencoder on the outputs of a bilinear model's layer (before its head)."""

    model: str
    """Name of the bilinear model's training preset."""
    source: str
    """``"outputs"``: the layer's outputs ``g(W_e x)`` on the training images;
    ``"pairs"``: unit input-pair outputs ``u_ij`` over pixel pairs, from the weights alone."""
    sparse: SparseConfig
    """The SAE's architecture and training (``d_in == d_out`` = the model's width)."""
    n_pairs: int = 0
    """For ``"pairs"``: how many pixel pairs to sample (the seed is ``sparse.seed``)."""

    def model_config(self) -> TrainConfig:
        return train_mod.preset(self.model)

    def to_dict(self) -> dict:
        return {"model": self.model, "model_config": self.model_config().to_dict(),
                "source": self.source, "n_pairs": self.n_pairs, **self.sparse.to_dict()}


_SAE = SparseConfig(d_in=512, d_out=512, n_features=2048, activation="topk", epochs=2)

#: SAEs of the book's bilinear model: one trained on data, one on input pairs. Short runs,
#: so that chapter 12 can train both and the main model within its 3 CPU-minutes.
SAE_PRESETS: dict[str, SaeSpec] = {
    "sae-outputs": SaeSpec("book", "outputs", _SAE.with_(k=8)),
    "sae-pairs": SaeSpec("book", "pairs", _SAE.with_(k=16, epochs=1), n_pairs=60_000),
}


def sae_preset(name: str) -> SaeSpec:
    try:
        return SAE_PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown SAE preset {name!r}; choose one of {sorted(SAE_PRESETS)}") from None


def sae_training_data(spec: SaeSpec, model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """What the SAE of ``spec`` is trained on, ``(n, d)``: layer outputs, or unit pair outputs."""
    with torch.no_grad():
        if spec.source == "outputs":
            return model.bilinear(model.embed(images))
        if spec.source == "pairs":
            return bridge.pair_dataset(model.w_l, model.w_r, model.w_e, spec.n_pairs, spec.sparse.seed)
    raise ValueError(f"SAE source must be 'outputs' or 'pairs', got {spec.source!r}")


class CacheWarning(UserWarning):
    """A checkpoint could not be used and the model is being retrained."""


class Trained(NamedTuple):
    model: nn.Module
    """The trained model, in eval mode, on the CPU."""
    config: TrainConfig
    history: dict[str, list[float]]
    """Per-epoch training curves (see :func:`wbinterp.train.train`)."""
    seconds: float
    """How long training took when the model was trained."""
    from_cache: bool
    """Whether the model was loaded rather than trained in this call."""
    path: Path
    """The checkpoint file."""


def cache_dir() -> Path:
    """``$WBINTERP_CACHE`` if set, else ``_cache/models`` in the repository."""
    return Path(os.environ.get(CACHE_ENV, data_mod.REPO_ROOT / "_cache" / "models")).expanduser()


def code_fingerprint(paths=_TRAINING_SOURCES) -> str:
    """SHA-256 of the training code's source files."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def cache_key(config, data_checksum: str, code: str | None = None) -> str:
    """The key of a trained model: config, data and training code together."""
    payload = json.dumps(
        {"config": config.to_dict(), "data": data_checksum, "code": code or code_fingerprint()},
        sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def tensor_digest(state: dict[str, torch.Tensor]) -> str:
    """SHA-256 over the names, shapes and bytes of a state dict's tensors."""
    digest = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().cpu().contiguous()
        digest.update(f"{name}:{tuple(t.shape)}:{t.dtype}\n".encode())
        digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


def _atomic_save(obj: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def read_checkpoint(path: Path, config, key: str, rebuild) -> Trained:
    """Load and check a checkpoint; raise ``ValueError`` saying what is wrong."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, not a torch file, unpickling refused
        raise ValueError(f"cannot be read ({type(err).__name__}: {err})") from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError("is not a checkpoint of this package's format")
    if payload.get("key") != key:
        raise ValueError("was made by another config, dataset or training code")
    state = payload["state_dict"]
    if tensor_digest(state) != payload.get("digest"):
        raise ValueError("has weights that do not match their recorded digest (corrupted)")
    model = rebuild(state).eval()
    return Trained(model, config, payload["history"], float(payload["seconds"]), True, path)


def _load_or_make(path: Path, key: str, config, rebuild, make, retrain: bool) -> Trained:
    """The shared store logic: read and check ``path``, or ``make()`` and save atomically."""
    if path.exists() and not retrain:
        try:
            return read_checkpoint(path, config, key, rebuild)
        except ValueError as err:
            warnings.warn(f"checkpoint {path} {err}; retraining it", CacheWarning, stacklevel=3)
    if os.environ.get(BUILDING_ENV) != "1":   # a reader running a chapter alone should know why it waits
        print(f"wbinterp: training {path.stem} for the model store {path.parent}; "
              "this takes a minute or more on a CPU, and later runs load it from the store",
              file=sys.stderr, flush=True)
    model, history, seconds = make()
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    _atomic_save({"format": FORMAT, "key": key, "config": config.to_dict(),
                  "history": history, "seconds": seconds,
                  "state_dict": state, "digest": tensor_digest(state)}, path)
    return Trained(model, config, history, seconds, False, path)


def load_or_train(config: TrainConfig | str, *, root: Path | None = None,
                  dataset: data_mod.Dataset | None = None, retrain: bool = False,
                  progress: bool = False) -> Trained:
    """The trained model for ``config`` (a :class:`~wbinterp.train.TrainConfig` or a preset name).

    Loads it from the store when a valid checkpoint exists, else trains it and
    stores it. ``retrain=True`` ignores the store.
    """
    if isinstance(config, str):
        config = train_mod.preset(config)
    dataset = dataset if dataset is not None else data_mod.load(config.dataset)
    if dataset.name != config.dataset:
        raise ValueError(f"config wants dataset {config.dataset!r} but got {dataset.name!r}")
    root = Path(root) if root is not None else cache_dir()
    key = cache_key(config, dataset.checksum)
    path = root / f"{config.dataset}-{config.model.kind}{config.model.d_hidden}-{key[:16]}.pt"

    def make():
        result = train_mod.train(config, dataset, progress=progress)
        return result.model, result.history, result.seconds

    rebuild = lambda state: models.from_state_dict(config.model, state)
    return _load_or_make(path, key, config, rebuild, make, retrain)


def load_or_train_transcoder(spec: TranscoderSpec | str, *, root: Path | None = None,
                             dataset: data_mod.Dataset | None = None, retrain: bool = False) -> Trained:
    """The transcoder for ``spec`` (or a name in :data:`TRANSCODER_PRESETS`), trained once.

    Its MLP comes from :func:`load_or_train`; the key covers the MLP's config too.
    """
    if isinstance(spec, str):
        spec = transcoder_preset(spec)

    def training_data(mlp, images):
        with torch.no_grad():
            return images, mlp.hidden(images)

    return _load_or_train_sparse(spec, spec.mlp_config(), f"transcoder{spec.sparse.n_features}",
                                 _SPARSE_SOURCES, training_data, root, dataset, retrain)


def load_or_train_sae(spec: SaeSpec | str, *, root: Path | None = None,
                      dataset: data_mod.Dataset | None = None, retrain: bool = False) -> Trained:
    """The SAE for ``spec`` (or a name in :data:`SAE_PRESETS`), trained once.

    Its bilinear model comes from :func:`load_or_train`; the key covers the
    model's config and the code that makes the training data.
    """
    if isinstance(spec, str):
        spec = sae_preset(spec)
    model_config = spec.model_config()
    if model_config.model.kind != "bilinear":
        raise ValueError(f"an SAE of the layer needs a bilinear model, but preset {spec.model!r} "
                         f"is {model_config.model.kind!r}")
    if spec.sparse.d_in != model_config.model.d_hidden or spec.sparse.d_out != spec.sparse.d_in:
        raise ValueError(f"an SAE of a width-{model_config.model.d_hidden} layer needs d_in = d_out = "
                         f"{model_config.model.d_hidden}, got {spec.sparse.d_in} and {spec.sparse.d_out}")

    def training_data(model, images):
        inputs = sae_training_data(spec, model, images)
        return inputs, inputs

    return _load_or_train_sparse(spec, model_config, f"sae-{spec.source}{spec.sparse.n_features}",
                                 _SAE_SOURCES, training_data, root, dataset, retrain)


def _load_or_train_sparse(spec, base_config: TrainConfig, stem: str, sources, training_data,
                          root: Path | None, dataset: data_mod.Dataset | None, retrain: bool) -> Trained:
    """Shared store logic of transcoders and SAEs: ``training_data(base_model, images)``
    gives the ``(inputs, targets)`` the sparse model is trained on."""
    dataset = dataset if dataset is not None else data_mod.load(base_config.dataset)
    root = Path(root) if root is not None else cache_dir()
    key = cache_key(spec, dataset.checksum, code_fingerprint(sources))
    path = root / f"{base_config.dataset}-{stem}-{key[:16]}.pt"

    def make():
        base = load_or_train(base_config, root=root, dataset=dataset).model
        inputs, targets = training_data(base, dataset.train.images)
        run = sparse.train_sparse(spec.sparse, inputs, targets)
        return run.model, run.history, run.seconds

    return _load_or_make(path, key, spec, lambda state: _rebuild_sparse(spec.sparse, state), make, retrain)


def _rebuild_sparse(config: SparseConfig, state: dict[str, torch.Tensor]) -> sparse.Transcoder:
    model = sparse.Transcoder(config)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    if expected != {k: tuple(v.shape) for k, v in state.items()}:
        raise ValueError(f"weights do not match {config}")
    model.load_state_dict(state)
    return model


def export(trained: Trained, out: Path) -> list[Path]:
    """Write ``weights.pt`` (a plain state dict), ``config.json`` and ``history.json``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in trained.model.state_dict().items()}
    torch.save(state, out / "weights.pt")
    (out / "config.json").write_text(json.dumps(trained.config.to_dict(), indent=2) + "\n")
    (out / "history.json").write_text(
        json.dumps({**trained.history, "seconds": trained.seconds}, indent=2) + "\n")
    return [out / "weights.pt", out / "config.json", out / "history.json"]


def load_exported(folder: Path) -> tuple[nn.Module, TrainConfig]:
    """Rebuild a model written by :func:`export` (e.g. by ``python -m wbinterp train``)."""
    folder = Path(folder)
    config = TrainConfig.from_dict(json.loads((folder / "config.json").read_text()))
    state = torch.load(folder / "weights.pt", map_location="cpu", weights_only=True)
    return models.from_state_dict(config.model, state).eval(), config
