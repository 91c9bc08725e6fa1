"""SHA-256, the one way the package fingerprints files, sources, tensors and configs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

import torch


def sha256_file(path: Path) -> str:
    """SHA-256 of one file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_sources(paths: Iterable[Path], root: Path | None = None) -> str:
    """SHA-256 over several files, each entered with its name (relative to ``root``) and bytes."""
    digest = hashlib.sha256()
    for path in paths:
        path = Path(path)
        name = path.relative_to(root).as_posix() if root is not None else path.name
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def sha256_tensors(state: dict[str, torch.Tensor]) -> str:
    """SHA-256 over the names, shapes, dtypes and bytes of a state dict's tensors."""
    digest = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().cpu().contiguous()
        digest.update(f"{name}:{tuple(t.shape)}:{t.dtype}\n".encode())
        digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


def sha256_text(text: str) -> str:
    """SHA-256 of a string's UTF-8 bytes."""
    return hashlib.sha256(text.encode()).hexdigest()


def sha256_json(obj) -> str:
    """SHA-256 of ``obj`` as canonical JSON (sorted keys)."""
    return sha256_text(json.dumps(obj, sort_keys=True))


def sha256_tree(folder: Path, pattern: str = "*.py") -> str:
    """SHA-256 over the files under ``folder`` that match ``pattern`` (names and contents):
    the fingerprint of a package's source."""
    folder = Path(folder)
    return sha256_sources(sorted(folder.rglob(pattern)), root=folder)
