"""Dub pairs with exact ground truth, built from the drascula game's speech and music.

A pair is an "original" and a "dubbed" file that share one music-and-effects bed and differ
in their dialogue: line *i* of the Spanish recording and line *i* of its English dub start at
the same moment of a master timeline. The dub is then edited (pre-roll, speed change, cut
scenes, inserted scenes), both files are encoded once with real codecs, and each file's
codec delay is measured by cross-correlating what ffmpeg decodes with what went in. The
truth maps the dub's *decoded* timeline onto the original's, so it includes priming samples
that containers do not signal (see docs/corpus.md)::

    from benchmarks.corpus import build_pair, CASES
    pair = build_pair("combo", "es-en", 60, tmp_path)
    pair.truth      # [{"dub_start", "dub_end", "orig_start", "orig_end"}, ...]

Everything is deterministic in (case, duration, seed); both directions share one master.
Audio is rendered block by block straight into ffmpeg, so a 2-hour pair needs little RAM.
"""
from __future__ import annotations

import json
import math
import subprocess
import tempfile
import time
import zlib
from dataclasses import dataclass, field, fields, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from scipy import signal

from syncdub_companion.errors import ToolError, UsageError
from syncdub_companion.testing import drascula_dir
from syncdub_companion.tools import process

from .material import SURROUND_DELAY, Film, Material, material
from .remix import Remix, Remixed
from .tape import Tape, Wobble, warp_truth

SR = 48000
CORPUS_VERSION = 1
DIRECTIONS = ("es-en", "en-es")
LANG_TAGS = {"es": "spa", "en": "eng"}
BLOCK = 10 * SR
PAL = (2997, 3125)        # dub seconds per original second for a 25/23.976 speed-up
PAL_SLOW = (3125, 2997)
NTSC_1001 = (1000, 1001)  # 24 fps dub of a 23.976 fps original


@dataclass(frozen=True)
class Format:
    """How one file is encoded: codec, channel count and container.

    ``dual_mono``: two channels that both carry the mono downmix (L == R exactly), as on
    releases made from a mono master, so the side signal L-R is empty.
    """

    codec: str
    channels: int
    muxer: str
    ext: str
    args: tuple[str, ...] = ()
    video: bool = False
    dual_mono: bool = False

    @property
    def mix(self) -> str:
        """What :func:`to_layout` renders for this format."""
        return "dualmono" if self.dual_mono else {8: "7.1", 6: "5.1", 2: "stereo", 1: "mono"}[self.channels]


FORMATS: dict[str, Format] = {
    "ac3_51_mkv": Format("ac3", 6, "matroska", "mkv", ("-b:a", "448k")),
    "ac3_51_mkv_video": Format("ac3", 6, "matroska", "mkv", ("-b:a", "448k"), video=True),
    "ac3_51_m2ts": Format("ac3", 6, "mpegts", "m2ts", ("-b:a", "448k", "-mpegts_m2ts_mode", "1")),
    "eac3_51_mkv": Format("eac3", 6, "matroska", "mkv", ("-b:a", "384k")),
    "dts_51_mkv": Format("dca", 6, "matroska", "mkv", ("-strict", "-2", "-b:a", "1509k")),
    "flac_51_mka": Format("flac", 6, "matroska", "mka"),
    # ffmpeg's TrueHD encoder is experimental and takes stereo, 5.0 and 5.1 only: 7.1 is FLAC.
    "truehd_51_mkv": Format("truehd", 6, "matroska", "mkv", ("-strict", "-2")),
    "flac_71_mka": Format("flac", 8, "matroska", "mka"),
    "aac_20_mkv": Format("aac", 2, "matroska", "mkv", ("-b:a", "192k")),
    "aac_20_mp4": Format("aac", 2, "mp4", "mp4", ("-b:a", "160k")),
    "opus_20_mka": Format("libopus", 2, "matroska", "mka", ("-b:a", "128k")),
    "opus_20_ogg": Format("libopus", 2, "ogg", "opus", ("-b:a", "112k")),
    "ac3_20_mkv": Format("ac3", 2, "matroska", "mkv", ("-b:a", "192k")),
    "ac3_20_raw": Format("ac3", 2, "ac3", "ac3", ("-b:a", "192k")),
    "eac3_20_mkv": Format("eac3", 2, "matroska", "mkv", ("-b:a", "192k")),
    "flac_20_mka": Format("flac", 2, "matroska", "mka"),
    "aac_10_mkv": Format("aac", 1, "matroska", "mkv", ("-b:a", "96k")),
    "ac3_10_mkv": Format("ac3", 1, "matroska", "mkv", ("-b:a", "96k")),
    "ac3_dualmono_mkv": Format("ac3", 2, "matroska", "mkv", ("-b:a", "192k"), dual_mono=True),
    "mp3_10": Format("libmp3lame", 1, "mp3", "mp3", ("-b:a", "128k")),
}


@dataclass(frozen=True)
class CaseSpec:
    """One benchmark case: the formats of both files and the edits applied to the dub.

    ``speed`` is (up, down): the dub lasts up/down seconds per master second. Pre-rolls are
    "silence", "logo" or "logo+silence". ``cuts``/``inserts`` count scenes removed from / added
    to the dub; ``quiet`` adds stretches where the bed is silent (one with a cut in or at it).
    ``swap_music``/``swap_opening`` give the dub other music over stretches of the same
    picture: the truth maps them, though the bed there differs.
    """

    about: str
    original: str
    dubbed: str
    orig_gain_db: float = 0.0
    dub_gain_db: float = 0.0
    speed: tuple[int, int] | None = None
    speed_mode: str = "resample"
    dub_preroll: str | None = None
    orig_preroll: str | None = None
    cuts: int = 0
    inserts: int = 0
    quiet: bool = False
    wrong_film: bool = False
    preroll_seconds: tuple[float, float] = (0.4, 6.0)
    swap_music: int = 0            # stretches where the dub has other music (a localised song)
    swap_opening: bool = False     # the dub's opening song is another one
    shared_ending: bool = False    # wrong film: an episode of the same length sharing opening and ending
    # Tape capture of the whole dub: (depth, period s, phase) per slow sinusoid of its speed,
    # with hiss and a low-pass (benchmarks/tape.py); the truth follows the warp exactly.
    wobble: tuple[tuple[float, float, float], ...] | None = None
    # the dub's music differs over this last share of the film (a weak bed under dialogue);
    # out of the repr, so that adding it left every other case's cached pairs valid
    swap_tail: float = field(default=0.0, repr=False)
    # Issue 13 item 5; each is drawn after everything above, so it changes nothing else of a pair.
    ad_breaks: int = 0             # TV ad breaks in the dub: idents and adverts, 15-60 s each, dub-only
    short_cuts: int = 0            # 1-10 s trims, as a director's cut against the theatrical one
    short_cuts_in: str = "dub"     # "dub": the dub lacks them; "original": only the dub has them
    remix: bool = False            # the dub's M&E remixed: stem levels and rides, EQ, compression, fold
    rerecorded_effects: float = 0.0  # share of effect events replaced by other sounds in the dub
    sequel: bool = False           # wrong film: a sequel sharing only the theme, at other places

    @property
    def expect(self) -> str:
        return "rejected" if self.wrong_film else "aligned"


