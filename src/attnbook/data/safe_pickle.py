"""A restricted unpickler for the Planetoid files (chapter "Graph Attention Networks").

The Planetoid files (``ind.cora.x`` ...) are Python-2 pickles. ``pickle.load`` on a crafted file runs
arbitrary code, so they are read with :func:`restricted_load`, whose ``find_class`` admits only the
globals those files contain and maps their Python-2 names to today's objects:

==================================  ==========================================
name in the pickle                  object
==================================  ==========================================
``numpy.core.multiarray._reconstruct``  numpy's ``ndarray`` reconstructor
``numpy.ndarray``, ``numpy.dtype``  the numpy classes
``scipy.sparse.csr.csr_matrix``     ``scipy.sparse.csr_matrix``
``collections.defaultdict``         ``collections.defaultdict``
``__builtin__.list``                ``list``
==================================  ==========================================

Anything else (``os.system``, ``builtins.eval``, ``subprocess.Popen`` ...) raises
:class:`~attnbook.data.errors.UnsafePickleError` before it is called. Files are digest-checked by
:func:`attnbook.data.fetch` before they get here; this is the second line of defence.
"""

from __future__ import annotations

import collections
import io
import pickle
from typing import Any

import numpy as np
import scipy.sparse as sp

from attnbook.data.errors import UnsafePickleError

__all__ = ["restricted_load", "RestrictedUnpickler", "ALLOWED_GLOBALS"]

# numpy's ndarray reconstructor, found without importing the deprecated numpy.core path.
_NP_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(1))[0]

ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _NP_RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _NP_RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("scipy.sparse.csr", "csr_matrix"): sp.csr_matrix,
    ("scipy.sparse._csr", "csr_matrix"): sp.csr_matrix,
    ("collections", "defaultdict"): collections.defaultdict,
    ("__builtin__", "list"): list,
    ("builtins", "list"): list,
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler whose ``find_class`` admits only :data:`ALLOWED_GLOBALS`."""

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
    """Unpickle ``data`` (Python 2 or 3, ``latin1`` strings) admitting only the allowed globals.

    Raises:
        UnsafePickleError: the pickle names a global outside :data:`ALLOWED_GLOBALS` (the global
            is never called), or it is malformed.
    """
    try:
        return RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()
    except UnsafePickleError as exc:
        raise UnsafePickleError(f"{what}: {exc}") from None
    except Exception as exc:  # malformed pickles raise many kinds of errors
        raise UnsafePickleError(f"{what}: not a valid Planetoid pickle ({exc!r})") from exc
