"""Transcoders and SAEs: shapes, constraints, metrics on hand-made cases."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from wbinterp import sparse
from wbinterp.models import ModelConfig, ReLUMLP

SMALL = sparse.SparseTrainConfig().with_(
    d_in=20,
    d_out=12,
    n_features=48,
    activation="topk",
    k=4,
    epochs=2,
    batch_size=32,
    dead_steps=5,
)


def test_shapes_with_different_input_and_output_widths():
    tc = sparse.SparseCoder(SMALL.coder)
    out = tc(torch.randn(7, 20))
    assert out.output.shape == (7, 12) and out.activations.shape == (7, 48)
    names = {k: tuple(v.shape) for k, v in tc.state_dict().items()}
    assert names == {
        "w_enc": (48, 20),
        "b_enc": (48,),
        "w_dec": (12, 48),
        "b_dec": (12,),
        "b_pre": (20,),
    }


def test_topk_keeps_at_most_k_non_negative_features():
    tc = sparse.SparseCoder(SMALL.coder)
    with torch.no_grad():
        tc.b_enc.fill_(10.0)  # every pre-activation positive: exactly k survive
    acts = tc(torch.randn(50, 20)).activations
    assert ((acts > 0).sum(1) == 4).all() and (acts >= 0).all()


def test_decoder_stays_unit_norm_after_a_step():
    torch.manual_seed(0)
    x, y = torch.randn(64, 20), torch.randn(64, 12)
    run = sparse.train_sparse(SMALL.with_(epochs=1), x, y)
    torch.testing.assert_close(run.model.w_dec.norm(dim=0), torch.ones(48))


def test_decoder_gradient_projection_removes_the_parallel_part():
    tc = sparse.SparseCoder(SMALL.coder)
    tc.w_dec.grad = torch.randn_like(tc.w_dec)
    tc.project_decoder_grad()
    torch.testing.assert_close(
        (tc.w_dec.grad * tc.w_dec).sum(0), torch.zeros(48), atol=1e-5, rtol=0
    )


def test_fvu_of_perfect_and_mean_predictors():
    y = torch.randn(100, 5) + 3.0
    assert sparse.fvu(y, y) == 0.0
    assert sparse.fvu(y, y.mean(0).expand_as(y)) == pytest.approx(1.0)
    # centred: a constant offset in the target does not change the denominator
    assert sparse.fvu(y + 100, y.mean(0).expand_as(y) + 100) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same"):
        sparse.fvu(y, y[:, :3])
    with pytest.raises(ValueError, match="zero variance"):
        sparse.fvu(torch.ones(4, 2), torch.zeros(4, 2))


def test_fvu_is_pooled_not_averaged_per_example():
    y = torch.tensor([[0.0], [0.0], [10.0], [10.0]])
    pred = torch.tensor([[1.0], [1.0], [10.0], [10.0]])
    assert sparse.fvu(y, pred) == pytest.approx(2 / 100)


def test_dead_and_dense_counting_on_hand_made_activations():
    acts = torch.zeros(100, 5)
    acts[0, 0] = 1.0  # fires once: rare but alive
    acts[:50, 1] = 2.0  # dense (50 %)
    acts[:20, 2] = 0.5  # exactly 20 %: not dense
    acts[:12, 3] = 0.5  # 12 %, like a feature for every image of one digit: not dense
    stats = sparse.firing_stats(acts)
    assert sparse.DENSE_THRESHOLD == 0.2
    assert stats["dead"] == 1 and stats["dead_fraction"] == pytest.approx(0.2)
    assert stats["dense"] == 1
    assert stats["l0"] == pytest.approx((1 + 50 + 20 + 12) / 100)
    assert sparse.firing_stats(acts, dense_threshold=0.1)["dense"] == 3


def test_identity_like_transcoder_reproduces_the_mlp():
    torch.manual_seed(0)
    mlp = ReLUMLP(ModelConfig(kind="relu", d_hidden=16, d_input=784))
    config = sparse.SparseCoderConfig(
        d_in=784, d_out=16, n_features=16, activation="relu"
    )
    tc = sparse.SparseCoder(config)
    with torch.no_grad():
        tc.w_enc.copy_(mlp.w_in)
        tc.b_enc.zero_()
        tc.w_dec.copy_(torch.eye(16))
        tc.b_dec.zero_()
    x, labels = torch.rand(30, 784), torch.arange(30) % 10
    torch.testing.assert_close(tc(x).output, mlp.hidden(x))
    metrics = sparse.evaluate_transcoder(tc, mlp, x, labels)
    assert metrics["fvu"] == pytest.approx(0.0, abs=1e-10)
    assert metrics["spliced_accuracy"] == metrics["accuracy"]
    assert metrics["loss_recovered_zero"] == pytest.approx(1.0)
    assert metrics["loss_recovered_mean"] == pytest.approx(1.0)


def test_training_reduces_error_and_respects_l1():
    torch.manual_seed(0)
    x = torch.randn(512, 20)
    y = torch.relu(x @ torch.randn(20, 12))
    base = SMALL.with_(epochs=20, k=8, lr=1e-2)
    run = sparse.train_sparse(base, x, y)
    assert (
        run.history["fvu"][-1] < run.history["fvu"][0] and run.history["fvu"][-1] < 0.5
    )
    relu = sparse.train_sparse(base.with_(activation="relu", l1_coefficient=0.0), x, y)
    sparse_relu = sparse.train_sparse(
        base.with_(activation="relu", l1_coefficient=0.5), x, y
    )
    l0 = lambda r: sparse.firing_stats(r.model(x).activations)["l0"]
    assert l0(sparse_relu) < l0(relu)


def test_bad_configs_and_inputs():
    # refused when the config is made, before anything trains
    with pytest.raises(
        ValueError, match=r"activation must be one of \(.*'relu', 'topk'\), got 'gelu'"
    ):
        SMALL.with_(activation="gelu")
    with pytest.raises(ValueError, match="k must be between 1 and n_features=48"):
        SMALL.with_(k=0)
    with pytest.raises(ValueError, match="lr > 0"):
        SMALL.with_(lr=0.0)
    with pytest.raises(
        ValueError, match=r"inputs must be \(n, 20\) and targets \(n, 12\)"
    ):
        sparse.train_sparse(SMALL, torch.randn(10, 20), torch.randn(10, 11))


def test_sparse_training_is_deterministic_for_a_seed():
    """Two runs with one seed give the same weights (so two clean builds glue the same numbers)."""
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(300, 20, generator=gen)
    y = torch.relu(x @ torch.randn(20, 12, generator=gen))
    config = SMALL.with_(epochs=3, k=4, resample_every=5, dead_steps=2)
    first, second = sparse.train_sparse(config, x, y), sparse.train_sparse(config, x, y)
    for name, value in first.model.state_dict().items():
        assert torch.equal(value, second.model.state_dict()[name]), name
    other = sparse.train_sparse(config.with_(seed=1), x, y)
    assert not torch.equal(first.model.w_enc, other.model.w_enc)


def _sparse_pixels(n: int = 200, d: int = 20) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs like MNIST's: input 0 is inked on one example only, the rest are dense."""
    gen = torch.Generator().manual_seed(2)
    x = torch.rand(n, d, generator=gen)
    x[:, 0] = 0.0
    x[0, 0] = 1.0
    return x, torch.relu(x @ torch.randn(d, 12, generator=gen))