CASES: dict[str, CaseSpec] = {
    "offset_pos": CaseSpec("dub starts later: a studio logo and silence before it",
                           "ac3_51_mkv_video", "aac_20_mkv", dub_gain_db=-4.0, dub_preroll="logo+silence"),
    "offset_neg": CaseSpec("original starts later: a logo and silence in the original",
                           "eac3_51_mkv", "aac_20_mp4", dub_gain_db=3.0, orig_preroll="logo+silence"),
    "pal_speedup_pitch": CaseSpec("PAL 25/23.976 speed-up by resampling (pitch up)",
                                  "dts_51_mkv", "ac3_20_mkv", speed=PAL, dub_preroll="silence"),
    "pal_speedup_tempo": CaseSpec("PAL 25/23.976 speed-up, pitch corrected",
                                  "ac3_51_mkv", "opus_20_mka", dub_gain_db=5.0, speed=PAL,
                                  speed_mode="tempo", dub_preroll="silence"),
    "pal_slowdown": CaseSpec("dub slowed by 25/23.976 (pitch down), 5.1 dub in m2ts",
                             "aac_20_mkv", "ac3_51_m2ts", speed=PAL_SLOW, orig_preroll="silence"),
    "ntsc_1001": CaseSpec("24 fps dub of a 23.976 fps original (speed 1000/1001)",
                          "eac3_51_mkv", "flac_20_mka", dub_gain_db=-6.0, speed=NTSC_1001,
                          dub_preroll="silence"),
    "missing_scenes": CaseSpec("scenes cut out of the dub", "ac3_51_mkv", "eac3_20_mkv", cuts=3),
    "extra_scenes": CaseSpec("scenes only in the dub, and a logo", "flac_51_mka", "aac_20_mkv",
                             dub_gain_db=-3.0, inserts=2, dub_preroll="logo"),
    "combo": CaseSpec("logo + offset, PAL speed-up, cut scenes and extra scenes",
                      "ac3_51_mkv_video", "aac_20_mp4", dub_gain_db=3.0, speed=PAL,
                      dub_preroll="logo+silence", cuts=2, inserts=2),
    "surround_vs_stereo": CaseSpec("5.1 E-AC3 at -6 dB against stereo Opus at +6 dB",
                                   "eac3_51_mkv", "opus_20_ogg", orig_gain_db=-6.0, dub_gain_db=6.0,
                                   dub_preroll="silence", preroll_seconds=(0.2, 1.5)),
    "quiet_bed": CaseSpec("stretches with a silent bed where only dialogue differs",
                          "ac3_51_mkv", "aac_20_mkv", dub_preroll="silence", cuts=1, quiet=True),
    "wrong_film": CaseSpec("a dub of another episode sharing its opening theme",
                           "ac3_51_mkv", "aac_20_mkv", dub_preroll="logo", wrong_film=True),
    "feature_pal": CaseSpec("feature length: 5.1 AC3 against a stereo AC3 PAL dub",
                            "ac3_51_mkv", "ac3_20_mkv", speed=PAL, dub_preroll="silence"),
    # Mono and dual-mono: no dialogue-free bed exists, so the aligner works on the full mix.
    "mono_offset": CaseSpec("mono against mono, a logo and silence before the dub",
                            "aac_10_mkv", "ac3_10_mkv", dub_gain_db=-3.0, dub_preroll="logo+silence"),
    "mono_pal_cuts": CaseSpec("mono against mono, PAL speed-up, cut scenes and an extra scene",
                              "ac3_10_mkv", "aac_10_mkv", dub_gain_db=2.0, speed=PAL,
                              dub_preroll="silence", cuts=2, inserts=1),
    "mono_quiet_bed": CaseSpec("mono against mono with stretches of silent bed and a cut",
                               "aac_10_mkv", "aac_10_mkv", dub_preroll="silence", cuts=1, quiet=True),
    "mono_vs_surround": CaseSpec("5.1 original against a mono PAL dub",
                                 "ac3_51_mkv", "aac_10_mkv", dub_gain_db=-2.0, speed=PAL,
                                 dub_preroll="silence"),
    "dualmono_stereo": CaseSpec("dual-mono stereo (L == R) on both sides, offset and cut scenes",
                                "ac3_dualmono_mkv", "ac3_dualmono_mkv", dub_gain_db=3.0,
                                dub_preroll="logo+silence", cuts=2),
    "mono_wrong_film": CaseSpec("mono: a dub of another episode sharing its opening theme",
                                "aac_10_mkv", "aac_10_mkv", dub_preroll="logo", wrong_film=True),
    # Music that differs over the same picture: the map must bridge it, not leave it out.
    "songs_swapped": CaseSpec("the dub's opening song and two scenes' music replaced, same start",
                              "ac3_51_mkv", "aac_20_mkv", dub_gain_db=2.0, swap_music=2, swap_opening=True),
    "songs_swapped_pal": CaseSpec("PAL speed-up, a cut, and two scenes' music replaced",
                                  "eac3_51_mkv", "ac3_20_mkv", speed=PAL, dub_preroll="silence",
                                  cuts=1, swap_music=2),
    "tape_wobble": CaseSpec("a dub captured from tape: its speed wobbles +-0.4 % over minutes, hiss, low-pass",
                            "ac3_51_mkv", "aac_20_mkv", dub_preroll="silence",
                            wobble=((0.0028, 97.0, 0.4), (0.0012, 31.0, 2.2))),
    "wrong_episode": CaseSpec("another episode of the same length sharing opening and ending songs",
                              "ac3_51_mkv", "aac_20_mkv", wrong_film=True, shared_ending=True),
    # Issue 13: the bed alone covers under half; only speech can say the rest is the same film.
    "talk_heavy": CaseSpec("talk-heavy, weak bed: the dub's music differs over the last 60 % (swap_tail 0.6)",
                           "ac3_51_mkv", "aac_20_mkv", dub_preroll="silence", swap_tail=0.6),
    # What users bring besides (issue 13 item 5).
    "ad_breaks": CaseSpec("a TV capture: two ad breaks with station idents in the dub",
                          "ac3_51_mkv", "aac_20_mkv", dub_gain_db=2.0, dub_preroll="logo", ad_breaks=2),
    "theatrical_cut": CaseSpec("14 short trims (1-10 s) missing from the dub",
                               "eac3_51_mkv", "ac3_20_mkv", dub_preroll="silence", short_cuts=14),
    "directors_cut": CaseSpec("a director's cut dub: 12 short scenes (1-10 s) the original lacks, PAL",
                              "ac3_51_mkv", "aac_20_mkv", speed=PAL, short_cuts=12, short_cuts_in="original"),
    "truehd_51": CaseSpec("5.1 TrueHD original against a stereo E-AC3 dub, a cut",
                          "truehd_51_mkv", "eac3_20_mkv", dub_preroll="silence", cuts=1),
    "flac_71": CaseSpec("7.1 FLAC original against a 5.1 AC3 dub, 1000/1001",
                        "flac_71_mka", "ac3_51_mkv", speed=NTSC_1001, dub_preroll="logo"),
    "remixed_bed": CaseSpec("the dub's M&E remixed (levels, rides, EQ, compression, fold) with new foley",
                            "ac3_51_mkv", "aac_20_mkv", dub_preroll="silence", cuts=1, remix=True,
                            rerecorded_effects=0.5),
    "wrong_sequel": CaseSpec("a sequel sharing only the first film's theme, at other places",
                             "ac3_51_mkv", "aac_20_mkv", wrong_film=True, sequel=True),
}


