"""Sonarr and Radarr: JSON over HTTP Basic; Download per file or ImportComplete; Test gets a 2xx."""
from __future__ import annotations

import json

import pytest
from hookutil import TOKEN, jobs_of


def _post(client, source: str, body, password: str = TOKEN):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(f"/webhooks/{source}", data=data, content_type="application/json",
                       auth=(source, password))


@pytest.mark.parametrize("source", ["sonarr", "radarr"])
def test_test_event_gets_a_2xx_and_queues_nothing(client, hook_services, fixtures_dir, source):
    response = _post(client, source, (fixtures_dir / source / "autoscan_testdata_Test.json").read_bytes())
    assert response.status_code == 200 and "Test" in response.json["ignored"]
    assert jobs_of(hook_services) == []


def test_radarr_download_joins_folder_and_relative_path(client, hook_services, fixtures_dir):
    body = (fixtures_dir / "radarr" / "autoscan_testdata_interstellar_Download_trimmed.json").read_bytes()
    assert _post(client, "radarr", body).status_code == 202
    event = jobs_of(hook_services)[0]["event"]
    assert event["path"] == "/Movies/Interstellar (2014)/Interstellar.2014.UHD.BluRay.2160p.REMUX.mkv"
    assert (event["source"], event["kind"]) == ("radarr", "movie")


def test_radarr_full_payload_carries_ids_and_languages(client, hook_services):
    body = {"eventType": "Download", "isUpgrade": False,
            "movie": {"id": 1, "title": "Free Guy", "year": 2021, "folderPath": "/movies/Free Guy (2021)",
                      "tmdbId": 550988, "imdbId": "tt6264654"},
            "movieFile": {"id": 7, "relativePath": "Free Guy (2021).mkv", "path": "/movies/Free Guy (2021)/Free Guy (2021).mkv",
                          "mediaInfo": {"audioLanguages": ["eng", "fre"], "audioChannels": 6}}}
    assert _post(client, "radarr", body).status_code == 202
    event = jobs_of(hook_services)[0]["event"]
    assert event["provider_ids"] == {"imdb": "tt6264654", "tmdb": "550988"}
    assert event["audio_languages"] == ["eng", "fre"] and event["year"] == 2021


def test_sonarr_download_per_file(client, hook_services, fixtures_dir):
    body = (fixtures_dir / "sonarr" / "autoscan_testdata_westworld_Download_trimmed.json").read_bytes()
    assert _post(client, "sonarr", body).status_code == 202
    event = jobs_of(hook_services)[0]["event"]
    assert event["path"] == "/TV/Westworld/Season 1/Westworld.S01E01.mkv"
    assert (event["kind"], event["season"], event["episode"]) == ("episode", 1, 1)


def _import_complete() -> dict:
    return {
        "eventType": "Download", "instanceName": "Sonarr",
        "series": {"id": 3, "title": "Westworld", "path": "/TV/Westworld", "tvdbId": 296762, "imdbId": "tt0475784", "year": 2016},
        "episodes": [{"id": 11, "seasonNumber": 1, "episodeNumber": 1, "title": "The Original", "tvdbId": 5622136},
                     {"id": 12, "seasonNumber": 1, "episodeNumber": 2, "title": "Chestnut", "tvdbId": 5661016}],
        "episodeFiles": [
            {"id": 21, "relativePath": "Season 1/Westworld.S01E01.mkv", "path": "/TV/Westworld/Season 1/Westworld.S01E01.mkv",
             "mediaInfo": {"audioLanguages": ["eng"]}},
            {"id": 22, "relativePath": "Season 1/Westworld.S01E02.mkv", "path": "/TV/Westworld/Season 1/Westworld.S01E02.mkv",
             "mediaInfo": {"audioLanguages": "English / German"}},
        ],
        "downloadClient": "qBittorrent", "sourcePath": "/downloads/Westworld.S01", "destinationPath": "/TV/Westworld/Season 1",
    }


