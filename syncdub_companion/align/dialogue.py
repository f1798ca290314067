"""Dialogue rhythm: stretches carried into a gap where the bed is silent, line by line.

Where the music-and-effects bed is silent (a dialogue-only scene, the end of a scene after
its music stops) the bed cannot say where a cut or an inserted scene lies, so the stretches
on either side stop where their bed last matched. The full mix still carries the
dialogue, and a dub speaks its lines where the original speaks its own: a line starts
within a fraction of a second of the original line (dubbing keeps the lip movements; the
corpus recordings differ by up to 0.5 s of lead silence). The words differ, so the rhythm
says which of the neighbouring stretches a line belongs to, never an offset: the offsets
stay the bed's.

A stretch is carried into the gap line by line while every line start on either side has
its counterpart under that stretch's offset, and only where neither file's bed has sound
(where the bed has sound, it has already had its say). A bed that sounds only while its
own file speaks is that file's dialogue leaking into it (a stereo dub's centre not quite
cancelled, a tape's hiss riding on the voice), and does not count. It stops at the first line without
one: the next stretch's first line, a line of an inserted scene, or one that was cut. A
cut between two stretches then lies in the pause between their last and first lines,
where nothing is audible on either timeline; an inserted scene keeps most of the pauses
around it unmapped.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import binary_opening, minimum_filter1d

from .features import FPS, Features

# A line start and its counterpart may differ by this much (frames at 100 Hz).
ONSET_TOLERANCE = 50
# A line is sound with no pause of PAUSE or more inside it, and lasts MIN_LINE or more.
PAUSE = 30
MIN_LINE = 10
# A stretch is carried on only by at least this many agreeing dub line starts: one lands
# within 0.5 s of some original line start by chance about one time in four. A single line
# (its start agreeing both ways) carries a stretch only across a whole silent-bed gap
# with nothing against it.
MIN_LINES = 2
# A line start where the other file stays silent (within ONSET_TOLERANCE) is evidence
# against; it outweighs this many agreeing ones. A line start where the other file is in
# the middle of a line proves nothing either way (a line's internal pause, another length).
MISS_WEIGHT = 3.0
# Dialogue: SPEECH_DB over the quietest sound around it (10 s), and no more than FLOOR_DB
# under the track's loud level. The bed counts as sounding BED_RANGE_DB under its loud level.
SPEECH_DB = 15.0
FLOOR_DB = 50.0
BED_RANGE_DB = 35.0
# The bed sounds where it does so for BED_MIN_RUN frames or more (0.1 s).
BED_MIN_RUN = 10
# Into a pause that borders dub-only content, a stretch reaches this share of the pause:
# the scene boundary lies inside the pause, and mapping dub-only sound is the worse mistake.
PAUSE_SHARE = 0.4


@dataclass(frozen=True)
class Rhythm:
    """What the dialogue filler needs, every array at 100 Hz on the original's clock (the dub
    re-timed onto it, as the segmentation sees it)."""

    dub_active: np.ndarray    # bool per frame: dialogue-level sound
    orig_active: np.ndarray
    dub_bed: np.ndarray       # bool per frame: the bed has sound
    orig_bed: np.ndarray

    @classmethod
    def of(cls, dub_full: Features, dub_bed: Features, orig: tuple[np.ndarray, np.ndarray]) -> "Rhythm":
        """The rhythm of a dub (re-timed onto the original's clock) against ``orig``, the
        original's :func:`side`."""
        return cls(active(dub_full), orig[0], bed_sounding(dub_bed), orig[1])

    @staticmethod
    def side(full: Features, bed: Features) -> tuple[np.ndarray, np.ndarray]:
        """One file's (dialogue, bed sounding) masks. The original's depend on it alone, so
        the aligner takes them while the dub still decodes; the dub's only once re-timed."""
        return active(full), bed_sounding(bed)

    def lines(self, side: str) -> list[tuple[int, int]]:
        return lines(self.dub_active if side == "dub" else self.orig_active)


def level_db(feat: Features) -> np.ndarray:
    """Total power per frame in dB (relative; the band floor keeps digital silence finite)."""
    # The powers in float32 (a sixth of the time for 2 hours of frames), their sum in float64.
    return 10.0 * np.log10(np.power(np.float32(10.0), feat.log_energy).sum(axis=1, dtype=np.float64))


def sounding(feat: Features, range_db: float) -> np.ndarray:
    level = level_db(feat)
    top = np.percentile(level, 95) if len(level) else 0.0
    return level > top - range_db


def bed_sounding(feat: Features) -> np.ndarray:
    """Frames where the bed sounds for BED_MIN_RUN frames or more: a frame or two over the
    line is tape hiss or a codec's noise, not a sound the other file would have."""
    mask = sounding(feat, BED_RANGE_DB)
    return binary_opening(mask, structure=np.ones(BED_MIN_RUN, dtype=bool)) if len(mask) else mask


def active(feat: Features) -> np.ndarray:
    """Frames clearly over the quietest sound around them (room tone, codec noise)."""
    level = level_db(feat)
    if not len(level):
        return np.zeros(0, dtype=bool)
    top = np.percentile(level, 95)
    floor = minimum_filter1d(level, int(10 * FPS) + 1, mode="nearest")
    return (level > floor + SPEECH_DB) & (level > top - FLOOR_DB)


def lines(active: np.ndarray) -> list[tuple[int, int]]:
    """(first frame, end frame) of each line: sound with no pause of PAUSE frames inside."""
    merged: list[list[int]] = []
    for s, e in _runs(active):
        if merged and s - merged[-1][1] < PAUSE:
            merged[-1][1] = e
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged if e - s >= MIN_LINE]


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _reach(rhythm: Rhythm, lag: int, frames: range) -> int:
    """How many of ``frames`` (walked in order) pass before either bed sounds under ``lag``
    outside its own file's dialogue.

    Seed 1 (a tape dub, its bed sounding under every English line and silent between)
    stopped both stretches within 0.7 s of a 19 s silent-bed gap holding a cut."""
    n_orig = len(rhythm.orig_bed)
    for i, f in enumerate(frames):
        o = f + lag
        if f >= len(rhythm.dub_bed) or not 0 <= o < n_orig:
            return i
        if rhythm.dub_bed[f] and not rhythm.dub_active[f] or rhythm.orig_bed[o] and not rhythm.orig_active[o]:
            return i
    return len(frames)