@dataclass
class Pair:
    """A built pair. Times in ``truth`` and ``dub_only`` are seconds on the decoded timelines."""

    original: Path
    dubbed: Path
    truth: list[dict[str, float]]
    expect: str
    dub_only: list[tuple[float, float]]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def case(self) -> str:
        return self.meta["case"]

    @property
    def direction(self) -> str:
        return self.meta["direction"]

    def orig_time(self, dub_t: float) -> float | None:
        """Where dub time ``dub_t`` plays in the original, or None when it has no counterpart."""
        for seg in self.truth:
            if seg["dub_start"] <= dub_t < seg["dub_end"]:
                rate = (seg["orig_end"] - seg["orig_start"]) / (seg["dub_end"] - seg["dub_start"])
                return seg["orig_start"] + (dub_t - seg["dub_start"]) * rate
        return None

    def dub_time(self, orig_t: float) -> float | None:
        """Where original time ``orig_t`` plays in the dub, or None when the dub lacks it."""
        for seg in self.truth:
            if seg["orig_start"] <= orig_t < seg["orig_end"]:
                rate = (seg["dub_end"] - seg["dub_start"]) / (seg["orig_end"] - seg["orig_start"])
                return seg["dub_start"] + (orig_t - seg["orig_start"]) * rate
        return None

    def to_json(self) -> dict[str, Any]:
        return {"original": self.original.name, "dubbed": self.dubbed.name, "truth": self.truth,
                "expect": self.expect, "dub_only": [list(d) for d in self.dub_only], "meta": self.meta}

    @classmethod
    def load(cls, path: Path) -> "Pair":
        """Read a pair written by :func:`build_pair` (its JSON sits beside the media)."""
        data = json.loads(Path(path).read_text())
        base = Path(path).parent
        return cls(base / data["original"], base / data["dubbed"], data["truth"], data["expect"],
                   [tuple(d) for d in data["dub_only"]], data["meta"])


# ---------------------------------------------------------------------------- the plan


@dataclass
class Piece:
    """``length`` samples of ``film`` from ``start``; ``kind`` is master, insert or preroll."""

    film: Film
    start: int
    length: int
    kind: str


@dataclass
class Plan:
    """Everything both files are rendered from, in samples on the master timeline."""

    master: Film
    orig_pre: list[Piece]
    dub_pre: list[Piece]
    body: list[Piece]
    speed: tuple[int, int] | None
    speed_mode: str
    cuts: list[tuple[int, int]]
    wrong_film: bool
    swapped: list[tuple[int, int]] = field(default_factory=list)  # master samples with other music in the dub
    wobble: tuple[tuple[float, float, float], ...] | None = None
    orig_cuts: list[tuple[int, int]] = field(default_factory=list)  # master samples the original lacks
    remix: "Remix | None" = None

    def body_length(self) -> int:
        return sum(p.length for p in self.body)


def _seed(case: str, seed: int) -> np.random.Generator:
    # Direction is left out on purpose: es-en and en-es share one master and one edit list.
    return np.random.default_rng([zlib.crc32(case.encode()), seed, CORPUS_VERSION])


def _sec(rng: np.random.Generator, lo: float, hi: float) -> int:
    return int(round(rng.uniform(lo, hi) * SR))


def _preroll(kind: str | None, rng: np.random.Generator, mat: Material,
             seconds: tuple[float, float]) -> list[Piece]:
    if not kind:
        return []
    pieces = []
    if "logo" in kind:
        logo = mat.logo_film(int(rng.integers(0, 1000)))
        pieces.append(Piece(logo, 0, logo.length, "preroll"))
    if "silence" in kind:
        n = _sec(rng, *seconds)
        pieces.append(Piece(Film(n), 0, n, "preroll"))
    return pieces


def _plan(spec: CaseSpec, duration: float, rng: np.random.Generator, mat: Material) -> Plan:
    length = int(round(duration * SR))
    quiet = _quiet_stretches(rng, length) if spec.quiet else []
    theme = min(40.0, 0.25 * duration) if spec.wrong_film else 0.0
    ending = min(40.0, 0.2 * duration) if spec.shared_ending else 0.0
    master = mat.make_film(rng, length, quiet=quiet, theme_seconds=theme, ending_seconds=ending)
    cuts = _choose_cuts(rng, master, spec.cuts, duration, quiet)
    body = _body(rng, mat, master, cuts, spec.inserts, duration)
    if spec.wrong_film:
        other = mat.make_film(rng, length, avoid_lines=master.line_names(),
                              tracks=master.tracks_used(), theme_from=master)
        body = [Piece(other, 0, other.length, "insert")]
    stretches: list[tuple[int, int]] = []
    if spec.swap_tail:
        stretches = [(int((1 - spec.swap_tail) * length), length)]
    if not spec.wrong_film and (spec.swap_music or spec.swap_opening or spec.swap_tail):
        stretches = stretches or _swap_stretches(rng, length, spec, cuts, body, quiet)
        swapped = mat.with_music_swapped(master, rng, stretches)
        body = [replace(p, film=swapped) if p.film is master else p for p in body]
    plan = Plan(master, _preroll(spec.orig_preroll, rng, mat, spec.preroll_seconds),
                _preroll(spec.dub_preroll, rng, mat, spec.preroll_seconds), body,
                spec.speed, spec.speed_mode, cuts, spec.wrong_film, stretches, spec.wobble)
    _late_edits(plan, spec, rng, mat, duration)
    return plan


