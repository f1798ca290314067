"""Fixtures for the merge tests: generated media (once per session) and a library per test."""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from merge_media import make_original, offset_dub, pal_dub, stream_md5s
from syncdub_companion.testing import make_services

pytestmark = pytest.mark.skipif(not (shutil.which("ffmpeg") and shutil.which("mkvmerge")),
                                reason="needs ffmpeg and mkvmerge")


@dataclass
class Generated:
    original: object  # merge_media.Original
    md5s: list[str]
    dubs: Path


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> Generated:
    folder = tmp_path_factory.mktemp("merge-media")
    orig = make_original(folder / "src")
    return Generated(orig, stream_md5s(orig.path), folder / "dubs")


@pytest.fixture(scope="session")
def offset_case(generated):
    generated.dubs.mkdir(exist_ok=True)
    return offset_dub(generated.dubs, generated.original, 2.345, tail=3.0)


@pytest.fixture(scope="session")
def pal_case(generated):
    generated.dubs.mkdir(exist_ok=True)
    return pal_dub(generated.dubs, generated.original)


@dataclass
class Library:
    root: Path
    film: Path


@pytest.fixture
def library(tmp_path, generated) -> Library:
    """A library root holding a fresh copy of the generated original."""
    root = tmp_path / "lib"
    film = root / "Movies" / "Film (2010)" / "Film (2010).mkv"
    film.parent.mkdir(parents=True)
    shutil.copyfile(generated.original.path, film)
    return Library(root, film)


@pytest.fixture
def dubs_dir(tmp_path) -> Path:
    """A folder outside the library for dubs made by one test; make_svc's services may read it."""
    folder = tmp_path / "dubs"
    folder.mkdir()
    return folder


@pytest.fixture
def make_svc(tmp_path, library, generated, dubs_dir):
    """Services over ``library`` with extra [library] settings: make_svc(output_mode="beside")."""
    made = []

    def build(**library_settings):
        settings = {"roots": [str(library.root)], "space_margin_mb": 1, **library_settings}
        folder = tmp_path / f"svc{len(made)}"
        folder.mkdir()
        # the generated dubs live outside the library: a dub root makes them readable
        svc = make_services(folder, {"library": settings,
                                     "counterparts": {"dub_roots": {"de": str(generated.dubs), "fr": str(dubs_dir)}}})
        made.append(svc)
        return svc

    yield build
    for svc in made:
        svc.store.close()
