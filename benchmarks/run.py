"""Benchmarks: ratios measured in one run on this machine (not part of the tests).

    .venv/bin/python benchmarks/run.py            # maths and training throughput (a few minutes)
    .venv/bin/python benchmarks/run.py --build    # also a clean and a cached build of the book

Each maths method runs in a fresh subprocess so that its peak resident memory
(``ru_maxrss``) can be measured above a common baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
# the repository's data and models, as the Makefile sets them (the package alone uses the user's)
os.environ.setdefault("WBINTERP_DATA", str(ROOT / "data"))
os.environ.setdefault("WBINTERP_STORE", str(ROOT / "_store"))

# --- one method per subprocess --------------------------------------------------------------


def _weights(d: int, n_classes: int = 10, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(d, d, generator=g) / d**0.5,
        torch.randn(d, d, generator=g) / d**0.5,
        torch.randn(n_classes, d, generator=g) / d**0.5,
    )


def _method(name: str, d: int, repeats: int) -> dict:
    from wbinterp import bilinear, bridge

    w_l, w_r, w_u = _weights(d)
    q_ready = bilinear.interaction_matrices(w_l, w_r, w_u)
    runs = {
        # the limit: the eigendecomposition alone, on matrices already computed
        "eigh alone": lambda: torch.linalg.eigh(q_ready),
        # the package: Q from the weights, then sorted, sign-fixed spectra
        "Q + spectra": lambda: bilinear.spectrum(
            bilinear.interaction_matrices(w_l, w_r, w_u)
        ),
        # naive: build the d×d×d tensor, contract the head, then eigh
        "naive tensor": lambda: torch.linalg.eigh(
            torch.einsum("ca,aij->cij", w_u, bilinear.bilinear_tensor(w_l, w_r))
        ),
        # the tensor's SVD (d output directions) through the d×d Gram identity
        "SVD via Gram": lambda: bridge.tensor_svd(w_l, w_r),
        # the same from the explicit d × n² unfolding (its Gram matrix, then eigh)
        "SVD via unfolding": lambda: torch.linalg.eigvalsh(
            (lambda m: m @ m.T)(bridge.explicit_unfolding(w_l, w_r))
        ),
    }
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    runs[name]()  # warm-up, and the peak
    peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss) / 1024
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        runs[name]()
        times.append(time.perf_counter() - start)
    return {"seconds": min(times), "peak_mb": max(peak_mb, 0.0)}


def maths(d: int = 512, repeats: int = 5) -> dict[str, dict]:
    out = {}
    for name in [
        "eigh alone",
        "Q + spectra",
        "naive tensor",
        "SVD via Gram",
        "SVD via unfolding",
    ]:
        res = subprocess.run(
            [
                sys.executable,
                __file__,
                "--method",
                name,
                "--d",
                str(d),
                "--repeats",
                str(repeats),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        out[name] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


# --- training throughput --------------------------------------------------------------------


def matmul_flops(
    dtype: torch.dtype = torch.float32,
    batch: int = 2048,
    d: int = 512,
    k: int = 784,
    repeats: int = 20,
) -> float:
    """This machine's matrix-multiply throughput (FLOP/s) in ``dtype`` at training-like shapes."""
    a, b = torch.randn(batch, k).to(dtype), torch.randn(k, d).to(dtype)
    for _ in range(3):
        a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * batch * k * d * repeats / (time.perf_counter() - start)


def best_matmul_flops(precision: str) -> float:
    """The fastest matrix multiply training may use: float32, and bfloat16 where it is used."""
    flops = matmul_flops(torch.float32)
    return (
        max(flops, matmul_flops(torch.bfloat16)) if precision == "bfloat16" else flops
    )


def forward_macs(config) -> int:
    """Multiply-adds of one image's forward pass (a classifier or a transcoder)."""
    if hasattr(config, "sparse"):
        c = config.sparse.coder
        return c.d_in * c.n_features + c.n_features * c.d_out
    m = config.model
    if m.kind == "bilinear":
        return m.d_input * m.d_hidden + 2 * m.d_hidden**2 + m.d_hidden * m.n_classes
    if m.kind == "deep":
        return (
            m.d_input * m.d_hidden
            + m.n_layers * 2 * m.d_hidden**2
            + m.d_hidden * m.n_classes
        )
    return m.d_input * m.d_hidden + m.d_hidden * m.n_classes


