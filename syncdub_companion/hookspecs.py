"""Every hook SyncDub Companion calls, grouped by when it fires.

Hooks are always called with keyword arguments, so an implementation may accept any
subset of them. ``services`` is the :class:`syncdub_companion.services.Services` of the
running process (config, store, plugin manager, tool wrappers).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from .align.timemap import TimeMap
    from .job import Job
    from .media import Candidate, LibraryEvent, MediaItem
    from .settings import Setting

hookspec = pluggy.HookspecMarker("syncdub")

# --- start-up -----------------------------------------------------------------


@hookspec
def syncdub_register_settings() -> list["Setting"]:
    """Fires once while the configuration is built, before it is validated.

    Return the plugin's settings (its own section, e.g. ``plex.url``) with defaults, help
    text and checks. All results are collected; the whole document is validated once.
    """


@hookspec
def syncdub_register_commands(cli: "click.Group") -> None:
    """Fires when the ``syncdub`` command line is assembled. Add commands to ``cli``."""


@hookspec
def syncdub_register_routes() -> list[tuple[str, Any]]:
    """Fires when the web app is created. Return ``(url_rule, view_function)`` pairs.

    Views receive Flask's request context; plugin routes sit behind the same login.
    """


@hookspec
def syncdub_check(services) -> list[tuple[str, bool, str]]:
    """Fires on ``syncdub check`` and the settings page's test buttons.

    Return ``(name, ok, message)`` per configured server; a failing message says the fix.
    """


# --- a library event becomes a job --------------------------------------------


@hookspec(firstresult=True)
def syncdub_resolve_item(event: "LibraryEvent", services) -> "MediaItem | None":
    """Fires when a job starts on a library event.

    Turn the event into a :class:`MediaItem` with a local file path (apply the path
    mapping), provider ids and audio languages, or return None when this plugin does
    not handle ``event.source``. The first non-None result wins.
    """


@hookspec(firstresult=True)
def syncdub_expand_item(event: "LibraryEvent", services) -> "list[LibraryEvent] | None":
    """Fires when a job starts on an event for a container, a whole season or series
    (``event.kind`` is ``season`` or ``series``), before any item is resolved.

    Return one :class:`LibraryEvent` per episode it holds (each is queued as a job of its
    own, deduplicated like webhooks), or None when this plugin does not handle
    ``event.source``. The first non-None result wins.
    """


@hookspec
def syncdub_find_counterparts(item: "MediaItem", services) -> list["Candidate"]:
    """Fires after an item is resolved. Return every dubbed counterpart this plugin knows.

    All plugins' candidates are collected and scored together; ambiguous sets send the
    job to needs_review.
    """


@hookspec
def syncdub_find_originals(item: "MediaItem", services) -> list["Candidate"]:
    """Fires after an item is resolved, before its counterparts are looked for.

    When ``item`` is itself a dub (it lies in a dub root, or is named as a sidecar such as
    ``Title (2010).de.mka``), return the library originals it belongs to: Candidates whose
    ``path`` is the original and whose ``language`` is the dub's. All results are
    collected and decided like counterparts; the job is then queued for the original.
    Return [] when ``item`` is not a dub this plugin recognises.
    """


# --- the media work -----------------------------------------------------------


@hookspec(firstresult=True)
def syncdub_align(original: str, dubbed: str, options: dict) -> "TimeMap | None":
    """Fires for every alignment (the job's align stage, ``syncdub align``, ``syncdub resync``),
    always through one front door, :func:`syncdub_companion.alignment.align_files`.

    ``options`` holds orig_track, dub_track, device, speech and the [align]/[speech]
    settings, and during a merge ``progress``: a callable (fraction 0-1, what it is doing)
    to call between steps; it raises when the job was cancelled, and that exception must
    propagate. Return a TimeMap from the dub's decoded timeline onto the original's
    (verdict ``aligned``, ``rejected`` or ``review``; only ``aligned`` is merged, and a
    ``review`` map only after a user approves it: the job waits in needs_review).
    The first non-None result wins; the built-in aligner runs last.
    """


@hookspec(firstresult=True)
def syncdub_output_path(item: "MediaItem", dub: "Candidate", mode: str, services) -> str | None:
    """Fires before a merge. Return where the merged MKV goes for ``mode``
    (replace, beside, folder); the first non-None result wins."""


# --- after the work -----------------------------------------------------------


@hookspec
def syncdub_library_changed(paths: list[str], item: "MediaItem | None", services) -> None:
    """Fires once after merged files are published. Media-server plugins rescan ``paths``
    (local paths; map them back to the server's view). Returns nothing."""


@hookspec
def syncdub_job_finished(job: "Job", services) -> None:
    """Fires when a job reaches a final state (done, skipped, rejected, needs_review,
    failed). ``job`` is the stored :class:`~syncdub_companion.job.Job`: read its attributes
    (``job.state``, ``job.result``, ``job.maps``). It used to be the stored dict;
    ``job["state"]`` and ``job.get("state")`` still work but are deprecated (they warn
    with DeprecationWarning). Returns nothing."""
