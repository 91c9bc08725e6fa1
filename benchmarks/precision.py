"""Does bfloat16 training change what the book says? Three seeds in each precision.

    .venv/bin/python benchmarks/precision.py          # trains what the store lacks (about 15 minutes)
    .venv/bin/python benchmarks/precision.py --seeds 5

For the book's bilinear model (``book``), the ReLU MLP (``relu``) and its TopK
transcoder (``transcoder-topk``), each seed is trained in float32 and in bfloat16
(through the model store, so the book's own seed-0 models are reused) and measured
in float32: test accuracy, top-10 truncation accuracy (the bilinear model), FVU and
spliced accuracy (the transcoder). Prints a table with mean ± sd per precision and
the difference of the means in units of the larger seed sd; the claim is that every
difference is smaller than one seed sd. Not part of the tests.
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

import torch

from wbinterp import bilinear, data, presets, sparse, store, train

ROOT = Path(__file__).resolve().parents[1]
# the repository's data and models, as the Makefile sets them (the package alone uses the user's)
os.environ.setdefault("WBINTERP_DATA", str(ROOT / "data"))
os.environ.setdefault("WBINTERP_STORE", str(ROOT / "_store"))


def measure_bilinear(model, mnist: data.Dataset) -> dict[str, float]:
    with torch.no_grad():
        h = model.embed(mnist.test.images)
        spec = bilinear.spectrum(model.interaction_matrices())
        top10 = bilinear.truncation_accuracy(spec, h, mnist.test.labels, [10])[10]
    return {
        "accuracy": train.evaluate(model, mnist.test)["accuracy"],
        "top-10 accuracy": top10,
    }


def measure_transcoder(coder, mlp, mnist: data.Dataset) -> dict[str, float]:
    with torch.no_grad():
        scores = sparse.evaluate_transcoder(
            coder, mlp, mnist.test.images, mnist.test.labels
        )
    return {
        "fvu": scores["fvu"],
        "spliced accuracy": scores["spliced_accuracy"],
        "l0": scores["l0"],
    }


def runs(
    seeds: list[int], precision: str, mnist: data.Dataset
) -> dict[str, dict[str, list[float]]]:
    """Every measurement of every seed trained in ``precision``: ``{model: {metric: [per seed]}}``."""
    out: dict[str, dict[str, list[float]]] = {
        "book": {},
        "relu": {},
        "transcoder-topk": {},
    }

    def add(model: str, values: dict[str, float]) -> None:
        for metric, value in values.items():
            out[model].setdefault(metric, []).append(value)

    relu = store.load_or_train("relu", dataset=mnist, precision=precision).model
    for seed in seeds:
        book = store.load_or_train(
            presets.get("book").with_(seed=seed), dataset=mnist, precision=precision
        )
        add("book", measure_bilinear(book.model, mnist))
        mlp = store.load_or_train(
            presets.get("relu").with_(seed=seed), dataset=mnist, precision=precision
        )
        add("relu", {"accuracy": train.evaluate(mlp.model, mnist.test)["accuracy"]})
        coder = store.load_or_train(
            presets.get("transcoder-topk").with_(seed=seed),
            dataset=mnist,
            precision=precision,
        )
        add("transcoder-topk", measure_transcoder(coder.model, relu, mnist))
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    mnist = data.load("mnist")
    seeds = list(range(args.seeds))
    results = {p: runs(seeds, p, mnist) for p in ("float32", "bfloat16")}
    print(
        f"| model | metric | float32 ({len(seeds)} seeds) | bfloat16 | difference / seed sd |"
    )
    print("|---|---|---|---|---|")
    worst = 0.0
    for model, metrics in results["float32"].items():
        for metric, full in metrics.items():
            half = results["bfloat16"][model][metric]
            sd = max(statistics.stdev(full), statistics.stdev(half))
            ratio = (
                abs(statistics.mean(half) - statistics.mean(full)) / sd
                if sd > 0
                else float("inf")
            )
            worst = max(worst, ratio)
            cell = lambda v: f"{statistics.mean(v):.4f} ± {statistics.stdev(v):.4f}"
            print(f"| {model} | {metric} | {cell(full)} | {cell(half)} | {ratio:.2f} |")
    print(f"\nlargest difference of the means: {worst:.2f} seed sd (target: below 1)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