@dataclass(frozen=True)
class Event:
    """A line start inside a gap, in dub frames, and what the other file does there under a lag."""

    at: int
    end: int          # where the line ends (dub frames)
    score: float      # +1 agreeing line start, -MISS_WEIGHT other file silent, 0 other file mid-line
    dub: bool         # a dub line (else an original line mapped onto the dub)


def events(rhythm: Rhythm, dub_lines, orig_lines, lag: int, lo: int, hi: int) -> list[Event]:
    """Line starts of either file within dub frames [lo, hi) under ``lag``, judged."""
    dub_starts = np.array([s for s, _ in dub_lines], dtype=np.int64)
    orig_starts = np.array([s for s, _ in orig_lines], dtype=np.int64)
    out = []
    for s, e in dub_lines:
        if lo <= s < hi:
            out.append(Event(s, e, _judge(orig_starts, rhythm.orig_active, s + lag), True))
    for s, e in orig_lines:
        if lo <= s - lag < hi:
            out.append(Event(s - lag, e - lag, _judge(dub_starts, rhythm.dub_active, s - lag), False))
    return sorted(out, key=lambda ev: ev.at)


def _judge(starts: np.ndarray, active: np.ndarray, at: int) -> float:
    k = int(np.searchsorted(starts, at))
    if any(abs(int(starts[i]) - at) <= ONSET_TOLERANCE for i in (k - 1, k) if 0 <= i < len(starts)):
        return 1.0
    lo, hi = max(0, at - ONSET_TOLERANCE), min(len(active), at + ONSET_TOLERANCE + 1)
    return -MISS_WEIGHT if hi <= lo or not active[lo:hi].any() else 0.0


def carry(path: np.ndarray, lags: list[int], rhythm: Rhythm) -> tuple[np.ndarray, np.ndarray]:
    """``path`` (state per frame, -1 for no match) with stretches carried into the gaps
    next to them, and a mask of the frames so carried."""
    out = path.copy()
    carried = np.zeros(len(path), dtype=bool)
    dub_lines, orig_lines = rhythm.lines("dub"), rhythm.lines("orig")
    for s, e in _gaps(path):
        left = int(path[s - 1]) if s > 0 else -1
        right = int(path[e]) if e < len(path) else -1
        if left == right:
            continue  # one offset on both sides: continuity's business, not the rhythm's
        sides = []
        for state, forward in ((left, True), (right, False)):
            if state == -1:
                sides.append(None)
                continue
            frames = range(s, e) if forward else range(e - 1, s - 1, -1)
            reach = _reach(rhythm, lags[state], frames)
            zone = (s, s + reach) if forward else (e - reach, e)
            sides.append((zone, events(rhythm, dub_lines, orig_lines, lags[state], *zone)))
        a, b = split(*_without_ambiguous(sides), s, e)
        if a > s:
            out[s:a], carried[s:a] = left, True
        if b < e:
            out[b:e], carried[b:e] = right, True
    return out, carried


