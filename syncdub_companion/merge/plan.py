"""What a merge will do, decided before anything is written (and all that --dry-run shows).

:func:`prepare` looks at the files: which tracks, which language, where the output goes,
and whether a synced track of that language is already there. :func:`finalize` adds what
depends on the time map: stream copy or re-encode, the codec, and the disk space needed.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import langid
from ..align.timemap import TimeMap
from ..errors import MediaError, UsageError
from ..media import Candidate, MediaItem
from ..paths import ensure_inside
from ..roots import ensure_readable
from ..tools.ffmpeg import OPUS_LAYOUTS
from ..tools.ffprobe import AudioStream, audio_stream
from ..subtitles.extract import for_merge as subtitles_for_merge
from .language import Language, language as lookup_language, same_language

MODES = ("replace", "beside", "folder")
SOURCE_TAG = "SYNCDUB_SOURCE"
CONFIDENCE_TAG = "SYNCDUB_CONFIDENCE"
# ffmpeg has encoders for these source families; anything else is re-encoded to Opus.
NATIVE_ENCODERS = {"ac3": 640_000, "eac3": 1_536_000}
MAX_NATIVE_CHANNELS = 6
CARRIED_TYPES = ("video", "audio", "subtitle", "attachment")


@dataclass
class MergePlan:
    """Everything decided about one merge. Paths are resolved; ``action`` is add, replace or skip."""

    original: Path
    dubbed: Path
    base: Path
    output: Path
    mode: str
    language: Language
    track_name: str
    orig_track: AudioStream
    dub_track: AudioStream
    orig_start: float  # where each track's first decoded sample plays, seconds (see decoded_start)
    dub_start: float
    base_streams: int
    base_kinds: list[tuple[int, str, str]]  # (stream index, type, codec) of every stream in base
    base_duration: float
    base_size: int
    base_audio_tids: list[int]
    replace_tids: list[int]
    action: str
    default_policy: str
    codec: str = ""
    bitrate: int | None = None
    sample_rate: int = 48000
    channels: int = 2
    channel_layout: str = "stereo"
    dub_bytes: int = 0
    space_needed: int = 0
    timemap: TimeMap | None = None
    notes: list[str] = field(default_factory=list)
    existing_sources: list[str] = field(default_factory=list)  # SYNCDUB_SOURCE of the synced tracks found
    stamps: dict[str, tuple | None] = field(default_factory=dict)  # base and output as read: see file_stamp
    subtitles: list = field(default_factory=list)  # the dub's subtitle tracks to carry (subtitles.SubtitleTrack)
    replace_subtitle_tids: list[int] = field(default_factory=list)  # synced subtitle tracks a --force drops
    carried: list = field(default_factory=list)  # what the mux took of them (subtitles.CarriedSubtitle)

    def changed_files(self) -> list[str]:
        """The base or output files that another writer changed (or made) since they were read."""
        return [path for path, stamp in self.stamps.items() if file_stamp(Path(path)) != stamp]

    @property
    def expected_streams(self) -> int:
        """Streams the merged file must have: the base's, minus replaced tracks, plus the dub
        and the subtitle tracks carried with it."""
        return self.base_streams - len(self.replace_tids) - len(self.replace_subtitle_tids) + 1 + len(self.carried)

    @property
    def stream_copy(self) -> bool:
        return self.codec == "copy"

    def to_dict(self) -> dict:
        return {
            "original": str(self.original), "dubbed": str(self.dubbed), "base": str(self.base),
            "output": str(self.output), "mode": self.mode, "action": self.action,
            "language": self.language.bibliographic, "track_name": self.track_name,
            "orig_track": self.orig_track.index, "dub_track": self.dub_track.index,
            "codec": self.codec, "bitrate": self.bitrate, "sample_rate": self.sample_rate,
            "channels": self.channels, "channel_layout": self.channel_layout,
            "dub_bytes": self.dub_bytes, "space_needed": self.space_needed,
            "map": self.timemap.summary() if self.timemap else None, "notes": list(self.notes),
            "subtitles": [t.to_dict() for t in self.subtitles],
        }

    def describe(self) -> list[str]:
        """Human-readable lines for --dry-run."""
        d = self.dub_track
        lines = [f"original: {self.original}",
                 f"dub:      {self.dubbed} (audio {d.index}: {d.codec} {d.channel_layout or d.channels}, "
                 f"{d.language or 'no language tag'})"]
        if self.timemap is not None:
            lines.append(f"map:      {self.timemap.summary()}")
        verb = {"add": "add", "replace": "replace the synced", "skip": "skip: already has a synced"}[self.action]
        lines.append(f"track:    {verb} {self.language.bibliographic} track \"{self.track_name}\"")
        lines += [f"subtitle: carry {t.label} as \"{t.synced_name(self.language)}\"" for t in self.subtitles]
        if self.codec:
            lines.append(f"codec:    {codec_text(self)}")
        lines.append(f"output:   {self.output} ({self.mode})")
        if self.space_needed:
            free = shutil.disk_usage(self.output.parent if self.output.parent.exists() else self.base.parent).free
            lines.append(f"disk:     needs {gib(self.space_needed)} free in {self.output.parent} ({gib(free)} free)")
        lines += [f"note:     {n}" for n in self.notes]
        return lines


def file_stamp(path: Path) -> tuple | None:
    """(inode, size, mtime) of ``path``, or None when it is missing: a rewrite or rename changes it."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def codec_text(plan: MergePlan) -> str:
    if plan.stream_copy:
        return f"copy of the dub's {plan.dub_track.codec} track (pure offset, no re-encode)"
    rate = f" {plan.bitrate // 1000} kb/s" if plan.bitrate else ""
    return f"{plan.codec}{rate} {plan.channel_layout} {plan.sample_rate} Hz"


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def prepare(services, original: str, dubbed: str, *, language: str | None, mode: str | None,
            force: bool) -> MergePlan:
    """Inspect the files and settle tracks, language, output path and the add/replace/skip action."""
    config = services.config
    mode = mode or config.get("library.output_mode")
    if mode not in MODES:
        raise UsageError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    roots = config.library_roots
    original_p = ensure_inside(original, roots, "original")
    if not original_p.is_file():
        raise MediaError(f"original {original}: no such file")
    if not Path(dubbed).expanduser().is_file():
        raise MediaError(f"dubbed {dubbed}: no such file")
    # read only, but still confined: a dub (or a symlink to one) outside the library and dub roots is refused
    dubbed_p = ensure_readable(Path(dubbed).expanduser(), config, "dubbed")
    # stamped before anything is read: a change after this point is caught before publishing
    stamps = {str(original_p): file_stamp(original_p)}
    orig_info = services.ffprobe.probe(original_p)
    orig_track = _reference_track(orig_info, original_p)
    dub_track, lang, notes = _dub_track_and_language(services, dubbed_p, language)
    output = _output_path(services, original_p, dubbed_p, lang, mode)
    if mode == "replace" and output != original_p and output.exists():
        raise UsageError(f"{output} already exists; replacing {original_p.name} would overwrite it "
                         "(use --mode beside or remove one of them)")
    stamps.setdefault(str(output), file_stamp(output))
    base = output if mode != "replace" and output.is_file() else original_p
    base_info = orig_info if base == original_p else services.ffprobe.probe(base)
    existing = _synced_tracks(base_info, lang)
    action = "skip" if existing and not force else "replace" if existing else "add"
    audio_tids = _audio_tids(services, base)
    existing_tids = [audio_tids[i] for i in existing]
    subtitles, subtitle_drops, subtitle_notes = ([], [], []) if action == "skip" else subtitles_for_merge(
        services, dubbed_p, base_info, lang, same_language, SOURCE_TAG, replacing=action == "replace")
    track_name = config.get("library.track_name").format(language=lang.native, code=lang.bibliographic,
                                                         english=lang.english)
    return MergePlan(
        original=original_p, dubbed=dubbed_p, base=base, output=output, mode=mode, language=lang,
        track_name=track_name, orig_track=orig_track, dub_track=dub_track,
        orig_start=decoded_start(services, original_p, orig_track),
        dub_start=decoded_start(services, dubbed_p, dub_track),
        base_streams=len(carried_streams(base_info)),
        base_kinds=[(int(s["index"]), s.get("codec_type"), s.get("codec_name")) for s in carried_streams(base_info)],
        base_duration=float(base_info.get("format", {}).get("duration") or 0.0),
        base_size=base.stat().st_size,
        base_audio_tids=[t for t in audio_tids if t not in existing_tids],
        replace_tids=existing_tids if action == "replace" else [],
        action=action, default_policy=config.get("library.default_track"), notes=notes + subtitle_notes,
        subtitles=subtitles, replace_subtitle_tids=subtitle_drops,
        existing_sources=[_tags(_audio_of(base_info)[i]).get(SOURCE_TAG, "") for i in existing], stamps=stamps,
    )


