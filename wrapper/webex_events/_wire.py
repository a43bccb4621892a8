"""Page bytes → the items of ``items``, and the exact JSON text of each item when asked.

The ways to decode a page, chosen per listing:

- *lean* (the default with orjson, until a decoded field or an exact text is read): one
  ``orjson.loads`` of the whole page, the ``COLUMNS`` (``id``, ``created``, ``resource``,
  ``type``) taken from the items by C calls and every dict dropped at once; the body is kept,
  and cut into the items' exact texts only if one is asked for (see ``_lean``). What a typed
  listing reading the columns costs: no Python loop per item (issue 13: 1.75 against 2.45 µs
  per event for the text-only cut, on the fake's pages).
- *text-only* (with orjson, once an exact text has been read, until a decoded field is): the
  page is cut into its items' exact texts (see *exact*) and each item's dict is dropped as soon
  as its ``COLUMNS`` are taken (see ``_cut``). Its events keep their text (what a raw export
  writes) and decode it again if another field is asked.
- *fast*: one ``json.loads`` of the page (``orjson.loads`` when the ``fast`` extra is installed),
  so decoding costs what a plain decode costs. The exact text of each item is found only when
  someone first reads an event's ``raw_json``, by one walk of the page text.
- *exact*: the walk straight away. With orjson, a compact page (``{"items":[{...},{...}]}``,
  what Webex and the fake send) is cut at each ``},{`` and each piece decoded by one
  ``orjson.loads``: a piece that decodes is exactly one item (an object ends where it closes),
  a cut inside an item fails to decode and is joined to the next piece (see ``_split_items``).
  Otherwise the page is walked with the C scanner of :mod:`json` (``JSONDecoder.scan_once``):
  each item is decoded by one C call that also reports where it ends. Either way the exact text
  Webex sent for the item is a slice of the body. A listing whose consumer has read decoded
  fields switches to this as soon as ``raw_json`` has been read once (see ``TextDemand``): its
  pages are then decoded once, not twice.

Lean and text-only pages keep no dicts until the consumer reads another field; the listing then
keeps the dicts of its next pages (see ``TextDemand``). A listing holds the pages of its windows
in flight and in its reorder buffer, and the cyclic GC walks every dict alive at each
collection: at concurrency 16 and 32, holding none cut the listing's wall time by 7 % and 18 %
(issue 13).

Without orjson, or for a page that is not compact, a page is decoded the fast way, and the exact
way (the stdlib walk) once ``raw_json`` has been read.

Re-serialising would not round-trip (escapes, key order, spacing), hence the slices.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from itertools import repeat
from typing import Any

from webex_events_api.spec import EVENT_COLLECTION_RESPONSE_KEYS, EVENT_KEYS

__all__ = ["COLUMNS", "DecodedPage", "MalformedBodyError", "TextDemand", "decode_object", "decode_page"]

try:  # the optional `fast` extra
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None  # type: ignore[assignment]

# The C scanner: (text, index) -> (value, end index); typeshed does not declare the attribute.
_scan_once: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_WS = re.compile(r"[ \t\n\r]*")
_WS_CHARS = " \t\n\r"
# orjson turns an integer beyond 64 bits into a float (below -2**63: 19 digits); a run of 19
# digits sends the page to json. See _may_hold_big_int.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_RUN_OF_DIGITS = b"0" * 19
#: The key of a page's array of events (``items``), from the spec.
_ITEMS = EVENT_COLLECTION_RESPONSE_KEYS.items
# The compact page _split_items cuts: this head ('{"items":['), "]}" at the end, items separated
# by "},{".
_HEAD = b"{" + json.dumps(_ITEMS).encode() + b":["
_CUT = b"},{"
_MAX_JOINS = 8  # pieces joined for one item before the page goes to the stdlib walk
#: The fields a lean or text-only page keeps for each item (``DecodedPage.column``), by their
#: keys in the spec: what the listing reads (``id``, ``created``) and the accessors that need no
#: dict (``Event.resource``, ``.type``).
COLUMNS = (EVENT_KEYS.id, EVENT_KEYS.created, EVENT_KEYS.resource, EVENT_KEYS.type)
_CREATED = EVENT_KEYS.created


class MalformedBodyError(ValueError):
    """Complete JSON of the wrong shape: no ``items`` list, an item that is not an object..."""


_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number"}


def _json_type(value: object) -> str:
    return "null" if value is None else "a boolean" if isinstance(value, bool) else _JSON_TYPES[type(value)]


def _check_items(items: object) -> list[Any]:
    """``items`` if it is a list of objects; MalformedBodyError otherwise (never an empty page)."""
    if type(items) is not list:
        raise MalformedBodyError(
            f"{_ITEMS!r} is {'missing' if items is _MISSING else _json_type(items)}, not an array"
        )
    if not items or set(map(type, items)) == {dict}:  # (no Python loop for the usual page)
        return items
    for index, item in enumerate(items):
        if type(item) is not dict:
            raise MalformedBodyError(f"items[{index}] is {_json_type(item)}, not an object")
    return items


_MISSING: Any = object()


def _as_text(body: bytes | str) -> str:
    """The body as text (UnicodeDecodeError, a ValueError, for bytes that are not UTF-8)."""
    return body.decode("utf-8") if isinstance(body, bytes) else body


def _utf8(text: bytes | str) -> bytes:
    """The text as UTF-8 bytes (surrogatepass: a str body may hold lone surrogates)."""
    return text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")


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

    ``typed``: a decoded field of an event that had no dict; the next pages keep the dicts.
    ``wanted``: the exact text of an event; the next pages are decoded the *exact* way (the
    text-only way unless ``typed``), not the *lean* way.
    """

    __slots__ = ("typed", "wanted")

    def __init__(self) -> None:
        self.wanted = False
        self.typed = False


