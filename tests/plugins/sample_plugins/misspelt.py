"""A plugin whose hook name has a typo: start-up must stop and name it."""
from __future__ import annotations

from syncdub_companion import hookimpl


@hookimpl
def syncdub_resolve_itme(event, services):
    return None
