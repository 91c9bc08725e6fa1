"""The skip transcoder kind: its skip path is least squares, and it is stored like any kind."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from wbinterp import kinds, sparse, store
from wbinterp.kinds.skip_transcoder import (
    SkipTranscoder,
    SkipTranscoderConfig,
    least_squares,
)
from wbinterp.models import ModelConfig, ReLUMLP
from wbinterp.train import TrainConfig

RELU = TrainConfig(
    model=ModelConfig(kind="relu", d_hidden=8), epochs=1, batch_size=64, input_noise=0.0
)
SPARSE = sparse.SparseTrainConfig().with_(
    d_in=784, d_out=8, n_features=16, k=2, epochs=1, batch_size=32, resample_every=0
)


def test_least_squares_solves_the_normal_equations_with_the_smallest_map():
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(200, 6, generator=gen)
    x[:, 2] = 0.5  # an input that never varies
    y = x @ torch.randn(6, 3, generator=gen) + 0.01 * torch.randn(200, 3, generator=gen)
    w = least_squares(x, y)
    xc, yc = (x - x.mean(0)).double().numpy(), (y - y.mean(0)).double().numpy()
    expected = np.linalg.lstsq(xc, yc, rcond=None)[0].T
    np.testing.assert_allclose(w.numpy(), expected, atol=1e-5)
    assert w[:, 2].abs().max() < 1e-6  # the smallest solution puts nothing on it
    residual = yc - xc @ w.double().numpy().T
    np.testing.assert_allclose(
        xc.T @ residual, 0, atol=1e-4
    )  # orthogonal to the inputs


def test_with_the_sparse_path_silent_it_is_the_least_squares_fit(tmp_path, toy_data):
    config = SkipTranscoderConfig(RELU, SPARSE.with_(epochs=0))
    stored = store.load_or_train(config, root=tmp_path, dataset=toy_data)
    assert (
        isinstance(stored.model, SkipTranscoder)
        and stored.config.kind == "skip-transcoder"
    )
    mlp = store.load_or_train(RELU, root=tmp_path, dataset=toy_data).model
    assert isinstance(mlp, ReLUMLP)
    x, y = toy_data.train.images, mlp.hidden(toy_data.train.images).detach()
    with torch.no_grad():
        stored.model.coder.w_dec.zero_()
        fit = stored.model(x).output
    design = torch.cat([x, torch.ones(len(x), 1)], 1).double().numpy()
    coef = np.linalg.lstsq(design, y.double().numpy(), rcond=None)[0]
    np.testing.assert_allclose(fit.numpy(), design @ coef, atol=1e-4)


def test_it_is_a_registered_kind_with_a_transcoders_checks():
    config = SkipTranscoderConfig(RELU, SPARSE)
    assert kinds.of(config).base(config) == RELU and "+ skip" in kinds.of(
        config
    ).describe(config)
    assert kinds.from_dict(kinds.to_dict(config)) == config
    with pytest.raises(ValueError, match="needs d_in = 784 and d_out = 8"):
        SkipTranscoderConfig(RELU, SPARSE.with_(d_out=9))
