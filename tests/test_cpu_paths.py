"""The fast paths of issue 13 (CPU per event) against the slow paths they stand in for."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from webex_events import Event, _wire
from webex_events._dates import format_ms, parse_created
from webex_events._operations import _filter, _in_range
from webex_events._wire import (
    DecodedPage,
    TextDemand,
    _may_hold_big_int,
    _split_items,
    _walk_page,
    decode_page,
)

orjson = pytest.importorskip("orjson")

# Strings that look like the structure _split_items cuts at, escapes, non-ASCII, digits.
tricky_text = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["},{", "}, {", "]}", '"},{"', "\\", "é", "\u2028", "<&=>", "}", "{", "],[", "0" * 19]),
)
big_ints = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.integers(min_value=2**64, max_value=10**30),
    st.integers(min_value=-(10**30), max_value=-(2**63) - 1),
)
leaves = st.none() | st.booleans() | big_ints | st.floats(allow_nan=False, allow_infinity=False) | tricky_text
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(tricky_text, inner, max_size=3),
    max_leaves=8,
)
# Arrays of objects inside items: "},{" inside an item, the case _split_items has to join.
items_st = st.lists(
    st.dictionaries(
        tricky_text,
        values | st.lists(st.dictionaries(tricky_text, values, max_size=2), max_size=3),
        max_size=5,
    ),
    max_size=8,
)


def _kept(page: DecodedPage, *args: Any, **kwargs: Any) -> list[Event]:
    """``_in_range``'s events, made as the consumer makes them (``PageEvents.make``)."""
    return _in_range(page, *args, **kwargs).make()


def _dumps_item(item: dict[str, Any], ensure_ascii: bool, spaced: bool) -> str:
    seps = (", ", ": ") if spaced else (",", ":")
    return json.dumps(item, ensure_ascii=ensure_ascii, separators=seps)


def _page(texts: list[str], *, between: str = ",", head: str = '{"items":[', tail: str = "]}") -> bytes:
    return (head + between.join(texts) + tail).encode("utf-8")


def _exact_items(page: DecodedPage) -> list[Any]:
    return [page.item(i) for i in range(len(page.items))]


def _reference(body: bytes) -> tuple[list[Any], list[str]]:
    """The stdlib walk: items exactly as json decodes them, and their exact texts."""
    pairs = _walk_page(body.decode("utf-8"))
    assert pairs is not None
    return [item for item, _ in pairs], [text for _, text in pairs]


@settings(max_examples=150, deadline=None)
@given(
    items=items_st,
    ensure_ascii=st.booleans(),
    spaced=st.booleans(),
    trailing=st.sampled_from(["", "\n", " \r\n"]),
)
def test_split_items_matches_the_stdlib_walk(
    items: list[dict[str, Any]], ensure_ascii: bool, spaced: bool, trailing: str
) -> None:
    texts = [_dumps_item(item, ensure_ascii, spaced) for item in items]
    body = _page(texts, tail="]}" + trailing)
    ref_items, ref_texts = _reference(body)
    split = _split_items(body)
    # A compact page head and "," between items: the fast walk applies (unless an item needs
    # more than _MAX_JOINS joins).
    if split is None:
        assert max(text.count("},{") for text in texts) > _wire._MAX_JOINS
        return
    got_items, got_texts = split
    assert got_texts == ref_texts == texts
    if not _may_hold_big_int(body):
        assert got_items == ref_items
    # What the listing uses: exact items whatever orjson does with big integers.
    page = decode_page(body, exact=True)
    assert _exact_items(page) == ref_items == json.loads(body)["items"]
    assert page.texts_ready == texts
    lazy = decode_page(body)
    assert [lazy.text_of(i) for i in range(len(items))] == texts
    assert _exact_items(lazy) == ref_items


