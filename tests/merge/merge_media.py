"""Generated media for the merge tests: short MKVs with every kind of stream worth preserving.

The original and the dub share a "bed" (clicks, noise bursts and tones from a fixed seed)
and differ in their "speech" (band-limited noise phrases), like music-and-effects under
two languages. Truth time maps are built here by hand, so no test depends on the aligner.
"""
from __future__ import annotations

import json
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy.signal import butter, resample_poly, sosfilt

from syncdub_companion.testing import noise_bursts

if TYPE_CHECKING:
    from syncdub_companion.align.timemap import TimeMap

SR = 48000


def bed(seconds: float, seed: int = 1) -> np.ndarray:
    """A signal with sharp, unambiguous features every few hundred ms."""
    rng = np.random.default_rng(seed)
    x = noise_bursts(rng, seconds, SR)
    n = len(x)
    t = np.arange(n) / SR
    for start in rng.uniform(0, max(seconds - 1, 0.0), int(seconds / 3)):
        f, dur = rng.uniform(200, 2000), rng.uniform(0.2, 0.8)
        mask = (t >= start) & (t < start + dur)
        x[mask] += 0.2 * np.sin(2 * np.pi * f * t[mask]).astype(np.float32)
    return x


def speech(seconds: float, seed: int) -> np.ndarray:
    """'Dialogue': phrases of 300-3000 Hz noise, different per language (seed)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    noise = sosfilt(butter(4, [300, 3000], "bandpass", fs=SR, output="sos"), rng.standard_normal(n))
    gate = np.zeros(n, np.float32)
    pos = 0
    while pos < n:
        length = int(rng.uniform(0.5, 2.0) * SR)
        gate[pos:pos + length] = 1.0
        pos += length + int(rng.uniform(0.5, 2.0) * SR)
    return (noise * gate * 0.08).astype(np.float32)


def write_wav(path: Path, x: np.ndarray, channels: int = 2) -> Path:
    pcm = np.clip(x, -1, 1)
    data = (np.repeat(pcm[:, None], channels, axis=1) * 32000).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(data.tobytes())
    return path


def run(*argv) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in argv], capture_output=True)
    if proc.returncode not in (0, 1) or (argv[0] == "ffmpeg" and proc.returncode):
        raise RuntimeError(f"{argv[0]} failed: {proc.stderr.decode()[-800:]} {proc.stdout.decode()[-800:]}")
    return proc


def decode(path: Path, stream: int, player_view: bool = True) -> np.ndarray:
    """Mono float samples of one stream; ``player_view`` puts sample k at time k/SR of the file."""
    af = ["-af", "aresample=async=1:first_pts=0"] if player_view else []
    out = run("ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", f"0:{stream}", *af,
              "-ac", "1", "-ar", SR, "-f", "f32le", "pipe:1").stdout
    return np.frombuffer(out, np.float32)


def lag_of(got: np.ndarray, ref: np.ndarray, max_lag: int) -> int:
    """Samples by which ``ref``'s content appears later in ``got`` (|lag| <= max_lag)."""
    n = len(got) + len(ref)
    corr = np.fft.irfft(np.fft.rfft(got, n) * np.conj(np.fft.rfft(ref, n)), n)
    lags = np.r_[np.arange(0, max_lag + 1), np.arange(-max_lag, 0)]
    values = np.r_[corr[: max_lag + 1], corr[n - max_lag:]]
    return int(lags[np.argmax(values)])


def windowed_lags(a: np.ndarray, b: np.ndarray, window: float = 1.0, hop: float = 1.0,
                  max_lag: float = 0.25, skip_quiet: bool = True) -> list[float]:
    """Lag of b against a (seconds) per window along the shorter of the two."""
    w, h, m = int(window * SR), int(hop * SR), int(max_lag * SR)
    out = []
    for start in range(m, min(len(a), len(b)) - w - m, h):
        ref = a[start:start + w]
        seg = b[start - m:start + w + m]
        if skip_quiet and (np.abs(ref).max() < 0.05 or np.abs(seg).max() < 0.05):
            continue
        out.append((lag_of(seg, ref, 2 * m) - m) / SR)
    return out


@dataclass
class Original:
    path: Path
    bed: np.ndarray
    audio_lag: int  # decoded samples before the bed starts (codec priming), track 1


