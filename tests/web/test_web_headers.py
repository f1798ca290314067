"""Security headers on every answer, and pages that work under their Content-Security-Policy."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_web_jobs import finished_job

from syncdub_companion.web.app import PAGE_POLICY

TEMPLATES = Path(__file__).resolve().parents[2] / "syncdub_companion" / "web" / "templates"


def assert_secured(response, policy: str = PAGE_POLICY) -> None:
    assert response.headers["Content-Security-Policy"] == policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/jobs", "/jobs/1", "/settings", "/resync", "/library", "/plugins", "/api/jobs",
                                  "/no-such-page", "/login", "/healthz", "/static/app.js"])
def test_every_page_carries_the_headers_logged_in(user, path):
    assert_secured(user.get(path))


@pytest.mark.parametrize("path", ["/", "/jobs", "/login", "/setup/nope", "/healthz"])
def test_every_page_carries_the_headers_logged_out(site, path):
    assert_secured(site.client().get(path))


def test_webhook_answers_carry_the_headers(site):
    response = site.client().post("/webhooks/radarr", json={"eventType": "Test"})
    assert response.status_code == 401
    assert_secured(response)


def test_the_plot_may_style_itself_but_run_nothing(site, user):
    job_id = finished_job(site.services.store, site.root)
    response = user.get(f"/jobs/{job_id}/plot.svg")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script" not in policy
    assert b"<style" in response.data  # why the plot needs style-src 'unsafe-inline'


def test_the_policy_allows_no_inline_script_or_plugin():
    assert "'unsafe-inline'" not in PAGE_POLICY and "'unsafe-eval'" not in PAGE_POLICY
    assert "frame-ancestors 'none'" in PAGE_POLICY and "object-src 'none'" in PAGE_POLICY


INLINE = [(re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
          (re.compile(r"<style", re.I), "<style> element"),
          (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
          (re.compile(r"\son[a-z]+\s*=", re.I), "on...= handler"),
          (re.compile(r"javascript:", re.I), "javascript: URL")]


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_hold_nothing_the_policy_blocks(template):
    text = (TEMPLATES / template).read_text()
    found = [what for pattern, what in INLINE if pattern.search(text)]
    assert not found, f"{template}: {found}"


def test_rendered_pages_hold_nothing_the_policy_blocks(site, user):
    job_id = finished_job(site.services.store, site.root)
    for path in ("/jobs", f"/jobs/{job_id}", "/settings", "/resync", "/library", "/plugins", "/nope"):
        html = user.get(path).get_data(as_text=True)
        found = [what for pattern, what in INLINE if pattern.search(html)]
        assert not found, f"{path}: {found}"