@settings(max_examples=200, deadline=None)
@given(
    items=items_st.filter(bool),
    between=st.sampled_from([", ", " ,", ",\n", "\t,"]),
    head=st.sampled_from(['{"items":[ ', '{ "items":[', '{"items" : [', '{"x":1,"items":[']),
    tail=st.sampled_from(["]}", " ]}", '],"y":[{}]}']),
)
def test_pages_the_fast_walk_does_not_take_still_decode_exactly(
    items: list[dict[str, Any]], between: str, head: str, tail: str
) -> None:
    texts = [_dumps_item(item, False, False) for item in items]
    body = _page(texts, between=between, head=head, tail=tail)
    ref_items, ref_texts = _reference(body)
    split = _split_items(body)
    if split is not None:  # only if its answer is right (a head it knows, no gaps)
        assert split[1] == ref_texts
    page = decode_page(body, exact=True)
    assert _exact_items(page) == ref_items
    assert page.texts_ready == ref_texts == texts


def test_nested_cuts_are_joined_and_many_go_to_the_stdlib_walk() -> None:
    nested = {"id": "n", "data": {"list": [{"a": i} for i in range(20)]}}
    texts = [json.dumps(nested, separators=(",", ":")), '{"id":"x"}']
    body = _page(texts)
    assert _split_items(body) is None  # 19 cuts inside one item: more than _MAX_JOINS
    few = [json.dumps({"l": [{}, {}, {}]}, separators=(",", ":")), '{"b":"},{"}', "{}"]
    split = _split_items(_page(few))
    assert split is not None
    assert split[1] == few
    page = decode_page(body, exact=True)
    assert page.texts_ready == texts
    assert _exact_items(page) == [nested, {"id": "x"}]


@pytest.mark.parametrize(
    "body",
    [
        b'{"items":[{"a":NaN},{"b":1}]}',
        b'{"items":[{"s":"\\ud800"},{"b":1}]}',
        b'{"items":[{"a":1},{"b":1}],"items":[{"c":1}]}',
        b'{"items":[{"a":1} ,{"b":1}]}',
        b'{"items":[{"a":1},]}',
        b'{"items":[{"a":1}{"b":1}]}',
        b'{"items":[{"a":1},{"b":1}]}x',
        b'{"items":[1,{"b":1}]}',
        b'{"items":[{"a":1},2]}',
        b'{"items":[{"a":"\xff"}]}',
    ],
)
def test_split_items_leaves_what_it_cannot_vouch_for_to_the_stdlib(body: bytes) -> None:
    assert _split_items(body) is None


def test_every_prefix_of_a_compact_page_is_rejected() -> None:
    texts = ['{"id":"a","l":[{"x":1},{"y":"},{"}]}', '{"id":"b","n":-9223372036854775809}', "{}"]
    body = _page(texts)
    assert decode_page(body, exact=True).texts_ready == texts
    for cut in range(len(body)):
        for exact in (False, True):
            with pytest.raises((json.JSONDecodeError, UnicodeDecodeError)):
                decode_page(body[:cut], exact=exact)


@pytest.mark.parametrize("number", [-9223372036854775809, -(10**19), 2**64, 10**25, -(2**63), 2**64 - 1])
@pytest.mark.parametrize("exact", [False, True])
def test_integers_orjson_cannot_keep_are_exact(number: int, exact: bool) -> None:
    created = '"created":"2024-01-02T03:04:05.678Z"'
    body = b'{"items":[{"id":"a","n":%d,%s},{"id":"b","m":[%d],%s}]}' % (
        number,
        created.encode(),
        number,
        created.encode(),
    )
    expected = json.loads(body)["items"]
    page = decode_page(body, exact=exact)
    assert _exact_items(page) == expected
    assert type(page.item(0)["n"]) is int
    # Events: string fields straight from the page, whole items exact.
    for read_text_first in (False, True):
        events = _kept(decode_page(body, exact=exact), None, "2025-01-01T00:00:00.000Z", None, 0)
        assert [e.id for e in events] == ["a", "b"]
        if read_text_first:
            assert [e.raw_json for e in events] == [json.dumps(i, separators=(",", ":")) for i in expected]
        assert [e.raw for e in events] == expected
        assert type(events[0].raw["n"]) is int
        assert (
            repr(events[0]) == "Event(id='a', resource=None, type=None, created='2024-01-02T03:04:05.678Z')"
        )


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=80) | st.text(alphabet="0123456789a-,:[ ", max_size=80).map(str.encode))
def test_may_hold_big_int_finds_every_run_of_19_digits(raw: bytes) -> None:
    assert _may_hold_big_int(raw) == (re.search(rb"[0-9]{19}", raw) is not None)


