"""The only module that touches TinyDB.

One JSON file under the data dir holds jobs, dedup keys and small state. TinyDB itself is
not thread-safe, and the CLI and the service may open the same file, so every access
goes through :meth:`Store.transaction`, which holds a thread lock and a file lock, and
reads the file afresh: TinyDB's per-table caches (query results, the next document id)
would otherwise go stale when another process writes.
"""
from __future__ import annotations

import json
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from filelock import FileLock
from tinydb import Query, TinyDB
from tinydb.storages import MemoryStorage, Storage
from tinydb.table import Document

from .errors import SyncDubError

__all__ = ["Store", "Query"]


class AtomicJSONStorage(Storage):
    """TinyDB storage that replaces the file atomically, so a crash never leaves half a file.

    The parsed document is kept between transactions and reused while the file's inode,
    size and mtime are unchanged: re-parsing the whole job file for every webhook made
    enqueueing slow once a few hundred jobs were stored. Another process's write replaces
    the file (a new inode), so it is always noticed.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._cached: dict | None = None
        self._stamp: tuple | None = None

    def _current_stamp(self) -> tuple | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def read(self) -> dict | None:
        stamp = self._current_stamp()
        if stamp is not None and stamp == self._stamp and self._cached is not None:
            return self._cached
        self.forget()
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        if not text.strip():
            return None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise SyncDubError(f"job database {self.path} is damaged ({exc}); move it aside to start afresh") from None
        self._cached, self._stamp = data, stamp
        return data

    def write(self, data: dict) -> None:
        partial = self.path.with_name(self.path.name + ".partial")
        with open(partial, "w", encoding="utf-8") as fh:
            # dumps() runs the C encoder; dump() to a file streams through the pure-Python one.
            fh.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, self.path)
        self._cached, self._stamp = data, self._current_stamp()

    def forget(self) -> None:
        """Drop the cached document (after a failed transaction it may hold half a change)."""
        self._cached, self._stamp = None, None


class Store:
    """Thread- and process-safe access to the TinyDB file (or memory, for tests)."""

    def __init__(self, path: str | Path | None):
        self._lock = threading.RLock()
        self._active: TinyDB | None = None
        if path is None:
            self._memory: TinyDB | None = TinyDB(storage=MemoryStorage)
            self._file_lock = None
        else:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._memory = None
            self._file_lock = FileLock(str(path) + ".lock")
            self._storage = AtomicJSONStorage(path)
        self.path = path

    @contextmanager
    def transaction(self) -> Iterator[TinyDB]:
        """Exclusive access to the database for a read-modify-write sequence.

        Nested transactions in the same thread share the outer one.
        """
        with self._lock:
            if self._active is not None:
                yield self._active
                return
            if self._memory is not None:
                yield self._memory
                return
            with self._file_lock:
                self._active = TinyDB(storage=lambda: self._storage)
                try:
                    yield self._active
                except BaseException:
                    self._storage.forget()
                    raise
                finally:
                    self._active = None

    def insert(self, table: str, doc: dict) -> int:
        """Store ``doc``; returns its new id."""
        with self.transaction() as db:
            return db.table(table).insert(doc)

    def get(self, table: str, doc_id: int) -> dict | None:
        """The document with ``doc_id`` (its id under ``id``), or None."""
        with self.transaction() as db:
            doc = db.table(table).get(doc_id=doc_id)
            return _plain(doc) if doc is not None else None

    def update(self, table: str, doc_id: int, fields: dict | Callable[[dict], None]) -> None:
        """Merge ``fields`` into the document, or call ``fields(doc)`` to change it in place."""
        with self.transaction() as db:
            db.table(table).update(fields, doc_ids=[doc_id])

    def search(self, table: str, cond) -> list[dict]:
        """Every document matching the TinyDB query ``cond``."""
        with self.transaction() as db:
            return [_plain(d) for d in db.table(table).search(cond)]

    def all(self, table: str) -> list[dict]:
        """Every document of ``table``."""
        with self.transaction() as db:
            return [_plain(d) for d in db.table(table).all()]

    def remove(self, table: str, cond) -> list[int]:
        """Delete the matching documents; returns their ids."""
        with self.transaction() as db:
            return db.table(table).remove(cond)

    def count(self, table: str, cond=None) -> int:
        """How many documents ``table`` holds, or how many match ``cond``."""
        with self.transaction() as db:
            t = db.table(table)
            return len(t) if cond is None else t.count(cond)

    def upsert(self, table: str, doc: dict, cond) -> None:
        """Update the documents matching ``cond`` with ``doc``, or insert it when none match."""
        with self.transaction() as db:
            db.table(table).upsert(doc, cond)

    def close(self) -> None:
        """Release the in-memory database; a file store holds nothing open between calls."""
        with self._lock:
            if self._memory is not None:
                self._memory.close()


def _plain(doc: Document) -> dict[str, Any]:
    """A stored document as a dict with its id under ``id``."""
    out = dict(doc)
    out["id"] = doc.doc_id
    return out
