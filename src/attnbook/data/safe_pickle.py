"""A restricted unpickler for the Planetoid files (chapter "Graph Attention Networks").

The Planetoid files (``ind.cora.x`` ...) are Python-2 pickles. ``pickle.load`` on a crafted file runs
arbitrary code, so they are read with :func:`restricted_load`. Files are digest-checked by
:func:`attnbook.data.fetch` before they get here; this is the second line of defence, and it holds
even against a file whose digest an attacker also changed in the registry.

How it works, in two steps:

1. **Unpickle into stand-ins.** ``find_class`` admits only the globals the Planetoid files name, and
   it never hands out the real object: it hands out a stand-in of this module
   (:data:`ALLOWED_GLOBALS`):

   ==========================================  =========================================
   name in the pickle                          stand-in
   ==========================================  =========================================
   ``numpy.core.multiarray._reconstruct``      records an array to build (``_ArrayStub``)
   ``numpy.ndarray``                           a token, accepted only by ``_reconstruct``
   ``numpy.dtype``                             records a dtype to build (``_DTypeStub``)
   ``scipy.sparse.csr.csr_matrix``             records a CSR matrix to build (``_CSRStub``)
   ``collections.defaultdict``                 ``defaultdict(list)`` and nothing else
   ``__builtin__.list``                        a token, accepted only by ``defaultdict``
   ==========================================  =========================================

   (also under the module names of Python 3 and of numpy >= 2 and scipy >= 1.8). Anything else
   (``os.system``, ``builtins.eval`` ...) raises before it is called. A pickle's ``BUILD`` applied
   to a stand-in global (the attack of setting an attribute on ``csr_matrix`` for the whole
   process) raises; the real classes are never reachable from the pickle, so nothing global can
   change.

2. **Build the real objects, checked.** The unpickled tree may hold only ``None``, bools,
   numbers, strings, bytes, lists, tuples, dicts, sets and the records above. Each array is built
   with :func:`numpy.frombuffer` after checking that its dtype is a plain numeric one (bool,
   integer, float: no ``object``, no structured or string dtypes), its shape is bounded
   (:data:`MAX_ELEMENTS`, :data:`MAX_NDIM`) and its byte count matches; each CSR matrix is built
   through ``scipy.sparse.csr_matrix((data, indices, indptr), shape=...)`` and then
   ``check_format(full_check=True)``, so out-of-range indices and an inconsistent ``indptr`` are
   refused before any native code indexes with them.

Every refusal raises :class:`~attnbook.data.errors.UnsafePickleError` (a :class:`DataError`).
"""

from __future__ import annotations

import collections
import io
import math
import pickle
import re
from typing import Any

import numpy as np
import scipy.sparse as sp

from attnbook.data.errors import UnsafePickleError

__all__ = ["restricted_load", "RestrictedUnpickler", "ALLOWED_GLOBALS", "MAX_ELEMENTS", "MAX_NDIM"]

#: The most elements an array may hold, and the most ``rows * cols`` a sparse matrix may span
#: (the Planetoid loader densifies its matrices; Citeseer's is 3,327 x 3,703 = 12.3 M).
MAX_ELEMENTS = 10**8
#: The most dimensions an array may have.
MAX_NDIM = 8

# dtype strings a Planetoid pickle may name: bool, signed/unsigned integers, floats ("f4", "<i8").
_DTYPE_SPEC = re.compile(r"[<>=|]?(\?|b1|[iu][1248]|f[248])")
_NUMERIC_KINDS = frozenset("biuf")


def _refuse(msg: str) -> UnsafePickleError:
    return UnsafePickleError(msg)


class _Global:
    """A stand-in for an admitted global: callable only if ``call`` is given, immutable, and a
    ``BUILD`` on it (``__setstate__``) raises."""

    __slots__ = ("_name", "_call")

    def __init__(self, name: str, call=None) -> None:
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_call", call)

    def __call__(self, *args, **kwargs):
        if self._call is None:
            raise _refuse(f"the pickle calls {self._name}, which may only be passed as an argument")
        return self._call(*args, **kwargs)

    def __setstate__(self, state) -> None:
        raise _refuse(
            f"the pickle applies BUILD to the global {self._name} (an attempt to change a class "
            "for the whole process)"
        )

    def __setattr__(self, name, value) -> None:
        raise _refuse(f"the pickle sets attribute {name!r} on the global {self._name}")

    def __delattr__(self, name) -> None:
        raise _refuse(f"the pickle deletes attribute {name!r} of the global {self._name}")

    def __repr__(self) -> str:
        return f"<stand-in for {self._name}>"


