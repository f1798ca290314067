"""Are the configured folders usable? One answer for the settings page, `config check`,
the health banner and a job's reason.

A folder setting (``Setting.fs == "folder"``: the library roots, the dub roots, the plugin
folder) that does not exist, is a file, or cannot be read is not a validation error when
the config loads: a network share may come back, and the service should still start and
say so. Saving one on the settings page is refused (it was just typed); everywhere else it
is a warning that names the setting.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from .languages import alpha2_code


def folder_problem(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot be read as a folder by this process, or None when it can."""
    shown = str(path)
    try:
        folder = Path(path).expanduser()
        if not folder.exists():
            return f"{shown} does not exist"
        if not folder.is_dir():
            return f"{shown} is not a folder"
    except (OSError, ValueError) as exc:  # EACCES on a parent, ELOOP, a NUL: a message, never a crash
        return f"{shown} cannot be checked: {getattr(exc, 'strerror', None) or exc}"
    if not os.access(folder, os.R_OK | os.X_OK):
        return f"{shown} cannot be read by this service (uid {os.getuid()})"
    return None


def entries(value) -> list[tuple[str, str]]:
    """``(suffix, path)`` per entry of a folder setting's value: "" for one folder, ``.de`` per table key."""
    if isinstance(value, dict):
        return [(f".{key}", str(path)) for key, path in value.items() if path]
    if isinstance(value, list):
        return [("", str(path)) for path in value if path]
    return [("", str(value))] if value else []


def setting_problems(setting, value) -> list[str]:
    """One message per unusable folder of ``value``; table entries are named by their key."""
    if setting.fs != "folder":
        return [] if setting.fs != "new-folder" else _not_folders(value)
    out = []
    for suffix, path in entries(value):
        problem = folder_problem(path)
        if problem:
            out.append(f"{suffix[1:]}: {problem}" if suffix else problem)
    return out


def _not_folders(value) -> list[str]:
    # A folder made on demand may be missing, but not be a file already.
    return [f"{path} is not a folder" for _, path in entries(value) if os.path.exists(path) and not os.path.isdir(path)]


def unusable_dub_roots(config, languages: Iterable[str] | None = None) -> dict[str, str]:
    """``{language: why}`` for each dub root that cannot be searched (only ``languages``, when given)."""
    wanted = {alpha2_code(code) for code in languages} if languages is not None else None
    out = {}
    for language, root in (config.get("counterparts.dub_roots") or {}).items():
        code = alpha2_code(language)
        if wanted is not None and code not in wanted:
            continue
        problem = folder_problem(root)
        if problem:
            out[code] = f"counterparts.dub_roots.{language} = {problem}"
    return out


def unwanted_dub_roots(config) -> dict[str, str]:
    """``{language: root}`` of dub roots whose language ``library.languages`` leaves out: never searched."""
    wanted = [alpha2_code(code) for code in config.get("library.languages") or []]
    if not wanted:
        return {}
    return {language: root for language, root in (config.get("counterparts.dub_roots") or {}).items()
            if alpha2_code(language) not in wanted}


def dub_root_note(config, languages: Iterable[str]) -> str:
    """What to add to a "no counterpart found" reason when a dub root of ``languages`` is unusable."""
    unusable = unusable_dub_roots(config, languages)
    if not unusable:
        return ""
    return "; " + "; ".join(f"{why}, so no {code} dub can be found there (fix it under Settings → Finding dubs)"
                            for code, why in sorted(unusable.items()))


def config_warnings(config) -> list[str]:
    """``path: message`` for every folder setting that is unusable now, and every dub root never searched."""
    out = []
    for setting in config.settings.values():
        if setting.fs != "folder":
            continue
        value = config.get(setting.path)
        for suffix, path in entries(value):
            problem = folder_problem(path)
            if problem:
                out.append(f"{setting.path}{suffix}: {problem}")
    wanted = ", ".join(config.get("library.languages") or [])
    for language in unwanted_dub_roots(config):
        out.append(f"counterparts.dub_roots.{language}: {language} is not in library.languages ({wanted}), "
                   "so this folder is never searched")
    return out
