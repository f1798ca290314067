"""One language table, two named forms: alpha2_code ("de") and bibliographic_code ("ger")."""
from __future__ import annotations

import pytest

from syncdub_companion.languages import alpha2_code, bibliographic_code, bibliographic_codes


@pytest.mark.parametrize("code,expected", [
    ("fr", "fre"), ("fra", "fre"), ("fre", "fre"), ("French", "fre"), ("fr-FR", "fre"), ("FRE", "fre"),
    ("deu", "ger"), ("de", "ger"), ("German", "ger"), ("pt_BR", "por"), ("und", None), ("", None), (None, None),
    ("tlh", "tlh"),
])
def test_bibliographic_code_is_iso_639_2b(code, expected):
    assert bibliographic_code(code) == expected


@pytest.mark.parametrize("code,expected", [
    ("deu", "de"), ("ger", "de"), ("DE", "de"), ("German", "de"), ("Deutsch", "de"), ("fra", "fr"),
    ("fr-CA", "fr"), ("xx", "xx"), ("und", None), ("UND", None), ("", None), (None, None),
])
def test_alpha2_code_is_iso_639_1(code, expected):
    assert alpha2_code(code) == expected


def test_the_two_forms_name_the_same_language():
    for code in ("de", "ger", "deu", "German", "fr", "fre", "ja", "Japanese", "zh"):
        assert bibliographic_code(alpha2_code(code)) == bibliographic_code(code)


def test_list_drops_undetermined_and_duplicates_keeping_order():
    assert bibliographic_codes(["fra", "eng", "fr", None, "und", "English"]) == ["fre", "eng"]
