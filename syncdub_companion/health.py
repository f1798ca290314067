"""What is set up wrong, found before a job trips over it: the banner on every page.

Like the *arr's System → Status, each :class:`Problem` says what is wrong and what to do,
and points at the settings section that fixes it. The checks:

- folders: a library root or dub root that does not exist, is a file or cannot be read;
  a dub root whose language ``library.languages`` leaves out (never searched); no library
  roots at all;
- servers: recent webhooks from Plex, Jellyfin or Emby that name no file, while that
  server's plugin has no URL (every such job fails: only the server knows the path);
- unmapped paths: recent webhook paths refused as outside ``library.roots``, and recent
  jobs that failed for the same reason (the server's view of the library differs from
  this machine's: a ``[paths]`` mapping is missing);
- the job queue: with ``queue.backend = "redis"``, a broker that does not answer a PING;
- speech models: the configured Whisper or sentence model is not installed (speech
  anchors then fail every job that needs them).

Webhook refusals are kept in memory (:func:`note_unmapped`, the last ``MAX_REFUSALS``);
the rest is read from the config, the disk and the job store, at most every ``TTL``
seconds per process.
"""
from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass

from . import jobs
from .folders import config_warnings
from .models import models_status

TTL = 10.0
RECENT = 7 * 86400  # how far back jobs count as "recent"
MAX_REFUSALS = 20
SERVER_SOURCES = ("plex", "jellyfin", "emby")  # webhooks that may carry only the server's item id
OUTSIDE_ROOTS = "outside the configured library roots"  # paths.ensure_inside's words
_lock = threading.Lock()


@dataclass(frozen=True)
class Problem:
    """One thing to fix: what is wrong, what to do, and the settings section (its #anchor)."""

    message: str
    fix: str
    section: str


def server_fix(config, source: str) -> str | None:
    """For a ``source`` event no plugin resolved: what to set, or None when the server is set up."""
    todo = _server_todo(config, source)
    if todo is None:
        return None
    title = source.capitalize()
    if todo.startswith("switch"):
        return f"the {source} plugin is switched off ([plugins] enable/disable); {todo}, then retry this job"
    return f"no {title} server is configured, and only {title} knows this item's file: {todo}, then retry this job"


def _server_todo(config, source: str) -> str | None:
    """"set jellyfin.url and jellyfin.api_key under Settings → Jellyfin", or None when nothing is missing."""
    if source not in SERVER_SOURCES:
        return None
    if f"{source}.url" not in config.settings:
        return f"switch it on and set {source}.url"
    if config.get(f"{source}.url"):
        return None
    secret = next((path for path, s in config.settings.items() if path.startswith(f"{source}.") and s.secret), None)
    return f"set {source}.url" + (f" and {secret}" if secret else "") + f" under Settings → {source.capitalize()}"


def note_unmapped(services, source: str, path: str) -> None:
    """Remember a webhook path refused as outside ``library.roots``, for the banner."""
    with _lock:
        seen = services.extras.setdefault("health.unmapped", collections.deque(maxlen=MAX_REFUSALS))
        seen.append((time.time(), source, path))
        services.extras.pop("health.cache", None)


def problems(services) -> list[Problem]:
    """Every problem found now, cached for ``TTL`` seconds (the banner is on every page)."""
    now = time.time()
    with _lock:
        cached = services.extras.get("health.cache")
        if cached and now - cached[0] < TTL and cached[1] is services.config:
            return cached[2]
    found = [*_folders(services.config), *_broker(services.config), *_servers(services, now), *_unmapped(services, now),
             *_models(services)]
    with _lock:
        services.extras["health.cache"] = (now, services.config, found)
    return found


def _folders(config) -> list[Problem]:
    if not config.get("library.roots"):
        return [Problem("No library folders are set: every job fails and nothing can be scanned.",
                        "Add the folders of your films and series to library.roots.", "library")]
    out = []
    for warning in config_warnings(config):
        path, _, message = warning.partition(": ")
        section = path.split(".", 1)[0]
        if "never searched" in message:
            fix = f"Add {path.rsplit('.', 1)[1]} to library.languages, or remove this dub folder."
        else:
            fix = f"Correct {path}, or mount the folder (for Docker: the volume) so this service can read it."
        out.append(Problem(f"{path} is ignored: {message}.", fix, section))
    return out


def _broker(config) -> list[Problem]:
    if config.get("queue.backend") != "redis":
        return []
    from .queue.engine import broker_status

    status = broker_status(config)
    if status["reachable"]:
        return []
    return [Problem(f"The job queue's Redis broker ({status['broker']}) does not answer: no job can be aligned "
                    "or merged; they wait and retry.",
                    "Start redis-server there, or correct queue.url (host, port, password).", "queue")]


def _recent_jobs(services, now: float) -> list[dict]:
    return [j for j in services.store.all(jobs.TABLE) if now - (j.get("created_at") or 0) < RECENT]


def _servers(services, now: float) -> list[Problem]:
    config = services.config
    counts: dict[str, int] = collections.Counter(
        j.get("source") for j in _recent_jobs(services, now)
        if j.get("source") in SERVER_SOURCES and not (j.get("event") or {}).get("path"))
    out = []
    for source, count in sorted(counts.items()):
        todo = _server_todo(config, source)
        if todo:
            title = source.capitalize()
            todo = todo.replace("switch it on", f"switch the {source} plugin on ([plugins] enable/disable)")
            out.append(Problem(f"{count} {title} webhook(s) this week, but no {title} server is configured: "
                               "their jobs cannot find the file.",
                               f"{todo[0].upper()}{todo[1:]}, then retry the failed jobs.", source))
    return out


def _unmapped(services, now: float) -> list[Problem]:
    refused = [(source, path) for when, source, path in list(services.extras.get("health.unmapped") or ())
               if now - when < RECENT]
    failed = [j for j in _recent_jobs(services, now)
              if j.get("state") == "failed" and OUTSIDE_ROOTS in (j.get("error") or "")]
    if not refused and not failed:
        return []
    example = refused[-1][1] if refused else (failed[-1].get("error") or "").split(":")[0].removeprefix("file ")
    roots = ", ".join(map(str, services.config.library_roots)) or "none"
    return [Problem(f"{len(refused) + len(failed)} recent webhook path(s) or job(s) point outside the library "
                    f"folders ({roots}), e.g. {example}. The media server or *arr probably sees the library "
                    "under another path than this service.",
                    'Map the server\'s prefix to this machine\'s in [paths], e.g. "/data/movies" = "/mnt/movies", '
                    "then retry the failed jobs.", "paths")]


def _models(services) -> list[Problem]:
    config = services.config
    if config.get("align.speech") == "never":
        return []
    status = models_status(config.get("speech.whisper_model"), config.get("speech.sentence_model"), services.model_dir)
    out = []
    for name, key in (("whisper", "speech.whisper_model"), ("sentence", "speech.sentence_model")):
        if status[name]["present"] is False:  # None: a hub name, fetched when online
            out.append(Problem(f"The speech model {key} = {status[name]['setting']!r} is not installed: jobs that "
                               "need speech anchors will fail.",
                               "Run `syncdub models install` (the bundled models), point the setting at an "
                               "installed model, or set align.speech = never.", "speech"))
    return out
