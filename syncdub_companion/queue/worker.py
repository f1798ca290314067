"""``syncdub worker``: take the align and/or merge stage's messages and run them here.

A worker runs on any machine that mounts the library. Its own config names the broker
(``[queue] url``), the stages it takes (``[worker] stages``), its device (``[align]
device``) and its ``[paths]``: the service's path prefix -> this machine's, so that a
message's ``/data/movies/Film.mkv`` is read as ``/mnt/nas/movies/Film.mkv`` here. Its
``library.roots`` are in its own paths. It keeps no job file: everything it learns goes
to the service through the engine (:meth:`Engine.report`).
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time

from ..align.timemap import TimeMap
from ..errors import SyncDubError, UsageError
from .engine import STAGES, Engine, check_broker, display_url
from .wire import PathMap, error_to_wire, result_to_service

log = logging.getLogger(__name__)

REPORT_EVERY = 1.0  # seconds between progress reports (and looks at the cancel flag)


class RunStopped(Exception):
    """The service cancelled the run, or this worker is stopping: leave the stage now."""


def worker_name(config) -> str:
    return config.get("worker.name") or f"{socket.gethostname()}:{os.getpid()}"


class StageWorker:
    """A Dramatiq worker over the configured stage queues, running them with ``services``.

    ``local`` is the service's own stage worker (``jobs.workers`` > 0): it sees the
    library under the service's paths, so no ``[paths]`` mapping applies.
    """

    def __init__(self, services, engine: Engine | None = None, threads: int | None = None, local: bool = False):
        config = services.config
        self.services = services
        self.name = worker_name(config) + (":service" if local else "")
        self.stages = list(STAGES) if local else list(config.get("worker.stages"))
        self.paths = PathMap([] if local else config.path_map)
        self.engine = engine or Engine(config)
        self.engine.on_stage = self.run
        self.threads = threads or config.get("worker.threads")
        self.stopping = threading.Event()
        self._worker = None
        if not local:
            from .locks import install_redis_lock

            install_redis_lock(services, canonical=self.paths.service)

    def start(self) -> "StageWorker":
        self._worker = self.engine.worker({self.engine.queue(s) for s in self.stages}, threads=self.threads)
        self._worker.start()
        log.info("worker %s takes the %s stage(s) from %s with %d thread(s)", self.name, " and ".join(self.stages),
                 display_url(self.engine.url), self.threads)
        return self

    def stop(self, timeout: int = 600000) -> None:
        """Running stages stop at their next progress report and go back to the service."""
        self.stopping.set()
        if self._worker is not None:
            self._worker.stop(timeout=timeout)

    # --- one message

    def run(self, stage: str, job_id: int, run_id: str, payload: dict) -> None:
        """Run one stage message and report its outcome; an unexpected error propagates
        (Dramatiq retries it with backoff, then the service hears it gave up)."""
        self.engine.report(run_id, "started", {"worker": self.name, "job": job_id, "waited": _waited()})
        log.info("job %s: %s stage of %s", job_id, stage, payload["original"])
        report = _Reporter(self, run_id)
        try:
            data = (self._align(payload, report) if stage == "align"
                    else self._merge({**payload, "job": job_id}, report, run_id))
        except RunStopped as why:
            log.info("job %s: %s stage stopped: %s", job_id, stage, why)
            self.engine.report(run_id, "stopped", {"worker": self.name, "why": str(why)})
            return
        except (SyncDubError, OSError) as exc:
            log.warning("job %s: %s stage failed: %s", job_id, stage, exc)
            self.engine.report(run_id, "error", error_to_wire(exc))
            return
        self.engine.report(run_id, "result", data)
        log.info("job %s: %s stage finished", job_id, stage)

    def _local(self, payload: dict) -> dict:
        return {"original": self.paths.local(payload["original"]), "dubbed": self.paths.local(payload["dubbed"]),
                "language": payload.get("language"), "mode": payload.get("mode"), "force": payload.get("force")}

    def _align(self, payload: dict, report: "_Reporter") -> dict:
        from ..pipeline.runner import default_align

        timemap, skipped = default_align(self.services, **self._local(payload), progress=report)
        return {"timemap": timemap.to_dict(with_anchors=True) if timemap is not None else None,
                "skipped": result_to_service(skipped, self.paths) if skipped else None}

    def _merge(self, payload: dict, report: "_Reporter", run_id: str) -> dict:
        from ..merge import resync

        if payload.get("dubs"):
            return self._merge_many(payload, report, run_id)
        kwargs = self._local(payload)
        if payload.get("timemap"):
            kwargs["timemap"] = TimeMap.from_dict(payload["timemap"])
        if _takes_before_swap():
            swap = {"job": payload.get("job"), "languages": [payload.get("key") or "und"]}
            kwargs["before_swap"] = lambda: self.engine.report(run_id, "swap", swap)
        result = resync(self.services, **kwargs, progress=report, lock_wait=payload.get("lock_wait"))
        return {"result": result_to_service(result.to_dict(), self.paths)}


    def _merge_many(self, payload: dict, report: "_Reporter", run_id: str) -> dict:
        """Several dubs of one film in one write; each key's result in the service's paths."""
        from ..merge.multi import Dub, resync_many

        dubs = {key: Dub(self.paths.local(d["dubbed"]), d.get("language"), TimeMap.from_dict(d["timemap"]))
                for key, d in payload["dubs"].items()}
        swap = {"job": payload.get("job"), "languages": sorted(dubs)}
        results = resync_many(self.services, self.paths.local(payload["original"]), dubs, mode=payload.get("mode"),
                              force=bool(payload.get("force")), progress=report, lock_wait=payload.get("lock_wait"),
                              before_swap=lambda: self.engine.report(run_id, "swap", swap))
        return {"results": {key: result_to_service(r.to_dict(), self.paths) for key, r in results.items()}}


def _waited() -> float | None:
    """Seconds since the service sent the message this thread runs (queue latency)."""
    from dramatiq.middleware import CurrentMessage

    message = CurrentMessage.get_current_message()
    return round(max(0.0, time.time() - message.message_timestamp / 1000), 3) if message else None


def _takes_before_swap() -> bool:
    import inspect

    from ..merge import resync

    return "before_swap" in inspect.signature(resync).parameters


class _Reporter:
    """The stage's ``progress(percent, stage)``: sends a report at most every second (and
    on every change of state), and stops the stage when the run was cancelled."""

    def __init__(self, worker: StageWorker, run_id: str):
        self.worker, self.run_id = worker, run_id
        self.last_sent, self.last_state = 0.0, None

    def __call__(self, percent: float, stage: str) -> None:
        if self.worker.stopping.is_set():
            raise RunStopped(f"the worker {self.worker.name} is stopping")
        now = time.monotonic()
        state = stage.partition(": ")[0]
        if state == self.last_state and now - self.last_sent < REPORT_EVERY:
            return
        self.last_sent, self.last_state = now, state
        self.worker.engine.report(self.run_id, "progress", {"percent": percent, "stage": stage})
        if self.worker.engine.cancelled(self.run_id):
            raise RunStopped("the service cancelled the run")


def run_worker(services) -> None:
    """``syncdub worker``: take stage messages until SIGTERM or SIGINT."""
    if services.config.get("queue.backend") != "redis":
        raise UsageError('syncdub worker needs [queue] backend = "redis" and the broker in [queue] url')
    from ..merge import cleanup_leftovers, journal_dir

    # A wrong URL or a broker that is down: say so once and stop, rather than have
    # Dramatiq's consumers retry it every 3 s forever (a restart policy retries us).
    check_broker(services.config.get("queue.url"))
    cleanup_leftovers(journal_dir(services), at_startup=True)
    done = threading.Event()

    def stop(signum, _frame):
        log.info("%s received: stopping", signal.Signals(signum).name)
        done.set()

    # Before the worker starts: its start-up line tells a supervisor it is up, and a
    # SIGTERM right after it must stop it cleanly, not kill it.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    worker = StageWorker(services).start()
    print(f"worker {worker.name} ready", flush=True)
    while not done.wait(1.0):
        pass
    worker.stop(timeout=int(services.config.get("jobs.stop_grace") * 1000) + 5000)
    worker.engine.close()
