"""Several dubs in one pass (issue 18 item 2): `syncdub resync ORIGINAL` with a German and a
French dub found by the counterpart plugins adds both tracks in one write; a dub the aligner
rejects is reported and the other one is still added."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from merge_media import write_truth_setup
from syncdub_companion.cli import _register_commands, cli

FINDER = '''
from syncdub_companion import hookimpl
from syncdub_companion.media import Candidate


@hookimpl
def syncdub_find_counterparts(item, services):
    return [Candidate(path=p, language=lang, score=0.9, finder="test") for p, lang in {pairs!r}]
'''

# Logs each mkvmerge command line, then runs the real one.
LOGGING_MKVMERGE = """#!{python}
import json, os, sys
with open({log!r}, "a") as fh:
    fh.write(json.dumps(sys.argv[1:]) + "\\n")
os.execv({real!r}, [{real!r}, *sys.argv[1:]])
"""

REFUSING_ALIGN = '''
from syncdub_companion import hookimpl
from syncdub_companion.align.timemap import TimeMap


@hookimpl(hookwrapper=True)
def syncdub_align(original, dubbed, options):
    outcome = yield
    if "French" in dubbed:
        outcome.force_result(TimeMap("rejected", 0.1, "different content", 1.0, []))
'''


def synced_languages(path) -> list[str]:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
                         capture_output=True, check=True).stdout
    return sorted(s["tags"]["language"] for s in json.loads(out)["streams"]
                  if s["codec_type"] == "audio" and "SYNCDUB_SOURCE" in {k.upper() for k in s.get("tags", {})})


@pytest.fixture
def two_dubs(tmp_path, library, offset_case):
    """The German dub and the same audio tagged French, both found by a counterpart plugin."""
    german, truth = offset_case
    french = tmp_path / "dubs2" / "Film.French.mkv"
    french.parent.mkdir()
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(german), "-c", "copy", "-metadata:s:a:0", "language=fre",
                    str(french)], check=True)
    log = tmp_path / "mkvmerge.log"
    wrapper = tmp_path / "mkvmerge-logging"
    wrapper.write_text(LOGGING_MKVMERGE.format(python=sys.executable, log=str(log), real=shutil.which("mkvmerge")))
    wrapper.chmod(0o755)
    setup = tmp_path / "setup"
    config, env = write_truth_setup(setup, library.root, truth, german.parent, mkvmerge=str(wrapper))
    with open(config, "a") as fh:  # the French dub's folder is a dub root too (dubs are read there)
        fh.write(f'[counterparts.dub_roots]\nde = "{german.parent}"\nfr = "{french.parent}"\n')
    text = config.read_text().replace(f'[counterparts]\ndub_roots = {{ de = "{german.parent}" }}\n', "")
    config.write_text(text)
    (setup / "plugins" / "finder.py").write_text(FINDER.format(pairs=[(str(german), "ger"), (str(french), "fre")]))
    _register_commands()
    return config, env, log, setup


def muxes_of(log, film) -> list[list[str]]:
    """The mkvmerge runs that wrote a file from the film (the dub copies read only the dubs)."""
    runs = [json.loads(line) for line in log.read_text().splitlines()]
    return [argv for argv in runs if "-o" in argv and str(film) in argv]


def test_one_resync_adds_both_languages_in_one_write(library, two_dubs):
    config, env, log, setup = two_dubs
    inode = os.stat(library.film).st_ino
    result = CliRunner().invoke(cli, ["--config", str(config), "resync", str(library.film)], env=env)
    assert result.exit_code == 0, result.output
    assert "about equally" not in result.output  # two languages are not an ambiguity
    assert "de done:" in result.output and "fr done:" in result.output
    assert synced_languages(library.film) == ["fre", "ger"]
    assert len(muxes_of(log, library.film)) == 1  # one temp file, one mux ...
    assert os.stat(library.film).st_ino != inode  # ... renamed into place
    changed = [json.loads(line) for line in (setup / "changed.jsonl").read_text().splitlines()]
    assert changed == [[str(library.film)]]  # one rescan


def test_a_rejected_language_is_reported_and_the_other_added(library, two_dubs):
    config, env, log, setup = two_dubs
    (setup / "plugins" / "refuse_french.py").write_text(REFUSING_ALIGN)
    result = CliRunner().invoke(cli, ["--config", str(config), "resync", str(library.film), "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["languages"]["de"]["status"] == "done"
    assert data["not_added"] == {"fr": "rejected (different content)"}
    assert synced_languages(library.film) == ["ger"]


def test_ambiguity_is_judged_within_a_language(tmp_path, library, offset_case, two_dubs):
    """Two German dubs scoring alike leave German out (asking for DUBBED); French is added."""
    config, env, log, setup = two_dubs
    finder = (setup / "plugins" / "finder.py").read_text()
    german = offset_case[0]
    other = tmp_path / "dubs2" / "Film.German.Other.mkv"
    shutil.copyfile(german, other)
    (setup / "plugins" / "finder.py").write_text(finder.replace("[(", f"[({str(other)!r}, 'de'), (", 1))
    result = CliRunner().invoke(cli, ["--config", str(config), "resync", str(library.film)], env=env)
    assert result.exit_code == 0, result.output
    assert "fr done:" in result.output
    assert "de not added: several dubs match about equally" in result.output and "DUBBED" in result.output
    assert synced_languages(library.film) == ["fre"]


def test_the_cli_chooses_like_the_service_blocklist_and_a_nameless_dubs_language(tmp_path, library, two_dubs):
    """A dub offered without a language gets it from its track's tag (fre), as a job's would;
    a pair on the blocklist is left out unless --force, as a job leaves it out."""
    from syncdub_companion import jobs
    from syncdub_companion.services import build_services

    config, env, log, setup = two_dubs
    finder = (setup / "plugins" / "finder.py").read_text()
    (setup / "plugins" / "finder.py").write_text(finder.replace("'fre')", "None)"))
    french = str(tmp_path / "dubs2" / "Film.French.mkv")
    services = build_services(config, env=env, store_path=True)
    jobs.block(services.store, str(library.film), french, "fr", 7, "different content", 0.1)
    services.store.close()
    result = CliRunner().invoke(cli, ["--config", str(config), "resync", str(library.film), "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["languages"]["de"]["status"] == "done"
    assert data["not_added"]["fr"].startswith(f"rejected before (job 7: different content): {french}")
    assert "--force tries it again" in data["not_added"]["fr"]
    assert synced_languages(library.film) == ["ger"]
