"""Login, logout, sessions, rate limiting, the proxy header and the first-run setup link."""
from __future__ import annotations

import pytest
from web_site import PASSWORD, csrf_of, login, make_site, page_token

from syncdub_companion.web import auth

PAGES = ["/jobs", "/jobs/1", "/jobs/1/plot.svg", "/settings", "/resync", "/library", "/plugins"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_redirect_to_login_when_logged_out(site, path):
    response = site.client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/login?next={path}")


@pytest.mark.parametrize("path", ["/api/jobs", "/api/jobs/1"])
def test_json_endpoints_answer_401_when_logged_out(site, path):
    response = site.client().get(path)
    assert response.status_code == 401
    assert response.get_json() == {"error": "login required"}


def test_root_leads_to_login_then_to_jobs(site):
    client = site.client()
    assert client.get("/").headers["Location"] == "/login"
    login(client)
    assert client.get("/").headers["Location"] == "/jobs"


def test_healthz_needs_no_login(site):
    assert site.client().get("/healthz").status_code == 200


def test_wrong_password_is_refused_and_right_one_logs_in(site):
    client = site.client()
    refused = login(client, password="wrong password")
    assert refused.status_code == 401
    assert "Wrong username or password" in refused.get_data(as_text=True)
    assert client.get("/jobs").status_code == 302
    ok = login(client)
    assert ok.status_code == 302 and ok.headers["Location"] == "/jobs"
    assert client.get("/jobs").status_code == 200


def test_unknown_user_is_refused(site):
    assert login(site.client(), username="root").status_code == 401


def test_session_cookie_is_httponly_and_samesite(site):
    response = login(site.client())
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_login_goes_back_to_next_but_never_off_site(site):
    client = site.client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    back = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token,
                                       "next": "/settings"})
    assert back.headers["Location"] == "/settings"
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        client = site.client()
        token = csrf_of(client.get("/login").get_data(as_text=True))
        response = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token,
                                               "next": evil})
        assert response.headers["Location"] == "/jobs", evil


EVIL_NEXT = ["/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "/ /evil.example", "/\\/evil.example",
             "\t//evil.example", "/\x00/evil.example", "/\u2028/evil.example", "/\n", "/x\r\nSet-Cookie: a=b"]


@pytest.mark.parametrize("evil", EVIL_NEXT)
def test_logged_in_login_page_never_redirects_off_site(user, evil):
    response = user.get("/login", query_string={"next": evil})
    assert response.status_code == 302  # a newline in Location was a 500
    assert response.headers["Location"] == "/jobs"


@pytest.mark.parametrize("evil", EVIL_NEXT)
def test_login_form_next_never_redirects_off_site(site, evil):
    client = site.client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token,
                                           "next": evil})
    assert response.status_code == 302 and response.headers["Location"] == "/jobs"


def test_login_keeps_a_local_next_with_its_query(user):
    response = user.get("/login", query_string={"next": "/jobs?state=failed"})
    assert response.headers["Location"] == "/jobs?state=failed"


def test_login_is_rate_limited_per_client(site):
    client = site.client()
    for _ in range(5):
        assert login(client, password="nope nope").status_code == 401
    blocked = login(client)  # even the right password waits now
    assert blocked.status_code == 429
    assert "Too many failed logins" in blocked.get_data(as_text=True)
    assert client.get("/jobs").status_code == 302


def test_rate_limiter_forgets_after_the_window():
    limiter = auth.LoginRateLimiter(per_client=2, per_user=10, window=60)
    limiter.failed("1.2.3.4", "admin", now=1000)
    limiter.failed("1.2.3.4", "admin", now=1001)
    assert limiter.wait_seconds("1.2.3.4", "admin", now=1002) == 59  # first failure expires at 1060
    assert limiter.wait_seconds("5.6.7.8", "admin", now=1002) == 0  # another client may still try
    assert limiter.wait_seconds("1.2.3.4", "admin", now=1061) == 0


