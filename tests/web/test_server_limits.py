"""The waitress limits (web/server.py) against a real server on 127.0.0.1, driven with raw sockets.

The attacks come from issue 15: a 900 MB unauthenticated POST must be refused from its
headers alone, and a crowd of half-open requests must not lock out /healthz.
"""
from __future__ import annotations

import http.client
import socket
import threading
import time

import pytest

from syncdub_companion.testing import make_services
from syncdub_companion.web.app import create_app
from syncdub_companion.web.server import make_server, waitress_options

TOKEN = "limits-token-123"


def serve(tmp_path, overrides: dict | None = None):
    svc = make_services(tmp_path, {"webhooks": {"token": TOKEN}, **(overrides or {})})
    server = make_server(create_app(svc), svc.config, host="127.0.0.1", port=0)
    threading.Thread(target=server.run, daemon=True).start()
    return svc, server


@pytest.fixture
def served(tmp_path):
    svc, server = serve(tmp_path)
    yield svc, server.effective_port
    server.close()
    svc.store.close()


def half_open(port: int, path: str, declared: int) -> socket.socket:
    """A POST whose headers promise ``declared`` bytes of body that never come."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {declared}\r\n\r\n".encode())
    return sock


def status_line(sock: socket.socket) -> str:
    return sock.recv(4096).split(b"\r\n", 1)[0].decode()


def test_huge_declared_body_is_refused_before_it_is_sent(served):
    _, port = served
    with half_open(port, "/webhooks/radarr", 900_000_000) as sock:
        sock.settimeout(5)  # before the fix waitress waited for the 900 MB to arrive
        assert " 413 " in status_line(sock)


def test_a_body_of_exactly_the_limit_still_reaches_the_app(tmp_path):
    svc, server = serve(tmp_path, {"webhooks": {"token": TOKEN, "max_body_bytes": 2_000_000}})
    try:
        body = b'{"eventType": "Test", "pad": "' + b"x" * (2_000_000 - 32) + b'"}'
        assert len(body) == 2_000_000
        conn = http.client.HTTPConnection("127.0.0.1", server.effective_port, timeout=10)
        conn.request("POST", "/webhooks/radarr", body, {"X-SyncDub-Token": TOKEN, "Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 200, response.read()[:200]  # the app's answer to a Test event
        conn.close()
    finally:
        server.close()
        svc.store.close()


def test_oversized_headers_are_refused(served):
    _, port = served
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 100_000 + b"\r\n\r\n")
        assert " 431 " in status_line(sock) or " 400 " in status_line(sock)


def test_healthz_answers_while_120_requests_hang_half_open(served):
    _, port = served
    hanging = [half_open(port, "/webhooks/plex", 100_000) for _ in range(120)]
    try:
        time.sleep(0.5)  # let the server accept them all
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/healthz")
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        for sock in hanging:
            sock.close()


def test_a_silent_half_open_request_is_closed_after_channel_timeout(tmp_path):
    svc, server = serve(tmp_path, {"server": {"data_dir": str(tmp_path / "data"), "channel_timeout": 5}})
    try:
        with half_open(server.effective_port, "/webhooks/plex", 100_000) as sock:
            sock.settimeout(15)
            started = time.monotonic()
            assert sock.recv(4096) == b""  # the server hung up without an answer
            assert 3 <= time.monotonic() - started < 12
    finally:
        server.close()
        svc.store.close()


def test_waitress_options_follow_the_settings(tmp_path):
    svc = make_services(tmp_path, {"server": {"data_dir": str(tmp_path / "data"), "connection_limit": 50,
                                              "channel_timeout": 60, "threads": 3},
                                   "webhooks": {"max_body_bytes": 4 << 20}})
    options = waitress_options(svc.config)
    svc.store.close()
    assert options["connection_limit"] == 50 and options["channel_timeout"] == 60 and options["threads"] == 3
    assert options["max_request_body_size"] == (4 << 20) + 1
    assert options["cleanup_interval"] <= 10 and options["asyncore_use_poll"] is True
