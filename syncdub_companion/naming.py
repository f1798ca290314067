"""Release and file-name parsing, normalisation and name-based matching.

Turns ``Title.2010.GERMAN.DL.1080p.BluRay.x264-GRP``, ``Title (2010) {imdb-tt0000000}``,
``Show - S01E02E03 - Name`` or ``[Group] Show - 1071 [1080p]`` into a :class:`ParsedName`,
and scores whether two names are the same film or episode (:func:`match`).

A focused parser rather than guessit: guessit takes about 9 ms a name on the target
machine (three minutes for a 20,000-file scan) and reads ``Title (1982) - Final Cut`` as
an episode; this one needs tens of microseconds and knows the editions we care about.
Nothing here touches the disk except :func:`parse_path`'s use of path components.
"""
from __future__ import annotations

import difflib
import functools
import os
import re
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable

from .languages import alpha2_code, words
from .media import MEDIA_EXTS, SUBTITLE_EXTS

# The old name of languages.alpha2_code, kept only because align/ (owned elsewhere) still
# imports it; new code says which form it wants: alpha2_code or bibliographic_code.
normalise_language = alpha2_code
# Plex/Jellyfin extras folders: never originals, never counterparts.
EXTRAS_FOLDERS = frozenset(
    "extras featurettes behind the scenes deleted scenes interviews scenes shorts trailers samples sample other others"
    .split(" ")) | {"behind the scenes", "deleted scenes"}

_YEAR_MAX = time.localtime().tm_year + 2
_IDS = re.compile(r"[\[{(]\s*(imdb|tmdb|tvdb)(?:id)?\s*[-=]\s*(tt\d+|\d+)\s*[\]})]", re.I)
_BARE_IMDB = re.compile(r"\b(tt\d{7,9})\b")
_PLEX_EDITION = re.compile(r"\{edition-([^}]*)\}", re.I)
_BRACKETS = re.compile(r"\[[^\]]*\]|\{[^}]*\}")
_SXXEYY = re.compile(r"(?<![a-z0-9])s(\d{1,2})[ .]?e(\d{1,4})((?:(?:[-_ ]?e|-)\d{1,4})*)(?![a-z0-9])", re.I)
_NXNN = re.compile(r"(?<![a-z0-9])(\d{1,2})x(\d{2,3})((?:-\d{2,3})*)(?![a-z0-9])", re.I)
_ABSOLUTE = re.compile(r"(?:(?<= - )|(?<=\bep )|(?<=\bepisode )|(?<=#))(\d{1,4})(?:v\d)?(?![a-z0-9])", re.I)
_E_ONLY = re.compile(r"(?<![a-z0-9])e(\d{2,4})(?![a-z0-9])", re.I)
_YEAR = re.compile(r"(?<![a-z0-9])(19\d\d|20\d\d)(?![a-z0-9])", re.I)
_SEASON_FOLDER = re.compile(r"^(?:season|staffel|saison|temporada|stagione|series|s)[ ._-]*(\d{1,3})$", re.I)
_PART = re.compile(r"(?<![a-z0-9])(?:part|pt|cd|disc|disk|dvd)[ ._-]?(\d{1,2})(?![a-z0-9])", re.I)
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.U)

# Editions that change the running time: the same film in another cut aligns worse.
EDITIONS = {
    "extended": "extended", "extended cut": "extended", "extended edition": "extended",
    "directors cut": "directors cut", "director's cut": "directors cut", "dc": "directors cut",
    "theatrical": "theatrical", "theatrical cut": "theatrical", "kinofassung": "theatrical",
    "unrated": "unrated", "uncut": "uncut", "final cut": "final cut", "ultimate cut": "ultimate",
    "ultimate edition": "ultimate", "special edition": "special edition", "imax": "imax",
    "redux": "redux", "despecialized": "despecialized",
}
_EDITION_WORDS = {"extended", "directors", "director's", "dc", "theatrical", "kinofassung", "unrated",
                  "uncut", "final", "ultimate", "special", "imax", "redux", "despecialized"}
# Tokens that only appear in the technical tail of a release name: the title ends before them.
STRONG_TAGS = frozenset("""
480p 540p 576p 720p 1080p 1080i 2160p 4320p 4k uhd hdr10 hdr10plus dovi 10bit bluray bdrip brrip
bdremux remux webrip webdl hdtv dvdrip dvdr dvd9 dvd5 hdrip tvrip satrip pdtv amzn nf dsnp hmax atvp
x264 x265 h264 h265 hevc avc xvid divx vc1 av1 aac ac3 eac3 dts dtshd truehd atmos ddp dd5 ddp5 dd2
dl ac3d dtsd
""".split())
# Words that belong to the tail only when they stand next to it ("Charlotte's Web" keeps its web).
WEAK_TAGS = frozenset("""
web dual multi dubbed dub subbed complete proper repack rerip internal limited hdr dv sdr remastered
hybrid retail ld md mic line vostfr
""".split())


# --- languages ----------------------------------------------------------------

# Every code, name and scene word of the shared table, as the two-letter code.
_LANG_ANY = {word: lang.alpha2 for word, lang in words().items() if lang.alpha2}
# In a release name only full names and codes that are not everyday words count.
_LANG_STRICT_CODES = {"ger", "deu", "eng", "fre", "fra", "ita", "jpn", "rus", "kor", "dut", "nld", "swe", "cze"}
_LANG_STRICT = {alias: code for alias, code in _LANG_ANY.items()
                if len(alias) > 3 or alias in _LANG_STRICT_CODES or alias in ("vf", "vff", "vfq")}


def language_from_token(token: str, strict: bool = False) -> str | None:
    """The ISO 639-1 code a name token stands for (``GERMAN``, ``ger``, ``de``), or None.

    ``strict`` accepts only words that cannot be ordinary title words: full names and
    unmistakable three-letter codes, not ``de``, ``it`` or ``nor``.
    """
    token = token.lower()
    return (_LANG_STRICT if strict else _LANG_ANY).get(token)


@dataclass
class ParsedName:
    """What a file or folder name says about its content.

    ``key`` is the normalised title used for comparisons (:func:`title_key`); for
    episodes it is the series. ``episodes`` holds every episode of a multi-episode file.
    """

    title: str = ""
    key: str = ""
    year: int | None = None
    kind: str = "movie"
    season: int | None = None
    episodes: tuple[int, ...] = ()
    absolute: tuple[int, ...] = ()
    edition: str | None = None
    part: int | None = None
    languages: tuple[str, ...] = ()
    provider_ids: dict[str, str] = field(default_factory=dict)
    extension: str = ""

    @property
    def is_episode(self) -> bool:
        return self.kind == "episode"


@dataclass(frozen=True)
class Match:
    """The outcome of comparing two names: a score in 0..1 and why."""

    score: float
    reason: str


def title_key(text: str) -> str:
    """Lower-case ASCII letters and digits only, umlauts spelt out, a leading "The" dropped.

    ``Der Herr der Ringe: Die Gefährten`` and ``Der.Herr.der.Ringe.Die.Gefaehrten`` share
    a key, as do ``Spider-Man`` and ``Spiderman``.
    """
    text = text.strip().lower()
    if text.endswith((", the", ",the")):
        text = "the " + text.rsplit(",", 1)[0]
    text = text.replace("&", " and ")
    for src, dst in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("æ", "ae"), ("ø", "o"), ("œ", "oe")):
        text = text.replace(src, dst)
    text = unicodedata.normalize("NFKD", text)
    key = "".join(ch for ch in text if ch.isascii() and ch.isalnum())
    # Dub releases often drop the article ("Matrix" for "The Matrix").
    return key[3:] if key.startswith("the") and len(key) > 3 and text.lstrip()[:4].lower() == "the " else key


def split_extension(name: str) -> tuple[str, str]:
    """``(stem, ext)`` when the name ends in a known media or subtitle extension, else ``(name, "")``."""
    stem, dot, ext = name.rpartition(".")
    ext = ext.lower()
    if dot and stem and (ext in MEDIA_EXTS or ext in SUBTITLE_EXTS):
        return stem, ext
    return name, ""


