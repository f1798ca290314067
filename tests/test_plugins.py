"""The plugin manager: built-ins, entry points, the plugin folder, enable lists, checks, docs."""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from syncdub_companion.errors import ConfigError, PluginError
from syncdub_companion.plugins import (build_plugin_manager, builtin_modules, describe_plugins, hook_signature,
                                       hook_specs)
from syncdub_companion.services import load_config_and_plugins

SAMPLES = Path(__file__).resolve().parent / "plugins" / "sample_plugins"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
SYNCDUB = Path(sys.executable).parent / "syncdub"


def plugin_dir(tmp_path: Path, *names: str) -> Path:
    """A fresh plugin folder holding copies of the named sample plugins."""
    folder = tmp_path / "plugin-dir"
    folder.mkdir(exist_ok=True)
    for name in names:
        source = SAMPLES / name
        if source.is_dir():
            shutil.copytree(source, folder / name)
        else:
            shutil.copy(source, folder / name)
    return folder


def plugin_site(tmp_path: Path, entries: dict[str, str]) -> Path:
    """A site folder with an installed distribution whose entry points (group syncdub) are ``entries``.

    ``entries`` maps the entry-point name to a sample file, installed as module ``syncdub_<name>``.
    """
    site = tmp_path / "site"
    info = site / "syncdub_test_plugins-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: syncdub-test-plugins\nVersion: 0.1\n")
    lines = ["[syncdub]"]
    for name, sample in entries.items():
        shutil.copy(SAMPLES / sample, site / f"syncdub_{name}.py")
        lines.append(f"{name} = syncdub_{name}")
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return site


