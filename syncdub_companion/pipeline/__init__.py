"""The job pipeline: stages run in order by the runner, workers that claim jobs, the scan.

``runner.run_job`` takes one claimed job through resolve -> originals -> counterparts ->
readiness -> merge -> publish; ``worker.WorkerPool`` runs it on threads; ``scan`` plans
and queues backfill jobs from names alone.
"""
from __future__ import annotations