def whole_call(name: str, epochs: int, precision: str) -> dict:
    """One ``train()`` (or ``train_sparse()``) call of preset ``name`` as a chapter makes it,
    timed whole: set-up, steps and the test evaluation after every epoch. Its arithmetic:
    3 × the forward pass per training image, 1 × per test image evaluated."""
    from wbinterp import data, presets, sparse, store
    from wbinterp.train import train

    config = presets.get(name)
    dataset = data.load("mnist")
    if hasattr(config, "sparse"):
        sparse_config = config.sparse.with_(epochs=epochs)
        mlp = store.load_or_train(
            config.base, dataset=dataset
        ).model  # its precision does not matter here
        with torch.no_grad():
            inputs, targets = dataset.train.images, mlp.hidden(dataset.train.images)
        start = time.perf_counter()
        result = sparse.train_sparse(
            sparse_config, inputs, targets, precision=precision
        )
        seconds = time.perf_counter() - start
        images, evaluated, batch = len(inputs), 0, sparse_config.batch_size
    else:
        config = config.with_(epochs=epochs)
        start = time.perf_counter()
        result = train(config, dataset, device="cpu", precision=precision)
        seconds = time.perf_counter() - start
        images, evaluated, batch = (
            len(dataset.train),
            len(dataset.test),
            config.batch_size,
        )
    trained = (images // batch) * batch * epochs
    flop = 2 * forward_macs(config) * (3 * trained + evaluated * epochs)
    assert result.precision == precision
    return {"seconds": seconds, "flops": flop / seconds}


def training(
    presets=("paper", "book", "relu", "transcoder-topk"), epochs: int = 3
) -> dict[str, dict]:
    """Throughput of each preset's whole training call, in this machine's precision and
    in float32, against the best matrix multiply of that precision."""
    from wbinterp import precision as precision_mod

    machine = precision_mod.preferred("cpu")
    out = {}
    for name in presets:
        runs = {
            p: whole_call(name, epochs, p) for p in dict.fromkeys((machine, "float32"))
        }
        out[name] = {"precision": machine, "runs": runs}
    return out


# --- the book build -------------------------------------------------------------------------


def build(jb_flags: str = "-n -W --keep-going") -> dict:
    """A clean build (no _build, no model store), a re-execution with the models
    stored, and a cached rebuild; the glued values of the first two must agree."""
    from wbbook import build as build_mod
    from wbinterp import store

    shutil.rmtree(ROOT / "_build", ignore_errors=True)
    shutil.rmtree(store.store_dir(), ignore_errors=True)

    def make_book() -> float:
        start = time.perf_counter()
        subprocess.run(
            ["make", "book", f"JB_FLAGS={jb_flags}"],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return time.perf_counter() - start

    timings = {"clean": make_book()}
    first = build_mod.glued_values(ROOT / "_build" / "jupyter_execute")
    shutil.rmtree(ROOT / "_build")  # every chapter runs again, models stay stored
    timings["re-executed"] = make_book()
    second = build_mod.glued_values(ROOT / "_build" / "jupyter_execute")
    timings["cached"] = make_book()
    trainings = 0.0
    for path in store.store_dir().glob(f"*/{store.TRAINING}"):
        trainings += float(json.loads(path.read_text())["seconds"])
    timings["training inside"] = trainings
    # wall-clock measurements and the build's date may differ; every other glued value must not
    clock = re.compile(r"(_s|_seconds|_environment)$")
    timings["differences"] = [
        k for k in build_mod.glue_differences(first, second) if not clock.search(k)
    ]
    timings["glued"] = len([k for k in first if not clock.search(k)])
    return timings


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--method")
    parser.add_argument("--d", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--build", action="store_true", help="also time a clean and a cached build"
    )
    args = parser.parse_args()
    if args.method:
        print(json.dumps(_method(args.method, args.d, args.repeats)))
        return 0

    rows = []
    m = maths(args.d)
    limit, ours, naive = m["eigh alone"], m["Q + spectra"], m["naive tensor"]
    rows.append(
        (
            f"Q + spectra vs eigh alone, time (d={args.d})",
            f"{ours['seconds']:.3f} s / {limit['seconds']:.3f} s",
            ours["seconds"] / limit["seconds"],
            "<= 1.5",
        )
    )
    rows.append(
        (
            "naive tensor vs Q + spectra, peak memory",
            f"{naive['peak_mb']:.0f} MB / {ours['peak_mb']:.0f} MB",
            naive["peak_mb"] / max(ours["peak_mb"], 1.0),
            ">= 20",
        )
    )
    rows.append(
        (
            "naive tensor vs Q + spectra, time",
            f"{naive['seconds']:.3f} s / {ours['seconds']:.3f} s",
            naive["seconds"] / ours["seconds"],
            "(info)",
        )
    )
    gram, unfold = m["SVD via Gram"], m["SVD via unfolding"]
    rows.append(
        (
            "tensor SVD: unfolding vs Gram identity, peak memory",
            f"{unfold['peak_mb']:.0f} MB / {gram['peak_mb']:.0f} MB",
            unfold["peak_mb"] / max(gram["peak_mb"], 1.0),
            "(info)",
        )
    )
    rows.append(
        (
            "tensor SVD: unfolding vs Gram identity, time",
            f"{unfold['seconds']:.3f} s / {gram['seconds']:.3f} s",
            unfold["seconds"] / gram["seconds"],
            "(info)",
        )
    )

    # the best matrix multiply before and after the training runs, the higher of the two: a
    # passing slowdown of the machine then lowers the ratio instead of inflating it
    from wbinterp import precision as precision_mod

    machine = precision_mod.preferred("cpu")
    before = {p: best_matmul_flops(p) for p in dict.fromkeys((machine, "float32"))}
    trained = training()
    peak = {p: max(f, best_matmul_flops(p)) for p, f in before.items()}
    for name, t in trained.items():
        fast, full = t["runs"][machine], t["runs"]["float32"]
        rows.append(
            (
                f"training '{name}' ({machine}, whole call) vs the best matmul",
                f"{fast['flops'] / 1e9:.1f} / {peak[machine] / 1e9:.1f} GFLOP/s ({fast['seconds']:.2f} s)",
                fast["flops"] / peak[machine],
                ">= 0.8",
            )
        )
        if machine != "float32":
            rows.append(
                (
                    f"training '{name}' in float32 (whole call) vs the float32 matmul",
                    f"{full['flops'] / 1e9:.1f} / {peak['float32'] / 1e9:.1f} GFLOP/s ({full['seconds']:.2f} s)",
                    full["flops"] / peak["float32"],
                    "(info)",
                )
            )
            rows.append(
                (
                    f"training '{name}': float32 time vs {machine} time",
                    f"{full['seconds']:.2f} s / {fast['seconds']:.2f} s",
                    full["seconds"] / fast["seconds"],
                    "(info)",
                )
            )

    if args.build:
        b = build()
        rows.append(
            (
                "cached rebuild vs clean build",
                f"{b['cached']:.0f} s / {b['clean']:.0f} s",
                b["cached"] / b["clean"],
                "<= 0.05",
            )
        )
        rows.append(
            (
                "clean build vs training it contains",
                f"{b['clean']:.0f} s / {b['training inside']:.0f} s",
                b["clean"] / b["training inside"],
                "<= 1.3",
            )
        )
        rows.append(
            (
                "re-execution, models stored, vs clean build",
                f"{b['re-executed']:.0f} s / {b['clean']:.0f} s",
                b["re-executed"] / b["clean"],
                "(info)",
            )
        )
        same = len(b["differences"]) == 0
        rows.append(
            (
                "glued values equal in both executions",
                f"{b['glued'] - len(b['differences'])} of {b['glued']}",
                1.0 if same else 0.0,
                "= 1",
            )
        )
        for key in b["differences"][:20]:
            print(f"glued value differs between the two executions: {key}")

    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark'.ljust(width)}  {'measured':44s} {'ratio':>7s}  target")
    for name, measured, ratio, target in rows:
        print(f"{name.ljust(width)}  {measured:44s} {ratio:7.2f}  {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
