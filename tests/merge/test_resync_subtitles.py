"""The dub release's own subtitle track arrives in the merged file, re-timed by the map.

A PAL dub (speed 25/23.976) with the original's 10-13 s cut out and a 2 s scene of its own
inserted, and an English forced SRT timed to the dub; the merge must place every cue
where the true map puts it, drop the one inside the inserted scene and clip the one
across the cut.
"""
from __future__ import annotations

import json
import subprocess

import pytest

from merge_media import PAL, pal_dub, run
from syncdub_companion.merge import resync

TOLERANCE = 0.060  # the bar; a frame at 25 fps is 40 ms


def srt_time(t: float) -> str:
    ms = round(t * 1000)
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def dub_at(truth, bed: float) -> float:
    """The dub's decoded time of original bed time ``bed`` (pal_dub's construction)."""
    first, second = truth.segments
    if bed <= 10.0:
        return first.dub_start + bed * PAL
    return second.dub_start + (bed - 13.0) * PAL


@pytest.fixture
def english_release(dubs_dir, generated):
    """pal_dub's English audio plus an English forced SRT (unnamed) and a full one, timed to the dub."""
    audio, truth = pal_dub(dubs_dir, generated.original, language="eng", name="audio.mkv")
    insert = truth.segments[0].dub_end  # the dub's own 2 s scene starts here
    cues = [  # (dub decoded start, end, original bed start, end or None when dropped)
        (dub_at(truth, 2.0), dub_at(truth, 4.0), (2.0, 4.0)),
        (insert + 0.5, insert + 1.5, None),
        (dub_at(truth, 9.0), dub_at(truth, 14.5), (13.0, 14.5)),  # across the cut: the longer side
        (dub_at(truth, 16.0), dub_at(truth, 18.5), (16.0, 18.5)),
    ]
    dub_t0 = float(run("ffprobe", "-v", "error", "-show_entries", "stream=start_time", "-of", "csv=p=0",
                       audio).stdout.split()[0])
    forced = dubs_dir / "forced.srt"
    forced.write_text("".join(f"{n}\n{srt_time(dub_t0 + a)} --> {srt_time(dub_t0 + b)}\nSign {n}\n\n"
                              for n, (a, b, _) in enumerate(cues, 1)))
    full = dubs_dir / "full.srt"
    full.write_text(f"1\n{srt_time(dub_t0 + 3.0)} --> {srt_time(dub_t0 + 5.0)}\nDialogue\n\n")
    path = dubs_dir / "Film.English.mkv"
    run("mkvmerge", "-q", "-o", path, audio, "--language", "0:eng", "--forced-display-flag", "0:1", forced,
        "--language", "0:eng", full)
    return path, truth, cues


def streams(path) -> list[dict]:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", str(path)],
                         capture_output=True, check=True).stdout
    return json.loads(out)["streams"]


def packets(path, index: int) -> list[tuple[float, float]]:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", str(index), "-show_entries",
                          "packet=pts_time,duration_time", "-of", "csv=p=0", str(path)],
                         capture_output=True, check=True, text=True).stdout
    return [tuple(map(float, line.split(",")[:2])) for line in out.split()]


def test_the_forced_track_arrives_synced_named_and_flagged(library, make_svc, english_release):
    dub, truth, cues = english_release
    # the library file has an English forced track of its own: by default nothing is duplicated
    planned = resync(make_svc(), str(library.film), str(dub), language=None, timemap=truth, dry_run=True)
    assert planned.plan.subtitles == []
    assert any("already has a forced eng subtitle track" in n for n in planned.plan.notes)

    result = resync(make_svc(subtitles_duplicate=True), str(library.film), str(dub), language=None, timemap=truth)
    assert result.status == "done" and result.verification["muxer"] == "mkvmerge"
    assert [t.index for t in result.plan.subtitles] == [1]  # the forced one only ("forced" policy)
    assert any("3 cues kept (1 clipped at a cut), 1 dropped" in n for n in result.plan.notes)
    after = streams(library.film)
    subs = [s for s in after if s["codec_type"] == "subtitle"]
    assert len(subs) == 2  # the library's own, and the synced one
    new = subs[1]
    assert new["index"] == result.verification["subtitle_streams"][0]
    assert (new["tags"]["language"], new["tags"]["title"], new["disposition"]["forced"]) == \
        ("eng", "English forced (synced)", 1)
    assert new["tags"]["SYNCDUB_SOURCE"].startswith("Film.English.mkv sha256:")
    orig_t0 = result.plan.orig_start
    kept = [want for _, _, want in cues if want is not None]
    got = packets(library.film, new["index"])
    assert len(got) == len(kept)
    po = truth.segments[0].orig_start  # the original track's decoded time of bed time 0
    errors = []
    for (pts, duration), (lo, hi) in zip(got, kept):
        errors += [pts - (orig_t0 + po + lo), pts + duration - (orig_t0 + po + hi)]
    print("subtitle cue errors (ms):", [round(e * 1000, 1) for e in errors])
    for (pts, duration), (lo, hi) in zip(got, kept):
        assert abs(pts - (orig_t0 + po + lo)) <= TOLERANCE
        assert abs(pts + duration - (orig_t0 + po + hi)) <= TOLERANCE


def test_force_replaces_the_synced_subtitles_with_the_track(library, make_svc, english_release):
    dub, truth, _ = english_release
    svc = make_svc(subtitles_duplicate=True, subtitles="all")
    first = resync(svc, str(library.film), str(dub), language=None, timemap=truth)
    assert len(first.verification["subtitle_streams"]) == 2  # forced and full
    again = resync(svc, str(library.film), str(dub), language=None, timemap=truth, force=True)
    assert again.status == "done" and again.plan.replace_subtitle_tids == first.verification["subtitle_streams"]
    titles = [s["tags"].get("title") for s in streams(library.film) if s["codec_type"] == "subtitle"]
    assert titles == ["Forced", "English forced (synced)", "English (synced)"]
