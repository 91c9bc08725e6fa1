import pytest
import torch
import torch.nn.functional as F

from wbinterp import data, drawing


def _centre_of_mass(field: torch.Tensor) -> tuple[float, float]:
    index = torch.arange(28, dtype=torch.float64)
    f = field.reshape(28, 28).double()
    return float((f.sum(1) * index).sum() / f.sum()), float(
        (f.sum(0) * index).sum() / f.sum()
    )


@pytest.fixture(scope="module")
def digits() -> tuple[torch.Tensor, torch.Tensor]:
    test = data.load("mnist").test
    return test.images[:200], test.labels[:200]


def test_area_weights_average_over_the_covered_cells():
    w = drawing.area_weights(5, 2)  # each output covers 2.5 input cells
    torch.testing.assert_close(w.sum(1), torch.ones(2, dtype=torch.float64))
    torch.testing.assert_close(
        w[0], torch.tensor([0.4, 0.4, 0.2, 0, 0], dtype=torch.float64)
    )
    # scaling up repeats each cell; the same size is the identity
    torch.testing.assert_close(
        drawing.area_weights(2, 4),
        torch.tensor([[1.0, 0], [1, 0], [0, 1], [0, 1]]).double(),
    )
    torch.testing.assert_close(
        drawing.area_weights(7, 7), torch.eye(7, dtype=torch.float64)
    )


def test_a_digit_redrawn_larger_elsewhere_comes_back_as_mnist_made_it(digits):
    images, _ = digits
    errors, correlations = [], []
    for x in images:
        big = F.interpolate(
            x.reshape(1, 1, 28, 28),
            scale_factor=5,
            mode="bilinear",
            align_corners=False,
        )
        canvas = torch.zeros(200, 240)
        canvas[30:170, 70:210] = big[0, 0]
        back = drawing.to_mnist(canvas)
        errors.append((back - x).abs().mean())
        correlations.append(torch.corrcoef(torch.stack([back, x]))[0, 1])
    # the redrawing blurs each stroke a little; the digit, its size and its place survive
    assert torch.stack(errors).mean() < 0.05
    assert torch.stack(correlations).median() > 0.9


def test_the_ink_fits_20_by_20_with_its_centre_of_mass_at_14(digits):
    images, _ = digits
    for x in images[:50]:
        stretched = F.interpolate(
            x.reshape(1, 1, 28, 28), size=(90, 40), mode="bilinear"
        )[0, 0]
        field = drawing.to_mnist(stretched.clamp(0, 1)).reshape(28, 28)
        rows, cols = field.gt(0).any(1).nonzero(), field.gt(0).any(0).nonzero()
        assert (
            max(int(rows[-1] - rows[0]) + 1, int(cols[-1] - cols[0]) + 1) == drawing.BOX
        )
        row, col = _centre_of_mass(field)
        assert abs(row - drawing.CENTRE) <= 0.5 and abs(col - drawing.CENTRE) <= 0.5


def test_mnist_digits_already_sit_where_to_mnist_puts_them(digits):
    images, _ = digits
    for x in images[:50]:
        assert _centre_of_mass(x) == pytest.approx((14, 14), abs=1.0)
        square = x.reshape(28, 28).gt(0)
        if max(int(square.any(1).sum()), int(square.any(0).sum())) != drawing.BOX:
            continue  # 3 test digits in 10,000 are 19 pixels at most
        # MNIST's own digits pass through unchanged but for the whole-pixel recentring
        back = drawing.to_mnist(x.reshape(28, 28)).reshape(28, 28)
        assert back.sum() == pytest.approx(x.sum().item(), rel=1e-5)


def test_the_rounding_is_half_up_in_both_directions():
    assert [drawing.round_half_up(v) for v in (0.5, 1.5, 2.5, -0.5, 2.49)] == [
        1,
        2,
        3,
        0,
        2,
    ]


def test_a_tiny_or_lopsided_drawing_still_fills_the_box():
    dot = torch.zeros(50, 50)
    dot[10, 40] = 1.0
    field = drawing.to_mnist(dot).reshape(28, 28)
    assert field.sum() == pytest.approx(
        400.0
    )  # one cell scaled up to the whole 20×20 box
    bar = torch.zeros(30, 300)
    bar[5:8, 10:290] = 0.5
    field = drawing.to_mnist(bar).reshape(28, 28)
    assert field.gt(0).any(0).sum() == 20 and field.max() <= 1


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (torch.zeros(28, 28), "draw a digit"),
        (torch.zeros(784), "2-D"),
        (torch.full((5, 5), 2.0), r"\[0, 1\]"),
        (torch.full((5, 5), float("nan")), r"\[0, 1\]"),
    ],
)
def test_bad_drawings_fail_with_one_line(image, message):
    with pytest.raises(ValueError, match=message):
        drawing.to_mnist(image)