def decoded_start(services, path: Path, track: AudioStream) -> float:
    """Time at which the track's first *decoded* sample plays: its first frame's pts after the decoder.

    Usually the stream's start_time; not for Opus, whose pre-skip the decoder drops, so the
    first decoded sample plays 6.5 ms after the container's start_time.
    """
    first = services.ffprobe.first_frame_time(path, track.stream_index)
    return track.start_time if first is None else first


def carried_streams(info: dict) -> list[dict]:
    """The streams a Matroska file can hold. An MP4's data streams (chapter text, timecode)
    have no Matroska track: mkvmerge turns chapters into chapters and drops the rest."""
    return [s for s in info.get("streams", []) if s.get("codec_type") in CARRIED_TYPES]


def _audio_of(info: dict) -> list[dict]:
    return [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]


def _tags(stream: dict) -> dict:
    return {k.upper(): v for k, v in (stream.get("tags") or {}).items()}


def _reference_track(info: dict, path: Path) -> AudioStream:
    """The original's audio track the dub is timed against: its default non-SyncDub track."""
    fallback = float(info.get("format", {}).get("duration") or 0.0)
    streams = [(i, s) for i, s in enumerate(_audio_of(info)) if SOURCE_TAG not in _tags(s)]
    if not streams:
        raise MediaError(f"original {path}: no audio track")
    i, chosen = next(((i, s) for i, s in streams if (s.get("disposition") or {}).get("default")), streams[0])
    return audio_stream(i, chosen, fallback)


