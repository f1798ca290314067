"""The session factory: default timeouts, retries only for connections, a User-Agent, redaction."""
from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from syncdub_companion.http import USER_AGENT, make_session, redact_url


class _Recorder(BaseHTTPRequestHandler):
    seen: list = []
    mode = "ok"

    def do_GET(self):
        type(self).seen.append(dict(self.headers))
        if type(self).mode == "slow":
            time.sleep(1.5)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_POST(self):
        type(self).seen.append(dict(self.headers))
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.close_connection = True  # hang up without answering: the POST reached us

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Recorder.seen, _Recorder.mode = [], "ok"
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield httpd, f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def test_user_agent_and_default_timeout(server):
    _, url = server
    _Recorder.mode = "slow"
    session = make_session(timeout=(1.0, 0.3), retries=0)
    start = time.perf_counter()
    with pytest.raises(requests.Timeout):
        session.get(url)
    assert time.perf_counter() - start < 1.2
    assert _Recorder.seen[0]["User-Agent"] == USER_AGENT


def test_connection_refused_is_retried_until_the_server_comes_up():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    _Recorder.seen, _Recorder.mode = [], "ok"

    def start_late():
        time.sleep(0.4)
        httpd = ThreadingHTTPServer(("127.0.0.1", port), _Recorder)
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        started.append(httpd)

    started: list = []
    threading.Thread(target=start_late, daemon=True).start()
    with pytest.raises(requests.ConnectionError):
        make_session(retries=0).get(f"http://127.0.0.1:{port}/")
    response = make_session(retries=6, backoff=0.1).get(f"http://127.0.0.1:{port}/")
    assert response.text == "ok"
    started[0].shutdown()
    started[0].server_close()


def test_a_post_that_reached_the_server_is_not_sent_twice(server):
    _, url = server
    with pytest.raises(requests.ConnectionError):
        make_session(retries=5, backoff=0.01).post(url, json={"a": 1})
    assert len(_Recorder.seen) == 1


def test_redact_url_hides_tokens_in_query_strings():
    url = "http://plex:32400/library?X-Plex-Token=abc123&type=1&api_key=zzz&token=t0k"
    redacted = redact_url(url)
    assert "abc123" not in redacted and "zzz" not in redacted and "t0k" not in redacted
    assert "type=1" in redacted