def _without_ambiguous(sides):
    """Both sides' events, with every dub line start that agrees under both offsets (and
    the original starts paired with it) made neutral: it is evidence for neither."""
    if None in sides:
        return sides
    agreeing = [{ev.at for ev in evs if ev.dub and ev.score > 0} for _, evs in sides]
    both = np.array(sorted(agreeing[0] & agreeing[1]), dtype=np.int64)
    if not len(both):
        return sides

    def neutral(ev: Event) -> Event:
        near = len(both) and np.abs(both - ev.at).min() <= ONSET_TOLERANCE
        return Event(ev.at, ev.end, 0.0, ev.dub) if near and ev.score > 0 else ev

    return [(zone, [neutral(ev) for ev in evs]) for zone, evs in sides]


def _gaps(path: np.ndarray) -> list[tuple[int, int]]:
    return [(s, e) for s, e in _runs(path == -1)]


def split(left, right, s: int, e: int) -> tuple[int, int]:
    """Where the left stretch ends (a) and the right one starts (b) in the gap [s, e).

    ``left``/``right`` are (zone it may reach, its events) or None. The left stretch takes
    its events up to some point and the right one its events from some later point; the
    choice maximises their summed scores, each side needing MIN_LINES agreeing starts,
    and ties keep less. A stretch ends in the pause after its last line: half-way to
    the other stretch's first line where nothing lies between (a cut), else
    PAUSE_SHARE of the way to the next line (an inserted scene may start there).
    """
    nothing = [(0.0, 0, None, None)]
    lk = nothing + (_prefixes(left[1], left[0], forward=True) if left else [])
    rk = nothing + (_prefixes(right[1], right[0], forward=False) if right else [])
    best = (0.0, 0, s, None, e, None)
    for l_score, l_n, l_last, l_next in lk:
        for r_score, r_n, r_first, r_prev in rk:
            if l_n and r_n and l_last > r_first:
                continue
            score = l_score + r_score
            if score > best[0] + 1e-9:
                best = (score, 0, l_last if l_n else s, l_next if l_n else None,
                        r_first if r_n else e, r_prev if r_n else None)
    _, _, a, a_next, b, b_prev = best
    between = [ev for side in (left, right) if side for ev in side[1] if ev.dub and a <= ev.at < b]
    # A cut only where the two walks meet: between two zones lies sounding bed that matched
    # neither stretch (an inserted scene with its own music), never a cut in a pause.
    meet = a_next is not None and b_prev is not None and a_next >= b and b_prev <= a
    if meet and not between:
        a = b = a + (b - a) // 2                     # a cut in the pause between them
    else:
        if a_next is not None:
            a += int(PAUSE_SHARE * max(0, min(a_next, b) - a))
        if b_prev is not None:
            b -= int(PAUSE_SHARE * max(0, b - max(b_prev, a)))
    a = int(np.clip(a, s, e))
    return a, int(np.clip(max(b, a), s, e))


def _prefixes(evs: list[Event], zone: tuple[int, int], forward: bool):
    """Each way to take the events nearest the stretch: (score, agreeing dub starts, the
    frame the taken lines reach (end, or start backward), the next event's frame or the
    zone's far end (its end, backward)); only sets with MIN_LINES agreeing starts, no line
    running out of the zone on the far side, and no evidence against. A line that runs
    on into the stretch itself is the bed's to judge, and is passed over."""
    order = evs if forward else evs[::-1]
    near, far = (zone[0], zone[1]) if forward else (zone[1], zone[0])
    out = []
    score, agreed, agreed_dub, reach = 0.0, 0, 0, None
    for i, ev in enumerate(order):
        if not forward and ev.end > near:
            continue
        if ev.score < 0 or (ev.end > far if forward else ev.at < far):
            break
        score += ev.score
        agreed += ev.score > 0
        agreed_dub += ev.dub and ev.score > 0
        reach = max(reach or ev.end, ev.end) if forward else min(reach if reach is not None else ev.at, ev.at)
        nxt = order[i + 1] if i + 1 < len(order) else None
        following = (nxt.at if forward else nxt.end) if nxt is not None else far
        # One line pair carries a stretch only over its whole zone, with nothing against.
        if ev.score > 0 and (agreed_dub >= MIN_LINES or agreed >= MIN_LINES and nxt is None):
            out.append((score, agreed, reach, following))
    return out
