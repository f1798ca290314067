"""Language codes as media servers and *arr report them, reduced to one form.

Plex reports ISO 639-2/B (``fre``), Jellyfin and Emby whatever the file's tag says
(``fre``, ``fra``, ``fr``), Sonarr and Radarr sometimes English names (``French``).
Everything is compared as ISO 639-2/B, the form Matroska stores.
"""
from __future__ import annotations

from ..languages import UNDETERMINED, lookup


def normalise_language(code: str | None) -> str | None:
    """``fr``, ``fra``, ``fre``, ``French``, ``fre-FR`` -> ``fre``; undetermined -> None.

    Codes the table does not know pass through lowercased, so two servers reporting the
    same unknown code still compare equal.
    """
    if not code:
        return None
    text = str(code).strip().lower().replace("_", "-")
    if text in UNDETERMINED:
        return None
    found = lookup(text)
    return found.bibliographic if found else text


def normalise_languages(codes) -> list[str]:
    """Each code normalised, undetermined ones dropped, order kept, duplicates removed."""
    out: list[str] = []
    for code in codes or []:
        lang = normalise_language(code)
        if lang and lang not in out:
            out.append(lang)
    return out
