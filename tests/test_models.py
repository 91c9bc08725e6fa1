"""The models compute exactly the equations they are named after."""

from __future__ import annotations

import pytest
import torch

from wbinterp.models import (
    BilinearMLP,
    DeepBilinearMLP,
    ModelConfig,
    ReLUMLP,
    load_weights,
    new_model,
)


def test_bilinear_shapes_and_names():
    model = BilinearMLP(ModelConfig(d_hidden=32))
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes == {
        "w_e": (32, 784),
        "w_l": (32, 32),
        "w_r": (32, 32),
        "w_u": (10, 32),
    }
    assert model(torch.rand(5, 784)).shape == (5, 10)


@pytest.mark.parametrize("bias", [False, True])
def test_bilinear_layer_is_elementwise_product_of_two_linear_maps(bias):
    torch.manual_seed(0)
    model = BilinearMLP(ModelConfig(d_hidden=16, bias=bias)).double()
    if bias:
        with torch.no_grad():
            model.b_l.normal_()
            model.b_r.normal_()
    x = torch.rand(7, 784, dtype=torch.float64)
    h = torch.einsum("di,bi->bd", model.w_e, x)
    left = torch.einsum("ad,bd->ba", model.w_l, h) + (model.b_l if bias else 0)
    right = torch.einsum("ad,bd->ba", model.w_r, h) + (model.b_r if bias else 0)
    expected = torch.einsum("ca,ba->bc", model.w_u, left * right)
    torch.testing.assert_close(model(x), expected, rtol=1e-12, atol=1e-12)


def test_bilinear_is_quadratic_in_its_input():
    torch.manual_seed(1)
    model = BilinearMLP(ModelConfig(d_hidden=8)).double()
    x = torch.rand(3, 784, dtype=torch.float64)
    torch.testing.assert_close(model(2.5 * x), 2.5**2 * model(x))
    torch.testing.assert_close(model(-x), model(x))


@pytest.mark.parametrize("bias", [False, True])
def test_relu_mlp(bias):
    torch.manual_seed(2)
    model = ReLUMLP(ModelConfig(kind="relu", d_hidden=12, bias=bias))
    names = {"w_in": (12, 784), "w_out": (10, 12)}
    if bias:
        names |= {"b_in": (12,), "b_out": (10,)}
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == names
    x = torch.rand(4, 784)
    hidden = torch.relu(x @ model.w_in.T + (model.b_in if bias else 0))
    assert (model.hidden(x) >= 0).all()
    torch.testing.assert_close(
        model(x), hidden @ model.w_out.T + (model.b_out if bias else 0)
    )


def test_wrong_kind_and_shapes_are_refused():
    with pytest.raises(ValueError, match="unknown model kind 'gelu'"):
        ModelConfig(kind="gelu")  # refused when the config is made
    with pytest.raises(ValueError, match="d_hidden must be a positive integer"):
        ModelConfig(d_hidden=0)
    with pytest.raises(ValueError, match="kind='bilinear'"):
        BilinearMLP(ModelConfig(kind="relu"))
    state = BilinearMLP(ModelConfig(d_hidden=8)).state_dict()
    with pytest.raises(ValueError, match="weights do not match"):
        load_weights(new_model(ModelConfig(d_hidden=16)), state)


def test_a_bilinear_model_gives_its_own_interaction_matrices(float64):
    from wbinterp import bilinear

    model = BilinearMLP(ModelConfig(d_hidden=6))
    q = model.interaction_matrices()
    torch.testing.assert_close(
        q,
        bilinear.interaction_matrices(model.w_l, model.w_r, model.w_u),
        rtol=0,
        atol=0,
    )
    x = torch.rand(5, 784)
    torch.testing.assert_close(
        bilinear.quadratic_form(q, model.embed(x)), model(x), rtol=1e-10, atol=1e-12
    )


@pytest.mark.parametrize("residual", [False, True])
def test_deep_model_stacks_bilinear_layers(residual):
    torch.manual_seed(3)
    model = new_model(
        ModelConfig(kind="deep", d_hidden=6, n_layers=3, residual=residual)
    ).double()
    assert isinstance(model, DeepBilinearMLP)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes == {
        "w_e": (6, 784),
        "w_l": (3, 6, 6),
        "w_r": (3, 6, 6),
        "w_u": (10, 6),
    }
    x = torch.rand(4, 784, dtype=torch.float64)
    h = x @ model.w_e.T
    for k in range(3):
        g = torch.einsum("ad,bd->ba", model.w_l[k], h) * torch.einsum(
            "ad,bd->ba", model.w_r[k], h
        )
        h = h + g if residual else g
    torch.testing.assert_close(model(x), h @ model.w_u.T, rtol=1e-12, atol=1e-12)
    if not residual:  # three layers without a skip: a form of degree 2³ in the input
        torch.testing.assert_close(model(2 * x), 2**8 * model(x))


def test_depth_and_residual_only_for_the_deep_kind():
    with pytest.raises(ValueError, match="use kind='deep'"):
        ModelConfig(n_layers=2)
    with pytest.raises(ValueError, match="use kind='deep'"):
        ModelConfig(kind="relu", residual=True)
    with pytest.raises(ValueError, match="no biases"):
        ModelConfig(kind="deep", bias=True)
    with pytest.raises(ValueError, match="n_layers must be a positive integer"):
        ModelConfig(kind="deep", n_layers=0)
