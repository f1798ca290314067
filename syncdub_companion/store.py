"""The only module that touches TinyDB.

One JSON file under the data dir holds jobs, dedup keys and small state. TinyDB itself is
not thread-safe, and the CLI and the service may open the same file, so every access
goes through :meth:`Store.transaction`, which holds a thread lock and a file lock.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from filelock import FileLock
from tinydb import Query, TinyDB
from tinydb.storages import JSONStorage, MemoryStorage
from tinydb.table import Document

__all__ = ["Store", "Query"]


class Store:
    """Thread- and process-safe access to the TinyDB file (or memory, for tests)."""

    def __init__(self, path: str | Path | None):
        self._lock = threading.RLock()
        if path is None:
            self._db = TinyDB(storage=MemoryStorage)
            self._file_lock = None
        else:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = TinyDB(path, storage=JSONStorage, indent=None, ensure_ascii=False)
            self._file_lock = FileLock(str(path) + ".lock")
        self.path = path

    @contextmanager
    def transaction(self) -> Iterator[TinyDB]:
        """Exclusive access to the database for a read-modify-write sequence."""
        with self._lock:
            if self._file_lock is None:
                yield self._db
            else:
                with self._file_lock:
                    self._db.clear_cache()
                    yield self._db

    def insert(self, table: str, doc: dict) -> int:
        with self.transaction() as db:
            return db.table(table).insert(doc)

    def get(self, table: str, doc_id: int) -> dict | None:
        with self.transaction() as db:
            doc = db.table(table).get(doc_id=doc_id)
            return _plain(doc) if doc is not None else None

    def update(self, table: str, doc_id: int, fields: dict | Callable[[dict], None]) -> None:
        with self.transaction() as db:
            db.table(table).update(fields, doc_ids=[doc_id])

    def search(self, table: str, cond) -> list[dict]:
        with self.transaction() as db:
            return [_plain(d) for d in db.table(table).search(cond)]

    def all(self, table: str) -> list[dict]:
        with self.transaction() as db:
            return [_plain(d) for d in db.table(table).all()]

    def remove(self, table: str, cond) -> list[int]:
        with self.transaction() as db:
            return db.table(table).remove(cond)

    def count(self, table: str, cond=None) -> int:
        with self.transaction() as db:
            t = db.table(table)
            return len(t) if cond is None else t.count(cond)

    def upsert(self, table: str, doc: dict, cond) -> None:
        with self.transaction() as db:
            db.table(table).upsert(doc, cond)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _plain(doc: Document) -> dict[str, Any]:
    """A stored document as a dict with its id under ``id``."""
    out = dict(doc)
    out["id"] = doc.doc_id
    return out
