"""Real Webex payloads: what Webex sends, not only what it documents, through the public API.

Webex's events differ from its spec. The evidence is wxc_sdk 1.41 (``wxc_sdk/events/__init__.py``),
whose ``EventData`` was fitted to real List Events responses: attendees are strings (not
objects), ``isCallAnswered``, ``isLocked``, ``isModerator``... are booleans (the spec: a string or
nothing), ``pageNumber`` is an integer, ``data`` carries fields the spec does not list
(``markdown``, ``html``, ``files``, ``mentionedPeople``...), ``type`` takes ``read`` (and ``all``)
and ``host`` has no fixed type. Each case below is one such shape; typed access must keep every
value as it came (docs/design.md, "Tolerance: what Webex sends vs what it documents"), the raw
JSON must stay byte-identical and the exports exact. The default ``FakeWebex`` sends these shapes
(``webex_events.testing._org.OBSERVED_DATA``), ``documented_shapes=True`` only the spec's.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import _cli
import attrs
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webex_events import AsyncWebexEvents, Event, EventResource, EventType, RetryPolicy, WebexEvents
from webex_events.cli._csv import CSV_COLUMNS, csv_header, csv_rows
from webex_events.testing import FakeWebex
from webex_events.testing._org import OBSERVED_DATA, OBSERVED_TYPES
from webex_events_api.models import EventData, EventDataHost, Recipient
from webex_events_api.spec import EVENT_FIELDS, LIST_EVENTS
from webex_events_api.types import Unset

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "real-payloads-token"
END = datetime(2024, 3, 1, tzinfo=UTC)
START = END - timedelta(days=20)
# Webex's own spelling of an instant (what the CLI and the other SDKs are given).
START_TEXT, END_TEXT = (t.strftime("%Y-%m-%dT%H:%M:%S.000Z") for t in (START, END))
FAST = RetryPolicy(backoff_base=0.001, backoff_cap=0.004, max_attempts=3, seed=1)

PERSON = "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9mNWIzNjE4Ny1jOGRkLTQ3MjctOGIyZi1mOWM0NDdmMjkwNDY"
PERSON_2 = "Y2lzY29zcGFyazovL3VzL1BFT1BMRS8zZjEwMTU1NC04ZGJjLTQyMmUtOGEzZC1kYTk1YTI3NWZlNzU"
ROOM = "Y2lzY29zcGFyazovL3VzL1JPT00vYmJjZWIxYWQtNDNmMS0zYjU4LTkxNDctZjE0YmIwYzRkMTU0"
ORG = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi9jZTg2MWZiYS02ZTJmLTQ5ZjktOWE4NC1iMzU0MDA4ZmFjOWU"
CONTENT = "Y2lzY29zcGFyazovL3VzL0NPTlRFTlQvNDI0MmFiY2QtMWIyMy00ZjU2LWE3ODktMDEyMzQ1Njc4OWFi"


def _event(n: int, resource: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"Y2lzY29zcGFyazovL3VzL0VWRU5ULzAwMDAwMDAwLTAwMDAtNDAwMC1hMDAwLTAwMDAwMDAwMDAw{n:x}",
        "resource": resource,
        "type": kind,
        "appId": "null",
        "actorId": PERSON,
        "orgId": "OTZhYmMyYWEtM2RjYy0xMWU1LWExNTItZmUzNDgxOWNkYzlh",
        "created": f"2024-02-0{1 + n % 9}T10:00:00.{n:03d}Z",
        "data": data,
    }


# One real-world shape per case: (raw event, checks of typed access: accessor -> value as it came).
Check = tuple[Callable[[Event], Any], Any]
CASES: dict[str, tuple[dict[str, Any], list[Check]]] = {
    "meeting-attendees-as-strings": (
        _event(
            1,
            "meetings",
            "ended",
            {
                "id": "16ce696f75844d24b2d4fab04b4419af_I_183979003076423608",
                "meetingId": "16ce696f75844d24b2d4fab04b4419af",
                "host": {"id": PERSON, "displayName": "Matt Jones"},
                "attendees": [PERSON, PERSON_2],
                "transcriptionEnabled": "yes",
                "recordingEnabled": "no",
                "hasPostMeetingsChat": "no",
            },
        ),
        [
            (lambda e: e.data.attendees, [PERSON, PERSON_2]),
            (lambda e: e.data.host.additional_properties, {"id": PERSON, "displayName": "Matt Jones"}),
            (lambda e: e.type, EventType.ENDED),
        ],
    ),
    "meeting-host-not-an-object": (
        _event(2, "meetings", "ended", {"id": "m2", "host": "matt@example.com", "attendees": []}),
        [(lambda e: e.data.host, "matt@example.com"), (lambda e: e.data.attendees, [])],
    ),
    "call-answered-boolean": (
        _event(
            3,
            "call_records",
            "created",
            {
                "id": "c3",
                "callType": "SIP_ENTERPRISE",
                "callDirection": "ORIGINATING",
                "isCallAnswered": True,
                "callDurationSeconds": "192",
            },
        ),
        [(lambda e: e.data.is_call_answered, True), (lambda e: e.data.call_duration_seconds, "192")],
    ),
    "call-not-answered-boolean": (
        _event(4, "call_records", "created", {"id": "c4", "isCallAnswered": False}),
        [(lambda e: e.data.is_call_answered, False)],
    ),
    "membership-booleans-and-person-fields": (
        _event(
            5,
            "memberships",
            "created",
            {
                "id": "ms5",
                "roomId": ROOM,
                "personId": PERSON_2,
                "personEmail": "zoe.mueller@example.com",
                "personDisplayName": "Zoë Müller",
                "personOrgId": ORG,
                "isModerator": False,
                "isMonitor": False,
                "isRoomHidden": True,
            },
        ),
        [
            (lambda e: e.data.additional_properties["isRoomHidden"], True),
            (lambda e: e.data.additional_properties["personDisplayName"], "Zoë Müller"),
            (lambda e: e.data["isModerator"], False),
        ],
    ),
    "room-booleans-title-key": (
        _event(
            6,
            "rooms",
            "updated",
            {
                "id": ROOM,
                "title": "Équipe <Support> & co",
                "titleEncryptionKeyUrl": "kms://kms-us.wbx2.com/keys/0e4f7b50-8d2a-4b2e-9d0e-3a1f4c9b7a11",
                "type": "group",
                "isLocked": True,
                "isPublic": True,
                "madePublic": "2024-02-06T09:00:00.000Z",
                "isAnnouncementOnly": False,
            },
        ),
        [
            (lambda e: e.data.type_, "group"),
            (lambda e: e.data.additional_properties["isLocked"], True),
            (lambda e: e.data.additional_properties["madePublic"], "2024-02-06T09:00:00.000Z"),
        ],
    ),
    "message-markdown-html-files-mentions-card": (
        _event(
            7,
            "messages",
            "created",
            {
                "id": "msg7",
                "roomId": ROOM,
                "roomType": "group",
                "text": "Hi Zoë, see the file",
                "markdown": "Hi <@personId:" + PERSON_2 + "|Zoë>, see the **file**",
                "html": "<p>Hi <spark-mention>Zoë</spark-mention>, see the <strong>file</strong></p>",
                "files": [f"https://webexapis.com/v1/contents/{CONTENT}"],
                "mentionedPeople": [PERSON_2],
                "attachments": [
                    {
                        "contentType": "application/vnd.microsoft.card.adaptive",
                        "content": {"type": "AdaptiveCard", "version": "1.2", "body": []},
                    }
                ],
            },
        ),
        [
            (lambda e: e.data.text, "Hi Zoë, see the file"),
            (lambda e: e.data.additional_properties["mentionedPeople"], [PERSON_2]),
            (
                lambda e: e.data.additional_properties["files"],
                [f"https://webexapis.com/v1/contents/{CONTENT}"],
            ),
        ],
    ),
    "message-updated-time": (
        _event(
            8, "messages", "updated", {"id": "msg8", "text": "edited", "updated": "2024-02-08T10:00:01.000Z"}
        ),
        [(lambda e: e.data.additional_properties["updated"], "2024-02-08T10:00:01.000Z")],
    ),
    "message-read-type": (
        _event(9, "messages", "read", {"id": "msg9", "roomId": ROOM, "personId": PERSON_2}),
        [(lambda e: e.type, "read"), (lambda e: e.model.type_, "read")],
    ),
    "type-all": (
        _event(10, "messages", "all", {"id": "msg10"}),
        [(lambda e: e.type, "all"), (lambda e: e.resource, EventResource.MESSAGES)],
    ),
    "transcoding-page-number-integer": (
        _event(
            11,
            "file_transcodings",
            "created",
            {
                "id": "t11",
                "fileId": CONTENT,
                "fileContentUrl": f"https://webexapis.com/v1/contents/{CONTENT}",
                "pageNumber": 3,
            },
        ),
        [(lambda e: e.data.additional_properties["pageNumber"], 3)],
    ),
    "file-content-url": (
        _event(
            12,
            "files",
            "created",
            {"id": CONTENT, "fileContentUrl": f"https://webexapis.com/v1/contents/{CONTENT}"},
        ),
        [(lambda e: e.data["fileContentUrl"], f"https://webexapis.com/v1/contents/{CONTENT}")],
    ),
    "tab-content-url": (
        _event(
            13,
            "tabs",
            "created",
            {"id": "tab13", "contentUrl": "https://www.example.com/board?id=42&view=full"},
        ),
        [
            (
                lambda e: e.data.additional_properties["contentUrl"],
                "https://www.example.com/board?id=42&view=full",
            )
        ],
    ),
}

# The page text: each item in another spelling (escapes, spacing), so that raw_json can only equal
# it if it is the exact slice Webex sent, never a re-serialization.
_SPELLINGS: tuple[Callable[[Any], str], ...] = (
    json.dumps,
    lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":")),
    lambda v: json.dumps(v, indent=1).replace("\n", " "),
)
TEXTS = {name: _SPELLINGS[n % len(_SPELLINGS)](raw) for n, (name, (raw, _)) in enumerate(CASES.items())}
PAGE = '{"items": [' + ", ".join(TEXTS.values()) + "]}"


def _handler(request: httpx.Request) -> httpx.Response:
    headers = {"content-type": "application/json;charset=UTF-8"}
    if request.url.path.endswith("/events"):
        return httpx.Response(200, content=PAGE.encode(), headers=headers)
    event_id = request.url.path.rsplit("/", 1)[1]
    for name, (raw, _) in CASES.items():
        if raw["id"] == event_id:
            return httpx.Response(200, content=TEXTS[name].encode(), headers=headers)
    return httpx.Response(404, json={"message": "not found"})


def _sync_events() -> list[Event]:
    with WebexEvents(token=TOKEN, transport=httpx.MockTransport(_handler), retry=FAST) as client:
        return list(client.list_events())


def _async_events() -> list[Event]:
    async def collect() -> list[Event]:
        async with AsyncWebexEvents(
            token=TOKEN, transport=httpx.MockTransport(_handler), retry=FAST
        ) as client:
            return [e async for e in client.list_events()]

    return asyncio.run(collect())


def _every_attribute(value: Any) -> Iterator[Any]:
    """Read every attribute of a generated model, recursively (nested models, lists of them)."""
    if isinstance(value, list):
        for item in value:
            yield from _every_attribute(item)
    elif attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            attribute = getattr(value, field.name)
            yield attribute
            yield from _every_attribute(attribute)


def _typed_access(event: Event) -> None:
    """Every documented accessor of an event; raises only what ``Event`` documents."""
    _ = event.id, event.resource, event.type, event.actor_id, event.org_id, event.app_id, event.created_raw
    _ = event.raw, event.raw_json, repr(event), hash(event)
    model = event.model
    assert event.data is model.data
    list(_every_attribute(model))
    assert model.to_dict() == event.raw  # lossless: every value as it came, unknown fields too


def _assert_case(event: Event, name: str) -> None:
    raw, checks = CASES[name]
    assert event.raw_json == TEXTS[name]  # the exact text, not a re-serialization
    assert event.raw == raw
    _typed_access(event)
    assert event.created.isoformat().startswith("2024-02-0")
    for accessor, expected in checks:
        assert accessor(event) == expected, name
    # A documented field of another JSON type stays on its attribute; an undocumented one in
    # additional_properties, never dropped.
    for key, value in raw["data"].items():
        if key not in _documented_data_fields():
            assert event.data.additional_properties[key] == value


def _documented_data_fields() -> set[str]:
    return {f.path[len("data.") :] for f in EVENT_FIELDS if f.path.startswith("data.")}


@pytest.mark.parametrize("driver", [_sync_events, _async_events], ids=["sync", "async"])
def test_each_real_shape_through_the_public_api(driver: Callable[[], list[Event]]) -> None:
    events = driver()
    assert [e.id for e in events] == [raw["id"] for raw, _ in CASES.values()]
    for event, name in zip(events, CASES, strict=True):
        _assert_case(event, name)


@pytest.mark.parametrize("name", list(CASES))
def test_each_real_shape_from_get_event_sync_and_async(name: str) -> None:
    event_id = CASES[name][0]["id"]
    with WebexEvents(token=TOKEN, transport=httpx.MockTransport(_handler), retry=FAST) as client:
        _assert_case(client.get_event(event_id), name)

    async def get() -> Event:
        async with AsyncWebexEvents(
            token=TOKEN, transport=httpx.MockTransport(_handler), retry=FAST
        ) as client:
            return await client.get_event(event_id)

    _assert_case(asyncio.run(get()), name)


def _cells(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _assert_csv_exact(row: dict[str, str], raw: dict[str, Any], *, escaped: bool = True) -> None:
    """Each column holds its field exactly: a string as is, anything else as JSON, nothing as "".

    With ``escaped`` (the default), a string a spreadsheet would run as a formula has a leading '.
    """
    for column in CSV_COLUMNS:
        value: Any = raw
        for key in column.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        cell = row[column]
        if value is None:
            assert cell == "", column
        elif isinstance(value, str):
            formula = escaped and value[:1] in ("=", "+", "-", "@", "\t", "\r")
            assert cell == ("'" + value if formula else value), column
        else:
            assert json.loads(cell) == value, column
            # Compact JSON: no spaces between tokens, non-ASCII as is.
            assert cell == json.dumps(json.loads(cell), ensure_ascii=False, separators=(",", ":"))


def test_csv_of_real_shapes_is_exact_and_predictable() -> None:
    events = _sync_events()
    text = csv_header() + csv_rows(e.raw for e in events)
    rows = _cells(text)
    assert list(rows[0]) == list(CSV_COLUMNS)
    for row, (raw, _) in zip(rows, CASES.values(), strict=True):
        _assert_csv_exact(row, raw)
    by_id = {row["id"]: row for row in rows}
    # Booleans are JSON's words, arrays compact JSON, a non-object host its JSON text.
    assert by_id[CASES["call-answered-boolean"][0]["id"]]["data.isCallAnswered"] == "true"
    assert by_id[CASES["call-not-answered-boolean"][0]["id"]]["data.isCallAnswered"] == "false"
    assert (
        by_id[CASES["meeting-attendees-as-strings"][0]["id"]]["data.attendees"]
        == f'["{PERSON}","{PERSON_2}"]'
    )
    assert by_id[CASES["meeting-host-not-an-object"][0]["id"]]["data.host"] == "matt@example.com"
    assert by_id[CASES["meeting-host-not-an-object"][0]["id"]]["data.attendees"] == "[]"
    assert by_id[CASES["message-read-type"][0]["id"]]["type"] == "read"


# ---- any JSON value where the spec says something else ------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
JSON = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
# Every data field the spec documents, every one Webex is seen to send, and nested spots of the
# typed ones (an attendee, a recipient, a host field): each may come with any JSON value.
_DATA_NAMES = sorted(_documented_data_fields() | {n for fields in OBSERVED_DATA.values() for n in fields})
_BASES = [raw for raw, _ in CASES.values()]


def _json_type(value: Any) -> str:
    kinds = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}
    return "null" if value is None else kinds[type(value)]


@st.composite
def _retyped_events(draw: st.DrawFn) -> dict[str, Any]:
    """A real-shaped event whose data fields carry values of other JSON types than the spec's."""
    raw = json.loads(json.dumps(draw(st.sampled_from(_BASES))))
    spec_types = {f.path[len("data.") :]: f.type for f in EVENT_FIELDS if f.path.startswith("data.")}
    for name in draw(st.lists(st.sampled_from(_DATA_NAMES), min_size=1, max_size=5, unique=True)):
        spec = spec_types.get(name)
        raw["data"][name] = draw(JSON.filter(lambda v, spec=spec: spec is None or _json_type(v) != spec))
    nested = draw(st.sampled_from(["attendees", "recipients", "host", None]))
    if nested is not None:
        inner = draw(JSON)
        raw["data"][nested] = {"id": inner} if nested == "host" else [inner, {"personId": inner}]
    return raw


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_retyped_events())
def test_typed_access_never_raises_on_values_of_another_json_type(raw: dict[str, Any]) -> None:
    text = json.dumps(raw, ensure_ascii=False)
    event = Event(raw_json=text)
    _typed_access(event)  # no exception at all: created is valid, every required field present
    assert event.raw_json == text
    assert event.data.to_dict() == raw["data"]
    rows = _cells(csv_header() + csv_rows([event.raw]))
    _assert_csv_exact(rows[0], raw)
    rows = _cells(csv_header() + csv_rows([event.raw], escape_formulas=False))
    _assert_csv_exact(rows[0], raw, escaped=False)


