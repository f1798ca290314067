"""resync end to end on generated MKVs: what is kept, what is added, and that it is in sync."""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from merge_media import SYNC_WINDOWS, offset_dub, pal_dub, stream_md5s, sync_errors
from syncdub_companion.align.timemap import TimeMap
from syncdub_companion.errors import AlignmentRejected
from syncdub_companion.merge import resync


def probe(path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format",
                          "-show_chapters", str(path)], capture_output=True, check=True).stdout
    return json.loads(out)


def described(info: dict) -> list[tuple]:
    """What a player shows of each stream: type, codec, language, title, default, forced."""
    rows = []
    for s in info["streams"]:
        tags, disp = s.get("tags", {}), s.get("disposition", {})
        rows.append((s["codec_type"], s.get("codec_name"), tags.get("language"), tags.get("title"),
                     tags.get("filename"), disp.get("default"), disp.get("forced")))
    return rows


def chapters(info: dict) -> list[tuple]:
    return [(c["start_time"], c.get("tags", {}).get("title")) for c in info["chapters"]]


def chapter_xml(path) -> str:
    """The stored chapters, UIDs included, as mkvextract writes them."""
    return subprocess.run(["mkvextract", str(path), "chapters", "-"], capture_output=True, check=True).stdout.decode()


def attachment(path, tmp_path) -> bytes:
    out = tmp_path / "attachment.bin"
    subprocess.run(["mkvextract", str(path), "attachments", f"1:{out}"], capture_output=True, check=True)
    return out.read_bytes()


def synced_streams(info: dict) -> list[dict]:
    return [s for s in info["streams"] if "SYNCDUB_SOURCE" in s.get("tags", {})]


def test_pure_offset_keeps_every_stream_and_applies_the_delay(library, make_svc, generated, offset_case, tmp_path):
    dub, truth = offset_case
    before = probe(library.film)
    stages = []
    result = resync(make_svc(), str(library.film), str(dub), language=None, timemap=truth,
                    progress=lambda pct, stage: stages.append((pct, stage)))
    assert result.status == "done" and result.output_path == str(library.film)
    assert result.plan.codec == "copy"
    after = probe(library.film)
    # every original stream bit-identical, and the new one appended after the last track
    assert stream_md5s(library.film)[:4] == generated.md5s[:4]
    assert described(after)[:4] == described(before)[:4]
    assert described(after)[5] == described(before)[4]  # the attachment, after the new track
    assert chapters(after) == chapters(before) and len(chapters(after)) == 2
    assert chapter_xml(library.film) == chapter_xml(generated.original.path)
    assert after["format"]["tags"]["DIRECTOR"] == "A. Person" and after["format"]["tags"]["title"] == "Film"
    assert attachment(library.film, tmp_path) == attachment(generated.original.path, tmp_path)
    new = after["streams"][4]
    assert (new["codec_name"], new["tags"]["language"], new["tags"]["title"]) == ("ac3", "ger", "Deutsch (SyncDub)")
    assert new["disposition"]["default"] == 0
    assert new["tags"]["SYNCDUB_SOURCE"].startswith("Film.German.mkv sha256:")
    assert float(new["tags"]["SYNCDUB_CONFIDENCE"]) == pytest.approx(0.93)
    # the dub's extra head and tail were cut to the film
    assert float(after["format"]["duration"]) == pytest.approx(float(before["format"]["duration"]), abs=0.1)
    errors = sync_errors(library.film, 1, 4)
    assert len(errors) > 15 and errors.max() < 0.002
    assert [s for _, s in stages][0] == "aligning" and stages[-1] == (100.0, "publishing")
    assert {s for _, s in stages} == {"aligning", "muxing", "publishing"}
    assert [p for p, _ in stages] == sorted(p for p, _ in stages)


@pytest.mark.parametrize("offset,codec", [(-1.5, "ac3"), (0.8, "libopus")])
def test_pure_offset_other_directions_and_codecs(library, make_svc, generated, dubs_dir, offset, codec):
    """A dub that starts late (mkvmerge delays it) and an Opus dub (its pre-skip counts)."""
    dub, truth = offset_dub(dubs_dir, generated.original, offset, codec=codec)
    result = resync(make_svc(), str(library.film), str(dub), language="de", timemap=truth)
    assert result.plan.codec == "copy"
    errors = sync_errors(library.film, 1, 4)
    assert len(errors) > 12 and errors.max() < 0.002


def test_pal_speedup_with_cut_and_insert_comes_out_in_sync(library, make_svc, pal_case):
    dub, truth = pal_case
    result = resync(make_svc(), str(library.film), str(dub), language="de", timemap=truth)
    assert result.plan.codec == "ac3" and result.plan.bitrate == 192000
    errors = sync_errors(library.film, 1, 4, SYNC_WINDOWS)
    assert len(errors) >= 14
    assert np.percentile(errors, 95) < 0.040
    assert errors.max() < 0.005  # measured: ~0.02 ms; a wrong priming compensation shows as 5.3 ms


