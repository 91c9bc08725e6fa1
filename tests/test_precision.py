"""Training precision: which one a machine uses, what autocast changes, what it leaves float32."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import synthetic_dataset
from wbinterp import precision, sparse
from wbinterp.models import ModelConfig
from wbinterp.train import TrainConfig, evaluate, train


def test_cpu_flags_decide_bfloat16(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512f avx512bw\n")
    assert not precision.cpu_has_bf16(cpuinfo)
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512f avx512_bf16\n")
    assert precision.cpu_has_bf16(cpuinfo)
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu amx_bf16 amx_tile\n")
    assert precision.cpu_has_bf16(cpuinfo)
    # a flag's name inside another word does not count
    cpuinfo.write_text("flags\t\t: fpu not_avx512_bf16x\n")
    assert not precision.cpu_has_bf16(cpuinfo)
    assert not precision.cpu_has_bf16(tmp_path / "absent")


def test_the_environment_forces_a_precision_and_a_bad_value_says_how_to_fix_it(
    monkeypatch,
):
    monkeypatch.setenv(precision.PRECISION_ENV, "float32")
    assert precision.forced() == precision.preferred("cpu") == "float32"
    monkeypatch.setenv(precision.PRECISION_ENV, "bfloat16")
    assert precision.preferred("cpu") == "bfloat16"
    monkeypatch.setenv(precision.PRECISION_ENV, "float16")
    with pytest.raises(
        ValueError,
        match=r"WBINTERP_PRECISION is 'float16'; set it to float32 or bfloat16",
    ):
        precision.preferred("cpu")
    monkeypatch.setenv(precision.PRECISION_ENV, "")
    assert precision.forced() is None
    assert precision.preferred("cpu") in ("float32", "bfloat16")


def test_unknown_precisions_are_refused():
    with pytest.raises(ValueError, match="unknown precision 'half'"):
        precision.check("half")
    with pytest.raises(ValueError, match="unknown precision"):
        train(
            TrainConfig(epochs=0), synthetic_dataset(), device="cpu", precision="half"
        )
    assert (
        precision.other("float32") == "bfloat16"
        and precision.other("bfloat16") == "float32"
    )


def test_autocast_runs_matmuls_in_bfloat16_only_inside():
    a, b = torch.randn(8, 16), torch.randn(16, 4)
    with precision.autocast("bfloat16", "cpu"):
        assert (a @ b).dtype == torch.bfloat16
    with precision.autocast("float32", "cpu"):
        assert (a @ b).dtype == torch.float32
    assert (a @ b).dtype == torch.float32


@pytest.mark.parametrize("kind", ["bilinear", "relu", "deep"])
def test_bfloat16_training_keeps_float32_weights_and_learns(kind):
    toy = synthetic_dataset()
    layers = {"n_layers": 2} if kind == "deep" else {}
    config = TrainConfig(
        model=ModelConfig(kind=kind, d_hidden=32, **layers),
        epochs=5,
        batch_size=32,
        lr=1e-2,
        weight_decay=0.0,
        input_noise=0.1,
    )
    half = train(config, toy, device="cpu", precision="bfloat16")
    full = train(config, toy, device="cpu", precision="float32")
    assert half.precision == "bfloat16" and full.precision == "float32"
    assert all(p.dtype == torch.float32 for p in half.model.parameters())
    # the precision was really used: the weights differ, yet both learn the toy problem
    assert not all(
        torch.equal(p, q)
        for p, q in zip(half.model.parameters(), full.model.parameters())
    )
    accuracy = [evaluate(r.model, toy.test)["accuracy"] for r in (half, full)]
    assert min(accuracy) > 0.9 and abs(accuracy[0] - accuracy[1]) <= 0.05
    again = train(config, toy, device="cpu", precision="bfloat16")
    assert all(
        torch.equal(p, q)
        for p, q in zip(half.model.parameters(), again.model.parameters(), strict=True)
    )


def test_bfloat16_sparse_training_keeps_float32_weights():
    gen = torch.Generator().manual_seed(0)
    inputs = torch.randn(512, 24, generator=gen)
    targets = inputs @ torch.randn(24, 12, generator=gen)
    config = sparse.SparseTrainConfig().with_(
        d_in=24, d_out=12, n_features=48, k=12, epochs=20, batch_size=64
    )
    half = sparse.train_sparse(config, inputs, targets, precision="bfloat16")
    full = sparse.train_sparse(config, inputs, targets, precision="float32")
    start = sparse.train_sparse(
        config.with_(epochs=0), inputs, targets, precision="float32"
    )
    assert half.precision == "bfloat16" and full.precision == "float32"
    assert all(p.dtype == torch.float32 for p in half.model.parameters())
    assert not torch.equal(half.model.w_enc, full.model.w_enc)
    with torch.no_grad():
        fvus = [
            sparse.fvu(targets, r.model(inputs).output) for r in (half, full, start)
        ]
    assert abs(fvus[0] - fvus[1]) < 0.01 and max(fvus[:2]) < fvus[2] - 0.1
