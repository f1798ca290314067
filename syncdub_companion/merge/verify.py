"""Check a merged temp file before it may replace or join anything in the library.

The new track must decode end to end. A re-rendered track is decoded from the merged file
itself. A stream-copied track is decoded from the one-track temp file *while* mkvmerge
muxes (decoding is CPU-bound, muxing disk-bound), and the merged file's track must then
hold exactly the same packets (md5 of a stream copy): same packets, same decode, at a
fraction of the cost of decoding a two-hour track a second time.
"""
from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import ToolError, VerificationError
from .language import same_language
from .plan import SOURCE_TAG, MergePlan, carried_streams
from .render import DubTrack
from ..subtitles.check import check_merged as check_subtitles

DURATION_TOLERANCE = 0.1


@dataclass(frozen=True)
class Decoded:
    """A stream that decoded cleanly: where its last frame plays, and the md5 of its packets."""

    end: float
    packets_md5: str


class StreamCheck:
    """Decode one stream to nowhere and hash its packets, in the background; see :meth:`finish`."""

    def __init__(self, services, path: Path, index: int, decode: bool = True):
        self._stderr = tempfile.TemporaryFile()
        self._proc = services.ffmpeg.start_check(path, index, decode=decode, stderr=self._stderr)

    def stop(self) -> None:
        """End the check early (the merge failed); a finished one is left as it is."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._proc.stdout.close()
        self._stderr.close()

    def finish(self) -> Decoded:
        """Wait; VerificationError when the stream does not decode."""
        out = self._proc.stdout.read().decode("utf-8", "replace")
        code = self._proc.wait()
        self._stderr.seek(0)
        errors = self._stderr.read().decode("utf-8", "replace")
        self._stderr.close()
        if code != 0:
            raise VerificationError(f"the new track does not decode: {ToolError('ffmpeg', 'failed', code, errors)}")
        md5 = re.search(r"MD5=([0-9a-f]{32})", out)
        ends = [int(v) / 1e6 for v in re.findall(r"^out_time_us=(-?\d+)$", out, re.M)]
        return Decoded(ends[-1] if ends else 0.0, md5.group(1) if md5 else "")


def verify(services, plan: MergePlan, path: Path, dub: DubTrack, *,
           while_checking: Callable[[], None] | None = None, reference: StreamCheck | None = None) -> dict:
    """Raise VerificationError unless ``path`` holds the base's streams plus one decodable dub.

    Checks: stream count (the base's + 1, or the same when a synced track was replaced),
    the kept streams' types and codecs in order, the file duration against the base's
    (within 0.1 s), and that the new track decodes to where it should end: decoded here,
    or, given the running ``reference`` check of the copied dub track, the same packets as it.
    Subtitle tracks carried with the dub follow it with their language, name, forced flag and
    as many frames as their re-timed files decoded to (see :mod:`..subtitles.check`).
    ``while_checking`` (the caller's fsync) runs while ffmpeg works and ends before this returns.
    """
    info = services.ffprobe.probe(path)
    streams = carried_streams(info)
    if len(streams) != plan.expected_streams:
        raise VerificationError(f"merged file has {len(streams)} streams, expected {plan.expected_streams}; "
                                "the original was left untouched")
    new = _new_track(streams, plan)
    added = [new, *check_subtitles(streams, new, plan.carried)]
    _check_kept_streams(plan, [s for s in streams if not any(s is a for a in added)])
    duration = float(info.get("format", {}).get("duration") or 0.0)
    if abs(duration - plan.base_duration) > DURATION_TOLERANCE:
        raise VerificationError(f"merged file lasts {duration:.3f} s but the original {plan.base_duration:.3f} s")
    check = StreamCheck(services, path, int(new["index"]), decode=reference is None)
    try:
        if while_checking:
            while_checking()
    finally:
        got = check.finish()
    if reference is not None:
        decoded = reference.finish()
        if got.packets_md5 != decoded.packets_md5:
            raise VerificationError("the merged file's new track differs from the dub track that was decoded")
        got = Decoded(decoded.end + dub.sync_ms / 1000, got.packets_md5)
    if got.end < dub.end - DURATION_TOLERANCE:
        raise VerificationError(f"the new track decodes only to {got.end:.3f} s, expected {dub.end:.3f} s")
    return {"streams": len(streams), "duration": duration, "new_stream": int(new["index"]),
            "subtitle_streams": [int(s["index"]) for s in added[1:]],
            "new_track_end": round(got.end, 3), "new_track_md5": got.packets_md5}


def _new_track(streams: list[dict], plan: MergePlan) -> dict:
    synced = [s for s in streams if s.get("codec_type") == "audio"
              and SOURCE_TAG in {k.upper() for k in (s.get("tags") or {})}
              and same_language((s.get("tags") or {}).get("language"), plan.language.bibliographic)]
    if len(synced) != 1:
        raise VerificationError(f"expected one synced {plan.language.bibliographic} track in the merged file, "
                                f"found {len(synced)}")
    return synced[0]


def _check_kept_streams(plan: MergePlan, streams: list[dict]) -> None:
    dropped = set(plan.replace_tids) | set(plan.replace_subtitle_tids)
    got = [(s.get("codec_type"), s.get("codec_name")) for s in streams]
    want = [(kind, codec) for index, kind, codec in plan.base_kinds if index not in dropped]
    if got != want:
        raise VerificationError(f"merged file's streams {got} differ from the original's {want}")
