"""Language codes for the added track: ISO 639-2 for Matroska, the language's own name for the title.

Matroska's legacy language element holds ISO 639-2/B codes (``ger``, ``fre``); users and
media servers write 639-1 (``de``), 639-2/T (``deu``) or English names. All of them map to
one :class:`Language`. Unknown three-letter codes pass through unchanged, so a rare language
still gets tagged, only without a native name.
"""
from __future__ import annotations

from ..errors import UsageError
from ..languages import Language, lookup

__all__ = ["Language", "language", "same_language"]


def language(code: str) -> Language:
    """The language for a 639-1/639-2 code or English name; UsageError when it is none of those."""
    found = lookup(code)
    if found:
        return found
    # Region suffixes (de-DE, pt_BR) and IETF tags name the same base language here.
    base = (code or "").strip().lower().replace("_", "-").split("-", 1)[0]
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
