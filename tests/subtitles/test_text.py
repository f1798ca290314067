"""SRT, ASS and WebVTT re-timed through pysubs2, and taken by mkvmerge at the right times."""
from __future__ import annotations

import subprocess

import pysubs2
import pytest

from subs_media import CUES, DUB_START, FRAME, ORIG_START, packets, truth_map
from syncdub_companion.errors import MediaError
from syncdub_companion.subtitles.retime import Retimer
from syncdub_companion.subtitles.text import OUTPUT, retime_text

KEPT = [c for c in CUES if c[3] is not None]


def write_cues(path, fmt: str) -> None:
    subs = pysubs2.SSAFile()
    subs.styles["Sign"] = pysubs2.SSAStyle(fontname="Serif", fontsize=31, bold=True)
    for label, start, end, _ in CUES:
        subs.append(pysubs2.SSAEvent(start=round(start * 1000), end=round(end * 1000),
                                     text=f"{{\\an8}}{label}" if fmt == "ass" else label, style="Sign"))
    subs.save(str(path), format_=fmt)


@pytest.mark.parametrize("fmt,ext,out", [("srt", ".srt", "srt"), ("ass", ".ass", "ass"), ("vtt", ".vtt", "srt")])
def test_text_cues_land_within_a_frame(tmp_path, fmt, ext, out):
    source, target = tmp_path / f"in{ext}", tmp_path / f"out{OUTPUT.get(ext, ext)}"
    write_cues(source, fmt)
    report = retime_text(source, target, Retimer(truth_map(), DUB_START, ORIG_START))
    assert (report.kept, report.dropped, report.clipped) == (4, 1, 2)
    got = pysubs2.load(str(target), format_=out)  # WebVTT comes out as SRT
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
