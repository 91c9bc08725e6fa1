"""Adversarial masks built from the weights alone (Pearce et al. 2025, §4.4).

For a target class ``t``, the top positive eigenvectors of ``Q_t`` are the
hidden directions that most raise its logit. Drawn in pixels (``W_eᵀ v_i``) they
are the *decoders* ``D_t`` (``p × k``) of the target's features; their
pseudoinverse gives *encoders* ``E_t = D_t⁺`` (``k × p``), pixel patterns whose
overlap with an image reads out one feature and not the others
(``E_t D_t = I``). The mask is the sum of the encoders, ``m_t = E_tᵀ 1``:
adding it raises every ``λ_i (v_i·h)²`` term of the target's logit at once. The mask is scaled to a chosen pixel standard deviation and
added without clamping (a mask clamped to ``[0, 1]`` loses its negative half).
The control is the same mask with its pixels shuffled: same norm, no structure.
"""

from __future__ import annotations

import torch

from .bilinear import Spectrum, check_shape, tie_aware_hits


def eigenvector_masks(spec: Spectrum, w_e: torch.Tensor, k: int = 10) -> torch.Tensor:
    """One input-space mask per class from its top-``k`` positive eigenvectors: ``(c, p)``.

    ``spec`` is the hidden-space spectrum (values sorted descending) and ``w_e``
    the ``(n, p)`` embedding. Masks are returned with unit pixel std.
    """
    check_shape("w_e", w_e, (spec.vectors.shape[-1], None))
    if not 1 <= k <= spec.values.shape[-1]:
        raise ValueError(f"k must be between 1 and {spec.values.shape[-1]}, got {k}")
    if (spec.values[:, :k] <= 0).any():
        raise ValueError(f"some class has fewer than {k} positive eigenvalues; use a smaller k")
    decoders = (spec.vectors[:, :k] @ w_e).transpose(1, 2)  # (c, p, k): W_eᵀ v_i as columns
    encoders = torch.linalg.pinv(decoders)  # (c, k, p): E_t = D_t⁺
    return scale_to_std(encoders.sum(1), 1.0)


def scale_to_std(masks: torch.Tensor, std: float) -> torch.Tensor:
    """Rescale each mask (row) to pixel standard deviation ``std``."""
    check_shape("masks", masks, (None, None))
    if std < 0:
        raise ValueError(f"std must be non-negative, got {std}")
    return masks * (std / masks.std(dim=-1, keepdim=True).clamp_min(1e-12))


def permute_pixels(masks: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """The control: each mask with its pixels shuffled (same values, same norm)."""
    check_shape("masks", masks, (None, None))
    gen = torch.Generator().manual_seed(seed)
    return torch.stack([m[torch.randperm(m.numel(), generator=gen)] for m in masks])


@torch.no_grad()
def attack(
    model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, masks: torch.Tensor
) -> dict[str, float]:
    """Add each class's mask to every image of another class.

    Returns the accuracy on the masked images and the fraction classified as the
    mask's target class, both averaged over targets.
    """
    check_shape("images", images, (None, masks.shape[-1]))
    accuracy, target_rate = 0.0, 0.0
    for target, mask in enumerate(masks):
        keep = labels != target
        logits = model(images[keep] + mask)
        accuracy += tie_aware_hits(logits, labels[keep]).mean().item()
        target_rate += (logits.argmax(-1) == target).float().mean().item()
    return {"accuracy": accuracy / len(masks), "target_rate": target_rate / len(masks)}


def strength_sweep(
    model: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    masks: torch.Tensor,
    stds: list[float],
    seed: int = 0,
) -> dict[str, list[float]]:
    """:func:`attack` for eigenvector masks and shuffled controls at each pixel std."""
    shuffled = permute_pixels(masks, seed)
    out = {
        "std": list(stds),
        "accuracy": [],
        "target_rate": [],
        "control_accuracy": [],
        "control_target_rate": [],
    }
    for std in stds:
        real = attack(model, images, labels, scale_to_std(masks, std))
        control = attack(model, images, labels, scale_to_std(shuffled, std))
        out["accuracy"].append(real["accuracy"])
        out["target_rate"].append(real["target_rate"])
        out["control_accuracy"].append(control["accuracy"])
        out["control_target_rate"].append(control["target_rate"])
    return out
