"""The generated low-level package parses Webex's documented examples losslessly."""

from __future__ import annotations

import builtins
import dataclasses
import json
import typing
from pathlib import Path

import attrs
import pytest
import yaml

from webex_events_api import models, spec, wire
from webex_events_api.models import (
    Event,
    EventCollectionResponse,
    EventData,
    EventResourceEnum,
    EventTypeEnum,
    Recipient,
)
from webex_events_api.spec import EVENT_FIELDS, LIST_EVENTS

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
EXAMPLES = ["list-events.seed.json", "list-events.reference.json"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_list_events_examples_round_trip(name: str) -> None:
    document = json.loads((DATA / name).read_text())
    page = EventCollectionResponse.from_dict(document)
    assert page.to_dict() == document
    event = page.items[0]
    assert event.resource is EventResourceEnum.MESSAGES
    assert event.type_ is EventTypeEnum.CREATED
    assert event.data.room_type == "group"
    assert not event.additional_properties
    assert not event.data.additional_properties  # every documented field is modelled


def test_get_event_details_example_round_trips() -> None:
    document = json.loads((DATA / "get-event-details.seed.json").read_text())
    event = Event.from_dict(document)
    assert event.to_dict() == document
    assert event.created == "2016-05-16T21:34:59.324Z"  # kept verbatim, not re-formatted


def test_reference_example_fills_telephony_and_recipients() -> None:
    document = json.loads((DATA / "list-events.reference.json").read_text())
    data = EventCollectionResponse.from_dict(document).items[0].data
    assert data.call_type == "SIP_ENTERPRISE"
    assert data.call_duration_seconds == "192"
    assert isinstance(data.recipients, list)
    assert isinstance(data.recipients[0], Recipient)
    assert data.recipients[0].guest_display_name == "John Wayne"


def test_unknown_enum_values_and_fields_are_kept() -> None:
    document = json.loads((DATA / "get-event-details.seed.json").read_text())
    document["resource"] = "holograms"
    document["type"] = "teleported"
    document["newTopLevel"] = {"nested": [1, 2]}
    document["data"]["newDataField"] = "x"
    event = Event.from_dict(document)
    assert event.resource == "holograms"
    assert event.type_ == "teleported"
    assert event.to_dict() == document


def _schema_properties(schema: dict[str, typing.Any]) -> set[str]:
    return set(schema["properties"])


def test_openapi_json_schema_and_models_agree_field_by_field() -> None:
    openapi = yaml.safe_load((ROOT / "spec" / "openapi.yaml").read_text())["components"]["schemas"]
    derived = json.loads((ROOT / "spec" / "event.schema.json").read_text())
    assert derived["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert _schema_properties(derived) == _schema_properties(openapi["Event"])
    assert _schema_properties(derived["$defs"]["EventData"]) == _schema_properties(openapi["EventData"])
    assert derived["$defs"]["EventResourceEnum"]["enum"] == openapi["EventResourceEnum"]["enum"]
    # the facts module agrees with the spec it was generated from (no count written here)
    assert LIST_EVENTS.parameter("resource").enum == tuple(openapi["EventResourceEnum"]["enum"])
    assert [f.path for f in EVENT_FIELDS if "." not in f.path] == list(openapi["Event"]["properties"])
    assert [f.path[5:] for f in EVENT_FIELDS if f.path.startswith("data.")] == list(
        openapi["EventData"]["properties"]
    )
    # the TypedDicts of the wire format and the attrs models have the same fields
    assert set(typing.get_type_hints(wire.EventData)) == _schema_properties(openapi["EventData"])
    assert set(typing.get_type_hints(wire.Event)) == _schema_properties(openapi["Event"])
    assert {member.value for member in EventResourceEnum} == set(openapi["EventResourceEnum"]["enum"])
    documented = json.loads((DATA / "list-events.reference.json").read_text())["items"][0]["data"]
    assert set(EventData.from_dict(documented).to_dict()) == set(documented)


def test_the_keys_of_each_schema_are_its_properties_by_the_models_names() -> None:
    # spec.EVENT_KEYS.actor_id == "actorId": one <SCHEMA>_KEYS per object schema, each property's
    # JSON key by its Python name, which is the attrs model's attribute name (where openapi-python-
    # client adds "_" to a builtin's name, as in type_, the wrapper keeps the plain one: Event.type).
    schemas = yaml.safe_load((ROOT / "spec" / "openapi.yaml").read_text())["components"]["schemas"]
    objects = [name for name, schema in schemas.items() if schema.get("properties")]
    assert "Event" in objects
    for name in objects:
        keys = getattr(spec, f"{name}Keys")
        constant = getattr(spec, "".join(f"_{c}" if c.isupper() else c.upper() for c in name)[1:] + "_KEYS")
        assert type(constant) is keys
        names = [f.name for f in dataclasses.fields(keys)]
        assert [getattr(constant, n) for n in names] == list(schemas[name]["properties"])
        model_names = {a.name for a in attrs.fields(getattr(models, name))} - {"additional_properties"}
        builtin = set(dir(builtins)) - {"id"}
        assert model_names == {f"{n}_" if n in builtin else n for n in names}
    assert spec.EVENT_KEYS.actor_id == "actorId"  # (the example of the docs)


def test_a_field_webex_did_not_send_prints_as_unset() -> None:
    from webex_events import Event  # noqa: PLC0415

    event = Event(
        raw_json='{"id":"E","resource":"messages","type":"created","actorId":"A","orgId":"O",'
        '"created":"2024-01-02T03:04:05.678Z","data":{"id":"M"}}'
    )
    assert repr(event.data.room_id) == "UNSET"
    assert "object at 0x" not in repr(event.data)
