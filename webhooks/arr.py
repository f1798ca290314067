"""What Sonarr's and Radarr's webhooks share: event filtering, file paths, media info.

Both send JSON (HTTP Basic carries the secret). ``Test`` must get a 2xx, so it is
ignored, not refused; only ``Download`` (an import, despite the name) makes jobs.
"""
from __future__ import annotations

import posixpath

from syncdub_companion.languages import bibliographic_codes

from .common import Ignored, MalformedWebhookError, obj, text


def require_download(payload: dict, source: str) -> str:
    """The eventType when it is Download; Ignored for Test and every other event."""
    event = text(payload, "eventType", source, required=True)
    if event == "Test":
        raise Ignored(f"{source} Test event: the webhook URL and token work")
    if event != "Download":
        raise Ignored(f"{source} event {event} is not Download")
    return event


def file_path(file: dict, folder: str | None, source: str, what: str) -> str:
    """``file.path`` when sent, else ``folder`` joined with ``file.relativePath``."""
    path = text(file, "path", source)
    if path:
        return path
    relative = text(file, "relativePath", source)
    if not relative or not folder:
        raise MalformedWebhookError(f"{source} webhook: {what} has neither path nor relativePath with a folder")
    # *arr reports the paths of the machine it runs on; on Windows they use backslashes.
    if "\\" in folder and "/" not in folder:
        return folder.rstrip("\\") + "\\" + relative.replace("/", "\\").lstrip("\\")
    return posixpath.join(folder, relative.lstrip("/"))


def audio_languages(file: dict, source: str) -> list[str]:
    """The file's audio languages: ``mediaInfo.audioLanguages`` (a list in Sonarr/Radarr v4+,
    a "eng / fre" string before), then the file's ``languages`` ([{"id": 4, "name": "German"}],
    what *arr parsed from the release; "Unknown" left out), without repeats."""
    raw = obj(file, "mediaInfo", source).get("audioLanguages")
    if isinstance(raw, str):
        raw = [p.strip() for chunk in raw.split("/") for p in chunk.split(",")]
    names = list(raw) if isinstance(raw, list) else []
    parsed = file.get("languages")
    if isinstance(parsed, list):
        names += [lang.get("name") if isinstance(lang, dict) else lang for lang in parsed]
    names = [n for n in names if isinstance(n, str) and n.strip().lower() not in ("", "unknown")]
    return list(dict.fromkeys(bibliographic_codes(names)))
