"""The published model store: trained models as static files on the book's site.

A published store is a folder served over HTTP(S): one sub-folder per stored model,
named as in the local store (``mnist-bilinear512-<key>``), holding the same files, and a
``manifest.json`` with the SHA-256 and size of every file. :func:`publish` writes one
from
a local store; :func:`download` fetches one model's files into a temporary folder and
checks them against the manifest. Whether a download is *trusted* (its store key, its
weights' digest, its config) is decided by :func:`wbinterp.store.load_or_train`, which
uses the published copy before training.

Where the copy comes from is one setting, :func:`models_url`: the environment variable
``WBINTERP_MODELS_URL`` (unset or empty: never download). The package knows no site:
the book passes its own address in (its generated notebooks and Binder set the
variable to the site's ``models/``).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

from . import files
from .hashing import sha256_file

#: Environment variable that sets (or, empty, turns off) where published models come
#: from.
URL_ENV = "WBINTERP_MODELS_URL"
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
#: Seconds without a byte from the site before giving up (then the model is trained).
TIMEOUT = 20.0
#: Seconds one request (the manifest, or one file) may take in all, however it trickles.
DEADLINE = 300.0


class FetchError(RuntimeError):
    """No usable published copy; the message says why, in one line."""


class PublishError(ValueError):
    """A published store cannot be written where asked; the message says why, in one
    line."""


def models_url() -> str | None:
    """The published store's address (``$WBINTERP_MODELS_URL``), or ``None`` when
    nothing is to be downloaded."""
    return os.environ.get(URL_ENV, "").strip() or None


def _is_publication(folder: Path) -> bool:
    """Whether ``folder`` holds a published store and nothing else (its manifest and the
    model folders the manifest names)."""
    try:
        data = json.loads((folder / MANIFEST).read_text())
        names = set(data["models"]) if data.get("format") == MANIFEST_FORMAT else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    return names is not None and all(
        p.name == MANIFEST or p.name in names for p in folder.iterdir()
    )


def check_out(out: Path, keep: tuple[Path, ...] = ()) -> Path:
    """``out`` if a published store may be written there, else :class:`PublishError`.

    Only a folder that is missing, empty or a previous publication is replaced; never
    the
    working or home folder, a folder above them, or a folder of ``keep`` (the store)."""
    out = Path(out)
    hint = "give a folder of its own, e.g. _build/html/models"
    if out.exists() and not out.is_dir():
        raise PublishError(f"{out} is a file, not a folder; {hint}")
    reason = files.protected(out, keep)
    if reason is not None:
        raise PublishError(f"refusing to publish into {out}: {reason}; {hint}")
    if out.is_dir() and any(out.iterdir()) and not _is_publication(out):
        raise PublishError(
            f"refusing to publish into {out}: it holds files that are not a published store "
            f"(they would be deleted); {hint}"
        )
    return out


def publish(folders: Iterable[Path], out: Path, keep: tuple[Path, ...] = ()) -> Path:
    """Copy each model folder into ``out`` and write ``out/manifest.json``; returns it.

    ``out`` is replaced whole, so it never mixes two publications, and only when
    :func:`check_out` allows it. Files are left readable by everyone (a web server
    serves them)."""
    out = check_out(out, keep)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = files.temp_folder(out.parent, out.name, ".part")
    except OSError as err:
        raise PublishError(
            f"cannot write beside {out} ({err.strerror}); {_WRITE_HINT}"
        ) from None
    try:
        models = {}
        for folder in sorted(Path(f) for f in folders):
            shutil.copytree(folder, tmp / folder.name)
            entries = sorted(p for p in (tmp / folder.name).iterdir() if p.is_file())
            models[folder.name] = {
                "files": {
                    p.name: {"sha256": sha256_file(p), "bytes": p.stat().st_size}
                    for p in entries
                }
            }
        manifest = {"format": MANIFEST_FORMAT, "models": models}
        (tmp / MANIFEST).write_text(
            json.dumps(manifest, indent=1, sort_keys=True) + "\n"
        )
        files.make_readable(tmp)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except OSError as err:
        raise PublishError(
            f"cannot write {out} ({err.strerror or err}); {_WRITE_HINT}"
        ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out / MANIFEST


_WRITE_HINT = "free some space or choose a folder you can write to"


class _Deadline:
    """A total time for one request: when it is up, every socket the request opened is
    shut down, so a server that trickles bytes cannot hold a reader past it (a socket's
    own timeout only bounds each read)."""

    def __init__(self, seconds: float):
        self.seconds, self.expired = seconds, False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def register(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shutdown(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shutdown(sock)

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _opener(deadline: _Deadline) -> urllib.request.OpenerDirector:
    """urllib's opener, each of whose connections (redirects too) registers its socket
    with ``deadline``."""

    def watched(base):
        class Connection(base):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                create = self._create_connection

                def create_watched(*a, **kw):
                    sock = create(*a, **kw)
                    deadline.register(sock)
                    return sock

                self._create_connection = create_watched

        return Connection

    http_conn, https_conn = (
        watched(http.client.HTTPConnection),
        watched(http.client.HTTPSConnection),
    )

    class HTTPHandler(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(http_conn, req)

    class HTTPSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req):
            return self.do_open(https_conn, req, context=self._context)

    return urllib.request.build_opener(HTTPHandler, HTTPSHandler)


def _fetch_bytes(url: str, sink, limit: int, timeout: float, deadline: float) -> int:
    """Stream ``url`` into ``sink(block)``, at most ``limit + 1`` bytes; returns how
    many
    came. Raises :class:`FetchError` on an HTTP error, no connection, a gap of
    ``timeout`` seconds, or ``deadline`` seconds in all."""
    with _Deadline(deadline) as watch:
        try:
            with _opener(watch).open(url, timeout=timeout) as response:  # noqa: S310 (an http(s) URL we built)
                size = 0
                while size <= limit:
                    block = response.read1(1 << 16)
                    if not block or watch.expired:
                        break
                    sink(block)
                    size += len(block)
        except urllib.error.HTTPError as err:
            raise FetchError(f"{url} answered {err.code} {err.reason}") from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
            if not watch.expired:
                reason = getattr(err, "reason", err)
                raise FetchError(f"cannot reach {url} ({reason}); offline?") from None
        if watch.expired:
            raise FetchError(
                f"{url} took longer than {deadline:g} s in all (a slow or stalled server)"
            )
    return size


#: Longest model or file name a manifest may use (the store's names are about 40
#: characters).
MAX_NAME = 120
#: Largest manifest accepted, in bytes.
MAX_MANIFEST = 1 << 22
_SHA256 = re.compile(r"[0-9a-f]{64}")


def plain_name(name) -> str:
    """``name`` if it is a safe name for one file or folder, else
    :class:`FetchError`."""
    if (
        not isinstance(name, str)
        or not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
    ):
        raise FetchError(f"the manifest names an unsafe path {name!r}")
    if len(name) > MAX_NAME or not name.isprintable():
        raise FetchError(
            f"the manifest names a file {name[:40]!r}… longer than {MAX_NAME} characters or unprintable"
        )
    return name


def _checked_entry(name: str, entry) -> dict[str, tuple[str, int]]:
    """A manifest entry's files as ``{file: (sha256, bytes)}``; :class:`FetchError` when
    it is not of the manifest's form."""
    files_ = entry.get("files") if isinstance(entry, dict) else None
    if not isinstance(files_, dict) or not files_:
        raise FetchError(f"the manifest's entry for {name} lists no files")
    checked = {}
    for file, meta in files_.items():
        plain_name(file)
        digest = meta.get("sha256") if isinstance(meta, dict) else None
        size = meta.get("bytes") if isinstance(meta, dict) else None
        if not (isinstance(digest, str) and _SHA256.fullmatch(digest)):
            raise FetchError(f"the manifest's entry for {name}/{file} has no SHA-256")
        if not (isinstance(size, int) and not isinstance(size, bool) and size >= 0):
            raise FetchError(
                f"the manifest's entry for {name}/{file} has no size in bytes"
            )
        checked[file] = (digest, size)
    return checked


