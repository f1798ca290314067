"""The process-wide services every face (web, webhooks, CLI, workers) shares.

Build them once with :func:`build_services`; pass the object around, never a global.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pluggy

from . import __version__
from .config import Config, build_config, load_raw, plugins_section
from .errors import ConfigError
from .logs import setup_logging
from .models import models_status
from .plugins import build_plugin_manager
from .settings import CORE_SETTINGS, Setting
from .store import Store
from .tools.ffmpeg import FFmpeg
from .tools.ffprobe import FFprobe
from .tools.mkvmerge import MkvMerge


@dataclass
class Services:
    """Config, plugin manager, store and tool wrappers of one process."""

    config: Config
    pm: pluggy.PluginManager
    store: Store
    ffmpeg: FFmpeg
    ffprobe: FFprobe
    mkvmerge: MkvMerge
    started_at: float = field(default_factory=time.time)
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def hook(self):
        return self.pm.hook

    @property
    def model_dir(self) -> Path:
        configured = self.config.get("speech.model_dir")
        return Path(configured).expanduser() if configured else self.config.data_dir / "models"

    def health(self) -> dict:
        """What /healthz reports: version, uptime, tools with versions, queue depth, the broker, models."""
        tools = {
            "ffmpeg": self.ffmpeg.version(),
            "ffprobe": self.ffprobe.version(),
            "mkvmerge": self.mkvmerge.version(),
        }
        queue = None
        if self.config.get("queue.backend") == "redis":
            from .queue.engine import broker_status

            queue = broker_status(self.config)
        return {
            "status": "ok" if all(tools.values()) and (queue is None or queue["reachable"]) else "degraded",
            "version": __version__,
            "uptime_seconds": round(time.time() - self.started_at, 1),
            "tools": {name: {"found": v is not None, "version": v} for name, v in tools.items()},
            "queue_depth": self.queue_depth(),
            "queue": queue or {"backend": "embedded"},
            "models": models_status(self.config.get("speech.whisper_model"),
                                    self.config.get("speech.sentence_model"), self.model_dir),
        }

    def job_queued(self) -> None:
        """Tell this process's workers (if it runs any) to look at the queue now, not at their next poll."""
        pool = self.extras.get("worker_pool")
        if pool is not None:
            pool.wake()

    def queue_depth(self) -> int:
        """Jobs queued or in progress."""
        from .jobs import ACTIVE_STATES, TABLE
        from .store import Query

        return self.store.count(TABLE, Query().state.one_of(ACTIVE_STATES))


def plugin_settings(pm: pluggy.PluginManager) -> list[Setting]:
    """Every setting the loaded plugins register through syncdub_register_settings."""
    return [s for batch in pm.hook.syncdub_register_settings() for s in (batch or [])]


def load_config_and_plugins(config_path: str | os.PathLike | None = None, overrides: Mapping | None = None,
                            env: Mapping[str, str] | None = None) -> tuple[Config, pluggy.PluginManager]:
    """Raw layers -> plugin manager (its [plugins] section) -> validated config with plugin settings.

    A broken [plugins] section builds the manager with defaults instead, so that the
    validation below reports it together with every other problem.
    """
    raw, source = load_raw(config_path, env, overrides)
    section, problems = plugins_section(raw, env, source)
    pm = build_plugin_manager({} if problems else section)
    # A switched-off plugin's section stays in the file for later; it is not a typo.
    raw = {k: v for k, v in raw.items() if k not in getattr(pm, "switched_off", ())}
    config = build_config(raw, CORE_SETTINGS + plugin_settings(pm), source, env)
    return config, pm


def prepare_data_dir(config: Config) -> Path:
    """Create server.data_dir; a ConfigError naming the setting when it cannot be written."""
    folder = config.data_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"server.data_dir: cannot create {folder}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"server.data_dir: {folder} is not writable by this user (uid {os.getuid()})")
    return folder


def build_services(config_path: str | os.PathLike | None = None, overrides: Mapping | None = None,
                   env: Mapping[str, str] | None = None, store_path: str | Path | None | bool = True,
                   configure_logging: bool = True, read_only: bool = False) -> Services:
    """Everything a process needs. ``store_path=True`` uses data_dir/syncdub.json; None keeps it in memory.

    ``read_only`` is for commands that must write nothing (``syncdub align``): no data dir
    is created and logs go to stderr only.
    """
    config, pm = load_config_and_plugins(config_path, overrides, env)
    if not read_only:
        prepare_data_dir(config)
    if configure_logging:
        setup_logging(config.get("server.log_level"), None if read_only else config.data_dir, config.secrets())
    if store_path is True:
        store_path = config.data_dir / "syncdub.json"
    tools = config.section("tools")
    services = Services(
        config=config,
        pm=pm,
        store=Store(store_path),
        ffmpeg=FFmpeg(tools["ffmpeg"]),
        ffprobe=FFprobe(tools["ffprobe"]),
        mkvmerge=MkvMerge(tools["mkvmerge"]),
    )
    if not read_only:
        from .queue import install

        install(services)  # the redis queue: merge locks in Redis, honoured across machines
    return services