@pytest.mark.parametrize("dub_codec,channels,setting,expected", [
    ("aac", 6, "auto", ("opus", 6)),
    ("eac3", 2, "auto", ("eac3", 2)),
    ("ac3", 2, "flac", ("flac", 2)),
])
def test_rendered_codecs_stay_in_sync(library, make_svc, generated, dubs_dir, dub_codec, channels, setting, expected):
    dub, truth = pal_dub(dubs_dir, generated.original, codec=dub_codec, channels=channels, name=f"d.{dub_codec}.mkv")
    result = resync(make_svc(codec=setting), str(library.film), str(dub), language="fr", timemap=truth)
    new = synced_streams(probe(library.film))[0]
    assert (new["codec_name"], new["channels"]) == expected
    assert new["tags"]["language"] == "fre" and new["tags"]["title"] == "Français (SyncDub)"
    assert result.verification["streams"] == 6
    errors = sync_errors(library.film, 1, new["index"], SYNC_WINDOWS)
    assert np.percentile(errors, 95) < 0.040 and errors.max() < 0.005


def test_rerun_is_skipped_and_force_replaces_the_synced_track(library, make_svc, offset_case, pal_case):
    svc = make_svc()
    dub, truth = offset_case
    resync(svc, str(library.film), str(dub), language=None, timemap=truth)
    first = library.film.read_bytes()
    again = resync(svc, str(library.film), str(dub), language="deu", timemap=truth)
    assert again.status == "skipped" and "--force" in again.message
    assert library.film.read_bytes() == first
    pal, pal_truth = pal_case
    forced = resync(svc, str(library.film), str(pal), language="ger", timemap=pal_truth, force=True)
    assert forced.status == "done" and forced.plan.action == "replace"
    info = probe(library.film)
    assert len(info["streams"]) == 6  # replaced, not added
    assert [s["tags"]["SYNCDUB_SOURCE"].split()[0] for s in synced_streams(info)] == ["Film.PAL.mkv"]


def test_a_second_language_is_added_beside_the_first(library, make_svc, offset_case, pal_case):
    svc = make_svc()
    resync(svc, str(library.film), str(offset_case[0]), language=None, timemap=offset_case[1])
    resync(svc, str(library.film), str(pal_case[0]), language="es", timemap=pal_case[1])
    langs = [s["tags"]["language"] for s in synced_streams(probe(library.film))]
    assert langs == ["ger", "spa"]


def test_default_track_policy_dub_moves_the_default_flag(library, make_svc, offset_case):
    dub, truth = offset_case
    resync(make_svc(default_track="dub"), str(library.film), str(dub), language=None, timemap=truth)
    audio = [s for s in probe(library.film)["streams"] if s["codec_type"] == "audio"]
    assert [s["disposition"]["default"] for s in audio] == [0, 0, 1]


def test_dry_run_plans_and_writes_nothing(library, make_svc, pal_case):
    before = sorted(p.name for p in library.film.parent.iterdir())
    data = library.film.read_bytes()
    result = resync(make_svc(), str(library.film), str(pal_case[0]), language=None, timemap=pal_case[1],
                    dry_run=True)
    assert result.status == "planned"
    text = "\n".join(result.plan.describe())
    assert "2 segment(s)" in text and "ac3 192 kb/s" in text and "needs" in text
    assert result.to_dict()["plan"]["space_needed"] > len(data)
    assert sorted(p.name for p in library.film.parent.iterdir()) == before
    assert library.film.read_bytes() == data


def test_a_rejected_map_raises_and_leaves_the_original(library, make_svc, pal_case):
    data = library.film.read_bytes()
    rejected = TimeMap("rejected", 0.1, "not the same film", 1.0, [])
    with pytest.raises(AlignmentRejected, match="not the same film"):
        resync(make_svc(), str(library.film), str(pal_case[0]), language=None, timemap=rejected)
    assert library.film.read_bytes() == data


def test_without_a_map_the_align_hook_is_asked(library, make_svc, offset_case):
    dub, truth = offset_case
    svc = make_svc()
    calls = []

    class Aligner:
        from syncdub_companion import hookimpl

        @hookimpl(tryfirst=True)
        def syncdub_align(self, original, dubbed, options):
            calls.append((original, dubbed, options))
            return truth

    svc.pm.register(Aligner(), name="test-aligner")
    result = resync(svc, str(library.film), str(dub), language=None)
    assert result.status == "done" and result.timemap is truth
    (original, dubbed, options), = calls
    assert (original, dubbed) == (str(library.film), str(dub))
    assert options["orig_track"] == 0 and options["dub_track"] == 0 and "min_confidence" in options

