"""Score a time map against a corpus pair's truth.

The dub's decoded timeline is sampled every 10 ms. Where the truth maps a point, the error is
the distance between the predicted and the true original time (or the point is uncovered
when the prediction maps it nowhere). Dub-only content (logos, extra scenes), shrunk by one
film frame at each edge, must not be mapped at all::

    metrics = evaluate(json.loads(stdout), pair)
    metrics["passed"], metrics["failures"]
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from syncdub_companion.tools import process

from .corpus import Pair

STEP = 0.01
EDGE = 0.04                    # one film frame of slack at each dub-only edge
TARGETS = {"median_ms": 5.0, "p95_ms": 40.0, "coverage": 0.98, "dub_only_mapped_s": 0.05, "misplaced": 0.02}


def map_times(segments: Iterable[dict[str, float]], t: np.ndarray) -> np.ndarray:
    """Original times of dub times ``t`` under ``segments``; NaN where none maps them."""
    out = np.full(len(t), np.nan)
    for seg in segments:
        ds, de = float(seg["dub_start"]), float(seg["dub_end"])
        if not de > ds:
            continue
        rate = (float(seg["orig_end"]) - float(seg["orig_start"])) / (de - ds)
        hit = (t >= ds) & (t < de) & np.isnan(out)
        out[hit] = float(seg["orig_start"]) + (t[hit] - ds) * rate
    return out


def evaluate(timemap: dict[str, Any], pair: Pair) -> dict[str, Any]:
    """Accuracy, coverage, dub-only leakage and verdict of ``timemap`` (the ``--json`` document)."""
    t = np.arange(0.0, float(pair.meta["dubbed"]["duration"]), STEP)
    verdict = timemap.get("verdict", "missing")
    segments = timemap.get("segments") or [] if verdict == "aligned" else []
    truth, pred = map_times(pair.truth, t), map_times(segments, t)
    in_truth = ~np.isnan(truth)
    covered = in_truth & ~np.isnan(pred)
    errors = np.abs(pred[covered] - truth[covered]) * 1000
    only = np.zeros(len(t), dtype=bool)
    for a, b in pair.dub_only:
        only |= (t >= a + EDGE) & (t < b - EDGE)
    metrics = {
        "case": pair.case, "seed": pair.meta.get("seed"), "direction": pair.direction, "expect": pair.expect, "verdict": verdict,
        "confidence": timemap.get("confidence"), "segments": len(segments),
        "median_ms": _round(np.median(errors)) if len(errors) else None,
        "p95_ms": _round(np.percentile(errors, 95)) if len(errors) else None,
        "max_ms": _round(errors.max()) if len(errors) else None,
        "within_40ms": _round(float((errors <= 40).mean())) if len(errors) else None,
        # The film mapped more than a frame off: the p95 lets 5 % through, a false map of a
        # scene onto another (a reused cue, a look-alike stretch) is a few % of a film.
        "misplaced": _round(float((errors > 40).mean())) if len(errors) else None,
        "coverage": _round(covered.sum() / in_truth.sum()) if in_truth.any() else None,
        "dub_only_mapped_s": _round((only & ~np.isnan(pred)).sum() * STEP),
    }
    metrics["failures"] = failures(metrics)
    metrics["passed"] = not metrics["failures"]
    return metrics


def failures(m: dict[str, Any]) -> list[str]:
    """Which targets ``m`` misses, in words (empty when it meets them all)."""
    # A map held for review is never merged: as safe as a rejection for a wrong pair, and
    # as useless as one for a true pair.
    if m["verdict"] != m["expect"] and not (m["verdict"] == "review" and m["expect"] == "rejected"):
        return [f"verdict {m['verdict']} (expected {m['expect']})"]
    out = []
    if m["dub_only_mapped_s"] > TARGETS["dub_only_mapped_s"]:
        out.append(f"dub-only mapped {m['dub_only_mapped_s']} s")
    if m["expect"] == "rejected":
        return out
    if m["median_ms"] is None or m["median_ms"] > TARGETS["median_ms"]:
        out.append(f"median {m['median_ms']} ms")
    if m["p95_ms"] is None or m["p95_ms"] > TARGETS["p95_ms"]:
        out.append(f"p95 {m['p95_ms']} ms")
    if (m.get("misplaced") or 0) > TARGETS["misplaced"]:
        out.append(f"misplaced {100 * m['misplaced']:.1f} %")
    if (m["coverage"] or 0) < TARGETS["coverage"]:
        out.append(f"coverage {m['coverage']}")
    return out


def _round(x: float) -> float:
    return round(float(x), 4)


def table(rows: list[dict[str, Any]], label: str = "") -> str:
    """A fixed-width table of results (one row per pair)."""
    head = f"{'case':<20} {'dir':<6} {'verdict':<9} {'median':>7} {'p95':>7} {'cover':>6} {'dubonly':>7} {'time':>7} {'rss':>6}  result"
    lines = [label, head, "-" * len(head)] if label else [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{_name(r):<20} {r['direction']:<6} {r['verdict']:<9} {_fmt(r['median_ms'])} {_fmt(r['p95_ms'])} "
            f"{_fmt(r['coverage'], 6, 3)} {_fmt(r['dub_only_mapped_s'], 7, 2)} {_fmt(r.get('seconds'), 7, 1)} "
            f"{_fmt(r.get('rss_mib'), 6, 0)}  {'ok' if r['passed'] else 'FAIL: ' + '; '.join(r['failures'])}")
    return "\n".join(lines)


def _name(row: dict[str, Any]) -> str:
    return f"{row['case']}/{row['seed']}" if row["case"] == "random" else row["case"]


def _fmt(x: float | None, width: int = 7, digits: int = 1) -> str:
    return f"{'-':>{width}}" if x is None else f"{x:>{width}.{digits}f}"


@dataclass
class Measured:
    """One finished subprocess: its output, wall time and the peak RSS of its process tree."""

    returncode: int
    stdout: str
    stderr_tail: str
    seconds: float
    rss_mib: float
    timed_out: bool = False


# A forked child inherits its parent's RSS high-water mark, and exec keeps it, so a child of
# this (large) process would report our RSS. A tiny launcher forks the command instead and
# reports wait4's figure: the largest RSS among the command and the children it waited for.
_LAUNCHER = """
import json, os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as fh:
    json.dump([os.waitstatus_to_exitcode(status), usage.ru_maxrss], fh)
"""


def run_measured(argv: Sequence[str], timeout: float | None = None) -> Measured:
    """Run ``argv`` with its wall time and peak RSS; killed (whole group) after ``timeout``."""
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        report = os.path.join(tmp, "rusage.json")
        began = time.perf_counter()
        proc = process.popen([sys.executable, "-S", "-c", _LAUNCHER, report, *argv], str(argv[0]),
                             stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
        try:
            proc.wait(timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            timed_out = True
        seconds = time.perf_counter() - began
        code, rss_kib = json.load(open(report)) if os.path.exists(report) else (-9, 0)
        out.seek(0)
        err.seek(0)
        tail = err.read().decode("utf-8", "replace").strip().splitlines()[-3:]
        return Measured(code, out.read().decode("utf-8", "replace"), " | ".join(tail),
                        seconds, rss_kib / 1024, timed_out)
