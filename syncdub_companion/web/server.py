"""The WSGI server (waitress) with limits that keep one client from starving the others.

waitress reads a whole request, body included, before the app sees it. A check in the
app (Flask's ``MAX_CONTENT_LENGTH``, the webhook token) therefore comes too late to
protect the disk or the connection slots; the limits here act inside waitress, on the
headers alone, before any body is read. docs/web.md lists them.
"""
from __future__ import annotations

from typing import Any

PAGE_BODY_BYTES = 1 << 20  # the biggest page form (settings, re-sync) is a few KiB
HEADER_BYTES = 64 << 10  # browsers send a few KiB of headers; waitress allows 256 KiB


def body_limit(config) -> int:
    """The largest request body accepted at all: a webhook's limit, never below a page form's."""
    return max(config.get("webhooks.max_body_bytes"), PAGE_BODY_BYTES)


def waitress_options(config) -> dict[str, Any]:
    """waitress keyword arguments for ``config``: threads, connection and size limits."""
    timeout = config.get("server.channel_timeout")
    return {
        "threads": config.get("server.threads"),
        "connection_limit": config.get("server.connection_limit"),
        "channel_timeout": timeout,
        # waitress only looks for idle connections every cleanup_interval seconds, so a
        # half-open request would otherwise hold its slot up to 30 s past the timeout.
        "cleanup_interval": max(1, min(10, timeout // 2)),
        # waitress refuses when Content-Length >= this, straight from the headers; + 1 so a
        # body of exactly the limit still reaches the app.
        "max_request_body_size": body_limit(config) + 1,
        "max_request_header_size": HEADER_BYTES,
        # select() cannot watch more than 1024 sockets; poll() has no such ceiling.
        "asyncore_use_poll": True,
        "ident": "syncdub",
    }


def make_server(app, config, host: str | None = None, port: int | None = None):
    """A waitress server for ``app`` on ``host:port`` (default: server.host/server.port), not yet running.

    OSError when the address cannot be bound; ``effective_port`` holds the port (for port 0).
    """
    from waitress.server import create_server

    host = config.get("server.host") if host is None else host
    port = config.get("server.port") if port is None else port
    return create_server(app, host=host, port=port, **waitress_options(config))
