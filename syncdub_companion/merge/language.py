"""Language codes for the added track: ISO 639-2 for Matroska, the language's own name for the title.

Matroska's legacy language element holds ISO 639-2/B codes (``ger``, ``fre``); users and
media servers write 639-1 (``de``), 639-2/T (``deu``) or English names. All of them map to
one :class:`Language`. Unknown three-letter codes pass through unchanged, so a rare language
still gets tagged, only without a native name.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError


@dataclass(frozen=True)
class Language:
    """One language: ``bibliographic`` is the ISO 639-2/B code Matroska stores."""

    bibliographic: str
    terminologic: str
    alpha2: str | None
    english: str
    native: str


# (639-1, 639-2/B, 639-2/T, English, own name)
_TABLE = [
    ("ar", "ara", "ara", "Arabic", "العربية"),
    ("bg", "bul", "bul", "Bulgarian", "Български"),
    ("ca", "cat", "cat", "Catalan", "Català"),
    ("cs", "cze", "ces", "Czech", "Čeština"),
    ("da", "dan", "dan", "Danish", "Dansk"),
    ("de", "ger", "deu", "German", "Deutsch"),
    ("el", "gre", "ell", "Greek", "Ελληνικά"),
    ("en", "eng", "eng", "English", "English"),
    ("es", "spa", "spa", "Spanish", "Español"),
    ("et", "est", "est", "Estonian", "Eesti"),
    ("eu", "baq", "eus", "Basque", "Euskara"),
    ("fa", "per", "fas", "Persian", "فارسی"),
    ("fi", "fin", "fin", "Finnish", "Suomi"),
    ("fr", "fre", "fra", "French", "Français"),
    ("he", "heb", "heb", "Hebrew", "עברית"),
    ("hi", "hin", "hin", "Hindi", "हिन्दी"),
    ("hr", "hrv", "hrv", "Croatian", "Hrvatski"),
    ("hu", "hun", "hun", "Hungarian", "Magyar"),
    ("id", "ind", "ind", "Indonesian", "Bahasa Indonesia"),
    ("is", "ice", "isl", "Icelandic", "Íslenska"),
    ("it", "ita", "ita", "Italian", "Italiano"),
    ("ja", "jpn", "jpn", "Japanese", "日本語"),
    ("ko", "kor", "kor", "Korean", "한국어"),
    ("lt", "lit", "lit", "Lithuanian", "Lietuvių"),
    ("lv", "lav", "lav", "Latvian", "Latviešu"),
    ("ms", "may", "msa", "Malay", "Bahasa Melayu"),
    ("nl", "dut", "nld", "Dutch", "Nederlands"),
    ("no", "nor", "nor", "Norwegian", "Norsk"),
    ("nb", "nob", "nob", "Norwegian Bokmål", "Norsk bokmål"),
    ("pl", "pol", "pol", "Polish", "Polski"),
    ("pt", "por", "por", "Portuguese", "Português"),
    ("ro", "rum", "ron", "Romanian", "Română"),
    ("ru", "rus", "rus", "Russian", "Русский"),
    ("sk", "slo", "slk", "Slovak", "Slovenčina"),
    ("sl", "slv", "slv", "Slovenian", "Slovenščina"),
    ("sr", "srp", "srp", "Serbian", "Српски"),
    ("sv", "swe", "swe", "Swedish", "Svenska"),
    ("ta", "tam", "tam", "Tamil", "தமிழ்"),
    ("te", "tel", "tel", "Telugu", "తెలుగు"),
    ("th", "tha", "tha", "Thai", "ไทย"),
    ("tr", "tur", "tur", "Turkish", "Türkçe"),
    ("uk", "ukr", "ukr", "Ukrainian", "Українська"),
    ("vi", "vie", "vie", "Vietnamese", "Tiếng Việt"),
    ("zh", "chi", "zho", "Chinese", "中文"),
]

_BY_KEY: dict[str, Language] = {}
for _a2, _b, _t, _en, _native in _TABLE:
    _lang = Language(_b, _t, _a2, _en, _native)
    for _key in (_a2, _b, _t, _en.lower(), _native.lower()):
        _BY_KEY.setdefault(_key, _lang)


def language(code: str) -> Language:
    """The language for a 639-1/639-2 code or English name; UsageError when it is none of those."""
    key = (code or "").strip().lower()
    # Region suffixes (de-DE, pt_BR) and IETF tags name the same base language here.
    base = key.replace("_", "-").split("-", 1)[0]
    found = _BY_KEY.get(key) or _BY_KEY.get(base)
    if found:
        return found
    if len(base) == 3 and base.isalpha() and base not in ("und", "zxx", "mul", "mis"):
        return Language(base, base, None, base, base)
    raise UsageError(f"unknown language {code!r}: use an ISO 639-1 or 639-2 code such as de or ger")


def same_language(a: str | None, b: str | None) -> bool:
    """True when two codes name the same language (``de`` == ``ger`` == ``deu``)."""
    if not a or not b:
        return False
    try:
        return language(a).bibliographic == language(b).bibliographic
    except UsageError:
        return a.lower() == b.lower()
