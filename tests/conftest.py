"""Shared fixtures: small IDX files written by the tests, and tiny datasets."""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from wbinterp import data, published


@pytest.fixture(autouse=True)
def no_published_store(monkeypatch):
    """No test downloads from the book's site; tests of the published store serve their own."""
    monkeypatch.setenv(published.URL_ENV, "")


def write_idx(path: Path, array: np.ndarray, compress: bool = False) -> None:
    """Write ``array`` (uint8) in the IDX format MNIST uses."""
    magic = {1: 0x00000801, 3: 0x00000803}[array.ndim]
    payload = struct.pack(">I", magic) + b"".join(
        struct.pack(">I", n) for n in array.shape
    )
    payload += array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if compress:
        with gzip.open(path, "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)


def make_raw_files(
    folder: Path,
    n_train: int = 60,
    n_test: int = 20,
    seed: int = 0,
    compress: bool = False,
) -> dict[str, str]:
    """Write four small MNIST-like files to ``folder``; return their sha256 by name."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": np.arange(n_train) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": np.arange(n_test) % 10,
    }
    hashes = {}
    for name, array in arrays.items():
        path = folder / (name + (".gz" if compress else ""))
        write_idx(path, array, compress=compress)
        raw = gzip.decompress(path.read_bytes()) if compress else path.read_bytes()
        hashes[name] = hashlib.sha256(raw).hexdigest()
    return hashes


@pytest.fixture
def tiny_files(tmp_path) -> tuple[data.DatasetFiles, Path]:
    """A files whose checksums match small files in ``tmp_path/MNIST/raw``."""
    root = tmp_path / "data"
    hashes = make_raw_files(root / "MNIST" / "raw")
    files = data.DatasetFiles(
        name="mnist",
        torchvision_class="MNIST",
        sha256=hashes,
        classes=data.MNIST.classes,
    )
    return files, root


def synthetic_dataset(
    n_train: int = 256, n_test: int = 64, seed: int = 0
) -> data.Dataset:
    """A learnable toy problem in memory: each class lights up its own pixel block."""
    gen = torch.Generator().manual_seed(seed)

    def split(n):
        labels = torch.arange(n) % 10
        images = 0.1 * torch.rand(n, 784, generator=gen)
        for c in range(10):
            images[labels == c, c * 70 : (c + 1) * 70] += 0.8
        return data.Split(images.clamp(0, 1), labels)

    return data.Dataset(
        "mnist", split(n_train), split(n_test), data.MNIST.classes, checksum="synthetic"
    )


@pytest.fixture
def toy_data() -> data.Dataset:
    return synthetic_dataset()


@pytest.fixture
def float64():
    """Check identities in double precision; the default dtype is restored afterwards."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)
