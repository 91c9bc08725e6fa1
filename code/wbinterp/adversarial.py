"""Adversarial masks built from the weights alone (Pearce et al. 2025, §4.4).

For a target class ``t``, the top positive eigenvectors of ``Q_t`` are the
hidden directions that most raise its logit. Drawn in pixels (``W_eᵀ v_i``) they
are the columns of ``V_t`` (``p × k``); its pseudoinverse ``V_t⁺`` (``k × p``) has
rows that each read out one eigenvector and none of the others
(``(W_eᵀ v_j)·(V_t⁺)_i = δ_ij``).

* **The paper's masks** (:func:`paper_masks`): one mask per eigenvector, row ``i``
  of ``V_t⁺``, with ``k = 10``; the paper averages its measurements over the masks
  of the top three eigenvectors.
* **The summed mask** (:func:`eigenvector_masks`), this book's variant: one mask per
  class, the sum of the rows, which raises every ``λ_i (v_i·h)²`` term at once.

Adding ``ε m_i`` moves ``v_i·h`` by ``ε``, so it raises ``λ_i (v_i·h + ε)²`` only
where ``v_i·h`` has the sign of ``ε``: a mask's effect depends on the sign of its
eigenvector, which ``eigh`` leaves arbitrary. :func:`orient` fixes it by a rule
(each eigenvector points the way the target's own images lie). Masks are scaled
to a chosen pixel standard deviation and added without clamping (a mask clamped
to ``[0, 1]`` loses its negative half). The control is the same mask with its
pixels shuffled: same values, same norm, no structure.
"""

from __future__ import annotations

import torch

from .bilinear import Spectrum, check_shape, spectrum, tie_aware_hits
from .models import BilinearMLP


def orient(spec: Spectrum, reference: torch.Tensor) -> Spectrum:
    """``spec`` with each eigenvector of class ``c`` flipped so that ``v·reference[c] ≥
    0``.

    ``reference`` is ``(c, n)``, e.g. each class's mean embedding ``W_e x̄_c`` over its
    training images: a mask then pushes ``v·h`` the way the target's own images lie.
    """
    check_shape("reference", reference, (spec.vectors.shape[0], spec.vectors.shape[-1]))
    signs = torch.einsum("cin,cn->ci", spec.vectors, reference).sign()
    signs[signs == 0] = 1
    return Spectrum(spec.values, spec.vectors * signs[..., None])


@torch.no_grad()
def oriented_spectrum(
    model: BilinearMLP, images: torch.Tensor, labels: torch.Tensor
) -> Spectrum:
    """A bilinear model's hidden-space spectrum, each eigenvector of class ``c``
    pointing
    toward the mean embedding ``W_e x̄_c`` of the images of class ``c`` (the masks' sign
    rule)."""
    spec = spectrum(model.interaction_matrices(), w_e=model.w_e)
    means = torch.stack(
        [model.embed(images[labels == c]).mean(0) for c in range(spec.values.shape[0])]
    )
    return orient(spec, means)


def pseudoinverse_rows(spec: Spectrum, w_e: torch.Tensor, k: int = 10) -> torch.Tensor:
    """Rows of ``V_c⁺`` for each class's top-``k`` positive eigenvectors in pixels:
    ``(c, k, p)``.

    ``spec`` is the hidden-space spectrum (values sorted descending) and ``w_e``
    the ``(n, p)`` embedding; ``V_c`` has the columns ``W_eᵀ v_i``.
    """
    check_shape("w_e", w_e, (spec.vectors.shape[-1], None))
    if not 1 <= k <= spec.values.shape[-1]:
        raise ValueError(f"k must be between 1 and {spec.values.shape[-1]}, got {k}")
    if (spec.values[:, :k] <= 0).any():
        raise ValueError(
            f"some class has fewer than {k} positive eigenvalues; use a smaller k"
        )
    decoders = (spec.vectors[:, :k] @ w_e).transpose(
        1, 2
    )  # (c, p, k): W_eᵀ v_i as columns
    return torch.linalg.pinv(decoders)  # (c, k, p)


