"""Masks from eigenvectors: shapes, scaling, the pseudoinverse property, the control."""

from __future__ import annotations

import pytest
import torch

from wbinterp import adversarial as adv
from wbinterp import bilinear as bl
from wbinterp.models import BilinearMLP, ModelConfig


def small_model(seed=0):
    torch.manual_seed(seed)
    return BilinearMLP(ModelConfig(d_hidden=16)).double().eval()


def test_masks_are_sums_of_pseudoinverse_encoders():
    model = small_model()
    spec = bl.spectrum(
        bl.interaction_matrices(model.w_l, model.w_r, model.w_u).detach(),
        w_e=model.w_e.detach(),
    )
    masks = adv.eigenvector_masks(spec, model.w_e.detach(), k=3)
    assert masks.shape == (10, 784)
    torch.testing.assert_close(masks.std(-1), torch.ones(10, dtype=torch.float64))
    decoders = (spec.vectors[:, :3] @ model.w_e.detach()).transpose(1, 2)  # (c, p, k)
    # the unscaled mask E^T 1 reads 1 from every decoder: D^T m ∝ 1
    readout = torch.einsum("cpk,cp->ck", decoders, masks)
    torch.testing.assert_close(
        readout / readout[:, :1], torch.ones(10, 3, dtype=torch.float64)
    )


def test_scaling_and_permutation_keep_the_norm():
    masks = torch.randn(4, 784, dtype=torch.float64)
    scaled = adv.scale_to_std(masks, 0.3)
    torch.testing.assert_close(
        scaled.std(-1), torch.full((4,), 0.3, dtype=torch.float64)
    )
    shuffled = adv.permute_pixels(scaled, seed=1)
    torch.testing.assert_close(shuffled.sort(-1).values, scaled.sort(-1).values)
    assert not torch.equal(shuffled, scaled)
    torch.testing.assert_close(
        adv.permute_pixels(scaled, seed=1), shuffled
    )  # reproducible
    with pytest.raises(ValueError, match="non-negative"):
        adv.scale_to_std(masks, -1.0)


def test_attack_with_zero_mask_is_plain_accuracy():
    model = small_model()
    x, y = torch.rand(40, 784, dtype=torch.float64), torch.arange(40) % 10
    result = adv.attack(model, x, y, torch.zeros(10, 784, dtype=torch.float64))
    with torch.no_grad():
        preds = model(x).argmax(-1)
    expected = (
        sum(
            ((preds == y) & (y != t)).sum().item() / (y != t).sum().item()
            for t in range(10)
        )
        / 10
    )
    assert result["accuracy"] == pytest.approx(expected)


def test_wrong_inputs():
    model = small_model()
    spec = bl.spectrum(
        bl.interaction_matrices(model.w_l, model.w_r, model.w_u).detach()
    )
    with pytest.raises(ValueError, match="k must be between 1 and 16"):
        adv.eigenvector_masks(spec, model.w_e.detach(), k=0)
    with pytest.raises(ValueError, match=r"w_e must have shape \(16, \*\)"):
        adv.eigenvector_masks(spec, torch.randn(8, 784, dtype=torch.float64), k=2)
    with pytest.raises(ValueError, match="fewer than 16 positive eigenvalues"):
        adv.eigenvector_masks(spec, model.w_e.detach(), k=16)


def _spectrum(model):
    return bl.spectrum(model.interaction_matrices().detach(), w_e=model.w_e.detach())


def test_paper_masks_read_out_one_eigenvector_each():
    model = small_model()
    spec = _spectrum(model)
    masks = adv.paper_masks(spec, model.w_e.detach(), k=4, top=3)
    assert masks.shape == (10, 3, 784)
    torch.testing.assert_close(masks.std(-1), torch.ones(10, 3, dtype=torch.float64))
    pictures = spec.vectors[:, :4] @ model.w_e.detach()  # (c, k, p): W_eᵀ v_j
    readout = torch.einsum("ckp,cip->cik", pictures, masks)  # (W_eᵀ v_j)·m_i
    diagonal = torch.diagonal(
        readout[:, :, :3], dim1=1, dim2=2
    )  # mask i on its own eigenvector
    assert (diagonal > 0).all()
    expected = torch.cat(
        [torch.diag_embed(diagonal), torch.zeros(10, 3, 1, dtype=torch.float64)], -1
    )
    torch.testing.assert_close(readout, expected, atol=1e-10, rtol=0)  # and on no other
    # the summed variant is the sum of all k rows
    rows = adv.pseudoinverse_rows(spec, model.w_e.detach(), k=4)
    torch.testing.assert_close(
        adv.eigenvector_masks(spec, model.w_e.detach(), k=4),
        adv.scale_to_std(rows.sum(1), 1.0),
    )
    with pytest.raises(ValueError, match="top must be between 1 and k=4"):
        adv.paper_masks(spec, model.w_e.detach(), k=4, top=5)


