"""Temp files of a merge, and removing the ones a crash left behind.

Every file a merge writes next to its destination is named
``.<Title.mkv>.syncdub-<pid>-<rand>[.part].tmp``: hidden, so media servers skip it, and
recognisable, so nothing else is ever deleted. Before the first byte is written a
journal entry under ``data_dir/inflight/`` records the folder; :func:`cleanup_leftovers`
(called when the service starts and before each resync) removes the temps of every
journalled merge whose process is gone. A merge that takes a file's lock also removes
every other temp of that file (:func:`remove_stale_temps`): the temps of a worker on
another machine that died, whose journal this machine never sees.
"""
from __future__ import annotations

import json
import logging
import os
import re
import secrets
from pathlib import Path

log = logging.getLogger(__name__)

# Tokens of the TempSets open in this process: they are live merges, never stale, even
# when one process holds two for a destination (a test, or a verify beside a merge).
_open_tokens: set[str] = set()

TEMP_RE = re.compile(r"^\..+\.syncdub-(?P<pid>\d+)-(?P<token>[0-9a-f]{8})(?:\.[a-z0-9]+)?\.tmp$")


class TempSet:
    """The temp files of one merge into ``destination``; use as a context manager.

    Entering writes the journal entry; leaving removes every temp still present and the
    entry, whether the merge succeeded or raised. A kill -9 skips the exit, which is
    what the journal is for.
    """

    def __init__(self, destination: str | os.PathLike, journal_dir: str | os.PathLike):
        self.destination = Path(destination)
        self.folder = self.destination.parent
        self.pid = os.getpid()
        self.token = secrets.token_hex(4)
        self.journal = Path(journal_dir) / f"{self.pid}-{self.token}.json"

    def path(self, part: str = "") -> Path:
        """The temp path for ``part`` ('' for the merged file itself, e.g. 'dub', 'tags')."""
        suffix = f".{part}" if part else ""
        return self.folder / f".{self.destination.name}.syncdub-{self.pid}-{self.token}{suffix}.tmp"

    def __enter__(self) -> "TempSet":
        remove_stale_temps(self.destination, self.token)
        _open_tokens.add(self.token)
        self.journal.parent.mkdir(parents=True, exist_ok=True)
        entry = {"pid": self.pid, "token": self.token, "folder": str(self.folder)}
        self.journal.write_text(json.dumps(entry))
        return self

    def __exit__(self, *exc) -> None:
        _open_tokens.discard(self.token)
        remove_temps(self.folder, self.pid, self.token)
        self.journal.unlink(missing_ok=True)


def remove_temps(folder: Path, pid: int, token: str | None = None) -> list[Path]:
    """Delete the merge temps of ``pid`` (and ``token``) in ``folder``; returns what went."""
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = TEMP_RE.match(name)
        if not match or int(match["pid"]) != pid or (token and match["token"] != token):
            continue
        try:
            (folder / name).unlink()
            removed.append(folder / name)
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("could not remove leftover temp file %s: %s", folder / name, exc)
    return removed


def remove_stale_temps(destination: Path, own_token: str) -> list[Path]:
    """Delete every temp of ``destination`` but this merge's own (``own_token``).

    Called under the file's merge lock, which every writer of a destination's temps holds
    (the lock is per file, and a destination belongs to one file), so any other temp of it
    is a dead merge's. This is what cleans up after a worker on another machine that was
    killed mid-merge: its journal lies on that machine, its pid means nothing here.
    """
    removed = []
    prefix = f".{destination.name}.syncdub-"
    try:
        names = [n for n in os.listdir(destination.parent) if n.startswith(prefix)]
    except OSError:
        return removed
    for name in names:
        match = TEMP_RE.match(name)
        if not match or match["token"] == own_token or _open_here(match):
            continue
        try:
            (destination.parent / name).unlink()
            removed.append(destination.parent / name)
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("could not remove leftover temp file %s: %s", destination.parent / name, exc)
    if removed:
        log.info("removed %d temp file(s) a dead merge of %s left behind", len(removed), destination.name)
    return removed


def _open_here(match: re.Match) -> bool:
    return int(match["pid"]) == os.getpid() and match["token"] in _open_tokens


def _alive(pid: int) -> bool:
    # At start-up our own pid can appear in an old entry (containers reuse low pids), and
    # we have written nothing yet, so an entry with our pid is as dead as any other.
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cleanup_leftovers(journal_dir: str | os.PathLike, at_startup: bool = False) -> list[Path]:
    """Remove temp files left by merges whose process died; returns the removed paths.

    ``at_startup`` treats entries carrying this process's own pid as stale (see _alive);
    later calls leave them alone, because they belong to merges running right now.
    """
    removed: list[Path] = []
    folder = Path(journal_dir)
    if not folder.is_dir():
        return removed
    for entry_path in sorted(folder.glob("*.json")):
        try:
            entry = json.loads(entry_path.read_text())
            pid, token, target = int(entry["pid"]), entry["token"], Path(entry["folder"])
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("unreadable merge journal entry %s removed", entry_path)
            entry_path.unlink(missing_ok=True)
            continue
        if pid == os.getpid() and not at_startup:
            continue
        if _alive(pid):
            continue
        gone = remove_temps(target, pid, token)
        removed += gone
        entry_path.unlink(missing_ok=True)
        if gone:
            log.info("removed %d leftover temp file(s) of an interrupted merge in %s", len(gone), target)
    return removed


def journal_dir(services) -> Path:
    """Where the merge journal lives for these services."""
    return services.config.data_dir / "inflight"
