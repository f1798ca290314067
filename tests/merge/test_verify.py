"""Verification rejects merged files that are not the original plus one good track."""
from __future__ import annotations

import shutil

import pytest

from syncdub_companion.errors import VerificationError
from syncdub_companion.merge.cleanup import TempSet, journal_dir
from syncdub_companion.merge.mkv import write_merged
from syncdub_companion.merge.plan import finalize, prepare
from syncdub_companion.merge.render import prepare_dub
from syncdub_companion.merge.verify import StreamCheck, verify


@pytest.fixture
def merged(make_svc, library):
    """Build a merged temp file with the real steps; yields (services, plan, temp, dub, temps)."""
    def build(case):
        svc = make_svc()
        dub_path, truth = case
        plan = finalize(prepare(svc, str(library.film), str(dub_path), language=None, mode=None, force=False),
                        truth, svc.config)
        temps = TempSet(plan.output, journal_dir(svc)).__enter__()
        dub = prepare_dub(svc, plan, temps, lambda f: None)
        write_merged(svc, plan, dub, temps.path(), temps.path("tags"))
        made.append(temps)
        return svc, plan, temps.path(), dub

    made = []
    yield build
    for temps in made:
        temps.__exit__(None, None, None)


def test_good_merges_pass_and_report(merged, pal_case, offset_case):
    for case in (pal_case, offset_case):
        svc, plan, temp, dub = merged(case)
        reference = StreamCheck(svc, dub.path, 0) if plan.stream_copy else None
        report = verify(svc, plan, temp, dub, reference=reference)
        assert report["streams"] == 6 and report["new_stream"] == 4
        assert report["new_track_end"] == pytest.approx(dub.end, abs=0.05)


def test_a_truncated_file_is_rejected(merged, pal_case):
    svc, plan, temp, dub = merged(pal_case)
    with open(temp, "r+b") as fh:
        fh.truncate(temp.stat().st_size * 6 // 10)
    with pytest.raises(VerificationError):
        verify(svc, plan, temp, dub)


def test_a_file_without_the_new_track_is_rejected(merged, pal_case, library):
    svc, plan, temp, dub = merged(pal_case)
    shutil.copyfile(library.film, temp)
    with pytest.raises(VerificationError, match="5 streams, expected 6"):
        verify(svc, plan, temp, dub)


def test_copied_packets_must_match_the_decoded_dub(merged, offset_case, pal_case):
    svc, plan, temp, dub = merged(offset_case)
    other = merged(pal_case)[3]  # a different dub track, decoded fine
    with pytest.raises(VerificationError, match="differs from the dub track that was decoded"):
        verify(svc, plan, temp, dub, reference=StreamCheck(svc, other.path, 0))


def test_a_short_decode_is_rejected(merged, pal_case):
    svc, plan, temp, dub = merged(pal_case)
    claimed = type(dub)(dub.path, dub.sync_ms, dub.end + 5.0)  # the track should have lasted 5 s longer
    with pytest.raises(VerificationError, match="decodes only to"):
        verify(svc, plan, temp, claimed)


def test_a_check_stopped_early_leaves_no_process(merged, offset_case):
    svc, plan, temp, dub = merged(offset_case)
    check = StreamCheck(svc, temp, 4)
    check.stop()
    assert check._proc.poll() is not None
    check.stop()  # a second stop, as after a finished check, is harmless
