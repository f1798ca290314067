"""The runner: stages in order, outcomes as job states, retry policy, resume, dub arrival."""
from __future__ import annotations

import errno
import time
from pathlib import Path

import pytest

from syncdub_companion import hookimpl, jobs
from syncdub_companion.errors import AlignmentRejected, MediaError, ServerError
from syncdub_companion.media import LibraryEvent, MediaItem
from syncdub_companion.pipeline.runner import run_job

from pipeline_lib import FakeMerge, build_lib
from tests.servers.fake_jellyfin import FakeJellyfin

MOVIE = "movies/Film (2010)/Film (2010).mkv"


def run_next(lib, merge):
    job = jobs.claim_next(lib.services.store, "test-worker")
    assert job is not None, "nothing claimable"
    return run_job(lib.services, job, worker="test-worker", merge=merge, align=merge.align)


def job_of(lib, job_id):
    return jobs.get(lib.services.store, job_id)


def test_sidecar_pair_is_merged_published_once_and_reported(lib):
    original = lib.file(MOVIE)
    dub = lib.file("movies/Film (2010)/Film (2010).de.mka")
    job_id = jobs.create(lib.services.store, original=original, source="cli")
    merge = FakeMerge(store=lib.services.store)

    assert run_next(lib, merge) == "done"

    job = job_of(lib, job_id)
    assert merge.calls == [{"original": original, "dubbed": dub, "language": "de", "force": False}]
    assert merge.states_seen == ["aligning", "muxing", "publishing"]
    assert job.state == "done" and job.progress == 100.0 and job.worker is None
    assert job.result["outputs"] == [original]
    assert job.result["languages"]["de"]["timemap"] == {"confidence": 0.9}
    assert job.plan is None and job.merged is None  # resume data cleared
    assert lib.recorder.changed == [[original]]
    assert [j.state for j in lib.recorder.finished] == ["done"]


def test_webhook_event_with_a_path_resolves_through_local_path(lib):
    original = lib.file("tv/Show/Season 01/Show - S01E02 - Name.mkv")
    lib.file("dubs/de/Show.S01E02.German.DL.720p.WEB.x264-GRP.mkv")
    event = LibraryEvent(source="sonarr-test", kind="episode", path=original)
    job_id, _ = jobs.enqueue_event(lib.services.store, event, 600)
    merge = FakeMerge()
    assert run_next(lib, merge) == "done"
    assert merge.calls[0]["dubbed"].endswith("Show.S01E02.German.DL.720p.WEB.x264-GRP.mkv")
    assert job_of(lib, job_id).item["season"] == 1


def test_ambiguous_candidates_go_to_needs_review_without_merging(lib):
    original = lib.file(MOVIE)
    lib.file("dubs/de/Film.2010.German.DL.1080p.BluRay.x264-AAA.mkv")
    lib.file("dubs/de/Film.2010.German.DL.720p.WEB.x264-BBB.mkv")
    job_id = jobs.create(lib.services.store, original=original)
    merge = FakeMerge()
    assert run_next(lib, merge) == "needs_review"
    job = job_of(lib, job_id)
    assert merge.calls == []
    assert len(job.review["de"]) == 2 and "ambiguous" in job.result["message"]
    assert lib.recorder.finished[0].state == "needs_review"


def test_retry_with_a_chosen_dub_resolves_needs_review(lib):
    original = lib.file(MOVIE)
    lib.file("dubs/de/Film.2010.German.DL.1080p.BluRay.x264-AAA.mkv")
    chosen = lib.file("dubs/de/Film.2010.German.DL.720p.WEB.x264-BBB.mkv")
    job_id = jobs.create(lib.services.store, original=original)
    run_next(lib, FakeMerge())
    jobs.update(lib.services.store, job_id, dubbed=chosen)
    jobs.retry(lib.services.store, job_id)
    merge = FakeMerge()
    assert run_next(lib, merge) == "done"
    assert merge.calls[0]["dubbed"] == chosen and merge.calls[0]["language"] == "de"


def test_no_counterpart_is_skipped(lib):
    job_id = jobs.create(lib.services.store, original=lib.file(MOVIE))
    assert run_next(lib, FakeMerge()) == "skipped"
    assert "no dubbed counterpart found for de" in job_of(lib, job_id).result["message"]


