"""``POST /webhooks/<source>``: adapt the Flask request, hand it to ``webhooks.receive``, answer fast.

The answer is 202 with the job id(s), 200 ``{"ignored": reason}`` for events with nothing
to do, or the error's status (400, 401, 403, 413) with a one-line reason. No media work runs
inside the request.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import NotFound

log = logging.getLogger(__name__)


def register(app: Flask, services) -> None:
    """Mount the webhook route on ``app``."""
    import webhooks

    @app.post("/webhooks/<source>")
    def receive_webhook(source: str):
        if source not in webhooks.RECEIVERS:
            raise NotFound(f"no webhook receiver for {source!r}; use one of {', '.join(webhooks.RECEIVERS)}")
        req = webhooks.WebhookRequest(content_type=request.content_type or "", args=request.args,
                                      headers=request.headers)
        # The secret travels outside the body, so an unauthenticated sender is refused
        # before the app parses it. waitress has buffered the body already, but only up to
        # the size web/server.py lets through; Flask's MAX_CONTENT_LENGTH caps the rest.
        webhooks.authorize(services.config, source, req)
        _refuse_declared_oversize(services, source)
        req.body = request.get_data(cache=True)
        req.form = _form_fields(webhooks.RECEIVERS[source].form_field)
        outcome = webhooks.receive(services, source, req)
        if outcome.ignored:
            log.info("%s webhook ignored: %s", source, outcome.ignored)
            return jsonify({"ignored": outcome.ignored}), 200
        log.info("%s webhook: job(s) %s%s", source, outcome.job_ids,
                 " (already queued)" if all(outcome.duplicates) else "")
        return jsonify({"job_id": outcome.job_ids[0], "duplicate": outcome.duplicates[0],
                        "job_ids": outcome.job_ids, "duplicates": outcome.duplicates}), 202


def _refuse_declared_oversize(services, source: str) -> None:
    limit = services.config.get("webhooks.max_body_bytes")
    if request.content_length is not None and request.content_length > limit:
        from webhooks import WebhookTooLargeError

        raise WebhookTooLargeError(f"{source} webhook: body of {request.content_length} bytes exceeds "
                                   f"webhooks.max_body_bytes ({limit})")


def _form_fields(wanted: str | None) -> dict[str, str]:
    """Form fields as text; the receiver's JSON part is also taken when sent as a file part."""
    if request.mimetype not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return {}
    fields = dict(request.form.items())
    if wanted and wanted not in fields and wanted in request.files:
        fields[wanted] = request.files[wanted].read().decode("utf-8", "replace")
    return fields
