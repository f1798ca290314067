"""The merge: write a synced dub track into a library MKV without ever risking the original.

``resync`` is the one entry point (job runner and CLI); ``cleanup_leftovers`` runs at start.
"""
from __future__ import annotations

from .api import MergeResult, align_pair, resync, skipped_result
from .cleanup import cleanup_leftovers, journal_dir
from .plan import MergePlan

__all__ = ["resync", "align_pair", "skipped_result", "MergeResult", "MergePlan", "cleanup_leftovers", "journal_dir"]
