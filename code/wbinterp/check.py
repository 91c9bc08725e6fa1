"""Checks a student runs on their own answers to the chapters' exercises.

Each check takes what an exercise asks for (a value, or a function), runs a function on
fresh inputs it makes itself (small random models, so an answer copied from the page or
fitted to one model does not pass), and prints one line: ``✓`` and what was checked, or
``✗`` and a hint that names what is wrong (a shape, a sign, a missing square, a missing
symmetrisation) without giving the solution. It returns whether the answer passed.

Every check is tested (``tests/test_check.py``): it accepts the book's solution and
rejects typical wrong answers with the hint meant for them.

=================================  ==============================================
check                              exercise
=================================  ==============================================
:func:`parameter_counts`           "What the missing biases imply" (data and models)
:func:`scaling_power`              "Fainter, negative, veiled" (data and models)
:func:`unsymmetrised`              "The antisymmetric part does nothing" (tensor)
:func:`form_error`                 "How narrow can the layer be?" (toy circuits)
:func:`eigenpairs_2x2`             "Reading a 2×2 interaction matrix"
:func:`logit_terms`                "One digit's logit, term by term"
:func:`effective_ranks`            "Effective rank" (low rank)
:func:`positive_only`              "Positive eigenvalues only" (low rank)
:func:`logit_account`              "One image, feature by feature" (transcoders)
:func:`own_errors`                 "The transcoder's own mistakes" (low rank and errors)
=================================  ==============================================
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import math
from collections.abc import Callable
from typing import ParamSpec

import torch

from . import toy
from .bilinear import Spectrum, effective_rank, spectrum
from .models import BilinearMLP, ModelConfig, ReLUMLP
from .sparse import SparseCoder, SparseCoderConfig

PASS, FAIL = "\u2713", "\u2717"

P = ParamSpec("P")


class _Wrong(Exception):
    """What is wrong with an answer: the hint its check prints."""


def _checked(check: Callable[P, str]) -> Callable[P, bool]:
    """A check that returns what it verified, or raises :class:`_Wrong` with a hint,
    made
    into one that prints one line (``✓ …`` or ``✗ …``) and returns whether it passed."""

    @functools.wraps(check)
    def run(*args: P.args, **kwargs: P.kwargs) -> bool:
        try:
            message, ok = check(*args, **kwargs), True
        except _Wrong as wrong:
            message, ok = str(wrong), False
        print(f"{PASS if ok else FAIL} {message}")
        return ok

    # what a reader of the documentation sees: the check's arguments, returning a bool
    run.__signature__ = inspect.signature(check).replace(return_annotation="bool")  # type: ignore[attr-defined]
    return run


def passes(check: Callable[..., bool], *args, **kwargs) -> bool:
    """Whether an answer passes ``check``, printing nothing, not even what the student's
    own
    code prints: what a grader's test calls (otter-grader compares a test's output
    too)."""
    with (
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        return check(*args, **kwargs)


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _run(fn: Callable, *args):
    """``fn(*args)``; an error it raises becomes the hint (a student's code may
    fail)."""
    try:
        return fn(*args)
    except Exception as err:  # noqa: BLE001 - any error of the student's code is a hint
        raise _Wrong(f"your function raised {type(err).__name__}: {err}") from err


def _tensor(value, name: str, shape: tuple[int, ...], why: str = "") -> torch.Tensor:
    """``value`` as a float64 tensor of ``shape``; otherwise a hint (ending in
    ``why``)."""
    try:
        t = torch.as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as err:
        raise _Wrong(
            f"{name} should be a tensor (or a list of numbers), got {type(value).__name__}"
        ) from err
    if tuple(t.shape) != shape:
        raise _Wrong(f"{name} should have shape {shape}, got {tuple(t.shape)}{why}")
    return t


def _close(a: torch.Tensor, b: torch.Tensor, tol: float = 1e-6) -> bool:
    return bool((a - b).abs().max() <= tol * max(1.0, float(b.abs().max())))


# ---- Data and models
# -------------------------------------------------------------------


@_checked
def parameter_counts(bilinear: Callable[[int], int], relu: Callable[[int], int]) -> str:
    """Your parameter counts, as functions of the hidden width ``d``, against the
    models'
    own (``ModelConfig``: 784 inputs, 10 classes, no biases)."""
    for d in (3, 17, 64):
        want_b = sum(
            p.numel() for p in BilinearMLP(ModelConfig(d_hidden=d)).parameters()
        )
        want_r = sum(
            p.numel()
            for p in ReLUMLP(ModelConfig(kind="relu", d_hidden=d)).parameters()
        )
        got_b, got_r = _run(bilinear, d), _run(relu, d)
        if got_b != want_b:
            hint = (
                "the bilinear layer has two d × d matrices, W_l and W_r"
                if got_b - want_b in (-(d**2), -2 * d**2)
                else "count W_e (d × 784), W_l and W_r (d × d each) and W_u (10 × d)"
            )
            raise _Wrong(
                f"bilinear model at d = {d}: you count {got_b}, it has {want_b}; {hint}"
            )
        if got_r != want_r:
            raise _Wrong(
                f"ReLU MLP at d = {d}: you count {got_r}, it has {want_r}; count W_in (d × 784) and W_out (10 × d)"
            )
    return "both counts match the models at d = 3, 17 and 64"


@_checked
def scaling_power(model, power: int) -> str:
    """Your answer to "scaling an image by α ≥ 0 multiplies the logits by α to which
    power?" for ``model`` (the book's ``book`` or ``relu``), tested on fresh random
    images
    and scales."""
    if not isinstance(power, (int, float)) or isinstance(power, bool):
        raise _Wrong(f"give the power as a number, got {power!r}")
    x = torch.rand(16, model.config.d_input, generator=_generator(1))
    with torch.no_grad():
        base = model(x).double()
        for alpha in (0.5, 2.0, 0.3):
            scaled = model(alpha * x).double()
            if not _close(scaled, alpha**power * base, 1e-4):
                observed = math.log((scaled.norm() / base.norm()).item(), alpha)
                raise _Wrong(
                    f"scaling by {alpha} multiplies these logits by about {alpha:.1f}^{observed:.2f}, not "
                    f"{alpha:.1f}^{power}: count how many times the input enters each logit"
                )
    return (
        f"logits(α x) = α^{power} logits(x) for α = 0.5, 2 and 0.3 on 16 random images"
    )


# ---- The bilinear tensor
# ---------------------------------------------------------------


@_checked
def unsymmetrised(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> str:
    """Your function ``fn(w_l, w_r) -> T`` with ``T[a, i, j] = W_l[a, i] W_r[a, j]``, on
    fresh random ``(3, 4)`` and ``(5, 2)`` weights."""
    for seed, (d, n) in enumerate([(3, 4), (5, 2)]):
        g = _generator(seed)
        w_l = torch.randn(d, n, generator=g, dtype=torch.float64)
        w_r = torch.randn(d, n, generator=g, dtype=torch.float64)
        t = _tensor(
            _run(fn, w_l, w_r), "T", (d, n, n), " (one n × n matrix per output a)"
        )
        want = torch.einsum("ai,aj->aij", w_l, w_r)
        if _close(t, want):
            continue
        if _close(t, (want + want.transpose(1, 2)) / 2):
            raise _Wrong(
                "your T is symmetric: that is B, the symmetrised tensor; T keeps W_l[a, i] W_r[a, j] as it is"
            )
        if _close(t, want.transpose(1, 2)):
            raise _Wrong(
                "your T has i and j swapped: the first index after a belongs to W_l"
            )
        raise _Wrong("T[a, i, j] should be W_l[a, i] times W_r[a, j]")
    return "T[a, i, j] = W_l[a, i] W_r[a, j] on two fresh random layers"


# ---- Toy circuits
# ------------------------------------------------------------------------


@_checked
def form_error(fn: Callable) -> str:
    """Your function ``fn(model, task) -> float``, the largest ``|P − P*|`` between a
    toy
    model's forms over its inputs and the task's truth tables, on fresh random
    layers."""
    for seed, task in enumerate([toy.BooleanPairs("and"), toy.BooleanPairs("xor")]):
        torch.manual_seed(seed)
        model = BilinearMLP(
            ModelConfig(d_input=task.n_inputs, d_hidden=4, n_classes=len(task.pairs))
        )
        with torch.no_grad():
            value = _tensor(
                _run(fn, model, task),
                "the error",
                (),
                ": one number, the largest entry of |P − P*|",
            )
            gap = (toy.learned_forms(model) - task.target_forms()).double()
        if abs(value - gap.abs().max()) <= 1e-6:
            continue
        if abs(value - gap.max()) <= 1e-6 or abs(value - gap.min()) <= 1e-6:
            raise _Wrong(
                "take the absolute value before the maximum: an error can have either sign"
            )
        if abs(value - gap.abs().mean()) <= 1e-6:
            raise _Wrong("the exercise asks for the largest error, not the mean")
        raise _Wrong(
            "compare toy.learned_forms(model), the forms over the inputs, with task.target_forms()"
        )
    return "the largest |P − P*| of two fresh random layers, on AND and XOR"


# ---- Interaction matrices
# ---------------------------------------------------------------


@_checked
def eigenpairs_2x2(values, vectors) -> str:
    """Your eigenvalues ``(2,)`` and unit eigenvectors (the rows of a ``(2, 2)``, in the
    same
    order) of ``Q = [[0, 1], [1, 0]]``; signs of the vectors are yours to choose."""
    lam = _tensor(values, "the eigenvalues", (2,))
    v = _tensor(vectors, "the eigenvectors", (2, 2), ": one eigenvector per row")
    q = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    if not _close(lam.sort().values, torch.tensor([-1.0, 1.0], dtype=torch.float64)):
        raise _Wrong("the eigenvalues are the roots of det(Q − λI) = λ² − 1")
    if not _close(v.norm(dim=1), torch.ones(2, dtype=torch.float64)):
        raise _Wrong("scale each eigenvector to length 1: (1, 1) has length √2")
    if not _close(v @ q, lam[:, None] * v):
        raise _Wrong(
            "each row should satisfy Q v = λ v with the eigenvalue in the same place"
        )
    return "λ = ±1 with unit eigenvectors (1, ±1)/√2"


@_checked
def logit_terms(fn: Callable[[BilinearMLP, torch.Tensor, int], torch.Tensor]) -> str:
    """Your function ``fn(model, h, c) -> terms`` ``(d,)``, the terms ``λ_i (v_i · h)²``
    of
    digit ``c``'s logit for an embedded image ``h`` ``(d,)``, in any order; run on fresh
    random models."""
    for seed in (0, 1):
        torch.manual_seed(seed)
        model = BilinearMLP(ModelConfig(d_hidden=6)).double()
        h = torch.randn(6, generator=_generator(seed), dtype=torch.float64)
        c = 3 + seed
        with torch.no_grad():
            terms = _tensor(
                _run(fn, model, h, c),
                "terms",
                (6,),
                ": one term per eigenvector of Q_c",
            )
            spec = spectrum(model.interaction_matrices())
            projections = spec.vectors[c] @ h
            want = spec.values[c] * projections**2
            logit = (model.bilinear(h[None]) @ model.w_u.T)[0, c]
        if _close(terms.sort().values, want.sort().values):
            continue
        if _close(terms.sort().values, (spec.values[c] * projections).sort().values):
            raise _Wrong("each term squares the projection v_i · h")
        if _close(terms.sort().values, want.abs().sort().values):
            raise _Wrong(
                "keep the sign of each eigenvalue: negative ones vote against the digit"
            )
        if not _close(terms.sum(), logit):
            raise _Wrong(
                f"your terms sum to {terms.sum():.3f}, but the logit h^T Q_c h is {logit:.3f}"
            )
        raise _Wrong("use the eigenvectors of Q_c, the digit's own matrix")
    return "the terms are λ_i (v_i · h)² and sum to the logit, on two fresh models"


# ---- Low rank
# ---------------------------------------------------------------------------


@_checked
def effective_ranks(answers) -> str:
    """Your effective ranks of the spectra (1, 1, 1, 1), (4, 0, 0, 0) and (3, −1, 0,
    0)."""
    got = _tensor(answers, "your answers", (3,))
    spectra = torch.tensor([[1.0, 1, 1, 1], [4, 0, 0, 0], [3, -1, 0, 0]])
    want = effective_rank(spectra).double()
    for name, mine, right in zip(
        ["(1, 1, 1, 1)", "(4, 0, 0, 0)", "(3, −1, 0, 0)"], got, want
    ):
        if abs(mine - right) > 1e-3:
            hint = (
                "with signs kept, 3 − 1 = 2 undercounts: use |λ|"
                if name.startswith("(3") and abs(mine - 0.4) < 1e-3
                else "the effective rank is (Σ|λ|)² / Σλ²"
            )
            raise _Wrong(f"{name}: you have {mine:.3g}; {hint}")
    return "4, 1 and 1.6"


@_checked
def positive_only(fn: Callable[[Spectrum], Spectrum]) -> str:
    """Your function ``fn(spec) -> Spectrum`` that keeps each digit's positive
    eigenvalues
    and drops the negative ones, on a fresh random spectrum."""
    a = torch.randn(3, 5, 5, generator=_generator(4), dtype=torch.float64)
    spec = spectrum(a + a.transpose(1, 2))
    got = _run(fn, Spectrum(spec.values.clone(), spec.vectors.clone()))
    if not isinstance(got, Spectrum):
        raise _Wrong(
            f"return a bilinear.Spectrum (values, vectors), got {type(got).__name__}"
        )
    values = _tensor(
        got.values,
        "values",
        tuple(spec.values.shape),
        ": keep every eigenpair and zero the dropped eigenvalues",
    )
    vectors = _tensor(got.vectors, "vectors", tuple(spec.vectors.shape))
    if not _close(vectors, spec.vectors):
        raise _Wrong("leave the eigenvectors as they are: only the eigenvalues change")
    if _close(values, spec.values.clamp_min(0)):
        return (
            "negative eigenvalues set to zero; the positive ones and the vectors kept"
        )
    if _close(values, spec.values.clamp_max(0)):
        raise _Wrong("you kept the negative eigenvalues and dropped the positive ones")
    if _close(values, spec.values.abs()):
        raise _Wrong(
            "|λ| turns a vote against the digit into a vote for it: set negative eigenvalues to 0"
        )
    raise _Wrong("set each negative eigenvalue to 0 and keep the others")


# ---- Transcoders
# -------------------------------------------------------------------------


@_checked
def logit_account(
    fn: Callable[[SparseCoder, ReLUMLP, torch.Tensor, int], tuple],
) -> str:
    """Your function ``fn(transcoder, mlp, x, c) -> (constant, contributions)``: what
    the
    decoder bias alone adds to the spliced logit of digit ``c`` (a number), and each
    feature's contribution ``f_i × (logit effect)_ci`` (``(F,)``, zero where a feature
    is
    silent), for one image ``x`` ``(784,)``; run on a fresh random transcoder."""
    torch.manual_seed(5)
    mlp = ReLUMLP(ModelConfig(kind="relu", d_hidden=12)).double()
    coder = SparseCoder(
        SparseCoderConfig(d_in=784, d_out=12, n_features=30, activation="topk", k=5)
    ).double()
    x = torch.rand(784, generator=_generator(5), dtype=torch.float64)
    c = 7
    with torch.no_grad():
        coder.b_dec.normal_()
        coder.b_enc.normal_(0, 0.1)
        got = _run(fn, coder, mlp, x, c)
        if not (isinstance(got, tuple) and len(got) == 2):
            raise _Wrong("return two things: (constant, contributions)")
        constant = _tensor(
            got[0], "the constant", (), ": one number, the bias's share of logit c"
        )
        contributions = _tensor(
            got[1], "the contributions", (30,), ": one number per feature"
        )
        out = coder(x[None])
        effects = (mlp.w_out @ coder.w_dec)[c]
        spliced = mlp.head(out.output)[0, c]
        want_constant = mlp.head(coder.b_dec[None])[0, c]
    if _close(constant, want_constant) and _close(
        contributions, out.activations[0] * effects
    ):
        return "bias plus features add up to the spliced logit, feature by feature"
    if _close(contributions, out.pre_activations[0] * effects):
        raise _Wrong("use the activations f (after TopK), not the pre-activations")
    if _close(constant, torch.zeros((), dtype=torch.float64)):
        raise _Wrong(
            "the decoder bias b_dec writes into every image: read it through the head"
        )
    if not _close(constant, want_constant):
        raise _Wrong("the constant is the head applied to the decoder bias, at digit c")
    if _close(constant + contributions.sum(), spliced):
        raise _Wrong(
            "the total is right but not feature by feature: f_i times feature i's effect on c"
        )
    raise _Wrong(
        f"bias plus features give {constant + contributions.sum():.3f}; the spliced logit is {spliced:.3f}"
    )


@_checked
def own_errors(
    fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor],
) -> str:
    """Your function ``fn(mlp_logits, spliced_logits, labels) -> mask`` ``(n,)``: the
    images
    the MLP classifies right and the spliced model wrong, on fresh random logits."""
    g = _generator(6)
    labels = torch.randint(0, 10, (300,), generator=g)
    mlp_logits, spliced_logits = (
        torch.randn(300, 10, generator=g),
        torch.randn(300, 10, generator=g),
    )
    mlp_logits[torch.arange(300), labels] += (
        1.5  # right more often than not, like the models
    )
    spliced_logits[torch.arange(300), labels] += 1.0
    got = _tensor(
        _run(fn, mlp_logits, spliced_logits, labels),
        "the mask",
        (300,),
        ": one entry per image",
    )
    mlp_right = mlp_logits.argmax(-1) == labels
    spliced_right = spliced_logits.argmax(-1) == labels
    if torch.equal(got.bool(), mlp_right & ~spliced_right):
        return f"the {int((mlp_right & ~spliced_right).sum())} of 300 images the MLP gets right and the spliced model wrong"
    if torch.equal(got.bool(), ~spliced_right):
        raise _Wrong(
            "these are all the spliced model's errors: keep those where the MLP is right"
        )
    if torch.equal(got.bool(), ~mlp_right & spliced_right):
        raise _Wrong("the other way round: the MLP right and the spliced model wrong")
    raise _Wrong(
        "an image is the transcoder's own error when the MLP's argmax is its label and the spliced model's is not"
    )
