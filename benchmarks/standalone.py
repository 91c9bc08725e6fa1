"""Each chapter on its own: what a reader on Binder or Colab waits for.

    .venv/bin/python benchmarks/standalone.py                       # every chapter, from nothing (long)
    .venv/bin/python benchmarks/standalone.py book/06_regularisation.md
    .venv/bin/python benchmarks/standalone.py --stored              # models already in _store/
    .venv/bin/python benchmarks/standalone.py --published _build/html/models

A chapter is converted with jupytext and executed by nbclient in a fresh kernel.
By default it gets an empty model store of its own (``$WBINTERP_STORE`` points at
a temporary folder) and no published store, so it trains every model it uses: a
reader offline, or before the site has the models. With ``--published DIR`` the
store starts empty too, but the published store (``python -m wbinterp publish DIR``
after ``make book``) is served from ``DIR`` over a loopback HTTP server, so the
chapter downloads and checks its models as a reader's would from the site. With
``--stored`` it uses the project's store (run ``make book`` first), so only the
chapter's own work is timed: target 1 CPU-minute. Prints wall-clock and CPU
minutes (the kernel's user + system time, children included). Not part of the tests.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from wbbook.browser import serve

ROOT = Path(__file__).resolve().parents[1]
# the repository's data and models, as the Makefile sets them (the package alone uses the user's)
os.environ.setdefault("WBINTERP_DATA", str(ROOT / "data"))
os.environ.setdefault("WBINTERP_STORE", str(ROOT / "_store"))
TARGET_MINUTES = {"empty": 3.0, "published": 1.0, "stored": 1.0}


def run_chapter(path: Path, stored: bool = False, models_url: str = "") -> dict:
    """Execute one chapter, with an empty model store or the project's, fetching from
    ``models_url`` (empty: never); wall and CPU seconds."""
    import jupytext
    from nbclient import NotebookClient

    notebook = jupytext.read(path)
    with tempfile.TemporaryDirectory(prefix="wbinterp-standalone-") as store:
        os.environ["WBINTERP_STORE"] = str(ROOT / "_store") if stored else store
        os.environ["WBINTERP_MODELS_URL"] = models_url
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        NotebookClient(
            notebook,
            timeout=1800,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()
        wall = time.perf_counter() - start
        after = resource.getrusage(
            resource.RUSAGE_CHILDREN
        )  # the kernel, once it has exited
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "chapters",
        nargs="*",
        type=Path,
        help="MyST chapters to run (default: every chapter with code)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--stored", action="store_true", help="use the models already in _store/"
    )
    mode.add_argument(
        "--published",
        type=Path,
        metavar="DIR",
        help="fetch the models from a published store in DIR",
    )
    args = parser.parse_args()
    if args.published and not (args.published / "manifest.json").is_file():
        parser.error(
            f"{args.published} has no manifest.json: run `python -m wbinterp publish {args.published}`"
        )
    target = TARGET_MINUTES[
        "stored" if args.stored else "published" if args.published else "empty"
    ]
    chapters = args.chapters or sorted(
        p for p in (ROOT / "book").glob("*.md") if "```{code-cell}" in p.read_text()
    )
    print(
        f"{'chapter':32s} {'wall (min)':>10s} {'CPU (min)':>10s}  target: CPU <= {target:g}"
    )
    # the published store over a loopback server (wbbook.browser.serve), as from the site
    with serve(args.published) if args.published else contextlib.nullcontext("") as url:
        for path in chapters:
            models_url = f"{url}/" if url else ""
            report(
                path,
                run_chapter(path.resolve(), stored=args.stored, models_url=models_url),
                target,
            )
    return 0


def report(path: Path, result: dict, target: float) -> None:
    ok = result["cpu"] / 60 <= target
    print(
        f"{path.stem:32s} {result['wall'] / 60:10.1f} {result['cpu'] / 60:10.1f}  {'ok' if ok else 'OVER'}",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
