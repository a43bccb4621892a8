"""Page bytes → the items of ``items``, and the exact JSON text of each item when asked.

Two ways to decode a page, chosen per listing:

- *fast* (the default): one ``json.loads`` of the page (``orjson.loads`` when the ``fast`` extra
  is installed), so decoding costs what a plain decode costs. The exact text of each item is
  found only when someone first reads an event's ``raw_json``, by one walk of the page text.
- *exact*: the walk straight away. The page is walked with the C scanner of :mod:`json`
  (``JSONDecoder.scan_once``): each item is decoded by one C call that also reports where it
  ends, so the exact text Webex sent for the item is a slice of the body. A listing switches to
  this as soon as ``raw_json`` has been read once (see ``TextDemand``): a raw export then decodes
  each page once, not twice. Unless typed fields have been read too, the events of such a page
  keep only their text and decode it again if asked: a raw export holds about a quarter of the
  memory per page in flight.

Re-serialising would not round-trip (escapes, key order, spacing), hence the slices.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

__all__ = ["DecodedPage", "MalformedBodyError", "TextDemand", "decode_object", "decode_page"]

try:  # the optional `fast` extra
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None  # type: ignore[assignment]

# The C scanner: (text, index) -> (value, end index); typeshed does not declare the attribute.
_scan_once: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_WS = re.compile(r"[ \t\n\r]*")
_WS_CHARS = " \t\n\r"
# orjson turns an integer beyond 64 bits into a float; 20 digits in a row send the page to json.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_TWENTY_DIGITS = b"0" * 20


class MalformedBodyError(ValueError):
    """Complete JSON of the wrong shape: no ``items`` list, an item that is not an object..."""


_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number"}


def _json_type(value: object) -> str:
    return "null" if value is None else "a boolean" if isinstance(value, bool) else _JSON_TYPES[type(value)]


def _check_items(items: object) -> list[Any]:
    """``items`` if it is a list of objects; MalformedBodyError otherwise (never an empty page)."""
    if type(items) is not list:
        raise MalformedBodyError(
            f"'items' is {'missing' if items is _MISSING else _json_type(items)}, not an array"
        )
    for index, item in enumerate(items):
        if type(item) is not dict:
            raise MalformedBodyError(f"items[{index}] is {_json_type(item)}, not an object")
    return items


_MISSING: Any = object()


def _as_text(body: bytes | str) -> str:
    """The body as text (UnicodeDecodeError, a ValueError, for bytes that are not UTF-8)."""
    return body.decode("utf-8") if isinstance(body, bytes) else body


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


class TextDemand:
    """What the consumer of a listing has read so far (shared by the listing's pages).

    ``wanted``: the exact text of an event; the next pages are decoded the *exact* way.
    ``typed``: a decoded field of an event that had only its text; the next pages keep the dicts.
    """

    __slots__ = ("typed", "wanted")

    def __init__(self) -> None:
        self.wanted = False
        self.typed = False


class DecodedPage:
    """One decoded List Events page.

    ``items`` holds every element of the page's ``items`` array as decoded (the caller skips
    the ones that are not objects); ``text_of(i)`` is the exact JSON text of ``items[i]``.

    >>> page = decode_page(b'{"items":[{"id":"a","n":1.50},{}]}')
    >>> page.items
    [{'id': 'a', 'n': 1.5}, {}]
    >>> page.text_of(0)
    '{"id":"a","n":1.50}'
    """

    __slots__ = ("_body", "_demand", "_texts", "items")

    def __init__(
        self,
        items: list[Any],
        *,
        body: bytes | str = b"",
        texts: list[str] | None = None,
        demand: TextDemand | None = None,
    ) -> None:
        self.items = items
        self._body = body
        self._texts = texts
        self._demand = demand

    @property
    def texts_ready(self) -> list[str] | None:
        """The exact texts if they have been found already, else None."""
        return self._texts

    @property
    def text_only(self) -> bool:
        """Whether its events should keep only their texts (exact texts ready, no typed reads yet)."""
        demand = self._demand
        return self._texts is not None and demand is not None and not demand.typed

    def typed_access(self) -> None:
        """An event of this page that kept only its text was asked for a decoded field."""
        if self._demand is not None:
            self._demand.typed = True

    def release(self) -> None:
        """Drop the decoded items and the texts (the events hold what they need)."""
        self.items = []
        self._texts = None
        self._body = b""

    def text_of(self, index: int) -> str:
        """The exact JSON text of ``items[index]`` (the page is walked on the first call)."""
        texts = self._texts
        if texts is None:
            if self._demand is not None:
                self._demand.wanted = True
            body = self._body
            text = _as_text(body)
            texts = self._texts = [span for _, span in _walk_page(text) or ()]
            self._body = b""  # the slices are all that is needed from now on
        return texts[index]


def decode_page(body: bytes | str, *, exact: bool = False, demand: TextDemand | None = None) -> DecodedPage:
    """Decode one List Events page (``exact``: walk it now, see the module docstring).

    Raises :class:`ValueError` (:class:`json.JSONDecodeError`, or :class:`UnicodeDecodeError`
    for bytes that are not UTF-8) for anything that is not a complete JSON object, a body cut
    off mid-read included, and :class:`MalformedBodyError` when ``items`` is not an array of
    objects.

    >>> decode_page(b'{"items":[{"id":"a"}]}', exact=True).texts_ready
    ['{"id":"a"}']
    """
    if exact:
        text = _as_text(body)
        pairs = _walk_page(text)
        items = _check_items([item for item, _ in pairs] if pairs is not None else _MISSING)
        return DecodedPage(items, texts=[span for _, span in pairs or ()], demand=demand)
    if _orjson is None and isinstance(body, bytes):
        body = body.decode("utf-8")  # once: the same text serves a later walk
    document = _loads(body)
    if type(document) is not dict:
        raise json.JSONDecodeError("Expecting an object", "", 0)
    items = _check_items(document.get("items", _MISSING))
    return DecodedPage(items, body=body, demand=demand)


def _loads(body: bytes | str) -> Any:
    if _orjson is not None:
        raw = body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass")
        if _TWENTY_DIGITS not in raw.translate(_DIGITS_AS_ZERO):
            try:
                return _orjson.loads(raw)
            except _orjson.JSONDecodeError:
                pass  # NaN, lone surrogates, a BOM...: let the stdlib decide, as without orjson
    return json.loads(_as_text(body))


def _walk_page(text: str) -> list[tuple[Any, str]] | None:
    """``(item, exact_text)`` for each element of the top-level ``items`` array (None: no array).

    Raises :class:`json.JSONDecodeError` for anything that is not a complete JSON object (a body
    cut off mid-read included).
    """
    items: list[tuple[Any, str]] | None = None
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
                value, idx = _value(text, idx)
                if key == "items":
                    raise MalformedBodyError(f"'items' is {_json_type(value)}, not an array")
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


def _items(text: str, idx: int, out: list[tuple[Any, str]]) -> int:
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


def decode_object(body: bytes | str) -> tuple[dict[str, Any], str]:
    """A body that is one JSON object → ``(object, exact_text)`` (surrounding whitespace trimmed).

    >>> decode_object(' {"id": "x"}\\n')
    ({'id': 'x'}, '{"id": "x"}')
    """
    text = _as_text(body)
    start = _ws(text, 0)
    obj, stop = _value(text, start)
    if _ws(text, stop) != len(text):
        raise json.JSONDecodeError("Extra data", text, stop)
    if type(obj) is not dict:
        raise MalformedBodyError(f"the body is {_json_type(obj)}, not an object")
    return obj, text[start:stop]
