"""Job queue backends: where the heavy stages of a job run.

``[queue] backend = "embedded"`` (the default) runs every stage in the service's own
worker threads (:mod:`syncdub_companion.pipeline.worker`); nothing else to run.

``[queue] backend = "redis"`` keeps the service the authority on job state (the TinyDB
job file, the light stages, publishing) and hands the heavy stage to ``syncdub worker``
processes on any machine through Dramatiq on a Redis broker (:mod:`.engine`). Workers
answer through the engine too (:mod:`.updates`); they never open the job file.
See docs/queue.md.
"""
from __future__ import annotations


def start_jobs(services) -> list:
    """The background tasks that run jobs for this service, started; each has stop() and join()."""
    from ..pipeline.worker import WorkerPool

    if services.config.get("queue.backend") != "redis":
        if not services.config.get("jobs.workers"):
            import logging

            logging.getLogger(__name__).warning("jobs.workers = 0 with the embedded queue: no job will run")
            return []
        return [WorkerPool(services).start()]
    from .dispatch import RemotePool

    return [RemotePool(services).start()]


def install(services) -> None:
    """With the redis backend, every process of this config takes merge locks in Redis."""
    if services.config.get("queue.backend") == "redis":
        from .locks import install_redis_lock

        install_redis_lock(services)
