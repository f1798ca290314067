"""The job records: one TinyDB document per job, and the only code that reads or writes them.

Webhooks and the CLI create jobs here; workers claim them; the web page and ``syncdub jobs``
list them. Every function takes a :class:`~syncdub_companion.store.Store`.

Finished jobs do not stay forever: :func:`prune` removes those past ``jobs.keep_days`` or
beyond the newest ``jobs.keep_finished``, and keeps of each only what later decisions need
(the backfill's "done before") in the small ``finished`` table, stored in a file of its own.

Pairs the aligner rejected go on the **blocklist** (:func:`block`), a table of its own that
pruning never touches, so a scan or a webhook does not align the same pair again.
"""
from __future__ import annotations

import os
import time
from typing import Any, Iterable

from .errors import UsageError
from .job import Job
from .media import LibraryEvent
from .store import Query, Store

TABLE = "jobs"
FINISHED_TABLE = "finished"  # what pruned jobs leave behind: one compact row per (original, language)
DETAILS_TABLE = "details"  # a finished job's bulky fields, under the job's id (see stow)
BLOCKLIST_TABLE = "blocklist"  # rejected (original, dub) pairs, kept until the user clears them
STOWED_FIELDS = ("log", "result", "candidates", "review", "maps")
ACTIVE_STATES = ("queued", "waiting_for_file", "aligning", "muxing", "publishing")
RUNNING_STATES = ("waiting_for_file", "aligning", "muxing", "publishing")
FINAL_STATES = ("done", "skipped", "needs_review", "rejected", "failed", "cancelled")
STATES = ACTIVE_STATES + FINAL_STATES
MAX_LOG_LINES = 200


def new_job(*, event: LibraryEvent | None = None, original: str | None = None, dubbed: str | None = None,
            language: str | None = None, mode: str | None = None, force: bool = False,
            source: str | None = None) -> Job:
    """A fresh queued job (not yet stored)."""
    now = time.time()
    return Job(source=source or (event.source if event else "cli"), event=event.to_dict() if event else None,
               dedup_key=event.dedup_key() if event else None, original=original or (event.path if event else None),
               dubbed=dubbed, language=language, mode=mode, force=force, next_attempt_at=now, created_at=now,
               updated_at=now)


def create(store: Store, **fields) -> int:
    """Store a new queued job built by :func:`new_job`; returns its id."""
    return store.insert(TABLE, new_job(**fields).to_dict())


def create_many(store: Store, batch: list[dict]) -> list[int]:
    """Store many new jobs (each a dict of :func:`new_job` fields) in one transaction.

    The store rewrites its whole file per transaction, so a backfill of thousands of
    jobs must not insert them one by one.
    """
    with store.transaction() as db:
        return list(db.table(TABLE).insert_multiple(new_job(**fields).to_dict() for fields in batch))


def enqueue_event(store: Store, event: LibraryEvent, dedup_window: float) -> tuple[int, bool]:
    """Queue a job for ``event`` unless the same item made one within ``dedup_window`` seconds.

    Returns ``(job_id, created)``; a duplicate returns the existing job's id and False.
    The check and the insert happen in one transaction, so concurrent webhooks cannot race.
    """
    key = event.dedup_key()
    cutoff = time.time() - dedup_window
    with store.transaction() as db:
        table = db.table(TABLE)
        recent = table.search((Query().dedup_key == key) & (Query().created_at >= cutoff))
        if recent:
            return recent[0].doc_id, False
        return table.insert(new_job(event=event).to_dict()), True


def get(store: Store, job_id: int) -> Job:
    """The whole job, its stowed details included."""
    with store.transaction():
        doc = store.get(TABLE, int(job_id))
        if doc is None:
            raise UsageError(f"job {job_id}: no such job")
        if doc.get("stowed"):
            doc.update(store.get(DETAILS_TABLE, int(job_id)) or {})
    return Job.from_dict(doc)


def list_jobs(store: Store, states: Iterable[str] | None = None, limit: int | None = None) -> list[Job]:
    """Whole jobs (details included) newest first, optionally only those in ``states``."""
    states = list(states or [])
    with store.transaction():
        jobs = store.search(TABLE, Query().state.one_of(states)) if states else store.all(TABLE)
        jobs.sort(key=lambda j: j["created_at"], reverse=True)
        jobs = jobs[:limit] if limit else jobs
        if any(j.get("stowed") for j in jobs):
            details = {d["id"]: d for d in store.all(DETAILS_TABLE)}
            for job in jobs:
                job.update(details.get(job["id"], {}) if job.get("stowed") else {})
    return [Job.from_dict(doc) for doc in jobs]


