"""The `syncdub` console script, run for real in a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from syncdub_companion import __version__

SYNCDUB = Path(sys.executable).parent / "syncdub"


def run_cli(args: list[str], cwd: Path, **extra_env) -> subprocess.CompletedProcess:
    """The real console script, with no SYNCDUB_* variables leaking in from this process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCDUB")}
    env.update(extra_env)
    return subprocess.run([str(SYNCDUB), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def shown(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def assert_one_line_error(proc: subprocess.CompletedProcess, code: int | None = None) -> str:
    assert proc.returncode != 0 and (code is None or proc.returncode == code), (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.fixture
def work(tmp_path):
    """A working folder with a config file that keeps data inside the temp folder."""
    (tmp_path / "c.toml").write_text(f'[server]\nport = 5001\ndata_dir = "{tmp_path / "data"}"\n')
    return tmp_path


def test_broken_config_lists_every_error_and_exits_2(tmp_path):
    (tmp_path / "bad.toml").write_text(
        '[server]\nport = "eighty"\nthreads = 0\nlog_level = "loud"\nmystery = 1\n'
        '[library]\noutput_mode = "sideways"\nlanguages = "de"\n'
        '[webhooks]\ntoken = "$env:MISSING_TOKEN_VAR"\n')
    proc = run_cli(["config", "check", "--config", "bad.toml"], tmp_path, SYNCDUB__SERVER__PUBLIC_URL="nope")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert sorted(proc.stderr.strip().splitlines()) == sorted([
        "config error: webhooks.token: environment variable MISSING_TOKEN_VAR is not set",
        "config error: server.mystery: unknown setting",
        "config error: server.port: must be an integer",
        "config error: server.threads: must be at least 1",
        "config error: server.public_url: must be an http(s) URL",
        "config error: server.log_level: must be one of debug, info, warning, error",
        "config error: library.languages: must be a list of strings",
        "config error: library.output_mode: must be one of replace, beside, folder",
    ])
    assert proc.stdout == ""


def test_config_check_refuses_numbers_out_of_range(tmp_path):
    (tmp_path / "big.toml").write_text("[jobs]\nworkers = 99999999999999999999999\n"
                                       "[counterparts]\nmin_score = nan\n")
    proc = run_cli(["config", "check", "--config", "big.toml", "--set", "jobs.max_attempts=" + "9" * 5000],
                   tmp_path, SYNCDUB__SERVER__THREADS="65")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert sorted(proc.stderr.strip().splitlines()) == [
        "config error: counterparts.min_score: must be a finite number",
        "config error: jobs.max_attempts: must be an integer",
        "config error: jobs.workers: must be at most 32",
        "config error: server.threads: must be at most 64",
    ]


def test_good_config_checks_ok(work):
    proc = run_cli(["config", "check", "--config", "c.toml"], work)
    assert proc.returncode == 0 and proc.stdout.strip() == "config ok (c.toml)"
    defaults = run_cli(["config", "check"], work)
    assert defaults.stdout.strip() == "config ok (built-in defaults)"


def test_config_check_warns_about_unusable_folders_instead_of_saying_ok(tmp_path):
    """A dub root that is not there used to pass as "config ok"; its jobs then skipped with
    "no dubbed counterpart found" and only the service log said why."""
    (tmp_path / "media").mkdir()
    (tmp_path / "dubs" / "de").mkdir(parents=True)
    (tmp_path / "a-file").write_text("")
    (tmp_path / "c.toml").write_text(
        '[library]\nroots = ["media", "gone"]\nlanguages = ["de", "fr", "it"]\n'
        '[counterparts]\ndub_roots = { de = "dubs/de", fr = "/nowhere/fr", en = "dubs/de", it = "a-file" }\n')
    proc = run_cli(["config", "check", "--config", "c.toml"], tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "config ok" not in proc.stdout and proc.stdout.startswith("config valid, but 4 warning(s)")
    assert sorted(proc.stderr.strip().splitlines()) == sorted([
        f"warning: library.roots: {tmp_path / 'gone'} does not exist",
        "warning: counterparts.dub_roots.fr: /nowhere/fr does not exist",
        f"warning: counterparts.dub_roots.it: {tmp_path / 'a-file'} is not a folder",
        "warning: counterparts.dub_roots.en: en is not in library.languages (de, fr, it), so this folder is never searched",
    ])


def test_precedence_file_env_set(work):
    assert shown(run_cli(["config", "show", "--config", "c.toml"], work))["server"]["port"] == 5001
    env = {"SYNCDUB__SERVER__PORT": "5002"}
    assert shown(run_cli(["config", "show", "--config", "c.toml"], work, **env))["server"]["port"] == 5002
    data = shown(run_cli(["config", "show", "--config", "c.toml", "--set", "server.port=5003"], work, **env))
    assert data["server"]["port"] == 5003
    assert data["server"]["data_dir"] == str(work / "data")  # untouched keys keep the file's value
    # --set and --config also work before the command name
    data = shown(run_cli(["--config", "c.toml", "--set", "server.port=5004", "config", "show"], work, **env))
    assert data["server"]["port"] == 5004


def test_which_file_is_read(tmp_path):
    for name, port in (("config.toml", 5101), ("from-env.toml", 5102), ("explicit.toml", 5103)):
        (tmp_path / name).write_text(f"[server]\nport = {port}\n")
    assert shown(run_cli(["config", "show"], tmp_path))["server"]["port"] == 5101
    env = {"SYNCDUB_CONFIG": str(tmp_path / "from-env.toml")}
    assert shown(run_cli(["config", "show"], tmp_path, **env))["server"]["port"] == 5102
    proc = run_cli(["config", "show", "--config", "explicit.toml"], tmp_path, **env)
    assert shown(proc)["server"]["port"] == 5103


def test_show_redacts_secrets_from_every_layer(work):
    (work / "c.toml").write_text('[webhooks]\ntoken = "file-secret-1"\n[auth]\npassword_hash = "$env:HASH"\n')
    proc = run_cli(["config", "show", "--config", "c.toml", "--set", "auth.secret_key=cli-secret-3"], work,
                   SYNCDUB__WEBHOOKS__PLEX__TOKEN="env-secret-2", HASH="pbkdf2:sha256:hash-secret-4")
    for secret in ("file-secret-1", "env-secret-2", "cli-secret-3", "hash-secret-4"):
        assert secret not in proc.stdout
    data = shown(proc)
    assert data["webhooks"]["token"] == data["webhooks"]["plex"]["token"] == "********"
    assert data["auth"]["secret_key"] == data["auth"]["password_hash"] == "********"
    assert data["webhooks"]["jellyfin"]["token"] == ""


@pytest.mark.parametrize("args,files,env,expected", [
    (["config", "check", "--config", "missing.toml"], {}, {}, "config error: config file missing.toml: not found"),
    (["config", "check", "--config", "bad.toml"], {"bad.toml": "[server\nport=1"}, {},
     "config error: config file bad.toml: invalid TOML"),
    (["config", "check"], {"folder/x": ""}, {"SYNCDUB_CONFIG": "folder"},
     "config error: config file folder: is a folder, not a file"),
    (["config", "show", "--set", "server.port"], {}, {}, "config error: --set server.port: expected section.key=value"),
    (["config", "show", "--set", "server.port=99999"], {}, {}, "config error: server.port: must be at most 65535"),
    (["config", "show"], {}, {"SYNCDUB__SERVER__PORT": "1", "SYNCDUB__SERVER__PORT__X": "2"},
     "config error: environment variable SYNCDUB__SERVER__PORT__X: server.port.x is inside a setting"),
    (["plugins", "--set", "plugins.dir=nowhere"], {}, {}, "config error: plugins.dir: {tmp}/nowhere is not a folder"),  # --set is the shell's folder
    (["check", "--set", "server.data_dir=blocker/data"], {"blocker": ""}, {},
     "config error: server.data_dir: cannot create {tmp}/blocker/data"),
])
def test_user_errors_are_one_line_without_traceback(tmp_path, args, files, env, expected):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    line = assert_one_line_error(run_cli(args, tmp_path, **env), code=2)
    assert line.startswith(expected.format(tmp=tmp_path))


def test_set_values_are_typed_by_their_setting(work):
    data = shown(run_cli(["config", "show", "--config", "c.toml", "--set", "webhooks.token=1234",
                          "--set", "library.languages=de,fr", "--set", "server.host=::"], work))
    assert data["webhooks"]["token"] == "********"
    assert data["library"]["languages"] == ["de", "fr"] and data["server"]["host"] == "::"


def test_unknown_command_is_a_usage_error_not_a_traceback(tmp_path):
    proc = run_cli(["frobnicate"], tmp_path)
    assert proc.returncode == 2 and "No such command 'frobnicate'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_version_and_help(tmp_path):
    assert run_cli(["--version"], tmp_path).stdout.strip() == f"syncdub, version {__version__}"
    # a broken config must not hide --help
    (tmp_path / "config.toml").write_text("[server\n")
    proc = run_cli(["--help"], tmp_path)
    assert proc.returncode == 0 and "config" in proc.stdout and "plugins" in proc.stdout


def test_check_with_no_media_server(work):
    proc = run_cli(["check", "--config", "c.toml"], work)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "no media servers configured"


def test_relative_data_dir_is_beside_the_config_file_from_any_folder(tmp_path):
    """`data_dir = "./data"` once meant the shell's folder: `jobs` from elsewhere read (and
    created) an empty store there and printed `no jobs`."""
    home = tmp_path / "srv" / "syncdub"
    home.mkdir(parents=True)
    config = home / "config.toml"
    config.write_text('[server]\ndata_dir = "./data"\n\n[library]\nroots = ["media"]\n')
    (home / "media").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    from syncdub_companion import jobs
    from syncdub_companion.store import Store

    store = Store(home / "data" / "syncdub.json")
    jobs.create(store, original=str(home / "media" / "Film (2001).mkv"))
    store.close()

    listed = run_cli(["jobs", "--config", str(config)], elsewhere)
    assert listed.returncode == 0, listed.stderr
    assert "Film (2001).mkv" in listed.stdout and "queued" in listed.stdout
    assert f"job store: {home / 'data' / 'syncdub.json'}" in listed.stderr  # it says which store it read
    assert not (elsewhere / "data").exists()  # no stray data/ in the shell's folder
    effective = shown(run_cli(["config", "show", "--config", str(config)], elsewhere))
    assert effective["server"]["data_dir"] == str(home / "data")
    assert effective["library"]["roots"] == [str(home / "media")]


def test_relative_paths_from_the_environment_and_set_are_the_shells(tmp_path):
    home, shell = tmp_path / "home", tmp_path / "shell"
    home.mkdir()
    shell.mkdir()
    (home / "config.toml").write_text('[server]\ndata_dir = "./data"\n')
    effective = shown(run_cli(["config", "show", "--config", str(home / "config.toml"),
                               "--set", "speech.model_dir=models"], shell, SYNCDUB__LIBRARY__ROOTS="lib"))
    assert effective["server"]["data_dir"] == str(home / "data")
    assert effective["speech"]["model_dir"] == str(shell / "models")
    assert effective["library"]["roots"] == [str(shell / "lib")]


def test_no_config_file_keeps_data_in_the_current_folder(tmp_path):
    proc = run_cli(["jobs"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"no jobs in {tmp_path / 'data' / 'syncdub.json'}"


def test_retry_takes_a_dub_from_a_dub_root_outside_the_library(tmp_path):
    """Dub roots are read roots everywhere: `jobs retry --dubbed` once accepted library files only."""
    from syncdub_companion import jobs
    from syncdub_companion.store import Store

    (tmp_path / "media").mkdir()
    downloads = tmp_path / "downloads" / "de"
    downloads.mkdir(parents=True)
    dub = downloads / "Film.2010.German.mkv"
    dub.write_bytes(b"x")
    stray = tmp_path / "elsewhere.mkv"
    stray.write_bytes(b"x")
    (tmp_path / "c.toml").write_text('[library]\nroots = ["media"]\n[counterparts]\ndub_roots = { de = "downloads/de" }\n')
    store = Store(tmp_path / "data" / "syncdub.json")
    job_id = jobs.create(store, original=str(tmp_path / "media" / "Film (2010).mkv"))
    jobs.set_state(store, job_id, "skipped")
    store.close()

    refused = run_cli(["jobs", "retry", str(job_id), "--dubbed", str(stray), "--config", "c.toml"], tmp_path)
    assert "outside library.roots and counterparts.dub_roots" in assert_one_line_error(refused, code=2)
    taken = run_cli(["jobs", "retry", str(job_id), "--dubbed", str(dub), "--config", "c.toml"], tmp_path)
    assert taken.returncode == 0, taken.stderr
    record = shown(run_cli(["jobs", "show", str(job_id), "--json", "--config", "c.toml"], tmp_path))
    assert (record["state"], record["dubbed"]) == ("queued", str(dub))
