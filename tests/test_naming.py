"""Name parsing and name matching on real-world release, Plex/Jellyfin and anime names."""
from __future__ import annotations

import pytest

from syncdub_companion.naming import match, parse_name, parse_path, split_sidecar, title_key

LIB = "/media/library"
DUBS = "/media/dubs/de"

# (original path, dub path, should they pair?)
PAIRS = [
    # --- scene releases against Plex/Jellyfin naming
    ("Movies/The Matrix (1999)/The Matrix (1999) {imdb-tt0133093}.mkv",
     "Matrix.1999.GERMAN.DL.1080p.BluRay.x264-DETAiLS/details-matrix-1080p.mkv", True),
    ("Movies/Inception (2010) [tmdbid-27205]/Inception (2010).mkv",
     "Inception (2010) [tmdbid-27205]/Inception.German.mkv", True),
    ("Movies/Der Herr der Ringe - Die Gefährten (2001)/Der Herr der Ringe - Die Gefährten (2001).mkv",
     "Der.Herr.der.Ringe.Die.Gefaehrten.2001.German.DL.1080p.BluRay.x264-GRP.mkv", True),
    ("Movies/Spider-Man Into the Spider-Verse (2018).mkv",
     "Spider.Man.Into.The.Spider.Verse.2018.GERMAN.DL.1080p.WEB.H264-GRP.mkv", True),
    ("Movies/Amélie (2001)/Amélie (2001).mkv", "Amelie.2001.German.AC3.DVDRiP.XviD-GRP.avi", True),
    ("Movies/Se7en (1995).mkv", "Se7en.1995.German.DL.1080p.BluRay.AVC-GRP.mkv", True),
    ("Movies/Mission Impossible - Fallout (2018).mkv",
     "Mission.Impossible.Fallout.2018.German.DL.2160p.UHD.BluRay.HDR.x265-GRP.mkv", True),
    ("Movies/Star Wars Episode IV - A New Hope (1977).mkv",
     "Star.Wars.Episode.IV.A.New.Hope.1977.German.DL.1080p.BluRay.x264-GRP.mkv", True),
    ("Movies/Interstellar (2014)/Interstellar (2014) {imdb-tt0816692}.mkv",
     "Interstellar (2014) {imdb-tt0816692}.de.mka", True),
    ("Movies/Wonder Woman 1984 (2020).mkv", "Wonder.Woman.1984.2020.German.DL.1080p.WEB.x264-GRP.mkv", True),
    ("Movies/1917 (2019).mkv", "1917.2019.German.DL.1080p.BluRay.x264-GRP.mkv", True),
    ("Movies/Blade Runner 2049 (2017).mkv", "Blade.Runner.2049.2017.German.DL.1080p.BluRay.x264-GRP.mkv", True),
    ("Movies/2001 A Space Odyssey (1968).mkv", "2001.A.Space.Odyssey.1968.German.DL.1080p.BluRay.x264-GRP.mkv", True),
    ("Movies/Ocean's Eleven (2001).mkv", "Oceans.Eleven.2001.German.DL.1080p.BluRay.x264-GRP.mkv", True),
    ("Movies/Fast & Furious 6 (2013).mkv", "Fast.and.Furious.6.2013.German.DL.1080p.BluRay.x264-GRP.mkv", True),
    ("Movies/Casablanca.mkv", "Casablanca.1942.German.DVDRip.XviD-GRP.avi", True),  # year on one side only
    ("Movies/Amores Perros (2000).mkv", "Amores.Perros.2001.German.DVDRip.XviD-GRP.avi", True),  # regional year
    ("Movies/The Lord of the Rings The Return of the King (2003).mkv",
     "Lord.of.the.Rings.Return.of.the.King.2003.German.DL.1080p.BluRay.x264-GRP.mkv", True),  # near title
    # --- editions
    ("Movies/Blade Runner (1982)/Blade Runner (1982) {edition-Final Cut}.mkv",
     "Blade.Runner.1982.Final.Cut.German.DL.1080p.BluRay.x264-GRP.mkv", True),
    ("Movies/Kingdom of Heaven (2005) - Director's Cut.mkv",
     "Kingdom.of.Heaven.2005.DC.German.DL.1080p.BluRay.x264-GRP.mkv", True),
    ("Movies/The Lord of the Rings The Fellowship of the Ring (2001) {edition-Extended}.mkv",
     "The.Lord.of.the.Rings.The.Fellowship.of.the.Ring.2001.EXTENDED.German.DL.1080p.BluRay.x264-GRP.mkv", True),
    # --- episodes, Sonarr/Plex naming against scene names
    ("TV/Breaking Bad (2008)/Season 01/Breaking Bad - S01E01 - Pilot.mkv",
     "Breaking.Bad.S01E01.German.DL.1080p.WEB.x264-GRP.mkv", True),
    ("TV/Friends/Season 01/Friends - S01E16E17 - The One With Two Parts.mkv",
     "Friends.S01E16-E17.German.DL.720p.WEB.x264-GRP.mkv", True),
    ("TV/Show Name/Season 02/S02E05.mkv", "Show.Name.S02E05.German.720p.HDTV.x264-GRP.mkv", True),
    ("TV/Doctor Who (2005)/Season 01/Doctor Who (2005) - S01E01 - Rose.mkv",
     "Doctor.Who.2005.S01E01.Rose.German.DL.1080p.WEB.x264-GRP.mkv", True),
    ("TV/The Office (US)/Season 02/The Office (US) - S02E03 - Office Olympics.mkv",
     "The.Office.US.S02E03.German.DL.720p.WEB.x264-GRP.mkv", True),
    ("TV/Lost/Season 1/Lost - 1x02 - Pilot (2).avi", "Lost.S01E02.German.DVDRip.XviD-GRP.avi", True),
    ("TV/Westworld [tvdbid-296762]/Season 01/Westworld - S01E02 - Chestnut.mkv",
     "Westworld [tvdbid-296762]/Season 1/Westworld.S01E02.German.DL.1080p.mkv", True),
    # --- anime: absolute numbering
    ("Anime/One Piece/[SubsPlease] One Piece - 1071 (1080p) [F2C7B4B1].mkv",
     "One.Piece.E1071.German.Dub.1080p.WEB.H264-GRP.mkv", True),
    ("Anime/One Piece/Season 21/One Piece - S21E82 - 1071 - The Peak.mkv",
     "[SubsPlease] One Piece - 1071 (1080p) [GER DUB].mkv", True),
    ("Anime/Attack on Titan/Season 01/Attack on Titan - S01E05 - First Battle.mkv",
     "[Erai-raws] Attack on Titan - 05 [1080p][GER DUB].mkv", True),
    ("Anime/Dragon Ball Z/Season 01/Dragon Ball Z - S01E40 - 040 - Title.mkv",
     "Dragon Ball Z - S02E01 - 040 - Titel.mkv", True),  # seasons differ between sources, absolute agrees
    # --- must NOT pair
    ("Movies/Dune (1984).mkv", "Dune.2021.German.DL.2160p.WEB.x265-GRP.mkv", False),
    ("Movies/The Lion King (1994).mkv", "The.Lion.King.2019.German.DL.1080p.BluRay.x264-GRP.mkv", False),
    ("Movies/Harry Potter and the Deathly Hallows Part 1 (2010).mkv",
     "Harry.Potter.and.the.Deathly.Hallows.Part.2.2011.German.DL.1080p.mkv", False),
    ("Movies/Harry Potter and the Deathly Hallows Part 1 (2010).mkv",
     "Harry.Potter.and.the.Deathly.Hallows.Part.2.2010.German.DL.1080p.mkv", False),  # same year, other part
    ("Movies/Toy Story 2 (1999).mkv", "Toy.Story.3.2010.German.DL.1080p.BluRay.x264-GRP.mkv", False),
    ("Movies/Scream (1996).mkv", "Scream.2.1997.German.DL.1080p.BluRay.x264-GRP.mkv", False),
    ("Movies/Avatar (2009)/Avatar (2009) - part1.mkv", "Avatar.2009.German.DL.part2.mkv", False),
    ("Movies/The Matrix (1999)/The Matrix (1999) {imdb-tt0133093}.mkv",
     "Matrix (1999) {imdb-tt0234215}.German.mkv", False),  # ids disagree
    ("Movies/It (2017).mkv", "It.Chapter.Two.2019.German.DL.1080p.mkv", False),
    ("Movies/The Thing (1982).mkv", "The.Thing.2011.German.DL.1080p.BluRay.x264-GRP.mkv", False),
    ("Movies/Frozen (2013).mkv", "Frozen.II.2019.German.DL.1080p.mkv", False),
    ("Movies/Alien (1979).mkv", "Aliens.1986.German.DL.1080p.mkv", False),
    ("Movies/Fargo (1996).mkv", "Fargo.S01E01.German.DL.720p.mkv", False),  # film vs series
    ("TV/Friends/Season 01/Friends - S01E16E17 - The One With Two Parts.mkv",
     "Friends.S01E16.German.DL.720p.mkv", False),  # double episode vs single
    ("TV/Doctor Who (2005)/Season 01/Doctor Who (2005) - S01E01 - Rose.mkv",
     "Doctor.Who.1963.S01E01.German.mkv", False),
    ("TV/Westworld/Season 01/Westworld - S01E02 - Chestnut.mkv", "Westworld.S01E03.German.DL.1080p.mkv", False),
    ("TV/Westworld/Season 01/Westworld - S01E02 - Chestnut.mkv", "Westworld.S02E02.German.DL.1080p.mkv", False),
    ("Anime/Naruto Shippuden/Season 01/Naruto Shippuden - S01E05 - 005 - Title.mkv",
     "[Group] Naruto Shippuden - 006 [1080p].mkv", False),
    ("Anime/Attack on Titan/Season 02/Attack on Titan - S02E05 - Historia.mkv",
     "[Erai-raws] Attack on Titan - 05 [1080p][GER DUB].mkv", False),
    ("TV/Westworld [tvdbid-296762]/Season 01/Westworld - S01E02 - Chestnut.mkv",
     "Westworld [tvdbid-999999]/Westworld.S01E02.German.mkv", False),  # another show of that name
]


