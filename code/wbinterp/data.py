"""Datasets as in-memory tensors, checked against known checksums.

MNIST and Fashion-MNIST are read by torchvision (no hand-written IDX parser).
Before torchvision reads a file, its SHA-256 is compared with the published
value, so a missing, truncated or corrupted file stops everything with an error
that names the file and says how to fix it: nothing is ever trained on bad data.

Images come back flattened to ``(N, 784)`` float32 in ``[0, 1]``; no mean/std
normalisation, so quadratic forms stay in pixel units.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

import platformdirs
import torch
import torchvision

from .hashing import sha256_file, sha256_text

#: The datasets the package knows. ``"mnist-similarity"`` is MNIST's images with the
#: labels of a ground-truth task (see :func:`similarity_labels`).
DatasetName = Literal["mnist", "fashion-mnist", "mnist-similarity"]

#: Environment variable that chooses the data directory.
DATA_ENV = "WBINTERP_DATA"


class DataError(RuntimeError):
    """A dataset file is missing, truncated or corrupted."""


@dataclass(frozen=True)
class DatasetFiles:
    """Where torchvision looks for a dataset and what its files must hash to."""

    name: str
    """Short name used throughout the package (``"mnist"``, ``"fashion-mnist"``)."""
    torchvision_class: str
    """Name of the ``torchvision.datasets`` class that reads the files."""
    sha256: dict[str, str]
    """SHA-256 of each decompressed raw file, keyed by file name."""
    classes: tuple[str, ...]
    """Human-readable class names, in label order."""


MNIST = DatasetFiles(
    name="mnist",
    torchvision_class="MNIST",
    sha256={
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    classes=tuple(str(d) for d in range(10)),
)

FASHION_MNIST = DatasetFiles(
    name="fashion-mnist",
    torchvision_class="FashionMNIST",
    sha256={
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
    classes=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
)

DATASET_FILES = {files.name: files for files in (MNIST, FASHION_MNIST)}


@dataclass(frozen=True)
class Split:
    """One split of a dataset, held in memory."""

    images: torch.Tensor
    """``(N, 784)`` float32 pixels in ``[0, 1]``."""
    labels: torch.Tensor
    """``(N,)`` int64 class labels."""

    def __len__(self) -> int:
        return self.labels.shape[0]


@dataclass(frozen=True)
class Dataset:
    """A dataset's train and test splits with the checksum that identifies them."""

    name: str
    train: Split
    test: Split
    classes: tuple[str, ...]
    checksum: str
    """SHA-256 over the raw files' hashes: part of every trained model's cache key."""


def data_dir() -> Path:
    """The data directory: ``$WBINTERP_DATA`` if set, else the user's data folder for
    ``wbinterp`` (platformdirs; ``~/.local/share/wbinterp`` on Linux). The book's
    ``Makefile`` sets it to the repository's ``data/``."""
    if DATA_ENV in os.environ:
        return Path(os.environ[DATA_ENV]).expanduser()
    return Path(platformdirs.user_data_dir("wbinterp", appauthor=False))


def raw_folder(files: DatasetFiles, root: Path) -> Path:
    """The folder where torchvision looks for the decompressed files of ``files``."""
    return Path(root) / files.torchvision_class / "raw"


def verify(files: DatasetFiles, root: Path) -> str:
    """Check every raw file of ``files`` under ``root``; return the dataset checksum.

    Raises :class:`DataError` naming the first missing or corrupted file.
    """
    folder = raw_folder(files, root)
    for filename, expected in files.sha256.items():
        path = folder / filename
        if not path.is_file():
            raise DataError(
                f"{files.name}: file {path} is missing. Run "
                f"`python -m wbinterp data {files.name}` with internet access to download it, "
                f"or `python -m wbinterp data {files.name} --from DIR` to copy the original "
                f"files from a local folder (set ${DATA_ENV} to use another data directory)."
            )
        actual = sha256_file(path)
        if actual != expected:
            raise DataError(
                f"{files.name}: file {path} is corrupted or truncated "
                f"({path.stat().st_size} bytes, sha256 {actual[:12]}…, expected {expected[:12]}…). "
                f"Delete it and run `python -m wbinterp data {files.name}` again."
            )
    joined = "".join(f"{name}:{files.sha256[name]}\n" for name in sorted(files.sha256))
    return sha256_text(joined)


def _decompress(source: Path, tmp: Path, cannot_write: str, name: str) -> None:
    """Copy ``source`` (gunzipped if it ends in ``.gz``) to ``tmp``, telling a bad
    source
    (:class:`DataError` "not a complete gzip file") from a destination that cannot be
    written (``cannot_write``, formatted with the reason)."""
    opener = gzip.open if source.suffix == ".gz" else open
    try:
        dst = open(tmp, "wb")  # noqa: SIM115 (closed in the finally, where a full disk shows too)
    except OSError as err:
        raise DataError(cannot_write.format(err.strerror or err)) from None
    try:
        with opener(source, "rb") as src:
            while True:
                try:
                    block = src.read(1 << 20)
                except (OSError, EOFError) as err:  # not gzip, or cut short
                    raise DataError(
                        f"{name}: {source} is not a complete gzip file ({err}); copy the original file again."
                    ) from None
                if not block:
                    break
                try:
                    dst.write(block)
                except OSError as err:
                    raise DataError(cannot_write.format(err.strerror or err)) from None
    finally:
        try:
            dst.close()
        except OSError as err:
            raise DataError(cannot_write.format(err.strerror or err)) from None


