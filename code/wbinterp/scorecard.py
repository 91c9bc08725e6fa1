"""The sparse coders' scorecard: what a spliced coder keeps of the model's function,
and how stable its features are, with the names SAELens and SAEBench use.

The metrics of :func:`wbinterp.sparse.evaluate_transcoder` (L0, FVU, dead and dense
fractions, spliced accuracy, loss recovered) are about the hidden activation; these are
about what the head reads and about the dictionary:

* :func:`logit_fvu`: the FVU of the logits, which weighs each error by how much the
  head reads it (an error in a direction the head ignores costs nothing here);
* :func:`kl_divergence` and :func:`agreement`: KL(model ‖ spliced) and how often the
  two predict the same class;
* :func:`k_sparse_probe`: how well the ``k`` most telling features of a set predict
  one digit against the rest (SAEBench's sparse probing, one-vs-rest per digit);
* :func:`matched_share`: the share of one dictionary's directions found again in
  another's (two seeds), matched one to one.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.metrics import balanced_accuracy_score  # type: ignore[import-untyped]

from .sparse import fvu


def logit_fvu(
    head: torch.nn.Module, hidden: torch.Tensor, predicted: torch.Tensor
) -> float:
    """FVU of ``head(predicted)`` against ``head(hidden)``, both ``(n, h)`` hidden
    activations mapped to ``(n, classes)`` logits (centred over the set)."""
    with torch.no_grad():
        return fvu(head(hidden), head(predicted))


def kl_divergence(logits: torch.Tensor, spliced: torch.Tensor) -> float:
    """Mean over the set of ``KL(softmax(logits) ‖ softmax(spliced))`` in nats, both
    ``(n, classes)``: what the spliced model loses of the model's predictions."""
    if logits.shape != spliced.shape:
        raise ValueError(
            f"logits and spliced must have one shape, got {tuple(logits.shape)} and "
            f"{tuple(spliced.shape)}"
        )
    p = F.log_softmax(logits.double(), -1)
    q = F.log_softmax(spliced.double(), -1)
    return (p.exp() * (p - q)).sum(-1).mean().item()


def agreement(logits: torch.Tensor, spliced: torch.Tensor) -> float:
    """Share of inputs on which the two ``(n, classes)`` logits pick the same class."""
    return (logits.argmax(-1) == spliced.argmax(-1)).double().mean().item()


def k_sparse_probe(
    train: torch.Tensor,
    train_labels: torch.Tensor,
    test: torch.Tensor,
    test_labels: torch.Tensor,
    k: int,
) -> np.ndarray:
    """``(classes,)``: per class ``c``, the balanced test accuracy (chance 0.5) of a
    logistic regression of "is it ``c``?" on the ``k`` columns of ``train`` (n, F)
    whose means differ most between ``c`` and the rest on the training set.

    Columns are features, neurons or pixels alike, so the same probe on a model's
    neurons or on the pixels is the baseline of a coder's features."""
    if not 1 <= k <= train.shape[1]:
        raise ValueError(f"k must be between 1 and {train.shape[1]}, got {k}")
    x_train, x_test = train.double(), test.double()
    scores = []
    for c in torch.unique(train_labels).tolist():
        positive = train_labels == c
        gap = (x_train[positive].mean(0) - x_train[~positive].mean(0)).abs()
        columns = gap.topk(k).indices
        probe = LogisticRegression(class_weight="balanced", max_iter=1000)
        probe.fit(x_train[:, columns].numpy(), positive.numpy())
        predicted = probe.predict(x_test[:, columns].numpy())
        scores.append(balanced_accuracy_score((test_labels == c).numpy(), predicted))
    return np.array(scores)


def matched_share(
    directions: torch.Tensor, others: torch.Tensor, threshold: float = 0.7
) -> float:
    """Share of the columns of ``directions`` (d, F) matched, one to one, to a column
    of ``others`` (d, F') with cosine above ``threshold``: the matching that maximises
    the summed cosine (the Hungarian algorithm), then each pair's cosine read."""
    if directions.shape[0] != others.shape[0]:
        raise ValueError(
            f"directions and others must have one height, got {directions.shape[0]} "
            f"and {others.shape[0]}"
        )
    a = directions.double() / directions.double().norm(dim=0).clamp_min(1e-12)
    b = others.double() / others.double().norm(dim=0).clamp_min(1e-12)
    cosine = (a.T @ b).numpy()
    rows, cols = linear_sum_assignment(cosine, maximize=True)
    return float((cosine[rows, cols] > threshold).sum() / directions.shape[1])
