from __future__ import annotations

from pathlib import Path

import pytest

from syncdub_companion.testing import drascula_dir, make_services

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def services(tmp_path):
    svc = make_services(tmp_path)
    yield svc
    svc.store.close()


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The captured webhook payloads and the Jellyfin OpenAPI spec (tests/fixtures, see its SOURCES.md)."""
    if not FIXTURES.is_dir():
        pytest.fail(f"fixtures not found at {FIXTURES}")
    return FIXTURES


@pytest.fixture(scope="session")
def drascula() -> Path:
    folder = drascula_dir()
    if folder is None:
        pytest.fail("drascula speech data missing: run `bash dev.sh test`, which fetches it")
    return folder
