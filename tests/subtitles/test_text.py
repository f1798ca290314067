"""SRT, ASS and WebVTT re-timed through pysubs2, and taken by mkvmerge at the right times."""
from __future__ import annotations

import json
import subprocess

import pysubs2
import pytest

from subs_media import CUES, DUB_START, FRAME, ORIG_START, PAL, dub_time, packets, truth_map
from syncdub_companion.errors import MediaError
from syncdub_companion.subtitles.retime import Retimer
from syncdub_companion.subtitles.text import keeps_webvtt, output_suffix, retime_text
from syncdub_companion.testing import make_services

KEPT = [c for c in CUES if c[3] is not None]


def write_cues(path, fmt: str) -> None:
    subs = pysubs2.SSAFile()
    subs.styles["Sign"] = pysubs2.SSAStyle(fontname="Serif", fontsize=31, bold=True)
    for label, start, end, _ in CUES:
        subs.append(pysubs2.SSAEvent(start=round(start * 1000), end=round(end * 1000),
                                     text=f"{{\\an8}}{label}" if fmt == "ass" else label, style="Sign"))
    subs.save(str(path), format_=fmt)


@pytest.mark.parametrize("fmt,ext,out", [("srt", ".srt", "srt"), ("ass", ".ass", "ass"), ("vtt", ".vtt", "srt"),
                                         ("vtt", ".vtt", "vtt")])
def test_text_cues_land_within_a_frame(tmp_path, fmt, ext, out):
    source, target = tmp_path / f"in{ext}", tmp_path / f"out.{out}"
    write_cues(source, fmt)
    report = retime_text(source, target, Retimer(truth_map(), DUB_START, ORIG_START))
    assert (report.kept, report.dropped, report.clipped) == (4, 1, 2)
    got = pysubs2.load(str(target), format_=out)
    assert [e.plaintext for e in got] == [label for label, *_ in KEPT]
    for event, (_, _, _, (lo, hi)) in zip(got, KEPT):
        assert abs(event.start / 1000 - lo) <= FRAME and abs(event.end / 1000 - hi) <= FRAME
    if fmt == "ass":  # styles and override tags go through untouched
        assert got.styles["Sign"].fontname == "Serif" and got.styles["Sign"].bold
        assert all(e.style == "Sign" and e.text.startswith("{\\an8}") for e in got)


def test_mkvmerge_takes_the_retimed_file_at_those_times(tmp_path):
    source, target = tmp_path / "in.ass", tmp_path / "out.ass"
    write_cues(source, "ass")
    retime_text(source, target, Retimer(truth_map(), DUB_START, ORIG_START))
    mkv = tmp_path / "subs.mkv"
    subprocess.run(["mkvmerge", "-q", "-o", str(mkv), "--sub-charset", "0:UTF-8", str(target)], check=True)
    got = packets(mkv)
    assert len(got) == len(KEPT)
    for (pts, duration), (_, _, _, (lo, hi)) in zip(got, KEPT):
        assert abs(pts - lo) <= FRAME and abs(pts + duration - hi) <= FRAME


def test_unreadable_text_is_a_media_error(tmp_path):
    bad = tmp_path / "bad.ass"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(MediaError, match="bad.ass"):
        retime_text(bad, tmp_path / "out.ass", Retimer(truth_map()))


def test_webvtt_goes_back_as_webvtt_only_where_ffprobe_reads_it_in_matroska(tmp_path):
    vtt, mkv = tmp_path / "a.vtt", tmp_path / "a.mkv"
    vtt.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello\n", encoding="utf-8")
    subprocess.run(["mkvmerge", "-q", "-o", str(mkv), str(vtt)], check=True)  # mkvmerge takes WebVTT
    codec = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(mkv)],
                                      capture_output=True, check=True).stdout)["streams"][0].get("codec_name")
    services = make_services(tmp_path, store=False)
    assert keeps_webvtt(services) is (codec == "webvtt")  # ffmpeg 5.1 says "unknown": then SRT
    assert output_suffix(services, ".vtt") == (".vtt" if codec == "webvtt" else ".srt")
    assert output_suffix(services, ".ass") == ".ass" and output_suffix(services, ".srt") == ".srt"


def test_times_inside_ass_override_tags_run_at_the_segments_speed(tmp_path):
    # a karaoke line and a sign with a fade, a move and a transform, both after the PAL logo
    karaoke = "{\\k20}Ka{\\kf30}ra{\\ko10\\K25}o"
    sign = "{\\fad(200,300)\\move(10,20,30,40,0,1000)\\t(100,400,\\frz10)\\t(\\fscx120)}{\\pos(1,2)}Sign"
    fade = "{\\fade(255,0,255,0,500,1500,2000)\\move(1,2,3,4)}Fade"
    subs = pysubs2.SSAFile()
    for n, text in enumerate((karaoke, sign, fade)):
        subs.append(pysubs2.SSAEvent(start=round(dub_time(1.5 + 2 * n) * 1000),
                                     end=round(dub_time(3.0 + 2 * n) * 1000), text=text))
    source, target = tmp_path / "in.ass", tmp_path / "out.ass"
    subs.save(str(source))
    retime_text(source, target, Retimer(truth_map(), DUB_START, ORIG_START))
    got = [e.text for e in pysubs2.load(str(target))]
    scale = 1 / PAL  # 1.0427: the original runs slower than the 25 fps dub
    assert round(85 * scale) == 89
    assert got[0] == "{\\k21}Ka{\\kf31}ra{\\ko11\\K26}o"  # 89 cs in all: the line's syllables end with it
    assert got[1] == ("{\\fad(209,313)\\move(10,20,30,40,0,1043)\\t(104,417,\\frz10)\\t(\\fscx120)}"
                      "{\\pos(1,2)}Sign")
    assert got[2] == "{\\fade(255,0,255,0,521,1564,2085)\\move(1,2,3,4)}Fade"


def test_tags_are_left_alone_where_the_segment_runs_at_the_originals_speed():
    from syncdub_companion.subtitles.ass_tags import scale_tags

    text = "{\\k20\\fad(200,300)}x"
    assert scale_tags(text, 1.0) == text
    assert scale_tags("no {braces} \\k20 outside", 2.0) == "no {braces} \\k20 outside"
