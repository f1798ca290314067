"""Languages: one table for every place that names one (tags, servers, file names, titles).

Media servers and *arr report ISO 639-2/B (``fre``), 639-2/T (``fra``), 639-1 (``fr``) or
English names (``French``); scene names add words like ``TRUEFRENCH``; Matroska stores
639-2/B; Whisper speaks 639-1. All of them resolve to one :class:`Language` here.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    """One language: ``bibliographic`` is the ISO 639-2/B code Matroska stores."""

    bibliographic: str
    terminologic: str
    alpha2: str | None
    english: str
    native: str


# (639-1, 639-2/B, 639-2/T, English, own name, other words for it in names and tags)
_TABLE = [
    ("ar", "ara", "ara", "Arabic", "العربية", ()),
    ("bg", "bul", "bul", "Bulgarian", "Български", ()),
    ("ca", "cat", "cat", "Catalan", "Català", ()),
    ("cs", "cze", "ces", "Czech", "Čeština", ()),
    ("da", "dan", "dan", "Danish", "Dansk", ()),
    ("de", "ger", "deu", "German", "Deutsch", ()),
    ("el", "gre", "ell", "Greek", "Ελληνικά", ()),
    ("en", "eng", "eng", "English", "English", ()),
    ("es", "spa", "spa", "Spanish", "Español", ("espanol", "castellano", "latino")),
    ("et", "est", "est", "Estonian", "Eesti", ()),
    ("eu", "baq", "eus", "Basque", "Euskara", ()),
    ("fa", "per", "fas", "Persian", "فارسی", ("farsi",)),
    ("fi", "fin", "fin", "Finnish", "Suomi", ()),
    ("fr", "fre", "fra", "French", "Français", ("francais", "truefrench", "vf", "vff", "vfq")),
    ("he", "heb", "heb", "Hebrew", "עברית", ()),
    ("hi", "hin", "hin", "Hindi", "हिन्दी", ()),
    ("hr", "hrv", "hrv", "Croatian", "Hrvatski", ()),
    ("hu", "hun", "hun", "Hungarian", "Magyar", ()),
    ("id", "ind", "ind", "Indonesian", "Bahasa Indonesia", ()),
    ("is", "ice", "isl", "Icelandic", "Íslenska", ()),
    ("it", "ita", "ita", "Italian", "Italiano", ()),
    ("ja", "jpn", "jpn", "Japanese", "日本語", ()),
    ("ko", "kor", "kor", "Korean", "한국어", ()),
    ("lt", "lit", "lit", "Lithuanian", "Lietuvių", ()),
    ("lv", "lav", "lav", "Latvian", "Latviešu", ()),
    ("ms", "may", "msa", "Malay", "Bahasa Melayu", ()),
    ("nl", "dut", "nld", "Dutch", "Nederlands", ("flemish",)),
    ("no", "nor", "nor", "Norwegian", "Norsk", ()),
    ("nb", "nob", "nob", "Norwegian Bokmål", "Norsk bokmål", ("norwegian bokmal",)),
    ("pl", "pol", "pol", "Polish", "Polski", ("pldub",)),
    ("pt", "por", "por", "Portuguese", "Português", ("portugues",)),
    ("ro", "rum", "ron", "Romanian", "Română", ()),
    ("ru", "rus", "rus", "Russian", "Русский", ()),
    ("sk", "slo", "slk", "Slovak", "Slovenčina", ()),
    ("sl", "slv", "slv", "Slovenian", "Slovenščina", ()),
    ("sr", "srp", "srp", "Serbian", "Српски", ()),
    ("sv", "swe", "swe", "Swedish", "Svenska", ()),
    ("ta", "tam", "tam", "Tamil", "தமிழ்", ()),
    ("te", "tel", "tel", "Telugu", "తెలుగు", ()),
    ("th", "tha", "tha", "Thai", "ไทย", ()),
    ("tr", "tur", "tur", "Turkish", "Türkçe", ()),
    ("uk", "ukr", "ukr", "Ukrainian", "Українська", ()),
    ("vi", "vie", "vie", "Vietnamese", "Tiếng Việt", ()),
    ("zh", "chi", "zho", "Chinese", "中文", ("mandarin", "cantonese")),
]

UNDETERMINED = frozenset({"", "und", "unknown", "mul", "zxx", "mis", "none", "null"})

_BY_KEY: dict[str, Language] = {}
for _a2, _b, _t, _en, _native, _more in _TABLE:
    _lang = Language(_b, _t, _a2, _en, _native)
    for _key in (_a2, _b, _t, _en.lower(), _native.lower(), *_more):
        _BY_KEY.setdefault(_key, _lang)


def words() -> dict[str, Language]:
    """Every code, name and word the table knows (lower case), for name parsers."""
    return dict(_BY_KEY)


def lookup(code: str | None) -> Language | None:
    """The language a code, name or tag stands for (``fr``, ``fra``, ``French``, ``fr-CA``), or None."""
    key = str(code or "").strip().lower().replace("_", "-")
    if key in UNDETERMINED:
        return None
    return _BY_KEY.get(key) or _BY_KEY.get(key.split("-", 1)[0])


def alpha2_code(code: str | None) -> str | None:
    """``fr``, ``fra``, ``fre``, ``French``, ``fr-CA`` -> ``fr``: the ISO 639-1 form, which the
    dub roots, ``library.languages`` and job records use; undetermined (``und``, "") -> None.

    A code the table does not know passes through lower-cased, so two mentions of it still
    compare equal.
    """
    key = str(code or "").strip().lower()
    if key.replace("_", "-") in UNDETERMINED:
        return None
    found = lookup(key)
    return found.alpha2 if found and found.alpha2 else key


def bibliographic_code(code: str | None) -> str | None:
    """``fr``, ``fra``, ``fre``, ``French``, ``fre-FR`` -> ``fre``: the ISO 639-2/B form, which
    Matroska stores and the media servers are compared in; undetermined -> None.

    Unknown codes pass through lower-cased, as in :func:`alpha2_code`.
    """
    key = str(code or "").strip().lower().replace("_", "-")
    if key in UNDETERMINED:
        return None
    found = lookup(key)
    return found.bibliographic if found else key


def bibliographic_codes(codes) -> list[str]:
    """Each code as :func:`bibliographic_code`, undetermined ones dropped, order kept, no repeats."""
    out: list[str] = []
    for code in codes or []:
        lang = bibliographic_code(code)
        if lang and lang not in out:
            out.append(lang)
    return out
