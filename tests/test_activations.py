"""The activations of sparse coders: what makes each kind that kind."""

from __future__ import annotations

import math

import pytest
import torch

from wbinterp import activations, sparse

BASE = sparse.SparseTrainConfig().with_(
    d_in=20, d_out=12, n_features=48, k=4, epochs=3, batch_size=32, dead_steps=5
)


def planted(n: int = 2048, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and targets that a sparse code explains: each input is four of 40
    directions with random sizes; the target a fixed linear map of it."""
    g = torch.Generator().manual_seed(seed)
    codes = torch.zeros(n, 40)
    idx = torch.stack([torch.randperm(40, generator=g)[:4] for _ in range(n)])
    codes.scatter_(1, idx, torch.rand(n, 4, generator=g) + 0.5)
    x = codes @ torch.randn(40, 20, generator=g)
    return x, x @ torch.randn(20, 12, generator=g)


def test_every_activation_is_registered_and_an_unknown_one_fails_with_the_choices():
    assert set(activations.names()) >= {"relu", "topk", "batchtopk", "jumprelu"}
    with pytest.raises(ValueError, match="activation must be one of"):
        BASE.with_(activation="gelu")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (dict(threshold=0.5), "threshold is for activation 'jumprelu'"),
        (dict(activation="jumprelu"), "needs a positive threshold"),
        (dict(activation="jumprelu", threshold=-1.0), "needs a positive threshold"),
        (dict(l0_coefficient=0.1), "l0_coefficient is for activation 'jumprelu'"),
        (dict(l1_coefficient=0.1), "l1_coefficient is for activation 'relu'"),
        (dict(activation="relu", aux_k=8), "aux_k is for the TopK family"),
        (dict(prefixes=(16, 8)), "prefixes must be a tuple of increasing sizes"),
        (dict(prefixes=(8, 48)), "prefixes must be a tuple of increasing sizes"),
        (dict(prefixes=[8, 16]), "prefixes must be a tuple of increasing sizes"),
    ],
)
def test_a_config_that_mixes_kinds_fails_with_one_line(changes, message):
    with pytest.raises(ValueError, match=message):
        BASE.with_(**changes)


def test_batchtopk_keeps_k_per_input_on_average_over_the_batch_not_per_input():
    coder = sparse.SparseCoder(BASE.coder.with_(activation="batchtopk")).train()
    with torch.no_grad():
        coder.b_enc.fill_(5.0)
        coder.w_enc.mul_(torch.linspace(0.1, 4, 48)[:, None])
    x = torch.randn(32, 20) * torch.linspace(0.1, 3, 32)[:, None]
    acts = coder(x).activations
    per_input = (acts > 0).sum(1)
    assert per_input.sum() == 4 * 32 and per_input.min() < 4 < per_input.max()


def test_batchtopk_fixes_a_global_threshold_so_inference_l0_is_near_k():
    x, y = planted()
    config = BASE.with_(activation="batchtopk", resample_every=0)
    coder = sparse.train_sparse(config, x, y).model
    assert not coder.training and coder.threshold > 0
    l0 = sparse.firing_stats(coder(x).activations)["l0"]
    assert 0.75 * 4 < l0 < 1.25 * 4
    # the threshold is a buffer: saved and loaded with the weights
    again = sparse.SparseCoder(config.coder)
    again.load_state_dict(coder.state_dict())
    torch.testing.assert_close(again.eval()(x).output, coder(x).output)


def test_jumprelu_estimator_gives_the_thresholds_their_gradient():
    config = BASE.with_(activation="jumprelu", threshold=1.0, l0_coefficient=1.0)
    coder = sparse.SparseCoder(config.coder)
    pre = torch.tensor([[1.01, 0.2, 3.0], [0.99, 1.0, -1.0]])
    theta = torch.tensor([1.0, 1.0, 1.0])
    with torch.no_grad():
        coder.log_threshold[:3] = theta.log()
    eps = config.bandwidth
    penalty = coder.activation.penalty(
        torch.zeros(2, 3), pre, _three(coder), config, warm=1.0
    )
    assert penalty is not None
    penalty.backward()
    grad = coder.log_threshold.grad[:3]
    # dL0/dθ = −Σ_n K((z − θ)/ε)/ε, times dθ/dlogθ = θ; two inputs of feature 0 and
    # one of feature 1 lie within ε/2 of θ (L0 summed per input, averaged over 2)
    torch.testing.assert_close(grad, -torch.tensor([2.0, 1.0, 0.0]) / eps / 2)
    # the features: z · H(z − θ), forward exact, ∂/∂z = H(z − θ)
    z = pre.clone().requires_grad_(True)
    acts = coder.activation(z, _three(coder), config)
    torch.testing.assert_close(acts, pre * (pre > 1.0))
    acts.sum().backward()
    torch.testing.assert_close(z.grad, (pre > 1.0).float())


def _three(coder: sparse.SparseCoder) -> sparse.SparseCoder:
    """A view of the coder whose first three thresholds the tests read."""

    class Three(torch.nn.Module):
        config = coder.config

        @property
        def log_threshold(self) -> torch.Tensor:
            return coder.log_threshold[:3]

    return Three()  # type: ignore[return-value]


def test_jumprelu_training_moves_the_thresholds_and_the_l0_penalty_lowers_l0():
    x, y = planted()
    config = BASE.with_(
        activation="jumprelu", threshold=0.5, resample_every=0, bandwidth=0.5, lr=3e-2
    )
    # Adam moves log θ by about the learning rate per step whatever λ is, hence the
    # large rate in a run this short
    loose = sparse.train_sparse(config, x, y).model
    tight = sparse.train_sparse(config.with_(l0_coefficient=0.1), x, y).model
    assert not torch.allclose(tight.log_threshold, torch.full((48,), math.log(0.5)))
    l0 = lambda c: sparse.firing_stats(c(x).activations)["l0"]  # noqa: E731
    assert l0(tight) < 0.5 * l0(loose)


def test_matryoshka_prefix_reconstructs_alone_far_better_than_without_the_prefix_loss():
    x, y = planted()
    plain = BASE.with_(activation="batchtopk", k=8, resample_every=0, epochs=6)
    fvu = {}
    for name, config in (("plain", plain), ("nested", plain.with_(prefixes=(16,)))):
        coder = sparse.train_sparse(config, x, y).model
        acts = coder(x).activations
        fvu[name] = sparse.fvu(y, coder.decode_prefix(acts, 16))
        fvu[name + " whole"] = sparse.fvu(y, coder(x).output)
        # a prefix of the whole dictionary is the whole decoder
        torch.testing.assert_close(coder.decode_prefix(acts, 48), coder.decode(acts))
    # measured: 0.29 against 0.55 for the prefix, 0.136 against 0.130 for the whole
    assert fvu["nested"] < 0.7 * fvu["plain"]
    assert fvu["nested whole"] < fvu["plain whole"] + 0.05


def test_auxk_gives_dead_features_and_only_them_a_gradient():
    coder = sparse.SparseCoder(BASE.coder)
    x, residual = torch.randn(16, 20), torch.randn(16, 12)
    _, pre = coder.encode(x)
    dead = torch.zeros(48, dtype=torch.bool)
    dead[:10] = True
    loss = sparse.auxk_loss(coder, pre, residual, dead, 3, torch.tensor(1.0))
    loss.backward()
    moved = coder.w_dec.grad.abs().sum(0) > 0
    assert moved[:10].any() and not moved[10:].any()
    # with no feature decoding, the loss is the residual's own size
    nothing = sparse.auxk_loss(
        coder, torch.full_like(pre, -1.0), residual, dead, 3, torch.tensor(2.0)
    )
    torch.testing.assert_close(nothing, residual.square().sum(1).mean() / 2)


def test_auxk_trains_and_keeps_the_config_in_the_description():
    x, y = planted()
    config = BASE.with_(aux_k=16, resample_every=0, prefixes=(8, 24))
    assert "aux_k=16 prefixes=8,24" in sparse.describe(config)
    run = sparse.train_sparse(config, x, y)
    assert run.history["fvu"][-1] < run.history["fvu"][0]
    again = sparse.SparseTrainConfig.from_dict(config.to_dict())
    assert again == config
