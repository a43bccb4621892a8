"""The fake server follows the spec facts (``webex_events_api.spec``): nothing is spelled by hand.

The first tests run against the generated facts; the others inject changed facts into an
``Organization`` (a new filter, resource, type, data field, rule, page-size range) to show that
the fake follows a spec change with no code change.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from webex_events.testing import FakeWebex
from webex_events.testing._app import FakeApp, Knobs
from webex_events.testing._facts import field_of, get_path, wire_text
from webex_events.testing._org import KNOWN_RESOURCES, KNOWN_TYPES, OBSERVED_TYPES, Organization
from webex_events.testing._transport import FakeTransport
from webex_events_api.spec import EVENT_FIELDS, LIST_EVENTS, Field, Operation, Parameter

BASE = "https://webexapis.com/v1"
END = datetime(2024, 3, 1, tzinfo=UTC)
END_MS = int(END.timestamp() * 1000)
TOKEN = "spec-token"
SIZE = LIST_EVENTS.role("page-size")


def _field(path: str) -> Field:
    return next(f for f in EVENT_FIELDS if f.path == path)


def _http(transport: httpx.BaseTransport, token: str) -> httpx.Client:
    return httpx.Client(transport=transport, base_url=BASE, headers={"Authorization": f"Bearer {token}"})


def _collect(http: httpx.Client, params: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    r = http.get("/events", params={**params, SIZE.name: "97"})
    while True:
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        url = r.links.get("next", {}).get("url")
        if not url:
            return items
        r = http.get(url)


def _companions(operation: Operation, params: dict[str, str], event: dict[str, Any]) -> dict[str, str]:
    """``params`` plus what the rules ask for, taken from ``event`` (which matches them)."""
    out = dict(params)
    for p in operation.filters:
        for other, _values in p.only_when:
            if p.name in out and other not in out:
                out[other] = str(wire_text(get_path(event, field_of(operation.parameter(other)))))
    for p in operation.filters:
        for other, values in p.required_when:
            if out.get(other) in values and p.name not in out:
                out[p.name] = str(wire_text(get_path(event, field_of(p))))
    return out


# ---- the generated facts ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake() -> FakeWebex:
    return FakeWebex()


def test_known_values_are_the_spec_enums() -> None:
    assert set(KNOWN_RESOURCES) == set(_field("resource").enum)
    assert set(KNOWN_TYPES) == set(_field("type").enum)


def test_every_spec_resource_and_type_occurs_in_the_default_org(fake: FakeWebex) -> None:
    assert {e["resource"] for e in fake.events} >= set(_field("resource").enum)
    assert {e["type"] for e in fake.events} >= set(_field("type").enum)


@pytest.mark.parametrize("documented", [False, True], ids=["observed", "documented"])
@pytest.mark.parametrize("seed", range(6))
def test_every_spec_value_occurs_in_a_small_org(seed: int, documented: bool) -> None:
    resources, types = _field("resource").enum, _field("type").enum
    size = len(resources) + len(types) + seed * 3
    fake = FakeWebex(events=size, seed=seed, end=END, documented_shapes=documented)
    assert {e["resource"] for e in fake.events} == set(resources)
    # Besides the spec's types, only those Webex is seen to send unlisted (none when documented).
    observed = set() if documented else {t for unlisted in OBSERVED_TYPES.values() for t in unlisted}
    assert set(types) <= {e["type"] for e in fake.events} <= set(types) | observed
    # A rule's field rides along: each event of a resource a rule names carries it.
    for p in LIST_EVENTS.filters:
        for other, values in p.required_when:
            key = field_of(LIST_EVENTS.parameter(other))
            for e in fake.events:
                if get_path(e, key) in values:
                    assert get_path(e, field_of(p)) in p.enum, e
    assert FakeWebex(events=size, seed=seed, end=END, documented_shapes=documented).events == fake.events


@pytest.mark.parametrize("parameter", LIST_EVENTS.filters, ids=lambda p: p.name)
def test_each_filter_selects_on_its_event_field(fake: FakeWebex, parameter: Parameter) -> None:
    field = field_of(parameter)
    carriers = [e for e in fake.events if wire_text(get_path(e, field)) is not None]
    values = list(dict.fromkeys(str(wire_text(get_path(e, field))) for e in carriers))
    assert values, f"no event carries {field}"
    with _http(fake.transport(), fake.token) as http:
        for value in values[:3]:
            event = next(e for e in carriers if wire_text(get_path(e, field)) == value)
            params = _companions(LIST_EVENTS, {parameter.name: value}, event)
            items = _collect(http, params)
            assert items
            for item in items:
                assert wire_text(get_path(item, field)) == value
            by_python: dict[str, Any] = {LIST_EVENTS.parameter(n).python_name: v for n, v in params.items()}
            assert [i["id"] for i in items] == fake.expected_ids(**by_python)
            expected = [
                e["id"]
                for e in fake.events
                if all(
                    wire_text(get_path(e, field_of(LIST_EVENTS.parameter(n)))) == v for n, v in params.items()
                )
            ]
            assert [i["id"] for i in items] == expected
        # A value no event has: an empty page, not an error.
        assert _collect(http, _companions(LIST_EVENTS, {parameter.name: "no-such-value"}, carriers[0])) == []


def test_page_size_bounds_come_from_the_spec(fake: FakeWebex) -> None:
    assert SIZE.minimum is not None
    assert SIZE.maximum is not None
    lo, hi = int(SIZE.minimum), int(SIZE.maximum)
    with _http(fake.transport(), fake.token) as http:
        for bad in (lo - 1, hi + 1):
            r = http.get("/events", params={SIZE.name: str(bad)})
            assert r.status_code == 400
            message = r.json()["message"]
            assert SIZE.name in message
            assert str(lo) in message
            assert str(hi) in message
        for good in (lo, hi):
            r = http.get("/events", params={SIZE.name: str(good)})
            assert r.status_code == 200
            assert len(r.json()["items"]) == min(good, len(fake.events))
        assert len(http.get("/events").json()["items"]) == SIZE.default
        # The next link keeps the filters and says the page size under its spec name.
        r = http.get("/events", params={"type": KNOWN_TYPES[0], SIZE.name: str(lo)})
        link = httpx.URL(r.links["next"]["url"])
        assert link.params[SIZE.name] == str(lo)
        assert link.params["type"] == KNOWN_TYPES[0]


def test_required_when_rules_are_enforced(fake: FakeWebex) -> None:
    rules = [(p, other, values) for p in LIST_EVENTS.filters for other, values in p.required_when]
    assert rules  # the spec has one today (serviceType with convergedRecordings)
    with _http(fake.transport(), fake.token) as http:
        for p, other, values in rules:
            r = http.get("/events", params={other: values[0]})
            assert r.status_code == 400
            assert r.json()["message"] == f"{p.name} is mandatory when {other} is {values[0]}."
            if p.enum:
                assert http.get("/events", params={other: values[0], p.name: p.enum[0]}).status_code == 200


def test_expected_ids_takes_the_filters_by_python_name(fake: FakeWebex) -> None:
    with pytest.raises(TypeError, match="'colour'"):
        fake.expected_ids(colour="red")
    assert fake.expected_ids(resource=None, actor_id=None) == fake.expected_ids()
    actor = fake.actor_ids[0]
    assert fake.expected_ids(actor_id=actor) == [e["id"] for e in fake.events if e["actorId"] == actor]


def test_todays_model_writes_every_spec_field(fake: FakeWebex) -> None:
    # The probe finds every data field of today's spec in the dedicated builders: nothing is added.
    assert fake._org._extras == ()


# ---- injected facts: a spec change reaches the fake with no code change --------------------------


def _with_enum(fields: Sequence[Field], path: str, extra: str) -> tuple[Field, ...]:
    return tuple(dataclasses.replace(f, enum=(*f.enum, extra)) if f.path == path else f for f in fields)


def _operation(*extra: Parameter, **changes: dict[str, Any]) -> Operation:
    """LIST_EVENTS with parameters changed (by wire name) and ``extra`` filters appended."""
    params = tuple(dataclasses.replace(p, **changes.get(p.name, {})) for p in LIST_EVENTS.parameters)
    return dataclasses.replace(LIST_EVENTS, parameters=params + extra)


def _org(
    operation: Operation = LIST_EVENTS, fields: Sequence[Field] = EVENT_FIELDS, **kw: Any
) -> Organization:
    args: dict[str, Any] = {
        "events": 800,
        "seed": 4,
        "start_ms": END_MS - 10 * 86_400_000,
        "end_ms": END_MS,
        "unknown_fraction": 0.0,
        "same_millisecond_fraction": 0.05,
        "boundary_fraction": 0.02,
    }
    return Organization(**(args | kw), operation=operation, fields=fields)


def _serve(org: Organization) -> httpx.Client:
    return _http(FakeTransport(FakeApp(org, Knobs(token=TOKEN))), TOKEN)


def _events(org: Organization) -> list[dict[str, Any]]:
    return [json.loads(org.event_json(p)) for p in range(org.size - 1, -1, -1)]


def _ids(events: Iterable[dict[str, Any]]) -> list[str]:
    return [e["id"] for e in events]


def test_a_new_resource_gets_events_with_data_built_from_the_schema() -> None:
    fields = _with_enum(EVENT_FIELDS, "resource", "whiteboards")
    operation = _operation(resource={"enum": (*LIST_EVENTS.parameter("resource").enum, "whiteboards")})
    org = _org(operation, fields, unknown_fraction=0.3)
    assert org.resources.count("whiteboards") == 1  # a spec value now, no longer a future one
    boards = [e for e in _events(org) if e["resource"] == "whiteboards"]
    assert boards
    examples = {f.path[5:]: f.example for f in fields if f.path.startswith("data.") and f.example is not None}
    for e in boards:
        data = e["data"]
        assert base64.urlsafe_b64decode(data["id"] + "==").decode().startswith("ciscospark://us/WHITEBOARDS/")
        assert data["created"] == e["created"]
        assert data["orgId"] == org.data_org_id
        for name, example in examples.items():
            if name not in ("id", "created", "orgId"):
                assert data[name] == example
    with _serve(org) as http:
        assert _ids(_collect(http, {"resource": "whiteboards"})) == _ids(boards)
    # The future values used with unknown_fraction are still there, outside the spec.
    spec_resources = set(operation.parameter("resource").enum)
    unknown = {e["resource"] for e in _events(org) if "schemaVersion" in e} - spec_resources
    assert unknown
    assert "whiteboards" not in unknown


def test_a_new_type_occurs() -> None:
    org = _org(fields=_with_enum(EVENT_FIELDS, "type", "archived"), events=300)
    events = _events(org)
    assert "archived" in {e["type"] for e in events}
    assert {e["resource"] for e in events} >= set(KNOWN_RESOURCES)


def test_spec_values_cover_every_future_name() -> None:
    # A spec listing every name the fake keeps for "future" values: it makes up new ones.
    fields = EVENT_FIELDS
    for name in ("whiteboards", "slidoPolls", "aiAssistantSummaries"):
        fields = _with_enum(fields, "resource", name)
    for name in ("archived", "moderated"):
        fields = _with_enum(fields, "type", name)
    org = _org(fields=fields, unknown_fraction=0.5, events=400)
    events = _events(org)
    spec_resources = next(f.enum for f in fields if f.path == "resource")
    spec_types = next(f.enum for f in fields if f.path == "type")
    assert {e["resource"] for e in events} - set(spec_resources)
    assert {e["type"] for e in events} - set(spec_types)
    assert {e["resource"] for e in events} >= set(spec_resources)


def test_a_new_data_field_is_emitted_and_a_new_filter_selects_on_it() -> None:
    sentiment = Field(path="data.sentiment", type="string", example="positive")
    score = Field(path="data.score", type="integer")
    fields = (*EVENT_FIELDS, sentiment, score)
    operation = _operation(
        Parameter(name="sentiment", python_name="sentiment", location="query", type="string",
                  event_field="data.sentiment"),
        Parameter(name="orgId", python_name="org_id", location="query", type="string"),
    )  # fmt: skip
    org = _org(operation, fields)
    events = _events(org)
    with_sentiment = [e for e in events if "sentiment" in e["data"]]
    assert 0.35 < len(with_sentiment) / len(events) < 0.65  # about half, by each event's digest
    assert {e["data"]["sentiment"] for e in with_sentiment} == {"positive"}
    assert {e["data"].get("score", 1) for e in events} == {1}  # no example: a value of its type
    assert any("score" in e["data"] for e in events)
    assert _events(_org(operation, fields)) == events  # deterministic, whatever the serving order
    with _serve(org) as http:
        assert _ids(_collect(http, {"sentiment": "positive"})) == _ids(with_sentiment)
        assert _collect(http, {"sentiment": "negative"}) == []
        # A filter without event_field selects on the top-level field of its own name.
        assert _ids(_collect(http, {"orgId": org.org_id})) == _ids(events)
        assert _collect(http, {"orgId": "another-org"}) == []
        both = _collect(http, {"orgId": org.org_id, "sentiment": "positive", "type": "created"})
        assert _ids(both) == [e["id"] for e in with_sentiment if e["type"] == "created"]


def test_a_new_rule_makes_its_field_ride_along_and_is_enforced() -> None:
    # roomType becomes a filter on data.roomType, mandatory with resource=rooms (whose builder has
    # no roomType of its own): every rooms event gets one of the enum's values.
    room_type = Parameter(
        name="roomType", python_name="room_type", location="query", type="string",
        enum=("group", "direct"), event_field="data.roomType", required_when=(("resource", ("rooms",)),),
    )  # fmt: skip
    org = _org(_operation(room_type))
    events = _events(org)
    rooms = [e for e in events if e["resource"] == "rooms"]
    assert rooms
    assert {e["data"]["roomType"] for e in rooms} <= {"group", "direct"}
    with _serve(org) as http:
        r = http.get("/events", params={"resource": "rooms"})
        assert r.status_code == 400
        assert r.json()["message"] == "roomType is mandatory when resource is rooms."
        got = _collect(http, {"resource": "rooms", "roomType": "group"})
        assert _ids(got) == [e["id"] for e in rooms if e["data"]["roomType"] == "group"]


def test_a_narrower_page_size_range() -> None:
    org = _org(_operation(max={"maximum": 500, "default": 50}))
    with _serve(org) as http:
        assert http.get("/events", params={"max": "501"}).status_code == 400
        assert "between 1 and 500" in http.get("/events", params={"max": "501"}).json()["message"]
        assert len(http.get("/events", params={"max": "500"}).json()["items"]) == 500
        assert len(http.get("/events").json()["items"]) == 50


def test_a_renamed_page_size_and_range() -> None:
    org = _org(
        _operation(max={"name": "limit", "python_name": "limit"}, **{"from": {"name": "since"}}), events=300
    )
    events = _events(org)
    since = events[100]["created"]
    with _serve(org) as http:
        r = http.get("/events", params={"limit": "10"})
        assert len(r.json()["items"]) == 10
        assert "limit=10" in r.links["next"]["url"]
        assert "max" not in r.links["next"]["url"]
        got = _collect(http, {"since": since, "limit": "40"})
        assert _ids(got) == [e["id"] for e in events if e["created"] >= since]
