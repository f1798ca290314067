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
PRIVATE = 0o600  # the config may hold the password hash and tokens


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


def write_document(path: Path, doc: tomlkit.TOMLDocument) -> str | None:
    """Write ``doc`` to ``path`` atomically: a temp file in the same folder, fsync, rename.

    The result is private (0600), even when the file was readable by others before: what
    we write may be the password hash or a token. An existing file keeps its owner and
    group. Returns a warning when the file could not be made private (some network and
    Windows file systems ignore chmod), else None.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    before = path.stat() if path.exists() else None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    warnings = []
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(tomlkit.dumps(doc))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, PRIVATE)
        if before is not None:
            warnings.append(_keep_owner(tmp, before, path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    warnings.append(exposure(path))
    return "; ".join(w for w in warnings if w) or None


def _keep_owner(tmp: str, before: os.stat_result, path: Path) -> str | None:
    """Give the new file the old one's owner and group (the rename would make them ours)."""
    if (before.st_uid, before.st_gid) == (os.geteuid(), os.getegid()):
        return None
    try:
        os.chown(tmp, before.st_uid, before.st_gid)
    except OSError as exc:
        return (f"{path} now belongs to uid {os.geteuid()} (was {before.st_uid}:{before.st_gid}): "
                f"cannot keep its owner ({exc.strerror or exc})")
    return None


def exposure(path: Path) -> str | None:
    """A warning when others may read ``path`` (it holds secrets), else None."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return None
    if mode & 0o077:
        return (f"{path} is readable by other users (mode {mode:04o}) and the file system did not let "
                f"it be made private; it holds the password hash and tokens: chmod 600 {path}")
    return None


def update_file(path: Path, changes: Mapping[str, Any]) -> str | None:
    """Set each dotted path in ``changes`` in the file, keeping everything else as it was.

    Returns :func:`write_document`'s warning, if any.
    """
    doc = read_document(path)
    for dotted, value in changes.items():
        set_value(doc, dotted, value)
    return write_document(path, doc)


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


def set_user(path: Path, username: str, password: str) -> str | None:
    """Write the login (name and password hash, never the password) into the config file.

    Returns a warning when the file could not be made private, else None.
    """
    return update_file(path, user_changes(username, password))