class DecodedPage:
    """One decoded List Events page.

    ``items`` holds every element of the page's ``items`` array as decoded (the caller skips
    the ones that are not objects); ``text_of(i)`` is the exact JSON text of ``items[i]``.

    Decoded by orjson, ``items`` may hold a float where the page has an integer beyond 64 bits
    (``inexact`` is then True): strings, objects, arrays and other numbers are exact. Whoever
    hands out a whole item or a value that is not a string asks ``item(i)``, the exact one:
    the page is then checked once for such integers (``_may_hold_big_int``) and, if it has
    any, decoded again by :mod:`json` (``inexact`` stays True, else it becomes False). A typed
    listing that reads only string fields never pays for that check.

    >>> page = decode_page(b'{"items":[{"id":"a","n":1.50},{}]}')
    >>> page.items
    [{'id': 'a', 'n': 1.5}, {}]
    >>> page.text_of(0)
    '{"id":"a","n":1.50}'
    """

    __slots__ = ("_body", "_checked", "_demand", "_exact", "_texts", "columns", "inexact", "items")

    def __init__(
        self,
        items: list[Any],
        *,
        body: bytes | str = b"",
        texts: list[str] | list[bytes] | None = None,
        demand: TextDemand | None = None,
        checked: bool = True,
        columns: dict[str, list[Any]] | None = None,
    ) -> None:
        self.items = items
        self._body = body
        self._texts = texts
        self._demand = demand
        self._checked = checked  # False: items by orjson, body not yet checked for big integers
        self.inexact = not checked  # whether items may differ from item(i)
        self._exact: list[Any] | None = None  # the items decoded by json, if the check found any
        # Each element's value of a field as decoded (None: absent, or not an object), by field.
        # Every one of COLUMNS for a page decoded lean or text-only (given, with no items) or
        # released: what an event without a dict reads (see Event._column).
        self.columns = {} if columns is None else columns

    def column(self, key: str) -> list[Any]:
        """The ``key`` value of each element of ``items`` (None: absent, or not an object)."""
        values = self.columns.get(key)
        if values is None:
            values = self.columns[key] = _values(self.items, key)
        return values

    @property
    def created(self) -> list[Any]:
        """The ``created`` value of each element of ``items`` (None: absent, or not an object)."""
        return self.column(_CREATED)

    def item(self, index: int) -> Any:
        """``items[index]`` exactly as :mod:`json` decodes it (big integers included).

        A lean page is decoded whole again and keeps its dicts from then on: one C call for
        the page, not one decode per event that is asked (its neighbours usually are too).
        """
        if self._is_lean:
            document, self._checked = _loads(self._body)
            self.items = document[_ITEMS]  # (checked by _lean: a list of objects)
            self.inexact = not self._checked
        if not self._checked:
            self._check()
        exact = self._exact
        if exact is not None:
            return exact[index]
        if self.items:
            return self.items[index]
        # A page without dicts (lean, text-only, or released): its item's own text, by json.
        texts = self._texts if self._texts is not None else self._find_texts()
        return json.loads(texts[index])

    @property
    def _is_lean(self) -> bool:
        """Decoded lean (``_lean``): no dicts and no texts yet, only the columns and the body."""
        return not self.items and self._texts is None and bool(self._body)

    def _check(self) -> None:
        texts = self._texts
        if texts is not None:  # (a page cut by _split_items keeps its texts, not its body)
            if _may_hold_big_int(b"\n".join(_utf8(text) for text in texts)):
                self._exact = [json.loads(text) for text in texts]
        else:
            body = self._body
            raw = _utf8(body)
            if _may_hold_big_int(raw):
                self._exact = json.loads(_as_text(body))[_ITEMS]
        self._checked = True
        self.inexact = self._exact is not None

    @property
    def texts_ready(self) -> list[str] | list[bytes] | None:
        """The exact texts if they have been found already (str, or UTF-8 bytes), else None."""
        return self._texts

    @property
    def text_only(self) -> bool:
        """Whether its events should keep no dict (no typed reads yet, or no dicts to give)."""
        if not self.items:
            return True  # decoded lean or text-only (or empty): there are no dicts to give
        demand = self._demand
        return self._texts is not None and demand is not None and not demand.typed

    def typed_access(self) -> None:
        """An event of this page that kept only its text was asked for a decoded field."""
        if self._demand is not None:
            self._demand.typed = True

    def release(self) -> None:
        """Drop the decoded items, the texts and the body; the ``COLUMNS`` stay (what a listing
        reads besides the text: its events then need no dict, see ``Event.id``).

        A lean page keeps its body: its events have no text of their own yet (see ``_lean``).
        """
        if self._is_lean:
            return
        for key in COLUMNS:
            self.column(key)  # computed while the items are here
        self.items = []
        self._exact = None
        self._checked, self.inexact = True, False
        self._texts = None
        self._body = b""

    def text_of(self, index: int) -> str:
        """The exact JSON text of ``items[index]`` (the page is walked on the first call)."""
        text = self._wanted_texts()[index]
        return text.decode() if isinstance(text, bytes) else text

    def utf8_of(self, index: int) -> bytes:
        """``text_of(index)`` as UTF-8 bytes (a text cut from a page's bytes: as received)."""
        text = self._wanted_texts()[index]
        return text if isinstance(text, bytes) else text.encode("utf-8")

    def _wanted_texts(self) -> list[str] | list[bytes]:
        texts = self._texts
        if texts is None:
            if self._demand is not None:
                self._demand.wanted = True  # the next pages are cut as they are decoded
            texts = self._find_texts()
        return texts

    def _find_texts(self) -> list[str] | list[bytes]:
        if not self._checked:
            self._check()  # while the body is still there
        body = self._body
        cut = _cut(body, keep=False) if _orjson is not None and isinstance(body, bytes) else None
        # UTF-8 bytes if cut (big integers do not move the spans), else the stdlib walk's str
        texts: list[str] | list[bytes] = (
            cut[1] if cut is not None else [span for _, span in _walk_page(_as_text(body)) or ()]
        )
        self._texts = texts
        self._body = b""  # the slices are all that is needed from now on
        return texts


