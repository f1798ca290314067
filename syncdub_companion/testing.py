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
