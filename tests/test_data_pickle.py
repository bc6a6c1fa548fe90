"""A crafted pickle must raise, and its payload must not run (attnbook.data.safe_pickle)."""

from __future__ import annotations

import collections
import copyreg
import hashlib
import os
import pathlib
import pickle
import struct
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from attnbook.data import UnsafePickleError, load_planetoid, registry, safe_pickle
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


# --------------------------------------------------------------------------------------------------
# Attacks on the objects the unpickler admits (issue 12): each must raise UnsafePickleError, run
# nothing, crash nothing, and leave every class as it was.
# --------------------------------------------------------------------------------------------------
_NP_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(1))[0]
_REAL_CLASSES = (sp.csr_matrix, np.ndarray, np.dtype, collections.defaultdict, list)


def _snapshot():
    """Everything a pickle might try to change: the real classes and the stand-ins."""
    classes = {cls: dict(vars(cls)) for cls in (*_REAL_CLASSES, safe_pickle._CSRStub)}
    standins = {
        k: (v._name, v._call) if isinstance(v, safe_pickle._Global) else v
        for k, v in safe_pickle.ALLOWED_GLOBALS.items()
    }
    return classes, standins


@pytest.fixture
def unchanged():
    """Fails the test if anything global changed during it."""
    before = _snapshot()
    yield
    assert _snapshot() == before


def _u(s: str) -> bytes:
    """BINUNICODE opcode."""
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


@pytest.mark.parametrize("slots", [False, True], ids=["dict-state", "slot-state"])
@pytest.mark.parametrize("module,name", sorted(safe_pickle.ALLOWED_GLOBALS))
def test_build_on_an_admitted_global_is_refused(module, name, slots, unchanged):
    """GLOBAL; state; BUILD: before issue 12 this set ``csr_matrix.pwned`` for the whole process."""
    state = b"}" + _u("pwned") + b"K\x01s"  # {"pwned": 1}
    if slots:
        state = b"N" + state + b"\x86"  # (None, {"pwned": 1}): setattr on the object
    data = b"\x80\x02" + _global(module, name) + state + b"b."
    with pytest.raises(UnsafePickleError, match="BUILD|attribute"):
        restricted_load(data)
    for cls in _REAL_CLASSES:
        assert not hasattr(cls, "pwned")


def test_build_on_the_csr_standin_class_names_the_attack(unchanged):
    data = b"\x80\x02" + _global("scipy.sparse.csr", "csr_matrix") + b"}" + _u("format")
    data += _u("evil") + b"sb."
    with pytest.raises(UnsafePickleError, match="BUILD to the class scipy.sparse.csr_matrix"):
        restricted_load(data)


class _FakeCSR:
    """Pickles as scipy does (NEWOBJ of csr_matrix, then BUILD with its __dict__), with any
    state: how a crafted file looks."""

    def __init__(self, **state):
        self.state = state

    @property
    def __class__(self):  # what the pickler writes as NEWOBJ's class
        return sp.csr_matrix

    def __reduce__(self):
        return (copyreg.__newobj__, (sp.csr_matrix,), self.state)


class _FakeArray:
    """Pickles as numpy does (_reconstruct, then BUILD with (1, shape, dtype, fortran, data))."""

    def __init__(self, shape, dtype, raw, fortran=False):
        self.state = (1, shape, dtype, fortran, raw)

    def __reduce__(self):
        return (_NP_RECONSTRUCT, (np.ndarray, (0,), b"b"), self.state)


def _csr_state(**changes):
    m = sp.csr_matrix(np.arange(1, 7, dtype=np.float32).reshape(2, 3))
    state = {"_shape": m.shape, "data": m.data, "indices": m.indices, "indptr": m.indptr}
    state.update(changes)
    return state


def test_fake_csr_helper_loads_when_consistent():
    out = restricted_load(pickle.dumps(_FakeCSR(**_csr_state()), protocol=4))
    assert isinstance(out, sp.csr_matrix)
    assert (out.toarray() == np.arange(1, 7).reshape(2, 3)).all()