def test_languages_the_server_reports_present_are_not_redone(lib):
    original = lib.file(MOVIE)
    lib.file("movies/Film (2010)/Film (2010).de.mka")
    event = LibraryEvent(source="radarr-test", path=original, audio_languages=["ger", "eng"])
    jobs.enqueue_event(lib.services.store, event, 600)
    merge = FakeMerge()
    assert run_next(lib, merge) == "skipped"
    assert merge.calls == []


def test_path_outside_the_library_fails_with_a_clear_error(lib, tmp_path):
    outside = tmp_path / "elsewhere.mkv"
    outside.write_bytes(b"x")
    job_id = jobs.create(lib.services.store, original=str(outside))
    assert run_next(lib, FakeMerge()) == "failed"
    assert "outside the configured library roots" in job_of(lib, job_id).error


def test_unresolvable_event_fails_naming_the_source(lib):
    jobs.enqueue_event(lib.services.store, LibraryEvent(source="plex", item_id="123", title="Film"), 600)
    assert run_next(lib, FakeMerge()) == "failed"
    assert "plex" in jobs.list_jobs(lib.services.store)[0].error


def test_transient_errors_retry_with_backoff_then_give_up(lib):
    original = lib.file(MOVIE)
    lib.file("movies/Film (2010)/Film (2010).de.mka")
    job_id = jobs.create(lib.services.store, original=original)
    busy = OSError(errno.EBUSY, "Device or resource busy", original)
    merge = FakeMerge(errors=[ServerError("jellyfin", "connection refused", transient=True), busy,
                              ServerError("jellyfin", "timed out", transient=True)])

    before = time.time()
    assert run_next(lib, merge) == "queued"
    job = job_of(lib, job_id)
    assert job.attempts == 1 and job.next_attempt_at >= before + 10  # retry_backoff = 10
    assert jobs.claim_next(lib.services.store, "w") is None  # not due yet

    jobs.update(lib.services.store, job_id, next_attempt_at=0)
    assert run_next(lib, merge) == "queued"
    job = job_of(lib, job_id)
    assert job.next_attempt_at >= time.time() + 19  # doubled: 20 s
    assert "busy" in job.error.lower()

    jobs.update(lib.services.store, job_id, next_attempt_at=0)
    assert run_next(lib, merge) == "failed"  # third of max_attempts = 3
    job = job_of(lib, job_id)
    assert job.error.startswith("gave up after 3 attempts") and len(merge.calls) == 3


@pytest.mark.parametrize("error,state", [
    (AlignmentRejected("the dub is another film", 0.12), "rejected"),
    (MediaError("no audio stream"), "failed"),
])
def test_permanent_errors_are_not_retried(lib, error, state):
    original = lib.file(MOVIE)
    lib.file("movies/Film (2010)/Film (2010).de.mka")
    job_id = jobs.create(lib.services.store, original=original)
    assert run_next(lib, FakeMerge(errors=[error])) == state
    job = job_of(lib, job_id)
    assert job.attempts == 1 and job.error == str(error)
    if state == "rejected":
        assert job.result["confidence"] == 0.12


def test_a_bug_fails_the_job_and_is_logged_with_its_traceback(lib, caplog):
    original = lib.file(MOVIE)
    lib.file("movies/Film (2010)/Film (2010).de.mka")
    job_id = jobs.create(lib.services.store, original=original)
    assert run_next(lib, FakeMerge(errors=[KeyError("oops")])) == "failed"
    assert job_of(lib, job_id).error.startswith("internal error (KeyError")
    assert any(r.exc_info for r in caplog.records if "bug" in r.getMessage())