def split_sidecar(name: str) -> tuple[str, str, str] | None:
    """``("Title (2010)", "de", "mka")`` for a dub named beside its original, else None.

    The suffix before the extension must hold a language (``.de``, ``.ger``, ``.German``),
    optionally with ``dub``/``forced``/``default`` words: ``Title (2010).de.mka``.
    ``Title.multi.mkv`` and subtitles are not sidecar dubs.
    """
    stem, ext = split_extension(name)
    if ext not in MEDIA_EXTS:
        return None
    parts = stem.split(".")
    cut = len(parts)
    while cut > 1 and (parts[cut - 1].lower() in _SIDECAR_WORDS or language_from_token(parts[cut - 1])):
        cut -= 1
    languages = [code for p in parts[cut:] if (code := language_from_token(p))]
    if not languages:
        return None
    return ".".join(parts[:cut]), languages[0], ext


_SIDECAR_WORDS = {"dub", "dubbed", "forced", "default", "audio", "synced"}


def parse_name(name: str, is_file: bool = True) -> ParsedName:
    """Parse one file or folder name (no directories)."""
    stem, ext = split_extension(name) if is_file else (name, "")
    parsed = ParsedName(extension=ext)
    text = _take_ids(stem, parsed)
    text, anime_group = _take_brackets(text, parsed)
    text = _spaces(text)
    anchor = _take_numbering(text, parsed, anime_group)
    head, tail = (text[:anchor[0]], text[anchor[1]:]) if anchor else (text, "")
    head, tail = _take_year(head, tail, parsed, prefer_tail=anchor is None)
    parsed.title, rest = _split_title(head, bare=anchor is None and parsed.year is None)
    _read_tags(rest + " " + tail, parsed)
    parsed.key = title_key(parsed.title)
    return parsed


def _take_ids(text: str, parsed: ParsedName) -> str:
    for provider, value in _IDS.findall(text):
        parsed.provider_ids.setdefault(provider.lower(), value.lower())
    text = _IDS.sub(" ", text)
    bare = _BARE_IMDB.search(text)
    if bare:
        parsed.provider_ids.setdefault("imdb", bare.group(1).lower())
        text = text.replace(bare.group(1), " ")
    edition = _PLEX_EDITION.search(text)
    if edition:
        parsed.edition = normalise_edition(edition.group(1))
        text = _PLEX_EDITION.sub(" ", text)
    return text


def _take_brackets(text: str, parsed: ParsedName) -> tuple[str, bool]:
    """Drop [..] and {..} groups (release groups, CRCs, quality) but read languages from them."""
    anime_group = text.lstrip().startswith("[")
    for group in _BRACKETS.findall(text):
        _read_languages(group, parsed)
    return _BRACKETS.sub(" ", text), anime_group


def _spaces(text: str) -> str:
    # Dots and underscores separate words in scene names; a dot between capitals is an
    # abbreviation (S.H.I.E.L.D.) and collapses the same way once keyed.
    text = re.sub(r"[._]+", " ", text)
    text = re.sub(r"\s+-\s+|\s+-(?=\S)|(?<=\S)-\s+", " - ", text)
    return re.sub(r"\s+", " ", text).strip()


def _take_numbering(text: str, parsed: ParsedName, anime_group: bool) -> tuple[int, int] | None:
    """Find SxxEyy / NxNN / absolute numbering; returns the span of the anchor or None."""
    m = _SXXEYY.search(text) or _NXNN.search(text)
    if m:
        parsed.kind, parsed.season = "episode", int(m.group(1))
        parsed.episodes = _episode_list(int(m.group(2)), m.group(3))
        absolute = _ABSOLUTE.search(text, m.end())
        if absolute and absolute.start() - m.end() <= 4:
            parsed.absolute = (int(absolute.group(1)),)
        return m.span() if not absolute or absolute.start() - m.end() > 4 else (m.start(), absolute.end())
    m = _ABSOLUTE.search(text) or _E_ONLY.search(text)
    if m is None and anime_group:
        m = re.search(r"(?<= )(\d{2,4})(?:v\d)?(?= |$)", text)
    if m is None or _is_year(m.group(1)) and not m.group(0).lower().startswith("e"):
        return None
    parsed.kind, parsed.absolute = "episode", (int(m.group(1)),)
    start = m.start() - 3 if text[max(0, m.start() - 3):m.start()] == " - " else m.start()
    return start, m.end()


