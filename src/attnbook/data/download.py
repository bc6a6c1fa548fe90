"""Verified, atomic access to the registry's files: mirror, then cache, then the network.

Used by every loader in :mod:`attnbook.data` (so by every chapter that trains on real data).

:func:`fetch` returns the path of a local copy of a registry file whose size and sha256 (and MD5,
where the registry pins one) have been checked. It looks, in order, in

1. the **mirror** folder named by ``ATTNBOOK_DATA_MIRROR`` (read-only, byte-identical copies; CI and
   offline machines point it at ``../shared/data``). A mirror file that fails the check raises
   :class:`DataIntegrityError`: the mirror is never modified;
2. the **cache** folder named by ``ATTNBOOK_CACHE`` (default ``$XDG_CACHE_HOME/attnbook``, else
   ``~/.cache/attnbook``). A cached file that fails the check is deleted and downloaded again;
3. the **network**, from the entry's pinned URL, with a progress bar. The bytes go to a temporary
   file next to the destination; size and digest are checked; only then is the file renamed into
   place (``os.replace``, atomic on one file system). Any failure or interruption (including
   Ctrl-C) deletes the temporary file, so nothing partial is ever left in the cache; one left by
   a process killed outright (SIGKILL, a power cut) is never used, and the next download of the
   same file deletes it once it is an hour old.

Nothing downstream parses a file that did not pass through :func:`fetch`.

Why not pooch
-------------
`pooch <https://www.fatiando.org/pooch/>`_ does the core of this (cache folder, pinned hash,
download to a temporary file, hash check, move into place). This module is kept (about 300 lines
with its docstrings) because the book needs what pooch does not do:

* **a read-only mirror first.** Pooch has one local folder, which it writes to: a local file with
  the wrong hash is downloaded again over it. Here the mirror is never written; a mirror file that
  fails the check is an error naming the mirror (a corrupt shared mirror must be fixed, not
  silently bypassed), and files that exist only in the mirror (``url`` empty) have no download.
* **errors a reader can act on.** Pooch raises ``ValueError`` on a hash mismatch and ``requests``'
  exceptions on network failures; here every failure is a
  :class:`~attnbook.data.errors.DataError` that names the dataset, the URL, both digests, the
  cache path and the variable to set (``ATTNBOOK_DATA_MIRROR``, ``ATTNBOOK_CACHE``), and chapters
  catch one class.
* **size and two digests.** Pooch checks one hash; here the size (announced ``Content-Length``
  refused before reading, a body longer than the registry's size cut off), the sha256 and, for
  IMDB's canonical archive, the MD5 every other loader pins.
* **no partial or stale files.** Pooch deletes its temporary file on an exception; a process killed
  outright leaves it for good. Here the next download sweeps such ``.part`` files once an hour old.
* **no new dependencies**: pooch needs ``requests``, ``platformdirs`` and ``packaging``; this uses
  the standard library.

``tests/test_data_fetch.py`` tests each of these behaviours against a local HTTP server.
"""

from __future__ import annotations

import glob
import hashlib
import http.client
import os
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from attnbook.data.errors import DataError, DataIntegrityError, DataUnavailableError
from attnbook.data.registry import REGISTRY, RegistryEntry

__all__ = [
    "MIRROR_ENV",
    "CACHE_ENV",
    "fetch",
    "cache_dir",
    "mirror_dir",
    "verify_file",
    "file_digests",
    "locate",
    "read_verified",
]

MIRROR_ENV = "ATTNBOOK_DATA_MIRROR"
CACHE_ENV = "ATTNBOOK_CACHE"

_CHUNK = 1 << 16  # bytes read per network/disk read
_TIMEOUT_S = 30.0  # socket timeout of a download
_STALE_PART_S = 3600.0  # a temporary download file untouched this long was left by a killed process
_USER_AGENT = "attnbook-data/0.1 (+https://github.com/attnbook/attnbook)"


def mirror_dir() -> Path | None:
    """The mirror folder (``$ATTNBOOK_DATA_MIRROR``), or ``None`` when the variable is unset."""
    value = os.environ.get(MIRROR_ENV, "").strip()
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """The cache folder: ``$ATTNBOOK_CACHE``, else ``$XDG_CACHE_HOME/attnbook``, else
    ``~/.cache/attnbook``. Not created here."""
    value = os.environ.get(CACHE_ENV, "").strip()
    if value:
        return Path(value).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "attnbook"


def _entry(key: str | RegistryEntry) -> RegistryEntry:
    if isinstance(key, RegistryEntry):
        return key
    try:
        return REGISTRY[key]
    except KeyError:
        raise DataError(
            f"{key!r} is not in the dataset registry (attnbook.data.REGISTRY has "
            f"{len(REGISTRY)} files, e.g. {next(iter(REGISTRY))!r})"
        ) from None


def file_digests(path: Path) -> tuple[int, str, str]:
    """``(size in bytes, sha256 hex, md5 hex)`` of a file, read in chunks."""
    sha, md5, n = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            sha.update(chunk)
            md5.update(chunk)
            n += len(chunk)
    return n, sha.hexdigest(), md5.hexdigest()


