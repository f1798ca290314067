"""The notify plugin: real jobs end, Apprise posts to a real HTTP server on 127.0.0.1."""
from __future__ import annotations

import http.server
import json
import logging
import socket
import threading

import pytest

from syncdub_companion import jobs
from syncdub_companion.config import REDACTED
from syncdub_companion.errors import ConfigError
from syncdub_companion.logs import setup_logging
from syncdub_companion.media import LibraryEvent
from syncdub_companion.pipeline.runner import run_job
from tests.pipeline.pipeline_lib import FakeMerge, build_lib

MOVIE = "movies/Film (2010)/Film (2010).mkv"
PATH_TOKEN = "hookpathTOKEN5150"  # the secret part of the hook's URL


class Receiver(http.server.ThreadingHTTPServer):
    """Collects every POST: (path, headers, JSON body)."""

    def __init__(self):
        self.posts: list[tuple[str, dict, dict]] = []
        self.arrived = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.posts.append((self.path, dict(self.headers), json.loads(body)))
                outer.arrived.set()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server_address[1]}/{PATH_TOKEN}"


@pytest.fixture
def receiver():
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def lib_with(tmp_path, urls, on=None):
    notify = {"urls": urls, **({"on": on} if on is not None else {})}
    return build_lib(tmp_path, {"notify": notify, "server": {"data_dir": str(tmp_path / "data"),
                                                             "public_url": "http://syncdub.lan:5000"}})


def run_next(lib, merge=None):
    job = jobs.claim_next(lib.services.store, "test-worker")
    merge = merge or FakeMerge()
    return run_job(lib.services, job, worker="test-worker", merge=merge, align=merge.align)


def test_a_done_job_is_posted_with_its_reason_and_link(tmp_path, receiver):
    lib = lib_with(tmp_path, [receiver.url])
    original = lib.file(MOVIE)
    lib.file("movies/Film (2010)/Film (2010).de.mka")
    job_id = jobs.create(lib.services.store, original=original)
    assert run_next(lib) == "done"
    assert receiver.arrived.wait(10)
    path, headers, body = receiver.posts[0]
    assert path == f"/{PATH_TOKEN}" and headers["Content-Type"].startswith("application/json")
    assert body["title"] == "SyncDub: done – Film (2010).mkv"
    assert body["message"] == f"Job {job_id} done: added de\n{original}\nhttp://syncdub.lan:5000/jobs/{job_id}"
    assert body["type"] == "success"
    lib.services.store.close()


def test_a_failed_job_says_why_and_a_skipped_one_is_quiet(tmp_path, receiver):
    lib = lib_with(tmp_path, [receiver.url])
    jobs.create(lib.services.store, original=lib.file(MOVIE))  # no dub anywhere: skipped
    assert run_next(lib) == "skipped"
    jobs.enqueue_event(lib.services.store, LibraryEvent(source="jellyfin", item_id="a" * 32, title="Film"), 600)
    assert run_next(lib) == "failed"
    assert receiver.arrived.wait(10)
    assert len(receiver.posts) == 1  # skipped is not in notify.on by default
    body = receiver.posts[0][2]
    assert body["type"] == "failure" and body["title"] == "SyncDub: failed – Film"
    assert "set jellyfin.url and jellyfin.api_key under Settings → Jellyfin" in body["message"]
    lib.services.store.close()


def test_on_chooses_the_outcomes(tmp_path, receiver):
    lib = lib_with(tmp_path, [receiver.url], on=["skipped"])
    jobs.create(lib.services.store, original=lib.file(MOVIE))
    assert run_next(lib) == "skipped"
    assert receiver.arrived.wait(10)
    assert receiver.posts[0][2]["message"].startswith("Job 1 skipped: no dubbed counterpart found for de")
    lib.services.store.close()


def test_a_dead_service_never_changes_the_job_and_its_secret_stays_out_of_the_log(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"json://hookuser:hookPASSWORD99@127.0.0.1:{port}/{PATH_TOKEN}"
    lib = lib_with(tmp_path, [url])
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    setup_logging("debug", tmp_path / "data", lib.services.config.secrets())
    try:
        original = lib.file(MOVIE)
        lib.file("movies/Film (2010)/Film (2010).de.mka")
        job_id = jobs.create(lib.services.store, original=original)
        assert run_next(lib) == "done"
        assert jobs.get(lib.services.store, job_id).state == "done"
        for handler in root.handlers:
            handler.flush()
        text = (tmp_path / "data" / "logs" / "syncdub.log").read_text()
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)
    assert "notify: sending to entry 1 of notify.urls" in text
    for secret in (PATH_TOKEN, "hookPASSWORD99", "hookuser:"):
        assert secret not in text
    lib.services.store.close()


def test_urls_are_secret_in_dumps(tmp_path):
    lib = lib_with(tmp_path, ["discord://123456789012/webhookTOKENabc", "ntfys://ntfy.sh/my-private-topic"])
    config = lib.services.config
    assert config.redacted()["notify"]["urls"] == REDACTED
    assert {"discord://123456789012/webhookTOKENabc", "webhookTOKENabc", "123456789012",
            "my-private-topic"} <= set(config.secrets())
    lib.services.store.close()


@pytest.mark.parametrize("urls,message", [
    (["not a url"], "notify.urls: entry 1 is not a URL (service://...)"),
    (["json://127.0.0.1/x", "nosuchservice://user:SECRETPW@host/x"], "notify.urls: entry 2: Apprise knows no service nosuchservice://"),
])
def test_bad_urls_are_refused_without_echoing_them(tmp_path, urls, message):
    with pytest.raises(ConfigError) as caught:
        lib_with(tmp_path, urls)
    assert any(p.startswith(message) for p in caught.value.problems), caught.value.problems
    assert "SECRETPW" not in str(caught.value)


def test_unknown_outcomes_are_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"notify.on: unknown outcome 'finished'"):
        lib_with(tmp_path, [], on=["done", "finished"])
