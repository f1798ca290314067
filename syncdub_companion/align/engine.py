"""The aligner: two media files in, a TimeMap from the dub's timeline onto the original's out.

Steps: decode both tracks at once with the dialogue suppressed -> 100 Hz band features ->
speed from probes at the film-rate ratios -> offsets of 20 s chunks -> a shared-slope fit
that refines the speed -> Viterbi segmentation over the candidate offsets, allowing cuts,
inserts and silence -> boundaries at 10 ms -> precise anchors and a final fit -> a
sample-level check on the waveform -> verdict from coverage and evidence strength.
"""
from __future__ import annotations

import copy
import importlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from typing import Callable

import numpy as np

from ..errors import MediaError, ModelMissingError
from ..tools.ffprobe import FFprobe
from .continuity import JOIN_TOLERANCE_S, bridge, wobble_tolerance
from .dialogue import Rhythm, carry
from .drift import (COARSE_MIN_F, COARSE_MIN_FRAMES, COARSE_SPACING_S, FINE_MIN_FRAMES, FINE_SPACING_S, Curve, Drift, Warp,
                    retimed, retimed_envelope, wobble)
from .decode import SAMPLE_RATE, DecodedTrack, bed_kinds, bed_worth_using, decode_pair, select_stream
from .features import (FPS, Features, derived, detail, evenly_weighted, features_from_energies, features_of, frame_time,
                       onset_envelope, resample_features, time_frame)
from .fit import LineFit, cluster_lags, fit_shared_slope, stretch_runs
from .heap import give_back
from .search import ChunkSearch, Match, OriginalIndex, chance_bound, find_speed, ncc_floor, resample_envelope, window_lags
from .segment import (Similarity, Track, match_strength, monotone_path, refine_boundaries, runs, similarity_track,
                      split_gaps, split_overlaps, unmap_unconfirmed_edges)
from .timemap import Anchor, Segment, TimeMap
from .verify import apply_speech, hold_without_speech, wants_speech, windows_for
from .waveform import SIGNAL_MODULE, refine_edges, refine_offset
from ..timing import LapClock

log = logging.getLogger(__name__)

ACCEPT_Z = 6.5           # probes' z-score to go on; identity is decided later by coverage
# On the full mix the probes must stand out more: there both languages' dialogue lies over
# the bed, so what two different episodes share (a theme, a reused cue) is most of what
# matches at all, and no dialogue-free bed tells the rest apart. True mono pairs in the
# corpus score 12.8 and up; mono "wrong film" pairs 6.8-11.2 (over 9 only in 8-minute
# films, which the coverage rule then rejects).
ACCEPT_Z_FULL = 9.0
CHUNK_Z = 5.0            # one chunk: looser, since the band-feature NCC floor must confirm it
CHUNK = 2000             # 20 s chunks for offset candidates
SHORT_CHUNK = 600        # 6 s chunks for stretches the first pass left unexplained
ANCHOR_WIDTH = 300       # 3 s windows for the precise anchors
MIN_SEGMENT_S = 1.0
MIN_THRESHOLD_SD = 2.0   # the segmentation threshold stays this many null SDs over chance
KEEP_NCC = 0.75          # a chunk keeps its neighbour's lag unless its NCC there drops under this share
# A stretch matching under this share of the film's typical match (segment.match_strength)
# is searched through for better lags of short scenes, which win a 6 s chunk by the margin.
WEAK_STRENGTH = 0.5
CHALLENGE_MARGIN = 0.15
CHALLENGE_PEAKS = 5
OWN_RADIUS = 40          # frames: a weak stretch's own match is looked for this far from its lag
ROOM_SLACK = 1000        # 10 s: a gap's neighbours may have run that far into it
# A gap of SHORT_PIECE frames up to half a short chunk, with room for it between its
# neighbours on the original (PIECE_MARGIN frames clear of both their lags), is searched
# there whole and kept when its NCC leads any other lag's there by PIECE_LEAD.
SHORT_PIECE = 100
PIECE_MARGIN = 10
PIECE_LEAD = 0.25
ROOM_SEARCH_MAX = 30000  # 5 min: a gap's room on the original is searched whole up to this
RIVAL_LEAD = 0.25        # a room's best place alone is a candidate when it leads the room by this
NEW_LAG = 8              # a chunk's lag farther than this (frames) from every known one is a new offset
LAG_GROUP = 2.0          # anchors' lags (frames) farther apart than this get tracks of their own
# A gap given to its two neighbours (segment.split_gaps): what each is given must match it
# this many null SDs over chance, on average. A looped cue's lag matches weakly all through
# (blind seed 5202: 0.067 over 39 s of other scenes and an inserted one, against its limit
# of 0.28, when the same-lag fill was limited as tried; see docs/benchmarks.md).
WEAK_SDS = 3.0
SMEAR_FRAMES = 0.5       # a chunk smeared less than this by a speed correction keeps its place
# What a missing or broken model, a bad model folder or an undecodable window raise; the map
# is then judged without speech (verify.hold_without_speech), and the job says why.
SPEECH_FAILURES = (ImportError, OSError, RuntimeError, ValueError, MediaError, ModelMissingError)


@dataclass
class AlignOptions:
    """What the aligner may be told; unknown keys are ignored so callers can pass settings through."""

    orig_track: int | None = None
    dub_track: int | None = None
    device: str = "auto"
    speech: str = "auto"
    min_confidence: float = 0.5
    min_coverage: float = 0.5
    ffmpeg: str = "ffmpeg"
    ffprobe: str = "ffprobe"
    speech_settings: dict = field(default_factory=dict)
    # "probe": prove the map from windows of both files first (align/probe.py); "full": decode all.
    read: str = "full"
    probe_min_duration: float = 1200.0   # shorter films are read in full: the windows would read most of them
    # progress(fraction 0-1, what it is doing): called at each step; whatever it raises (a
    # cancelled job) stops the alignment there.
    progress: Callable[[float, str], None] | None = None

    @classmethod
    def from_dict(cls, data: dict | None) -> "AlignOptions":
        data = dict(data or {})
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__ and v is not None})


def align(original: str, dubbed: str, options: dict | None = None) -> TimeMap:
    """Map ``dubbed``'s decoded timeline onto ``original``'s; see :class:`TimeMap`."""
    try:
        return _align(original, dubbed, AlignOptions.from_dict(options))
    finally:
        # The decode and the steps after it leave a film's worth of freed arrays on the heap
        # (align/heap.py): a worker that goes on to wait for the next job should not hold them.
        give_back()