def test_a_file_still_being_written_waits_then_times_out(tmp_path):
    lib = build_lib(tmp_path, stable_seconds=30, ready_timeout=60)
    original = lib.file(MOVIE, age=0)  # just written
    lib.file("movies/Film (2010)/Film (2010).de.mka")
    job_id = jobs.create(lib.services.store, original=original)
    merge = FakeMerge()

    assert run_next(lib, merge) == "waiting_for_file"
    job = job_of(lib, job_id)
    assert job.worker is None and job.attempts == 1 and merge.calls == []
    assert 20 <= job.next_attempt_at - time.time() <= 31
    assert "waiting for 30 s of quiet" in job.waiting_reason

    # Due again and still changing: no attempt is counted for a re-check.
    jobs.update(lib.services.store, job_id, next_attempt_at=0)
    with open(original, "ab") as fh:
        fh.write(b"more")
    assert run_next(lib, merge) == "waiting_for_file"
    assert job_of(lib, job_id).attempts == 1

    jobs.update(lib.services.store, job_id, next_attempt_at=0, waiting_since=time.time() - 61)
    assert run_next(lib, merge) == "failed"
    assert "not ready after waiting 60 s" in job_of(lib, job_id).error
    lib.services.store.close()


def test_a_stable_file_is_worked_on_after_its_wait(tmp_path):
    lib = build_lib(tmp_path, stable_seconds=1)
    original = lib.file(MOVIE, age=0)
    lib.file("movies/Film (2010)/Film (2010).de.mka")
    jobs.create(lib.services.store, original=original)
    assert run_next(lib, FakeMerge()) == "waiting_for_file"
    time.sleep(1.6)
    jobs.update(lib.services.store, jobs.list_jobs(lib.services.store)[0].id, next_attempt_at=0)
    assert run_next(lib, FakeMerge()) == "done"
    lib.services.store.close()


def test_a_failed_rescan_is_retried_without_merging_again(lib):
    original = lib.file(MOVIE)
    lib.file("movies/Film (2010)/Film (2010).de.mka")
    job_id = jobs.create(lib.services.store, original=original)
    lib.recorder.raise_on_changed = ServerError("plex", "503 Service Unavailable", transient=True)
    merge = FakeMerge()
    assert run_next(lib, merge) == "queued"
    jobs.update(lib.services.store, job_id, next_attempt_at=0)
    assert run_next(lib, merge) == "done"
    assert len(merge.calls) == 1 and lib.recorder.changed == [[original]]


def test_a_permanent_rescan_error_keeps_the_job_done(lib):
    original = lib.file(MOVIE)
    lib.file("movies/Film (2010)/Film (2010).de.mka")
    job_id = jobs.create(lib.services.store, original=original)
    lib.recorder.raise_on_changed = ServerError("plex", "401 Unauthorized")
    assert run_next(lib, FakeMerge()) == "done"
    assert any("rescan failed" in line for line in job_of(lib, job_id).log)


def test_a_server_answering_503_then_200_gets_the_rescan_on_the_retry(tmp_path):
    """The built-in Jellyfin plugin lets a transient error through, so the publish stage retries."""
    with FakeJellyfin(api_key="jf-key") as jellyfin:
        lib = build_lib(tmp_path, {"jellyfin": {"url": jellyfin.url, "api_key": "jf-key"}})
        original = lib.file(MOVIE)
        lib.file("movies/Film (2010)/Film (2010).de.mka")
        job_id = jobs.create(lib.services.store, original=original)
        merge = FakeMerge()
        jellyfin.fail_media_updated = 503
        assert run_next(lib, merge) == "queued"
        job = job_of(lib, job_id)
        assert job.merged["de"]["status"] == "done" and not job.published
        assert "retrying" in job.log[-1] and "503" in job.error
        jellyfin.fail_media_updated = 0
        jobs.update(lib.services.store, job_id, next_attempt_at=0)
        assert run_next(lib, merge) == "done"
        assert len(merge.calls) == 1  # the merge is not redone, only the rescan
        assert jellyfin.media_updated == [[{"Path": original, "UpdateType": "Modified"}]]
        lib.services.store.close()


def test_a_broken_counterpart_finder_does_not_stop_the_others(lib, caplog):
    class Broken:
        @hookimpl
        def syncdub_find_counterparts(self, item, services):
            raise ZeroDivisionError("plugin bug")

    lib.services.pm.register(Broken(), name="broken-finder")
    original = lib.file(MOVIE)
    dub = lib.file("movies/Film (2010)/Film (2010).de.mka")
    job_id = jobs.create(lib.services.store, original=original)
    merge = FakeMerge()
    assert run_next(lib, merge) == "done"
    assert merge.calls[0]["dubbed"] == dub and job_of(lib, job_id).state == "done"
    assert "plugin broken-finder: bug in syncdub_find_counterparts" in caplog.text


