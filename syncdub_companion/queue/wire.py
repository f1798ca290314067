"""What crosses the broker: errors as plain data, and paths between the service's and a worker's view.

A worker's error must reach the service as the same type, because the service's retry
policy (:mod:`syncdub_companion.pipeline.policy`) decides by type: a FileBusyError is
retried, an AlignmentRejected blocks the pair, a ServerError retries only when transient.
"""
from __future__ import annotations

import errno as errno_codes
import json

from .. import errors
from ..errors import SyncDubError
from ..paths import local_to_server, server_to_local


class RemoteCrash(SyncDubError):
    """A worker raised something unexpected on every retry; the message holds its last line."""


def error_to_wire(exc: BaseException) -> dict:
    """``exc`` (a SyncDubError or an OSError) as JSON-safe data."""
    if isinstance(exc, OSError) and not isinstance(exc, SyncDubError):
        return {"type": "OSError", "message": str(exc), "attrs": {"errno": exc.errno, "strerror": exc.strerror,
                                                                    "filename": exc.filename}}
    attrs = {k: v for k, v in vars(exc).items() if _jsonable(v)}
    return {"type": type(exc).__name__, "message": str(exc), "attrs": attrs}


def error_from_wire(data: dict) -> Exception:
    """The exception :func:`error_to_wire` described: same class, message and attributes."""
    attrs = data.get("attrs") or {}
    if data.get("type") == "OSError":
        code = attrs.get("errno") or errno_codes.EIO
        return OSError(code, attrs.get("strerror") or data["message"], attrs.get("filename"))
    cls = getattr(errors, data.get("type") or "", None)
    if data.get("type") == "RemoteCrash":
        cls = RemoteCrash
    if not (isinstance(cls, type) and issubclass(cls, SyncDubError)):
        cls = RemoteCrash
    exc = cls.__new__(cls)
    Exception.__init__(exc, data.get("message") or "the worker failed")
    for key, value in attrs.items():
        setattr(exc, key, value)
    if isinstance(exc, errors.ConfigError) and not hasattr(exc, "problems"):
        exc.problems = [str(exc)]
    return exc


def _jsonable(value) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


class PathMap:
    """The worker's ``[paths]``: the service's path prefix -> this worker's path prefix.

    Messages carry paths as the service sees them; the worker reads and writes them under
    its own mounts and reports paths back in the service's form.
    """

    def __init__(self, pairs: list[tuple[str, str]]):
        self.pairs = list(pairs)

    def local(self, service_path: str) -> str:
        return server_to_local(service_path, self.pairs) if self.pairs else service_path

    def service(self, local_path: str) -> str:
        return local_to_server(local_path, self.pairs) if self.pairs else local_path


PLAN_PATHS = ("original", "dubbed", "base", "output")


def result_to_service(result: dict, paths: PathMap) -> dict:
    """A MergeResult.to_dict() with its paths in the service's form."""
    out = dict(result)
    if out.get("output_path"):
        out["output_path"] = paths.service(out["output_path"])
    plan = dict(out.get("plan") or {})
    for key in PLAN_PATHS:
        if plan.get(key):
            plan[key] = paths.service(plan[key])
    if plan:
        out["plan"] = plan
    return out
