from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from syncdub_companion.testing import drascula_dir, make_movie_with_dub, make_services

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


@pytest.fixture(scope="session")
def voices(drascula, tmp_path_factory) -> dict[str, Path]:
    """Three short real-speech tracks (tests.align.speech_clips.make_voices), made once: the
    language tests only read them."""
    from tests.align.speech_clips import make_voices

    return make_voices(drascula, tmp_path_factory.mktemp("voices"))


@pytest.fixture(scope="session")
def movie_with_dub(tmp_path_factory):
    """``make(folder, seconds, offset)``: make_movie_with_dub's film and dub, fresh copies in
    ``folder``. Each length and offset is made once a session (ffmpeg and mkvmerge take
    seconds on a busy box); every test gets its own files, with a fresh mtime."""
    made: dict[tuple[float, float], tuple[Path, Path]] = {}

    def make(folder: Path, seconds: float = 60.0, offset: float = 1.5) -> tuple[Path, Path]:
        if (seconds, offset) not in made:
            root = tmp_path_factory.mktemp("movie")
            made[seconds, offset] = make_movie_with_dub(root / "lib", root / "gen", seconds, offset)
        folder.mkdir(parents=True)
        original, dub = (Path(shutil.copyfile(src, folder / src.name)) for src in made[seconds, offset])
        return original, dub

    return make
