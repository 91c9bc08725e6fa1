"""Controls: the baselines that give a measured number its meaning.

A share means little until it is set beside the share that no preference at all would
give, an accuracy beside chance, a trained model beside the same architecture untrained,
a difference between methods beside the spread between seeds of one method. Each
function here computes one such control; the chapters glue it beside the claim it
guards.

* :func:`share_on_pixels`, :func:`row_share_on_pixels` and :func:`isotropic_share`: the
  share of a form's (or a row's) squared entries that touch a set of pixels, and what
  i.i.d. entries put there.
* :func:`chance_accuracy`: the accuracy of always answering the most common class.
* :func:`random_init`: the untrained model of the same architecture.
* :func:`mean_sd`: the mean and sample standard deviation over seeds.
* :func:`nearest_neighbour_accuracy`: leave-one-out 1-NN accuracy of any representation,
  so codes can be compared with the raw pixels they were computed from.
* :func:`keep_top_n_units`, :func:`neuron_top_n_accuracy`: the neuron basis, each input
  keeping its ``n`` units that move the output most and the rest at their mean (or off).
* :func:`pca_directions`, :func:`random_span_directions`: subspaces found from the data
  alone, or drawn blindly inside its span.
* :func:`chance_cosine`: the mean ``|cos|`` of two random directions.
* :func:`rescaled_write`: a sparse coder whose features write ``γ`` times as much, to
  judge a coder with its shrinkage undone (:func:`wbinterp.sparse.best_rescaling`).
* :func:`nearest_rows`, :func:`same_class_cosine`, :func:`other_class_cosine`: which
  example each row is closest to, and how close a learned row stays to the *other*
  starts of its class and to the starts of other classes, the controls of "a row
  stays close to its own start" and of "close to its class".
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from . import models
from .bilinear import check_shape, tie_aware_hits


def share_on_pixels(p: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``(c,)``: the share of each ``‖P_c‖_F²`` on the entries ``(i, j)`` with ``i`` or
    ``j``
    in ``mask``. ``p`` is ``(c, n, n)``, ``mask`` an ``(n,)`` bool tensor."""
    check_shape("p", p, (None, None, None))
    if (
        not isinstance(mask, torch.Tensor)
        or mask.dtype != torch.bool
        or mask.shape != (p.shape[1],)
    ):
        raise ValueError(f"mask must be a bool tensor of shape ({p.shape[1]},)")
    energy = p.square()
    outside = energy[:, ~mask][:, :, ~mask].sum((1, 2))
    return 1 - outside / energy.sum((1, 2))


