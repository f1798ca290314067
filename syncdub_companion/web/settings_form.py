"""The settings page's forms, built from the settings registry (core and plugin settings).

One form per top-level section. Saving parses the posted text, checks the result with
the same validator as the file (:func:`syncdub_companion.config.build_config`), and only
then writes the changed keys into the TOML file with tomlkit, so the user's comments
and layout survive. Secrets are write-only: the form shows whether one is set, an empty
field keeps it, and the "clear" box empties it.
"""
from __future__ import annotations

import copy
import logging
import os
import threading
import tomllib
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..config import Config, anchored, base_folder, build_config, coerce_text, deep_merge, env_layer
from ..configfile import config_path_for_writing, read_document, replace_table, set_value, write_document
from ..errors import ConfigError
from ..folders import setting_problems
from ..languages import alpha2_code
from ..logs import SecretFilter
from ..settings import FREE_TABLE_SECTIONS, Setting

log = logging.getLogger(__name__)

# Managed by `syncdub user set` and the password form, never typed in as a hash.
HIDDEN = frozenset({"auth.password_hash"})
SECTION_TITLES = {"server": "Server", "auth": "Login", "library": "Library", "paths": "Path mapping",
                  "webhooks": "Webhooks", "counterparts": "Finding dubs", "align": "Alignment",
                  "speech": "Speech models", "jobs": "Jobs", "tools": "Tools", "plugins": "Plugins",
                  "notify": "Notifications"}
RESTART_SECTIONS = frozenset({"server", "tools", "plugins"})
# What one line of a table field holds, and an example line: the form takes lines, not the
# TOML the file and the docs show ({ de = "/media/dubs/de" }).
TABLE_LINES = {"counterparts.dub_roots": ("language = folder", "de = /media/dubs/de")}
ACRONYMS = {"url": "URL", "ssl": "SSL", "api": "API", "id": "ID", "uid": "uid", "gid": "gid", "mb": "(MB)"}
_save_lock = threading.Lock()


class FormError(ValueError):
    """Text typed into a field that is not the field's format; the message says the format."""


@dataclass
class Field:
    """One input on the page. ``text`` is what the input shows; always empty for secrets."""

    setting: Setting
    text: str = ""
    checked: bool = False
    is_set: bool = False
    env_ref: str | None = None
    env_override: str | None = None
    error: str | None = None
    count: int = 0  # entries of a secret list (notify.urls): the page says how many, never which

    @property
    def name(self) -> str:
        return self.setting.path

    @property
    def label(self) -> str:
        """Words first (the setting's label, or words made from its key); the page shows the key below."""
        return self.setting.label or words_of(self.setting.key)

    @property
    def form_help(self) -> str:
        """How to type a list or a table into its textarea."""
        if self.setting.kind == "list":
            return "One entry per line."
        if self.setting.kind == "table":
            what, example = TABLE_LINES.get(self.setting.path, ("key = value", ""))
            return f"One per line: {what}" + (f", e.g. {example}" if example else "") + "."
        return ""

    @property
    def placeholder(self) -> str:
        if self.setting.kind == "table":
            return TABLE_LINES.get(self.setting.path, ("key = value", ""))[1] or "key = value"
        return "one per line" if self.setting.kind == "list" else ""

    @property
    def widget(self) -> str:
        if self.setting.secret:
            return "secret-list" if self.setting.kind == "list" else "secret"
        return {"list": "textarea", "table": "textarea", "choice": "select", "bool": "checkbox"}.get(
            self.setting.kind, "text")


@dataclass
class Section:
    name: str
    fields: list[Field]
    errors: list[str] = field(default_factory=list)
    free_table: str | None = None  # text of the [paths] textarea
    help: str = ""

    @property
    def title(self) -> str:
        return SECTION_TITLES.get(self.name, self.name.replace("_", " ").title())

    @property
    def needs_restart(self) -> bool:
        return self.name in RESTART_SECTIONS


def section_of(setting: Setting) -> str:
    return setting.path.split(".", 1)[0]


def words_of(key: str) -> str:
    """``verify_ssl`` -> "Verify SSL", ``api_key`` -> "API key": a label for a plugin's setting without one."""
    parts = [ACRONYMS.get(part, part) for part in key.split("_")]
    return " ".join(parts)[:1].upper() + " ".join(parts)[1:]


