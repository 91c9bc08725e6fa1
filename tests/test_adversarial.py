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
        bl.interaction_matrices(model.w_l, model.w_r, model.w_u).detach(), w_e=model.w_e.detach()
    )
    masks = adv.eigenvector_masks(spec, model.w_e.detach(), k=3)
    assert masks.shape == (10, 784)
    torch.testing.assert_close(masks.std(-1), torch.ones(10, dtype=torch.float64))
    decoders = (spec.vectors[:, :3] @ model.w_e.detach()).transpose(1, 2)  # (c, p, k)
    # the unscaled mask E^T 1 reads 1 from every decoder: D^T m ∝ 1
    readout = torch.einsum("cpk,cp->ck", decoders, masks)
    torch.testing.assert_close(readout / readout[:, :1], torch.ones(10, 3, dtype=torch.float64))


def test_scaling_and_permutation_keep_the_norm():
    masks = torch.randn(4, 784, dtype=torch.float64)
    scaled = adv.scale_to_std(masks, 0.3)
    torch.testing.assert_close(scaled.std(-1), torch.full((4,), 0.3, dtype=torch.float64))
    shuffled = adv.permute_pixels(scaled, seed=1)
    torch.testing.assert_close(shuffled.sort(-1).values, scaled.sort(-1).values)
    assert not torch.equal(shuffled, scaled)
    torch.testing.assert_close(adv.permute_pixels(scaled, seed=1), shuffled)  # reproducible
    with pytest.raises(ValueError, match="non-negative"):
        adv.scale_to_std(masks, -1.0)


def test_attack_with_zero_mask_is_plain_accuracy():
    model = small_model()
    x, y = torch.rand(40, 784, dtype=torch.float64), torch.arange(40) % 10
    result = adv.attack(model, x, y, torch.zeros(10, 784, dtype=torch.float64))
    with torch.no_grad():
        preds = model(x).argmax(-1)
    expected = sum(((preds == y) & (y != t)).sum().item() / (y != t).sum().item() for t in range(10)) / 10
    assert result["accuracy"] == pytest.approx(expected)


def test_wrong_inputs():
    model = small_model()
    spec = bl.spectrum(bl.interaction_matrices(model.w_l, model.w_r, model.w_u).detach())
    with pytest.raises(ValueError, match="k must be between 1 and 16"):
        adv.eigenvector_masks(spec, model.w_e.detach(), k=0)
    with pytest.raises(ValueError, match=r"w_e must have shape \(16, \*\)"):
        adv.eigenvector_masks(spec, torch.randn(8, 784, dtype=torch.float64), k=2)
    with pytest.raises(ValueError, match="fewer than 16 positive eigenvalues"):
        adv.eigenvector_masks(spec, model.w_e.detach(), k=16)