def paper_masks(
    spec: Spectrum, w_e: torch.Tensor, k: int = 10, top: int = 3
) -> torch.Tensor:
    """The paper's masks: row ``i`` of ``V_c⁺`` for the top ``top`` of the ``k``
    eigenvectors of each class, each at unit pixel std: ``(c, top, p)``."""
    if not 1 <= top <= k:
        raise ValueError(f"top must be between 1 and k={k}, got {top}")
    rows = pseudoinverse_rows(spec, w_e, k)[:, :top]
    return scale_to_std(rows.reshape(-1, rows.shape[-1]), 1.0).reshape(rows.shape)


def eigenvector_masks(spec: Spectrum, w_e: torch.Tensor, k: int = 10) -> torch.Tensor:
    """The summed variant: one mask per class, the sum of the ``k`` rows of ``V_c⁺``,
    at unit pixel std: ``(c, p)``."""
    return scale_to_std(pseudoinverse_rows(spec, w_e, k).sum(1), 1.0)


def scale_to_std(masks: torch.Tensor, std: float) -> torch.Tensor:
    """Rescale each mask (row) to pixel standard deviation ``std``."""
    check_shape("masks", masks, (None, None))
    if std < 0:
        raise ValueError(f"std must be non-negative, got {std}")
    return masks * (std / masks.std(dim=-1, keepdim=True).clamp_min(1e-12))


def permute_pixels(
    masks: torch.Tensor, seed: int = 0, support: torch.Tensor | None = None
) -> torch.Tensor:
    """The control: each mask (row) with its pixels shuffled (same values, same norm).

    With ``support`` (a ``(p,)`` boolean), only the pixels inside it are shuffled among
    themselves, so an edge mask's control stays on the edge.
    """
    check_shape("masks", masks, (None, None))
    gen = torch.Generator().manual_seed(seed)
    where = (
        torch.arange(masks.shape[-1])
        if support is None
        else support.nonzero().flatten()
    )
    out = masks.clone()
    for row in out:
        row[where] = row[where][torch.randperm(len(where), generator=gen)]
    return out


def rare_pixels(images: torch.Tensor, below: float = 0.01) -> torch.Tensor:
    """``(p,)`` boolean: the pixels that are non-zero on fewer than ``below`` of
    ``images``
    ``(N, p)`` (for MNIST, the outer edge of the image)."""
    check_shape("images", images, (None, None))
    return (images > 0).float().mean(0) < below


def restrict(masks: torch.Tensor, support: torch.Tensor) -> torch.Tensor:
    """Masks ``(..., p)`` set to zero outside ``support`` (``(p,)`` boolean), each
    rescaled
    to unit pixel std (the paper's Fig. 7B confines its masks to the image's edge)."""
    if support.shape != masks.shape[-1:] or support.dtype != torch.bool:
        raise ValueError(
            f"support must be a boolean tensor of shape ({masks.shape[-1]},)"
        )
    if not support.any():
        raise ValueError("support is empty: no pixel would be kept")
    kept = masks * support
    return scale_to_std(kept.reshape(-1, kept.shape[-1]), 1.0).reshape(kept.shape)