def test_orient_points_each_eigenvector_toward_the_reference():
    model = small_model()
    spec = _spectrum(model)
    reference = torch.randn(10, 16, dtype=torch.float64)
    oriented = adv.orient(spec, reference)
    overlaps = torch.einsum("cin,cn->ci", oriented.vectors, reference)
    assert (overlaps >= 0).all()
    torch.testing.assert_close(
        oriented.vectors.abs(), spec.vectors.abs()
    )  # only signs change
    torch.testing.assert_close(oriented.values, spec.values)
    flipped = adv.orient(spec, -reference)
    torch.testing.assert_close(flipped.vectors, -oriented.vectors)


def test_fast_attack_equals_the_model_on_masked_images():
    torch.manual_seed(3)
    model = BilinearMLP(ModelConfig(d_hidden=16, bias=True)).double().eval()
    with torch.no_grad():
        model.b_l.normal_(), model.b_r.normal_()
    x = torch.rand(50, 784, dtype=torch.float64)
    mask = torch.randn(784, dtype=torch.float64)
    scales = [0.0, 0.3, 1.0]
    with torch.no_grad():
        for s, logits in zip(scales, adv._masked_logits(model, x)(mask, scales)):
            torch.testing.assert_close(
                logits, model(x + s * mask), rtol=1e-10, atol=1e-10
            )


def test_sweep_equals_attacks_at_each_strength():
    model = small_model()
    x, y = torch.rand(60, 784, dtype=torch.float64), torch.arange(60) % 10
    masks = torch.randn(10, 784, dtype=torch.float64)
    stds = [0.0, 0.1, 0.3]
    sweep = adv.strength_sweep(model, x, y, masks, stds, seed=4)
    shuffled = adv.permute_pixels(masks, seed=4)
    for i, std in enumerate(stds):
        real = adv.attack(model, x, y, adv.scale_to_std(masks, std))
        control = adv.attack(model, x, y, adv.scale_to_std(shuffled, std))
        assert sweep["accuracy"][i] == pytest.approx(real["accuracy"])
        assert sweep["target_rate"][i] == pytest.approx(real["target_rate"])
        assert sweep["control_accuracy"][i] == pytest.approx(control["accuracy"])
    with pytest.raises(ValueError, match="non-negative"):
        adv.strength_sweep(model, x, y, masks, [-0.1])


def test_edge_controls_stay_on_the_edge():
    images = torch.zeros(200, 784, dtype=torch.float64)
    images[:, 300:400] = 1.0  # the centre is always inked
    images[0, 5] = 1.0  # pixel 5: inked on 0.5 % of images, still rare
    rare = adv.rare_pixels(images, below=0.01)
    assert rare[5] and rare[0] and not rare[300:400].any()
    masks = torch.randn(3, 784, dtype=torch.float64) * rare
    shuffled = adv.permute_pixels(masks, seed=2, support=rare)
    assert (shuffled[:, ~rare] == 0).all()
    torch.testing.assert_close(shuffled.sort(-1).values, masks.sort(-1).values)


def test_sweep_of_several_masks_per_target_is_their_mean():
    model = small_model()
    x, y = torch.rand(40, 784, dtype=torch.float64), torch.arange(40) % 10
    masks = torch.randn(10, 2, 784, dtype=torch.float64)
    both = adv.strength_sweep(model, x, y, masks, [0.0, 0.5])
    one = [
        adv.strength_sweep(model, x, y, masks[:, j], [0.0, 0.5], seed=j)
        for j in range(2)
    ]
    for key in ["accuracy", "target_rate", "control_accuracy", "control_target_rate"]:
        assert both[key] == pytest.approx(
            [(a + b) / 2 for a, b in zip(one[0][key], one[1][key])]
        )


def test_restrict_keeps_the_support_at_unit_std():
    masks = torch.randn(2, 3, 784, dtype=torch.float64)
    support = torch.zeros(784, dtype=torch.bool)
    support[:50] = True
    kept = adv.restrict(masks, support)
    assert (kept[..., 50:] == 0).all() and kept.shape == masks.shape
    torch.testing.assert_close(kept.std(-1), torch.ones(2, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="support is empty"):
        adv.restrict(masks, torch.zeros(784, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"boolean tensor of shape \(784,\)"):
        adv.restrict(masks, torch.ones(10, dtype=torch.bool))
