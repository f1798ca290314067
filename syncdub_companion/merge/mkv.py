"""Writing the merged file: the in-kernel splice (:mod:`.splice`) where it can, else mkvmerge,
with the argv that keeps every original stream and adds the dub.

mkvmerge copies packets, chapters, attachments, tags, track names and flags of every input
track it is not told to drop, so the original's streams come out bit-identical; only the
options below touch the dub track (and, with ``default_track = dub``, the default flags).
"""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Callable, Sequence
from xml.sax.saxutils import escape

from .. import __version__
from ..errors import ToolError
from ..tools.mkvmerge import MkvInput, TrackOptions
from .plan import CONFIDENCE_TAG, SOURCE_TAG, MergePlan
from .render import DubTrack
from .space import disk_full_as_error
from .splice import NewTrack, SpliceUnsupported, splice_track
from ..subtitles.carry import carried_for

log = logging.getLogger(__name__)
HASH_SAMPLE = 4 << 20


def source_fingerprint(path: Path) -> str:
    """``name sha256:…`` of the dub: its size and three 4 MiB samples (start, middle, end).

    Hashing a whole multi-GB release would cost as much as the merge; the sampled hash
    still tells two releases (or a re-encode) apart.
    """
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as fh:
        for pos in sorted({0, max(0, size // 2 - HASH_SAMPLE // 2), max(0, size - HASH_SAMPLE)}):
            fh.seek(pos)
            digest.update(fh.read(HASH_SAMPLE))
    return f"{path.name} sha256:{digest.hexdigest()[:32]}"


def track_tags(plan: MergePlan, source: str) -> dict[str, str]:
    """Tags for the added track: where it came from and how sure the map is."""
    return {
        SOURCE_TAG: source,
        CONFIDENCE_TAG: f"{plan.timemap.confidence:.3f}",
        "SYNCDUB_MAP": plan.timemap.summary(),
        "SYNCDUB_VERSION": __version__,
    }


def tags_xml(values: dict[str, str]) -> str:
    """The tags as an mkvmerge tags file (TargetTypeValue 50, aimed at the track by --tags)."""
    simples = "".join(f"<Simple><Name>{escape(k)}</Name><String>{escape(v)}</String></Simple>"
                      for k, v in values.items())
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Tags><Tag><Targets><TargetTypeValue>50'
            f"</TargetTypeValue></Targets>{simples}</Tag></Tags>\n")


def merge_inputs(plan: MergePlan, dub: DubTrack, tags_file: Path,
                 extra: Sequence[MkvInput] = ()) -> list[MkvInput]:
    """mkvmerge's inputs: the base file whole (minus a replaced synced track), the dub, then
    ``extra`` (more tracks to add, e.g. ``MkvInput.single_track(srt, "subtitles", forced=True)``)."""
    dub_default = plan.default_policy == "dub"
    base_flags = tuple(TrackOptions(tid, default=False) for tid in plan.base_audio_tids) if dub_default else ()
    base = MkvInput(plan.base, tracks=base_flags, drop_audio=tuple(plan.replace_tids),
                    drop_subtitles=tuple(plan.replace_subtitle_tids))
    new = MkvInput.single_track(dub.path, "audio", language=plan.language.bibliographic, name=plan.track_name,
                                default=dub_default, tags_file=tags_file, sync_ms=dub.sync_ms)
    return [base, new, *extra]


def write_merged(services, plan: MergePlan, dub: DubTrack, output: Path, tags_file: Path,
                 progress: Callable[[float], None] | None = None) -> str:
    """Write the base file plus the dub track into ``output`` (a temp path); returns which
    muxer did it: ``splice`` (see :mod:`.splice`) where it can, else ``mkvmerge``."""
    tags = track_tags(plan, source_fingerprint(plan.dubbed))
    if can_splice(services, plan):
        try:
            splice_track(plan.base, dub.path, output, new_track(plan, tags), dub.sync_ms, progress)
            return "splice"
        except SpliceUnsupported as exc:
            log.info("muxing %s with mkvmerge: %s", plan.base.name, exc)
    tags_file.write_text(tags_xml(tags), encoding="utf-8")
    with carried_for(services, plan) as subtitles:
        extra = [subtitle_input(sub, tags_file) for sub in subtitles]
        with disk_full_as_error(output.parent):
            services.mkvmerge.mux(output, merge_inputs(plan, dub, tags_file, extra), progress=progress)
    if not output.is_file():
        raise ToolError("mkvmerge", f"wrote no output at {output}")
    return "mkvmerge"


def subtitle_input(sub, tags_file: Path) -> MkvInput:
    """A carried subtitle track (subtitles.CarriedSubtitle): its language, "(synced)" name and
    forced flag, never the default, with the dub track's tags (so a later --force finds it)."""
    return MkvInput.single_track(sub.path, "subtitles", language=sub.language, name=sub.name, default=False,
                                 forced=sub.forced, tags_file=tags_file, charset="UTF-8" if sub.text else None)


def can_splice(services, plan: MergePlan) -> bool:
    """A dub added (not replacing a track) to a Matroska file, when allowed; the splice adds
    one track, so subtitles carried with the dub go through mkvmerge."""
    return (services.config.get("library.muxer") == "auto" and not plan.replace_tids and not plan.subtitles
            and plan.base.suffix.lower() in (".mkv", ".mka", ".mk3d"))


def new_track(plan: MergePlan, tags: dict[str, str]) -> NewTrack:
    dub_default = plan.default_policy == "dub"
    return NewTrack(plan.language.bibliographic, plan.language.alpha2, plan.track_name, default=dub_default,
                    clear_audio_defaults=dub_default, tags=tags)
