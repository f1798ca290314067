"""A plugin that is a package, using a relative import of its own helper module."""
from __future__ import annotations

from syncdub_companion import hookimpl

from .helper import candidates_for


@hookimpl
def syncdub_find_counterparts(item, services):
    return candidates_for(item)