def _origin(entry: RegistryEntry) -> str:
    """``dataset 'cora', URL https://...`` (or ``mirror-only file`` where there is no URL)."""
    where = f"URL {entry.url}" if entry.url else "a mirror-only file, no URL"
    return f"dataset {entry.dataset!r}, {where}"


def _mismatch(entry: RegistryEntry, where: str, size: int, sha: str, md5: str) -> str | None:
    """A message naming what differs, or ``None`` if the file matches the entry."""
    if size != entry.size:
        return (
            f"{where} copy of {entry.key!r} ({_origin(entry)}) has "
            f"{size} bytes, expected {entry.size}; sha256 expected {entry.sha256}, actual {sha}"
        )
    if sha != entry.sha256:
        return (
            f"{where} copy of {entry.key!r} ({_origin(entry)}) has the "
            f"wrong sha256: expected {entry.sha256}, actual {sha}"
        )
    if entry.md5 is not None and md5 != entry.md5:
        return (
            f"{where} copy of {entry.key!r} ({_origin(entry)}) has the "
            f"wrong MD5: expected {entry.md5}, actual {md5}"
        )
    return None


def verify_file(path: Path, key: str | RegistryEntry, *, where: str = "local") -> None:
    """Raise :class:`DataIntegrityError` unless ``path`` has the entry's size and digests."""
    entry = _entry(key)
    path = Path(path)
    size, sha, md5 = file_digests(path)  # every time: no stat-based shortcut to fool
    problem = _mismatch(entry, where, size, sha, md5)
    if problem:
        raise DataIntegrityError(problem + f" (file: {path})")


def _locate(entry: RegistryEntry) -> tuple[Path | None, str]:
    """``(verified local path or None, note)``; the note says if a corrupt cache entry was removed."""
    mirror = mirror_dir()
    if mirror is not None:
        p = mirror / entry.key
        if p.is_file():
            verify_file(p, entry, where=f"mirror (${MIRROR_ENV}={mirror})")
            return p, ""
    p = cache_dir() / entry.key
    if p.is_file():
        try:
            verify_file(p, entry, where="cached")
            return p, ""
        except DataIntegrityError as exc:
            p.unlink(missing_ok=True)  # corrupt cache entry: remove it, the caller re-downloads
            return None, f"A corrupt cached copy was found and removed ({exc}). "
    return None, ""


def locate(key: str | RegistryEntry) -> Path | None:
    """The verified local path of a file (mirror or cache) without downloading, or ``None``.

    A corrupt cache entry is deleted (and ``None`` returned); a corrupt mirror file raises.
    """
    return _locate(_entry(key))[0]


def fetch(key: str, *, progress: bool = True) -> Path:
    """The local, verified path of registry file ``key`` (e.g. ``"planetoid/ind.cora.x"``).

    Tries the mirror, then the cache, then downloads into the cache (see the module docstring).

    Args:
        key: a key of :data:`attnbook.data.REGISTRY` (the file's path under the mirror).
        progress: show a progress bar while downloading.

    Returns:
        a :class:`pathlib.Path` to a file whose size and sha256 match the registry.

    Raises:
        DataIntegrityError: a mirror file, or a downloaded file, does not match the registry
            (a downloaded file is deleted first).
        DataUnavailableError: the file is not local and cannot be downloaded (offline, HTTP
            error, or a mirror-only file); the message names the dataset, the URL and the
            variable to set.
    """
    entry = _entry(key)
    local, note = _locate(entry)
    if local is not None:
        return local
    dest = cache_dir() / entry.key
    if entry.url is None:
        raise DataUnavailableError(
            f"{note}{entry.key!r} (dataset {entry.dataset!r}) exists only in the offline mirror "
            f"and is not in it or in the cache; {_mirror_advice(entry)}. {entry.note}"
        )
    try:
        _download(entry, dest, progress=progress)
    except DataUnavailableError as exc:
        if note:
            raise DataUnavailableError(note + str(exc)) from exc
        raise
    return dest


def read_verified(key: str) -> bytes:
    """The bytes of registry file ``key``, fetched with :func:`fetch` and checked again in memory.

    Loaders parse these exact bytes, so no one can swap the file between the check and the parse.
    Meant for small files (at most a few MB); large archives are streamed from :func:`fetch`'s path.
    """
    entry = _entry(key)
    data = fetch(key).read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    if len(data) != entry.size or sha != entry.sha256:
        raise DataIntegrityError(
            f"{entry.key!r} ({_origin(entry)}) changed after it was "
            f"checked: expected sha256 {entry.sha256}, actual {sha}"
        )
    return data


def _progress_bar(total: int, desc: str, enabled: bool):
    from attnbook.utils import progress

    return progress(total=total, desc=desc, unit="B", unit_scale=True, disable=not enabled)


