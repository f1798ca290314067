"""Listen to check: short A/B clips of a job's map, rendered on demand and cached.

For each of 3 to 5 moments spread over the film (8 s each, centred on a segment edge where
one lies in that part of the film, since a join is where a map goes wrong) three clips:

* ``original``: the original's reference track;
* ``dub``: the dub as the map places it, each map segment overlapping the window taken
  from the dub's matching span and played at the segment's speed (resampled, as the
  merge renders it: pitch follows speed, undoing a PAL speed-up), silence where the map
  holds no dub;
* ``mix``: the original on the left, the dub on the right, so a lag is heard as an echo.

Times are on each track's decoded timeline, as in the map (first decoded sample = 0).
Clips are AAC in MP4 (``.m4a``), which every browser's ``<audio>`` plays. They are cached
in ``data_dir/previews``, one folder per job, language and inputs (map, tracks, and each
file's size and mtime), so a new map or a rewritten file gets new clips; the cache is held
under ``server.preview_cache_mb``, the least recently heard clips going first.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from .align.speech import track_info
from .align.timemap import TimeMap
from .errors import MediaError, UsageError
from .roots import ensure_readable
from .tools.ffmpeg import Clip, FFmpeg

CLIP_SECONDS = 8.0
KINDS = ("original", "dub", "mix")
SAMPLE_RATE = 48000
CACHE_FOLDER = "previews"
MIME = "audio/mp4"
_VERSION = 1  # bump when the rendering changes, so old clips are not served
_lock = threading.Lock()


class PreviewUnavailable(UsageError):
    """The job has no clip of that kind: no map (yet) for the language, no such moment."""

    status = 404


@dataclass(frozen=True)
class ClipSource:
    """What a clip is made of: the two files, the map, and each file's audio track (0-based among audio)."""

    original: Path
    dubbed: Path
    timemap: TimeMap
    orig_track: int = 0
    dub_track: int = 0


@dataclass(frozen=True)
class Moment:
    """A clip window on the original's timeline; ``edge`` is the segment edge it is centred on, if any."""

    start: float
    length: float
    edge: float | None = None


# --- which moments -------------------------------------------------------------------


