"""PGS: the segment reader/writer and run-length coder, re-timing by display set, and
that mkvmerge, ffprobe and ffmpeg take what the writer wrote."""
from __future__ import annotations

import subprocess

import pytest

from subs_media import CUES, DUB_START, FRAME, ORIG_START, bitmap, packets, pgs_cues, truth_map
from syncdub_companion.errors import MediaError
from syncdub_companion.subtitles.pgs import (CLOCK, EPOCH_START, NORMAL, decode_rle, encode_rle, object_bitmap,
                                             object_segments, read_display_sets, write_display_sets)
from syncdub_companion.subtitles.pgs_retime import retime_pgs, screens
from syncdub_companion.subtitles.retime import Retimer

KEPT = [(n, c) for n, c in enumerate(CUES) if c[3] is not None]


def test_rle_round_trip_with_every_run_kind():
    rows = [[0] * 700 + [5] * 2 + [0] * 3 + [7] * 40 + [9] * 300 + [1]]
    rows.append(list(range(1, 200)) + [0] * 847)
    assert decode_rle(encode_rle(rows), 1046, 2) == rows


def test_a_large_object_splits_over_segments_and_reads_back():
    rows = [[(x * 7 + y) % 3 + 1 for x in range(300)] for y in range(200)]
    segs = object_segments(3, rows, 90000, chunk=4000)
    assert len(segs) > 2 and segs[0].data[3] == 0x80 and segs[-1].data[3] == 0x40
    assert object_bitmap(segs) == rows


def test_broken_stream_is_a_media_error():
    data = write_display_sets(pgs_cues())
    with pytest.raises(MediaError, match="not a .sup"):
        read_display_sets(b"XX" + data[2:])
    with pytest.raises(MediaError, match="past the end"):
        read_display_sets(data[:-16])  # the last WDS (10 bytes) loses 3, END (13) goes


@pytest.fixture(scope="module")
def retimed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pgs")
    source, target = folder / "dub.sup", folder / "synced.sup"
    source.write_bytes(write_display_sets(pgs_cues()))
    report = retime_pgs(source, target, Retimer(truth_map(), DUB_START, ORIG_START))
    return folder, target, report


def test_display_sets_land_within_a_frame_with_their_bitmaps(retimed):
    _, target, report = retimed
    assert (report.kept, report.dropped, report.clipped) == (4, 1, 2)
    sets = read_display_sets(target.read_bytes())
    shown = [s for s in screens(sets) if s.visible]
    # the cue across the cut is two screens (its fade step), each self-contained
    assert [next(iter(s.objects)) for s in shown] == [1, 2, 3, 3, 4]
    assert all(ds.composition.state == EPOCH_START for ds in sets if ds.composition.objects)
    assert all(ds.composition.state == NORMAL for ds in sets if not ds.composition.objects)
    for n, (_, _, _, (lo, hi)) in KEPT:
        first = next(s for s in shown if n in s.objects)
        last = [s for s in shown if n in s.objects][-1]
        assert abs(first.start - lo) <= FRAME and abs(last.end - hi) <= FRAME
        assert object_bitmap(first.objects[n]) == bitmap(n)
    fade = [s for s in shown if 3 in s.objects]
    assert fade[0].palette != fade[1].palette  # the palette step survived the cut


def test_mkvmerge_takes_the_sup_and_ffmpeg_decodes_it(retimed):
    folder, target, _ = retimed
    mkv = folder / "pgs.mkv"
    subprocess.run(["mkvmerge", "-q", "-o", str(mkv), str(target)], check=True)
    got = [pts for pts, _ in packets(mkv)]
    written = [ds.pts / CLOCK for ds in read_display_sets(target.read_bytes())]
    assert len(got) == len(written) and max(abs(a - b) for a, b in zip(got, written)) <= 0.001
    for path in (target, mkv):
        proc = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "frame=pts_time:subtitle=num_rects",
                               "-of", "csv=p=0", str(path)], capture_output=True, text=True)
        assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr
        rects = [line for line in proc.stdout.split() if line]
        assert len(rects) == len(written)
    proc = subprocess.run(["ffmpeg", "-v", "error", "-i", str(mkv), "-map", "0", "-c:s", "dvdsub", "-f", "null", "-"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr
