"""Page text -> items with their exact JSON text."""

from __future__ import annotations

import json
import tracemalloc
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webex_events import Event, WebexEvents, _wire
from webex_events._schedule import REORDER_PAGES_PER_WORKER
from webex_events._wire import MalformedBodyError, decode_object, decode_page
from webex_events.testing import FakeWebex

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)
objects = st.dictionaries(st.text(max_size=8), json_values, max_size=5)


@pytest.fixture(params=["orjson", "stdlib"])
def decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with the optional orjson decoder and without it."""
    if request.param == "stdlib":
        monkeypatch.setattr(_wire, "_orjson", None)
    else:
        pytest.importorskip("orjson")
    return str(request.param)


def decode_both(body: bytes) -> list[tuple[Any, str]]:
    """``(item, exact_text)`` per element, decoded the fast way and the exact way (which agree)."""
    fast = decode_page(body)
    assert fast.texts_ready is None  # nothing walked yet
    exact = decode_page(body, exact=True)
    # (items decoded by orjson may hold floats for big integers: item(i) is the exact one)
    fast_items = [fast.item(i) for i in range(len(fast.items))]
    assert fast_items == [exact.item(i) for i in range(len(exact.items))]
    pairs = [(item, fast.text_of(i)) for i, item in enumerate(fast_items)]
    assert [text for _, text in pairs] == exact.texts_ready
    return pairs


@settings(max_examples=150, deadline=None)
@given(
    items=st.lists(objects, max_size=6),
    other=st.dictionaries(st.sampled_from(["a", "zz", "links"]), json_values, max_size=2),
    indent=st.sampled_from([None, 0, 2]),
    ensure_ascii=st.booleans(),
    items_first=st.booleans(),
    stdlib=st.booleans(),
)
def test_decode_page_matches_json_loads_and_spans(
    items: list[dict[str, Any]],
    other: dict[str, Any],
    indent: int | None,
    ensure_ascii: bool,
    items_first: bool,
    stdlib: bool,
) -> None:
    page = {"items": items, **other} if items_first else {**other, "items": items}
    text = json.dumps(page, indent=indent, ensure_ascii=ensure_ascii)
    saved = _wire._orjson
    try:
        if stdlib:
            _wire._orjson = None
        decoded = decode_both(text.encode("utf-8", "surrogatepass"))
    finally:
        _wire._orjson = saved
    assert [obj for obj, _ in decoded] == json.loads(text)["items"]
    for obj, raw in decoded:
        assert json.loads(raw) == obj
        assert raw in text
        assert raw[0] == "{"
        assert raw[-1] == "}"


def test_exact_text_is_kept_not_redumped(decoder: str) -> None:
    item = '{"id":"é\\u00e9","n":1.50,"created":"2024-01-01T00:00:00.000Z" , "x":[ 1 ,2]}'
    text = '\n{ "items" : [ ' + item + ' ,{"id":"b"}\t] , "next": null }\n'
    (first, raw), (second, raw2) = decode_both(text.encode())
    assert raw == item
    assert first["id"] == "éé"
    assert raw2 == '{"id":"b"}'
    assert second == {"id": "b"}


def test_what_orjson_would_change_is_decoded_as_json_does(decoder: str) -> None:
    # Integers beyond 64 bits (orjson makes floats of them), lone surrogates, NaN, a repeated key.
    body = (
        b'{"items":[{"big":123456789012345678901234567890,"neg":-98765432109876543210},'
        b'{"s":"\\ud800x","f":NaN,"i":-Infinity},{"k":1,"k":2}],"items2":1}'
    )
    pairs = decode_both(body)
    assert [item for item, _ in pairs] == json.loads(body)["items"]
    assert pairs[0][0]["big"] == 123456789012345678901234567890
    assert type(pairs[0][0]["neg"]) is int
    assert pairs[1][0]["s"] == "\ud800x"
    assert pairs[2] == ({"k": 2}, '{"k":1,"k":2}')
    twice = b'{"items":[{"id":"old"}],"items":[{"id":"new"}]}'
    assert decode_both(twice) == [({"id": "new"}, '{"id":"new"}')]
    for exact in (False, True):  # the last key wins, as in json.loads: null is not a page
        with pytest.raises(MalformedBodyError, match="'items' is null"):
            decode_page(b'{"items":[{"id":"old"}],"items":null}', exact=exact)


@pytest.mark.parametrize(
    "text",
    [
        '{"items":[{"id":"a"},{"id":"b"',
        '{"items":[{"id":"a"}',
        '{"items":[{"id":"a"}]',
        '{"items":[{"id":"a"}]}garbage',
        "",
        "[]",
        '{"items":[{"id":"a"},]}',
        '{"items":[{"id":"a"} {"id":"b"}]}',
    ],
)
@pytest.mark.parametrize("exact", [False, True])
def test_truncated_or_invalid_pages_raise(text: str, exact: bool, decoder: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        decode_page(text.encode(), exact=exact)


def test_bytes_that_are_not_utf8_raise(decoder: str) -> None:
    for exact in (False, True):
        with pytest.raises(UnicodeDecodeError):
            decode_page(b'{"items":[{"id":"\xff"}]}', exact=exact)


def test_every_prefix_of_a_page_is_rejected(decoder: str) -> None:
    fake = FakeWebex(events=3, seed=5)
    text = '{"items":[' + ",".join(json.dumps(e, ensure_ascii=False) for e in fake.events) + "]}"
    assert len(decode_both(text.encode())) == 3
    body = text.encode()
    for cut in range(len(body)):
        for exact in (False, True):
            with pytest.raises((json.JSONDecodeError, UnicodeDecodeError)):  # mid-character cut
                decode_page(body[:cut], exact=exact)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"other": 1}', "'items' is missing, not an array"),
        (b"{}", "'items' is missing, not an array"),
        (b'{"items": null}', "'items' is null, not an array"),
        (b'{"items": {"0": {"id": "a"}}}', "'items' is an object, not an array"),
        (b'{"items": "[]"}', "'items' is a string, not an array"),
        (b'{"items":[{"id":"a"},1,"x"]}', "items[1] is a number, not an object"),
        (b'{"items":[{"id":"a"},null]}', "items[1] is null, not an object"),
        (b'{"items":[[{"id":"a"}]]}', "items[0] is an array, not an object"),
    ],
)
def test_a_page_that_is_not_an_array_of_objects_is_malformed(body: bytes, message: str, decoder: str) -> None:
    """Never an empty page: a compliance export must not lose events silently."""
    for exact in (False, True):
        with pytest.raises(MalformedBodyError, match=message.replace("[", r"\[").replace("]", r"\]")):
            decode_page(body, exact=exact)
    assert decode_both(b'{"items":[]}') == []


def test_decode_object() -> None:
    assert decode_object(' {"id": "x"}\n') == ({"id": "x"}, '{"id": "x"}')
    with pytest.raises(json.JSONDecodeError):
        decode_object('{"id": "x"')
    with pytest.raises(MalformedBodyError, match="the body is an array, not an object"):
        decode_object("[1]")


def test_event_from_raw_json() -> None:
    event = Event(
        raw_json=' {"id":"E","resource":"brandNew","type":"created","created":"2024-01-01T00:00:00.000Z"}'
    )
    assert event.id == "E"
    assert event.resource == "brandNew"
    assert event.raw_json.startswith("{")


def test_raw_json_is_byte_exact_against_the_fake() -> None:
    fake = FakeWebex(events=300, seed=11, unknown_fraction=0.3)
    with WebexEvents(token=fake.token, transport=fake.transport()) as client:
        events = list(client.list_events(page_size=64))
    assert len(events) == 300
    for event in events:
        assert event.raw_json.encode("utf-8") == fake.event_json(event.id)
    # The fake serves ensure_ascii=False: re-dumping with json.dumps would not match these.
    assert any(not event.raw_json.isascii() for event in events)


@pytest.mark.parametrize("concurrency", [1, 3])
def test_pages_are_walked_only_once_someone_reads_raw_json(
    decoder: str, concurrency: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    walks: list[int] = []
    walk = _wire._walk_page
    monkeypatch.setattr(_wire, "_walk_page", lambda text: walks.append(len(text)) or walk(text))
    split = _wire._split_items  # the orjson walk of compact pages (None: the stdlib walk follows)
    monkeypatch.setattr(
        _wire, "_split_items", lambda body: (r := split(body), r is None or walks.append(len(body)))[0]
    )
    loads: list[int] = []
    fast = _wire._loads
    monkeypatch.setattr(_wire, "_loads", lambda body: loads.append(len(body)) or fast(body))
    cuts: list[bool] = []  # text-only pages (orjson): cut once, no dicts kept
    cut = _wire._cut
    monkeypatch.setattr(_wire, "_cut", lambda body, *, keep: cuts.append(keep) or cut(body, keep=keep))
    leans: list[int] = []  # lean pages (orjson): the columns only, no text cut, no dicts kept
    lean = _wire._lean
    monkeypatch.setattr(_wire, "_lean", lambda body, demand: leans.append(len(body)) or lean(body, demand))
    fake = FakeWebex(events=400, seed=12)
    window = timedelta(days=3) if concurrency > 1 else None
    with WebexEvents(token=fake.token, transport=fake.transport()) as client:
        kw: dict[str, Any] = {"from_": fake.start, "to": fake.end, "window": window}
        typed = client.list_events(page_size=50, concurrency=concurrency, **kw)
        assert sorted(e.raw["id"] for e in typed) == sorted(fake.expected_ids())
        assert walks == []  # the typed path never needs the exact texts
        pages = fake.stats.pages
        assert cuts == []  # nor cut
        if decoder == "orjson":
            # Lean until the first decoded field is read (the pages decoded by then: in flight
            # and in the reorder buffer), then the fast way; a lean page is decoded whole once
            # more when its first event is asked for a decoded field, never per event.
            assert 1 <= len(leans) <= (REORDER_PAGES_PER_WORKER + 1) * concurrency
        else:
            assert leans == []
        assert len(loads) == pages
        del loads[:], cuts[:], leans[:]
        exported = [e.raw_json for e in client.list_events(page_size=50, concurrency=concurrency, **kw)]
    assert sorted(t.encode() for t in exported) == sorted(fake.event_json(i) for i in fake.expected_ids())
    if decoder == "orjson":
        # Every page cut once, without dicts (the lean ones decoded before the first raw_json
        # read: when it was read), and neither decoded whole nor walked.
        assert (cuts, walks, loads) == ([False] * (fake.stats.pages - pages), [], [])
        assert 1 <= len(leans) <= (REORDER_PAGES_PER_WORKER + 1) * concurrency
        return
    # No page is walked twice: lazily for the pages decoded before the first raw_json read,
    # then straight away (the listing switches to the exact way).
    assert 0 < len(walks) <= fake.stats.pages // 2
    # Only the pages decoded before the first read took the fast way.
    assert 1 <= len(loads) < fake.stats.pages // 2
    if concurrency == 1:
        assert len(loads) == 1


def test_a_raw_export_keeps_texts_not_dicts_and_fields_still_work(decoder: str) -> None:
    fake = FakeWebex(events=3000, seed=4, unknown_fraction=0.2)

    def listing(client: WebexEvents) -> Any:
        return client.list_events(page_size=200)

    with WebexEvents(token=fake.token, transport=fake.transport()) as client:
        tracemalloc.start()
        typed = [(e, e.actor_id) for e in listing(client)]  # (a decoded field: the dicts are kept)
        typed_bytes = tracemalloc.get_traced_memory()[0]
        del typed
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        exported = [(e, e.raw_json) for e in listing(client)]
        raw_bytes = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
        # Texts only (after the first page): well under the dicts' footprint.
        assert raw_bytes < 0.6 * typed_bytes, (raw_bytes, typed_bytes)
        assert [text.encode() for _, text in exported] == [fake.event_json(i) for i in fake.expected_ids()]
        # Fields of a text-only event are decoded again on demand, exactly.
        for event, text in exported[::97]:
            assert event.raw == json.loads(text)
            assert event.id == json.loads(text)["id"]
            assert event.model.to_dict() == json.loads(text)
        # A consumer that reads both: correct throughout (the listing keeps dicts from then on).
        both = [(e.raw_json, e.raw) for e in listing(client)]
    assert all(json.loads(text) == raw for text, raw in both)


def test_a_typed_listing_keeps_no_dicts_until_a_field_beyond_the_columns_is_read(decoder: str) -> None:
    # id, created, resource and type come from the page's columns (COLUMNS): with orjson the
    # listing holds only each event's text, as a raw export does; actor_id (any other decoded
    # field) makes the listing keep the dicts of its next pages.
    fake = FakeWebex(events=3000, seed=5, unknown_fraction=0.2)

    def held(read: Any) -> tuple[list[Any], int]:
        with WebexEvents(token=fake.token, transport=fake.transport()) as client:
            tracemalloc.start()
            rows = [(e, *read(e)) for e in client.list_events(page_size=200)]
            size = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
        return rows, size

    held(lambda e: ())  # (the fake's own caches, out of the figures)
    kinds, lean = held(lambda e: (e.id, e.resource, e.type, e.created))
    decoded, dicts = held(lambda e: (e.actor_id,))
    if decoder == "orjson":
        assert lean < 0.6 * dicts, (lean, dicts)
    else:
        assert lean > 0.6 * dicts, (lean, dicts)  # (without orjson every page keeps its dicts)
    # The same values either way, unknown resources and types as the strings sent.
    for (event, *got), (other, _) in zip(kinds, decoded, strict=True):
        raw = json.loads(event.raw_json)
        assert got == [other.id, other.resource, other.type, other.created]
        assert [str(getattr(v, "value", v)) for v in got[:3]] == [raw["id"], raw["resource"], raw["type"]]
    assert any(type(e.resource) is str for e, *_ in kinds)
    assert any(type(e.type) is str for e, *_ in kinds)
