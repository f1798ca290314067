"""Loading, layering and validating the configuration (syncdub_companion/config.py)."""
from __future__ import annotations

import pytest

from syncdub_companion.config import (REDACTED, find_config_file, load_config, overrides_from_pairs,
                                      plugins_section, read_toml)
from syncdub_companion.errors import ConfigError
from syncdub_companion.services import load_config_and_plugins
from syncdub_companion.settings import CORE_SETTINGS, Setting


def write(path, text):
    path.write_text(text)
    return path


@pytest.fixture
def cfg_file(tmp_path):
    return write(tmp_path / "config.toml", '[server]\nport = 5001\nhost = "127.0.0.1"\n')


def test_defaults_fill_every_core_setting(tmp_path):
    config = load_config(write(tmp_path / "empty.toml", ""), env={})
    for setting in CORE_SETTINGS:
        expected = str(tmp_path / "data") if setting.path == "server.data_dir" else setting.default  # beside the file
        assert config.get(setting.path) == expected, setting.path
    assert config.get("server.port") == 5000
    assert config.path_map == []


def test_precedence_defaults_file_env_set(cfg_file):
    assert load_config(cfg_file, env={}).get("server.port") == 5001
    env = {"SYNCDUB__SERVER__PORT": "5002"}
    assert load_config(cfg_file, env=env).get("server.port") == 5002
    overrides = overrides_from_pairs(["server.port=5003"])
    config = load_config(cfg_file, env=env, overrides=overrides)
    assert config.get("server.port") == 5003
    # layers merge key by key: the file's host survives the env and CLI port overrides
    assert config.get("server.host") == "127.0.0.1"
    assert config.get("server.threads") == 8


def test_config_file_choice_explicit_then_env_then_cwd(tmp_path, monkeypatch):
    explicit = write(tmp_path / "a.toml", "")
    from_env = write(tmp_path / "b.toml", "")
    monkeypatch.chdir(tmp_path)
    assert find_config_file(None, {}) is None
    write(tmp_path / "config.toml", "")
    assert find_config_file(None, {}).resolve() == (tmp_path / "config.toml").resolve()
    assert find_config_file(None, {"SYNCDUB_CONFIG": str(from_env)}) == from_env
    assert find_config_file(explicit, {"SYNCDUB_CONFIG": str(from_env)}) == explicit


def test_env_text_is_typed_by_the_setting_kind(tmp_path):
    env = {
        "SYNCDUB__WEBHOOKS__TOKEN": "12345",           # a str setting keeps digits as text
        "SYNCDUB__SERVER__PORT": "5002",                # an int setting parses
        "SYNCDUB__LIBRARY__LANGUAGES": "de, fra",       # lists take commas
        "SYNCDUB__LIBRARY__ROOTS": '["/m/a", "/m/b"]',  # or a TOML array
        "SYNCDUB__SERVER__HOST": "0.0.0.0",
        "SYNCDUB__COUNTERPARTS__MIN_SCORE": "0.75",
        "SYNCDUB__WEBHOOKS__PLEX__TOKEN": '"quoted"',   # a TOML string is unquoted
    }
    config = load_config(write(tmp_path / "c.toml", ""), env=env)
    assert config.get("webhooks.token") == "12345"
    assert config.get("server.port") == 5002
    assert config.get("library.languages") == ["de", "fra"]
    assert config.library_roots[1].as_posix() == "/m/b"
    assert config.get("server.host") == "0.0.0.0"
    assert config.get("counterparts.min_score") == 0.75
    assert config.get("webhooks.plex.token") == "quoted"


def test_bool_text_accepts_common_words(tmp_path):
    flag = Setting("demo.flag", False, "A flag.", "bool")
    for text, expected in (("yes", True), ("off", False), ("true", True), ("0", False)):
        config = load_config(write(tmp_path / "c.toml", ""), env={"SYNCDUB__DEMO__FLAG": text},
                             plugin_settings=[flag])
        assert config.get("demo.flag") is expected


def test_file_values_are_not_coerced(tmp_path):
    path = write(tmp_path / "c.toml", '[server]\nport = "5001"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert err.value.problems == ["server.port: must be an integer"]


def test_env_indirection_reads_named_variable(tmp_path):
    path = write(tmp_path / "c.toml", '[webhooks]\ntoken = "$env:HOOK_TOKEN"\n'
                                      '[server]\nport = "$env:PORT"\n'
                                      '[library]\nroots = ["$env:MEDIA"]\n')
    config = load_config(path, env={"HOOK_TOKEN": "s3cr3t-value", "PORT": "5123", "MEDIA": "/media"})
    assert config.get("webhooks.token") == "s3cr3t-value"
    assert config.get("server.port") == 5123
    assert config.get("library.roots") == ["/media"]
    assert "s3cr3t-value" in config.secrets()
    assert config.redacted()["webhooks"]["token"] == REDACTED


def test_env_indirection_to_missing_variable_is_an_error(tmp_path):
    path = write(tmp_path / "c.toml", '[webhooks]\ntoken = "$env:NOT_SET_ANYWHERE"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert err.value.problems == ["webhooks.token: environment variable NOT_SET_ANYWHERE is not set"]


def test_validation_reports_every_problem_with_its_path(tmp_path):
    path = write(tmp_path / "c.toml", """
        bogus_top = 1
        [server]
        port = 70000
        threads = "many"
        colour = "red"
        [library]
        output_mode = "sideways"
        roots = ["/ok", 3]
        [counterparts]
        dub_roots = { de = 5 }
        [paths]
        "/data" = 7
    """.replace("\n        ", "\n"))
    with pytest.raises(ConfigError) as err:
        load_config(path, env={"SYNCDUB__JOBS__WORKERS": "-1"})
    assert sorted(err.value.problems) == sorted([
        "bogus_top: unknown setting",
        "server.colour: unknown setting",
        "server.port: must be at most 65535",
        "server.threads: must be an integer",
        "library.output_mode: must be one of replace, beside, folder",
        "library.roots: must be a list of strings",
        "counterparts.dub_roots: must be a table of strings",
        "jobs.workers: must be at least 0",
        "paths./data: must be a string path",
    ])


def test_section_given_as_a_value_is_reported_not_crashed(tmp_path):
    path = write(tmp_path / "c.toml", 'server = 5\npaths = "x"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert "server: must be a table (a [server] section)" in err.value.problems
    assert "paths: must be a table" in err.value.problems


def test_url_settings_need_scheme_and_host(tmp_path):
    for bad in ("ftp://x", "http://", "localhost:8096"):
        with pytest.raises(ConfigError) as err:
            load_config(write(tmp_path / "c.toml", ""), env={"SYNCDUB__SERVER__PUBLIC_URL": bad})
        assert err.value.problems == ["server.public_url: must be an http(s) URL"]
    ok = load_config(write(tmp_path / "c.toml", ""), env={"SYNCDUB__SERVER__PUBLIC_URL": "https://sd.lan:5000/"})
    assert ok.get("server.public_url") == "https://sd.lan:5000/"


@pytest.mark.parametrize("content,expected", [
    (None, "not found"),
    ("[server\n", "invalid TOML"),
    (b"\xff\xfe[server]", "not UTF-8"),
])
def test_unreadable_config_file_is_one_config_error(tmp_path, content, expected):
    path = tmp_path / "c.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError) as err:
        read_toml(path)
    assert len(err.value.problems) == 1 and expected in err.value.problems[0]


def test_config_path_that_is_a_folder(tmp_path):
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(tmp_path, env={})


@pytest.mark.parametrize("pair", ["server.port", "=5", "port=5", "server..port=1", ".port=1"])
def test_malformed_set_pairs(pair):
    with pytest.raises(ConfigError, match="expected section.key=value"):
        overrides_from_pairs([pair])


def test_set_pair_under_a_value_is_an_error_not_a_crash():
    with pytest.raises(ConfigError, match="not a table"):
        overrides_from_pairs(["server.port=1", "server.port.x=2"])


def test_set_value_keeps_equals_signs_and_text():
    layer = overrides_from_pairs(["webhooks.token=a=b=c", "server.host=::1"])
    assert layer["webhooks"]["token"] == "a=b=c"
    assert layer["server"]["host"] == "::1"


def test_redacted_masks_only_secrets_that_are_set(tmp_path):
    path = write(tmp_path / "c.toml", '[webhooks]\ntoken = "abcd-efgh"\n[webhooks.plex]\ntoken = "plex-tok"\n')
    config = load_config(path, env={"SYNCDUB__AUTH__SECRET_KEY": "k" * 32})
    shown = config.redacted()
    assert shown["webhooks"]["token"] == REDACTED
    assert shown["webhooks"]["plex"]["token"] == REDACTED
    assert shown["auth"]["secret_key"] == REDACTED
    assert shown["webhooks"]["jellyfin"]["token"] == ""  # unset stays visibly unset
    assert shown["server"]["port"] == 5000
    assert "abcd-efgh" not in repr(shown) and "plex-tok" not in repr(shown)
    assert config.get("webhooks.token") == "abcd-efgh"  # the real data is untouched
    assert sorted(config.secrets()) == sorted(["abcd-efgh", "plex-tok", "k" * 32])


def test_path_map_longest_server_prefix_first(tmp_path):
    path = write(tmp_path / "c.toml", '[paths]\n"/data" = "/mnt/data"\n"/data/tv" = "/mnt/tv"\n')
    config = load_config(path, env={})
    assert config.path_map == [("/data/tv", "/mnt/tv"), ("/data", "/mnt/data")]


def test_plugin_settings_are_defaulted_and_validated(tmp_path):
    extra = [Setting("demo.url", "", "Demo server.", "url"),
             Setting("demo.level", 3, "Demo level.", "int", minimum=1,
                     check=lambda v: "must be odd" if v % 2 == 0 else None)]
    path = write(tmp_path / "c.toml", '[demo]\nurl = "nope"\nlevel = 4\n')
    with pytest.raises(ConfigError) as err:
        load_config(path, env={}, plugin_settings=extra)
    assert sorted(err.value.problems) == ["demo.level: must be odd", "demo.url: must be an http(s) URL"]
    ok = load_config(write(tmp_path / "d.toml", ""), env={}, plugin_settings=extra)
    assert ok.get("demo.level") == 3


def test_plugins_section_checked_before_the_manager(tmp_path):
    section, problems = plugins_section({"plugins": {"dir": str(tmp_path / "missing"), "enable": "x"}}, env={})
    assert sorted(problems) == [f"plugins.dir: {tmp_path / 'missing'} is not a folder",
                                "plugins.enable: must be a list of strings"]
    section, problems = plugins_section({"plugins": {"disable": "$env:OFF"}}, env={"OFF": "a,b"})
    assert problems == [] and section["disable"] == ["a", "b"]


def test_broken_plugins_section_is_reported_with_the_rest(tmp_path):
    path = write(tmp_path / "c.toml", f'[plugins]\ndir = "{tmp_path / "nowhere"}"\n[server]\nport = 0\n')
    with pytest.raises(ConfigError) as err:
        load_config_and_plugins(path, env={})
    assert sorted(err.value.problems) == [f"plugins.dir: {tmp_path / 'nowhere'} is not a folder",
                                          "server.port: must be at least 1"]


HUGE = "9" * 5000  # past Python's 4,300-digit limit for int(), which raises a bare ValueError


def test_a_5000_digit_integer_is_a_config_error_from_every_layer(tmp_path):
    empty = write(tmp_path / "empty.toml", "")
    for kwargs in ({"env": {"SYNCDUB__JOBS__WORKERS": HUGE}},
                   {"env": {}, "overrides": overrides_from_pairs([f"jobs.workers={HUGE}"])}):
        with pytest.raises(ConfigError) as caught:
            load_config(empty, **kwargs)
        assert caught.value.problems == ["jobs.workers: must be an integer"]
    in_file = write(tmp_path / "huge.toml", f"[jobs]\nworkers = {HUGE}\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(in_file, env={})


NUMERIC = [s for s in CORE_SETTINGS if s.kind in ("int", "float")]


@pytest.mark.parametrize("setting", NUMERIC, ids=lambda s: s.path)
def test_every_core_number_has_a_range_holding_its_default(setting):
    assert setting.minimum is not None and setting.maximum is not None, setting.path
    assert setting.minimum <= setting.default <= setting.maximum


@pytest.mark.parametrize("setting", NUMERIC, ids=lambda s: s.path)
def test_every_core_number_is_refused_just_past_its_maximum_from_every_layer(tmp_path, setting):
    section, key = setting.path.rsplit(".", 1)
    above = setting.maximum + 1
    expected = f"{setting.path}: must be at most {setting.maximum:.15g}"
    layers = [({"env": {f"SYNCDUB__{section.upper()}__{key.upper()}": str(above)}}, ""),
              ({"env": {}, "overrides": overrides_from_pairs([f"{setting.path}={above}"])}, ""),
              ({"env": {}}, f"[{section}]\n{key} = {above}\n")]
    for kwargs, text in layers:
        with pytest.raises(ConfigError) as caught:
            load_config(write(tmp_path / "c.toml", text), **kwargs)
        assert caught.value.problems == [expected], kwargs


def test_the_probe_s_workers_value_is_refused(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path / "c.toml", "[jobs]\nworkers = 99999999999999999999999\n"), env={})
    assert caught.value.problems == ["jobs.workers: must be at most 32"]


@pytest.mark.parametrize("literal", ["nan", "inf", "-inf"])
def test_floats_must_be_finite(tmp_path, literal):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path / "c.toml", f"[counterparts]\nmin_score = {literal}\n"), env={})
    assert caught.value.problems == ["counterparts.min_score: must be a finite number"]


def test_a_number_without_a_declared_maximum_still_has_one():
    from syncdub_companion.config import FALLBACK_LIMIT, check_value

    open_ended = Setting("x.timeout", 10, "Seconds.", "int", minimum=1)
    assert check_value(open_ended, FALLBACK_LIMIT) is None
    assert check_value(open_ended, 10**23) == f"must be at most {FALLBACK_LIMIT}"
    assert check_value(Setting("x.offset", 0, "Any.", "int"), -(10**23)) == f"must be at least {-FALLBACK_LIMIT}"


@pytest.mark.parametrize("text,expected", [
    ('[plugins]\ndir = "/tmp/' + "d" * 300 + '"\n', "plugins.dir: '/tmp/ddd"),
    ('[library]\nroots = ["/media/\\u0000x"]\n', "library.roots: '/media/\\x00x' contains a NUL character"),
    ('[counterparts]\ndub_roots = { de = "/d/' + "e" * 256 + '" }\n', "counterparts.dub_roots: '/d/eee"),
    ('[paths]\n"/srv/\\u0000" = "/media"\n', "paths./srv/\x00: contains a NUL character"),
])
def test_paths_no_file_call_could_take_are_config_errors_not_crashes(tmp_path, text, expected):
    with pytest.raises(ConfigError) as caught:
        load_config_and_plugins(write(tmp_path / "c.toml", text), env={})
    assert len(caught.value.problems) == 1 and caught.value.problems[0].startswith(expected), caught.value.problems


def test_relative_folders_in_the_file_are_taken_from_the_files_folder(tmp_path, monkeypatch):
    home = tmp_path / "etc"
    (home / "plugins").mkdir(parents=True)
    path = write(home / "config.toml", '[library]\nroots = ["lib", "/abs/lib", "~/lib"]\n'
                                       '[counterparts]\ndub_roots = { de = "../dubs/de", en = "dubs/en" }\n'
                                       '[plugins]\ndir = "plugins"\n[tools]\nffmpeg = "bin/ffmpeg"\n')
    monkeypatch.chdir(tmp_path)
    config = load_config(path, env={"SYNCDUB__COUNTERPARTS__DUB_ROOTS__EN": "here/en"})
    assert config.get("library.roots") == [str(home / "lib"), "/abs/lib", "~/lib"]
    assert config.get("counterparts.dub_roots") == {"de": str(tmp_path / "dubs" / "de"), "en": str(tmp_path / "here" / "en")}
    assert config.get("plugins.dir") == str(home / "plugins")  # and it exists there, so it validates
    assert config.get("tools.ffmpeg") == "bin/ffmpeg"  # a program, not a folder: left alone
    assert config.get("server.data_dir") == str(home / "data")  # the default too, beside the file


def test_without_a_file_relative_folders_are_the_current_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config, _ = load_config_and_plugins(None, env={})
    assert config.source is None and config.data_dir == tmp_path / "data"


def test_plugins_dir_is_found_beside_the_file_before_plugins_load(tmp_path, monkeypatch):
    (tmp_path / "cfg" / "extra").mkdir(parents=True)
    (tmp_path / "cfg" / "extra" / "hello.py").write_text(
        "from syncdub_companion import hookimpl\n\n@hookimpl\ndef syncdub_register_routes():\n    return []\n")
    path = write(tmp_path / "cfg" / "config.toml", '[plugins]\ndir = "extra"\n')
    monkeypatch.chdir(tmp_path)
    _, pm = load_config_and_plugins(path, env={})
    assert pm.has_plugin("hello")


def test_a_broker_url_without_credentials_is_not_a_secret_but_one_with_a_password_is(tmp_path):
    plain = load_config(write(tmp_path / "a.toml", '[queue]\nurl = "redis://10.0.0.5:6379/0"\n'), env={})
    assert plain.redacted()["queue"]["url"] == "redis://10.0.0.5:6379/0"
    assert "redis://10.0.0.5:6379/0" not in plain.secrets()
    locked = load_config(write(tmp_path / "b.toml", '[queue]\nurl = "redis://:s3cretPassw0rd@nas:6379/0"\n'), env={})
    assert locked.redacted()["queue"]["url"] == REDACTED
    assert "redis://:s3cretPassw0rd@nas:6379/0" in locked.secrets()
