"""A real site for the page tests: a commented config file on disk, a user, a library root,
a throwaway plugin with its own (secret) settings and a connection check, a TinyDB file."""
from __future__ import annotations

import re
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from werkzeug.security import generate_password_hash

from syncdub_companion.services import build_services
from syncdub_companion.testing import cache_dir
from syncdub_companion.web.app import create_app

PASSWORD = "correct horse battery"
# Every secret the site knows, so tests can look for them in every page.
SECRETS = {
    "webhooks.token": "WHTOKEN-5f3a9c",
    "webhooks.plex.token": "PLEXHOOK-77aa",
    "auth.secret_key": "SIGNKEY-c0ffee-1234",
    "testsrv.api_key": "TESTSRVKEY-9d9d",
}

TEST_PLUGIN = '''
"""A test server plugin: its own settings and a real TCP connection check."""
import socket
from urllib.parse import urlparse

from syncdub_companion import hookimpl
from syncdub_companion.settings import Setting


@hookimpl
def syncdub_register_settings():
    return [Setting("testsrv.url", "", "Where the test server lives.", "url"),
            Setting("testsrv.api_key", "", "The test server's key.", secret=True)]


@hookimpl
def syncdub_register_routes():
    return [("/testsrv/status", lambda: "testsrv ok")]


@hookimpl
def syncdub_check(services):
    url = services.config.get("testsrv.url")
    if not url:
        return []
    key = services.config.get("testsrv.api_key")
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname, parsed.port), timeout=2).close()
    except OSError as exc:
        return [("testsrv", False, f"cannot reach {url}/?api_key={key}: {exc.strerror}")]
    return [("testsrv", True, f"reachable at {url} with key {key}")]
'''


def config_text(tmp_path: Path, extra: str = "", user: bool = True) -> str:
    pw_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000") if user else ""
    return textwrap.dedent(f'''\
        # My SyncDub config: a hand-written comment that must survive saving
        [server]
        data_dir = "{tmp_path / 'data'}"  # where state lives
        public_url = "http://syncdub.example:5000"

        [auth]
        username = "{'admin' if user else ''}"
        password_hash = "{pw_hash}"
        secret_key = "{SECRETS['auth.secret_key']}"

        [library]
        # the folders we may touch
        roots = ["{tmp_path / 'library'}"]
        languages = ["de"]

        [webhooks]
        token = "{SECRETS['webhooks.token']}"

        [webhooks.plex]
        token = "{SECRETS['webhooks.plex.token']}"

        [plugins]
        dir = "{tmp_path / 'plugins'}"

        [testsrv]
        url = "http://127.0.0.1:9"
        api_key = "{SECRETS['testsrv.api_key']}"
        ''') + extra


def make_site(tmp_path: Path, extra: str = "", user: bool = True) -> SimpleNamespace:
    (tmp_path / "library" / "Movies").mkdir(parents=True, exist_ok=True)
    (tmp_path / "plugins").mkdir(exist_ok=True)
    (tmp_path / "plugins" / "testsrv.py").write_text(TEST_PLUGIN)
    config_path = tmp_path / "config.toml"
    config_path.write_text(config_text(tmp_path, extra, user))
    services = build_services(config_path, {"speech": {"model_dir": str(cache_dir() / "models")}}, env={},
                              store_path=tmp_path / "data" / "syncdub.json", configure_logging=False)
    app = create_app(services)
    app.config["TESTING"] = True
    return SimpleNamespace(app=app, services=services, config_path=config_path, root=tmp_path / "library",
                           client=app.test_client)


@pytest.fixture
def site(tmp_path):
    s = make_site(tmp_path)
    yield s
    s.services.store.close()


def csrf_of(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "page carries no CSRF token"
    return match.group(1)


def page_token(client, path: str = "/jobs") -> str:
    """The CSRF token, read from a real page like a browser would."""
    return csrf_of(client.get(path).get_data(as_text=True))


def login(client, username: str = "admin", password: str = PASSWORD):
    token = csrf_of(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


@pytest.fixture
def user(site):
    """A logged-in test client."""
    client = site.client()
    response = login(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client
