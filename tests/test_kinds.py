"""The registry of trained kinds, and the configs of the built-in kinds."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from wbinterp import kinds, presets
from wbinterp.kinds.sae import SaeConfig
from wbinterp.kinds.transcoder import TranscoderConfig
from wbinterp.models import ModelConfig
from wbinterp.sparse import SparseTrainConfig
from wbinterp.train import TrainConfig

BILINEAR = TrainConfig(model=ModelConfig(d_hidden=12))
RELU = TrainConfig(model=ModelConfig(kind="relu", d_hidden=12))
SMALL = SparseTrainConfig().with_(d_in=12, d_out=12, n_features=48, k=4)


def test_every_kind_name_reads_back_its_configs():
    assert set(kinds.names()) >= {"bilinear", "relu", "deep", "transcoder", "sae"}
    for name, config in presets.PRESETS.items():
        saved = json.loads(json.dumps(kinds.to_dict(config)))
        assert saved["kind"] == config.kind and kinds.from_dict(saved) == config, name
        assert config.kind in kinds.of(config).names


def test_a_sparse_coder_holds_its_base_model_by_value():
    transcoder = presets.get("transcoder-topk")
    assert (
        transcoder.base == presets.get("relu") and kinds.dataset(transcoder) == "mnist"
    )
    assert kinds.to_dict(transcoder)["base"] == presets.get("relu").to_dict()
    sae = presets.get("sae-outputs")
    assert kinds.of(sae).base(sae) == presets.get("book")
    assert kinds.of(presets.get("book")).base(presets.get("book")) is None


def test_unknown_kinds_and_foreign_configs_are_refused():
    with pytest.raises(KeyError, match="unknown kind 'gpt'"):
        kinds.named("gpt")
    with pytest.raises(KeyError, match="unknown kind None"):
        kinds.from_dict({"epochs": 3})
    with pytest.raises(
        TypeError, match="SparseTrainConfig is not the config of a registered kind"
    ):
        kinds.of(SMALL)

    @dataclass(frozen=True)
    class Impostor:  # claims a registered kind's name without being its config
        kind = "sae"

    with pytest.raises(TypeError, match="Impostor is not the config"):
        kinds.to_dict(Impostor())


def test_a_name_is_registered_once():
    with pytest.raises(
        ValueError, match=r"kind names \['sae'\] are already registered"
    ):
        kinds.register(
            type("Again", (type(kinds.named("transcoder")),), {"names": ("sae",)})()
        )
    kinds.register(kinds.named("sae"))  # the same kind again is harmless


def test_with_sets_nested_fields_by_name():
    sae = SaeConfig(BILINEAR, "outputs", SMALL)
    assert sae.with_(k=8).sparse.coder.k == 8 and sae.with_(k=8).base == BILINEAR
    assert sae.with_(source="pairs", n_pairs=5, seed=3).sparse.seed == 3
    with pytest.raises(TypeError, match="unexpected keyword argument 'nonsense'"):
        sae.with_(nonsense=1)


def test_bad_sparse_coder_configs_are_refused_when_made():
    with pytest.raises(
        ValueError, match=r"SAE source must be one of \('outputs', 'pairs'\)"
    ):
        SaeConfig(BILINEAR, "images", SMALL)
    with pytest.raises(
        ValueError, match="width-12 layer reconstructs it: need d_in = d_out = 12"
    ):
        SaeConfig(BILINEAR, "outputs", SMALL.with_(d_out=20))
    with pytest.raises(ValueError, match="needs n_pairs >= 1"):
        SaeConfig(BILINEAR, "pairs", SMALL)
    with pytest.raises(ValueError, match="an SAE of the layer needs a bilinear model"):
        SaeConfig(RELU, "outputs", SMALL)
    with pytest.raises(ValueError, match="a transcoder needs a ReLU MLP"):
        TranscoderConfig(BILINEAR, SMALL.with_(d_in=784))
    with pytest.raises(
        ValueError, match="needs d_in = 784 and d_out = 12, got 12 and 12"
    ):
        TranscoderConfig(RELU, SMALL)
    with pytest.raises(TypeError, match="sparse must be a SparseTrainConfig"):
        TranscoderConfig(RELU, {"k": 4})  # type: ignore[arg-type]
