"""The model store: hit, miss, invalidation, corruption; one format for every kind; the CLI."""

from __future__ import annotations

import ast
import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from wbinterp import data, kinds, precision, presets, store
from wbinterp.__main__ import main
from wbinterp.kinds.sae import SaeConfig
from wbinterp.kinds.skip_transcoder import SkipTranscoderConfig
from wbinterp.kinds.transcoder import TranscoderConfig
from wbinterp.models import ModelConfig
from wbinterp.sparse import SparseTrainConfig
from wbinterp.train import TrainConfig

from .conftest import make_raw_files

TINY = TrainConfig(
    model=ModelConfig(d_hidden=8),
    epochs=1,
    batch_size=64,
    lr=1e-2,
    weight_decay=0.0,
    input_noise=0.0,
)
TINY_RELU = TINY.with_(kind="relu")
TINY_DEEP = TINY.with_(kind="deep", n_layers=2, residual=True)
TINY_SAE = SparseTrainConfig().with_(
    d_in=8,
    d_out=8,
    n_features=16,
    activation="topk",
    k=2,
    epochs=1,
    batch_size=32,
    resample_every=0,
)
TINY_TRANSCODER = SparseTrainConfig().with_(
    d_in=784,
    d_out=8,
    n_features=16,
    activation="topk",
    k=2,
    epochs=1,
    batch_size=32,
    resample_every=0,
)


@pytest.fixture
def root(tmp_path):
    return tmp_path / "models"


@pytest.fixture
def tiny_presets(monkeypatch):
    """Tiny recipes of every kind in the registry (restored afterwards)."""
    tiny = {
        "tiny": TINY,
        "tiny-relu": TINY_RELU,
        "tiny-deep": TINY_DEEP,
        "tiny-transcoder": TranscoderConfig(TINY_RELU, TINY_TRANSCODER),
        "tiny-sae": SaeConfig(TINY, "outputs", TINY_SAE),
        "tiny-sae-pairs": SaeConfig(TINY, "pairs", TINY_SAE, n_pairs=100),
        "tiny-skip": SkipTranscoderConfig(TINY_RELU, TINY_TRANSCODER),
    }
    for name, config in tiny.items():
        monkeypatch.setitem(presets.PRESETS, name, config)
    return tiny


def _same_weights(a, b):
    return all(
        torch.equal(x, y)
        for x, y in zip(a.state_dict().values(), b.state_dict().values())
    )


def test_miss_then_hit(root, toy_data):
    first = store.load_or_train(TINY, root=root, dataset=toy_data)
    assert not first.from_store and (first.path / store.WEIGHTS).is_file()
    second = store.load_or_train(TINY, root=root, dataset=toy_data)
    assert second.from_store and second.path == first.path
    assert _same_weights(first.model, second.model)
    assert second.history == first.history and second.config == TINY


def test_models_come_out_frozen_for_analysis_trained_or_loaded(root, toy_data):
    for stored in (
        store.load_or_train(TINY, root=root, dataset=toy_data) for _ in range(2)
    ):
        assert not stored.model.training
        assert not any(p.requires_grad for p in stored.model.parameters())
        x = toy_data.test.images[:3].clone().requires_grad_(True)
        stored.model(
            x
        ).sum().backward()  # a gradient with respect to the input still flows
        assert x.grad is not None and x.grad.abs().sum() > 0


def test_training_is_announced_on_stderr(root, toy_data, capsys):
    first = store.load_or_train(TINY, root=root, dataset=toy_data)
    assert f"wbinterp: training {first.path.name}" in capsys.readouterr().err
    store.load_or_train(TINY, root=root, dataset=toy_data)  # a hit: nothing to announce
    assert capsys.readouterr().err == ""


def test_key_covers_config_data_and_code(root, toy_data, monkeypatch):
    base = store.load_or_train(TINY, root=root, dataset=toy_data)
    assert not store.load_or_train(
        TINY.with_(seed=1), root=root, dataset=toy_data
    ).from_store
    other_data = toy_data.__class__(**{**toy_data.__dict__, "checksum": "other"})
    changed_data = store.load_or_train(TINY, root=root, dataset=other_data)
    assert not changed_data.from_store and changed_data.path != base.path
    monkeypatch.setattr(
        store, "code_fingerprint", lambda paths=None: "edited training code"
    )
    assert not store.load_or_train(TINY, root=root, dataset=toy_data).from_store
    assert len([p for p in root.iterdir() if not p.name.startswith(".")]) == 4


