"""`syncdub resync` on the command line: plan, run, JSON, counterparts, rescan hook."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from merge_media import write_truth_setup
from syncdub_companion.cli import _register_commands, cli


@pytest.fixture
def run_cli():
    _register_commands()

    def invoke(config, env, *args):
        return CliRunner().invoke(cli, ["--config", str(config), "resync", *map(str, args)], env=env)

    return invoke


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path, library, pal_case, run_cli):
    dub, truth = pal_case
    config, env = write_truth_setup(tmp_path / "setup", library.root, truth, dub.parent)
    data = library.film.read_bytes()
    result = run_cli(config, env, library.film, dub, "--dry-run")
    assert result.exit_code == 0, result.output
    for expected in ("map:      2 segment(s)", "codec:    ac3 192 kb/s", f"output:   {library.film} (replace)",
                     "disk:     needs", 'track:    add ger track "Deutsch (SyncDub)"'):
        assert expected in result.output
    assert library.film.read_bytes() == data


def test_json_run_merges_and_asks_for_a_rescan(tmp_path, library, offset_case, run_cli):
    dub, truth = offset_case
    config, env = write_truth_setup(tmp_path / "setup", library.root, truth, dub.parent)
    result = run_cli(config, env, library.film, dub, "--json", "--mode", "beside")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # log lines go to stderr
    multi = str(library.film.with_name("Film (2010).multi.mkv"))
    assert data["status"] == "done" and data["output_path"] == multi
    assert data["plan"]["codec"] == "copy" and data["verification"]["streams"] == 6
    changed = (tmp_path / "setup" / "changed.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in changed] == [[multi]]
    again = run_cli(config, env, library.film, dub, "--mode", "beside")
    assert again.exit_code == 0 and again.output.startswith("skipped: ")


def test_without_dubbed_and_no_counterpart_it_says_dubbed_is_needed(tmp_path, library, offset_case, run_cli):
    config, env = write_truth_setup(tmp_path / "setup", library.root, offset_case[1])
    result = run_cli(config, env, library.film)
    assert result.exit_code == 2
    assert "no dubbed counterpart found" in result.output and "DUBBED" in result.output


COUNTERPART_PLUGIN = '''
from syncdub_companion import hookimpl
from syncdub_companion.media import Candidate


@hookimpl
def syncdub_find_counterparts(item, services):
    return [Candidate(path={path!r}, language="ger", score=0.9, finder="test")]
'''


def test_without_dubbed_the_counterpart_plugins_are_asked(tmp_path, library, offset_case, run_cli):
    dub, truth = offset_case
    config, env = write_truth_setup(tmp_path / "setup", library.root, truth, dub.parent)
    (tmp_path / "setup" / "plugins" / "finder.py").write_text(COUNTERPART_PLUGIN.format(path=str(dub)))
    result = run_cli(config, env, library.film)
    assert result.exit_code == 0, result.output
    assert f"dub: {dub} (test, score 0.90)" in result.output
    assert 'done: added "Deutsch (SyncDub)"' in result.output


def test_bad_input_is_one_clear_line(tmp_path, library, offset_case, run_cli):
    config, env = write_truth_setup(tmp_path / "setup", library.root, offset_case[1], offset_case[0].parent)
    missing = run_cli(config, env, library.film, tmp_path / "nope.mkv")
    assert missing.exit_code == 2 and "nope.mkv: no such file" in missing.output
    bad_lang = run_cli(config, env, library.film, offset_case[0], "--lang", "xx")
    assert bad_lang.exit_code == 2 and "unknown language 'xx'" in bad_lang.output
