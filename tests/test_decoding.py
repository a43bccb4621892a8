"""A page's bytes -> events: exact texts and values, typed errors, the range filter, JSONL lines.

Through the public client against a List Events served by ``httpx.MockTransport`` (``Served``),
with orjson (the ``fast`` extra) and without it: both decoders must give the same events.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from unittest import mock

import httpx
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from webex_events import (
    Event,
    EventType,
    MalformedResponseError,
    RetryPolicy,
    WebexConnectionError,
    WebexError,
    WebexEvents,
    _wire,  # (which decoder: orjson or json)
)
from webex_events.cli._export import _render
from webex_events.testing import FakeWebex

TOKEN = "decoding-T0KEN-5a8e1f"
FAST = RetryPolicy(backoff_base=0.0001, backoff_cap=0.0002, max_attempts=2, seed=0)
CREATED = "2024-01-02T03:04:05.678Z"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Served:
    """List Events answering every request with ``body`` (``requests``: how many it answered)."""

    def __init__(self, body: bytes = b"") -> None:
        self.body = body
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return httpx.Response(200, content=self.body, headers={"content-type": "application/json"})


def list_events(server: Served, **kwargs: Any) -> list[Event]:
    with WebexEvents(token=TOKEN, transport=httpx.MockTransport(server), retry=FAST) as client:
        return list(client.list_events(**kwargs))


@contextmanager
def decoding(with_orjson: bool) -> Iterator[None]:
    """Pages decoded with orjson (if installed) or by json alone, as without the ``fast`` extra."""
    with mock.patch.object(_wire, "_orjson", _wire._orjson if with_orjson else None):
        yield


@pytest.fixture(params=[True, False], ids=["orjson", "json"])
def decoder(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.param:
        pytest.importorskip("orjson")
    with decoding(request.param):
        yield


def same(a: Any, b: Any) -> bool:
    """Equal with the same JSON types and key order all the way down (1 is not 1.0, nor -0.0 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, float):
        return repr(a) == repr(b)  # (-0.0, nan)
    return bool(a == b)


# ---- raw_json is what the server sent, raw its exact value ---------------------------------------

# Strings like the structure around items, escapes, 2-4 byte characters, runs of digits.
strings = st.text(max_size=6) | st.sampled_from(
    ["},{", '"},{"', "]}", "\\", '"', "\x00", "é", "\u2028", "日本", "\U0001f600", "items", "0" * 19]
)
numbers = (
    st.integers(min_value=-(10**30), max_value=10**30)
    | st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1])
    | st.floats(allow_nan=False, allow_infinity=False)
)
values = st.recursive(
    st.none() | st.booleans() | numbers | strings,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(strings, inner, max_size=3),
    max_leaves=10,
)
whitespace = st.text(alphabet=" \t\r\n", max_size=2)


@st.composite
def pages(draw: st.DrawFn) -> tuple[bytes, list[str]]:
    """A page body and the exact text of each item: any spelling, whitespace, members around items."""
    ensure_ascii = draw(st.booleans())
    spelling: dict[str, Any] = {
        "ensure_ascii": ensure_ascii,
        "indent": draw(st.sampled_from([None, 0, 2])),
        "separators": draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,", " : ")])),
    }
    texts = []
    for item in draw(st.lists(st.dictionaries(strings, values, max_size=5), max_size=6)):
        item["created"] = CREATED  # (in range: every item is listed)
        texts.append(json.dumps(item, **spelling))
    array = "[" + draw(whitespace)
    for n, text in enumerate(texts):
        array += text + ("" if n == len(texts) - 1 else draw(whitespace) + "," + draw(whitespace))
    array += draw(whitespace) + "]"
    # Other members before or after items; their values may hold "items" and arrays of objects.
    others = draw(st.dictionaries(st.sampled_from(["links", "meta", "a"]), values, max_size=2))
    members = [
        f"{json.dumps(key)}:{json.dumps(value, ensure_ascii=ensure_ascii)}" for key, value in others.items()
    ]
    members.insert(draw(st.integers(0, len(members))), f'"items"{draw(whitespace)}:{draw(whitespace)}{array}')
    comma = draw(whitespace) + "," + draw(whitespace)
    body = draw(whitespace) + "{" + draw(whitespace) + comma.join(members) + draw(whitespace) + "}"
    return body.encode("utf-8"), texts


