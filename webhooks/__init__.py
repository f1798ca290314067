"""Webhook receivers, one module per source: verify, normalise to a LibraryEvent, enqueue.

:func:`receive` is the whole path from request parts to queued jobs; the Flask view in
``syncdub_companion.web.webhooks`` only adapts the request and renders the answer.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from syncdub_companion import health, jobs

from . import emby, jellyfin, plex, radarr, sonarr
from .common import (Ignored, MalformedWebhookError, Receiver, WebhookAuthError, WebhookError, WebhookPathError,
                     WebhookRequest, WebhookTooLargeError, check_token, decode_payload, expected_token)
from .intake import checked_path

log = logging.getLogger(__name__)

RECEIVERS: dict[str, Receiver] = {m.SOURCE: m.RECEIVER for m in (plex, jellyfin, emby, sonarr, radarr)}

__all__ = ["RECEIVERS", "Outcome", "authorize", "receive", "WebhookRequest", "WebhookError", "WebhookAuthError",
           "WebhookTooLargeError", "MalformedWebhookError", "WebhookPathError"]


@dataclass
class Outcome:
    """What a webhook led to: queued (or already queued) job ids, or the reason it was ignored."""

    job_ids: list[int]
    duplicates: list[bool]
    ignored: str | None = None


def authorize(config, source: str, req: WebhookRequest) -> None:
    """WebhookAuthError (401) unless the request carries the source's secret.

    Needs no body, so the web layer calls it before reading one.
    """
    check_token(expected_token(config.get, source), req, source)


def receive(services, source: str, req: WebhookRequest) -> Outcome:
    """Check the secret and size, normalise, check the file paths, and enqueue one job per event (deduplicated).

    Raises WebhookError subclasses (401, 413, 400, 403); never runs any media work. One
    bad path refuses the whole webhook, so a season pack is queued whole or not at all.
    """
    receiver = RECEIVERS.get(source)
    if receiver is None:
        raise MalformedWebhookError(f"unknown webhook source {source!r}; use one of {', '.join(RECEIVERS)}")
    config = services.config
    authorize(config, source, req)
    limit = config.get("webhooks.max_body_bytes")
    if len(req.body) > limit:
        raise WebhookTooLargeError(f"{source} webhook: body of {len(req.body)} bytes exceeds "
                                   f"webhooks.max_body_bytes ({limit})")
    payload = decode_payload(req, receiver.form_field, source)
    try:
        events = receiver.to_events(payload)
    except Ignored as exc:
        return Outcome([], [], ignored=exc.reason)
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        # A payload of a shape no receiver anticipated is the sender's fault, not a 500.
        log.warning("%s webhook: unexpected payload shape (%s: %s)", source, type(exc).__name__, exc)
        raise MalformedWebhookError(f"{source} webhook: unexpected payload shape") from None
    if not events:
        return Outcome([], [], ignored=f"{source} webhook names no file")
    for event in events:
        if event.path:
            try:
                event.path = checked_path(event.path, config, source)
            except WebhookPathError:
                health.note_unmapped(services, source, event.path)  # for the banner: a [paths] mapping is missing
                raise
    window = config.get("webhooks.dedup_window")
    ids, duplicates = [], []
    for event in events:
        job_id, created = jobs.enqueue_event(services.store, event, window)
        ids.append(job_id)
        duplicates.append(not created)
    if not all(duplicates):
        services.job_queued()
    return Outcome(ids, duplicates)