def _align(original: str, dubbed: str, opts: AlignOptions) -> TimeMap:
    clock = LapClock()
    # Half a second of imports, taken while ffprobe reads both files' headers.
    threading.Thread(target=importlib.import_module, args=(SIGNAL_MODULE,), daemon=True).start()
    s_orig, s_dub = _select_streams(original, dubbed, opts)
    k_orig, k_dub = bed_kinds(s_orig, s_dub)
    report = _progress(opts)
    probed, probe = (_by_probes(original, dubbed, (s_orig, s_dub), (k_orig, k_dub), opts, clock)
                     if opts.read == "probe" else (None, None))
    if probed is not None:
        return _finish_with_speech(probed, original, dubbed, s_orig, s_dub, k_orig, k_dub, opts, clock,
                                   (float(s_orig.duration), float(s_dub.duration)))
    report(0.0, "decoding")
    sides: dict = {}
    t_orig, t_dub = decode_pair(opts.ffmpeg, [(original, s_orig, k_orig), (dubbed, s_dub, k_dub)],
                                progress=lambda f: report(DECODE_SHARE * f, f"decoding {f:.0%}"),
                                after=[lambda track: sides.update(orig=_prepare(track, original=True)), _prepare])
    clock.lap("decode")
    report(DECODE_SHARE, "matching the music and effects")
    result = align_tracks(t_orig, t_dub, opts, clock, orig_side=sides.get("orig"))
    result.details["gave_way"] = [role for role, t in (("original", t_orig), ("dubbed", t_dub)) if t.gave_way]
    if probe is not None:
        result.details["probe"] = probe
    return _finish_with_speech(result, original, dubbed, s_orig, s_dub, k_orig, k_dub, opts, clock,
                               (t_orig.duration, t_dub.duration))


def _select_streams(original: str, dubbed: str, opts: AlignOptions):
    """Both files' audio streams, probed at once: a remux's header takes ffprobe 0.1-0.3 s,
    and nothing starts decoding before both are known. The original's error comes first."""
    ffprobe = FFprobe(opts.ffprobe)
    with ThreadPoolExecutor(max_workers=1) as pool:
        dub = pool.submit(select_stream, ffprobe, dubbed, opts.dub_track, "dubbed")
        return select_stream(ffprobe, original, opts.orig_track, "original"), dub.result()


def _by_probes(original, dubbed, streams, kinds, opts: AlignOptions, clock: LapClock) -> tuple[TimeMap | None, dict]:
    """The probe path's map, or None for the full decode; and what the windows found (and
    why they fell back), for the map's details."""
    from .probe import NoProof, align_by_probes

    probe: dict = {}
    shortest = min(float(s.duration or 0.0) for s in streams)
    if shortest < opts.probe_min_duration:
        probe["fell_back"] = f"shorter than {opts.probe_min_duration:g} s: read in full"
    else:
        _progress(opts)(0.0, "reading windows of both files")
        try:
            result = align_by_probes(original, dubbed, streams, kinds, opts, (ACCEPT_Z, ACCEPT_Z_FULL), probe)
            clock.lap("probe")
            return result, probe
        except NoProof as exc:
            probe["fell_back"] = str(exc)
            log.info("probe path for %s: %s; decoding both files in full", dubbed, exc)
        clock.lap("probe")
    return None, probe


def _finish_with_speech(result: TimeMap, original, dubbed, s_orig, s_dub, k_orig, k_dub, opts: AlignOptions,
                        clock: LapClock, durations: tuple[float, float]) -> TimeMap:
    report = _progress(opts)
    report(AUDIO_DONE, "checking the map")
    if wants_speech(opts.speech, result):
        try:
            result = _with_speech(result, original, dubbed, s_orig, s_dub, *durations, opts)
        except SPEECH_FAILURES as exc:
            log.warning("speech evidence failed for %s: %s", dubbed, exc)
            result.details["speech_error"] = f"{type(exc).__name__}: {exc}"
            result = hold_without_speech(result, f"failed ({type(exc).__name__}: {exc})")
        clock.lap("speech")
    else:
        result = hold_without_speech(result, "is off" if opts.speech == "never" else "was not run")
    result.details["timings"] = clock.laps
    result.details["streams"] = {"original": _describe(s_orig, k_orig), "dubbed": _describe(s_dub, k_dub)}
    return result


DECODE_SHARE = 0.6   # of the progress bar: decoding is most of an alignment without speech
AUDIO_DONE = 0.7


def _progress(opts: AlignOptions) -> Callable[[float, str], None]:
    return opts.progress or (lambda fraction, what: None)


def _with_speech(result: TimeMap, original, dubbed, s_orig, s_dub, orig_duration, dub_duration, opts) -> TimeMap:
    """Run the speech models over sampled windows (the whole film on CUDA) and judge the map."""
    from .speech import SpeechSettings, speech_evidence
    from .transcribe import whisper_device

    settings = SpeechSettings.coerce({**opts.speech_settings, "ffmpeg": opts.ffmpeg, "ffprobe": opts.ffprobe})
    device = whisper_device(opts.device)
    count = 0 if device == "cuda" else settings.windows
    orig_w, dub_w = windows_for(result, orig_duration, dub_duration, count, settings.window_seconds)
    report = _progress(opts)

    def windows_done(done: int, total: int) -> None:
        report(AUDIO_DONE + (1 - AUDIO_DONE) * done / max(total, 1), f"transcribing window {done + 1} of {total}")

    evidence = speech_evidence(original, dubbed, orig_track=s_orig.index, dub_track=s_dub.index,
                               orig_windows=orig_w, dub_windows=dub_w, settings=settings, device=device,
                               orig_language=_iso1(s_orig.language), dub_language=_iso1(s_dub.language),
                               progress=windows_done)
    return apply_speech(result, evidence)


def _iso1(code: str | None) -> str | None:
    """Whisper speaks ISO 639-1; tracks carry 639-2 (or nothing)."""
    from ..naming import normalise_language

    short = normalise_language(code)
    return short if short and len(short) == 2 else None


def _describe(stream, kind) -> dict:
    return {"index": stream.index, "codec": stream.codec, "channels": stream.channels,
            "language": stream.language, "bed": kind}


def choose_signals(orig: DecodedTrack, dub: DecodedTrack) -> tuple[np.ndarray, np.ndarray, str]:
    """The dialogue-poor bed when both files have one worth using, else the full mixes
    (the same choice as :func:`_features_for`)."""
    if orig.bed_kind != "full" and _bed_usable(orig) and _bed_usable(dub):
        return orig.bed, dub.bed, orig.bed_kind
    return orig.full, dub.full, "full"


def _bed_usable(track: DecodedTrack) -> bool:
    if track.bed_usable is None:
        track.bed_usable = bed_worth_using(track.bed[::7], track.full[::7])
    return track.bed_usable


def _prepare(track: DecodedTrack, original: bool = False):
    """What needs this file alone, in its decode thread, while the other file may still
    decode: the onset envelope (and the original's detail) of the mix the pair will most
    likely align on, and the original's :func:`_original_side`."""
    on_bed = track.bed_kind == "full" or (_bed_usable(track) and track.bed_features is not None)
    likely = track.bed_features if on_bed else track.full_features
    derived(likely, onset_envelope)
    if original:
        derived(likely, detail)
        return _original_side(track)
    return None


def _original_side(track: DecodedTrack):
    """The original's dialogue-rhythm masks (:meth:`Rhythm.side`), in its decode thread: they
    cost two seconds for 2 hours, and there they run while the dub still decodes. None where
    the bed cannot be chosen (the rhythm is then never read), or where the decode stopped
    transforming it (the other file's bed was dead)."""
    if track.bed_kind == "full" or not _bed_usable(track) or track.bed_features is None:
        return None
    return Rhythm.side(track.dialogue_level(), track.bed_features)


