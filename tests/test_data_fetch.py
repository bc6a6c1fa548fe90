"""Bad input for attnbook.data.download.fetch: tampered, truncated, wrong-length, interrupted,
offline, corrupt cache. Runs offline: a local HTTP server on 127.0.0.1 stands in for the network,
and test-only registry entries are added with monkeypatch. Nothing partial may stay in the cache."""

from __future__ import annotations

import hashlib
import http.server
import os
import socket
import stat
import threading
from pathlib import Path

import pytest

from attnbook.data import (
    DataError,
    DataIntegrityError,
    DataUnavailableError,
    download,
    fetch,
    registry,
)
from attnbook.data.registry import RegistryEntry

PAYLOAD = bytes(range(256)) * 800  # 204,800 bytes: several 64 KiB chunks
SHA = hashlib.sha256(PAYLOAD).hexdigest()
KEY = "testset/blob.bin"


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    """An empty mirror and cache under tmp_path, progress bars off."""
    mirror, cache = tmp_path / "mirror", tmp_path / "cache"
    mirror.mkdir()
    monkeypatch.setenv("ATTNBOOK_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("ATTNBOOK_CACHE", str(cache))
    monkeypatch.setenv("ATTNBOOK_PROGRESS", "0")
    monkeypatch.setattr(download, "_TIMEOUT_S", 5.0)
    return mirror, cache


def register(monkeypatch, url: str | None, payload: bytes = PAYLOAD, key: str = KEY):
    entry = RegistryEntry(
        key=key,
        dataset="testset",
        url=url,
        size=len(payload),
        sha256=hashlib.sha256(payload).hexdigest(),
        licence="test",
    )
    monkeypatch.setitem(registry._REGISTRY, key, entry)
    return entry


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD in several well-formed and malformed ways, chosen by the path."""

    timeout = 5  # socket timeout of the handler: a stuck client cannot hold the server
    requests_seen: list[str] = []

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        type(self).requests_seen.append(self.path)
        body, length = PAYLOAD, len(PAYLOAD)
        if self.path == "/missing":
            self.send_error(404)
            return
        if self.path == "/garbage":  # not HTTP at all: http.client raises BadStatusLine
            self.wfile.write(b"garbage\r\n\r\n")
            self.close_connection = True
            return
        if self.path == "/chunked-truncated":  # chunked body, hangs up inside the second chunk
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            first, second = PAYLOAD[:70000], PAYLOAD[70000:80000]
            try:
                self.wfile.write(b"%x\r\n" % len(first) + first + b"\r\n")
                self.wfile.write(b"%x\r\n" % 50000 + second)  # announces 50,000, sends 10,000
                self.wfile.flush()
            except OSError:
                pass
            self.close_connection = True
            return
        if self.path == "/truncated":  # announces everything, sends half, hangs up
            body = PAYLOAD[: len(PAYLOAD) // 2]
        elif self.path == "/short":  # a complete response, but of the wrong length
            body = length_body = PAYLOAD[:1000]
            length = len(length_body)
        elif self.path == "/long":
            body = PAYLOAD + b"extra bytes"
            length = len(body)
        elif self.path == "/tampered":  # right length, wrong bytes
            body = b"X" + PAYLOAD[1:]
        elif self.path == "/unannounced-short":  # no Content-Length; the body ends at close
            body, length = PAYLOAD[:5000], None
        elif self.path == "/unannounced-long":
            body, length = PAYLOAD + PAYLOAD, None
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        try:
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            pass
        self.close_connection = True


@pytest.fixture
def server():
    """A loopback-only HTTP server, stopped at teardown or after 60 s at the latest."""
    _Handler.requests_seen = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    watchdog = threading.Timer(60.0, httpd.shutdown)
    watchdog.daemon = True
    watchdog.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        watchdog.cancel()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def closed_port_url() -> str:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now: connections are refused, as offline
    return f"http://127.0.0.1:{port}/blob.bin"


# ------------------------------------------------------------------------------------------ good


@pytest.mark.network
def test_download_verifies_and_caches(dirs, server, monkeypatch):
    _, cache = dirs
    register(monkeypatch, server + "/ok")
    path = fetch(KEY)
    assert path == cache / KEY and path.read_bytes() == PAYLOAD
    assert files_in(cache) == [path]
    assert fetch(KEY) == path  # second call: from the cache, no request
    assert _Handler.requests_seen == ["/ok"]


def test_mirror_is_used_first(dirs, monkeypatch):
    mirror, cache = dirs
    register(monkeypatch, closed_port_url())
    (mirror / KEY).parent.mkdir(parents=True)
    (mirror / KEY).write_bytes(PAYLOAD)
    assert fetch(KEY) == mirror / KEY
    assert files_in(cache) == []


def test_unknown_key(dirs):
    with pytest.raises(DataError, match="not in the dataset registry"):
        fetch("nope/nothing.txt")


def test_cache_default_location(monkeypatch, tmp_path):
    monkeypatch.delenv("ATTNBOOK_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert download.cache_dir() == tmp_path / "xdg" / "attnbook"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert download.cache_dir() == Path.home() / ".cache" / "attnbook"
    monkeypatch.setenv("ATTNBOOK_CACHE", str(tmp_path / "c"))
    assert download.cache_dir() == tmp_path / "c"


# ------------------------------------------------------------------------------------------- bad


def test_tampered_mirror_file_raises(dirs, monkeypatch):
    mirror, cache = dirs
    entry = register(monkeypatch, "https://example.invalid/blob.bin")
    (mirror / KEY).parent.mkdir(parents=True)
    bad = b"Y" + PAYLOAD[1:]
    (mirror / KEY).write_bytes(bad)
    with pytest.raises(DataIntegrityError) as err:
        fetch(KEY)
    msg = str(err.value)
    assert "testset" in msg and entry.url in msg
    assert SHA in msg and hashlib.sha256(bad).hexdigest() in msg  # expected and actual
    assert (mirror / KEY).read_bytes() == bad  # the mirror is never modified
    assert files_in(cache) == []


@pytest.mark.network
def test_truncated_download(dirs, server, monkeypatch):
    _, cache = dirs
    register(monkeypatch, server + "/truncated")
    with pytest.raises(DataIntegrityError, match=r"broke off after \d+ of 204800 bytes"):
        fetch(KEY)
    assert files_in(cache) == []


@pytest.mark.network
@pytest.mark.parametrize(
    "path", ["/short", "/long", "/tampered", "/unannounced-short", "/unannounced-long"]
)
def test_wrong_length_or_wrong_bytes(dirs, server, monkeypatch, path):
    _, cache = dirs
    entry = register(monkeypatch, server + path)
    with pytest.raises(DataIntegrityError) as err:
        fetch(KEY)
    msg = str(err.value)
    assert "testset" in msg and entry.url in msg and SHA in msg
    if path == "/tampered":  # the whole body was read: the actual digest is reported
        assert "actual " + hashlib.sha256(b"X" + PAYLOAD[1:]).hexdigest() in msg
    if path == "/short":  # refused on its Content-Length, before the body is read
        assert "announces 1000 bytes" in msg
    if path == "/unannounced-short":
        assert "has 5000 bytes, expected 204800" in msg
        assert "actual " + hashlib.sha256(PAYLOAD[:5000]).hexdigest() in msg
    if path == "/unannounced-long":  # stopped as soon as it passes the expected size
        assert "longer than the expected 204800 bytes" in msg
    assert files_in(cache) == []


@pytest.mark.network
def test_truncated_chunked_download(dirs, server, monkeypatch):
    """http.client raises IncompleteRead (not an OSError) here: it must still be a DataError that
    names the dataset, the URL and the expected digest, and leave nothing behind."""
    _, cache = dirs
    entry = register(monkeypatch, server + "/chunked-truncated")
    with pytest.raises(DataIntegrityError, match=r"broke off after \d+ of 204800 bytes") as err:
        fetch(KEY)
    msg = str(err.value)
    assert "testset" in msg and entry.url in msg and SHA in msg
    assert files_in(cache) == []


@pytest.mark.network
def test_not_http_is_unavailable(dirs, server, monkeypatch):
    _, cache = dirs
    entry = register(monkeypatch, server + "/garbage")
    with pytest.raises(DataUnavailableError) as err:
        fetch(KEY)
    msg = str(err.value)
    assert "testset" in msg and entry.url in msg and "ATTNBOOK_DATA_MIRROR" in msg
    assert files_in(cache) == []


@pytest.mark.network
def test_downloaded_file_has_the_usual_permissions(dirs, server, monkeypatch):
    """The temporary file is created private (0600); the cached file must get the permissions any
    new file gets (0666 less the umask), so that a cache shared by a class stays readable."""
    _, cache = dirs
    register(monkeypatch, server + "/ok")
    old = os.umask(0o022)
    try:
        path = fetch(KEY)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


@pytest.mark.network
def test_http_error_is_unavailable(dirs, server, monkeypatch):
    _, cache = dirs
    register(monkeypatch, server + "/missing")
    with pytest.raises(DataUnavailableError, match="HTTP 404"):
        fetch(KEY)
    assert files_in(cache) == []


@pytest.mark.network
def test_interrupted_download_leaves_nothing(dirs, server, monkeypatch):
    """Ctrl-C midway (simulated after the first chunk): the exception passes, the cache is empty."""
    _, cache = dirs
    register(monkeypatch, server + "/ok")

    class InterruptingBar:
        def __init__(self):
            self.calls = 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n):
            self.calls += 1
            raise KeyboardInterrupt

    monkeypatch.setattr(download, "_progress_bar", lambda *a, **k: InterruptingBar())
    with pytest.raises(KeyboardInterrupt):
        fetch(KEY)
    assert files_in(cache) == []


@pytest.mark.network
def test_parts_left_by_a_killed_download_are_swept(dirs, server, monkeypatch):
    """A process killed with SIGKILL (or a power cut) cannot delete its temporary file. The next
    download of the same file removes such leftovers once they are stale (untouched for longer
    than a live download can be), and leaves a fresh one (another process's live download)."""
    _, cache = dirs
    register(monkeypatch, server + "/ok")
    (cache / KEY).parent.mkdir(parents=True)
    stale = cache / "testset" / ".blob.bin.k1ll3d.part"
    live = cache / "testset" / ".blob.bin.l1v3.part"
    other = cache / "testset" / ".other.bin.k1ll3d.part"  # another file's: not ours to judge
    for p in (stale, live, other):
        p.write_bytes(PAYLOAD[:1000])
    old = 1_000_000_000  # 2001
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    path = fetch(KEY)
    assert sorted(files_in(cache)) == sorted([path, live, other])


def test_offline_without_mirror_or_cache(dirs, monkeypatch):
    _, cache = dirs
    url = closed_port_url()
    register(monkeypatch, url)
    monkeypatch.delenv("ATTNBOOK_DATA_MIRROR")
    with pytest.raises(DataUnavailableError) as err:
        fetch(KEY)
    msg = str(err.value)
    assert "testset" in msg and url in msg and "ATTNBOOK_DATA_MIRROR" in msg
    assert files_in(cache) == []


def test_offline_with_a_wrong_mirror_path_says_so(dirs, monkeypatch, tmp_path):
    """The variable is set, but to a folder that does not exist: the error must not merely say
    'set ATTNBOOK_DATA_MIRROR' (it is set), but name the folder it points at."""
    url = closed_port_url()
    register(monkeypatch, url)
    wrong = tmp_path / "no" / "such" / "mirror"
    monkeypatch.setenv("ATTNBOOK_DATA_MIRROR", str(wrong))
    with pytest.raises(DataUnavailableError) as err:
        fetch(KEY)
    msg = str(err.value)
    assert "testset" in msg and url in msg
    assert f"ATTNBOOK_DATA_MIRROR is set to {wrong}, which is not a folder" in msg


def test_tampered_mirror_only_file_names_no_url(dirs, monkeypatch):
    mirror, _ = dirs
    register(monkeypatch, None)
    (mirror / KEY).parent.mkdir(parents=True)
    (mirror / KEY).write_bytes(b"Y" + PAYLOAD[1:])
    with pytest.raises(DataIntegrityError) as err:
        fetch(KEY)
    msg = str(err.value)
    assert "URL None" not in msg and "mirror-only file" in msg and "testset" in msg and SHA in msg


def test_mirror_only_file_without_mirror(dirs, monkeypatch):
    register(monkeypatch, None)
    with pytest.raises(DataUnavailableError, match="ATTNBOOK_DATA_MIRROR"):
        fetch(KEY)


@pytest.mark.network
def test_corrupt_cache_entry_is_replaced(dirs, server, monkeypatch):
    _, cache = dirs
    register(monkeypatch, server + "/ok")
    (cache / KEY).parent.mkdir(parents=True)
    (cache / KEY).write_bytes(PAYLOAD[:-10] + b"0123456789")
    path = fetch(KEY)
    assert path.read_bytes() == PAYLOAD
    assert files_in(cache) == [cache / KEY]


def test_corrupt_cache_entry_offline_is_removed_and_reported(dirs, monkeypatch):
    _, cache = dirs
    register(monkeypatch, closed_port_url())
    (cache / KEY).parent.mkdir(parents=True)
    (cache / KEY).write_bytes(b"garbage")
    with pytest.raises(DataUnavailableError, match="corrupt cached copy was found and removed"):
        fetch(KEY)
    assert files_in(cache) == []


def _rewrite_keeping_stat(path: Path, data: bytes) -> None:
    """Change the bytes but keep size and mtime: what a stat-based shortcut could not see."""
    st = path.stat()
    assert len(data) == st.st_size
    path.write_bytes(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_mirror_file_changed_after_use_is_checked_again(dirs, monkeypatch):
    mirror, _ = dirs
    register(monkeypatch, closed_port_url())
    (mirror / KEY).parent.mkdir(parents=True)
    (mirror / KEY).write_bytes(PAYLOAD)
    fetch(KEY)
    _rewrite_keeping_stat(mirror / KEY, b"Z" + PAYLOAD[1:])
    with pytest.raises(DataIntegrityError):
        fetch(KEY)


def test_cached_file_changed_after_use_is_checked_again(dirs, monkeypatch):
    _, cache = dirs
    register(monkeypatch, closed_port_url())
    (cache / KEY).parent.mkdir(parents=True)
    (cache / KEY).write_bytes(PAYLOAD)
    assert fetch(KEY) == cache / KEY
    _rewrite_keeping_stat(cache / KEY, b"Z" + PAYLOAD[1:])
    with pytest.raises(DataUnavailableError, match="corrupt cached copy was found and removed"):
        fetch(KEY)  # offline: the corrupt copy is removed, and the network is unreachable
    assert files_in(cache) == []
