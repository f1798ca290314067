"""Runs one job with the real merge and dies (SIGKILL) right after the merged file is renamed
into place, before the job can record it: ``python kill_after_rename.py TMP SETTINGS_JSON OFFSET SECONDS``.

The services are those of ``pipeline_lib.build_lib`` over TMP (same store, same data dir).
"""
from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from pipeline_lib import TruthAlign
from syncdub_companion import jobs
from syncdub_companion.merge import resync
from syncdub_companion.pipeline.runner import run_job
from syncdub_companion.testing import make_services


def dying_merge(services, original, dubbed, *, progress, **kw):
    def report(percent: float, stage: str) -> None:
        progress(percent, stage)
        if stage == "publishing" and percent >= 100.0:  # reported only after the rename
            os.kill(os.getpid(), signal.SIGKILL)

    return resync(services, original, dubbed, progress=report, **kw)


def main() -> None:
    services = make_services(Path(sys.argv[1]), json.loads(sys.argv[2]))
    services.pm.register(TruthAlign(float(sys.argv[3]), float(sys.argv[4])), name="truth-align")
    job = jobs.claim_next(services.store, "doomed")
    run_job(services, job, worker="doomed", merge=dying_merge)
    print("the merge returned: it should have died", flush=True)


if __name__ == "__main__":
    main()
