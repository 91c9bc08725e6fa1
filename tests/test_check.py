"""Each exercise check accepts the book's solution and rejects typical wrong answers
with the hint meant for them."""

from __future__ import annotations

import math

import pytest
import torch

from wbinterp import bilinear, check
from wbinterp.models import BilinearMLP, ModelConfig, ReLUMLP


def _passes(capsys, outcome: bool) -> str:
    line = capsys.readouterr().out.strip()
    assert outcome and line.startswith(check.PASS), line
    return line


def _fails(capsys, outcome: bool, hint: str) -> str:
    line = capsys.readouterr().out.strip()
    assert not outcome and line.startswith(check.FAIL), line
    assert hint in line, line
    assert "\n" not in line  # one line
    return line


def test_parameter_counts(capsys):
    _passes(
        capsys,
        check.parameter_counts(
            lambda d: 784 * d + 2 * d**2 + 10 * d, lambda d: 794 * d
        ),
    )
    _fails(
        capsys,
        check.parameter_counts(lambda d: 784 * d + d**2 + 10 * d, lambda d: 794 * d),
        "two d × d",
    )
    _fails(
        capsys,
        check.parameter_counts(
            lambda d: 784 * d + 2 * d**2 + 10 * d, lambda d: 784 * d
        ),
        "W_out",
    )
    _fails(
        capsys,
        check.parameter_counts(lambda d: 1 / 0, lambda d: 794 * d),
        "ZeroDivisionError",
    )


@pytest.mark.parametrize("kind, power", [("bilinear", 2), ("relu", 1)])
def test_scaling_power(capsys, kind, power):
    torch.manual_seed(0)
    model = (
        BilinearMLP(ModelConfig(d_hidden=8))
        if kind == "bilinear"
        else ReLUMLP(ModelConfig(kind="relu", d_hidden=8))
    )
    _passes(capsys, check.scaling_power(model, power))
    line = _fails(capsys, check.scaling_power(model, 3 - power), "count how many times")
    assert f"^{power}.00" in line  # says what it measured
    _fails(
        capsys, check.scaling_power(model, ...), "as a number"
    )  # the starter code, untouched


def _unsymmetrised(w_l, w_r):
    return torch.einsum("ai,aj->aij", w_l, w_r)


def test_unsymmetrised(capsys):
    _passes(capsys, check.unsymmetrised(_unsymmetrised))
    _fails(capsys, check.unsymmetrised(bilinear.bilinear_tensor), "symmetrised tensor")
    _fails(
        capsys,
        check.unsymmetrised(lambda w_l, w_r: _unsymmetrised(w_l, w_r).transpose(1, 2)),
        "swapped",
    )
    _fails(capsys, check.unsymmetrised(lambda w_l, w_r: w_l.T @ w_r), "shape")


def test_form_error(capsys):
    from wbinterp import toy

    def largest(model, task):
        return (toy.learned_forms(model) - task.target_forms()).abs().max()

    _passes(capsys, check.form_error(largest))
    _fails(
        capsys,
        check.form_error(lambda m, t: (toy.learned_forms(m) - t.target_forms()).max()),
        "absolute value",
    )
    _fails(
        capsys,
        check.form_error(
            lambda m, t: (toy.learned_forms(m) - t.target_forms()).abs().mean()
        ),
        "not the mean",
    )
    _fails(
        capsys,
        check.form_error(
            lambda m, t: (m.interaction_matrices() - t.target_forms()).abs().max()
        ),
        "raised",
    )


def test_eigenpairs_2x2(capsys):
    s = 1 / math.sqrt(2)
    _passes(
        capsys, check.eigenpairs_2x2([1, -1], [[s, s], [-s, s]])
    )  # a sign flip is fine
    _fails(capsys, check.eigenpairs_2x2([1, -1], [[1, 1], [1, -1]]), "length 1")
    _fails(capsys, check.eigenpairs_2x2([1, -1], [[s, -s], [s, s]]), "same place")
    _fails(capsys, check.eigenpairs_2x2([1, 0], [[s, s], [s, -s]]), "roots")


def _logit_terms(model, h, c):
    spec = bilinear.spectrum(model.interaction_matrices())
    return spec.values[c] * (spec.vectors[c] @ h) ** 2


