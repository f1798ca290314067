"""VobSub: each subpicture's start moved through the .idx; mkvmerge takes the pair back."""
from __future__ import annotations

import subprocess

import pytest

from subs_media import DUB_START, FRAME, ORIG_START, dub_time, orig_time, packets, pgs_cues, truth_map
from syncdub_companion.subtitles.pgs import write_display_sets
from syncdub_companion.subtitles.retime import Retimer
from syncdub_companion.subtitles.vobsub import LINE_RE, parse_time, retime_vobsub


@pytest.fixture(scope="module")
def vobsub(tmp_path_factory):
    """A real VobSub track (ffmpeg's dvdsub encoder over the PGS cues), as mkvextract writes it."""
    folder = tmp_path_factory.mktemp("vobsub")
    (folder / "cues.sup").write_bytes(write_display_sets(pgs_cues()))
    subprocess.run(["ffmpeg", "-v", "error", "-copyts", "-i", str(folder / "cues.sup"), "-c:s", "dvdsub",
                    str(folder / "dub.mkv")], check=True)
    subprocess.run(["mkvextract", str(folder / "dub.mkv"), "tracks", f"0:{folder / 'dub.idx'}"],
                   check=True, capture_output=True)
    return folder


def starts(idx) -> list[float]:
    return [parse_time(m) for line in idx.read_text().splitlines() if (m := LINE_RE.match(line))]


def test_starts_move_by_the_map_and_mkvmerge_takes_the_pair(vobsub, tmp_path):
    target = tmp_path / "synced.idx"
    report = retime_vobsub(vobsub / "dub.idx", target, Retimer(truth_map(), DUB_START, ORIG_START))
    # starts in the logo go (the one just before its end too: a subpicture is judged by its start)
    assert (report.kept, report.dropped) == (4, 2)
    expected = [orig_time(t) for t in (1.5, 9.2, 13.5, 18.0)]
    assert starts(vobsub / "dub.idx")[2] == pytest.approx(dub_time(1.5), abs=0.001)
    got = starts(target)
    assert len(got) == 4 and max(abs(a - b) for a, b in zip(got, expected)) <= FRAME
    assert (tmp_path / "synced.sub").read_bytes() == (vobsub / "dub.sub").read_bytes()
    mkv = tmp_path / "back.mkv"
    subprocess.run(["mkvmerge", "-q", "-o", str(mkv), str(target)], check=True)
    assert [round(p, 3) for p, _ in packets(mkv)] == [round(t, 3) for t in got]