def _late_edits(plan: Plan, spec: CaseSpec, rng: np.random.Generator, mat: Material, duration: float) -> None:
    """The edits of issue 13 item 5. They draw from ``rng`` after everything else, so a spec
    that asks for none of them builds the pair it always did."""
    master = plan.master
    if spec.wrong_film:
        if spec.sequel:
            sequel = _sequel(rng, mat, master)
            plan.body = [Piece(sequel, 0, sequel.length, "insert")]
        return
    clear = plan.cuts + _splices(plan.body) + plan.swapped + master.quiet
    if spec.short_cuts:
        short = _choose_short_cuts(rng, master, spec.short_cuts, clear)
        clear = clear + short
        if spec.short_cuts_in == "original":
            plan.orig_cuts = short
        else:
            plan.body = _edited(plan.body, short, [])
            plan.cuts = sorted(plan.cuts + short)
    if spec.ad_breaks:
        breaks = []
        for at in _ad_points(rng, master, spec.ad_breaks, clear):
            n = _sec(rng, 15.0, min(60.0, max(16.0, 0.12 * duration)))
            ad = mat.ad_break(rng, n, master.line_names(), master.tracks_used())
            breaks.append((at, Piece(ad, 0, ad.length, "ad")))
        plan.body = _edited(plan.body, [], breaks)
    if spec.rerecorded_effects:
        _restyle(plan, lambda f: mat.with_effects_rerecorded(f, rng, spec.rerecorded_effects))
    if spec.remix:
        r = plan.remix = Remix.draw(rng)
        _restyle(plan, lambda f: mat.with_stems_levelled(f, rng, r.music_db, r.effects_db, r.ride_db))


def _restyle(plan: Plan, make) -> None:
    """Give the dub's film pieces (the master, or its swapped-music copy) another bed."""
    done: dict[int, Film] = {}
    for i, p in enumerate(plan.body):
        if p.kind == "master":
            if id(p.film) not in done:
                done[id(p.film)] = make(p.film)
            plan.body[i] = replace(p, film=done[id(p.film)])


def _sequel(rng: np.random.Generator, mat: Material, master: Film) -> Film:
    """Another film, 0.8-1.25 times as long, with other lines and music, but the first film's
    theme at one or two other places (and in half of them over its end credits)."""
    theme = master.themes[0]
    n = int(master.length * rng.uniform(0.8, 1.25))
    film = mat.make_film(rng, n, avoid_lines=master.line_names(), avoid_tracks=master.tracks_used())
    starts = [int(rng.uniform(0.15, 0.45) * n)]
    if rng.random() < 0.5:
        starts.append(int(rng.uniform(0.55, 0.7) * n))
    if rng.random() < 0.5:
        starts.append(n - theme.length - int(rng.uniform(0, 3) * SR))
    return mat.with_theme_at(film, theme, [s for s in starts if 0 < s < n - SR])


def _splices(body: list[Piece]) -> list[tuple[int, int]]:
    """Where inserted scenes sit, on the master timeline."""
    out, pos = [], 0
    for p in body:
        if p.kind != "master":
            out.append((pos, pos))
        else:
            pos = p.start + p.length
    return out


