"""Editing the TOML config file in place: tomlkit keeps the user's comments, writes are atomic.

Used by the settings page, the first-run setup page and ``syncdub user set``; validation
stays in :mod:`.config`, so callers check a candidate document before writing it.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Mapping

import tomlkit
from tomlkit.exceptions import TOMLKitError
from werkzeug.security import generate_password_hash

from .config import CONTAINER_CONFIG, find_config_file
from .errors import ConfigError, UsageError

MIN_PASSWORD_LENGTH = 8
SETUP_TOKEN_FILE = "setup_token"  # in data_dir: the one-time first-run link's token


def config_path_for_writing(explicit: str | os.PathLike | None = None,
                            env: Mapping[str, str] | None = None) -> Path:
    """The file the service reads, or where a new one will be found on the next start."""
    found = find_config_file(explicit, os.environ if env is None else env)
    if found:
        return Path(found)
    return CONTAINER_CONFIG if CONTAINER_CONFIG.parent.is_dir() else Path("config.toml").resolve()


def read_document(path: Path) -> tomlkit.TOMLDocument:
    """The file parsed with its comments and layout, or an empty document when it does not exist."""
    path = Path(path)
    if not path.exists():
        return tomlkit.document()
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except TOMLKitError as exc:
        raise ConfigError(f"config file {path}: invalid TOML: {exc}") from None


def set_value(doc: tomlkit.TOMLDocument, path: str, value: Any) -> None:
    """Set dotted ``path`` in ``doc``, creating ``[section]`` tables as needed."""
    *parents, key = path.split(".")
    node = doc
    for part in parents:
        if part not in node:
            node[part] = tomlkit.table()
        node = node[part]
        if not isinstance(node, dict):
            raise ConfigError(f"{path}: {part} is not a table in the config file")
    node[key] = _toml_item(value)


def _toml_item(value: Any):
    if isinstance(value, dict):
        table = tomlkit.inline_table()
        table.update(value)
        return table
    return tomlkit.item(value)


def replace_table(doc: tomlkit.TOMLDocument, name: str, values: Mapping[str, str]) -> None:
    """Make top-level table ``name`` hold exactly ``values`` (the free [paths] table)."""
    if name not in doc:
        doc[name] = tomlkit.table()
    table = doc[name]
    for key in [k for k in table if k not in values]:
        del table[key]
    for key, value in values.items():
        table[key] = value


def write_document(path: Path, doc: tomlkit.TOMLDocument) -> None:
    """Write ``doc`` to ``path`` atomically: a temp file in the same folder, fsync, rename.

    The file keeps its permission bits; a new one is private to the owner because it
    may hold tokens and the password hash.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(tomlkit.dumps(doc))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def update_file(path: Path, changes: Mapping[str, Any]) -> None:
    """Set each dotted path in ``changes`` in the file, keeping everything else as it was."""
    doc = read_document(path)
    for dotted, value in changes.items():
        set_value(doc, dotted, value)
    write_document(path, doc)


def user_changes(username: str, password: str) -> dict[str, str]:
    """The auth.* values for a login; UsageError for an empty name or a short password."""
    username = (username or "").strip()
    if not username:
        raise UsageError("username must not be empty")
    if any(c.isspace() for c in username):
        raise UsageError("username must not contain spaces")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise UsageError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    return {"auth.username": username, "auth.password_hash": generate_password_hash(password)}


def set_user(path: Path, username: str, password: str) -> None:
    """Write the login (name and password hash, never the password) into the config file."""
    update_file(path, user_changes(username, password))
