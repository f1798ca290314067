"""Library-root confinement and server<->local path mapping (syncdub_companion/paths.py)."""
from __future__ import annotations

import pytest

from syncdub_companion.errors import PathNotAllowedError, UsageError
from syncdub_companion.paths import (ensure_inside, is_inside, local_to_server, normalise, parent_folder,
                                     path_problem, require_usable, server_to_local)


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "media"
    (root / "Movies" / "Alien (1979)").mkdir(parents=True)
    (root / "Movies" / "Alien (1979)" / "Alien.mkv").write_bytes(b"x")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.mkv").write_bytes(b"x")
    (tmp_path / "media-backup").mkdir()
    return root


def test_paths_inside_a_root_are_allowed(library):
    movie = library / "Movies" / "Alien (1979)" / "Alien.mkv"
    assert ensure_inside(movie, [library]) == movie.resolve()
    # a file that does not exist yet (an output) is fine when its folder is inside
    assert ensure_inside(library / "Movies" / "new.mkv", [library]).name == "new.mkv"
    assert is_inside(library, [library])


def test_dotdot_escapes_are_refused(library):
    for sneaky in (library / ".." / "outside" / "secret.mkv",
                   library / "Movies" / ".." / ".." / "outside" / "secret.mkv",
                   str(library) + "/Movies/../../outside"):
        with pytest.raises(PathNotAllowedError, match="outside the configured library roots"):
            ensure_inside(sneaky, [library])


def test_sibling_with_a_shared_prefix_is_not_inside(library, tmp_path):
    assert not is_inside(tmp_path / "media-backup" / "x.mkv", [library])


def test_symlink_escapes_are_refused(library, tmp_path):
    (library / "Movies" / "link-out").symlink_to(tmp_path / "outside")
    (library / "Movies" / "file-link.mkv").symlink_to(tmp_path / "outside" / "secret.mkv")
    with pytest.raises(PathNotAllowedError):
        ensure_inside(library / "Movies" / "link-out" / "secret.mkv", [library])
    with pytest.raises(PathNotAllowedError):
        ensure_inside(library / "Movies" / "file-link.mkv", [library])
    # a new file written through the escaping folder link is refused too
    with pytest.raises(PathNotAllowedError):
        ensure_inside(library / "Movies" / "link-out" / "new.mkv", [library])


def test_symlink_to_a_place_inside_is_fine(library):
    (library / "shortcut").symlink_to(library / "Movies")
    resolved = ensure_inside(library / "shortcut" / "Alien (1979)" / "Alien.mkv", [library])
    assert resolved == (library / "Movies" / "Alien (1979)" / "Alien.mkv").resolve()


def test_root_given_through_a_symlink_still_contains_its_files(library, tmp_path):
    (tmp_path / "media-link").symlink_to(library)
    assert is_inside(library / "Movies" / "Alien (1979)" / "Alien.mkv", [tmp_path / "media-link"])


def test_no_roots_means_nothing_is_allowed(library):
    with pytest.raises(PathNotAllowedError, match="no library.roots"):
        ensure_inside(library / "Movies", [])


def test_second_root_counts(library, tmp_path):
    assert ensure_inside(tmp_path / "outside" / "secret.mkv", [library, tmp_path / "outside"])


def test_error_says_what_was_refused(library, tmp_path):
    with pytest.raises(PathNotAllowedError) as err:
        ensure_inside(tmp_path / "outside" / "secret.mkv", [library], what="output")
    assert str(err.value).startswith(f"output {tmp_path / 'outside' / 'secret.mkv'}:")
    assert err.value.status == 403


MAP = [("/data", "/srv/data"), ("/data/tv", "/mnt/tv"), ("/data/tv/anime", "/mnt/anime"),
       ("D:\\Movies", "/mnt/movies")]


