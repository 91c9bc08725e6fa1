"""Analyses of sparse features: effects on logits, selectivity, frequency,
co-activation, importance, truncation to the top-n features, and error analysis.

Every function takes plain tensors (activations, decoder and head weights,
labels), so it applies to any transcoder or SAE whose output feeds a linear
readout.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .bilinear import check_shape, tie_aware_hits
from .controls import keep_top_n_units


def logit_effects(w_dec: torch.Tensor, w_head: torch.Tensor) -> torch.Tensor:
    """``W_head W_dec``: the change in each logit per unit of each feature, ``(c, F)``.

    ``w_dec`` is ``(d, F)`` (columns are features), ``w_head`` is ``(c, d)``. This is
    the transcoder's analogue of an eigenvalue: how much, and for which class, a
    feature votes when it fires.
    """
    check_shape("w_dec", w_dec, (None, None))
    check_shape("w_head", w_head, (None, w_dec.shape[0]))
    return w_head @ w_dec


def class_means(
    activations: torch.Tensor, labels: torch.Tensor, n_classes: int = 10
) -> torch.Tensor:
    """Mean activation of every feature over the images of each class, ``(c, F)``."""
    check_shape("activations", activations, (labels.shape[0], None))
    sums = torch.zeros(n_classes, activations.shape[1], dtype=activations.dtype)
    sums.index_add_(0, labels, activations)
    counts = (
        torch.bincount(labels, minlength=n_classes).clamp_min(1).to(activations.dtype)
    )
    return sums / counts[:, None]


def class_selectivity(
    activations: torch.Tensor, labels: torch.Tensor, n_classes: int = 10
) -> torch.Tensor:
    """Share of each feature's mean activation that goes to its favourite class,
    ``(F,)``.

    1 means the feature fires for one class only; ``1/c`` means evenly. Dead
    features get 0.
    """
    means = class_means(activations, labels, n_classes)
    total = means.sum(0)
    return torch.where(
        total > 0, means.max(0).values / total.clamp_min(1e-12), torch.zeros_like(total)
    )


def frequency(activations: torch.Tensor) -> torch.Tensor:
    """Fraction of inputs on which each feature fires, ``(F,)``."""
    check_shape("activations", activations, (None, None))
    return (activations > 0).float().mean(0)


def coactivation(
    activations: torch.Tensor, features: torch.Tensor | list[int]
) -> torch.Tensor:
    """``P(j fires | i fires)`` for the chosen features, ``(m, m)``; row ``i``, column
    ``j``."""
    fired = (activations[:, features] > 0).float()
    both = fired.T @ fired
    return both / fired.sum(0).clamp_min(1)[:, None]


def importance(
    activations: torch.Tensor,
    labels: torch.Tensor,
    effects: torch.Tensor,
    centre: bool = True,
) -> torch.Tensor:
    """Mean contribution of every feature to the true class's logit, per class, ``(c,
    F)``.

    Entry ``(c, i)`` averages ``f_i(x) · e[c, i]`` over the images of class ``c``.
    Only differences between logits decide a prediction, so by default (``centre``)
    ``e[c, i]`` is the effect on class ``c`` minus the mean effect over all classes:
    a feature that raises every logit alike scores zero. With ``centre=False`` the
    scores decompose the class's mean logit exactly. Sorted, each row is the
    transcoder's importance spectrum for that class.
    """
    if centre:
        effects = effects - effects.mean(0, keepdim=True)
    return class_means(activations, labels, effects.shape[0]) * effects


def keep_top_n(activations: torch.Tensor, n: int) -> torch.Tensor:
    """Zero all but the ``n`` largest activations of each input (decoder columns have
    unit norm)."""
    check_shape("activations", activations, (None, None))
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    if n >= activations.shape[1]:
        return activations
    top = activations.topk(n, dim=-1)
    return torch.zeros_like(activations).scatter(-1, top.indices, top.values)


@torch.no_grad()
def top_n_accuracy(
    transcoder,
    mlp,
    images: torch.Tensor,
    labels: torch.Tensor,
    ns: list[int],
    rest: torch.Tensor | None = None,
) -> dict[int, float]:
    """Spliced accuracy keeping only the top-``n`` active features of each input.

    By default the other features are set to zero, so ``n = 0`` is the decoder bias.
    With ``rest`` ``(F,)`` (the features' mean activation on the training inputs) they
    are set to it instead and the kept ones are those that move the output most,
    ``|f_i − rest_i|``: the neurons' control
    (:func:`wbinterp.controls.keep_top_n_units`),
    so that both curves start from the mean output.
    """
    acts = transcoder(images).activations
    out = {}
    for n in ns:
        kept = (
            keep_top_n(acts, n)
            if rest is None
            else keep_top_n_units(acts, rest, transcoder.w_dec, n)
        )
        logits = mlp.head(transcoder.decode(kept))
        out[n] = tie_aware_hits(logits, labels).mean().item()
    return out


class ErrorExplanation(NamedTuple):
    predicted: int
    """The class the spliced model chose."""
    true: int
    misleading: list[tuple[int, float]]
    """Active features that pushed the prediction over the true class: (feature,
    push)."""
    missing: list[tuple[int, float]]
    """Features typical of the true class that stayed silent: (feature, usual push)."""


def explain_error(
    activations: torch.Tensor,
    effects: torch.Tensor,
    typical: torch.Tensor,
    predicted: int,
    true: int,
    top: int = 3,
) -> ErrorExplanation:
    """Why one input was classified as ``predicted`` rather than ``true``.

    ``activations`` is that input's ``(F,)`` vector, ``effects`` the ``(c, F)``
    logit effects and ``typical`` the ``(c, F)`` class-mean activations.
    A feature's push is ``f_i (effect[pred, i] − effect[true, i])``: misleading
    features are the active ones with the largest push; missing features are the
    silent ones whose usual activation on the true class would have pushed back
    hardest.
    """
    margin = effects[predicted] - effects[true]  # (F,)
    push = activations * margin
    active = activations > 0
    misleading = [
        (int(i), float(push[i]))
        for i in push.argsort(descending=True)[:top]
        if active[i] and push[i] > 0
    ]
    usual = typical[true] * -margin  # how much it would have helped
    usual = torch.where(active, torch.zeros_like(usual), usual)
    missing = [
        (int(i), float(usual[i]))
        for i in usual.argsort(descending=True)[:top]
        if usual[i] > 0
    ]
    return ErrorExplanation(predicted, true, misleading, missing)