def test_precision_is_recorded_and_keyed_and_the_other_one_used_when_alone(
    root, toy_data, monkeypatch
):
    monkeypatch.setenv(precision.PRECISION_ENV, "float32")
    full = store.load_or_train(TINY, root=root, dataset=toy_data)
    assert full.precision == "float32"
    assert (
        json.loads((full.path / store.TRAINING).read_text())["precision"] == "float32"
    )
    monkeypatch.setenv(precision.PRECISION_ENV, "bfloat16")
    half = store.load_or_train(TINY, root=root, dataset=toy_data)
    assert (
        not half.from_store and half.path != full.path and half.precision == "bfloat16"
    )
    # no precision asked for: this machine's copy first, else the other one
    monkeypatch.delenv(precision.PRECISION_ENV)
    monkeypatch.setattr(precision, "_machine_default", lambda device_type: "float32")
    assert store.load_or_train(TINY, root=root, dataset=toy_data).path == full.path
    shutil.rmtree(full.path)
    fallback = store.load_or_train(TINY, root=root, dataset=toy_data)
    assert (
        fallback.from_store
        and fallback.precision == "bfloat16"
        and _same_weights(fallback.model, half.model)
    )
    # asked for by name, only that precision will do
    asked = store.load_or_train(TINY, root=root, dataset=toy_data, precision="float32")
    assert (
        not asked.from_store
        and asked.precision == "float32"
        and asked.path == full.path
    )


def test_a_sparse_coder_is_in_its_base_models_precision(
    root, toy_data, tiny_presets, monkeypatch
):
    monkeypatch.setattr(precision, "_machine_default", lambda device_type: "float32")
    store.load_or_train("tiny-relu", root=root, dataset=toy_data, precision="bfloat16")
    coder = store.load_or_train("tiny-transcoder", root=root, dataset=toy_data)
    assert coder.precision == "bfloat16"
    assert (
        len([p for p in root.iterdir() if not p.name.startswith(".")]) == 2
    )  # no float32 MLP trained


def test_a_record_without_its_precision_is_not_trusted(root, toy_data):
    first = store.load_or_train(TINY, root=root, dataset=toy_data)
    training = json.loads((first.path / store.TRAINING).read_text())
    del training["precision"]
    (first.path / store.TRAINING).write_text(json.dumps(training))
    with pytest.warns(
        store.StoreWarning, match="does not say which precision trained it"
    ):
        assert not store.load_or_train(
            TINY, root=root, dataset=toy_data, precision=first.precision
        ).from_store


def test_code_fingerprint_changes_with_source(tmp_path):
    f = tmp_path / "train.py"
    f.write_text("lr = 1e-3\n")
    before = store.code_fingerprint([f])
    f.write_text("lr = 2e-3\n")
    assert store.code_fingerprint([f]) != before


def _reworded(source: str) -> str:
    """``source`` with every docstring reworded, and a comment and blank lines before each
    top-level definition."""
    lines = source.splitlines(keepends=True)
    holders = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    docstrings = [
        node.body[0].value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, holders)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
        and isinstance(node.body[0].value.value, str)
    ]
    assert len(docstrings) >= 2  # a module's and a class's at least
    for doc in sorted(docstrings, key=lambda d: (d.lineno, d.col_offset), reverse=True):
        line = lines[doc.lineno - 1]
        at = doc.col_offset + 3  # after the opening triple quote
        lines[doc.lineno - 1] = line[:at] + "Reworded. " + line[at:]
    text = "".join(lines)
    return text.replace("\ndef ", "\n# a comment\n\n\ndef ")


#: Each registered kind's sources, as the package has them.
_SOURCES = {
    type(kinds.named(name)): type(kinds.named(name)).sources for name in kinds.names()
}


def _keys(monkeypatch, moved: dict[str, Path]) -> dict[str, str]:
    """Every preset's key, with each kind's sources read from ``moved`` where it has them."""
    for kind, sources in _SOURCES.items():
        monkeypatch.setattr(
            kind, "sources", tuple(str(moved.get(s, s)) for s in sources)
        )
    return {
        name: store.store_key(c, "data", "float32")
        for name, c in presets.PRESETS.items()
    }


