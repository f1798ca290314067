"""Starting and stopping the long-running service: workers, web server, signals."""
from __future__ import annotations

import logging
import signal

from . import __version__
from .errors import ConfigError

log = logging.getLogger(__name__)


def serve_forever(services) -> None:
    """Serve the app under waitress until SIGTERM/SIGINT, with the job workers alongside.

    A port that is taken or a host that cannot be bound is a ConfigError naming the
    setting. On a signal, waitress stops accepting and finishes its running requests, then
    the background tasks are stopped and joined, and the function returns.
    """
    from .web.app import create_app
    from .web.auth import announce_setup
    from .web.server import make_server

    config = services.config
    host, port = config.get("server.host"), config.get("server.port")
    app = create_app(services)
    try:
        server = make_server(app, config, host, port)
    except OSError as exc:
        raise ConfigError(f"server.port: cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    background = start_background(services)
    announce_setup(services)  # no login yet: print the one-time setup link

    def stop(signum, _frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        log.info("%s received: stopping", signal.Signals(signum).name)
        # waitress ends its loop (and its request threads) on SystemExit raised inside it;
        # closing sockets from here would leave keep-alive connections spinning the loop.
        raise SystemExit(0)

    log.info("syncdub %s serving on http://%s:%s (health: /healthz)", __version__, host, port)
    try:
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        server.run()
    finally:
        for task in background:
            task.stop()
        for task in background:
            task.join()
        server.close()
        log.info("stopped")


def start_background(services) -> list:
    """Start the job workers and other background tasks; each has stop() and join()."""
    from .merge import cleanup_leftovers, journal_dir
    from .queue import start_jobs

    cleanup_leftovers(journal_dir(services), at_startup=True)  # temps of merges a crash cut short
    return start_jobs(services)  # the embedded worker pool, or the redis queue's dispatcher
