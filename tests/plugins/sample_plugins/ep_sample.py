"""Installed as the module syncdub_ep_sample with an entry point in the group "syncdub"."""
from __future__ import annotations

from syncdub_companion import hookimpl


@hookimpl
def syncdub_output_path(item, dub, mode, services):
    return f"/out/{item}.{mode}.mkv"


@hookimpl
def syncdub_library_changed(paths, item, services):
    return None
