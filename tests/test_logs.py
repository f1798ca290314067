"""Logging: stderr plus a rotating file, with secrets scrubbed (syncdub_companion/logs.py)."""
from __future__ import annotations

import logging
import logging.handlers

import pytest

from syncdub_companion.logs import MASK, SecretFilter, setup_logging
from syncdub_companion.services import build_services

SECRETS = {"webhooks.token": "hook-secret-4711", "auth.secret_key": "cookie-key-abcdef012345",
           "webhooks.plex.token": "plexTokenXYZ987"}


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in before:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def log_file(data_dir):
    for handler in logging.getLogger().handlers:
        handler.flush()
    return (data_dir / "logs" / "syncdub.log").read_text()


def test_config_secrets_and_url_tokens_never_reach_the_log(tmp_path, capfd, restore_logging):
    data = tmp_path / "data"
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[server]\ndata_dir = "{data}"\n[webhooks]\ntoken = "$env:HOOK"\n')
    services = build_services(cfg, {"auth": {"secret_key": SECRETS["auth.secret_key"]},
                                    "webhooks": {"plex": {"token": SECRETS["webhooks.plex.token"]}}},
                              env={"HOOK": SECRETS["webhooks.token"]}, store_path=None)
    log = logging.getLogger("syncdub_companion.test")
    log.info("webhook arrived with token %s", SECRETS["webhooks.token"])
    log.warning("plex said 401 for http://plex:32400/library/sections/1/refresh?X-Plex-Token=%s&force=1",
                SECRETS["webhooks.plex.token"])
    log.info("GET http://jf:8096/Items?api_key=f00dfeedcafe0123&Recursive=true")
    log.info("sonarr http://sonarr:8989/api/v3/series?apikey=abcdef0123456789")
    log.info("headers %s", {"X-Emby-Token": "embyTok5555", "Accept": "application/json"})
    log.info("cookie key is %s", SECRETS["auth.secret_key"])
    try:
        raise ConnectionError("Max retries exceeded with url: /refresh?X-Plex-Token=" + SECRETS["webhooks.plex.token"])
    except ConnectionError:
        log.exception("rescan failed")
    stderr = capfd.readouterr().err
    written = log_file(data)
    leaked = [*SECRETS.values(), "f00dfeedcafe0123", "abcdef0123456789", "embyTok5555"]
    for text in (written, stderr):
        assert "rescan failed" in text and "Traceback" in text and "ConnectionError" in text
        assert text.count(MASK) >= 8
        for secret in leaked:
            assert secret not in text
    assert services.config.get("webhooks.token") == SECRETS["webhooks.token"]  # only the log is masked


def test_file_handler_rotates_in_the_data_dir(tmp_path, restore_logging):
    setup_logging("debug", tmp_path, [])
    handlers = [h for h in logging.getLogger().handlers if getattr(h, "_syncdub", False)]
    files = [h for h in handlers if isinstance(h, logging.handlers.RotatingFileHandler)]
    assert len(handlers) == 2 and len(files) == 1
    assert files[0].baseFilename == str(tmp_path / "logs" / "syncdub.log")
    assert files[0].maxBytes > 0 and files[0].backupCount >= 1
    logging.getLogger("x").debug("debug line")
    assert "DEBUG x: debug line" in log_file(tmp_path)


def test_setup_twice_replaces_its_own_handlers(tmp_path, restore_logging):
    setup_logging("info", tmp_path, ["first-secret"])
    setup_logging("warning", tmp_path, ["second-secret"])
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_syncdub", False)]
    assert len(ours) == 2
    assert logging.getLogger().level == logging.WARNING
    logging.getLogger("y").warning("second-secret and first-secret")
    assert "******** and first-secret" in log_file(tmp_path)


@pytest.mark.parametrize("text,expected", [
    ("https://bob:hunter2x@nas/share", "https://********@nas/share"),
    ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic ********"),
    ('MediaBrowser Client="SyncDub", Token="0123abcd"', 'MediaBrowser Client="SyncDub", Token="********"'),
    ('{"password": "pa55word!"}', '{"password": "********"}'),
    ("using basic authentication", "using basic authentication"),
    ("3 tokens found in 2 files", "3 tokens found in 2 files"),
    ("X-Plex-Token: abcdef123456", "X-Plex-Token: ********"),
    ("headers {'X-Emby-Token': 'embyTok5555'}", "headers {'X-Emby-Token': '********'}"),
    ("X-Api-Key: 0123abcd", "X-Api-Key: ********"),
    ('{"api_key": "k-123456"}', '{"api_key": "********"}'),
    ("password=hunter22 user=bob", "password=******** user=bob"),
    ("token = 'abc12345'", "token = '********'"),
])
def test_scrub_patterns(text, expected):
    assert SecretFilter().scrub(text) == expected


