"""The redis backend's engine: one Dramatiq broker per process, its actors and its keys.

Queues, each prefixed with ``queue.name`` so several services can share one Redis:

- ``<name>.merge``: a job's merge stage (its alignment included while align is not a stage
  of its own); taken by workers whose ``worker.stages`` list ``merge``.
- ``<name>.align``: the align stage alone, for workers that list ``align``.
- ``<name>.updates``: what workers tell the service (started, progress, result, error);
  only the service consumes it.

Dramatiq gives us what a home-made protocol would have to reinvent: a message is
acknowledged only after its actor returned, so a worker killed mid-job leaves it
unacknowledged; the broker's maintenance gives the messages of a worker whose heartbeat
stopped for ``queue.heartbeat_timeout`` seconds back to the queue; an actor that raises
is retried with exponential backoff (``queue.max_retries``), then the ``gave_up`` actor
tells the service. Redis persistence (AOF or RDB) keeps queued messages across a broker
restart.
"""
from __future__ import annotations

import logging
from typing import Callable
from urllib.parse import urlsplit, urlunsplit

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AgeLimit, Callbacks, CurrentMessage, Pipelines, Retries, ShutdownNotifications, TimeLimit

from ..errors import ServerError

log = logging.getLogger(__name__)

STAGES = ("align", "merge")
# A merge of a large film takes long; Dramatiq's default limit (10 min) would kill it.
TIME_LIMIT_MS = 2 * 86400 * 1000
MIN_BACKOFF_MS = 5000
CANCEL_TTL = 86400


def display_url(url: str) -> str:
    """The broker URL without its password, for logs and messages."""
    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=f"{parts.username or ''}:***@{host}")
    return urlunsplit(parts)


def unreachable(exc: Exception, url: str) -> ServerError:
    """A broker that cannot be reached is transient: the job is tried again with backoff."""
    return ServerError("queue", f"the Redis broker at {display_url(url)} is unreachable ({exc})", transient=True)


PING_TIMEOUT = 2.0  # seconds: /healthz must answer even when the broker's host drops packets


def check_broker(url: str, timeout: float = PING_TIMEOUT) -> None:
    """ServerError (one line, no traceback) unless the Redis broker at ``url`` answers a PING."""
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ServerError("queue", f"the Redis broker at {display_url(url)} is unreachable ({exc}): is "
                          "redis-server running there, and do [queue] url and its password match it?",
                          transient=True) from None
    finally:
        client.close()


def broker_status(config) -> dict:
    """For /healthz with the redis queue: the broker's address (password hidden) and
    whether it answers."""
    url = config.get("queue.url")
    try:
        check_broker(url)
    except ServerError as exc:
        return {"backend": "redis", "broker": display_url(url), "reachable": False, "error": str(exc)}
    return {"backend": "redis", "broker": display_url(url), "reachable": True, "error": None}


class Engine:
    """The broker and the actors of one process.

    ``on_stage(stage, job_id, run_id, payload)`` runs a stage message (workers);
    ``on_update(run_id, kind, data)`` takes a worker's report (the service). Either may
    be set after construction; a process only consumes the queues whose handler it has.
    """

    def __init__(self, config, on_stage: Callable | None = None, on_update: Callable | None = None):
        self.url = config.get("queue.url")
        self.name = config.get("queue.name")
        self.on_stage, self.on_update = on_stage, on_update
        middleware = [AgeLimit(), TimeLimit(time_limit=TIME_LIMIT_MS), ShutdownNotifications(), Callbacks(),
                      Pipelines(), Retries(max_retries=config.get("queue.max_retries"), min_backoff=MIN_BACKOFF_MS),
                      CurrentMessage()]
        self.broker = RedisBroker(url=self.url, namespace=f"{self.name}-dramatiq", middleware=middleware,
                                  heartbeat_timeout=config.get("queue.heartbeat_timeout") * 1000,
                                  maintenance_chance=config.get("queue.maintenance_chance"))
        self.client: redis.Redis = self.broker.client
        self.stage_actors = {stage: self._stage_actor(stage) for stage in STAGES}
        self.update_actor = dramatiq.actor(self._update, broker=self.broker, actor_name=f"{self.name}.update",
                                           queue_name=self.queue("updates"), max_retries=3, time_limit=60000)
        self.gave_up_actor = dramatiq.actor(self._gave_up, broker=self.broker, actor_name=f"{self.name}.gave_up",
                                            queue_name=self.queue("updates"), max_retries=3, time_limit=60000)

    def queue(self, what: str) -> str:
        return f"{self.name}.{what}"

    def _stage_actor(self, stage: str):
        def run(job_id, run_id, payload):
            if self.on_stage is None:
                raise RuntimeError(f"this process takes no {stage} messages")
            return self.on_stage(stage, job_id, run_id, payload)

        return dramatiq.actor(run, broker=self.broker, actor_name=f"{self.name}.{stage}", queue_name=self.queue(stage),
                              time_limit=TIME_LIMIT_MS, on_retry_exhausted=f"{self.name}.gave_up")

    def _update(self, run_id, kind, data):
        if self.on_update is not None:
            self.on_update(run_id, kind, data)

    def _gave_up(self, message, info):
        """Retries of a stage message ran out (it raised every time): tell the service."""
        args = message.get("args") or [None, None]
        trace = (message.get("options") or {}).get("traceback") or ""
        last = trace.strip().splitlines()[-1] if trace.strip() else "no traceback"
        self._update(args[1], "error", {"type": "RemoteCrash", "attrs": {},
                                        "message": f"the worker crashed {info.get('retries', 0) + 1} time(s): {last}"})

    # --- sending

    def send_stage(self, stage: str, job_id: int, run_id: str, payload: dict) -> str:
        """Queue a stage message; returns its message id. ServerError when Redis is down."""
        try:
            return self.stage_actors[stage].send(job_id, run_id, payload).message_id
        except redis.RedisError as exc:
            raise unreachable(exc, self.url) from None

    def report(self, run_id: str, kind: str, data: dict) -> None:
        """A worker's report to the service (raises redis errors: Dramatiq retries the stage)."""
        self.update_actor.send(run_id, kind, data)

    def cancel(self, run_id: str) -> None:
        """Ask the worker running ``run_id`` to stop at its next progress report."""
        try:
            self.client.set(self._cancel_key(run_id), "1", ex=CANCEL_TTL)
        except redis.RedisError as exc:
            log.warning("could not ask the worker to stop run %s: %s", run_id, exc)

    def cancelled(self, run_id: str) -> bool:
        return bool(self.client.exists(self._cancel_key(run_id)))

    def _cancel_key(self, run_id: str) -> str:
        return f"{self.name}:cancel:{run_id}"

    # --- inspecting (tests, benchmarks, the docs' troubleshooting)

    def queued(self, stage: str) -> int:
        """Messages of ``stage`` the broker holds that no worker has fetched yet."""
        return int(self.client.llen(f"{self.broker.namespace}:{self.queue(stage)}"))

    def held(self, stage: str) -> int:
        """Messages of ``stage`` not yet acknowledged (queued, fetched or running)."""
        return int(self.client.hlen(f"{self.broker.namespace}:{self.queue(stage)}.msgs"))

    def worker(self, queues: set[str], threads: int) -> dramatiq.Worker:
        """A Dramatiq worker over ``queues`` that fetches no more than it runs.

        Prefetching beyond the running threads would park a second film on a busy worker
        while another worker idles.
        """
        worker = dramatiq.Worker(self.broker, queues=queues, worker_threads=threads, worker_timeout=500)
        worker.queue_prefetch = threads
        return worker

    def close(self) -> None:
        self.broker.close()