class _Stub:
    """Base of the records of objects to build: state may be set once, by one ``BUILD``."""

    __slots__ = ("_args", "_state", "_has_state")

    def _init(self, args: tuple) -> None:
        object.__setattr__(self, "_args", args)
        object.__setattr__(self, "_state", None)
        object.__setattr__(self, "_has_state", False)

    def __setstate__(self, state) -> None:
        if self._has_state:
            raise _refuse(f"the pickle sets the state of a {self._what} twice")
        object.__setattr__(self, "_state", state)
        object.__setattr__(self, "_has_state", True)

    def __setattr__(self, name, value) -> None:
        raise _refuse(f"the pickle sets attribute {name!r} on a {self._what}")

    def __delattr__(self, name) -> None:
        raise _refuse(f"the pickle deletes attribute {name!r} of a {self._what}")


class _DTypeStub(_Stub):
    __slots__ = ()
    _what = "numpy dtype"

    def build(self) -> np.dtype:
        spec = self._args[0] if self._args else None
        if not (isinstance(spec, str) and _DTYPE_SPEC.fullmatch(spec)):
            raise _refuse(
                f"dtype {spec!r} is not admitted: only bool, integer and float dtypes (e.g. 'f4', "
                "'i8', 'b1') may be loaded"
            )
        dt = np.dtype(spec)
        if self._has_state:
            state = self._state
            if not (isinstance(state, tuple) and len(state) in (8, 9) and state[0] in (3, 4)):
                raise _refuse(f"dtype {spec!r} has an unexpected state {state!r:.200}")
            order, subdescr, names, fields = state[1:5]
            if (subdescr, names, fields) != (None, None, None) or (len(state) == 9 and state[8]):
                raise _refuse(f"dtype {spec!r} has sub-arrays, fields or metadata: not admitted")
            if order not in ("<", ">", "=", "|"):
                raise _refuse(f"dtype {spec!r} has an invalid byte order {order!r}")
            if order in ("<", ">"):
                dt = dt.newbyteorder(order)
        if dt.kind not in _NUMERIC_KINDS or dt.fields is not None or dt.subdtype is not None:
            raise _refuse(f"dtype {dt!r} is not a plain numeric dtype")
        return dt


def _dtype_standin(spec=None, align=False, copy=False, *rest) -> _DTypeStub:
    if rest:
        raise _refuse("numpy.dtype called with unexpected arguments")
    stub = _DTypeStub.__new__(_DTypeStub)
    stub._init((spec,))
    return stub


def _check_shape(shape, what: str) -> tuple[int, ...]:
    if not (isinstance(shape, tuple) and all(type(d) is int for d in shape)):
        raise _refuse(f"{what} has a malformed shape {shape!r:.200}")
    if len(shape) > MAX_NDIM or any(d < 0 for d in shape):
        raise _refuse(f"{what} has an invalid shape {shape!r:.200}")
    if math.prod(shape) > MAX_ELEMENTS:
        raise _refuse(
            f"{what} of shape {shape} would hold {math.prod(shape):,} elements; at most "
            f"{MAX_ELEMENTS:,} are admitted"
        )
    return shape


