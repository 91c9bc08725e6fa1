"""The model store: train once, reuse in every chapter and every rebuild.

Everything trained (a classifier, a transcoder, an SAE: any kind registered in
:mod:`wbinterp.kinds`; the store itself knows none) is saved the same way, as a folder
of three files:

* ``model.safetensors``: the weights;
* ``config.json``: the config that made them, with its ``kind`` (``"bilinear"``,
  ``"relu"``, ``"deep"``, ``"transcoder"``, ``"sae"``, ...);
* ``training.json``: the training curves and time, the precision its steps ran in
  (:mod:`wbinterp.precision`), the store key and a SHA-256 of the weights.

:func:`load` reads any such folder back, whatever its kind. :func:`load_or_train` keeps
one folder per store key: the key hashes the config, the dataset's checksum, the
training precision and the code that trains (the files its kind names in
:attr:`~wbinterp.kinds.Kind.sources`), read as syntax trees without docstrings or
comments: a changed statement in any of them means a
new key and a retrain, a docstring or comment edit does not. A model trained in
the other precision is used when it is stored and this machine's is not (see
:func:`load_or_train`). A stored model is checked (key, digest of its weights,
names and shapes) before it is trusted; an unusable one is reported with a
:class:`StoreWarning` and retrained, never silently used.

A model missing from the local store is first looked for in the published store
(:mod:`wbinterp.published`, the book's site): downloaded, checked like a stored one
(and its config compared with the one asked for), then stored. Only when that fails
(offline, not published, a mismatch: said in one line on stderr) is it trained.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import get_args

import platformdirs
from torch import nn

from . import data as data_mod
from . import files, kinds, models, presets, published
from . import precision as precision_mod
from . import train as train_mod
from .hashing import sha256_code, sha256_json, sha256_tensors
from .optimisation import TrainResult
from .presets import Config
from .train import TrainConfig

#: Environment variable that chooses the store's folder.
STORE_ENV = "WBINTERP_STORE"
FOLDER_FORMAT = 3
WEIGHTS, CONFIG, TRAINING = "model.safetensors", "config.json", "training.json"


class StoreWarning(UserWarning):
    """A stored model could not be used and is being retrained."""


class StoreError(ValueError):
    """A saved model cannot be read or does not match what it claims to be."""


@dataclass(frozen=True)
class Stored(TrainResult):
    """A trained model with where it lives and how it was made."""

    config: Config
    """The config that made it."""
    from_store: bool
    """Whether it was loaded rather than trained in this call."""
    path: Path
    """Its folder (absent when the store could not be written)."""
    key: str = ""
    """Its store key."""


def store_dir() -> Path:
    """The model store: ``$WBINTERP_STORE`` if set, else ``store`` in the user's cache
    folder for ``wbinterp`` (platformdirs; ``~/.cache/wbinterp/store`` on Linux: every
    model in it can be fetched or trained again). The book's ``Makefile`` sets it to the
    repository's ``_store/``."""
    if STORE_ENV in os.environ:
        return Path(os.environ[STORE_ENV]).expanduser()
    return Path(platformdirs.user_cache_dir("wbinterp", appauthor=False)) / "store"


# --- one format for everything trained
# --------------------------------------------------


def config_from_dict(d: dict) -> Config:
    """The config saved in a ``config.json`` (:func:`wbinterp.kinds.to_dict`), read by
    the
    kind it names; :class:`StoreError` when it names none."""
    try:
        return kinds.from_dict(d)
    except KeyError as err:
        raise StoreError(err.args[0]) from None


def _write(result: TrainResult, config: Config, folder: Path, key: str) -> None:
    """The three files of a saved model, written into the existing ``folder``."""
    from safetensors.torch import save_file

    state = {
        k: v.detach().cpu().contiguous() for k, v in result.model.state_dict().items()
    }
    save_file(state, str(folder / WEIGHTS))
    (folder / CONFIG).write_text(json.dumps(kinds.to_dict(config), indent=2) + "\n")
    training = {
        "format": FOLDER_FORMAT,
        "key": key,
        "digest": sha256_tensors(state),
        "seconds": result.seconds,
        "precision": result.precision,
        "history": result.history,
    }
    (folder / TRAINING).write_text(json.dumps(training, indent=2) + "\n")
    files.ordinary_permissions(folder)