_i32 = np.int32
BAD_CSR = {
    "index past the last column": dict(indices=np.array([0, 1, 10**8, 0, 1, 2], _i32)),
    "negative index": dict(indices=np.array([0, 1, -5, 0, 1, 2], _i32)),
    "indptr decreasing": dict(indptr=np.array([0, 4, 3], _i32)),
    "indptr past the data": dict(indptr=np.array([0, 3, 9], _i32)),
    "indptr too short": dict(indptr=np.array([0, 6], _i32)),
    "indptr not starting at 0": dict(indptr=np.array([1, 3, 6], _i32)),
    "float indices": dict(indices=np.array([0, 1, 2, 0, 1, 2], np.float64)),
    "2-d data": dict(data=np.ones((2, 3), np.float32)),
    "3-d shape": dict(_shape=(2, 3, 1)),
    "negative shape": dict(_shape=(2, -3)),
    "absurd shape": dict(_shape=(10**9, 10**9), data=np.zeros(0, np.float32),
                         indices=np.zeros(0, _i32), indptr=np.zeros(1, _i32)),
    "shape not ints": dict(_shape=(2.0, 3.0)),
    "no shape": dict(_shape=None),
    "another format": dict(format="coo"),
    "data not an array": dict(data=[1.0] * 6),
    "object data": dict(data=np.array([1, "x", 3, 4, 5, 6], dtype=object)),
}


@pytest.mark.parametrize("case", sorted(BAD_CSR))
def test_inconsistent_csr_matrix_is_refused(case, unchanged):
    """Before issue 12 these loaded unchecked; ``.toarray()`` on the first one crashed Python."""
    data = pickle.dumps(_FakeCSR(**_csr_state(**BAD_CSR[case])), protocol=4)
    with pytest.raises(UnsafePickleError):
        restricted_load(data)


@pytest.mark.parametrize(
    "array",
    [
        np.array([1, "a", None], dtype=object),
        np.array(["ab", "cd"]),
        np.array([b"ab"]),
        np.zeros(2, dtype=[("a", "f4"), ("b", "i4")]),
        np.zeros(2, dtype="datetime64[s]"),
        np.zeros(2, dtype=np.complex64),
    ],
    ids=["object", "unicode", "bytes", "structured", "datetime", "complex"],
)
def test_non_numeric_dtypes_are_refused(array, unchanged):
    with pytest.raises(UnsafePickleError, match="dtype|data is a"):
        restricted_load(pickle.dumps(array, protocol=4))


@pytest.mark.parametrize(
    "fake,match",
    [
        (_FakeArray((10**12,), np.dtype("u1"), b""), "elements"),
        (_FakeArray((10**5,) * 3, np.dtype("f4"), b""), "elements"),
        (_FakeArray((1,) * 40, np.dtype("u1"), b"\x00"), "shape"),
        (_FakeArray((-1,), np.dtype("u1"), b""), "shape"),
        (_FakeArray((4,), np.dtype("f4"), b"\x00" * 3), "needs 16 bytes"),
        (_FakeArray((2,), np.dtype("O"), [1, 2]), "dtype"),
        (_FakeArray((2,), np.dtype("i8"), [1, 2]), "data is a list"),
        (_FakeArray([2], np.dtype("i8"), b"\x00" * 16), "shape"),
        (_FakeArray((2,), "i8", b"\x00" * 16), "dtype is a str"),
    ],
    ids=["huge-1d", "huge-3d", "too-many-dims", "negative", "short-data", "object", "list-data",
         "list-shape", "str-dtype"],
)
def test_malformed_arrays_are_refused(fake, match, unchanged):
    with pytest.raises(UnsafePickleError, match=match):
        restricted_load(pickle.dumps(fake, protocol=4))


