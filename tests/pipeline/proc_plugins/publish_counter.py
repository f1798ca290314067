"""Test plugin (loaded through plugins.dir): appends each published path to $SYNCDUB_TEST_PUBLISH_LOG."""
from __future__ import annotations

import os

from syncdub_companion import hookimpl


@hookimpl
def syncdub_library_changed(paths, item, services):
    with open(os.environ["SYNCDUB_TEST_PUBLISH_LOG"], "a") as fh:
        for path in paths:
            fh.write(path + "\n")