def test_logit_terms(capsys):
    _passes(capsys, check.logit_terms(_logit_terms))

    def unsquared(model, h, c):
        spec = bilinear.spectrum(model.interaction_matrices())
        return spec.values[c] * (spec.vectors[c] @ h)

    def unsigned(model, h, c):
        return _logit_terms(model, h, c).abs()

    _fails(capsys, check.logit_terms(unsquared), "squares the projection")
    _fails(capsys, check.logit_terms(unsigned), "sign of each eigenvalue")
    _fails(
        capsys,
        check.logit_terms(lambda model, h, c: _logit_terms(model, h, c + 1)),
        "sum to",
    )
    _fails(
        capsys,
        check.logit_terms(lambda model, h, c: _logit_terms(model, h, c)[:3]),
        "shape",
    )


def test_effective_ranks(capsys):
    _passes(capsys, check.effective_ranks([4, 1, 1.6]))
    _fails(capsys, check.effective_ranks([4, 1, 0.4]), "use |λ|")
    _fails(capsys, check.effective_ranks([4, 4, 1.6]), "(Σ|λ|)²")
    _fails(capsys, check.effective_ranks([4, 1]), "shape")


def test_positive_only(capsys):
    keep = lambda spec: bilinear.Spectrum(spec.values.clamp_min(0), spec.vectors)  # noqa: E731
    _passes(capsys, check.positive_only(keep))
    _fails(
        capsys,
        check.positive_only(
            lambda s: bilinear.Spectrum(s.values.clamp_max(0), s.vectors)
        ),
        "kept the negative",
    )
    _fails(
        capsys,
        check.positive_only(lambda s: bilinear.Spectrum(s.values.abs(), s.vectors)),
        "|λ|",
    )
    _fails(
        capsys,
        check.positive_only(
            lambda s: bilinear.Spectrum(s.values[s.values > 0], s.vectors)
        ),
        "zero the dropped",
    )
    _fails(
        capsys,
        check.positive_only(lambda s: s.values.clamp_min(0)),
        "bilinear.Spectrum",
    )


def _account(coder, mlp, x, c):
    out = coder(x[None])
    effects = mlp.w_out @ coder.w_dec  # (10, F)
    return mlp.head(coder.b_dec[None])[0, c], out.activations[0] * effects[c]


def test_logit_account(capsys):
    _passes(capsys, check.logit_account(_account))

    def from_pre(coder, mlp, x, c):
        constant, _ = _account(coder, mlp, x, c)
        return constant, coder(x[None]).pre_activations[0] * (mlp.w_out @ coder.w_dec)[
            c
        ]

    def no_bias(coder, mlp, x, c):
        return 0.0, _account(coder, mlp, x, c)[1]

    def lumped(coder, mlp, x, c):
        constant, contributions = _account(coder, mlp, x, c)
        return constant, torch.full_like(
            contributions, float(contributions.sum()) / len(contributions)
        )

    _fails(capsys, check.logit_account(from_pre), "not the pre-activations")
    _fails(capsys, check.logit_account(no_bias), "writes into every image")
    _fails(capsys, check.logit_account(lumped), "feature by feature")
    _fails(capsys, check.logit_account(lambda *a: _account(*a)[1]), "two things")


def test_own_errors(capsys):
    def own(mlp_logits, spliced_logits, labels):
        return (mlp_logits.argmax(-1) == labels) & (spliced_logits.argmax(-1) != labels)

    _passes(capsys, check.own_errors(own))
    _fails(
        capsys,
        check.own_errors(lambda m, s, y: s.argmax(-1) != y),
        "keep those where the MLP is right",
    )
    _fails(
        capsys, check.own_errors(lambda m, s, y: own(s, m, y)), "the other way round"
    )
    _fails(capsys, check.own_errors(lambda m, s, y: own(m, s, y)[:10]), "shape")


def test_passes_is_silent_even_about_the_students_prints(capsys):
    def noisy(w_l, w_r):
        print("debugging")
        return _unsymmetrised(w_l, w_r)

    assert check.passes(check.unsymmetrised, noisy) is True
    assert check.passes(check.unsymmetrised, bilinear.bilinear_tensor) is False
    assert capsys.readouterr().out == ""