def test_docstring_and_comment_edits_keep_every_key_and_a_statement_changes_them(
    tmp_path, monkeypatch
):
    sources = sorted({s for kind_sources in _SOURCES.values() for s in kind_sources})
    assert {Path(s).name for s in sources} >= {
        "models.py",
        "train.py",
        "sparse.py",
        "pairs.py",
        "sae.py",
    }
    original = _keys(monkeypatch, {})
    edited = {}
    for i, s in enumerate(sources):
        copy = tmp_path / str(i) / Path(s).name  # the file's name enters the key
        copy.parent.mkdir()
        copy.write_text(_reworded(Path(s).read_text()))
        edited[s] = copy
    assert _keys(monkeypatch, edited) == original
    train_py = next(copy for s, copy in edited.items() if Path(s).name == "train.py")
    train_py.write_text(train_py.read_text() + "\n_ONE_MORE_STATEMENT = 1\n")
    changed = _keys(monkeypatch, edited)
    assert all(changed[name] != original[name] for name in original)


def test_truncated_weights_are_reported_and_retrained(root, toy_data):
    first = store.load_or_train(TINY, root=root, dataset=toy_data)
    weights = first.path / store.WEIGHTS
    weights.write_bytes(weights.read_bytes()[:300])
    with pytest.warns(store.StoreWarning, match="cannot be read.*retraining"):
        again = store.load_or_train(TINY, root=root, dataset=toy_data)
    assert not again.from_store and _same_weights(first.model, again.model)
    assert store.load_or_train(TINY, root=root, dataset=toy_data).from_store  # repaired
    assert not list(root.glob(".*.part"))  # nothing half-written


def test_tampered_weights_fail_the_digest(root, toy_data):
    first = store.load_or_train(TINY, root=root, dataset=toy_data)
    state = load_file(str(first.path / store.WEIGHTS))
    state["w_u"][0, 0] += 1.0
    save_file(state, str(first.path / store.WEIGHTS))
    with pytest.warns(store.StoreWarning, match="do not match their recorded digest"):
        again = store.load_or_train(TINY, root=root, dataset=toy_data)
    assert _same_weights(first.model, again.model)


def test_model_from_other_code_is_not_trusted(root, toy_data):
    first = store.load_or_train(TINY, root=root, dataset=toy_data)
    training = json.loads((first.path / store.TRAINING).read_text())
    (first.path / store.TRAINING).write_text(json.dumps({**training, "key": "0" * 64}))
    with pytest.warns(
        store.StoreWarning, match="another config, dataset or training code"
    ):
        assert not store.load_or_train(TINY, root=root, dataset=toy_data).from_store


def test_a_config_of_another_kind_is_refused(root, toy_data):
    first = store.load_or_train(TINY, root=root, dataset=toy_data)
    (first.path / store.CONFIG).write_text(json.dumps({"kind": "gpt"}))
    with pytest.raises(store.StoreError, match="unknown kind 'gpt'"):
        store.load(first.path)
    (first.path / store.CONFIG).write_text(
        json.dumps(kinds.to_dict(TINY.with_(d_hidden=9)))
    )
    with pytest.raises(store.StoreError, match="weights do not match the model"):
        store.load(first.path)
    (first.path / store.CONFIG).unlink()
    with pytest.raises(store.StoreError, match="has no config.json"):
        store.load(first.path)


def test_dataset_must_match_config(root, toy_data):
    with pytest.raises(ValueError, match="wants dataset 'fashion-mnist'"):
        store.load_or_train(
            TINY.with_(dataset="fashion-mnist"), root=root, dataset=toy_data
        )


@pytest.mark.parametrize(
    "name",
    [
        "tiny",
        "tiny-relu",
        "tiny-deep",
        "tiny-transcoder",
        "tiny-sae",
        "tiny-sae-pairs",
        "tiny-skip",
    ],
)
def test_cli_train_then_load_gives_the_same_outputs(
    name, tmp_path, monkeypatch, toy_data, tiny_presets
):
    monkeypatch.setattr(store.data_mod, "load", lambda dataset: toy_data)
    monkeypatch.setenv(store.STORE_ENV, str(tmp_path / "store"))
    out = tmp_path / "export"
    assert main(["train", name, "--out", str(out), "--quiet"]) == 0
    config = json.loads((out / store.CONFIG).read_text())
    assert config["kind"] == tiny_presets[name].kind
    loaded = store.load(out)
    assert loaded.config == tiny_presets[name]
    stored = store.load_or_train(name, dataset=toy_data)
    assert stored.from_store
    x = toy_data.test.images
    if hasattr(loaded.config, "sparse"):
        x = (
            x
            if loaded.config.sparse.coder.d_in == 784
            else torch.randn(16, loaded.config.sparse.coder.d_in)
        )
        torch.testing.assert_close(
            loaded.model(x).output, stored.model(x).output, rtol=0, atol=0
        )
    else:
        torch.testing.assert_close(loaded.model(x), stored.model(x), rtol=0, atol=0)


