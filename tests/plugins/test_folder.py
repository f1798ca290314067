"""The folder plugin on a real library and dub tree: which dub each original pairs with."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

from syncdub_companion.counterparts import find_for
from syncdub_companion.media import MediaItem
from syncdub_companion.testing import make_services

DUBS_DE = [
    "Matrix.1999.GERMAN.DL.1080p.BluRay.x264-DETAiLS/details-matrix-1080p.mkv",
    "Blade.Runner.1982.Final.Cut.German.DL.1080p.BluRay.x264-GRP.mkv",
    "Blade.Runner.1982.German.DL.1080p.BluRay.x264-GRP.mkv",
    "Dune.2021.German.DL.2160p.WEB.x265-GRP.mkv",
    "Kingdom.of.Heaven.2005.DC.German.DL.1080p.BluRay.x264-GRP.mkv",
    "Kingdom.of.Heaven.2005.German.DL.1080p.BluRay.x264-GRP.mkv",
    "Toy.Story.3.2010.German.DL.1080p.BluRay.x264-GRP.mkv",
    "Harry.Potter.and.the.Deathly.Hallows.Part.2.2011.German.DL.1080p.mkv",
    "Inception (2010) [tmdbid-27205]/Inception.German.mkv",
    "Breaking.Bad.S01.GERMAN.DL.1080p.WEB.x264-GRP/Breaking.Bad.S01E01.German.DL.1080p.WEB.x264-GRP.mkv",
    "Breaking.Bad.S01.GERMAN.DL.1080p.WEB.x264-GRP/Breaking.Bad.S01E02.German.DL.1080p.WEB.x264-GRP.mkv",
    "Friends.S01E16-E17.German.DL.720p.WEB.x264-GRP.mkv",
    "Anime/[SubsPlease] One Piece - 1071 (1080p) [GER DUB].mkv",
    "Anime/[SubsPlease] One Piece - 1072 (1080p) [GER DUB].mkv",
    "Twin.Film.2015.German.DL.1080p.BluRay.x264-AAA.mkv",
    "Twin.Film.2015.German.DL.720p.WEB.x264-BBB.mkv",
    "Featurettes/Matrix.1999.Making.Of.German.mkv",
    "Matrix.1999.German.DL.1080p-sample.mkv",
]
DUBS_FR = ["The.Matrix.1999.FRENCH.1080p.BluRay.x264-FR.mkv"]

# original -> expected German dub (None: nothing; "ambiguous": needs_review)
EXPECTED = {
    "Movies/The Matrix (1999)/The Matrix (1999) {imdb-tt0133093}.mkv":
        "Matrix.1999.GERMAN.DL.1080p.BluRay.x264-DETAiLS/details-matrix-1080p.mkv",
    "Movies/Blade Runner (1982)/Blade Runner (1982) {edition-Final Cut}.mkv":
        "Blade.Runner.1982.Final.Cut.German.DL.1080p.BluRay.x264-GRP.mkv",
    "Movies/Blade Runner (1982)/Blade Runner (1982).mkv": "Blade.Runner.1982.German.DL.1080p.BluRay.x264-GRP.mkv",
    "Movies/Kingdom of Heaven (2005)/Kingdom of Heaven (2005) - Director's Cut.mkv":
        "Kingdom.of.Heaven.2005.DC.German.DL.1080p.BluRay.x264-GRP.mkv",
    "Movies/Dune (1984)/Dune (1984).mkv": None,
    "Movies/Toy Story 2 (1999)/Toy Story 2 (1999).mkv": None,
    "Movies/Harry Potter and the Deathly Hallows Part 1 (2010)/Harry Potter and the Deathly Hallows Part 1 (2010).mkv": None,
    "Movies/Inception (2010) [tmdbid-27205]/Inception (2010).mkv": "Inception (2010) [tmdbid-27205]/Inception.German.mkv",
    "TV/Breaking Bad (2008)/Season 01/Breaking Bad - S01E02 - Cat's in the Bag.mkv":
        "Breaking.Bad.S01.GERMAN.DL.1080p.WEB.x264-GRP/Breaking.Bad.S01E02.German.DL.1080p.WEB.x264-GRP.mkv",
    "TV/Breaking Bad (2008)/Season 01/Breaking Bad - S01E03 - And the Bag's in the River.mkv": None,
    "TV/Friends/Season 01/Friends - S01E16E17 - The One With Two Parts.mkv": "Friends.S01E16-E17.German.DL.720p.WEB.x264-GRP.mkv",
    "TV/Friends/Season 01/Friends - S01E16 - The One With Two Parts (1).mkv": None,
    "Anime/One Piece/Season 21/One Piece - S21E82 - 1072 - Title.mkv": "Anime/[SubsPlease] One Piece - 1072 (1080p) [GER DUB].mkv",
    "Movies/Twin Film (2015)/Twin Film (2015).mkv": "ambiguous",
}


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "media"
    for rel in [f"dubs/de/{d}" for d in DUBS_DE] + [f"dubs/fr/{d}" for d in DUBS_FR] + [f"lib/{o}" for o in EXPECTED]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"")
    services = make_services(tmp_path, {
        "library": {"roots": [str(root)], "languages": ["de"]},
        "counterparts": {"dub_roots": {"de": str(root / "dubs/de"), "fr": str(root / "dubs/fr")}}})
    yield root, services
    services.store.close()


@pytest.mark.parametrize("original", list(EXPECTED), ids=[Path(o).name[:45] for o in EXPECTED])
def test_each_original_pairs_with_the_expected_dub(tree, original):
    root, services = tree
    _, decision = find_for(services, MediaItem(str(root / "lib" / original)))
    expected = EXPECTED[original]
    if expected == "ambiguous":
        assert len(decision.ambiguous["de"]) == 2 and not decision.chosen
    elif expected is None:
        assert decision.chosen == {} and decision.ambiguous == {}
    else:
        assert decision.chosen["de"].path == str(root / "dubs/de" / expected)
        assert decision.chosen["de"].finder == "folder"


def test_candidates_carry_the_language_of_their_root(tree):
    root, services = tree
    item = MediaItem(str(root / "lib/Movies/The Matrix (1999)/The Matrix (1999) {imdb-tt0133093}.mkv"))
    found = services.hook.syncdub_find_counterparts(item=item, services=services)
    by_lang = {c.language: c for batch in found for c in batch}
    assert set(by_lang) == {"de", "fr"} and by_lang["fr"].path.endswith("The.Matrix.1999.FRENCH.1080p.BluRay.x264-FR.mkv")


def test_server_metadata_fills_what_the_name_lacks(tree):
    root, services = tree
    odd = root / "lib/Movies/misc/movie.mkv"
    odd.parent.mkdir(parents=True)
    odd.write_bytes(b"")
    item = MediaItem(str(odd), title="Inception", year=2010, provider_ids={"Tmdb": "27205"})
    _, decision = find_for(services, item)
    assert decision.chosen["de"].path.endswith("Inception.German.mkv") and decision.chosen["de"].score > 0.95


def test_a_dub_finds_its_original_in_the_library(tree):
    root, services = tree
    dub = root / "dubs/de/Blade.Runner.1982.Final.Cut.German.DL.1080p.BluRay.x264-GRP.mkv"
    found = [c for batch in services.hook.syncdub_find_originals(item=MediaItem(str(dub)), services=services)
             for c in batch]
    assert found[0].path.endswith("Blade Runner (1982) {edition-Final Cut}.mkv") and found[0].language == "de"
    assert found[0].score > found[1].score  # the theatrical original scores lower


def test_a_library_file_is_not_a_dub(tree):
    root, services = tree
    item = MediaItem(str(root / "lib/Movies/Dune (1984)/Dune (1984).mkv"))
    assert [c for b in services.hook.syncdub_find_originals(item=item, services=services) for c in b] == []


def test_dub_roots_outside_the_library_are_read(tmp_path):
    lib, outside = tmp_path / "lib", tmp_path / "outside"
    (lib / "Film (2010)").mkdir(parents=True)
    (lib / "Film (2010)/Film (2010).mkv").write_bytes(b"")
    outside.mkdir()
    (outside / "Film.2010.German.mkv").write_bytes(b"")
    services = make_services(tmp_path, {"library": {"roots": [str(lib)]},
                                        "counterparts": {"dub_roots": {"de": str(outside)}}})
    _, decision = find_for(services, MediaItem(str(lib / "Film (2010)/Film (2010).mkv")), ["de"])
    assert decision.chosen["de"].path == str(outside / "Film.2010.German.mkv")
    services.store.close()


def test_a_symlink_in_a_dub_root_pointing_elsewhere_is_ignored(tmp_path, caplog):
    lib, dubs, elsewhere = tmp_path / "lib", tmp_path / "lib" / "dubs" / "de", tmp_path / "elsewhere"
    (lib / "Film (2010)").mkdir(parents=True)
    (lib / "Film (2010)/Film (2010).mkv").write_bytes(b"")
    dubs.mkdir(parents=True)
    elsewhere.mkdir()
    (elsewhere / "secret.mkv").write_bytes(b"")
    (dubs / "Film.2010.German.mkv").symlink_to(elsewhere / "secret.mkv")
    services = make_services(tmp_path, {"library": {"roots": [str(lib)]},
                                        "counterparts": {"dub_roots": {"de": str(dubs)}}})
    with caplog.at_level(logging.WARNING):
        found = services.hook.syncdub_find_counterparts(item=MediaItem(str(lib / "Film (2010)/Film (2010).mkv")),
                                                        services=services)
        _, decision = find_for(services, MediaItem(str(lib / "Film (2010)/Film (2010).mkv")), ["de"])
    assert [c for batch in found for c in batch] == [] and decision.chosen == {}
    assert "outside the allowed roots" in caplog.text and str(elsewhere / "secret.mkv") in caplog.text
    services.store.close()