@settings(max_examples=250)
@given(page=pages(), with_orjson=st.booleans())
def test_raw_json_is_the_exact_text_sent_and_raw_its_exact_value(
    page: tuple[bytes, list[str]], with_orjson: bool
) -> None:
    body, texts = page
    with decoding(with_orjson):
        events = list_events(Served(body))
    assert [event.raw_json for event in events] == texts
    for event, text in zip(events, texts, strict=True):
        assert same(event.raw, json.loads(text))


@pytest.mark.parametrize(
    ("body", "texts"),
    [
        pytest.param(
            '{"items":[{"big":123456789012345678901234567890, "neg":-98765432109876543210,'
            '"u64":18446744073709551615,"i64":-9223372036854775808,"below":-9223372036854775809}]}',
            [
                '{"big":123456789012345678901234567890, "neg":-98765432109876543210,'
                '"u64":18446744073709551615,"i64":-9223372036854775808,"below":-9223372036854775809}'
            ],
            id="integers-beyond-64-bits",
        ),
        pytest.param(
            '{"items":[{"one":1,"onef":1.0,"f":1.50,"e":1E2,"z":-0,"zf":-0.0,"i":999999999999999999}]}',
            ['{"one":1,"onef":1.0,"f":1.50,"e":1E2,"z":-0,"zf":-0.0,"i":999999999999999999}'],
            id="other-numbers",
        ),
        pytest.param(
            r'{"items":[{"esc":"\u00e9\/\ud83d\ude00","lone":"\ud800x","nl":"a\nb"},'
            '{"raw":"é☃😀"}]}',
            [r'{"esc":"\u00e9\/\ud83d\ude00","lone":"\ud800x","nl":"a\nb"}', '{"raw":"é☃😀"}'],
            id="escapes-and-characters",
        ),
        pytest.param(
            '{"items":[{"nan":NaN,"inf":-Infinity,"huge":1e400},{"k":1,"k":2}]}',
            ['{"nan":NaN,"inf":-Infinity,"huge":1e400}', '{"k":1,"k":2}'],
            id="constants-and-a-repeated-key",
        ),
        pytest.param(
            '{"items":[{"id":"old"}],"items":[{"id":"new"}]}',
            ['{"id":"new"}'],
            id="items-twice-the-last-wins",
        ),
        pytest.param(
            '{"meta":{"items":[{"id":"inner"}]},"items":[{"id":"outer"}],"after":[{"items":[{}]}]}',
            ['{"id":"outer"}'],
            id="items-inside-other-members",
        ),
        pytest.param(r'{"\u0069tems":[{"id":"a"}]}', ['{"id":"a"}'], id="an-escaped-items-key"),
        pytest.param(
            '\r\n { "items" :\t[ {"id" : "a"} ,\n{ }\t] , "n" : null } \n',
            ['{"id" : "a"}', "{ }"],
            id="whitespace-everywhere",
        ),
    ],
)
@pytest.mark.usefixtures("decoder")
def test_what_a_decoder_could_change_is_kept_exact(body: str, texts: list[str]) -> None:
    """Big integers (orjson makes floats of them), 1.0 vs 1, -0, escapes, NaN, repeated keys..."""
    events = list_events(Served(body.encode("utf-8")))
    assert [event.raw_json for event in events] == texts
    for event, text in zip(events, texts, strict=True):
        assert same(event.raw, json.loads(text))  # the stdlib's exact value


def test_a_repeated_items_key_whose_first_value_is_not_an_array_keeps_exact_texts() -> None:
    events = list_events(Served(b'{"items":null,"items":[{"id":"a"},{"id":"b"}]}'))
    assert [event.id for event in events] == ["a", "b"]
    assert _render(events, "jsonl") == b'{"id":"a"}\n{"id":"b"}\n'
    assert [event.raw_json for event in events] == ['{"id":"a"}', '{"id":"b"}']