@pytest.mark.parametrize(
    "data,match",
    [
        # list(...) and ndarray(...) called: they may only be passed as arguments
        (b"\x80\x02" + _global("__builtin__", "list") + b")R.", "only be passed"),
        (b"\x80\x02" + _global("numpy", "ndarray") + b")R.", "only be passed"),
        # _reconstruct of something other than ndarray
        (b"\x80\x02" + _global("numpy.core.multiarray", "_reconstruct")
         + _global("__builtin__", "list") + b"K\x00\x85U\x01b\x87R.", "plain numpy.ndarray"),
        # defaultdict with a factory other than list
        (b"\x80\x02" + _global("collections", "defaultdict") + _global("numpy", "dtype")
         + b"\x85R.", "factory list"),
        # a bare global as the result
        (b"\x80\x02" + _global("numpy", "ndarray") + b".", "not data"),
        # csr_matrix constructed with arguments
        (b"\x80\x02" + _global("scipy.sparse.csr", "csr_matrix") + b"K\x01\x85\x81.", "arguments"),
        # dtype built twice
        (b"\x80\x02" + _global("numpy", "dtype") + _u("f4") + b"\x85R"
         + b"(K\x03X\x01\x00\x00\x00<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
         + b"(K\x03X\x01\x00\x00\x00<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb.", "twice"),
    ],
    ids=["call-list", "call-ndarray", "reconstruct-list", "defaultdict-factory", "bare-global",
         "csr-args", "state-twice"],
)
def test_misused_standins_are_refused(data, match, unchanged):
    with pytest.raises(UnsafePickleError, match=match):
        restricted_load(data)


def test_deep_nesting_is_a_clear_error():
    data = b"\x80\x02" + b"]" * 100_000 + b"a" * 99_999 + b"."
    with pytest.raises(UnsafePickleError, match="nested too deeply"):
        restricted_load(data)


def test_a_cyclic_list_loads():
    out = restricted_load(b"\x80\x02]q\x00h\x00a.")  # l = []; l.append(l)
    assert out[0] is out


@pytest.mark.parametrize(
    "array",
    [
        np.arange(12, dtype=np.float32).reshape(3, 4),
        np.asfortranarray(np.arange(12, dtype=np.int64).reshape(3, 4)),
        np.arange(6, dtype=">i4"),
        np.array([True, False]),
        np.zeros((0, 5), dtype=np.uint8),
        np.array(2.5),
    ],
    ids=["float32", "fortran", "big-endian", "bool", "empty", "0-d"],
)
@pytest.mark.parametrize("protocol", [3, 4])
def test_numeric_arrays_round_trip_exactly(array, protocol):
    out = restricted_load(pickle.dumps(array, protocol=protocol))
    assert type(out) is np.ndarray and out.dtype == array.dtype and out.shape == array.shape
    assert np.array_equal(out, array) and out.flags.writeable


def test_csr_round_trip_with_int64_indices():
    m = sp.random(50, 40, density=0.1, format="csr", dtype=np.float64, random_state=0)
    m.indices, m.indptr = m.indices.astype(np.int64), m.indptr.astype(np.int64)
    out = restricted_load(pickle.dumps(m, protocol=4))
    assert type(out) is sp.csr_matrix and out.shape == m.shape and (out != m).nnz == 0


MIRROR = os.environ.get("ATTNBOOK_DATA_MIRROR", "")


@pytest.mark.skipif(
    not (MIRROR and (pathlib.Path(MIRROR) / "planetoid").is_dir()),
    reason="needs the offline data mirror: set ATTNBOOK_DATA_MIRROR (e.g. to ../shared/data)",
)
@pytest.mark.parametrize("name", ["cora", "citeseer"])
def test_planetoid_files_load_as_plain_pickle_would(name):
    """The mirror's files (digest-checked, so safe to load naively here) give the same objects."""
    from attnbook.data.download import read_verified

    for part in ("x", "y", "tx", "ty", "allx", "ally", "graph"):
        data = read_verified(f"planetoid/ind.{name}.{part}")
        ours = restricted_load(data)
        with warnings.catch_warnings():  # scipy.sparse.csr, the name in the file, is deprecated
            warnings.simplefilter("ignore", DeprecationWarning)
            theirs = pickle.loads(data, encoding="latin1")  # noqa: S301 - verified file, test only
        assert type(ours) is type(theirs)
        if sp.issparse(theirs):
            assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
            assert (ours != theirs).nnz == 0
        elif isinstance(theirs, np.ndarray):
            assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)
        else:
            assert ours == theirs
