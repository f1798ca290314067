"""The in-kernel splice: the same file mkvmerge would make, laid out so players find the dub."""
from __future__ import annotations

import errno
import os
import shutil
import subprocess

import numpy as np
import pytest

from merge_media import SR, run, stream_md5s, windowed_lags
from syncdub_companion.merge import resync
from syncdub_companion.merge import ebml as E
from syncdub_companion.merge.splice import NewTrack, SpliceUnsupported, splice_track
from syncdub_companion.merge.splice.kernelcopy import KernelCopy
from test_resync import chapter_xml, described, probe

STATISTICS = ("_STATISTICS_WRITING_APP", "_STATISTICS_WRITING_DATE_UTC", "DURATION")


def merged_with(muxer: str, library, make_svc, case, **settings):
    film = library.film.with_name(f"{muxer}.mkv")
    shutil.copyfile(library.film, film)
    result = resync(make_svc(muxer=muxer, **settings), str(film), str(case[0]), language=None, timemap=case[1])
    assert result.verification["muxer"] == ("splice" if muxer == "auto" else "mkvmerge")
    return film


def stream_tags(info: dict) -> list[dict]:
    return [{k: v for k, v in s.get("tags", {}).items() if k not in STATISTICS} for s in info["streams"]]


def seconds(duration: str) -> float:
    h, m, s = duration.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def top_level(path) -> tuple[int, list[E.Element]]:
    """The segment's data offset and its level-1 elements."""
    with open(path, "rb") as fh:
        size = fh.seek(0, 2)
        header = E.header_at(fh, 0)
        segment = E.header_at(fh, header.end)
        return segment.data, list(E.children_in_file(fh, segment, size))


def cluster_info(path, cluster: E.Element) -> tuple[int, set[int]]:
    """A cluster's timestamp and the track numbers of its blocks."""
    with open(path, "rb") as fh:
        fh.seek(cluster.data)
        kids = E.children(fh.read(cluster.size))
    timestamp = next(E.read_uint(v) for k, v in kids if k == E.TIMESTAMP)
    tracks = {E.read_vint(v, 0)[0] for k, v in kids if k == E.SIMPLE_BLOCK}
    tracks |= {E.read_vint(b, 0)[0] for k, v in kids if k == E.BLOCK_GROUP for kk, b in E.children(v) if kk == E.BLOCK}
    return timestamp, tracks


@pytest.mark.parametrize("case", ["offset_case", "pal_case"])
def test_the_splice_makes_what_mkvmerge_makes(library, make_svc, generated, request, case):
    """A stream-copied dub (pure offset) and a rendered one (PAL with cuts) alike."""
    spliced = merged_with("auto", library, make_svc, request.getfixturevalue(case))
    muxed = merged_with("mkvmerge", library, make_svc, request.getfixturevalue(case))
    # the same packets in every stream, the new one included, and the originals' untouched
    assert stream_md5s(spliced) == stream_md5s(muxed)
    assert stream_md5s(spliced)[:4] == generated.md5s[:4]
    a, b = probe(spliced), probe(muxed)
    assert described(a) == described(b)
    assert stream_tags(a) == stream_tags(b)
    # the track file's own statistics: its DURATION was counted on its finer timestamp scale
    assert seconds(a["streams"][4]["tags"]["DURATION"]) == pytest.approx(seconds(b["streams"][4]["tags"]["DURATION"]),
                                                                         abs=0.001)
    assert chapter_xml(spliced) == chapter_xml(muxed) == chapter_xml(generated.original.path)
    made = "creation_time"  # the moment each file was written
    assert {k: v for k, v in a["format"]["tags"].items() if k != made} == \
        {k: v for k, v in b["format"]["tags"].items() if k != made}
    # the splice keeps the film's duration; mkvmerge adds the last dub frame's overhang (< 1 frame)
    assert float(a["format"]["duration"]) == pytest.approx(float(b["format"]["duration"]), abs=0.035)
    # mkvmerge itself reads the spliced file back without complaint
    identified = run("mkvmerge", "-J", spliced).stdout
    assert b'"errors": []' in identified and b'"warnings": []' in identified


