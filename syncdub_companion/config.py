"""Loading, layering and validating the configuration.

Precedence, lowest first: built-in defaults, the TOML file, environment variables
``SYNCDUB__SECTION__KEY``, then CLI overrides. A string value ``"$env:NAME"`` is read from
the environment, so secrets can stay out of the file.
"""
from __future__ import annotations

import copy
import os
import tomllib
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import urlparse

from .errors import ConfigError
from .settings import CORE_SETTINGS, FREE_TABLE_SECTIONS, Setting

REDACTED = "********"
CONTAINER_CONFIG = Path("/config/config.toml")


def find_config_file(explicit: str | os.PathLike | None, env: Mapping[str, str]) -> Path | None:
    """The file to read: --config, else $SYNCDUB_CONFIG, else ./config.toml, else /config/config.toml."""
    if explicit:
        return Path(explicit)
    if env.get("SYNCDUB_CONFIG"):
        return Path(env["SYNCDUB_CONFIG"])
    for candidate in (Path("config.toml"), CONTAINER_CONFIG):
        if candidate.is_file():
            return candidate
    return None


def read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path}: not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: invalid TOML: {exc}") from None


def env_layer(env: Mapping[str, str]) -> dict:
    """Nested dict from SYNCDUB__SECTION__KEY variables; values parse as TOML literals when they can."""
    layer: dict = {}
    for name, raw in env.items():
        if not name.startswith("SYNCDUB__"):
            continue
        parts = [p.lower() for p in name[len("SYNCDUB__"):].split("__") if p]
        if len(parts) < 2:
            continue
        node = layer
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = _parse_literal(raw)
    return layer


