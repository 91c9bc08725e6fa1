"""The data behind the book's explorer: how a prediction builds up, term by term.

Two parts. :func:`export` writes the models themselves for the page's script to run
in the reader's browser on a digit they draw: the bilinear model's weights and its
largest eigenvectors per digit, the ReLU MLP, and its transcoder with the MLP's head
folded into the decoder, one gzipped safetensors file each, named by its content and
listed
with its SHA-256 in ``explorer.json``. And, for a few test images, the logits of the
bilinear model with only the ``k`` largest eigenvectors of each digit kept (``k = 0,
1, …``), and those of the spliced transcoder with only each image's ``n`` largest
features kept: what the page shows when the models cannot be fetched.
"""

from __future__ import annotations

import copy
import gzip
import json
import math
import os
import shutil
from pathlib import Path

import torch
from safetensors.torch import load, save

from .bilinear import by_magnitude, check_shape, eigen_contributions, spectrum
from .features import keep_top_n
from .files import temp_folder
from .hashing import sha256_bytes

#: The manifest's format; the page's script refuses any other.
EXPORT_FORMAT = "wbinterp-explorer/1"
#: What the page fetches first: every file's name, size and SHA-256.
MANIFEST = "explorer.json"
#: The safetensors metadata key naming the tensors stored as :func:`float24` planes,
#: with
#: their shapes.
FLOAT24 = "float24"


@torch.no_grad()
def bilinear_tensors(model, n_eigenvectors: int) -> dict[str, torch.Tensor]:
    """The bilinear model for the page: ``w_e``, ``w_l``, ``w_r``, ``w_u`` in float32,
    and
    each digit's ``n_eigenvectors`` eigenpairs of largest ``|λ|``: ``eigenvalues``
    ``(10, n)`` float32 and ``eigenvectors`` ``(10, n, d)`` float16, signs canonical on
    their pictures in pixels."""
    if model.config.bias:
        raise ValueError(
            "the explorer reads bilinear models without biases (bias=False)"
        )
    d = model.config.d_hidden
    if not 1 <= n_eigenvectors <= d:
        raise ValueError(
            f"n_eigenvectors must be between 1 and {d}, got {n_eigenvectors}"
        )
    spec = by_magnitude(spectrum(model.interaction_matrices(), model.w_e))
    weights = {
        name: getattr(model, name).float().contiguous()
        for name in ("w_e", "w_l", "w_r", "w_u")
    }
    return weights | {
        "eigenvalues": spec.values[:, :n_eigenvectors].float().contiguous(),
        "eigenvectors": spec.vectors[:, :n_eigenvectors].half().contiguous(),
    }


@torch.no_grad()
def mlp_tensors(mlp) -> dict[str, torch.Tensor]:
    """The ReLU MLP for the page: ``w_in``, ``w_out`` (and ``b_in``, ``b_out``),
    float32."""
    names = ("w_in", "w_out") + (("b_in", "b_out") if mlp.config.bias else ())
    return {name: getattr(mlp, name).float().contiguous() for name in names}


def float24(w: torch.Tensor) -> torch.Tensor:
    """``(3, n)`` uint8: float32 ``w`` (any shape, flattened) rounded to its 24 high
    bits
    (sign, exponent and 15 of the 23 mantissa bits; a relative error at most 2⁻¹⁶), as
    three byte planes, low byte first. Planes of like bytes compress well."""
    bits = (
        w.detach().float().contiguous().flatten().view(torch.int32).to(torch.int64)
        & 0xFFFFFFFF
    )
    rounded = (
        bits + 0x80
    ) >> 8  # half up; a carry into the exponent is the right rounding
    return torch.stack([(rounded >> shift) & 0xFF for shift in (0, 8, 16)]).to(
        torch.uint8
    )


