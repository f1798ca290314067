"""Speech anchors on a 2-hour pair: CPU time in sampled mode, and how good the anchors are.

    python -m benchmarks.speech_bench                      # 12 windows x 30 s per file, CPU
    python -m benchmarks.speech_bench --cpus 2             # pinned to 2 cores (on a bigger box)
    python -m benchmarks.speech_bench --no-map             # dub windows without a provisional map
    python -m benchmarks.speech_bench --case wrong_film --duration 600
    python -m benchmarks.speech_bench --full --device cuda # whole film, batched (GPU machines)

The pair is the corpus's ``feature_pal`` (benchmarks/corpus.py): drascula's Spanish lines
over music in a 5.1 AC3 original, the English lines in a stereo AC3 dub sped up 25/23.976,
built once into ``--cache`` (benchmarks/out/corpus, not committed) and reused.

Original windows are spread evenly (``sampled_windows``). Dub windows are what the aligner
would ask for: the same stretch through its provisional map (here the pair's true map),
widened by ``--margin`` on each side; with ``--no-map``, the same relative position
widened by ``--no-map-margin``. The models are loaded first and timed apart, as a worker
loads them once. Target: sampled mode <= 180 s for the 2-hour pair on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from benchmarks.corpus import Pair, build_pair
from syncdub_companion.align.embed import Embedder
from syncdub_companion.align.speech import (SpeechSettings, full_dialogue_windows, sampled_windows,
                                            speech_evidence)
from syncdub_companion.align.transcribe import Transcriber
from syncdub_companion.testing import cache_dir

OUT = Path(__file__).resolve().parent / "out"
TARGET_S = 180.0


def dub_time(pair: Pair, orig_t: float) -> float | None:
    """The inverse of the pair's truth: where original time ``orig_t`` plays in the dub."""
    for seg in pair.truth:
        if seg["orig_start"] <= orig_t < seg["orig_end"]:
            rate = (seg["dub_end"] - seg["dub_start"]) / (seg["orig_end"] - seg["orig_start"])
            return seg["dub_start"] + (orig_t - seg["orig_start"]) * rate
    return None


def dub_windows(pair: Pair, orig_windows, margin: float, use_map: bool) -> list[tuple[float, float]]:
    """The dub stretches matching ``orig_windows``, through the map or by relative position."""
    orig_len, dub_len = pair.meta["original"]["duration"], pair.meta["dubbed"]["duration"]
    out = []
    for start, length in orig_windows:
        a = dub_time(pair, start) if use_map else None
        b = dub_time(pair, start + length) if use_map else None
        if a is None or b is None:  # no map (or outside it): same relative position
            a, b = start / orig_len * dub_len, (start + length) / orig_len * dub_len
        out.append((max(0.0, a - margin), b - a + 2 * margin))
    return out


def accuracy(pair: Pair, anchors) -> dict:
    """Errors of the anchors against the pair's truth, in seconds on the original's timeline."""
    errors = [abs(pair.orig_time(a.dub) - a.orig) for a in anchors if pair.orig_time(a.dub) is not None]
    if not errors:
        return {"anchors_scored": 0}
    e = np.array(errors)
    return {"anchors_scored": len(e), "median_s": round(float(np.median(e)), 3),
            "p90_s": round(float(np.percentile(e, 90)), 3), "within_0_3_s": round(float(np.mean(e <= 0.3)), 3),
            "wrong_over_1_s": int(np.sum(e > 1.0))}


def _error(pair: Pair, dub: float, orig: float) -> float | None:
    truth = pair.orig_time(dub)
    return None if truth is None else round(orig - truth, 3)