def _install(tmp: Path, folder: Path, key: str) -> None:
    """Move the finished folder ``tmp`` to ``folder``, replacing an old one. When
    another
    process put a valid copy there first, that copy is kept."""
    for _ in range(3):
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        try:
            os.replace(tmp, folder)
            return
        except OSError:
            if not folder.is_dir():
                raise
            try:  # someone else's copy, or a half-removed old one
                load(folder, key)
                return
            except StoreError:
                continue
    os.replace(tmp, folder)


def save(result: TrainResult, config: Config, folder: Path, key: str = "") -> Path:
    """Write ``result`` to ``folder`` (replaced whole, never left half-written). Raises
    ``OSError`` when the store cannot be written; nothing is left behind then."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = files.temp_folder(folder.parent, folder.name, ".part")
    try:
        _write(result, config, tmp, key)
        _install(tmp, folder, key)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _training_record(folder: Path, training) -> tuple[dict, float, str | None]:
    """The history, seconds and precision of a ``training.json``, or
    :class:`StoreError`."""
    if not isinstance(training, dict):
        raise StoreError(f"{folder}/{TRAINING} is not a JSON object")
    history, seconds = training.get("history"), training.get("seconds")
    if not isinstance(history, dict) or not all(
        isinstance(v, list) for v in history.values()
    ):
        raise StoreError(f"{folder}/{TRAINING} has no training history")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        raise StoreError(f"{folder}/{TRAINING} has no training time in seconds")
    return history, float(seconds), training.get("precision")


def load(folder: Path, key: str | None = None, config: Config | None = None) -> Stored:
    """Read back a model saved by :func:`save` (or exported by ``python -m wbinterp
    train``).

    Checks the format, the weights' digest, their names and shapes, and, when given,
    that
    the store key matches ``key`` and the saved config equals ``config`` (an edited
    ``config.json`` is not trusted). Raises :class:`StoreError` saying what is wrong.
    """
    from safetensors.torch import load_file

    folder = Path(folder)
    for name in (WEIGHTS, CONFIG, TRAINING):
        if not (folder / name).is_file():
            raise StoreError(f"{folder} has no {name}")
    try:
        saved = json.loads((folder / CONFIG).read_text())
        if not isinstance(saved, dict):
            raise StoreError(f"{folder}/{CONFIG} is not a JSON object")
        saved_config = config_from_dict(saved)
        training = json.loads((folder / TRAINING).read_text())
        state = load_file(str(folder / WEIGHTS))
    except StoreError:
        raise
    except (
        Exception
    ) as err:  # truncated file, bad JSON, a config that does not validate
        raise StoreError(
            f"{folder} cannot be read ({type(err).__name__}: {err})"
        ) from None
    history, seconds, precision = _training_record(folder, training)
    if training.get("format") != FOLDER_FORMAT:
        raise StoreError(f"{folder} is not in this package's format {FOLDER_FORMAT}")
    if precision not in get_args(precision_mod.Precision):
        raise StoreError(f"{folder}/{TRAINING} does not say which precision trained it")
    if key is not None and training.get("key") != key:
        raise StoreError(
            f"{folder} was made by another config, dataset or training code"
        )
    if config is not None and saved_config != config:
        raise StoreError(
            f"{folder}/{CONFIG} is not the config it was stored under (edited?)"
        )
    if sha256_tensors(state) != training.get("digest"):
        raise StoreError(
            f"{folder} has weights that do not match their recorded digest (corrupted)"
        )
    try:
        model = models.load_weights(kinds.of(saved_config).build(saved_config), state)
    except ValueError as err:
        raise StoreError(f"{folder}: {err}") from None
    return Stored(
        frozen(model),
        history,
        seconds,
        precision_mod.check(precision),
        saved_config,
        True,
        folder,
        str(training.get("key", "")),
    )


def frozen(model: nn.Module) -> nn.Module:
    """``model`` ready for analysis, as the store hands it out: in eval mode, its
    weights
    needing no gradient (so an analysis needs no ``torch.no_grad`` or ``detach``; a
    gradient with respect to an input, as an adversarial mask takes, still flows)."""
    return model.eval().requires_grad_(False)


def export(stored: Stored, out: Path) -> list[Path]:
    """Write a stored model's three files into the folder ``out``; return their paths.

    Each file appears whole or not at all: raises ``OSError`` (nothing left behind) when
    ``out`` cannot be written."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {out} is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    tmp = files.temp_folder(out, "export", ".part")
    try:
        if all((stored.path / name).is_file() for name in (WEIGHTS, CONFIG, TRAINING)):
            for name in (WEIGHTS, CONFIG, TRAINING):
                shutil.copyfile(stored.path / name, tmp / name)
            files.ordinary_permissions(tmp)
        else:  # trained, but the store could not keep it
            _write(stored, stored.config, tmp, stored.key)
        for name in (WEIGHTS, CONFIG, TRAINING):
            os.replace(tmp / name, out / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [out / name for name in (WEIGHTS, CONFIG, TRAINING)]


# --- the store
# --------------------------------------------------------------------------


def code_fingerprint(paths: Iterable[str | Path]) -> str:
    """SHA-256 of what the training code does: its syntax trees without docstrings and
    comments (:func:`wbinterp.hashing.sha256_code`), so a docstring edit retrains
    nothing."""
    return sha256_code(paths)


def store_key(
    config: Config,
    data_checksum: str,
    precision: precision_mod.Precision,
    code: str | None = None,
) -> str:
    """The key of a trained model: config (a sparse coder's with its base model's),
    data,
    precision and the code its kind trains with
    (:attr:`wbinterp.kinds.Kind.sources`)."""
    return sha256_json(
        {
            "config": kinds.to_dict(config),
            "data": data_checksum,
            "precision": precision_mod.check(precision),
            "code": code or code_fingerprint(kinds.of(config).sources),
        }
    )


def locate(
    config: Config, data_checksum: str, precision: precision_mod.Precision
) -> tuple[str, str]:
    """The store folder's name for ``config`` trained in ``precision``, and its store
    key."""
    key = store_key(config, data_checksum, precision)
    return f"{kinds.dataset(config)}-{kinds.of(config).stem(config)}-{key[:16]}", key


def preset_folders(precision: precision_mod.Precision | None = None) -> dict[str, str]:
    """Each preset's store folder with today's code and data, for models trained in
    ``precision`` (default: as :func:`load_or_train` would train them here)."""
    precision = precision_mod.check(
        precision
        or precision_mod.forced()
        or precision_mod.preferred(train_mod.default_device())
    )
    checksums: dict[str, str] = {}
    folders = {}
    for name, config in presets.PRESETS.items():
        dataset = kinds.dataset(config)
        if dataset not in checksums:
            checksums[dataset] = data_mod.load(dataset).checksum
        folders[name] = locate(config, checksums[dataset], precision)[0]
    return folders


def _current_key(
    folder: Path, checksums: dict[str, str], name: str | None = None
) -> str:
    """The key under which today's code would store the model in ``folder`` (its config
    read from it); raises :class:`StoreError` unless that key puts it in a folder called
    ``name`` (default: the folder's own name)."""
    try:
        config = config_from_dict(json.loads((folder / CONFIG).read_text()))
        dataset = kinds.dataset(config)
        precision = precision_mod.check(
            json.loads((folder / TRAINING).read_text()).get("precision")
        )
    except (OSError, ValueError, TypeError, AttributeError) as err:
        raise StoreError(
            f"{folder.name} has no usable config or training record ({err})"
        ) from None
    if dataset not in checksums:
        checksums[dataset] = data_mod.load(dataset).checksum
    name = name or folder.name
    expected, key = locate(config, checksums[dataset], precision)
    if expected != name:
        raise StoreError(
            f"{name} was made by other training code or data (today: {expected})"
        )
    return key


def current(root: Path | None = None) -> list[Path]:
    """The store's folders that today's code would load: what :func:`publish`
    publishes."""
    root = Path(root) if root is not None else store_dir()
    if not root.is_dir():
        return []
    checksums: dict[str, str] = {}
    kept = []
    for folder in sorted(
        p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
    ):
        try:
            load(folder, _current_key(folder, checksums))
        except StoreError:
            continue  # stale (older code or config) or damaged: not published
        kept.append(folder)
    return kept


def publish(out: Path, root: Path | None = None) -> list[Path]:
    """Write the published store (:func:`wbinterp.published.publish`) of :func:`current`
    into ``out``; returns the folders published."""
    root = Path(root) if root is not None else store_dir()
    published.check_out(out, keep=(root, data_mod.data_dir()))
    folders = current(root)
    published.publish(folders, out, keep=(root, data_mod.data_dir()))
    return folders


def fetch_all(
    root: Path | None = None, url: str | None = None
) -> tuple[int, list[str]]:
    """Every published model that today's code would use, checked and stored (the ones
    already stored are skipped) from the published store at ``url`` (default
    :func:`wbinterp.published.models_url`). Returns how many were stored and one line
    per
    model refused; raises :class:`wbinterp.published.FetchError` when there is no
    published store."""
    url = url or published.models_url()
    if url is None:
        raise published.FetchError(
            f"no published store is set: give its address (--url) or set {published.URL_ENV}"
        )
    root = Path(root) if root is not None else store_dir()
    _writable_store(root, "cannot fetch into it", published.FetchError)
    checksums: dict[str, str] = {}
    stored, refused = 0, []
    for name in sorted(published.manifest(url)["models"]):
        try:
            folder = root / published.plain_name(name)
            if folder.exists():
                continue
            with published.download(name, url, root) as tmp:
                key = _current_key(tmp, checksums, name)
                load(tmp, key)
                _install(tmp, folder, key)
            stored += 1
        except (published.FetchError, StoreError) as err:
            refused.append(f"{name}: {err}")
    return stored, refused


def fetch(config: Config, key: str, folder: Path) -> Stored | None:
    """The published copy of the model ``config`` makes, checked and stored in
    ``folder``;
    ``None`` (with the reason on stderr) when there is none to trust."""
    url = published.models_url()
    if url is None:
        return None
    try:
        with published.download(folder.name, url, folder.parent) as tmp:
            try:
                stored = load(tmp, key)
            except StoreError as err:
                raise published.FetchError(
                    f"the published copy does not check out: {err}"
                ) from None
            if stored.config != config:
                raise published.FetchError(
                    "the published copy was made by another config"
                )
            _install(tmp, folder, key)
    except (published.FetchError, OSError) as err:
        print(
            f"wbinterp: no published copy of {folder.name} used: {err}",
            file=sys.stderr,
            flush=True,
        )
        return None
    print(
        f"wbinterp: fetched {folder.name} from {url} (checked)",
        file=sys.stderr,
        flush=True,
    )
    return replace(stored, path=folder)


def _precisions(
    config: Config,
    base: TrainConfig | None,
    root: Path,
    dataset: data_mod.Dataset,
    asked: precision_mod.Precision | None,
) -> tuple[list[precision_mod.Precision], Stored | None]:
    """The precisions in which a copy of ``config`` is acceptable, the first the one to
    train in, and the base model a sparse coder is trained on."""
    if (
        base is not None
    ):  # a sparse coder is in its base model's precision: the two stay a pair
        base_stored = load_or_train(base, root=root, dataset=dataset, precision=asked)
        return [base_stored.precision], base_stored
    asked = asked or precision_mod.forced()
    if asked is not None:
        return [precision_mod.check(asked)], None
    wanted = precision_mod.preferred(train_mod.default_device())
    return [wanted, precision_mod.other(wanted)], None


def load_or_train(
    config: Config | str,
    *,
    root: Path | None = None,
    dataset: data_mod.Dataset | None = None,
    retrain: bool = False,
    progress: bool = False,
    precision: precision_mod.Precision | None = None,
) -> Stored:
    """The trained model for ``config`` (a config, or a name in
    :data:`wbinterp.presets.PRESETS`).

    Loads it from the store when a valid copy exists, else from the published store
    (:func:`fetch`), else trains it (a transcoder's MLP or an SAE's bilinear model
    first,
    through the store too) and stores it. ``retrain=True`` ignores both stores.

    A classifier is trained in ``precision`` (default: ``$WBINTERP_PRECISION``, else
    this machine's, :func:`wbinterp.precision.preferred`). When neither is given, a copy
    trained in the other precision is used if no copy in this machine's exists, so a
    machine without bfloat16 still loads the published models (the two precisions agree
    within the seed spread: ``benchmarks/precision.py``). A sparse coder is always in
    its
    base model's precision.
    """
    if isinstance(config, str):
        config = presets.get(config)
    kind = kinds.of(config)
    base = kind.base(config)
    dataset_name = kind.dataset(config)
    dataset = dataset if dataset is not None else data_mod.load(dataset_name)
    if dataset.name != dataset_name:
        raise ValueError(
            f"config wants dataset {dataset_name!r} but got {dataset.name!r}"
        )
    root = Path(root) if root is not None else store_dir()
    precisions, base_stored = _precisions(config, base, root, dataset, precision)
    places = [(p, *locate(config, dataset.checksum, p)) for p in precisions]
    for _, name, key in places if not retrain else []:
        if (root / name).exists():
            try:
                return load(root / name, key, config)
            except StoreError as err:
                warnings.warn(f"{err}; retraining it", StoreWarning, stacklevel=2)
    unwritable = _writable_store(root)
    for _, name, key in places if not retrain and unwritable is None else []:
        fetched = fetch(config, key, root / name)
        if fetched is not None:
            return fetched
    precision, name, key = places[0]
    folder = root / name
    # A reader running a chapter alone should know why it waits. (The book's pages drop
    # stderr, so a clean build and a rebuild give the same pages.)
    if unwritable is None:
        why = "later runs load it from the store"
    else:
        why = f"the store cannot be written ({unwritable}), so it will not be kept: set ${STORE_ENV}"
    print(
        f"wbinterp: training {folder.name} ({precision}) for the model store {root}; this takes "
        f"a minute or more on a CPU, and {why}",
        file=sys.stderr,
        flush=True,
    )
    base_model: nn.Module | None = (
        base_stored.model if base_stored is not None else None
    )
    result = kind.train(
        config,
        kinds.Run(dataset, train_mod.default_device(), precision, progress, base_model),
    )
    if unwritable is None:
        try:
            save(result, config, folder, key)
        except OSError as err:
            print(
                f"wbinterp: the model store {root} cannot be written ({err.strerror or err}); "
                f"{folder.name} was trained but not stored (set ${STORE_ENV} to a folder you can write to)",
                file=sys.stderr,
                flush=True,
            )
    return Stored(
        frozen(result.model),
        result.history,
        result.seconds,
        precision,
        config,
        False,
        folder,
        key,
    )


def _writable_store(
    root: Path, consequence: str = "", error: type[Exception] | None = None
) -> str | None:
    """Why the store ``root`` cannot be written (made if missing), or ``None``; with
    ``error``, raise it instead, one line saying so and ``consequence``."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        reason = files.cannot_write(root)
    except OSError as err:
        reason = err.strerror or str(err)
    if reason is not None and error is not None:
        raise error(
            f"the model store {root} cannot be written ({reason}); {consequence} (set ${STORE_ENV})"
        )
    return reason
