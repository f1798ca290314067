"""Backfill scan: originals found from names only, planned pairs, queued jobs; the CLI faces."""
from __future__ import annotations

import builtins
import json
import os
import time

import pytest
from click.testing import CliRunner

from syncdub_companion import jobs
from syncdub_companion.cli import _register_commands, cli
from syncdub_companion.pipeline import scan
from syncdub_companion.testing import make_services

LIBRARY = {
    "movies/The Matrix (1999)/The Matrix (1999).mkv": "dubs/de/Matrix.1999.GERMAN.DL.1080p.BluRay.x264-GRP/grp-matrix.mkv",
    "movies/Film (2010)/Film (2010).mkv": "movies/Film (2010)/Film (2010).de.mka",
    "tv/Show/Season 01/Show - S01E01.mkv": "dubs/de/Show.S01E01.German.720p.mkv",
    "tv/Show/Season 01/Show - S01E02.mkv": None,
    "movies/Lonely (2001)/Lonely (2001).mkv": None,
    "movies/Twin (2015)/Twin (2015).mkv": "ambiguous",
}
EXTRA = ["dubs/de/Twin.2015.German.DL.1080p.BluRay.x264-AAA.mkv", "dubs/de/Twin.2015.German.DL.720p.WEB.x264-BBB.mkv",
         "movies/Film (2010)/Film (2010).de.srt", "movies/The Matrix (1999)/Extras/Making of.mkv",
         "movies/Film (2010)/Film (2010).multi.mkv"]


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "media"
    for rel in [*LIBRARY, *[d for d in LIBRARY.values() if d and d != "ambiguous"], *EXTRA]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"not really media")
    config = tmp_path / "config.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n[library]\nroots = ["{root}"]\nlanguages = ["de"]\n'
                      f'[counterparts]\ndub_roots = {{ de = "{root / "dubs/de"}" }}\n')
    return root, config


@pytest.fixture
def services(tmp_path, tree):
    root, _ = tree
    svc = make_services(tmp_path, {"library": {"roots": [str(root)], "languages": ["de"]},
                                   "counterparts": {"dub_roots": {"de": str(root / "dubs/de")}}})
    yield svc
    svc.store.close()


def run_cli(*args):
    _register_commands()
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def expected_pairs(root):
    return sorted((str(root / o), str(root / d), "de") for o, d in LIBRARY.items() if d and d != "ambiguous")


def test_find_originals_leaves_out_dubs_sidecars_extras_and_outputs(services, tree):
    root, _ = tree
    found = sorted(os.path.relpath(p, root) for p in scan.find_originals(services, [str(root)]))
    assert found == sorted(LIBRARY)


def test_plan_reads_no_media_and_pairs_by_name(services, tree, monkeypatch):
    root, _ = tree
    opened = []
    real_open, real_os_open = builtins.open, os.open

    def spy_open(file, *a, **kw):
        if str(root) in str(file):
            opened.append(str(file))
        return real_open(file, *a, **kw)

    def spy_os_open(path, *a, **kw):
        if str(root) in str(path):
            opened.append(str(path))
        return real_os_open(path, *a, **kw)

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(os, "open", spy_os_open)
    monkeypatch.setattr("syncdub_companion.tools.process.run", lambda *a, **k: pytest.fail("started a process"))
    report = scan.plan(services)
    assert opened == []
    assert sorted((p.original, p.dubbed, p.language) for p in report.planned) == expected_pairs(root)
    assert [a["original"] for a in report.ambiguous] == [str(root / "movies/Twin (2015)/Twin (2015).mkv")]
    assert report.originals == len(LIBRARY)


def test_queue_skips_pairs_that_already_have_a_job(services):
    report = scan.plan(services)
    first = scan.queue(services, report)
    assert len(first) == 3 and scan.queue(services, scan.plan(services)) == []
    assert {j.source for j in jobs.list_jobs(services.store)} == {"scan"}
    assert len(scan.queue(services, scan.plan(services), force=True)) == 3


def test_queue_still_skips_pairs_whose_done_jobs_were_pruned(services):
    first = scan.queue(services, scan.plan(services))
    for job_id in first:
        jobs.set_state(services.store, job_id, "done", finished_at=time.time() - 90 * 86400)
    for job_id in first:
        services.store.update(jobs.TABLE, job_id, {"created_at": time.time() - 91 * 86400})
    assert jobs.prune(services.store, keep_days=30, keep_finished=0) == len(first)
    assert services.store.count(jobs.TABLE) == 0
    assert scan.queue(services, scan.plan(services)) == []