def _pair(original: str, dub: str):
    return match(parse_path(f"{LIB}/{original}", [LIB]), parse_path(f"{DUBS}/{dub}", [DUBS]))


def test_pair_table_is_large_enough():
    assert len(PAIRS) >= 40
    assert sum(1 for *_, ok in PAIRS if not ok) >= 15


@pytest.mark.parametrize("original,dub,expected", PAIRS, ids=[p[1][:40] for p in PAIRS])
def test_match_pairs_real_world_names(original, dub, expected):
    found = _pair(original, dub)
    assert (found is not None) == expected, found
    if expected:
        assert found.score >= 0.6, found


def test_match_prefers_same_edition_and_exact_year():
    original = "Movies/Blade Runner (1982) {edition-Final Cut}.mkv"
    same = _pair(original, "Blade.Runner.1982.Final.Cut.German.DL.1080p.mkv")
    plain = _pair(original, "Blade.Runner.1982.German.DL.1080p.mkv")
    other = _pair(original, "Blade.Runner.1982.Directors.Cut.German.DL.1080p.mkv")
    assert same.score > plain.score > other.score >= 0.6
    exact = _pair("Movies/Amores Perros (2000).mkv", "Amores.Perros.2000.German.mkv")
    off = _pair("Movies/Amores Perros (2000).mkv", "Amores.Perros.2001.German.mkv")
    assert exact.score - off.score >= 0.1


