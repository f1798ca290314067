"""Writing the merged file: the in-kernel splice (:mod:`.splice`) where it can, else mkvmerge,
with the argv that keeps every original stream and adds the dub.

mkvmerge copies packets, chapters, attachments, tags, track names and flags of every input
track it is not told to drop, so the original's streams come out bit-identical; only the
options below touch the dub track (and, with ``default_track = dub``, the default flags).
"""
from __future__ import annotations

import hashlib
import logging
import re
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Callable
from xml.sax.saxutils import escape

from .. import __version__
from ..errors import ToolError
from ..tools import process
from .plan import CONFIDENCE_TAG, SOURCE_TAG, MergePlan
from .space import raise_if_full
from .splice import NewTrack, SpliceUnsupported, splice_track
from ..subtitles.carry import carried_for, mux_args

if TYPE_CHECKING:
    from .render import DubTrack

log = logging.getLogger(__name__)
PROGRESS_RE = re.compile(r"#GUI#progress (\d+)%")
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


def merge_argv(plan: MergePlan, dub: "DubTrack", output: Path, tags_file: Path, subtitles=()) -> list[str]:
    """mkvmerge arguments: the base file whole (minus a replaced synced track), then the dub,
    then the subtitle tracks carried with it (subtitles.CarriedSubtitle, tagged like the dub,
    so a later --force finds them)."""
    argv = ["-o", str(output)]
    if plan.default_policy == "dub":
        for tid in plan.base_audio_tids:
            argv += ["--default-track-flag", f"{tid}:0"]
    if plan.replace_tids:
        argv += ["--audio-tracks", "!" + ",".join(map(str, plan.replace_tids))]
    if plan.replace_subtitle_tids:
        argv += ["--subtitle-tracks", "!" + ",".join(map(str, plan.replace_subtitle_tids))]
    argv.append(str(plan.base))
    argv += ["--no-chapters", "--no-attachments", "--no-global-tags", "--no-track-tags", "--no-buttons",
             "--no-video", "--no-subtitles",
             "--language", f"0:{plan.language.bibliographic}",
             "--track-name", f"0:{plan.track_name}",
             "--default-track-flag", f"0:{1 if plan.default_policy == 'dub' else 0}",
             "--tags", f"0:{tags_file}"]
    if dub.sync_ms:
        argv += ["--sync", f"0:{dub.sync_ms}"]
    argv.append(str(dub.path))
    for sub in subtitles:
        argv += ["--no-chapters", "--no-attachments", "--no-global-tags", "--no-track-tags", "--no-buttons",
                 *mux_args(sub, tags_file)]
    return argv


def run_mkvmerge(services, args: list[str], progress: Callable[[float], None] | None = None) -> None:
    """Run mkvmerge in GUI mode, reporting its progress (0-1); exit 1 (warnings) is success.

    A full disk becomes DiskFullError, any other failure ToolError with mkvmerge's messages.
    """
    argv = [services.mkvmerge.executable, "--gui-mode", *args]
    proc = process.popen(argv, "mkvmerge", stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    messages = []
    with proc.stdout:
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip()
            match = PROGRESS_RE.match(line)
            if match and progress:
                progress(int(match.group(1)) / 100)
            elif line.startswith(("#GUI#error", "#GUI#warning")):
                messages.append(line.split(" ", 1)[-1])
    code = proc.wait()
    if code not in (0, 1):
        text = "\n".join(messages) or "no message"
        raise_if_full(text, Path(args[args.index("-o") + 1]).parent)
        raise ToolError("mkvmerge", "failed", code, text)


def write_merged(services, plan: MergePlan, dub: "DubTrack", output: Path, tags_file: Path,
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
        run_mkvmerge(services, merge_argv(plan, dub, output, tags_file, subtitles), progress)
    if not output.is_file():
        raise ToolError("mkvmerge", f"wrote no output at {output}")
    return "mkvmerge"


def can_splice(services, plan: MergePlan) -> bool:
    """A dub added (not replacing a track) to a Matroska file, when allowed; the splice adds
    one track, so subtitles carried with the dub go through mkvmerge."""
    return (services.config.get("library.muxer") == "auto" and not plan.replace_tids and not plan.subtitles
            and plan.base.suffix.lower() in (".mkv", ".mka", ".mk3d"))


def new_track(plan: MergePlan, tags: dict[str, str]) -> NewTrack:
    dub_default = plan.default_policy == "dub"
    return NewTrack(plan.language.bibliographic, plan.language.alpha2, plan.track_name, default=dub_default,
                    clear_audio_defaults=dub_default, tags=tags)
