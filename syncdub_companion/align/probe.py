"""The probe path (``align.read = "probe"``): read windows of both files, not the whole films.

On a NAS the read is the cost: decoding a track makes ffmpeg read every cluster of the file,
picture included (a 30 GB remux is four minutes over gigabit). A dub differs from the
original by an offset, a film-rate speed and a handful of edits, and a few dozen seeks find
them:

1. scouts: SCOUTS dub windows spread over the film, the lead searched for at every film
   ratio in an original window that the durations' ratio places, SCOUT_MARGIN wide either
   side, the others near the line it implies;
2. checks: CHECKS more dub windows, each looked for near the scouts' line, then near its
   neighbour's offset, then widely; each window that matches is a knot (align/probe_edits.py);
3. the edges: the first and last EDGE_S of the dub are aligned by the full engine against
   the stretch of the original the nearest knot's line puts them at;
4. the edits: between knots on different offsets the middle window is placed on each side's
   line until the edit lies within EDIT_SPAN, and the full engine maps that stretch;
5. the map: the edges, the edits and straight stretches along the knots' lines.

Anything else returns a reason instead of a map, and the caller decodes both files in full:
the fallback decides. What no window can see is an insert and a cut of the same length
between two neighbouring knots; docs/aligner.md says so, and that is why this path is an
option.
"""
from __future__ import annotations

import logging
import os
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ..errors import MediaError
from ..tools import process
from ..tools.ffmpeg import FFmpeg
from ..timing import LapClock
from ..tools.ffprobe import AudioStream
from .decode import SAMPLE_RATE, DecodedTrack, bed_worth_using, decode_pcm, last_error
from .features import FPS, Features, detail, features_of, frame_time, onset_envelope, resample_features
from .search import KNOWN_SPEEDS, OriginalIndex, chance_bound, local_search, ncc_floor
from .probe_edits import (EDIT_SPAN, ENGINE_PAD, MAX_ENGINE_SHARE, Claim, Knot, Line, NoProof, Stretch, assembled,
                          Unjoined, edit_window, joined_stretch, line_of, pairwise_speed, runs_of, shared_speed,
                          snapped, stretches)
from .timemap import Anchor, Segment, TimeMap

log = logging.getLogger(__name__)

SCOUTS = 4
SCOUT_S = 30.0
SCOUT_MARGIN = 75.0      # how far the durations' ratio may misplace a scout (logos, a cut near an end)
SCOUT_NEAR = 20.0        # the other scouts: this far either side of the lead's line (a 0.1 % speed error over an hour is 3.6 s)
LEADS = 2                # scouts tried as the lead before giving up
MIN_SCOUTS = 3           # scouts that must match on one line for the checks to look near it first
MIN_PLACED = 2           # scouts that must match at all (a weak bed matches one by luck, and then nothing)
CHECKS = 12
CHECK_S = 15.0
CHECK_MARGIN = 3.0       # a check's original window reaches this far either side of the line
LAG_TOLERANCE = 2.0      # frames (20 ms) a window may sit off the fitted line
MIN_MATCHED = 0.75       # of the checks that sound, the share that must match on the line
EDGE_S = 60.0
EDGE_MARGIN = 15.0
MIN_EDGE_S = 40.0
HALF_RADIUS = 6          # frames either side of a window's lag its halves are looked for
# A half of a true match can be weak (7.5 s of a 5.1 bed against a stereo one: NCC 0.17); half
# the chance bound is two of chance's deviations. Across a large edit a half finds nothing there.
HALF_NCC = 0.45
MIN_LOUD = 0.3           # a window quieter than this share of frames is no evidence either way
CALIBRATE_S = 40.0
SNIPPET_S = 2.0
SHIFT_SEARCH = 800       # samples (0.1 s) a seek may land off
READERS = max(1, min(4, os.cpu_count() or 1))
MAX_EDIT_SHARE = 0.5     # of the stretches between knots: more edits than that are the full decode's work
VERY_WIDE = 300.0        # s either side: the last search for a window whose neighbours' offsets are all far off
MAX_VERY_WIDE = 2        # such searches per film (each reads 10 minutes of the original)
MAX_DOUBTED = 4          # wide-search knots an edit's map may overrule before the full decode decides


@dataclass
class Window:
    """One decoded stretch of a file: where it starts on the file's timeline, and its track."""

    start: float
    track: DecodedTrack