def sections(config: Config, posted: Mapping[str, str] | None = None,
             errors: Mapping[str, str] | None = None, posted_section: str | None = None) -> list[Section]:
    """Every section's form; the one just posted shows what was typed and its errors."""
    file_values = _file_values(config)
    env = env_layer(os.environ)
    order: dict[str, list[Field]] = {}
    for setting in config.settings.values():
        if setting.path in HIDDEN:
            continue
        name = section_of(setting)
        typed = posted if name == posted_section else None
        order.setdefault(name, []).append(
            _field(config, setting, typed, file_values.get(setting.path), _lookup(env, setting.path)))
    out = [Section(name, fields) for name, fields in order.items()]
    for name, help_text in FREE_TABLE_SECTIONS.items():
        typed = posted.get(name) if posted is not None and posted_section == name else None
        text = typed if typed is not None else "\n".join(f"{k} = {v}" for k, v in config.get(name, {}).items())
        out.append(Section(name, [], free_table=text, help=help_text))
    for section in out:
        if section.name == posted_section:
            _attach_errors(section, errors or {})
    return out


def _attach_errors(section: Section, errors: Mapping[str, str]) -> None:
    by_name = {f.name: f for f in section.fields}
    for path, message in errors.items():
        if path in by_name:
            by_name[path].error = message
        else:
            section.errors.append(f"{path}: {message}" if path != section.name else message)


def _field(config: Config, setting: Setting, posted: Mapping[str, str] | None, file_value: Any,
           env_value: Any) -> Field:
    value = config.get(setting.path)
    out = Field(setting, is_set=bool(value), count=len(value) if isinstance(value, list) else 0)
    if isinstance(file_value, str) and file_value.startswith("$env:"):
        out.env_ref = file_value[5:]
    if env_value is not None:
        out.env_override = "SYNCDUB__" + setting.path.upper().replace(".", "__")
    if setting.secret:
        return out
    if setting.kind == "bool":
        out.checked = (posted.get(setting.path) == "on") if posted is not None else bool(value)
        return out
    if posted is not None and setting.path in posted:
        out.text = posted[setting.path]
    elif out.env_ref:
        out.text = file_value  # show the reference, not the value it reads
    else:
        out.text = value_to_text(setting, value)
    return out


def value_to_text(setting: Setting, value: Any) -> str:
    if setting.kind == "list":
        return "\n".join(str(v) for v in value or [])
    if setting.kind == "table":
        return "\n".join(f"{k} = {v}" for k, v in (value or {}).items())
    return "" if value is None else str(value)


def text_to_value(setting: Setting, text: str) -> Any:
    """The typed value of ``text``; text that does not parse is returned as is, so the
    validator reports it with the same message the file would get."""
    text = text.strip()
    if setting.kind in ("int", "float"):
        return coerce_text(setting, text)  # typed exactly as the environment's text is
    if setting.kind == "list":
        return [line.strip() for line in text.splitlines() if line.strip()]
    if setting.kind == "table":
        return table_from_form(setting, text)
    return text


def table_from_form(setting: Setting, text: str) -> dict[str, str]:
    """A table field's lines (or a pasted TOML inline table) as a dict; FormError naming the
    first line that is not ``key = value``, with the line it should have been."""
    if text.startswith("{"):  # pasted from the config file or the docs
        try:
            value = tomllib.loads(f"v = {text}")["v"] if "\n" not in text else None
        except tomllib.TOMLDecodeError:
            value = None
        if not isinstance(value, dict):
            raise FormError('not a TOML inline table; write one entry per line instead, e.g. de = /media/dubs/de')
        return value
    what, example = TABLE_LINES.get(setting.path, ("key = value", ""))
    table: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip().strip('"'), value.strip().strip('"')
        if not sep or not key or not value:
            raise FormError(f"line {number} ({line.strip()!r}) is not {what}: write it as {_line_like(setting, line)}")
        table[key] = value
    return table


def _line_like(setting: Setting, line: str) -> str:
    """The line the user meant: a bare dub folder named after its language becomes ``de = /media/dubs/de``."""
    what, example = TABLE_LINES.get(setting.path, ("key = value", "key = value"))
    text = line.strip().strip("=").strip()
    if setting.path == "counterparts.dub_roots" and text and "=" not in line:
        guess = alpha2_code(os.path.basename(text.rstrip("/")))
        return f"{guess if guess and len(guess) == 2 else 'de'} = {text}"
    return example or what


def parse_table(text: str) -> dict[str, str] | None:
    """``key = value`` lines as a dict (quotes optional), or None when a line has no '='."""
    table: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep:
            return None
        table[key.strip().strip('"')] = value.strip().strip('"')
    return table


