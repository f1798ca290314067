"""Every form carries a CSRF token; a POST without this session's token changes nothing."""
from __future__ import annotations

import pytest
from web_site import PASSWORD, page_token

from syncdub_companion import jobs

POSTS = ["/settings/jobs", "/settings/check", "/settings/password", "/jobs/{id}/retry", "/jobs/{id}/cancel",
         "/resync", "/logout"]


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize("token", [None, "forged-token"])
def test_post_without_the_sessions_token_is_400(site, user, path, token):
    job_id = jobs.create(site.services.store, original=str(site.root / "a.mkv"))
    before = site.config_path.read_bytes()
    data = {"jobs.workers": "4", "current": PASSWORD, "password": "x" * 12, "password2": "x" * 12,
            "original": str(site.root / "a.mkv")}
    if token:
        data["csrf_token"] = token
    response = user.post(path.format(id=job_id), data=data)
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert jobs.get(site.services.store, job_id).state == "queued"  # not cancelled
    assert jobs.list_jobs(site.services.store) == [jobs.get(site.services.store, job_id)]  # no job queued
    assert site.config_path.read_bytes() == before
    assert user.get("/jobs").status_code == 200  # still logged in: logout was refused too


def test_login_form_needs_the_token_too(site):
    client = site.client()
    client.get("/login")
    response = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/jobs").status_code == 302


def test_token_from_another_session_is_refused(site, user):
    stranger = site.client()
    foreign = page_token(stranger, "/login")
    response = user.post("/settings/jobs", data={"csrf_token": foreign, "jobs.workers": "4"})
    assert response.status_code == 400


def test_header_token_is_accepted_for_scripts(site, user):
    token = page_token(user)
    response = user.post("/settings/check", headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert response.status_code == 200
    assert "results" in response.get_json()


def test_every_rendered_form_carries_the_token(site, user):
    jobs.create(site.services.store, original=str(site.root / "a.mkv"))
    for path in ("/jobs", "/jobs/1", "/settings", "/resync?dir=" + str(site.root), "/library", "/plugins"):
        html = user.get(path).get_data(as_text=True)
        token = page_token(user, path)
        forms = html.count("<form")
        assert forms == html.count('name="csrf_token"'), path
        assert token in html


def test_webhooks_are_not_subject_to_csrf(site):
    response = site.client().post("/webhooks/plex", data={"payload": "{}"})
    assert "security token" not in response.get_data(as_text=True)
