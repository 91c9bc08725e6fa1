"""The top-down reading of a two-layer bilinear model is exact, and truncates as it should."""

from __future__ import annotations

import pytest
import torch

from wbinterp import depth
from wbinterp.models import ModelConfig, new_model


def _model(residual: bool, n_layers: int = 2):
    torch.manual_seed(4)
    config = ModelConfig(
        kind="deep",
        d_input=12,
        d_hidden=7,
        n_classes=4,
        n_layers=n_layers,
        residual=residual,
    )
    return new_model(config).double()


@pytest.mark.parametrize("residual", [False, True])
def test_the_composed_reading_is_the_model(residual):
    model, x = _model(residual), torch.randn(9, 12, dtype=torch.float64)
    top = depth.output_spectrum(model)
    with torch.no_grad():
        logits = model(x)
        exact = depth.composed_logits(model, x, top, 7)
        lower = depth.lower_spectra(model, top, 7)
        through_pixels = depth.composed_logits(model, x, top, 7, lower, m=7)
    torch.testing.assert_close(exact, logits, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(through_pixels, logits, rtol=1e-10, atol=1e-12)


def test_without_residual_a_logit_is_a_sum_of_squared_lower_forms():
    model, x = _model(False), torch.randn(5, 12, dtype=torch.float64)
    top = depth.output_spectrum(model)
    h0 = model.embed(x).detach()
    c = 2
    forms = depth.layer_forms(model, 0, top.vectors[c]).detach()  # (7, 7, 7): M_cj
    inner = torch.einsum("bi,jik,bk->bj", h0, forms, h0)
    torch.testing.assert_close(
        (top.values[c] * inner.square()).sum(-1), model(x)[:, c].detach()
    )
    assert top.values[c].abs().diff().le(1e-12).all()  # ordered by |λ|


def test_truncation_keeps_the_largest_terms_and_k_zero_leaves_the_skip_path():
    x = torch.randn(6, 12, dtype=torch.float64)
    plain, skip = _model(False), _model(True)
    with torch.no_grad():
        assert (
            depth.composed_logits(plain, x, depth.output_spectrum(plain), 0).abs().max()
            == 0
        )
        # k = 0 with a residual stream: what remains is u_c · h¹, the path around layer 2
        expected = skip.streams(x)[1] @ skip.w_u.T
        torch.testing.assert_close(
            depth.composed_logits(skip, x, depth.output_spectrum(skip), 0), expected
        )
        top = depth.output_spectrum(plain)
        lower = depth.lower_spectra(plain, top, 3)
        assert lower.values.shape == (4, 3, 7) and lower.vectors.shape == (4, 3, 7, 7)
        assert lower.values.abs().diff(dim=-1).le(1e-12).all()
        # m = 0 empties every lower form, so nothing reaches the logits
        assert depth.composed_logits(plain, x, top, 3, lower, m=0).abs().max() == 0


def test_bad_requests_are_refused():
    three = _model(False, n_layers=3)
    with pytest.raises(ValueError, match="n_layers=2"):
        depth.output_spectrum(three)
    model = _model(False)
    top = depth.output_spectrum(model)
    x = torch.randn(2, 12, dtype=torch.float64)
    with pytest.raises(ValueError, match="k must be between 0 and 7"):
        depth.composed_logits(model, x, top, 8)
    with pytest.raises(ValueError, match="needs lower_spectra for at least k"):
        depth.composed_logits(model, x, top, 5, depth.lower_spectra(model, top, 3), m=2)
    with pytest.raises(ValueError, match="k must be between 1 and 7"):
        depth.lower_spectra(model, top, 0)