def test_every_preset_validates_and_has_a_key():
    for name, config in presets.PRESETS.items():
        assert (
            store.config_from_dict(json.loads(json.dumps(kinds.to_dict(config))))
            == config
        ), name
        keys = {store.store_key(config, "data", p) for p in ("float32", "bfloat16")}
        assert len(keys) == 2 and all(len(k) == 64 for k in keys)


def test_cli_presets_lists_every_preset():
    out = subprocess.run(
        [sys.executable, "-m", "wbinterp", "presets"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in presets.PRESETS:
        assert name in out
    assert "d=512" in out and "noise=0.5" in out


def test_cli_presets_keys_name_the_folders_training_fills(
    tmp_path, monkeypatch, toy_data, tiny_presets, capsys
):
    monkeypatch.setattr(store.data_mod, "load", lambda dataset: toy_data)
    monkeypatch.setenv(store.STORE_ENV, str(tmp_path / "store"))
    assert main(["presets", "--keys", "--precision", "float32"]) == 0
    printed = dict(line.split() for line in capsys.readouterr().out.splitlines())
    assert set(printed) == set(presets.PRESETS)
    for name in ("tiny", "tiny-transcoder"):
        assert (
            store.load_or_train(name, dataset=toy_data, precision="float32").path.name
            == printed[name]
        )


def _cli_error(argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


def test_cli_unknown_preset(tmp_path, capsys):
    err = _cli_error(["train", "bok", "--out", str(tmp_path / "out")], capsys)
    assert "unknown preset 'bok'" in err and "python -m wbinterp presets" in err
    assert not (tmp_path / "out").exists()


def test_cli_out_is_a_file_or_cannot_be_created(tmp_path, capsys):
    file = tmp_path / "file"
    file.write_text("")
    assert "is a file" in _cli_error(["train", "book", "--out", str(file)], capsys)
    assert "cannot be created" in _cli_error(
        ["train", "book", "--out", str(file / "below")], capsys
    )


def test_cli_data_from_an_empty_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WBINTERP_DATA", str(tmp_path / "data"))
    (tmp_path / "empty").mkdir()
    assert "point --from at the folder" in _cli_error(
        ["data", "mnist", "--from", str(tmp_path / "empty")], capsys
    )


def _source(tmp_path, monkeypatch, broken: str, content: bytes):
    """Four small original files, with ``broken`` replaced by ``content``; MNIST's files
    made to expect the small files."""
    source = tmp_path / "source"
    hashes = make_raw_files(source, compress=True)
    monkeypatch.setitem(
        data.DATASET_FILES,
        "mnist",
        data.DatasetFiles("mnist", "MNIST", hashes, data.MNIST.classes),
    )
    (source / f"{broken}.gz").write_bytes(content)
    return source


@pytest.mark.parametrize("case", ["truncated", "not gzip", "wrong checksum"])
def test_cli_data_from_a_bad_file_leaves_nothing_behind(
    case, tmp_path, monkeypatch, capsys
):
    data_root = tmp_path / "data"
    monkeypatch.setenv("WBINTERP_DATA", str(data_root))
    good = gzip.compress(b"\0" * 5000)
    content = {
        "truncated": good[:40],
        "not gzip": b"plain text, not gzip",
        "wrong checksum": good,
    }[case]
    source = _source(tmp_path, monkeypatch, "train-labels-idx1-ubyte", content)
    err = _cli_error(["data", "mnist", "--from", str(source)], capsys)
    assert "train-labels-idx1-ubyte" in err and "copy the original file again" in err
    raw = data_root / "MNIST" / "raw"
    assert not list(raw.glob(".*.part"))  # no stray temporary file
    assert not (
        raw / "train-labels-idx1-ubyte"
    ).exists()  # nothing unverified moved into place
