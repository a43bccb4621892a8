"""The spec facts (``webex_events_api.spec``) describe every operation we serve, each listing above all.

What each listing needs from the spec to be listed exactly, windowed and paged (issue 32's
table): its range parameters, its page size and bounds, how it pages, the longest range one
request may cover, its required filters, the schema of its events and the scope it needs; and
what a client needs to log in and refresh (issue 31): the OAuth endpoints under the base URL,
the form fields of the token endpoint with their rules, the token's expiry.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import typing
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from webex_events_api import spec
from webex_events_api.spec import (
    ACCESS_TOKEN,
    AUDIT_EVENT_FIELDS,
    AUDIT_EVENT_KEYS,
    AUTHORIZE,
    EVENT_FIELDS,
    GET_EVENT_DETAILS,
    LIST_ADMIN_AUDIT_EVENT_CATEGORIES,
    LIST_ADMIN_AUDIT_EVENTS,
    LIST_EVENTS,
    LIST_SECURITY_AUDIT_EVENTS,
    LISTINGS,
    OPERATIONS,
    SECURITY_AUDIT_EVENT_FIELDS,
    SECURITY_AUDIT_EVENT_KEYS,
    SERVER_URL,
    TOKEN_EXPIRY,
    TOKEN_EXPIRY_KEYS,
    ListAdminAuditEventsFilters,
    ListEventsFilters,
    ListSecurityAuditEventsFilters,
    Operation,
)

ROOT = Path(__file__).resolve().parent.parent
OPENAPI = yaml.safe_load((ROOT / "spec" / "openapi.yaml").read_text())

# operation, (range-start, range-end), page size bounds, paging, longest range, required filters,
# item schema, scope: issue 32's table
LISTING_FACTS = [
    (LIST_EVENTS, ("from", "to"), (1, 1000), "link", None, (), "Event", "spark-compliance:events_read"),
    (
        LIST_ADMIN_AUDIT_EVENTS,
        ("from", "to"),
        (1, 200),
        "offset",
        timedelta(days=365),
        ("orgId",),
        "AuditEvent",
        "audit:events_read",
    ),
    (
        LIST_SECURITY_AUDIT_EVENTS,
        ("startTime", "endTime"),
        (1, 1000),
        "link",
        timedelta(days=365),
        ("orgId",),
        "SecurityAuditEvent",
        "audit:events_read",
    ),
]


def test_the_listings_are_the_three_event_streams() -> None:
    assert LISTINGS == (LIST_EVENTS, LIST_ADMIN_AUDIT_EVENTS, LIST_SECURITY_AUDIT_EVENTS)
    assert all(op.paging is None for op in OPERATIONS.values() if op not in LISTINGS)
    assert list(OPERATIONS) == [
        "listEvents",
        "getEventDetails",
        "listAdminAuditEvents",
        "listAdminAuditEventCategories",
        "listSecurityAuditEvents",
        "tokenExpiry",
        "authorize",
        "accessToken",
    ]


@pytest.mark.parametrize(
    ("operation", "bounds", "size", "paging", "longest", "required", "items", "scope"),
    LISTING_FACTS,
    ids=[facts[0].operation_id for facts in LISTING_FACTS],
)
def test_each_listing_says_how_to_list_it(
    operation: Operation,
    bounds: tuple[str, str],
    size: tuple[int, int],
    paging: str,
    longest: timedelta | None,
    required: tuple[str, ...],
    items: str,
    scope: str,
) -> None:
    start, end = operation.role("range-start"), operation.role("range-end")
    assert (start.name, end.name) == bounds
    assert start.format == end.format == "date-time"
    page = operation.role("page-size")
    assert (page.name, page.type, page.minimum, page.maximum, page.default) == ("max", "integer", *size, 100)
    assert operation.paging == paging
    assert operation.max_range == longest
    assert tuple(p.name for p in operation.required_filters) == required
    assert operation.method == "GET"
    assert operation.item_schema == items
    assert operation.items_key == "items"
    assert operation.scopes == (scope,)
    assert operation.authenticated
    # offset paging has its page-offset parameter, Link paging none
    assert operation.has_role("page-offset") == (paging == "offset")
    if paging == "offset":
        offset = operation.role("page-offset")
        assert (offset.name, offset.type, offset.minimum, offset.maximum) == ("offset", "integer", 0, None)
    owned = {start.name, end.name, page.name} | ({"offset"} if paging == "offset" else set())
    assert {p.name for p in operation.filters} == {p.name for p in operation.parameters} - owned


def test_each_listing_has_its_filters_typed_dict() -> None:
    for operation, typed in (
        (LIST_EVENTS, ListEventsFilters),
        (LIST_ADMIN_AUDIT_EVENTS, ListAdminAuditEventsFilters),
        (LIST_SECURITY_AUDIT_EVENTS, ListSecurityAuditEventsFilters),
    ):
        hints = typing.get_type_hints(typed)
        assert list(hints) == [p.python_name for p in operation.filters], operation.operation_id
        assert typed.__total__ is False  # every filter optional (org_id may come from the token)
    audit = typing.get_type_hints(ListAdminAuditEventsFilters)
    assert audit["org_id"] == str | None
    assert audit["event_categories"] == list[str] | tuple[str, ...] | None


def test_the_audit_filters_select_on_their_event_fields() -> None:
    for operation, keys in (
        (LIST_ADMIN_AUDIT_EVENTS, AUDIT_EVENT_KEYS),
        (LIST_SECURITY_AUDIT_EVENTS, SECURITY_AUDIT_EVENT_KEYS),
    ):
        org = operation.parameter("orgId")
        assert org.event_field == keys.actor_org_id
        categories = operation.parameter("eventCategories")
        assert (categories.type, categories.item_type, categories.explode) == ("array", "string", False)
        assert categories.event_field == "data.eventCategory"
        assert operation.parameter("actorId").event_field is None  # the field of its own name
        assert keys.actor_id == "actorId"


def test_each_listing_s_event_fields_are_its_item_schema_s() -> None:
    schemas = OPENAPI["components"]["schemas"]
    for fields, name in (
        (EVENT_FIELDS, "Event"),
        (AUDIT_EVENT_FIELDS, "AuditEvent"),
        (SECURITY_AUDIT_EVENT_FIELDS, "SecurityAuditEvent"),
    ):
        top = [f.path for f in fields if "." not in f.path]
        assert top == list(schemas[name]["properties"]), name
        data = schemas[schemas[name]["properties"]["data"]["$ref"].rsplit("/", 1)[1]]
        assert [f.path[5:] for f in fields if f.path.startswith("data.")] == list(data["properties"])
    assert {f.path: f for f in AUDIT_EVENT_FIELDS}["data.adminRoles"].type == "array"
    assert AUDIT_EVENT_KEYS.created == SECURITY_AUDIT_EVENT_KEYS.created == "created"


def test_the_other_operations() -> None:
    assert (GET_EVENT_DETAILS.response_schema, GET_EVENT_DETAILS.scopes) == (
        "Event",
        ("spark-compliance:events_read",),
    )
    assert LIST_ADMIN_AUDIT_EVENT_CATEGORIES.path == "/adminAudit/eventCategories"
    assert LIST_ADMIN_AUDIT_EVENT_CATEGORIES.scopes == ("audit:events_read",)
    assert LIST_ADMIN_AUDIT_EVENT_CATEGORIES.response_schema == "AuditEventCategoryCollectionResponse"
    assert (TOKEN_EXPIRY.method, TOKEN_EXPIRY.path) == ("GET", "/authorizations/tokenExpiry")
    assert (TOKEN_EXPIRY.scopes, TOKEN_EXPIRY.authenticated) == ((), True)  # any token may ask
    assert TOKEN_EXPIRY.response_schema == "TokenExpiry"
    assert TOKEN_EXPIRY_KEYS.exp == "exp"


def test_the_oauth_endpoints_live_under_the_base_url() -> None:
    assert SERVER_URL + AUTHORIZE.path == "https://webexapis.com/v1/authorize"
    assert SERVER_URL + ACCESS_TOKEN.path == "https://webexapis.com/v1/access_token"
    assert not AUTHORIZE.authenticated
    assert not ACCESS_TOKEN.authenticated
    assert AUTHORIZE.method == "GET"
    assert [(p.name, p.required) for p in AUTHORIZE.parameters] == [
        ("client_id", True),
        ("response_type", True),
        ("redirect_uri", True),
        ("scope", True),
        ("state", False),
    ]
    assert AUTHORIZE.parameter("response_type").enum == ("code",)
    # the scopes a login asks for are the ones the operations name
    scopes = OPENAPI["components"]["securitySchemes"]["webexOAuth"]["flows"]["authorizationCode"]["scopes"]
    assert set(scopes) == {scope for op in OPERATIONS.values() for scope in op.scopes}


def test_the_token_endpoint_s_form_is_data() -> None:
    assert ACCESS_TOKEN.method == "POST"
    assert ACCESS_TOKEN.parameters == ()
    body = ACCESS_TOKEN.body
    assert body is not None
    assert (body.media_type, body.schema, body.required) == (
        "application/x-www-form-urlencoded",
        "AccessTokenRequest",
        True,
    )
    assert [f.name for f in body.fields] == [
        "grant_type",
        "client_id",
        "client_secret",
        "code",
        "redirect_uri",
        "refresh_token",
    ]
    assert all(f.location == "body" and f.role == "filter" for f in body.fields)
    assert body.field("grant_type").enum == ("authorization_code", "refresh_token")
    assert [f.name for f in body.fields if f.required] == ["grant_type", "client_id", "client_secret"]
    code, refresh = body.field("code"), body.field("refresh_token")
    assert code.required_when == code.only_when == (("grant_type", ("authorization_code",)),)
    assert body.field("redirect_uri").required_when == (("grant_type", ("authorization_code",)),)
    assert refresh.required_when == refresh.only_when == (("grant_type", ("refresh_token",)),)
    with pytest.raises(KeyError):
        body.field("password")
    assert ACCESS_TOKEN.response_schema == "AccessToken"
    assert spec.ACCESS_TOKEN_KEYS.refresh_token_expires_in == "refresh_token_expires_in"
    assert spec.TOKEN_ERROR_KEYS.error_description == "error_description"


def test_every_operation_is_a_module_constant_named_after_its_operation_id() -> None:
    for operation_id, operation in OPERATIONS.items():
        constant = "".join(f"_{c}" if c.isupper() else c.upper() for c in operation_id)
        assert getattr(spec, constant) is operation
        assert dataclasses.is_dataclass(operation)


# ---- the generator's own checks (scripts/spec_facts.py) ----------------------------------------------


def _spec_facts() -> ModuleType:
    path = ROOT / "scripts" / "spec_facts.py"
    found = importlib.util.spec_from_file_location("spec_facts_under_test", path)
    assert found is not None
    assert found.loader is not None
    module = importlib.util.module_from_spec(found)
    sys.modules[found.name] = module
    found.loader.exec_module(module)
    return module


def _one_listing(**extensions: Any) -> dict[str, Any]:
    page = {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}
    ok = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}}
    operation = {"operationId": "listThings", "parameters": [], "responses": {"200": ok}, **extensions}
    return {
        "servers": [{"url": "https://h/v1"}],
        "paths": {"/things": {"get": operation}},
        "components": {
            "schemas": {"Page": {"properties": {"items": page}}, "Item": {"properties": {"id": {}}}}
        },
    }


@pytest.mark.parametrize(
    ("extensions", "message"),
    [
        ({"x-webex-events-paging": "cursor"}, "paging must be one of link, offset"),
        ({"x-webex-events-paging": "offset"}, "offset paging needs a parameter of role page-offset"),
        ({"x-webex-events-paging": "link", "x-webex-events-max-range": "P1Y"}, "years and months vary"),
        ({"x-webex-events-max-range": "P30D"}, "max-range without x-webex-events-paging"),
    ],
)
def test_a_listing_the_facts_cannot_describe_stops_the_generator(
    extensions: dict[str, Any], message: str
) -> None:
    with pytest.raises(SystemExit, match=message):
        _spec_facts().render(_one_listing(**extensions))


def test_a_listing_s_facts_come_from_its_extensions() -> None:
    source = _spec_facts().render(
        _one_listing(**{"x-webex-events-paging": "link", "x-webex-events-max-range": "PT12H"})
    )
    assert "max_range=timedelta(seconds=43200)" in source
    assert "item_schema='Item'" in source
    assert "ITEM_FIELDS" in source
    assert "ListThingsFilters = TypedDict" in source
    assert "ListEventsFilters = TypedDict" in source  # always there: the wrapper's list_events types by it
