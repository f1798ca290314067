"""Helpers for tests, shipped so plugin authors can reuse them."""
from __future__ import annotations

import os
from pathlib import Path

from .config import deep_merge


def cache_dir() -> Path:
    """Where set-up put downloaded test material and models ($SYNCDUB_CACHE, else ./.cache)."""
    return Path(os.environ.get("SYNCDUB_CACHE") or Path(__file__).resolve().parent.parent / ".cache")


def drascula_dir() -> Path | None:
    """The drascula game data (Spanish and English speech, music), or None when not fetched."""
    folder = cache_dir() / "drascula" / "x" / "usr" / "share" / "scummvm" / "drascula"
    return folder if (folder / "es").is_dir() and (folder / "en").is_dir() else None


def make_services(tmp_path: Path, overrides: dict | None = None, env: dict | None = None, store: bool = True):
    """Services over a temp data dir, a real TinyDB file and no config file on disk."""
    from .services import build_services

    base = {"server": {"data_dir": str(tmp_path / "data")},
            "speech": {"model_dir": str(cache_dir() / "models")}}
    config_file = tmp_path / "none.toml"
    config_file.write_text("")
    return build_services(config_file, deep_merge(base, overrides or {}), env=env or {},
                          store_path=(tmp_path / "data" / "syncdub.json") if store else None,
                          configure_logging=False)


MOVIE_RATE = 48000


def _bed(seconds: float, seed: int):
    """Music-and-effects stand-in: noise bursts shared by both languages."""
    import numpy as np

    return noise_bursts(np.random.default_rng(seed), seconds, MOVIE_RATE)


def noise_bursts(rng, seconds: float, rate: int):
    """Four windowed noise bursts a second at random places: sharp features any aligner can
    place, drawn from ``rng`` (which callers may go on drawing from)."""
    import numpy as np

    n = int(seconds * rate)
    x = np.zeros(n, np.float32)
    for pos in rng.integers(0, n - 4800, int(seconds * 4)):
        length = int(rng.integers(200, 2400))
        x[pos:pos + length] += rng.standard_normal(length).astype(np.float32) * np.hanning(length) * 0.5
    return x


def _voice(seconds: float, seed: int):
    """A different 'language' on top of the shared bed: a gated tone per seed."""
    import numpy as np

    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * MOVIE_RATE)) / MOVIE_RATE
    gate = (np.sin(2 * np.pi * rng.uniform(0.2, 0.4) * t) > 0.3).astype(np.float32)
    return (0.05 * gate * np.sin(2 * np.pi * rng.uniform(150, 300) * t)).astype(np.float32)


def _wav(path: Path, x) -> None:
    import wave

    import numpy as np

    data = (np.repeat(np.clip(x, -1, 1)[:, None], 2, axis=1) * 32000).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(MOVIE_RATE)
        w.writeframes(data.tobytes())


def make_movie_with_dub(folder: Path, work: Path, seconds: float = 60.0, offset: float = 1.5) -> tuple[Path, Path]:
    """A library movie and its dub, made with real ffmpeg and mkvmerge.

    ``folder/Film (2010).mkv`` holds a small video and English AAC; ``Film (2010).de.mka``
    is German AC3 whose shared bed starts ``offset`` s later. ``work`` takes the scratch files.
    """
    import numpy as np

    from .tools import process

    def run(tool, *argv):
        process.run([tool, *map(str, argv)], tool)

    folder.mkdir(parents=True)
    work.mkdir()
    bed = _bed(seconds, 1)
    _wav(work / "en.wav", bed + _voice(seconds, 2))
    _wav(work / "de.wav", np.concatenate([_bed(offset, 7) * 0.5, bed]) + _voice(seconds + offset, 3))
    run("ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"testsrc=s=96x64:r=5:d={seconds}", "-c:v", "mpeg4",
        work / "v.mkv")
    run("ffmpeg", "-v", "error", "-i", work / "en.wav", "-c:a", "aac", "-b:a", "96k", work / "en.mka")
    original = folder / "Film (2010).mkv"
    run("mkvmerge", "-q", "-o", original, work / "v.mkv", "--language", "0:eng", work / "en.mka")
    dub = folder / "Film (2010).de.mka"
    run("ffmpeg", "-v", "error", "-i", work / "de.wav", "-c:a", "ac3", "-b:a", "192k",
        "-metadata:s:a:0", "language=ger", dub)
    return original, dub
