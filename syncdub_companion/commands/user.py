"""``syncdub user set``: the web page's login, written into the config file."""
from __future__ import annotations

import click

from ..cli import AppContext, config_options


def register(cli: click.Group) -> None:
    cli.add_command(user_group)


@click.group("user")
def user_group():
    """Manage the login of the web page."""


@user_group.command("set")
@config_options
@click.argument("username")
@click.option("--password", default=None, metavar="P",
              help="The new password (visible in the process list); prompted for twice when left out.")
@click.pass_obj
def user_set(app: AppContext, username: str, password: str | None):
    """Set the login USERNAME and its password; only a hash is stored (auth.password_hash).

    The config file keeps its comments and its owner, and is made private (0600); it is
    created when there is none yet. Sessions logged in with the old password end.
    """
    import tomlkit

    from ..configfile import SETUP_TOKEN_FILE, config_path_for_writing, set_user, user_changes, write_document
    from ..services import load_config_and_plugins

    user_changes(username, "x" * 64)  # a bad name fails before the password prompt
    path = config_path_for_writing(app.config_path)
    if not path.exists():
        write_document(path, tomlkit.document())
    # Loading first reports a broken file instead of rewriting it.
    config, _ = load_config_and_plugins(path, app.overrides())
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Password again")
    warning = set_user(path, username, password)
    (config.data_dir / SETUP_TOKEN_FILE).unlink(missing_ok=True)  # the first-run link is spent
    click.echo(f"login {username.strip()} saved to {path}")
    if warning:
        click.echo(f"warning: {warning}", err=True)
