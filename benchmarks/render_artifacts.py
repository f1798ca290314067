"""Clicks and pitch flutter where a map with many knots is rendered by the merge.

A tape dub's map is many joined segments, each at its own speed (align/drift.py). The
merge renders each segment on its own and crossfades the joins over 20 ms
(merge/render.py), so every knot is a place where a click, a dip or a pitch step could
appear. This renders steady tones (440 Hz and 2.5 kHz) captured on a wobbling tape back
onto the original's clock, through the real render path (an ffmpeg-decoded WAV, PcmReader,
render._render), and measures at the knots against everywhere else:

- steps: the largest sample-to-sample step near a knot over the largest elsewhere;
- clicks: energy above 8 kHz (the tones have none) in 2 ms windows, dB under the tones;
- dips: the tones' envelopes at knots, dB under their median;
- pitch: the tones' instantaneous frequency (10 ms smoothing), cents off the true pitch,
  beside the tape's own flutter (the dub unrendered) and a one-line map's remainder.

    python -m benchmarks.render_artifacts                # 120 s, knots every 2 s
    python -m benchmarks.render_artifacts --seconds 60 --knots 1.0
"""
from __future__ import annotations

import argparse
import io
import json
import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from scipy import signal
from scipy.io import wavfile

from syncdub_companion.align.timemap import Segment, TimeMap
from syncdub_companion.merge import pcm
from syncdub_companion.merge.render import _render
from syncdub_companion.tools.ffmpeg import FFmpeg

from .tape import Wobble, warp_truth

SR = 48000
TONES = (440.0, 2500.0)
WOBBLE = ((0.0028, 97.0, 0.4), (0.0012, 31.0, 2.2))   # the corpus case tape_wobble
NEAR_S = 0.015          # "at a knot": within the crossfade and a little more
EDGE_S = 0.5            # the file's first and last half second are left out


def tones(t: np.ndarray) -> np.ndarray:
    return sum(0.2 * np.sin(2 * np.pi * f * t) for f in TONES)


def knotted_map(wobble: Wobble, seconds: float, step: float) -> list[Segment]:
    """The map that undoes ``wobble`` on a dub of ``seconds``, a knot every ``step`` s."""
    truth, _ = warp_truth([{"dub_start": 0.0, "dub_end": seconds, "orig_start": 0.0, "orig_end": seconds}],
                          [], wobble, step)
    return [Segment(**s) for s in truth]


def render(segments: list[Segment], dub: np.ndarray, total: int, folder: Path) -> np.ndarray:
    """``dub`` (mono float) rendered onto ``total`` original samples by the merge's render."""
    wav = folder / "dub.wav"
    wavfile.write(wav, SR, dub.astype(np.float32))
    reader = pcm.PcmReader(FFmpeg("ffmpeg"), str(wav), 0, SR, 1)
    plan = SimpleNamespace(sample_rate=SR, channels=1, timemap=TimeMap("aligned", 1.0, "", 1.0, segments))
    sink = io.BytesIO()
    try:
        _render(reader, plan, sink, total, lambda f: None)
    finally:
        reader.close()
    return np.frombuffer(sink.getvalue(), np.float32)


def artifacts(y: np.ndarray, knots_s: list[float]) -> dict:
    """Step, click, dip and pitch figures of ``y`` (the tones on the original's clock)."""
    n = len(y)
    near = np.zeros(n, dtype=bool)
    for k in knots_s:
        a, b = int((k - NEAR_S) * SR), int((k + NEAR_S) * SR)
        near[max(a, 0):max(b, 0)] = True
    body = np.zeros(n, dtype=bool)
    body[int(EDGE_S * SR):n - int(EDGE_S * SR)] = True
    step = np.abs(np.diff(y, prepend=y[0]))
    hf = signal.sosfilt(signal.butter(8, 8000, "highpass", fs=SR, output="sos"), y)
    win = int(0.002 * SR)
    hf_rms = np.sqrt(np.convolve(hf ** 2, np.ones(win) / win, "same"))
    tone_rms = 0.2 / np.sqrt(2)
    out = {"knots": len(knots_s),
           "step_ratio": _ratio(step, near & body, ~near & body),
           "hf_db_at_knots": _db(hf_rms[near & body].max() / tone_rms) if (near & body).any() else None,
           "hf_db_elsewhere": _db(hf_rms[~near & body].max() / tone_rms)}
    for f in TONES:
        env, cents = _tone(y, f)
        med = np.median(env[body])
        out[f"{f:g}Hz"] = {
            "dip_db_at_knots": _db(env[near & body].min() / med) if (near & body).any() else None,
            "dip_db_elsewhere": _db(env[~near & body].min() / med),
            "cents_max_at_knots": _max(np.abs(cents), near & body),
            "cents_max_elsewhere": _max(np.abs(cents), ~near & body),
            "cents_p99": round(float(np.percentile(np.abs(cents[body]), 99)), 2)}
    return out


def _tone(y: np.ndarray, f: float) -> tuple[np.ndarray, np.ndarray]:
    """Envelope and pitch deviation (cents) of the tone at ``f``."""
    band = signal.sosfiltfilt(signal.butter(4, (f * 0.85, f * 1.15), "bandpass", fs=SR, output="sos"), y)
    analytic = signal.hilbert(band)
    phase = np.unwrap(np.angle(analytic))
    inst = np.diff(phase, prepend=phase[0]) * SR / (2 * np.pi)
    smooth = np.convolve(inst, np.ones(int(0.01 * SR)) / int(0.01 * SR), "same")
    return np.abs(analytic), 1200 * np.log2(np.maximum(smooth, 1.0) / f)


def _max(x, where):
    return round(float(x[where].max()), 2) if where.any() else None


def _ratio(x, a, b):
    return round(float(x[a].max() / max(x[b].max(), 1e-12)), 3) if a.any() else None


def _db(x: float) -> float:
    return round(float(20 * np.log10(max(x, 1e-12))), 1)


def run(seconds: float = 120.0, knot_step: float = 2.0, terms=WOBBLE) -> dict:
    wobble = Wobble(terms)
    dub_len = float(wobble.tape(seconds))
    t_dub = np.arange(int(dub_len * SR)) / SR
    dub = tones(wobble.source(t_dub))            # the tape plays source time source(t) at t
    total = int(seconds * SR)
    knotted = knotted_map(wobble, seconds, knot_step)
    line = [Segment(knotted[0].dub_start, knotted[-1].dub_end, knotted[0].orig_start, knotted[-1].orig_end)]
    with tempfile.TemporaryDirectory() as tmp:
        rendered = render(knotted, dub, total, Path(tmp))
        straight = render(line, dub, total, Path(tmp))
    knots = [s.orig_start for s in knotted[1:]]
    return {"seconds": seconds, "knot_step_s": knot_step, "wobble": terms,
            "knotted_map": artifacts(rendered, knots),
            "one_line_map": artifacts(straight, knots),
            "tape_unrendered": artifacts(dub[:total].astype(np.float32), [])}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--knots", type=float, default=2.0, help="seconds between knots")
    args = ap.parse_args(argv)
    print(json.dumps(run(args.seconds, args.knots), indent=1))


if __name__ == "__main__":
    main()
