"""``syncdub user set``: writes the login into the config file, keeps comments, prompts twice."""
from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from werkzeug.security import check_password_hash

from syncdub_companion.cli import _register_commands, cli
from syncdub_companion.config import read_toml
from syncdub_companion.configfile import exposure


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(f'# keep me\n[server]\ndata_dir = "{tmp_path / "data"}"  # state\n')
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "setup_token").write_text("first-run-token")
    return path


def run(args, input=None):
    _register_commands()
    return CliRunner().invoke(cli, args, input=input, env={"SYNCDUB_CONFIG": None})


def test_user_set_with_password_writes_hash_and_keeps_comments(config_file):
    result = run(["user", "set", "admin", "--password", "s3cret-password", "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    assert f"saved to {config_file}" in result.output
    text = config_file.read_text()
    assert "# keep me" in text and "# state" in text
    assert "s3cret-password" not in text
    auth = read_toml(config_file)["auth"]
    assert auth["username"] == "admin"
    assert check_password_hash(auth["password_hash"], "s3cret-password")
    assert not (config_file.parent / "data" / "setup_token").exists()  # the first-run link is spent


def test_user_set_prompts_twice_until_both_match(config_file):
    result = run(["user", "set", "admin", "--config", str(config_file)],
                 input="first-password\ndifferent-one\nfinal-password\nfinal-password\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("Password again") == 2 and "do not match" in result.output
    assert check_password_hash(read_toml(config_file)["auth"]["password_hash"], "final-password")


@pytest.mark.parametrize("args, message", [
    (["user", "set", "admin", "--password", "short"], "at least 8 characters"),
    (["user", "set", "two words", "--password", "long enough"], "must not contain spaces"),
])
def test_user_set_refuses_bad_input(config_file, args, message):
    before = config_file.read_text()
    result = run(args + ["--config", str(config_file)])
    assert result.exit_code == 2
    assert message in result.output
    assert config_file.read_text() == before


def test_user_set_creates_the_file_when_missing(tmp_path):
    path = tmp_path / "new.toml"
    result = run(["user", "set", "admin", "--password", "long enough", "--config", str(path),
                  "--set", f"server.data_dir={tmp_path / 'data'}"])
    assert result.exit_code == 0, result.output
    assert read_toml(path)["auth"]["username"] == "admin"
    assert path.stat().st_mode & 0o777 == 0o600


def test_user_set_makes_a_world_readable_config_private(config_file):
    config_file.chmod(0o644)
    result = run(["user", "set", "admin", "--password", "s3cret-password", "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    assert config_file.stat().st_mode & 0o777 == 0o600
    assert "warning" not in result.output


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can hand a file to another owner")
def test_user_set_keeps_the_files_owner_and_group(config_file):
    os.chown(config_file, 1234, 4321)  # e.g. the PUID/PGID of a Docker volume, written by root
    config_file.chmod(0o664)
    assert run(["user", "set", "admin", "--password", "s3cret-password", "--config", str(config_file)]).exit_code == 0
    info = config_file.stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (1234, 4321, 0o600)


def test_exposure_names_the_fix_for_a_file_others_can_read(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("")
    path.chmod(0o640)
    warning = exposure(path)
    assert "mode 0640" in warning and f"chmod 600 {path}" in warning
    path.chmod(0o600)
    assert exposure(path) is None
