"""Loading, layering and validating the configuration.

Precedence, lowest first: built-in defaults, the TOML file, environment variables
``SYNCDUB__SECTION__KEY``, then CLI overrides. A string value ``"$env:NAME"`` is read from
the environment, so secrets can stay out of the file.
"""
from __future__ import annotations

import copy
import math
import os
import tomllib
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import urlparse

from .errors import ConfigError
from .logs import url_secret_pieces
from .paths import path_problem
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
    """The parsed file; ConfigError (one line) when it is missing, unreadable or not TOML."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path}: not found") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path}: is a folder, not a file") from None
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: invalid TOML: {exc}") from None
    except ValueError as exc:  # an integer past Python's 4,300-digit limit is no TOMLDecodeError
        raise ConfigError(f"config file {path}: invalid TOML: {str(exc).split(';')[0]}") from None


class RawText(str):
    """Text from an environment variable, ``--set`` or ``$env:``, typed later by its setting.

    Environment and command line carry only text, so ``SYNCDUB__WEBHOOKS__TOKEN=1234``
    must stay the string "1234" while ``SYNCDUB__SERVER__PORT=5001`` becomes an int;
    only the setting's kind can tell, and that is known once plugins have registered.
    """


def env_layer(env: Mapping[str, str]) -> dict:
    """Nested dict from SYNCDUB__SECTION__KEY variables; values stay text until typed by their setting."""
    layer: dict = {}
    for name, raw in sorted(env.items()):
        if not name.startswith("SYNCDUB__"):
            continue
        parts = [p.lower() for p in name[len("SYNCDUB__"):].split("__") if p]
        if len(parts) < 2:
            continue
        _set_path(layer, parts, RawText(raw), f"environment variable {name}")
    return layer


def _set_path(layer: dict, parts: list[str], value: Any, origin: str) -> None:
    node = layer
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{origin}: {'.'.join(parts)} is inside a setting that is not a table")
    if isinstance(node.get(parts[-1]), dict):
        raise ConfigError(f"{origin}: {'.'.join(parts)} is a table, not a single value")
    node[parts[-1]] = value


def _parse_literal(raw: str) -> Any:
    """``raw`` as a TOML value, or ``raw`` itself when it is not one."""
    if "\n" in raw:  # a newline would let the text smuggle in more TOML keys
        return raw
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except ValueError:  # TOMLDecodeError, or an integer past Python's 4,300-digit limit
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
    """``["server.port=5001"]`` -> ``{"server": {"port": "5001"}}`` (CLI ``--set``), typed later."""
    layer: dict = {}
    for pair in pairs:
        path, sep, raw = pair.partition("=")
        parts = [p.strip() for p in path.strip().split(".")]
        if not sep or len(parts) < 2 or not all(parts):
            raise ConfigError(f"--set {pair}: expected section.key=value")
        _set_path(layer, parts, RawText(raw.strip()), f"--set {pair}")
    return layer


_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


def coerce_text(setting: Setting | None, text: str) -> Any:
    """Type text from the environment or CLI by its setting's kind (see :class:`RawText`).

    String kinds take the text as it is (a quoted TOML string is unquoted); others parse it
    as a TOML value; lists also accept ``de,fr``; bools also accept yes/no/on/off/1/0.
    Text that does not parse is returned unchanged, so validation names the problem.
    """
    kind = setting.kind if setting else None
    parsed = _parse_literal(text)
    if kind in ("str", "url", "choice"):
        return parsed if isinstance(parsed, str) else str(text)
    if kind == "bool" and text.strip().lower() in _TRUE | _FALSE:
        return text.strip().lower() in _TRUE
    if kind == "list" and not isinstance(parsed, list):
        return [item.strip() for item in text.split(",") if item.strip()]
    return parsed if parsed is not text else str(text)


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
                if secret_texts(node.get(key)):
                    node[key] = REDACTED
        return out

    def secrets(self) -> list[str]:
        """Every secret value that is set, so the log filter can scrub them (see :func:`secret_texts`)."""
        return [text for p, s in self.settings.items() if s.secret for text in secret_texts(self.get(p))]


def secret_texts(value: Any) -> list[str]:
    """A secret setting's value as the texts to mask: each entry of a list; of a URL (an
    Apprise notification URL, say) also the pieces of it that look like ids or tokens (see
    :func:`~syncdub_companion.logs.url_secret_pieces`), because a library may log a URL in
    pieces."""
    if isinstance(value, list):
        return [text for entry in value for text in secret_texts(entry)]
    if not isinstance(value, str) or not value:
        return []
    if "://" not in value:
        return [value]
    # A URL with neither credentials nor token-like pieces (redis://127.0.0.1:6379/0) holds
    # nothing secret; masking it would only hide where the service connects.
    pieces = url_secret_pieces(value)
    return [value, *pieces] if pieces or _has_userinfo(value) else []


def _has_userinfo(url: str) -> bool:
    return "@" in urlparse(url).netloc


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
    """Apply defaults, resolve $env: values, type text, anchor relative folders, validate;
    ConfigError lists every problem."""
    data, problems = resolve(raw, settings, env, base_folder(source))
    if problems:
        raise ConfigError(problems)
    return Config(data, settings, source)


def base_folder(source: str | os.PathLike | None) -> Path:
    """Where relative folders in the file point from: the file's own folder (not the shell's).

    With no file (built-in defaults) it is the current folder; the Docker image works in
    /config beside /config/config.toml, so both give /config there.
    """
    return Path(os.path.abspath(source)).parent if source else Path.cwd()


def resolve(raw: dict, settings: list[Setting], env: Mapping[str, str] | None = None,
            base: Path | None = None) -> tuple[dict, list[str]]:
    """``raw`` over the defaults with $env: resolved, text typed and relative folders made
    absolute (file values and defaults from ``base``, environment and --set values from the
    current folder), plus every problem found."""
    env = os.environ if env is None else env
    problems: list[str] = []
    resolved = _resolve_env_refs(raw, env, "", problems)
    data = deep_merge(defaults_of(settings), resolved)
    typed_text = _raw_text_paths(data)
    _type_text(data, {s.path: s for s in settings})
    _anchor_folders(data, settings, base or Path.cwd(), typed_text)
    return data, problems + validate(data, settings)


def _raw_text_paths(node: dict, prefix: str = "") -> set[str]:
    """Dotted paths holding text from the environment or --set (RawText), at any depth."""
    found = set()
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            found |= _raw_text_paths(value, path + ".")
        elif isinstance(value, RawText) or (isinstance(value, list) and any(isinstance(v, RawText) for v in value)):
            found.add(path)
    return found


def _anchor_folders(data: dict, settings: list[Setting], base: Path, from_text: set[str]) -> None:
    """Make every relative folder of an ``fs`` setting absolute, in place.

    A value typed on the command line or in the environment is relative to the current
    folder, as a shell user expects; one written in the file is relative to the file.
    """
    cwd = Path.cwd()
    for setting in settings:
        if not setting.fs:
            continue
        *parents, key = setting.path.split(".")
        node: Any = data
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or key not in node:
            continue
        origin = cwd if setting.path in from_text else base
        value = node[key]
        if isinstance(value, str):
            node[key] = anchored(value, origin)
        elif isinstance(value, list):
            node[key] = [anchored(v, origin) for v in value]
        elif isinstance(value, dict):
            node[key] = {k: anchored(v, cwd if f"{setting.path}.{k}" in from_text else origin)
                         for k, v in value.items()}


def anchored(value: Any, base: Path) -> Any:
    """``value`` joined to ``base`` when it is a relative folder; anything else unchanged
    (absolute, ``~``, empty, not text, or text no file call could take: validation says why)."""
    if not isinstance(value, str) or not value or value.startswith("~") or os.path.isabs(value) or path_problem(value):
        return value
    return os.path.normpath(os.path.join(base, value))


def _resolve_env_refs(node: Any, env: Mapping[str, str], path: str, problems: list[str]) -> Any:
    if isinstance(node, dict):
        return {k: _resolve_env_refs(v, env, f"{path}.{k}" if path else k, problems) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve_env_refs(v, env, path, problems) for v in node]
    if isinstance(node, str) and node.startswith("$env:"):
        name = node[5:]
        if name not in env:
            problems.append(f"{path}: environment variable {name} is not set")
            return ""
        return RawText(env[name])
    return node


def _type_text(node: dict, by_path: dict[str, Setting], prefix: str = "") -> None:
    """Replace every RawText in ``node`` (in place) by its value typed for its setting."""
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            _type_text(value, by_path, path + ".")
        elif isinstance(value, RawText):
            node[key] = coerce_text(by_path.get(path), value)
        elif isinstance(value, list):
            node[key] = [str(v) if isinstance(v, RawText) else v for v in value]


def validate(data: dict, settings: list[Setting]) -> list[str]:
    """Every problem as ``path: message``; an empty list means valid."""
    by_path = {s.path: s for s in settings}
    problems = _unknown_paths(data, by_path)
    for setting in settings:
        value = _lookup(data, setting.path)
        message = check_value(setting, value)
        if message:
            problems.append(f"{setting.path}: {message}")
    for name in FREE_TABLE_SECTIONS:
        table = data.get(name, {})
        if not isinstance(table, dict):
            problems.append(f"{name}: must be a table")
            continue
        problems += [f"{name}.{key}: must be a string path" for key, v in table.items() if not isinstance(v, str)]
        problems += [f"{name}.{key}: {path_problem(p)}" for key, v in table.items() for p in (key, v)
                     if isinstance(p, str) and path_problem(p)]
    return problems


def _lookup(data: dict, path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _unknown_paths(data: dict, by_path: dict[str, Setting], prefix: str = "") -> list[str]:
    """Problems for keys no setting knows, and for plain values where a section belongs."""
    problems = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        if (not prefix and key in FREE_TABLE_SECTIONS) or path in by_path:
            continue
        is_section = any(p.startswith(path + ".") for p in by_path)
        if is_section and isinstance(value, dict):
            problems += _unknown_paths(value, by_path, path + ".")
        elif is_section:
            problems.append(f"{path}: must be a table (a [{path}] section)")
        elif not prefix and isinstance(value, dict):
            problems.append(f"{path}: unknown section (no installed plugin uses it)")
        else:
            problems.append(f"{path}: unknown setting")
    return problems


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
    elif kind == "url" and value and not _is_http_url(value):
        message = "must be an http(s) URL"
    elif kind == "choice" and value not in setting.choices:
        message = f"must be one of {', '.join(setting.choices)}"
    if message is None and kind in ("int", "float"):
        message = _out_of_range(setting, value)
    if message is None and setting.check is not None:
        message = setting.check(value)
    return message


FALLBACK_LIMIT = 2**31 - 1  # for a plugin's number that declares no range of its own


def _out_of_range(setting: Setting, value: int | float) -> str | None:
    """A message when a number is NaN, infinite or outside its setting's range, else None."""
    if not math.isfinite(value):
        return "must be a finite number"
    low = setting.minimum if setting.minimum is not None else -FALLBACK_LIMIT
    high = setting.maximum if setting.maximum is not None else FALLBACK_LIMIT
    if value < low:
        return f"must be at least {number_text(low)}"
    if value > high:
        return f"must be at most {number_text(high)}"
    return None


def number_text(value: float) -> str:
    """``4294967294``, not ``4.29497e+09``; ``0.5`` stays ``0.5``."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _is_http_url(value: str) -> bool:
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def plugins_section(raw: dict, env: Mapping[str, str] | None = None,
                    source: Path | None = None) -> tuple[dict, list[str]]:
    """The ``[plugins]`` section, resolved and checked before the plugin manager exists.

    The manager needs enable/disable/dir before plugin settings are known; when the section
    is broken the caller builds the manager without it, and full validation reports it.
    """
    own = [s for s in CORE_SETTINGS if s.section == "plugins"]
    data, problems = resolve({"plugins": raw.get("plugins", {})}, own, env, base_folder(source))
    return (data["plugins"] if isinstance(data.get("plugins"), dict) else {}), problems


def load_config(path: str | os.PathLike | None = None, env: Mapping[str, str] | None = None,
                overrides: Mapping | None = None, plugin_settings: list[Setting] | None = None) -> Config:
    """Defaults + file + env + overrides, validated against core and plugin settings."""
    raw, source = load_raw(path, env, overrides)
    return build_config(raw, CORE_SETTINGS + list(plugin_settings or []), source, env)
