from __future__ import annotations


def candidates_for(item):
    return [f"dub-of-{item}"]