def _dub_track_and_language(services, dubbed: Path, wanted: str | None) -> tuple[AudioStream, Language, list[str]]:
    streams = services.ffprobe.audio_streams(dubbed)
    if not streams:
        raise MediaError(f"dubbed {dubbed}: no audio track")
    notes: list[str] = []
    default = next((s for s in streams if s.default), streams[0])
    if wanted:
        lang = lookup_language(wanted)
        track = next((s for s in streams if same_language(s.language, lang.bibliographic)), None)
        if track is None:
            track = default
            if track.language:
                notes.append(f"the dub has no {lang.bibliographic} track; using audio {track.index} "
                             f"({track.language}) as {lang.bibliographic}")
        return track, lang, notes
    if default.language:
        return default, lookup_language(default.language), notes
    # no tag (or und): what Whisper hears, else the one wanted language, else ask
    found = langid.check(services, dubbed, default, tag_check=False)
    if found.heard:
        return default, lookup_language(found.heard), [*notes, found.note()]
    configured = services.config.get("library.languages") or []
    if len(configured) == 1:
        return default, lookup_language(configured[0]), notes
    raise UsageError(f"dubbed {dubbed}: its audio track has no language tag and its language could not be "
                     f"identified ({found.why_not}); pass --lang (e.g. --lang de)")


def _output_path(services, original: Path, dubbed: Path, lang: Language, mode: str) -> Path:
    item = MediaItem(path=str(original))
    dub = Candidate(path=str(dubbed), language=lang.bibliographic, score=1.0, finder="resync")
    result = services.hook.syncdub_output_path(item=item, dub=dub, mode=mode, services=services)
    if not result:
        raise UsageError(f"no plugin chose an output path for mode {mode!r}")
    return ensure_inside(result, services.config.library_roots, "output")


