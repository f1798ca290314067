"""Speed of ``syncdub align`` on a 2-hour pair against ffmpeg alone decoding both tracks.

    python -m benchmarks.align_speed                 # the 2-hour pair (built once, ~10 min)
    python -m benchmarks.align_speed --peer          # describealign on the same pair too
    python -m benchmarks.align_speed --duration 600  # a shorter rehearsal

The pair is case ``feature_pal``: a 5.1 AC3 original against a stereo AC3 dub with a PAL
speed-up. In one run it measures ffmpeg decoding each file's first audio track to 16 kHz
mono (one after the other, output discarded), then ``syncdub align --json`` with its wall
time and peak RSS, and prints the ratio. Targets: ratio <= 1.5, peak RSS <= 2 GiB.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .align_accuracy import OUT, run_ours, run_peer, syncdub_command
from .corpus import build_pair
from .evaluate import run_measured, table

MAX_RATIO = 1.5
MAX_RSS_MIB = 2048


def decode_argv(path: Path) -> list[str]:
    """ffmpeg alone: the first audio track to 16 kHz mono PCM on a pipe we throw away."""
    return ["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:a:0", "-ac", "1",
            "-ar", "16000", "-f", "s16le", "pipe:1"]


def warm(paths: list[Path]) -> None:
    """Read the files once so both contenders find them in the page cache."""
    for path in paths:
        with open(path, "rb") as fh:
            while fh.read(1 << 24):
                pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.align_speed", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=7200.0)
    parser.add_argument("--direction", default="es-en")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=OUT / "corpus")
    parser.add_argument("--out", type=Path, default=OUT / "speed.json")
    parser.add_argument("--syncdub", help="command that runs syncdub (default: the venv's syncdub)")
    parser.add_argument("--align-arg", action="append", default=[], help="extra argument for syncdub align")
    parser.add_argument("--peer", action="store_true", help="also time describealign")
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args(argv)

    began = time.monotonic()
    pair = build_pair("feature_pal", args.direction, args.duration, args.cache, args.seed, reuse=True)
    print(f"pair: {pair.original.name} + {pair.dubbed.name} ({time.monotonic() - began:.0f} s to build or load)")
    warm([pair.original, pair.dubbed])
    decodes = [run_measured(decode_argv(p), args.timeout) for p in (pair.original, pair.dubbed)]
    if any(d.returncode != 0 for d in decodes):
        raise SystemExit(f"ffmpeg failed: {[d.stderr_tail for d in decodes]}")
    baseline = sum(d.seconds for d in decodes)
    ours = run_ours(syncdub_command(args.syncdub), pair, args.align_arg, args.timeout)
    rows = [ours] + ([run_peer(pair, args.timeout)] if args.peer else [])
    report = {
        "command": "python -m benchmarks.align_speed " + " ".join(argv if argv is not None else sys.argv[1:]),
        "when": time.strftime("%Y-%m-%d %H:%M:%S"), "duration": args.duration,
        "ffmpeg_decode_s": [round(d.seconds, 2) for d in decodes], "ffmpeg_total_s": round(baseline, 2),
        "ours": ours, "ratio": round(ours["seconds"] / baseline, 3),
        "peer": rows[1] if args.peer else None,
        "peer_ratio": round(rows[1]["seconds"] / baseline, 3) if args.peer else None,
    }
    print(f"ffmpeg decode to 16 kHz mono: {decodes[0].seconds:.1f} s + {decodes[1].seconds:.1f} s = {baseline:.1f} s")
    print(table([ours], "syncdub align"))
    if args.peer:
        print(table(rows[1:], "describealign 2.1.1"))
    ok = report["ratio"] <= MAX_RATIO and ours["rss_mib"] <= MAX_RSS_MIB
    print(f"syncdub align: {ours['seconds']:.1f} s = {report['ratio']:.2f} x ffmpeg (target <= {MAX_RATIO}); "
          f"peak RSS {ours['rss_mib']:.0f} MiB (target <= {MAX_RSS_MIB}) -> {'ok' if ok else 'MISSED'}")
    if args.peer:
        print(f"describealign: {rows[1]['seconds']:.1f} s = {report['peer_ratio']:.2f} x ffmpeg; "
              f"peak RSS {rows[1]['rss_mib']:.0f} MiB")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(f"results: {args.out}")
    return 0 if ok and ours["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
