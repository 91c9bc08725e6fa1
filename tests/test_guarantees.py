"""The guarantees of the theory chapter, checked in float64 on random weights to 1e-10."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from wbinterp import bilinear as bl
from wbinterp import guarantees as gu
from wbinterp.models import BilinearMLP, ModelConfig

pytestmark = pytest.mark.usefixtures("float64")

TOL = {"rtol": 1e-10, "atol": 1e-10}


def random_symmetric(c=3, n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(c, n, n, generator=g)
    return (a + a.transpose(1, 2)) / 2


def small_model(d=6, p=9, seed=0):
    torch.manual_seed(seed)
    return BilinearMLP(ModelConfig(d_input=p, d_hidden=d, n_classes=4)).double()


def test_neuron_form_has_one_positive_and_one_negative_eigenvalue():
    g = torch.Generator().manual_seed(1)
    w_l, w_r = torch.randn(7, 5, generator=g), torch.randn(7, 5, generator=g)
    plus, minus = gu.neuron_eigenvalues(w_l, w_r)
    for a in range(7):
        form = (torch.outer(w_l[a], w_r[a]) + torch.outer(w_r[a], w_l[a])) / 2
        eig = torch.linalg.eigvalsh(form)  # ascending
        torch.testing.assert_close(eig[-1], plus[a], **TOL)
        torch.testing.assert_close(eig[0], minus[a], **TOL)
        torch.testing.assert_close(eig[1:-1], torch.zeros(3), **TOL)
    assert (plus > 0).all() and (
        minus < 0
    ).all()  # l and r not parallel for random draws


def test_parallel_factors_give_a_definite_neuron():
    left = torch.tensor([[1.0, 2.0, -1.0]])
    plus, minus = gu.neuron_eigenvalues(left, -3 * left)
    torch.testing.assert_close(plus, torch.zeros(1), **TOL)
    torch.testing.assert_close(minus, -3 * left.square().sum(-1), **TOL)


def test_interaction_matrix_is_the_head_weighted_sum_of_neuron_forms():
    model = small_model()
    q = model.interaction_matrices()
    forms = torch.stack(
        [
            (torch.outer(a, b) + torch.outer(b, a)) / 2
            for a, b in zip(model.w_l, model.w_r)
        ]
    )
    torch.testing.assert_close(
        q, torch.einsum("ca,aij->cij", model.w_u, forms).detach(), **TOL
    )
    # the trace of Q_c is the head-weighted sum of each pair's two eigenvalues
    plus, minus = gu.neuron_eigenvalues(model.w_l.detach(), model.w_r.detach())
    torch.testing.assert_close(
        q.diagonal(dim1=1, dim2=2).sum(-1), model.w_u.detach() @ (plus + minus), **TOL
    )


def test_reparametrisation_keeps_logits_and_pixel_forms_but_not_hidden_forms():
    model = small_model()
    a = torch.eye(6) + 0.5 * torch.randn(
        6, 6, generator=torch.Generator().manual_seed(2)
    )
    other = gu.reparametrise(model, a)
    x = torch.rand(11, 9)
    with torch.no_grad():
        torch.testing.assert_close(other(x), model(x), **TOL)
        q, q_new = model.interaction_matrices(), other.interaction_matrices()
        a_inv = torch.linalg.inv(a)
        torch.testing.assert_close(q_new, a_inv.T @ q @ a_inv, **TOL)
        torch.testing.assert_close(
            bl.to_input_basis(q_new, other.w_e), bl.to_input_basis(q, model.w_e), **TOL
        )
        assert not torch.allclose(
            torch.linalg.eigvalsh(q_new), torch.linalg.eigvalsh(q), atol=1e-3
        )  # a non-orthogonal A changes even the hidden eigenvalues
    assert other is not model and torch.equal(
        model.w_e, small_model().w_e
    )  # the original is untouched


def test_orthogonal_reparametrisation_rotates_hidden_eigenvectors_keeping_eigenvalues():
    model = small_model()
    a, _ = torch.linalg.qr(
        torch.randn(6, 6, generator=torch.Generator().manual_seed(3))
    )
    with torch.no_grad():
        values = torch.linalg.eigvalsh(
            gu.reparametrise(model, a).interaction_matrices()
        )
        torch.testing.assert_close(
            values, torch.linalg.eigvalsh(model.interaction_matrices()), **TOL
        )


def test_reparametrise_rejects_a_singular_or_misshapen_matrix():
    model = small_model()
    singular = torch.ones(6, 6)
    with pytest.raises(ValueError, match="invertible"):
        gu.reparametrise(model, singular)
    with pytest.raises(ValueError, match="shape"):
        gu.reparametrise(model, torch.eye(5))


def test_a_shared_form_changes_logits_but_not_probabilities():
    q = random_symmetric(c=4, n=5)
    shared = random_symmetric(c=1, n=5, seed=9)
    h = torch.randn(8, 5)
    before, after = bl.quadratic_form(q, h), bl.quadratic_form(q + shared, h)
    assert not torch.allclose(before, after)
    torch.testing.assert_close(before.softmax(-1), after.softmax(-1), **TOL)
    torch.testing.assert_close(gu.centred(q + shared), gu.centred(q), **TOL)
    torch.testing.assert_close(gu.centred(q).sum(0), torch.zeros(5, 5), **TOL)


def test_top_by_magnitude_is_the_best_rank_k_approximation():
    """Eckart–Young for symmetric matrices: no other choice of k eigenpairs, and no
    random rank-k symmetric matrix, comes closer in Frobenius norm."""
    q = random_symmetric(c=1, n=6, seed=4)[0]
    values, vectors = torch.linalg.eigh(q)
    k = 2
    best = values.abs().argsort(descending=True)[:k]
    approx = (vectors[:, best] * values[best]) @ vectors[:, best].T
    best_error = torch.linalg.matrix_norm(q - approx)
    rest = torch.tensor([i for i in range(6) if i not in best.tolist()])
    torch.testing.assert_close(best_error, values[rest].square().sum().sqrt(), **TOL)
    for subset in itertools.combinations(range(6), k):
        idx = torch.tensor(subset)
        other = (vectors[:, idx] * values[idx]) @ vectors[:, idx].T
        assert torch.linalg.matrix_norm(q - other) >= best_error - 1e-12
    g = torch.Generator().manual_seed(5)
    for _ in range(200):
        basis = torch.randn(6, k, generator=g)
        perturbed = (
            approx + 0.1 * basis @ torch.diag(torch.randn(k, generator=g)) @ basis.T
        )
        low_rank = torch.linalg.eigh(perturbed)
        keep = low_rank.eigenvalues.abs().argsort(descending=True)[:k]
        candidate = (
            low_rank.eigenvectors[:, keep] * low_rank.eigenvalues[keep]
        ) @ low_rank.eigenvectors[:, keep].T
        assert torch.linalg.matrix_norm(q - candidate) >= best_error - 1e-12


def test_truncation_error_never_exceeds_its_bounds():
    q = random_symmetric(c=4, n=8, seed=6)
    spec = bl.spectrum(q)
    h = torch.randn(50, 8, generator=torch.Generator().manual_seed(7))
    full = bl.quadratic_form(q, h)
    for k in range(9):
        error = (full - bl.truncated_logits(spec, h, k)).abs()
        loose, sharp = (
            gu.truncation_bounds(spec, h, k),
            gu.truncation_bounds(spec, h, k, sharp=True),
        )
        assert (error <= sharp + 1e-10).all() and (sharp <= loose + 1e-10).all()
    torch.testing.assert_close(
        gu.truncation_bounds(spec, h, 8), torch.zeros(50, 4), **TOL
    )


def test_certified_inputs_agree_and_all_agree_at_full_rank():
    q = random_symmetric(c=5, n=10, seed=8)
    spec = bl.spectrum(q)
    h = torch.randn(400, 10, generator=torch.Generator().manual_seed(9))
    full_prediction = bl.quadratic_form(q, h).argmax(-1)
    result = gu.certified_agreement(spec, h, list(range(11)), batch_size=64)
    sharp = gu.certified_agreement(spec, h, list(range(11)), sharp=True)
    for k in range(11):
        certified, agreeing = result[k]
        torch.testing.assert_close(
            torch.tensor(agreeing),
            bl.tie_aware_hits(bl.truncated_logits(spec, h, k), full_prediction).mean(),
            **TOL,
        )
        assert certified <= sharp[k][0] <= agreeing + 1e-12
    assert result[10] == (1.0, 1.0)
    assert result[0][0] == 0.0 and result[0][1] == pytest.approx(
        0.2
    )  # k = 0: ten-way tie, no proof
    with pytest.raises(ValueError, match="between 0 and 10"):
        gu.certified_agreement(spec, h, [11])


def test_box_bound_holds_for_every_image_in_the_box():
    model = small_model(d=5, p=12)
    with torch.no_grad():
        spec = bl.spectrum(model.interaction_matrices())
        x = torch.cat(
            [
                torch.rand(500, 12),
                torch.ones(1, 12),
                (torch.rand(200, 12) > 0.5).double(),
            ]
        )
        h = model.embed(x)
        for k in range(6):
            error = (
                bl.quadratic_form(model.interaction_matrices(), h)
                - bl.truncated_logits(spec, h, k)
            ).abs()
            assert (error <= gu.box_bound(spec, model.w_e, k) + 1e-10).all()


def test_noisy_logit_moments_match_exact_gaussian_quadrature():
    """Gauss–Hermite quadrature with 4 nodes per axis integrates the degree-4 polynomial
    ((x + ε)ᵀP(x + ε))² exactly, so mean and variance agree to float precision."""
    p = random_symmetric(c=2, n=3, seed=10)
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(11))
    sigma = 0.7
    nodes, weights = np.polynomial.hermite_e.hermegauss(4)  # weight exp(-z²/2)
    nodes, weights = torch.tensor(nodes), torch.tensor(weights / np.sqrt(2 * np.pi))
    grid = torch.cartesian_prod(nodes, nodes, nodes)  # (64, 3)
    w = weights[torch.cartesian_prod(*[torch.arange(4)] * 3)].prod(-1)  # (64,)
    noisy = x[:, None, :] + sigma * grid[None]  # (4, 64, 3)
    values = torch.einsum("bgi,cij,bgj->bcg", noisy, p, noisy)
    mean_q = (values * w).sum(-1)
    var_q = (values.square() * w).sum(-1) - mean_q.square()
    mean, var = gu.noisy_logit_moments(p, x, sigma)
    torch.testing.assert_close(mean, mean_q, **TOL)
    torch.testing.assert_close(var, var_q, **TOL)
    with pytest.raises(ValueError, match="non-negative"):
        gu.noisy_logit_moments(p, x, -0.1)


def test_balanced_factors_minimise_weight_decay():
    norms = torch.tensor([[0.5, 2.0, 3.0], [1.0, 1.0, 1.0]])
    least = gu.min_factor_penalty(norms)
    torch.testing.assert_close(least, 1.5 * norms.prod(-1) ** (2 / 3), **TOL)
    balanced = norms.prod(-1, keepdim=True) ** (1 / 3) * torch.ones(3)
    torch.testing.assert_close(least, balanced.square().sum(-1) / 2, **TOL)
    g = torch.Generator().manual_seed(12)
    for _ in range(500):
        s = torch.exp(torch.randn(2, 2, generator=g))
        scales = torch.cat([s, 1 / s.prod(-1, keepdim=True)], -1)  # product one
        assert ((norms * scales).square().sum(-1) / 2 >= least - 1e-12).all()


def test_two_factor_weight_decay_is_the_nuclear_norm():
    """min over A B = M of (‖A‖²_F + ‖B‖²_F)/2 is ‖M‖_*: reached by A = U S^½, B = S^½ Vᵀ."""
    g = torch.Generator().manual_seed(13)
    m = torch.randn(5, 4, generator=g)
    u, s, vh = torch.linalg.svd(m, full_matrices=False)
    a, b = u * s.sqrt(), s.sqrt()[:, None] * vh
    torch.testing.assert_close(a @ b, m, **TOL)
    nuclear = torch.linalg.matrix_norm(m, ord="nuc")
    torch.testing.assert_close(
        (a.square().sum() + b.square().sum()) / 2, nuclear, **TOL
    )
    for _ in range(200):
        t = torch.eye(4) + 0.3 * torch.randn(4, 4, generator=g)
        a2, b2 = a @ t, torch.linalg.solve(t, b)
        torch.testing.assert_close(a2 @ b2, m, **TOL)
        assert (a2.square().sum() + b2.square().sum()) / 2 >= nuclear - 1e-12


def test_neuron_factor_norms_and_rescaling_invariance():
    model = small_model()
    norms = gu.neuron_factor_norms(model)
    assert norms.shape == (6, 3)
    torch.testing.assert_close(norms[:, 1], model.w_l.detach().norm(dim=1), **TOL)
    x = torch.rand(5, 9)
    with torch.no_grad():
        before = model(x)
        s = torch.linspace(0.5, 2.0, 6)
        model.w_l.mul_(s[:, None])
        model.w_r.mul_(2 * s[:, None])
        model.w_u.div_(2 * s.square())
        torch.testing.assert_close(model(x), before, **TOL)


def test_rayleigh_quotient_peaks_at_the_top_eigenvector():
    q = random_symmetric(c=3, n=6, seed=14)
    values, vectors = torch.linalg.eigh(q)
    x = torch.randn(300, 6, generator=torch.Generator().manual_seed(15))
    assert (gu.rayleigh_quotient(q, x) <= values[:, -1] + 1e-12).all()
    for c in range(3):
        top = 3.0 * vectors[c, :, -1][None]
        torch.testing.assert_close(
            gu.rayleigh_quotient(q, top)[0, c], values[c, -1], **TOL
        )


def test_best_basis_has_the_least_weight_decay_and_meets_stationarity():
    model = small_model(d=5, p=8, seed=3)
    e, f = gu.basis_penalty(model)
    torch.testing.assert_close(e, model.w_e @ model.w_e.T, **TOL)
    assert gu.basis_excess(model) > 1
    a = gu.best_basis(model)
    moved = gu.reparametrise(model, a)
    x = torch.rand(4, 8)
    torch.testing.assert_close(moved(x), model(x), **TOL)  # the same function
    e2, f2 = gu.basis_penalty(moved)
    torch.testing.assert_close(e2, f2, **TOL)  # W_e W_eᵀ = W_lᵀW_l + W_rᵀW_r
    assert abs(gu.basis_excess(moved) - 1) < 1e-10
    penalty = lambda m: (
        m.w_e.square().sum() + m.w_l.square().sum() + m.w_r.square().sum()
    ).item()
    assert penalty(moved) == pytest.approx(
        penalty(model) / gu.basis_excess(model), rel=1e-10
    )
    g = torch.Generator().manual_seed(4)
    for _ in range(5):  # no other invertible A does better
        other = gu.reparametrise(
            moved, torch.eye(5) + 0.3 * torch.randn(5, 5, generator=g)
        )
        assert penalty(other) >= penalty(moved) - 1e-10
    q, _ = torch.linalg.qr(torch.randn(5, 5, generator=g))  # rotations keep the excess
    assert gu.basis_excess(gu.reparametrise(model, q)) == pytest.approx(
        gu.basis_excess(model), rel=1e-10
    )


def test_the_penalty_gradient_over_bases_is_the_stationarity_residual():
    model = small_model(d=4, p=7, seed=5)
    e, f = gu.basis_penalty(model)
    a = torch.eye(4, requires_grad=True)
    w_e, w_l, w_r = model.w_e.detach(), model.w_l.detach(), model.w_r.detach()
    a_inv = torch.linalg.inv(a)
    penalty = (
        (a @ w_e).square().sum()
        + (w_l @ a_inv).square().sum()
        + (w_r @ a_inv).square().sum()
    )
    (grad,) = torch.autograd.grad(penalty, a)
    torch.testing.assert_close(grad, 2 * (e - f), **TOL)
