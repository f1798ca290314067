"""Speech evidence with the real models on real speech: the drascula game's Spanish lines
and their English dub, composed into short "films".

Whisper on 2 shared CPU cores runs at about real time here, so the films are short and
each one is transcribed once per module.
"""
from __future__ import annotations

import json

import pytest

from syncdub_companion.align.embed import Embedder
from syncdub_companion.align.speech import identify_language, speech_evidence
from syncdub_companion.align.transcribe import Transcriber
from syncdub_companion.testing import cache_dir
from tests.align.speech_clips import (LINES, OTHER_LINES, RATE, codec_delay, compose, encode, line, music, place,
                                      stereo, surround, timeline, write_wav)

pytestmark = pytest.mark.slow

SETTINGS = {"model_dir": str(cache_dir() / "models")}
# Gaps between lines; each dub line starts with its original line, 1.7 s later (the dub
# release's lead-in), and the dub lacks one line.
GAPS = [1.5, 2.0, 1.2, 2.5, 1.0, 1.8, 1.4, 1.0]
DUB_DELAY = 1.7
DUB_LINES = [n for n in LINES if n != "D66"]


@pytest.fixture(scope="module")
def films(tmp_path_factory, drascula):
    """The Spanish original (5.1 AC3, speech in the centre over music), its English dub
    (stereo AAC, untagged, the music 20 dB under the speech) and a different English "film"."""
    folder = tmp_path_factory.mktemp("films")
    master = timeline(drascula, list(LINES), GAPS)
    orig = place(drascula, "es", master)
    dub = place(drascula, "en", {n: master[n] + DUB_DELAY for n in DUB_LINES})
    other = compose(drascula, "en", list(OTHER_LINES[:5]), [1.2, 1.8, 1.0, 2.2, 1.0])
    bed = music(drascula, 3, len(orig.audio) / RATE + 5)
    mixes = {"orig": surround(orig.audio, bed), "dub": stereo(dub.audio, 0.35 * bed),
             "other": stereo(other.audio, 0.35 * bed)}
    paths = {
        "orig": encode(write_wav(folder / "o.wav", mixes["orig"]), folder / "orig.mkv", "ac3", "spa"),
        "dub": encode(write_wav(folder / "d.wav", mixes["dub"]), folder / "dub.mkv", "aac"),
        "other": encode(write_wav(folder / "x.wav", mixes["other"]), folder / "other.mkv", "aac"),
    }
    for name, clip in (("orig", orig), ("dub", dub)):  # the decoded timeline includes encoder priming
        delay = codec_delay(paths[name], mixes[name])
        assert delay < 0.1
        for table in (clip.starts, clip.onsets, clip.ends):
            table.update({n: t + delay for n, t in table.items()})
    return {"paths": {k: str(v) for k, v in paths.items()}, "orig": orig, "dub": dub}


@pytest.fixture(scope="module")
def evidence(films):
    """The pair transcribed whole, languages left to detection."""
    p = films["paths"]
    return speech_evidence(p["orig"], p["dub"], orig_track=0, dub_track=0, orig_windows=[(0, 600)],
                           dub_windows=[(0, 600)], settings=SETTINGS, device="cpu")


def test_languages_are_detected_and_the_spanish_side_is_translated(films, evidence):
    assert (evidence.orig_language, evidence.dub_language) == ("es", "en")
    assert evidence.tasks == ("translate", "transcribe")
    assert evidence.orig_segments and all(s.language == "es" for s in evidence.orig_segments)
    total = (len(films["orig"].audio) + len(films["dub"].audio)) / RATE
    assert evidence.seconds_transcribed == pytest.approx(total, abs=0.5)


def test_a_translated_spanish_line_matches_its_english_dub_line(films, evidence, drascula):
    """One line alone, translated and embedded, is closest to its own dub line by a margin."""
    spanish = Transcriber("base", SETTINGS["model_dir"], "cpu").transcribe(
        line(drascula, "es", "VB27"), task="translate", language="es")
    english = " ".join(s.text for s in spanish)
    dub = films["dub"]
    # The dub's transcript, line by line (Whisper may cut one line into two segments).
    dub_lines = {n: " ".join(s.text for s in evidence.dub_segments
                             if dub.onsets[n] - 0.5 <= s.onset <= dub.ends[n]) for n in DUB_LINES}
    vectors = Embedder(device="cpu").embed([english, *dub_lines.values()])
    sims = dict(zip(dub_lines, vectors[1:] @ vectors[0]))
    best, runner_up = sorted(sims, key=sims.get, reverse=True)[:2]
    assert best == "VB27", (english, dub_lines[best])
    assert sims["VB27"] > 0.6 and sims["VB27"] - sims[runner_up] > 0.2, sims


