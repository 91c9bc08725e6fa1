"""Each chapter on its own: what a reader on Binder or Colab waits for.

    .venv/bin/python benchmarks/standalone.py                       # every chapter, from nothing (long)
    .venv/bin/python benchmarks/standalone.py book/06_regularisation.md
    .venv/bin/python benchmarks/standalone.py --stored              # models already in _store/

A chapter is converted with jupytext and executed by nbclient in a fresh kernel.
By default it gets an empty model store of its own (``$WBINTERP_STORE`` points at
a temporary folder), so it trains every model it uses: target 3 CPU-minutes. With
``--stored`` it uses the project's store (run ``make book`` first), so only the
chapter's own work is timed: target 1 CPU-minute. Prints wall-clock and CPU
minutes (the kernel's user + system time, children included). Not part of the tests.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MINUTES = {"empty": 3.0, "stored": 1.0}


def run_chapter(path: Path, stored: bool = False) -> dict:
    """Execute one chapter, with an empty model store or the project's; wall and CPU seconds."""
    import jupytext
    from nbclient import NotebookClient

    notebook = jupytext.read(path)
    with tempfile.TemporaryDirectory(prefix="wbinterp-standalone-") as store:
        os.environ["WBINTERP_STORE"] = str(ROOT / "_store") if stored else store
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        NotebookClient(
            notebook, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        ).execute()
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the kernel, once it has exited
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "chapters", nargs="*", type=Path, help="MyST chapters to run (default: every chapter with code)"
    )
    parser.add_argument("--stored", action="store_true", help="use the models already in _store/")
    args = parser.parse_args()
    target = TARGET_MINUTES["stored" if args.stored else "empty"]
    chapters = args.chapters or sorted(
        p for p in (ROOT / "book").glob("*.md") if "```{code-cell}" in p.read_text()
    )
    print(f"{'chapter':32s} {'wall (min)':>10s} {'CPU (min)':>10s}  target: CPU <= {target:g}")
    for path in chapters:
        result = run_chapter(path.resolve(), stored=args.stored)
        ok = result["cpu"] / 60 <= target
        print(
            f"{path.stem:32s} {result['wall'] / 60:10.1f} {result['cpu'] / 60:10.1f}  "
            f"{'ok' if ok else 'OVER'}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
