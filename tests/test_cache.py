"""The model store: hit, miss, invalidation, corruption; and the CLI round trip."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from wbinterp import cache, train as train_mod
from wbinterp.__main__ import main
from wbinterp.models import ModelConfig
from wbinterp.train import TrainConfig

TINY = TrainConfig(model=ModelConfig(d_hidden=8), epochs=1, batch_size=64, lr=1e-2,
                   weight_decay=0.0, input_noise=0.0)


@pytest.fixture
def store(tmp_path):
    return tmp_path / "models"


def _same_weights(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_miss_then_hit(store, toy_data):
    first = cache.load_or_train(TINY, root=store, dataset=toy_data)
    assert not first.from_cache and first.path.exists()
    second = cache.load_or_train(TINY, root=store, dataset=toy_data)
    assert second.from_cache and second.path == first.path
    assert _same_weights(first.model, second.model)
    assert second.history == first.history


def test_training_is_announced_outside_the_book_build(store, toy_data, monkeypatch, capsys):
    from wbinterp.build import BUILDING_ENV
    monkeypatch.delenv(BUILDING_ENV, raising=False)
    first = cache.load_or_train(TINY, root=store, dataset=toy_data)
    assert f"wbinterp: training {first.path.stem}" in capsys.readouterr().err
    cache.load_or_train(TINY, root=store, dataset=toy_data)          # a hit: nothing to announce
    assert capsys.readouterr().err == ""
    monkeypatch.setenv(BUILDING_ENV, "1")                             # in the book build: silent
    cache.load_or_train(TINY, root=store, dataset=toy_data, retrain=True)
    assert capsys.readouterr().err == ""


def test_key_covers_config_data_and_code(store, toy_data, monkeypatch):
    base = cache.load_or_train(TINY, root=store, dataset=toy_data)
    assert not cache.load_or_train(TINY.with_(seed=1), root=store, dataset=toy_data).from_cache
    other_data = toy_data.__class__(**{**toy_data.__dict__, "checksum": "other"})
    changed_data = cache.load_or_train(TINY, root=store, dataset=other_data)
    assert not changed_data.from_cache and changed_data.path != base.path
    monkeypatch.setattr(cache, "code_fingerprint", lambda paths=None: "edited training code")
    assert not cache.load_or_train(TINY, root=store, dataset=toy_data).from_cache
    assert len(list(store.glob("*.pt"))) == 4


def test_code_fingerprint_changes_with_source(tmp_path):
    f = tmp_path / "train.py"
    f.write_text("lr = 1e-3\n")
    before = cache.code_fingerprint([f])
    f.write_text("lr = 2e-3\n")
    assert cache.code_fingerprint([f]) != before


def test_truncated_checkpoint_is_reported_and_retrained(store, toy_data):
    first = cache.load_or_train(TINY, root=store, dataset=toy_data)
    first.path.write_bytes(first.path.read_bytes()[:300])
    with pytest.warns(cache.CacheWarning, match="cannot be read.*retraining"):
        again = cache.load_or_train(TINY, root=store, dataset=toy_data)
    assert not again.from_cache and _same_weights(first.model, again.model)
    assert cache.load_or_train(TINY, root=store, dataset=toy_data).from_cache  # repaired


def test_tampered_weights_fail_the_digest(store, toy_data):
    first = cache.load_or_train(TINY, root=store, dataset=toy_data)
    payload = torch.load(first.path, weights_only=True)
    payload["state_dict"]["w_u"][0, 0] += 1.0
    torch.save(payload, first.path)
    with pytest.warns(cache.CacheWarning, match="do not match their recorded digest"):
        again = cache.load_or_train(TINY, root=store, dataset=toy_data)
    assert _same_weights(first.model, again.model)


def test_checkpoint_from_other_code_is_not_trusted(store, toy_data):
    first = cache.load_or_train(TINY, root=store, dataset=toy_data)
    payload = torch.load(first.path, weights_only=True)
    payload["key"] = "0" * 64
    torch.save(payload, first.path)
    with pytest.warns(cache.CacheWarning, match="another config, dataset or training code"):
        assert not cache.load_or_train(TINY, root=store, dataset=toy_data).from_cache


def test_pickled_code_is_refused(store, toy_data):
    first = cache.load_or_train(TINY, root=store, dataset=toy_data)
    torch.save({"format": 1, "evil": cache.CacheWarning("not a tensor")}, first.path)
    with pytest.warns(cache.CacheWarning, match="cannot be read"):
        assert not cache.load_or_train(TINY, root=store, dataset=toy_data).from_cache


def test_dataset_must_match_config(store, toy_data):
    with pytest.raises(ValueError, match="wants dataset 'fashion-mnist'"):
        cache.load_or_train(TINY.with_(dataset="fashion-mnist"), root=store, dataset=toy_data)


def test_cli_train_round_trip(tmp_path, monkeypatch, toy_data):
    monkeypatch.setitem(train_mod.PRESETS, "tiny", TINY)
    monkeypatch.setattr(cache.data_mod, "load", lambda name: toy_data)
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "store"))
    out = tmp_path / "export"
    assert main(["train", "tiny", "--out", str(out), "--quiet"]) == 0
    state = torch.load(out / "weights.pt", weights_only=True)
    assert {k: tuple(v.shape) for k, v in state.items()} == {
        "w_e": (8, 784), "w_l": (8, 8), "w_r": (8, 8), "w_u": (10, 8)}
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["kind"] == "bilinear" and config["epochs"] == 1
    model, loaded_config = cache.load_exported(out)
    assert loaded_config == TINY
    cached = cache.load_or_train(TINY, dataset=toy_data)
    assert cached.from_cache
    torch.testing.assert_close(model(toy_data.test.images), cached.model(toy_data.test.images))


def test_cli_presets_lists_every_preset():
    out = subprocess.run([sys.executable, "-m", "wbinterp", "presets"], capture_output=True,
                         text=True, check=True).stdout
    for name in [*train_mod.PRESETS, *cache.TRANSCODER_PRESETS, *cache.SAE_PRESETS]:
        assert name in out
    assert "d=512" in out and "noise=0.5" in out


def test_cli_reports_data_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WBINTERP_DATA", str(tmp_path))
    assert main(["data", "mnist", "--from", str(tmp_path / "empty")]) == 2
    assert "point --from at the folder" in capsys.readouterr().err


TINY_SAE = cache.SparseConfig(d_in=8, d_out=8, n_features=16, activation="topk", k=2, epochs=1,
                              batch_size=32, resample_every=0)


@pytest.mark.parametrize("source", ["outputs", "pairs"])
def test_sae_of_the_layer_is_stored_and_its_data_made_from_the_model(store, toy_data, monkeypatch, source):
    monkeypatch.setitem(train_mod.PRESETS, "tiny", TINY)
    spec = cache.SaeSpec("tiny", source, TINY_SAE, n_pairs=100 if source == "pairs" else 0)
    first = cache.load_or_train_sae(spec, root=store, dataset=toy_data)
    second = cache.load_or_train_sae(spec, root=store, dataset=toy_data)
    assert not first.from_cache and second.from_cache and _same_weights(first.model, second.model)
    model = cache.load_or_train(TINY, root=store, dataset=toy_data).model
    inputs = cache.sae_training_data(spec, model, toy_data.train.images)
    if source == "outputs":
        torch.testing.assert_close(inputs, model.bilinear(model.embed(toy_data.train.images)))
    else:
        assert inputs.shape == (100, 8)
        torch.testing.assert_close(inputs.norm(dim=1), torch.ones(100))
    # a different SAE config is a different checkpoint
    other = cache.load_or_train_sae(cache.SaeSpec("tiny", source, TINY_SAE.with_(k=3), spec.n_pairs),
                                    root=store, dataset=toy_data)
    assert not other.from_cache and other.path != first.path


def test_sae_spec_errors(store, toy_data, monkeypatch):
    monkeypatch.setitem(train_mod.PRESETS, "tiny", TINY)
    with pytest.raises(ValueError, match="needs d_in = d_out = 8"):
        cache.load_or_train_sae(cache.SaeSpec("tiny", "outputs", TINY_SAE.with_(d_in=9)), root=store,
                                dataset=toy_data)
    with pytest.raises(ValueError, match="needs a bilinear model"):
        cache.load_or_train_sae(cache.SaeSpec("relu", "outputs", TINY_SAE), root=store, dataset=toy_data)
    with pytest.raises(ValueError, match="source must be 'outputs' or 'pairs'"):
        cache.load_or_train_sae(cache.SaeSpec("tiny", "images", TINY_SAE), root=store, dataset=toy_data)
    with pytest.raises(KeyError, match="unknown SAE preset 'nope'"):
        cache.load_or_train_sae("nope")