def _download(entry: RegistryEntry, dest: Path, *, progress: bool) -> None:
    """Download ``entry.url`` to ``dest`` through a temporary file, verified, atomically.

    The temporary file (``.<name>.<random>.part`` beside ``dest``) is deleted on every failure,
    including ``KeyboardInterrupt``; ``dest`` appears only complete and verified (``os.replace``).
    """
    assert entry.url is not None
    dest.parent.mkdir(parents=True, exist_ok=True)
    _sweep_stale_parts(dest.parent, entry.filename)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{entry.filename}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            n, sha, md5 = _stream(entry, out, progress)
            out.flush()
            os.fsync(out.fileno())
        problem = _mismatch(entry, "downloaded", n, sha, md5)
        if problem:
            raise DataIntegrityError(problem + "; the download was deleted")
        # mkstemp creates the file private (0600); give it the permissions of any new file, so
        # that a cache shared by several users (a class server) stays readable.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _sweep_stale_parts(folder: Path, filename: str) -> None:
    """Delete temporary files of ``filename`` that a killed process (SIGKILL, power cut) left.

    A live download writes at least every ``_TIMEOUT_S`` seconds (or fails), so a ``.part``
    untouched for ``_STALE_PART_S`` belongs to no running process; younger ones are left alone.
    """
    now = time.time()
    for part in folder.glob(f".{glob.escape(filename)}.*.part"):
        try:
            if now - part.stat().st_mtime > _STALE_PART_S:
                part.unlink()
        except OSError:  # gone already (another process swept it), or not ours to delete
            pass


def _umask() -> int:
    """The process's umask (read by setting it and setting it back: there is no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _mirror_advice(entry: RegistryEntry) -> str:
    """What to do about the mirror variable, given its present state."""
    mirror = mirror_dir()
    if mirror is None:
        return f"set {MIRROR_ENV} to a folder holding a copy (e.g. ../shared/data)"
    if not mirror.is_dir():
        return (
            f"{MIRROR_ENV} is set to {mirror}, which is not a folder: set it to the mirror "
            "folder (e.g. ../shared/data)"
        )
    return (
        f"{MIRROR_ENV} is set to {mirror}, which has no {entry.key}: set it to a folder holding "
        "a copy (e.g. ../shared/data)"
    )


def _unavailable(entry: RegistryEntry, reason: str) -> DataUnavailableError:
    return DataUnavailableError(
        f"cannot download {entry.key!r} (dataset {entry.dataset!r}) from {entry.url}: {reason}. "
        f"It is not in the cache ({cache_dir() / entry.key}) and no mirror has it; to work "
        f"offline, {_mirror_advice(entry)}, or set {CACHE_ENV} to a cache folder that has one."
    )


def _stream(entry: RegistryEntry, out, progress: bool) -> tuple[int, str, str]:
    """Copy the response body of ``entry.url`` into ``out``; return ``(bytes, sha256, md5)``."""
    assert entry.url is not None
    sha, md5, n = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    request = urllib.request.Request(entry.url, headers={"User-Agent": _USER_AGENT})
    try:
        response = urllib.request.urlopen(request, timeout=_TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise _unavailable(entry, f"HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        # HTTPException: a reply that is not HTTP (BadStatusLine, ...); it is no OSError
        raise _unavailable(entry, str(exc) or type(exc).__name__) from exc
    what = f"download of {entry.key!r} (dataset {entry.dataset!r}) from {entry.url}"
    with response, _progress_bar(entry.size, entry.key, progress) as bar:
        announced = response.headers.get("Content-Length")
        announced = int(announced) if announced and announced.isdigit() else None
        if announced is not None and announced != entry.size:
            raise DataIntegrityError(
                f"{what}: the server announces {announced} bytes, expected {entry.size} bytes "
                f"with sha256 {entry.sha256}; refused before reading, nothing was kept"
            )
        while True:
            try:
                chunk = response.read(_CHUNK)
            # connection reset, timeout (OSError); a chunked body cut short (IncompleteRead, an
            # HTTPException, not an OSError)
            except (OSError, ValueError, http.client.HTTPException) as exc:
                raise DataIntegrityError(
                    f"{what} broke off after {n} of {entry.size} bytes ({exc!r}); expected sha256 "
                    f"{entry.sha256}, actual (of the part) {sha.hexdigest()}; nothing was kept"
                ) from exc
            if not chunk:
                if announced is not None and n < announced:  # the connection closed early
                    raise DataIntegrityError(
                        f"{what} broke off after {n} of {entry.size} bytes; expected sha256 "
                        f"{entry.sha256}, actual (of the part) {sha.hexdigest()}; nothing was kept"
                    )
                return n, sha.hexdigest(), md5.hexdigest()
            n += len(chunk)
            sha.update(chunk)
            md5.update(chunk)
            if n > entry.size:  # never write more than the registry allows
                raise DataIntegrityError(
                    f"{what} is longer than the expected {entry.size} bytes; expected sha256 "
                    f"{entry.sha256}, actual (of the first {n} bytes) {sha.hexdigest()}; nothing "
                    "was kept"
                )
            out.write(chunk)
            bar.update(len(chunk))
