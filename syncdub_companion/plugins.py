"""Building the plugin manager: specs, built-ins, entry points, plugin folder, enable lists."""
from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import logging
import os
import pkgutil
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Callable

import pluggy

from . import hookspecs
from .errors import PluginError, SyncDubError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "syncdub"
HOOK_PREFIX = "syncdub_"
DIR_MODULE_PREFIX = "syncdub_plugin_dir"


class SyncDubPluginManager(pluggy.PluginManager):
    """A pluggy manager that also remembers where each plugin came from."""

    def __init__(self) -> None:
        super().__init__("syncdub")
        self.origins: dict[str, str] = {}
        self.switched_off: set[str] = set()  # found, but off by plugins.enable/disable

    def parse_hookimpl_opts(self, plugin: Any, name: str):
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is not None or not name.startswith(HOOK_PREFIX):
            return opts
        # An undecorated syncdub_* function is meant as a hook too (pytest does the same):
        # counting it means a misspelt name fails start-up instead of being silently ignored.
        attr = inspect.getattr_static(plugin, name, None)
        if inspect.isfunction(attr) or isinstance(attr, (staticmethod, classmethod)):
            return {}
        return None


def builtin_modules() -> list[str]:
    """Module names of the built-in plugins shipped in the top-level ``plugins`` package."""
    import plugins as builtin_package

    return sorted(f"plugins.{m.name}" for m in pkgutil.iter_modules(builtin_package.__path__)
                  if not m.name.startswith("_"))


def build_plugin_manager(plugin_config: dict | None = None, load_entry_points: bool = True) -> SyncDubPluginManager:
    """A fresh manager: specs, built-ins, entry points, the plugin folder, then enable/disable.

    ``plugin_config`` is the ``[plugins]`` section (enable, disable, dir). Switched-off
    plugins are never imported. A third-party plugin that fails to import is logged and
    skipped; a hook implementation that matches no spec, or a wrong hook signature, stops
    start-up with a PluginError naming the plugin and the hook.
    """
    plugin_config = plugin_config or {}
    enable, disable = set(plugin_config.get("enable") or []), set(plugin_config.get("disable") or [])
    seen: set[str] = set()

    pm = SyncDubPluginManager()

    def wanted(name: str) -> bool:
        seen.add(name)
        on = name not in disable and (not enable or name in enable)
        if not on:
            pm.switched_off.add(name)
        return on

    pm.add_hookspecs(hookspecs)
    for module_name in builtin_modules():
        name = module_name.split(".", 1)[1]
        if wanted(name):
            _register(pm, importlib.import_module(module_name), name, "built-in")
    if load_entry_points:
        _load_entry_points(pm, wanted)
    if plugin_config.get("dir"):
        _load_plugin_dir(pm, Path(plugin_config["dir"]).expanduser(), wanted)
    for name in sorted((enable | disable) - seen):
        log.warning("plugins: no plugin named %r is installed", name)
    _check(pm)
    if os.environ.get("SYNCDUB_TRACE_PLUGINS"):
        pm.trace.root.setwriter(lambda msg: log.info("hook %s", msg.rstrip()))
        pm.enable_tracing()
    return pm


def _load_entry_points(pm: SyncDubPluginManager, wanted: Callable[[str], bool]) -> None:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if not wanted(ep.name):
            continue
        if pm.has_plugin(ep.name):
            log.warning("plugin %s (entry point %s) is skipped: a plugin of that name is already loaded",
                        ep.name, ep.value)
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken third-party plugin must not stop the service
            log.warning("plugin %s (entry point %s) failed to load and is skipped: %s: %s",
                        ep.name, ep.value, type(exc).__name__, exc)
            continue
        dist = getattr(ep, "dist", None)
        _register(pm, plugin, ep.name, f"entry point ({dist.name})" if dist else "entry point")


def _load_plugin_dir(pm: SyncDubPluginManager, folder: Path, wanted: Callable[[str], bool]) -> None:
    if not folder.is_dir():
        raise PluginError(f"plugins.dir: {folder} is not a folder")
    for path in sorted(folder.iterdir()):
        name = path.stem if path.suffix == ".py" else path.name
        is_module = path.suffix == ".py" and path.is_file()
        is_package = path.is_dir() and (path / "__init__.py").is_file()
        if name.startswith(("_", ".")) or not (is_module or is_package) or not wanted(name):
            continue
        if pm.has_plugin(name):
            log.warning("plugin %s (%s) is skipped: a plugin of that name is already loaded", name, path)
            continue
        module = _import_file(name, path, is_package)
        if module is not None:
            _register(pm, module, name, f"plugin folder ({path})")


def _import_file(name: str, path: Path, is_package: bool):
    """Import a plugin-folder module or package under a private name; None when it fails."""
    module_name = f"{DIR_MODULE_PREFIX}.{name}"
    if is_package:
        spec = importlib.util.spec_from_file_location(module_name, path / "__init__.py",
                                                      submodule_search_locations=[str(path)])
    else:
        spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # relative imports inside a package need it registered
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a broken one-off script must not stop the service
        for key in [k for k in sys.modules if k == module_name or k.startswith(module_name + ".")]:
            del sys.modules[key]
        log.warning("plugin %s (%s) failed to import and is skipped: %s: %s", name, path, type(exc).__name__, exc)
        return None
    return module


def _register(pm: SyncDubPluginManager, plugin, name: str, origin: str) -> None:
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {name} ({origin}): {exc}") from None
    except ValueError as exc:  # the same module object registered twice under two names
        raise PluginError(f"plugin {name} ({origin}): {exc.args[0].splitlines()[0]}") from None
    pm.origins[name] = origin