def test_a_buggy_rescan_plugin_leaves_the_job_done_with_a_note(lib):
    class Broken:
        @hookimpl
        def syncdub_library_changed(self, paths, item, services):
            raise ValueError("plugin bug")

    lib.services.pm.register(Broken(), name="broken-notifier")
    original = lib.file(MOVIE)
    lib.file("movies/Film (2010)/Film (2010).de.mka")
    job_id = jobs.create(lib.services.store, original=original)
    assert run_next(lib, FakeMerge()) == "done"
    assert lib.recorder.changed == [[original]]  # the other plugins were still told
    assert any("rescan failed" in line and "broken-notifier" in line for line in job_of(lib, job_id).log)


def test_a_sidecar_symlinked_from_outside_the_roots_is_never_merged(lib, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "dub.mkv").write_bytes(b"x" * 64)
    original = lib.file(MOVIE)
    Path(original).with_name("Film (2010).de.mka").symlink_to(elsewhere / "dub.mkv")
    job_id = jobs.create(lib.services.store, original=original)
    merge = FakeMerge()
    assert run_next(lib, merge) == "skipped"
    assert merge.calls == [] and "no dubbed counterpart" in job_of(lib, job_id).result["message"]


def test_a_job_naming_a_dub_outside_the_roots_fails_before_reading_it(lib, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "dub.mkv").write_bytes(b"x" * 64)
    original = lib.file(MOVIE)
    job_id = jobs.create(lib.services.store, original=original, dubbed=str(elsewhere / "dub.mkv"), language="de")
    merge = FakeMerge()
    assert run_next(lib, merge) == "failed"
    assert merge.calls == [] and "outside library.roots and counterparts.dub_roots" in job_of(lib, job_id).error


def test_cancel_during_the_merge_stops_the_job(lib):
    original = lib.file(MOVIE)
    lib.file("movies/Film (2010)/Film (2010).de.mka")
    job_id = jobs.create(lib.services.store, original=original)
    merge = FakeMerge(during=lambda: jobs.cancel(lib.services.store, job_id))
    assert run_next(lib, merge) == "cancelled"
    assert job_of(lib, job_id).state == "cancelled" and lib.recorder.changed == []


def test_two_jobs_on_one_file_never_run_at_once(lib):
    original = lib.file(MOVIE)
    first = jobs.create(lib.services.store, original=original, language="de")
    second = jobs.create(lib.services.store, original=original, language="fr")
    store = lib.services.store
    claimed = jobs.claim_next(store, "w1")
    assert claimed.id == first
    jobs.acquire_path(store, first, original)
    assert jobs.claim_next(store, "w2") is None  # the only other job is on the same file
    jobs.release(store, first, "queued", delay=60)
    assert jobs.claim_next(store, "w2").id == second


class ServerResolver:
    """A media-server plugin stand-in: resolves item 42 to a file."""

    def __init__(self, path):
        self.path = path

    @hookimpl
    def syncdub_resolve_item(self, event, services):
        return MediaItem(self.path) if event.source == "test-server" and event.item_id == "42" else None


def test_a_job_resolving_to_a_held_file_is_put_back_uncounted(lib):
    original = lib.file(MOVIE)
    store = lib.services.store
    holder = jobs.create(store, original=original)
    jobs.claim_next(store, "w1")
    jobs.acquire_path(store, holder, original)
    # The second job's event carries only a server id, so the claim cannot see the clash.
    lib.services.pm.register(ServerResolver(original), name="test-server")
    other, _ = jobs.enqueue_event(store, LibraryEvent(source="test-server", item_id="42"), 600)
    job = jobs.claim_next(store, "w2")
    assert job.id == other
    merge = FakeMerge()
    assert run_job(lib.services, job, worker="w2", merge=merge, align=merge.align) == "queued"
    after = job_of(lib, other)
    assert after.attempts == 0 and after.next_attempt_at > time.time() and after.worker is None
    assert f"job {holder} is working on the same file" in after.log[-1]