def _episode_list(first: int, rest: str) -> tuple[int, ...]:
    numbers = [first] + [int(n) for n in re.findall(r"\d+", rest or "")]
    if len(numbers) == 2 and "-" in (rest or "") and numbers[1] > numbers[0] and not re.search(r"e", rest, re.I):
        numbers = list(range(numbers[0], numbers[1] + 1))  # S01E01-03 is a range
    return tuple(sorted(set(numbers)))


def _is_year(digits: str) -> bool:
    return len(digits) == 4 and 1900 <= int(digits) <= _YEAR_MAX


def _take_year(head: str, tail: str, parsed: ParsedName, prefer_tail: bool) -> tuple[str, str]:
    """Pick the release year: a ``(YYYY)`` wins, else the last year before the tags, never the first word."""
    paren = [m for m in re.finditer(r"\((\d{4})\)", head) if _is_year(m.group(1))]
    if paren:
        m = paren[-1]
        parsed.year = int(m.group(1))
        return head[:m.start()], head[m.end():] + " " + tail
    years = [m for m in _YEAR.finditer(head) if m.start() > 0 and _is_year(m.group(1))]
    if not years:
        return head, tail
    first_tag = _first_tag_offset(head)
    before = [m for m in years if m.start() < first_tag] or years
    m = before[-1]
    parsed.year = int(m.group(1))
    if not prefer_tail:
        return head[:m.start()] + head[m.end():], tail
    return head[:m.start()], head[m.end():] + " " + tail


def _first_tag_offset(text: str, bare: bool = False) -> int:
    """Where the technical tail starts: the first strong tag, extended back over weak ones.

    ``Title German DL 1080p`` ends its title before ``German``; ``The Italian Job`` and
    ``Charlotte's Web`` have no strong tag and keep every word. ``bare`` (a name with no
    year or episode number) also drops one trailing language: ``Title German``.
    """
    words = list(_WORD.finditer(text))
    lowered = [w.group(0).lower() for w in words]
    strong = next((i for i, w in enumerate(lowered) if w in STRONG_TAGS), None)
    if strong is None:
        if bare and len(words) > 1 and language_from_token(lowered[-1], strict=True):
            return words[-1].start()
        return len(text)
    first, languages = strong, 0
    while first > 0 and _is_weak(lowered[first - 1], languages, adjacent=first == strong):
        languages += bool(language_from_token(lowered[first - 1], strict=True))
        first -= 1
    return words[first].start() if first < len(words) else len(text)


def _is_weak(word: str, languages_seen: int, adjacent: bool) -> bool:
    if word in ("web", "line", "dual", "hybrid"):
        return adjacent  # WEB-DL, Line.Dubbed: tags only right before a strong one (not Charlotte's Web)
    if word in WEAK_TAGS or word in _EDITION_WORDS or word == "cut":
        return True
    # One language before the tags ("German.DL"); two would eat "Johnny English German DL".
    return languages_seen == 0 and bool(language_from_token(word, strict=True))


def _split_title(head: str, bare: bool) -> tuple[str, str]:
    """``(title, technical rest)``: cut at the tail, strip separators and empty parentheses."""
    cut = _first_tag_offset(head, bare)
    if cut == 0:
        cut = len(head)  # nothing but tags would leave no title; keep the words instead
    title = re.sub(r"\(\s*\)", " ", head[:cut])
    return re.sub(r"\s+", " ", title).strip(" -–—:,(["), head[cut:]


def _read_tags(tail: str, parsed: ParsedName) -> None:
    _read_languages(tail, parsed)
    words = [w.lower() for w in _WORD.findall(tail)]
    parsed.edition = parsed.edition or _edition_in(words)
    part = _PART.search(tail)
    if part and not parsed.is_episode:
        parsed.part = int(part.group(1))


