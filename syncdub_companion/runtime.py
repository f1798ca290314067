"""Starting and stopping the long-running service: workers, web server, signals."""
from __future__ import annotations

import logging
import signal

log = logging.getLogger(__name__)


def serve_forever(services) -> None:
    """Serve the app under waitress until SIGTERM/SIGINT, with the job workers alongside."""
    from waitress.server import create_server

    from .web.app import create_app

    config = services.config
    app = create_app(services)
    server = create_server(app, host=config.get("server.host"), port=config.get("server.port"),
                           threads=config.get("server.threads"), ident="syncdub")
    background = start_background(services)

    def stop(signum, _frame):
        log.info("signal %s: stopping", signum)
        for task in background:
            task.stop()
        server.close()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("syncdub serving on http://%s:%s", config.get("server.host"), config.get("server.port"))
    try:
        server.run()
    except OSError:
        pass  # the socket closed under the loop while stopping
    finally:
        for task in background:
            task.join()


def start_background(services) -> list:
    """Start the job workers and other background tasks; each has stop() and join()."""
    from .merge import cleanup_leftovers, journal_dir

    from .pipeline.worker import WorkerPool

    cleanup_leftovers(journal_dir(services), at_startup=True)  # temps of merges a crash cut short
    return [WorkerPool(services).start()]
