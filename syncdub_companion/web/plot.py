"""The time-map plot on the job page: an SVG drawn on the server with matplotlib (Agg).

Top panel: dub time against original time. Each segment is a line, each anchor a dot
coloured by its kind, and the gaps between segments (the cuts) are shaded so they show
at a glance. Bottom panel: how far each anchor lies from the fitted map, in
milliseconds, which shows how well the evidence agrees.
"""
from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")  # no display on a server; must precede any pyplot import elsewhere

from matplotlib.figure import Figure  # noqa: E402  (after the backend is chosen)

from ..align.timemap import TimeMap  # noqa: E402

KIND_COLOURS = {"audio": "#1f77b4", "speech": "#d62728", "music": "#2ca02c", "silence": "#7f7f7f"}
OTHER_COLOURS = ("#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf")
SEGMENT_COLOUR = "#222222"
CUT_COLOUR = "#f4a261"


def render_svg(timemap: TimeMap, title: str = "") -> bytes:
    """The plot of ``timemap`` as SVG bytes; works for rejected maps (anchors only) too."""
    fig = Figure(figsize=(9, 6.2), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1.3))
    _draw_map(top, timemap)
    _draw_residuals(bottom, timemap)
    heading = title or _heading(timemap)
    top.set_title(heading, fontsize=11, loc="left")
    buf = io.BytesIO()
    # a fixed id salt and no date: the same map gives the same bytes (cacheable, testable)
    with matplotlib.rc_context({"svg.hashsalt": "syncdub"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def _heading(timemap: TimeMap) -> str:
    if timemap.verdict == "review":  # a map kept for a user to hear, not a rejection
        reason = timemap.reason or "unsure"
        return reason if reason.startswith("held for review") else f"held for review: {reason}"
    if not timemap.aligned:
        return f"rejected: {timemap.reason}"
    cuts = len(cuts_of(timemap))
    return (f"{len(timemap.segments)} segment(s), {cuts} cut(s), speed {timemap.speed:.5f}, "
            f"confidence {timemap.confidence:.2f}")


def cuts_of(timemap: TimeMap) -> list[tuple[float, float, float, float]]:
    """Where consecutive segments do not join: (orig_end, orig_next_start, dub_end, dub_next_start)."""
    segs = sorted(timemap.segments, key=lambda s: s.orig_start)
    out = []
    for a, b in zip(segs, segs[1:]):
        if abs(b.orig_start - a.orig_end) > 0.05 or abs(b.dub_start - a.dub_end) > 0.05:
            out.append((a.orig_end, b.orig_start, a.dub_end, b.dub_start))
    return out


def kind_colour(kind: str, seen: dict[str, str]) -> str:
    """A stable colour per anchor kind; unknown kinds take the next spare colour."""
    if kind in KIND_COLOURS:
        return KIND_COLOURS[kind]
    if kind not in seen:
        seen[kind] = OTHER_COLOURS[len(seen) % len(OTHER_COLOURS)]
    return seen[kind]


def _draw_map(ax, timemap: TimeMap) -> None:
    for i, (o0, o1, d0, d1) in enumerate(cuts_of(timemap)):
        lo, hi = sorted((o0, o1))
        # a cut that drops nothing from the original still needs to be seen: give it width
        if hi - lo < 0.5:
            ax.axvline((lo + hi) / 2, color=CUT_COLOUR, lw=2, alpha=0.8, label="cut" if i == 0 else None)
        else:
            ax.axvspan(lo, hi, color=CUT_COLOUR, alpha=0.3, label="cut" if i == 0 else None)
        ax.annotate(f"{(d1 - d0) - (o1 - o0):+.1f} s", ((o0 + o1) / 2, (d0 + d1) / 2), fontsize=8,
                    ha="center", va="bottom", xytext=(0, 6), textcoords="offset points", color="#b35806")
    for i, seg in enumerate(timemap.segments):
        ax.plot([seg.orig_start, seg.orig_end], [seg.dub_start, seg.dub_end], color=SEGMENT_COLOUR,
                lw=2.2, solid_capstyle="butt", label="segment" if i == 0 else None, zorder=3)
    spare: dict[str, str] = {}
    for kind, anchors in _by_kind(timemap).items():
        ax.scatter([a.orig for a in anchors], [a.dub for a in anchors], s=[8 + 28 * a.weight for a in anchors],
                   color=kind_colour(kind, spare), alpha=0.75, label=f"{kind} anchors ({len(anchors)})",
                   edgecolors="none", zorder=4)
    ax.set_ylabel("dub time (s)")
    ax.grid(True, color="#e5e5e5", lw=0.6)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize=8, frameon=False)


def _draw_residuals(ax, timemap: TimeMap) -> None:
    spare: dict[str, str] = {}
    drawn = False
    for kind, anchors in _by_kind(timemap).items():
        pts = [(a.orig, r) for a in anchors if (r := residual_ms(timemap, a.dub, a.orig)) is not None]
        if pts:
            ax.scatter(*zip(*pts), s=10, color=kind_colour(kind, spare), alpha=0.75, edgecolors="none")
            drawn = True
    ax.axhline(0, color=SEGMENT_COLOUR, lw=1)
    for o0, o1, _d0, _d1 in cuts_of(timemap):
        ax.axvspan(min(o0, o1), max(o0, o1) + 1e-3, color=CUT_COLOUR, alpha=0.3)
    if not drawn:
        note = "no anchors inside the segments" if timemap.anchors else "no anchors were stored with this map"
        ax.text(0.5, 0.5, note, transform=ax.transAxes, ha="center", va="center", fontsize=9, color="#777777")
    ax.set_ylabel("anchor error (ms)")
    ax.set_xlabel("original time (s)")
    ax.grid(True, color="#e5e5e5", lw=0.6)


def residual_ms(timemap: TimeMap, dub: float, orig: float) -> float | None:
    """Milliseconds between an anchor's original time and where the map puts its dub time."""
    mapped = timemap.to_orig(dub)
    if mapped is None or math.isnan(mapped):
        return None
    return (orig - mapped) * 1000.0


def _by_kind(timemap: TimeMap) -> dict[str, list]:
    groups: dict[str, list] = {}
    for anchor in timemap.anchors:
        groups.setdefault(anchor.kind or "audio", []).append(anchor)
    return groups
