"""The fake's responses and synthetic data against the spec (spec/openapi.yaml, event.schema.json)."""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator

from webex_events.testing import FakeWebex
from webex_events.testing._org import OBSERVED_DATA, OBSERVED_TYPES
from webex_events_api.spec import EVENT_FIELDS, LIST_EVENTS

SPEC = Path(__file__).resolve().parents[1] / "spec"
END = datetime(2024, 3, 1, tzinfo=UTC)
BASE = "https://webexapis.com/v1"


def _openapi() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((SPEC / "openapi.yaml").read_text(encoding="utf-8"))
    return loaded


def _component_validator(name: str) -> Draft202012Validator:
    # A root schema that carries the OpenAPI components resolves "#/components/schemas/..." refs.
    root = {"$ref": f"#/components/schemas/{name}", "components": _openapi()["components"]}
    return Draft202012Validator(root)


PAGE = _component_validator("EventCollectionResponse")
ERROR = _component_validator("Error")
EVENT = Draft202012Validator(json.loads((SPEC / "event.schema.json").read_text(encoding="utf-8")))


def _client(fake: FakeWebex) -> httpx.Client:
    return httpx.Client(transport=fake.transport(), headers={"Authorization": f"Bearer {fake.token}"})


def _pages(fake: FakeWebex, url: str) -> list[httpx.Response]:
    out = []
    with _client(fake) as http:
        next_url: str | None = url
        while next_url:
            r = http.get(next_url)
            assert r.status_code == 200, r.text
            out.append(r)
            next_url = r.links.get("next", {}).get("url")
    return out


@pytest.fixture(scope="module")
def fake() -> FakeWebex:
    return FakeWebex(events=600, seed=3, end=END, days=10, unknown_fraction=0.15)


@pytest.fixture(scope="module")
def documented() -> FakeWebex:
    return FakeWebex(events=600, seed=3, end=END, days=10, unknown_fraction=0.15, documented_shapes=True)


_SPEC_DATA_TYPES = {f.path[len("data.") :]: f.type for f in EVENT_FIELDS if f.path.startswith("data.")}


def _retyped(resource: str) -> set[tuple[str, str]]:
    """The data fields of a resource where what Webex sends is not of the spec's JSON type.

    From the fake's table of what Webex is seen to send: a field the spec lists with another
    type, or an array whose items the spec types (``attendees``: the spec says objects).
    """
    out = set()
    for name, sent in OBSERVED_DATA.get(resource, {}).items():
        spec = _SPEC_DATA_TYPES.get(name)
        if spec is not None and (sent.endswith("[]") or spec != sent):
            out.add(("data", name))
    return out


def _schema_errors(validator: Draft202012Validator, body: Any) -> set[tuple[tuple[Any, ...], str]]:
    return {(tuple(e.absolute_path), str(e.validator)) for e in validator.iter_errors(body)}


def _allowed(event: dict[str, Any], errors: set[tuple[tuple[Any, ...], str]]) -> bool:
    """Each schema error is a type error on a field the observed table retypes."""
    return all(kind == "type" and path[:2] in _retyped(event["resource"]) for path, kind in errors)


def test_pages_validate_against_the_spec(fake: FakeWebex, documented: FakeWebex) -> None:
    pages = _pages(documented, f"{BASE}/events?max=250")
    assert len(pages) == 3
    for page in pages:
        assert page.headers["content-type"] == "application/json;charset=UTF-8"
        body = page.json()
        assert not list(PAGE.iter_errors(body))
        for item in body["items"]:
            assert not list(EVENT.iter_errors(item))
    # By default the fake sends what Webex sends: it breaks the schema where Webex does, only there.
    for page in _pages(fake, f"{BASE}/events?max=250"):
        for item in page.json()["items"]:
            assert _allowed(item, _schema_errors(EVENT, item)), item


def test_every_event_validates_and_the_validators_can_fail(fake: FakeWebex, documented: FakeWebex) -> None:
    for event in documented.events:
        EVENT.validate(event)
    deviating = 0
    for event in fake.events:
        errors = _schema_errors(EVENT, event)
        assert _allowed(event, errors), event
        deviating += bool(errors)
    assert deviating  # the observed shapes are there, and the schema does not allow them
    broken = dict(fake.events[0])
    del broken["actorId"]
    assert list(EVENT.iter_errors(broken))
    assert list(PAGE.iter_errors({"items": [broken]}))
    assert list(ERROR.iter_errors({"errors": []}))


def test_served_bytes_are_not_python_reserialization(fake: FakeWebex) -> None:
    page = _pages(fake, f"{BASE}/events?max={LIST_EVENTS.role('page-size').maximum}")[0]
    raw = page.content
    decoded = json.loads(raw)
    assert "é".encode() in raw  # UTF-8, not \u00e9
    assert b"\\u0026" in raw or b"\\u003d" in raw  # Gson-style HTML-safe escapes
    assert raw != json.dumps(decoded).encode()
    assert raw != json.dumps(decoded, ensure_ascii=False, separators=(",", ":")).encode()
    orjson = pytest.importorskip("orjson")
    assert raw != orjson.dumps(decoded)
    # Each item's bytes appear verbatim in the page, and are what event_json() returns.
    for item in decoded["items"][:50]:
        exact = fake.event_json(item["id"])
        assert exact is not None
        assert exact in raw
        assert json.loads(exact) == item