def _choose_short_cuts(rng: np.random.Generator, film: Film, count: int,
                       clear: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Up to ``count`` trims of 1-10 s, each from one pause between lines to another, 3 s
    apart and from every other edit, inside 8-94 % of the film."""
    gaps = film.pause_points()
    gaps = gaps[(gaps > 0.08 * film.length) & (gaps < 0.94 * film.length)]
    taken = list(clear)
    cuts: list[tuple[int, int]] = []
    for _ in range(3000):
        if len(cuts) == count or len(gaps) < 2:
            break
        i = int(rng.integers(0, len(gaps) - 1))
        j = i + 1 + int(rng.integers(0, 4))
        if j >= len(gaps):
            continue
        a, b = int(gaps[i]), int(gaps[j])
        if not SR <= b - a <= 10 * SR or any(a < d + 3 * SR and b > c - 3 * SR for c, d in taken):
            continue
        cuts.append((a, b))
        taken.append((a, b))
    return sorted(cuts)


def _ad_points(rng: np.random.Generator, film: Film, count: int, clear: list[tuple[int, int]]) -> list[int]:
    """Up to ``count`` pauses between lines for ad breaks: 15-90 % of the film, 4 s from every
    other edit, a fifth of the film apart."""
    points = [int(p) for p in film.pause_points() if 0.15 * film.length < p < 0.9 * film.length
              and all(p < c - 4 * SR or p > d + 4 * SR for c, d in clear)]
    out: list[int] = []
    for p in (rng.permutation(points) if points else []):
        if all(abs(int(p) - q) > 0.2 * film.length for q in out):
            out.append(int(p))
        if len(out) == count:
            break
    return sorted(out)


def _edited(body: list[Piece], cuts: list[tuple[int, int]], inserts: list[tuple[int, Piece]]) -> list[Piece]:
    """``body`` without the master samples in ``cuts``, with each insert at its master sample."""
    out: list[Piece] = []
    for p in body:
        if p.kind != "master":
            out.append(p)
            continue
        a, b = p.start, p.start + p.length
        marks = sorted([(c, d) for c, d in cuts if c < b and d > a] + [(at, at) for at, _ in inserts if a < at < b])
        pos = a
        for c, d in marks:
            if c > pos:
                out.append(replace(p, start=pos, length=c - pos))
            if c == d:
                out.append(next(q for at, q in inserts if at == c))
            pos = max(pos, d)
        if b > pos:
            out.append(replace(p, start=pos, length=b - pos))
    return out


def _swap_stretches(rng: np.random.Generator, length: int, spec: CaseSpec, cuts: list[tuple[int, int]],
                    body: list[Piece], quiet: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Where the dub's music differs: the opening, and stretches of 15-60 s clear of every
    cut, inserted scene and silent stretch by 3 s (the picture there is one uninterrupted scene)."""
    out: list[tuple[int, int]] = []
    splices, pos = [], 0
    for p in body:  # where inserted scenes sit, on the master timeline
        if p.kind == "insert":
            splices.append((pos, pos))
        elif p.film is not None:
            pos = p.start + p.length
    keep_clear = cuts + splices + quiet
    if spec.swap_opening:  # up to 3 s before the first edit: the opening is one scene
        first_edit = min([a for a, _ in keep_clear] + [length])
        out.append((0, max(SR, min(_sec(rng, 15.0, 45.0), length // 5, first_edit - 3 * SR))))
    keep_clear += out
    hi = min(60.0, max(16.0, 0.15 * length / SR))
    for _ in range(400):
        if len(out) == spec.swap_music + spec.swap_opening:
            break
        n = _sec(rng, 15.0, hi)
        a = int(rng.integers(int(0.1 * length), max(int(0.1 * length) + 1, int(0.9 * length) - n)))
        if all(a + n < c - 3 * SR or a > d + 3 * SR for c, d in keep_clear):
            out.append((a, a + n))
            keep_clear.append((a, a + n))
    return sorted(out)


def _quiet_stretches(rng: np.random.Generator, length: int) -> list[tuple[int, int]]:
    """Stretches of 15-40 s with no bed at all (one for a short film, up to three for long)."""
    seconds = length / SR
    count = 1 if seconds < 300 else 3
    hi = min(40.0, max(16.0, seconds * 0.3))
    out: list[tuple[int, int]] = []
    for _ in range(200):
        n = _sec(rng, 15.0, hi)
        s = int(rng.integers(int(0.15 * length), max(int(0.15 * length) + 1, int(0.85 * length) - n)))
        if all(s > b + 10 * SR or s + n < a - 10 * SR for a, b in out):
            out.append((s, s + n))
        if len(out) == count:
            break
    return sorted(out)


def _choose_cuts(rng: np.random.Generator, film: Film, count: int, duration: float,
                 quiet: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``count`` scenes to drop from the dub, each starting and ending in a pause between lines.

    With quiet stretches, the first cut lies inside or at the edge of the first stretch.
    """
    if count == 0:
        return []
    lo, hi = 5.0, min(40.0, max(6.5, 0.12 * duration))
    gaps = film.pause_points()
    cuts: list[tuple[int, int]] = []
    for attempt in range(4000):
        relax = 1.0 + attempt / 1000
        a, b = (int(x) for x in np.sort(rng.choice(gaps, 2, replace=False)))
        if not lo * SR / relax <= b - a <= hi * SR * relax:
            continue
        if a < 0.1 * film.length or b > 0.92 * film.length:
            continue
        if any(a < d + 3 * SR and b > c - 3 * SR for c, d in cuts):
            continue
        if quiet and not cuts and not _touches(a, b, quiet[0]):
            continue
        if quiet and cuts and any(a < qb and b > qa for qa, qb in quiet):
            continue
        cuts.append((a, b))
        if len(cuts) == count:
            break
    return sorted(cuts)


def _touches(a: int, b: int, stretch: tuple[int, int]) -> bool:
    """A cut inside the stretch, or one that ends or starts within 1.5 s of its edge."""
    qa, qb = stretch
    inside = a >= qa and b <= qb
    edge = abs(b - qa) < 1.5 * SR or abs(a - qb) < 1.5 * SR
    return inside or edge


def _body(rng: np.random.Generator, mat: Material, master: Film, cuts: list[tuple[int, int]],
          inserts: int, duration: float) -> list[Piece]:
    """The dub at master rate: the master without its cuts, with extra scenes spliced in."""
    kept, pos = [], 0
    for a, b in cuts:
        kept.append((pos, a))
        pos = b
    kept.append((pos, master.length))
    points = [int(p) for p in master.pause_points()
              if 0.15 * master.length < p < 0.85 * master.length
              and all(abs(p - c) > 4 * SR and abs(p - d) > 4 * SR and not c < p < d for c, d in cuts)]
    at = sorted(rng.choice(points, min(inserts, len(points)), replace=False)) if inserts else []
    hi = min(30.0, max(7.0, 0.1 * duration))
    body = []
    for a, b in kept:
        for p in [p for p in at if a < p < b]:
            body.append(Piece(master, a, p - a, "master"))
            extra = mat.make_film(rng, _sec(rng, 4.0, hi), avoid_lines=master.line_names(),
                                  avoid_tracks=master.tracks_used())
            body.append(Piece(extra, 0, extra.length, "insert"))
            a = p
        body.append(Piece(master, a, b - a, "master"))
    return body


# ---------------------------------------------------------------------------- streams


class Stream:
    """``length`` samples of ``channels``-channel audio at 48 kHz, rendered on request."""

    length: int
    channels: int

    def render(self, start: int, n: int) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError


MIX_CHANNELS = {"7.1": 8, "5.1": 6, "stereo": 2, "mono": 1, "dualmono": 2}


class FilmStream(Stream):
    """A film in one language, mixed to 5.1 (dialogue in the centre), stereo, mono or dual mono."""

    def __init__(self, film: Film, lang: str, mix: str, surround: float = 1.0):
        self.film, self.lang, self.mix, self.length = film, lang, mix, film.length
        self.channels = MIX_CHANNELS[mix]
        self.surround = np.float32(surround)   # a remix's surround level (so its fold-down) differs

    def render(self, start: int, n: int) -> np.ndarray:
        bed, speech = self.film.render(self.lang, start, n)
        if self.surround != 1:
            bed[:, 4:6] *= self.surround
        return to_layout(bed, speech, self.mix)


def to_layout(bed: np.ndarray, speech: np.ndarray, mix: str) -> np.ndarray:
    """Bed (FL FR FC LFE SL SR) plus dialogue as 5.1, a stereo downmix, mono or dual mono.

    In stereo the dialogue is centred (equal in L and R), so L-R cancels it. Mono is
    (L + R) / sqrt(2) of that stereo downmix: the dialogue at full level, nothing cancels.
    Dual mono is that mono signal in both channels.
    """
    if mix == "5.1":
        out = bed.copy()
        out[:, 2] += speech
        return out
    if mix == "7.1":  # FL FR FC LFE BL BR SL SR: the surrounds spread over back and side pairs
        back, side = np.float32(0.8) * bed[:, 4:6], np.float32(0.6) * bed[:, 4:6]
        return np.column_stack([bed[:, :2], bed[:, 2] + speech, bed[:, 3], back, side])
    c = np.float32(math.sqrt(0.5))
    left = bed[:, 0] + c * bed[:, 2] + c * bed[:, 4] + c * speech
    right = bed[:, 1] + c * bed[:, 2] + c * bed[:, 5] + c * speech
    if mix == "stereo":
        return np.stack([left, right], axis=1)
    mono = c * (left + right)
    return mono[:, None] if mix == "mono" else np.stack([mono, mono], axis=1)


class Concat(Stream):
    """Pieces of other streams one after another (``(stream, start, length)``)."""

    def __init__(self, parts: list[tuple[Stream, int, int]], channels: int):
        self.parts, self.channels = parts, channels
        self.offsets = np.cumsum([0] + [p[2] for p in parts])
        self.length = int(self.offsets[-1])

    def render(self, start: int, n: int) -> np.ndarray:
        out = np.zeros((n, self.channels), np.float32)
        for (stream, src, length), off in zip(self.parts, self.offsets):
            lo, hi = max(start, off), min(start + n, off + length)
            if lo < hi:
                out[lo - start:hi - start] = stream.render(src + lo - off, hi - lo)
        return out


class Resampled(Stream):
    """A stream played up/down times as long, pitch following (a resample)."""

    def __init__(self, src: Stream, up: int, down: int):
        g = math.gcd(up, down)
        self.src, self.up, self.down, self.channels = src, up // g, down // g, src.channels
        self.length = -(-src.length * self.up // self.down)
        half = 10 * max(self.up, self.down)
        self.h = signal.firwin(2 * half + 1, 1.0 / max(self.up, self.down), window=("kaiser", 5.0))
        self.pad = half // self.up + 8

    def render(self, start: int, n: int) -> np.ndarray:
        # Output sample m plays source position m*down/up. Starting the source chunk on a
        # multiple of ``down`` makes every block an exact slice of one long resample.
        q = math.floor((start * self.down / self.up - self.pad) / self.down)
        s0 = q * self.down
        s1 = math.ceil((start + n) * self.down / self.up) + self.pad
        x = _render_padded(self.src, s0, s1 - s0)
        y = signal.resample_poly(x, self.up, self.down, axis=0, window=self.h)
        m0 = start - q * self.up
        return y[m0:m0 + n].astype(np.float32)


class Stretched(Stream):
    """A stream played up/down times as long at the same pitch (phase vocoder, in memory).

    Output frame j (centre j*hop) is built from input centre j*hop*down/up, so the time map
    is exactly linear; identity phase locking keeps transients reasonably tight.
    """

    MAX_SECONDS = 1800

    def __init__(self, src: Stream, up: int, down: int):
        if src.length > self.MAX_SECONDS * SR:
            raise UsageError(f"pitch-corrected tempo is built in memory; at most {self.MAX_SECONDS} s")
        self.channels = src.channels
        self.data = phase_vocoder(src.render(0, src.length), up / down)
        self.length = len(self.data)

    def render(self, start: int, n: int) -> np.ndarray:
        out = np.zeros((n, self.channels), np.float32)
        lo, hi = max(start, 0), min(start + n, self.length)
        if lo < hi:
            out[lo - start:hi - start] = self.data[lo:hi]
        return out


def _render_padded(stream: Stream, start: int, n: int) -> np.ndarray:
    out = np.zeros((n, stream.channels), np.float32)
    lo, hi = max(start, 0), min(start + n, stream.length)
    if lo < hi:
        out[lo - start:hi - start] = stream.render(lo, hi - lo)
    return out


def phase_vocoder(x: np.ndarray, ratio: float, n_fft: int = 2048, hop: int = 512) -> np.ndarray:
    """Stretch ``x`` (samples, channels) to ``round(len * ratio)`` samples keeping pitch.

    All channels get the same per-bin phase rotation (taken from their sum), so the stretch
    is linear in the signal: centred dialogue still cancels in L-R afterwards.
    """
    n, channels = x.shape
    n_out = int(round(n * ratio))
    frames = n_out // hop + 2
    win = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)
    front = n_fft + hop
    xp = np.concatenate([np.zeros((front, channels), np.float32), x.astype(np.float32),
                         np.zeros((n_fft + 2 * hop + int(hop / ratio) + 8, channels), np.float32)])
    centres = np.round(np.arange(frames) * hop / ratio).astype(np.int64) + front
    out = np.zeros((frames * hop + n_fft, channels), np.float32)
    idx = np.arange(n_fft) - n_fft // 2
    phase = None
    for j0 in range(0, frames, 256):
        c = centres[j0:j0 + 256]
        spec = np.fft.rfft(xp[c[:, None] + idx] * win[None, :, None], axis=1)
        mid = spec.sum(-1)
        before = np.fft.rfft(xp[(c - hop)[:, None] + idx].sum(-1) * win, axis=1)
        step = np.angle(mid) - np.angle(before)
        if phase is None:
            step[0] = np.angle(mid[0])
            phase = np.zeros(step.shape[1])
        acc = np.mod(phase + np.cumsum(step, axis=0) + np.pi, 2 * np.pi) - np.pi
        phase = acc[-1]
        rot = _lock_phases(acc - np.angle(mid), np.abs(mid))
        y = np.fft.irfft(spec * np.exp(1j * rot)[:, :, None], n=n_fft, axis=1) * win[None, :, None]
        for k in range(len(c)):
            j = j0 + k
            out[j * hop:j * hop + n_fft] += y[k]
    # A periodic Hann window squared sums to 1.5 at 75 % overlap.
    return out[n_fft // 2:n_fft // 2 + n_out] / 1.5


def _lock_phases(rot: np.ndarray, mag: np.ndarray) -> np.ndarray:
    """Identity phase locking: each bin takes the rotation of the nearest spectral peak."""
    m, k = mag.shape
    peak = np.zeros(mag.shape, dtype=bool)
    peak[:, 1:-1] = (mag[:, 1:-1] > mag[:, :-2]) & (mag[:, 1:-1] >= mag[:, 2:])
    peak[:, 0] = True
    ar = np.broadcast_to(np.arange(k), (m, k))
    last = np.maximum.accumulate(np.where(peak, ar, 0), axis=1)
    nxt = np.minimum.accumulate(np.where(peak, ar, k)[:, ::-1], axis=1)[:, ::-1]
    nxt = np.where(nxt >= k, last, nxt)
    near = np.where(ar - last <= nxt - ar, last, nxt)
    return np.take_along_axis(rot, near, axis=1)


def _streams(plan: Plan, lang_o: str, lang_d: str, mix_o: str, mix_d: str) -> tuple[Stream, Stream]:
    def concat(pieces: list[Piece], lang: str, mix: str, surround: float = 1.0) -> Concat:
        return Concat([(FilmStream(p.film, lang, mix, surround), p.start, p.length) for p in pieces],
                      MIX_CHANNELS[mix])

    kept = [Piece(plan.master, a, b - a, "master") for a, b in _kept(plan.master.length, plan.orig_cuts)]
    original = concat(plan.orig_pre + kept, lang_o, mix_o)
    body: Stream = concat(plan.body, lang_d, mix_d, plan.remix.surround if plan.remix else 1.0)
    if plan.remix:
        body = Remixed(body, plan.remix)
    if plan.speed:
        cls = Stretched if plan.speed_mode == "tempo" else Resampled
        body = cls(body, *plan.speed)
    pre = concat(plan.dub_pre, lang_d, mix_d)
    dubbed: Stream = Concat([(pre, 0, pre.length), (body, 0, body.length)], MIX_CHANNELS[mix_d])
    if plan.wobble:
        dubbed = Tape(dubbed, Wobble(plan.wobble))
    return original, dubbed


# ---------------------------------------------------------------------------- encoding


_LAYOUT_NAMES = {8: "7.1", 6: "5.1", 2: "stereo", 1: "mono"}


def encode(stream: Stream, fmt: Format, path: Path, gain_db: float, lang: str) -> None:
    """Encode ``stream`` once, streaming blocks into ffmpeg; the file appears only when done."""
    part = path.with_name(path.name + ".part")
    argv = ["ffmpeg", "-v", "error", "-y", "-f", "f32le", "-ar", str(SR), "-ac", str(fmt.channels),
            "-channel_layout", _LAYOUT_NAMES[fmt.channels], "-i", "pipe:0"]
    if fmt.video:
        argv += ["-f", "lavfi", "-i", f"color=c=black:s=64x36:r=5:d={stream.length / SR:.3f}",
                 "-map", "1:v", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "stillimage",
                 "-pix_fmt", "yuv420p"]
    argv += ["-map", "0:a", "-c:a", fmt.codec, *fmt.args,
             "-metadata:s:a:0", f"language={LANG_TAGS[lang]}", "-f", fmt.muxer, str(part)]
    gain = np.float32(10 ** (gain_db / 20))
    with tempfile.TemporaryFile() as err:
        proc = process.popen(argv, "ffmpeg", stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
        try:
            for start in range(0, stream.length, BLOCK):
                block = stream.render(start, min(BLOCK, stream.length - start)) * gain
                proc.stdin.write(np.clip(block, -1.0, 1.0).astype("<f4").tobytes())
        except BrokenPipeError:
            pass
        finally:
            proc.stdin.close()
        code = proc.wait()
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if code != 0:
        part.unlink(missing_ok=True)
        raise ToolError("ffmpeg", f"encoding {path.name} failed", code, stderr)
    part.replace(path)


def decode(path: Path, seconds: float | None = None) -> np.ndarray:
    """What ffmpeg decodes from the first audio track: (samples, channels) float32 at 48 kHz."""
    argv = ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0"]
    if seconds is not None:
        argv += ["-t", f"{seconds:.3f}"]
    probe = process.run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
                         "stream=channels", "-of", "csv=p=0", str(path)], "ffprobe")
    channels = int(probe.stdout.split()[0])
    proc = process.run(argv + ["-ar", str(SR), "-f", "f32le", "-"], "ffmpeg")
    return np.frombuffer(proc.stdout, dtype="<f4").reshape(-1, channels)


def measure_delay(stream: Stream, path: Path) -> dict[str, float]:
    """Samples by which the decoded file lags the audio that went into the encoder.

    Cross-correlates channel 0 (FL or L) over the loudest 4 s of the first minute and
    refines the peak with a parabola: codec priming, with nothing taken from a table.
    """
    n = min(stream.length, 60 * SR)
    ref_all = stream.render(0, n)[:, 0]
    win, lead, lag = min(4 * SR, n // 2), 512, 8192
    step = SR // 10
    power = np.cumsum(np.concatenate([[0.0], (ref_all[:n // step * step].reshape(-1, step) ** 2).sum(1)]))
    span = win // step
    scores = power[span:] - power[:-span]
    w0 = max(lead, min(int(np.argmax(scores)) * step, n - win))
    ref = ref_all[w0:w0 + win]
    dec = decode(path, (w0 + win + lag) / SR + 0.5)[:, 0]
    seg = np.zeros(win + lead + lag, np.float32)
    chunk = dec[w0 - lead:w0 + win + lag]
    seg[:len(chunk)] = chunk
    corr = signal.correlate(seg, ref, "valid", method="fft")
    i = int(np.clip(np.argmax(corr), 1, len(corr) - 2))
    a, b, c = corr[i - 1], corr[i], corr[i + 1]
    frac = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) != 0 else 0.0
    delay = i - lead + frac
    norm = math.sqrt(float((ref ** 2).sum()) * float((seg[i:i + win] ** 2).sum())) or 1.0
    exact = round(delay) if abs(delay - round(delay)) < 0.25 else delay
    return {"delay_samples": float(exact), "measured_samples": round(float(delay), 3),
            "delay_s": float(exact) / SR, "correlation": round(float(b) / norm, 4)}


# ---------------------------------------------------------------------------- truth


def truth_of(plan: Plan, orig_delay: float, dub_delay: float) -> tuple[list[dict], list[tuple[float, float]]]:
    """The truth segments and the dub-only intervals, in seconds on the decoded timelines."""
    up, down = plan.speed or (1, 1)
    pre_o = sum(p.length for p in plan.orig_pre)
    pre_d = sum(p.length for p in plan.dub_pre)

    def dub_t(body_sample: int) -> float:
        return (pre_d + Fraction(body_sample * up, down)) / SR

    truth, dub_only, pos = [], [], 0
    if pre_d:
        dub_only.append((0.0, float(pre_d / SR)))
    for p in plan.body:
        if p.kind == "master" and not plan.wrong_film:
            # Parts of the master the original lacks (a director's cut dub) are dub-only.
            for a, b, in_orig in _split(p.start, p.start + p.length, plan.orig_cuts):
                d0, d1 = dub_t(pos + a - p.start), dub_t(pos + b - p.start)
                if not in_orig:
                    dub_only.append((float(d0), float(d1)))
                    continue
                o = pre_o + _orig_sample(plan, a)
                truth.append({"dub_start": float(d0), "dub_end": float(d1),
                              "orig_start": o / SR + orig_delay, "orig_end": (o + b - a) / SR + orig_delay})
        else:
            dub_only.append((float(dub_t(pos)), float(dub_t(pos + p.length))))
        pos += p.length
    if plan.wobble:  # the tape plays the whole dub on a warped clock
        truth, dub_only = warp_truth(truth, dub_only, Wobble(plan.wobble))
    dub_only = [(a + dub_delay if a > 0 else 0.0, b + dub_delay) for a, b in dub_only]
    return _delayed(truth, dub_delay), dub_only


def _kept(length: int, cuts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The ranges of [0, length) outside ``cuts`` (sorted, disjoint)."""
    out, pos = [], 0
    for a, b in cuts:
        out.append((pos, a))
        pos = b
    return [(a, b) for a, b in out + [(pos, length)] if b > a]


def _split(a: int, b: int, cuts: list[tuple[int, int]]) -> list[tuple[int, int, bool]]:
    """[a, b) in order as (start, end, outside every cut)."""
    marks = sorted({a, b} | {x for c, d in cuts for x in (c, d) if a < x < b})
    return [(s, e, not any(c <= s and e <= d for c, d in cuts)) for s, e in zip(marks, marks[1:])]


def _orig_sample(plan: Plan, m: int) -> int:
    """Where master sample ``m`` (outside the original's cuts) lies in the original's body."""
    return m - sum(b - a for a, b in plan.orig_cuts if b <= m)


def _delayed(truth: list[dict], dub_delay: float) -> list[dict]:
    return [{**seg, "dub_start": seg["dub_start"] + dub_delay, "dub_end": seg["dub_end"] + dub_delay}
            for seg in truth]


def _file_meta(fmt_name: str, gain_db: float, lang: str, stream: Stream, delay: dict) -> dict:
    fmt = FORMATS[fmt_name]
    return {"format": fmt_name, "codec": fmt.codec, "channels": fmt.channels, "mix": fmt.mix, "container": fmt.muxer,
            "gain_db": gain_db, "language": lang, **delay,
            "duration": stream.length / SR + delay["delay_s"]}


# ---------------------------------------------------------------------------- build


def pair_stem(case: str, direction: str, duration: float, seed: int) -> str:
    return f"{case}-{direction}-{duration:g}s-seed{seed}"


def build_pair(case: str, direction: str, duration: float, workdir: Path, seed: int = 0,
               *, reuse: bool = False) -> Pair:
    """Build (or, with ``reuse``, load) one pair in ``workdir``; see the module docstring."""
    spec = _check(case, direction, duration, seed)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    stem = pair_stem(case, direction, duration, seed)
    json_path = workdir / f"{stem}.json"
    if reuse and json_path.is_file():
        pair = Pair.load(json_path)
        if pair.meta.get("version") == CORPUS_VERSION and pair.meta.get("spec_crc") == _spec_crc(spec) \
                and pair.original.is_file() and pair.dubbed.is_file():
            return pair
    began = time.monotonic()
    mat = material()
    plan = _plan(spec, duration, _seed(case, seed), mat)
    lang_o, lang_d = direction.split("-")
    fo, fd = FORMATS[spec.original], FORMATS[spec.dubbed]
    orig_stream, dub_stream = _streams(plan, lang_o, lang_d, fo.mix, fd.mix)
    paths = workdir / f"{stem}.orig.{fo.ext}", workdir / f"{stem}.dub.{fd.ext}"
    encode(orig_stream, fo, paths[0], spec.orig_gain_db, lang_o)
    encode(dub_stream, fd, paths[1], spec.dub_gain_db, lang_d)
    delay_o, delay_d = measure_delay(orig_stream, paths[0]), measure_delay(dub_stream, paths[1])
    truth, dub_only = truth_of(plan, delay_o["delay_s"], delay_d["delay_s"])
    meta = _meta(spec, plan, case, direction, duration, seed, delay_o["delay_s"])
    meta["original"] = _file_meta(spec.original, spec.orig_gain_db, lang_o, orig_stream, delay_o)
    meta["dubbed"] = _file_meta(spec.dubbed, spec.dub_gain_db, lang_d, dub_stream, delay_d)
    meta["build_seconds"] = round(time.monotonic() - began, 2)
    pair = Pair(paths[0], paths[1], truth, spec.expect, dub_only, meta)
    json_path.write_text(json.dumps(pair.to_json(), indent=1))
    return pair


RANDOM = "random"  # every edit drawn from the seed: benchmarks.randomized


def _check(case: str, direction: str, duration: float, seed: int = 0) -> CaseSpec:
    if case not in CASES and case != RANDOM:
        raise UsageError(f"unknown case {case!r}; known: {', '.join(CASES)}, {RANDOM}")
    if direction not in DIRECTIONS:
        raise UsageError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    if not 20 <= duration <= 4 * 3600:
        raise UsageError(f"duration must be 20 s to 4 h, not {duration!r}")
    if drascula_dir() is None:
        raise UsageError("drascula game data missing: run `bash dev.sh test`, which fetches it")
    if case == RANDOM:
        from .randomized import random_spec
        return random_spec(seed)[0]
    return CASES[case]


# Bumped when the plan of a case changes without its spec changing (named cases never do:
# their figures in docs/benchmarks.md must stay reproducible).
PLAN_REVISION = 2


def _spec_crc(spec: CaseSpec) -> int:
    """A pair is reused only while its case still asks for the same thing."""
    # Fields added later hash only when set: a spec without them hashes as it did before
    # they existed, so its cached pairs stay valid.
    parts = [f"{f.name}={getattr(spec, f.name)!r}" for f in fields(spec) if f.repr
             and (f.name not in _LATE_FIELDS or getattr(spec, f.name) != f.default)]
    return zlib.crc32(f"CaseSpec({', '.join(parts)}) {PLAN_REVISION}".encode())


_LATE_FIELDS = ("wobble", "ad_breaks", "short_cuts", "short_cuts_in", "remix", "rerecorded_effects", "sequel")


def _meta(spec: CaseSpec, plan: Plan, case: str, direction: str, duration: float, seed: int,
          orig_delay: float) -> dict[str, Any]:
    pre_o = sum(p.length for p in plan.orig_pre) / SR
    up, down = plan.speed or (1, 1)

    def orig_s(m: int) -> float:
        return pre_o + _orig_sample(plan, m) / SR + orig_delay
    return {"case": case, "direction": direction, "duration": duration, "seed": seed,
            "version": CORPUS_VERSION, "spec_crc": _spec_crc(spec), "about": spec.about, "speed": up / down,
            "speed_ratio": [up, down], "speed_mode": plan.speed_mode if plan.speed else None,
            "orig_preroll_s": pre_o, "dub_preroll_s": sum(p.length for p in plan.dub_pre) / SR,
            "cuts_master_s": [[a / SR, b / SR] for a, b in plan.cuts],
            "inserts_s": [p.length / SR for p in plan.body if p.kind == "insert"],
            "quiet_orig_s": [[orig_s(a), orig_s(b)] for a, b in plan.master.quiet],
            "swapped_orig_s": [[orig_s(a), orig_s(b)] for a, b in plan.swapped],
            "orig_cuts_master_s": [[a / SR, b / SR] for a, b in plan.orig_cuts],
            "ad_breaks_s": [p.length / SR for p in plan.body if p.kind == "ad"],
            "remix": plan.remix.to_json() if plan.remix else None,
            "rerecorded_effects": spec.rerecorded_effects, "sequel": spec.sequel,
            "lines": len(plan.master.lines), "tracks": sorted(plan.master.tracks_used()),
            "wobble": [list(w) for w in plan.wobble] if plan.wobble else None,
            "surround_delay_samples": SURROUND_DELAY}
