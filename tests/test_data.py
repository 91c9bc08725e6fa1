"""Data loading through torchvision, and the checksum error paths."""

from __future__ import annotations

import shutil
from pathlib import Path

import platformdirs
import pytest
import torch

from wbinterp import data

from .conftest import make_raw_files


def test_loads_small_files_as_unit_interval_tensors(tiny_files):
    files, root = tiny_files
    ds = data.load_files(files, root)
    assert ds.train.images.shape == (60, 784) and ds.test.images.shape == (20, 784)
    assert (
        ds.train.images.dtype == torch.float32 and ds.train.labels.dtype == torch.int64
    )
    assert 0.0 <= ds.train.images.min() and ds.train.images.max() <= 1.0
    assert ds.train.labels.tolist() == [i % 10 for i in range(60)]
    assert len(ds.checksum) == 64


def test_missing_file_names_file_and_remedy(tiny_files):
    files, root = tiny_files
    (root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(
        data.DataError,
        match=r"t10k-labels-idx1-ubyte is missing.*python -m wbinterp data",
    ):
        data.load_files(files, root)


def test_truncated_file_is_refused(tiny_files):
    files, root = tiny_files
    path = root / "MNIST" / "raw" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(
        data.DataError,
        match=r"train-images-idx3-ubyte is corrupted or truncated \(1000 bytes",
    ):
        data.load_files(files, root)


def test_corrupted_byte_is_refused_and_never_replaced(tiny_files):
    files, root = tiny_files
    path = root / "MNIST" / "raw" / "train-images-idx3-ubyte"
    raw = bytearray(path.read_bytes())
    raw[500] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(data.DataError, match="corrupted"):
        data.load_files(files, root, download_missing=True)
    assert path.read_bytes() == bytes(
        raw
    )  # the bad file is left for the user to inspect


def test_checksum_identifies_the_files(tiny_files, tmp_path):
    files, root = tiny_files
    first = data.verify(files, root)
    other_root = tmp_path / "other"
    other_hashes = make_raw_files(other_root / "MNIST" / "raw", seed=1)
    other_files = data.DatasetFiles(
        files.name, files.torchvision_class, other_hashes, files.classes
    )
    assert data.verify(other_files, other_root) != first
    other = dict(files.sha256, **{"train-labels-idx1-ubyte": "0" * 64})
    changed = data.DatasetFiles(
        files.name, files.torchvision_class, other, files.classes
    )
    with pytest.raises(data.DataError):
        data.verify(changed, root)


def test_install_from_gzip_folder(tmp_path):
    source = tmp_path / "originals"
    hashes = make_raw_files(source, compress=True, seed=3)
    files = data.DatasetFiles("mnist", "MNIST", hashes, data.MNIST.classes)
    root = tmp_path / "data"
    data.install_from(files, source, root)
    ds = data.load_files(files, root)
    assert len(ds.train) == 60
    assert sorted(p.name for p in source.iterdir()) == sorted(f"{n}.gz" for n in hashes)


def test_install_from_missing_source_says_what_to_do(tmp_path):
    with pytest.raises(data.DataError, match="point --from at the folder"):
        data.install_from(data.MNIST, tmp_path / "nowhere", tmp_path / "data")


def test_download_failure_is_reported(tiny_files, monkeypatch):
    files, root = tiny_files
    shutil.rmtree(root / "MNIST")

    class Offline:
        def __init__(self, *args, **kwargs):
            raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(data.torchvision.datasets, "MNIST", Offline)
    with pytest.raises(data.DataError, match=r"download into .* failed.*--from DIR"):
        data.load_files(files, root, download_missing=True)


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="fashion-mnist"):
        data.load("cifar")


def test_data_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    assert data.data_dir() == tmp_path


def test_the_library_alone_keeps_data_and_models_in_the_users_folders(monkeypatch):
    from wbinterp import store

    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.delenv(store.STORE_ENV, raising=False)
    repository = Path(data.__file__).resolve().parents[2]
    assert data.data_dir() == Path(
        platformdirs.user_data_dir("wbinterp", appauthor=False)
    )
    assert (
        store.store_dir()
        == Path(platformdirs.user_cache_dir("wbinterp", appauthor=False)) / "store"
    )
    for folder in (data.data_dir(), store.store_dir()):
        assert not folder.resolve().is_relative_to(repository)
    # and no module reaches into the repository (its root, the book's config)
    for module in Path(data.__file__).parent.rglob("*.py"):
        source = module.read_text()
        assert ".parents[" not in source and "_config.yml" not in source, module


real_mnist = pytest.mark.skipif(
    not (
        data.raw_folder(data.MNIST, data.data_dir()) / "t10k-labels-idx1-ubyte"
    ).exists(),
    reason="MNIST not installed (python -m wbinterp data mnist)",
)


@real_mnist
def test_real_mnist_matches_published_facts():
    ds = data.load("mnist")
    assert ds.train.images.shape == (60000, 784) and ds.test.images.shape == (
        10000,
        784,
    )
    assert ds.train.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert ds.test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert torch.bincount(ds.test.labels).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]
    assert abs(ds.train.images.mean().item() * 255 - 33.318) < 1e-2


def test_similarity_task_relabels_by_the_target_and_its_complement():
    g = torch.Generator().manual_seed(0)
    images = torch.rand(40, 784, generator=g)
    labels = torch.arange(40) % 10
    split = data.Split(images, labels)
    base = data.Dataset(
        "mnist", split, data.Split(images[:20], labels[:20]), tuple("0123456789"), "abc"
    )
    task = data.similarity_labels(base)
    target = images[1]  # the first image labelled 1
    torch.testing.assert_close(data.similarity_target(split), target)
    similarity = data.target_similarity(images, target)
    assert (
        task.train.labels.tolist() == (similarity > similarity.median()).long().tolist()
    )
    assert task.train.labels[1] == 1 and task.classes == ("False", "True")
    assert task.checksum != base.checksum and task.train.labels.sum() == 20
    no_ones = data.Split(images[:1], torch.zeros(1, dtype=torch.long))
    with pytest.raises(data.DataError, match="labelled 1"):
        data.similarity_target(no_ones)
