"""Command line: ``python -m wbinterp {presets,train,data,publish,fetch} ...``.

``python -m wbinterp presets --keys`` prints the store folder each preset would be
trained into (or loaded from) with today's code and data.

A user error (an unknown preset, a bad data file, an ``--out`` that cannot be written)
ends with exit status 2 and one line on stderr that says what is wrong and how to fix
it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import get_args

from . import data, files, kinds, precision, presets, published, store


class UsageError(Exception):
    """A mistake in what the user asked for; its message says how to fix it."""


def _presets(args: argparse.Namespace) -> int:
    width = max(map(len, presets.PRESETS))
    if args.keys:
        for name, folder in store.preset_folders(args.precision).items():
            print(f"{name:{width}s} {folder}")
        return 0
    for name, config in presets.PRESETS.items():
        print(f"{name:{width}s} {config.kind:15s} {kinds.of(config).describe(config)}")
    return 0


def _writable_folder(out: Path) -> Path:
    if out.exists() and not out.is_dir():
        raise UsageError(
            f"--out {out} is a file; give a folder (it is created if missing)"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(
            f"--out {out} cannot be created ({err.strerror}); give a folder you can write to"
        ) from None
    reason = files.cannot_write(out)
    if reason is not None:
        raise UsageError(
            f"--out {out} cannot be written ({reason}); give a folder you can write to"
        )
    return out


def _train(args: argparse.Namespace) -> int:
    if args.preset not in presets.PRESETS:
        raise UsageError(
            f"unknown preset {args.preset!r}; choose one of {', '.join(presets.PRESETS)} "
            "(`python -m wbinterp presets` describes them)"
        )
    out = _writable_folder(args.out)
    stored = store.load_or_train(
        args.preset, retrain=args.retrain, progress=not args.quiet
    )
    history = stored.history
    if "test_accuracy" in history:
        summary = f"test accuracy {history['test_accuracy'][-1]:.4f}"
    else:
        summary = f"training FVU {history['fvu'][-1]:.4f}, L0 {history['l0'][-1]:.1f}"
    try:
        written = store.export(stored, out)
    except OSError as err:
        raise UsageError(
            f"--out {out} cannot be written ({err.strerror or err}); nothing was left there. "
            "Free some space or give another folder (the model is in the store, so this is quick)"
        ) from None
    source = (
        "loaded from the store"
        if stored.from_store
        else f"trained in {stored.seconds:.0f} s"
    )
    print(f"{args.preset}: {summary} ({source})")
    for path in written:
        print(f"wrote {path}")
    return 0


def _data(args: argparse.Namespace) -> int:
    dataset_files = data.DATASET_FILES[args.dataset]
    root = data.data_dir()
    if args.source:
        data.install_from(dataset_files, Path(args.source), root)
    else:
        data.download(dataset_files, root)
    print(f"{args.dataset}: verified in {data.raw_folder(dataset_files, root)}")
    return 0


def _publish(args: argparse.Namespace) -> int:
    folders = store.publish(args.out)
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(f"published {len(folders)} models ({size / 2**20:.1f} MiB) in {args.out}")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    stored, refused = store.fetch_all(url=args.url)
    for line in refused:
        print(f"refused {line}", file=sys.stderr)
    print(f"fetched {stored} models into {store.store_dir()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m wbinterp", description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "presets", help="list the named recipes (classifiers, transcoders, SAEs)"
    )
    p.add_argument(
        "--keys",
        action="store_true",
        help="print each preset's store folder instead (its name ends with the store key's first 16 digits)",
    )
    p.add_argument(
        "--precision",
        choices=get_args(precision.Precision),
        help="the training precision the keys are for (default: this machine's)",
    )
    p.set_defaults(func=_presets)

    p = sub.add_parser(
        "train", help="train a preset (or load it from the model store) and export it"
    )
    p.add_argument("preset", help="a name from `python -m wbinterp presets`")
    p.add_argument(
        "--out",
        required=True,
        type=Path,
        help="folder for model.safetensors, config.json and training.json",
    )
    p.add_argument("--retrain", action="store_true", help="ignore the model store")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_train)

    p = sub.add_parser(
        "data", help="download a dataset, or copy it from a local folder, and verify it"
    )
    p.add_argument("dataset", choices=sorted(data.DATASET_FILES))
    p.add_argument(
        "--from", dest="source", help="folder holding the four original (.gz) files"
    )
    p.set_defaults(func=_data)

    p = sub.add_parser(
        "publish",
        help="write the store's current models as a published store (for the site)",
    )
    p.add_argument(
        "out",
        type=Path,
        help="a new or empty folder, or an earlier publication (replaced whole), e.g. _build/html/models",
    )
    p.set_defaults(func=_publish)

    p = sub.add_parser(
        "fetch", help="download every published model this code uses into the store"
    )
    p.add_argument(
        "--url", help="the published store's address (default: $WBINTERP_MODELS_URL)"
    )
    p.set_defaults(func=_fetch)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except published.FetchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except (UsageError, data.DataError, published.PublishError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