def test_cli_scan_dry_run_json_prints_the_plan_only(tree, tmp_path):
    root, config = tree
    result = run_cli("scan", "--config", config, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert all(set(r) == {"original", "dubbed", "language", "score"} for r in rows)
    assert sorted((r["original"], r["dubbed"], r["language"]) for r in rows) == expected_pairs(root)
    assert json.loads(run_cli("jobs", "--config", config, "--json").stdout) == []  # nothing queued


def test_cli_scan_queues_and_jobs_lists_them(tree):
    root, config = tree
    result = run_cli("scan", "--config", config, str(root / "movies"))
    assert result.exit_code == 0, result.output
    assert "queued 2 of 2 pairs" in result.stderr
    listing = json.loads(run_cli("jobs", "--config", config, "--json").stdout)
    assert sorted(j["original"] for j in listing) == sorted(str(root / o) for o in LIBRARY
                                                          if o.startswith("movies") and LIBRARY[o] not in (None, "ambiguous"))
    text = run_cli("jobs", "--config", config, "--state", "queued").stdout
    assert text.count("queued") == 2 and "The Matrix (1999).mkv" in text


def test_cli_scan_refuses_a_root_outside_the_library(tree, tmp_path):
    _, config = tree
    result = run_cli("scan", "--config", config, "--dry-run", str(tmp_path))
    assert result.exit_code == 2 and "outside the configured library roots" in result.stderr


def test_cli_jobs_show_retry_cancel(tree):
    root, config = tree
    run_cli("scan", "--config", config)
    job_id = json.loads(run_cli("jobs", "--config", config, "--json").stdout)[-1]["id"]

    shown = run_cli("jobs", "--config", config, "show", job_id)
    assert shown.exit_code == 0 and "source: scan" in shown.stdout
    assert run_cli("jobs", "--config", config, "cancel", job_id).stdout.strip() == f"job {job_id} cancelled"
    again = run_cli("jobs", "--config", config, "cancel", job_id)
    assert again.exit_code == 2 and "already finished (cancelled)" in again.stderr

    chosen = root / "dubs/de/Twin.2015.German.DL.720p.WEB.x264-BBB.mkv"
    retried = run_cli("jobs", "--config", config, "retry", job_id, "--dubbed", chosen)
    assert retried.exit_code == 0
    record = json.loads(run_cli("jobs", "--config", config, "show", job_id, "--json").stdout)
    assert (record["state"], record["dubbed"]) == ("queued", str(chosen))


def test_cli_jobs_rejects_unknown_states_and_ids(tree):
    _, config = tree
    bad = run_cli("jobs", "--config", config, "--state", "sleeping")
    assert bad.exit_code == 2 and "unknown state 'sleeping'" in bad.stderr
    missing = run_cli("jobs", "--config", config, "show", "999")
    assert missing.exit_code == 2 and "no such job" in missing.stderr


def _age_tree(root, seconds=3600):
    then = time.time() - seconds
    for path in root.rglob("*"):
        os.utime(path, (then, then))


def test_a_rejected_pair_outlives_pruning_and_the_scan_skips_it_until_cleared(services, tree):
    from syncdub_companion.errors import AlignmentRejected
    from syncdub_companion.pipeline.runner import run_job

    from pipeline_lib import FakeMerge

    root, config = tree
    _age_tree(root)
    matrix = str(root / "movies/The Matrix (1999)/The Matrix (1999).mkv")
    for job_id in scan.queue(services, scan.plan(services)):
        if jobs.get(services.store, job_id).original != matrix:
            jobs.set_state(services.store, job_id, "done")
    job = jobs.claim_next(services.store, "w")
    assert job.original == matrix
    merge = FakeMerge(errors=[AlignmentRejected("another film", 0.1)])
    assert run_job(services, job, merge=merge, align=merge.align) == "rejected"
    for row in services.store.all(jobs.TABLE):  # every job pruned: the blocklist must not depend on them
        services.store.update(jobs.TABLE, row["id"], {"created_at": 0, "finished_at": 1})
    assert jobs.prune(services.store, keep_days=30, keep_finished=0) == 3

    dry = run_cli("scan", "--config", config, "--dry-run")
    assert "would queue 0 of 3 pairs (0 new, 2 done, 1 rejected)" in dry.stderr, dry.stderr
    assert scan.queue(services, scan.plan(services)) == []

    listed = json.loads(run_cli("jobs", "--config", config, "blocklist", "--json").stdout)
    assert [(r["original"], os.path.basename(r["dubbed"]), r["language"], r["job_id"], r["reason"]) for r in listed] \
        == [(os.path.realpath(matrix), "grp-matrix.mkv", "de", job.id, "another film")]
    assert "<- " + os.path.realpath(str(root / LIBRARY[os.path.relpath(matrix, root)])) in \
        run_cli("jobs", "--config", config, "blocklist").stdout

    assert run_cli("jobs", "--config", config, "blocklist", "--clear").stdout.strip() == "cleared 1 blocked pair(s)"
    assert "(1 new, 2 done, 0 rejected)" in run_cli("scan", "--config", config, "--dry-run").stderr
    assert [jobs.get(services.store, i).original for i in scan.queue(services, scan.plan(services))] == [matrix]


def test_scan_force_queues_a_blocked_pair(services, tree):
    root, _ = tree
    matrix = str(root / "movies/The Matrix (1999)/The Matrix (1999).mkv")
    jobs.block(services.store, matrix, str(root / LIBRARY[os.path.relpath(matrix, root)]), "de", 1, "another film")
    report = scan.plan(services)
    assert len(scan.queue(services, report)) == 2 and report.counts() == {"new": 2, "done": 0, "open": 0, "rejected": 1}
    forced = scan.queue(services, scan.plan(services), force=True)
    assert matrix in [jobs.get(services.store, i).original for i in forced]
