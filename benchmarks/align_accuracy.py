"""Accuracy of ``syncdub align`` on every corpus case, both directions, 7-10 minute pairs.

    python -m benchmarks.align_accuracy                  # 13 cases x 2 directions
    python -m benchmarks.align_accuracy --quick          # 5 cases, es-en, 150 s pairs
    python -m benchmarks.align_accuracy --peer           # describealign beside ours
    python -m benchmarks.align_accuracy --cases combo,quiet_bed --directions en-es
    python -m benchmarks.align_accuracy --cases random --seeds tuning     # seeds 0-23, drawn edits
    python -m benchmarks.align_accuracy --cases random --seeds validation # seeds 5048-5071: report only
    python -m benchmarks.align_accuracy --cases random --seeds old-validation  # 1000-1023, looked at
    python -m benchmarks.align_accuracy --cases random --seeds second-validation  # 3000-3023, looked at
    python -m benchmarks.align_accuracy --cases random --seeds third-validation   # 5000-5023, looked at

Pairs are built once into ``--cache`` (benchmarks/out/corpus) and reused. Each aligner runs
as a subprocess, timed with its peak RSS (children included); results go to ``--out`` as
JSON and to stdout as a table. Exit status 1 when any of our rows misses a target.
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import time
import zlib
from pathlib import Path
from typing import Any

from .corpus import CASES, DIRECTIONS, RANDOM, Pair, build_pair
from .evaluate import evaluate, run_measured, table

OUT = Path(__file__).resolve().parent / "out"
QUICK_CASES = ["offset_pos", "pal_speedup_tempo", "combo", "quiet_bed", "wrong_film"]


def default_duration(case: str, seed: int = 0) -> float:
    """7-10 minutes, a different length per case so no length is special; the random case's
    length comes from its seed."""
    if case == RANDOM:
        from .randomized import random_spec
        return random_spec(seed)[1]
    return float(420 + zlib.crc32(case.encode()) % 181)


def syncdub_command(explicit: str | None) -> list[str]:
    """``syncdub`` beside the running Python (the project venv), else on PATH."""
    if explicit:
        return explicit.split()
    beside = Path(sys.executable).parent / "syncdub"
    found = str(beside) if beside.is_file() else shutil.which("syncdub")
    if found is None:
        raise SystemExit("syncdub not found: run from the project venv or pass --syncdub")
    return [found]


def run_aligner(argv: list[str], pair: Pair, timeout: float, parse=json.loads) -> dict[str, Any]:
    """Run one aligner on ``pair`` and score it; errors become a failed row, not a crash."""
    result = run_measured(argv, timeout)
    try:
        if result.returncode != 0:
            raise ValueError(f"exit {result.returncode}: {result.stderr_tail}")
        timemap = parse(result.stdout)
    except (ValueError, KeyError) as exc:
        timemap = {"verdict": "error", "reason": str(exc)[:300], "segments": []}
    row = evaluate(timemap, pair)
    row.update(seconds=round(result.seconds, 2), rss_mib=round(result.rss_mib, 1),
               reason=timemap.get("reason", ""), timed_out=result.timed_out)
    probe = timemap.get("details", {}).get("probe")
    if probe is not None:   # align.read = probe: what the windows did (fell_back: why not)
        row["probe"] = probe
    return row


def run_ours(command: list[str], pair: Pair, extra: list[str], timeout: float) -> dict[str, Any]:
    argv = command + ["align", str(pair.original), str(pair.dubbed), "--json", "--details", *extra]
    return run_aligner(argv, pair, timeout)


def run_peer(pair: Pair, timeout: float) -> dict[str, Any]:
    """describealign on the same pair (see :mod:`benchmarks.peer`)."""
    from . import peer

    argv = [str(peer.peer_python()), str(Path(peer.__file__)), "--run", str(pair.original), str(pair.dubbed)]
    return run_aligner(argv, pair, timeout,
                       parse=lambda out: peer.to_timemap(json.loads(out), pair.original, pair.dubbed))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.align_accuracy", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK_CASES)}; es-en; 150 s")
    parser.add_argument("--peer", action="store_true", help="also run describealign (python -m benchmarks.peer --setup)")
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    parser.add_argument("--directions", help="comma-separated: es-en,en-es (default: both)")
    parser.add_argument("--duration", type=float, help="seconds per pair (default: 420-600 by case)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", help="several seeds: 'tuning', 'validation', 'old-validation', 'second-validation', 'third-validation', 'fourth-validation', or ranges and seeds such as 0-9,12 "
                                         "(the random case draws each pair's edits from its seed)")
    parser.add_argument("--cache", type=Path, default=OUT / "corpus", help="where pairs are built and reused")
    parser.add_argument("--out", type=Path, default=OUT / "accuracy.json")
    parser.add_argument("--syncdub", help="command that runs syncdub (default: the venv's syncdub)")
    parser.add_argument("--align-arg", action="append", default=[], help="extra argument for syncdub align")
    parser.add_argument("--timeout", type=float, default=1800)
    return parser.parse_args(argv)


def plan(args: argparse.Namespace) -> list[tuple[str, str, float, int]]:
    cases = args.cases.split(",") if args.cases else QUICK_CASES if args.quick else list(CASES)
    directions = args.directions.split(",") if args.directions else ["es-en"] if args.quick else list(DIRECTIONS)
    for name in cases:
        if name not in CASES and name != RANDOM:
            raise SystemExit(f"unknown case {name!r}; known: {', '.join(CASES)}, {RANDOM}")
    duration = args.duration or (150.0 if args.quick else None)
    return [(c, d, duration or default_duration(c, seed), seed)
            for seed in seeds(args) for c in cases for d in directions]


def seeds(args: argparse.Namespace) -> list[int]:
    from .randomized import (FOURTH_VALIDATION_SEEDS, OLD_VALIDATION_SEEDS, SECOND_VALIDATION_SEEDS,
                             THIRD_VALIDATION_SEEDS, TUNING_SEEDS, VALIDATION_SEEDS)

    if not args.seeds:
        return [args.seed]
    named = {"tuning": TUNING_SEEDS, "validation": VALIDATION_SEEDS, "old-validation": OLD_VALIDATION_SEEDS,
             "second-validation": SECOND_VALIDATION_SEEDS, "third-validation": THIRD_VALIDATION_SEEDS,
             "fourth-validation": FOURTH_VALIDATION_SEEDS}
    if args.seeds in named:
        return list(named[args.seeds])
    picked = []
    for part in args.seeds.split(","):
        lo, _, hi = part.partition("-")
        picked.extend(range(int(lo), int(hi or lo) + 1))
    return picked


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = syncdub_command(args.syncdub)
    ours, peers = [], []
    for case, direction, duration, seed in plan(args):
        began = time.monotonic()
        pair = build_pair(case, direction, duration, args.cache, seed, reuse=True)
        built = time.monotonic() - began
        ours.append(run_ours(command, pair, args.align_arg, args.timeout))
        ours[-1]["seed"] = seed
        line = f"{case:<20} {seed:>4} {direction}  {duration:5.0f} s  built {built:5.1f} s  ours {ours[-1]['seconds']:6.1f} s " \
               f"{'ok' if ours[-1]['passed'] else 'FAIL'}"
        if args.peer:
            peers.append(run_peer(pair, args.timeout))
            line += f"  peer {peers[-1]['seconds']:6.1f} s {'ok' if peers[-1]['passed'] else 'FAIL'}"
        print(line, flush=True)
    print()
    print(table(ours, "syncdub align"))
    if peers:
        print()
        print(table(peers, "describealign 2.1.1"))
    print()
    print(summary(ours, peers))
    write_results(args, argv, ours, peers)
    return 0 if all(r["passed"] for r in ours) else 1


def summary(ours: list[dict], peers: list[dict]) -> str:
    def one(name: str, rows: list[dict]) -> str:
        passed = sum(r["passed"] for r in rows)
        total = sum(r["seconds"] for r in rows)
        rss = max((r["rss_mib"] for r in rows), default=0)
        return f"{name}: {passed}/{len(rows)} pairs meet every target; total {total:.1f} s; peak RSS {rss:.0f} MiB"

    lines = [one("syncdub align", ours)] + ([one("describealign", peers)] if peers else [])
    probed = [r for r in ours if "probe" in r]
    if probed:
        proved = [r for r in probed if not r["probe"].get("fell_back")]
        lines.append(f"probe path: {len(proved)}/{len(probed)} maps proved from windows "
                     f"({sum(r['passed'] for r in proved)} of them meet every target); the rest decoded in full")
    return "\n".join(lines)


def write_results(args: argparse.Namespace, argv: list[str] | None, ours: list[dict], peers: list[dict]) -> None:
    args.out.parent.mkdir(parents=True, exist_ok=True)
    doc = {"command": "python -m benchmarks.align_accuracy " + " ".join(argv if argv is not None else sys.argv[1:]),
           "when": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": platform.node(),
           "cpus": _cpus(), "ours": ours, "peer": peers}
    args.out.write_text(json.dumps(doc, indent=1))
    print(f"results: {args.out}")


def _cpus() -> int:
    import os
    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main())