def decode_page(body: bytes | str, *, exact: bool = False, demand: TextDemand | None = None) -> DecodedPage:
    """Decode one List Events page (``exact``: walk it now, see the module docstring).

    Raises :class:`ValueError` (:class:`json.JSONDecodeError`, or :class:`UnicodeDecodeError`
    for bytes that are not UTF-8) for anything that is not a complete JSON object, a body cut
    off mid-read included, and :class:`MalformedBodyError` when ``items`` is not an array of
    objects.

    >>> decode_page(b'{"items":[{"id":"a"}]}', exact=True).texts_ready
    ['{"id":"a"}']
    """
    if _orjson is not None and isinstance(body, bytes) and demand is not None and not demand.typed:
        # Lean (no text asked for yet) or text-only: no dicts kept, only each item's COLUMNS.
        if not exact:
            lean = _lean(body, demand)
            if lean is not None:
                return lean
        cut = _cut(body, keep=False)
        if cut is not None:
            return DecodedPage([], texts=cut[1], demand=demand, columns=cut[2])
    if exact:
        if _orjson is not None and isinstance(body, bytes):
            split = _split_items(body)
            if split is not None:
                return DecodedPage(split[0], texts=split[1], demand=demand, checked=False)
        text = _as_text(body)
        pairs = _walk_page(text)
        items = _check_items([item for item, _ in pairs] if pairs is not None else _MISSING)
        return DecodedPage(items, texts=[span for _, span in pairs or ()], demand=demand)
    if _orjson is None and isinstance(body, bytes):
        body = body.decode("utf-8")  # once: the same text serves a later walk
    document, checked = _loads(body)
    if type(document) is not dict:
        raise json.JSONDecodeError("Expecting an object", "", 0)
    items = _check_items(document.get(_ITEMS, _MISSING))
    return DecodedPage(items, body=body, demand=demand, checked=checked)


