"""SyncDub Companion: sync dubbed audio from another release into your media library."""
from __future__ import annotations

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("syncdub")

__all__ = ["hookimpl", "__version__"]
