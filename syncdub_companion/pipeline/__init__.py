"""The job pipeline: stages run in order by the runner, workers that claim jobs, the scan.

``runner.run_job`` takes one claimed job (a :class:`~syncdub_companion.job.Job`) through
resolve -> originals -> counterparts -> readiness -> align -> mux (temp, verify, swap) ->
rescan -> finish (``stages.STAGES``); ``worker.WorkerPool`` runs it on threads; ``scan``
plans and queues backfill jobs from names alone.
"""
from __future__ import annotations