def test_a_page_is_walked_once_and_only_if_raw_json_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """The exact texts come from one walk of the page when first asked, not one per event."""
    walks: list[int] = []
    walk = _wire._item_texts

    def counted(text: str) -> list[str]:
        walks.append(len(text))
        return walk(text)

    monkeypatch.setattr(_wire, "_item_texts", counted)
    fake = FakeWebex(events=120, seed=3, token=TOKEN)
    with fake.serve() as base_url, WebexEvents(token=TOKEN, base_url=base_url, retry=FAST) as client:
        stream = client.list_events(page_size=40)
        typed = [(event.id, event.created, event.actor_id, event.model) for event in stream]
        assert walks == []
        texts = [(event.raw_json, event.raw_json) for event in stream]  # (read twice: one walk)
    assert len(typed) == 120
    assert len(walks) == stream.stats.pages == 3
    # Over a real socket (the body read in pieces), byte for byte what the fake served.
    assert [first.encode() for first, _ in texts] == [fake.event_json(i) for i in fake.expected_ids()]


def test_an_event_from_raw_json_keeps_its_text_and_exact_values() -> None:
    text = (
        '{"id" : "E","resource":"brandNew","type":"created","n":123456789012345678901234567890,"s":"\\u00e9"}'
    )
    event = Event(raw_json=f" \n{text}\t\r\n")
    assert event.raw_json == text  # only the whitespace around the object is dropped
    assert same(event.raw, json.loads(text))
    assert event.resource == "brandNew"  # unknown: the string sent
    assert event.type is EventType.CREATED
    with pytest.raises(ValueError, match="the body is an array, not an object"):
        Event(raw_json="[1]")
    with pytest.raises(json.JSONDecodeError):
        Event(raw_json='{"id":"E"')


# ---- typed errors: never a shorter or empty page -------------------------------------------------

PAGE = (
    '{"items":[{"id":"a","created":"2024-01-02T03:04:05.678Z","n":-9223372036854775809,'
    '"l":[{"x":1},{"y":"},{"}],"s":"caf\u00e9 \u2603 \U0001f600"},'
    '{"id":"b","created":"2024-01-02T03:04:05.677Z"},{"id":"c","created":"2024-01-02T03:04:05.676Z"}]}'
)


@pytest.mark.usefixtures("decoder")
def test_a_page_cut_short_anywhere_is_retried_then_raised() -> None:
    body = PAGE.encode("utf-8")
    assert [event.id for event in list_events(Served(body))] == ["a", "b", "c"]
    server = Served()
    with WebexEvents(token=TOKEN, transport=httpx.MockTransport(server), retry=FAST) as client:
        for cut in range(len(body)):  # (mid-character cuts too: not UTF-8)
            server.body, server.requests = body[:cut], 0
            with pytest.raises(WebexConnectionError, match="undecodable body"):
                list(client.list_events())
            assert server.requests == FAST.max_attempts, cut


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"items":[{"id":"a"}]}garbage', id="trailing-garbage"),
        pytest.param(b'{"items":[{"id":"a"},]}', id="trailing-comma"),
        pytest.param(b'{"items":[{"id":"a"} {"id":"b"}]}', id="missing-comma"),
        pytest.param(b'{"items":[{"id":"\xff"}]}', id="not-utf8"),
        pytest.param(b'{"items":[{"id":"caf\xe9"}]}', id="latin-1"),
        pytest.param(b'{"items":[{"id":"\xed\xa0\x80"}]}', id="an-encoded-lone-surrogate"),
    ],
)
@pytest.mark.usefixtures("decoder")
def test_a_page_that_is_not_json_in_utf8_is_retried_then_raised(body: bytes) -> None:
    server = Served(body)
    with pytest.raises(WebexConnectionError, match="undecodable body"):
        list_events(server)
    assert server.requests == FAST.max_attempts


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "the page is an array, not an object"),
        (b'"items"', "the page is a string, not an object"),
        (b"null", "the page is null, not an object"),
        (b'{"items":"[]"}', "'items' is a string, not an array"),
        (b'{"items":true}', "'items' is a boolean, not an array"),
        (b'{"items":[{"id":"a"}],"items":null}', "'items' is null, not an array"),  # the last one counts
        (b'{"items":[{"id":"a"},null]}', r"items\[1\] is null, not an object"),
        (b'{"items":[[{"id":"a"}]]}', r"items\[0\] is an array, not an object"),
        (b'{"items":[{"id":"a"},"x"]}', r"items\[1\] is a string, not an object"),
        (b'{"items":[{"id":"a"},123456789012345678901234]}', r"items\[1\] is a number, not an object"),
    ],
)
def test_a_page_of_the_wrong_shape_is_retried_then_raised(body: bytes, message: str) -> None:
    """Never an empty page: a compliance export must not lose events silently."""
    server = Served(body)
    with pytest.raises(MalformedResponseError, match=message):
        list_events(server)
    assert server.requests == FAST.max_attempts


