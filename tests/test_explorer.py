"""The explorer's data: term-by-term logits that end at the models' own."""

from __future__ import annotations

import pytest
import torch

from wbinterp import explorer
from wbinterp.models import ModelConfig, new_model
from wbinterp.sparse import SparseCoder, SparseConfig


def test_eigenvector_curves_start_at_zero_and_end_at_the_logits(float64):
    torch.manual_seed(5)
    model = new_model(ModelConfig(d_hidden=6)).double()
    x = torch.rand(4, 784, dtype=torch.float64)
    curves = explorer.eigenvector_curves(model, x, k_max=6)
    assert curves.shape == (4, 7, 10)
    assert curves[:, 0].abs().max() == 0
    torch.testing.assert_close(curves[:, -1], model(x).detach(), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="k_max must be between 0 and 6"):
        explorer.eigenvector_curves(model, x, k_max=7)


def test_feature_curves_end_at_the_spliced_logits():
    torch.manual_seed(6)
    mlp = new_model(ModelConfig(kind="relu", d_hidden=8))
    coder = SparseCoder(SparseConfig(d_in=784, d_out=8, n_features=12, activation="topk", k=3))
    x = torch.rand(5, 784)
    curves = explorer.feature_curves(coder, mlp, x, n_max=3)
    assert curves.shape == (5, 4, 10)
    with torch.no_grad():
        torch.testing.assert_close(curves[:, -1], mlp.head(coder(x).output))
        torch.testing.assert_close(curves[:, 0], mlp.head(coder.b_dec.expand(5, 8)))
    with pytest.raises(ValueError, match="n_max must be non-negative"):
        explorer.feature_curves(coder, mlp, x, n_max=-1)


def test_explorer_data_is_json_ready_and_checks_shapes():
    images = torch.rand(2, 784)
    curves, full = torch.randn(2, 3, 10), torch.randn(2, 10)
    out = explorer.explorer_data(
        images, torch.tensor([3, 7]), [11, 42], {"v": (curves, full)}, list("0123456789")
    )
    assert [i["index"] for i in out["images"]] == [11, 42] and out["images"][1]["label"] == 7
    pixels = torch.tensor(out["images"][0]["pixels"])
    assert pixels.min() >= 0 and pixels.max() <= 255 and len(pixels) == 784
    assert out["views"][0]["name"] == "v"
    assert torch.allclose(torch.tensor(out["views"][0]["curves"]), curves, atol=5e-4)
    with pytest.raises(ValueError, match="curves of v"):
        explorer.explorer_data(
            images, torch.tensor([3, 7]), [11, 42], {"v": (curves[:1], full)}, list("0123456789")
        )
