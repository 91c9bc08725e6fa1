"""Toy tasks: target forms equal the truth tables, the forms are unique, a layer learns them."""

from __future__ import annotations

import itertools

import pytest
import torch

from wbinterp import bilinear, toy


@pytest.mark.parametrize(
    "operation, truth",
    [
        ("and", lambda a, b: a * b),
        ("or", lambda a, b: torch.maximum(a, b)),
        ("xor", lambda a, b: (a != b).float()),
    ],
)
def test_target_forms_are_the_truth_tables(operation, truth):
    task = toy.BooleanPairs(operation, n_inputs=5)
    x = toy.all_binary_inputs(5)
    values = bilinear.quadratic_form(task.target_forms(), x)
    for c, (i, j) in enumerate(task.pairs):
        torch.testing.assert_close(
            values[:, c], truth(x[:, i], x[:, j]), rtol=0, atol=0
        )
    _, targets = task.sample(64, torch.Generator().manual_seed(0))
    assert set(targets.unique().tolist()) <= {0.0, 1.0}


def test_negation_outputs_count_negation_sentiment_pairs():
    task = toy.Negation(n_negation=2, n_positive=2, n_negative=2, n_other=1)
    fam = task.families()
    x = toy.all_binary_inputs(task.n_inputs)
    values = bilinear.quadratic_form(task.target_forms(), x)
    negation = x[:, fam["negation"]].sum(1)
    torch.testing.assert_close(
        values[:, 0], negation * x[:, fam["positive"]].sum(1), rtol=0, atol=0
    )
    torch.testing.assert_close(
        values[:, 1], negation * x[:, fam["negative"]].sum(1), rtol=0, atol=0
    )
    assert sum(m.sum().item() for m in fam.values()) == task.n_inputs


def test_a_quadratic_function_of_binary_inputs_has_one_form():
    """The monomials x_i and x_i x_j (i < j) are independent on {0, 1}^n, so the truth table
    of a bias-free quadratic fixes every entry of its symmetric form."""
    n = 5
    x = toy.all_binary_inputs(n).double()
    columns = [x[:, i] for i in range(n)] + [
        x[:, i] * x[:, j] for i, j in itertools.combinations(range(n), 2)
    ]
    design = torch.stack(columns, dim=1)
    assert torch.linalg.matrix_rank(design) == design.shape[1]


def test_fit_recovers_the_and_circuit():
    task = toy.BooleanPairs("and", n_inputs=4)
    result = toy.fit(task, d_hidden=16, steps=400, batch_size=256)
    model, losses = result.model, result.history["loss"]
    assert losses[-1] < 1e-3 < losses[0]
    assert result.history["step"] == [float(s) for s in range(1, 401)]
    assert result.precision == "float32" and not model.training
    assert not any(p.requires_grad for p in model.parameters())
    forms = toy.learned_forms(model)
    assert (forms - task.target_forms()).abs().max() < 0.05


def test_bad_tasks_are_refused_with_one_clear_line():
    with pytest.raises(ValueError, match="unknown operation 'nand'"):
        toy.BooleanPairs("nand")
    with pytest.raises(ValueError, match="p_on must be between 0 and 1"):
        toy.BooleanPairs("and", p_on=1.5)
    with pytest.raises(ValueError, match="n_inputs"):
        toy.BooleanPairs("and", n_inputs=1)
    with pytest.raises(ValueError, match="n_other"):
        toy.Negation(n_other=0)
    with pytest.raises(ValueError, match="steps"):
        toy.fit(toy.BooleanPairs("and"), steps=0)
    with pytest.raises(ValueError, match="too many"):
        toy.all_binary_inputs(21)
