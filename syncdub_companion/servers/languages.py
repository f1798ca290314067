"""Language codes as media servers and *arr report them, reduced to one form.

Plex reports ISO 639-2/B (``fre``), Jellyfin and Emby whatever the file's tag says
(``fre``, ``fra``, ``fr``), Sonarr and Radarr sometimes English names (``French``).
Everything is compared as ISO 639-2/B, the form Matroska stores.
"""
from __future__ import annotations

# (639-1, 639-2/B, 639-2/T or None, English name) for the languages dubs commonly come in.
_TABLE = [
    ("en", "eng", None, "english"), ("fr", "fre", "fra", "french"), ("de", "ger", "deu", "german"),
    ("es", "spa", None, "spanish"), ("it", "ita", None, "italian"), ("pt", "por", None, "portuguese"),
    ("nl", "dut", "nld", "dutch"), ("ru", "rus", None, "russian"), ("pl", "pol", None, "polish"),
    ("cs", "cze", "ces", "czech"), ("sk", "slo", "slk", "slovak"), ("hu", "hun", None, "hungarian"),
    ("ro", "rum", "ron", "romanian"), ("bg", "bul", None, "bulgarian"), ("el", "gre", "ell", "greek"),
    ("tr", "tur", None, "turkish"), ("uk", "ukr", None, "ukrainian"), ("sv", "swe", None, "swedish"),
    ("no", "nor", None, "norwegian"), ("nb", "nob", None, "norwegian bokmal"), ("da", "dan", None, "danish"),
    ("fi", "fin", None, "finnish"), ("is", "ice", "isl", "icelandic"), ("ja", "jpn", None, "japanese"),
    ("zh", "chi", "zho", "chinese"), ("ko", "kor", None, "korean"), ("ar", "ara", None, "arabic"),
    ("he", "heb", None, "hebrew"), ("hi", "hin", None, "hindi"), ("th", "tha", None, "thai"),
    ("vi", "vie", None, "vietnamese"), ("id", "ind", None, "indonesian"), ("ms", "may", "msa", "malay"),
    ("fa", "per", "fas", "persian"), ("hr", "hrv", None, "croatian"), ("sr", "srp", None, "serbian"),
    ("sl", "slv", None, "slovenian"), ("ca", "cat", None, "catalan"), ("eu", "baq", "eus", "basque"),
    ("gl", "glg", None, "galician"), ("lt", "lit", None, "lithuanian"), ("lv", "lav", None, "latvian"),
    ("et", "est", None, "estonian"), ("ta", "tam", None, "tamil"), ("te", "tel", None, "telugu"),
]
_TO_B: dict[str, str] = {}
for _one, _b, _t, _name in _TABLE:
    for _alias in (_one, _b, _t, _name):
        if _alias:
            _TO_B[_alias] = _b
_UNDETERMINED = {"", "und", "unknown", "mul", "zxx", "mis", "none", "null"}


def normalise_language(code: str | None) -> str | None:
    """``fr``, ``fra``, ``fre``, ``French``, ``fre-FR`` -> ``fre``; undetermined -> None.

    Codes the table does not know pass through lowercased, so two servers reporting the
    same unknown code still compare equal.
    """
    if not code:
        return None
    text = str(code).strip().lower().replace("_", "-")
    if text in _UNDETERMINED:
        return None
    if text in _TO_B:
        return _TO_B[text]
    head = text.split("-", 1)[0]
    if head in _TO_B:
        return _TO_B[head]
    return text


def normalise_languages(codes) -> list[str]:
    """Each code normalised, undetermined ones dropped, order kept, duplicates removed."""
    out: list[str] = []
    for code in codes or []:
        lang = normalise_language(code)
        if lang and lang not in out:
            out.append(lang)
    return out