_TOP = ["id", "resource", "type", "actorId", "orgId", "created", "appId", "data"]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_BASES), st.sampled_from(_TOP), JSON)
def test_top_level_values_of_any_type_raise_only_documented_errors(
    base: dict[str, Any], field: str, value: Any
) -> None:
    raw = dict(base, **{field: value})
    event = Event(raw_json=json.dumps(raw))
    _typed_access(event)  # a required field of another type is kept too (data: even a non-object)
    try:
        _ = event.created
    except ValueError:  # documented: an unparsable created
        assert field == "created"
    if field == "data" and not isinstance(value, dict):
        assert event.data == value  # kept as it came
    missing = dict(base)
    del missing[field]
    event = Event(raw_json=json.dumps(missing))
    if field == "appId":
        _typed_access(event)
    else:
        with pytest.raises(ValueError, match=f"lacks '{field}', a field the spec requires"):
            _ = event.model
        assert event.raw == missing


# ---- the fake sends what Webex sends --------------------------------------------------------------


def _kind(value: Any) -> str:
    """A value's JSON type in OBSERVED_DATA's terms (``string[]``: a non-empty array of strings)."""
    if isinstance(value, list) and value:
        kinds = {_json_type(item) for item in value}
        return f"{kinds.pop()}[]" if len(kinds) == 1 else "array"
    return _json_type(value)


