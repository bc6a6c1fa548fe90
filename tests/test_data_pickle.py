"""A crafted pickle must raise, and its payload must not run (attnbook.data.safe_pickle)."""

from __future__ import annotations

import collections
import hashlib
import os
import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from attnbook.data import UnsafePickleError, load_planetoid, registry
from attnbook.data.registry import RegistryEntry
from attnbook.data.safe_pickle import restricted_load


class _Exploit:
    """Unpickled naively, this runs ``os.system("touch <marker>")``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _EvalExploit:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (eval, (f"open({self.marker!r}, 'w').close()",))


@pytest.mark.parametrize("exploit", [_Exploit, _EvalExploit])
@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_crafted_pickle_raises_and_does_not_run(tmp_path, exploit, protocol):
    marker = tmp_path / "pwned"
    data = pickle.dumps(exploit(marker), protocol=protocol)
    with pytest.raises(UnsafePickleError, match="refusing to load global"):
        restricted_load(data)
    assert not marker.exists()


def test_exploit_hidden_inside_allowed_container(tmp_path):
    marker = tmp_path / "pwned"
    graph = collections.defaultdict(list, {0: [1], 1: [_Exploit(marker)]})
    with pytest.raises(UnsafePickleError):
        restricted_load(pickle.dumps(graph, protocol=2))
    assert not marker.exists()


def test_the_naive_load_would_have_run_it(tmp_path):
    """Sanity check of the test itself: the payload is live (run only with pickle.loads here)."""
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(_EvalExploit(marker)))  # noqa: S301 - deliberate
    assert marker.exists()


def test_allowed_objects_round_trip():
    x = sp.csr_matrix(np.eye(3, dtype=np.float32))
    y = np.arange(6, dtype=np.int32).reshape(2, 3)
    g = collections.defaultdict(list, {0: [1, 2], 2: [0]})
    for obj in (x, y, g):
        out = restricted_load(pickle.dumps(obj, protocol=4))
        assert type(out) is type(obj)
    assert (restricted_load(pickle.dumps(x, protocol=4)) != x).nnz == 0


def test_garbage_is_a_clear_error():
    with pytest.raises(UnsafePickleError, match="not a valid Planetoid pickle"):
        restricted_load(b"\x80\x02not a pickle at all")


def test_load_planetoid_refuses_a_crafted_file(tmp_path, monkeypatch):
    """End to end: a registry entry whose (matching) file is a crafted pickle. The digest check
    passes, as it would if an attacker also changed the registry; the unpickler still refuses."""
    marker = tmp_path / "pwned"
    data = pickle.dumps(_Exploit(marker), protocol=2)
    mirror = tmp_path / "mirror"
    (mirror / "planetoid").mkdir(parents=True)
    key = "planetoid/ind.cora.x"
    (mirror / key).write_bytes(data)
    monkeypatch.setenv("ATTNBOOK_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("ATTNBOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(
        registry._REGISTRY,
        key,
        RegistryEntry(key, "cora", None, len(data), hashlib.sha256(data).hexdigest(), "test"),
    )
    with pytest.raises(UnsafePickleError):
        load_planetoid("cora")
    assert not marker.exists()