def test_folded_centring_encodes_the_same_function_at_the_start():
    x, y = _sparse_pixels()
    centred = sparse.train_sparse(SMALL.with_(epochs=0, centre_inputs=True), x, y).model
    folded = sparse.train_sparse(SMALL.with_(epochs=0, centre_inputs=False), x, y).model
    torch.testing.assert_close(centred.b_pre, x.mean(0))
    assert torch.equal(folded.b_pre, torch.zeros(20)) and torch.equal(
        folded.w_enc, centred.w_enc
    )
    torch.testing.assert_close(
        folded.encode(x)[1], centred.encode(x)[1], atol=1e-5, rtol=0
    )


def test_an_input_blank_in_a_batch_gets_a_gradient_only_when_centred():
    """The cause of weight on MNIST's blank border: centred, a nearly constant input
    carries the bias's gradient onto its weights."""
    x, y = _sparse_pixels()
    batch = slice(1, 65)  # input 0 is blank on all of these
    for centre, moves in [(True, True), (False, False)]:
        model = sparse.train_sparse(
            SMALL.with_(epochs=0, centre_inputs=centre), x, y
        ).model
        out = model(x[batch])
        (y[batch] - out.output).square().sum(1).mean().backward()
        assert (model.w_enc.grad[:, 0].abs().max() > 1e-6) == moves, centre


def test_initialisation_from_examples_or_at_random():
    x, y = _sparse_pixels()
    rows = x - x.mean(0)
    unit = rows / rows.norm(dim=1, keepdim=True)
    for init, from_examples in [("examples", True), ("random", False)]:
        model = sparse.train_sparse(SMALL.with_(epochs=0, init=init), x, y).model
        best = (
            (model.w_enc @ unit.T).max(1).values
        )  # each row's cosine with its nearest example
        assert bool((best > 1 - 1e-5).all()) == from_examples, init
    with pytest.raises(
        ValueError, match=r"init must be one of \('examples', 'random'\)"
    ):
        SMALL.with_(init="zeros")
    with pytest.raises(ValueError, match="centre_inputs must be True or False"):
        SMALL.with_(centre_inputs=1)


def test_best_rescaling_undoes_a_known_shrinkage():
    x, y = _sparse_pixels()
    coder = sparse.train_sparse(SMALL.with_(epochs=3), x, y).model
    gamma, fvu = sparse.best_rescaling(coder, x, y)
    with torch.no_grad():
        coder.w_dec.mul_(
            0.5
        )  # write half as much: the best factor doubles, the FVU stays
    halved, same = sparse.best_rescaling(coder, x, y)
    assert halved == pytest.approx(2 * gamma, rel=1e-5) and same == pytest.approx(
        fvu, rel=1e-4
    )
    with torch.no_grad():
        written = coder(x).output - coder.b_dec
    for off in (0.9, 1.1):  # least squares: no other factor does better
        assert same < sparse.fvu(y, coder.b_dec + off * halved * written)


def test_architecture_and_training_are_separate_configs():
    architecture = {f.name for f in dataclasses.fields(sparse.SparseCoderConfig)}
    training = {f.name for f in dataclasses.fields(sparse.SparseTrainConfig)}
    assert architecture.isdisjoint(training) and "coder" in training
    config = SMALL.with_(k=8, epochs=3)  # fields of either, by name
    assert config.coder == SMALL.coder.with_(k=8) and config.epochs == 3
    saved = json.loads(json.dumps(config.to_dict()))
    assert sparse.SparseTrainConfig.from_dict(saved) == config
    # a coder is built from its architecture alone
    assert sparse.SparseCoder(config.coder).w_enc.shape == (48, 20)
    with pytest.raises(TypeError, match="coder must be a SparseCoderConfig, got dict"):
        sparse.SparseTrainConfig(coder=saved["coder"])