@dataclass
class Reader:
    """Seeks into one file and decodes windows of its track, counting what ffmpeg read."""

    ffmpeg: str
    path: str
    stream: AudioStream
    kind: str
    duration: float
    read_bytes: int = 0
    decoded_s: float = 0.0
    seek_shift: float = 0.0   # where a seeked window really starts, against where it was asked to
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def read(self, start: float, seconds: float) -> Window:
        start = float(np.clip(start, 0.0, max(0.0, self.duration - 1.0)))
        seconds = max(1.0, min(seconds, self.duration - start))
        pcm = self._decode(start, seconds)
        return self._window(start + (self.seek_shift if start > 0 else 0.0), pcm)

    def _decode(self, start: float, seconds: float) -> np.ndarray:
        argv = FFmpeg(self.ffmpeg).decode_argv(self.path, self.stream.stream_index, decode_pcm(self.stream, self.kind),
                                               seek=start if start > 0 else None, duration=seconds)
        pcm, read = _run_counting(argv)
        with self._lock:
            self.read_bytes += read
        if len(pcm) < SAMPLE_RATE:
            raise MediaError(f"{self.path}: nothing decoded at {start:.1f} s")
        return pcm

    def calibrate(self) -> float:
        """Measure :attr:`seek_shift` against a decode from the first sample.

        A seek into Opus in Matroska lands 8 ms early unless it hits a cluster's start, and
        the map must hold on the timeline of the full decode (the one the merge plays): a few
        short seeked snippets inside the file's first CALIBRATE_S are compared, sample by
        sample, with the same stretch decoded without a seek. Their median shift is applied
        to every seeked window; snippets that find nothing (silence) are not counted.
        """
        head = self._decode(0.0, min(CALIBRATE_S, self.duration))[:, 1].astype(np.float64)
        shifts = []
        for at in _loudest(head, SNIPPET_S, count=3):
            snippet = self._decode(at, SNIPPET_S)[:, 1].astype(np.float64)
            shift = _shift_in(head, snippet, int(round(at * SAMPLE_RATE)))
            if shift is not None:
                shifts.append(shift)
        self.seek_shift = float(np.median(shifts)) / SAMPLE_RATE if shifts else 0.0
        return self.seek_shift

    def _window(self, start: float, pcm: np.ndarray) -> Window:
        bed, full = pcm[:, 0].copy(), pcm[:, 1].copy()
        f_bed = features_of(bed)
        f_full = features_of(full) if self.kind != "full" else f_bed
        track = DecodedTrack(bed=bed, full=full if self.kind != "full" else bed, stream=self.stream,
                             bed_kind=self.kind, bed_features=f_bed, full_features=f_full)
        with self._lock:
            self.decoded_s += track.duration
        return Window(start, track)