def test_a_dub_arriving_in_a_dub_root_queues_its_original(lib):
    original = lib.file(MOVIE)
    dub = lib.file("dubs/de/Film.2010.German.DL.1080p.BluRay.x264-GRP/grp-film-1080p.mkv")
    arrived, _ = jobs.enqueue_event(lib.services.store, LibraryEvent(source="radarr-test", path=dub), 600)
    merge = FakeMerge()
    assert run_next(lib, merge) == "skipped"
    assert merge.calls == []
    queued = [j for j in jobs.list_jobs(lib.services.store) if j.id != arrived]
    assert len(queued) == 1
    assert (queued[0].original, queued[0].dubbed, queued[0].language) == (original, dub, "de")
    assert f"queued job {queued[0].id}" in job_of(lib, arrived).result["message"]

    assert run_next(lib, merge) == "done"
    assert merge.calls == [{"original": original, "dubbed": dub, "language": "de", "force": False}]


def test_a_sidecar_dub_arriving_queues_its_original_once(lib):
    original = lib.file(MOVIE)
    dub = lib.file("movies/Film (2010)/Film (2010).ger.mka")
    for _ in range(2):  # the same dub reported twice (two servers) makes one job for the original
        jobs.create(lib.services.store, original=dub, source="jellyfin-test")
    assert [run_next(lib, FakeMerge()) for _ in range(2)] == ["skipped", "skipped"]
    for_original = [j for j in jobs.list_jobs(lib.services.store) if j.original == original]
    assert len(for_original) == 1 and for_original[0].dubbed == dub


def test_a_dub_without_an_original_is_skipped_with_a_reason(lib):
    dub = lib.file("dubs/de/Unknown.Film.2011.German.DL.mkv")
    job_id = jobs.create(lib.services.store, original=dub)
    assert run_next(lib, FakeMerge()) == "skipped"
    assert "no original in the library matches it" in job_of(lib, job_id).result["message"]


def test_interrupted_too_often_fails_instead_of_looping(lib):
    original = lib.file(MOVIE)
    job_id = jobs.create(lib.services.store, original=original)
    jobs.update(lib.services.store, job_id, attempts=3, interrupted=True)  # max_attempts = 3
    assert run_next(lib, FakeMerge()) == "failed"
    assert "interrupted 3 times" in job_of(lib, job_id).error


def test_identical_rounds_of_webhooks_do_not_grow_the_store(tmp_path):
    """The issue's case: the same webhooks again and again (past the dedup window). Each
    round's jobs finish, and the store stays at what retention keeps."""
    lib = build_lib(tmp_path, {"webhooks": {"dedup_window": 0}}, keep_finished=20, stable_seconds=0)
    store = lib.services.store
    for n in range(30):
        lib.file(f"movies/Film {n} (2010)/Film {n} (2010).mkv")
    sizes = []
    for _ in range(3):
        for n in range(30):
            path = str(lib.root / f"movies/Film {n} (2010)/Film {n} (2010).mkv")
            jobs.enqueue_event(store, LibraryEvent(source="radarr-test", path=path), dedup_window=0)
        while (job := jobs.claim_next(store, "w")) is not None:
            merge = FakeMerge()
            assert run_job(lib.services, job, worker="w", merge=merge, align=merge.align) == "skipped"  # no dub anywhere
        sizes.append(store.count(jobs.TABLE))
    # 90 jobs ran; the store holds keep_finished plus at most the batch slack (10) and one
    assert all(20 <= size <= 31 for size in sizes), sizes
    rows = store.all(jobs.FINISHED_TABLE)  # one compact row per file is all that grows
    assert 0 < len(rows) == len({r["original"] for r in rows}) <= 30
    lib.services.store.close()