def make_original(folder: Path, seconds: float = 24.0, name: str = "Film (2010).mkv") -> Original:
    """An MKV with video, two audio tracks (names, flags), subtitles, chapters, an attachment, tags."""
    folder.mkdir(parents=True, exist_ok=True)
    work = folder / ".gen"
    work.mkdir(exist_ok=True)
    b = bed(seconds)
    write_wav(work / "en.wav", b + speech(seconds, 11))
    write_wav(work / "comm.wav", 0.3 * speech(seconds, 12), channels=1)
    run("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=s=96x64:r=5:d={seconds}",
        "-c:v", "mpeg4", "-q:v", "10", work / "v.mkv")
    run("ffmpeg", "-v", "error", "-y", "-i", work / "en.wav", "-c:a", "aac", "-b:a", "96k", work / "en.mka")
    run("ffmpeg", "-v", "error", "-y", "-i", work / "comm.wav", "-c:a", "ac3", "-b:a", "96k", work / "comm.mka")
    (work / "subs.srt").write_text("1\n00:00:01,000 --> 00:00:03,000\nHello there.\n\n"
                                   "2\n00:00:05,000 --> 00:00:07,500\nGeneral Kenobi!\n")
    (work / "chapters.txt").write_text("CHAPTER01=00:00:00.000\nCHAPTER01NAME=Opening\n"
                                       "CHAPTER02=00:00:10.000\nCHAPTER02NAME=Middle\n")
    (work / "cover.txt").write_bytes(b"pretend this is a font" * 20)
    (work / "tags.xml").write_text('<?xml version="1.0"?><Tags><Tag><Targets><TargetTypeValue>50'
                                   "</TargetTypeValue></Targets><Simple><Name>DIRECTOR</Name>"
                                   "<String>A. Person</String></Simple></Tag></Tags>")
    path = folder / name
    run("mkvmerge", "-q", "-o", path, "--title", "Film", "--global-tags", work / "tags.xml",
        "--chapters", work / "chapters.txt", "--attachment-mime-type", "text/plain",
        "--attach-file", work / "cover.txt", work / "v.mkv",
        "--language", "0:eng", "--track-name", "0:English", "--default-track-flag", "0:1", work / "en.mka",
        "--language", "0:eng", "--track-name", "0:Commentary", "--default-track-flag", "0:0", work / "comm.mka",
        "--language", "0:eng", "--track-name", "0:Forced", "--forced-display-flag", "0:1", work / "subs.srt")
    lag = lag_of(decode(path, 1, player_view=False)[: 6 * SR], b[: 5 * SR], SR // 10)
    return Original(path, b, lag)


def make_dub(path: Path, signal: np.ndarray, codec: str = "ac3", language: str | None = "ger",
             channels: int = 2, bitrate: str = "192k") -> int:
    """Encode ``signal`` (+ German 'speech') as a one-track dub; returns its decoded priming in samples."""
    wav = path.with_suffix(".wav")
    write_wav(wav, signal + speech(len(signal) / SR, 21), channels=channels)
    lang = ["-metadata:s:a:0", f"language={language}"] if language else []
    run("ffmpeg", "-v", "error", "-y", "-i", wav, "-c:a", codec, "-b:a", bitrate, *lang, path)
    wav.unlink()
    return lag_of(decode(path, 0, player_view=False)[: 6 * SR], signal[: 5 * SR], SR // 10)


def stream_md5s(path: Path) -> list[str]:
    """md5 of every stream's packets, by stream copy, in order."""
    info = run("ffprobe", "-v", "error", "-show_entries", "stream=index,codec_type", "-of", "csv=p=0", path)
    out = []
    for line in info.stdout.decode().split():
        index, kind = line.split(",")[:2]
        if kind == "attachment":
            continue
        md5 = run("ffmpeg", "-v", "error", "-i", path, "-map", f"0:{index}", "-c", "copy", "-f", "md5", "-")
        out.append(md5.stdout.decode().strip())
    return out


# --- dubs with known truth maps ---------------------------------------------------------

def offset_dub(folder: Path, orig: Original, offset: float, tail: float = 0.0,
               name: str = "Film.German.mkv", codec: str = "ac3") -> tuple[Path, "TimeMap"]:
    """The bed shifted later by ``offset`` s (earlier when negative), plus ``tail`` s of extra."""
    from syncdub_companion.align.timemap import Segment, TimeMap

    head = bed(offset, seed=5) * 0.5 if offset > 0 else np.zeros(0, np.float32)
    body = orig.bed[int(-offset * SR):] if offset < 0 else orig.bed
    extra = bed(tail, seed=6) * 0.5 if tail else np.zeros(0, np.float32)
    path = folder / name
    primed = make_dub(path, np.concatenate([head, body, extra]), codec=codec) / SR
    length = len(body) / SR
    dub_start = max(offset, 0.0) + primed
    orig_start = max(-offset, 0.0) + orig.audio_lag / SR
    seg = Segment(dub_start, dub_start + length, orig_start, orig_start + length)
    return path, TimeMap("aligned", 0.93, "", 1.0, [seg])


PAL = 2997 / 3125  # dub seconds per original second for a 25 fps release of a 23.976 fps film


def pal_dub(folder: Path, orig: Original, codec: str = "ac3", channels: int = 2, name: str = "Film.PAL.mkv",
            language: str | None = "ger") -> tuple[Path, "TimeMap"]:
    """A PAL speed-up (pitch up) with the original's 10-13 s cut out and 2 s inserted."""
    from syncdub_companion.align.timemap import Segment, TimeMap

    part1 = resample_poly(orig.bed[: 10 * SR], 2997, 3125).astype(np.float32)
    part2 = resample_poly(orig.bed[13 * SR: 23 * SR], 2997, 3125).astype(np.float32)
    insert = bed(2.0, seed=9) * 0.5
    path = folder / name
    primed = make_dub(path, np.concatenate([part1, insert, part2]), codec=codec, channels=channels,
                      language=language, bitrate="192k" if channels <= 2 else "384k") / SR
    po = orig.audio_lag / SR
    d1 = primed + len(part1) / SR
    d2 = d1 + len(insert) / SR
    segments = [Segment(primed, d1, po, po + 10.0), Segment(d2, d2 + len(part2) / SR, po + 13.0, po + 23.0)]
    return path, TimeMap("aligned", 0.88, "", PAL, segments)


SYNC_WINDOWS = [(0.5, 9.5), (13.5, 22.5)]  # original seconds covered by pal_dub's map


def sync_errors(merged: Path, orig_stream: int, new_stream: int, spans=None) -> np.ndarray:
    """|lag| in seconds of the new track's bed against the original track's, per 1 s window."""
    a, b = decode(merged, orig_stream), decode(merged, new_stream)
    lags = []
    for lo, hi in spans or [(0.5, min(len(a), len(b)) / SR - 0.5)]:
        lags += windowed_lags(a[int(lo * SR): int(hi * SR)], b[int(lo * SR): int(hi * SR)], max_lag=0.2)
    return np.abs(np.array(lags))


# --- a plugin for subprocess and CLI tests: the truth map instead of the aligner ----------

TRUTH_PLUGIN = '''
import json, os, time
from syncdub_companion import hookimpl
from syncdub_companion.align.timemap import TimeMap


@hookimpl(tryfirst=True)
def syncdub_align(original, dubbed, options):
    # $SYNCDUB_TEST_ALIGN_SECONDS stands for a real alignment's time, so that two runs overlap
    time.sleep(float(os.environ.get("SYNCDUB_TEST_ALIGN_SECONDS") or 0))
    with open(os.environ["SYNCDUB_TEST_MAP"]) as fh:
        return TimeMap.from_dict(json.load(fh))


@hookimpl
def syncdub_library_changed(paths, item, services):
    record = os.environ.get("SYNCDUB_TEST_CHANGED")
    if record:
        with open(record, "a") as fh:
            fh.write(json.dumps(paths) + "\\n")
'''


def write_truth_setup(folder: Path, library_root: Path, truth, dubs: Path | None = None, **tools) -> tuple[Path, dict]:
    """A config file (roots, data dir, plugin dir, tool paths) and the env the plugin reads.

    ``dubs``, a folder outside the library holding the dub, becomes a (read-only) dub root.
    """
    plugins = folder / "plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    (plugins / "truth_align.py").write_text(TRUTH_PLUGIN)
    (folder / "map.json").write_text(json.dumps(truth.to_dict()))
    lines = ["[server]", f'data_dir = "{folder / "data"}"', "[library]", f'roots = ["{library_root}"]',
             "space_margin_mb = 1", "[plugins]", f'dir = "{plugins}"']
    if dubs is not None:
        lines += ["[counterparts]", f'dub_roots = {{ de = "{dubs}" }}']
    lines += ["[tools]"]
    lines += [f'{name} = "{path}"' for name, path in tools.items()]
    config = folder / "config.toml"
    config.write_text("\n".join(lines) + "\n")
    env = {"SYNCDUB_TEST_MAP": str(folder / "map.json"), "SYNCDUB_TEST_CHANGED": str(folder / "changed.jsonl")}
    return config, env