@pytest.fixture(scope="module")
def fake() -> FakeWebex:
    return FakeWebex(events=3000, seed=17, start=START, end=END, token=TOKEN)


@pytest.fixture(scope="module")
def documented() -> FakeWebex:
    return FakeWebex(events=3000, seed=17, start=START, end=END, token=TOKEN, documented_shapes=True)


def test_the_default_fake_sends_each_observed_shape(fake: FakeWebex) -> None:
    for resource, fields in OBSERVED_DATA.items():
        events = [e for e in fake.events if e["resource"] == resource]
        for name, kind in fields.items():
            assert any(_kind(e["data"].get(name)) == kind for e in events), (resource, name, kind)
    for resource, types in OBSERVED_TYPES.items():
        for kind in types:
            assert any(e["resource"] == resource and e["type"] == kind for e in fake.events)
    meetings = [e for e in fake.events if e["resource"] == "meetings"]
    assert all(_kind(e["data"]["attendees"]) == "string[]" for e in meetings)
    assert all(
        isinstance(e["data"]["isCallAnswered"], bool) for e in fake.events if e["resource"] == "call_records"
    )


def test_documented_shapes_send_only_what_the_spec_documents(documented: FakeWebex) -> None:
    spec_types = {f.path[len("data.") :]: f.type for f in EVENT_FIELDS if f.path.startswith("data.")}
    filtered = {
        p.event_field[len("data.") :]
        for p in LIST_EVENTS.filters
        if (p.event_field or "").startswith("data.")
    }
    spec_event_types = set(LIST_EVENTS.parameter("type").enum)
    for e in documented.events:
        assert e["type"] in spec_event_types
        assert set(e["data"]) <= spec_types.keys() | filtered, e["data"].keys() - spec_types.keys()
        for name, value in e["data"].items():
            if spec_types.get(name, "any") not in ("any", "array"):
                assert _json_type(value) == spec_types[name], (name, value)
        if e["resource"] == "meetings":
            assert all(isinstance(a, dict) for a in e["data"]["attendees"])
    assert any(e["data"].get("isCallAnswered") in ("true", "false") for e in documented.events)


