"""Errors raised by the data layer (:mod:`attnbook.data`).

Every error names the dataset and, where there is one, the URL, so that a reader who sees it knows
what failed and what to do. All of them derive from :class:`DataError`, so a chapter can catch one
class.
"""

from __future__ import annotations

__all__ = ["DataError", "DataIntegrityError", "DataUnavailableError", "UnsafePickleError"]


class DataError(Exception):
    """Base class of every error raised by :mod:`attnbook.data`."""


class DataIntegrityError(DataError):
    """A file's size or digest differs from its registry entry (tampered, truncated or corrupt)."""


class DataUnavailableError(DataError):
    """A file is in neither the mirror nor the cache, and it cannot be downloaded."""


class UnsafePickleError(DataError):
    """A pickle the restricted unpickler refuses: a global it does not admit, ``BUILD`` on an
    admitted global, a non-numeric or oversized array, an inconsistent sparse matrix, or garbage."""