def test_provider_ids_outrank_titles_in_another_language():
    # A translated title matches only through the id.
    found = _pair("Movies/Spirited Away (2001) {tmdb-129}.mkv", "Chihiros Reise ins Zauberland (2001) {tmdb-129}.mkv")
    assert found is not None and found.score > 0.95 and "provider id" in found.reason
    assert _pair("Movies/Spirited Away (2001).mkv", "Chihiros Reise ins Zauberland (2001).mkv") is None


PARSED = [
    ("Title.2010.GERMAN.DL.1080p.BluRay.x264-GRP.mkv", dict(title="Title", year=2010, languages=("de",), kind="movie")),
    ("The Matrix (1999) {imdb-tt0133093}.mkv", dict(title="The Matrix", year=1999, provider_ids={"imdb": "tt0133093"})),
    ("Movie (2010) [tmdbid-123].mkv", dict(title="Movie", year=2010, provider_ids={"tmdb": "123"})),
    ("Breaking.Bad.S01E02E03.720p.mkv", dict(title="Breaking Bad", kind="episode", season=1, episodes=(2, 3))),
    ("Show.S01E01-03.mkv", dict(season=1, episodes=(1, 2, 3))),
    ("Show - S01E01-E02 - Name.mkv", dict(season=1, episodes=(1, 2))),
    ("Lost - 1x02 - Pilot.avi", dict(title="Lost", season=1, episodes=(2,))),
    ("[SubsPlease] One Piece - 1071 (1080p) [ABCD1234].mkv", dict(title="One Piece", kind="episode", absolute=(1071,))),
    ("Blade Runner (1982) - Final Cut.mkv", dict(title="Blade Runner", kind="movie", edition="final cut")),
    ("Movie (2010) {edition-Director's Cut}.mkv", dict(title="Movie", edition="directors cut")),
    ("Kingdom.of.Heaven.2005.DC.German.DL.mkv", dict(title="Kingdom of Heaven", edition="directors cut")),
    ("Avatar (2009) - cd2.avi", dict(part=2)),
    ("The Italian Job (2003).mkv", dict(title="The Italian Job", languages=())),
    ("Title German DL 1080p", dict(title="Title", languages=("de",))),
    ("1917.2019.1080p.mkv", dict(title="1917", year=2019)),
    ("Charlotte's Web (2006).mkv", dict(title="Charlotte's Web", year=2006)),
    ("Johnny English (2003).mkv", dict(title="Johnny English", languages=())),
    ("Johnny.English.2003.German.DL.1080p.mkv", dict(title="Johnny English", year=2003, languages=("de",))),
    ("Charlottes.Web.German.DL.1080p.mkv", dict(title="Charlottes Web", languages=("de",))),
]