def _run_counting(argv: list[str]) -> tuple[np.ndarray, int]:
    """ffmpeg's samples (n x 2 int16) and the bytes it read (Linux: /proc, read before it is reaped)."""
    proc = process.popen(argv, "ffmpeg", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    errors: list[bytes] = []
    drain = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
    drain.start()
    data = proc.stdout.read()
    drain.join()
    read = _rchar(proc.pid)
    if proc.wait() != 0:
        raise MediaError(f"cannot decode a window ({last_error(errors)})")
    usable = len(data) // 4 * 4
    return np.frombuffer(data[:usable], dtype="<i2").reshape(-1, 2), read


def _loudest(signal: np.ndarray, seconds: float, count: int) -> list[float]:
    """Start times of ``count`` loud, non-overlapping snippets, away from the stretch's ends
    and off whole seconds (where a container's clusters tend to start)."""
    n = int(seconds * SAMPLE_RATE)
    blocks = len(signal) // n - 2
    if blocks < 1:
        return []
    energy = (signal[n:(blocks + 1) * n].reshape(blocks, n) ** 2).mean(axis=1)
    picked = np.sort(np.argsort(-energy)[:count])
    return [(1 + b) * seconds + 0.37 for b in picked if energy[b] > 100.0 and (b + 2) * n + 0.37 * SAMPLE_RATE < len(signal)]


def _shift_in(reference: np.ndarray, snippet: np.ndarray, at: int) -> int | None:
    """Samples by which ``snippet`` (asked for at sample ``at``) sits off in ``reference``."""
    lo, hi = at - SHIFT_SEARCH, at + len(snippet) + SHIFT_SEARCH
    if lo < 0 or hi > len(reference) or np.std(snippet) < 20:
        return None
    region = reference[lo:hi]
    n = len(region) + len(snippet)
    cross = np.fft.irfft(np.fft.rfft(region, n) * np.conj(np.fft.rfft(snippet, n)), n)[:len(region) - len(snippet) + 1]
    energy = np.concatenate([[0.0], np.cumsum(region ** 2)])
    local = energy[len(snippet):] - energy[:-len(snippet)]
    ncc = cross / np.sqrt(np.maximum(local * np.sum(snippet ** 2), 1e-9))
    k = int(np.argmax(ncc))
    return k - SHIFT_SEARCH if ncc[k] >= 0.9 else None


def _rchar(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/io") as fh:
            return next((int(line.split()[1]) for line in fh if line.startswith("rchar:")), 0)
    except OSError:
        return 0


@dataclass
class Placed:
    """A dub window found in the original: dub time ``dub`` plays at original time ``orig``."""

    dub: float
    orig: float
    ncc: float
    z: float = 0.0


def _signal(track: DecodedTrack, use_bed: bool) -> tuple[np.ndarray, Features]:
    return (track.bed, track.bed_features) if use_bed else (track.full, track.full_features)


def place_scout(dub: Window, orig: Window, use_bed: bool, speed: float) -> Placed | None:
    """Where the dub window plays in the (wider) original window at ``speed``: a search of
    the onset envelope over the whole window, then the band features for precision."""
    f_dub = resample_features(_signal(dub.track, use_bed)[1], speed)
    f_orig = _signal(orig.track, use_bed)[1]
    if f_dub.loud.mean() < MIN_LOUD or len(f_dub) + 2 > len(f_orig):
        return None
    env_d = onset_envelope(f_dub)
    found = OriginalIndex(onset_envelope(f_orig), len(env_d) + 2).search(env_d[None, :], np.array([0]))
    if not found:
        return None
    z_dub, z_orig = detail(f_dub), detail(f_orig)
    fine = local_search(z_dub, z_orig, 0, len(f_dub), found[0].lag, radius=20)
    lag = fine.lag if fine is not None and abs(fine.lag - found[0].lag) <= 3 else found[0].lag
    if not _halves_agree(z_dub, z_orig, f_dub.loud, lag):
        return None
    return _placed(dub, orig, speed, len(f_dub), lag, fine.ncc if fine is not None else found[0].ncc, found[0].z)


def place_check(dub: Window, orig: Window, use_bed: bool, speed: float, lag: float) -> Placed | None:
    """The dub window near ``lag`` (frames of the resampled dub against the original window).

    A window across an edit matches each side partly, at a lag of neither: each half of it
    that sounds must match near the whole's lag, or the window proves nothing.
    """
    f_dub = resample_features(_signal(dub.track, use_bed)[1], speed)
    f_orig = _signal(orig.track, use_bed)[1]
    z_dub, z_orig = detail(f_dub), detail(f_orig)
    m = local_search(z_dub, z_orig, 0, len(f_dub), lag, radius=int(CHECK_MARGIN * FPS * 0.8))
    if m is None or not _halves_agree(z_dub, z_orig, f_dub.loud, m.lag):
        return None
    return _placed(dub, orig, speed, len(f_dub), m.lag, m.ncc)


def _halves_agree(z_dub: np.ndarray, z_orig: np.ndarray, loud: np.ndarray, lag: float) -> bool:
    half = len(z_dub) // 2
    for start in (0, half):
        if loud[start:start + half].mean() < MIN_LOUD:
            continue
        m = local_search(z_dub, z_orig, start, half, lag, radius=HALF_RADIUS)
        if m is None or m.ncc < HALF_NCC * chance_bound(half) or abs(m.lag - lag) > HALF_RADIUS / 2:
            return False
    return True


def _placed(dub: Window, orig: Window, speed: float, frames: int, lag: float, ncc: float, z: float = 0.0) -> Placed:
    # Resampled frame j holds dub time speed * t_j of the window and sits at original
    # window time t_j + lag / FPS; the anchor is taken at the window's middle frame.
    t = float(frame_time(frames / 2))
    return Placed(dub=dub.start + speed * t, orig=orig.start + t + lag / FPS, ncc=ncc, z=z)


def fit_line(points: list[Placed]) -> Line:
    d = np.array([p.dub for p in points])
    o = np.array([p.orig for p in points])
    w = np.array([max(p.ncc, 0.05) for p in points]) ** 2
    a = np.vstack([d, np.ones_like(d)]).T * np.sqrt(w)[:, None]
    (slope, offset), *_ = np.linalg.lstsq(a, o * np.sqrt(w), rcond=None)
    return Line(speed=1.0 / slope, offset=float(offset))


def spread(start: float, end: float, count: int) -> list[float]:
    """``count`` evenly spaced points strictly inside [start, end]."""
    step = (end - start) / (count + 1)
    return [start + step * (i + 1) for i in range(count)]


def align_by_probes(original: str, dubbed: str, streams: tuple[AudioStream, AudioStream], kinds: tuple[str, str],
                    opts, accept_z: tuple[float, float], probe: dict) -> TimeMap:
    """An ``aligned`` map proved from windows of both files; NoProof (with the reason) otherwise.

    ``accept_z``: the engine's probe z for the bed and for the full mix. ``probe`` receives
    what the windows found and what they read, whichever way it ends. This path never
    rejects a pair: whatever it cannot prove, the full decode judges.
    """
    s_orig, s_dub = streams
    if not s_orig.duration or not s_dub.duration:
        raise NoProof("a file's duration is unknown")
    orig = Reader(opts.ffmpeg, original, s_orig, kinds[0], float(s_orig.duration))
    dub = Reader(opts.ffmpeg, dubbed, s_dub, kinds[1], float(s_dub.duration))
    with ThreadPoolExecutor(READERS) as pool:
        clock = LapClock()
        try:
            shifts = list(pool.map(Reader.calibrate, (orig, dub)))
            probe["seek_shift_ms"] = {"original": round(shifts[0] * 1000, 2), "dubbed": round(shifts[1] * 1000, 2)}
            clock.lap("calibrate")
            scouting = _scout(pool, orig, dub, accept_z, probe)
            clock.lap("scouts")
            knots = _check(pool, orig, dub, scouting, probe)
            clock.lap("checks")
            segments, knots = _mapped(pool, orig, dub, knots, scouting, opts, probe, clock)
        except MediaError as exc:   # a window that does not decode: the full decode will say why
            clock.lap("until it fell back")
            raise NoProof(f"a window could not be read ({exc})") from None
        except NoProof:
            clock.lap("until it fell back")
            raise
        finally:
            probe["laps"] = clock.laps
            probe["read_bytes"] = {"original": orig.read_bytes, "dubbed": dub.read_bytes}
            probe["decoded_s"] = {"original": round(orig.decoded_s, 1), "dubbed": round(dub.decoded_s, 1)}
    segments = _clip(segments, orig.duration, dub.duration)
    return _verdict(segments, knots, scouting.use_bed, orig.duration, dub.duration, probe, opts)


def _read_all(pool, jobs: list[tuple[Reader, float, float]]) -> list[Window]:
    return list(pool.map(lambda job: job[0].read(job[1], job[2]), jobs))


@dataclass
class Scouting:
    """What the scouts found: the signal, the z a wide search must reach, the line to look
    near first, and the scouts placed (on that line or off it)."""

    use_bed: bool
    z_needed: float
    line: Line
    knots: list[Knot]


def _scout(pool, orig: Reader, dub: Reader, accept_z: tuple[float, float], probe: dict) -> Scouting:
    """The line to look near: a lead scout is searched for widely, the others near the line it
    implies (reading a third as much of the original). Where three agree, their fitted line;
    otherwise the lead's, and each scout that matched elsewhere is a knot of its own."""
    ratio = orig.duration / dub.duration
    wide = min(SCOUT_MARGIN, 0.1 * orig.duration)
    centres = spread(0.0, dub.duration, SCOUTS)
    dubs = _read_all(pool, [(dub, c - SCOUT_S / 2, SCOUT_S) for c in centres])
    use_bed, z_needed, lead, speed = None, 0.0, None, 1.0
    for i in sorted(range(SCOUTS), key=lambda k: abs(k - (SCOUTS - 1) / 2))[:LEADS]:   # middle ones first
        window = orig.read(ratio * centres[i] - 0.55 * SCOUT_S - wide, 1.1 * SCOUT_S + 2 * wide)
        if use_bed is None:
            use_bed = orig.kind != "full" and _beds_sound([w.track for w in dubs] + [window.track])
            z_needed = accept_z[0] if use_bed else accept_z[1]
        found = [(p, sp) for sp in KNOWN_SPEEDS if (p := place_scout(dubs[i], window, use_bed, sp)) is not None]
        if found:
            best, best_speed = max(found, key=lambda f: f[0].z)
            if best.z >= z_needed:
                lead, speed = (i, best, window), best_speed
                break
    probe.update(signal="bed" if use_bed else "full", scout_speed=speed)
    if lead is None:
        raise NoProof(f"no scout window matches the original within {wide:.0f} s of where the durations put it")
    guess = Line(speed=speed, offset=lead[1].orig - lead[1].dub / speed)
    rest = [j for j in range(SCOUTS) if j != lead[0]]
    windows = _read_all(pool, [(orig, guess.orig(dubs[j].start) - SCOUT_NEAR, SCOUT_S / speed + 2 * SCOUT_NEAR)
                               for j in rest])
    pairs = [(dubs[lead[0]], lead[2])] + [(dubs[j], w) for j, w in zip(rest, windows)]

    def placed_at(sp: float) -> list[Placed]:
        return [p for p in (place_scout(d, o, use_bed, sp) for d, o in pairs) if p is not None and p.z >= z_needed]

    placed = placed_at(speed)
    if len(placed) < MIN_PLACED:
        raise NoProof(f"{len(placed)} of {SCOUTS} scout windows matched the original: too little to go on")
    line = _scouts_line(placed, guess)
    if line is not guess and abs(line.speed / speed - 1) > 5e-4:   # off the lead's film ratio: place them again
        placed = placed_at(line.speed)
        line = _scouts_line(placed, guess)
        if line is guess:
            raise NoProof("the scout windows match off the film ratios, but not all of them at one speed")
    probe["scouts"] = {"placed": len(placed), "on_one_line": line is not guess}
    knots = [Knot(p.dub, p.orig, p.ncc, tentative=_off(line, p)) for p in placed]
    return Scouting(use_bed, z_needed, line, knots)


def _scouts_line(placed: list[Placed], guess: Line) -> Line:
    """The line through the scouts where MIN_SCOUTS lie on it; ``guess`` (the lead's) otherwise."""
    if len(placed) < MIN_SCOUTS:
        return guess
    line = fit_line(placed)
    return line if max(abs(line.off_by(p.dub, p.orig)) for p in placed) <= 2 * LAG_TOLERANCE else guess


def _beds_sound(tracks: list[DecodedTrack]) -> bool:
    """The engine's bed rule over all the windows at once."""
    return bed_worth_using(np.concatenate([t.bed for t in tracks]), np.concatenate([t.full for t in tracks]))


def _check(pool, orig: Reader, dub: Reader, scouting: Scouting, probe: dict) -> list[Knot]:
    """CHECKS windows between the ends, each looked for near the scouts' line, then (in dub
    order) as :func:`_elsewhere` says. A window that sounds and matches nowhere is a knot
    without a place; a silent one is none."""
    line, use_bed = scouting.line, scouting.use_bed
    edge = edge_seconds(dub.duration)
    starts = [c - CHECK_S / 2 for c in spread(edge, dub.duration - edge, CHECKS)]
    jobs: list[tuple[Reader, float, float]] = []
    for d0 in starts:
        jobs += [(dub, d0, CHECK_S), (orig, *_around_line(line, d0))]
    windows = _read_all(pool, jobs)
    knots = list(scouting.knots)
    pending: list[tuple[Knot, Window]] = []
    silent = 0
    for d, o in zip(windows[::2], windows[1::2]):
        p = _near(d, o, line, use_bed)
        if p is not None:
            knots.append(Knot(p.dub, p.orig, p.ncc, tentative=_off(line, p)))
        elif _sounds(d.track, use_bed) and _sounds(o.track, use_bed):
            pending.append((Knot(d.start + CHECK_S / 2, None), d))
        else:
            silent += 1
    knots.sort(key=lambda k: k.dub)
    very_wide = MAX_VERY_WIDE
    for knot, window in pending:
        found, searched = _elsewhere(orig, window, knots, scouting, very_wide)
        very_wide -= searched == VERY_WIDE
        if found is not None:
            knot.orig, knot.dub, knot.ncc, knot.tentative = found.orig, found.dub, found.ncc, searched > 0
        knots.append(knot)
        knots.sort(key=lambda k: k.dub)
    unplaced = sum(not k.found for k in knots)
    probe["checks"] = {"matched": CHECKS - silent - unplaced, "silent": silent, "unmatched": unplaced,
                       "tentative": sum(k.tentative for k in knots)}
    return knots


def _around_line(line: Line, dub_start: float) -> tuple[float, float]:
    """(start, seconds) of the original window a CHECK_S dub window from ``dub_start`` is
    looked for in: where ``line`` puts it, CHECK_MARGIN either side."""
    return line.orig(dub_start) - CHECK_MARGIN, CHECK_S / line.speed + 2 * CHECK_MARGIN


def _near(d: Window, o: Window, line: Line, use_bed: bool) -> Placed | None:
    """The dub window in the original window around ``line``'s prediction, if it matches there."""
    p = place_check(d, o, use_bed, line.speed, (line.orig(d.start) - o.start) * FPS)
    return p if p is not None and p.ncc >= ncc_floor(len(_signal(d.track, use_bed)[1])) else None


def _off(line: Line, p: Placed) -> bool:
    """A window found near a line but not on it: a short edit, or a look-alike bar."""
    return bool(abs(line.off_by(p.dub, p.orig)) > 2 * LAG_TOLERANCE)


def _sounds(track: DecodedTrack, use_bed: bool) -> bool:
    return _signal(track, use_bed)[1].loud.mean() >= MIN_LOUD


def _elsewhere(orig: Reader, d: Window, knots: list[Knot], scouting: Scouting,
               very_wide: int) -> tuple[Placed | None, float]:
    """A check window that missed the scouts' line, looked for near the offsets of the knots
    on either side of it, then SCOUT_MARGIN either side of the one before it (the one after
    it, at the start) with the scouts' z, and VERY_WIDE where ``very_wide`` such searches are
    left. Returns what it found and how far from a line it looked (0: on the line it was
    looked for near; anything else is tentative)."""
    found = [k for k in knots if k.found]
    if not found:
        return None, 0.0
    before = [k for k in found if k.dub < d.start]
    after = [k for k in found if k.dub > d.start]
    speed = scouting.line.speed
    near = [Line(speed, k.orig - k.dub / speed) for k in (before[-1:] + after[:1])]
    tried = [scouting.line]
    for line in near:
        if all(abs(line.offset - t.offset) > CHECK_MARGIN * 0.8 for t in tried):
            tried.append(line)
            if (p := _near(d, orig.read(*_around_line(line, d.start)), line, scouting.use_bed)) is not None:
                return p, CHECK_MARGIN if _off(line, p) else 0.0
    floor = ncc_floor(len(_signal(d.track, scouting.use_bed)[1]))
    for margin in (SCOUT_MARGIN, VERY_WIDE)[:1 + (very_wide > 0)]:
        o = orig.read(near[0].orig(d.start) - margin, CHECK_S / speed + 2 * margin)
        p = place_scout(d, o, scouting.use_bed, speed)
        if p is not None and p.z >= scouting.z_needed and p.ncc >= floor:
            return p, margin
    return None, margin


def _mapped(pool, orig: Reader, dub: Reader, knots: list[Knot], scouting: Scouting, opts, probe: dict,
            clock: LapClock) -> tuple[list[Segment], list[Knot]]:
    """The map's segments from the knots: the ends and every edit's stretch by the full
    engine, the rest straight along the knots' lines. A knot that only a wide search found
    and that an edit's map does not join is dropped (a look-alike bar), and the stretches
    around it are mapped again."""
    doubted = probe.setdefault("doubted", [])
    lines = _retried(lambda: _lines(knots, scouting.line.speed), doubted)
    head, tail = _edges(pool, orig, dub, knots, lines, opts)
    knots = [k for k in (head.knot, head.gap, *knots, tail.gap, tail.knot) if k is not None]
    clock.lap("edges")
    done: dict = {}   # what the halving and the engine found for a stretch, kept for the next try
    segments = _retried(lambda: _pieces(pool, orig, dub, knots, head, tail, scouting, opts, probe, clock, done),
                        doubted)
    return segments, knots


def _retried(work, doubted: list):
    """``work()``, again without each tentative knot that it finds off its line (up to
    MAX_DOUBTED in all); a knot it can trust that is off its line ends the path."""
    while True:
        try:
            return work()
        except Unjoined as exc:
            if not exc.knot.tentative or len(doubted) >= MAX_DOUBTED:
                raise
            doubted.append(round(float(exc.knot.dub), 1))
            exc.knot.orig, exc.knot.tentative = None, False


def _pieces(pool, orig: Reader, dub: Reader, knots: list[Knot], head: "Edge", tail: "Edge", scouting: Scouting,
            opts, probe: dict, clock: LapClock, done: dict) -> list[Segment]:
    lines = _lines(knots, scouting.line.speed)
    spans = stretches(knots, lines)
    blind = sum(s.end.dub - s.start.dub for s in spans if s.blind)
    if blind > MAX_ENGINE_SHARE * dub.duration:
        raise NoProof(f"{blind / 60:.0f} min of the dub lie between windows that matched nowhere")
    probe["knots"] = [[round(float(k.dub), 2),
                       round(float(k.orig - k.dub / lines[id(k)].speed), 3) if k.found else None] for k in knots]
    edits = [i for i, s in enumerate(spans) if not s.straight]
    if len(edits) > MAX_EDIT_SHARE * len(spans) and len(edits) > 2:
        raise NoProof(f"{len(edits)} of {len(spans)} stretches between windows hold an edit: the full decode "
                      "is cheaper")
    _worth_it([min(s.end.dub - s.start.dub, EDIT_SPAN) for s in (spans[i] for i in edits)], dub.duration)
    narrowed = dict(zip(edits, pool.map(lambda i: _once(done, ("halved", _key(spans[i])), _narrowed, orig, dub,
                                                         spans[i], scouting.use_bed), edits)))
    clock.lap("bisection")
    probe["edits"] = [[round(float(narrowed[i].start.dub), 1), round(float(narrowed[i].end.dub), 1)] for i in edits]
    _worth_it([narrowed[i].end.dub - narrowed[i].start.dub for i in edits], dub.duration)
    by_span = dict(zip(edits, pool.map(lambda i: _once(done, ("mapped", _key(narrowed[i])), _edit_map, orig, dub,
                                                       narrowed[i], opts), edits)))
    clock.lap("edits")
    claims = [Claim(0.0, head.knot.dub, head.segments)] if head.knot else []
    for i, span in enumerate(spans):
        claims += _straight(span) if i not in by_span else [
            *_straight(Stretch(span.start, narrowed[i].start, span.start_line, span.start_line)), by_span[i],
            *_straight(Stretch(narrowed[i].end, span.end, span.end_line, span.end_line))]
    claims += [Claim(tail.knot.dub, dub.duration, tail.segments)] if tail.knot else []
    return assembled(claims)


def _key(span: Stretch) -> tuple:
    return span.start.dub, span.end.dub, span.start_line, span.end_line, span.blind


def _once(done: dict, key: tuple, work, *args):
    """``work(*args)`` unless a try before this one did it for the same stretch; what it
    raised is raised again."""
    if key not in done:
        try:
            done[key] = (work(*args), None)
        except NoProof as exc:
            done[key] = (None, exc)
    result, error = done[key]
    if error is not None:
        raise error
    return result


def _worth_it(edit_spans: list[float], dub_s: float) -> None:
    """NoProof where the engine would read more of the dub around the edits than
    MAX_ENGINE_SHARE (checked before the halving too, with each stretch at its least)."""
    engine = sum(span + 2 * ENGINE_PAD for span in edit_spans)
    if engine > MAX_ENGINE_SHARE * dub_s:
        raise NoProof(f"the edits' stretches hold {engine / 60:.0f} min of the dub")


def _straight(span: Stretch) -> list[Claim]:
    """A stretch between two knots on one line (or what halving left of one), if it has length."""
    a, b = span.start.dub, span.end.dub
    return [Claim(a, b, [span.start_line.on(a, b)], yields=True)] if b - a > 1e-3 else []


def _lines(knots: list[Knot], speed: float) -> dict[int, Line]:
    speed = pairwise_speed(knots, speed)
    runs = runs_of(knots, speed)
    if not runs:
        raise NoProof("no window matched the original")
    speed = shared_speed(runs, speed)
    return {id(k): line for run in runs for line in [line_of(run, speed, LAG_TOLERANCE)] for k in run}


@dataclass
class Edge:
    """An end of the dub as the full engine maps it: its segments, the knot where they meet
    the windows' stretches, and a knot without a place where the engine stopped short."""

    segments: list[Segment]
    knot: Knot | None       # None: the engine mapped nothing there
    gap: Knot | None


def _edges(pool, orig: Reader, dub: Reader, knots: list[Knot], lines: dict[int, Line], opts) -> tuple[Edge, Edge]:
    edge = edge_seconds(dub.duration)
    found = [k for k in knots if k.found]
    first, last = lines[id(found[0])], lines[id(found[-1])]
    jobs = []
    for (d0, d1), line in (((0.0, edge), first), ((dub.duration - edge, dub.duration), last)):
        o0 = max(0.0, line.orig(d0) - EDGE_MARGIN)
        jobs += [(dub, d0, d1 - d0), (orig, o0, line.orig(d1) + EDGE_MARGIN - o0)]
    w = _read_all(pool, jobs)
    head, tail = pool.map(lambda pair: _edge_or_nothing(*pair, opts), ((w[0], w[1]), (w[2], w[3])))
    return _head(head, edge, first), _tail(tail, dub.duration - edge, last)


def _edge_or_nothing(dub: Window, orig: Window, opts) -> list[Segment]:
    """An end the engine cannot map (credits over silence, a dub-only logo) stays unmapped:
    the map then starts (or ends) at the nearest knot, and the coverage says what it lost."""
    try:
        return [s for s in _edge_map(dub, orig, opts) if s.dub_end - s.dub_start > 1.0]
    except NoProof:
        return []


def _head(segments: list[Segment], edge: float, line: Line) -> Edge:
    if not segments:
        return Edge([], None, None)
    segments = [snapped(s, (line,)) for s in segments]
    end = segments[-1]
    gap = Knot(edge, None) if end.dub_end < edge - EDGE_MARGIN else None
    return Edge(segments, Knot(end.dub_end, end.orig_end, 1.0), gap)


def _tail(segments: list[Segment], edge: float, line: Line) -> Edge:
    if not segments:
        return Edge([], None, None)
    segments = [snapped(s, (line,)) for s in segments]
    start = segments[0]
    gap = Knot(edge, None) if start.dub_start > edge + EDGE_MARGIN else None
    return Edge(segments, Knot(start.dub_start, start.orig_start, 1.0), gap)


def edge_seconds(duration: float) -> float:
    """How much of each end the full engine aligns: EDGE_S, or a quarter of a short film,
    but never under MIN_EDGE_S (the engine places 20 s chunks)."""
    return min(EDGE_S, max(MIN_EDGE_S, duration / 4))


def _edge_map(dub: Window, orig: Window, opts, min_share: float | None = None) -> list[Segment]:
    """The full engine's map of two windows, on the files' timelines."""
    from .engine import AlignOptions, align_tracks   # the engine calls this module

    edge_opts = AlignOptions(min_confidence=opts.min_confidence if min_share is None else 0.0,
                             min_coverage=opts.min_coverage if min_share is None else min_share, speech="never")
    result = align_tracks(orig.track, dub.track, edge_opts)
    if not result.aligned:
        raise NoProof(f"the full engine does not align the window at {dub.start / 60:.1f} min ({result.reason})")
    return [Segment(s.dub_start + dub.start, s.dub_end + dub.start, s.orig_start + orig.start, s.orig_end + orig.start)
            for s in result.segments]


def _narrowed(orig: Reader, dub: Reader, span: Stretch, use_bed: bool) -> Stretch:
    """An edit's stretch halved until it is EDIT_SPAN long: the middle window is looked for on
    each side's line, and the half it joins is the edit's no more. A middle that matches
    neither (or both) leaves the stretch as it is. A stretch between knots on one line with a
    window between that matched nowhere is not halved: its middle would match both sides."""
    if span.blind and span.start_line == span.end_line:
        return span
    while span.end.dub - span.start.dub > EDIT_SPAN:
        d = dub.read((span.start.dub + span.end.dub) / 2 - CHECK_S / 2, CHECK_S)
        sides = [(line, p) for line in (span.start_line, span.end_line)
                 if (p := _near(d, orig.read(*_around_line(line, d.start)), line, use_bed)) is not None
                 and abs(line.off_by(p.dub, p.orig)) <= LAG_TOLERANCE]
        if len(sides) != 1:
            break
        line, p = sides[0]
        knot = Knot(p.dub, p.orig, p.ncc)
        span = (Stretch(knot, span.end, line, span.end_line) if line == span.start_line
                else Stretch(span.start, knot, span.start_line, line))
    return span


def _edit_map(orig: Reader, dub: Reader, span: Stretch, opts) -> Claim:
    (d0, d1), (o0, o1) = edit_window(span, dub.duration, orig.duration)
    segments = _edge_map(dub.read(d0, d1 - d0), orig.read(o0, o1 - o0), opts, min_share=0.0)
    return joined_stretch(segments, span, slack=CHECK_S / 2)


def _clip(segments: list[Segment], orig_duration: float, dub_duration: float) -> list[Segment]:
    from .engine import _clip as clip

    return clip(segments, orig_duration, dub_duration)


def _verdict(segments, knots: list[Knot], use_bed: bool, orig_s: float, dub_s: float, probe: dict, opts) -> TimeMap:
    speed = float(np.median([s.speed for s in segments])) if segments else 1.0
    mapped = sum(s.dub_end - s.dub_start for s in segments)
    possible = min(dub_s, orig_s * speed)
    coverage = mapped / possible if possible > 0 else 0.0
    checks = probe.get("checks", {})
    matched, unmatched = checks.get("matched", 0), checks.get("unmatched", 0)
    share = matched / max(1, matched + unmatched)
    confidence = float(min(1.0, coverage / 0.9) * (0.5 + 0.5 * share))
    if coverage < opts.min_coverage or confidence < opts.min_confidence:
        raise NoProof(f"the windows' map covers {coverage:.0%} at confidence {confidence:.2f}")
    details = {"signal": "bed" if use_bed else "full", "read": "probe", "probe": probe, "coverage": round(coverage, 4),
               "basis": {"possible_s": round(possible, 3), "orig_s": round(orig_s, 3), "dub_s": round(dub_s, 3),
                         "min_coverage": opts.min_coverage, "min_confidence": opts.min_confidence}}
    found = [k for k in knots if k.found]
    anchors = [Anchor(dub=k.dub, orig=k.orig, weight=float(np.clip(k.ncc, 0, 1))) for k in found]
    edits = len(probe.get("edits", []))
    reason = (f"{len(segments)} segment(s) cover {coverage:.0%} of the dub (probe path: {len(found)} windows, "
              f"{edits} edit(s) mapped by the engine)")
    return TimeMap("aligned", confidence, reason, speed, segments, anchors, details)
