from __future__ import annotations

import pytest

from syncdub_companion.servers.languages import normalise_language, normalise_languages


@pytest.mark.parametrize("code,expected", [
    ("fr", "fre"), ("fra", "fre"), ("fre", "fre"), ("French", "fre"), ("fr-FR", "fre"), ("FRE", "fre"),
    ("deu", "ger"), ("de", "ger"), ("German", "ger"), ("pt_BR", "por"), ("und", None), ("", None), (None, None),
    ("tlh", "tlh"),
])
def test_codes_reduce_to_iso_639_2b(code, expected):
    assert normalise_language(code) == expected


def test_list_drops_undetermined_and_duplicates_keeping_order():
    assert normalise_languages(["fra", "eng", "fr", None, "und", "English"]) == ["fre", "eng"]
