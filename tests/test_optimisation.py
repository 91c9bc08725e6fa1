"""The shared optimiser step and the cosine schedule."""

from __future__ import annotations

import math

import pytest
import torch

from wbinterp import optimisation


def _optimiser(lr: float = 1.0) -> tuple[torch.nn.Parameter, torch.optim.SGD]:
    weight = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    return weight, torch.optim.SGD([weight], lr=lr)


def test_the_cosine_schedule_falls_from_the_peak_to_its_floor_and_stays():
    for floor in (0.0, 0.1):
        weight, opt = _optimiser(lr=2.0)
        schedule = optimisation.cosine_schedule(opt, total_steps=4, floor=floor)
        rates = []
        for _ in range(6):
            rates.append(opt.param_groups[0]["lr"])
            opt.step()
            schedule.step()
        want = [
            2.0 * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(s, 4) / 4)))
            for s in range(6)
        ]
        assert rates == pytest.approx(want, abs=1e-15)
        assert rates[0] == 2.0 and rates[4] == rates[5] == pytest.approx(2.0 * floor)
    with pytest.raises(ValueError, match="floor must be between 0 and 1, got 1.5"):
        optimisation.cosine_schedule(opt, 4, floor=1.5)


def test_the_schedule_is_bit_for_bit_the_loops_former_formulas():
    # the classifier decayed to zero, the sparse coders to a tenth: the shared
    # schedule must give the same floats, or every stored model would move
    total = 2343
    for s in (0, 1, 17, 1000, 2342, 2343, 2400):
        c = math.cos(math.pi * min(s, total) / max(total, 1))
        for floor, former in ((0.0, 0.5 * (1 + c)), (0.1, 0.1 + 0.9 * 0.5 * (1 + c))):
            _, opt = _optimiser()
            schedule = optimisation.cosine_schedule(opt, total, floor=floor)
            assert schedule.lr_lambdas[0](s) == former


def test_a_step_applies_the_gradient_change_before_the_update_then_the_schedule():
    weight, opt = _optimiser(lr=0.5)
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 / (s + 1))
    seen = []

    def keep_first_coordinate() -> None:
        seen.append(weight.grad.clone())
        weight.grad[1] = 0.0

    optimisation.optimiser_step(
        (weight**2).sum(), opt, schedule, before_update=keep_first_coordinate
    )
    torch.testing.assert_close(seen[0], torch.tensor([2.0, -4.0]))
    # w − 0.5 · (2w₀, 0): only the first coordinate moved
    torch.testing.assert_close(weight.detach(), torch.tensor([0.0, -2.0]))
    assert opt.param_groups[0]["lr"] == 0.25  # the schedule took its step
    optimisation.optimiser_step((weight**2).sum(), opt, schedule)
    # the previous gradient was cleared, not added to: −2 − 0.25 · (−4)
    torch.testing.assert_close(weight.detach(), torch.tensor([0.0, -1.0]))
