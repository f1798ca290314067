"""VobSub: each subpicture's start moved in the .idx and its length in the .sub's stop
command; mkvmerge takes the pair back and reads the same times."""
from __future__ import annotations

import subprocess

import pytest

from subs_media import CUES, DUB_START, FRAME, ORIG_START, dub_time, orig_time, packets, pgs_cues, truth_map
from syncdub_companion.subtitles.pgs import write_display_sets
from syncdub_companion.subtitles.retime import Retimer
from syncdub_companion.subtitles.vobsub import TICK, subpictures, retime_vobsub

# ffmpeg's dvdsub encoder makes one subpicture per shown PGS screen; the cue across the cut
# is two (its fade step at 13.5). Their true ends, in dub seconds:
ENDS = [CUES[0][2], CUES[1][2], CUES[2][2], dub_time(13.5), CUES[3][2], CUES[4][2]]
# Each subpicture on its own: the first in the logo goes, the one across the cut keeps its
# longer side (9.2-10 before the cut, not 13-13.5 after it).
EXPECTED = [None, (0.0, 1.0), (1.5, 3.5), (9.2, 10.0), (13.5, 14.0), (18.0, 20.0)]


@pytest.fixture(scope="module")
def vobsub(tmp_path_factory):
    """A real VobSub track (ffmpeg's dvdsub encoder over the PGS cues) as mkvextract writes it,
    with each subpicture's stop command set to its cue's end (ffmpeg leaves them open)."""
    folder = tmp_path_factory.mktemp("vobsub")
    (folder / "cues.sup").write_bytes(write_display_sets(pgs_cues()))
    subprocess.run(["ffmpeg", "-v", "error", "-copyts", "-i", str(folder / "cues.sup"), "-c:s", "dvdsub",
                    str(folder / "dub.mkv")], check=True)
    subprocess.run(["mkvextract", str(folder / "dub.mkv"), "tracks", f"0:{folder / 'dub.idx'}"],
                   check=True, capture_output=True)
    sub = bytearray((folder / "dub.sub").read_bytes())
    pics = subpictures((folder / "dub.idx").read_text(), bytes(sub))
    assert len(pics) == len(ENDS) and all(p.stop_ticks == 0xFFFF for p in pics)
    for pic, end in zip(pics, ENDS):
        ticks = pic.show_ticks + round((end - pic.start) / TICK)
        sub[pic.stop_at[0]], sub[pic.stop_at[1]] = ticks >> 8, ticks & 0xFF
    (folder / "dub.sub").write_bytes(bytes(sub))
    return folder


def test_subpictures_land_within_a_frame(vobsub, tmp_path):
    target = tmp_path / "synced.idx"
    report = retime_vobsub(vobsub / "dub.idx", target, Retimer(truth_map(), DUB_START, ORIG_START))
    assert (report.kept, report.dropped, report.clipped) == (5, 1, 2)
    kept = [(orig_time(lo), orig_time(hi)) for lo, hi in filter(None, EXPECTED)]
    got = [(p.start, p.start + (p.stop_ticks - p.show_ticks) * TICK)
           for p in subpictures(target.read_text(), (tmp_path / "synced.sub").read_bytes())]
    assert len(got) == len(kept)
    for (start, end), (lo, hi) in zip(got, kept):
        assert abs(start - lo) <= FRAME and abs(end - hi) <= FRAME
    # mkvmerge reads the pair back with the same starts and lengths
    mkv = tmp_path / "back.mkv"
    subprocess.run(["mkvmerge", "-q", "-o", str(mkv), str(target)], check=True)
    muxed = packets(mkv)
    assert len(muxed) == len(kept)
    for (pts, duration), (lo, hi) in zip(muxed, kept):
        assert abs(pts - lo) <= FRAME and abs(pts + duration - hi) <= FRAME
    proc = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "frame=pts_time", "-of", "csv=p=0", str(mkv)],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and not proc.stderr.strip() and len(proc.stdout.splitlines()) == len(kept)
    assert (tmp_path / "synced.sub").stat().st_size == (vobsub / "dub.sub").stat().st_size


def test_a_vobsub_track_comes_out_of_the_dub_through_mkvextract(vobsub, services, tmp_path):
    from syncdub_companion.subtitles.extract import SubtitleTrack, extract

    track = SubtitleTrack(0, "dvd_subtitle", "eng", True, False, None)
    out = extract(services, vobsub / "dub.mkv", [track], lambda t: tmp_path / f"dub{t.index}.idx")
    assert out == {0: tmp_path / "dub0.idx"}
    assert len(subpictures(out[0].read_text(), (tmp_path / "dub0.sub").read_bytes())) == len(ENDS)
