"""Docs cannot drift from the settings registry: config.example.toml and docs/configuration.md."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from syncdub_companion.example_config import render, render_markdown
from syncdub_companion.services import load_config_and_plugins
from syncdub_companion.settings import FREE_TABLE_SECTIONS

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"
DOCS = ROOT / "docs" / "configuration.md"
REGENERATE = "regenerate it: syncdub config example --config /dev/null > config.example.toml"


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """Every setting: core plus those of the plugins installed by default."""
    empty = tmp_path_factory.mktemp("cfg") / "empty.toml"
    empty.write_text("")
    config, _ = load_config_and_plugins(empty, env={})
    return list(config.settings.values())


def leaf_paths(node: dict, tables: set[str], prefix: str = "") -> dict[str, object]:
    """Dotted path -> value of every key; settings whose value is a table count as one key."""
    out = {}
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and path not in tables:
            out.update(leaf_paths(value, tables, path + "."))
        else:
            out[path] = value
    return out


def test_registry_is_sane(registry):
    paths = [s.path for s in registry]
    assert len(paths) == len(set(paths)), "a setting is registered twice"
    for setting in registry:
        assert setting.help.strip(), f"{setting.path} has no help text"
        assert "." in setting.path and setting.path == setting.path.lower(), setting.path
        assert not setting.choices or setting.default in setting.choices, setting.path


def test_example_config_holds_every_setting_with_its_default(registry):
    parsed = tomllib.loads(EXAMPLE.read_text())
    tables = {s.path for s in registry if s.kind == "table"}
    found = leaf_paths({k: v for k, v in parsed.items() if k not in FREE_TABLE_SECTIONS}, tables)
    expected = {s.path: s.default for s in registry}
    missing = sorted(set(expected) - set(found))
    stale = sorted(set(found) - set(expected))
    assert not missing, f"config.example.toml lacks {missing}; {REGENERATE}"
    assert not stale, f"config.example.toml has unknown keys {stale}; {REGENERATE}"
    wrong = [p for p in expected if found[p] != expected[p]]
    assert not wrong, f"defaults differ for {wrong}; {REGENERATE}"
    for name in FREE_TABLE_SECTIONS:
        assert f"[{name}]" in EXAMPLE.read_text()


def test_example_config_comments_every_key(registry):
    lines = EXAMPLE.read_text().splitlines()
    for setting in registry:
        section = lines.index(f"[{setting.section}]")
        key_line = next(i for i in range(section + 1, len(lines)) if lines[i].startswith(f"{setting.key} = "))
        assert lines[key_line - 1].startswith(f"# {setting.help}"), setting.path


def test_example_config_is_up_to_date(registry):
    assert EXAMPLE.read_text() == render(registry), REGENERATE


def test_example_config_loads_as_a_valid_config(tmp_path):
    config, _ = load_config_and_plugins(EXAMPLE, env={})
    assert config.get("server.port") == 5000


def test_docs_list_every_setting_with_default_and_help(registry):
    docs = DOCS.read_text()
    rows = [line for line in render_markdown(registry).splitlines() if line.startswith("| `")]
    assert len(rows) == len(registry)
    missing = [row.split(" | ")[0].strip("| `") for row in rows if row not in docs]
    assert not missing, (f"docs/configuration.md lacks or misstates {missing}; "
                         "regenerate its last part with `syncdub config reference --config /dev/null`")


def test_docs_explain_layers_env_and_indirection():
    docs = DOCS.read_text()
    for phrase in ("SYNCDUB__SECTION__KEY", "SYNCDUB_CONFIG", "--set", "$env:", "/config/config.toml",
                   "exits with status 2", "********"):
        assert phrase in docs, phrase


def test_render_groups_split_sections_into_one_table():
    from syncdub_companion.settings import Setting

    settings = [Setting("a.x", 1, "x"), Setting("a.b.y", 2, "y"), Setting("a.z", "3", "z")]
    text = render(settings)
    assert text.count("[a]") == 1
    assert tomllib.loads(text) == {"a": {"x": 1, "z": "3", "b": {"y": 2}}, "paths": {}}