@pytest.mark.parametrize("async_", [False, True], ids=["sync", "async"])
def test_the_default_fake_org_through_the_clients(fake: FakeWebex, async_: bool) -> None:
    if async_:

        async def collect() -> list[Event]:
            async with AsyncWebexEvents(token=TOKEN, transport=fake.async_transport(), retry=FAST) as client:
                return [e async for e in client.list_events(from_=START, to=END)]

        events = asyncio.run(collect())
    else:
        with WebexEvents(token=TOKEN, transport=fake.transport(), retry=FAST) as client:
            events = list(client.list_events(from_=START, to=END))
    assert sorted(e.id for e in events) == sorted(fake.expected_ids(from_=START, to=END))
    for event in events:
        exact = fake.event_json(event.id)
        assert exact is not None
        assert event.raw_json.encode() == exact
        _typed_access(event)


def test_cli_exports_of_the_default_fake_are_exact(fake: FakeWebex, tmp_path: Path) -> None:
    with fake.serve() as url:
        args = ("export", "--base-url", url, "--from", START_TEXT, "--to", END_TEXT)
        jsonl = _cli.run_cli(*args, "-o", str(tmp_path / "e.jsonl"), token=TOKEN, timeout=120)
        assert jsonl.returncode == 0, jsonl.stderr
        as_csv = _cli.run_cli(*args, "-o", str(tmp_path / "e.csv"), token=TOKEN, timeout=120)
        assert as_csv.returncode == 0, as_csv.stderr
    lines = (tmp_path / "e.jsonl").read_bytes().splitlines()
    by_id = {json.loads(line)["id"]: line for line in lines}
    assert len(by_id) == len(lines) == len(fake.events)
    for event_id, line in by_id.items():
        assert line == fake.event_json(event_id)  # each line is the exact bytes served
    rows = _cells((tmp_path / "e.csv").read_text(encoding="utf-8"))
    raws = {e["id"]: e for e in fake.events}
    assert len(rows) == len(raws)
    for row in rows:
        _assert_csv_exact(row, raws[row["id"]])
    answered = [row["data.isCallAnswered"] for row in rows if row["resource"] == "call_records"]
    assert set(answered) == {"true", "false"}
    attendees = [row["data.attendees"] for row in rows if row["resource"] == "meetings"]
    assert all(re.fullmatch(r'\["[^"]+"(,"[^"]+")*\]', cell) for cell in attendees)