def align_tracks(t_orig: DecodedTrack, t_dub: DecodedTrack, opts: AlignOptions, clock: LapClock | None = None,
                 orig_side: tuple[np.ndarray, np.ndarray] | None = None) -> TimeMap:
    """The map from two decoded tracks; ``orig_side``: the original's :meth:`Rhythm.side`, if
    already taken (else it is taken here when needed)."""
    clock = clock or LapClock()
    sig_o, sig_d, signal = choose_signals(t_orig, t_dub)
    f_orig, f_dub = _features_for(t_orig, sig_o), _features_for(t_dub, sig_d)
    clock.lap("features")
    state = _State(f_orig, f_dub, sig_o, sig_d, opts, accept_z=ACCEPT_Z_FULL if signal == "full" else ACCEPT_Z)
    state.details["signal"] = signal
    if signal != "full":  # the full mixes carry the dialogue's rhythm where the bed is silent
        state.full = (t_orig.dialogue_level(), t_dub.dialogue_level())
        state.orig_side = orig_side
    t_orig.keep_only(sig_o)
    t_dub.keep_only(sig_d)
    result = state.run(clock)
    return result


def _features_for(track: DecodedTrack, signal: np.ndarray) -> Features:
    """Features of the mix chosen from ``track``, as taken while decoding, or from its energies."""
    taken = track.bed_features if signal is track.bed else track.full_features if signal is track.full else None
    if taken is not None:
        return taken
    energy = track.bed_energy if signal is track.bed else track.full_energy if signal is track.full else None
    return features_from_energies(energy) if energy is not None else features_of(signal)


