"""describealign, the published peer, run on the same pairs and scored the same way.

describealign (PyPI, GPL) is installed into its own environment, ``benchmarks/.venv-peer``,
never into the project's. It normally downloads static ffmpeg binaries through
``static_ffmpeg``; offline, :func:`setup` links the system ffmpeg and ffprobe into
static_ffmpeg's platform folder and writes the ``installed.crumb`` marker it looks for.

Its time map comes from its internals (the same calls its ``combine()`` makes, minus the
rendering): ``align()`` returns nodes (dub seconds ``x``, original seconds ``y``) of one
continuous piecewise-linear path, which is what its output plays. Each pair of consecutive
nodes becomes one segment. It decodes with ``aresample=async=1:first_pts=0``, which can
shift a file's timeline, so the shift is measured per file (:func:`decode_shift`) and taken
off, to land on the decoded timelines the truth uses. A run whose similarity falls below
20 %, where describealign itself warns "likely mismatched files", counts as a rejection.

    python -m benchmarks.peer --setup                 # once
    python -m benchmarks.peer ORIGINAL DUBBED          # its time map as JSON

This module imports only the standard library at the top: the peer side (``--run``) runs
under the peer environment's Python, which has neither the project nor its dependencies.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import redirect_stdout
from datetime import datetime
from pathlib import Path

PEER_VENV = Path(__file__).resolve().parent / ".venv-peer"
PEER_PACKAGE = "describealign==2.1.1"
# Its declared dependencies minus wxPython, which only serves its GUI and builds for an hour.
PEER_DEPS = ["ffmpeg-python~=0.2.0", "static-ffmpeg~=3.0", "matplotlib~=3.9", "numpy>=1.21,<3.0",
             "scipy~=1.10", "platformdirs~=4.2", "natsort~=8.4.0", "sortedcontainers~=2.4.0"]
SIMILARITY_FLOOR = 20.0        # below this describealign itself warns "likely mismatched files"


def peer_python() -> Path:
    return PEER_VENV / "bin" / "python"


def setup(force: bool = False) -> Path:
    """Create the peer environment (if missing) and link the system ffmpeg into it."""
    if force or not peer_python().is_file():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(PEER_VENV)], check=True)
        pip = [str(peer_python()), "-m", "pip", "install", "-q"]
        subprocess.run(pip + ["--no-deps", PEER_PACKAGE], check=True)
        subprocess.run(pip + PEER_DEPS, check=True)
    link_ffmpeg()
    return peer_python()


def link_ffmpeg() -> Path:
    """Point static_ffmpeg at /usr/bin/ffmpeg and ffprobe, so nothing is downloaded."""
    code = "import static_ffmpeg.run as r; print(r.get_platform_dir())"
    folder = Path(subprocess.run([str(peer_python()), "-c", code], check=True, capture_output=True,
                                 text=True).stdout.strip())
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("ffmpeg", "ffprobe"):
        target = shutil.which(name)
        if target is None:
            raise FileNotFoundError(f"{name} not found on PATH")
        link = folder / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)
    # describealign parses the version out of the crumb (it wants >= 6) after "ffmpeg_bins/raw/main/v".
    (folder / "installed.crumb").write_text(
        f"installed from system ffmpeg by symlink, standing in for ffmpeg_bins/raw/main/v8.0/linux.zip "
        f"on {datetime.now()}\n")
    return folder


def nodes_to_segments(x: list[float], y: list[float], dub_shift: float = 0.0,
                      orig_shift: float = 0.0) -> list[dict[str, float]]:
    """Consecutive path nodes as segments, moved onto the decoded timelines."""
    out = []
    for i in range(len(x) - 1):
        if x[i + 1] - x[i] > 1e-6:
            out.append({"dub_start": x[i] - dub_shift, "dub_end": x[i + 1] - dub_shift,
                        "orig_start": y[i] - orig_shift, "orig_end": y[i + 1] - orig_shift})
    return out


def decode_shift(path: Path, seconds: float = 90.0, search: float = 5.0) -> float:
    """Seconds by which describealign's decode of ``path`` lags a plain ffmpeg decode.

    Measured, not read from ffprobe's start_time: for an M2TS starting at 1.4 s the padding
    filter adds nothing, and for Opus in MKA (start -7 ms) it adds 7 ms.
    """
    import numpy as np
    from scipy import signal

    def pcm(extra: list[str]) -> np.ndarray:
        argv = ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0", *extra, "-ac", "1",
                "-ar", "16000", "-t", str(seconds), "-f", "f32le", "-"]
        return np.frombuffer(subprocess.run(argv, check=True, capture_output=True).stdout, "<f4")

    plain, padded = pcm([]), pcm(["-af", "aresample=async=1:first_pts=0"])
    rate, span, margin = 16000, 20 * 16000, int(search * 16000)
    energy = [float(np.sum(plain[i:i + span] ** 2)) for i in range(margin, max(margin + 1, len(plain) - span), rate)]
    w0 = margin + rate * int(np.argmax(energy))
    corr = signal.correlate(padded[w0 - margin:w0 + span + margin], plain[w0:w0 + span], "valid", method="fft")
    return (int(np.argmax(corr)) - margin) / rate


def to_timemap(raw: dict, original: Path, dubbed: Path) -> dict:
    """The ``--json``-shaped time map of one peer run (see :func:`_peer_align`)."""
    if raw.get("error"):
        return {"verdict": "rejected", "confidence": 0.0, "reason": raw["error"], "speed": 1.0, "segments": []}
    similarity = raw["similarity_percent"]
    if similarity < SIMILARITY_FLOOR:
        return {"verdict": "rejected", "confidence": similarity / 100, "speed": raw["median_slope"],
                "reason": f"similarity {similarity:.1f}% (describealign: likely mismatched)", "segments": []}
    segments = nodes_to_segments(raw["x"], raw["y"], decode_shift(dubbed), decode_shift(original))
    return {"verdict": "aligned", "confidence": similarity / 100, "reason": "describealign path",
            "speed": raw["median_slope"], "segments": segments}


def _peer_align(original: str, dubbed: str) -> dict:
    """Runs inside the peer environment: describealign's own decode, features and align()."""
    import describealign as da

    def features(path: str):
        arr = da.parse_audio_from_file(path, 1)
        energy = da.get_energy(arr)
        return [energy, da.get_zero_crossings(arr)] + da.get_freq_bands(arr), energy

    began = time.perf_counter()
    with redirect_stdout(io.StringIO()):
        video_features, video_energy = features(original)
        audio_features, audio_energy = features(dubbed)
        try:
            x, y, similarity, _path, slope = da.align(video_features, audio_features, video_energy, audio_energy)
        except RuntimeError as exc:
            return {"error": str(exc), "seconds": time.perf_counter() - began}
    return {"x": [float(v) for v in x], "y": [float(v) for v in y], "similarity_percent": float(similarity),
            "median_slope": float(slope), "seconds": time.perf_counter() - began}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peer", description=__doc__.split("\n")[0])
    parser.add_argument("original", nargs="?")
    parser.add_argument("dubbed", nargs="?")
    parser.add_argument("--setup", action="store_true", help="create benchmarks/.venv-peer and link ffmpeg")
    parser.add_argument("--run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.setup:
        print(f"peer ready: {setup()}")
        return 0
    if not (args.original and args.dubbed):
        parser.error("give ORIGINAL and DUBBED, or --setup")
    if args.run:                                   # inside the peer environment
        print(json.dumps(_peer_align(args.original, args.dubbed)))
        return 0
    raw = subprocess.run([str(peer_python()), os.path.abspath(__file__), "--run", args.original, args.dubbed],
                         check=True, capture_output=True, text=True).stdout
    print(json.dumps(to_timemap(json.loads(raw), Path(args.original), Path(args.dubbed)), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