# ---- generated code stays tolerant ----------------------------------------------------------------


def test_generated_models_use_only_tolerant_property_kinds() -> None:
    """scripts/templates makes model, enum, list and union properties tolerant; not date, uuid...

    A spec change that brings one of those into the models needs its template forked first
    (scripts/templates/README.md): their to_dict would call ``.isoformat()`` on a kept value.
    """
    models = ROOT / "generated" / "webex_events_api" / "models"
    for path in models.glob("*.py"):
        text = path.read_text()
        for untolerated in (".isoformat()", "UUID(", "File(", "must match const"):
            assert untolerated not in text, (path.name, untolerated)


def test_the_generated_types_say_a_value_may_differ() -> None:
    hints = {f.name: f.type for f in attrs.fields(EventData)}
    assert hints["host"] == "EventDataHost | Any | Unset"
    assert hints["is_call_answered"] == "str | Any | Unset"
    assert hints["recipients"] == "list[Recipient | Any] | Any | Unset"
    assert EventDataHost.from_dict({"id": 1}).to_dict() == {"id": 1}
    assert Recipient.from_dict({"personId": 5}).person_id == 5
    assert isinstance(EventData.from_dict({}).host, Unset)


# ---- other SDKs list the fake's events (optional: `pip install wxc_sdk webexpythonsdk==2.0.6`) ---