# ---- the range filter -----------------------------------------------------------------------------

BASE_MS = 1_700_000_000_000
created_values = st.one_of(
    st.integers(min_value=-5, max_value=5).map(lambda d: format_ms(BASE_MS + d)),
    st.sampled_from(
        [
            "2023-11-14T22:13:20.000+00:00",
            "2023-11-14T22:13:20.001Z ",
            "2023-11-14T22:13:20+0100Z",
            "2023-11-14 22:13:20.002Z",
            "2023-11-14T22:13:20.0000Z",
            "2023-11-14T22:13:20Z",
            "garbage",
            "",
        ]
    ),
    st.none(),
    st.integers(),
)
page_items = st.lists(
    st.one_of(
        st.fixed_dictionaries({"id": st.text(max_size=3)}, optional={"created": created_values}),
        st.sampled_from([1, "x", None, []]),
    ),
    max_size=8,
)


@settings(max_examples=400, deadline=None)
@given(
    items=page_items,
    lo=st.none() | st.integers(min_value=-3, max_value=3),
    hi=st.integers(min_value=-3, max_value=4),
    texts=st.booleans(),
    text_only=st.booleans(),
)
def test_in_range_equals_the_per_item_filter(
    items: list[Any], lo: int | None, hi: int, texts: bool, text_only: bool
) -> None:
    lo_ms = None if lo is None else BASE_MS + lo
    hi_ms = BASE_MS + hi
    assume(lo_ms is None or lo_ms < hi_ms)
    args = (
        None if lo_ms is None else format_ms(lo_ms),
        format_ms(hi_ms),
        None if lo_ms is None else lo_ms * 1000,
        hi_ms * 1000,
    )

    def make() -> DecodedPage:
        demand = TextDemand()
        spans = [json.dumps(item) for item in items] if texts else None
        return DecodedPage(list(items), texts=spans, demand=demand if text_only else None)

    page = make()
    got = _kept(page, *args)
    ref_page = make()
    want = _filter(ref_page, *args)
    assert [(e._raw, e._raw_json, e._index) for e in got] == [(e._raw, e._raw_json, e._index) for e in want]
    # Exact to the millisecond, half-open: every kept canonical created is in [lo, hi).
    for event in got:
        created = items[event._index].get("created")
        if isinstance(created, str) and (dt := parse_created(created)) is not None:
            assert lo_ms is None or dt >= datetime.fromtimestamp(lo_ms / 1000, UTC)
            assert dt < datetime.fromtimestamp(hi_ms / 1000, UTC)


def test_a_full_page_in_range_takes_the_bulk_path() -> None:
    items = [{"id": str(i), "created": format_ms(BASE_MS - i)} for i in range(5)]
    page = DecodedPage(items, texts=[json.dumps(i) for i in items])
    events = _kept(page, format_ms(BASE_MS - 4), format_ms(BASE_MS + 1), None, 0)
    assert [e.id for e in events] == ["0", "1", "2", "3", "4"]
    assert [e.raw_json for e in events] == [json.dumps(i) for i in items]
    # One millisecond less at either end drops exactly one event.
    assert [e.id for e in _kept(page, format_ms(BASE_MS - 3), format_ms(BASE_MS + 1), None, 0)] == list(
        "0123"
    )
    assert [e.id for e in _kept(page, None, format_ms(BASE_MS), None, 0)] == list("1234")


