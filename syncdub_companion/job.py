"""The job record as a type: what stages, the web, the CLI and plugin hooks get.

:mod:`.jobs` stores jobs as flat TinyDB documents; :meth:`Job.from_dict` reads one (also
one written by an older version: missing fields take their defaults, unknown ones are
kept in ``extra`` and written back unchanged) and :meth:`Job.to_dict` writes it.

Reading a job like a dict (``job["state"]``, ``job.get("error")``) still works, because
``syncdub_job_finished`` used to hand plugins the stored dict; it is deprecated
(a DeprecationWarning) in favour of the attributes (``job.state``).
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Iterator

from .align.timemap import TimeMap


@dataclass
class Job(Mapping):
    """One job. ``id`` is the store's document id (None before it is stored)."""

    id: int | None = None
    state: str = "queued"
    source: str = "cli"
    event: dict | None = None  # LibraryEvent.to_dict() of a webhook or scan job
    dedup_key: str | None = None
    original: str | None = None  # the library file (once resolved)
    dubbed: str | None = None  # a dub the job names; None: the counterpart plugins choose
    language: str | None = None
    mode: str | None = None
    force: bool = False
    progress: float = 0.0  # percent
    attempts: int = 0
    next_attempt_at: float = 0.0
    created_at: float = 0.0
    updated_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    candidates: list = field(default_factory=list)  # Candidate.to_dict() of every dub found
    result: dict | None = None  # set when the job ends: message, languages, outputs, review
    log: list = field(default_factory=list)
    # --- held by a worker
    worker: str | None = None
    claimed_at: float | None = None
    lock_path: str | None = None
    cancel_requested: bool = False
    interrupted: bool = False
    waiting_reason: str | None = None
    # --- what the stages learnt, persisted after each so a re-queued job resumes
    stage: str | None = None  # the stage it is in or last ran
    step: str | None = None  # what it does within its state ("decoding 40%")
    item: dict | None = None  # MediaItem.to_dict() of the resolved original
    plan: dict | None = None  # language -> Candidate.to_dict() of the dub to merge
    review: dict = field(default_factory=dict)  # language -> ambiguous candidates (no dub chosen)
    maps: dict | None = None  # language -> the align stage's outcome, its time map included (see AlignOutcome)
    approved: list = field(default_factory=list)  # languages whose review map a user approved
    merged: dict | None = None  # language -> MergeResult.to_dict() of the mux
    merges_started: list = field(default_factory=list)
    published: bool | None = None
    ready_probe: Any = None
    waiting_since: float | None = None
    expanded: list | None = None  # a season/series job: the episode jobs it queued
    stowed: bool = False  # bulky fields live in the details table (see jobs.stow)
    extra: dict = field(default_factory=dict)  # stored keys this version does not know

    # --- storage

    @classmethod
    def from_dict(cls, data: Mapping) -> "Job":
        """A job from a stored document (any version's); unknown keys go to ``extra``."""
        known = _names()
        job = cls(**{k: v for k, v in data.items() if k in known and k != "extra"})
        job.extra = {k: v for k, v in data.items() if k not in known}
        if job.review is None:  # stored as None by versions that reset it
            job.review = {}
        for name in ("candidates", "log", "approved", "merges_started"):
            if getattr(job, name) is None:
                setattr(job, name, [])
        return job

    def to_dict(self) -> dict[str, Any]:
        """The flat document the store keeps (``id`` is the document's id, not a field)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("id", "extra")}
        out.update(self.extra)
        return out

    def apply(self, changes: Mapping) -> None:
        """Take ``changes`` (field -> value, as written to the store) into this copy."""
        known = _names()
        for key, value in changes.items():
            if key in known and key != "extra":
                setattr(self, key, value)
            else:
                self.extra[key] = value

    # --- what stages and pages ask

    @property
    def path(self) -> str | None:
        """The library file: resolved, named, or the event's."""
        return (self.item or {}).get("path") or self.original or (self.event or {}).get("path")

    def timemap(self, language: str) -> TimeMap | None:
        """The stored time map of ``language`` (aligned, or held for review), or None."""
        entry = (self.maps or {}).get(language) or {}
        data = entry.get("timemap")
        return TimeMap.from_dict(data) if isinstance(data, dict) and "verdict" in data else None

    def awaiting_review(self) -> list[str]:
        """Languages whose map the aligner held for review and nobody approved yet."""
        return sorted(lang for lang, entry in (self.maps or {}).items()
                      if entry.get("status") == "review" and lang not in self.approved)

    # --- deprecated dict-style reading (plugins written against the dict record)

    def __getitem__(self, key: str) -> Any:
        _warn(key)
        return self._value(key)

    def get(self, key: str, default: Any = None) -> Any:  # noqa: D401 - Mapping's signature
        _warn(key)
        try:
            return self._value(key)
        except KeyError:
            return default

    def _value(self, key: str) -> Any:
        if key == "id" or (key in _names() and key != "extra"):
            return getattr(self, key)
        return self.extra[key]

    def __iter__(self) -> Iterator[str]:
        return iter(["id", *self.to_dict()])

    def __len__(self) -> int:
        return len(self.to_dict()) + 1

    def __contains__(self, key: object) -> bool:
        return key == "id" or (isinstance(key, str) and key in self.to_dict())


def _names() -> frozenset[str]:
    return _NAMES


_NAMES = frozenset(f.name for f in fields(Job))


def _warn(key: str) -> None:
    warnings.warn(f"reading a job as a dict (job[{key!r}]) is deprecated; use the attribute (job.{key})",
                  DeprecationWarning, stacklevel=3)
