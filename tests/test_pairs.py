"""Input pairs: the pair outputs expand the layer, sampling follows the weights, the
data set an SAE trains on is seeded and made of pair outputs."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from wbinterp import bilinear, pairs

from .test_bridge import weights

# every test here checks identities in float64 (the fixture lives in conftest.py)
pytestmark = pytest.mark.usefixtures("float64")


@settings(max_examples=20, deadline=None)
@given(
    d=st.integers(1, 6),
    n=st.integers(1, 6),
    m=st.integers(1, 7),
    seed=st.integers(0, 10_000),
)
def test_pair_outputs_expand_the_layer(d, n, m, seed):
    w_l, w_r, _ = weights(d, n, seed=seed)
    gen = torch.Generator().manual_seed(seed + 1)
    features, a = torch.randn(n, m, generator=gen), torch.randn(m, generator=gen)
    i, j = torch.meshgrid(torch.arange(m), torch.arange(m), indexing="ij")
    u = pairs.pair_outputs(w_l, w_r, features, i.flatten(), j.flatten())  # (m², d)
    h = features @ a
    expected = (w_l @ h) * (w_r @ h)
    torch.testing.assert_close(
        torch.einsum("p,pd->d", (a[:, None] * a[None]).flatten(), u), expected
    )
    # g_ij is the tensor applied to the pair
    tensor = bilinear.bilinear_tensor(w_l, w_r)
    torch.testing.assert_close(
        u[1 if m > 1 else 0],
        torch.einsum(
            "aij,i,j->a", tensor, features[:, 0], features[:, 1 if m > 1 else 0]
        ),
    )


def test_sample_pairs_follows_the_weights_and_rejects_bad_weights():
    gen = torch.Generator().manual_seed(8)
    i, j = pairs.sample_pairs(torch.tensor([0.0, 1.0, 3.0]), 4000, gen)
    assert i.shape == j.shape == (4000,)
    assert not ((i == 0) | (j == 0)).any()  # zero weight: never drawn
    assert (i == 2).float().mean().item() == pytest.approx(0.75, abs=0.03)
    with pytest.raises(ValueError, match="non-negative"):
        pairs.sample_pairs(torch.tensor([1.0, -1.0]), 5, gen)
    with pytest.raises(ValueError, match="positive sum"):
        pairs.sample_pairs(torch.zeros(3), 5, gen)


def test_pair_dataset_is_seeded_unit_and_made_of_pair_outputs():
    w_l, w_r, _ = weights(6, 5)
    inputs = torch.randn(5, 9, generator=torch.Generator().manual_seed(9))
    inputs[:, 3] = 0.0  # a pixel the layer ignores
    first = pairs.pair_dataset(w_l, w_r, inputs, 50, seed=3)
    assert first.shape == (50, 6)
    torch.testing.assert_close(first.norm(dim=1), torch.ones(50))
    torch.testing.assert_close(pairs.pair_dataset(w_l, w_r, inputs, 50, seed=3), first)
    assert not torch.equal(pairs.pair_dataset(w_l, w_r, inputs, 50, seed=4), first)
    # every row is the direction of some g_ij over the non-zero inputs
    i, j = torch.meshgrid(torch.arange(9), torch.arange(9), indexing="ij")
    keep = (i != 3) & (j != 3)
    every = pairs.pair_outputs(w_l, w_r, inputs, i[keep], j[keep])
    every = every / every.norm(dim=1, keepdim=True)
    assert (first @ every.T).abs().max(dim=1).values.min() > 1 - 1e-9


def test_pair_indices_must_be_one_dimensional_and_of_one_length():
    with pytest.raises(ValueError, match="1-D index tensors"):
        pairs.pair_outputs(
            torch.ones(3, 4),
            torch.ones(3, 4),
            torch.ones(4, 2),
            torch.tensor([0, 1]),
            torch.tensor([0]),
        )
