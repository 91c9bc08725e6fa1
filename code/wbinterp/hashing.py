"""SHA-256, the one way the package fingerprints files, sources, tensors and configs."""

from __future__ import annotations

import ast
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


def sha256_bytes(blob: bytes) -> str:
    """SHA-256 of bytes in memory (what a browser's ``crypto.subtle.digest``
    computes)."""
    return hashlib.sha256(blob).hexdigest()


def sha256_sources(paths: Iterable[Path], root: Path | None = None) -> str:
    """SHA-256 over several files, each entered with its name (relative to ``root``) and
    bytes."""
    digest = hashlib.sha256()
    for path in paths:
        path = Path(path)
        name = path.relative_to(root).as_posix() if root is not None else path.name
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


#: Fields of the syntax tree that hold type annotations, which Python does not act on.
_ANNOTATIONS = frozenset({"annotation", "returns", "type_comment"})


def _canonical(node) -> str:
    """A syntax tree as text: node types and fields, without positions, docstrings, type
    annotations or empty fields (newer Pythons add fields such as ``type_params`` that
    are empty in this code, so the text is the same on Python 3.10 to 3.13)."""
    if isinstance(node, ast.AST):
        body = getattr(node, "body", None)
        docstring_holder = isinstance(
            node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
        )
        fields = []
        for name, value in ast.iter_fields(node):
            if name == "body" and docstring_holder and body and _is_docstring(body[0]):
                value = body[1:]
            if value is None or value == [] or name in _ANNOTATIONS:
                continue
            fields.append(f"{name}={_canonical(value)}")
        return f"{type(node).__name__}({', '.join(fields)})"
    if isinstance(node, list):
        return "[" + ", ".join(_canonical(item) for item in node) + "]"
    return repr(node)


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def sha256_code(paths: Iterable[str | Path]) -> str:
    """SHA-256 over what Python modules do: each file's name and syntax tree, without
    its
    docstrings, comments, type annotations or layout, so editing those changes nothing
    (a
    store key made from it keeps every trained model), while any changed statement or
    value changes it."""
    digest = hashlib.sha256()
    for path in paths:
        path = Path(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        digest.update(path.name.encode() + b"\0" + _canonical(tree).encode() + b"\0")
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
    """SHA-256 over the files under ``folder`` that match ``pattern`` (names and
    contents):
    the fingerprint of a package's source."""
    folder = Path(folder)
    return sha256_sources(sorted(folder.rglob(pattern)), root=folder)
