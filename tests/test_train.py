"""Training is deterministic, learns, and evaluation is pure."""

from __future__ import annotations

import pytest
import torch

from wbinterp.models import ModelConfig
from wbinterp.presets import PRESETS
from wbinterp.presets import get as preset
from wbinterp.train import GaussianNoise, TrainConfig, evaluate, shift, train

TINY = TrainConfig(
    model=ModelConfig(d_hidden=16),
    epochs=3,
    batch_size=32,
    lr=1e-2,
    weight_decay=0.0,
    input_noise=0.1,
)


def test_training_is_deterministic_on_cpu(toy_data):
    a = train(TINY, toy_data, device="cpu")
    b = train(TINY, toy_data, device="cpu")
    for (name, wa), (_, wb) in zip(
        a.model.state_dict().items(), b.model.state_dict().items()
    ):
        assert torch.equal(wa, wb), name
    timing = lambda h: {k: v for k, v in h.items() if k != "seconds"}
    assert timing(a.history) == timing(b.history)
    assert len(a.history["seconds"]) == TINY.epochs and all(
        t > 0 for t in a.history["seconds"]
    )
    c = train(TINY.with_(seed=1), toy_data, device="cpu")
    assert not torch.equal(a.model.w_e, c.model.w_e)


@pytest.mark.parametrize("kind", ["bilinear", "relu"])
def test_training_learns_a_separable_problem(toy_data, kind):
    config = TINY.with_(kind=kind, epochs=8)
    result = train(config, toy_data, device="cpu")
    assert result.history["epoch"] == list(range(1, 9))
    assert result.history["test_accuracy"][-1] > 0.9
    assert result.history["train_loss"][-1] < result.history["train_loss"][0]


def test_zero_epochs_give_the_seeded_initial_model(toy_data):
    """The untrained control (preset ``relu-init``): the starting point of the trained run."""
    start = train(TINY.with_(kind="relu", epochs=0), toy_data, device="cpu")
    again = train(TINY.with_(kind="relu", epochs=0), toy_data, device="cpu")
    trained = train(TINY.with_(kind="relu"), toy_data, device="cpu")
    assert start.history["epoch"] == []
    assert torch.equal(start.model.w_in, again.model.w_in)
    assert not torch.equal(start.model.w_in, trained.model.w_in)


def test_noise_is_seeded_standard_normal_and_independent_of_threads():
    cpu = torch.device("cpu")
    threads = torch.get_num_threads()
    draws = []
    try:
        for n_threads in (1, 2):
            torch.set_num_threads(n_threads)
            noise = GaussianNoise(seed=3, device=cpu)
            draws.append(torch.cat([noise((301, 40)), noise((301, 40))]))
            noise.close()
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(draws[0], draws[1])
    sample = draws[0]
    assert sample.shape == (602, 40)
    assert abs(sample.mean().item()) < 0.02 and abs(sample.std().item() - 1) < 0.02
    # the two halves come from different generators, and the next call goes on
    assert not torch.equal(sample[:150], sample[150:300])
    assert not torch.equal(sample[:301], sample[301:])
    other = GaussianNoise(seed=4, device=cpu)
    assert not torch.equal(other((301, 40)), sample[:301])
    other.close()


def test_shift_translates_each_image_by_its_own_offset_within_range():
    images = torch.rand(64, 36) + 0.1  # 6×6, no zero pixels
    out = shift(images, 2, torch.Generator().manual_seed(0)).view(64, 6, 6)
    square = images.view(64, 6, 6)
    seen = set()
    for image, moved in zip(square, out):
        matches = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if torch.equal(moved, _translate(image, dy, dx))
        ]
        assert len(matches) == 1
        seen.add(matches[0])
    assert len(seen) > 10  # offsets differ between images
    with pytest.raises(ValueError, match="square images, got 20 pixels"):
        shift(torch.rand(3, 20), 1, torch.Generator())
    with pytest.raises(ValueError, match="max_shift must be an integer from 0 to 13"):
        TINY.with_(max_shift=14)


def _translate(image: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """``image`` moved down by ``dy`` and right by ``dx``, zeros coming in."""
    out = torch.zeros_like(image)
    n = image.shape[0]
    out[max(dy, 0) : n + min(dy, 0), max(dx, 0) : n + min(dx, 0)] = image[
        max(-dy, 0) : n + min(-dy, 0), max(-dx, 0) : n + min(-dx, 0)
    ]
    return out


def test_evaluate_is_pure_and_correct(toy_data):
    model = train(TINY, toy_data, device="cpu").model
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    metrics = evaluate(model, toy_data.test, batch_size=7)
    assert model.training  # mode restored
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    with torch.no_grad():
        logits = model(toy_data.test.images)
    expected = (logits.argmax(-1) == toy_data.test.labels).float().mean().item()
    assert metrics["accuracy"] == pytest.approx(expected)
    assert metrics["loss"] == pytest.approx(
        torch.nn.functional.cross_entropy(logits, toy_data.test.labels).item(),
        rel=1e-4,
        abs=1e-7,
    )


def test_presets_follow_the_paper_and_the_seed_notebook():
    paper = preset("paper")
    assert (
        paper.model.d_hidden,
        paper.lr,
        paper.weight_decay,
        paper.batch_size,
        paper.schedule,
        paper.input_noise,
        paper.model.bias,
    ) == (512, 1e-3, 1.0, 2048, "cosine", 0.5, False)
    seed = preset("seed-notebook")
    assert (seed.epochs, seed.input_noise) == (20, 0.15)
    assert preset("relu").model.kind == "relu" and preset("relu").model.d_hidden == 512
    assert set(PRESETS) >= {"paper", "seed-notebook", "book", "relu"}
    with pytest.raises(KeyError, match="unknown preset 'nope'"):
        preset("nope")


def test_config_round_trips_through_dict():
    config = PRESETS["relu"].with_(bias=True, seed=3)
    assert TrainConfig.from_dict(config.to_dict()) == config


def test_bad_training_settings_are_refused(toy_data):
    with pytest.raises(ValueError, match="exceeds the 256 training images"):
        train(TINY.with_(batch_size=1000), toy_data, device="cpu")
    # refused when the config is made, before anything trains
    with pytest.raises(ValueError, match="unknown schedule 'linear'"):
        TINY.with_(schedule="linear")
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        TINY.with_(dataset="cifar")
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        TINY.with_(batch_size=0)
    with pytest.raises(ValueError, match="lr > 0"):
        TINY.with_(lr=-1.0)