# ---- Event.created ---------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.datetimes(
            min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
        ).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"),
        st.text(alphabet="0123456789-:T.Z+ ", min_size=24, max_size=24),
        st.sampled_from(["2024-01-02T03:04:05.678+01:00", "2024-01-02T03:04:05", "2024-13-02T03:04:05.678Z"]),
    )
)
def test_created_fast_path_equals_parse_created(text: str) -> None:
    event = Event._from_wire({"id": "e", "created": text}, None)
    expected = parse_created(text)
    if expected is None:
        with pytest.raises(ValueError, match="unparsable created"):
            _ = event.created
    else:
        assert event.created == expected
        assert event.created.tzinfo is UTC
        assert event.created.utcoffset() == timedelta(0)


def test_accessors_keep_values_of_unexpected_types() -> None:
    event = Event._from_wire({"id": 5, "resource": ["x"], "created": 7}, None)
    assert event.id == "5"
    assert event.resource == "['x']"
    assert event.created_raw == "7"
    with pytest.raises(ValueError, match="unparsable"):
        _ = event.created
    text_only = Event._from_wire(
        None, '{"id":"t","resource":"messages","created":"2024-01-02T03:04:05.678Z"}'
    )
    assert text_only.id == "t"
    assert text_only.resource.value == "messages"  # type: ignore[union-attr]
    assert text_only.created == datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


@pytest.mark.parametrize("exact", [False, True])
def test_an_unparsable_created_is_kept_and_logged_as_sent(
    exact: bool, caplog: pytest.LogCaptureFixture
) -> None:
    body = b'{"items":[{"id":"a","created":123456789012345678901234},{"id":"b","created":"x"}]}'
    with caplog.at_level("WARNING", logger="webex_events"):
        events = _kept(decode_page(body, exact=exact), None, "2025-01-01T00:00:00.000Z", None, 0)
    assert [e.id for e in events] == ["a", "b"]
    assert events[0].raw["created"] == 123456789012345678901234
    assert events[0].created_raw == "123456789012345678901234"
    assert "123456789012345678901234" in caplog.text
    assert "'x'" in caplog.text


# ---- text-only pages (a raw export): no dicts kept ------------------------------------------------


def _text_only_demand() -> TextDemand:
    demand = TextDemand()
    demand.wanted = True  # raw_json read, no typed field: the next pages are decoded text-only
    return demand


def _as_str(texts: list[str] | list[bytes] | None) -> list[str]:
    """A page's texts as str (a text-only page cut by orjson keeps UTF-8 bytes)."""
    assert texts is not None
    return [t.decode() if isinstance(t, bytes) else t for t in texts]


@settings(max_examples=150, deadline=None)
@given(
    items=items_st,
    ids=st.lists(st.none() | tricky_text | big_ints, max_size=8),
    ensure_ascii=st.booleans(),
    spaced=st.booleans(),
    between=st.sampled_from([",", ",", ", ", "\n,"]),
)
def test_a_text_only_page_matches_the_stdlib_walk(
    items: list[dict[str, Any]], ids: list[Any], ensure_ascii: bool, spaced: bool, between: str
) -> None:
    # Items with and without id/created, of any type (big integers, "},{", escapes, non-ASCII).
    for item, value in zip(items, ids, strict=False):
        item["id"] = value
        item["created"] = value if isinstance(value, int) else format_ms(BASE_MS)
    texts = [_dumps_item(item, ensure_ascii, spaced) for item in items]
    body = _page(texts, between=between)
    ref_items, ref_texts = _reference(body)
    cut = _wire._cut(body, keep=False)
    if cut is not None:
        assert between == "," or len(items) < 2
        got_items, got_texts, columns = cut
        assert got_items == []
        assert all(type(t) is bytes for t in got_texts)  # a text-only page keeps the UTF-8 bytes
        assert [t.decode() for t in got_texts] == ref_texts == texts
        assert list(columns) == list(_wire.COLUMNS)
        for item, got in columns.items():
            want = [i.get(item) for i in ref_items]
            # Strings are exact whoever decoded them; other values are not used as they come.
            assert [v for v in got if type(v) is str] == [v for v in want if type(v) is str]
    page = decode_page(body, exact=True, demand=_text_only_demand())
    assert _as_str(page.texts_ready) == ref_texts
    assert [page.item(i) for i in range(len(ref_items))] == ref_items
    events = _kept(page, None, "2099-01-01T00:00:00.000Z", None, 0)
    assert [e.raw_json for e in events] == texts
    assert [e.id for e in events] == [
        i.get("id", "") if type(i.get("id")) is str else str(i.get("id", "")) for i in ref_items
    ]
    assert [e.created_raw for e in events] == [str(i.get("created", "")) for i in ref_items]
    assert [e.raw for e in events] == ref_items  # exact, big integers included
    assert all(type(e.raw.get("id")) is not float for e in events)


