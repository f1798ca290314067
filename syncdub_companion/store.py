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


# Tables written far less often than the job table, each kept in a file of its own
# (``syncdub.finished.json``, ``syncdub.details.json``, ``syncdub.blocklist.json`` beside
# ``syncdub.json``): every
# transaction that changes a job (each webhook, each progress report) rewrites the whole
# file the job table lives in, and these must not be rewritten with it. Every process
# must agree on this list, so it lives here and not with a caller.
SEPARATE_TABLES = frozenset({"finished", "details", "blocklist"})


class AtomicJSONStorage(Storage):
    """TinyDB storage that replaces its files atomically, so a crash never leaves half a file.

    The tables in :data:`SEPARATE_TABLES` live in files of their own; the rest share the
    main file. A file is rewritten only when one of its tables changed: TinyDB replaces a
    table's dict whenever it modifies the table, so a table still holding the very object
    the last read returned is unchanged.

    Each file's parsed content is kept between transactions and reused while its inode,
    size and mtime are unchanged: re-parsing the whole job file for every webhook made
    enqueueing slow once a few hundred jobs were stored. Another process's write replaces
    the file (a new inode), so it is always noticed.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._parsed: dict[Path, tuple[tuple, dict]] = {}
        self._as_read: dict = {}  # table name -> the table object the last read returned

    def side_path(self, table: str) -> Path:
        """The file that holds ``table``, one of SEPARATE_TABLES."""
        return self.path.with_name(f"{self.path.stem}.{table}{self.path.suffix}")

    def _load(self, path: Path) -> dict:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            self._parsed.pop(path, None)
            return {}
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        cached = self._parsed.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text) if text.strip() else {}
        except ValueError as exc:
            raise SyncDubError(f"job database {path} is damaged ({exc}); move it aside to start afresh") from None
        self._parsed[path] = (stamp, data)
        return data

    def read(self) -> dict | None:
        data = dict(self._load(self.path))
        unsaved = set()  # a separate table found in the main file (written before it was separate)
        for table in SEPARATE_TABLES:
            side = self._load(self.side_path(table))
            if table in side:
                data[table] = side[table]
            elif table in data:
                unsaved.add(table)
        self._as_read = {k: v for k, v in data.items() if k not in unsaved}
        return data or None

    def write(self, data: dict) -> None:
        before, self._as_read = self._as_read, dict(data)
        for table in SEPARATE_TABLES:
            if data.get(table) is not before.get(table):
                self._write_file(self.side_path(table), {table: data[table]} if table in data else {})
        main = {k: v for k, v in data.items() if k not in SEPARATE_TABLES}
        old_main = {k for k in before if k not in SEPARATE_TABLES}
        if set(main) != old_main or any(v is not before.get(k) for k, v in main.items()):
            self._write_file(self.path, main)

    def _write_file(self, path: Path, data: dict) -> None:
        partial = path.with_name(path.name + ".partial")
        with open(partial, "w", encoding="utf-8") as fh:
            # dumps() runs the C encoder; dump() to a file streams through the pure-Python one.
            # The data came from JSON, so it holds no cycles: skipping that check saves ~30 %.
            fh.write(json.dumps(data, ensure_ascii=False, separators=(",", ":"), check_circular=False))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, path)
        st = os.stat(path)
        self._parsed[path] = ((st.st_ino, st.st_size, st.st_mtime_ns), data)

    def forget(self) -> None:
        """Drop what was read (after a failed transaction it may hold half a change)."""
        self._parsed.clear()
        self._as_read = {}


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

    def put(self, table: str, doc_id: int, doc: dict) -> None:
        """Store ``doc`` under the id ``doc_id`` (replacing what was there), e.g. a job's details under its job id."""
        with self.transaction() as db:
            t = db.table(table)
            if t.contains(doc_id=doc_id):
                t.update(lambda old: (old.clear(), old.update(doc)), doc_ids=[doc_id])
            else:
                t.insert(Document(doc, doc_id=doc_id))

    def insert_many(self, table: str, docs: dict[int, dict]) -> None:
        """Store each document under its given id (none of them may be there yet), in one write."""
        with self.transaction() as db:
            db.table(table).insert_multiple(Document(doc, doc_id=doc_id) for doc_id, doc in docs.items())

    def delete(self, table: str, doc_ids: list[int]) -> None:
        """Delete the documents with these ids; ids not there are ignored."""
        with self.transaction() as db:
            t = db.table(table)
            present = [i for i in doc_ids if t.contains(doc_id=i)]
            if present:
                t.remove(doc_ids=present)

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