def cpu_seconds() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.speech_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--case", default="feature_pal")
    parser.add_argument("--direction", default="es-en")
    parser.add_argument("--duration", type=float, default=7200.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=OUT / "corpus")
    parser.add_argument("--windows", type=int, default=12)
    parser.add_argument("--window-seconds", type=float, default=30.0)
    parser.add_argument("--margin", type=float, default=5.0, help="seconds added to each side of a dub window")
    parser.add_argument("--no-map", action="store_true", help="place dub windows by relative position")
    parser.add_argument("--no-map-margin", type=float, default=15.0)
    parser.add_argument("--full", action="store_true", help="transcribe the whole film (the CUDA path)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--cpus", type=int, help="pin this process (and ffmpeg) to the first N cores")
    parser.add_argument("--hints", action="store_true", help="pass the track languages instead of detecting them")
    parser.add_argument("--details", action="store_true", help="list every match with its error in the report")
    parser.add_argument("--out", type=Path, default=OUT / "speech.json")
    args = parser.parse_args(argv)

    if args.cpus:
        os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[: args.cpus]))
    began = time.monotonic()
    pair = build_pair(args.case, args.direction, args.duration, args.cache, args.seed, reuse=True)
    print(f"pair: {pair.original.name} + {pair.dubbed.name} ({time.monotonic() - began:.0f} s to build or load)")
    settings = SpeechSettings.coerce({"model_dir": str(cache_dir() / "models"), "windows": args.windows,
                                      "window_seconds": args.window_seconds})

    t0, c0 = time.perf_counter(), cpu_seconds()
    transcriber = Transcriber(settings.whisper_model, settings.model_dir, args.device, settings.compute_type)
    embedder = Embedder(settings.sentence_model, args.device)
    _ = transcriber.model, embedder.model
    load = {"wall_s": round(time.perf_counter() - t0, 2), "cpu_s": round(cpu_seconds() - c0, 2)}

    orig_len = pair.meta["original"]["duration"]
    if args.full:
        o_win, d_win = full_dialogue_windows(orig_len), full_dialogue_windows(pair.meta["dubbed"]["duration"])
    else:
        o_win = sampled_windows(orig_len, args.windows, args.window_seconds)
        margin = args.no_map_margin if args.no_map else args.margin
        d_win = dub_windows(pair, o_win, margin, use_map=not args.no_map)
    langs = args.direction.split("-") if args.hints else (None, None)
    t0, c0 = time.perf_counter(), cpu_seconds()
    ev = speech_evidence(str(pair.original), str(pair.dubbed), orig_track=0, dub_track=0, orig_windows=o_win,
                         dub_windows=d_win, settings=settings, device=args.device, orig_language=langs[0],
                         dub_language=langs[1], transcriber=transcriber, embedder=embedder)
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    same, reason = ev.same_content()
    report = {
        "command": "python -m benchmarks.speech_bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "when": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": platform.machine(),
        "cores": len(os.sched_getaffinity(0)), "load_average": os.getloadavg()[0], "device": args.device,
        "case": args.case, "duration": args.duration, "mode": "full" if args.full else "sampled",
        "model_load": load, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
        "audio_s": round(ev.seconds_transcribed, 1), "realtime_factor": round(ev.seconds_transcribed / wall, 2),
        "timings": ev.timings, "languages": [ev.orig_language, ev.dub_language], "tasks": list(ev.tasks),
        "segments": [len(ev.orig_segments), len(ev.dub_segments)], "matches": ev.match_count,
        "match_ratio": round(ev.match_ratio, 3), "same_content": same, "reason": reason,
        "accuracy": accuracy(pair, ev.anchors) if pair.truth else None,
    }
    if args.details:
        report["pairs"] = [dict(p, error=_error(pair, p["dub"], p["orig"])) for p in ev.to_dict()["pairs"]]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k not in ("command", "pairs")}, indent=1))
    ok = args.full or wall <= TARGET_S
    print(f"speech, {report['mode']}: {wall:.1f} s wall, {cpu:.1f} s CPU for {ev.seconds_transcribed:.0f} s of audio "
          f"({report['realtime_factor']}x real time); target <= {TARGET_S:.0f} s -> {'ok' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
