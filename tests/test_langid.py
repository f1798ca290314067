"""Language identification with the real Whisper model on real speech (the drascula lines):
an untagged English dub is named English, a Spanish one tagged eng keeps its tag and is
reported as contradicting its speech."""
from __future__ import annotations

import pytest

from syncdub_companion import langid
from syncdub_companion.merge.plan import prepare
from syncdub_companion.testing import make_services

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def services(tmp_path_factory, voices):
    svc = make_services(tmp_path_factory.mktemp("svc"), {
        "library": {"roots": [str(voices["en_untagged"].parent)], "languages": ["de", "fr"]}, "align": {"device": "cpu"}})
    yield svc
    svc.store.close()


@pytest.fixture(scope="module")
def heard(services, voices):
    """Each voice checked once (Whisper on 2 busy cores takes seconds a file)."""
    return {name: langid.check(services, voices[name]) for name in ("en_untagged", "es_tagged_eng")}


def test_an_untagged_english_track_is_identified_as_english(heard):
    found = heard["en_untagged"]
    assert found.tag is None and found.heard == "en" and found.probability > 0.5
    assert found.language == "en" and not found.contradicts
    assert "has no language tag; its speech was identified as English (en)" in found.note()


def test_a_spanish_track_tagged_eng_keeps_its_tag_and_is_reported(heard):
    found = heard["es_tagged_eng"]
    assert (found.tag, found.heard, found.language) == ("en", "es", "en")
    assert found.contradicts
    assert "is tagged English (en) but its speech sounds Spanish (es)" in found.note()
    assert found.note().endswith("the tag is kept")


@pytest.mark.parametrize("setting", [{"speech": {"check_tags": False}}, {"align": {"speech": "never"}}])
def test_a_tag_is_taken_unheard_when_checks_are_off(tmp_path, voices, setting):
    svc = make_services(tmp_path, {"library": {"roots": [str(voices["en_untagged"].parent)]}, **setting})
    try:
        found = langid.check(svc, voices["es_tagged_eng"])
        assert (found.tag, found.heard, found.contradicts, found.note()) == ("en", None, False, None)
        if "align" in setting:  # an untagged track is identified even with speech off for the aligner
            assert langid.check(svc, voices["en_untagged"]).heard == "en"
    finally:
        svc.store.close()


def test_the_merge_plan_names_an_untagged_dub_by_its_speech(services, voices):
    """Two wanted languages, no --lang, no tag: before, this stopped with "pass --lang"."""
    plan = prepare(services, str(voices["es_original"]), str(voices["en_untagged"]), language=None, mode="beside",
                   force=False)
    assert plan.language.bibliographic == "eng"
    assert any("identified as English" in note for note in plan.notes)


def test_a_counterpart_whose_name_says_nothing_gets_the_language_it_speaks(services, voices):
    from syncdub_companion.media import Candidate

    unnamed = Candidate(str(voices["en_untagged"]), None, 0.9, "folder", "same title and year")
    named = langid.name_candidate(services, unnamed)
    assert named.language == "en" and named.score == 0.9
    assert named.reason.startswith("same title and year; language en from its speech (p=")
    tagged = langid.name_candidate(services, Candidate(str(voices["es_tagged_eng"]), None, 0.9, "folder"))
    assert tagged.language == "en" and tagged.reason == "language en from its track's tag"  # a tag wins
