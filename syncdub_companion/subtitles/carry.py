"""Carry the chosen subtitle tracks of a dub over: extract, re-time by the map, describe for the mux."""
from __future__ import annotations

import logging
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from ..errors import MediaError
from ..languages import Language
from .check import file_frames
from .extract import SubtitleTrack, extract
from .pgs_retime import retime_pgs
from .retime import Retimer, RetimeReport
from .text import output_suffix, retime_text
from .vobsub import retime_vobsub

if TYPE_CHECKING:
    from ..align.timemap import TimeMap

log = logging.getLogger(__name__)
RETIMERS = {"text": retime_text, "pgs": retime_pgs, "vobsub": retime_vobsub}


@dataclass(frozen=True)
class CarriedSubtitle:
    """A re-timed subtitle file ready for the mux, with the track's language, name and flags."""

    track: SubtitleTrack
    path: Path
    language: str
    name: str
    report: RetimeReport
    frames: int = 0  # what the re-timed file decodes to: the merged track must hold as many

    @property
    def forced(self) -> bool:
        return self.track.forced

    @property
    def text(self) -> bool:
        return self.track.kind == "text"


def carry(services, dub: Path, tracks: list[SubtitleTrack], timemap: "TimeMap", language: Language,
          folder: Path, dub_start: float = 0.0, orig_start: float = 0.0) -> tuple[list[CarriedSubtitle], list[str]]:
    """Re-timed copies of ``tracks`` in ``folder``, and notes (what each kept and dropped).

    ``dub_start``/``orig_start`` are where each file's audio track starts decoding, the
    map's zero points (see :class:`.retime.Retimer`). A track left with no cue is not carried.
    """
    if not tracks:
        return [], []
    retimer = Retimer(timemap, dub_start, orig_start)
    sources = extract(services, dub, tracks, lambda t: folder / f"dub{t.index}{t.extension}")
    carried, notes = [], []
    for track in tracks:
        target = folder / f"synced{track.index}{output_suffix(services, track.extension)}"
        try:
            report = RETIMERS[track.kind](sources[track.index], target, retimer)
            frames = file_frames(services, target) if report.kept else 0
        except MediaError as exc:
            notes.append(f"{track.label}: not carried ({exc})")
            continue
        name = track.synced_name(language)
        if not report.kept:
            notes.append(f"{track.label} \"{name}\": no cue inside the map; not carried")
            continue
        notes.append(f"{track.label} \"{name}\": {report.text()}")
        carried.append(CarriedSubtitle(track, target, language.bibliographic, name, report, frames))
    return carried, notes


@contextmanager
def carried_for(services, plan) -> Iterator[list[CarriedSubtitle]]:
    """The plan's subtitle tracks re-timed by its map, in a scratch folder that lasts the block.

    Sets ``plan.carried`` (what verification then expects in the file) and adds each
    track's note (cues kept, clipped, dropped) to ``plan.notes``. The files are small
    (text, or bitmaps of signs), so they go to the system's temp folder, not the library.
    """
    plan.carried = []
    if not plan.subtitles:
        yield plan.carried
        return
    with tempfile.TemporaryDirectory(prefix="syncdub-subs-") as folder:
        plan.carried, notes = carry(services, plan.dubbed, plan.subtitles, plan.timemap, plan.language,
                                    Path(folder), plan.dub_start, plan.orig_start)
        plan.notes += notes
        yield plan.carried
