"""Collecting candidates from every plugin, and deciding one per language or needs_review."""
from __future__ import annotations

import pytest

from syncdub_companion import hookimpl
from syncdub_companion.counterparts import (Entry, NameIndex, collect, decide, find_for, wanted_languages,
                                            walk_media)
from syncdub_companion.errors import ServerError
from syncdub_companion.media import Candidate, MediaItem
from syncdub_companion.naming import parse_name
from syncdub_companion.testing import make_services


def cand(path, language, score, finder="t"):
    return Candidate(path, language, score, finder)


def test_decide_picks_the_clear_best_per_language():
    decision = decide([cand("/a", "de", 0.9), cand("/b", "de", 0.7), cand("/c", "fr", 0.95)], ["de", "fr", "es"],
                      min_score=0.6, margin=0.1)
    assert {k: v.path for k, v in decision.chosen.items()} == {"de": "/a", "fr": "/c"}
    assert decision.missing == ["es"] and decision.ambiguous == {}


def test_decide_flags_candidates_within_the_margin_as_ambiguous():
    decision = decide([cand("/a", "de", 0.9), cand("/b", "de", 0.85), cand("/c", "de", 0.5)], ["de"], 0.4, 0.1)
    assert decision.chosen == {} and [c.path for c in decision.ambiguous["de"]] == ["/a", "/b"]


def test_decide_counts_an_exact_margin_as_clear():
    # 0.9 - 0.8 is 0.09999999999999998 in floating point; it must not read as ambiguous.
    decision = decide([cand("/a", "de", 0.9), cand("/b", "de", 0.8)], ["de"], 0.6, 0.1)
    assert decision.chosen["de"].path == "/a"


def test_decide_drops_low_scores_and_normalises_wanted_codes():
    decision = decide([cand("/a", "de", 0.5)], ["ger"], min_score=0.6, margin=0.1)
    assert decision.chosen == {} and decision.missing == ["de"]


def test_decide_unknown_language_counts_only_for_a_single_wanted_language():
    unknown = [cand("/a", None, 0.9)]
    assert decide(unknown, ["de"], 0.6, 0.1).chosen["de"].path == "/a"
    assert decide(unknown, ["de", "fr"], 0.6, 0.1).chosen == {}


def test_decide_without_wanted_languages_takes_every_candidate_language():
    decision = decide([cand("/a", "de", 0.9), cand("/b", "it", 0.8)], [], 0.6, 0.1)
    assert sorted(decision.chosen) == ["de", "it"]


class TwoFinders:
    """Two finders that both report /m/dub.mka, one also the item itself and an iso-639-2 language."""

    def __init__(self, root):
        self.root = root

    @hookimpl
    def syncdub_find_counterparts(self, item, services):
        return [Candidate(f"{self.root}/dub.mka", "ger", 0.7, "first"),
                Candidate(item.path, "de", 0.99, "first"),
                Candidate(f"{self.root}/x/../dub.mka", "de", 0.9, "second"),
                Candidate(f"{self.root}/other.mka", "fre", 0.8, "second")]


@pytest.fixture
def services(tmp_path):
    svc = make_services(tmp_path, {"library": {"roots": [str(tmp_path)], "languages": ["de", "fr"]}})
    (tmp_path / "x").mkdir()
    svc.pm.register(TwoFinders(tmp_path), name="two-finders")
    yield svc
    svc.store.close()


def test_collect_dedupes_by_real_path_keeps_the_best_and_drops_the_item(services, tmp_path):
    item = MediaItem(str(tmp_path / "film.mkv"))
    found = collect(services, item)
    assert [(c.path.endswith("dub.mka"), c.language, c.score, c.finder) for c in found] == [
        (True, "de", 0.9, "second"), (False, "fr", 0.8, "second")]
    assert "also first" in found[0].reason