def test_longer_secret_is_masked_whole():
    f = SecretFilter(["abcd", "abcdefgh"])
    assert f.scrub("key abcdefgh") == f"key {MASK}"


def test_short_values_are_not_treated_as_secrets():
    # masking "on" or "1" would shred every log line
    assert SecretFilter(["on", "", None]).scrub("token_on: mon") == "token_on: mon"


FORGED = "2030-01-01 00:00:00,000 ERROR syncdub_companion: forged"


def log_lines(data_dir) -> list[str]:
    return log_file(data_dir).splitlines()


def test_a_newline_or_nul_in_a_message_cannot_forge_a_line(tmp_path, restore_logging):
    setup_logging("info", tmp_path, [])
    logging.getLogger("syncdub_companion.t").warning("file %s is missing", f"/m/x\n{FORGED}\r\x00\x1b[31m\u2028y")
    lines = log_lines(tmp_path)
    assert len(lines) == 1 and not any(line.startswith("2030") for line in lines)
    assert f"/m/x\\n{FORGED}\\r\\x00\\x1b[31m\\u2028y" in lines[0]
    assert "\x00" not in log_file(tmp_path)


def test_an_exception_message_cannot_forge_a_line_but_the_traceback_keeps_its_shape(tmp_path, restore_logging):
    setup_logging("info", tmp_path, [])
    try:
        try:
            raise KeyError("inner")
        except KeyError as inner:
            raise ValueError(f"/m/x\n{FORGED}\x00") from inner
    except ValueError:
        logging.getLogger("syncdub_companion.t").exception("job failed")
    text = log_file(tmp_path)
    assert text.count("Traceback (most recent call last):") == 2 and '  File "' in text
    assert not any(line.startswith("2030") for line in text.splitlines())
    assert f"ValueError: /m/x\\n{FORGED}\\x00" in text and "\x00" not in text


def test_a_webhook_path_with_a_newline_is_logged_on_one_line(tmp_path, restore_logging):
    from syncdub_companion.testing import make_services
    from syncdub_companion.web.app import create_app

    root = tmp_path / "media"
    root.mkdir()
    svc = make_services(tmp_path, {"webhooks": {"token": "tok-12345"}, "library": {"roots": [str(root)]}})
    setup_logging("info", svc.config.data_dir, svc.config.secrets())
    body = {"eventType": "Download", "movie": {}, "movieFile": {"path": f"/elsewhere/x.mkv\n{FORGED}"}}
    response = create_app(svc).test_client().post("/webhooks/radarr?token=tok-12345", json=body)
    assert response.status_code == 403
    lines = log_lines(svc.config.data_dir)
    assert any("radarr webhook refused" in line and "\\n2030" in line for line in lines), lines
    assert not any(line.startswith("2030") for line in lines)
    svc.store.close()


@pytest.mark.parametrize("prose", [
    "file /etc/passwd: outside the configured library roots",
    "original /srv/secret: not a file",
    "webhooks.token: must be a string",
    "auth.password_hash: environment variable HASH is not set",
    "password: must be at least 8 characters",
    "C:\\auth: cannot list (Permission denied)",
    "radarr webhook: missing or wrong token",
])
def test_prose_around_secret_words_is_left_alone(prose):
    assert SecretFilter().scrub(prose) == prose


def test_known_secret_values_are_masked_even_in_prose():
    assert SecretFilter(["hunter2hunter2"]).scrub("password: hunter2hunter2") == f"password: {MASK}"


def test_words_in_a_secret_url_are_not_masked_everywhere_but_its_tokens_are():
    from syncdub_companion.config import secret_texts

    urls = ["ntfys://ntfy.sh/syncdub", "json://syncdub:hookPW12345@notify.lan/syncdub/hookpathTOKEN5150?topic=movies",
            "discord://123456789012/webhookTOKENabc"]
    secrets = secret_texts(urls)
    # a URL of plain words only (ntfys://ntfy.sh/syncdub) holds nothing to mask
    assert {"hookPW12345", "hookpathTOKEN5150", "123456789012", "webhookTOKENabc", *urls[1:]} == set(secrets)
    scrub = SecretFilter(secrets).scrub
    line = "syncdub: job 3 done, /movies/syncdub (2010).mkv; movies rescanned"
    assert scrub(line) == line
    assert scrub("POST https://ntfy.sh/syncdub failed") == "POST https://ntfy.sh/syncdub failed"
    assert scrub(f"sent to {urls[2]}") == f"sent to {MASK}"
    assert scrub("http://syncdub:hookPW12345@notify.lan/syncdub/hookpathTOKEN5150") == \
        f"http://{MASK}@notify.lan/syncdub/{MASK}"