class _ArrayStub(_Stub):
    __slots__ = ()
    _what = "numpy array"

    def build(self, build) -> np.ndarray:
        state = self._state
        if not self._has_state or not isinstance(state, tuple):
            raise _refuse("a numpy array without its state (shape, dtype, data)")
        if len(state) == 5:
            state = state[1:]  # (version, shape, dtype, is_fortran, data)
        if len(state) != 4:
            raise _refuse(f"a numpy array with a malformed state of {len(state)} items")
        shape, dtype, is_fortran, raw = state
        shape = _check_shape(shape, "a numpy array")
        if type(dtype) is not _DTypeStub:
            raise _refuse(f"a numpy array whose dtype is a {type(dtype).__name__}")
        dt = build(dtype)
        if isinstance(raw, str):  # a Python-2 str, decoded as latin1 by the unpickler
            raw = raw.encode("latin1")
        if not isinstance(raw, bytes):  # object arrays pickle a list of objects here
            raise _refuse(f"a numpy array whose data is a {type(raw).__name__}, not bytes")
        n = math.prod(shape)
        if len(raw) != n * dt.itemsize:
            raise _refuse(
                f"a numpy array of shape {shape} and dtype {dt} needs {n * dt.itemsize} bytes, "
                f"the pickle holds {len(raw)}"
            )
        flat = np.frombuffer(raw, dtype=dt, count=n) if n else np.empty(0, dtype=dt)
        return flat.reshape(shape, order="F" if is_fortran else "C").copy(order="K")


def _reconstruct_standin(subtype=None, shape=None, typecode=None, *rest) -> _ArrayStub:
    if subtype is not _NDARRAY or rest:
        raise _refuse("numpy's _reconstruct may only make a plain numpy.ndarray")
    stub = _ArrayStub.__new__(_ArrayStub)
    stub._init(())
    return stub


class _FrozenMeta(type):
    """Metaclass of the one stand-in that must be a class (``NEWOBJ`` needs a type): setting,
    deleting or ``BUILD``-ing attributes on the class raises."""

    @property
    def __setstate__(cls):  # a data descriptor: found before the class's own __setstate__
        def refuse(state):
            raise _refuse(
                f"the pickle applies BUILD to the class {cls._pickle_name} (an attempt to change a "
                "class for the whole process)"
            )

        return refuse

    def __setattr__(cls, name, value):
        raise _refuse(f"the pickle sets attribute {name!r} on the class {cls._pickle_name}")

    def __delattr__(cls, name):
        raise _refuse(f"the pickle deletes attribute {name!r} of the class {cls._pickle_name}")


class _CSRStub(_Stub, metaclass=_FrozenMeta):
    __slots__ = ()
    _what = "scipy.sparse.csr_matrix"
    _pickle_name = "scipy.sparse.csr_matrix"

    def __new__(cls, *args, **kwargs):
        if args or kwargs:
            raise _refuse("the pickle constructs a csr_matrix with arguments")
        self = super().__new__(cls)
        self._init(())
        return self

    def build(self, build) -> sp.csr_matrix:
        state = self._state
        if isinstance(state, tuple) and len(state) == 2 and state[1] is None:
            state = state[0]
        if not isinstance(state, dict):
            raise _refuse("a csr_matrix without its state dict")
        fmt = state.get("format", "csr")
        if fmt != "csr":
            raise _refuse(f"a csr_matrix whose format is {fmt!r:.50}")
        parts = {}
        for name in ("data", "indices", "indptr"):
            value = state.get(name)
            if type(value) is not _ArrayStub:
                raise _refuse(f"a csr_matrix whose {name} is not a numpy array")
            arr = build(value)
            if arr.ndim != 1:
                raise _refuse(f"a csr_matrix whose {name} has shape {arr.shape}, expected 1-d")
            parts[name] = arr
        for name in ("indices", "indptr"):
            if parts[name].dtype.kind not in "iu":
                raise _refuse(f"a csr_matrix whose {name} have dtype {parts[name].dtype}")
        shape = _check_shape(state.get("_shape", state.get("shape")), "a csr_matrix")
        if len(shape) != 2:
            raise _refuse(f"a csr_matrix of shape {shape}, expected 2 dimensions")
        try:
            m = sp.csr_matrix((parts["data"], parts["indices"], parts["indptr"]), shape=shape)
            m.check_format(full_check=True)  # index bounds, indptr monotone and consistent
        except (ValueError, TypeError, OverflowError) as exc:
            raise _refuse(f"an inconsistent csr_matrix of shape {shape}: {exc}") from None
        return m


