"""Shared constants and helpers for the webhook tests (a uniquely named module, not conftest)."""
from __future__ import annotations

TOKEN = "hook-secret-123"


def jobs_of(services) -> list[dict]:
    """Every stored job, oldest first."""
    return sorted(services.store.all("jobs"), key=lambda j: j["id"])