def row_share_on_pixels(w: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``(m,)``: the share of each row's squared norm on the pixels in ``mask``. ``w``
    is
    ``(m, n)`` (encoder rows, input weights), ``mask`` an ``(n,)`` bool tensor."""
    check_shape("w", w, (None, None))
    if (
        not isinstance(mask, torch.Tensor)
        or mask.dtype != torch.bool
        or mask.shape != (w.shape[1],)
    ):
        raise ValueError(f"mask must be a bool tensor of shape ({w.shape[1]},)")
    energy = w.detach().square()
    return energy[:, mask].sum(1) / energy.sum(1)


def isotropic_share(mask: torch.Tensor, order: int = 2) -> float:
    """What :func:`share_on_pixels` (``order=2``) or :func:`row_share_on_pixels`
    (``order=1``) gives on average for i.i.d. entries, which prefer no pixel:
    ``1 − (1 − s)^order`` with ``s`` the masked fraction of pixels."""
    if (
        not isinstance(mask, torch.Tensor)
        or mask.dtype != torch.bool
        or mask.ndim != 1
        or not len(mask)
    ):
        raise ValueError("mask must be a non-empty one-dimensional bool tensor")
    if order not in (1, 2):
        raise ValueError(f"order must be 1 (rows) or 2 (matrices), got {order!r}")
    s = mask.float().mean().item()
    return 1 - (1 - s) ** order


def chance_accuracy(labels: torch.Tensor) -> float:
    """The accuracy of always answering the most common label in ``labels`` ``(N,)``."""
    if not isinstance(labels, torch.Tensor) or labels.ndim != 1 or not len(labels):
        raise ValueError("labels must be a non-empty one-dimensional tensor")
    return (torch.bincount(labels.long()).max() / len(labels)).item()


def random_init(config: models.ModelConfig, seed: int) -> nn.Module:
    """A freshly initialised model of ``config``, drawn from ``seed`` without touching
    torch's global random state: the control "same architecture, no training"."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return models.new_model(config).eval()


def mean_sd(values) -> tuple[float, float]:
    """Mean and sample standard deviation (``n − 1``) of at least two values (one per
    seed)."""
    values = [float(v) for v in values]
    if len(values) < 2:
        raise ValueError("a spread needs at least two values (two seeds)")
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def nearest_neighbour_accuracy(z: torch.Tensor, labels: torch.Tensor) -> float:
    """Leave-one-out 1-nearest-neighbour accuracy of the rows of ``z`` ``(N, m)`` under
    cosine similarity: each row is labelled by its most similar *other* row."""
    check_shape("z", z, (None, None))
    if not isinstance(labels, torch.Tensor) or labels.shape != (z.shape[0],):
        raise ValueError(f"labels must be a tensor of shape ({z.shape[0]},)")
    unit = torch.nn.functional.normalize(z.double(), dim=1)
    similarity = unit @ unit.T
    similarity.fill_diagonal_(-math.inf)
    return (labels[similarity.argmax(1)] == labels).double().mean().item()


def keep_top_n_units(
    hidden: torch.Tensor, mean: torch.Tensor, weight: torch.Tensor, n: int
) -> torch.Tensor:
    """``(batch, h)``: each row of ``hidden`` with only its ``n`` units that move the
    output
    most kept, and every other unit set to its ``mean`` ``(h,)`` (mean ablation).

    A unit's move is ``|a_i − μ_i| ‖w_i‖``, with ``w_i`` column ``i`` of the readout
    ``weight`` ``(out, h)``: the neuron-basis counterpart of keeping a transcoder's
    ``n``
    most active features (unit-norm decoder columns)."""
    check_shape("hidden", hidden, (None, None))
    check_shape("mean", mean, (hidden.shape[1],))
    check_shape("weight", weight, (None, hidden.shape[1]))
    if not 0 <= n <= hidden.shape[1]:
        raise ValueError(f"n must be between 0 and {hidden.shape[1]}, got {n}")
    move = (hidden - mean).abs() * weight.norm(dim=0)
    kept = torch.zeros_like(hidden, dtype=torch.bool)
    if n:
        kept.scatter_(1, move.topk(n, dim=1).indices, True)
    return torch.where(kept, hidden, mean.expand_as(hidden))


@torch.no_grad()
def neuron_top_n_accuracy(
    mlp: models.ReLUMLP,
    images: torch.Tensor,
    labels: torch.Tensor,
    ns: list[int],
    rest: torch.Tensor,
) -> dict[int, float]:
    """Accuracy of ``mlp`` when each image keeps only its ``n`` neurons that move the
    output most (:func:`keep_top_n_units`) and the others are set to ``rest`` ``(h,)``:
    their training mean (mean ablation), or zeros (switched off)."""
    hidden = mlp.hidden(images)
    return {
        n: tie_aware_hits(
            mlp.head(keep_top_n_units(hidden, rest, mlp.w_out, n)), labels
        )
        .mean()
        .item()
        for n in ns
    }


def rescaled_write(coder: nn.Module, gamma: float) -> nn.Module:
    """A copy of the sparse ``coder`` whose features write ``gamma`` times as much,
    ``ŷ = b_dec + γ W_dec f``, with the same activations ``f``: the coder with its
    shrinkage undone by :func:`wbinterp.sparse.best_rescaling`'s ``γ*``."""
    if not gamma > 0:
        raise ValueError(f"gamma must be positive, got {gamma!r}")
    scaled = copy.deepcopy(coder)
    with torch.no_grad():
        scaled.get_parameter("w_dec").mul_(gamma)
    return scaled


def pca_directions(x: torch.Tensor, m: int) -> torch.Tensor:
    """``(d, m)``: the top ``m`` principal directions of the rows of ``x`` ``(N, d)``
    (orthonormal columns): the best ``m``-dimensional subspace for the data in the
    least-squares sense, found from the data alone."""
    check_shape("x", x, (None, None))
    if not 1 <= m <= min(x.shape):
        raise ValueError(f"m must be between 1 and {min(x.shape)}, got {m}")
    centred = x - x.mean(0)
    return torch.linalg.svd(centred, full_matrices=False).Vh[:m].T


def random_span_directions(x: torch.Tensor, m: int, seed: int) -> torch.Tensor:
    """``(d, m)``: ``m`` random unit directions inside the span of the rows of ``x``
    ``(N, d)``, drawn with the data's own covariance (random combinations of the centred
    rows), not isotropically: the control "a subspace of this size, chosen blindly"."""
    check_shape("x", x, (None, None))
    if m < 1:
        raise ValueError(f"m must be positive, got {m}")
    generator = torch.Generator().manual_seed(seed)
    centred = x - x.mean(0)
    weights = torch.randn(x.shape[0], m, generator=generator, dtype=x.dtype)
    return torch.nn.functional.normalize(centred.T @ weights, dim=0)


def chance_cosine(d: int) -> float:
    """The mean ``|cos|`` between two independent isotropic random directions in ``d``
    dimensions, ``Γ(d/2) / (√π Γ((d+1)/2))`` (about ``√(2/(πd))`` for large ``d``): the
    floor under which a cosine between two pictures says nothing."""
    if not (isinstance(d, int) and d >= 2):
        raise ValueError(f"d must be an integer of at least 2, got {d!r}")
    return math.exp(math.lgamma(d / 2) - math.lgamma((d + 1) / 2)) / math.sqrt(math.pi)


def nearest_rows(
    queries: torch.Tensor, pool: torch.Tensor, chunk: int = 4096
) -> torch.Tensor:
    """``(F,)`` long: for each row of ``queries`` ``(F, d)``, the index of the row of
    ``pool`` ``(n, d)`` with the largest cosine (``chunk`` pool rows at a time, so the
    ``F × n`` similarities are never held at once)."""
    check_shape("queries", queries, (None, None))
    check_shape("pool", pool, (None, queries.shape[1]))
    if pool.shape[0] == 0 or chunk < 1:
        raise ValueError(
            f"need a non-empty pool and chunk >= 1, got {pool.shape[0]} rows, chunk {chunk}"
        )
    unit = torch.nn.functional.normalize(queries.float(), dim=1)
    best = torch.full((queries.shape[0],), -math.inf)
    index = torch.zeros(queries.shape[0], dtype=torch.long)
    for lo in range(0, pool.shape[0], chunk):
        sims = (
            unit @ torch.nn.functional.normalize(pool[lo : lo + chunk].float(), dim=1).T
        )
        value, where = sims.max(1)
        better = value > best
        best = torch.where(better, value, best)
        index = torch.where(better, where + lo, index)
    return index


def same_class_cosine(
    rows: torch.Tensor, starts: torch.Tensor, classes: torch.Tensor
) -> torch.Tensor:
    """``(F,)``: for each learned row ``i`` of ``rows`` ``(F, d)``, the median cosine
    with the starting rows ``starts`` ``(F, d)`` of the *other* features whose start
    has the same class (``classes`` ``(F,)``; the lower middle value for an even
    count, as ``torch.median``); NaN where no other feature shares it.

    Set beside ``cos(rows[i], starts[i])``: a row that kept only "a digit of its class"
    would be as close to those as to its own start."""
    sims, same = _start_cosines(rows, starts, classes)
    same.fill_diagonal_(False)
    return sims.masked_fill(~same, math.nan).nanmedian(1).values


def other_class_cosine(
    rows: torch.Tensor, starts: torch.Tensor, classes: torch.Tensor
) -> torch.Tensor:
    """``(F,)``: as :func:`same_class_cosine`, over the starts of the features whose
    start has *another* class; NaN where every feature shares row ``i``'s class.

    The floor under :func:`same_class_cosine`: what any centred image of another
    digit shares with the row, so the gap between the two is what the row keeps of
    its class."""
    sims, same = _start_cosines(rows, starts, classes)
    return sims.masked_fill(same, math.nan).nanmedian(1).values


def _start_cosines(
    rows: torch.Tensor, starts: torch.Tensor, classes: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(F, F)`` cosines of each row with each start, and whether their classes
    match."""
    check_shape("rows", rows, (None, None))
    check_shape("starts", starts, tuple(rows.shape))
    if not isinstance(classes, torch.Tensor) or classes.shape != (rows.shape[0],):
        raise ValueError(f"classes must be a tensor of shape ({rows.shape[0]},)")
    unit = torch.nn.functional.normalize(rows.double(), dim=1)
    sims = unit @ torch.nn.functional.normalize(starts.double(), dim=1).T
    return sims, classes[:, None] == classes[None, :]
