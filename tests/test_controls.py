"""The controls: each baseline against a case where its value is known exactly."""

from __future__ import annotations

import math

import pytest
import torch

from wbinterp import controls
from wbinterp.models import ModelConfig


def test_share_on_pixels_counts_rows_and_columns_once():
    p = torch.zeros(2, 4, 4)
    p[0, 0, 1] = p[0, 1, 0] = 1.0  # touches pixel 0
    p[0, 2, 3] = p[0, 3, 2] = 1.0  # does not
    p[1] = torch.ones(4, 4)
    mask = torch.tensor([True, False, False, False])
    share = controls.share_on_pixels(p, mask)
    torch.testing.assert_close(share[0], torch.tensor(0.5))
    # a matrix of equal entries puts exactly the isotropic share there: 7 of 16 entries
    assert (
        share[1].item()
        == pytest.approx(controls.isotropic_share(mask))
        == pytest.approx(7 / 16)
    )


def test_isotropic_share_is_what_random_matrices_put_on_the_pixels():
    g = torch.Generator().manual_seed(0)
    p = torch.randn(200, 30, 30, generator=g)
    mask = torch.arange(30) < 7
    measured = controls.share_on_pixels(p, mask).mean().item()
    assert measured == pytest.approx(controls.isotropic_share(mask), abs=0.01)
    with pytest.raises(ValueError, match="bool tensor"):
        controls.share_on_pixels(p, torch.ones(30))
    with pytest.raises(ValueError, match="non-empty"):
        controls.isotropic_share(torch.zeros(0, dtype=torch.bool))


def test_row_share_on_pixels_by_hand_and_for_random_rows():
    w = torch.tensor([[3.0, 4.0, 0.0], [1.0, 1.0, 1.0]])
    mask = torch.tensor([True, False, False])
    torch.testing.assert_close(
        controls.row_share_on_pixels(w, mask), torch.tensor([9 / 25, 1 / 3])
    )
    rows = torch.randn(500, 40, generator=torch.Generator().manual_seed(1))
    mask = torch.arange(40) < 10
    measured = controls.row_share_on_pixels(rows, mask).mean().item()
    assert controls.isotropic_share(mask, order=1) == pytest.approx(0.25)
    assert measured == pytest.approx(0.25, abs=0.01)
    with pytest.raises(ValueError, match=r"shape \(40,\)"):
        controls.row_share_on_pixels(rows, torch.ones(39, dtype=torch.bool))
    with pytest.raises(ValueError, match="order must be 1"):
        controls.isotropic_share(mask, order=3)


def test_chance_accuracy_is_the_majority_share():
    assert controls.chance_accuracy(torch.tensor([1, 1, 2, 3])) == 0.5
    with pytest.raises(ValueError):
        controls.chance_accuracy(torch.tensor([]))


def test_random_init_is_seeded_and_leaves_the_global_generator_alone():
    config = ModelConfig(d_input=9, d_hidden=4, n_classes=3)
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b = controls.random_init(config, 5), controls.random_init(config, 5)
    assert torch.rand(1).item() == before.item()  # global stream untouched
    assert torch.equal(a.w_e, b.w_e) and not torch.equal(
        a.w_e, controls.random_init(config, 6).w_e
    )


def test_mean_sd_is_the_sample_spread():
    mean, sd = controls.mean_sd([1.0, 2.0, 3.0])
    assert mean == 2.0 and sd == pytest.approx(1.0)
    with pytest.raises(ValueError, match="two seeds"):
        controls.mean_sd([1.0])


def test_nearest_neighbour_accuracy_never_uses_the_image_itself():
    z = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    assert controls.nearest_neighbour_accuracy(z, torch.tensor([0, 0, 1, 1])) == 1.0
    assert controls.nearest_neighbour_accuracy(z, torch.tensor([0, 1, 0, 1])) == 0.0
    assert math.isclose(
        controls.nearest_neighbour_accuracy(z, torch.tensor([0, 0, 0, 1])), 0.5
    )