def _parse_literal(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def deep_merge(base: dict, top: Mapping) -> dict:
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def overrides_from_pairs(pairs: Iterable[str]) -> dict:
    """``["server.port=5001"]`` -> ``{"server": {"port": 5001}}`` (CLI ``--set``)."""
    layer: dict = {}
    for pair in pairs:
        path, sep, raw = pair.partition("=")
        if not sep:
            raise ConfigError(f"--set {pair}: expected section.key=value")
        *sections, key = path.strip().split(".")
        node = layer
        for part in sections:
            node = node.setdefault(part, {})
        node[key] = _parse_literal(raw.strip())
    return layer


class Config:
    """Validated settings. Read with ``config.get("server.port")`` or ``config["server"]["port"]``."""

    def __init__(self, data: dict, settings: list[Setting], source: Path | None = None):
        self.data = data
        self.settings = {s.path: s for s in settings}
        self.source = source

    def get(self, path: str, default: Any = None) -> Any:
        node: Any = self.data
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node

    def __getitem__(self, section: str) -> dict:
        return self.data.get(section, {})

    def section(self, name: str) -> dict:
        return dict(self.data.get(name, {}))

    @property
    def data_dir(self) -> Path:
        return Path(self.get("server.data_dir")).expanduser()

    @property
    def library_roots(self) -> list[Path]:
        return [Path(r).expanduser() for r in self.get("library.roots", [])]

    @property
    def path_map(self) -> list[tuple[str, str]]:
        """(server prefix, local prefix) pairs, longest server prefix first."""
        pairs = [(str(k), str(v)) for k, v in self.data.get("paths", {}).items()]
        return sorted(pairs, key=lambda p: len(p[0]), reverse=True)

    def redacted(self) -> dict:
        """A copy safe to print or render: every secret that is set shows as ********."""
        out = copy.deepcopy(self.data)
        for setting in self.settings.values():
            if setting.secret:
                node = out
                *parents, key = setting.path.split(".")
                for part in parents:
                    node = node.get(part, {})
                if node.get(key):
                    node[key] = REDACTED
        return out

    def secrets(self) -> list[str]:
        """Every secret value that is set, so the log filter can scrub them."""
        return [v for p, s in self.settings.items() if s.secret and (v := self.get(p))]


def defaults_of(settings: list[Setting]) -> dict:
    data: dict = {name: {} for name in FREE_TABLE_SECTIONS}
    for setting in settings:
        node = data
        *parents, key = setting.path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[key] = copy.deepcopy(setting.default)
    return data


def load_raw(path: str | os.PathLike | None = None, env: Mapping[str, str] | None = None,
             overrides: Mapping | None = None) -> tuple[dict, Path | None]:
    """File, environment and CLI layers merged, not yet validated or defaulted."""
    env = os.environ if env is None else env
    source = find_config_file(path, env)
    raw = read_toml(source) if source else {}
    raw = deep_merge(raw, env_layer(env))
    raw = deep_merge(raw, overrides or {})
    return raw, source


def build_config(raw: dict, settings: list[Setting], source: Path | None = None,
                 env: Mapping[str, str] | None = None) -> Config:
    """Apply defaults, resolve $env: values, and validate; raises ConfigError listing every problem."""
    env = os.environ if env is None else env
    data = deep_merge(defaults_of(settings), _resolve_env_refs(raw, env))
    problems = validate(data, settings)
    if problems:
        raise ConfigError(problems)
    return Config(data, settings, source)


def _resolve_env_refs(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: _resolve_env_refs(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve_env_refs(v, env) for v in node]
    if isinstance(node, str) and node.startswith("$env:"):
        return env.get(node[5:], "")
    return node


def validate(data: dict, settings: list[Setting]) -> list[str]:
    """Every problem as ``path: message``; an empty list means valid."""
    by_path = {s.path: s for s in settings}
    problems = [f"{path}: unknown setting" for path in _unknown_paths(data, by_path)]
    for setting in settings:
        value = _lookup(data, setting.path)
        message = check_value(setting, value)
        if message:
            problems.append(f"{setting.path}: {message}")
    for name in FREE_TABLE_SECTIONS:
        for key, value in data.get(name, {}).items():
            if not isinstance(value, str):
                problems.append(f"{name}.{key}: must be a string path")
    return problems


def _lookup(data: dict, path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _unknown_paths(data: dict, by_path: dict[str, Setting], prefix: str = "") -> list[str]:
    unknown = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        if not prefix and key in FREE_TABLE_SECTIONS:
            continue
        if path in by_path:
            continue
        if isinstance(value, dict) and any(p.startswith(path + ".") for p in by_path):
            unknown += _unknown_paths(value, by_path, path + ".")
        else:
            unknown.append(path)
    return unknown


def check_value(setting: Setting, value: Any) -> str | None:
    """A message when ``value`` does not fit ``setting``, else None."""
    kind = setting.kind
    message = None
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        message = "must be an integer"
    elif kind == "float" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        message = "must be a number"
    elif kind == "bool" and not isinstance(value, bool):
        message = "must be true or false"
    elif kind == "list" and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        message = "must be a list of strings"
    elif kind == "table" and not (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
        message = "must be a table of strings"
    elif kind in ("str", "url", "choice") and not isinstance(value, str):
        message = "must be a string"
    elif kind == "url" and value and urlparse(value).scheme not in ("http", "https"):
        message = "must be an http(s) URL"
    elif kind == "choice" and value not in setting.choices:
        message = f"must be one of {', '.join(setting.choices)}"
    if message is None and setting.minimum is not None and value < setting.minimum:
        message = f"must be at least {setting.minimum:g}"
    if message is None and setting.check is not None:
        message = setting.check(value)
    return message


def load_config(path: str | os.PathLike | None = None, env: Mapping[str, str] | None = None,
                overrides: Mapping | None = None, plugin_settings: list[Setting] | None = None) -> Config:
    """Defaults + file + env + overrides, validated against core and plugin settings."""
    raw, source = load_raw(path, env, overrides)
    return build_config(raw, CORE_SETTINGS + list(plugin_settings or []), source, env)
