"""A lap clock: seconds per step, for results, job details and benchmarks."""
from __future__ import annotations

import time


class LapClock:
    """``lap(name)`` records the seconds since the previous lap (adding up repeated names)."""

    def __init__(self):
        self.start = self.t = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(self.laps.get(name, 0.0) + now - self.t, 3)
        self.t = now

    @property
    def total(self) -> float:
        return time.perf_counter() - self.start
