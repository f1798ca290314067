"""notify: a message when a job is done, rejected or failed, through Apprise.

Config::

    [notify]
    urls = ["discord://WEBHOOK_ID/WEBHOOK_TOKEN", "ntfys://ntfy.sh/my-topic",
            "mailtos://user:app-password@gmail.com", "json://homeassistant:8123/api/webhook/ID"]
    on = ["done", "rejected", "failed"]

``urls`` are Apprise URLs (https://github.com/caronc/apprise/wiki: Discord, ntfy, Gotify,
Telegram, Pushover, mail, Matrix, Slack, ... and ``json://``/``jsons://`` to POST JSON to
any web hook). They carry their service's secrets, so they are secret like every token:
``********`` in ``syncdub config show``, write-only on the settings page, and their
passwords, paths and query values are masked in the log. ``on`` picks the job outcomes
that send one (any of done, skipped, needs_review, rejected, failed, cancelled).

The message names the state, the file and the job's reason, with a link to the job page
when ``server.public_url`` is set. It is sent from the worker, once per job end, with each
service's own timeout; a service that fails is logged (its URL masked) and never changes
the job's outcome.
"""
from __future__ import annotations

import logging
import os
from urllib.parse import urlsplit

from syncdub_companion import hookimpl
from syncdub_companion.logs import SecretFilter
from syncdub_companion.settings import Setting

log = logging.getLogger(__name__)

OUTCOMES = ("done", "skipped", "needs_review", "rejected", "failed", "cancelled")
_schemes: set[str] | None = None


def _known_schemes() -> set[str]:
    """Every URL scheme Apprise can send to (loading its plugins takes a moment: once, on demand)."""
    global _schemes
    if _schemes is None:
        import apprise

        _schemes = {s.lower() for s in apprise.NotificationManager().schemas()}
    return _schemes


def _check_urls(urls: list) -> str | None:
    # The message names the entry and its scheme only: the rest of the URL is a secret.
    for number, url in enumerate(urls, 1):
        scheme = urlsplit(url).scheme.lower() if "://" in url else ""
        if not scheme:
            return f"entry {number} is not a URL (service://...); see the Apprise wiki for the form of each service"
        if scheme not in _known_schemes():
            return f"entry {number}: Apprise knows no service {scheme}://"
    return None


def _check_outcomes(values: list) -> str | None:
    unknown = [v for v in values if v not in OUTCOMES]
    return f"unknown outcome {unknown[0]!r}; use any of {', '.join(OUTCOMES)}" if unknown else None


@hookimpl
def syncdub_register_settings():
    return [
        Setting("notify.urls", [], "Apprise URLs to notify, e.g. discord://ID/TOKEN, ntfys://ntfy.sh/TOPIC, "
                "mailtos://user:pass@example.com, json://host/path; empty sends nothing.", "list", secret=True,
                check=_check_urls, label="Notification URLs"),
        Setting("notify.on", ["done", "rejected", "failed"], "Job outcomes that send a notification: any of "
                + ", ".join(OUTCOMES) + ".", "list", check=_check_outcomes, label="Notify when a job ends"),
    ]


@hookimpl
def syncdub_job_finished(job, services):
    """Send the job's outcome to every notify URL, when its state is one of ``notify.on``."""
    config = services.config
    urls = config.get("notify.urls") or []
    if not urls or job.state not in (config.get("notify.on") or []):
        return
    scrub = SecretFilter(config.secrets()).scrub  # a reason may quote a server's URL, token and all
    title, body = message(job, config.get("server.public_url"))
    send(urls, scrub(title), scrub(body), job.state)


def message(job, public_url: str = "") -> tuple[str, str]:
    """The notification's title and body for a finished :class:`~syncdub_companion.job.Job`."""
    name = os.path.basename(job.original or "") or (job.event or {}).get("title") or "a library item"
    state = job.state.replace("_", " ")
    reason = (job.result or {}).get("message") or job.error or ""
    lines = [f"Job {job.id} {state}: {reason}".rstrip(": "), job.original or ""]
    if public_url:
        lines.append(f"{public_url.rstrip('/')}/jobs/{job.id}")
    return f"SyncDub: {state} – {name}", "\n".join(line for line in lines if line)


def send(urls: list[str], title: str, body: str, state: str) -> bool:
    """Notify every URL; True when all of them took it. Failures are logged, never raised."""
    import apprise

    kind = {"done": apprise.NotifyType.SUCCESS, "rejected": apprise.NotifyType.WARNING,
            "needs_review": apprise.NotifyType.WARNING, "failed": apprise.NotifyType.FAILURE}.get(
        state, apprise.NotifyType.INFO)
    ok = True
    for number, url in enumerate(urls, 1):
        target = apprise.Apprise()
        if not target.add(url):
            log.warning("notify: entry %d of notify.urls is not a URL Apprise can use; skipped", number)
            ok = False
            continue
        if not target.notify(body=body, title=title, notify_type=kind):
            log.warning("notify: sending to entry %d of notify.urls (%s) failed", number, _shown(url))
            ok = False
    return ok


def _shown(url: str) -> str:
    """The URL as Apprise shows it privately: scheme and host, secrets cut down to their ends."""
    import apprise

    plugin = apprise.Apprise.instantiate(url)
    return plugin.url(privacy=True).split("?", 1)[0] if plugin is not None else urlsplit(url).scheme + "://..."
