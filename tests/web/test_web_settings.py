"""The settings page: forms from the registry, the file's validator, comments kept, secrets write-only."""
from __future__ import annotations

import http.server
import re
import threading

import pytest
from web_site import SECRETS, csrf_of, login, make_site, page_token

from syncdub_companion import configfile
from syncdub_companion.config import read_toml
from syncdub_companion.services import build_services
from syncdub_companion.web.app import create_app
from syncdub_companion.web.auth import ensure_setup_token
from syncdub_companion.web.settings_views import webhook_urls


def save(client, section: str, data: dict):
    return client.post(f"/settings/{section}", data={"csrf_token": page_token(client, "/settings"), **data})


def test_every_setting_has_an_input_core_and_plugin(site, user):
    html = user.get("/settings").get_data(as_text=True)
    for path, setting in site.services.config.settings.items():
        if path == "auth.password_hash":
            assert f'name="{path}"' not in html  # set by `syncdub user set`, never typed as a hash
            continue
        assert f'name="{path}"' in html, path
    assert 'name="paths"' in html
    assert 'id="testsrv"' in html  # the plugin's own section


def test_bad_value_shows_inline_error_and_writes_nothing(site, user):
    before = site.config_path.read_bytes()
    response = save(user, "server", {"server.port": "0", "server.threads": "lots"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    errors = dict(re.findall(r'data-error-for="([^"]+)">([^<]+)<', html))
    assert errors == {"server.port": "must be at least 1", "server.threads": "must be an integer"}
    assert 'value="lots"' in html  # what was typed stays in the field
    assert site.config_path.read_bytes() == before
    assert site.services.config.get("server.port") == 5000


def test_choice_outside_its_list_is_refused(site, user):
    response = save(user, "library", {"library.output_mode": "sideways"})
    assert response.status_code == 400
    assert "must be one of replace, beside, folder" in response.get_data(as_text=True)


def test_plugin_check_function_runs_on_save(site, user):
    response = save(user, "testsrv", {"testsrv.url": "ftp://nowhere"})
    assert response.status_code == 400
    assert "must be an http(s) URL" in response.get_data(as_text=True)


def test_good_save_keeps_comments_and_applies_at_once(site, user):
    response = save(user, "jobs", {"jobs.workers": "3", "jobs.max_attempts": "7"})
    assert response.status_code == 302 and response.headers["Location"] == "/settings?saved=jobs&changed=1#jobs"
    text = site.config_path.read_text()
    assert "# My SyncDub config: a hand-written comment that must survive saving" in text
    assert "# where state lives" in text and "# the folders we may touch" in text
    data = read_toml(site.config_path)
    assert data["jobs"] == {"workers": 3, "max_attempts": 7}  # only what changed was written
    assert site.services.config.get("jobs.workers") == 3
    page = user.get(response.headers["Location"]).get_data(as_text=True)
    jobs_section = page[page.index('id="jobs"'):]
    assert jobs_section.index("Jobs settings saved.") < jobs_section.index("</section>")


def test_unchanged_form_writes_nothing(site, user):
    html = user.get("/settings").get_data(as_text=True)
    before = site.config_path.read_bytes()
    response = save(user, "library", {"library.roots": str(site.root), "library.languages": "de",
                                      "library.output_mode": "replace", "library.space_margin_mb": "256"})
    assert response.status_code == 302
    assert site.config_path.read_bytes() == before
    assert "Nothing changed." in user.get(response.headers["Location"]).get_data(as_text=True)
    assert html


def test_lists_and_tables_round_trip(site, user):
    other = site.root / "Shows"
    other.mkdir()
    response = save(user, "library", {"library.roots": f"{site.root}\n{other}\n", "library.languages": "de\nfr"})
    assert response.status_code == 302
    (site.root / "dubs").mkdir()
    response = save(user, "counterparts", {"counterparts.dub_roots": f"de = {site.root}/dubs"})
    assert response.status_code == 302
    data = read_toml(site.config_path)
    assert data["library"]["roots"] == [str(site.root), str(other)]
    assert data["library"]["languages"] == ["de", "fr"]
    assert data["counterparts"]["dub_roots"] == {"de": f"{site.root}/dubs"}


def test_path_mapping_table_saves_and_rejects_bad_lines(site, user):
    assert save(user, "paths", {"paths": '"/data/movies" = "/mnt/movies"\n/tv = /mnt/tv'}).status_code == 302
    assert read_toml(site.config_path)["paths"] == {"/data/movies": "/mnt/movies", "/tv": "/mnt/tv"}
    bad = save(user, "paths", {"paths": "no equals sign here"})
    assert bad.status_code == 400
    assert "server prefix = local prefix" in bad.get_data(as_text=True)
    assert save(user, "paths", {"paths": "/tv = /mnt/tv"}).status_code == 302
    assert read_toml(site.config_path)["paths"] == {"/tv": "/mnt/tv"}  # removed lines are removed


def test_secrets_are_write_only(site, user):
    html = user.get("/settings").get_data(as_text=True)
    for secret in SECRETS.values():
        assert f'value="{secret}"' not in html
    field = re.search(r'name="testsrv.api_key"[^>]*>\s*<span class="badge (\w+)">(\w+)<', html)
    assert field.groups() == ("on", "set")
    # empty keeps it
    assert save(user, "testsrv", {"testsrv.api_key": "", "testsrv.url": "http://127.0.0.1:9"}).status_code == 302
    assert read_toml(site.config_path)["testsrv"]["api_key"] == SECRETS["testsrv.api_key"]
    # a new value replaces it
    assert save(user, "testsrv", {"testsrv.api_key": "NEWKEY-1234"}).status_code == 302
    assert site.services.config.get("testsrv.api_key") == "NEWKEY-1234"
    assert "NEWKEY-1234" not in user.get("/settings").get_data(as_text=True)
    # the clear box empties it
    assert save(user, "testsrv", {"testsrv.api_key:clear": "on"}).status_code == 302
    assert read_toml(site.config_path)["testsrv"]["api_key"] == ""
    html = user.get("/settings").get_data(as_text=True)
    assert re.search(r'name="testsrv.api_key"[^>]*>\s*<span class="badge off">unset<', html)


def test_env_reference_is_shown_not_resolved(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_TESTSRV_KEY", "FROM-ENV-5555")
    site = make_site(tmp_path)
    site.config_path.write_text(site.config_path.read_text().replace(
        f'api_key = "{SECRETS["testsrv.api_key"]}"', 'api_key = "$env:MY_TESTSRV_KEY"'))
    services = build_services(site.config_path, {}, env={"MY_TESTSRV_KEY": "FROM-ENV-5555"}, store_path=None,
                              configure_logging=False)
    client = create_app(services).test_client()
    login(client)
    html = client.get("/settings").get_data(as_text=True)
    assert "from environment variable MY_TESTSRV_KEY" in html
    assert "FROM-ENV-5555" not in html


def test_environment_override_is_pointed_out(site, user, monkeypatch):
    monkeypatch.setenv("SYNCDUB__JOBS__WORKERS", "2")
    html = user.get("/settings").get_data(as_text=True)
    assert "SYNCDUB__JOBS__WORKERS is set in the environment" in html


def test_save_creates_a_config_file_when_there_is_none(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(configfile, "CONTAINER_CONFIG", tmp_path / "absent" / "config.toml")
    monkeypatch.delenv("SYNCDUB_CONFIG", raising=False)
    services = build_services(None, {"server": {"data_dir": str(tmp_path / "data")}}, env={}, store_path=None,
                              configure_logging=False)
    assert services.config.source is None
    app = create_app(services)
    token = ensure_setup_token(services.config)
    client = app.test_client()
    page = client.get(f"/setup/{token}").get_data(as_text=True)
    response = client.post(f"/setup/{token}", data={"csrf_token": csrf_of(page), "username": "admin",
                                                    "password": "first password", "password2": "first password"})
    assert response.status_code == 302
    created = tmp_path / "config.toml"  # where the next start will look for it
    assert read_toml(created)["auth"]["username"] == "admin"
    assert (created.stat().st_mode & 0o777) == 0o600  # it holds the password hash
    assert login(app.test_client(), password="first password").status_code == 302


def test_unknown_section_is_404(site, user):
    assert save(user, "nonsense", {"x": "1"}).status_code == 404


class _Reachable(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Reachable)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_connection_test_reports_each_server_and_hides_secrets(site, user, local_server):
    token = page_token(user, "/settings")
    failing = user.post("/settings/check", data={"csrf_token": token}, headers={"Accept": "application/json"})
    [result] = failing.get_json()["results"]
    assert result["name"] == "testsrv" and result["ok"] is False
    assert "cannot reach http://127.0.0.1:9" in result["message"]
    assert SECRETS["testsrv.api_key"] not in result["message"]

    assert save(user, "testsrv", {"testsrv.url": local_server}).status_code == 302
    page = user.post("/settings/check", data={"csrf_token": token}).get_data(as_text=True)  # no JS: HTML
    assert f"reachable at {local_server}" in page
    assert SECRETS["testsrv.api_key"] not in page


def test_webhook_urls_carry_the_right_token_and_where_to_paste(site, user):
    html = user.get("/settings").get_data(as_text=True)
    base = "http://syncdub.example:5000/webhooks"
    assert f"{base}/plex?token={SECRETS['webhooks.plex.token']}" in html  # its own token
    for source in ("jellyfin", "emby", "sonarr", "radarr"):
        assert f"{base}/{source}?token={SECRETS['webhooks.token']}" in html  # the shared one
    assert "Settings → Webhooks → Add Webhook" in html
    assert "Settings → Connect" in html


def test_webhook_url_uses_request_host_without_public_url(site, user):
    site.services.config.data["server"]["public_url"] = ""
    html = user.get("/settings").get_data(as_text=True)
    assert f"http://localhost/webhooks/jellyfin?token={SECRETS['webhooks.token']}" in html
    rows = webhook_urls(site.services.config, "http://10.0.0.5:5000/")
    assert rows[0] == {"source": "plex", "url": f"http://10.0.0.5:5000/webhooks/plex?token={SECRETS['webhooks.plex.token']}",
                       "has_token": True, "where": rows[0]["where"]}


def test_webhook_url_without_any_token_says_so(site, user):
    site.services.config.data["webhooks"]["token"] = ""
    site.services.config.data["webhooks"]["plex"]["token"] = ""
    html = user.get("/settings").get_data(as_text=True)
    assert "http://syncdub.example:5000/webhooks/sonarr<" in html
    assert "No token set" in html


def test_token_with_url_characters_is_escaped(site):
    site.services.config.data["webhooks"]["token"] = "a&b=c d"
    rows = {r["source"]: r["url"] for r in webhook_urls(site.services.config, "http://h/")}
    assert rows["radarr"] == "http://syncdub.example:5000/webhooks/radarr?token=a%26b%3Dc%20d"


@pytest.mark.parametrize("section, field", [("library", "library.roots"), ("paths", "paths")])
def test_nul_characters_are_refused(site, user, section, field):
    before = site.config_path.read_bytes()
    response = save(user, section, {field: "/media\x00/x = /y"})
    assert response.status_code == 400
    assert "must not contain a NUL character" in response.get_data(as_text=True)
    assert site.config_path.read_bytes() == before


def test_unwritable_config_file_is_reported_not_a_crash(site, user, tmp_path):
    site.services.config.source = tmp_path / "no-such-dir-file" / "sub"  # a file where a folder must be
    (tmp_path / "no-such-dir-file").write_text("")
    response = save(user, "jobs", {"jobs.workers": "2"})
    assert response.status_code == 400
    assert "cannot write" in response.get_data(as_text=True)
    assert site.services.config.get("jobs.workers") == 1  # not applied either


def test_a_5000_digit_integer_is_an_inline_error_not_a_500(site, user):
    before = site.config_path.read_bytes()
    response = save(user, "jobs", {"jobs.workers": "9" * 5000})
    assert response.status_code == 400
    assert "must be an integer" in response.get_data(as_text=True)
    assert site.config_path.read_bytes() == before


def test_a_huge_worker_count_is_refused_by_the_form(site, user):
    before = site.config_path.read_bytes()
    response = save(user, "jobs", {"jobs.workers": "99999999999999999999999"})
    assert response.status_code == 400
    assert "must be at most 32" in response.get_data(as_text=True)
    assert site.config_path.read_bytes() == before and site.services.config.get("jobs.workers") == 1


def test_saving_settings_makes_a_world_readable_config_private(site, user):
    site.config_path.chmod(0o644)
    assert save(user, "jobs", {"jobs.workers": "2"}).status_code == 302
    assert site.config_path.stat().st_mode & 0o777 == 0o600


def errors_of(response) -> dict[str, str]:
    return dict(re.findall(r'data-error-for="([^"]+)">([^<]+)<', response.get_data(as_text=True)))


def test_labels_are_words_first_then_the_key(site, user):
    html = user.get("/settings").get_data(as_text=True)
    label = re.search(r'<label for="library.space_margin_mb">(.*?)</label>', html, re.S).group(1)
    assert label.strip() == 'Free-space margin (MB) <code class="key">library.space_margin_mb</code>'
    plugin = re.search(r'<label for="testsrv.api_key">(.*?)</label>', html, re.S).group(1)
    assert plugin.strip().startswith("API key <code")  # a plugin's key without a label still reads as words
    dub_help = html[html.index('id="counterparts.dub_roots"'):]
    assert 'placeholder="de = /media/dubs/de"' in html
    assert "One per line: language = folder, e.g. de = /media/dubs/de." in dub_help[:1200]


@pytest.mark.parametrize("typed,message", [
    ("{dubs}", "line 1 ('{dubs}') is not language = folder: write it as de = {dubs}"),
    ("{dubs}\nfr = /x", "line 1 ('{dubs}') is not language = folder: write it as de = {dubs}"),
    ("/srv/dubbed", "line 1 ('/srv/dubbed') is not language = folder: write it as de = /srv/dubbed"),
    ("de =", "line 1 ('de =') is not language = folder: write it as de = /media/dubs/de"),
    ('{{ de = "unclosed }}', "not a TOML inline table; write one entry per line instead, e.g. de = /media/dubs/de"),
])
def test_dub_roots_field_says_its_format(site, user, typed, message):
    dubs = site.root / "dubs" / "de"
    dubs.mkdir(parents=True)
    before = site.config_path.read_bytes()
    response = save(user, "counterparts", {"counterparts.dub_roots": typed.format(dubs=dubs)})
    assert response.status_code == 400
    assert errors_of(response) == {"counterparts.dub_roots": message.format(dubs=dubs).replace("'", "&#39;")}
    assert site.config_path.read_bytes() == before


def test_dub_roots_pasted_as_toml_are_taken(site, user):
    dubs = site.root / "dubs" / "de"
    dubs.mkdir(parents=True)
    assert save(user, "counterparts", {"counterparts.dub_roots": f'{{ de = "{dubs}" }}'}).status_code == 302
    assert read_toml(site.config_path)["counterparts"]["dub_roots"] == {"de": str(dubs)}


def test_folders_must_exist_when_saved(site, user, tmp_path):
    before = site.config_path.read_bytes()
    (tmp_path / "a-file").write_text("")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")  # ELOOP on every look: a message, not a 500
    response = save(user, "counterparts", {"counterparts.dub_roots": f"de = /nowhere/de\nfr = {tmp_path / 'a-file'}\n"
                                                                      f"it = {tmp_path / 'loop'}"})
    library = save(user, "library", {"library.roots": f"{site.root}\n/nowhere/movies"})
    assert response.status_code == 400 and library.status_code == 400
    assert errors_of(response) == {"counterparts.dub_roots": f"de: /nowhere/de does not exist; fr: {tmp_path / 'a-file'} "
                                                             f"is not a folder; it: {tmp_path / 'loop'} does not exist"}
    assert errors_of(library) == {"library.roots": "/nowhere/movies does not exist"}
    assert site.config_path.read_bytes() == before
    made = site.root / "made-later"
    ok = save(user, "library", {"library.backup_dir": str(made)})  # made on demand: need not exist yet
    assert ok.status_code == 302 and not made.exists()


def test_notification_urls_are_write_only(site, user):
    urls = ["discord://123456789012/webhookTOKENabc", "ntfys://ntfy.sh/my-private-topic"]
    assert save(user, "notify", {"notify.urls": "\n".join(urls) + "\n"}).status_code == 302
    assert read_toml(site.config_path)["notify"]["urls"] == urls
    page = user.get("/settings").get_data(as_text=True)
    section = page[page.index('id="notify"'):]
    assert "2 set" in section[:3000]
    for secret in ("webhookTOKENabc", "123456789012", "my-private-topic"):
        assert secret not in page
    assert save(user, "notify", {"notify.urls": ""}).status_code == 302  # empty keeps them
    assert read_toml(site.config_path)["notify"]["urls"] == urls
    assert save(user, "notify", {"notify.urls": "", "notify.urls:clear": "on"}).status_code == 302
    assert read_toml(site.config_path)["notify"]["urls"] == []
    bad = save(user, "notify", {"notify.urls": "nosuchservice://me:PW1234567@x/y"})
    assert bad.status_code == 400 and "PW1234567" not in bad.get_data(as_text=True)
    assert errors_of(bad) == {"notify.urls": "entry 1: Apprise knows no service nosuchservice://"}
