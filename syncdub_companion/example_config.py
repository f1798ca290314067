"""Renders config.example.toml from the settings registry, so the docs cannot drift."""
from __future__ import annotations

import json

from .config import number_text
from .settings import FREE_TABLE_SECTIONS, Setting

HEADER = """\
# SyncDub Companion configuration. Every key is shown with its default.
# Precedence: these defaults < this file < SYNCDUB__SECTION__KEY environment variables < --set on the CLI.
# Any string may be "$env:NAME" to read it from the environment (handy for secrets).
# Regenerate with: syncdub config example > config.example.toml
"""


def toml_value(value) -> str:
    """``value`` written as a TOML literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot render {value!r}")


def render(settings: list[Setting]) -> str:
    """The example config: every setting under its section, with its help text and default.

    Settings are grouped by section in order of first appearance, so a plugin adding a key
    to a section that already exists never produces a duplicate (invalid) table header.
    """
    sections: dict[str, list[Setting]] = {}
    for setting in settings:
        sections.setdefault(setting.section, []).append(setting)
    lines = [HEADER]
    for section, members in sections.items():
        lines.append(f"\n[{section}]")
        for setting in members:
            choices = f" ({' | '.join(setting.choices)})" if setting.choices else ""
            lines.append(f"# {setting.help}{choices}")
            lines.append(f"{setting.key} = {toml_value(setting.default)}")
    for name, help_text in FREE_TABLE_SECTIONS.items():
        lines.append(f"\n[{name}]\n# {help_text}\n# \"/data/movies\" = \"/mnt/nfs/movies\"")
    return "\n".join(lines) + "\n"


def _kind_text(setting: Setting) -> str:
    text = " \\| ".join(f"`{c}`" for c in setting.choices) if setting.choices else setting.kind
    low, high = setting.minimum, setting.maximum
    if low is not None and high is not None:
        text += f", {number_text(low)} to {number_text(high)}"
    elif low is not None:
        text += f", at least {number_text(low)}"
    elif high is not None:
        text += f", at most {number_text(high)}"
    return text + (", secret" if setting.secret else "")


def render_markdown(settings: list[Setting]) -> str:
    """A Markdown table per section: key, default, type and help of every setting (for the docs)."""
    sections: dict[str, list[Setting]] = {}
    for setting in settings:
        sections.setdefault(setting.section, []).append(setting)
    out = []
    for section, members in sections.items():
        out += [f"### `[{section}]`", "", "| key | default | type | what it does |", "|---|---|---|---|"]
        for s in members:
            default = toml_value(s.default).replace("|", "\\|")
            out.append(f"| `{s.path}` | `{default}` | {_kind_text(s)} | {s.help.replace('|', chr(92) + '|')} |")
        out.append("")
    return "\n".join(out)