def _read_languages(text: str, parsed: ParsedName) -> None:
    found = list(parsed.languages)
    for word in _WORD.findall(text):
        code = language_from_token(word, strict=True)
        if code and code not in found:
            found.append(code)
    parsed.languages = tuple(found)


def _edition_in(words: list[str]) -> str | None:
    for i, word in enumerate(words):
        if word not in _EDITION_WORDS:
            continue
        pair = " ".join(words[i:i + 2])
        if pair in EDITIONS:
            return EDITIONS[pair]
        if word == "directors" and i + 1 < len(words) and words[i + 1] == "cut":
            return "directors cut"
        if word in EDITIONS:
            return EDITIONS[word]
    return None


def normalise_edition(text: str) -> str | None:
    """``Director's Cut`` -> ``directors cut``; unknown editions are kept, lower-cased."""
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return None
    return _edition_in(words) or " ".join(w.replace("'", "") for w in words)


def parse_path(path: str, stop_at: Iterable[str] = ()) -> ParsedName:
    """Parse a file and the folders above it (up to a library or dub root).

    The file name wins; folders fill what it lacks: a series title for ``S01E02.mkv``,
    title and year for an obfuscated file in a ``Title (2010)`` folder, provider ids
    from ``Show (2008) [tvdbid-123]``, a season from ``Season 02``.
    """
    stops = {os.path.normpath(str(s)) for s in stop_at}
    folder, name = os.path.split(os.path.normpath(str(path)))
    parsed = parse_name(name)
    for _ in range(3):  # the file's folder, a season folder, the series or release folder
        if not folder or folder in stops or os.path.dirname(folder) == folder:
            break
        folder_name = os.path.basename(folder)
        season = _SEASON_FOLDER.match(folder_name.strip())
        if season:
            if parsed.season is None and parsed.is_episode:
                parsed.season = int(season.group(1))
        else:
            _fill_from_folder(parsed, _parse_folder(folder_name))
        folder = os.path.dirname(folder)
    return parsed


@functools.lru_cache(maxsize=4096)
def _parse_folder(name: str) -> ParsedName:
    # Every episode of a season shares its folders; callers only read the result.
    return parse_name(name, is_file=False)


def _fill_from_folder(parsed: ParsedName, folder: ParsedName) -> None:
    for provider, value in folder.provider_ids.items():
        parsed.provider_ids.setdefault(provider, value)
    parsed.languages = parsed.languages + tuple(c for c in folder.languages if c not in parsed.languages)
    if parsed.is_episode:
        if not parsed.key and folder.key:
            parsed.title, parsed.key = folder.title, folder.key
            parsed.year = parsed.year or folder.year
        elif folder.key == parsed.key:
            parsed.year = parsed.year or folder.year
        return
    if folder.is_episode or not folder.key:
        return
    if not parsed.key or (folder.year and not parsed.year):
        # An obfuscated or abbreviated file name inside a properly named release folder.
        parsed.title, parsed.key, parsed.year = folder.title, folder.key, folder.year
    elif folder.key == parsed.key:
        parsed.year = parsed.year or folder.year
    parsed.edition = parsed.edition or folder.edition


# --- matching -----------------------------------------------------------------

MOVIE_IDS = ("imdb", "tmdb")
SERIES_IDS = ("tvdb", "imdb", "tmdb")


def match(original: ParsedName, dub: ParsedName) -> Match | None:
    """Score how likely ``dub`` is the same film or episode as ``original``; None when it is not.

    Provider ids decide when both sides carry the same kind; otherwise the normalised
    title must agree (exactly, or nearly with the same digits and year), the years may
    differ by one at most, and parts and episode numbers must be equal. Editions that
    differ lower the score but do not exclude: the aligner can bridge a different cut.
    """
    if original.is_episode != dub.is_episode:
        return None
    ids = _compare_ids(original, dub)
    if ids is False:
        return None
    if original.is_episode:
        return _match_episode(original, dub, ids)
    return _match_movie(original, dub, ids)


def _compare_ids(a: ParsedName, b: ParsedName) -> bool | None:
    """True when a shared provider id agrees, False when one disagrees, None when none is shared."""
    shared = [k for k in a.provider_ids if k in b.provider_ids]
    if not shared:
        return None
    return all(a.provider_ids[k] == b.provider_ids[k] for k in shared)