def test_keep_top_n_units_keeps_the_largest_moves_and_ablates_the_rest_to_the_mean():
    hidden = torch.tensor([[3.0, 0.0, 1.0], [0.0, 6.0, 0.0]])
    mean = torch.tensor([1.0, 1.0, 1.0])
    weight = torch.tensor([[1.0, 1.0, 4.0]])  # the third unit's moves count four times
    kept = controls.keep_top_n_units(hidden, mean, weight, 1)
    torch.testing.assert_close(kept, torch.tensor([[3.0, 1.0, 1.0], [1.0, 6.0, 1.0]]))
    torch.testing.assert_close(
        controls.keep_top_n_units(hidden, mean, weight, 3), hidden
    )
    torch.testing.assert_close(
        controls.keep_top_n_units(hidden, mean, weight, 0), mean.expand(2, 3)
    )
    with pytest.raises(ValueError, match="n must be"):
        controls.keep_top_n_units(hidden, mean, weight, 4)


def test_pca_directions_are_the_best_subspace_and_random_ones_lie_in_the_span():
    g = torch.Generator().manual_seed(3)
    basis = torch.linalg.qr(torch.randn(6, 6, generator=g, dtype=torch.float64))[0]
    scales = torch.tensor([5.0, 3.0, 1.0, 0.0, 0.0, 0.0], dtype=torch.float64)
    x = (torch.randn(400, 6, generator=g, dtype=torch.float64) * scales) @ basis.T + 2.0
    pca = controls.pca_directions(x, 2)
    torch.testing.assert_close(pca.T @ pca, torch.eye(2, dtype=torch.float64))
    # the top two directions span the data's two largest axes
    top = basis[:, :2]
    torch.testing.assert_close(
        torch.linalg.svdvals(top.T @ pca),
        torch.ones(2, dtype=torch.float64),
        atol=0.05,
        rtol=0,
    )
    centred = x - x.mean(0)
    for m in (1, 2, 3):
        resid = lambda v: (centred - centred @ v @ torch.linalg.pinv(v)).square().sum()  # noqa: E731
        pca_m, random_m = (
            controls.pca_directions(x, m),
            controls.random_span_directions(x, m, seed=0),
        )
        assert (
            resid(pca_m) <= resid(random_m) + 1e-9
        )  # no m-subspace does better than PCA
    random = controls.random_span_directions(x, 4, seed=1)
    outside = basis[:, 3:]  # the directions with no variance
    assert (outside.T @ random).abs().max() < 1e-10
    torch.testing.assert_close(random.norm(dim=0), torch.ones(4, dtype=torch.float64))
    with pytest.raises(ValueError, match="m must be"):
        controls.pca_directions(x, 0)


def test_chance_cosine_is_the_mean_absolute_cosine_of_random_directions():
    assert controls.chance_cosine(2) == pytest.approx(
        2 / math.pi
    )  # uniform angle on a circle
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(20000, 50, generator=g), torch.randn(20000, 50, generator=g)
    measured = torch.nn.functional.cosine_similarity(a, b, dim=1).abs().mean().item()
    assert measured == pytest.approx(controls.chance_cosine(50), rel=0.02)
    assert controls.chance_cosine(784) == pytest.approx(
        math.sqrt(2 / (math.pi * 784)), rel=0.01
    )
    with pytest.raises(ValueError):
        controls.chance_cosine(1)


def test_nearest_rows_finds_each_rows_own_example_across_chunks():
    g = torch.Generator().manual_seed(0)
    pool = torch.randn(50, 8, generator=g)
    pick = torch.tensor([3, 49, 0, 17, 17])
    queries = 2.5 * pool[pick] + 1e-4 * torch.randn(
        5, 8, generator=g
    )  # scale does not matter
    for chunk in (1, 7, 64):
        assert torch.equal(controls.nearest_rows(queries, pool, chunk=chunk), pick)
    with pytest.raises(ValueError, match="pool"):
        controls.nearest_rows(queries, torch.randn(4, 9))
    with pytest.raises(ValueError, match="chunk"):
        controls.nearest_rows(queries, pool, chunk=0)


