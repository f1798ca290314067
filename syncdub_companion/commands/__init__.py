"""CLI subcommand modules; each has ``register(cli)``. Add a module here to add commands."""
from __future__ import annotations

from . import align, core, user, jobs
from . import resync, worker

COMMAND_MODULES = [core, align, user, jobs, resync, worker]
