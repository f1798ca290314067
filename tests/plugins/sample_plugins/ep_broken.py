"""Installed as syncdub_ep_broken: importing it fails, so the plugin is skipped."""
from __future__ import annotations

raise RuntimeError("ep_broken cannot start: missing its API key")
