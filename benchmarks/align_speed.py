"""Speed of ``syncdub align`` on unseen 2-hour pairs against ffmpeg decoding the same two tracks.

    python -m benchmarks.align_speed                              # random seeds 2000-2008, 2 h, 5 Mb/s picture
    python -m benchmarks.align_speed --seeds 2002,2005 --repeat 2
    python -m benchmarks.align_speed --duration 600               # a rehearsal
    python -m benchmarks.align_speed --case feature_pal --video-mbps 0   # the old pair, audio only
    python -m benchmarks.align_speed --case feature_pal --peer    # describealign on it too
    python -m benchmarks.align_speed --baseline /path/to/other/checkout   # old and new aligner side by side
    python -m benchmarks.align_speed --case pal_speedup_tempo --probe     # the probe path beside the full read

Pairs come from the randomized generator (:mod:`benchmarks.randomized`) at seeds 2000-2008,
outside its tuning (0-23), old and second validation (1000-1023 and 3000-3023, looked at
now) and blind validation (5000-5099; 5000-5023 is ``--seeds validation``) sets. Blind seeds are refused before anything is built
or run, and validation seeds are skipped: those sets are run only to report accuracy.
Also skipped, and said so: wrong-film pairs (the speed target is for alignable pairs) and
pitch-corrected tempo changes longer than the corpus renders in memory (30 min).

Each pair is built once into ``--cache``; with ``--video-mbps`` (default 5) a looped 1080p
H.264 picture is muxed under the original (and under the dub when it is a video container),
audio stream-copied (:mod:`benchmarks.videomux`), so the files weigh what releases weigh.
Those files are deleted after the pair unless ``--keep``. Then, back to back and in turns
(``--repeat``):

* the floor: ffmpeg decoding both tracks at the same time, one process each, with exactly
  the arguments align uses (``syncdub_companion.align.decode``), output read and dropped;
* ``syncdub align --json --details --speech never``: wall time, peak RSS, accuracy;
* with ``--baseline DIR``, the same command run from another checkout (its own
  ``syncdub_companion`` on ``PYTHONPATH``), so two aligners meet the same load.

While either runs, the ffmpeg processes' ``/proc/<pid>/io`` is polled (:mod:`benchmarks.procio`)
for the bytes they read from each file. Targets: align / floor <= 1.2, peak RSS <= 1.5 GiB,
and the map meeting the accuracy targets of :mod:`benchmarks.evaluate`.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from syncdub_companion.align.decode import bed_kinds, decode_argv, select_stream
from syncdub_companion.errors import ToolError
from syncdub_companion.tools import process
from syncdub_companion.tools.ffprobe import FFprobe

from .align_accuracy import OUT, run_peer, syncdub_command
from .corpus import RANDOM, Pair, Stretched, build_pair
from .evaluate import evaluate, run_measured
from .procio import IoPoller

MAX_RATIO = 1.2
MAX_RSS_MIB = 1536   # issue 14: 1.5 GiB
ALIGN_ARGS = ["--json", "--details", "--speech", "never"]
PCM_BYTES_PER_S = 8000 * 2 * 2  # what decode_argv writes: 8 kHz, two s16 channels
# The blind validation set (docs/corpus.md): never generated or run outside its one report.
BLIND_SEEDS = range(5000, 5100)


def parse_seeds(text: str) -> list[int]:
    """``2000-2008``, ``2002,2005`` or a mix of both."""
    seeds: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        seeds.extend(range(int(lo), int(hi or lo) + 1))
    return seeds


def why_skip(case: str, seed: int, duration: float) -> str | None:
    """Why a pair is left out of a speed run, or None to measure it."""
    if case != RANDOM:
        return None
    from .randomized import OLD_VALIDATION_SEEDS, SECOND_VALIDATION_SEEDS, TUNING_SEEDS, VALIDATION_SEEDS, random_spec

    if seed in VALIDATION_SEEDS:
        return "a validation seed: run only to report accuracy, not for speed"
    spec, _ = random_spec(seed)
    if spec.wrong_film:
        return "wrong-film pair (expect rejected): the speed target is for alignable pairs"
    if spec.speed and spec.speed_mode == "tempo" and duration > Stretched.MAX_SECONDS:
        return f"pitch-corrected tempo change: the corpus renders it in memory, at most {Stretched.MAX_SECONDS} s"
    if seed in TUNING_SEEDS or seed in OLD_VALIDATION_SEEDS or seed in SECOND_VALIDATION_SEEDS:
        print(f"note: seed {seed} is a tuning seed, not an unseen pair", flush=True)
    return None


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _read_per_file(poller: IoPoller, paths: list[Path]) -> list[dict[str, Any]]:
    """Bytes the decoders read from each of ``paths``, and as a share of its size."""
    totals = {os.path.realpath(k): v for k, v in poller.totals().items()}
    out = []
    for path in paths:
        seen = totals.get(os.path.realpath(path), {"rchar": 0, "read_bytes": 0, "processes": 0})
        size = path.stat().st_size
        out.append({**seen, "size": size, "rchar_share": round(seen["rchar"] / size, 4),
                    "read_bytes_share": round(seen["read_bytes"] / size, 4)})
    return out


def measure_floor(jobs: list[tuple[Path, Any, str]], timeout: float) -> dict[str, Any]:
    """ffmpeg decoding every job at once, as align does; wall time until the last one ends."""
    ends: list[float] = [0.0] * len(jobs)
    sizes: list[int] = [0] * len(jobs)
    with IoPoller() as poller, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        procs = [process.popen(decode_argv("ffmpeg", str(path), stream, kind), "ffmpeg",
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
                 for path, stream, kind in jobs]

        def drain(i: int) -> None:
            while block := procs[i].stdout.read(1 << 18):
                sizes[i] += len(block)
            # Exited but not reaped: its final counters are still there to read.
            os.waitid(os.P_PID, procs[i].pid, os.WEXITED | os.WNOWAIT)
            ends[i] = time.perf_counter() - began
            poller.record(procs[i].pid, str(jobs[i][0]))
            procs[i].wait(timeout)

        threads = [threading.Thread(target=drain, args=(i,), daemon=True) for i in range(len(procs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        err.seek(0)
        if any(p.returncode != 0 for p in procs):
            raise SystemExit(f"ffmpeg failed: {err.read().decode(errors='replace')[-500:]}")
    return {"seconds": round(max(ends), 2), "per_file_s": [round(e, 2) for e in ends],
            "decoded_s": [round(n / PCM_BYTES_PER_S, 2) for n in sizes],
            "read": _read_per_file(poller, [path for path, _, _ in jobs])}


def measure_align(command: list[str], pair: Pair, extra: list[str], timeout: float) -> dict[str, Any]:
    """``syncdub align`` on ``pair``: wall time, peak RSS, accuracy, timings and settle passes."""
    argv = command + ["align", str(pair.original), str(pair.dubbed), *ALIGN_ARGS, *extra]
    with IoPoller() as poller:
        result = run_measured(argv, timeout)
    try:
        timemap = json.loads(result.stdout) if result.returncode == 0 else {}
    except ValueError:
        timemap = {}
    if not timemap:
        timemap = {"verdict": "error", "reason": f"exit {result.returncode}: {result.stderr_tail}"[:300]}
    details = timemap.get("details") or {}
    out = {"seconds": round(result.seconds, 2), "rss_mib": round(result.rss_mib, 1),
            "timed_out": result.timed_out, "accuracy": evaluate(timemap, pair),
            "reason": timemap.get("reason", ""), "timings": details.get("timings"),
            "settle": details.get("settle"), "signal": details.get("signal"), "segments": timemap.get("segments"),
            "read": _read_per_file(poller, [pair.original, pair.dubbed]), "probe": details.get("probe"),
            "gave_way": details.get("gave_way")}
    probe = details.get("probe") or {}
    if probe.get("read_bytes"):
        # The windows' ffmpeg processes live a fraction of a second, too short for the poll;
        # the aligner counts them exactly. After a fallback the full decode's polled reads come on top.
        exact = [probe["read_bytes"]["original"], probe["read_bytes"]["dubbed"]]
        for i, entry in enumerate(out["read"]):
            entry["rchar"] = exact[i] + (entry["rchar"] if probe.get("fell_back") else 0)
    return out


def measure_pair(pair: Pair, args: argparse.Namespace, command: list[str], turn: int) -> list[dict[str, Any]]:
    """Floor and align (and the baseline's align) back to back, ``--repeat`` times, the order turning."""
    probe = FFprobe("ffprobe")
    s_orig = select_stream(probe, str(pair.original), None, "original")
    s_dub = select_stream(probe, str(pair.dubbed), None, "dubbed")
    k_orig, k_dub = bed_kinds(s_orig, s_dub)
    jobs = [(pair.original, s_orig, k_orig), (pair.dubbed, s_dub, k_dub)]
    contenders = ["floor", "align"] + (["baseline"] if args.baseline else []) + (["probe"] if args.probe else [])
    runs = []
    for r in range(args.repeat):
        k = (turn + r) % len(contenders)
        order = contenders[k:] + contenders[:k]
        run: dict[str, Any] = {"order": order}
        for what in order:
            load, at = _loadavg(), time.strftime("%H:%M:%S")
            if what == "floor":
                run[what] = measure_floor(jobs, args.timeout)
            elif what == "probe":
                run[what] = measure_align(command, pair, [*args.align_arg, "--read", "probe"], args.timeout)
            else:
                run[what] = measure_align(command if what == "align" else baseline_command(args.baseline),
                                          pair, args.align_arg, args.timeout)
            run[what].update(load=load, at=at)
        run["ratio"] = round(run["align"]["seconds"] / run["floor"]["seconds"], 3)
        line = (f"  run {r + 1}: {' then '.join(order)}: floor {run['floor']['seconds']:.1f} s "
                f"(load {run['floor']['load'][0]:.1f}), align {run['align']['seconds']:.1f} s "
                f"(load {run['align']['load'][0]:.1f}) -> ratio {run['ratio']:.2f}")
        if args.baseline:
            run["baseline_ratio"] = round(run["baseline"]["seconds"] / run["floor"]["seconds"], 3)
            line += (f"; baseline {run['baseline']['seconds']:.1f} s (load {run['baseline']['load'][0]:.1f}) "
                     f"-> {run['baseline_ratio']:.2f}, rss {run['baseline']['rss_mib']:.0f} MiB"
                     f"\n    baseline {inside(run['baseline'])}")
        if args.probe:
            run["probe_ratio"] = round(run["probe"]["seconds"] / run["floor"]["seconds"], 3)
            fell = (run["probe"]["probe"] or {}).get("fell_back")
            line += (f"; probe {run['probe']['seconds']:.1f} s (load {run['probe']['load'][0]:.1f}) "
                     f"-> {run['probe_ratio']:.2f}, {'fell back: ' + fell if fell else 'proved from windows'}"
                     f"\n    probe {inside(run['probe'])}")
        print(f"{line}\n    {inside(run['align'])}", flush=True)
        runs.append(run)
    return runs


def baseline_command(tree: Path) -> list[str]:
    """``syncdub`` with another checkout's package first on the path (this venv's interpreter;
    ``-P``: not the working directory's package, which ``-m`` would put first)."""
    return ["env", f"PYTHONPATH={tree.resolve()}", sys.executable, "-P", "-m", "syncdub_companion"]


def inside(align: dict[str, Any]) -> str:
    """Where align's time went: its laps, and the passes of the speed-settling loop."""
    laps = " ".join(f"{k} {v:.1f}" for k, v in (align["timings"] or {}).items())
    settle = ", ".join(f"{p['chunks']} chunks {p['seconds']:.1f} s"
                       + (f" ({p['local_searches']} local + {p['full_searches']} full searches)" if "local_searches" in p else "")
                       for p in align["settle"] or [])
    gave_way = f"; gave way: {', '.join(align['gave_way'])}" if align.get("gave_way") else ""
    return f"laps: {laps or '-'}; settle: {settle or '-'}{gave_way}; {align['accuracy']['verdict']}, {align['reason'][:80]}"


def warm(paths: list[Path]) -> None:
    """Read the files once so both contenders find them in the page cache."""
    for path in paths:
        with open(path, "rb") as fh:
            while fh.read(1 << 24):
                pass


def summarise(pair: Pair, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One pair's figures over its runs: medians, worst accuracy, largest reads."""
    floor = statistics.median(r["floor"]["seconds"] for r in runs)
    align = statistics.median(r["align"]["seconds"] for r in runs)
    accuracy = [r["align"]["accuracy"] for r in runs]
    baseline = {}
    if "baseline" in runs[0]:
        base_s = statistics.median(r["baseline"]["seconds"] for r in runs)
        baseline = {"baseline_s": base_s, "baseline_ratio": round(base_s / floor, 3),
                    "baseline_rss_mib": max(r["baseline"]["rss_mib"] for r in runs),
                    "baseline_passed": all(r["baseline"]["accuracy"]["passed"] for r in runs)}
    probe = {}
    if "probe" in runs[0]:
        probe_s = statistics.median(r["probe"]["seconds"] for r in runs)
        probe = {"probe_s": probe_s, "probe_ratio": round(probe_s / floor, 3),
                 "probe_rss_mib": max(r["probe"]["rss_mib"] for r in runs),
                 "probe_passed": all(r["probe"]["accuracy"]["passed"] for r in runs),
                 "probe_p95_ms": max((r["probe"]["accuracy"]["p95_ms"] or 0) for r in runs),
                 "probe_fell_back": sorted({(r["probe"]["probe"] or {}).get("fell_back") or "" for r in runs} - {""}),
                 "probe_read": [max(r["probe"]["read"][i]["rchar"] for r in runs) for i in range(2)]}
    return {**baseline, **probe, "floor_s": floor, "align_s": align, "ratio": round(align / floor, 3),
            "ratios": [r["ratio"] for r in runs], "rss_mib": max(r["align"]["rss_mib"] for r in runs),
            "passed": all(a["passed"] for a in accuracy), "failures": sorted({f for a in accuracy for f in a["failures"]}),
            "p95_ms": max((a["p95_ms"] or 0) for a in accuracy), "coverage": min((a["coverage"] or 0) for a in accuracy),
            "load": [r[w]["load"][0] for r in runs for w in r["order"]],
            "align_read": [max(r["align"]["read"][i]["rchar"] for r in runs) for i in range(2)],
            "floor_read": [max(r["floor"]["read"][i]["rchar"] for r in runs) for i in range(2)],
            "sizes": [pair.original.stat().st_size, pair.dubbed.stat().st_size]}


def describe(pair: Pair) -> str:
    """The pair in a few words: formats, speed and edits."""
    meta = pair.meta
    edits = f"{len(meta['cuts_master_s'])} cuts {len(meta['inserts_s'])} inserts"
    return f"{meta['original']['format']} / {meta['dubbed']['format']}, speed {meta['speed']:.5f}, {edits}"


HEAD = (f"{'pair':<16} {'GB o/d':>11} {'floor s':>8} {'align s':>8} {'ratio':>6} {'rss MiB':>8} {'p95 ms':>7} "
        f"{'cover':>6} {'read o/d: align':>16} {'floor':>11} {'load':>9}  result")


def _shares(read: list[int], sizes: list[int]) -> str:
    return "/".join(f"{r / size:.0%}" for r, size in zip(read, sizes))


def row(name: str, s: dict[str, Any]) -> str:
    gb = [x / 1e9 for x in s["sizes"]]
    read = f"{_shares(s['align_read'], s['sizes']):>16} {_shares(s['floor_read'], s['sizes']):>11}"
    load = f"{min(s['load']):.1f}-{max(s['load']):.1f}"
    ok = s["ratio"] <= MAX_RATIO and s["rss_mib"] <= MAX_RSS_MIB and s["passed"]
    misses = ([f"ratio {s['ratio']:.2f}"] if s["ratio"] > MAX_RATIO else []) + \
        ([f"rss {s['rss_mib']:.0f}"] if s["rss_mib"] > MAX_RSS_MIB else []) + s["failures"]
    if "probe_s" in s:
        how = "fell back: " + "; ".join(s["probe_fell_back"]) if s["probe_fell_back"] else "proved from windows"
        base_probe = (f"  (probe {s['probe_s']:.1f} s, ratio {s['probe_ratio']:.2f}, read "
                      f"{_shares(s['probe_read'], s['sizes'])}, p95 {s['probe_p95_ms']:.1f} ms, "
                      f"{'ok' if s['probe_passed'] else 'accuracy MISSED'}, {how})")
    else:
        base_probe = ""
    base = (f"  (baseline {s['baseline_s']:.1f} s, ratio {s['baseline_ratio']:.2f}, {s['baseline_rss_mib']:.0f} MiB"
            f"{'' if s['baseline_passed'] else ', accuracy MISSED'})") if "baseline_s" in s else ""
    return (f"{name:<16} {gb[0]:>5.2f}/{gb[1]:<5.2f} {s['floor_s']:>8.1f} {s['align_s']:>8.1f} {s['ratio']:>6.2f} "
            f"{s['rss_mib']:>8.0f} {s['p95_ms']:>7.1f} {s['coverage']:>6.3f} {read} {load:>9}  "
            f"{'ok' if ok else 'MISSED: ' + '; '.join(misses)}{base}{base_probe}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.align_speed", description=__doc__.split("\n")[0])
    parser.add_argument("--case", default=RANDOM, help="corpus case (default: random, edits drawn from each seed)")
    parser.add_argument("--seeds", default="2000-2008",
                        help="seeds of the random case: a range and/or a list, e.g. 2000-2008 or 2002,2005")
    parser.add_argument("--seed", type=int, default=0, help="seed of a named case")
    parser.add_argument("--duration", type=float, default=7200.0)
    parser.add_argument("--direction", default="es-en")
    parser.add_argument("--video-mbps", type=float, default=5.0,
                        help="bitrate of the dummy 1080p H.264 picture muxed in (0: the audio files as built)")
    parser.add_argument("--keep", action="store_true", help="keep the files with the picture after measuring")
    parser.add_argument("--repeat", type=int, default=1, help="floor and align runs per pair, order alternating")
    parser.add_argument("--no-warm", dest="warm", action="store_false",
                        help="do not read the files into the page cache first")
    parser.add_argument("--cache", type=Path, default=OUT / "corpus")
    parser.add_argument("--out", type=Path, default=OUT / "speed.json")
    parser.add_argument("--syncdub", help="command that runs syncdub (default: the venv's syncdub)")
    parser.add_argument("--align-arg", action="append", default=[], help="extra argument for syncdub align")
    parser.add_argument("--peer", action="store_true", help="also time describealign, once per pair")
    parser.add_argument("--probe", action="store_true",
                        help="also time this checkout with --read probe (align.read = probe), in the same turns")
    parser.add_argument("--baseline", type=Path, help="another checkout whose aligner is timed beside this one's")
    parser.add_argument("--timeout", type=float, default=3600)
    return parser.parse_args(argv)


def prepare(case: str, seed: int, args: argparse.Namespace) -> tuple[Pair, list[Path], dict[str, Any]]:
    """Build (or load) the pair and put the picture under it; what it took."""
    began = time.monotonic()
    pair = build_pair(case, args.direction, args.duration, args.cache, seed, reuse=True)
    built = time.monotonic() - began
    made: list[Path] = []
    if args.video_mbps > 0:
        from .videomux import video_clip, video_pair

        pair, made = video_pair(pair, video_clip(args.cache, args.video_mbps), args.video_mbps)
    info = {"build_or_load_s": round(built, 1), "video_s": round(time.monotonic() - began - built, 1),
            "about": pair.meta["about"], "files": [pair.original.name, pair.dubbed.name],
            "video": pair.meta.get("video")}
    print(f"{case}/{seed}: {describe(pair)}; built or loaded in {built:.0f} s, picture {info['video_s']:.0f} s; "
          f"{pair.original.stat().st_size / 1e9:.2f} + {pair.dubbed.stat().st_size / 1e9:.2f} GB", flush=True)
    return pair, made, info


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = syncdub_command(args.syncdub)
    seeds = parse_seeds(args.seeds) if args.case == RANDOM else [args.seed]
    blind = [s for s in seeds if s in BLIND_SEEDS]
    if blind:
        raise SystemExit(f"seeds {blind} are blind validation seeds ({BLIND_SEEDS.start}-{BLIND_SEEDS.stop - 1}): "
                         "not for speed runs")
    results, skipped, lines = [], [], []
    for seed in seeds:
        reason = why_skip(args.case, seed, args.duration)
        if reason:
            print(f"{args.case}/{seed}: skipped: {reason}", flush=True)
            skipped.append({"seed": seed, "reason": reason})
            continue
        pair, made, info = prepare(args.case, seed, args)
        try:
            if args.warm:
                warm([pair.original, pair.dubbed])
            runs = measure_pair(pair, args, command, turn=len(results))
            peer = run_peer(pair, args.timeout) if args.peer else None
            summary = summarise(pair, runs)
        finally:
            for path in [] if args.keep else made:
                path.unlink(missing_ok=True)
        name = f"{args.case}/{seed}" if args.case == RANDOM else args.case
        lines.append(row(name, summary))
        results.append({"case": args.case, "seed": seed, **info, "summary": summary, "runs": runs, "peer": peer})
    print()
    print("\n".join([HEAD, "-" * len(HEAD), *lines]))
    print("read: what the decoders read of each file (rchar), as a share of its size; align's is the last "
          "0.2 s poll, the floor's exact")
    for s in skipped:
        print(f"skipped {args.case}/{s['seed']}: {s['reason']}")
    ok = bool(results) and all(r["summary"]["ratio"] <= MAX_RATIO and r["summary"]["rss_mib"] <= MAX_RSS_MIB
                               and r["summary"]["passed"] for r in results)
    if results:
        worst = max(results, key=lambda r: r["summary"]["ratio"])
        print(f"worst ratio {worst['summary']['ratio']:.2f} ({worst['case']}/{worst['seed']}; target <= {MAX_RATIO}); "
              f"peak RSS {max(r['summary']['rss_mib'] for r in results):.0f} MiB (target <= {MAX_RSS_MIB}); "
              f"{sum(r['summary']['passed'] for r in results)}/{len(results)} maps meet the accuracy targets "
              f"-> {'ok' if ok else 'MISSED'}")
    write(args, argv, results, skipped)
    return 0 if ok else 1


def aligner_version(tree: Path | None = None) -> str:
    """The last commit that touched the aligner, and whether the working tree differs from it
    (at the end of the run: a shared checkout can change under a long one)."""
    root = str(tree.resolve() if tree else Path(__file__).resolve().parent.parent)
    try:
        last = process.run(["git", "-C", root, "log", "-1", "--format=%h", "--", "syncdub_companion/align"], "git")
        dirty = process.run(["git", "-C", root, "status", "--porcelain", "--", "syncdub_companion/align"], "git")
    except ToolError:  # no git, not a checkout: the figure is only a label
        return "unknown"
    return last.stdout.decode().strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")


def write(args: argparse.Namespace, argv: list[str] | None, results: list, skipped: list) -> None:
    doc = {"command": "python -m benchmarks.align_speed " + " ".join(argv if argv is not None else sys.argv[1:]),
           "when": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": platform.node(),
           "cpus": len(os.sched_getaffinity(0)), "duration": args.duration, "video_mbps": args.video_mbps,
           "aligner": aligner_version(), "baseline": str(args.baseline) if args.baseline else None,
           "baseline_aligner": aligner_version(args.baseline) if args.baseline else None, "align_args": ALIGN_ARGS + args.align_arg, "targets": {"ratio": MAX_RATIO, "rss_mib": MAX_RSS_MIB},
           "pairs": results, "skipped": skipped}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1))
    print(f"results: {args.out}")


if __name__ == "__main__":
    sys.exit(main())