def changes_from_form(config: Config, section: str, form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings of ``section`` whose posted value differs from the current one, and
    ``{path: message}`` for fields whose text is not in their format."""
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for setting in config.settings.values():
        if section_of(setting) != section or setting.path in HIDDEN:
            continue
        if setting.secret:
            typed = (form.get(setting.path) or "").strip()
            if form.get(setting.path + ":clear") == "on":
                changes[setting.path] = [] if setting.kind == "list" else ""
            elif typed:
                changes[setting.path] = text_to_value(setting, typed) if setting.kind == "list" else typed
            continue
        if setting.kind == "bool":
            value: Any = form.get(setting.path) == "on"
        elif setting.path in form:
            try:
                value = text_to_value(setting, form[setting.path])
            except FormError as exc:
                errors[setting.path] = str(exc)
                continue
        else:
            continue  # a field the form did not carry keeps its value
        current = config.get(setting.path)
        if value != current and value != value_to_text(setting, current).strip():
            changes[setting.path] = value
    return changes, errors


def folder_errors(config: Config, changes: Mapping[str, Any]) -> dict[str, str]:
    """``{path: message}`` for each changed folder setting naming a folder that is not there.

    Checked here, not when the file loads: a share that is down must not stop the service,
    but a folder typed in just now should be one that exists.
    """
    base = base_folder(config.source)
    errors = {}
    for path, value in changes.items():
        setting = config.settings.get(path)
        if setting is None or not setting.fs:
            continue
        if isinstance(value, dict):
            value = {k: anchored(v, base) for k, v in value.items()}
        elif isinstance(value, list):
            value = [anchored(v, base) for v in value]
        else:
            value = anchored(value, base)
        problems = setting_problems(setting, value)
        if problems:
            errors[path] = "; ".join(problems)
    return errors


def save(services, section: str, form: Mapping[str, str]) -> dict[str, str]:
    """Validate and write one posted section; returns ``{path: message}`` (empty when saved)."""
    # a NUL saved into a path setting would make every later path check raise
    nul = {key.removesuffix(":clear"): "must not contain a NUL character" for key, value in form.items()
           if "\x00" in value and (key == section or key.startswith(section + "."))}
    if nul:
        return nul
    if section in FREE_TABLE_SECTIONS:
        table = parse_table(form.get(section, ""))
        if table is None:
            return {section: "every line must be: server prefix = local prefix"}
        return apply(services, {}, {section: table})
    changes, errors = changes_from_form(services.config, section, form)
    errors.update(folder_errors(services.config, changes))
    if errors:
        return errors
    return apply(services, changes)


def apply(services, changes: Mapping[str, Any], tables: Mapping[str, dict] | None = None) -> dict[str, str]:
    """Check ``changes`` (dotted path -> value) with the file's validator, then write and
    reload. Returns ``{path: message}`` for every problem; nothing is written then."""
    tables = tables or {}
    with _save_lock:  # two saves at once must not lose one another's read-modify-write
        try:
            candidate = candidate_config(services.config, changes, tables)
        except ConfigError as exc:
            return problems_by_path(exc.problems)
        if not changes and not tables:
            return {}
        path = services.config.source or config_path_for_writing()
        try:
            _write(path, changes, tables)
        except OSError as exc:
            return {"": f"cannot write {path}: {exc.strerror or exc}"}
        candidate.source = path
        services.config = candidate
    refresh_log_secrets(candidate.secrets())
    log.info("settings saved to %s: %s", path, ", ".join(sorted([*changes, *tables])))
    return {}


def _write(path, changes: Mapping[str, Any], tables: Mapping[str, dict]) -> None:
    doc = read_document(path)
    for dotted, value in changes.items():
        set_value(doc, dotted, value)
    for name, table in tables.items():
        replace_table(doc, name, table)
    warning = write_document(path, doc)
    if warning:
        log.warning("%s", warning)


def candidate_config(current: Config, changes: Mapping[str, Any], tables: Mapping[str, dict]) -> Config:
    """The config the running service would have after the change: current values (with
    their CLI and environment layers), the changes, then the environment again on top."""
    data = copy.deepcopy(current.data)
    for dotted, value in changes.items():
        _set_nested(data, dotted, value)
    for name, table in tables.items():
        data[name] = dict(table)
    data = deep_merge(data, env_layer(os.environ))
    return build_config(data, list(current.settings.values()), current.source)


def problems_by_path(problems: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for problem in problems:
        path, sep, message = problem.partition(": ")
        out[path if sep else ""] = message if sep else problem
    return out


def refresh_log_secrets(secrets: list[str]) -> None:
    """Teach the running log filters any newly saved secret, so it is scrubbed too."""
    for handler in logging.getLogger().handlers:
        for flt in handler.filters:
            if isinstance(flt, SecretFilter):
                flt.secrets = sorted({*flt.secrets, *(s for s in secrets if s and len(s) >= 4)})


def _set_nested(data: dict, dotted: str, value: Any) -> None:
    *parents, key = dotted.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[key] = value


def _lookup(data: Mapping, dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _file_values(config: Config) -> dict[str, Any]:
    """Raw values of the config file (``$env:`` references unresolved), by dotted path."""
    if not config.source or not config.source.exists():
        return {}
    try:
        raw = read_document(config.source).unwrap()
    except ConfigError:
        return {}
    return {path: v for path in config.settings if (v := _lookup(raw, path)) is not None}
