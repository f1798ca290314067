"""A plugin whose import fails: it is logged and skipped, the others still load."""
from __future__ import annotations

import syncdub_no_such_module_for_tests  # noqa: F401
