"""Which of the dub's subtitle tracks to carry, and getting them out of the dub file.

Chosen: tracks in the dub's language (``library.subtitles``: ``forced`` ones only, ``all``,
or ``none``), except those the library file already has, in that language with the same
forced flag (unless ``library.subtitles_duplicate``), since a second English signs track
beside the first only makes the player's menu longer.

Text and PGS tracks come out with ``ffmpeg -c copy`` (one pass over the dub for all of
them); VobSub needs the ``.idx``/``.sub`` pair that only mkvextract writes, so it is taken
from Matroska dubs only.
"""
from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import MediaError, PathNotAllowedError
from ..languages import Language
from ..roots import ensure_readable
from ..tools.mkvextract import MkvExtract

# ffprobe codec -> (kind, extension, ffmpeg muxer or None)
CODECS = {
    "subrip": ("text", ".srt", "srt"),
    "ass": ("text", ".ass", "ass"),
    "ssa": ("text", ".ass", "ass"),
    "webvtt": ("text", ".vtt", "webvtt"),
    "mov_text": ("text", ".srt", "srt"),  # MP4 timed text, converted to SRT (styling is lost)
    "text": ("text", ".srt", "srt"),
    "hdmv_pgs_subtitle": ("pgs", ".sup", "sup"),
    "dvd_subtitle": ("vobsub", ".idx", None),
}
POLICIES = ("forced", "all", "none")
# Sidecar files beside the dub (Movie.en.forced.srt): extension -> the codec ffprobe would name
SIDECARS = {".srt": "subrip", ".ass": "ass", ".ssa": "ass", ".vtt": "webvtt", ".sup": "hdmv_pgs_subtitle"}
NAME_WORDS = {"forced", "sdh", "cc", "hi", "default", "full"}
SYNCED = "(synced)"


@dataclass(frozen=True)
class SubtitleTrack:
    """One subtitle track of the dub: ``index`` is its ffprobe stream index (= mkvmerge track id in Matroska)."""

    index: int
    codec: str
    language: str
    forced: bool
    default: bool
    title: str | None
    source: str | None = None  # a sidecar file's path; None: a track inside the dub

    @property
    def label(self) -> str:
        return Path(self.source).name if self.source else f"subtitle {self.index} ({self.title or self.codec})"

    @property
    def kind(self) -> str:
        return CODECS[self.codec][0]

    @property
    def extension(self) -> str:
        return CODECS[self.codec][1]

    def synced_name(self, language: Language) -> str:
        """The track's own name, else "English forced", with "(synced)" after it."""
        base = self.title or f"{language.english or language.bibliographic}{' forced' if self.forced else ''}"
        return base if base.endswith(SYNCED) else f"{base} {SYNCED}"

    def to_dict(self) -> dict:
        return {"index": self.index, "codec": self.codec, "language": self.language, "forced": self.forced,
                "title": self.title, "source": self.source}


def choose(dub_info: dict, base_info: dict, language: Language, policy: str, duplicate: bool,
           same_language: Callable[[str | None, str | None], bool], ignore: set[int] = frozenset(),
           sidecars: list[SubtitleTrack] = ()) -> tuple[list[SubtitleTrack], list[str]]:
    """The dub's tracks to carry, and notes on those left out; ``ignore`` are base stream
    indexes that will not stay in the file (synced tracks being replaced). ``sidecars``
    (files beside the dub) come after the dub's own tracks and only where none of those
    with the same forced flag is carried: a release's sidecar usually repeats its track."""
    if policy not in POLICIES:
        raise MediaError(f"library.subtitles = {policy!r}: use one of {', '.join(POLICIES)}")
    if policy == "none":
        return [], []
    have = {bool((s.get("disposition") or {}).get("forced")) for s in _subtitles(base_info)
            if int(s["index"]) not in ignore and same_language(_tags(s).get("language"), language.bibliographic)}
    chosen, notes = [], []
    for track in [_track(s, language.bibliographic) for s in _subtitles(dub_info)] + list(sidecars):
        if not same_language(track.language, language.bibliographic) or (policy == "forced" and not track.forced):
            continue
        label = track.label
        if track.source and any(c.forced == track.forced and not c.source for c in chosen):
            notes.append(f"{label}: the dub's own {'forced ' if track.forced else ''}track is carried; not carried")
        elif track.codec not in CODECS:
            notes.append(f"{label}: {track.codec} subtitles cannot be re-timed; not carried")
        elif track.forced in have and not duplicate:
            notes.append(f"{label}: the file already has a{' forced' if track.forced else ''} "
                         f"{language.bibliographic} subtitle track; not carried (library.subtitles_duplicate)")
        else:
            chosen.append(track)
    return chosen, notes