class _State:
    """The working data of one alignment; methods are its steps, in order."""

    def __init__(self, f_orig: Features, f_dub: Features, sig_o, sig_d, opts: AlignOptions,
                 accept_z: float = ACCEPT_Z):
        self.accept_z = accept_z
        self.f_orig, self.f_dub = f_orig, f_dub
        self.sig_o, self.sig_d = sig_o, sig_d
        self.opts = opts
        self.z_orig = derived(f_orig, detail)
        self.env_o = derived(f_orig, onset_envelope)
        self.env_d = derived(f_dub, onset_envelope)
        self.orig_duration = len(sig_o) / SAMPLE_RATE
        self.dub_duration = len(sig_d) / SAMPLE_RATE
        self.details: dict = {}
        self.full: tuple[Features, Features] | None = None
        self.orig_side: tuple[np.ndarray, np.ndarray] | None = None   # Rhythm.side of the original
        self.carried: np.ndarray | None = None
        self.searches = {"local": 0, "full": 0}   # chunk searches so far, for details.settle
        # A tape's wobble: the dub's clock after the coarse warp, and the map's way back from it.
        self.warp: Warp | None = None
        self.drift: Drift | None = None

    # --- step 1: speed --------------------------------------------------------------
    def run(self, clock: LapClock) -> TimeMap:
        report = _progress(self.opts)
        speed, score, probes = find_speed(self.env_o, self.env_d, self.f_dub.loud, accept_z=self.accept_z)
        self.details["speed_probe_z"] = round(score, 2)
        clock.lap("speed")
        report(DECODE_SHARE + 0.02, "placing the dub's chunks")
        if score < self.accept_z:
            return self._reject(f"no stretch of the dub matches the original (best probe z = {score:.1f}, "
                                f"needs {self.accept_z:g}): not the same film, or no shared music and effects", speed)
        lags = [m.lag for m in probes if m.z >= self.accept_z]
        self.index = OriginalIndex(self.env_o, CHUNK + 2)
        speed, straight = self._settle_speed(speed, lags)
        anchors = self._follow_wobble(straight)
        clock.lap("offsets")
        if len(anchors) == 0:
            return self._reject("no 20 s stretch of the dub matches the original closely", speed)
        report(DECODE_SHARE + 0.05, "finding cuts and inserted scenes")
        path, tracks, threshold = (self._segment(anchors) if self.warp is None
                                   else self._segment_either_clock(anchors, straight))
        clock.lap("segments")
        report(DECODE_SHARE + 0.08, "fitting the map")
        return self._finish(path, tracks, threshold, clock)

    def _retime(self, speed: float) -> None:
        self.speed = speed
        if self.warp is None:
            self.dub = resample_features(self.f_dub, speed)
            self.env_dub = resample_envelope(self.env_d, speed, len(self.dub))
        else:
            n = int(np.floor(time_frame(self._dub_end() / speed))) + 1
            self.dub = retimed(self.f_dub, speed, self.warp, n)
            self.env_dub = retimed_envelope(self.env_d, speed, self.warp, n)
        self.z_dub = detail(self.dub)

    def _segment_either_clock(self, anchors, straight):
        """The segmentation on the bent clock, or on the dub's straight one where that maps more.

        The coarse bend is drawn through 20 s chunks only; where it strays (across an
        inserted scene, a swapped song) the one-frame tracks can lose a stretch that the
        straight clock still holds. The fine bend then follows the tape on either clock.
        The two segmentations share nothing they change, so the straight one runs beside
        the other on a copy of this state (each is seconds of a 2-hour film).
        """
        if self.full is not None:
            self._original_rhythm()   # once, here: both segmentations read it
        other = self._straight_copy()
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(other._segment_straight, straight)
            bent = self._segment(anchors)
            found, details_set = pending.result()
        if (found[0] != -1).mean() <= (bent[0] != -1).mean() + 0.02:
            return bent
        self.warp, self.carried, self.null = None, other.carried, other.null
        self.dub, self.env_dub, self.z_dub = other.dub, other.env_dub, other.z_dub
        self.details.update(details_set, wobble_coarse_dropped=True)
        return found

    def _straight_copy(self) -> "_State":
        other = copy.copy(self)
        other.details, other.searches, other.warp = dict(self.details), dict(self.searches), None
        return other

    def _segment_straight(self, anchors):
        """:meth:`_segment` on the straight clock (a copy's), and the details it set."""
        self._retime(self.speed)
        before = dict(self.details)
        found = self._segment(anchors)
        return found, {k: v for k, v in self.details.items() if k not in before or before[k] is not v}

    def _dub_end(self) -> float:
        """The dub's length on the clock the map is found on (the wobble-free one, if any)."""
        return self.dub_duration if self.warp is None else float(self.warp.to_clock(self.dub_duration))

    def _follow_wobble(self, anchors):
        """Chunks whose lags bend over minutes (a tape's wobble): re-time the dub's features
        along the bend and place the chunks again; anything else passes unchanged."""
        if len(anchors) < 8:
            return anchors
        centres = np.array([a.centre for a in anchors])
        found = np.array([a.lag for a in anchors])
        bend = wobble(centres, found, stretch_runs(centres, found, gap=30.0), np.array([a.ncc for a in anchors]) ** 2,
                      COARSE_SPACING_S * FPS, COARSE_MIN_FRAMES, COARSE_MIN_F)
        if bend is None:
            return anchors
        curve = bend.curve
        self.warp = Warp.from_lags(curve, self.speed)
        self._retime(self.speed)
        self.details["wobble_coarse_ms"] = round(float(np.max(np.abs(curve.values))) * 1000 / FPS, 1)
        self.details["wobble_coarse_f"] = bend.f_ratio
        return self._chunk_anchors(_dedupe([float(l - curve(c)) for c, l in zip(centres, found)], 1.0))

    def _settle_speed(self, speed: float, lags: list[float]):
        """Chunk anchors at the probe offsets, then the speed their shared-slope fit gives.

        The anchors found on the first clock are re-expressed on the fitted one: a 20 s chunk
        placed at a speed off by the fit's slope is smeared by slope x chunk frames, well
        under a frame for any speed the probes let through, so they need no second search.
        Only a larger correction searches once more, warm-started at the re-expressed lags.
        """
        passes: list[dict] = []
        self.details["settle"] = passes
        self._retime(speed)
        for attempt in range(2):
            began, searched = time.perf_counter(), dict(self.searches)
            anchors = self._chunk_anchors(lags)
            fit = self._speed_fit(anchors)
            passes.append({"chunks": len(anchors), "seconds": round(time.perf_counter() - began, 3),
                           "local_searches": self.searches["local"] - searched["local"],
                           "full_searches": self.searches["full"] - searched["full"],
                           "slope": float(fit.slope) if fit is not None else None})
            if fit is None or abs(fit.slope) * len(self.dub) < 0.25:
                return speed, anchors
            new_speed = speed / (1 + fit.slope)
            moved = _on_new_clock(anchors, speed, new_speed)
            self._retime(new_speed)
            speed = new_speed
            if abs(fit.slope) * CHUNK < SMEAR_FRAMES:
                return speed, moved
            lags = sorted({round(a.lag, 1) for a in moved})
        return speed, self._chunk_anchors(lags)

    def _speed_fit(self, anchors):
        if len(anchors) < 3:
            return None
        centres = np.array([a.centre for a in anchors])
        found = np.array([a.lag for a in anchors])
        groups = stretch_runs(centres, found, gap=30.0)
        return fit_shared_slope(centres, found, groups, np.array([a.ncc for a in anchors]) ** 2)

    def _chunk_anchors(self, lags: list[float], width: int = CHUNK, hop: int | None = None,
                       span: tuple[int, int] | None = None, room: tuple[float, float] | None = None) -> list:
        """Offsets of dub chunks: tried at the known lags first, searched in full when none fits.

        Within a ``span`` (a stretch the first pass left unexplained) the last chunk ends on
        the span's end, so a short scene there is covered by one chunk with nothing else in
        it, and a chunk may pass on weaker band evidence when it lands on exactly the lag
        the onset envelope found: those candidates still have to win the segmentation.
        A known lag is tried there only where it puts the chunk in the ``room`` the span's
        neighbours leave it on the original (within ROOM_SLACK): a reused cue's lag that
        matches a short scene as well as its own would otherwise stop the search for it,
        and the monotone path drops that lag there anyway.
        """
        hop = hop or width // 2
        lo, hi = span or (0, len(self.z_dub))
        starts = list(range(lo, max(lo + 1, hi - width + 1), hop))
        if span and hi - width > starts[-1]:
            starts.append(hi - width)
        anchors, rivals = [], []
        known = list(lags)
        loud = self.dub.loud
        previous = None
        for start in starts:
            if start + width > len(self.z_dub) or loud[start:start + width].mean() < 0.3:
                continue
            search = ChunkSearch(self.z_dub, start, width)
            best = self._continued(search, previous) if span is None else None
            if best is None:
                tried = known + ([previous.lag] if previous is not None else [])
                if room is not None:
                    tried = [l for l in tried if start + l >= room[0] - ROOM_SLACK and start + width + l <= room[1] + ROOM_SLACK]
                best = self._best_known(search, tried)
            if best is None or best.ncc < ncc_floor(width):
                best = self._full_search(search, agreed_floor=span is not None)
                if best is not None:
                    known.append(best.lag)
            if best is not None and (best.ncc >= ncc_floor(width) or best.z > 0):
                anchors.append(best)
                previous = best
            found = self._best_in_room(search, room) if room is not None else None
            if found is not None and found[0].ncc >= ncc_floor(width) \
                    and (best is None or abs(found[0].lag - best.lag) > NEW_LAG):
                rivals.append(found)
        return anchors + _standing_out(rivals)

    def _best_in_room(self, search: ChunkSearch, room) -> tuple[Match, float] | None:
        """The chunk's best lag anywhere in ``room`` (the original's frames a gap's neighbours
        leave it, with ROOM_SLACK), when that room is bounded and under ROOM_SEARCH_MAX,
        with the best NCC of any place there more than 5 frames from it.

        The known lags' neighbourhoods and the envelope's search over the whole film each
        find a look-alike stretch (a bar of looped music, a reused cue) as often as the
        scene's own place: seed 3017's scene matched a bar 0.4 s off the next stretch's
        lag, seed 5108's the room's best was a look-alike and the envelope found the
        scene. The room's best can be one more candidate (:func:`_standing_out`), and the
        segmentation chooses.
        """
        lo, hi = room[0] - ROOM_SLACK, room[1] + ROOM_SLACK
        if not (np.isfinite(lo) and np.isfinite(hi)) or hi - lo > ROOM_SEARCH_MAX:
            return None
        lag_lo, lag_hi = int(lo) - search.start, int(hi) - search.start - search.width
        if lag_hi <= lag_lo:
            return None
        self.searches["local"] += 1
        return search.within(self.z_orig, lag_lo, lag_hi)

    def _continued(self, search: ChunkSearch, previous):
        """The chunk at the lag of the one placed before it, when it matches there as well.

        Neighbouring chunks share their offset except across an edit, and there the match
        at the old lag weakens: then (None) every known lag is compared, as for the first
        chunk. Off the probes' speed grid the true lag drifts away from the probes' lags
        along the film, so comparing every known lag for every chunk cost a dozen searches
        a chunk; following the previous chunk tracks the drift with one.
        """
        if previous is None:
            return None
        self.searches["local"] += 1
        m = search.near(self.z_orig, previous.lag, radius=40)
        if m is None or m.ncc < max(ncc_floor(search.width), KEEP_NCC * previous.ncc):
            return None
        return m

    def _best_known(self, search: ChunkSearch, lags: list[float]):
        best = None
        for lag in _dedupe(lags, 3.0):
            self.searches["local"] += 1
            m = search.near(self.z_orig, lag, radius=40)
            if m is not None and (best is None or m.ncc > best.ncc):
                best = m
        return best

    def _full_search(self, search: ChunkSearch, agreed_floor: bool = False):
        """The chunk's offset from the onset envelope over the whole original, confirmed by the bands.

        With ``agreed_floor``, a band NCC of 0.6 x the usual floor is enough when the band
        peak lies within 2 frames of the envelope's: two searches on different features
        agreeing is evidence of its own (the match is then marked with a positive ``z``).
        Dialogue over the full mix of a mono file halves a short chunk's band NCC.
        """
        self.searches["full"] += 1
        start, width = search.start, search.width
        chunk = self.env_dub[start:start + width]
        index = self.index if width <= CHUNK else OriginalIndex(self.env_o, width + 2)
        found = index.search(chunk[None, :], np.array([start]))
        # A looser z than for the film as a whole: the band-feature NCC below must agree too.
        if not found or found[0].z < CHUNK_Z:
            return None
        match = search.near(self.z_orig, found[0].lag, radius=20)
        if match is not None and agreed_floor and abs(match.lag - found[0].lag) <= 2.0 \
                and match.ncc >= 0.6 * ncc_floor(width):
            match.z = found[0].z
        return match

    # --- step 2: segmentation ----------------------------------------------------------
    def _segment(self, anchors):
        with self._frames_weighted_evenly():
            return self._segment_weighted(anchors)

    @contextmanager
    def _frames_weighted_evenly(self):
        """On a full mix, the segmentation's features weigh every frame the same
        (features.evenly_weighted). The dialogue is loud and differs between the languages;
        weighted by energy, a window holding a line matched little even where the bed between
        the lines was the same, and stretches next to an edit were left unmapped (71 mono
        pairs of the looked-at sets: 24 -> 27 pass, mean coverage 0.82 -> 0.83; pairs with a
        bed keep the energy weights). The chunk offsets before and the precise anchors after
        keep them too: only the segmentation was measured this way.
        """
        if self.details.get("signal") != "full":
            yield
            return
        z_dub, z_orig = self.z_dub, self.z_orig
        self.z_dub, self.z_orig = evenly_weighted(z_dub), evenly_weighted(z_orig)
        try:
            yield
        finally:
            self.z_dub, self.z_orig = z_dub, z_orig

    def _segment_weighted(self, anchors):
        lags = self._candidate_lags(anchors)
        similarity = Similarity(self.z_dub, self.z_orig)
        tracks = similarity.tracks(lags)
        threshold = self._threshold(tracks, anchors)
        path = monotone_path(tracks, threshold)
        extra = self._explain_gaps(path, lags)
        challengers, beaten = self._challenge_weak(path, tracks, threshold, lags + extra)
        extra += challengers
        suspect = frozenset(beaten)
        if extra or beaten:
            before = path
            lags, path = self._with_lags(lags, extra, similarity.tracks(extra), tracks, threshold, suspect)
            again = self._explain_gaps(path, lags, reopened=(before != -1) & (path == -1))
            if again:
                self.details["reopened"] = [round(l / FPS, 2) for l in again]
                lags, path = self._with_lags(lags, again, similarity.tracks(again), tracks, threshold, suspect)
        edges = self._edge_tracks(path, lags, similarity)
        if edges:
            lags, path = self._with_lags(lags, [float(t.lag) for t in edges], edges, tracks, threshold, suspect)
        on_bed = self.details["signal"] != "full"
        path = refine_boundaries(path, tracks, self.z_dub, self.z_orig, threshold, shape=on_bed)
        path = split_overlaps(path, tracks, self.z_dub, self.z_orig, threshold, shape=on_bed)
        path = unmap_unconfirmed_edges(path, tracks, threshold)
        unsplit = path
        path = split_gaps(path, tracks, weak=self.null[0] + WEAK_SDS * self.null[1])
        self.details["split_s"] = round(float(((path != -1) & (unsplit == -1)).sum()) / FPS, 2)
        return self._carry_by_dialogue(path, tracks), tracks, threshold

    @staticmethod
    def _with_lags(lags, new, new_tracks, tracks, threshold, suspect):
        """``lags`` with ``new`` added, their tracks (``new_tracks``) appended to ``tracks``,
        and the path chosen again over all of them."""
        tracks += new_tracks
        return lags + new, monotone_path(tracks, threshold, suspect=suspect)

    def _carry_by_dialogue(self, path, tracks):
        """Stretches carried into the silent-bed gaps next to them where the dialogue's
        line starts agree (align/dialogue.py); the frames so carried count as matched."""
        self.carried = np.zeros(len(path), dtype=bool)
        if self.full is None or not (path != -1).any():
            return path
        f_dub_full = self.full[1]
        dub_full = (resample_features(f_dub_full, self.speed, len(self.dub)) if self.warp is None
                    else retimed(f_dub_full, self.speed, self.warp, len(self.dub)))
        rhythm = Rhythm.of(dub_full, self.dub, self._original_rhythm())
        path, self.carried = carry(path, [int(round(t.lag)) for t in tracks], rhythm)
        self.details["dialogue_s"] = round(float(self.carried.sum()) / FPS * self.speed, 2)
        return path

    def _original_rhythm(self) -> tuple[np.ndarray, np.ndarray]:
        """The original's :meth:`Rhythm.side`, taken here where the decode did not."""
        if self.orig_side is None:
            self.orig_side = Rhythm.side(self.full[0], self.f_orig)
        return self.orig_side

    @staticmethod
    def _candidate_lags(anchors) -> list[float]:
        """One lag per piece of the film: runs of anchors in dub order whose lags follow on
        (:func:`fit.stretch_runs`, :data:`NEW_LAG` frames), pieces within :data:`LAG_GROUP` frames of
        each other sharing one.

        A track matches within a frame of its lag (segment.similarity_track), so two pieces
        a few frames apart each need their own: grouped by value alone at 8 frames, a short
        scene 56 ms off a later piece's lag got a track 6 frames off and lost 6 s of its 14
        (seed 2). A tape's drifting lags stay one run, and one track.
        """
        found = np.array([a.lag for a in anchors])
        runs_of = stretch_runs(np.array([a.centre for a in anchors]), found, gap=NEW_LAG)
        pieces = np.array([float(np.median(found[runs_of == g])) for g in np.unique(runs_of)])
        groups = cluster_lags(pieces, gap=LAG_GROUP)
        return [float(np.median(pieces[groups == g])) for g in np.unique(groups)]

    def _edge_tracks(self, path, lags, similarity) -> list[Track]:
        """Tracks for an unmapped start (end) of the file at the lag that starts (ends) the two
        files together, where no candidate holds it yet, each usable only in that gap.

        Releases mostly do start and end together, and a first or last scene whose bed was
        largely replaced (a localised opening song, then a few seconds of film before a
        cut) holds too little shared sound for the chunk search: seed 5047 left its first
        43 s unmapped. Usable anywhere, the same tracks cost coverage on the tape and PAL
        pairs of tests/align, where they took frames from the true stretches.
        """
        rs = runs(path)
        if len(rs) < 2:
            return []
        out = []
        at_start = (rs[0], rs[1], 0, 1)
        at_end = (rs[-1], rs[-2], len(self.z_orig) - len(self.z_dub), -1)
        for (state, s, e), (beside, _, _), lag, sign in (at_start, at_end):
            if state != -1 or e - s < SHORT_PIECE or any(abs(lag - known) <= LAG_GROUP for known in lags):
                continue
            # Only across a cut: the original runs on past the dub's first (last) scene. A
            # lag that adds dub time instead would put the dub's logo or preroll on the
            # original's (seed 5044: 3.8 s of a dub-only logo mapped).
            if sign * (lags[beside] - lag) <= LAG_GROUP:
                continue
            track = similarity.track(lag)
            inside = np.zeros_like(track.inside)
            inside[s:e] = track.inside[s:e]
            out.append(replace(track, inside=inside))
        return out

    def _threshold(self, tracks, anchors) -> float:
        """Between chance similarity (tracks at wrong lags) and what the anchors' lags reach.

        A frame with sound on one side only scores exactly 0 (evidence against a match, not
        a similarity). A tape's hiss under an original with long quiet stretches made half
        the frames such zeros, both medians 0 and the threshold 0, so a track ran on through
        inserted scenes at no cost: hence the floor read on the sounding frames.
        """
        base = int(round(tracks[0].lag))
        null = []
        for shift in (613, -1733, 2917):
            tr = similarity_track(self.z_dub[::3], self.z_orig[::3], (base + shift) // 3, half=33)
            null.append(tr.sim[tr.evidence])
        null = np.concatenate(null)
        lag_index = {int(round(t.lag)): t for t in tracks}
        hits = []
        for a in anchors:
            tr = lag_index.get(int(round(a.lag)))
            if tr is not None and tr.evidence[int(a.centre)]:
                hits.append(tr.sim[int(a.centre)])
        hits = np.array(hits, dtype=np.float64)
        threshold, stats = segmentation_threshold(null, hits)
        self.null = (stats["null_sim"], stats["null_sd"], stats["match_sim"])
        self.details.update({k: round(v, 3) for k, v in stats.items()}, threshold=round(threshold, 3))
        return threshold

    def _explain_gaps(self, path, lags, reopened: np.ndarray | None = None) -> list[float]:
        """Short chunks through unexplained sound: finds the offsets of short stretches between cuts.

        With ``reopened`` (frames an earlier path mapped and this one leaves unmapped: a
        stretch dropped off the chain, at a look-alike's lag), only a gap at the file's start
        or end holding such frames is searched, its room stopping at the original's start or
        end. A gap between two stretches the chain keeps is left as the chain chose: searched
        again, a looped cue's bar matched a dub-only scene there (the looped-cue test).
        """
        extra = []
        rs = runs(path)
        ends = (0.0, float(len(self.z_orig))) if reopened is not None else (-np.inf, np.inf)
        for i, (state, s, e) in enumerate(rs):
            if state != -1 or e - s < SHORT_PIECE:
                continue
            if reopened is not None and (0 < i < len(rs) - 1 or not reopened[s:e].any()):
                continue
            # the original's frames a monotone map leaves for the gap, between its neighbours
            room = (s + lags[rs[i - 1][0]] if i > 0 else ends[0], e + lags[rs[i + 1][0]] if i + 1 < len(rs) else ends[1])
            if e - s < SHORT_CHUNK // 2:
                lag = self._piece_between_cuts(s, e, room)
                if lag is not None and all(abs(lag - l) > LAG_GROUP for l in lags + extra):
                    extra.append(lag)
                continue
            width = min(SHORT_CHUNK, e - s)
            for a in self._chunk_anchors(lags + extra, width=width, hop=width // 2, span=(s, e), room=room):
                if all(abs(a.lag - l) > NEW_LAG for l in lags + extra):
                    extra.append(a.lag)
        return extra

    def _piece_between_cuts(self, s: int, e: int, room) -> float | None:
        """The lag of a gap too short for a chunk search (1-3 s) where the original has more
        between the gap's neighbours than the dub: a piece left between two cuts.

        Searched only in that room, whole, it must beat the chance bound of its width
        unclipped and lead any other lag there by PIECE_LEAD. A shorter room
        than the gap (an inserted scene, a logo) is not searched: nothing of the dub's
        there can be in the original.
        """
        if not (np.isfinite(room[0]) and np.isfinite(room[1])):
            return None
        lag_lo, lag_hi = int(room[0]) - s + PIECE_MARGIN, int(room[1]) - e - PIECE_MARGIN
        if lag_hi <= lag_lo or self.dub.loud[s:e].mean() < 0.5:
            return None
        found = ChunkSearch(self.z_dub, s, e - s).within(self.z_orig, lag_lo, lag_hi)
        self.searches["local"] += 1
        if found is None:
            return None
        match, others = found
        if match.ncc < chance_bound(e - s) or match.ncc - others < PIECE_LEAD:
            return None
        return match.lag

    def _challenge_weak(self, path, tracks, threshold, known) -> tuple[list[float], set[int]]:
        """Lags of short scenes inside stretches that match much weaker than the film does.

        The 20 s chunks find the lags of long stretches only. Where short scenes alternate
        with dub-only ones (a director's cut), a reused music cue can match the whole run
        of them at one wrong lag, weakly but steadily (music alone, where the true
        stretches match music and effects), and the path then has no gap for
        :meth:`_explain_gaps` to search: the scenes' own lags were never candidates. So
        6 s chunks through such a stretch are searched in full, and a lag that matches a
        chunk clearly better than the stretch's own becomes a candidate (it still has to
        win the segmentation and the chain). Returns those lags, and the indices of the
        tracks they beat: a lag shown to match content that plays elsewhere is suspect
        (:func:`segment.monotone_path`).
        """
        extra: list[float] = []
        beaten: set[int] = set()
        strength = match_strength(path, tracks, threshold)
        for (state, s, e), weight in zip(runs(path), strength):
            if state == -1 or weight >= WEAK_STRENGTH or e - s < SHORT_CHUNK:
                continue
            own = tracks[state].lag
            starts = list(range(s, e - SHORT_CHUNK + 1, SHORT_CHUNK // 2))
            if starts[-1] < e - SHORT_CHUNK:
                starts.append(e - SHORT_CHUNK)
            for start in starts:
                if self.dub.loud[start:start + SHORT_CHUNK].mean() < 0.3:
                    continue
                # The stretch's own match near its lag (a tape's wobble moves it by frames);
                # where it has none (no peak within the radius) it cannot be judged here.
                search = ChunkSearch(self.z_dub, start, SHORT_CHUNK)
                here = search.near(self.z_orig, own, radius=OWN_RADIUS)
                if here is None or here.ncc + CHALLENGE_MARGIN > 1.0:
                    continue
                found = self._challenger(search, own)
                if found is None or found.ncc < here.ncc + CHALLENGE_MARGIN:
                    continue
                beaten.add(state)
                if all(abs(found.lag - l) > NEW_LAG for l in known + extra):
                    extra.append(found.lag)
        if extra:
            self.details["challenged"] = [round(l / FPS, 2) for l in extra]
        return extra, beaten

    def _challenger(self, search: ChunkSearch, own: float):
        """The best band match of a 6 s chunk among its envelope's strongest peaks away from
        ``own``: a looped cue's bars outrank the chunk's own place on the envelope."""
        self.searches["full"] += 1
        best = None
        start = search.start
        for peak in self.index.peaks(self.env_dub[start:start + SHORT_CHUNK], start, CHALLENGE_PEAKS, apart=50):
            if peak.z < CHUNK_Z or abs(peak.lag - own) <= OWN_RADIUS:
                continue
            match = search.near(self.z_orig, peak.lag, radius=20)
            # (an NCC over 1 is a rounding artefact of a nearly featureless window)
            if match is not None and ncc_floor(SHORT_CHUNK) <= match.ncc <= 1.0 \
                    and abs(match.lag - own) > OWN_RADIUS and (best is None or match.ncc > best.ncc):
                best = match
        return best

    # --- step 3: precise fit ---------------------------------------------------------
    def _finish(self, path, tracks, threshold, clock: LapClock) -> TimeMap:
        pieces = [(st, s, e) for st, s, e in runs(path) if st != -1 and e - s >= MIN_SEGMENT_S * FPS]
        if not pieces:
            return self._reject("no stretch of the dub follows the original", self.speed)
        anchors = self._precise_anchors(pieces, tracks, threshold)
        if len(anchors) < 3:
            return self._reject(f"only {len(anchors)} precise anchors agree with the original", self.speed)
        frames = np.array([a[1] for a in anchors])
        lags = np.array([a[2] for a in anchors])
        groups = np.array([a[0] for a in anchors])
        weights = np.array([a[3] for a in anchors]) ** 2
        fit = fit_shared_slope(frames, lags, groups, weights)
        clock.lap("fit")
        if fit is None:
            return self._reject("the anchors do not agree on a speed", self.speed)
        fit, fine = self._fine_wobble(frames, lags, groups, weights, fit)
        if self.warp is not None or fine is not None:
            self.drift = Drift(self.warp, fine)
        segments = self._segments(self._without_unmatched_ends(pieces, tracks, threshold), fit, tracks)
        if self.drift is None:  # the waveform checks read the dub on its own clock: lines only
            segments = [refine_offset(seg, self.sig_d, self.sig_o, SAMPLE_RATE) for seg in segments]
            segments = refine_edges(segments, self.sig_d, self.sig_o, SAMPLE_RATE)
        segments = _clip(segments, self.orig_duration, self._dub_end())
        clock.lap("waveform")
        return self._verdict(segments, anchors, fit)

    def _fine_wobble(self, frames, lags, groups, weights, fit) -> tuple[LineFit, Curve | None]:
        """What bend the precise anchors still show: the line that goes with it, and the bend
        as seconds of the original by clock time (the fit unchanged when there is none)."""
        used = fit.used
        bend = wobble(frames[used], lags[used], groups[used], weights[used], FINE_SPACING_S * FPS,
                      FINE_MIN_FRAMES)
        if bend is None:
            return fit, None
        self.details["wobble_fine_ms"] = round(float(np.max(np.abs(bend.curve.values))) * 1000 / FPS, 1)
        self.details["wobble_fine_f"] = bend.f_ratio
        line = replace(fit, slope=bend.slope, intercepts=bend.intercepts)
        return line, bend.curve.scaled(lambda k: self.speed * frame_time(k), 1 / FPS)

    def _precise_anchors(self, pieces, tracks, threshold):
        """3 s windows along each stretch, each placed to a fraction of a frame near its lag.

        Anchors are grouped by stretch, not by candidate lag: two stretches whose offsets
        differ by less than the lag clustering's tolerance still get an offset each.
        """
        out = []
        floor = max(threshold, ncc_floor(ANCHOR_WIDTH) * 0.6)
        for piece, (state, s, e) in enumerate(pieces):
            # A stretch too short for two windows (a scene between two cuts) gets one window
            # over all of it, searched wider: its only other estimate is a coarse chunk lag.
            short = e - s < 2 * ANCHOR_WIDTH
            width = e - s if short else ANCHOR_WIDTH
            for centre, lag, ncc in window_lags(self.z_dub, self.z_orig, self.dub.loud, s, e,
                                                tracks[state].lag, width, radius=15 if short else 8):
                if ncc >= floor:
                    out.append((piece, centre, lag, ncc))
        return out

    def _segments(self, pieces, fit, tracks) -> list[Segment]:
        speed = self.speed / (1 + fit.slope)
        out = []
        for piece, (state, s, e) in enumerate(pieces):
            alpha = fit.intercepts.get(piece, tracks[state].lag - fit.slope * (s + e) / 2)
            d0 = 0.0 if s == 0 else self.speed * float(frame_time(s - 0.5))
            d1 = self._dub_end() if e >= len(self.dub) else self.speed * float(frame_time(e - 0.5))
            out.append(_line_segment(d0, d1, self.speed, fit.slope, alpha, speed))
        out = _clip(out, self.orig_duration, self._dub_end())
        self.final_speed = speed
        return out

    def _without_unmatched_ends(self, pieces, tracks, threshold) -> list:
        """The first stretch from where it first matches, the last up to where it last does.

        The path carries a state through silence and through sound on one side only, so at
        the file's ends a stretch can reach into a lead-in that is silent in the dub and a
        logo's tail in the original. Where both files do start together,
        continuity.bridge maps that lead-in back.

        A frame counts only where both files sound at it: the similarity is read over
        +-1 s, so a lead-in that is silent in both files scores as well as the first second
        of sound after it, and a silent preroll would be mapped onto the other's.
        """
        out = list(pieces)
        for i in (0, len(out) - 1):
            state, s, e = out[i]
            sounding = self._both_sound(tracks[state], s, e)
            matched = np.flatnonzero(((tracks[state].sim[s:e] >= threshold) & sounding) | self.carried[s:e])
            if len(matched):
                s, e = (s + int(matched[0]) if i == 0 else s), (s + int(matched[-1]) + 1 if i == len(out) - 1 else e)
                out[i] = (state, s, e)
        return out

    def _both_sound(self, track, s: int, e: int) -> np.ndarray:
        """Per dub frame in [s, e): the dub and the original at ``track``'s lag are both above silence."""
        frames = np.clip(np.arange(s, e) + track.lag, 0, len(self.f_orig.loud) - 1)
        return self.dub.loud[s:e] & self.f_orig.loud[frames] & track.inside[s:e]

    def _verdict(self, segments: list[Segment], anchors, fit) -> TimeMap:
        measured = [s for s in _monotone(segments) if s.dub_end - s.dub_start >= MIN_SEGMENT_S]
        segments, bridged = bridge(measured, self.orig_duration, self._dub_end(), self._join_tolerance())
        # A bridge over a gap of a few ms on one timeline and none on the other (two
        # neighbours a wobble apart) has no speed; the neighbours already meet there.
        segments = [s for s in segments if s.orig_end > s.orig_start and s.dub_end > s.dub_start]
        segments = _pull_in_open_edges(segments)
        if self.drift is not None:
            head, tail = bridged_ends(segments, measured)
            start = (0.0, 0.0) if head else None
            end = (self.dub_duration, self.orig_duration) if tail else None
            segments = _clip(self.drift.unwarp(segments, start, end), self.orig_duration, self.dub_duration)
            self.details["knots"] = len(segments)
        mapped = sum(s.dub_end - s.dub_start for s in segments)
        possible = min(self.dub_duration, self.orig_duration * self.final_speed)
        coverage = mapped / possible if possible > 0 else 0.0
        mu0, sd0, m1 = self.null
        strength = float(np.clip((np.median([a[3] for a in anchors]) - mu0) / max(6 * sd0, 0.05), 0, 1))
        confidence = float(np.clip(min(1.0, coverage / 0.9) * (0.5 + 0.5 * strength), 0, 1))
        self.details.update(coverage=round(coverage, 4), bridged_s=round(bridged, 2), anchors=len(anchors),
                            fit_residual_ms=round(fit.residual * 10, 2),
                            strength=round(strength, 3))
        to_dub = self.drift.to_dub if self.drift is not None else (lambda v: v)
        anchor_objs = [Anchor(dub=float(to_dub(self.speed * float(frame_time(f)))), orig=float(frame_time(f + l)),
                              weight=float(w)) for _, f, l, w in anchors]
        # what verify.apply_speech needs to judge the map again with speech's evidence
        self.details["basis"] = {"possible_s": round(possible, 3), "orig_s": round(self.orig_duration, 3),
                                 "dub_s": round(self.dub_duration, 3), "min_coverage": self.opts.min_coverage,
                                 "min_confidence": self.opts.min_confidence}
        if coverage < self.opts.min_coverage:
            # kept for speech, which may confirm what lies between them (verify.apply_speech)
            self.details.update(rejected_on="coverage", candidates=[asdict(s) for s in segments])
            return self._reject(f"only {coverage:.0%} of the dub matches the original (needs "
                                f"{self.opts.min_coverage:.0%}): shared music, but not the same content",
                                self.final_speed, confidence, anchor_objs)
        if confidence < self.opts.min_confidence:
            return self._reject(f"confidence {confidence:.2f} is under {self.opts.min_confidence:.2f}",
                                self.final_speed, confidence, anchor_objs)
        reason = f"{len(segments)} segment(s) cover {coverage:.0%} of the dub"
        return TimeMap("aligned", confidence, reason, self.final_speed, segments, anchor_objs, dict(self.details))

    def _join_tolerance(self) -> float:
        """How near two stretches must meet for continuity to join them: wider on a map that
        follows a tape's wobble, by what the wobble measured."""
        if self.drift is None:
            return JOIN_TOLERANCE_S
        bend_ms = self.details.get("wobble_coarse_ms", 0.0) + self.details.get("wobble_fine_ms", 0.0)
        return wobble_tolerance(bend_ms / 1000)

    def _reject(self, reason: str, speed: float, confidence: float = 0.0, anchors=None) -> TimeMap:
        return TimeMap("rejected", confidence, reason, float(speed), [], list(anchors or []), dict(self.details))


def _standing_out(rivals: list[tuple[Match, float]]) -> list[Match]:
    """The rooms' best places (each with the best NCC elsewhere in its room) that are
    candidates: those that two chunks of a gap agree on (within LAG_GROUP frames), or that
    lead every other place in their room by RIVAL_LEAD.

    A room inside looped music has its bar's look-alikes one loop apart, and a single
    chunk straddling a cut can find one of them best by a little (0.15 over the next): as a
    candidate it took a dub-only scene with it (tests/align/test_align.py, the looped cue).
    """
    out = []
    for match, others in rivals:
        agreeing = sum(abs(m.lag - match.lag) <= LAG_GROUP for m, _ in rivals)
        if agreeing >= 2 or match.ncc - others >= RIVAL_LEAD:
            out.append(match)
    return out


def segmentation_threshold(null: np.ndarray, hits: np.ndarray) -> tuple[float, dict[str, float]]:
    """The similarity a track must beat: between chance (``null``: tracks at wrong lags) and
    what the anchors' lags reach (``hits``), and never less than chance read where both
    sides sound (non-zero values) plus ``MIN_THRESHOLD_SD`` of its spread."""
    mu0, sd0 = _centre_and_spread(null)
    m1 = float(np.median(hits)) if len(hits) else mu0 + 0.3
    threshold = mu0 + max(4 * sd0, 0.35 * (m1 - mu0))
    threshold = min(threshold, mu0 + 0.55 * (m1 - mu0))
    chance, spread = _centre_and_spread(null[null != 0.0])
    floor = chance + MIN_THRESHOLD_SD * spread
    return max(threshold, floor), {"null_sim": mu0, "null_sd": sd0, "match_sim": m1, "floor": floor}


def _centre_and_spread(values: np.ndarray) -> tuple[float, float]:
    """Median and MAD-based standard deviation; (0, 0.05) when there is nothing to read."""
    if len(values) == 0:
        return 0.0, 0.05
    centre = float(np.median(values))
    return centre, float(1.4826 * np.median(np.abs(values - centre)))


def _on_new_clock(anchors, speed: float, new_speed: float) -> list:
    """Chunk matches moved from the dub re-timed at ``speed`` to the one at ``new_speed``:
    same dub moment, same original frame."""
    out = []
    for a in anchors:
        orig_frame = a.centre + a.lag
        start = int(round(float(time_frame(speed * frame_time(a.centre) / new_speed)) - a.length / 2))
        out.append(replace(a, start=start, lag=orig_frame - (start + a.length / 2)))
    return out


def _line_segment(d0: float, d1: float, speed: float, slope: float, alpha: float, final_speed: float) -> Segment:
    def orig_at(d):
        j = time_frame(d / speed)
        return float(frame_time(j * (1 + slope) + alpha))

    return Segment(dub_start=d0, dub_end=d1, orig_start=orig_at(d0), orig_end=orig_at(d1))


def _clip(segments: list[Segment], orig_duration: float, dub_duration: float) -> list[Segment]:
    """Cut each segment to what both files really have."""
    out = []
    for seg in segments:
        sp = seg.speed
        d0, d1 = max(seg.dub_start, 0.0), min(seg.dub_end, dub_duration)
        o0, o1 = seg.to_orig(d0), seg.to_orig(d1)
        if o0 < 0:
            d0, o0 = seg.to_dub(0.0), 0.0
        if o1 > orig_duration:
            d1, o1 = seg.to_dub(orig_duration), orig_duration
        if d1 - d0 > 0 and o1 - o0 > 0:
            out.append(Segment(d0, d1, o0, o0 + (d1 - d0) / sp))
    return out


EDGE_MARGIN_S = 0.02


def _pull_in_open_edges(segments: list[Segment]) -> list[Segment]:
    """Edges that border dub-only content move 20 ms inward: an edge is only known to a
    few milliseconds, and mapping dub-only sound onto the film is the worse mistake."""
    out = []
    for i, seg in enumerate(segments):
        d0, d1 = seg.dub_start, seg.dub_end
        if i > 0 and segments[i - 1].dub_end < d0 - 1e-6 or i == 0 and d0 > EDGE_MARGIN_S:
            d0 += EDGE_MARGIN_S
        if i + 1 < len(segments) and segments[i + 1].dub_start > d1 + 1e-6:
            d1 -= EDGE_MARGIN_S
        if d1 > d0:
            out.append(Segment(d0, d1, seg.to_orig(d0), seg.to_orig(d1)))
    return out


def bridged_ends(segments: list[Segment], measured: list[Segment]) -> tuple[bool, bool]:
    """Whether the map's first (last) segment is a stretch continuity bridged from both
    files' start (end): it ends where the first measured segment starts (starts where the
    last one ends). Compared by time, not by object: pulled in by 20 ms, a bridge of a few
    ms vanishes, and the first measured segment was then taken for it (seed 5176: 64 s of
    a tape's map straightened, 12 % of it misplaced)."""
    if not segments:
        return False, False
    return (segments[0].dub_end <= measured[0].dub_start + 1e-6,
            segments[-1].dub_start >= measured[-1].dub_end - 1e-6)


def _monotone(segments: list[Segment]) -> list[Segment]:
    """No two segments may overlap on the original's timeline: trim the later one's start."""
    out: list[Segment] = []
    for seg in sorted(segments, key=lambda s: s.dub_start):
        if out and seg.orig_start < out[-1].orig_end:
            cut = seg.to_dub(out[-1].orig_end)
            if cut >= seg.dub_end:
                continue
            seg = Segment(cut, seg.dub_end, out[-1].orig_end, seg.orig_end)
        out.append(seg)
    return out


def _dedupe(values: list[float], tol: float) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > tol:
            out.append(v)
    return out
