"""Renders config.example.toml from the settings registry, so the docs cannot drift."""
from __future__ import annotations

import json

from .settings import FREE_TABLE_SECTIONS, Setting

HEADER = """\
# SyncDub Companion configuration. Every key is shown with its default.
# Precedence: these defaults < this file < SYNCDUB__SECTION__KEY environment variables < --set on the CLI.
# Any string may be "$env:NAME" to read it from the environment (handy for secrets).
# Regenerate with: syncdub config example > config.example.toml
"""


def toml_value(value) -> str:
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
    lines = [HEADER]
    current = None
    for setting in settings:
        if setting.section != current:
            current = setting.section
            lines.append(f"\n[{current}]")
        choices = f" ({' | '.join(setting.choices)})" if setting.choices else ""
        lines.append(f"# {setting.help}{choices}")
        lines.append(f"{setting.key} = {toml_value(setting.default)}")
    for name, help_text in FREE_TABLE_SECTIONS.items():
        lines.append(f"\n[{name}]\n# {help_text}\n# \"/data/movies\" = \"/mnt/nfs/movies\"")
    return "\n".join(lines) + "\n"
