"""JSON text for any string a model writes: storable as UTF-8, read back exactly."""

from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st

from callgym.json_text import dumps, without_surrogates

# Any code point, surrogates included (hypothesis leaves them out of text() by default).
ANY_CHAR = st.one_of(st.characters(), st.integers(0xD800, 0xDFFF).map(chr))
_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


@given(st.dictionaries(st.text(ANY_CHAR, max_size=5), st.text(ANY_CHAR, max_size=30), max_size=3))
def test_any_text_is_stored_as_utf8_and_read_back(value: dict[str, str]) -> None:
    text = dumps(value)
    text.encode("utf-8")  # a UTF-8 file, SQLite or a page can hold it
    back = json.loads(text)
    assert back == json.loads(json.dumps(value))  # what JSON says the text means
    if not any(_PAIR.search(s) for item in value.items() for s in item):
        assert back == value  # exactly, whenever no high surrogate is followed by a low one


def test_readable_characters_stay_as_they_are() -> None:
    assert dumps({"f": "∀x P(x) é 😀"}) == '{"f": "∀x P(x) é 😀"}'
    assert dumps(["\ud800", "\udfff"]) == '["\\ud800", "\\udfff"]'


@given(st.text(ANY_CHAR, max_size=30))
def test_without_surrogates_gives_valid_unicode(text: str) -> None:
    clean = without_surrogates(text)
    clean.encode("utf-8")
    if not re.search("[\ud800-\udfff]", text):
        assert clean == text
    assert without_surrogates({"k": [text]}) == {"k": [clean]}
