"""Which language a dub speaks: its track's tag, else what Whisper hears.

Only a missing or ``und`` tag is replaced by the language Whisper identifies (three 30 s
windows at 20, 50 and 80 % of the track vote: :func:`~.align.speech.identify_language`,
with the Whisper model the aligner uses, loaded once per process). A present tag always
wins; when ``speech.check_tags`` is on and the speech says another language, that is
reported (the job's log and page, the CLI's notes), never acted on: a tag is the
release's own word, and Whisper can be fooled by a song or a foreign-language scene.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .errors import MediaError, ModelMissingError, SyncDubError, UsageError
from .languages import alpha2_code, lookup

log = logging.getLogger(__name__)

# Below this, Whisper's vote is too unsure to contradict a tag (it still names an untagged track).
CONTRADICT_PROBABILITY = 0.6


@dataclass(frozen=True)
class LanguageCheck:
    """What the tag says and what the speech says about one audio track (ISO 639-1 codes).

    ``heard`` is None when the speech was not asked or held none; ``why_not`` then says why.
    """

    path: str
    track: int
    tag: str | None
    heard: str | None = None
    probability: float | None = None
    why_not: str | None = None

    @property
    def language(self) -> str | None:
        """The language to use: the tag, else the one heard."""
        return self.tag or self.heard

    @property
    def contradicts(self) -> bool:
        return bool(self.tag and self.heard and self.tag != self.heard
                    and (self.probability or 0.0) >= CONTRADICT_PROBABILITY)

    def note(self) -> str | None:
        """A line for the job log and page: a contradiction, or an identified language."""
        name = Path(self.path).name
        if self.contradicts:
            return (f"{name}: audio track {self.track} is tagged {_named(self.tag)} but its speech sounds "
                    f"{_named(self.heard)} (p={self.probability:.2f}); the tag is kept")
        if not self.tag and self.heard:
            return (f"{name}: audio track {self.track} has no language tag; its speech was identified as "
                    f"{_named(self.heard)} (p={self.probability:.2f})")
        return None

    def to_dict(self) -> dict:
        return {**asdict(self), "contradicts": self.contradicts, "note": self.note()}


def _named(code: str | None) -> str:
    found = lookup(code)
    return f"{found.english} ({code})" if found and found.english else str(code)


def heard(services, path: str | Path, track: int) -> tuple[str, float]:
    """(ISO 639-1 code, probability) Whisper identifies in audio track ``track`` of ``path``.

    MediaError when the track holds no speech, ModelMissingError when Whisper is not installed.
    """
    from .align.speech import SpeechSettings, identify_language

    config = services.config
    return identify_language(str(path), track, settings=SpeechSettings.from_config(config),
                             device=config.get("align.device"))


def default_track(services, path: str | Path):
    """The audio track a merge takes from a dub by default: the default-flagged one, else the first."""
    streams = services.ffprobe.audio_streams(path)
    if not streams:
        raise MediaError(f"{path}: no audio track")
    return next((s for s in streams if s.default), streams[0])


def check(services, path: str | Path, track=None, *, tag_check: bool | None = None) -> LanguageCheck:
    """The language of ``track`` (an AudioStream; default: :func:`default_track`) of ``path``.

    An untagged track is always identified by its speech. A tagged one is checked against
    its speech when ``tag_check`` (default: the ``speech.check_tags`` setting, off when
    ``align.speech = "never"``); a failure to hear anything never stops a tagged track.
    """
    track = track or default_track(services, path)
    tag = alpha2_code(track.language)
    if tag_check is None:
        tag_check = bool(services.config.get("speech.check_tags")) and services.config.get("align.speech") != "never"
    if tag and not tag_check:
        return LanguageCheck(str(path), track.index, tag)
    try:
        code, probability = heard(services, path, track.index)
    except (MediaError, ModelMissingError, UsageError) as exc:
        if not tag:
            log.warning("cannot identify the language of %s: %s", path, exc)
        return LanguageCheck(str(path), track.index, tag, why_not=str(exc))
    found = LanguageCheck(str(path), track.index, tag, alpha2_code(code), round(float(probability), 3))
    if found.note():
        log.info("%s", found.note())
    return found


def name_candidate(services, candidate):
    """A counterpart whose name and folder say no language, with its track's tag, else the
    language Whisper hears (unchanged when neither says one)."""
    try:
        found = check(services, candidate.path, tag_check=False)
    except SyncDubError as exc:
        log.info("no language for the counterpart %s: %s", candidate.path, exc)
        return candidate
    if not found.language:
        return candidate
    how = "its track's tag" if found.tag else f"its speech (p={found.probability:.2f})"
    return replace(candidate, language=found.language,
                   reason="; ".join(filter(None, [candidate.reason, f"language {found.language} from {how}"])))