def test_get_event_details_and_404(fake: FakeWebex) -> None:
    with _client(fake) as http:
        for event in fake.events[::97]:
            r = http.get(f"{BASE}/events/{event['id']}")
            assert r.status_code == 200
            assert r.json() == event
            assert r.content == fake.event_json(event["id"])
            assert not list(EVENT.iter_errors(r.json()))
        tampered = fake.events[0]["id"][:-2] + "AA"
        for bad in (tampered, "nope", base64.b64encode(b"ciscospark://us/EVENT/x").decode()):
            r = http.get(f"{BASE}/events/{bad}")
            assert r.status_code == 404
            ERROR.validate(r.json())


@pytest.mark.parametrize(
    ("method", "url", "auth", "status"),
    [
        ("GET", f"{BASE}/events?max=0", True, 400),
        ("GET", f"{BASE}/events", False, 401),
        ("GET", f"{BASE}/nothing", True, 404),
        ("POST", f"{BASE}/events", True, 405),
    ],
)
def test_error_bodies_validate(fake: FakeWebex, method: str, url: str, auth: bool, status: int) -> None:
    headers = {"Authorization": f"Bearer {fake.token}"} if auth else {}
    with httpx.Client(transport=fake.transport()) as http:
        r = http.request(method, url, headers=headers)
    assert r.status_code == status
    body = r.json()
    ERROR.validate(body)
    assert body["trackingId"] == r.headers["TrackingID"]
    assert body["errors"][0]["description"]


def _decode_id(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def test_ids_timestamps_and_realistic_data(fake: FakeWebex) -> None:
    events = fake.events
    assert len({e["id"] for e in events}) == len(events)
    created_re = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
    for e in events:
        assert "=" not in e["id"]
        assert re.fullmatch(f"ciscospark://us/EVENT/{UUID}", _decode_id(e["id"]))
        assert _decode_id(e["actorId"]).startswith("ciscospark://us/PEOPLE/")
        assert created_re.fullmatch(e["created"])
        assert fake.start <= datetime.fromisoformat(e["created"]) < fake.end
    # Newest first.
    assert [e["created"] for e in events] == sorted((e["created"] for e in events), reverse=True)
    by_resource: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_resource.setdefault(e["resource"], []).append(e)
    for resource in LIST_EVENTS.parameter("resource").enum:  # every spec resource occurs
        assert resource in by_resource, resource
    for m in by_resource["messages"]:
        assert {"roomId", "roomType", "personEmail"} <= m["data"].keys()
        assert _decode_id(m["data"]["roomId"]).startswith("ciscospark://us/ROOM/")
    assert any(any(ord(ch) > 127 for ch in m["data"].get("text", "")) for m in by_resource["messages"])
    for m in by_resource["meetings"]:
        assert m["type"] == "ended" or "schemaVersion" in m  # unknown-flagged events may get a new type
        assert {"host", "attendees", "transcriptionEnabled", "recordingEnabled", "hasPostMeetingsChat"} <= m[
            "data"
        ].keys()
        assert isinstance(m["data"]["attendees"], list)
    assert any("recipients" in m["data"] for m in by_resource["meetingMessages"])
    assert any("breakoutSessionId" in m["data"] for m in by_resource["meetingMessages"])
    for c in by_resource["call_records"]:
        assert {"callType", "userType", "callDirection", "isCallAnswered", "callDurationSeconds"} <= c[
            "data"
        ].keys()
        assert c["data"]["callStartTime"] <= c["created"]
    assert {r["data"]["serviceType"] for r in by_resource["convergedRecordings"]} >= {"calling"}
    actors = Counter(e["actorId"] for e in events)
    assert 3 <= len(actors) <= 12
    assert set(actors) <= set(fake.actor_ids)


def test_unknown_values_and_extra_fields(fake: FakeWebex) -> None:
    known_resources = set(_openapi()["components"]["schemas"]["EventResourceEnum"]["enum"])
    known_types = set(_openapi()["components"]["schemas"]["EventTypeEnum"]["enum"])
    unknown = [e for e in fake.events if "schemaVersion" in e]
    assert 0.05 < len(unknown) / len(fake.events) < 0.3
    assert any(e["resource"] not in known_resources for e in unknown)
    assert any(e["type"] not in known_types for e in unknown)
    assert all("futureField" in e["data"] for e in unknown)
    plain = FakeWebex(events=300, seed=3, end=END, days=10)
    assert all(e["resource"] in known_resources for e in plain.events)
    # Besides the spec's types only those Webex is seen to send for the resource (message reads).
    assert all(e["type"] in known_types.union(OBSERVED_TYPES.get(e["resource"], ())) for e in plain.events)
    strict = FakeWebex(events=300, seed=3, end=END, days=10, documented_shapes=True)
    assert all(e["resource"] in known_resources and e["type"] in known_types for e in strict.events)


def test_ties_and_boundaries_are_present_by_default(fake: FakeWebex) -> None:
    created = Counter(e["created"] for e in fake.events)
    assert max(created.values()) >= 5  # many events in one millisecond
    assert any(c.endswith(":00:00.000Z") for c in created)
    assert any(c.endswith("T00:00:00.000Z") for c in created)


def test_deterministic_per_seed() -> None:
    a = FakeWebex(events=200, seed=9, end=END)
    b = FakeWebex(events=200, seed=9, end=END)
    c = FakeWebex(events=200, seed=10, end=END)
    assert a.events == b.events
    assert [e["id"] for e in a.events] != [e["id"] for e in c.events]


def test_large_organization_is_compact() -> None:
    fake = FakeWebex(events=200_000, seed=1, end=END)
    ids = fake.expected_ids(from_=datetime(2024, 2, 29, 23, tzinfo=UTC))
    assert 0 < len(ids) < 2000
    assert fake.event_json(ids[0]) is not None
