"""Page bytes → the page's items (one decode), and each item's exact JSON text when first asked.

A page is decoded once, by orjson when the ``fast`` extra is installed (``json`` for a page with
a run of 19 digits: orjson rounds integers beyond 64 bits). ``Event.raw_json`` is a slice of the
body (re-serialising would not round-trip), found for the whole page by one walk with the C
scanner of :mod:`json` when an event of the page first asks for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from webex_events_api.spec import EVENT_COLLECTION_RESPONSE_KEYS

__all__ = ["MalformedBodyError", "Page", "decode_object", "decode_page"]

try:  # the optional `fast` extra
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None  # type: ignore[assignment]

# The C scanner: (text, index) -> (value, end index); typeshed does not declare the attribute.
_scan_once: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_ITEMS = EVENT_COLLECTION_RESPONSE_KEYS.items
_WHITESPACE = " \t\n\r"
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")


class MalformedBodyError(ValueError):
    """Complete JSON of the wrong shape: not an object, no ``items`` list."""


def _loads(body: bytes) -> Any:
    if _orjson is not None and b"0" * 19 not in body.translate(_DIGITS_AS_ZERO):
        try:
            return _orjson.loads(body)
        except _orjson.JSONDecodeError:
            pass  # NaN, lone surrogates, a BOM...: json decides, as without orjson
    try:
        return json.loads(body.decode("utf-8"))  # (ValueError: not UTF-8 or not JSON; retried)
    except RecursionError:
        raise MalformedBodyError("the page is nested too deeply to decode") from None


_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number"}


def _json_type(value: object) -> str:
    return "null" if value is None else "a boolean" if type(value) is bool else _JSON_TYPES[type(value)]


class Page:
    """One decoded page: its ``items`` (any JSON value each) and the body they came from."""

    __slots__ = ("_body", "_texts", "items")

    def __init__(self, body: bytes, items: list[Any]) -> None:
        self._body = body
        self._texts: list[str] | None = None
        self.items = items

    def text(self, index: int) -> str:
        """The exact JSON text of item ``index``."""
        if self._texts is None:
            self._texts = _item_texts(self._body.decode())
        return self._texts[index]


def decode_page(body: bytes) -> Page:
    """Decode a page of List Events (ValueError if it is not JSON, MalformedBodyError if the shape is wrong).

    >>> page = decode_page(b'{"items": [{"id": "a"}, {"id":"b"} ], "n": 2}')
    >>> page.items, page.text(1)
    ([{'id': 'a'}, {'id': 'b'}], '{"id":"b"}')
    """
    decoded = _loads(body)
    if type(decoded) is not dict:
        raise MalformedBodyError(f"the page is {_json_type(decoded)}, not an object")
    if type(items := decoded.get(_ITEMS, ...)) is not list:
        found = "missing" if items is ... else _json_type(items)
        raise MalformedBodyError(f"{_ITEMS!r} is {found}, not an array")
    for index, item in enumerate(items):
        if type(item) is not dict:
            raise MalformedBodyError(f"items[{index}] is {_json_type(item)}, not an object")
    return Page(body, items)


def decode_object(body: bytes | str) -> tuple[dict[str, Any], str]:
    """One JSON object and its text (Get Event Details, ``Event(raw_json=...)``)."""
    text = body if isinstance(body, str) else body.decode("utf-8")
    decoded = json.loads(text)
    if type(decoded) is not dict:
        raise MalformedBodyError(f"the body is {_json_type(decoded)}, not an object")
    return decoded, text.strip(_WHITESPACE)


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index


def _item_texts(text: str) -> list[str]:
    """The exact text of each element of the top-level object's ``items`` array (its last one)."""
    texts: list[str] = []
    index = _skip(text, 0) + 1  # past "{"
    while True:
        index = _skip(text, index)
        key, index = _scan_once(text, index)
        index = _skip(text, _skip(text, index) + 1)  # past ":"
        if key != _ITEMS or text[index] != "[":  # (the last "items" is the page's, as decoded)
            index = _scan_once(text, index)[1]
        else:
            texts = []
            index = _skip(text, index + 1)  # past "["
            while text[index] != "]":
                end = _scan_once(text, index)[1]
                texts.append(text[index:end])
                index = _skip(text, end)
                if text[index] == ",":
                    index = _skip(text, index + 1)
            index += 1
        index = _skip(text, index)
        if text[index] == "}":
            return texts
        index += 1  # past ","
