"""Which dub subtitle tracks are carried, and extracting and re-timing them from a real MKV."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pysubs2
import pytest

from subs_media import CUES, DUB_START, FRAME, ORIG_START, pgs_cues, truth_map
from syncdub_companion.errors import MediaError
from syncdub_companion.merge.language import language, same_language
from syncdub_companion.subtitles import carry, choose
from syncdub_companion.subtitles.pgs import write_display_sets

ENG = language("en")


def probe(path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", str(path)],
                         capture_output=True, check=True).stdout
    return json.loads(out)


@pytest.fixture(scope="module")
def dub(tmp_path_factory):
    """A dub release: audio, then English forced SRT, English full ASS, German SRT, English forced PGS."""
    folder = tmp_path_factory.mktemp("dub")
    subs = pysubs2.SSAFile()
    for label, start, end, _ in CUES:
        subs.append(pysubs2.SSAEvent(start=round(start * 1000), end=round(end * 1000), text=f"Sign: {label} – ß"))
    subs.save(str(folder / "forced.srt"))
    subs.save(str(folder / "full.ass"))
    subs.save(str(folder / "german.srt"))
    (folder / "forced.sup").write_bytes(write_display_sets(pgs_cues()))
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=f=440:d=25", "-c:a", "ac3",
                    str(folder / "a.mka")], check=True)
    path = folder / "Film.English.mkv"
    subprocess.run(["mkvmerge", "-q", "-o", str(path), str(folder / "a.mka"),
                    "--language", "0:eng", "--forced-display-flag", "0:1", "--track-name", "0:Signs & Songs",
                    str(folder / "forced.srt"),
                    "--language", "0:eng", str(folder / "full.ass"),
                    "--language", "0:ger", "--forced-display-flag", "0:1", str(folder / "german.srt"),
                    "--language", "0:eng", "--forced-display-flag", "0:1", str(folder / "forced.sup")], check=True)
    return path


def original_with(forced: bool | None) -> dict:
    """ffprobe's view of a library file with (or without) an English subtitle track."""
    streams = [{"index": 0, "codec_type": "video"}, {"index": 1, "codec_type": "audio"}]
    if forced is not None:
        streams.append({"index": 2, "codec_type": "subtitle", "codec_name": "subrip", "tags": {"language": "eng"},
                        "disposition": {"forced": int(forced)}})
    return {"streams": streams}


def test_policy_picks_tracks_of_the_language(dub):
    info = probe(dub)
    forced, notes = choose(info, original_with(None), ENG, "forced", False, same_language)
    assert [t.index for t in forced] == [1, 4] and not notes
    every, _ = choose(info, original_with(None), ENG, "all", False, same_language)
    assert [t.index for t in every] == [1, 2, 4]
    assert choose(info, original_with(None), ENG, "none", False, same_language) == ([], [])
    with pytest.raises(MediaError, match="library.subtitles"):
        choose(info, original_with(None), ENG, "some", False, same_language)


def test_what_the_file_already_has_is_not_duplicated_unless_asked(dub):
    info = probe(dub)
    kept, notes = choose(info, original_with(True), ENG, "all", False, same_language)
    assert [t.index for t in kept] == [2]  # the full track; both forced ones are there already
    assert len(notes) == 2 and "already has a forced eng subtitle track" in notes[0]
    kept, _ = choose(info, original_with(True), ENG, "all", True, same_language)
    assert [t.index for t in kept] == [1, 2, 4]
    # a synced track about to be replaced does not count
    kept, _ = choose(info, original_with(True), ENG, "forced", False, same_language, ignore={2})
    assert [t.index for t in kept] == [1, 4]


def test_carry_extracts_retimes_and_names(dub, services, tmp_path):
    tracks, _ = choose(probe(dub), original_with(None), ENG, "all", False, same_language)
    carried, notes = carry(services, dub, tracks, truth_map(), ENG, tmp_path, DUB_START, ORIG_START)
    assert [c.name for c in carried] == ["Signs & Songs (synced)", "English (synced)", "English forced (synced)"]
    assert [c.forced for c in carried] == [True, False, True]
    assert all("4 cues kept (2 clipped at a cut), 1 dropped" in n for n in notes)
    srt = pysubs2.load(str(carried[0].path))
    assert [e.text for e in srt][0] == "Sign: out of the logo – ß"
    for event, (_, _, _, (lo, hi)) in zip(srt, [c for c in CUES if c[3]]):
        assert abs(event.start / 1000 - lo) <= FRAME and abs(event.end / 1000 - hi) <= FRAME


def test_sidecar_files_beside_the_dub_are_carried_when_the_dub_has_no_such_track(tmp_path):
    from syncdub_companion.subtitles.extract import for_merge
    from syncdub_companion.testing import make_services

    folder = tmp_path / "dubs"
    folder.mkdir()
    dub = folder / "Film.English.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=f=440:d=25", "-c:a", "ac3", str(dub)],
                   check=True)
    cues = "".join(f"{n}\n00:00:{10 + n:02d},000 --> 00:00:{11 + n:02d},000\nSign {n}\n\n" for n in range(1, 4))
    for name in ("Film.English.en.forced.srt", "Film.English.de.forced.srt", "Film.English.en.txt",
                 "Other.en.forced.srt", "Film.English.eng.srt"):
        (folder / name).write_text(cues)
    (folder / "Film.English.en.forced.ass").symlink_to(tmp_path / "elsewhere.ass")  # outside the roots
    (tmp_path / "elsewhere.ass").write_text(cues)
    (tmp_path / "svc").mkdir()
    svc = make_services(tmp_path / "svc", {"library": {"roots": [str(tmp_path / "lib")]},
                                           "counterparts": {"dub_roots": {"en": str(folder)}}})
    try:
        tracks, _, notes = for_merge(svc, dub, original_with(None), ENG, same_language, "SYNCDUB_SOURCE", False)
        assert [Path(t.source).name for t in tracks] == ["Film.English.en.forced.srt"] and tracks[0].forced
        carried, notes = carry(svc, dub, tracks, truth_map(), ENG, tmp_path)
        assert carried[0].name == "English forced (synced)" and carried[0].frames == 3
        assert notes[0].startswith("Film.English.en.forced.srt \"English forced (synced)\": 3 cues kept")
    finally:
        svc.store.close()
