"""Command line: ``python -m wbinterp {presets,train,data} ...``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import cache, data
from .train import PRESETS


def _presets(args: argparse.Namespace) -> int:
    for name, config in PRESETS.items():
        m = config.model
        print(f"{name:16s} {m.kind:8s} d={m.d_hidden:<4d} epochs={config.epochs:<3d} "
              f"batch={config.batch_size:<5d} lr={config.lr:g} wd={config.weight_decay:g} "
              f"noise={config.input_noise:g} dataset={config.dataset}")
    for name, spec in cache.TRANSCODER_PRESETS.items():
        c = spec.sparse
        sparsity = f"k={c.k}" if c.activation == "topk" else f"l1={c.l1_coefficient:g}"
        print(f"{name:16s} {'transcoder':10s} {c.d_in}->{c.n_features}->{c.d_out} of MLP '{spec.mlp}' "
              f"activation={c.activation} {sparsity} epochs={c.epochs}")
    for name, spec in cache.SAE_PRESETS.items():
        c = spec.sparse
        print(f"{name:16s} {'sae':10s} {c.d_in}->{c.n_features}->{c.d_out} of bilinear '{spec.model}' "
              f"on {spec.source} activation={c.activation} k={c.k} epochs={c.epochs}")
    return 0


def _train(args: argparse.Namespace) -> int:
    if args.preset in cache.TRANSCODER_PRESETS or args.preset in cache.SAE_PRESETS:
        load = cache.load_or_train_transcoder if args.preset in cache.TRANSCODER_PRESETS else cache.load_or_train_sae
        trained = load(args.preset, retrain=args.retrain)
        summary = f"training FVU {trained.history['fvu'][-1]:.4f}, L0 {trained.history['l0'][-1]:.1f}"
    else:
        trained = cache.load_or_train(args.preset, retrain=args.retrain, progress=not args.quiet)
        summary = f"test accuracy {trained.history['test_accuracy'][-1]:.4f}"
    files = cache.export(trained, args.out)
    source = "loaded from the cache" if trained.from_cache else f"trained in {trained.seconds:.0f} s"
    print(f"{args.preset}: {summary} ({source})")
    for path in files:
        print(f"wrote {path}")
    return 0


def _data(args: argparse.Namespace) -> int:
    spec = data.SPECS[args.dataset]
    root = data.data_dir()
    if args.source:
        data.install_from(spec, Path(args.source), root)
    else:
        data.download(spec, root)
    print(f"{args.dataset}: verified in {data.raw_folder(spec, root)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wbinterp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("presets", help="list the training presets")
    p.set_defaults(func=_presets)

    p = sub.add_parser("train", help="train a preset (or load it from the cache) and export it")
    p.add_argument("preset", choices=sorted(PRESETS) + sorted(cache.TRANSCODER_PRESETS) + sorted(cache.SAE_PRESETS))
    p.add_argument("--out", required=True, type=Path,
                   help="folder for weights.pt, config.json and history.json")
    p.add_argument("--retrain", action="store_true", help="ignore the model cache")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_train)

    p = sub.add_parser("data", help="download a dataset, or copy it from a local folder, and verify it")
    p.add_argument("dataset", choices=sorted(data.SPECS))
    p.add_argument("--from", dest="source", help="folder holding the four original (.gz) files")
    p.set_defaults(func=_data)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except data.DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