# Whisper's timestamps come in 20 ms steps and the onset search in 10 ms frames; model
# builds differ by a few of those. A tenth of a second covers that spread, and is still ten
# times shorter than the shortest pause between two lines here, so a wrong line can't pass.
TIMING_SLACK = 0.1


def _line_at(clip, t: float) -> str | None:
    """The line whose file spans ``t`` (give or take :data:`TIMING_SLACK`), or None. From the
    file's start, not the voice's: ``onsets`` come from a level threshold that a soft first
    syllable stays under."""
    return next((n for n in clip.starts if clip.starts[n] - TIMING_SLACK <= t <= clip.ends[n] + TIMING_SLACK), None)


def test_anchors_are_monotonic_and_pair_the_same_line(films, evidence):
    """Every anchor joins a moment of one line in the original to a moment of the same line
    in the dub; enough of them sit at line starts on both sides to decide the verdict."""
    orig, dub = films["orig"], films["dub"]
    anchors = evidence.anchors
    assert all(a.kind == "speech" and 0 < a.weight <= 1 for a in anchors)
    assert [a.orig for a in anchors] == sorted(a.orig for a in anchors)
    assert [a.dub for a in anchors] == sorted(a.dub for a in anchors)
    at_start = 0
    for a in anchors:
        name = _line_at(orig, a.orig)
        assert name is not None and name in dub.onsets, f"{a} lies in {name}, which the dub lacks"
        assert _line_at(dub, a.dub) == name, f"{a}: original line {name}, dub line {_line_at(dub, a.dub)}"
        at_start += abs(a.orig - orig.onsets[name]) < 0.3 and abs(a.dub - dub.onsets[name]) < 0.3
    # same_content() needs three matched lines: as many line starts must be exact.
    assert at_start >= 3, anchors
    ok, reason = evidence.same_content()
    assert ok, reason


def test_the_true_map_agrees_with_the_speech_and_shifted_maps_do_not(films, evidence):
    """Judged as the aligner judges (verify.apply_speech: the default tolerance, and
    MIN_AGREEMENT): the true map passes, maps two seconds off fail.

    Each drascula line file has its own lead silence (0-0.5 s) and Whisper splits some
    lines at a pause inside them, so single anchors sit up to a second off the placement
    map; a map one second off can still pass on these five anchors (docs/speech.md)."""
    from syncdub_companion.align.verify import MIN_AGREEMENT

    shift = films["orig"].starts["VB41"] - films["dub"].starts["VB41"]  # the line starts' map, priming included
    assert evidence.agreement(lambda t: t + shift) >= MIN_AGREEMENT, evidence.anchors
    for off in (-2.0, 2.0):
        assert evidence.agreement(lambda t: t + shift + off) <= 0.2, (off, evidence.anchors)
    assert evidence.agreement(lambda t: None) == 0.0


def test_evidence_summary_is_json(evidence):
    data = json.loads(json.dumps(evidence.to_dict()))
    assert data["matches"] == evidence.match_count and data["orig_language"] == "es"
    assert set(data["timings"]) == {"decode", "language", "transcribe", "match"}


def test_a_different_film_is_rejected(films):
    p = films["paths"]
    ev = speech_evidence(p["orig"], p["other"], orig_track=0, dub_track=0, orig_windows=[(0, 26)],
                         dub_windows=[(0, 600)], settings=SETTINGS, device="cpu",
                         orig_language="spa", dub_language="eng")  # track tags, ISO 639-2
    assert (ev.orig_language, ev.dub_language, ev.tasks) == ("es", "en", ("translate", "transcribe"))
    assert len(ev.orig_segments) >= 4 and len(ev.dub_segments) >= 4
    assert ev.match_count <= 1 and ev.match_ratio < 0.3
    ok, reason = ev.same_content()
    assert not ok and "different content" in reason


def test_the_language_of_an_untagged_track_is_identified(films):
    code, prob = identify_language(films["paths"]["dub"], 0, settings=SETTINGS, device="cpu")
    assert code == "en" and prob > 0.5
    code, prob = identify_language(films["paths"]["orig"], 0, settings=SETTINGS, device="cpu")
    assert code == "es" and prob > 0.5



def test_the_batched_pipeline_gives_the_same_lines_at_absolute_times(films):
    """The CUDA path (BatchedInferencePipeline) runs on CPU too; check its times and text."""
    from syncdub_companion.align.speech import decode_speech

    audio = decode_speech(films["paths"]["dub"], 0, 0.0, 12.0)
    segments = Transcriber("base", SETTINGS["model_dir"], "cpu").transcribe(
        audio, offset=100.0, language="en", batched=True)
    first = segments[0]
    assert "ready" in first.text.lower() and first.after_pause
    assert abs(first.onset - (100.0 + films["dub"].onsets["VB41"])) < 0.3