def stow(store: Store, job_ids: Iterable[int] | None = None) -> int:
    """Move finished jobs' bulky fields (log, result with its time maps, candidates) into
    the details table, a file of its own; ``job_ids`` None: every finished job not yet
    stowed (a store from before stowing). Returns how many were stowed.

    The job file is rewritten whole by every webhook and every progress report; finished
    jobs kept there at full size made each of those writes (mostly JSON encoding of time
    maps) grow with the history. :func:`get` and :func:`list_jobs` put the fields back.
    """
    with store.transaction() as db:
        table, details = db.table(TABLE), db.table(DETAILS_TABLE)
        if job_ids is None:
            docs = [d for d in table.all() if d["state"] in FINAL_STATES and not d.get("stowed")]
        else:
            docs = [d for i in job_ids if (d := table.get(doc_id=int(i))) is not None and d["state"] in FINAL_STATES]
        docs = [d for d in docs if any(k in d for k in STOWED_FIELDS)]
        if not docs:
            return 0
        earlier = {d.doc_id: store.get(DETAILS_TABLE, d.doc_id) or {} for d in docs if d.get("stowed")}
        rows = {}
        for doc in docs:
            old = earlier.get(doc.doc_id, {})
            rows[doc.doc_id] = {k: doc[k] if k in doc else old[k] for k in STOWED_FIELDS if k in doc or k in old}
        store.delete(DETAILS_TABLE, list(earlier))
        store.insert_many(DETAILS_TABLE, rows)

        def strip(doc):
            for key in STOWED_FIELDS:
                doc.pop(key, None)
            doc["stowed"] = True

        table.update(strip, doc_ids=list(rows))
        return len(rows)


def _unstow(store: Store, job_id: int) -> None:
    """Put a stowed job's details back into its record (it is about to run again)."""
    with store.transaction():
        job = store.get(TABLE, int(job_id))
        if not job or not job.get("stowed"):
            return
        details = store.get(DETAILS_TABLE, int(job_id)) or {}
        fields = {k: details[k] for k in STOWED_FIELDS if k in details}
        store.update(TABLE, int(job_id), {**fields, "stowed": False})
        store.delete(DETAILS_TABLE, [int(job_id)])


def update(store: Store, job_id: int, **fields) -> None:
    fields["updated_at"] = time.time()
    store.update(TABLE, int(job_id), fields)


def set_state(store: Store, job_id: int, state: str, **fields) -> None:
    if state not in STATES:
        raise ValueError(f"unknown job state {state}")
    if state in FINAL_STATES:
        fields.setdefault("finished_at", time.time())
    update(store, job_id, state=state, **fields)


def append_log(store: Store, job_id: int, line: str) -> None:
    """Add a line to the job's log (kept to the last MAX_LOG_LINES)."""
    stamp = time.strftime("%H:%M:%S")

    def add(doc):
        doc["log"] = (doc.get("log") or [])[-(MAX_LOG_LINES - 1):] + [f"{stamp} {line}"]
        doc["updated_at"] = time.time()

    store.update(TABLE, int(job_id), add)


def retry(store: Store, job_id: int) -> None:
    """Put a finished job back in the queue from the start; a pair it had rejected comes
    off the blocklist (retrying is asking for that pair again)."""
    with store.transaction():
        job = get(store, job_id)
        if job.state in RUNNING_STATES:
            raise UsageError(f"job {job_id} is running ({job.state}); wait for it or cancel it")
        unblock(store, job_id=int(job_id))
        _unstow(store, job_id)
        # a retry aligns afresh: the stored maps were those of the run it repeats
        update(store, job_id, state="queued", error=None, progress=0.0, attempts=0, maps=None, approved=[],
               next_attempt_at=time.time(), finished_at=None)


def cancel(store: Store, job_id: int) -> None:
    """Cancel a queued job, or ask a running one to stop at its next stage boundary."""
    job = get(store, job_id)
    if job.state in FINAL_STATES:
        raise UsageError(f"job {job_id} already finished ({job.state})")
    if job.state == "queued":
        set_state(store, job_id, "cancelled")
    else:
        update(store, job_id, cancel_requested=True)