def test_sonarr_import_complete_makes_one_job_per_file(client, hook_services):
    response = _post(client, "sonarr", _import_complete())
    assert response.status_code == 202
    assert len(response.json["job_ids"]) == 2 and response.json["duplicates"] == [False, False]
    first, second = (j["event"] for j in jobs_of(hook_services))
    assert [j["id"] for j in jobs_of(hook_services)] == response.json["job_ids"]
    assert (first["episode"], first["title"], first["provider_ids"]["tvdb"]) == (1, "The Original", "5622136")
    assert (second["episode"], second["title"], second["provider_ids"]["tvdb"]) == (2, "Chestnut", "5661016")
    assert first["provider_ids"]["series_tvdb"] == "296762" and first["provider_ids"]["series_imdb"] == "tt0475784"
    assert second["audio_languages"] == ["eng", "ger"]


def test_sonarr_import_complete_payload_one_job_per_file_with_languages(client, hook_services, fixtures_dir):
    # constructed from Sonarr's payload shape (see tests/fixtures/SOURCES.md): episodeFiles[],
    # languages in episodeFiles[].languages and mediaInfo.audioLanguages
    body = (fixtures_dir / "sonarr" / "constructed_ImportComplete_Download_season_pack.json").read_bytes()
    response = _post(client, "sonarr", body)
    assert response.status_code == 202 and len(response.json["job_ids"]) == 2
    first, second = (j["event"] for j in jobs_of(hook_services))
    assert first["path"] == "/tv/Severance/Season 02/Severance - S02E01 - Hello, Ms. Cobel.mkv"
    assert (first["season"], first["episode"], first["provider_ids"]["tvdb"]) == (2, 1, "10201541")
    assert (second["episode"], second["title"]) == (2, "Goodbye, Mrs. Selvig")
    assert first["audio_languages"] == ["eng"]
    assert second["audio_languages"] == ["eng", "ger"]  # mediaInfo empty: the file's languages say


def test_arr_languages_merge_media_info_and_file_languages_without_unknown():
    from webhooks.arr import audio_languages

    file = {"mediaInfo": {"audioLanguages": "English / French"},
            "languages": [{"id": 0, "name": "Unknown"}, {"id": 4, "name": "German"}, {"id": 1, "name": "English"}]}
    assert audio_languages(file, "sonarr") == ["eng", "fre", "ger"]
    assert audio_languages({"languages": [{"id": 0, "name": "Unknown"}]}, "sonarr") == []


def test_import_complete_after_per_file_download_does_not_double_queue(client, hook_services):
    single = _import_complete()
    single["episodeFile"] = single.pop("episodeFiles")[0]
    assert _post(client, "sonarr", single).status_code == 202
    response = _post(client, "sonarr", _import_complete())
    assert response.json["duplicates"] == [True, False]
    assert len(jobs_of(hook_services)) == 2


@pytest.mark.parametrize("body,needle", [
    ({"eventType": "Download", "series": {"path": "/TV/x"}}, "episodeFile"),
    ({"eventType": "Download", "series": {"path": "/TV/x"}, "episodeFiles": []}, "episodeFiles"),
    ({"eventType": "Download", "series": {}, "episodeFile": {"relativePath": "a.mkv"}}, "relativePath"),
    ({"eventType": "Download", "series": "oops", "episodeFile": {}}, "series"),
    ({"series": {"path": "/TV/x"}}, "eventType"),
])
def test_malformed_sonarr_payloads_are_400(client, hook_services, body, needle):
    response = _post(client, "sonarr", body)
    assert response.status_code == 400 and needle in response.json["error"]
    assert jobs_of(hook_services) == []


@pytest.mark.parametrize("name", ["autoscan_testdata_Rename_trimmed.json", "autoscan_testdata_MovieFileDelete_trimmed.json"])
def test_radarr_rename_and_delete_are_ignored(client, hook_services, fixtures_dir, name):
    response = _post(client, "radarr", (fixtures_dir / "radarr" / name).read_bytes())
    assert response.status_code == 200 and "not Download" in response.json["ignored"]
