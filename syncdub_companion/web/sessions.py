"""Server-side session ids, so that logging out ends a session for good.

The session cookie is signed but self-contained: clearing it in one browser does not stop
a copy of it from working. Each login therefore gets a random id that is kept here until
logout or expiry, and a cookie whose id is not here is logged out. Only a digest of each
id is stored, in ``data_dir/sessions.json`` (private), so restarts keep people logged in.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import tempfile
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

SESSIONS_FILE = "sessions.json"
MAX_SESSIONS = 200  # one user on a few devices; a cap keeps the file small whatever happens


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode("utf-8", "replace")).hexdigest()


class SessionRegistry:
    """The live session ids and when each expires, persisted to ``path``."""

    def __init__(self, path: Path, lifetime: float):
        self.path, self.lifetime = Path(path), lifetime
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = self._load()

    def __len__(self) -> int:
        return len(self._expiry)

    def start(self, now: float | None = None) -> str:
        """A new session id, valid for ``lifetime`` seconds."""
        now = time.time() if now is None else now
        sid = secrets.token_urlsafe(24)
        with self._lock:
            self._expiry[_digest(sid)] = now + self.lifetime
            self._prune(now)
            self._save()
        return sid

    def valid(self, sid: str | None, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return bool(sid) and isinstance(sid, str) and self._expiry.get(_digest(sid), 0) > now

    def end(self, sid: str | None) -> None:
        """Forget ``sid``: its cookie no longer logs anyone in."""
        if not isinstance(sid, str):
            return
        with self._lock:
            if self._expiry.pop(_digest(sid), None) is not None:
                self._save()

    def _prune(self, now: float) -> None:
        live = sorted(((t, d) for d, t in self._expiry.items() if t > now), reverse=True)[:MAX_SESSIONS]
        self._expiry = {d: t for t, d in live}

    def _load(self) -> dict[str, float]:
        try:
            data = json.loads(self.path.read_text())
            return {str(d): float(t) for d, t in data.items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            # Unreadable: everyone logs in again, which is safe; refusing to start is not needed.
            log.warning("cannot read %s (%s); every session starts logged out", self.path, exc)
            return {}

    def _save(self) -> None:
        """Atomic and private: the ids are digests, but they still say who is logged in when."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(self._expiry, fh)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