def test_same_class_cosine_is_the_median_over_the_other_starts_of_the_class():
    e = torch.eye(4, dtype=torch.float64)
    starts = torch.stack([e[0], e[1], e[2], e[3]])
    rows = torch.stack([e[0] + e[1], e[1], 3 * e[2], e[3]])  # row 0 leans to start 1
    classes = torch.tensor([5, 5, 5, 7])
    got = controls.same_class_cosine(rows, starts, classes)
    # row 0 against starts 1 and 2: cos 1/√2 and 0, lower middle 0; row 1 against 0 and 2: 0
    assert got[0].item() == pytest.approx(0.0) and got[1].item() == pytest.approx(0.0)
    assert got[2].item() == pytest.approx(0.0)
    assert math.isnan(got[3].item())  # no other start of class 7
    two = controls.same_class_cosine(rows[:2], starts[:2], classes[:2])
    assert two[0].item() == pytest.approx(1 / math.sqrt(2))  # its one classmate
    with pytest.raises(ValueError, match="classes"):
        controls.same_class_cosine(rows, starts, classes[:3])


def test_other_class_cosine_is_the_median_over_the_starts_of_other_classes():
    e = torch.eye(4, dtype=torch.float64)
    rows = torch.stack([e[0] + e[3], e[1], e[2], e[3]])  # row 0 leans to start 3
    classes = torch.tensor([5, 5, 7, 7])
    got = controls.other_class_cosine(rows, e, classes)
    # row 0 against starts 2 and 3 (class 7): cos 0 and 1/√2, lower middle 0
    assert got[0].item() == pytest.approx(0.0)
    one = controls.other_class_cosine(rows[[0, 3]], e[[0, 3]], classes[[0, 3]])
    assert one[0].item() == pytest.approx(1 / math.sqrt(2))
    alone = controls.other_class_cosine(rows[:2], e[:2], classes[:2])
    assert math.isnan(alone[0].item()) and math.isnan(alone[1].item())
    with pytest.raises(ValueError, match="classes"):
        controls.other_class_cosine(rows, e, classes[:3])


def test_rescaled_write_scales_what_the_features_write_and_nothing_else():
    from wbinterp import sparse

    torch.manual_seed(0)
    coder = sparse.SparseCoder(
        sparse.SparseCoderConfig(d_in=5, d_out=4, n_features=6, activation="relu")
    )
    with torch.no_grad():
        coder.b_dec.copy_(torch.randn(4))
    x = torch.randn(7, 5)
    out, scaled = coder(x), controls.rescaled_write(coder, 1.5)(x)
    torch.testing.assert_close(scaled.activations, out.activations)
    torch.testing.assert_close(
        scaled.output, coder.b_dec + 1.5 * (out.output - coder.b_dec)
    )
    torch.testing.assert_close(coder(x).output, out.output)  # the original is untouched
    # with best_rescaling's factor, the copy's FVU is the one best_rescaling reports
    target = torch.randn(7, 4)
    gamma, fvu = sparse.best_rescaling(coder, x, target)
    assert sparse.fvu(
        target, controls.rescaled_write(coder, gamma)(x).output
    ) == pytest.approx(fvu, rel=1e-5)
    with pytest.raises(ValueError, match="gamma must be positive"):
        controls.rescaled_write(coder, 0.0)


def test_neuron_top_n_accuracy_spans_the_rest_to_the_full_mlp():
    from wbinterp import models
    from wbinterp.bilinear import tie_aware_hits

    torch.manual_seed(0)
    mlp = models.new_model(ModelConfig(kind="relu", d_input=5, d_hidden=4, n_classes=3))
    images = torch.randn(30, 5)
    with torch.no_grad():
        full = mlp(images)
        labels = full.argmax(1)
        rest = torch.randn(4)
        only_rest = mlp.head(rest.expand(30, 4))
    acc = controls.neuron_top_n_accuracy(mlp, images, labels, [0, 4], rest=rest)
    assert (
        acc[4] == tie_aware_hits(full, labels).mean().item()
    )  # all kept: the MLP itself
    assert acc[4] > 0.9 and acc[0] < acc[4]
    assert acc[0] == tie_aware_hits(only_rest, labels).mean().item()
