"""Failed-login accounting with bounded memory (issue 15: one entry per made-up username, forever).

Keys are the client address and a digest of the username, never the raw name, so a
megabyte-long name costs as much as a short one. Each key keeps at most as many
failure times as its limit, keys whose failures have all expired are dropped, and past
``max_keys`` the key that failed longest ago goes first.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict, deque

MAX_KEYS = 10_000


def client_key(client: str) -> str:
    return f"c:{client[:64]}"


def user_key(username: str) -> str:
    return "u:" + hashlib.sha256(username.encode("utf-8", "replace")).hexdigest()[:32]


class LoginRateLimiter:
    """At most ``per_client`` failures per address and ``per_user`` per name within ``window`` s."""

    def __init__(self, per_client: int = 5, per_user: int = 20, window: float = 300.0, max_keys: int = MAX_KEYS):
        self.per_client, self.per_user, self.window, self.max_keys = per_client, per_user, window, max_keys
        # Least recently failed first, so expiry and eviction work from the front.
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._failures)

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._failures)

    def wait_seconds(self, client: str, username: str, now: float | None = None) -> int:
        """Seconds until another attempt is allowed; 0 means go ahead. Stores nothing."""
        now = time.time() if now is None else now
        with self._lock:
            return max(self._wait(client_key(client), self.per_client, now),
                       self._wait(user_key(username), self.per_user, now))

    def _wait(self, key: str, limit: int, now: float) -> int:
        times = self._failures.get(key)
        if not times:
            return 0
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return 0
        return int(times[0] + self.window - now) + 1 if len(times) >= limit else 0

    def failed(self, client: str, username: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock:
            self._record(client_key(client), self.per_client, now)
            self._record(user_key(username), self.per_user, now)
            self._shrink(now)

    def _record(self, key: str, limit: int, now: float) -> None:
        # Only the newest ``limit`` failures decide the wait, so older ones need no room.
        times = self._failures.pop(key, None) or deque(maxlen=max(1, limit))
        times.append(now)
        self._failures[key] = times

    def _shrink(self, now: float) -> None:
        """Drop keys with nothing left in the window, then the stalest ones beyond max_keys."""
        while self._failures:
            key, times = next(iter(self._failures.items()))
            if times[-1] > now - self.window and len(self._failures) <= self.max_keys:
                break
            del self._failures[key]

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client_key(client), None)
