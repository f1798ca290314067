"""Check a merged temp file before it may replace or join anything in the library."""
from __future__ import annotations

from pathlib import Path

from ..errors import ToolError, VerificationError
from ..tools import process
from .language import same_language
from .plan import SOURCE_TAG, MergePlan
from .render import DubTrack

DURATION_TOLERANCE = 0.1


def verify(services, plan: MergePlan, path: Path, dub: DubTrack) -> dict:
    """Raise VerificationError unless ``path`` holds the base's streams plus one decodable dub.

    Checks: stream count (the base's + 1, or the same when a synced track was replaced),
    the kept streams' types and codecs in order, the file duration against the base's
    (within 0.1 s), and a full decode of the new track that ends where it should.
    """
    info = services.ffprobe.probe(path)
    streams = info.get("streams", [])
    if len(streams) != plan.expected_streams:
        raise VerificationError(f"merged file has {len(streams)} streams, expected {plan.expected_streams}; "
                                "the original was left untouched")
    new = _new_track(streams, plan)
    _check_kept_streams(plan, [s for s in streams if s is not new])
    duration = float(info.get("format", {}).get("duration") or 0.0)
    if abs(duration - plan.base_duration) > DURATION_TOLERANCE:
        raise VerificationError(f"merged file lasts {duration:.3f} s but the original {plan.base_duration:.3f} s")
    start = float(info.get("format", {}).get("start_time") or 0.0)
    decoded_end = start + _decode_end(services, path, int(new["index"]))
    if decoded_end < dub.end - DURATION_TOLERANCE:
        raise VerificationError(f"the new track decodes only to {decoded_end:.3f} s, expected {dub.end:.3f} s")
    return {"streams": len(streams), "duration": duration, "new_stream": int(new["index"]),
            "new_track_end": round(decoded_end, 3)}


def _new_track(streams: list[dict], plan: MergePlan) -> dict:
    synced = [s for s in streams if s.get("codec_type") == "audio"
              and SOURCE_TAG in {k.upper() for k in (s.get("tags") or {})}
              and same_language((s.get("tags") or {}).get("language"), plan.language.bibliographic)]
    if len(synced) != 1:
        raise VerificationError(f"expected one synced {plan.language.bibliographic} track in the merged file, "
                                f"found {len(synced)}")
    return synced[0]


def _check_kept_streams(plan: MergePlan, streams: list[dict]) -> None:
    dropped = set(plan.replace_tids)
    got = [(s.get("codec_type"), s.get("codec_name")) for s in streams]
    want = [(kind, codec) for index, kind, codec in plan.base_kinds if index not in dropped]
    if got != want:
        raise VerificationError(f"merged file's streams {got} differ from the original's {want}")


def _decode_end(services, path: Path, index: int) -> float:
    """Seconds decoded from stream ``index`` to its end (relative to the file's start)."""
    argv = [services.ffmpeg.executable, "-nostdin", "-v", "error", "-i", str(path), "-map", f"0:{index}",
            "-f", "null", "-progress", "pipe:1", "-nostats", "-"]
    try:
        proc = process.run(argv, "ffmpeg")
    except ToolError as exc:
        raise VerificationError(f"the new track does not decode: {exc}") from None
    end = 0.0
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("out_time_us="):
            value = line.split("=", 1)[1]
            if value.lstrip("-").isdigit():
                end = int(value) / 1e6
    return end