def moment_count(duration: float, length: float = CLIP_SECONDS) -> int:
    """3 moments for a short film, 4 from 4 minutes, 5 from 10; never more than fit side by side."""
    wanted = 5 if duration >= 600 else 4 if duration >= 240 else 3
    return max(1, min(wanted, int(duration // length)))


def segment_edges(timemap: TimeMap, duration: float, margin: float = 1.0) -> list[float]:
    """Original times where a segment starts or ends inside the film (joins, cuts, inserts)."""
    edges = set()
    for seg in timemap.segments:
        for t in (seg.orig_start, seg.orig_end):
            if margin < t < duration - margin:
                edges.add(round(t, 3))
    return sorted(edges)


def moments(timemap: TimeMap, duration: float, length: float = CLIP_SECONDS) -> list[Moment]:
    """Moments spread over the film: the film cut into equal parts, in each the segment
    edge nearest the part's middle (the clip centred on it), else the middle itself."""
    if duration <= 0:
        return []
    length = min(length, duration)
    count = moment_count(duration, length)
    edges = segment_edges(timemap, duration)
    out: list[Moment] = []
    for i in range(count):
        lo, hi = duration * i / count, duration * (i + 1) / count
        mid = (lo + hi) / 2
        inside = [e for e in edges if lo <= e < hi]
        edge = min(inside, key=lambda e: abs(e - mid)) if inside else None
        start = min(max(0.0, (edge if edge is not None else mid) - length / 2), duration - length)
        if out and start < out[-1].start + out[-1].length:  # parts shorter than a clip: no overlap
            start = min(out[-1].start + out[-1].length, duration - length)
        out.append(Moment(round(start, 3), length, edge))
    return out


# --- where the dub comes from --------------------------------------------------------


def dub_pieces(timemap: TimeMap, start: float, length: float) -> list[tuple[float, float, float, float]]:
    """(offset in the clip, dub start, dub length, speed) of each map segment inside the window."""
    pieces = []
    for seg in sorted(timemap.segments, key=lambda s: s.orig_start):
        a, b = max(seg.orig_start, start), min(seg.orig_end, start + length)
        dub_a = seg.to_dub(a)
        if dub_a < 0:  # the dub cannot play before its first sample
            a, dub_a = seg.to_orig(0.0), 0.0
        if b - a <= 1e-3:
            continue
        pieces.append((a - start, dub_a, (b - a) * seg.speed, seg.speed))
    return pieces


# --- rendering -------------------------------------------------------------------------


def render(source: ClipSource, moment: Moment, kind: str, out: Path, ffmpeg: str = "ffmpeg",
           ffprobe: str = "ffprobe") -> Path:
    """Write the ``kind`` clip of ``moment`` to ``out`` (AAC in MP4) with real ffmpeg."""
    if kind not in KINDS:
        raise PreviewUnavailable(f"no clip kind {kind!r}; one of {', '.join(KINDS)}")
    inputs, graph = [], []
    total = int(round(moment.length * SAMPLE_RATE))
    if kind in ("original", "mix"):
        info = track_info(str(source.original), source.orig_track, ffprobe)
        inputs.append(Clip(source.original, moment.start + info.lead, moment.length + 0.5))
        graph.append(f"[0:{info.stream.stream_index}]{_stereo()},asetpts=PTS-STARTPTS,{_fit(total)}[orig]")
    if kind in ("dub", "mix"):
        first = len(inputs)
        dub_inputs, dub_graph = _dub_graph(source, moment, total, first, ffprobe)
        inputs += dub_inputs
        graph += dub_graph
    if kind == "mix":
        graph.append("[orig]pan=mono|c0=0.5*c0+0.5*c1[l];[dub]pan=mono|c0=0.5*c0+0.5*c1[r];"
                     "[l][r]join=inputs=2:channel_layout=stereo:map=0.0-FL|1.0-FR[out]")
    else:
        graph[-1] = graph[-1].rsplit("[", 1)[0] + "[out]"
    return FFmpeg(ffmpeg).mix(inputs, graph, out, timeout=180)


def _dub_graph(source: ClipSource, moment: Moment, total: int, first: int, ffprobe: str):
    """Inputs and filter chains that leave the placed dub in ``[dub]``: one input-side seek
    per map segment in the window, played at the segment's speed, delayed to its place."""
    pieces = dub_pieces(source.timemap, moment.start, moment.length)
    if not pieces:
        return [], [f"anullsrc=r={SAMPLE_RATE}:cl=stereo,{_fit(total)}[dub]"]
    info = track_info(str(source.dubbed), source.dub_track, ffprobe)
    inputs, chains = [], []
    for k, (offset, dub_start, dub_length, speed) in enumerate(pieces):
        inputs.append(Clip(source.dubbed, dub_start + info.lead, dub_length + 0.05))
        keep = int(round(dub_length / speed * SAMPLE_RATE))
        # asetrate relabels the rate so the span lasts dub_length / speed; aresample brings it back
        chains.append(f"[{first + k}:{info.stream.stream_index}]{_stereo()},asetpts=PTS-STARTPTS,"
                      f"asetrate={int(round(SAMPLE_RATE * speed))},aresample={SAMPLE_RATE},"
                      f"atrim=end_sample={keep},adelay=delays={int(round(offset * SAMPLE_RATE))}S:all=1[p{k}]")
    labels = "".join(f"[p{k}]" for k in range(len(pieces)))
    joined = f"amix=inputs={len(pieces)}:normalize=0:duration=longest," if len(pieces) > 1 else ""
    chains.append(f"{labels}{joined}{_fit(total)}[dub]")
    return inputs, chains


def _stereo() -> str:
    return f"aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo"


def _fit(samples: int) -> str:
    """Exactly ``samples`` long: padded with silence, or cut."""
    return f"apad=whole_len={samples},atrim=end_sample={samples}"


# --- a job's clips -------------------------------------------------------------------


def source_of(services, job: dict, language: str) -> ClipSource:
    """The files, map and tracks of ``job``'s ``language``; PreviewUnavailable when it has no map.

    Only paths the job holds are used, and each must still lie in a library or dub root.
    """
    entry = _entry_of(job, language)
    data = entry.get("timemap")
    if not isinstance(data, dict) or not data.get("segments"):
        raise PreviewUnavailable(f"job {_field(job, 'id')}: no time map with segments for {language!r}")
    timemap = TimeMap.from_dict(data)
    original = _field(job, "original") or (_field(job, "item") or {}).get("path")
    # the align step's entry names its dub; a finished job no longer holds its plan
    dubbed = (entry.get("dubbed") or ((_field(job, "plan") or {}).get(language) or {}).get("path")
              or _field(job, "dubbed"))
    if not original or not dubbed:
        raise PreviewUnavailable(f"job {_field(job, 'id')}: its files are not known yet")
    config = services.config
    original, dubbed = ensure_readable(original, config, "original"), ensure_readable(dubbed, config, "dubbed")
    tracks = {**entry, **(entry.get("plan") or {})}  # a merge's plan, else what the align step kept
    dub_track = tracks.get("dub_track")
    if dub_track is None:  # a map not merged yet: the dub's track in that language, as the merge takes it
        dub_track = _track_in(services, dubbed, language)
    return ClipSource(original, dubbed, timemap, int(tracks.get("orig_track") or 0), int(dub_track))


def _track_in(services, path: Path, language: str) -> int:
    """The audio track of ``path`` tagged ``language``, else its default one, else the first."""
    from .merge.language import same_language

    streams = services.ffprobe.audio_streams(path)
    chosen = next((s for s in streams if same_language(s.language, language)), None)
    chosen = chosen or next((s for s in streams if s.default), None)
    return chosen.index if chosen else 0


def _field(job, name: str):
    """A job's field, from the stored dict or from a :class:`~syncdub_companion.job.Job`."""
    return job.get(name) if isinstance(job, dict) else getattr(job, name, None)


def _entry_of(job, language: str) -> dict:
    """The language's record: the finished result, the running merge, or the map the align
    step stored (held for review, or aligned and not merged yet)."""
    for holder in ((_field(job, "result") or {}).get("languages"), _field(job, "merged"), _field(job, "maps")):
        entry = holder.get(language) if isinstance(holder, dict) else None
        if isinstance(entry, dict) and isinstance(entry.get("timemap"), dict):
            return entry
    raise PreviewUnavailable(f"job {_field(job, 'id')}: no map for {language!r}")


def job_moments(services, job: dict, language: str) -> list[Moment]:
    """The moments offered for ``job``'s ``language`` (probes the original's length)."""
    source = source_of(services, job, language)
    duration = track_info(str(source.original), source.orig_track, services.config.get("tools.ffprobe")).duration
    return moments(source.timemap, duration)


def clip(services, job: dict, language: str, index: int, kind: str) -> Path:
    """The cached clip file of moment ``index`` (rendered on first request)."""
    if kind not in KINDS:
        raise PreviewUnavailable(f"no clip kind {kind!r}; one of {', '.join(KINDS)}")
    source = source_of(services, job, language)
    config = services.config
    found = moments(source.timemap, track_info(str(source.original), source.orig_track,
                                               config.get("tools.ffprobe")).duration)
    if not 0 <= index < len(found):
        raise PreviewUnavailable(f"job {_field(job, 'id')}: no moment {index} (it has {len(found)})")
    moment = found[index]
    cache = ClipCache(config.data_dir / CACHE_FOLDER, int(config.get("server.preview_cache_mb")) << 20)
    folder = f"{int(_field(job, 'id'))}-{_safe(language)}-{inputs_key(source)}"
    name = f"{int(round(moment.start * 1000))}-{int(round(moment.length * 1000))}-{kind}.m4a"
    return cache.get(folder, name, lambda out: render(source, moment, kind, out, config.get("tools.ffmpeg"),
                                                       config.get("tools.ffprobe")))


def inputs_key(source: ClipSource) -> str:
    """A digest of everything a clip depends on: the map, the tracks, each file's identity."""
    parts = {"v": _VERSION, "segments": source.timemap.to_dict()["segments"],
             "tracks": [source.orig_track, source.dub_track],
             "files": [_identity(source.original), _identity(source.dubbed)]}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def _identity(path: Path) -> list:
    try:
        st = path.stat()
    except OSError as exc:
        raise MediaError(f"{path}: {exc.strerror or exc}") from None
    return [str(path), st.st_size, st.st_mtime_ns, st.st_ino]


def _safe(language: str) -> str:
    return "".join(c for c in language if c.isalnum())[:16] or "und"


# --- the cache -------------------------------------------------------------------------


class ClipCache:
    """Files under ``root/<job>-<language>-<inputs>/``, at most ``limit`` bytes in all.

    A new inputs folder of a job and language replaces the old one (its map or a file
    changed). Each hit refreshes the clip's mtime, and the oldest clips go when the total
    passes the limit. Writers render into a temp file beside the clip and rename it.
    """

    def __init__(self, root: Path, limit: int):
        self.root, self.limit = Path(root), max(0, limit)
        self.rendered = 0  # clips this instance rendered (a miss), for the tests

    def get(self, folder: str, name: str, make) -> Path:
        path = self.root / folder / name
        if path.is_file():
            os.utime(path)
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._drop_stale(folder)
        partial = path.with_name(f".{name}.{os.getpid()}.{threading.get_ident()}.partial")
        try:
            make(partial)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        self.rendered += 1
        self._trim(keep=path)
        return path

    def _drop_stale(self, folder: str) -> None:
        prefix = folder.rsplit("-", 1)[0] + "-"
        for other in self.root.iterdir():
            if other.name.startswith(prefix) and other.name != folder and other.is_dir():
                shutil.rmtree(other, ignore_errors=True)

    def _trim(self, keep: Path) -> None:
        with _lock:
            files = [(p.stat().st_mtime_ns, p.stat().st_size, p) for p in self.root.glob("*/*.m4a") if p.is_file()]
            total = sum(size for _, size, _ in files)
            for _, size, p in sorted(files):
                if total <= self.limit:
                    break
                if p != keep:
                    p.unlink(missing_ok=True)
                    total -= size
                    if not any(p.parent.iterdir()):
                        p.parent.rmdir()