def approve(store: Store, job_id: int) -> list[str]:
    """A user listened to a needs_review job's held maps and accepts them: the job is queued
    again and merges with the stored maps, aligning nothing. Returns the approved languages."""
    with store.transaction():
        job = get(store, job_id)
        held = job.awaiting_review()
        if job.state != "needs_review" or not held:
            raise UsageError(f"job {job_id} holds no time map for review ({job.state})")
        _unstow(store, job_id)
        # the plan is the held maps' own dubs: the counterparts are not asked again
        plan = {lang: job.maps[lang].get("candidate") or {"path": job.maps[lang]["dubbed"], "language": lang}
                for lang in held}
        update(store, job_id, state="queued", error=None, progress=0.0, attempts=0, plan=plan,
               approved=sorted({*job.approved, *held}), next_attempt_at=time.time(), finished_at=None)
        append_log(store, job_id, f"approved the held map of {', '.join(held)}; queued to merge it")
    return held


def reject(store: Store, job_id: int) -> list[str]:
    """A user refuses a needs_review job's held maps: the job ends rejected and each pair goes
    on the blocklist, as if the aligner had rejected it. Returns the rejected languages."""
    with store.transaction():
        job = get(store, job_id)
        held = job.awaiting_review()
        if job.state != "needs_review" or not held:
            raise UsageError(f"job {job_id} holds no time map for review ({job.state})")
        for language in held:
            entry = job.maps[language]
            block(store, job.path, entry["dubbed"], None if language == "und" else language, int(job_id),
                  "rejected after review", (entry.get("timemap") or {}).get("confidence"))
        message = f"rejected on review: {', '.join(held)}"
        _unstow(store, job_id)  # the result and log are written here, then stowed again
        set_state(store, job_id, "rejected", error=message,
                  result={**(job.result or {}), "message": message, "reason": "rejected after review"})
        append_log(store, job_id, message)
        stow(store, [job_id])
    return held


# --- worker side: claiming, per-file locks, recovery (used by pipeline.worker) -------

CLAIMABLE_STATES = ("queued", "waiting_for_file")


def claim_next(store: Store, worker: str, now: float | None = None) -> Job | None:
    """Atomically take the next due job for ``worker``, or None.

    Due means queued (or waiting for its file) with ``next_attempt_at`` passed and no
    worker. A job whose file another worker holds is passed over: one file, one job at a
    time. Claiming a queued job counts an attempt; re-checking a waiting file does not.
    """
    now = time.time() if now is None else now
    with store.transaction() as db:
        table = db.table(TABLE)
        docs = table.all()
        held = {d.get("lock_path") or d.get("original") for d in docs if d.get("worker")} - {None}
        due = [d for d in docs if d["state"] in CLAIMABLE_STATES and not d.get("worker")
               and (d.get("next_attempt_at") or 0) <= now
               and (d.get("lock_path") or d.get("original")) not in held]
        if not due:
            return None
        doc = min(due, key=lambda d: (d.get("next_attempt_at") or 0, d["created_at"], d.doc_id))
        fields = {"worker": worker, "claimed_at": now, "updated_at": now,
                  "attempts": doc.get("attempts", 0) + (1 if doc["state"] == "queued" else 0)}
        if not doc.get("started_at"):
            fields["started_at"] = now
        table.update(fields, doc_ids=[doc.doc_id])
        return Job.from_dict({**table.get(doc_id=doc.doc_id), "id": doc.doc_id})


def acquire_path(store: Store, job_id: int, path: str) -> int | None:
    """Record that job ``job_id`` works on ``path``; returns the id of a running job that
    already holds it (then nothing is recorded), else None."""
    with store.transaction() as db:
        table = db.table(TABLE)
        for doc in table.search(Query().worker.exists()):
            if doc.doc_id != int(job_id) and doc.get("worker") and (doc.get("lock_path") or doc.get("original")) == path:
                return doc.doc_id
        table.update({"lock_path": path, "updated_at": time.time()}, doc_ids=[int(job_id)])
        return None


def release(store: Store, job_id: int, state: str, delay: float = 0.0, uncount: bool = False, **fields) -> None:
    """Give a claimed job back to the queue in ``state`` (queued or waiting_for_file),
    due again after ``delay`` seconds; ``uncount`` takes back the attempt its claim counted."""
    now = time.time()

    def put_back(doc):
        doc.update(fields, state=state, worker=None, next_attempt_at=now + delay, updated_at=now)
        if uncount:
            doc["attempts"] = max(0, doc.get("attempts", 0) - 1)

    store.update(TABLE, int(job_id), put_back)


