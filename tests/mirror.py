"""The offline data mirror in the tests: where it is, and a mark that skips a test without it."""

import os
from pathlib import Path

import pytest

MIRROR = os.environ.get("ATTNBOOK_DATA_MIRROR", "")


def needs_mirror(part: str = "MANIFEST.tsv"):
    """Skip unless ``ATTNBOOK_DATA_MIRROR`` names a mirror that has ``part`` (a file or folder)."""
    return pytest.mark.skipif(
        not (MIRROR and (Path(MIRROR) / part).exists()),
        reason="needs the offline data mirror: set ATTNBOOK_DATA_MIRROR (e.g. to ../shared/data)")
