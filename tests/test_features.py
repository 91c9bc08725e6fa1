"""Feature analyses on hand-made activations, where the answers are known."""

from __future__ import annotations

import pytest
import torch

from wbinterp import features as ft
from wbinterp import models, sparse
from wbinterp.bilinear import tie_aware_hits


def test_logit_effects_are_head_times_decoder():
    w_dec, w_head = torch.randn(6, 4), torch.randn(3, 6)
    effects = ft.logit_effects(w_dec, w_head)
    assert effects.shape == (3, 4)
    torch.testing.assert_close(effects[:, 2], w_head @ w_dec[:, 2])
    with pytest.raises(ValueError, match=r"w_head must have shape \(\*, 6\)"):
        ft.logit_effects(w_dec, torch.randn(3, 5))


def test_selectivity_frequency_and_class_means():
    labels = torch.tensor([0, 0, 1, 1])
    acts = torch.tensor(
        [[1.0, 1.0, 0.0], [3.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]
    )
    torch.testing.assert_close(
        ft.class_means(acts, labels, 2),
        torch.tensor([[2.0, 1.0, 0.0], [0.0, 1.0, 0.0]]),
    )
    torch.testing.assert_close(
        ft.class_selectivity(acts, labels, 2), torch.tensor([1.0, 0.5, 0.0])
    )
    torch.testing.assert_close(ft.frequency(acts), torch.tensor([0.5, 1.0, 0.0]))


def test_coactivation_is_a_conditional_probability():
    acts = torch.tensor([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    co = ft.coactivation(acts, [0, 1])
    torch.testing.assert_close(co, torch.tensor([[1.0, 2 / 3], [2 / 3, 1.0]]))


def test_keep_top_n():
    acts = torch.tensor([[0.0, 3.0, 1.0, 2.0]])
    assert ft.keep_top_n(acts, 2).tolist() == [[0.0, 3.0, 0.0, 2.0]]
    assert torch.equal(ft.keep_top_n(acts, 10), acts)
    assert ft.keep_top_n(acts, 0).sum() == 0
    with pytest.raises(ValueError, match="non-negative"):
        ft.keep_top_n(acts, -1)


def test_error_explanation_finds_the_planted_features():
    effects = torch.tensor(
        [
            [1.0, 0.0, 0.0, 2.0],  # class 0
            [0.0, 1.0, 3.0, 0.0],
        ]
    )  # class 1
    typical = torch.tensor([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]])
    acts = torch.tensor(
        [0.0, 0.0, 2.0, 0.0]
    )  # only feature 2 (a class-1 feature) fired
    why = ft.explain_error(acts, effects, typical, predicted=1, true=0)
    assert why.misleading == [(2, 6.0)]
    assert [i for i, _ in why.missing] == [3, 0]


def test_top_n_accuracy_at_full_n_is_spliced_accuracy():
    from wbinterp.models import ModelConfig, ReLUMLP

    torch.manual_seed(0)
    mlp = ReLUMLP(ModelConfig(kind="relu", d_hidden=12))
    tc = sparse.SparseCoder(
        sparse.SparseCoderConfig(d_out=12, n_features=40, activation="topk", k=6)
    )
    x, y = torch.rand(50, 784), torch.arange(50) % 10
    full = sparse.evaluate_transcoder(tc, mlp, x, y)["spliced_accuracy"]
    acc = ft.top_n_accuracy(tc, mlp, x, y, [0, 6, 40])
    assert acc[6] == pytest.approx(full) and acc[40] == pytest.approx(full)


def test_importance_centres_effects_so_a_shared_push_scores_zero():
    acts = torch.tensor([[2.0, 1.0], [0.0, 1.0], [1.0, 1.0]])
    labels = torch.tensor([0, 1, 1])
    effects = torch.tensor(
        [[3.0, 5.0], [1.0, 5.0]]
    )  # feature 1 raises both logits alike
    raw = ft.importance(acts, labels, effects, centre=False)
    torch.testing.assert_close(raw, torch.tensor([[6.0, 5.0], [0.5, 5.0]]))
    centred = ft.importance(acts, labels, effects)
    torch.testing.assert_close(centred, torch.tensor([[2.0, 0.0], [-0.5, 0.0]]))
    # centred scores decompose each class's mean of (z_c - mean logit), raw ones its mean z_c
    logits = acts @ effects.T
    for c in range(2):
        rows = labels == c
        assert raw[c].sum() == pytest.approx(logits[rows, c].mean().item())
        assert centred[c].sum() == pytest.approx(
            (logits[rows, c] - logits[rows].mean(1)).mean().item()
        )


def test_top_n_accuracy_zero_rest_and_mean_rest():
    torch.manual_seed(0)
    mlp = models.new_model(
        models.ModelConfig(kind="relu", d_input=5, d_hidden=4, n_classes=3)
    )
    coder = sparse.SparseCoder(
        sparse.SparseCoderConfig(d_in=5, d_out=4, n_features=6, activation="relu")
    )
    images = torch.randn(40, 5)
    acts = coder(images).activations
    mean = acts.mean(0)
    # every label is what the mean activation decodes to; the decoder bias (zero, and
    # no head bias) ties all three classes
    labels = mlp.head(coder.decode(mean)).argmax().expand(40)
    everything = tie_aware_hits(mlp.head(coder.decode(acts)), labels).mean().item()
    zero = ft.top_n_accuracy(coder, mlp, images, labels, [0, 6])
    centred = ft.top_n_accuracy(coder, mlp, images, labels, [0, 6], rest=mean)
    assert (
        zero[6] == centred[6] == everything
    )  # all six kept: the spliced model either way
    assert zero[0] == pytest.approx(1 / 3) and centred[0] == 1.0
