"""JSON text that any UTF-8 file, database or page can hold, whatever a model wrote.

A model's reply may contain a lone surrogate (``"\\ud800"`` in a JSON response decodes to
one): Python strings hold it, but UTF-8 cannot encode it, so ``json.dumps(...,
ensure_ascii=False)`` written to a UTF-8 file raises ``UnicodeEncodeError`` and the run dies.
:func:`dumps` keeps every other character as it is (readable ``∀`` and ``é`` in the file) and
writes surrogates as JSON escapes, which :func:`json.loads` turns back into the same string.
One limit is JSON's, not ours: a high surrogate directly followed by a low one reads back as
the single character the pair encodes in UTF-16 (JSON says the two escapes mean that).

>>> text = dumps({"reply": "Answer(value=5) \\ud800", "formula": "∀x P(x)"})
>>> text
'{"reply": "Answer(value=5) \\\\ud800", "formula": "∀x P(x)"}'
>>> json.loads(text)["reply"] == "Answer(value=5) \\ud800"
True
"""

from __future__ import annotations

import json
import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, **kwargs)`` with surrogates escaped."""
    text = json.dumps(value, ensure_ascii=False, **kwargs)
    # Surrogates can only sit inside JSON strings (the syntax is ASCII), where an escape is valid.
    return _SURROGATE.sub(_escape, text) if _SURROGATE.search(text) else text


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def without_surrogates(value: Any) -> Any:
    """``value`` (a string, or lists and dicts of them) with each lone surrogate replaced by
    U+FFFD, for consumers that need valid Unicode (tokenizers, Arrow); a high surrogate
    followed by a low one becomes the character the pair encodes."""
    if isinstance(value, str):
        if not _SURROGATE.search(value):
            return value
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {without_surrogates(k): without_surrogates(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [without_surrogates(v) for v in value]
    return value