def test_collect_drops_candidates_that_resolve_outside_the_roots(services, tmp_path, caplog):
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    elsewhere.mkdir()
    (elsewhere / "dub.mkv").write_bytes(b"")
    (tmp_path / "film.de.mka").symlink_to(elsewhere / "dub.mkv")

    class Linker:
        @hookimpl
        def syncdub_find_counterparts(self, item, services):
            return [Candidate(str(tmp_path / "film.de.mka"), "de", 0.99, "linker")]

    services.pm.register(Linker(), name="linker")
    with caplog.at_level("WARNING"):
        found = collect(services, MediaItem(str(tmp_path / "film.mkv")))
    assert [c.finder for c in found] == ["second", "second"]  # the link's target was never offered on
    assert f"resolves to {elsewhere / 'dub.mkv'} outside the allowed roots" in caplog.text


class Broken:
    """A finder that fails the way it is told: a bug, a permanent or a transient error."""

    def __init__(self, error):
        self.error = error

    @hookimpl
    def syncdub_find_counterparts(self, item, services):
        raise self.error


def test_a_finder_with_a_bug_is_skipped_with_its_traceback_and_the_others_still_count(services, tmp_path, caplog):
    services.pm.register(Broken(KeyError("oops")), name="broken")
    with caplog.at_level("WARNING"):
        found = collect(services, MediaItem(str(tmp_path / "film.mkv")))
    assert sorted(c.language for c in found) == ["de", "fr"]
    bug = [r for r in caplog.records if "bug in syncdub_find_counterparts" in r.getMessage()]
    assert bug and "plugin broken" in bug[0].getMessage() and bug[0].exc_info is not None


def test_a_finder_with_a_permanent_error_is_skipped_with_its_reason(services, tmp_path, caplog):
    services.pm.register(Broken(ServerError("plex", "401, the token was refused")), name="broken")
    with caplog.at_level("WARNING"):
        found = collect(services, MediaItem(str(tmp_path / "film.mkv")))
    assert len(found) == 2
    assert "plugin broken: syncdub_find_counterparts failed, skipping this plugin: plex: 401" in caplog.text


def test_a_finder_with_a_transient_error_makes_the_whole_collect_retry(services, tmp_path):
    services.pm.register(Broken(ServerError("plex", "HTTP 503", transient=True)), name="broken")
    with pytest.raises(ServerError, match="503"):
        collect(services, MediaItem(str(tmp_path / "film.mkv")))


def test_find_for_uses_configured_languages_and_thresholds(services, tmp_path):
    _, decision = find_for(services, MediaItem(str(tmp_path / "film.mkv")))
    assert sorted(decision.chosen) == ["de", "fr"]
    _, only_de = find_for(services, MediaItem(str(tmp_path / "film.mkv")), ["de"])
    assert sorted(only_de.chosen) == ["de"]


def test_wanted_languages_fall_back_to_the_dub_roots(tmp_path):
    svc = make_services(tmp_path, {"counterparts": {"dub_roots": {"ger": "/d/de", "fra": "/d/fr"}}})
    assert wanted_languages(svc) == ["de", "fr"]
    svc.store.close()


def test_name_index_finds_near_titles_only_in_the_same_year():
    index = NameIndex()
    for name in ("Lord.of.the.Rings.Return.of.the.King.2003.German.mkv", "Casablanca.1942.German.mkv"):
        index.add(Entry(f"/d/{name}", parse_name(name), "de"))
    near = index.lookup(parse_name("The Lord of the Rings The Return of the King (2003).mkv"))
    assert [e.path for e, _ in near] == ["/d/Lord.of.the.Rings.Return.of.the.King.2003.German.mkv"]
    assert "similar title" in near[0][1].reason
    assert index.lookup(parse_name("The Lord of the Rings The Return of the King (2004).mkv")) == []


def test_walk_media_skips_extras_samples_hidden_and_skipped_trees(tmp_path):
    for rel in ("Film (2010)/Film (2010).mkv", "Film (2010)/Featurettes/Making of.mkv", "Film (2010)/sample.mkv",
                "Film (2010)/Film-sample.mkv", ".hidden/x.mkv", "dubs/de/Film.mkv", "Film (2010)/notes.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    found = [p[len(str(tmp_path)) + 1:] for p in walk_media(tmp_path, skip=[tmp_path / "dubs"])]
    assert found == ["Film (2010)/Film (2010).mkv"]
