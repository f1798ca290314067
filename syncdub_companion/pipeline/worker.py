"""The worker pool: threads that claim queued jobs and run them, and a clean shutdown.

Only one pool may run per data dir (a lock file says so); holding it makes every job
still marked as claimed an orphan of a crashed process, so the pool re-queues them on
start. On stop, running jobs get ``jobs.stop_grace`` seconds to finish; after that they
are asked to stop at their next progress report and go back to the queue.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Callable

from filelock import FileLock, Timeout

from .. import jobs
from ..errors import UsageError
from .context import JobContext
from .runner import default_align, default_merge, run_job

log = logging.getLogger(__name__)

ABORT_WAIT = 5.0
MAX_IDLE_POLL = 5.0


class WorkerPool:
    """``jobs.workers`` threads running jobs; ``start()``, ``stop()``, ``join()``."""

    def __init__(self, services, workers: int | None = None, merge: Callable | None = None, poll: float = 1.0,
                 align: Callable | None = None):
        self.services = services
        self.size = workers or services.config.get("jobs.workers")
        self.poll = poll
        self._merge = merge
        self._align = align
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running: dict[str, JobContext] = {}
        self._guard = threading.Lock()
        self._lock = FileLock(str(services.config.data_dir / "workers.lock"))

    def start(self) -> "WorkerPool":
        """Take the data dir's worker lock, re-queue orphaned jobs, start the threads."""
        self.services.config.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise UsageError(f"another syncdub process already runs workers on {self.services.config.data_dir}") from None
        for job_id in jobs.requeue_interrupted(self.services.store):
            log.warning("job %s was interrupted by a stop or crash and is queued again", job_id)
        jobs.stow(self.services.store)  # finished jobs of a store from before stowing
        removed = jobs.prune_by_settings(self.services.store, self.services.config)
        if removed:
            log.info("pruned %d finished job(s) past jobs.keep_days / jobs.keep_finished", removed)
        prefix = f"{socket.gethostname()}:{os.getpid()}"
        for n in range(self.size):
            thread = threading.Thread(target=self._loop, args=(f"{prefix}:{n}",), daemon=True,
                                      name=f"syncdub-worker-{n}")
            thread.start()
            self._threads.append(thread)
        # Faces in this process that queue jobs (webhooks, web page) can call wake().
        self.services.extras["worker_pool"] = self
        log.info("%d job worker(s) started", self.size)
        return self

    def wake(self) -> None:
        """Look at the queue now instead of at the next poll (a job was just queued)."""
        self._wake.set()

    def stop(self) -> None:
        """Claim no more jobs; running ones continue until :meth:`join`'s grace runs out."""
        self._stopping.set()
        self._wake.set()

    def join(self, timeout: float | None = None) -> None:
        """Wait up to ``jobs.stop_grace`` (or ``timeout``) for running jobs, then re-queue them."""
        grace = self.services.config.get("jobs.stop_grace") if timeout is None else timeout
        self._wait_threads(time.monotonic() + grace)
        with self._guard:
            late = list(self._running.values())
        for ctx in late:
            ctx.abort.set()
        self._wait_threads(time.monotonic() + ABORT_WAIT)
        with self._guard:
            stuck = list(self._running.values())
        for ctx in stuck:
            # Blocked inside a merge that reports no progress: give the job back from here
            # and make the thread's later writes no-ops, so the record stays queued.
            ctx.abandoned = True
            jobs.release(self.services.store, ctx.job_id, "queued", uncount=True)
            jobs.append_log(self.services.store, ctx.job_id, "re-queued: the service stopped during the job")
            log.warning("job %s did not stop within the grace period and is queued again", ctx.job_id)
        if self._lock.is_locked:
            self._lock.release()

    def _wait_threads(self, deadline: float) -> None:
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _loop(self, worker: str) -> None:
        idle = self.poll
        while not self._stopping.is_set():
            try:
                job = jobs.claim_next(self.services.store, worker)
            except Exception:  # noqa: BLE001 - a store hiccup must not end the worker
                log.exception("worker %s: cannot read the job queue", worker)
                job = None
            if job is None:
                # Each look reads the whole job file; an idle queue is looked at less often.
                woken = self._wake.wait(idle)
                self._wake.clear()
                idle = self.poll if woken else min(idle * 2, max(self.poll, MAX_IDLE_POLL))
                continue
            idle = self.poll
            self._run(worker, job)

    def _context(self, worker: str, job: dict) -> JobContext:
        """The context one job runs in (a queue backend's pool gives its stages other callables)."""
        return JobContext(self.services, job, self._merge or default_merge, worker, align=self._align or default_align)

    def _run(self, worker: str, job: dict) -> None:
        ctx = self._context(worker, job)
        with self._guard:
            self._running[worker] = ctx
        try:
            state = run_job(self.services, job, context=ctx)
            log.debug("worker %s: job %s -> %s", worker, job.id, state)
        except Exception:  # noqa: BLE001 - run_job handles errors; this is a last guard
            log.exception("worker %s: job %s crashed the runner", worker, job.id)
        finally:
            with self._guard:
                self._running.pop(worker, None)
