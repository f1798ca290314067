"""Several dubs of one film in one write: one temp file, one verify, one swap (issue 18 item 2).

:func:`resync_many` takes each language's dub with the map the align stage stored, plans
each against the same file, and writes the base plus every new track (and the subtitle
tracks carried with each) in one mkvmerge run. A language whose merge has nothing to do
(its synced track is there) is skipped on its own. Without a shared output (an output-path
plugin that puts each language elsewhere) the languages are written one after another,
each safely, under the same lock, and the results say so.
"""
from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..align.timemap import TimeMap
from ..errors import AlignmentRejected, VerificationError
from ..tools.mkvmerge import MkvInput, TrackOptions
from .api import MergeResult, Progress, _merge, _Reporter, disk_full_while_writing, skipped_result, swap
from .cleanup import TempSet, cleanup_leftovers, journal_dir
from .lock import file_lock
from .mkv import source_fingerprint, subtitle_input, tags_xml, track_tags
from .plan import MergePlan, carried_streams, finalize, gib, prepare
from .publish import apply_ownership, backup_path, fsync_path, make_folders
from .render import DubTrack, prepare_dub
from .space import check_space, disk_full_as_error
from .verify import DURATION_TOLERANCE, StreamCheck, _new_track
from ..subtitles.carry import carried_for
from ..subtitles.check import check_merged as check_subtitles

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dub:
    """One language to add: the dub file, its language (None: the dub's tag) and its map."""

    dubbed: str
    language: str | None
    timemap: TimeMap


def resync_many(services, original: str, dubs: dict[str, Dub], *, mode: str | None = None, force: bool = False,
                progress: Progress | None = None, lock_wait: float | None = None,
                on_wait: Callable[[str], None] | None = None,
                before_swap: Callable[[], None] | None = None) -> dict[str, MergeResult]:
    """Add every dub of ``dubs`` (key: the caller's language name) to ``original`` in one
    write; returns each key's MergeResult (done or skipped). Nothing is aligned: each map
    must be ``aligned``. Raises like :func:`~.api.resync`; the original is untouched then."""
    for key, dub in dubs.items():
        if not dub.timemap.aligned:
            raise AlignmentRejected(f"{key}: {dub.timemap.reason or 'the map is not aligned'}", dub.timemap.confidence)
    report = _Reporter(progress)
    cleanup_leftovers(journal_dir(services))
    with file_lock(services, original, lock_wait, on_wait):
        plans, results = {}, {}
        for key, dub in sorted(dubs.items()):
            plan = prepare(services, original, dub.dubbed, language=dub.language, mode=mode, force=force)
            if plan.action == "skip":
                results[key] = skipped_result(plan, dub.timemap)
            else:
                plans[key] = finalize(plan, dub.timemap, services.config)
        if len({p.output for p in plans.values()}) > 1:
            log.info("the languages of %s go to different files: written one after another", original)
            for key, plan in plans.items():
                results[key] = _merge(services, plan, report, before_swap)
        elif len(plans) == 1:
            [(key, plan)] = plans.items()
            results[key] = _merge(services, plan, report, before_swap)
        elif plans:
            results.update(_merge_all(services, plans, report, before_swap))
    return results


def _merge_all(services, plans: dict[str, MergePlan], report: _Reporter,
               before_swap: Callable[[], None] | None) -> dict[str, MergeResult]:
    first = next(iter(plans.values()))
    reference_stat = first.original.stat()
    if first.mode == "replace" and services.config.get("library.backup_dir"):
        backup_path(services, first)
    make_folders(first.output.parent, reference_stat, services.config)
    dub_bytes = sum(p.dub_bytes for p in plans.values())
    margin = services.config.get("library.space_margin_mb")
    check_space(first.output.parent, first.base_size + 2 * dub_bytes + margin * 2**20,
                f"{gib(first.base_size)} for the merged file + {gib(2 * dub_bytes)} for {len(plans)} dub tracks "
                f"+ {margin} MiB margin")
    with disk_full_while_writing(first.output.parent), ExitStack() as stack:
        temps = stack.enter_context(TempSet(first.output, journal_dir(services)))
        tracks = {}
        for n, (key, plan) in enumerate(plans.items()):
            # a TempSet of its own per dub (each renders to its set's "dub" file), named
            # apart from the merged file's: entering a set sweeps other sets of its name
            own = stack.enter_context(TempSet(first.output.with_name(f"{first.output.name}.{key}"),
                                              journal_dir(services)))
            tracks[key] = prepare_dub(services, plan, own, lambda f, n=n: report("dub", (n + f) / len(plans)))
        temp = temps.path()
        inputs = _inputs(services, plans, tracks, temps, stack)
        with disk_full_as_error(temp.parent):
            services.mkvmerge.mux(temp, inputs, progress=lambda f: report("mux", f))
        report("publishing", 0.0)
        notes = apply_ownership(temp, reference_stat, services.config)
        checked = verify_all(services, plans, tracks, temp, while_checking=lambda: fsync_path(temp))
        report("publishing", 0.6)
        output = swap(services, list(plans.values()), temp, before_swap)
    report("publishing", 1.0)
    log.info("merged %s into %s in one write", ", ".join(p.language.bibliographic for p in plans.values()), output)
    out = {}
    for key, plan in plans.items():
        plan.notes += notes
        out[key] = MergeResult("done", str(output), plan.timemap, plan,
                               f"added \"{plan.track_name}\" to {output.name} (one write with "
                               f"{len(plans) - 1} other language(s))", {**checked[key], "muxer": "mkvmerge",
                                                                        "languages_in_write": len(plans)})
    return out


