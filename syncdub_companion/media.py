"""Media facts and the small value types that travel between webhooks, plugins and the pipeline.

The extension tables below are the one answer to "is this a video, a dub, a subtitle?":
the backfill scan, the finders, the /library, /wanted and /resync pages all ask here, so
they cannot disagree about which files exist.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

# Lower case, without the dot, as :func:`extension` returns them.
VIDEO_EXTS = frozenset("mkv mp4 m4v avi mov ts m2ts mts wmv webm mpg mpeg ogm divx".split())
AUDIO_EXTS = frozenset("mka ac3 eac3 ec3 dts dtshd thd truehd flac m4a aac mp3 opus ogg oga wav w64".split())
MEDIA_EXTS = VIDEO_EXTS | AUDIO_EXTS  # what can be an original or a dub
SUBTITLE_EXTS = frozenset("srt ass ssa sub idx sup vtt".split())


def extension(path: str | os.PathLike) -> str:
    """The file's extension, lower case and without the dot (``"mkv"``); "" when it has none."""
    name = os.path.basename(os.fspath(path))
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def is_video(path: str | os.PathLike) -> bool:
    """True when the name ends in a video extension (an original, or a dub with its own picture)."""
    return extension(path) in VIDEO_EXTS


def is_media(path: str | os.PathLike) -> bool:
    """True for a video or audio-only file: anything that can be an original or a dub."""
    return extension(path) in MEDIA_EXTS


@dataclass
class LibraryEvent:
    """A normalised "something new is in the library" event, whatever the source.

    ``source`` is plex, jellyfin, emby, sonarr, radarr, cli or scan. ``item_id`` is the
    server's id (Plex ratingKey, Jellyfin ItemId without hyphens) when there is one;
    ``path`` is set when the payload carried the file path (on the server's side of any
    path mapping).
    """

    source: str
    kind: str = "movie"  # movie | episode | other
    item_id: str | None = None
    path: str | None = None
    title: str | None = None
    year: int | None = None
    series: str | None = None
    season: int | None = None
    episode: int | None = None
    provider_ids: dict[str, str] = field(default_factory=dict)
    audio_languages: list[str] = field(default_factory=list)
    server: str | None = None
    raw_event: str | None = None

    def dedup_key(self) -> str:
        """Same item, same key: Plex and Jellyfin send an item more than once."""
        ident = self.item_id or self.path or f"{self.title}|{self.year}|{self.season}|{self.episode}"
        return f"{self.source}:{ident}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "LibraryEvent":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class MediaItem:
    """A library item resolved to a local file this service may work on."""

    path: str
    kind: str = "movie"
    title: str | None = None
    year: int | None = None
    series: str | None = None
    season: int | None = None
    episode: int | None = None
    provider_ids: dict[str, str] = field(default_factory=dict)
    audio_languages: list[str] = field(default_factory=list)
    server: str | None = None
    item_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "MediaItem":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class Candidate:
    """A possible dubbed counterpart of an item: a file, its language, and how sure we are."""

    path: str
    language: str | None
    score: float
    finder: str
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Candidate":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