def test_a_raw_export_keeps_no_dicts_until_a_typed_field_is_read() -> None:
    texts = [
        '{"id":"a","created":"2024-01-02T03:04:05.678Z","n":123456789012345678901,"s":"},{\\"é"}',
        '{"id":"b","created":"2024-01-02T03:04:05.677Z","l":[{"x":1},{"y":"日本"}]}',
    ]
    demand = _text_only_demand()
    page = decode_page(_page(texts), exact=True, demand=demand)
    assert page.items == []
    assert page.text_only
    assert page.column("id") == ["a", "b"]
    assert page.created == ["2024-01-02T03:04:05.678Z", "2024-01-02T03:04:05.677Z"]
    events = _kept(page, None, "2025-01-01T00:00:00.000Z", None, 0)
    assert [(e.id, e.created_raw, e.raw_json) for e in events] == [
        ("a", "2024-01-02T03:04:05.678Z", texts[0]),
        ("b", "2024-01-02T03:04:05.677Z", texts[1]),
    ]
    assert events[1].created == datetime(2024, 1, 2, 3, 4, 5, 677000, tzinfo=UTC)
    assert all(e._raw is None for e in events)  # id, created, raw_json: no dict needed
    assert not demand.typed
    assert events[0].raw["n"] == 123456789012345678901  # exact, decoded from the text
    assert demand.typed  # the next pages keep their dicts
    assert decode_page(_page(texts), exact=True, demand=demand).items != []
    # Filtered by the per-item path too (one event out of range).
    page = decode_page(_page(texts), exact=True, demand=_text_only_demand())
    kept = _kept(page, "2024-01-02T03:04:05.678Z", "2025-01-01T00:00:00.000Z", None, 0)
    assert [(e.id, e.raw_json) for e in kept] == [("a", texts[0])]


def test_a_text_only_page_logs_an_unparsable_created_as_sent(caplog: pytest.LogCaptureFixture) -> None:
    body = b'{"items":[{"id":"a","created":123456789012345678901234},{"id":"b","created":"x"}]}'
    with caplog.at_level("WARNING", logger="webex_events"):
        events = _kept(
            decode_page(body, exact=True, demand=_text_only_demand()),
            None,
            "2025-01-01T00:00:00.000Z",
            None,
            0,
        )
    assert [e.id for e in events] == ["a", "b"]
    assert events[0].created_raw == "123456789012345678901234"
    assert "123456789012345678901234" in caplog.text
    assert "'x'" in caplog.text


@pytest.mark.parametrize("with_orjson", [True, False])
def test_every_prefix_of_a_page_is_rejected_text_only(
    with_orjson: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not with_orjson:
        monkeypatch.setattr(_wire, "_orjson", None)
    texts = ['{"id":"a","l":[{"x":1},{"y":"},{"}]}', '{"id":"b","n":-9223372036854775809}', "{}"]
    body = _page(texts)
    page = decode_page(body, exact=True, demand=_text_only_demand())
    assert _as_str(page.texts_ready) == texts
    assert [page.item(i) for i in range(3)] == json.loads(body)["items"]
    for cut in range(len(body)):
        with pytest.raises((json.JSONDecodeError, UnicodeDecodeError)):
            decode_page(body[:cut], exact=True, demand=_text_only_demand())
    for bad in (b'{"items":[{"a":1},2]}', b'{"items":[1,{"b":1}]}', b'{"items":{}}'):
        with pytest.raises(_wire.MalformedBodyError):
            decode_page(bad, exact=True, demand=_text_only_demand())
