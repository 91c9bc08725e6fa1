"""The scorecard's metrics on cases whose answers are known."""

from __future__ import annotations

import math

import pytest
import torch

from wbinterp import scorecard, sparse


def test_logit_fvu_is_the_fvu_of_what_the_head_reads():
    torch.manual_seed(0)
    head = torch.nn.Linear(6, 3)
    hidden = torch.randn(200, 6)
    # an error in the head's null space costs nothing in logit space
    null = torch.linalg.svd(head.weight).Vh[3:]
    off = hidden + torch.randn(200, 3) @ null
    assert sparse.fvu(hidden, off) > 0.1
    assert scorecard.logit_fvu(head, hidden, off) < 1e-10
    torch.testing.assert_close(
        scorecard.logit_fvu(head, hidden, hidden * 0.5),
        sparse.fvu(head(hidden).detach(), head(hidden * 0.5).detach()),
    )


def test_kl_divergence_and_agreement_on_hand_made_logits():
    same = torch.randn(5, 4)
    assert scorecard.kl_divergence(same, same) == pytest.approx(0.0, abs=1e-12)
    assert scorecard.agreement(same, same) == 1.0
    # two classes: p = (1/2, 1/2) against q = softmax(0, ln 3) = (1/4, 3/4)
    kl = scorecard.kl_divergence(
        torch.zeros(1, 2), torch.tensor([[0.0, math.log(3.0)]])
    )
    assert kl == pytest.approx(0.5 * math.log(2) + 0.5 * math.log(2 / 3))
    flipped = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert scorecard.agreement(flipped, flipped.flip(-1)) == 0.0
    with pytest.raises(ValueError, match="one shape"):
        scorecard.kl_divergence(torch.zeros(2, 3), torch.zeros(2, 4))


def test_k_sparse_probe_finds_the_telling_column_and_noise_stays_at_chance():
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(3, (600,), generator=g)
    noise = torch.randn(600, 20, generator=g)
    telling = noise.clone()
    telling[:, 7] += 4.0 * (labels == 1)  # column 7 says "is it a 1?"
    train, test = slice(0, 400), slice(400, 600)
    found = scorecard.k_sparse_probe(
        telling[train], labels[train], telling[test], labels[test], k=1
    )
    assert found[1] > 0.95
    chance = scorecard.k_sparse_probe(
        noise[train], labels[train], noise[test], labels[test], k=1
    )
    assert abs(chance.mean() - 0.5) < 0.1
    with pytest.raises(ValueError, match="k must be between 1 and 20"):
        scorecard.k_sparse_probe(noise, labels, noise, labels, k=21)


def test_matched_share_of_a_permuted_copy_is_one_and_of_random_directions_none():
    g = torch.Generator().manual_seed(0)
    directions = torch.randn(64, 30, generator=g)
    shuffled = (
        directions[:, torch.randperm(30, generator=g)] * 3.0
    )  # scale is no matter
    assert scorecard.matched_share(directions, shuffled) == 1.0
    assert scorecard.matched_share(directions, torch.randn(64, 30, generator=g)) == 0.0
    half = shuffled.clone()
    half[:, :15] = torch.randn(64, 15, generator=g)
    assert scorecard.matched_share(directions, half) == 0.5
    with pytest.raises(ValueError, match="one height"):
        scorecard.matched_share(directions, torch.randn(8, 30))