def test_a_rejected_pair_is_not_aligned_again_unless_forced_or_retried(lib):
    original = lib.file(MOVIE)
    dub = lib.file("movies/Film (2010)/Film (2010).de.mka")
    first = jobs.create(lib.services.store, original=original)
    assert run_next(lib, FakeMerge(errors=[AlignmentRejected("the dub is another film", 0.12)])) == "rejected"
    assert [(r["dubbed"], r["job_id"]) for r in jobs.blocklist(lib.services.store)] == [(dub, first)]

    # a webhook for the same file: the pair is skipped without aligning
    event = LibraryEvent(source="sonarr-test", kind="movie", path=original)
    again, _ = jobs.enqueue_event(lib.services.store, event, 600)
    merge = FakeMerge()
    assert run_next(lib, merge) == "skipped" and merge.calls == []
    job = job_of(lib, again)
    assert "rejected before" in job.result["message"] and f"job {first}" in "\n".join(job.log)

    forced = jobs.create(lib.services.store, original=original, force=True)
    assert run_next(lib, merge) == "done" and job_of(lib, forced).state == "done" and len(merge.calls) == 1

    jobs.retry(lib.services.store, first)  # retrying the rejected job asks for its pair again
    assert jobs.blocklist(lib.services.store) == []
    assert run_next(lib, merge) == "done" and len(merge.calls) == 2


def test_a_jellyfin_season_added_alone_is_expanded_into_one_job_per_episode(tmp_path):
    from tests.servers.fake_jellyfin import episode_dto, series_dto
    from webhooks.jellyfin import to_events

    series_id, season_id, other_season = "1" * 32, "2" * 32, "3" * 32
    items = [series_dto("Show", series_id, tvdb="371980"),
             episode_dto("One", "/jf/tv/Show/Season 02/Show - S02E01.mkv", ["eng"], "Show", 2, 1, series_id, season_id,
                         Tvdb="9000001"),
             # no provider ids at all: still resolved, by its path, and matched by its name
             episode_dto("Two", "/jf/tv/Show/Season 02/Show - S02E02.mkv", ["eng"], "Show", 2, 2, series_id, season_id),
             episode_dto("Old", "/jf/tv/Show/Season 01/Show - S01E01.mkv", ["eng"], "Show", 1, 1, series_id, other_season)]
    with FakeJellyfin(api_key="jf-key", items=items) as jellyfin:
        lib = build_lib(tmp_path, {"jellyfin": {"url": jellyfin.url, "api_key": "jf-key"},
                                   "paths": {"/jf/tv": str(tmp_path / "lib" / "tv")}})
        originals = [lib.file(f"tv/Show/Season 02/Show - S02E0{n}.mkv") for n in (1, 2)]
        lib.file("tv/Show/Season 01/Show - S01E01.mkv")
        dubs = [lib.file(f"dubs/de/Show.S02E0{n}.German.720p.WEB.x264-GRP.mkv") for n in (1, 2)]
        payload = {"NotificationType": "ItemAdded", "ItemType": "Season", "ItemId": season_id, "Name": "Season 2",
                   "SeriesName": "Show", "SeasonNumber": 2}
        [event] = to_events(payload)
        season_job, _ = jobs.enqueue_event(lib.services.store, event, 600)
        merge = FakeMerge()

        assert run_next(lib, merge) == "skipped"
        season = job_of(lib, season_job)
        assert "expanded into 2 episode job(s)" in season.result["message"] and merge.calls == []
        children = season.expanded
        assert [job_of(lib, i).event["kind"] for i in children] == ["episode", "episode"]

        assert [run_next(lib, merge), run_next(lib, merge)] == ["done", "done"]
        assert sorted((c["original"], c["dubbed"]) for c in merge.calls) == list(zip(originals, dubs))
        listing = [r for r in jellyfin.requests if r["path"] == "/Items" and ("parentId", season_id) in
                   [(k, v.replace("-", "")) for k, v in r["query"]]]
        assert len(listing) == 1 and ("includeItemTypes", "Episode") in listing[0]["query"] \
            and ("recursive", "true") in listing[0]["query"]
        assert jellyfin.rejections == []  # every request fit the OpenAPI spec

        # the plugin also announcing an episode by itself makes no second job
        episode = LibraryEvent.from_dict(job_of(lib, children[0]).event)
        again, created = jobs.enqueue_event(lib.services.store, episode, 600)
        assert (again, created) == (children[0], False)
        lib.services.store.close()


def test_a_season_event_without_a_configured_server_fails_naming_the_setting(lib):
    event = LibraryEvent(source="jellyfin", kind="season", item_id="2" * 32, title="Season 2")
    job_id, _ = jobs.enqueue_event(lib.services.store, event, 600)
    assert run_next(lib, FakeMerge()) == "failed"
    assert "jellyfin.url" in job_of(lib, job_id).error