def install_from(files: DatasetFiles, source: Path, root: Path) -> None:
    """Decompress the four original ``.gz`` files (or copy plain ones) from ``source``.

    Each file is checked against its published SHA-256 before it is moved to where
    torchvision looks for it, so a bad source leaves nothing behind. The source folder
    is
    only read.
    """
    source, folder = Path(source), raw_folder(files, root)
    if not source.is_dir():
        raise DataError(
            f"{files.name}: {source} is not a folder; point --from at the folder "
            f"holding the four original files."
        )
    for filename in files.sha256:
        gz, plain = source / f"{filename}.gz", source / filename
        if not (gz.is_file() or plain.is_file()):
            raise DataError(
                f"{files.name}: neither {gz} nor {plain} exists; "
                f"point --from at the folder holding the four original files."
            )
    cannot_write = (
        f"{files.name}: the data folder {folder} cannot be written ({{}}); free some space "
        f"or set ${DATA_ENV} to a folder you can write to."
    )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(cannot_write.format(err.strerror or err)) from None
    for filename, expected in files.sha256.items():
        gz, plain = source / f"{filename}.gz", source / filename
        tmp = folder / f".{filename}.part"
        try:
            _decompress(gz if gz.is_file() else plain, tmp, cannot_write, files.name)
            actual = sha256_file(tmp)
            if actual != expected:
                raise DataError(
                    f"{files.name}: {gz if gz.is_file() else plain} does not hold the "
                    f"original {filename} (sha256 {actual[:12]}…, expected "
                    f"{expected[:12]}…); copy the original file again."
                )
            os.replace(tmp, folder / filename)
        finally:
            tmp.unlink(missing_ok=True)
    verify(files, root)


def download(files: DatasetFiles, root: Path) -> None:
    """Download through torchvision (it checks the archives' md5), then verify."""
    cls = getattr(torchvision.datasets, files.torchvision_class)
    try:
        cls(str(root), train=True, download=True)
        cls(str(root), train=False, download=True)
    except Exception as err:  # torchvision raises RuntimeError or URLError
        raise DataError(
            f"{files.name}: download into {raw_folder(files, root)} failed ({err}). "
            f"Without internet, copy the original files with "
            f"`python -m wbinterp data {files.name} --from DIR`."
        ) from err
    verify(files, root)


def _read_split(files: DatasetFiles, root: Path, train: bool) -> Split:
    cls = getattr(torchvision.datasets, files.torchvision_class)
    ds = cls(str(root), train=train, download=False)
    images = ds.data.reshape(len(ds.data), -1).to(torch.float32) / 255.0
    return Split(images=images.contiguous(), labels=ds.targets.to(torch.int64))


def load_files(
    files: DatasetFiles, root: Path | None = None, download_missing: bool = False
) -> Dataset:
    """Load a dataset described by ``files`` from ``root`` (default
    :func:`data_dir`)."""
    root = Path(root) if root is not None else data_dir()
    try:
        checksum = verify(files, root)
    except DataError:
        if not download_missing or any(
            (raw_folder(files, root) / f).exists() for f in files.sha256
        ):
            raise  # a corrupted file is never silently replaced
        download(files, root)
        checksum = verify(files, root)
    return Dataset(
        name=files.name,
        train=_read_split(files, root, train=True),
        test=_read_split(files, root, train=False),
        classes=files.classes,
        checksum=checksum,
    )


def similarity_target(split: Split) -> torch.Tensor:
    """The fixed target image of the similarity task: the first image labelled 1,
    ``(784,)``."""
    ones = (split.labels == 1).nonzero()
    if len(ones) == 0:
        raise DataError(
            "the similarity task needs an image labelled 1 in the training split"
        )
    return split.images[ones[0, 0]]


def target_similarity(images: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``max(cos(x, t), cos(x, 1 − t))`` for every image ``(N, 784)``: ``(N,)``."""
    cos = torch.nn.functional.cosine_similarity
    return torch.maximum(
        cos(images, target[None], dim=-1), cos(images, 1 - target[None], dim=-1)
    )


def similarity_labels(mnist: Dataset) -> Dataset:
    """MNIST relabelled for the ground-truth task of Pearce et al. (2025, §4.3), after
    Casper's
    challenge: an image is "True" (1) when it is more similar to a fixed "1" or to its
    complement (one minus the grayscale) than the median training image is, else "False"
    (0).

    The median threshold balances the classes; the paper does not state its threshold.
    """
    target = similarity_target(mnist.train)
    threshold = target_similarity(mnist.train.images, target).median()

    def relabel(split: Split) -> Split:
        return Split(
            split.images, (target_similarity(split.images, target) > threshold).long()
        )

    return Dataset(
        name="mnist-similarity",
        train=relabel(mnist.train),
        test=relabel(mnist.test),
        classes=("False", "True"),
        checksum=sha256_text(mnist.checksum + ":similarity-labels-v1"),
    )


@lru_cache(maxsize=4)
def _load_cached(name: str, root: str, download_missing: bool) -> Dataset:
    if name == "mnist-similarity":
        return similarity_labels(_load_cached("mnist", root, download_missing))
    return load_files(DATASET_FILES[name], Path(root), download_missing)


def load(
    name: str = "mnist", root: Path | None = None, download_missing: bool = True
) -> Dataset:
    """Load ``"mnist"``, ``"fashion-mnist"`` or ``"mnist-similarity"`` into memory
    (cached per process).

    Missing files are downloaded through torchvision when ``download_missing``;
    a file that is present but corrupted always raises :class:`DataError`.
    """
    if name not in get_args(DatasetName):
        raise ValueError(
            f"unknown dataset {name!r}; choose one of {list(get_args(DatasetName))}"
        )
    root = Path(root) if root is not None else data_dir()
    return _load_cached(name, str(root.resolve()), download_missing)