def _defaultdict_standin(factory=None, *rest) -> collections.defaultdict:
    if factory is not _LIST or rest:
        raise _refuse("collections.defaultdict may only be made with the factory list")
    return collections.defaultdict(list)


_NDARRAY = _Global("numpy.ndarray")
_LIST = _Global("list")
_RECONSTRUCT = _Global("numpy.core.multiarray._reconstruct", _reconstruct_standin)
_DTYPE = _Global("numpy.dtype", _dtype_standin)
_DEFAULTDICT = _Global("collections.defaultdict", _defaultdict_standin)

#: The globals a pickle may name, each mapped to its stand-in (never to the real object).
ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _DTYPE,
    ("scipy.sparse.csr", "csr_matrix"): _CSRStub,
    ("scipy.sparse._csr", "csr_matrix"): _CSRStub,
    ("collections", "defaultdict"): _DEFAULTDICT,
    ("__builtin__", "list"): _LIST,
    ("builtins", "list"): _LIST,
}

_ATOMS = (type(None), bool, int, float, str, bytes)
_IN_PROGRESS = object()


class _Builder:
    """Turns the unpickled tree of containers and stubs into real, checked objects."""

    def __init__(self) -> None:
        self.memo: dict[int, Any] = {}

    def __call__(self, obj: Any) -> Any:
        t = type(obj)
        if t in _ATOMS:
            return obj
        key = id(obj)
        if key in self.memo:
            out = self.memo[key]
            if out is _IN_PROGRESS:
                raise _refuse("a reference cycle through an array or a matrix")
            return out
        if t is list:
            out = self.memo[key] = []
            out.extend(self(x) for x in obj)
        elif t is dict:
            out = self.memo[key] = {}
            out.update((self(k), self(v)) for k, v in obj.items())
        elif t is collections.defaultdict:
            if obj.default_factory is not list:
                raise _refuse("a defaultdict whose factory was changed")
            out = self.memo[key] = collections.defaultdict(list)
            out.update((self(k), self(v)) for k, v in obj.items())
        elif t is tuple:
            out = self.memo[key] = tuple(self(x) for x in obj)
        elif t in (set, frozenset):
            out = self.memo[key] = t(self(x) for x in obj)
        elif t in (_ArrayStub, _DTypeStub, _CSRStub):
            self.memo[key] = _IN_PROGRESS
            out = obj.build() if t is _DTypeStub else obj.build(self)
            self.memo[key] = out
        else:
            raise _refuse(f"the pickle's result holds {obj!r:.80} (a {t.__name__}), not data")
        return out


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler whose ``find_class`` admits only :data:`ALLOWED_GLOBALS`, as stand-ins.

    ``load()`` returns the raw tree of stand-ins; :func:`restricted_load` turns it into real,
    checked objects.
    """

    def find_class(self, module: str, name: str) -> Any:  # noqa: D401 - pickle API
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refusing to load global {module}.{name} from a pickle: only "
                f"{sorted('.'.join(k) for k in ALLOWED_GLOBALS)} are admitted"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("refusing a pickle with persistent ids")


def restricted_load(data: bytes, *, what: str = "pickle") -> Any:
    """Unpickle ``data`` (Python 2 or 3, ``latin1`` strings) admitting only the allowed globals,
    then build its arrays and CSR matrices with every check (see the module docstring).

    Returns:
        plain containers, numbers and strings, ``numpy.ndarray`` (numeric dtypes),
        ``scipy.sparse.csr_matrix`` (format fully checked) and ``collections.defaultdict(list)``.

    Raises:
        UnsafePickleError: the pickle names a global outside :data:`ALLOWED_GLOBALS` (it is never
            called), applies ``BUILD`` to a global, holds a non-numeric or oversized array or an
            inconsistent sparse matrix, or is malformed.
    """
    try:
        tree = RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()
        return _Builder()(tree)
    except UnsafePickleError as exc:
        raise UnsafePickleError(f"{what}: {exc}") from None
    except RecursionError:
        raise UnsafePickleError(f"{what}: nested too deeply") from None
    except Exception as exc:  # malformed pickles raise many kinds of errors
        raise UnsafePickleError(f"{what}: not a valid Planetoid pickle ({exc!r})") from exc
