"""Source material for the corpus and the arrangement of a "film" on a master timeline.

From the drascula packages: ~765 speech lines recorded in Spanish and in English (``es/``,
``en/``; the same file name is the same line), 14 sound effects (``S1``-``S14.ALS``, which
the engine plays as ``s%i.als``; they match across languages, so they belong to the bed),
and 31 music tracks (``audio/track*.ogg``). ``S15`` differs between the languages and is
left out. Eight effects and the studio-logo jingles are synthesised from fixed seeds.

A :class:`Film` is a list of bed cues (music excerpts with crossfades, effects) and speech
lines; it renders any sample range of its bed (5.1: FL FR FC LFE SL SR) and of its dialogue
in either language, so long films never have to sit in memory.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import signal

from syncdub_companion.testing import cache_dir, drascula_dir
from syncdub_companion.tools import process

SR = 48000
ALS_RATE = 11025
SURROUND_DELAY = 720      # surrounds carry the front pair 15 ms late, as a room would
SURROUND_GAIN = 0.35
MUSIC_DB, SPEECH_DB, EFFECT_DB, LOGO_DB = -26.0, -24.0, -20.0, -22.0
LANGS = ("es", "en")
SYNTH_EFFECTS = 8
IDENT_SEEDS = 100_000     # station idents draw jingles from seeds no logo uses
CACHE_VERSION = 1         # bump when decoding or levelling of cached tracks changes


def db(value: float) -> float:
    return 10 ** (value / 20)


@dataclass(frozen=True)
class Cue:
    """One bed event: ``length`` samples of ``source`` from ``offset`` at master ``start``.

    Music and logos (``pan`` None) play their own stereo image; effects are mono, spread over
    the six channels by ``pan``.
    """

    start: int
    length: int
    source: str
    offset: int
    gain: float
    fade_in: int = 0
    fade_out: int = 0
    pan: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Line:
    """Speech line ``name`` starting at ``start`` in every language."""

    start: int
    name: str
    gain: float


@dataclass
class Film:
    """A master timeline: bed cues, dialogue lines and the stretches where the bed is silent."""

    length: int
    cues: list[Cue] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    quiet: list[tuple[int, int]] = field(default_factory=list)
    mat: "Material | None" = None
    themes: list[Cue] = field(default_factory=list)  # opening (and ending) songs another episode may share

    def line_names(self) -> set[str]:
        return {line.name for line in self.lines}

    def tracks_used(self) -> list[str]:
        # sorted: a set's order follows PYTHONHASHSEED, and the pool's order decides rng.choice
        return sorted({c.source for c in self.cues if c.source.startswith("track")})

    def pause_points(self) -> np.ndarray:
        """Sample positions in the middle of pauses (>= 0.3 s) where no line is spoken."""
        if self.mat is None or not self.lines:
            return np.array([0, self.length])
        ends = [line.start + self.mat.line_span(line.name) for line in self.lines]
        starts = [line.start for line in self.lines][1:] + [self.length]
        points = [self.lines[0].start // 2]
        points += [(e + s) // 2 for e, s in zip(ends, starts) if s - e >= 0.3 * SR]
        return np.array(points, dtype=np.int64)

    def render(self, lang: str, start: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The bed (n, 6) and the ``lang`` dialogue (n,) for samples [start, start + n)."""
        bed = np.zeros((n, 6), np.float32)
        speech = np.zeros(n, np.float32)
        if self.mat is None:
            return bed, speech
        cs, ce, ls, le = self._index()
        for i in np.nonzero((cs < start + n) & (ce > start))[0]:
            self.mat.add_cue(bed, self.cues[i], start)
        for i in np.nonzero((ls < start + n) & (le > start))[0]:
            line = self.lines[i]
            _mix(speech, self.mat.line(lang, line.name), line.start - start, line.gain)
        return bed, speech

    def _index(self):
        if getattr(self, "_arrays", None) is None:
            cs = np.array([c.start for c in self.cues], dtype=np.int64)
            ce = cs + np.array([c.length for c in self.cues], dtype=np.int64)
            ls = np.array([x.start for x in self.lines], dtype=np.int64)
            le = ls + np.array([self.mat.line_span(x.name) for x in self.lines], dtype=np.int64)
            self._arrays = (cs, ce, ls, le)
        return self._arrays