def for_merge(services, dub: Path, base_info: dict, language: Language, same_language, source_tag: str,
              replacing: bool) -> tuple[list[SubtitleTrack], list[int], list[str]]:
    """What a merge into ``base_info``'s file does with subtitles: the dub's tracks to carry,
    the stream indexes of the file's synced ones of the language that go (``replacing``: a
    ``--force`` merge replaces the synced audio, and the subtitles re-timed with it), notes."""
    synced = [int(s["index"]) for s in _subtitles(base_info)
              if source_tag in {k.upper() for k in (s.get("tags") or {})}
              and same_language(_tags(s).get("language"), language.bibliographic)]
    replace = synced if replacing else []
    policy = services.config.get("library.subtitles")
    if policy == "none":
        return [], replace, []
    tracks, notes = choose(services.ffprobe.probe(dub), base_info, language, policy,
                           bool(services.config.get("library.subtitles_duplicate")), same_language, set(replace),
                           sidecars(services, dub, language, same_language))
    return tracks, replace, notes


def sidecars(services, dub: Path, language: Language, same_language) -> list[SubtitleTrack]:
    """Subtitle files beside the dub named after it in its language: ``Movie.en.srt``,
    ``Movie.eng.forced.sup``. One that resolves outside the read roots (a symlink) is skipped."""
    found = []
    for path in sorted(dub.parent.glob(glob.escape(dub.stem) + ".*")):
        codec = SIDECARS.get(path.suffix.lower())
        words = path.name[len(dub.stem) + 1:-len(path.suffix)].lower().split(".")
        codes = [w for w in words if w and w not in NAME_WORDS]
        if codec is None or len(codes) != 1 or not same_language(codes[0], language.bibliographic):
            continue
        try:
            source = ensure_readable(path, services.config, "subtitle")
        except PathNotAllowedError:
            continue
        found.append(SubtitleTrack(-1 - len(found), codec, language.bibliographic, "forced" in words, False, None,
                                   str(source)))
    return found


def _subtitles(info: dict) -> list[dict]:
    return [s for s in info.get("streams", []) if s.get("codec_type") == "subtitle"]


def _tags(stream: dict) -> dict:
    return {k.lower(): v for k, v in (stream.get("tags") or {}).items()}


def _track(stream: dict, fallback_language: str) -> SubtitleTrack:
    tags, disp = _tags(stream), stream.get("disposition") or {}
    lang = tags.get("language")
    return SubtitleTrack(
        index=int(stream["index"]), codec=stream.get("codec_name") or "unknown",
        # an untagged track of a release dubbed in one language is in that language
        language=fallback_language if lang in (None, "", "und") else lang,
        forced=bool(disp.get("forced")), default=bool(disp.get("default")), title=tags.get("title"))


def extract(services, dub: Path, tracks: list[SubtitleTrack], target: Callable[[SubtitleTrack], Path]) -> dict[int, Path]:
    """Write each track to ``target(track)`` (text and PGS by ffmpeg, VobSub by mkvextract)."""
    out = {t.index: Path(t.source) for t in tracks if t.source}  # a sidecar is read where it is
    copied = [(t.index, "srt" if t.codec in ("mov_text", "text") else "copy", CODECS[t.codec][2], target(t))
              for t in tracks if t.kind != "vobsub" and not t.source]
    if copied:
        services.ffmpeg.copy_streams(dub, copied, timeout=3600)
    out.update({index: path for index, _, _, path in copied})
    for t in tracks:
        if t.kind == "vobsub" and not t.source:
            out[t.index] = _vobsub(services, dub, t, target(t))
    return out


def _vobsub(services, dub: Path, track: SubtitleTrack, idx: Path) -> Path:
    if dub.suffix.lower() not in (".mkv", ".mka", ".mks", ".mk3d"):
        raise MediaError(f"{dub.name}: VobSub is taken from Matroska dubs only (mkvextract)")
    return MkvExtract(services.config.get("tools.mkvextract")).track(dub, track.index, idx)
