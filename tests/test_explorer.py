"""The explorer's data: term-by-term logits that end at the models' own."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch

from wbinterp import explorer
from wbinterp.models import ModelConfig, new_model
from wbinterp.sparse import SparseCoder, SparseCoderConfig


def test_eigenvector_curves_start_at_zero_and_end_at_the_logits(float64):
    torch.manual_seed(5)
    model = new_model(ModelConfig(d_hidden=6)).double()
    x = torch.rand(4, 784, dtype=torch.float64)
    curves = explorer.eigenvector_curves(model, x, k_max=6)
    assert curves.shape == (4, 7, 10)
    assert curves[:, 0].abs().max() == 0
    torch.testing.assert_close(curves[:, -1], model(x).detach(), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="k_max must be between 0 and 6"):
        explorer.eigenvector_curves(model, x, k_max=7)


def test_feature_curves_end_at_the_spliced_logits():
    torch.manual_seed(6)
    mlp = new_model(ModelConfig(kind="relu", d_hidden=8))
    coder = SparseCoder(
        SparseCoderConfig(d_in=784, d_out=8, n_features=12, activation="topk", k=3)
    )
    x = torch.rand(5, 784)
    curves = explorer.feature_curves(coder, mlp, x, n_max=3)
    assert curves.shape == (5, 4, 10)
    with torch.no_grad():
        torch.testing.assert_close(curves[:, -1], mlp.head(coder(x).output))
        torch.testing.assert_close(curves[:, 0], mlp.head(coder.b_dec.expand(5, 8)))
    with pytest.raises(ValueError, match="n_max must be non-negative"):
        explorer.feature_curves(coder, mlp, x, n_max=-1)


def test_explorer_data_is_json_ready_and_checks_shapes():
    images = torch.rand(2, 784)
    curves, full = torch.randn(2, 3, 10), torch.randn(2, 10)
    out = explorer.explorer_data(
        images,
        torch.tensor([3, 7]),
        [11, 42],
        {"v": (curves, full)},
        list("0123456789"),
    )
    assert [i["index"] for i in out["images"]] == [11, 42] and out["images"][1][
        "label"
    ] == 7
    pixels = torch.tensor(out["images"][0]["pixels"])
    assert pixels.min() >= 0 and pixels.max() <= 255 and len(pixels) == 784
    assert out["views"][0]["name"] == "v"
    assert torch.allclose(torch.tensor(out["views"][0]["curves"]), curves, atol=5e-4)
    with pytest.raises(ValueError, match="curves of v"):
        explorer.explorer_data(
            images,
            torch.tensor([3, 7]),
            [11, 42],
            {"v": (curves[:1], full)},
            list("0123456789"),
        )


def _models(d: int = 512, h: int = 512, features: int = 2048, k: int = 4):
    torch.manual_seed(7)
    bilinear_model = new_model(ModelConfig(d_hidden=d))
    mlp = new_model(ModelConfig(kind="relu", d_hidden=h))
    coder = SparseCoder(
        SparseCoderConfig(
            d_in=784, d_out=h, n_features=features, activation="topk", k=k
        )
    )
    with torch.no_grad():
        coder.b_dec.normal_()
        coder.b_enc.normal_(0, 0.1)
    return bilinear_model, mlp, coder


def _export(tmp_path, models, n_images: int = 3, n_eigenvectors: int = 4):
    images = torch.randint(0, 256, (n_images, 784)).float() / 255
    return explorer.export(
        *models,
        images,
        torch.arange(n_images) % 10,
        list(range(100, 100 + n_images)),
        list("0123456789"),
        tmp_path / "explorer",
        n_eigenvectors,
    )


def test_export_writes_checked_files_the_page_can_run(tmp_path):
    """What the page computes from the files (the float16 encoder and the head folded into
    the decoder) gives the models' logits."""
    models = _models(d=16, h=24, features=40)
    manifest = _export(tmp_path, models)
    folder = tmp_path / "explorer"
    assert json.loads((folder / explorer.MANIFEST).read_text()) == manifest
    assert manifest["format"] == explorer.EXPORT_FORMAT and manifest["transcoder"] == {
        "activation": "topk",
        "k": 4,
    }
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [explorer.MANIFEST] + [f["path"] for f in manifest["files"].values()]
    )
    loaded = {}
    for name, entry in manifest["files"].items():
        blob = (folder / entry["path"]).read_bytes()
        assert (
            len(blob) == entry["bytes"]
            and hashlib.sha256(blob).hexdigest() == entry["sha256"]
        )
        assert entry["path"] == f"{name}-{entry['sha256'][:12]}.safetensors.gz"
        loaded[name] = explorer.read(folder / entry["path"])
    bilinear_model, mlp, coder = models
    x = torch.rand(6, 784)
    b = loaded["bilinear"]
    h = x @ b["w_e"].T
    with torch.no_grad():
        torch.testing.assert_close(
            ((h @ b["w_l"].T) * (h @ b["w_r"].T)) @ b["w_u"].T, bilinear_model(x)
        )
        # the eigenpairs shipped are the largest |λ| of each digit, in that order
        top = b["eigenvalues"].abs()
        assert (top[:, :-1] >= top[:, 1:]).all() and b[
            "eigenvectors"
        ].dtype == torch.float16
        t = loaded["transcoder"]
        torch.testing.assert_close(t["w_enc"], coder.w_enc, rtol=2**-16, atol=0)
        pre = (x - t["b_pre"]) @ t["w_enc"].T + t["b_enc"]
        acts = torch.zeros_like(pre).scatter(
            -1, pre.topk(4).indices, pre.topk(4).values.relu()
        )
        spliced = acts @ t["readout"].T + t["readout_bias"]
        torch.testing.assert_close(
            spliced, mlp.head(coder(x).output), atol=1e-4, rtol=1e-4
        )
        m = loaded["mlp"]
        torch.testing.assert_close((x @ m["w_in"].T).relu() @ m["w_out"].T, mlp(x))
    images = loaded["images"]
    assert images["pixels"].dtype == torch.uint8 and images["indices"].tolist() == [
        100,
        101,
        102,
    ]


