"""Fixtures shared by the aligner's tests."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def pairs_dir(tmp_path_factory, drascula) -> Path:
    """Corpus pairs built once per session (``build_pair(..., reuse=True)``) and shared by modules."""
    return tmp_path_factory.mktemp("pairs")
