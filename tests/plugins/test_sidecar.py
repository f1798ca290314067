"""The sidecar plugin: dubs named after the original, in its folder."""
from __future__ import annotations

import pytest

from syncdub_companion.media import MediaItem
from syncdub_companion.testing import make_services


@pytest.fixture
def folder(tmp_path):
    film = tmp_path / "Movies" / "Title (2010)"
    film.mkdir(parents=True)
    for name in ("Title (2010).mkv", "Title (2010).de.mka", "Title (2010).ger.forced.mkv", "Title (2010).fra.ac3",
                 "Title (2010).de.srt", "Title (2010).multi.mkv", "Title (2010) - Extended.mkv",
                 "Title (2010) - Extended.it.mka", "Other (2011).de.mka"):
        (film / name).write_bytes(b"")
    services = make_services(tmp_path, {"library": {"roots": [str(tmp_path)]}})
    yield film, services
    services.store.close()


def counterparts(services, path):
    return sorted((c.path.rsplit("/", 1)[1], c.language, c.finder)
                  for batch in services.hook.syncdub_find_counterparts(item=MediaItem(str(path)), services=services)
                  for c in batch if c.finder == "sidecar")


def originals(services, path):
    return [(c.path.rsplit("/", 1)[1], c.language)
            for batch in services.hook.syncdub_find_originals(item=MediaItem(str(path)), services=services)
            for c in batch if c.finder == "sidecar"]


def test_sidecars_of_the_original_with_their_languages(folder):
    film, services = folder
    assert counterparts(services, film / "Title (2010).mkv") == [
        ("Title (2010).de.mka", "de", "sidecar"),
        ("Title (2010).fra.ac3", "fr", "sidecar"),
        ("Title (2010).ger.forced.mkv", "de", "sidecar"),
    ]


def test_an_edition_only_sees_its_own_sidecars(folder):
    film, services = folder
    assert counterparts(services, film / "Title (2010) - Extended.mkv") == [
        ("Title (2010) - Extended.it.mka", "it", "sidecar")]


def test_a_sidecar_names_its_original(folder):
    film, services = folder
    assert originals(services, film / "Title (2010).de.mka") == [("Title (2010).mkv", "de")]
    assert originals(services, film / "Other (2011).de.mka") == []  # its original is not there
    assert originals(services, film / "Title (2010).mkv") == []  # not a sidecar
    assert originals(services, film / "Title (2010).multi.mkv") == []


def test_a_missing_folder_gives_no_candidates(tmp_path):
    services = make_services(tmp_path)
    assert counterparts(services, tmp_path / "gone" / "Film.mkv") == []
    services.store.close()


def test_a_sidecar_symlinked_from_outside_the_roots_is_ignored(tmp_path, caplog):
    library, elsewhere = tmp_path / "lib", tmp_path / "elsewhere"
    film = library / "Film (2001)"
    film.mkdir(parents=True)
    elsewhere.mkdir()
    (film / "Film (2001).mkv").write_bytes(b"")
    (elsewhere / "dub.mkv").write_bytes(b"")
    (film / "Film (2001).de.mka").symlink_to(elsewhere / "dub.mkv")
    (film / "Film (2001).fr.mka").symlink_to(film / "Film (2001).mkv")  # a link that stays inside is fine
    services = make_services(tmp_path, {"library": {"roots": [str(library)]}})
    with caplog.at_level("WARNING"):
        assert counterparts(services, film / "Film (2001).mkv") == [("Film (2001).fr.mka", "fr", "sidecar")]
    assert "Film (2001).de.mka points outside library.roots" in caplog.text
    services.store.close()


def test_an_original_beside_a_sidecar_must_lie_in_the_library(tmp_path):
    library, dubs = tmp_path / "lib", tmp_path / "dubs"
    library.mkdir()
    dubs.mkdir()
    (dubs / "Film (2001).de.mka").write_bytes(b"")
    (dubs / "Film (2001).mkv").write_bytes(b"")  # readable (a dub root), but never written to
    services = make_services(tmp_path, {"library": {"roots": [str(library)]},
                                        "counterparts": {"dub_roots": {"de": str(dubs)}}})
    assert originals(services, dubs / "Film (2001).de.mka") == []
    services.store.close()