def _lean(body: bytes, demand: TextDemand) -> DecodedPage | None:
    """A page's ``COLUMNS`` by one ``orjson.loads`` of the whole page, its dicts dropped at once.

    The body is kept: the exact texts are cut from it when first asked for (``_find_texts``).
    None for anything but a page of objects (NaN, lone surrogates, no ``items`` array, an item
    that is not an object): the other ways then decide and raise as they always have. A column
    value that is not a string may be inexact (an integer beyond 64 bits): events read only
    strings from columns and decode their own text by :mod:`json` for anything else.
    """
    try:
        document = _orjson.loads(body)
    except _orjson.JSONDecodeError:
        return None
    items = document.get(_ITEMS) if type(document) is dict else None
    if type(items) is not list or (items and set(map(type, items)) != {dict}):
        return None
    return DecodedPage([], body=body, demand=demand, columns={key: _values(items, key) for key in COLUMNS})


def _loads(body: bytes | str) -> tuple[Any, bool]:
    """The document, and whether it is exact (False: orjson's, big integers not checked yet)."""
    if _orjson is not None:
        raw = _utf8(body)
        try:
            return _orjson.loads(raw), False
        except _orjson.JSONDecodeError:
            pass  # NaN, lone surrogates, a BOM...: let the stdlib decide, as without orjson
    return json.loads(_as_text(body)), True


def _values(items: list[Any], key: str) -> list[Any]:
    """``item.get(key)`` of each element (None for an element that is not an object)."""
    try:
        return list(map(dict.get, items, repeat(key)))  # (C calls for the usual page)
    except TypeError:
        return [item.get(key) if type(item) is dict else None for item in items]


def _may_hold_big_int(raw: bytes) -> bool:
    """Whether ``raw`` has a run of 19 or more ASCII digits (True: decode it with json, not orjson).

    Any integer orjson cannot keep exactly (beyond ``[-2**63, 2**64)``) is such a run. One
    ``translate`` and one search, both in C: cheaper than any sampling tried (ids hold digit
    runs of 13 to 18 often enough that checking each hit of a sample in Python costs more).

    >>> _may_hold_big_int(b'{"n":-9223372036854775809}'), _may_hold_big_int(b'{"n":-922337203685477580}')
    (True, False)
    """
    return _RUN_OF_DIGITS in raw.translate(_DIGITS_AS_ZERO)