def test_a_page_nested_too_deep_to_decode_is_a_typed_error() -> None:
    body = b'{"items":[{"deep":' + b"[" * 20_000 + b"]" * 20_000 + b"}]}"
    with pytest.raises(WebexError):
        list_events(Served(body))


# ---- typed access and created ---------------------------------------------------------------------


@pytest.mark.usefixtures("decoder")
def test_accessors_keep_values_of_unexpected_types() -> None:
    body = (
        b'{"items":[{"id":123456789012345678901234567890,"resource":["x"],"type":"brandNew",'
        b'"created":"2024-01-02T04:04:05.678+01:00"},{"id":5,"resource":"messages","created":7}]}'
    )
    first, second = list_events(Served(body))
    assert first.id == "123456789012345678901234567890"  # every digit: never read as a float
    assert first.resource == "['x']"
    assert first.type == "brandNew"
    assert first.created_raw == "2024-01-02T04:04:05.678+01:00"
    assert first.created == datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert first.created.tzinfo is UTC
    assert second.id == "5"
    assert second.resource.value == "messages"  # type: ignore[union-attr]
    assert second.created_raw == "7"
    with pytest.raises(ValueError, match="unparsable created value '7'"):
        _ = second.created


@pytest.mark.usefixtures("decoder")
def test_an_unparsable_created_is_kept_and_logged_as_sent(caplog: pytest.LogCaptureFixture) -> None:
    body = (
        b'{"items":[{"id":"a","created":123456789012345678901234},{"id":"b","created":"x"},'
        b'{"id":"c"},{"id":"d","created":["2024-01-02T03:04:05.678Z"]}]}'
    )
    with caplog.at_level(logging.WARNING, logger="webex_events"):
        events = list_events(
            Served(body), from_="2024-01-01T00:00:00Z", to="2024-01-03T00:00:00Z", concurrency=1
        )
    assert [event.id for event in events] == ["a", "b", "c", "d"]  # never dropped
    assert events[0].created_raw == "123456789012345678901234"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    where = (
        "of a page of [2024-01-01T00:00:00.000Z, 2024-01-03T00:00:00.000Z)) has an unreadable created value"
    )
    assert warnings == [
        f"event 'a' (item 0 {where} 123456789012345678901234; delivered",
        f"event 'b' (item 1 {where} 'x'; delivered",
        f"event 'c' (item 2 {where} None; delivered",
        f"event 'd' (item 3 {where} ['2024-01-02T03:04:05.678Z']; delivered",
    ]


# ---- the range filter: from_ <= created < to, whatever the form of created ------------------------

