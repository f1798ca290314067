"""What a stage sees of its job: the record, the services, and ways to report and stop.

Stages end early by raising one of the outcomes below; the runner turns each into a job
state. They are control flow inside the pipeline, never shown to users as errors.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .. import jobs
from ..job import Job
from ..media import MediaItem

log = logging.getLogger("syncdub_companion.pipeline")

PROGRESS_WRITE_INTERVAL = 1.0


class Finish(Exception):
    """End the job now in ``state`` (done, skipped, needs_review) with a message."""

    def __init__(self, state: str, message: str, **fields):
        super().__init__(message)
        self.state, self.message, self.fields = state, message, fields


class Wait(Exception):
    """The file is not ready: put the job back as waiting_for_file for ``delay`` seconds."""

    def __init__(self, reason: str, delay: float):
        super().__init__(reason)
        self.reason, self.delay = reason, delay


class Busy(Exception):
    """Another running job holds the same file (``holder``), or another process holds its
    merge lock (``message``): back to the queue for ``delay`` seconds, no attempt used."""

    def __init__(self, holder: int | None = None, message: str | None = None, delay: float | None = None):
        super().__init__(message or f"job {holder} is working on the same file")
        self.holder, self.delay = holder, delay


class Interrupted(Exception):
    """The service is stopping: give the job back to the queue without counting an attempt."""


class Cancelled(Exception):
    """Someone cancelled the job while it ran."""


@dataclass
class JobContext:
    """One run of one claimed job. ``merge`` is the merge function and ``align`` the align
    stage's (see :func:`.runner.default_align`); tests inject stand-ins for both."""

    services: Any
    job: Job
    merge: Callable
    worker: str = "main"
    abort: threading.Event = field(default_factory=threading.Event)
    align: Callable | None = None
    merge_many: Callable | None = None  # several languages in one write; None: ``merge`` per language
    abandoned: bool = False
    _last_write: float = 0.0
    _last_check: float = 0.0

    @property
    def job_id(self) -> int:
        return self.job.id

    @property
    def store(self):
        return self.services.store

    @property
    def item(self) -> MediaItem:
        return MediaItem.from_dict(self.job.item)

    def setting(self, path: str):
        return self.services.config.get(path)

    def save(self, **fields) -> None:
        """Persist ``fields`` on the job record (and keep the local copy in step)."""
        if self.abandoned:
            raise Interrupted()
        jobs.update(self.store, self.job_id, **fields)
        self.job.apply(fields)

    def note(self, line: str) -> None:
        """A line in the job's log, and in the service log."""
        if self.abandoned:
            raise Interrupted()
        log.info("job %s: %s", self.job_id, line)
        jobs.append_log(self.store, self.job_id, line)

    def checkpoint(self) -> None:
        """Raise Interrupted when the service stops, Cancelled when the job was cancelled."""
        if self.abort.is_set() or self.abandoned:
            raise Interrupted()
        self._last_check = time.monotonic()
        current = self.store.get(jobs.TABLE, self.job_id) or {}
        if current.get("cancel_requested") or current.get("state") == "cancelled":
            raise Cancelled()

    def progress_callback(self, index: int, count: int) -> Callable[[float, str], None]:
        """A ``progress(percent, stage)`` for merge ``index`` of ``count``: sets state and overall %."""

        def progress(percent: float, stage: str) -> None:
            # "aligning: decoding 40%": the state, and what it is doing within it
            stage, _, step = stage.partition(": ")
            state = stage if stage in ("aligning", "muxing", "publishing") else self.job.state
            overall = (index + max(0.0, min(100.0, percent)) / 100.0) / count * 100.0
            now = time.monotonic()
            if state != self.job.state or now - self._last_write >= PROGRESS_WRITE_INTERVAL:
                self._last_write = now
                self.save(state=state, step=step or None, progress=round(min(overall, 99.0), 1))
            if self.abort.is_set() or now - self._last_check >= PROGRESS_WRITE_INTERVAL:
                self.checkpoint()

        return progress