def requeue_interrupted(store: Store) -> list[int]:
    """On start: every job a worker held when the service stopped goes back to the queue.

    Call it only while no worker of this data dir runs (the worker pool holds a lock
    file for that). Work in progress counts as a used attempt, so a job that crashes the
    service every time fails after ``jobs.max_attempts`` starts instead of looping.
    """
    now = time.time()
    requeued = []
    with store.transaction() as db:
        table = db.table(TABLE)
        for doc in table.all():
            if not doc.get("worker") and doc["state"] not in ("aligning", "muxing", "publishing"):
                continue
            state = "waiting_for_file" if doc["state"] == "waiting_for_file" else "queued"
            log = (doc.get("log") or [])[-(MAX_LOG_LINES - 1):]
            log.append(f"{time.strftime('%H:%M:%S')} re-queued: the service stopped while the job was {doc['state']}")
            table.update({"state": state, "worker": None, "interrupted": True, "next_attempt_at": now,
                          "updated_at": now, "log": log}, doc_ids=[doc.doc_id])
            requeued.append(doc.doc_id)
    return requeued


def find_open(store: Store, original: str, language: str | None) -> Job | None:
    """An active job for ``original`` (and ``language``, or any language when it is None)."""
    for doc in store.search(TABLE, Query().original == original):
        if doc["state"] in ACTIVE_STATES and (language is None or doc.get("language") in (language, None)):
            return Job.from_dict(doc)
    return None


# --- retention: pruning finished jobs ---------------------------------------------------


def prune(store: Store, keep_days: float, keep_finished: int, protect_seconds: float = 0.0,
          slack: int = 0, now: float | None = None) -> int:
    """Remove finished jobs past retention; returns how many went.

    A finished job goes when it finished more than ``keep_days`` days ago (0: no age
    limit) or when ``keep_finished`` newer finished jobs exist (0: no count limit). Jobs
    created within ``protect_seconds`` stay whatever their rank (webhook deduplication
    looks them up), and unfinished jobs are never touched. The count rule waits until more
    than ``slack`` jobs are over the limit, so that a busy service prunes in batches rather
    than after every job. What the backfill needs of a removed job (original, language,
    state, when) goes into the ``finished`` table, one row per original and language.
    """
    now = time.time() if now is None else now
    with store.transaction() as db:
        table = db.table(TABLE)
        finished = sorted((d for d in table.all() if d["state"] in FINAL_STATES),
                          key=lambda d: (d.get("finished_at") or d.get("updated_at") or 0, d.doc_id), reverse=True)
        cutoff = now - keep_days * 86400 if keep_days else None
        aged, surplus = [], []
        for rank, doc in enumerate(finished):
            if now - (doc.get("created_at") or 0) < protect_seconds:
                continue
            if cutoff is not None and (doc.get("finished_at") or doc.get("updated_at") or 0) < cutoff:
                aged.append(doc)
            elif keep_finished and rank >= keep_finished:
                surplus.append(doc)
        if not aged and len(surplus) <= slack:
            return 0
        doomed = aged + surplus
        _remember(db.table(FINISHED_TABLE), doomed)
        table.remove(doc_ids=[d.doc_id for d in doomed])
        store.delete(DETAILS_TABLE, [d.doc_id for d in doomed if d.get("stowed")])
        return len(doomed)


def _remember(rows, doomed: list) -> None:
    """Keep one compact row per (original, language): the newest outcome."""
    newest: dict[tuple, dict] = {}
    for doc in doomed:
        if not doc.get("original"):
            continue  # an event that never resolved to a file: nothing to remember it by
        row = {"original": doc["original"], "language": doc.get("language"), "state": doc["state"],
               "finished_at": doc.get("finished_at") or doc.get("updated_at"), "job_id": doc.doc_id}
        key = (row["original"], row["language"])
        if key not in newest or (row["finished_at"] or 0) > (newest[key]["finished_at"] or 0):
            newest[key] = row
    if not newest:
        return
    stale = [r.doc_id for r in rows.all()
             if (key := (r.get("original"), r.get("language"))) in newest
             and (r.get("finished_at") or 0) <= (newest[key]["finished_at"] or 0)]
    kept = {(r.get("original"), r.get("language")) for r in rows.all() if r.doc_id not in stale}
    if stale:
        rows.remove(doc_ids=stale)
    rows.insert_multiple(row for key, row in newest.items() if key not in kept)


