"""``syncdub worker``: a stage worker for the redis queue (see syncdub_companion.queue.worker)."""
from __future__ import annotations

import click

from ..cli import AppContext, config_options


def register(cli: click.Group) -> None:
    cli.add_command(worker_cmd)


@click.command("worker")
@config_options
@click.pass_obj
def worker_cmd(app: AppContext):
    """Take the align and/or merge stage of jobs from the redis queue ([worker] stages).

    Runs on any machine that mounts the library; its config's [paths] maps the
    service's paths to this machine's. Stops on SIGTERM/SIGINT, giving running stages
    back to the service.
    """
    from ..queue.worker import run_worker

    run_worker(app.services(store=False))