def test_wxc_sdk_lists_the_default_fake(fake: FakeWebex, monkeypatch: pytest.MonkeyPatch) -> None:
    """wxc_sdk's models were fitted to real responses: they take the fake's default shapes."""
    pytest.importorskip("wxc_sdk")
    from wxc_sdk import WebexSimpleApi  # noqa: PLC0415 - optional
    from wxc_sdk.rest import RestSession  # noqa: PLC0415 - optional

    with fake.serve() as url:
        monkeypatch.setattr(RestSession, "BASE", url)
        api = WebexSimpleApi(tokens=TOKEN)
        events = list(api.events.list(from_=START, to_=END, max=1000))
    assert {e.id for e in events} == set(fake.expected_ids(from_=START, to=END))
    meetings = [e for e in events if e.resource == "meetings"]
    assert meetings
    assert all(isinstance(a, str) for e in meetings for a in e.data.attendees or [])
    calls = [e for e in events if e.resource == "call_records"]
    assert calls
    assert all(isinstance(e.data.is_call_answered, bool) for e in calls)


def test_webexpythonsdk_lists_the_default_fake(fake: FakeWebex) -> None:
    pytest.importorskip("webexpythonsdk")
    from webexpythonsdk import WebexAPI  # noqa: PLC0415 - optional

    with fake.serve() as url:
        api = WebexAPI(access_token=TOKEN, base_url=url + "/")
        events = list(api.events.list(max=1000, _from=START_TEXT, to=END_TEXT))
        ids = {e.id for e in events}
        _ = [(e.resource, e.type, e.created, e.data) for e in events]
    assert ids == set(fake.expected_ids(from_=START, to=END))
