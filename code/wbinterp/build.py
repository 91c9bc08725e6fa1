"""Build glue: ``python -m wbinterp.build [jupyter-book flags]`` (what ``make book`` runs).

myst-nb's execution cache keys only on a chapter's code cells, and Sphinx
re-reads only chapters whose source changed, so an edit to the package would
leave stale outputs in the book. Before building, this compares a fingerprint of
the package's source with the one recorded at the last build and, when they
differ, drops both the execution cache and Sphinx's saved environment, so every
chapter is read and executed again against the new code. Trained models live in their own store (:mod:`wbinterp.cache`) and
are only retrained when their own key changes.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def package_fingerprint(package_dir: Path = PACKAGE_DIR) -> str:
    """SHA-256 over the package's Python sources (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(package_dir.rglob("*.py")):
        digest.update(str(path.relative_to(package_dir)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


#: What a package change invalidates: executed outputs, and Sphinx's record of read sources.
STALE_ON_CHANGE = (".jupyter_cache", ".doctrees")


def refresh_execution_cache(build_dir: Path, fingerprint: str) -> bool:
    """Drop ``build_dir``'s execution cache and doctrees if the package changed; True if dropped."""
    stamp = build_dir / ".package-fingerprint"
    cache = build_dir / ".jupyter_cache"
    stale = stamp.exists() and stamp.read_text().strip() != fingerprint
    if stale or (cache.exists() and not stamp.exists()):
        for name in STALE_ON_CHANGE:
            shutil.rmtree(build_dir / name, ignore_errors=True)
        dropped = True
    else:
        dropped = False
    build_dir.mkdir(parents=True, exist_ok=True)
    stamp.write_text(fingerprint + "\n")
    return dropped


def main(argv: list[str] | None = None) -> int:
    flags = list(sys.argv[1:] if argv is None else argv)
    root = Path.cwd()
    if refresh_execution_cache(root / "_build", package_fingerprint()):
        print("wbinterp changed since the last build: every chapter will re-run", flush=True)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jupyter_book), "build", str(root), "--builder", "html", *flags]
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