def test_each_dub_cluster_follows_the_original_cluster_it_plays_with(library, make_svc, offset_case):
    spliced = merged_with("auto", library, make_svc, offset_case)
    _, elements = top_level(spliced)
    clusters = [cluster_info(spliced, e) for e in elements if e.id == E.CLUSTER]
    originals = [ts for ts, tracks in clusters if tracks != {5}]
    assert any(tracks == {5} for _, tracks in clusters), "the dub sits in clusters of its own"
    assert all(5 not in tracks for ts, tracks in clusters if tracks != {5})
    last_original = None
    for ts, tracks in clusters:
        if tracks == {5}:
            # it starts at most one laced block (8 AC3 frames, 256 ms) before the cluster it follows
            assert last_original is not None and ts > last_original - 300
            later = [o for o in originals if o > last_original]
            assert not later or ts < later[0], "a dub cluster belongs before the next original cluster"
        else:
            last_original = ts


def test_the_cues_point_at_clusters_and_seeking_finds_the_dub_in_sync(library, make_svc, offset_case):
    spliced = merged_with("auto", library, make_svc, offset_case)
    data, elements = top_level(spliced)
    starts = {e.start - data for e in elements if e.id == E.CLUSTER}
    cues = next(e for e in elements if e.id == E.CUES)
    with open(spliced, "rb") as fh:
        fh.seek(cues.data)
        points = E.children(fh.read(cues.size))
    positions = [E.read_uint(v) for _, p in points for k, tp in E.children(p) if k == E.CUE_TRACK_POSITIONS
                 for kk, v in E.children(tp) if kk == E.CUE_CLUSTER_POSITION]
    assert positions and set(positions) <= starts
    # a player seeking into the film plays both tracks in step from there on; ffmpeg drops a
    # laced block that began before the seek point, so the dub may start up to one block later
    for seek in (7.3, 12.0, 17.9):
        original, dub = _decode_from(spliced, seek, 1), _decode_from(spliced, seek, 4)
        assert np.abs(dub[: int(0.3 * SR)]).max() > 0 or np.abs(dub[int(0.3 * SR): int(0.6 * SR)]).max() > 0.05
        lags = windowed_lags(original[int(0.5 * SR):], dub[int(0.5 * SR):], max_lag=0.2)
        assert len(lags) >= 3 and np.abs(lags).max() < 0.002, (seek, lags)


def _decode_from(path, seek: float, stream=None) -> np.ndarray:
    """Samples from ``seek`` on, placed by their timestamps (a gap decodes as silence)."""
    out = run("ffmpeg", "-nostdin", "-v", "error", "-ss", seek, "-t", 5, "-i", path, "-map", f"0:{stream}",
              "-af", "aresample=async=1:first_pts=0", "-ac", "1", "-ar", SR, "-f", "f32le", "pipe:1").stdout
    return np.frombuffer(out, np.float32)


def test_default_policy_dub_is_applied_by_the_splice(library, make_svc, offset_case):
    info = probe(merged_with("auto", library, make_svc, offset_case, default_track="dub"))
    defaults = [s["disposition"]["default"] for s in info["streams"] if s["codec_type"] == "audio"]
    assert defaults == [0, 0, 1]


def test_an_original_it_cannot_splice_falls_back_to_mkvmerge(library, make_svc, offset_case, tmp_path):
    # written to a pipe, ffmpeg cannot go back to fill in sizes: the segment's size stays unknown
    live = library.film.with_name("live.mkv")
    with open(live, "wb") as fh:
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(library.film), "-map", "0:v", "-map", "0:a:0",
                        "-c", "copy", "-f", "matroska", "pipe:1"], stdout=fh, check=True)
    track = NewTrack("ger", "de", "Deutsch", False, False, {})
    out = tmp_path / "never.mkv"
    with pytest.raises(SpliceUnsupported, match="unknown size|live"):
        splice_track(live, live, out, track)
    chained = tmp_path / "chained.mkv"  # two segments, one after the other
    chained.write_bytes(library.film.read_bytes() * 2)
    with pytest.raises(SpliceUnsupported, match="more than one segment"):
        splice_track(chained, live, out, track)
    assert not out.exists()
    result = resync(make_svc(), str(live), str(offset_case[0]), language=None, timemap=offset_case[1])
    assert result.status == "done" and result.verification["muxer"] == "mkvmerge"
    assert len(probe(live)["streams"]) == 3