def _check(pm: SyncDubPluginManager) -> None:
    """Fail loudly on hook implementations that match no spec (a misspelt hook name)."""
    known = [name for name in vars(pm.hook) if name.startswith(HOOK_PREFIX)
             and getattr(pm.hook, name).spec is not None]
    for name, caller in sorted(vars(pm.hook).items()):
        impls = [i for i in caller.get_hookimpls() if not i.optionalhook] if caller.spec is None else []
        if name.startswith(HOOK_PREFIX) and impls:
            owners = ", ".join(sorted(pm.get_name(impl.plugin) for impl in impls))
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise PluginError(f"plugin {owners}: unknown hook {name}: no such hook spec{hint}")
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(str(exc)) from None


def call_each(hook, *, on_skip: Callable[[str], None] | None = None, **kwargs) -> list:
    """Call every implementation of a collecting hook on its own; the non-None results, in call order.

    ``hook`` is ``pm.hook.<name>`` or a subset caller. A plain pluggy call stops at the
    first exception, so one broken plugin would hide every other plugin's answer. Here each
    implementation's error is judged by tier, as the job runner judges a stage's:

    - transient (:func:`pipeline.policy.is_transient`: a server that is down, a busy file):
      the other implementations still run, then the first transient error is raised, so
      the caller (the job) is retried later;
    - permanent (any other :class:`SyncDubError`): that plugin is skipped, with a warning;
    - anything else is a bug in the plugin: logged with its traceback, that plugin is
      skipped, the call goes on.

    ``on_skip(message)`` also hears about every skipped plugin (e.g. for the job's log).
    Old- and new-style wrappers cannot run on their own and are left out.
    """
    from .pipeline.policy import is_transient  # the policy module imports the pipeline's errors only

    results, transient = [], None
    for impl in reversed(hook.get_hookimpls()):  # pluggy's own order: last registered, tryfirst first
        if impl.hookwrapper or impl.wrapper:
            continue
        if os.environ.get("SYNCDUB_TRACE_PLUGINS"):  # pluggy's tracer never sees these one-by-one calls
            log.info("hook %s [%s]", hook.name, impl.plugin_name)
        try:
            args = [kwargs[name] for name in impl.argnames]
            result = impl.function(*args)
        except Exception as exc:  # noqa: BLE001 - sorted into tiers below
            if is_transient(exc):
                log.warning("plugin %s: %s failed and will be retried: %s", impl.plugin_name, hook.name, exc)
                transient = transient or exc
                continue
            if isinstance(exc, SyncDubError):
                log.warning("plugin %s: %s failed, skipping this plugin: %s", impl.plugin_name, hook.name, exc)
            else:
                log.exception("plugin %s: bug in %s, skipping this plugin", impl.plugin_name, hook.name)
            if on_skip is not None:
                on_skip(f"plugin {impl.plugin_name}: {exc if isinstance(exc, SyncDubError) else _bug(exc)}")
            continue
        if result is not None:
            results.append(result)
    if transient is not None:
        raise transient
    return results


def _bug(exc: Exception) -> str:
    return f"internal error ({type(exc).__name__}: {exc}); see the service log"


def describe_plugins(pm: pluggy.PluginManager) -> list[dict]:
    """Name, origin and implemented hooks of every loaded plugin, for `syncdub plugins` and /plugins."""
    origins = getattr(pm, "origins", {})
    rows = []
    for plugin in pm.get_plugins():
        name = pm.get_name(plugin)
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        source = getattr(plugin, "__file__", None) or type(plugin).__module__
        rows.append({"name": name, "hooks": hooks, "origin": origins.get(name, "registered"), "source": str(source)})
    return sorted(rows, key=lambda r: r["name"])


def hook_signature(func: Callable) -> str:
    """``name(arg: Type, ...) -> Return``, annotations as written with their quotes dropped."""
    def text(annotation) -> str:
        raw = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
        return raw.replace('"', "").replace("'", "")

    signature = inspect.signature(func)
    params = [p.name if p.annotation is inspect.Parameter.empty else f"{p.name}: {text(p.annotation)}"
              for p in signature.parameters.values()]
    ret = signature.return_annotation
    tail = "" if ret is inspect.Signature.empty else f" -> {text(ret)}"
    return f"{func.__name__}({', '.join(params)}){tail}"


def hook_specs() -> list[Callable]:
    """Every hook spec function in hookspecs.py, in source order."""
    specs = [f for name, f in vars(hookspecs).items() if name.startswith(HOOK_PREFIX) and callable(f)]
    return sorted(specs, key=lambda f: f.__code__.co_firstlineno)


def hook_reference() -> str:
    """Markdown for every hook: signature, whether the first result wins, docstring."""
    blocks = []
    for func in hook_specs():
        opts = getattr(func, "syncdub_spec", {}) or {}
        if opts.get("firstresult"):
            mode = "firstresult: the first non-None result wins and stops the call"
        elif hook_signature(func).endswith("-> None"):
            mode = "notification: every implementation runs; return nothing"
        else:
            mode = "every implementation runs; the results are collected in a list"
        doc = inspect.cleandoc(func.__doc__ or "(undocumented)")
        blocks.append(f"### `{func.__name__}`\n\n```python\n{hook_signature(func)}\n```\n\n*{mode}*\n\n{doc}\n")
    return "\n".join(blocks)
