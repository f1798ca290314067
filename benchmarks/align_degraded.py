"""Accuracy when the dub's mix is degraded: EQ, compression, low-pass, low-bitrate codecs.

The corpus dub shares the original's bed sample for sample before encoding; real dubs
come from other masters and cheap encodes. Each variant re-encodes a corpus dub through
ffmpeg filters, measures how far the re-encode moved the decoded timeline (waveform
cross-correlation against the clean dub, not the aligner), shifts the truth by that, and
scores ``syncdub align`` as align_accuracy does::

    python -m benchmarks.align_degraded [--cases combo,quiet_bed] [--duration 60]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from scipy.signal import correlate

from .corpus import build_pair
from .evaluate import evaluate

OUT = Path(__file__).resolve().parent / "out"
VARIANTS = {
    "eq_comp_mp3_96k": (["equalizer=f=200:t=q:w=1:g=6", "equalizer=f=3000:t=q:w=1:g=-6",
                         "acompressor=threshold=-20dB:ratio=4:attack=5:release=100"],
                        ["-c:a", "libmp3lame", "-b:a", "96k"], "mp3"),
    "lowpass3k_aac_64k": (["lowpass=f=3000", "volume=-8dB"], ["-c:a", "aac", "-b:a", "64k"], "m4a"),
    "loudnorm_opus_48k": (["loudnorm=I=-23"], ["-c:a", "libopus", "-b:a", "48k"], "opus"),
}


def degrade(src: Path, variant: str, out_dir: Path) -> Path:
    filters, codec, ext = VARIANTS[variant]
    out = out_dir / f"{src.stem}.{variant}.{ext}"
    if not out.is_file():
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(src), "-map", "0:a:0",
                        "-af", ",".join(filters), *codec, str(out)], check=True)
    return out


def _mono(path: Path, seconds: float = 30.0) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-t", str(seconds),
                          "-ac", "1", "-ar", "8000", "-af", "lowpass=f=2500", "-f", "f32le", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype="<f4")


def timeline_shift(clean: Path, degraded: Path) -> float:
    """Seconds by which the degraded file's decoded timeline runs behind the clean one's."""
    a, b = _mono(clean), _mono(degraded)
    n = min(len(a), len(b))
    cross = correlate(b[:n], a[:n], mode="full", method="fft")
    k = int(np.argmax(cross))
    frac = 0.0
    if 0 < k < len(cross) - 1:
        y0, y1, y2 = cross[k - 1], cross[k], cross[k + 1]
        frac = 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2) if (y0 - 2 * y1 + y2) < 0 else 0.0
    return float((k + frac - (n - 1)) / 8000.0)


def run_case(case: str, direction: str, duration: float, variant: str, work: Path) -> dict:
    pair = build_pair(case, direction, duration, work, reuse=True)
    dub = degrade(pair.dubbed, variant, work)
    shift = timeline_shift(pair.dubbed, dub)
    began = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "syncdub_companion", "align", str(pair.original), str(dub),
                           "--json", "--speech", "never"], capture_output=True, text=True)
    seconds = time.monotonic() - began
    doc = json.loads(proc.stdout) if proc.returncode == 0 else {"verdict": "error"}
    for seg in doc.get("segments", []):
        seg["dub_start"] -= shift
        seg["dub_end"] -= shift
    metrics = evaluate(doc, pair)
    metrics.update(variant=variant, shift_ms=round(shift * 1000, 2), seconds=round(seconds, 1))
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="combo,surround_vs_stereo,quiet_bed,missing_scenes")
    parser.add_argument("--directions", default="es-en,en-es")
    parser.add_argument("--duration", type=float, default=60.0)
    args = parser.parse_args(argv)
    work = OUT / "corpus"
    rows = [run_case(c, d, args.duration, v, work) for c in args.cases.split(",")
            for d in args.directions.split(",") for v in VARIANTS]
    print(f"{'case':<20} {'dir':<6} {'variant':<20} {'shift':>7} {'median':>7} {'p95':>7} {'cover':>6} {'dubonly':>7}  result")
    for r in rows:
        print(f"{r['case']:<20} {r['direction']:<6} {r['variant']:<20} {r['shift_ms']:>7} {r['median_ms'] or '-':>7} "
              f"{r['p95_ms'] or '-':>7} {r['coverage'] or 0:>6.3f} {r['dub_only_mapped_s']:>7}  "
              f"{'ok' if r['passed'] else 'FAIL: ' + '; '.join(r['failures'])}")
    passed = sum(r["passed"] for r in rows)
    print(f"{passed}/{len(rows)} degraded pairs meet every target")
    (OUT / "degraded.json").write_text(json.dumps(rows, indent=1, default=float))
    return 0 if passed == len(rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