def _split_items(body: bytes) -> tuple[list[Any], list[str]] | None:
    """``(items, exact_texts)`` of a compact page, by orjson; None: not that shape, or in doubt.

    The page must be ``{"items":[`` + items + ``]}`` (then optional whitespace), each item an
    object. It is cut at each ``},{`` and each piece decoded alone by ``orjson.loads``: a piece
    from an item's ``{`` that decodes as a whole is exactly that item (a JSON object ends where
    it closes, whatever follows), and the next item starts after the ``,``; a cut inside an item
    (``},{`` in a nested array or a string) leaves a piece that does not decode, so it is joined
    to the next one. Pieces that all decode, joined by commas, are a valid array, so the page is
    valid JSON. Anything else (whitespace between items, a piece orjson rejects such as NaN or a
    lone surrogate, bytes that are not UTF-8, many joins) gives None: the caller then uses the
    stdlib walk, which decides and raises as before. Integers beyond 64 bits come out as floats
    (the caller checks ``_may_hold_big_int`` when the items matter).
    """
    cut = _cut(body, keep=True)
    return None if cut is None else (cut[0], cut[1])


def _cut(body: bytes, *, keep: bool) -> tuple[list[Any], list[Any], dict[str, list[Any]]] | None:
    """``(items, texts, columns)`` as :func:`_split_items` finds them (``columns``: empty).

    ``keep=False`` (a text-only page): each item's dict is dropped as soon as its ``COLUMNS`` are
    taken (``columns``: each field's values), so ``items`` is empty, and the texts are UTF-8
    bytes, not str. Dicts that die at once never trigger a collection; kept for the page, they
    are traversed by the cyclic GC (about a third of a raw export's CPU when they were).
    """
    if not body.startswith(_HEAD):
        return None
    end = len(body.rstrip(b" \t\n\r")) - 2  # index of the "]" closing the array
    start = len(_HEAD)
    items: list[Any] = []
    # One list per field of COLUMNS, filled by one statement each below (no loop, no tuple per
    # item: the loop runs once per event).
    id_key, created_key, resource_key, type_key = COLUMNS
    ids: list[Any] = []
    created: list[Any] = []
    resources: list[Any] = []
    types: list[Any] = []
    pieces: list[bytes] = []
    if end < start or body[end : end + 2] != b"]}":
        return None
    columns = {} if keep else dict(zip(COLUMNS, (ids, created, resources, types), strict=True))
    if end == start:
        return items, [], columns
    if body[start] != 0x7B or body[end - 1] != 0x7D:  # "{" ... "}"
        return None
    loads = _orjson.loads
    error = _orjson.JSONDecodeError
    find = body.find
    add_item = items.append
    add_id = ids.append
    add_created = created.append
    add_resource = resources.append
    add_type = types.append
    add_piece = pieces.append
    pos = start
    while True:
        cut = find(_CUT, pos, end)
        joins = 0
        while True:
            stop = end if cut == -1 else cut + 1
            piece = body[pos:stop]
            try:
                item = loads(piece)  # (an object: the piece starts with "{" and decodes whole)
                break
            except error:
                if cut == -1 or joins == _MAX_JOINS:
                    return None
                joins += 1
                cut = find(_CUT, stop, end)
        if keep:
            add_item(item)
        else:
            get = item.get
            add_id(get(id_key))
            add_created(get(created_key))
            add_resource(get(resource_key))
            add_type(get(type_key))
        add_piece(piece)
        if cut == -1:
            break
        pos = cut + 2
    if not keep:
        # Text-only: the exact UTF-8 bytes stay bytes (orjson has checked them); an event's
        # str is made only if asked for, and a raw export writes these bytes as they are.
        return items, pieces, columns
    try:
        texts = list(map(bytes.decode, pieces))
    except UnicodeDecodeError:  # pragma: no cover - orjson rejects what UTF-8 rejects
        return None
    return items, texts, {}


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
            if key == _ITEMS and idx < len(text) and text[idx] == "[":
                items = []  # a repeated key wins, as in json.loads
                idx = _items(text, idx, items)
            else:
                value, idx = _value(text, idx)
                if key == _ITEMS:
                    raise MalformedBodyError(f"{_ITEMS!r} is {_json_type(value)}, not an array")
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