def _cut_out(cue: Cue, stretches: list[tuple[int, int]], fade: int) -> list[Cue]:
    """The parts of a music cue outside ``stretches``, faded out and in at each cut."""
    parts = [cue]
    for a, b in stretches:
        out = []
        for c in parts:
            end = c.start + c.length
            if end <= a or c.start >= b:
                out.append(c)
                continue
            if c.start < a:
                n = a - c.start
                out.append(replace(c, length=n, fade_in=min(c.fade_in, n // 2), fade_out=min(fade, n // 2)))
            if end > b:
                n = end - b
                out.append(replace(c, start=b, length=n, offset=c.offset + (b - c.start),
                                   fade_in=min(fade, n // 2), fade_out=min(c.fade_out, n // 2)))
        parts = out
    return parts


def _mix(out: np.ndarray, src: np.ndarray, at: int, gain: float) -> None:
    """Add ``src`` (starting at output index ``at``, maybe negative) into ``out``."""
    lo, hi = max(at, 0), min(at + len(src), len(out))
    if lo < hi:
        out[lo:hi] += gain * src[lo - at:hi - at]


def _slice(src: np.ndarray, a: int, b: int) -> np.ndarray:
    """``src[a:b]`` with zeros where the range leaves the array."""
    out = np.zeros((b - a,) + src.shape[1:], np.float32)
    lo, hi = max(a, 0), min(b, len(src))
    if lo < hi:
        out[lo - a:hi - a] = src[lo:hi]
    return out


def _envelope(cue: Cue, t: np.ndarray) -> np.ndarray:
    env = np.full(len(t), cue.gain, np.float32)
    if cue.fade_in:
        env *= np.clip((t + 0.5) / cue.fade_in, 0, 1)
    if cue.fade_out:
        env *= np.clip((cue.length - t - 0.5) / cue.fade_out, 0, 1)
    return env


class Material:
    """The drascula speech, music and effects at 48 kHz, loaded lazily and kept in memory."""

    def __init__(self, root: Path):
        self.root = root
        self._lines: dict[tuple[str, str], np.ndarray] = {}
        self._stereo: dict[str, np.ndarray] = {}
        self._effects: dict[str, np.ndarray] = {}
        self.line_names = self._line_pool()
        self.tracks = [k for k in (f"track{i}" for i in range(1, 32)) if self.track_length(k) > 20 * SR]
        self.effect_keys = [f"S{i}" for i in range(1, 15)] + [f"syn{i}" for i in range(SYNTH_EFFECTS)]

    # -- speech

    def _line_pool(self) -> list[str]:
        """Lines present in both languages, not sound effects, not byte-identical, 0.4-20 s."""
        names = []
        for es in sorted((self.root / "es").glob("*.ALS")):
            en = self.root / "en" / es.name
            if not en.is_file() or (es.stem[0] == "S" and es.stem[1:].isdigit()):
                continue
            if es.stat().st_size == en.stat().st_size and es.read_bytes() == en.read_bytes():
                continue
            spans = [self._line_length(lang, es.stem) / SR for lang in LANGS]
            if 0.4 <= min(spans) and max(spans) <= 20:
                names.append(es.stem)
        return names

    def _line_length(self, lang: str, name: str) -> int:
        raw = (self.root / lang / f"{name}.ALS").stat().st_size - 64
        return -(-raw * 640 // 147)

    @lru_cache(maxsize=None)
    def line_span(self, name: str) -> int:
        """Samples the line lasts in its longer language (lines are spaced by this)."""
        return max(self._line_length(lang, name) for lang in LANGS)

    def line(self, lang: str, name: str) -> np.ndarray:
        key = (lang, name)
        if key not in self._lines:
            self._lines[key] = _level(_read_als(self.root / lang / f"{name}.ALS"), SPEECH_DB)
        return self._lines[key]

    # -- music, logos, effects

    def track_length(self, key: str) -> int:
        return _ogg_samples(self.root / "audio" / f"{key}.ogg") * SR // 44100

    def stereo(self, key: str) -> np.ndarray:
        """(samples, 3): left, right and a low-passed LFE feed of a music track or a logo.

        Tracks are decoded once per machine into a float16 cache and memory-mapped, so a
        2-hour film does not hold the whole soundtrack in RAM.
        """
        if key not in self._stereo:
            if key.startswith("logo"):
                self._stereo[key] = _with_lfe(_level(_jingle(int(key[4:])), LOGO_DB))
            elif key.startswith("ident"):  # a station's jingle: other seeds than the studio logos
                self._stereo[key] = _with_lfe(_level(_jingle(IDENT_SEEDS + int(key[5:])), LOGO_DB + 3))
            else:
                self._stereo[key] = self._cached_track(key)
        return self._stereo[key]

    def _cached_track(self, key: str) -> np.ndarray:
        path = cache_dir() / "corpus" / f"{key}.v{CACHE_VERSION}.npy"
        if not path.is_file():
            x = _with_lfe(_level(_decode_track(self.root / "audio" / f"{key}.ogg"), MUSIC_DB))
            path.parent.mkdir(parents=True, exist_ok=True)
            part = path.with_name(f"{path.stem}.{os.getpid()}.part.npy")
            np.save(part, x.astype(np.float16))
            part.replace(path)
        return np.load(path, mmap_mode="r")

    def effect(self, key: str) -> np.ndarray:
        if key not in self._effects:
            x = _read_als(self.root / "en" / f"{key}.ALS") if key.startswith("S") else _synth_effect(int(key[3:]))
            self._effects[key] = _level(x, EFFECT_DB)
        return self._effects[key]

    def add_cue(self, bed: np.ndarray, cue: Cue, start: int) -> None:
        """Mix the part of ``cue`` that falls in ``bed`` (which begins at master ``start``)."""
        lo, hi = max(start, cue.start), min(start + len(bed), cue.start + cue.length)
        if lo >= hi:
            return
        env = _envelope(cue, np.arange(lo - cue.start, hi - cue.start, dtype=np.float32))
        a = cue.offset + lo - cue.start
        out = bed[lo - start:hi - start]
        if cue.pan is not None:
            out += (env * _slice(self.effect(cue.source), a, a + hi - lo))[:, None] * np.float32(cue.pan)
            return
        seg = _slice(self.stereo(cue.source), a - SURROUND_DELAY, a + hi - lo)
        now, late = seg[SURROUND_DELAY:], seg[:hi - lo]
        out[:, 0] += env * now[:, 0]
        out[:, 1] += env * now[:, 1]
        out[:, 3] += env * now[:, 2]
        out[:, 4] += SURROUND_GAIN * env * late[:, 0]
        out[:, 5] += SURROUND_GAIN * env * late[:, 1]

    def logo_film(self, seed: int) -> Film:
        """A studio-logo jingle with a short tail of silence."""
        n = len(self.stereo(f"logo{seed}"))
        return Film(n + SR // 3, [Cue(0, n, f"logo{seed}", 0, 1.0)], mat=self)

    # -- arrangement

    def make_film(self, rng: np.random.Generator, length: int, *, quiet=(), theme_seconds: float = 0.0,
                  ending_seconds: float = 0.0, theme_from: Film | None = None, avoid_lines=(), avoid_tracks=(),
                  tracks=None) -> Film:
        """Arrange a film: music cues with crossfades and gaps, effects, and dialogue lines.

        ``theme_seconds`` opens the film with a music cue of that length, ``ending_seconds``
        closes it with one; ``theme_from`` opens (and closes) it with the same cues as another
        film of the same length (two episodes sharing their opening and ending songs).
        """
        film = Film(length, quiet=list(quiet), mat=self)
        pool = [t for t in (tracks or self.tracks) if t not in avoid_tracks] or list(tracks or self.tracks)
        cues: list[Cue] = []
        if theme_from is not None:
            cues += theme_from.themes or [theme_from.cues[0]]
        elif theme_seconds:
            cues.append(self._theme(rng, pool, int(theme_seconds * SR)))
        if ending_seconds and theme_from is None:
            n = int(ending_seconds * SR)
            cues.append(replace(self._theme(rng, pool, n), start=length - n, fade_in=int(1.0 * SR), fade_out=0))
        film.themes = list(cues)
        ending = [c for c in cues if c.start > 0]
        t0 = cues[0].length - cues[0].fade_out if cues and cues[0].start == 0 else 0
        stop = ending[0].start + ending[0].fade_in if ending else length
        cues += self._arrange_music(rng, stop, film.quiet, pool, t0)
        cues += self._arrange_effects(rng, length, film.quiet)
        film.cues = sorted(cues, key=lambda c: c.start)
        film.lines = self._arrange_lines(rng, length, set(avoid_lines))
        return film

    def with_music_swapped(self, film: Film, rng: np.random.Generator, stretches: list[tuple[int, int]]) -> Film:
        """``film`` with other music in ``stretches``, as a dub release that localised a song
        or replaced a licensed track: effects, dialogue and timing stay."""
        used = set(film.tracks_used())
        pool = [t for t in self.tracks if t not in used] or list(self.tracks)
        fade = int(0.3 * SR)
        cues: list[Cue] = []
        for cue in film.cues:
            cues += [cue] if cue.pan is not None or not cue.source.startswith("track") \
                else _cut_out(cue, stretches, fade)
        for a, b in stretches:
            t = a
            while t < b - SR // 10:
                key = str(rng.choice(pool))
                n = min(b - t, self.track_length(key) - SR)
                offset = int(rng.integers(0, max(1, self.track_length(key) - n)))
                cues.append(Cue(t, n, key, offset, db(rng.uniform(-3, 2)), min(fade, n // 3), min(fade, n // 3)))
                t += n
        out = Film(film.length, sorted(cues, key=lambda c: c.start), film.lines, film.quiet, film.mat)
        out.themes = film.themes
        return out

    def with_theme_at(self, film: Film, theme: Cue, starts: list[int]) -> Film:
        """``film`` with ``theme`` (a cue of another film) playing at each of ``starts`` in place
        of its own music there: a sequel reusing the first film's theme elsewhere."""
        fade = int(0.3 * SR)
        stretches = [(s, min(s + theme.length, film.length)) for s in starts]
        cues: list[Cue] = []
        for cue in film.cues:
            cues += [cue] if cue.pan is not None else _cut_out(cue, stretches, fade)
        cues += [replace(theme, start=a, length=b - a, fade_in=fade, fade_out=min(theme.fade_out, (b - a) // 3))
                 for a, b in stretches]
        return _like(film, sorted(cues, key=lambda c: c.start))

    def with_effects_rerecorded(self, film: Film, rng: np.random.Generator, share: float) -> Film:
        """``film`` with ``share`` of its effects replaced by other sounds (new foley for the
        dub's M&E): another effect, level and placement, up to a frame off the picture."""
        cues = []
        for cue in film.cues:
            if cue.pan is not None and rng.random() < share:
                key = str(rng.choice([k for k in self.effect_keys if k != cue.source]))
                start = max(0, cue.start + int(rng.uniform(-0.04, 0.04) * SR))
                n = min(len(self.effect(key)), film.length - start)
                cue = Cue(start, n, key, 0, db(rng.uniform(-12, -3)), pan=_pan(rng))
            cues.append(cue)
        return _like(film, sorted(cues, key=lambda c: c.start))

    def with_stems_levelled(self, film: Film, rng: np.random.Generator, music_db: float, effects_db: float,
                            ride_db: float) -> Film:
        """``film`` remixed: music and effects each at another level, every music cue ridden
        by up to ``ride_db`` more."""
        cues = []
        for cue in film.cues:
            if cue.pan is not None:
                cues.append(replace(cue, gain=cue.gain * db(effects_db)))
            elif cue.source.startswith("track"):
                cues.append(replace(cue, gain=cue.gain * db(music_db + rng.uniform(-ride_db, ride_db))))
            else:
                cues.append(cue)
        return _like(film, cues)

    def ad_break(self, rng: np.random.Generator, length: int, avoid_lines, avoid_tracks) -> Film:
        """A TV ad break of about ``length`` samples: a station ident, adverts of 6-20 s (other
        music, other lines, effects, a little louder), and in half of them a closing ident."""
        parts = [self._ident(rng, avoid_lines)]
        closing = self._ident(rng, avoid_lines) if rng.random() < 0.5 else None
        room = length - parts[0].length - (closing.length if closing else 0)
        while room > 3 * SR:
            n = min(room, _randint(rng, 6 * SR, 20 * SR))
            ad = self.make_film(rng, n, avoid_lines=avoid_lines, avoid_tracks=avoid_tracks)
            louder = db(rng.uniform(0, 4))
            ad.cues = [replace(c, gain=c.gain * louder) for c in ad.cues]
            ad.lines = [replace(x, gain=x.gain * louder) for x in ad.lines]
            parts.append(ad)
            room -= n
        return _joined(parts + ([closing] if closing else []), self)

    def _ident(self, rng: np.random.Generator, avoid_lines) -> Film:
        """A station ident: a jingle, and in half of them a voice over it (a line no film uses)."""
        key = f"ident{int(rng.integers(0, 1000))}"
        n = len(self.stereo(key))
        film = Film(n + SR // 4, [Cue(0, n, key, 0, 1.0)], mat=self)
        if rng.random() < 0.5:
            name = str(rng.choice([x for x in self.line_names if x not in avoid_lines] or self.line_names))
            if self.line_span(name) < n:
                film.lines = [Line(int(0.3 * SR), name, db(3))]
        return film

    def _theme(self, rng: np.random.Generator, pool: list[str], n: int) -> Cue:
        key = str(rng.choice([t for t in pool if self.track_length(t) > n + SR] or pool))
        offset = int(rng.integers(0, max(1, self.track_length(key) - n)))
        return Cue(0, n, key, offset, 1.0, 0, int(1.5 * SR))

    def _arrange_music(self, rng, length: int, quiet, pool: list[str], t: int) -> list[Cue]:
        # ``length`` is where the music stops: the film's end, or where its ending song starts.
        seconds = length / SR
        lo, hi = min(20.0, max(6.0, seconds / 6)), min(90.0, max(12.0, seconds / 2.5))
        cues, last, fade_in = [], None, int(0.05 * SR)
        while t < length - SR:
            stretch = next(((a, b) for a, b in quiet if b > t), None)
            if stretch and t >= stretch[0] - 2 * SR:
                t, fade_in = stretch[1], int(0.3 * SR)
                continue
            key = str(rng.choice([k for k in pool if k != last] or pool))
            n = min(int(rng.uniform(lo, hi) * SR), self.track_length(key) - SR, length - t)
            if stretch:
                n = min(n, stretch[0] - t)
            fade_out = int(min(rng.uniform(0.8, 3.0) * SR, n / 3))
            gain = db(rng.uniform(-16, -10) if rng.random() < 0.25 else rng.uniform(-3, 2))
            offset = int(rng.integers(0, max(1, self.track_length(key) - n)))
            cues.append(Cue(t, n, key, offset, gain, fade_in, fade_out))
            last = key
            if rng.random() < 0.15:
                t, fade_in = t + n + int(rng.uniform(1.5, 5.0) * SR), int(0.3 * SR)
            else:
                t, fade_in = t + n - fade_out, fade_out
        return cues

    def _arrange_effects(self, rng, length: int, quiet) -> list[Cue]:
        cues, t = [], int(rng.uniform(0.5, 5.0) * SR)
        while t < length:
            key = str(rng.choice(self.effect_keys))
            n = min(len(self.effect(key)), length - t)
            if not any(t < b and t + n > a for a, b in quiet):
                gain = db(rng.uniform(-12, -3))
                cues.append(Cue(t, n, key, 0, gain, pan=_pan(rng)))
            t += int((rng.exponential(4.5) + 0.7) * SR)
        return cues

    def _arrange_lines(self, rng, length: int, avoid: set[str]) -> list[Line]:
        names = [n for n in self.line_names if n not in avoid] or list(self.line_names)
        order, lines, t, misses, repeat = list(rng.permutation(names)), [], int(rng.uniform(0.3, 2.0) * SR), 0, 0
        while misses < 6:
            if not order:
                order, repeat = list(rng.permutation(names)), repeat + 1
            name = str(order.pop())
            span = self.line_span(name)
            if t + span > length - SR // 4:
                misses += 1
                continue
            spread = 2.0 + 2.0 * min(repeat, 1)   # repeats of a line vary more in level
            lines.append(Line(t, name, db(rng.uniform(-spread, spread))))
            r = rng.random()
            gap = rng.uniform(0.25, 1.5) if r < 0.7 else rng.uniform(1.5, 4.0) if r < 0.95 else rng.uniform(4, 10)
            t += span + int(gap * SR)
        return lines


def _like(film: Film, cues: list[Cue]) -> Film:
    """``film`` with other bed cues: the same lines, silent stretches and themes."""
    out = Film(film.length, cues, film.lines, film.quiet, film.mat)
    out.themes = film.themes
    return out


def _joined(films: list[Film], mat: "Material") -> Film:
    """Films one after another as one film (cues and lines shifted to their place)."""
    out, at = Film(sum(f.length for f in films), mat=mat), 0
    for f in films:
        out.cues += [replace(c, start=c.start + at) for c in f.cues]
        out.lines += [replace(x, start=x.start + at) for x in f.lines]
        at += f.length
    return out


def _randint(rng: np.random.Generator, lo: int, hi: int) -> int:
    return int(rng.integers(lo, max(lo + 1, hi)))


@lru_cache(maxsize=1)
def material() -> Material:
    """The shared :class:`Material` (one per process, so decoded tracks are reused)."""
    root = drascula_dir()
    if root is None:
        raise FileNotFoundError("drascula game data missing: run `bash dev.sh test`")
    return Material(root)


# ---------------------------------------------------------------------------- sources


def _read_als(path: Path) -> np.ndarray:
    """An ALS file: unsigned 8-bit mono at 11025 Hz between a 32-byte header and trailer."""
    raw = np.fromfile(path, dtype=np.uint8)[32:-32].astype(np.float32)
    x = (raw - 128.0) / 128.0
    x -= x.mean()
    return signal.resample_poly(x, 640, 147).astype(np.float32)


def _level(x: np.ndarray, target_db: float) -> np.ndarray:
    """Scale so the louder half of 20 ms frames has RMS ``target_db`` dBFS."""
    mono = x if x.ndim == 1 else x.mean(axis=1)
    frames = len(mono) // 960
    if frames == 0:
        return x.astype(np.float32)
    power = np.sort((mono[:frames * 960].reshape(frames, 960) ** 2).mean(axis=1))
    level = math.sqrt(float(power[frames // 2:].mean())) or 1.0
    return (x * (db(target_db) / level)).astype(np.float32)


def _with_lfe(x: np.ndarray) -> np.ndarray:
    sos = signal.butter(4, 120, "low", fs=SR, output="sos")
    lfe = 0.5 * signal.sosfilt(sos, x.mean(axis=1))
    return np.column_stack([x, lfe]).astype(np.float32)


def _decode_track(path: Path) -> np.ndarray:
    proc = process.run(["ffmpeg", "-v", "error", "-i", str(path), "-ac", "2", "-ar", str(SR),
                        "-f", "f32le", "-"], "ffmpeg")
    return np.frombuffer(proc.stdout, dtype="<f4").reshape(-1, 2)


def _ogg_samples(path: Path) -> int:
    """Length of an Ogg Vorbis file in samples, from the granule position of its last page."""
    with open(path, "rb") as fh:
        fh.seek(max(0, path.stat().st_size - 65536))
        tail = fh.read()
    i = tail.rfind(b"OggS")
    return int.from_bytes(tail[i + 6:i + 14], "little") if i >= 0 else 0


def _pan(rng: np.random.Generator) -> tuple[float, ...]:
    """Six channel gains: mostly between two neighbouring speakers, sometimes the centre."""
    if rng.random() < 0.15:
        return (0.0, 0.0, 1.0, 0.0, 0.0, 0.0)
    ring = (0, 1, 5, 4)                      # FL FR SR SL around the room
    i = int(rng.integers(0, 4))
    angle = rng.uniform(0, math.pi / 2)
    gains = [0.0] * 6
    gains[ring[i]], gains[ring[(i + 1) % 4]] = math.cos(angle), math.sin(angle)
    return tuple(gains)


def _synth_effect(index: int) -> np.ndarray:
    """Deterministic effects: noise bursts, impacts, whooshes and rattles."""
    rng = np.random.default_rng([index, 99])
    kind = index % 4
    if kind == 0:
        n = int(rng.uniform(0.1, 0.6) * SR)
        t = np.arange(n) / SR
        f0 = rng.uniform(300, 5000)
        sos = signal.butter(2, [f0 / 1.5, min(f0 * 1.5, 20000)], "band", fs=SR, output="sos")
        return signal.sosfilt(sos, rng.standard_normal(n)) * np.exp(-t / rng.uniform(0.05, 0.3)) * (1 - np.exp(-t / 0.003))
    if kind == 1:
        n = int(rng.uniform(0.4, 0.9) * SR)
        t = np.arange(n) / SR
        freq = 160 * (45 / 160) ** (t / t[-1])
        body = np.sin(2 * np.pi * np.cumsum(freq) / SR) * np.exp(-t / 0.15)
        body[:480] += rng.standard_normal(480) * np.exp(-np.arange(480) / 100)
        return body
    if kind == 2:
        n = int(rng.uniform(0.6, 1.4) * SR)
        t = np.arange(n) / SR
        env = np.sin(np.pi * t / t[-1]) ** 2
        chirp = signal.chirp(t, rng.uniform(200, 500), t[-1], rng.uniform(2000, 5000))
        sos = signal.butter(2, 3000, "low", fs=SR, output="sos")
        return env * (0.4 * chirp + signal.sosfilt(sos, rng.standard_normal(n)))
    n = int(rng.uniform(0.4, 1.0) * SR)
    out = np.zeros(n)
    pos = 0
    while pos < n - 300:
        width = int(rng.uniform(0.002, 0.005) * SR)
        out[pos:pos + width] += rng.standard_normal(min(width, n - pos)) * rng.uniform(0.4, 1.0)
        pos += int(rng.uniform(0.03, 0.12) * SR)
    return out


def _jingle(seed: int) -> np.ndarray:
    """A studio-logo jingle (3-5 s): an arpeggio of harmonic tones, a shimmer and a boom."""
    rng = np.random.default_rng([seed, 77])
    n = int(rng.uniform(3.0, 5.0) * SR)
    t = np.arange(n) / SR
    root = 220 * 2 ** (int(rng.integers(0, 12)) / 12)
    steps = [[0, 4, 7, 12], [0, 5, 9, 12], [0, 3, 7, 10], [0, 7, 12, 16]][int(rng.integers(0, 4))]
    out = np.zeros((n, 2))
    onset = 0.0
    for i, step in enumerate(steps):
        tt = np.clip(t - onset, 0, None)
        env = np.where(t >= onset, np.exp(-tt / 0.9) * (1 - np.exp(-tt / 0.01)), 0.0)
        f = root * 2 ** (step / 12)
        for side, detune in ((0, 1.0), (1, 1.002)):
            tone = sum(h ** -1.2 * np.sin(2 * np.pi * f * detune * h * tt) for h in range(1, 7))
            out[:, side] += env * tone * (1.0 + 0.3 * ((i + side) % 2))
        onset += rng.uniform(0.18, 0.35)
    sos = signal.butter(2, [4000, 8000], "band", fs=SR, output="sos")
    shimmer = signal.sosfilt(sos, rng.standard_normal(n)) * np.clip(t / t[-1], 0, 1) * 0.3
    out += shimmer[:, None]
    out += (np.sin(2 * np.pi * 55 * t) * np.exp(-t / 0.4))[:, None]
    out *= np.clip((t[-1] - t) / 0.3, 0, 1)[:, None]
    return out.astype(np.float32)