def _masked_logits(model: torch.nn.Module, images: torch.Tensor):
    """A function ``(mask (p,), scales) -> [logits (N, c) of images + s·mask, for s in
    scales]``.

    For a bilinear model the logits are a quadratic polynomial in ``s``: with the
    images' branches ``L = W_l W_e x (+ b_l)``, ``R`` likewise, and the mask's
    ``l = W_l W_e m``, ``r = W_r W_e m``,
    ``(L + s l) ⊙ (R + s r) = L⊙R + s (L⊙r + l⊙R) + s² l⊙r``. The three coefficients
    are computed once per mask, and each strength costs only their weighted sum.
    """
    if not isinstance(model, BilinearMLP):
        return lambda mask, scales: [model(images + s * mask) for s in scales]
    h = model.embed(images)
    left, right = h @ model.w_l.T, h @ model.w_r.T
    if model.config.bias:
        left, right = left + model.b_l, right + model.b_r
    constant = (left * right) @ model.w_u.T

    def logits(mask: torch.Tensor, scales: list[float]) -> list[torch.Tensor]:
        dh = model.embed(mask[None])
        dl, dr = dh @ model.w_l.T, dh @ model.w_r.T
        linear = (left * dr + dl * right) @ model.w_u.T
        quadratic = (dl * dr) @ model.w_u.T  # (1, c): the mask alone
        return [constant + s * linear + s * s * quadratic for s in scales]

    return logits


@torch.no_grad()
def attack(
    model: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    masks: torch.Tensor,
) -> dict[str, float]:
    """Add each class's mask to every image of another class.

    Returns the accuracy on the masked images and the fraction classified as the
    mask's target class, both averaged over targets.
    """
    return _attack_at(model, images, labels, masks, [1.0])[0]


@torch.no_grad()
def _attack_at(
    model: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    masks: torch.Tensor,
    scales: list[float],
) -> list[dict[str, float]]:
    """:func:`attack` with the masks multiplied by each of ``scales``, one dict per
    scale."""
    check_shape("images", images, (None, masks.shape[-1]))
    logits_of = _masked_logits(model, images)
    accuracy, target_rate = [0.0] * len(scales), [0.0] * len(scales)
    for target, mask in enumerate(masks):
        keep = labels != target
        for j, logits in enumerate(logits_of(mask, scales)):
            accuracy[j] += tie_aware_hits(logits[keep], labels[keep]).mean().item()
            target_rate[j] += (logits[keep].argmax(-1) == target).float().mean().item()
    return [
        {"accuracy": a / len(masks), "target_rate": t / len(masks)}
        for a, t in zip(accuracy, target_rate)
    ]


def strength_sweep(
    model: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    masks: torch.Tensor,
    stds: list[float],
    seed: int = 0,
    support: torch.Tensor | None = None,
) -> dict[str, list[float]]:
    """:func:`attack` for masks and their shuffled controls at each pixel std.

    ``masks`` is ``(c, p)``, one per target class, or ``(c, m, p)``, ``m`` per target
    (the paper's masks): then every number is the mean over the ``m`` masks.
    ``support`` keeps the controls' pixels inside it (see :func:`permute_pixels`).
    """
    if masks.ndim == 3:
        sweeps = [
            strength_sweep(model, images, labels, masks[:, j], stds, seed + j, support)
            for j in range(masks.shape[1])
        ]
        return {
            key: [
                sum(values) / len(sweeps) for values in zip(*(s[key] for s in sweeps))
            ]
            if key != "std"
            else list(stds)
            for key in sweeps[0]
        }
    shuffled = permute_pixels(masks, seed, support)
    out = {
        "std": list(stds),
        "accuracy": [],
        "target_rate": [],
        "control_accuracy": [],
        "control_target_rate": [],
    }
    if any(std < 0 for std in stds):
        raise ValueError(f"every std must be non-negative, got {stds}")
    # scale_to_std(m, s) = s · scale_to_std(m, 1): one pass per mask serves every
    # strength
    reals = _attack_at(model, images, labels, scale_to_std(masks, 1.0), list(stds))
    controls = _attack_at(
        model, images, labels, scale_to_std(shuffled, 1.0), list(stds)
    )
    for real, control in zip(reals, controls):
        out["accuracy"].append(real["accuracy"])
        out["target_rate"].append(real["target_rate"])
        out["control_accuracy"].append(control["accuracy"])
        out["control_target_rate"].append(control["target_rate"])
    return out
