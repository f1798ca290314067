"""Jellyfin client (REST over requests).

Jellyfin 12 accepts only ``Authorization: MediaBrowser Token="..."``; the old
``X-Emby-Token`` header is refused, so it is never sent.
"""
from __future__ import annotations

import re

from ..errors import ServerError
from .mediabrowser import MediaBrowserClient

_HEX32 = re.compile(r"^[0-9a-f]{32}$")


def plain_item_id(item_id: str) -> str:
    """Jellyfin ids without hyphens, lowercased: the webhook plugin sends either form."""
    return str(item_id).replace("-", "").strip().lower()


class JellyfinClient(MediaBrowserClient):
    """One Jellyfin server: lookups by id, targeted rescans, a health check."""

    name = "jellyfin"

    def auth_headers(self, api_key: str) -> dict[str, str]:
        if '"' in (api_key or ""):
            raise ServerError(self.name, "jellyfin.api_key contains a double quote; copy the key again")
        return {"Authorization": f'MediaBrowser Token="{api_key}"'}

    def format_id(self, item_id: str) -> str:
        """The hyphenated GUID form the OpenAPI spec declares (``format: uuid``)."""
        plain = plain_item_id(item_id)
        if not _HEX32.match(plain):
            raise ServerError(self.name, f"{item_id!r} is not a Jellyfin item id (32 hex digits)")
        return f"{plain[:8]}-{plain[8:12]}-{plain[12:16]}-{plain[16:20]}-{plain[20:]}"

    def plain_id(self, item_id: str) -> str:
        return plain_item_id(item_id)
