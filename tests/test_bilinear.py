"""Identities of the bilinear maths, to float precision."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from wbinterp import bilinear as bl
from wbinterp.models import BilinearMLP, ModelConfig

# every test here checks identities in float64 (the fixture lives in conftest.py)
pytestmark = pytest.mark.usefixtures("float64")


def random_weights(d=6, n=5, c=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(d, n, generator=g),
        torch.randn(d, n, generator=g),
        torch.randn(c, d, generator=g),
    )


def test_tensor_form_equals_layer_output():
    w_l, w_r, _ = random_weights()
    h = torch.randn(4, 5)
    b = bl.bilinear_tensor(w_l, w_r)
    torch.testing.assert_close(
        torch.einsum("aij,bi,bj->ba", b, h, h), (h @ w_l.T) * (h @ w_r.T)
    )
    torch.testing.assert_close(b, b.transpose(1, 2))


def test_bias_folding_with_appended_one():
    w_l, w_r, _ = random_weights()
    b_l, b_r = torch.randn(6), torch.randn(6)
    h = torch.randn(4, 5)
    tensor = bl.bilinear_tensor(bl.fold_bias(w_l, b_l), bl.fold_bias(w_r, b_r))
    h1 = bl.append_one(h)
    expected = (h @ w_l.T + b_l) * (h @ w_r.T + b_r)
    torch.testing.assert_close(torch.einsum("aij,bi,bj->ba", tensor, h1, h1), expected)


def test_model_with_bias_matches_folded_tensor():
    model = BilinearMLP(ModelConfig(d_hidden=7, bias=True)).double()
    with torch.no_grad():
        model.b_l.normal_(), model.b_r.normal_()
    x = torch.rand(3, 784)
    q = bl.interaction_matrices(
        bl.fold_bias(model.w_l, model.b_l),
        bl.fold_bias(model.w_r, model.b_r),
        model.w_u,
    )
    torch.testing.assert_close(
        bl.quadratic_form(q, bl.append_one(model.embed(x))), model(x)
    )


def test_interaction_matrices_equal_naive_contraction():
    w_l, w_r, w_u = random_weights()
    naive = torch.einsum("ca,aij->cij", w_u, bl.bilinear_tensor(w_l, w_r))
    torch.testing.assert_close(bl.interaction_matrices(w_l, w_r, w_u), naive)


def test_logits_from_interaction_matrices_equal_model():
    torch.manual_seed(0)
    model = BilinearMLP(ModelConfig(d_hidden=24)).double()
    x = torch.rand(50, 784)
    q = bl.interaction_matrices(model.w_l, model.w_r, model.w_u)
    torch.testing.assert_close(
        bl.quadratic_form(q, model.embed(x)), model(x), rtol=1e-10, atol=1e-12
    )
    pixel_q = bl.to_input_basis(q, model.w_e)
    torch.testing.assert_close(
        bl.quadratic_form(pixel_q, x), model(x), rtol=1e-10, atol=1e-12
    )


def test_spectrum_reconstructs_and_is_sorted():
    q = bl.interaction_matrices(*random_weights(d=9, n=8, c=4))
    spec = bl.spectrum(q)
    torch.testing.assert_close(bl.reconstruct(spec), q)
    assert (spec.values[:, :-1] >= spec.values[:, 1:]).all()
    gram = spec.vectors @ spec.vectors.transpose(1, 2)
    torch.testing.assert_close(gram, torch.eye(8).expand(4, 8, 8))


def test_truncation_extremes():
    w_l, w_r, w_u = random_weights(d=9, n=8, c=4)
    q = bl.interaction_matrices(w_l, w_r, w_u)
    spec, h = bl.spectrum(q), torch.randn(10, 8)
    torch.testing.assert_close(bl.truncated_logits(spec, h, 8), bl.quadratic_form(q, h))
    assert torch.equal(bl.truncated_logits(spec, h, 0), torch.zeros(10, 4))
    labels = torch.arange(10) % 4
    acc = bl.truncation_accuracy(spec, h, labels, [0, 8], batch_size=3)
    full = (bl.quadratic_form(q, h).argmax(-1) == labels).double().mean().item()
    assert acc[0] == pytest.approx(0.25) and acc[8] == pytest.approx(full)


def test_truncation_keeps_largest_magnitudes():
    values = torch.tensor([[3.0, 1.0, -0.5, -4.0]])
    assert bl.top_by_magnitude(values, 2).tolist() == [[True, False, False, True]]
    with pytest.raises(ValueError, match="k must be between 0 and 4"):
        bl.top_by_magnitude(values, 5)


def test_sign_canonicalisation_is_stable():
    q = bl.interaction_matrices(*random_weights(d=9, n=8, c=4))
    spec = bl.spectrum(q)
    flipped = bl.canonical_signs(-spec.vectors)
    torch.testing.assert_close(flipped, spec.vectors)
    biggest = spec.vectors.abs().argmax(-1, keepdim=True)
    assert (spec.vectors.gather(-1, biggest) > 0).all()


def test_effective_rank():
    assert bl.effective_rank(torch.tensor([5.0, 0.0, 0.0])).item() == pytest.approx(1.0)
    assert bl.effective_rank(
        torch.tensor([1.0, -1.0, 1.0, -1.0])
    ).item() == pytest.approx(4.0)
    assert bl.effective_rank(torch.zeros(3)).item() == 0.0


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: bl.interaction_matrices(
                torch.randn(4, 3), torch.randn(4, 2), torch.randn(2, 4)
            ),
            r"w_r must have shape \(4, 3\), got \(4, 2\)",
        ),
        (
            lambda: bl.interaction_matrices(
                torch.randn(4, 3), torch.randn(4, 3), torch.randn(2, 5)
            ),
            r"w_u must have shape \(\*, 4\), got \(2, 5\)",
        ),
        (
            lambda: bl.quadratic_form(torch.randn(2, 3, 3), torch.randn(5, 4)),
            r"h must have shape \(\*, 3\)",
        ),
        (
            lambda: bl.interaction_matrices(
                torch.ones(4, 3, dtype=torch.int64),
                torch.randn(4, 3),
                torch.randn(2, 4),
            ),
            "floating-point",
        ),
        (
            lambda: bl.to_input_basis(torch.randn(2, 3, 3), torch.randn(4, 10)),
            r"w_e must have shape \(3, \*\)",
        ),
        (lambda: bl.spectrum(torch.randn(3, 4)), r"q must have shape"),
    ],
)
def test_wrong_shapes_name_the_expected_shape(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@settings(max_examples=30, deadline=None)
@given(
    d=st.integers(1, 8),
    n=st.integers(1, 8),
    c=st.integers(1, 5),
    seed=st.integers(0, 10_000),
)
def test_identities_over_random_shapes(d, n, c, seed):
    w_l, w_r, w_u = random_weights(d, n, c, seed)
    h = torch.randn(3, n, generator=torch.Generator().manual_seed(seed))
    q = bl.interaction_matrices(w_l, w_r, w_u)
    direct = ((h @ w_l.T) * (h @ w_r.T)) @ w_u.T
    torch.testing.assert_close(bl.quadratic_form(q, h), direct)
    torch.testing.assert_close(
        q, torch.einsum("ca,aij->cij", w_u, bl.bilinear_tensor(w_l, w_r))
    )
    spec = bl.spectrum(q)
    torch.testing.assert_close(bl.reconstruct(spec), q)
    torch.testing.assert_close(bl.truncated_logits(spec, h, n), direct)


def test_signs_can_follow_the_input_space_image():
    w_l, w_r, w_u = random_weights(d=9, n=8, c=4)
    w_e = torch.randn(8, 20)
    spec = bl.spectrum(bl.interaction_matrices(w_l, w_r, w_u), w_e=w_e)
    images = spec.vectors @ w_e
    biggest = images.abs().argmax(-1, keepdim=True)
    assert (images.gather(-1, biggest) > 0).all()
    torch.testing.assert_close(
        bl.reconstruct(spec), bl.interaction_matrices(w_l, w_r, w_u)
    )


def test_eigen_contributions_sum_to_the_model_logits():
    torch.manual_seed(1)
    model = BilinearMLP(ModelConfig(d_hidden=24)).double()
    x = torch.rand(40, 784)
    h = model.embed(x)
    spec = bl.spectrum(
        bl.interaction_matrices(model.w_l, model.w_r, model.w_u), w_e=model.w_e
    )
    contributions = bl.eigen_contributions(spec, h)
    assert contributions.shape == (40, 10, 24)
    torch.testing.assert_close(contributions.sum(-1), model(x), rtol=1e-10, atol=1e-12)
    # Signs follow the eigenvalues, and the top-k terms by |λ| are the truncated logits.
    assert ((contributions >= 0) == (spec.values >= 0)).all()
    mask = bl.top_by_magnitude(spec.values, 5)
    torch.testing.assert_close(
        (contributions * mask).sum(-1), bl.truncated_logits(spec, h, 5)
    )
    with pytest.raises(ValueError, match=r"h must have shape \(\*, 24\)"):
        bl.eigen_contributions(spec, x)


def test_margin_terms_add_up_to_the_logit_difference_in_one_basis():
    gen = torch.Generator().manual_seed(5)
    q = torch.randn(4, 6, 6, generator=gen)
    q = (q + q.transpose(1, 2)) / 2
    h = torch.randn(6, generator=gen)
    logits = bl.quadratic_form(q, h[None])[0]
    why = bl.explain_margin(q, h, predicted=2, true=0, top=2)
    assert why.margin == pytest.approx((logits[2] - logits[0]).item(), rel=1e-10)
    torch.testing.assert_close(
        why.terms.sum(), logits[2] - logits[0], rtol=1e-10, atol=1e-12
    )
    # one orthonormal basis that diagonalises Q_p - Q_t
    torch.testing.assert_close(
        why.vectors @ why.vectors.T, torch.eye(6), rtol=0, atol=1e-10
    )
    torch.testing.assert_close(
        why.vectors.T @ torch.diag(why.values) @ why.vectors, q[2] - q[0]
    )
    # adding one matrix to every class changes no term
    shared = torch.randn(6, 6, generator=gen)
    moved = bl.explain_margin(q + (shared + shared.T), h, predicted=2, true=0, top=2)
    torch.testing.assert_close(moved.terms.sort().values, why.terms.sort().values)
    assert all(t > 0 for _, t in why.for_predicted) and all(
        t < 0 for _, t in why.for_true
    )
    assert why.for_predicted[0][1] == pytest.approx(why.terms.max().item())
    with pytest.raises(ValueError, match="two different classes between 0 and 3"):
        bl.explain_margin(q, h, predicted=1, true=1)
    with pytest.raises(ValueError, match=r"h must have shape \(6\)"):
        bl.explain_margin(q, torch.randn(5), predicted=1, true=0)


@pytest.mark.parametrize("bias", [False, True])
def test_input_forms_reproduce_the_logits(bias):
    torch.manual_seed(0)
    model = BilinearMLP(
        ModelConfig(d_input=7, d_hidden=5, n_classes=3, bias=bias)
    ).double()
    if bias:
        with torch.no_grad():
            model.b_l.normal_(), model.b_r.normal_()
    x = torch.rand(9, 7, dtype=torch.float64)
    forms = bl.model_input_forms(model)
    inputs = bl.append_one(x) if bias else x
    assert forms.shape == (3, 8, 8) if bias else (3, 7, 7)
    with torch.no_grad():
        torch.testing.assert_close(
            bl.quadratic_form(forms, inputs), model(x), rtol=1e-10, atol=1e-10
        )


def test_input_forms_need_both_biases_or_neither():
    w = torch.randn(3, 3)
    with pytest.raises(ValueError, match="both biases"):
        bl.input_forms(torch.randn(3, 4), w, w, torch.randn(2, 3), b_l=torch.zeros(3))


def test_per_image_truncation_keeps_each_inputs_own_largest_terms():
    g = torch.Generator().manual_seed(7)
    a = torch.randn(3, 5, 5, generator=g, dtype=torch.float64)
    q = (a + a.transpose(1, 2)) / 2
    spec = bl.spectrum(q)
    h = torch.randn(40, 5, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 3, (40,), generator=g)
    got = bl.per_image_truncation_accuracy(spec, h, labels, [0, 1, 4, 15], batch_size=7)
    terms = bl.eigen_contributions(spec, h)  # (40, 3, 5)
    for n in (1, 4):
        expected = []
        for b in range(40):
            flat = terms[b].flatten()
            keep = flat.abs().argsort(descending=True)[:n]
            logits = torch.zeros(3, dtype=torch.float64).index_add_(
                0, keep // 5, flat[keep]
            )
            expected.append(bl.tie_aware_hits(logits[None], labels[b : b + 1]))
        assert got[n] == pytest.approx(torch.cat(expected).mean().item())
    full = bl.tie_aware_hits(bl.quadratic_form(q, h), labels).mean().item()
    assert got[15] == pytest.approx(full)  # every term: the model itself
    assert got[0] == pytest.approx(1 / 3)  # no term: every class ties
    with pytest.raises(ValueError, match="every n"):
        bl.per_image_truncation_accuracy(spec, h, labels, [16])
