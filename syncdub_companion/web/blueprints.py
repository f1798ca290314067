"""The list of functions that attach route groups to the app: ``register(app, services)``.

Each feature (webhooks, pages) owns one registrar; add it here, nowhere else.
"""
from __future__ import annotations

from . import webhooks as _webhooks

REGISTRARS: list = [_webhooks.register]


def _pages(app, services) -> None:
    """Login, settings, jobs, re-sync, library and plugins pages (web/pages.py)."""
    from .pages import register

    register(app, services)


REGISTRARS.append(_pages)