def test_replacing_a_synced_track_goes_through_mkvmerge(library, make_svc, offset_case):
    svc = make_svc()
    first = resync(svc, str(library.film), str(offset_case[0]), language=None, timemap=offset_case[1])
    again = resync(svc, str(library.film), str(offset_case[0]), language=None, timemap=offset_case[1], force=True)
    assert (first.verification["muxer"], again.verification["muxer"]) == ("splice", "mkvmerge")
    assert len(probe(library.film)["streams"]) == 6


@pytest.mark.parametrize("unsupported", [(), ("copy_file_range",), ("copy_file_range", "sendfile")])
def test_the_kernel_copy_falls_back_where_a_filesystem_lacks_a_way(tmp_path, monkeypatch, unsupported):
    def cross_device(*args):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    for name in unsupported:  # as between two filesystems, or on one without splice support
        monkeypatch.setattr(os, name, cross_device)
    data = os.urandom(3 << 20)
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.write_bytes(data)
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        fo.write(b"head")
        fo.flush()
        copier = KernelCopy(fi.fileno(), fo.fileno())
        copier.copy(100, 2 << 20)
        copier.copy(5, 10)
    assert dst.read_bytes() == b"head" + data[100:100 + (2 << 20)] + data[5:15]
    assert len(copier.methods) == 3 - len(unsupported)


def test_an_ffmpeg_written_original_with_crcs_is_spliced_too(library, make_svc, offset_case):
    """libavformat (ffmpeg, HandBrake) writes a CRC-32 into every top-level element, clusters included."""
    remuxed = library.film.with_name("ffmpeg.mkv")
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(library.film), "-map", "0", "-c", "copy", str(remuxed)],
                   check=True)
    _, elements = top_level(remuxed)
    with open(remuxed, "rb") as fh:
        firsts = {e.id: E.header_at(fh, e.data).id for e in elements if e.id != E.VOID}
    assert firsts[E.CLUSTER] == firsts[E.TRACKS] == firsts[E.CUES] == E.CRC32
    before = stream_md5s(remuxed)
    result = resync(make_svc(), str(remuxed), str(offset_case[0]), language=None, timemap=offset_case[1])
    assert result.verification["muxer"] == "splice"
    assert stream_md5s(remuxed)[:len(before)] == before and len(stream_md5s(remuxed)) == len(before) + 1
    assert b'"errors": []' in run("mkvmerge", "-J", remuxed).stdout


def _one_track_file(path, entry: bytes, block_track: int) -> None:
    """A minimal Matroska file: one TrackEntry and one cluster holding one block."""
    block = E.encode_size(block_track) + E.pack_int16(0) + b"\x80" + b"\x0b\x77" + bytes(100)
    segment = (E.element(E.INFO, E.uint(E.TIMESTAMP_SCALE, 1_000_000))
               + E.element(E.TRACKS, E.element(E.TRACK_ENTRY, entry))
               + E.element(E.CLUSTER, E.uint(E.TIMESTAMP, 0) + E.element(E.SIMPLE_BLOCK, block)))
    path.write_bytes(E.element(E.EBML_HEADER, E.string(0x4282, "matroska")) + E.element(E.SEGMENT, segment))


def test_a_track_file_it_cannot_read_is_left_to_mkvmerge(library, tmp_path):
    track = NewTrack("ger", None, "Deutsch", False, False, {})
    audio = E.uint(E.TRACK_TYPE, E.TRACK_TYPE_AUDIO) + E.string(0x86, "A_AC3")
    numberless, stray = tmp_path / "numberless.mka", tmp_path / "stray.mka"
    _one_track_file(numberless, audio, block_track=1)
    _one_track_file(stray, E.uint(E.TRACK_NUMBER, 1) + audio, block_track=2)  # its block names track 2
    with pytest.raises(SpliceUnsupported, match="no track number"):
        splice_track(library.film, numberless, tmp_path / "a.mkv", track)
    with pytest.raises(SpliceUnsupported, match="stray.mka: a block of track 2"):
        splice_track(library.film, stray, tmp_path / "b.mkv", track)
