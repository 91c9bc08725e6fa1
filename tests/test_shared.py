"""CP decomposition of the class tensor: exact on a tensor of known rank, read as a layer."""

from __future__ import annotations

import pytest
import torch

from wbinterp import shared

pytestmark = pytest.mark.usefixtures("float64")


def low_rank_tensor(c=4, n=6, rank=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    d, a, b = (
        torch.randn(c, rank, generator=g),
        torch.randn(rank, n, generator=g),
        torch.randn(rank, n, generator=g),
    )
    cp = shared.CPLayer(d, a, b)
    return shared.reconstruct(cp)


def test_cp_recovers_a_tensor_of_known_rank():
    q = low_rank_tensor(
        c=8, n=8
    )  # three symmetric components sym(l rᵀ): CP rank at most six
    cp = shared.cp_decompose(q, rank=6, n_iter=2000)
    error = (shared.reconstruct(cp) - q).norm() / q.norm()
    assert error < 1e-4
    assert (
        shared.reconstruct(shared.cp_decompose(q, rank=1)) - q
    ).norm() / q.norm() > 0.1
    torch.testing.assert_close(
        cp.left.norm(dim=1), torch.ones(6), rtol=1e-10, atol=1e-10
    )
    sizes = cp.head.norm(dim=0)
    assert (sizes[:-1] >= sizes[1:]).all()  # sorted by how much the classes use them


def test_the_decomposition_is_a_bilinear_layer():
    g = torch.Generator().manual_seed(1)
    cp = shared.CPLayer(
        torch.randn(3, 5, generator=g),
        torch.randn(5, 4, generator=g),
        torch.randn(5, 4, generator=g),
    )
    h = torch.randn(7, 4, generator=g)
    forms = shared.reconstruct(cp)
    torch.testing.assert_close(
        shared.cp_logits(cp, h), torch.einsum("bi,cij,bj->bc", h, forms, h)
    )


def test_classes_per_component_counts_large_loadings():
    head = torch.tensor([[1.0, 0.1, 0.0], [0.5, 0.0, -2.0], [0.2, 0.0, 1.0]])
    assert shared.classes_per_component(head).tolist() == [2, 1, 2]
    with pytest.raises(ValueError, match="share"):
        shared.classes_per_component(head, share=0.0)


def test_bad_arguments_are_refused():
    q = low_rank_tensor()
    with pytest.raises(ValueError, match="rank"):
        shared.cp_decompose(q, rank=0)
    with pytest.raises(ValueError, match="rank"):
        shared.cp_decompose(q, rank=2.5)