def from_float24(planes: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """The float32 tensor of ``shape`` that :func:`float24` wrote as ``planes``."""
    if planes.dtype != torch.uint8 or tuple(planes.shape) != (3, math.prod(shape)):
        raise ValueError(
            f"planes must be (3, {math.prod(shape)}) uint8, got {tuple(planes.shape)} {planes.dtype}"
        )
    p = planes.to(torch.int64)
    bits = (p[0] << 8) | (p[1] << 16) | (p[2] << 24)
    signed = torch.where(bits >= 2**31, bits - 2**32, bits).to(
        torch.int32
    )  # the same 32 bits
    return signed.view(torch.float32).reshape(shape)


@torch.no_grad()
def transcoder_tensors(
    transcoder, mlp
) -> tuple[dict[str, torch.Tensor], dict[str, list[int]]]:
    """The transcoder of ``mlp`` for the page, and the shapes of its 24-bit tensors: the
    encoder ``w_enc`` as :func:`float24` planes (in float16 it would change which
    features fire on some images: :func:`changed_codes`), ``b_enc``,
    ``b_pre``, and the decoder read through the MLP's head, ``readout = W_out W_dec``
    ``(10, F)`` and ``readout_bias = W_out b_dec (+ b_out)``, float32: the spliced
    logits
    are ``readout f + readout_bias``."""
    readout_bias = mlp.head(transcoder.b_dec[None])[0]
    tensors = {
        "w_enc": float24(transcoder.w_enc),
        "b_enc": transcoder.b_enc.float().contiguous(),
        "b_pre": transcoder.b_pre.float().contiguous(),
        "readout": (mlp.w_out @ transcoder.w_dec).float().contiguous(),
        "readout_bias": readout_bias.float().contiguous(),
    }
    return tensors, {"w_enc": list(transcoder.w_enc.shape)}


def changed_codes(coder, images: torch.Tensor, w_enc: torch.Tensor) -> float:
    """Share of ``images`` whose active features change when the sparse ``coder``'s
    encoder
    weights are replaced by ``w_enc`` (a rounded copy, say)."""
    other = copy.deepcopy(coder)
    with torch.no_grad():
        other.w_enc.copy_(w_enc)
        return (
            ((coder(images).activations > 0) != (other(images).activations > 0))
            .any(1)
            .float()
            .mean()
            .item()
        )


def image_tensors(
    images: torch.Tensor, labels: torch.Tensor, indices: list[int]
) -> dict[str, torch.Tensor]:
    """Test images for the page's list: ``pixels`` ``(n, 784)`` uint8, ``labels`` uint8
    and
    their ``indices`` in the test set, int32."""
    check_shape("images", images, (len(indices), 784))
    pixels = (images * 255).round()
    if not torch.equal(pixels / 255, images.float()):
        raise ValueError("images must be grey levels k/255, as MNIST's are")
    return {
        "pixels": pixels.to(torch.uint8).contiguous(),
        "labels": labels.to(torch.uint8).contiguous(),
        "indices": torch.tensor(indices, dtype=torch.int32),
    }


def export(
    bilinear_model,
    mlp,
    transcoder,
    images: torch.Tensor,
    labels: torch.Tensor,
    indices: list[int],
    class_names: list[str],
    folder: Path,
    n_eigenvectors: int = 20,
) -> dict:
    """Write what the page's script runs into ``folder`` (made beside it, then moved
    into
    place) and return the manifest: one gzipped safetensors file per model and one of
    test
    images, each named by the start of its SHA-256 (so a browser may cache it for good),
    and ``explorer.json``. Read a file back with :func:`read`."""
    if transcoder.config.activation not in ("topk", "relu"):
        raise ValueError(
            f"the explorer runs TopK and ReLU transcoders, not {transcoder.config.activation!r}"
        )
    parts = {
        "bilinear": (bilinear_tensors(bilinear_model, n_eigenvectors), {}),
        "mlp": (mlp_tensors(mlp), {}),
        "transcoder": transcoder_tensors(transcoder, mlp),
        "images": (image_tensors(images, labels, indices), {}),
    }
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_folder(folder.parent, folder.name, ".explorer")
    try:
        files = {}
        for name, (tensors, float24_shapes) in parts.items():
            blob = gzip.compress(
                save(tensors, metadata={FLOAT24: json.dumps(float24_shapes)}), mtime=0
            )
            digest = sha256_bytes(blob)
            path = f"{name}-{digest[:12]}.safetensors.gz"
            (tmp / path).write_bytes(blob)
            files[name] = {"path": path, "sha256": digest, "bytes": len(blob)}
        manifest = {
            "format": EXPORT_FORMAT,
            "classes": list(class_names),
            "transcoder": {
                "activation": transcoder.config.activation,
                "k": transcoder.config.k,
            },
            "files": files,
        }
        (tmp / MANIFEST).write_text(
            json.dumps(manifest, indent=1) + "\n", encoding="utf-8"
        )
        old = folder.with_name(f".{folder.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            os.rename(folder, old)
        os.rename(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def read(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of one file :func:`export` wrote, its 24-bit ones back in float32."""
    blob = gzip.decompress(Path(path).read_bytes())
    header = json.loads(blob[8 : 8 + int.from_bytes(blob[:8], "little")])
    shapes = json.loads(header.get("__metadata__", {}).get(FLOAT24, "{}"))
    tensors = load(blob)
    for name, shape in shapes.items():
        tensors[name] = from_float24(tensors[name], tuple(shape))
    return tensors


@torch.no_grad()
def eigenvector_curves(model, images: torch.Tensor, k_max: int) -> torch.Tensor:
    """``(batch, k_max + 1, 10)``: row ``k`` holds the logits from the ``k``
    eigenvectors of
    largest ``|λ|`` of every digit (row 0 is zeros; ``k = d`` would give the model's
    logits)."""
    check_shape("images", images, (None, model.config.d_input))
    spec = by_magnitude(spectrum(model.interaction_matrices()))
    if not 0 <= k_max <= spec.values.shape[-1]:
        raise ValueError(
            f"k_max must be between 0 and {spec.values.shape[-1]}, got {k_max}"
        )
    terms = eigen_contributions(spec, model.embed(images))[
        ..., :k_max
    ]  # (batch, 10, k_max)
    steps = torch.cat([terms.new_zeros(*terms.shape[:2], 1), terms.cumsum(-1)], dim=-1)
    return steps.transpose(1, 2)


@torch.no_grad()
def feature_curves(transcoder, mlp, images: torch.Tensor, n_max: int) -> torch.Tensor:
    """``(batch, n_max + 1, 10)``: row ``n`` holds the spliced model's logits with only
    each
    image's ``n`` largest transcoder features kept (row 0: the decoder's bias alone)."""
    check_shape("images", images, (None, mlp.config.d_input))
    if n_max < 0:
        raise ValueError(f"n_max must be non-negative, got {n_max}")
    acts = transcoder(images).activations
    rows = [mlp.head(transcoder.decode(keep_top_n(acts, n))) for n in range(n_max + 1)]
    return torch.stack(rows, dim=1)


def explorer_data(
    images: torch.Tensor,
    labels: torch.Tensor,
    indices: list[int],
    views: dict[str, tuple[torch.Tensor, torch.Tensor]],
    class_names: list[str],
) -> dict:
    """JSON-ready data for the explorer: each image's pixels (0-255) and label, and for
    each
    view its name, the curves ``(batch, steps, 10)`` and the full model's logits
    ``(batch, 10)``,
    rounded to three decimals."""
    check_shape("images", images, (len(indices), None))
    out_views = []
    for name, (curves, full) in views.items():
        check_shape(f"curves of {name}", curves, (len(indices), None, len(class_names)))
        check_shape(f"logits of {name}", full, (len(indices), len(class_names)))
        out_views.append(
            {
                "name": name,
                "curves": torch.round(curves * 1000).div(1000).tolist(),
                "full": torch.round(full * 1000).div(1000).tolist(),
            }
        )
    return {
        "classes": class_names,
        "images": [
            {
                "index": i,
                "label": int(y),
                "pixels": (x * 255).round().clamp(0, 255).int().tolist(),
            }
            for i, x, y in zip(indices, images, labels)
        ],
        "views": out_views,
    }