def test_export_of_the_books_shapes_stays_under_4_mb_per_model(tmp_path):
    manifest = _export(tmp_path, _models(), n_images=300, n_eigenvectors=20)
    sizes = {name: entry["bytes"] for name, entry in manifest["files"].items()}
    assert max(sizes.values()) <= 4_000_000, sizes
    assert sizes["images"] < 300 * 784 + 4096  # one byte a pixel


def test_export_replaces_the_folder_and_refuses_what_the_page_cannot_run(tmp_path):
    first = _export(tmp_path, _models(d=8, h=8, features=16))
    torch.manual_seed(1)
    second = _export(
        tmp_path,
        _models(d=8, h=8, features=16)[:2]
        + (
            SparseCoder(
                SparseCoderConfig(
                    d_in=784, d_out=8, n_features=16, activation="topk", k=2
                )
            ),
        ),
    )
    assert first["files"]["transcoder"] != second["files"]["transcoder"]
    names = {p.name for p in (tmp_path / "explorer").iterdir()}
    assert first["files"]["transcoder"]["path"] not in names and not list(
        tmp_path.glob(".explorer*")
    )
    biased = new_model(ModelConfig(d_hidden=8, bias=True))
    with pytest.raises(ValueError, match="without biases"):
        _export(tmp_path, (biased,) + _models(d=8, h=8, features=16)[1:])
    with pytest.raises(ValueError, match="n_eigenvectors must be between 1 and 8"):
        explorer.bilinear_tensors(_models(d=8)[0], 9)
    with pytest.raises(ValueError, match="k/255"):
        explorer.image_tensors(torch.full((1, 784), 0.3), torch.tensor([1]), [0])


def test_float24_rounds_to_the_nearest_24_bit_float_and_comes_back():
    w = torch.tensor(
        [1.0, -2.5, 3.0e-8, 1 + 2**-16, 1 + 2**-15 + 2**-17, 0.0, -0.0, 7.1e30]
    )
    back = explorer.from_float24(explorer.float24(w), (8,))
    assert back[:2].tolist() == [1.0, -2.5]  # exact in 15 mantissa bits
    assert back[3] == 1 + 2**-15  # a half rounds up
    assert back[4] == 1 + 2**-15  # below a half rounds down
    assert back[5] == 0 and back[6] == 0 and torch.signbit(back[6])
    assert ((back - w).abs() <= w.abs() * 2**-16).all()
    wide = torch.randn(3, 50)
    planes = explorer.float24(wide)
    assert planes.shape == (3, 150) and planes.dtype == torch.uint8
    torch.testing.assert_close(
        explorer.from_float24(planes, (3, 50)), wide, rtol=2**-16, atol=0
    )
    with pytest.raises(ValueError, match="planes"):
        explorer.from_float24(planes, (3, 51))


def test_changed_codes_counts_the_images_whose_active_features_change():
    _, _, coder = _models(d=8, h=8, features=40, k=4)
    x = torch.rand(50, 784)
    w = coder.w_enc.detach()
    assert explorer.changed_codes(coder, x, w.clone()) == 0
    assert explorer.changed_codes(coder, x, w + torch.randn_like(w)) > 0.5
    assert (
        explorer.changed_codes(coder, x, w.flip(0)) == 1.0
    )  # every feature swapped for another
