"""The ``syncdub`` command line: a thin face over the same services as the web page.

Expected failures (SyncDubError) become one line on stderr and a non-zero exit, here and
nowhere else. Subcommands live in ``commands/``, one module per feature.
"""
from __future__ import annotations

import functools
import json
import sys
from typing import Any, Callable, Sequence

import click

from . import __version__
from .config import overrides_from_pairs
from .errors import ConfigError, SyncDubError


class AppContext:
    """Collects --config/--set from the group and the command, and builds services lazily."""

    def __init__(self):
        self.config_path = None
        self.settings: list[str] = []
        self._services = None

    def overrides(self) -> dict:
        return overrides_from_pairs(self.settings)

    def services(self, store: bool = True, read_only: bool = False):
        """Built on first use; ``read_only`` (no store, no data dir, stderr logs) for commands that write nothing."""
        if self._services is None:
            from .services import build_services

            self._services = build_services(self.config_path, self.overrides(),
                                            store_path=True if store and not read_only else None,
                                            read_only=read_only)
        return self._services


def config_options(func):
    """Adds --config and --set to a command; both also work before the command name."""

    @click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                  help="Config file (default: $SYNCDUB_CONFIG, ./config.toml, /config/config.toml).")
    @click.option("--set", "settings", multiple=True, metavar="SECTION.KEY=VALUE",
                  help="Override one setting (repeatable); wins over file and environment.")
    @functools.wraps(func)
    def wrapper(*args, config_path=None, settings=(), **kwargs):
        app = click.get_current_context().ensure_object(AppContext)
        if config_path:
            app.config_path = config_path
        app.settings.extend(settings)
        return func(*args, **kwargs)

    return wrapper


def echo_rows(rows: Sequence, line: Callable[[Any], str], *, as_json: bool, empty: str,
              data: Callable[[Any], Any] = lambda row: row) -> None:
    """A listing: a JSON array of ``data(row)``, or ``line(row)`` per row, or ``empty`` when there are none."""
    if as_json:
        click.echo(json.dumps([data(row) for row in rows], indent=2))
        return
    if not rows:
        click.echo(empty)
    for row in rows:
        click.echo(line(row))


class SyncDubGroup(click.Group):
    """Turns SyncDubError into a one-line message and its exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(f"config error: {problem}", err=True)
            ctx.exit(exc.exit_code)
        except SyncDubError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=SyncDubGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="syncdub")
@config_options
def cli():
    """SyncDub Companion: sync dubbed audio from another release into your library files."""


def _register_commands() -> None:
    from .commands import COMMAND_MODULES

    for module in COMMAND_MODULES:
        module.register(cli)


def main(argv: list[str] | None = None) -> None:
    _register_commands()
    _register_plugin_commands(argv if argv is not None else sys.argv[1:])
    cli.main(args=argv, prog_name="syncdub")


def _register_plugin_commands(argv: list[str]) -> None:
    """Plugins add commands through syncdub_register_commands; a broken config must not hide --help."""
    import logging

    from .services import load_config_and_plugins

    # The command itself loads the plugins again and reports any problem once, there.
    configs = _option_values(argv, "--config")
    logging.disable(logging.CRITICAL)
    try:
        _, pm = load_config_and_plugins(configs[-1] if configs else None,
                                        overrides_from_pairs(_option_values(argv, "--set")))
    except SyncDubError:
        return
    finally:
        logging.disable(logging.NOTSET)
    pm.hook.syncdub_register_commands(cli=cli)


def _option_values(argv: list[str], option: str) -> list[str]:
    """Every value given to ``option`` (``--opt V`` or ``--opt=V``) anywhere in ``argv``."""
    values = []
    for i, arg in enumerate(argv):
        if arg == option and i + 1 < len(argv):
            values.append(argv[i + 1])
        elif arg.startswith(option + "="):
            values.append(arg.split("=", 1)[1])
    return values


if __name__ == "__main__":
    # Run through the package's own module: as __main__ this file would be a second copy of
    # itself, with its own AppContext class, and options given before the command would be lost.
    from syncdub_companion.cli import main as package_main

    package_main()
