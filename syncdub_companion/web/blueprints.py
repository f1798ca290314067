"""The list of functions that attach route groups to the app: ``register(app, services)``.

Each feature (webhooks, pages) owns one registrar; add it here, nowhere else.
"""
from __future__ import annotations

REGISTRARS: list = []
