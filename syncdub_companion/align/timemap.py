"""The aligner's result: a piecewise-linear map from the dub's timeline onto the original's."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Segment:
    """Dub interval [dub_start, dub_end] maps linearly onto [orig_start, orig_end] (seconds)."""

    dub_start: float
    dub_end: float
    orig_start: float
    orig_end: float

    @property
    def speed(self) -> float:
        """Dub seconds per original second."""
        return (self.dub_end - self.dub_start) / (self.orig_end - self.orig_start)

    def to_orig(self, t: float) -> float:
        return self.orig_start + (t - self.dub_start) / self.speed

    def to_dub(self, t: float) -> float:
        return self.dub_start + (t - self.orig_start) * self.speed


@dataclass(frozen=True)
class Anchor:
    """One piece of evidence that dub time ``dub`` plays at original time ``orig``.

    ``weight`` is the evidence's strength (0-1); ``kind`` names its source (audio, speech).
    """

    dub: float
    orig: float
    weight: float = 1.0
    kind: str = "audio"


@dataclass
class TimeMap:
    """Result of an alignment. ``verdict`` is ``aligned``; ``rejected`` (``segments`` empty);
    or ``review``: a map that audio alone could not vouch for and speech did not judge
    (or contradicted), kept with its segments for inspection and never merged (only
    ``aligned`` merges)."""

    verdict: str
    confidence: float
    reason: str
    speed: float
    segments: list[Segment] = field(default_factory=list)
    anchors: list[Anchor] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def aligned(self) -> bool:
        return self.verdict == "aligned"

    def to_orig(self, t: float) -> float | None:
        """Original time of dub time ``t``, or None when ``t`` lies in no segment."""
        for seg in self.segments:
            if seg.dub_start <= t <= seg.dub_end:
                return seg.to_orig(t)
        return None

    def is_pure_offset(self, tolerance: float = 1e-4) -> bool:
        """One segment at speed 1: the dub can be stream-copied with a delay."""
        return len(self.segments) == 1 and abs(self.segments[0].speed - 1.0) < tolerance

    def to_dict(self, with_anchors: bool = False) -> dict[str, Any]:
        out = {
            "verdict": self.verdict,
            "confidence": round(self.confidence, 4),
            "reason": self.reason,
            "speed": self.speed,
            "segments": [{k: round(v, 6) for k, v in asdict(s).items()} for s in self.segments],
        }
        if with_anchors:
            out["anchors"] = [asdict(a) for a in self.anchors]
            out["details"] = self.details
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TimeMap":
        return cls(
            verdict=data["verdict"],
            confidence=float(data.get("confidence", 0.0)),
            reason=data.get("reason", ""),
            speed=float(data.get("speed", 1.0)),
            segments=[Segment(**s) for s in data.get("segments", [])],
            anchors=[Anchor(**a) for a in data.get("anchors", [])],
            details=dict(data.get("details", {})),
        )

    def summary(self) -> str:
        if not self.aligned:
            return f"{'held for review' if self.verdict == 'review' else 'rejected'} ({self.reason})"
        first = self.segments[0]
        offset = first.orig_start - first.dub_start / first.speed
        return (f"{len(self.segments)} segment(s), speed {self.speed:.6f}, "
                f"offset {offset:+.3f} s, confidence {self.confidence:.2f}")