def _inputs(services, plans: dict[str, MergePlan], tracks: dict[str, DubTrack], temps: TempSet,
            stack: ExitStack) -> list[MkvInput]:
    """The base once (minus every replaced synced track), then each dub and its subtitles."""
    first = next(iter(plans.values()))
    dub_default = first.default_policy == "dub"
    kept_audio = set(first.base_audio_tids)
    for plan in plans.values():
        kept_audio -= set(plan.replace_tids)
    drop_audio = sorted({t for p in plans.values() for t in p.replace_tids})
    drop_subs = sorted({t for p in plans.values() for t in p.replace_subtitle_tids})
    base_flags = tuple(TrackOptions(tid, default=False) for tid in sorted(kept_audio)) if dub_default else ()
    inputs = [MkvInput(first.base, tracks=base_flags, drop_audio=tuple(drop_audio), drop_subtitles=tuple(drop_subs))]
    for n, (key, plan) in enumerate(plans.items()):
        tags_file = temps.path(f"tags{n}")
        tags_file.write_text(tags_xml(track_tags(plan, source_fingerprint(plan.dubbed))), encoding="utf-8")
        dub = tracks[key]
        inputs.append(MkvInput.single_track(dub.path, "audio", language=plan.language.bibliographic,
                                            name=plan.track_name, default=dub_default and n == 0,
                                            tags_file=tags_file, sync_ms=dub.sync_ms))
        subtitles = stack.enter_context(carried_for(services, plan))
        inputs += [subtitle_input(sub, tags_file) for sub in subtitles]
    return inputs


def verify_all(services, plans: dict[str, MergePlan], tracks: dict[str, DubTrack], path: Path, *,
               while_checking: Callable[[], None] | None = None) -> dict[str, dict]:
    """VerificationError unless ``path`` holds the base's streams (less the replaced ones) plus
    each plan's new track and carried subtitles, each new track decoding to its end."""
    first = next(iter(plans.values()))
    info = services.ffprobe.probe(path)
    streams = carried_streams(info)
    dropped = {t for p in plans.values() for t in (*p.replace_tids, *p.replace_subtitle_tids)}
    expected = first.base_streams - len(dropped) + sum(1 + len(p.carried) for p in plans.values())
    if len(streams) != expected:
        raise VerificationError(f"merged file has {len(streams)} streams, expected {expected}; "
                                "the original was left untouched")
    new = {key: _new_track(streams, plan) for key, plan in plans.items()}
    added = [s for key, plan in plans.items() for s in (new[key], *check_subtitles(streams, new[key], plan.carried))]
    got = [(s.get("codec_type"), s.get("codec_name")) for s in streams if not any(s is a for a in added)]
    want = [(kind, codec) for index, kind, codec in first.base_kinds if index not in dropped]
    if got != want:
        raise VerificationError(f"merged file's streams {got} differ from the original's {want}")
    duration = float(info.get("format", {}).get("duration") or 0.0)
    if abs(duration - first.base_duration) > DURATION_TOLERANCE:
        raise VerificationError(f"merged file lasts {duration:.3f} s but the original {first.base_duration:.3f} s")
    checks = {key: StreamCheck(services, path, int(new[key]["index"])) for key in plans}
    try:
        if while_checking:
            while_checking()
        decoded = {key: check.finish() for key, check in checks.items()}
    finally:
        for check in checks.values():
            check.stop()  # a check that finished is left as it is
    out = {}
    for key, got_track in decoded.items():
        if got_track.end < tracks[key].end - DURATION_TOLERANCE:
            raise VerificationError(f"the new {key} track decodes only to {got_track.end:.3f} s, "
                                    f"expected {tracks[key].end:.3f} s")
        out[key] = {"streams": len(streams), "duration": duration, "new_stream": int(new[key]["index"]),
                    "new_track_end": round(got_track.end, 3), "new_track_md5": got_track.packets_md5}
    return out
