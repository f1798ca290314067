"""No secret is ever rendered, except the webhook tokens inside the webhook-URL panel."""
from __future__ import annotations

import logging
import re

from web_site import SECRETS, page_token
from test_web_jobs import finished_job

from syncdub_companion import jobs

WEBHOOK_TOKENS = {SECRETS["webhooks.token"], SECRETS["webhooks.plex.token"]}


def _pages(site, user) -> dict[str, str]:
    store = site.services.store
    done = finished_job(store, site.root)
    leaky = jobs.create(store, original=str(site.root / "a.mkv"))
    # a stage that quoted a URL with a token must not leak it through the page or the JSON
    jobs.append_log(store, leaky, f"GET http://plex:32400/library?X-Plex-Token={SECRETS['testsrv.api_key']}")
    jobs.set_state(store, leaky, "failed", error=f"server said no to key {SECRETS['testsrv.api_key']}")
    paths = ["/jobs", f"/jobs/{done}", f"/jobs/{leaky}", "/api/jobs", f"/api/jobs/{leaky}", "/resync",
             f"/resync?dir={site.root}", "/library", "/plugins", "/settings", "/login", "/testsrv/status"]
    out = {path: user.get(path).get_data(as_text=True) for path in paths}
    token = page_token(user, "/settings")
    out["settings error"] = user.post("/settings/webhooks", data={"csrf_token": token, "webhooks.dedup_window": "x",
                                                                  "webhooks.token": "TYPED-NEW-SECRET"}).get_data(as_text=True)
    out["check"] = user.post("/settings/check", data={"csrf_token": token}).get_data(as_text=True)
    return out


def _without_webhook_panel(html: str) -> str:
    return re.sub(r'<section class="card" id="webhook-urls">.*?</section>', "", html, flags=re.S)


def test_no_page_renders_a_secret(site, user):
    pw_hash = site.services.config.get("auth.password_hash")
    for name, html in _pages(site, user).items():
        rest = _without_webhook_panel(html)
        for secret in [*SECRETS.values(), pw_hash, "TYPED-NEW-SECRET"]:
            assert secret not in rest, f"{secret} leaked on {name}"


def test_webhook_tokens_appear_only_inside_the_urls(site, user):
    html = user.get("/settings").get_data(as_text=True)
    panel = re.search(r'<section class="card" id="webhook-urls">.*?</section>', html, flags=re.S).group(0)
    for token in WEBHOOK_TOKENS:
        assert html.count(token) == panel.count(token) > 0
        assert all(f"?token={token}" in line for line in panel.splitlines() if token in line)


def test_the_webhook_panel_is_only_for_logged_in_users(site):
    html = site.client().get("/settings", follow_redirects=True).get_data(as_text=True)
    assert "Log in" in html
    assert not any(token in html for token in WEBHOOK_TOKENS)


def test_saving_settings_logs_no_secret(site, user, caplog):
    caplog.set_level(logging.DEBUG)
    token = page_token(user, "/settings")
    user.post("/settings/testsrv", data={"csrf_token": token, "testsrv.api_key": "FRESH-KEY-4242"})
    user.post("/settings/password", data={"csrf_token": token, "current": "wrong", "password": "x" * 10,
                                          "password2": "x" * 10})
    assert site.services.config.get("testsrv.api_key") == "FRESH-KEY-4242"
    assert "settings saved" in caplog.text
    assert "FRESH-KEY-4242" not in caplog.text
    assert not any(secret in caplog.text for secret in SECRETS.values())


def test_a_job_error_about_a_passwd_file_is_shown_whole(site, user):
    store = site.services.store
    job = jobs.create(store, original="/etc/passwd")
    message = "file /etc/passwd: outside the configured library roots"
    jobs.set_state(store, job, "failed", error=message)
    assert message in user.get(f"/jobs/{job}").get_data(as_text=True)
