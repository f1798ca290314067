"""Server-side sessions (web/sessions.py): logout ends a session even for a copy of its cookie."""
from __future__ import annotations

import json
import stat

from web_site import login, make_site, page_token

from syncdub_companion.web.app import create_app
from syncdub_companion.web.sessions import MAX_SESSIONS, SESSIONS_FILE, SessionRegistry

COOKIE = "syncdub_session"


def copy_cookie(source, target) -> None:
    target.set_cookie(COOKIE, source.get_cookie(COOKIE).value)


def test_a_copied_cookie_stops_working_after_logout(site, user):
    stolen = site.client()
    copy_cookie(user, stolen)
    assert stolen.get("/jobs").status_code == 200
    user.post("/logout", data={"csrf_token": page_token(user)})
    assert stolen.get("/jobs").status_code == 302
    assert stolen.get("/api/jobs").status_code == 401


def test_logout_ends_only_its_own_session(site, user):
    other = site.client()
    login(other)
    user.post("/logout", data={"csrf_token": page_token(user)})
    assert other.get("/jobs").status_code == 200


def test_sessions_survive_a_restart_but_not_a_logout_before_it(tmp_path):
    site = make_site(tmp_path)
    kept, ended = site.client(), site.client()
    login(kept)
    login(ended)
    ended_cookie = ended.get_cookie(COOKIE).value
    ended.post("/logout", data={"csrf_token": page_token(ended)})
    restarted = create_app(site.services).test_client()
    copy_cookie(kept, restarted)
    assert restarted.get("/jobs").status_code == 200
    again = create_app(site.services).test_client()
    again.set_cookie(COOKIE, ended_cookie)
    assert again.get("/jobs").status_code == 302
    site.services.store.close()


def test_the_file_is_private_and_holds_no_session_id(site, user):
    path = site.services.config.data_dir / SESSIONS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    registry = site.app.extensions["syncdub_sessions"]
    sid = registry.start()
    assert sid not in path.read_text() and len(json.loads(path.read_text())) == 2


def test_expired_sessions_are_invalid_and_pruned(tmp_path):
    registry = SessionRegistry(tmp_path / "s.json", lifetime=100)
    old = registry.start(now=0)
    assert registry.valid(old, now=99) and not registry.valid(old, now=101)
    registry.start(now=150)
    assert len(registry) == 1
    assert not registry.valid(None) and not registry.valid(["not", "a", "string"])


def test_the_registry_keeps_at_most_max_sessions(tmp_path):
    registry = SessionRegistry(tmp_path / "s.json", lifetime=1000)
    ids = [registry.start(now=i * 0.01) for i in range(MAX_SESSIONS + 20)]
    assert len(registry) == MAX_SESSIONS
    assert registry.valid(ids[-1], now=5) and not registry.valid(ids[0], now=5)


def test_an_unreadable_file_logs_everyone_out_instead_of_crashing(tmp_path):
    (tmp_path / "s.json").write_text("{not json")
    registry = SessionRegistry(tmp_path / "s.json", lifetime=1000)
    assert len(registry) == 0 and registry.valid(registry.start())