BASE_US = 1_700_000_000_000_000  # 2023-11-14T22:13:20Z
FORMS = {
    "canonical": lambda dt: f"{dt:%Y-%m-%dT%H:%M:%S}.{dt.microsecond // 1000:03d}Z",
    "+00:00": lambda dt: dt.isoformat(timespec="milliseconds"),
    "+01:00": lambda dt: dt.astimezone(timezone(timedelta(hours=1))).isoformat(timespec="milliseconds"),
    "-05:30": lambda dt: dt.astimezone(timezone(-timedelta(hours=5, minutes=30))).isoformat(),
    "microseconds": lambda dt: dt.isoformat(timespec="microseconds").replace("+00:00", "Z"),
    "no-fraction": lambda dt: f"{dt:%Y-%m-%dT%H:%M:%S}Z",
    "space": lambda dt: dt.isoformat(sep=" ", timespec="milliseconds"),
    "naive": lambda dt: dt.replace(tzinfo=None).isoformat(timespec="milliseconds"),
}
MISSING = object()
created_values = st.one_of(
    st.builds(
        lambda us, form: FORMS[form](EPOCH + timedelta(microseconds=BASE_US + us)),
        st.integers(min_value=-4000, max_value=4000) | st.sampled_from([-1000, 0, 1000, 2000]),
        st.sampled_from(sorted(FORMS)),
    ),
    st.sampled_from(["garbage", "", "2023-11-14T22:13:20.000Z ", "2023-13-14T22:13:20.000+00:00"]),
    st.none() | st.integers() | st.just(MISSING),
)


def kept(created: object, lo_us: int | None, hi_us: int) -> bool:
    """The reference: an instant in ``[lo, hi)``; what cannot be read as one is kept."""
    if not isinstance(created, str):
        return True
    try:
        dt = datetime.fromisoformat(created)
    except ValueError:
        return True
    us = ((dt if dt.tzinfo else dt.replace(tzinfo=UTC)) - EPOCH) // timedelta(microseconds=1)
    return (lo_us is None or lo_us <= us) and us < hi_us


@settings(max_examples=300)
@given(
    created=st.lists(created_values, max_size=8),
    lo=st.none() | st.integers(min_value=-3, max_value=3),
    hi=st.integers(min_value=-3, max_value=4),
)
@example(  # each bound, to the millisecond, canonical and not: from_ is in, to is out
    created=[
        "2023-11-14T22:13:20.000Z",
        "2023-11-14T22:13:20.001Z",
        "2023-11-14T22:13:19.999Z",
        "2023-11-14T23:13:20.000+01:00",
        "2023-11-14T22:13:20.001+00:00",
        "2023-11-14T22:13:19.999999Z",
        "2023-11-14T22:13:20.000999Z",
        "2023-11-14 22:13:20.0005",
    ],
    lo=0,
    hi=1,
)
def test_the_range_is_exact_for_any_form_of_created(created: list[object], lo: int | None, hi: int) -> None:
    lo_us = None if lo is None else BASE_US + lo * 1000
    hi_us = BASE_US + hi * 1000
    assume(lo_us is None or lo_us < hi_us)
    items = [{"id": str(n)} if c is MISSING else {"id": str(n), "created": c} for n, c in enumerate(created)]
    events = list_events(
        Served(json.dumps({"items": items}).encode()),
        from_=None if lo_us is None else EPOCH + timedelta(microseconds=lo_us),
        to=EPOCH + timedelta(microseconds=hi_us),
        concurrency=1,
    )
    assert [event.id for event in events] == [
        item["id"] for item in items if kept(item.get("created"), lo_us, hi_us)
    ]


# ---- the JSONL lines of an export -------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r", "\r\n"])
def test_jsonl_lines_are_the_exact_texts_one_per_line(newline: str) -> None:
    texts = [
        f'{{"id":"a","created":"{CREATED}","data":{{"text":"plain"}}}}',
        f'{{"id":"b","created":"{CREATED}","data":{{"text":"caf\u00e9 \u2603 \U0001f600"}}}}',  # 2-4 bytes
        f'{{"id":"c",{newline}"created":"{CREATED}",{newline}"data":{{}}}}',  # raw CR/LF between members
        f'{{"id":"d","created":"{CREATED}","data":{{"text":"a\\nb\\r"}}}}',  # escaped: stays as it is
    ]
    # A raw CR or LF can only be insignificant whitespace: a space keeps the value, on one line.
    expected = "".join(text.replace("\r", " ").replace("\n", " ") + "\n" for text in texts).encode()
    listed = list_events(Served(('{"items":[' + ",".join(texts) + "]}").encode()))
    for events in (listed, [Event(raw_json=text) for text in texts]):
        assert _render(events, "jsonl") == expected
        assert [json.loads(line) for line in expected.splitlines()] == [event.raw for event in events]
    assert _render([], "jsonl") == b""
