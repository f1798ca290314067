"""Building the plugin manager: specs, built-ins, entry points, plugin folder, enable lists."""
from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import pkgutil
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Iterable

import pluggy

from . import hookspecs
from .errors import PluginError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "syncdub"


def builtin_modules() -> list[str]:
    """Module names of the built-in plugins shipped in the top-level ``plugins`` package."""
    import plugins as builtin_package

    return sorted(f"plugins.{m.name}" for m in pkgutil.iter_modules(builtin_package.__path__)
                  if not m.name.startswith("_"))


def build_plugin_manager(plugin_config: dict | None = None, load_entry_points: bool = True) -> pluggy.PluginManager:
    """A fresh manager: specs, built-ins, entry points, the plugin folder, then enable/disable.

    ``plugin_config`` is the raw ``[plugins]`` section (enable, disable, dir). A
    third-party plugin that fails to import is logged and skipped; a hook implementation
    that matches no spec stops start-up with a PluginError naming it.
    """
    plugin_config = plugin_config or {}
    pm = pluggy.PluginManager("syncdub")
    pm.add_hookspecs(hookspecs)
    for name in builtin_modules():
        pm.register(importlib.import_module(name), name=name.split(".", 1)[1])
    if load_entry_points:
        _load_entry_points(pm)
    if plugin_config.get("dir"):
        _load_plugin_dir(pm, Path(plugin_config["dir"]).expanduser())
    _apply_enable_lists(pm, plugin_config.get("enable") or [], plugin_config.get("disable") or [])
    _check(pm)
    if os.environ.get("SYNCDUB_TRACE_PLUGINS"):
        pm.trace.root.setwriter(lambda msg: log.debug("hook %s", msg.rstrip()))
        pm.enable_tracing()
    return pm


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        try:
            pm.register(ep.load(), name=ep.name)
        except Exception as exc:  # a broken third-party plugin must not stop the service
            log.warning("plugin %s (entry point %s) failed to load and is skipped: %s", ep.name, ep.value, exc)


def _load_plugin_dir(pm: pluggy.PluginManager, folder: Path) -> None:
    if not folder.is_dir():
        raise PluginError(f"plugins.dir: {folder} is not a folder")
    for path in sorted(folder.glob("*.py")):
        name = path.stem
        try:
            spec = importlib.util.spec_from_file_location(f"syncdub_plugin_dir.{name}", path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        except Exception as exc:
            log.warning("plugin %s (%s) failed to import and is skipped: %s", name, path, exc)
            continue
        _register(pm, module, name)


def _register(pm: pluggy.PluginManager, plugin, name: str) -> None:
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {name}: {exc}") from None


def _apply_enable_lists(pm: pluggy.PluginManager, enable: Iterable[str], disable: Iterable[str]) -> None:
    enable, disable = set(enable), set(disable)
    names = {pm.get_name(p) for p in pm.get_plugins()}
    for name in (enable | disable) - names:
        log.warning("plugins: no plugin named %r is installed", name)
    for name in names:
        if name in disable or (enable and name not in enable):
            pm.unregister(name=name)


def _check(pm: pluggy.PluginManager) -> None:
    """Fail loudly on hook implementations that match no spec (a misspelt hook name)."""
    for name, caller in pm.hook.__dict__.items():
        if name.startswith("syncdub_") and caller.spec is None and caller.get_hookimpls():
            owners = ", ".join(pm.get_name(impl.plugin) for impl in caller.get_hookimpls())
            raise PluginError(f"unknown hook {name} in plugin {owners}: no such hook spec")
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(str(exc)) from None


def describe_plugins(pm: pluggy.PluginManager) -> list[dict]:
    """Name, origin and implemented hooks of every loaded plugin, for `syncdub plugins` and /plugins."""
    rows = []
    for plugin in pm.get_plugins():
        name = pm.get_name(plugin)
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        origin = getattr(plugin, "__file__", None) or type(plugin).__module__
        rows.append({"name": name, "hooks": hooks, "origin": str(origin)})
    return sorted(rows, key=lambda r: r["name"])
