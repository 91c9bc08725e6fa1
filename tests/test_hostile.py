"""Hostile inputs to every public maths function: wrong shapes, wrong dtypes, not tensors.

Each function is called once with good arguments (it must work), then once per
tensor argument with that argument spoiled in three ways; every call must fail
with an error that names the argument, never compute on bad input.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from wbinterp import adversarial, bilinear, bridge, features, pairs

D, N, C, P = 6, 5, 3, 7


def _t(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


W_L, W_R, W_U, W_E = (
    _t(D, N, seed=1),
    _t(D, N, seed=2),
    _t(C, D, seed=3),
    _t(N, P, seed=4),
)
Q = bilinear.interaction_matrices(W_L, W_R, W_U)
SPEC = bilinear.spectrum(Q)
SVD = bridge.tensor_svd(W_L, W_R)

#: name -> (function, positional args, keyword args, names of the tensor arguments to spoil)
CALLS = {
    "fold_bias": (bilinear.fold_bias, (), {"w": W_L, "b": _t(D)}, ["w", "b"]),
    "append_one": (bilinear.append_one, (), {"x": _t(4, N)}, ["x"]),
    "bilinear_tensor": (
        bilinear.bilinear_tensor,
        (),
        {"w_l": W_L, "w_r": W_R},
        ["w_l", "w_r"],
    ),
    "interaction_matrices": (
        bilinear.interaction_matrices,
        (),
        {"w_l": W_L, "w_r": W_R, "w_u": W_U},
        ["w_l", "w_r", "w_u"],
    ),
    "to_input_basis": (bilinear.to_input_basis, (), {"q": Q, "w_e": W_E}, ["q", "w_e"]),
    "quadratic_form": (
        bilinear.quadratic_form,
        (),
        {"q": Q, "h": _t(4, N)},
        ["q", "h"],
    ),
    "spectrum": (bilinear.spectrum, (), {"q": Q, "w_e": W_E}, ["q", "w_e"]),
    "truncated_logits": (
        bilinear.truncated_logits,
        (SPEC,),
        {"h": _t(4, N), "k": 2},
        ["h"],
    ),
    "pinv": (bridge.pinv, (), {"dictionary": _t(D, 9)}, ["dictionary"]),
    "pinv_activations": (
        bridge.pinv_activations,
        (),
        {"y": _t(4, D), "dictionary": _t(D, 9), "bias": _t(D)},
        ["y", "dictionary", "bias"],
    ),
    "tensor_gram": (
        bridge.tensor_gram,
        (),
        {"w_l": W_L, "w_r": W_R, "w_u": W_U, "w_e": W_E},
        ["w_l", "w_r", "w_u", "w_e"],
    ),
    "bottleneck": (
        bridge.bottleneck,
        (),
        {"outputs": _t(4, D), "svd": SVD, "k": 2},
        ["outputs"],
    ),
    "pair_outputs": (
        pairs.pair_outputs,
        (),
        {
            "w_l": W_L,
            "w_r": W_R,
            "inputs": W_E,
            "i": torch.tensor([0, 1]),
            "j": torch.tensor([2, 3]),
        },
        ["w_l", "w_r", "inputs"],
    ),
    "best_match": (bridge.best_match, (), {"a": _t(4, D), "b": _t(3, D)}, ["a", "b"]),
    "logit_effects": (
        features.logit_effects,
        (),
        {"w_dec": _t(D, 9), "w_head": W_U},
        ["w_dec", "w_head"],
    ),
    "frequency": (
        features.frequency,
        (),
        {"activations": _t(4, 9).relu()},
        ["activations"],
    ),
    "keep_top_n": (
        features.keep_top_n,
        (),
        {"activations": _t(4, 9).relu(), "n": 2},
        ["activations"],
    ),
    "scale_to_std": (
        adversarial.scale_to_std,
        (),
        {"masks": _t(C, P), "std": 0.3},
        ["masks"],
    ),
    "permute_pixels": (adversarial.permute_pixels, (), {"masks": _t(C, P)}, ["masks"]),
}

SPOILERS = {
    "integer dtype": (
        lambda t: t.long(),
        ValueError,
        "must be a floating-point tensor",
    ),
    "numpy array": (lambda t: t.numpy(), TypeError, "must be a torch.Tensor"),
    "extra axis": (lambda t: t[None], ValueError, "must have shape"),
}

CASES = [
    (name, arg, spoil)
    for name, (_, _, _, args) in CALLS.items()
    for arg in args
    for spoil in SPOILERS
]


@pytest.mark.parametrize("name", CALLS)
def test_good_arguments_work(name):
    function, args, kwargs, _ = CALLS[name]
    function(*args, **kwargs)


@pytest.mark.parametrize(
    "name, arg, spoil", CASES, ids=[f"{n}-{a}-{s}" for n, a, s in CASES]
)
def test_bad_argument_is_named_in_the_error(name, arg, spoil):
    function, args, kwargs, _ = CALLS[name]
    mutate, error, message = SPOILERS[spoil]
    bad = dict(kwargs, **{arg: mutate(kwargs[arg])})
    with pytest.raises(error, match=rf"\b{arg}\b.*{message}|{message}.*\b{arg}\b"):
        function(*args, **bad)


def test_numpy_inputs_are_refused_not_converted():
    # a reader passing a NumPy array gets told, rather than a silent float64 copy
    with pytest.raises(TypeError, match="w_l must be a torch.Tensor, got ndarray"):
        bilinear.interaction_matrices(np.ones((D, N)), W_R, W_U)