def prune_by_settings(store: Store, config, batch: bool = False) -> int:
    """:func:`prune` with ``jobs.keep_days``, ``jobs.keep_finished`` and the webhook dedup window.

    ``batch`` (after each finished job) lets up to 5 % of keep_finished (at least 10) gather first.
    """
    keep = config.get("jobs.keep_finished")
    slack = max(10, keep // 20) if batch else 0
    return prune(store, config.get("jobs.keep_days"), keep, config.get("webhooks.dedup_window") or 0, slack)


def known_pairs(store: Store, states: Iterable[str]) -> set[tuple[str | None, str | None]]:
    """(original, language) of every job in ``states``, stored or pruned."""
    states = set(states)
    with store.transaction() as db:
        pairs = {(d.get("original"), d.get("language")) for d in db.table(TABLE).all() if d["state"] in states}
        pairs |= {(r.get("original"), r.get("language")) for r in db.table(FINISHED_TABLE).all()
                  if r.get("state") in states}
    return pairs


# --- the blocklist: pairs the aligner rejected --------------------------------------------


def _pair(original: str, dubbed: str) -> tuple[str, str]:
    # real paths: a scan walks the roots as configured, a job holds the resolved path
    return os.path.realpath(original), os.path.realpath(dubbed)


def block(store: Store, original: str, dubbed: str, language: str | None, job_id: int | None,
          reason: str = "", confidence: float | None = None) -> None:
    """Remember that the aligner rejected ``dubbed`` for ``original``: scans and webhook jobs
    skip the pair until it is cleared (:func:`unblock`) or a job is forced."""
    original, dubbed = _pair(original, dubbed)
    row = {"original": original, "dubbed": dubbed, "language": language, "job_id": job_id,
           "reason": reason, "confidence": confidence, "at": time.time()}
    store.upsert(BLOCKLIST_TABLE, row, (Query().original == original) & (Query().dubbed == dubbed))


def blocklist(store: Store, original: str | None = None) -> list[dict]:
    """Every blocked pair (or those of ``original``), newest first."""
    rows = store.all(BLOCKLIST_TABLE)
    if original is not None:
        rows = [r for r in rows if r["original"] == os.path.realpath(original)]
    return sorted(rows, key=lambda r: (r.get("at") or 0, r["id"]), reverse=True)


def blocked_pairs(store: Store) -> dict[tuple[str, str], dict]:
    """(original, dubbed) real paths -> the blocklist row, for checking many pairs at once."""
    return {(r["original"], r["dubbed"]): r for r in store.all(BLOCKLIST_TABLE)}


def is_blocked(pairs: dict[tuple[str, str], dict], original: str, dubbed: str) -> dict | None:
    """The row of ``blocked_pairs`` that blocks this pair, or None."""
    return pairs.get(_pair(original, dubbed)) if pairs else None


def blocked_dubs(store: Store, original: str, dubs: dict[str, str]) -> dict[str, dict]:
    """Of ``dubs`` (language -> dub path), those paired with ``original`` on the blocklist:
    language -> the row that blocks it."""
    pairs = blocked_pairs(store)
    return {lang: row for lang, path in sorted(dubs.items()) if (row := is_blocked(pairs, original, path))}


def unblock(store: Store, original: str | None = None, job_id: int | None = None) -> int:
    """Clear the blocklist: everything, only ``original``'s pairs, or only those ``job_id``
    rejected. Returns how many rows went."""
    cond = Query().noop()
    if original is not None:
        cond &= Query().original == os.path.realpath(original)
    if job_id is not None:
        cond &= Query().job_id == int(job_id)
    return len(store.remove(BLOCKLIST_TABLE, cond))


def page(store: Store, states: Iterable[str] = (), offset: int = 0, limit: int = 100) -> tuple[list[Job], dict[str, int], int]:
    """One page of jobs, newest first: (jobs, count per state, how many match ``states``).

    Only the page's jobs are copied out of the store; the list page no longer hands every
    stored job to the template.
    """
    states = set(states)
    with store.transaction() as db:
        docs = db.table(TABLE).all()
    counts = {s: 0 for s in STATES}
    for doc in docs:
        counts[doc["state"]] = counts.get(doc["state"], 0) + 1
    matching = [d for d in docs if not states or d["state"] in states]
    matching.sort(key=lambda d: (d["created_at"], d.doc_id), reverse=True)
    shown = [Job.from_dict({**d, "id": d.doc_id}) for d in matching[offset:offset + limit]]
    return shown, counts, len(matching)