@pytest.mark.parametrize("server,local", [
    ("/data/tv/anime/One Piece/e1.mkv", "/mnt/anime/One Piece/e1.mkv"),  # longest prefix wins
    ("/data/tv/Lost/s1e1.mkv", "/mnt/tv/Lost/s1e1.mkv"),
    ("/data/film.mkv", "/srv/data/film.mkv"),
    ("/data/tv", "/mnt/tv"),
    ("/data/tv/", "/mnt/tv/"),
    ("/database/x.mkv", "/database/x.mkv"),       # whole segments only
    ("/elsewhere/x.mkv", "/elsewhere/x.mkv"),     # unmapped paths pass through
    ("D:\\Movies\\Heat (1995)\\Heat.mkv", "/mnt/movies/Heat (1995)/Heat.mkv"),
    ("d:\\movies\\Heat.mkv", "/mnt/movies/Heat.mkv"),  # Windows paths ignore case
])
def test_server_to_local(server, local):
    assert server_to_local(server, MAP) == local


@pytest.mark.parametrize("local,server", [
    ("/mnt/anime/One Piece/e1.mkv", "/data/tv/anime/One Piece/e1.mkv"),
    ("/mnt/tv/Lost", "/data/tv/Lost"),
    ("/srv/data/film.mkv", "/data/film.mkv"),
    ("/mnt/movies/Heat (1995)/Heat.mkv", "D:\\Movies\\Heat (1995)\\Heat.mkv"),  # back to Windows separators
    ("/mnt/moviesX/a.mkv", "/mnt/moviesX/a.mkv"),
])
def test_local_to_server(local, server):
    assert local_to_server(local, MAP) == server


def test_longest_local_prefix_wins_in_reverse():
    nested = [("/data", "/mnt"), ("/other/tv", "/mnt/tv")]
    assert local_to_server("/mnt/tv/x.mkv", nested) == "/other/tv/x.mkv"
    assert local_to_server("/mnt/film/x.mkv", nested) == "/data/film/x.mkv"


@pytest.mark.parametrize("path", ["/data/tv/anime/a.mkv", "/data/tv/b.mkv", "/data/c.mkv", "D:\\Movies\\d.mkv"])
def test_round_trip(path):
    assert local_to_server(server_to_local(path, MAP), MAP) == path


def test_parent_folder_handles_both_separators():
    assert parent_folder("D:\\Movies\\Heat\\Heat.mkv") == "D:/Movies/Heat"
    assert parent_folder("/m/a/b.mkv") == "/m/a"


@pytest.mark.parametrize("text,problem", [
    ("/m/a\x00b.mkv", "NUL"),
    ("/m/" + "a" * 256, "longer than 255 bytes"),
    ("/m/" + "é" * 128, "longer than 255 bytes"),
    ("/m" + "/abc" * 1100, "longer than 4096 bytes"),
    ("/m/\ud800.mkv", "UTF-8"),
])
def test_path_problem_names_what_no_file_call_could_survive(text, problem):
    assert problem in path_problem(text)
    with pytest.raises(UsageError, match=problem):
        require_usable(text, "file")


def test_ordinary_paths_have_no_problem():
    assert path_problem("/m/" + "a" * 255) is None
    assert require_usable("/m/Film (2001)/Film.mkv") == "/m/Film (2001)/Film.mkv"


@pytest.mark.parametrize("spelling,expected", [
    ("/m/Film.mkv", "/m/Film.mkv"),
    ("/m//Film.mkv", "/m/Film.mkv"),
    ("//m/Film.mkv", "/m/Film.mkv"),
    ("/m/./Film.mkv", "/m/Film.mkv"),
    ("/m/x/../Film.mkv", "/m/Film.mkv"),
    ("/../../etc/passwd", "/etc/passwd"),
    ("..", ".."),
    ("C:\\Media\\\\x\\..\\Film.mkv", "C:\\Media\\Film.mkv"),
    ("C:/Media/./Film.mkv", "C:\\Media\\Film.mkv"),
    ("\\\\nas\\share\\.\\Film.mkv", "\\\\nas\\share\\Film.mkv"),
])
def test_normalise_folds_spellings_of_one_path(spelling, expected):
    assert normalise(spelling) == expected
