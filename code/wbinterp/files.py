"""Writing files so that nothing a user owns is lost and nothing is left half-written.

Every folder the package writes (a stored model, a published store, an export) is first
made under a temporary name beside its destination and then moved into place in one
step; these helpers give those temporary folders ordinary permissions (``mkdtemp`` makes
them private), check that a folder can be written before minutes of work go into it, and
say which of the user's folders must never be replaced.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

#: Errors that mean "this place cannot be written", not "the input is bad".
WRITE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}
)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def temp_folder(parent: Path, name: str, suffix: str) -> Path:
    """A new empty folder ``parent/.NAME.XXXX<suffix>``, readable as the umask allows
    (``tempfile.mkdtemp`` alone would make it 0700)."""
    tmp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{name}.", suffix=suffix))
    os.chmod(tmp, 0o777 & ~_umask())
    return tmp


def ordinary_permissions(folder: Path) -> None:
    """Give ``folder`` and the files in it the permissions the umask allows (safetensors
    writes its files 0600)."""
    mask = _umask()
    os.chmod(folder, 0o777 & ~mask)
    for path in Path(folder).iterdir():
        if path.is_file():
            os.chmod(path, 0o666 & ~mask)


def make_readable(folder: Path) -> None:
    """Let everyone read ``folder``'s tree (folders 0755, files 0644): what a web server
    serving a publication needs, whoever's umask wrote it."""
    folder = Path(folder)
    os.chmod(folder, 0o755)
    for path in folder.rglob("*"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)


def cannot_write(folder: Path) -> str | None:
    """Why ``folder`` (which exists) cannot be written, or ``None`` when it can.

    Tried by writing and removing a small file, since permission bits do not tell
    (root ignores them, a read-only mount or a full disk does not show in them)."""
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".wbinterp-write-check.")
        try:
            os.write(fd, b"0" * 4096)
        finally:
            os.close(fd)
            os.unlink(name)
    except OSError as err:
        return err.strerror or str(err)
    return None


def within(path: Path, other: Path) -> bool:
    """Whether ``path`` is ``other`` or lies inside it (both resolved)."""
    path, other = Path(path).resolve(), Path(other).resolve()
    return path == other or other in path.parents


def protected(path: Path, keep: tuple[Path, ...] = ()) -> str | None:
    """Why the folder ``path`` must never be replaced whole, or ``None``.

    Refused: the working folder, the home folder and every folder above either, and each
    folder of ``keep`` (a store, a data folder) with everything inside it and above it.
    """
    path = Path(path).resolve()
    if within(Path.cwd(), path):
        return "it is the working folder or holds it"
    if within(Path.home(), path):
        return "it is the home folder or holds it"
    for folder in keep:
        if within(path, folder) or within(folder, path):
            return f"it is, holds or lies inside {folder}"
    return None
