"""The pseudoinverse trick and the tensor's SVD through its Gram matrix."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from wbinterp import bilinear, bridge

# every test here checks identities in float64 (the fixture lives in conftest.py)
pytestmark = pytest.mark.usefixtures("float64")


def weights(d: int, n: int, c: int | None = None, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    w_l, w_r = torch.randn(d, n, generator=gen), torch.randn(d, n, generator=gen)
    w_u = None if c is None else torch.randn(c, d, generator=gen)
    return w_l, w_r, w_u


# --- pseudoinverse -------------------------------------------------------------


def test_dictionary_times_pinv_is_a_projection():
    gen = torch.Generator().manual_seed(1)
    d_narrow = torch.randn(8, 5, generator=gen)  # rank 5 < d = 8: a proper projection
    projection = d_narrow @ bridge.pinv(d_narrow)
    torch.testing.assert_close(projection @ projection, projection)
    torch.testing.assert_close(projection, projection.T)
    assert torch.linalg.matrix_rank(projection) == 5
    d_wide = torch.randn(8, 20, generator=gen)  # rank d: the identity
    torch.testing.assert_close(d_wide @ bridge.pinv(d_wide), torch.eye(8))


def test_pinv_activations_reconstruct_inputs_in_the_span_exactly():
    gen = torch.Generator().manual_seed(2)
    dictionary, bias = torch.randn(8, 5, generator=gen), torch.randn(8, generator=gen)
    codes = torch.randn(30, 5, generator=gen)
    y = codes @ dictionary.T + bias  # in bias + span(D)
    a = bridge.pinv_activations(y, dictionary, bias)
    torch.testing.assert_close(a @ dictionary.T + bias, y)
    torch.testing.assert_close(a, codes)  # D has full column rank: unique codes
    outside = torch.randn(30, 8, generator=gen)  # not in the span: least squares
    a_out = bridge.pinv_activations(outside, dictionary)
    residual = outside - a_out @ dictionary.T
    torch.testing.assert_close(
        residual @ dictionary, torch.zeros(30, 5), atol=1e-10, rtol=0
    )


def test_pinv_of_a_float32_wide_dictionary_keeps_its_precision():
    gen = torch.Generator().manual_seed(3)
    dictionary = torch.randn(64, 256, generator=gen).float()
    torch.testing.assert_close(
        dictionary @ bridge.pinv(dictionary),
        torch.eye(64, dtype=torch.float32),
        atol=1e-4,
        rtol=0,
    )


def test_feature_interactions_give_the_pinv_activations_of_the_layer_output():
    w_l, w_r, _ = weights(12, 6)
    gen = torch.Generator().manual_seed(4)
    dictionary = torch.randn(12, 30, generator=gen)
    d_pinv = bridge.pinv(dictionary)
    h = torch.randn(7, 6, generator=gen)
    outputs = (h @ w_l.T) * (h @ w_r.T)
    q = bridge.feature_interactions(w_l, w_r, d_pinv)
    torch.testing.assert_close(
        bilinear.quadratic_form(q, h), bridge.pinv_activations(outputs, dictionary)
    )


def test_loss_recovered_against_guessing():
    gen = torch.Generator().manual_seed(5)
    labels = torch.arange(40) % 4
    logits = 5.0 * torch.nn.functional.one_hot(labels, 4).double() + 0.1 * torch.randn(
        40, 4, generator=gen
    )
    assert bridge.loss_recovered_vs_guessing(logits, logits, labels) == pytest.approx(
        1.0
    )
    assert bridge.loss_recovered_vs_guessing(
        logits, torch.zeros_like(logits), labels
    ) == pytest.approx(0.0)
    half = bridge.loss_recovered_vs_guessing(logits, 0.5 * logits, labels)
    assert 0.0 < half < 1.0
    with pytest.raises(ValueError, match="no better than guessing"):
        bridge.loss_recovered_vs_guessing(
            torch.zeros(40, 4), logits, labels
        )  # ties: exactly guessing
    with pytest.raises(ValueError, match="no better than guessing"):
        bridge.loss_recovered_vs_guessing(
            -logits, logits, labels
        )  # worse than guessing
    with pytest.raises(ValueError, match=r"labels must have shape \(40,\)"):
        bridge.loss_recovered_vs_guessing(logits, logits, labels[:10])


# --- the tensor's SVD ------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    d=st.integers(1, 7),
    n=st.integers(1, 6),
    c=st.one_of(st.none(), st.integers(1, 5)),
    seed=st.integers(0, 10_000),
)
def test_gram_identity_matches_the_explicit_unfolding(d, n, c, seed):
    w_l, w_r, w_u = weights(d, n, c, seed)
    unfolding = bridge.explicit_unfolding(w_l, w_r, w_u)
    torch.testing.assert_close(
        bridge.tensor_gram(w_l, w_r, w_u), unfolding @ unfolding.T
    )
    expected = torch.linalg.svdvals(unfolding)
    got = bridge.tensor_svd(w_l, w_r, w_u).values[: expected.shape[0]]
    # zero singular values come back as sqrt(rounding error): compare at the scale of the largest
    torch.testing.assert_close(
        got, expected, atol=1e-6 * expected.max().item(), rtol=1e-8
    )


def test_gram_in_input_space_uses_the_embedding():
    w_l, w_r, w_u = weights(5, 4, 3)
    w_e = torch.randn(4, 9, generator=torch.Generator().manual_seed(6))
    unfolding = bridge.explicit_unfolding(w_l @ w_e, w_r @ w_e, w_u)
    torch.testing.assert_close(
        bridge.tensor_gram(w_l, w_r, w_u, w_e), unfolding @ unfolding.T
    )


def test_right_singular_vectors_are_unit_interaction_matrices_that_rebuild_the_tensor():
    w_l, w_r, w_u = weights(6, 5, 4)
    for head in (None, w_u):
        svd = bridge.tensor_svd(w_l, w_r, head)
        r = svd.values.shape[0]
        s = bridge.svd_interactions(svd, w_l, w_r, range(r), head)
        assert s.shape == (r, 5, 5)
        torch.testing.assert_close(s, s.transpose(1, 2))
        torch.testing.assert_close(s.flatten(1).norm(dim=1), torch.ones(r))
        # the right singular vectors are orthonormal, and Σ_k σ_k U_ak S_k rebuilds B_a
        torch.testing.assert_close(
            s.flatten(1) @ s.flatten(1).T, torch.eye(r), atol=1e-9, rtol=0
        )
        tensor = bridge.explicit_unfolding(w_l, w_r, head).reshape(-1, 5, 5)
        rebuilt = torch.einsum("ak,k,kij->aij", svd.left, svd.values, s)
        torch.testing.assert_close(rebuilt, tensor)


def test_svd_signs_are_canonical():
    svd = bridge.tensor_svd(*weights(6, 5))
    top = svd.left.gather(0, svd.left.abs().argmax(dim=0, keepdim=True))
    assert (top > 0).all()
    assert bool((svd.values[:-1] >= svd.values[1:]).all())


def test_bottleneck_at_full_rank_is_the_original_model_and_at_zero_is_nothing():
    w_l, w_r, w_u = weights(6, 5, 3)
    h = torch.randn(11, 5, generator=torch.Generator().manual_seed(7))
    outputs = (h @ w_l.T) * (h @ w_r.T)
    svd = bridge.tensor_svd(w_l, w_r)
    torch.testing.assert_close(
        bridge.bottleneck(outputs, svd, 6) @ w_u.T, outputs @ w_u.T
    )
    torch.testing.assert_close(
        bridge.bottleneck(outputs, svd, 0), torch.zeros_like(outputs)
    )
    # after the head: project the logits
    class_svd = bridge.tensor_svd(w_l, w_r, w_u)
    logits = outputs @ w_u.T
    torch.testing.assert_close(bridge.bottleneck(logits, class_svd, 3), logits)
    with pytest.raises(ValueError, match="k must be between 0 and 6"):
        bridge.bottleneck(outputs, svd, 7)
    with pytest.raises(ValueError, match=r"outputs must have shape \(\*, 6\)"):
        bridge.bottleneck(logits, svd, 2)


def test_svd_interactions_reject_components_out_of_range():
    w_l, w_r, _ = weights(4, 3)
    svd = bridge.tensor_svd(w_l, w_r)
    with pytest.raises(ValueError, match=r"components must lie in 0\.\.3"):
        bridge.svd_interactions(svd, w_l, w_r, [4])


def test_best_match():
    a = torch.tensor([[1.0, 0.0], [0.0, -2.0]])
    b = torch.tensor([[0.0, 1.0], [1.0, 1.0]])
    torch.testing.assert_close(
        bridge.best_match(a, b), torch.tensor([1 / math.sqrt(2), 1.0])
    )
    torch.testing.assert_close(
        bridge.best_match(a, b, signed=True),
        torch.tensor([1 / math.sqrt(2), -1 / math.sqrt(2)]),
    )
    with pytest.raises(ValueError, match=r"b must have shape \(\*, 2\)"):
        bridge.best_match(a, torch.ones(3, 3))


def test_shape_errors_name_the_expected_shape():
    with pytest.raises(ValueError, match=r"y must have shape \(\*, 8\)"):
        bridge.pinv_activations(torch.ones(3, 7), torch.ones(8, 4))
    with pytest.raises(ValueError, match=r"w_e must have shape \(4, \*\)"):
        bridge.tensor_gram(torch.ones(3, 4), torch.ones(3, 4), w_e=torch.ones(5, 9))
