"""Scan speed: ``syncdub scan --dry-run --json`` over a generated tree of 20,000 files.

Run::

    .venv/bin/python benchmarks/scan_speed.py                 # 20,000 files, 3 runs
    .venv/bin/python benchmarks/scan_speed.py --files 50000 --runs 1

The tree is half library, half dubs, in the shapes real libraries have: Plex/Jellyfin
movie folders (some with ``{imdb-tt…}`` or ``{edition-…}``), Sonarr season folders,
German scene releases in a dub root (folder + obfuscated file, or a bare file), sidecar
dubs beside the original, and originals with no dub at all. Every file is empty: the
scan must not read media. Each run is the real CLI in a fresh process (start-up
included); the rate is files in the tree per second of wall time. Exits 1 when the
plan misses a pair the generator made.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORDS = ("night shadow river empire last first secret silent broken golden iron winter summer city ghost king "
         "queen dark light storm fire ocean mountain star moon sun road house garden island machine heart "
         "blood stone glass paper wolf eagle tiger dragon angel devil hunter stranger doctor captain "
         "soldier agent thief dream memory promise journey return escape rise fall war peace time").split()


def title(rng: random.Random, used: set) -> str:
    while True:
        name = " ".join(w.capitalize() for w in rng.sample(WORDS, rng.randint(2, 4)))
        if name not in used:
            used.add(name)
            return name


def scene(name: str) -> str:
    return name.replace(" ", ".")


def build_tree(root: Path, files: int, seed: int = 7) -> tuple[int, int]:
    """Write the tree; returns (files written, pairs expected)."""
    rng, used = random.Random(seed), set()
    lib, dubs = root / "library", root / "dubs" / "de"
    written = pairs = 0

    def touch(path: Path) -> None:
        nonlocal written
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        written += 1

    while written < files:
        kind = rng.random()
        if kind < 0.5:  # a film: Plex folder; dub in the dub root, beside it, or none
            name, year = title(rng, used), rng.randint(1950, 2024)
            tag = rng.choice(["", f" {{imdb-tt{rng.randint(1000000, 9999999)}}}", " {edition-Extended}"])
            touch(lib / "Movies" / f"{name} ({year})" / f"{name} ({year}){tag}.mkv")
            where = rng.random()
            if where < 0.6:
                release = f"{scene(name)}.{year}{'.EXTENDED' if 'Extended' in tag else ''}.German.DL.1080p.BluRay.x264-GRP"
                touch(dubs / release / f"grp-{scene(name).lower()}-1080p.mkv" if rng.random() < 0.5
                      else dubs / f"{release}.mkv")
                pairs += 1
            elif where < 0.8:
                touch(lib / "Movies" / f"{name} ({year})" / f"{name} ({year}){tag}.de.mka")
                pairs += 1
        else:  # a season of a show, each episode with a scene dub or not
            show, season = title(rng, used), rng.randint(1, 6)
            dubbed = rng.random() < 0.7
            for episode in range(1, rng.randint(6, 13)):
                touch(lib / "TV" / show / f"Season {season:02d}" / f"{show} - S{season:02d}E{episode:02d} - Episode.mkv")
                if dubbed:
                    release = f"{scene(show)}.S{season:02d}.German.DL.720p.WEB.x264-GRP"
                    touch(dubs / release / f"{scene(show)}.S{season:02d}E{episode:02d}.German.DL.720p.WEB.x264-GRP.mkv")
                    pairs += 1
    return written, pairs


def write_config(root: Path) -> Path:
    config = root / "config.toml"
    config.write_text(f'[server]\ndata_dir = "{root / "data"}"\n[library]\nroots = ["{root}"]\nlanguages = ["de"]\n'
                      f'[counterparts]\ndub_roots = {{ de = "{root / "dubs" / "de"}" }}\n')
    return config


def run_scan(config: Path) -> tuple[float, list]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "syncdub_companion.cli", "scan", "--config", str(config),
                           "--dry-run", "--json"], capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"scan failed: {proc.stderr[-2000:]}")
    return elapsed, json.loads(proc.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="syncdub-scan-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        files, pairs = build_tree(root, args.files)
        print(f"tree: {files} files, {pairs} pairs expected ({time.perf_counter() - started:.1f} s to build)")
        config = write_config(root)
        times, planned = [], []
        for n in range(args.runs):
            elapsed, planned = run_scan(config)
            times.append(elapsed)
            print(f"run {n + 1}: {elapsed:.2f} s, {files / elapsed:,.0f} files/s, {len(planned)} pairs planned")
        best, median = min(times), statistics.median(times)
        print(f"scan --dry-run: median {median:.2f} s ({files / median:,.0f} files/s), best {best:.2f} s "
              f"({files / best:,.0f} files/s)")
        if len(planned) != pairs:
            print(f"FAIL: planned {len(planned)} pairs, the tree has {pairs}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