def _title_similarity(a: ParsedName, b: ParsedName) -> float:
    return key_similarity(a.key, b.key)


@functools.lru_cache(maxsize=65536)
def key_similarity(a: str, b: str) -> float:
    """1.0 for equal title keys; a near match (typos, punctuation) only when the digits agree.

    Cached: a scan compares one series key with every episode of a candidate series.
    """
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    if re.sub(r"\D", "", a) != re.sub(r"\D", "", b):
        return 0.0  # Part 1 vs Part 2, Rocky 2 vs Rocky 3: never "nearly" the same
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < 0.9 or matcher.quick_ratio() < 0.9:
        return 0.0
    ratio = matcher.ratio()
    return ratio if ratio >= 0.9 else 0.0


def _match_movie(original: ParsedName, dub: ParsedName, ids: bool | None) -> Match | None:
    if original.part != dub.part:
        return None
    similarity = _title_similarity(original, dub)
    if ids:
        score, reasons = 0.98, ["same provider id"]
    elif similarity == 1.0:
        score, reasons = 0.9, ["same title"]
    elif similarity and original.year and original.year == dub.year:
        score, reasons = 0.75, [f"similar title ({similarity:.2f})"]
    else:
        return None
    year = _year_penalty(original.year, dub.year, strict=not ids)
    if year is None:
        return None
    score -= year[0]
    reasons += year[1]
    score, reasons = _edition_penalty(original, dub, score, reasons)
    return Match(round(score, 3), ", ".join(reasons))


def _year_penalty(a: int | None, b: int | None, strict: bool) -> tuple[float, list[str]] | None:
    if a and b:
        if a == b:
            return 0.0, ["same year"]
        if abs(a - b) == 1:
            return 0.2, [f"years differ by one ({a}/{b})"]
        return (0.3, [f"years differ ({a}/{b})"]) if not strict else None
    return 0.15, ["year missing"]


def _edition_penalty(original: ParsedName, dub: ParsedName, score: float, reasons: list[str]):
    if original.edition == dub.edition:
        if original.edition:
            reasons.append(f"same edition ({original.edition})")
        return score, reasons
    if original.edition and dub.edition:
        return score - 0.2, reasons + [f"different edition ({original.edition}/{dub.edition})"]
    return score - 0.1, reasons + [f"edition only on one side ({original.edition or dub.edition})"]


def _match_episode(original: ParsedName, dub: ParsedName, ids: bool | None) -> Match | None:
    similarity = _title_similarity(original, dub)
    if not ids and not similarity:
        return None
    if original.year and dub.year and original.year != dub.year and not ids:
        return None  # Doctor Who (1963) is not Doctor Who (2005)
    numbering = _compare_numbering(original, dub)
    if numbering is None:
        return None
    score = 0.98 if ids else (0.9 if similarity == 1.0 else 0.75)
    reason = "same provider id" if ids else ("same series" if similarity == 1.0 else f"similar series ({similarity:.2f})")
    return Match(round(score - numbering[0], 3), f"{reason}, {numbering[1]}")


def _compare_numbering(a: ParsedName, b: ParsedName) -> tuple[float, str] | None:
    """Absolute numbers decide when both have them (anime seasons differ between sources)."""
    if a.absolute and b.absolute:
        return (0.0, f"absolute episode {_fmt(a.absolute)}") if a.absolute == b.absolute else None
    if a.season is not None and b.season is not None:
        if a.season == b.season and a.episodes == b.episodes:
            return 0.0, f"S{a.season:02d}E{_fmt(a.episodes)}"
        return None
    numbered, bare = (a, b) if a.season is not None else (b, a)
    if bare.absolute and numbered.season == 1 and numbered.episodes == bare.absolute:
        return 0.15, f"absolute {_fmt(bare.absolute)} = S01E{_fmt(numbered.episodes)}"
    return None


def _fmt(numbers: tuple[int, ...]) -> str:
    return "-".join(f"{n:02d}" for n in numbers)