def manifest(
    base_url: str, timeout: float | None = None, deadline: float | None = None
) -> dict:
    """The published store's manifest: ``{"format": 1, "models": {name: {"files":
    …}}}``.

    Only its outer form is checked here; each model's entry is checked by
    :func:`download`, so one bad entry does not stop the others."""
    url = f"{base_url.rstrip('/')}/{MANIFEST}"
    chunks: list[bytes] = []
    size = _fetch_bytes(
        url, chunks.append, MAX_MANIFEST, timeout or TIMEOUT, deadline or DEADLINE
    )
    if size > MAX_MANIFEST:
        raise FetchError(f"{url} is larger than {MAX_MANIFEST} bytes: not a manifest")
    try:
        data = json.loads(b"".join(chunks))
    except ValueError:
        raise FetchError(f"{url} is not a manifest (not JSON)") from None
    if (
        not isinstance(data, dict)
        or data.get("format") != MANIFEST_FORMAT
        or not isinstance(data.get("models"), dict)
    ):
        raise FetchError(f"{url} is not a manifest of format {MANIFEST_FORMAT}")
    return data


@contextlib.contextmanager
def download(
    name: str,
    base_url: str,
    into: Path,
    timeout: float | None = None,
    deadline: float | None = None,
) -> Iterator[Path]:
    """Download the published model ``name`` into a new temporary folder under ``into``.

    Yields the folder once every file matches the manifest's size and SHA-256; the
    folder is removed on exit unless the caller has moved it away. Raises
    :class:`FetchError` when the site cannot be reached or is too slow (``timeout``
    seconds without a byte, ``deadline`` seconds for one file), the model is not
    published or its entry is malformed, a file does not match, or ``into`` cannot be
    written.
    """
    timeout, deadline = timeout or TIMEOUT, deadline or DEADLINE
    entry = manifest(base_url, timeout, deadline)["models"].get(plain_name(name))
    if entry is None:
        raise FetchError(f"{name} is not published at {base_url}")
    wanted = _checked_entry(name, entry)
    into = Path(into)
    try:
        into.mkdir(parents=True, exist_ok=True)
        tmp = files.temp_folder(into, name, ".download")
    except OSError as err:
        raise FetchError(
            f"the store {into} cannot be written ({err.strerror or err})"
        ) from None
    try:
        for file, (sha256, size) in sorted(wanted.items()):
            digest = hashlib.sha256()
            url = f"{base_url.rstrip('/')}/{name}/{file}"
            try:
                with open(tmp / file, "wb") as f:

                    def sink(block, f=f, digest=digest):
                        digest.update(block)
                        f.write(block)

                    got = _fetch_bytes(url, sink, size, timeout, deadline)
            except OSError as err:
                raise FetchError(
                    f"the store {into} cannot be written ({err.strerror or err})"
                ) from None
            if got != size or digest.hexdigest() != sha256:
                raise FetchError(
                    f"{name}/{file} does not match the manifest's SHA-256 (corrupted download)"
                )
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
