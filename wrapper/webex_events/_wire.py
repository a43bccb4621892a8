"""Page text → the items of ``items`` with their exact JSON text.

The page is walked with the C scanner of :mod:`json` (``JSONDecoder.scan_once``): each item is
decoded by one C call that also reports where it ends, so the exact text Webex sent for the item
is a slice of the body. Re-serialising would not round-trip (escapes, key order, spacing).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

__all__ = ["decode_object", "decode_page"]

# The C scanner: (text, index) -> (value, end index); typeshed does not declare the attribute.
_scan_once: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_WS = re.compile(r"[ \t\n\r]*")
_WS_CHARS = " \t\n\r"


def _ws(text: str, idx: int) -> int:
    # Compact JSON has no whitespace: skip the regex call in the common case.
    if idx < len(text) and text[idx] in _WS_CHARS:
        return _WS.match(text, idx).end()  # type: ignore[union-attr]
    return idx


def _expect(text: str, idx: int, char: str) -> None:
    if idx >= len(text):
        raise json.JSONDecodeError(f"Expecting {char!r} (truncated body)", text, idx)
    if text[idx] != char:
        raise json.JSONDecodeError(f"Expecting {char!r}", text, idx)


def _value(text: str, idx: int) -> tuple[Any, int]:
    try:
        return _scan_once(text, idx)
    except StopIteration as stop:
        raise json.JSONDecodeError("Expecting value", text, stop.value) from None


def decode_page(text: str) -> list[tuple[dict[str, Any], str]]:
    """``(item, exact_text)`` for each item of the top-level ``items`` array.

    Raises :class:`json.JSONDecodeError` for anything that is not a complete JSON object (a body
    cut off mid-read included). Items that are not objects are skipped.

    >>> decode_page('{"items":[{"id":"a","n":1.50}]}')
    [({'id': 'a', 'n': 1.5}, '{"id":"a","n":1.50}')]
    """
    items: list[tuple[dict[str, Any], str]] = []
    idx = _ws(text, 0)
    _expect(text, idx, "{")
    idx = _ws(text, idx + 1)
    if idx < len(text) and text[idx] == "}":
        idx += 1
    else:
        while True:
            _expect(text, idx, '"')
            key, idx = _value(text, idx)
            idx = _ws(text, idx)
            _expect(text, idx, ":")
            idx = _ws(text, idx + 1)
            if key == "items" and idx < len(text) and text[idx] == "[":
                items = []  # a repeated key wins, as in json.loads
                idx = _items(text, idx, items)
            else:
                _, idx = _value(text, idx)
            idx = _ws(text, idx)
            if idx < len(text) and text[idx] == ",":
                idx = _ws(text, idx + 1)
                continue
            _expect(text, idx, "}")
            idx += 1
            break
    if _ws(text, idx) != len(text):
        raise json.JSONDecodeError("Extra data", text, idx)
    return items


def _items(text: str, idx: int, out: list[tuple[dict[str, Any], str]]) -> int:
    """Walk the array starting at ``text[idx] == "["``; return the index after ``]``."""
    scan = _scan_once
    append = out.append
    idx = _ws(text, idx + 1)
    if idx < len(text) and text[idx] == "]":
        return idx + 1
    end = len(text)
    while True:
        try:
            obj, stop = scan(text, idx)
        except StopIteration as exc:
            raise json.JSONDecodeError("Expecting value", text, exc.value) from None
        if type(obj) is dict:
            append((obj, text[idx:stop]))
        idx = stop
        if idx < end and text[idx] == ",":
            idx = _ws(text, idx + 1)
            continue
        idx = _ws(text, idx)
        if idx < end and text[idx] == ",":
            idx = _ws(text, idx + 1)
            continue
        _expect(text, idx, "]")
        return idx + 1


def decode_object(text: str) -> tuple[dict[str, Any], str]:
    """A body that is one JSON object → ``(object, exact_text)`` (surrounding whitespace trimmed).

    >>> decode_object(' {"id": "x"}\\n')
    ({'id': 'x'}, '{"id": "x"}')
    """
    start = _ws(text, 0)
    obj, stop = _value(text, start)
    if _ws(text, stop) != len(text):
        raise json.JSONDecodeError("Extra data", text, stop)
    if type(obj) is not dict:
        raise json.JSONDecodeError("Expecting an object", text, start)
    return obj, text[start:stop]