@pytest.mark.parametrize("name,expected", PARSED, ids=[p[0][:40] for p in PARSED])
def test_parse_name_fields(name, expected):
    parsed = parse_name(name)
    for key, value in expected.items():
        assert getattr(parsed, key) == value, (key, parsed)


def test_parse_path_takes_title_and_year_from_the_release_folder():
    parsed = parse_path("/dubs/de/Matrix.1999.GERMAN.DL.1080p.BluRay.x264-GRP/grp-matrix-1080p.mkv", ["/dubs/de"])
    assert (parsed.key, parsed.year, parsed.languages) == ("matrix", 1999, ("de",))
    episode = parse_path("/tv/Show Name (2008) [tvdbid-81189]/Season 02/S02E05.mkv", ["/tv"])
    assert (episode.key, episode.season, episode.episodes, episode.year) == ("showname", 2, (5,), 2008)
    assert episode.provider_ids == {"tvdb": "81189"}


def test_parse_path_does_not_read_the_root_folder_name_or_above():
    parsed = parse_path("/media/German Movies 2010/Title.mkv", ["/media/German Movies 2010"])
    assert (parsed.key, parsed.year) == ("title", None)
    above = parse_path("/srv/Film (2010)/lib/movie.mkv", ["/srv/Film (2010)/lib/"])
    assert (above.key, above.year) == ("movie", None)


def test_title_key_normalises_spelling():
    assert title_key("Der Herr der Ringe: Die Gefährten") == title_key("Der.Herr.der.Ringe.Die.Gefaehrten".replace(".", " "))
    assert title_key("Matrix, The") == title_key("The Matrix") == "matrix"
    assert title_key("Spider-Man") == title_key("Spiderman")
    assert title_key("Theodore Rex") == "theodorerex"


@pytest.mark.parametrize("name,expected", [
    ("Title (2010).de.mka", ("Title (2010)", "de", "mka")),
    ("Title (2010).ger.mkv", ("Title (2010)", "de", "mkv")),
    ("Title (2010).German.dub.ac3", ("Title (2010)", "de", "ac3")),
    ("Mr. Robot - S01E01.fra.mka", ("Mr. Robot - S01E01", "fr", "mka")),
    ("Title.multi.mkv", None),
    ("Title.2010.GERMAN.DL.mkv", None),
    ("Title (2010).de.srt", None),
    ("de.mka", None),
])
def test_split_sidecar(name, expected):
    assert split_sidecar(name) == expected