def run_cli(args: list[str], cwd: Path, **extra_env) -> subprocess.CompletedProcess:
    """The real console script, with no SYNCDUB_* variables leaking in from this process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCDUB")}
    env.update(extra_env)
    return subprocess.run([str(SYNCDUB), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def names(pm) -> set[str]:
    return {pm.get_name(p) for p in pm.get_plugins()}


@pytest.fixture
def entry_site(tmp_path, monkeypatch):
    site = plugin_site(tmp_path, {"ep_sample": "ep_sample.py", "ep_broken": "ep_broken.py"})
    monkeypatch.syspath_prepend(str(site))
    yield site
    for module in ("syncdub_ep_sample", "syncdub_ep_broken"):
        sys.modules.pop(module, None)


def test_builtins_are_registered_under_their_module_names():
    pm = build_plugin_manager({}, load_entry_points=False)
    expected = {m.split(".", 1)[1] for m in builtin_modules()}
    assert names(pm) == expected
    assert all(pm.origins[n] == "built-in" for n in expected)
    assert not any(m.split(".")[-1].startswith("_") for m in builtin_modules())


def test_plugin_folder_module_and_package_are_loaded(tmp_path):
    folder = plugin_dir(tmp_path, "hello.py", "pkg_plugin")
    pm = build_plugin_manager({"dir": str(folder)}, load_entry_points=False)
    assert {"hello", "pkg_plugin"} <= names(pm)
    # only these two from here on, so built-ins' hooks stay out of the calls below
    pm = build_plugin_manager({"dir": str(folder), "enable": ["hello", "pkg_plugin"]}, load_entry_points=False)
    assert pm.origins["hello"] == f"plugin folder ({folder / 'hello.py'})"
    pm.hook.syncdub_job_finished(job={"id": 7}, services=None)
    assert pm.get_plugin("hello").CALLS == [{"id": 7}]
    # the package's relative import of its helper module worked
    found = pm.hook.syncdub_find_counterparts(item="film", services=None)
    assert ["dub-of-film"] in found


def test_entry_point_plugin_is_loaded_and_broken_one_skipped(entry_site, caplog):
    with caplog.at_level(logging.WARNING, logger="syncdub_companion.plugins"):
        pm = build_plugin_manager({})
    assert "ep_sample" in names(pm) and "ep_broken" not in names(pm)
    assert pm.origins["ep_sample"] == "entry point (syncdub-test-plugins)"
    pm = build_plugin_manager({"enable": ["ep_sample"]})
    assert pm.hook.syncdub_output_path(item="a", dub=None, mode="beside", services=None) == "/out/a.beside.mkv"
    warning = [r.getMessage() for r in caplog.records if "ep_broken" in r.getMessage()]
    assert len(warning) == 1 and "missing its API key" in warning[0] and "skipped" in warning[0]


def test_plugin_that_fails_to_import_is_logged_and_skipped(tmp_path, caplog):
    folder = plugin_dir(tmp_path, "hello.py", "broken_import.py")
    with caplog.at_level(logging.WARNING, logger="syncdub_companion.plugins"):
        pm = build_plugin_manager({"dir": str(folder)}, load_entry_points=False)
    assert "hello" in names(pm) and "broken_import" not in names(pm)
    assert any("broken_import" in r.getMessage() and "ModuleNotFoundError" in r.getMessage()
               for r in caplog.records)
    assert "syncdub_plugin_dir.broken_import" not in sys.modules


@pytest.mark.parametrize("sample,hook,hint", [
    ("misspelt.py", "syncdub_resolve_itme", "did you mean syncdub_resolve_item?"),
    ("undecorated.py", "syncdub_job_finshed", "did you mean syncdub_job_finished?"),
])
def test_unknown_hook_stops_startup_naming_it(tmp_path, sample, hook, hint):
    folder = plugin_dir(tmp_path, sample)
    with pytest.raises(PluginError) as err:
        build_plugin_manager({"dir": str(folder)}, load_entry_points=False)
    message = str(err.value)
    assert hook in message and Path(sample).stem in message and hint in message


def test_wrong_hook_signature_is_fatal(tmp_path):
    folder = plugin_dir(tmp_path, "bad_signature.py")
    with pytest.raises(PluginError) as err:
        build_plugin_manager({"dir": str(folder)}, load_entry_points=False)
    assert "bad_signature" in str(err.value) and "colour" in str(err.value)


def test_disable_list_switches_plugins_off_without_importing_them(tmp_path, caplog):
    folder = plugin_dir(tmp_path, "hello.py", "broken_import.py", "misspelt.py")
    with caplog.at_level(logging.WARNING, logger="syncdub_companion.plugins"):
        pm = build_plugin_manager({"dir": str(folder), "disable": ["broken_import", "misspelt"]},
                                  load_entry_points=False)
    assert "hello" in names(pm)
    assert not {"broken_import", "misspelt"} & names(pm)
    assert caplog.records == []  # the broken one was never imported, so nothing to warn about


def test_enable_list_keeps_only_the_named_plugins(tmp_path, entry_site):
    folder = plugin_dir(tmp_path, "hello.py", "pkg_plugin")
    pm = build_plugin_manager({"dir": str(folder), "enable": ["hello", "ep_sample"]})
    assert names(pm) == {"hello", "ep_sample"}


def test_unknown_names_in_enable_lists_are_warned(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="syncdub_companion.plugins"):
        build_plugin_manager({"disable": ["no_such_plugin"]}, load_entry_points=False)
    assert any("no_such_plugin" in r.getMessage() for r in caplog.records)


def test_folder_plugin_with_a_taken_name_is_skipped(tmp_path, caplog):
    if not builtin_modules():
        pytest.skip("no built-in plugins to clash with")
    taken = builtin_modules()[0].split(".", 1)[1]
    folder = tmp_path / "plugin-dir"
    folder.mkdir()
    (folder / f"{taken}.py").write_text("raise SystemExit('must not be imported')\n")
    with caplog.at_level(logging.WARNING, logger="syncdub_companion.plugins"):
        pm = build_plugin_manager({"dir": str(folder)}, load_entry_points=False)
    assert pm.origins[taken] == "built-in"
    assert any("already loaded" in r.getMessage() for r in caplog.records)


def test_missing_plugin_folder_is_a_plugin_error(tmp_path):
    with pytest.raises(PluginError, match="plugins.dir"):
        build_plugin_manager({"dir": str(tmp_path / "nope")}, load_entry_points=False)


def test_plugin_settings_join_the_validated_config(tmp_path):
    folder = plugin_dir(tmp_path, "hello.py")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[plugins]\ndir = "{folder}"\n[hello]\nurl = "gopher://x"\n[server]\nport = "x"\n')
    with pytest.raises(ConfigError) as err:
        load_config_and_plugins(cfg, env={})
    assert sorted(err.value.problems) == ["hello.url: must be an http(s) URL", "server.port: must be an integer"]
    cfg.write_text(f'[plugins]\ndir = "{folder}"\n[hello]\npassword = "open-sesame"\n')
    config, pm = load_config_and_plugins(cfg, env={})
    assert config.get("hello.greeting") == "hi"
    assert "open-sesame" in config.secrets()
    # a switched-off plugin's section may stay in the file; without the plugin it is unknown
    cfg.write_text(f'[plugins]\ndir = "{folder}"\ndisable = ["hello"]\n[hello]\ngreeting = "yo"\n')
    config, _ = load_config_and_plugins(cfg, env={})
    assert config.get("hello") is None
    cfg.write_text('[hello]\ngreeting = "yo"\n')
    with pytest.raises(ConfigError) as err:
        load_config_and_plugins(cfg, env={})
    assert err.value.problems == ["hello: unknown section (no installed plugin uses it)"]


def test_tracing_logs_every_hook_call(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("SYNCDUB_TRACE_PLUGINS", "1")
    pm = build_plugin_manager({"dir": str(plugin_dir(tmp_path, "hello.py")), "enable": ["hello"]},
                              load_entry_points=False)
    with caplog.at_level(logging.INFO, logger="syncdub_companion.plugins"):
        pm.hook.syncdub_job_finished(job={"id": 3}, services=None)
    traced = [r.getMessage() for r in caplog.records if r.getMessage().startswith("hook ")]
    assert any("syncdub_job_finished" in m and "'id': 3" in m for m in traced)


def test_describe_plugins_lists_hooks_and_origin(tmp_path):
    pm = build_plugin_manager({"dir": str(plugin_dir(tmp_path, "hello.py"))}, load_entry_points=False)
    row = next(r for r in describe_plugins(pm) if r["name"] == "hello")
    assert row["hooks"] == ["syncdub_job_finished", "syncdub_register_settings"]
    assert row["origin"].startswith("plugin folder") and row["source"].endswith("hello.py")


def test_cli_lists_entry_point_and_folder_plugins(tmp_path):
    site = plugin_site(tmp_path, {"ep_sample": "ep_sample.py", "ep_broken": "ep_broken.py"})
    folder = plugin_dir(tmp_path, "hello.py")
    (tmp_path / "config.toml").write_text(f'[plugins]\ndir = "{folder}"\n')
    proc = run_cli(["plugins", "--json"], tmp_path, PYTHONPATH=str(site))
    assert proc.returncode == 0, proc.stderr
    rows = {r["name"]: r for r in json.loads(proc.stdout)}
    assert rows["ep_sample"]["hooks"] == ["syncdub_library_changed", "syncdub_output_path"]
    assert rows["ep_sample"]["origin"] == "entry point (syncdub-test-plugins)"
    assert rows["hello"]["origin"].startswith("plugin folder")
    assert "ep_broken" not in rows
    # the broken entry point is reported once, as a log line, not as a traceback
    assert [line for line in proc.stderr.splitlines() if "ep_broken" in line] == [
        "plugin ep_broken (entry point syncdub_ep_broken) failed to load and is skipped: "
        "RuntimeError: ep_broken cannot start: missing its API key"]
    assert "Traceback" not in proc.stderr
    text = run_cli(["plugins"], tmp_path, PYTHONPATH=str(site))
    assert "ep_sample [entry point (syncdub-test-plugins)]: syncdub_library_changed, syncdub_output_path" in text.stdout
    assert re.search(r"^hello \[plugin folder .*\]: syncdub_job_finished, syncdub_register_settings$",
                     text.stdout, re.M)


def test_cli_unknown_hook_exits_with_one_line_naming_it(tmp_path):
    folder = plugin_dir(tmp_path, "misspelt.py")
    for args in (["plugins"], ["config", "check"]):
        proc = run_cli([*args, "--set", f"plugins.dir={folder}"], tmp_path)
        assert proc.returncode == 3
        assert "Traceback" not in proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "syncdub_resolve_itme" in lines[0] and "misspelt" in lines[0]


def test_cli_prints_the_hook_reference(tmp_path):
    proc = run_cli(["plugins", "--hooks"], tmp_path)
    assert proc.returncode == 0
    for spec in hook_specs():
        assert hook_signature(spec) in proc.stdout


def _normalise(text: str) -> str:
    return " ".join(text.split())


def test_docs_show_every_hook_with_its_exact_signature_and_docstring():
    docs = DOCS.read_text()
    specs = hook_specs()
    assert len(specs) >= 10
    for spec in specs:
        assert f"```python\n{hook_signature(spec)}\n```" in docs, f"{spec.__name__} signature missing from docs/plugins.md"
        assert _normalise(textwrap.dedent(spec.__doc__)) in _normalise(docs), f"{spec.__name__} docstring differs"
        firstresult = bool(spec.syncdub_spec.get("firstresult"))
        section = docs.split(f"### `{spec.__name__}`", 1)[1].split("### ", 1)[0]
        assert ("firstresult" in section) == firstresult, spec.__name__