def test_rate_limiter_caps_one_username_across_clients():
    limiter = auth.LoginRateLimiter(per_client=100, per_user=3, window=60)
    for i in range(3):
        limiter.failed(f"10.0.0.{i}", "admin", now=500)
    assert limiter.wait_seconds("10.0.0.99", "admin", now=510) > 0
    assert limiter.wait_seconds("10.0.0.99", "bob", now=510) == 0


def test_logout_is_a_post_and_ends_the_session(user):
    assert user.get("/logout").status_code == 405
    token = page_token(user)
    assert user.post("/logout", data={"csrf_token": token}).headers["Location"] == "/login"
    assert user.get("/jobs").status_code == 302


def test_new_password_ends_old_sessions(site, user):
    other = site.client()
    login(other)
    token = page_token(other, "/settings")
    changed = other.post("/settings/password", data={"csrf_token": token, "current": PASSWORD,
                                                     "password": "a new long password", "password2": "a new long password"})
    assert changed.status_code == 302
    assert other.get("/jobs").status_code == 200  # the one who changed it stays in
    assert user.get("/jobs").status_code == 302  # everyone else is out
    assert "a new long password" not in site.config_path.read_text()
    assert login(site.client(), password="a new long password").status_code == 302


def test_password_change_needs_the_current_password(site, user):
    token = page_token(user, "/settings")
    before = site.config_path.read_text()
    user.post("/settings/password", data={"csrf_token": token, "current": "wrong",
                                          "password": "another password", "password2": "another password"})
    assert "the current password is wrong" in user.get("/settings").get_data(as_text=True)
    assert site.config_path.read_text() == before


def test_proxy_header_mode_trusts_the_header(tmp_path):
    site = make_site(tmp_path, user=False)
    site.services.config.data["auth"]["proxy_header"] = "Remote-User"
    client = site.client()
    assert client.get("/jobs").status_code == 302
    page = client.get("/jobs", headers={"Remote-User": "alice"})
    assert page.status_code == 200
    assert "alice" in page.get_data(as_text=True)


def test_setup_link_is_printed_once_and_works_once(tmp_path, capsys):
    site = make_site(tmp_path, user=False)
    services = site.services
    auth.announce_setup(services)
    printed = capsys.readouterr().out
    link = next(word for word in printed.split() if "/setup/" in word)
    assert link.startswith("http://syncdub.example:5000/setup/")
    token = link.rsplit("/", 1)[1]
    assert (services.config.data_dir / "setup_token").read_text() == token

    client = site.client()
    assert client.get("/setup/not-the-token").status_code == 404
    form = client.get(f"/setup/{token}")
    assert form.status_code == 200
    csrf = csrf_of(form.get_data(as_text=True))
    differ = client.post(f"/setup/{token}", data={"csrf_token": csrf, "username": "owner",
                                                  "password": "long enough pw", "password2": "other pw!!"})
    assert differ.status_code == 400 and "differ" in differ.get_data(as_text=True)
    done = client.post(f"/setup/{token}", data={"csrf_token": csrf, "username": "owner",
                                                "password": "long enough pw", "password2": "long enough pw"})
    assert done.status_code == 302 and done.headers["Location"] == "/jobs"
    assert client.get("/jobs").status_code == 200
    text = site.config_path.read_text()
    assert 'username = "owner"' in text and "long enough pw" not in text
    assert "hand-written comment" in text
    assert not (services.config.data_dir / "setup_token").exists()
    assert site.client().get(f"/setup/{token}").status_code == 404  # spent
    capsys.readouterr()
    auth.announce_setup(services)
    assert capsys.readouterr().out == ""  # a user exists now: no link


def test_setup_page_is_gone_once_a_user_exists(site):
    (site.services.config.data_dir).mkdir(parents=True, exist_ok=True)
    (site.services.config.data_dir / "setup_token").write_text("leftover")
    assert site.client().get("/setup/leftover").status_code == 404


def test_plugin_routes_sit_behind_the_login(site, user):
    assert site.client().get("/testsrv/status").status_code == 302
    assert user.get("/testsrv/status").get_data(as_text=True) == "testsrv ok"
