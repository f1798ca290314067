"""The service's side of the redis backend: run the light stages here, send the heavy one out.

:class:`RemotePool` is the embedded worker pool with other callables in its job
contexts: each ``queue.in_flight`` thread claims a job from the job file as before and
runs the stages, but where a stage would align or merge, :class:`RemoteStage` sends a
message to the workers and waits for their answer. The job file stays the service's:
workers report through the ``updates`` queue, which this process consumes
(:class:`Updates`), and every state, progress and result is written here.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
import uuid

from .. import jobs
from ..align.timemap import TimeMap
from ..pipeline.context import Busy, Cancelled, Interrupted, JobContext
from ..pipeline.runner import default_merge
from ..pipeline.worker import WorkerPool
from ..errors import ServerError
from .engine import Engine, check_broker, display_url
from .wire import error_from_wire

log = logging.getLogger(__name__)

CHECK_EVERY = 1.0  # seconds between looks at a waiting job's cancel flag and the stop signal


class Updates:
    """Routes workers' reports (``run_id, kind, data``) to the thread waiting for that run."""

    def __init__(self, store=None):
        self._waiting: dict[str, queue.Queue] = {}
        self._guard = threading.Lock()
        self.store = store

    def open(self) -> tuple[str, queue.Queue]:
        run_id, inbox = uuid.uuid4().hex, queue.Queue()
        with self._guard:
            self._waiting[run_id] = inbox
        return run_id, inbox

    def close(self, run_id: str) -> None:
        with self._guard:
            self._waiting.pop(run_id, None)

    def __call__(self, run_id, kind, data) -> None:
        with self._guard:
            inbox = self._waiting.get(run_id)
        if inbox is None:
            # A run nobody waits for: the service restarted (the job was queued again and
            # sent anew) or gave up on it (cancelled). Its result is not needed, but a swap
            # is: the job's next run will find that track and must count it as its own.
            log.debug("update %s for run %s that nobody waits for", kind, run_id)
            if kind == "swap" and self.store is not None and data.get("job") is not None:
                self._mark_swap(int(data["job"]), data.get("languages") or [])
            return
        inbox.put((kind, data))

    def _mark_swap(self, job_id: int, languages: list[str]) -> None:
        def add(doc):
            doc["merges_started"] = sorted({*(doc.get("merges_started") or []), *languages})

        try:
            self.store.update(jobs.TABLE, job_id, add)
        except Exception:  # noqa: BLE001 - a job pruned meanwhile: nothing to mark
            log.warning("job %s: could not record the swap a worker reported", job_id, exc_info=True)


class RemoteStage:
    """A stage's align or merge callable that runs on a worker: same signature, same
    results and errors as the local one (see :mod:`syncdub_companion.pipeline.runner`)."""

    def __init__(self, stage: str, engine: Engine, updates: Updates, ctx: JobContext):
        self.stage, self.engine, self.updates, self.ctx = stage, engine, updates, ctx

    def __call__(self, services, original, dubbed, *, language=None, mode=None, force=False, progress=None,
                 timemap: TimeMap | None = None, lock_wait=None, before_swap=None, **_ignored):
        payload = {"original": str(original), "dubbed": str(dubbed), "language": language, "mode": mode,
                   "force": bool(force), "lock_wait": lock_wait, "key": language or "und",
                   "timemap": timemap.to_dict(with_anchors=True) if timemap is not None else None}
        run_id, inbox = self.updates.open()
        try:
            self.engine.send_stage(self.stage, self.ctx.job_id, run_id, payload)
            self.ctx.save(step="waiting for a worker")
            self.ctx.note(f"sent to the {self.stage} queue; waiting for a worker")
            return self._wait(run_id, inbox, progress, before_swap)
        finally:
            self.updates.close(run_id)

    def _wait(self, run_id: str, inbox: queue.Queue, progress, before_swap):
        starts: list[str] = []
        while True:
            try:
                kind, data = inbox.get(timeout=CHECK_EVERY)
            except queue.Empty:
                kind, data = None, None
            try:
                self.ctx.checkpoint()
            except (Cancelled, Interrupted):
                self.engine.cancel(run_id)  # the worker stops at its next progress report
                raise
            if kind == "started":
                self._started(data["worker"], data.get("waited"), starts)
            elif kind == "progress" and progress is not None:
                progress(data["percent"], data["stage"])
            elif kind == "swap" and before_swap is not None:
                before_swap()
            elif kind == "stopped":
                raise Busy(message=f"the worker {data.get('worker')} stopped before the end; queued again", delay=0.0)
            elif kind == "error":
                raise error_from_wire(data)
            elif kind == "result":
                return self._result(data, restarted=len(starts) > 1)

    def _started(self, worker: str, waited: float | None, starts: list[str]) -> None:
        starts.append(worker)
        if len(starts) == 1:
            # how long the stage waited in the broker for a worker (the queue's latency)
            waits = {**(_field(self.ctx.job, "queue_wait") or {}), self.stage: waited}
            self.ctx.save(runner=worker, step=f"on worker {worker}", queue_wait=waits)
            after = f" after {waited:.2f} s in the queue" if waited is not None else ""
            self.ctx.note(f"worker {worker} took the {self.stage} stage{after}")
            return
        self.ctx.save(runner=worker, step=f"on worker {worker}")
        self.ctx.note(f"worker {worker} took the {self.stage} stage over (the broker gave it back after "
                      f"worker {starts[-2]} went silent)")

    def _result(self, data: dict, restarted: bool):
        if self.stage == "align":
            timemap = TimeMap.from_dict(data["timemap"]) if data.get("timemap") else None
            return timemap, data.get("skipped")
        if "results" in data:  # several languages in one write (RemoteMergeMany)
            return {key: _Result(_own_restart(result, restarted)) for key, result in data["results"].items()}
        return _own_restart(data["result"], restarted)