def _synced_tracks(info: dict, lang: Language) -> list[int]:
    """Audio positions of tracks an earlier run added for ``lang``."""
    found = []
    for i, s in enumerate(_audio_of(info)):
        tags = _tags(s)
        if SOURCE_TAG in tags and same_language(tags.get("LANGUAGE"), lang.bibliographic):
            found.append(i)
    return found


def _audio_tids(services, path: Path) -> list[int]:
    """mkvmerge's track ids of ``path``'s audio tracks, in order (they follow ffprobe's order)."""
    ident = services.mkvmerge.identify(path)
    if not ident.get("container", {}).get("recognized", True):
        raise MediaError(f"{path}: mkvmerge cannot read this container")
    return [t["id"] for t in ident.get("tracks", []) if t.get("type") == "audio"]


def finalize(plan: MergePlan, timemap: TimeMap, config) -> MergePlan:
    """The plan with the map applied: stream copy for a pure offset, else the encoder settings."""
    plan = replace(plan, timemap=timemap, notes=list(plan.notes))
    film = plan.orig_track.duration or plan.base_duration
    if timemap.is_pure_offset():
        plan.codec = "copy"
        plan.bitrate = plan.dub_track.bit_rate
        plan.dub_bytes = _copy_bytes(plan.dub_track, film)
    else:
        _choose_codec(plan, config.get("library.codec"))
        plan.dub_bytes = _encoded_bytes(plan, film)
    plan.space_needed = space_needed(plan, config.get("library.space_margin_mb"))
    return plan


def space_needed(plan: MergePlan, margin_mb: int) -> int:
    """Bytes the destination folder needs: the merged file, the dub track beside it while muxing, margin."""
    return plan.base_size + 2 * plan.dub_bytes + int(margin_mb) * 2**20


def _copy_bytes(track: AudioStream, film: float) -> int:
    rate = track.bit_rate or 640_000  # unknown rate: assume a high AC3 rate rather than too little
    return int(rate / 8 * max(film, track.duration or 0.0))


def _encoded_bytes(plan: MergePlan, film: float) -> int:
    if plan.codec == "flac":
        return int(plan.sample_rate * plan.channels * 3 * 0.7 * film)  # 24-bit at ~70 %
    return int((plan.bitrate or 640_000) / 8 * film * 1.02)


def _choose_codec(plan: MergePlan, setting: str) -> None:
    dub = plan.dub_track
    channels = max(1, min(dub.channels or 2, 8))
    codec = setting
    if setting == "auto":
        codec = dub.codec if dub.codec in NATIVE_ENCODERS and channels <= MAX_NATIVE_CHANNELS else "opus"
    elif codec in NATIVE_ENCODERS and channels > MAX_NATIVE_CHANNELS:
        plan.notes.append(f"{codec} holds at most {MAX_NATIVE_CHANNELS} channels; "
                          f"the {channels}-channel dub is encoded as Opus instead")
        codec = "opus"
    plan.codec, plan.channels = codec, channels
    plan.channel_layout = dub.channel_layout or OPUS_LAYOUTS.get(channels, f"{channels}c")
    if codec == "opus":
        plan.sample_rate = 48000
        plan.channel_layout = OPUS_LAYOUTS[channels]
        plan.bitrate = max(96_000, min(64_000 * channels, 510_000))
    elif codec in NATIVE_ENCODERS:
        plan.sample_rate = dub.sample_rate if dub.sample_rate in (48000, 44100, 32000) else 48000
        default = 192_000 if channels <= 2 else 448_000
        source = dub.bit_rate if dub.codec == codec else None
        plan.bitrate = min(source or default, NATIVE_ENCODERS[codec])
    else:  # flac
        plan.sample_rate = dub.sample_rate if 8000 <= (dub.sample_rate or 0) <= 192000 else 48000
        plan.bitrate = None
