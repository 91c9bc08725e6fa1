"""The published model store: trained models as static files on the book's site.

A published store is a folder served over HTTP(S): one sub-folder per stored model,
named as in the local store (``mnist-bilinear512-<key>``), holding the same files, and a
``manifest.json`` with the SHA-256 and size of every file. :func:`publish` writes one from
a local store; :func:`download` fetches one model's files into a temporary folder and
checks them against the manifest. Whether a download is *trusted* (its store key, its
weights' digest, its config) is decided by :func:`wbinterp.store.load_or_train`, which
uses the published copy before training.

Where the copy comes from is one setting, :func:`models_url`: the environment variable
``WBINTERP_MODELS_URL`` when set (empty: never download), else ``models/`` under the
site's address, ``html.baseurl`` in the repository's ``_config.yml``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

from .data import REPO_ROOT
from .hashing import sha256_file

#: Environment variable that sets (or, empty, turns off) where published models come from.
URL_ENV = "WBINTERP_MODELS_URL"
MANIFEST = "manifest.json"
FORMAT = 1
#: Seconds to wait for the site before giving up (then the model is trained).
TIMEOUT = 20.0


class FetchError(RuntimeError):
    """No usable published copy; the message says why, in one line."""


def models_url(config_file: Path = REPO_ROOT / "_config.yml") -> str | None:
    """The published store's address, or ``None`` when nothing is to be downloaded."""
    if URL_ENV in os.environ:
        return os.environ[URL_ENV].strip() or None
    if not config_file.is_file():
        return None
    try:
        import yaml
    except ImportError:  # a checkout without the book's tools: no site address to read
        return None
    baseurl = ((yaml.safe_load(config_file.read_text()) or {}).get("html") or {}).get("baseurl")
    return f"{baseurl.rstrip('/')}/models/" if baseurl else None


def _plain_name(name: str) -> str:
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        raise FetchError(f"the manifest names an unsafe path {name!r}")
    return name


def publish(folders: Iterable[Path], out: Path) -> Path:
    """Copy each model folder into ``out`` and write ``out/manifest.json``; returns it.

    ``out`` is replaced whole, so it never mixes two publications.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part"))
    try:
        models = {}
        for folder in sorted(Path(f) for f in folders):
            shutil.copytree(folder, tmp / folder.name)
            files = sorted(p for p in (tmp / folder.name).iterdir() if p.is_file())
            models[folder.name] = {
                "files": {p.name: {"sha256": sha256_file(p), "bytes": p.stat().st_size} for p in files}
            }
        manifest = {"format": FORMAT, "models": models}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out / MANIFEST


def _get(url: str, timeout: float):
    try:
        return urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 (an http(s) URL we built)
    except urllib.error.HTTPError as err:
        raise FetchError(f"{url} answered {err.code} {err.reason}") from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise FetchError(f"cannot reach {url} ({reason}); offline?") from None


def manifest(base_url: str, timeout: float = TIMEOUT) -> dict:
    """The published store's manifest: ``{"format": 1, "models": {name: {"files": …}}}``."""
    url = f"{base_url.rstrip('/')}/{MANIFEST}"
    with _get(url, timeout) as response:
        try:
            data = json.loads(response.read())
        except ValueError:
            raise FetchError(f"{url} is not a manifest (not JSON)") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("models"), dict):
        raise FetchError(f"{url} is not a manifest of format {FORMAT}")
    return data


@contextlib.contextmanager
def download(name: str, base_url: str, into: Path, timeout: float = TIMEOUT) -> Iterator[Path]:
    """Download the published model ``name`` into a new temporary folder under ``into``.

    Yields the folder once every file matches the manifest's size and SHA-256; the
    folder is removed on exit unless the caller has moved it away. Raises
    :class:`FetchError` when the site cannot be reached, the model is not published,
    or a file does not match.
    """
    entry = manifest(base_url, timeout)["models"].get(_plain_name(name))
    if entry is None:
        raise FetchError(f"{name} is not published at {base_url}")
    into = Path(into)
    into.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=into, prefix=f".{name}.", suffix=".download"))
    try:
        for file, meta in sorted(entry["files"].items()):
            digest, size = hashlib.sha256(), 0
            with _get(f"{base_url.rstrip('/')}/{name}/{_plain_name(file)}", timeout) as response:
                with open(tmp / file, "wb") as f:
                    for block in iter(lambda: response.read(1 << 20), b""):
                        digest.update(block)
                        size += len(block)
                        if size > meta["bytes"]:
                            break
                        f.write(block)
            if size != meta["bytes"] or digest.hexdigest() != meta["sha256"]:
                raise FetchError(f"{name}/{file} does not match the manifest's SHA-256 (corrupted download)")
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
