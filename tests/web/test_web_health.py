"""The set-up banner on every page (syncdub_companion/health.py), driven through real requests."""
from __future__ import annotations

import html
import json
import re

import pytest
from web_site import SECRETS, login, make_site

from syncdub_companion import jobs
from syncdub_companion.media import LibraryEvent

PAGES = ("/jobs", "/resync", "/library", "/wanted", "/settings", "/plugins")


def banner(client, page: str = "/jobs") -> dict[str, str]:
    """section -> the text of its banner lines; {} when the page shows no banner."""
    text = client.get(page).get_data(as_text=True)
    found: dict[str, str] = {}
    for m in re.finditer(r'<li data-health="([^"]+)">(.*?)</li>', text, re.S):
        line = " ".join(html.unescape(re.sub(r"<[^>]+>", "", m.group(2))).split())
        found[m.group(1)] = (found.get(m.group(1), "") + "\n" + line).strip()
    return found


@pytest.fixture
def healthy(tmp_path):
    s = make_site(tmp_path)
    yield s
    s.services.store.close()


def client_of(site):
    client = site.client()
    assert login(client).status_code == 302
    return client


def test_a_healthy_setup_shows_no_banner(healthy):
    client = client_of(healthy)
    for page in PAGES:
        assert banner(client, page) == {}, page


def test_an_unusable_dub_root_is_on_every_page(tmp_path):
    site = make_site(tmp_path, '\n[counterparts]\ndub_roots = { de = "/mnt/downloads/de", en = "' + str(tmp_path) + '" }\n')
    client = client_of(site)
    for page in PAGES:
        found = banner(client, page)
        assert found.keys() == {"counterparts"}, (page, found)
    lines = banner(client)["counterparts"]
    assert "counterparts.dub_roots.de is ignored: /mnt/downloads/de does not exist." in lines
    assert "counterparts.dub_roots.en is ignored: en is not in library.languages (de)" in lines
    assert "Add en to library.languages, or remove this dub folder." in lines
    assert 'href="/settings#counterparts"' in client.get("/jobs").get_data(as_text=True)
    site.services.store.close()


def test_the_banner_is_for_logged_in_users_only(tmp_path):
    site = make_site(tmp_path, '\n[counterparts]\ndub_roots = { de = "/mnt/downloads/de" }\n')
    page = site.client().get("/login").get_data(as_text=True)
    assert "data-health" not in page and "/mnt/downloads" not in page
    site.services.store.close()


def test_a_webhook_source_without_its_server(healthy):
    client = client_of(healthy)
    jobs.enqueue_event(healthy.services.store, LibraryEvent(source="jellyfin", item_id="a" * 32, title="Film"), 600)
    healthy.services.extras.pop("health.cache", None)  # cached for health.TTL seconds
    found = banner(client)
    assert found.keys() == {"jellyfin"}
    assert found["jellyfin"].startswith("1 Jellyfin webhook(s) this week, but no Jellyfin server is configured")
    assert found["jellyfin"].endswith("Set jellyfin.url and jellyfin.api_key under Settings → Jellyfin, then retry the "
                                      "failed jobs. Settings →")


def test_refused_webhook_paths_suggest_a_mapping(healthy):
    client = client_of(healthy)
    body = {"eventType": "Download", "movie": {"title": "Film", "year": 2001},
            "movieFile": {"path": "/data/movies/Film (2001)/Film (2001).mkv"}}
    answer = client.post(f"/webhooks/radarr?token={SECRETS['webhooks.token']}", data=json.dumps(body),
                         content_type="application/json")
    assert answer.status_code == 403
    found = banner(client)
    assert found.keys() == {"paths"}
    assert "1 recent webhook path(s) or job(s) point outside the library folders" in found["paths"]
    assert "e.g. /data/movies/Film (2001)/Film (2001).mkv" in found["paths"]
    assert 'Map the server\'s prefix to this machine\'s in [paths]' in found["paths"]


def test_a_missing_speech_model(tmp_path):
    site = make_site(tmp_path, '\n[speech]\nwhisper_model = "/opt/models/whisper-large"\n')
    found = banner(client_of(site))
    assert found.keys() == {"speech"}
    assert "speech.whisper_model = '/opt/models/whisper-large' is not installed" in found["speech"]
    site.services.config.data["align"]["speech"] = "never"  # no speech anchors: no model needed
    site.services.extras.pop("health.cache", None)
    assert banner(client_of(site)) == {}
    site.services.store.close()


def test_saving_the_fix_clears_the_banner(tmp_path):
    site = make_site(tmp_path, '\n[counterparts]\ndub_roots = { de = "/mnt/downloads/de" }\n')
    client = client_of(site)
    assert banner(client).keys() == {"counterparts"}
    (tmp_path / "dubs").mkdir()
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/settings").get_data(as_text=True)).group(1)
    saved = client.post("/settings/counterparts", data={"csrf_token": token,
                                                        "counterparts.dub_roots": f"de = {tmp_path / 'dubs'}"})
    assert saved.status_code == 302
    assert banner(client) == {}
    site.services.store.close()
