"""Emby client (REST over requests): the Media Browser API with Emby's ``X-Emby-Token`` header.

Emby's webhooks already carry the file path and provider ids, so this client is needed
only for rescans, for payloads without a path, and for ``syncdub check``.
"""
from __future__ import annotations

from .mediabrowser import MediaBrowserClient


class EmbyClient(MediaBrowserClient):
    """One Emby server. Item ids are Emby's numeric strings, used as they come."""

    name = "emby"

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {"X-Emby-Token": api_key or ""}
