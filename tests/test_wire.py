"""Page text -> items with their exact JSON text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webex_events import Event, WebexEvents
from webex_events._wire import decode_object, decode_page
from webex_events.testing import FakeWebex

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)
objects = st.dictionaries(st.text(max_size=8), json_values, max_size=5)


@settings(max_examples=150, deadline=None)
@given(
    items=st.lists(objects, max_size=6),
    other=st.dictionaries(st.sampled_from(["a", "zz", "links"]), json_values, max_size=2),
    indent=st.sampled_from([None, 0, 2]),
    ensure_ascii=st.booleans(),
    items_first=st.booleans(),
)
def test_decode_page_matches_json_loads_and_spans(
    items: list[dict[str, Any]],
    other: dict[str, Any],
    indent: int | None,
    ensure_ascii: bool,
    items_first: bool,
) -> None:
    page = {"items": items, **other} if items_first else {**other, "items": items}
    text = json.dumps(page, indent=indent, ensure_ascii=ensure_ascii)
    decoded = decode_page(text)
    assert [obj for obj, _ in decoded] == json.loads(text)["items"]
    for obj, raw in decoded:
        assert json.loads(raw) == obj
        assert raw in text
        assert raw[0] == "{"
        assert raw[-1] == "}"


def test_exact_text_is_kept_not_redumped() -> None:
    item = '{"id":"é\\u00e9","n":1.50,"created":"2024-01-01T00:00:00.000Z" , "x":[ 1 ,2]}'
    text = '\n{ "items" : [ ' + item + ' ,{"id":"b"}\t] , "next": null }\n'
    (first, raw), (second, raw2) = decode_page(text)
    assert raw == item
    assert first["id"] == "éé"
    assert raw2 == '{"id":"b"}'
    assert second == {"id": "b"}


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
def test_truncated_or_invalid_pages_raise(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        decode_page(text)


def test_every_prefix_of_a_page_is_rejected() -> None:
    fake = FakeWebex(events=3, seed=5)
    text = '{"items":[' + ",".join(json.dumps(e, ensure_ascii=False) for e in fake.events) + "]}"
    assert len(decode_page(text)) == 3
    for cut in range(len(text)):
        with pytest.raises(json.JSONDecodeError):
            decode_page(text[:cut])


def test_page_without_items_and_non_object_items() -> None:
    assert decode_page('{"other": 1}') == []
    assert decode_page("{}") == []
    assert decode_page('{"items":[1,"x",{"id":"a"}]}') == [({"id": "a"}, '{"id":"a"}')]


def test_decode_object() -> None:
    assert decode_object(' {"id": "x"}\n') == ({"id": "x"}, '{"id": "x"}')
    with pytest.raises(json.JSONDecodeError):
        decode_object('{"id": "x"')
    with pytest.raises(json.JSONDecodeError):
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