class RemoteMergeMany(RemoteStage):
    """The mux stage's ``merge_many`` on a worker: several dubs of one film in one merge
    message, written there in one go (:func:`~syncdub_companion.merge.multi.resync_many`:
    one temp, one verify, one swap), so the service rescans once. Same signature, results
    and errors as the local one; a ToolError or VerificationError of the joint write comes
    back as such, and the mux stage then merges each language on its own."""

    def __init__(self, engine: Engine, updates: Updates, ctx: JobContext):
        super().__init__("merge", engine, updates, ctx)

    def __call__(self, services, original, dubs, *, mode=None, force=False, progress=None, lock_wait=None,
                 before_swap=None, **_ignored):
        payload = {"original": str(original), "mode": mode, "force": bool(force), "lock_wait": lock_wait,
                   "key": "+".join(sorted(dubs)),
                   "dubs": {key: {"dubbed": str(dub.dubbed), "language": dub.language,
                                  "timemap": dub.timemap.to_dict(with_anchors=True)} for key, dub in dubs.items()}}
        run_id, inbox = self.updates.open()
        try:
            self.engine.send_stage(self.stage, self.ctx.job_id, run_id, payload)
            self.ctx.save(step="waiting for a worker")
            self.ctx.note(f"sent {', '.join(sorted(dubs))} to the merge queue as one write; waiting for a worker")
            return self._wait(run_id, inbox, progress, before_swap)
        finally:
            self.updates.close(run_id)


class _Result(dict):
    """A merge result as it crossed the broker, read like a MergeResult (``to_dict()``)."""

    def to_dict(self) -> dict:
        return dict(self)


def _own_restart(result: dict, restarted: bool) -> dict:
    result = dict(result)
    if restarted and result.get("status") == "skipped" and result.get("same_source"):
        # the worker that died had renamed its file into place already: this run's work
        result.update(status="done", message=f"{result.get('output_path')} already holds this dub's synced "
                      "track, written by a worker that stopped answering before it reported")
    return result


def _field(job, name: str):
    """A field this module adds to the job (a typed Job keeps it in ``extra``)."""
    extra = getattr(job, "extra", None)
    return extra.get(name) if extra is not None else job.get(name)


class RemotePool(WorkerPool):
    """The service's job threads with the redis backend (``queue.in_flight`` of them), the
    updates consumer, and, when ``jobs.workers`` > 0, a stage worker in this process too."""

    def __init__(self, services, poll: float = 1.0):
        super().__init__(services, workers=services.config.get("queue.in_flight"), poll=poll)
        self.updates = Updates(services.store)
        self.engine = Engine(services.config, on_update=self.updates)
        self._consumers = []

    def start(self) -> "RemotePool":
        try:
            check_broker(self.engine.url)
        except ServerError as exc:
            # the pages and /healthz stay up to show it; jobs wait and retry with backoff
            log.error("%s; jobs wait until it answers (see /healthz)", exc)
        consumer = self.engine.worker({self.engine.queue("updates")}, threads=2)
        consumer.start()
        self._consumers.append(consumer)
        local = self.services.config.get("jobs.workers")
        if local:
            from .worker import StageWorker

            self._consumers.append(StageWorker(self.services, self.engine, threads=local, local=True).start())
        super().start()
        log.info("jobs go to the %s queues at %s; %s", self.engine.name, display_url(self.engine.url), f"{local} stage worker(s) in this process" if local else "no stage worker in this process")
        return self

    def _context(self, worker: str, job) -> JobContext:
        ctx = JobContext(self.services, job, default_merge, worker)
        ctx.merge = RemoteStage("merge", self.engine, self.updates, ctx)
        if hasattr(ctx, "align"):
            ctx.align = RemoteStage("align", self.engine, self.updates, ctx)
        ctx.merge_many = RemoteMergeMany(self.engine, self.updates, ctx)
        return ctx

    def join(self, timeout: float | None = None) -> None:
        super().join(timeout)
        for consumer in reversed(self._consumers):
            consumer.stop(timeout=5000)
        self.engine.close()
