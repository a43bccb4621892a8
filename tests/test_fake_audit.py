"""The fake serves the admin audit and security audit streams from the spec facts, end to end.

Admin audit pages by ``offset`` (no ``Link`` header), security audit by ``Link``; both take at
most a year per request and require ``orgId`` and their range. Every parameter name, bound and
key below is read from the spec facts, as the fake reads them. The library's listings and
``follow`` twins are held exact against the fake: in process (sync, async) and over loopback,
under the same fault mix as /events, over ranges longer than a year, and while events arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import _cli
import httpx
import pytest

from webex_events import (
    AsyncWebexEvents,
    AuditEvent,
    FollowBatch,
    RetryPolicy,
    SecurityAuditEvent,
    WebexEvents,
)
from webex_events.testing import AuditLog, FakeWebex, Fault, SimClock
from webex_events_api import models
from webex_events_api.spec import (
    AUDIT_EVENT_CATEGORY_COLLECTION_RESPONSE_KEYS,
    AUDIT_EVENT_DATA_KEYS,
    AUDIT_EVENT_FIELDS,
    AUDIT_EVENT_KEYS,
    ERROR_KEYS,
    LIST_ADMIN_AUDIT_EVENT_CATEGORIES,
    LIST_ADMIN_AUDIT_EVENTS,
    LIST_SECURITY_AUDIT_EVENTS,
    SECURITY_AUDIT_EVENT_DATA_KEYS,
    SECURITY_AUDIT_EVENT_FIELDS,
    SECURITY_AUDIT_EVENT_KEYS,
    Operation,
)

BASE = "https://webexapis.com/v1"
END = datetime(2024, 3, 1, tzinfo=UTC)
START = END - timedelta(days=60)
ADMIN, SECURITY = LIST_ADMIN_AUDIT_EVENTS, LIST_SECURITY_AUDIT_EVENTS
OPERATIONS = [pytest.param(ADMIN, id="admin-audit"), pytest.param(SECURITY, id="security-audit")]
FAST = RetryPolicy(backoff_base=0.001, backoff_cap=0.002, max_attempts=10, seed=3)
# The fault mix of /events' exactness tests: 10 % of requests, every 5xx, 423/429, resets, cut bodies.
FAULTS = [Fault.INTERNAL_SERVER_ERROR, Fault.BAD_GATEWAY, Fault.SERVICE_UNAVAILABLE, Fault.GATEWAY_TIMEOUT]
FAULTS += [Fault.TOO_MANY_REQUESTS, Fault.LOCKED, Fault.CONNECTION_RESET, Fault.TRUNCATED_BODY]


def _fake(**options: Any) -> FakeWebex:
    settings: dict[str, Any] = {
        "events": 100,
        "seed": 7,
        "start": START,
        "end": END,
        "admin_audit_events": 450,
        "security_audit_events": 900,
    }
    return FakeWebex(**{**settings, **options})


def _http(fake: FakeWebex) -> httpx.Client:
    return httpx.Client(transport=fake.transport(), headers={"Authorization": f"Bearer {fake.token}"})


def _log(fake: FakeWebex, operation: Operation) -> AuditLog:
    return fake.admin_audit if operation is ADMIN else fake.security_audit


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _name(operation: Operation, role: str) -> str:
    return operation.role(role).name  # type: ignore[arg-type]


def _org(operation: Operation) -> str:
    (org,) = operation.required_filters
    return org.name


def _params(
    fake: FakeWebex, operation: Operation, start: datetime = START, end: datetime = END, **extra: object
) -> dict[str, object]:
    params: dict[str, object] = {
        _org(operation): fake.org_id,
        _name(operation, "range-start"): _iso(start),
        _name(operation, "range-end"): _iso(end),
    }
    return {**params, **extra}


def _url(operation: Operation) -> str:
    return BASE + operation.path


def _items(response: httpx.Response, operation: Operation) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()[operation.items_key or "items"]
    return items


def _pages(
    http: httpx.Client,
    fake: FakeWebex,
    operation: Operation,
    size: int,
    start: datetime = START,
    end: datetime = END,
    **extra: object,
) -> list[list[str]]:
    """Every page of a listing, paged as the operation's facts say (offset or Link)."""
    pages: list[list[str]] = []
    params = _params(fake, operation, start, end, **{_name(operation, "page-size"): size, **extra})
    url: str | None = _url(operation)
    while url is not None:
        if operation.paging == "offset":
            offset = sum(len(page) for page in pages)
            response = http.get(url, params={**params, _name(operation, "page-offset"): offset})
            assert "link" not in response.headers  # the spec shows no Link header on this one
            items = _items(response, operation)
            url = url if len(items) == size else None
        else:
            response = http.get(url, params=params if not pages else None)
            items = _items(response, operation)
            url = response.links.get("next", {}).get("url")
        pages.append([item["id"] for item in items])
        assert len(pages) < 2000
    return pages


def _created(events: Iterator[dict[str, Any]] | list[dict[str, Any]]) -> list[str]:
    return [e["created"] for e in events]


# ---- serving: paging, categories, filters ------------------------------------------------------------


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("size", [1, 7, 100])
def test_each_stream_pages_as_its_spec_says(operation: Operation, size: int) -> None:
    fake = _fake()
    log = _log(fake, operation)
    with _http(fake) as http:
        pages = _pages(http, fake, operation, size)
    ids = [i for page in pages for i in page]
    assert ids == log.expected_ids(from_=START, to=END)  # every event once, newest first
    assert len(ids) > 300
    assert all(len(page) == size for page in pages[:-1])
    assert len(pages[-1]) < size or (operation.paging == "link" and len(ids) % size == 0)
    if operation.paging == "link" and size == 7:  # the next link is absolute and keeps the query
        with _http(fake) as http:
            first = http.get(_url(operation), params=_params(fake, operation, max=7))
        query = httpx.URL(first.links["next"]["url"]).params
        assert first.links["next"]["url"].startswith(BASE + operation.path + "?")
        assert query[_org(operation)] == fake.org_id
        assert query[_name(operation, "page-size")] == "7"
    events = {e["id"]: e for e in log.events}
    created = _created(events[i] for i in ids)
    assert created == sorted(created, reverse=True)
    assert fake.stats.pages == len(pages) + (operation.paging == "link" and size == 7)
    assert fake.stats.operations[operation.operation_id] == fake.stats.requests


def test_an_offset_past_the_end_is_an_empty_page_and_offsets_count_from_the_newest() -> None:
    fake = _fake()
    expected = fake.admin_audit.expected_ids(from_=START, to=END)
    offset_name = _name(ADMIN, "page-offset")
    with _http(fake) as http:
        page = _items(http.get(_url(ADMIN), params=_params(fake, ADMIN, max=5, **{offset_name: 10})), ADMIN)
        past = _items(http.get(_url(ADMIN), params=_params(fake, ADMIN, **{offset_name: 10_000})), ADMIN)
    assert [e["id"] for e in page] == expected[10:15]
    assert past == []


def test_categories_are_what_the_admin_events_carry() -> None:
    fake = _fake(admin_audit_events=2000)
    with _http(fake) as http:
        answer = http.get(BASE + LIST_ADMIN_AUDIT_EVENT_CATEGORIES.path)
    assert answer.status_code == 200
    categories = answer.json()[AUDIT_EVENT_CATEGORY_COLLECTION_RESPONSE_KEYS.event_categories]
    assert categories == list(fake.admin_audit.categories)
    carried = Counter(
        e[AUDIT_EVENT_KEYS.data][AUDIT_EVENT_DATA_KEYS.event_category] for e in fake.admin_audit.events
    )
    assert set(carried) < set(categories)  # every event's category is listed; some have no events
    assert len(carried) >= 8
    # Spelled as the spec's example of the field spells one (``EventCategory.LOGINS``).
    (field,) = [f for f in AUDIT_EVENT_FIELDS if f.path.endswith("." + AUDIT_EVENT_DATA_KEYS.event_category)]
    assert field.example in categories
    assert carried.most_common(1)[0][0] == field.example  # sign-ins are the most common admin action


def test_security_audit_events_are_sign_ins_and_sign_outs() -> None:
    fake = _fake()
    data_key, category_key = SECURITY_AUDIT_EVENT_KEYS.data, SECURITY_AUDIT_EVENT_DATA_KEYS.event_category
    carried = Counter(e[data_key][category_key] for e in fake.security_audit.events)
    assert set(carried) == set(fake.security_audit.categories) == {"LOGINS", "LOGOUT"}
    assert min(carried.values()) > 300
    people = {e[SECURITY_AUDIT_EVENT_KEYS.actor_id] for e in fake.security_audit.events}
    assert people == set(fake.actor_ids)  # everyone signs in; only a few administer
    admins = {e[AUDIT_EVENT_KEYS.actor_id] for e in fake.admin_audit.events}
    assert admins < set(fake.actor_ids)
    assert len(admins) <= 3


@pytest.mark.parametrize("operation", OPERATIONS)
def test_events_follow_their_schema_and_read_like_webex(operation: Operation) -> None:
    fake = _fake()
    fields = AUDIT_EVENT_FIELDS if operation is ADMIN else SECURITY_AUDIT_EVENT_FIELDS
    keys = AUDIT_EVENT_KEYS if operation is ADMIN else SECURITY_AUDIT_EVENT_KEYS
    data_keys: Any = AUDIT_EVENT_DATA_KEYS if operation is ADMIN else SECURITY_AUDIT_EVENT_DATA_KEYS
    model = models.AuditEvent if operation is ADMIN else models.SecurityAuditEvent
    paths = {f.path: f for f in fields}
    kinds = {"string": str, "array": list, "object": dict}
    log = _log(fake, operation)
    events = log.events
    assert len(events) == len(log) == len({e[keys.id] for e in events})
    for event in events:
        assert list(event) == [k for k in paths if "." not in k and k in event]  # the spec's order
        assert event[keys.actor_org_id] == fake.org_id
        assert event[keys.actor_id] in fake.actor_ids
        for name, value in event[keys.data].items():
            found = paths[f"{keys.data}.{name}"]  # only the spec's fields
            assert isinstance(value, kinds[found.type]), (name, value)
        data = event[keys.data]
        assert data[data_keys.actor_name] in data[data_keys.action_text]
        ipaddress.ip_address(data[data_keys.actor_ip])
        assert data[data_keys.actor_user_agent]
        assert model.from_dict(event).to_dict() == event  # the generated model reads it whole
        assert (
            log.event_json(event[keys.id])
            == json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
        )
    # Failed admin operations carry the spec's error fields; the others do not.
    if operation is ADMIN:
        failed = [e for e in events if AUDIT_EVENT_DATA_KEYS.error_code in e[keys.data]]
        assert 0 < len(failed) < len(events) // 5
        assert all(AUDIT_EVENT_DATA_KEYS.error_message in e[keys.data] for e in failed)
    assert log.event_json("no-such-id") is None


def test_the_organization_is_deterministic_and_events_stay_as_they_were() -> None:
    one, two, other = _fake(), _fake(), _fake(seed=8)
    assert one.admin_audit.events == two.admin_audit.events
    assert one.security_audit.events == two.security_audit.events
    assert one.org_id == two.org_id != other.org_id
    assert one.admin_audit.events != other.admin_audit.events
    # /events is the same organization, with or without the audit streams made.
    plain = FakeWebex(events=100, seed=7, start=START, end=END)
    assert plain.events == one.events
    assert plain.org_id == one.org_id
    # The default: a tenth of the events are admin actions, a fifth sign-ins and sign-outs.
    default = FakeWebex(events=1000, seed=1, end=END)
    assert (len(default.admin_audit), len(default.security_audit)) == (100, 200)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_filters_select_on_their_event_fields(operation: Operation) -> None:
    fake = _fake()
    log = _log(fake, operation)
    keys = AUDIT_EVENT_KEYS if operation is ADMIN else SECURITY_AUDIT_EVENT_KEYS
    category_key = (
        AUDIT_EVENT_DATA_KEYS if operation is ADMIN else SECURITY_AUDIT_EVENT_DATA_KEYS
    ).event_category
    events = {e[keys.id]: e for e in log.events}
    by_name = {p.python_name: p for p in operation.filters}
    categories = by_name["event_categories"]
    assert categories.type == "array"
    actor = Counter(e[keys.actor_id] for e in events.values()).most_common(2)[1][0]
    two = list(log.categories[:2])
    cases: list[tuple[dict[str, object], dict[str, Any]]] = [
        ({by_name["actor_id"].name: actor}, {"actor_id": actor}),
        ({categories.name: two[0]}, {"event_categories": two[0]}),
        ({categories.name: ",".join(two)}, {"event_categories": two}),  # explode=False: comma-separated
        (
            {categories.name: two[1], by_name["actor_id"].name: actor},
            {"event_categories": two[1], "actor_id": actor},
        ),
    ]
    with _http(fake) as http:
        for query, filters in cases:
            got = [events[i] for page in _pages(http, fake, operation, 50, **query) for i in page]
            expected = log.expected_ids(from_=START, to=END, org_id=fake.org_id, **filters)
            assert [e[keys.id] for e in got] == expected, query
            assert 0 < len(expected) <= len(events)
            if filters != {"event_categories": two} or operation is ADMIN:  # (both: every sign-in/out)
                assert len(expected) < len(events)
            for event in got:
                if "actor_id" in filters:
                    assert event[keys.actor_id] == actor
                if "event_categories" in filters:
                    wanted = filters["event_categories"]
                    assert event[keys.data][category_key] in (
                        wanted if isinstance(wanted, list) else [wanted]
                    )
        # An organization, an actor or a category no event has: an empty page, not an error.
        for query in (
            {_org(operation): "another-org"},
            {by_name["actor_id"].name: "nobody"},
            {categories.name: "EventCategory.NOPE"},
        ):
            assert (
                _items(http.get(_url(operation), params={**_params(fake, operation), **query}), operation)
                == []
            )
    assert log.expected_ids(org_id="another-org") == []
    with pytest.raises(TypeError, match="colour"):
        log.expected_ids(colour="red")


# ---- errors as Webex words them -------------------------------------------------------------------------


def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body[ERROR_KEYS.tracking_id] == response.headers["TrackingID"]
    assert body[ERROR_KEYS.tracking_id].startswith("ROUTER_")
    message: str = body[ERROR_KEYS.message]
    assert body[ERROR_KEYS.errors] == [{"description": message}]
    return message


REQUIRED = [
    pytest.param(op, p.name, id=f"{op.operation_id}-{p.name}")
    for op in (ADMIN, SECURITY)
    for p in op.parameters
    if p.required
]


def test_every_required_parameter_is_in_the_list() -> None:
    names = {(p.values[0].operation_id, p.values[1]) for p in REQUIRED}  # type: ignore[union-attr]
    assert {n for op, n in names if op == ADMIN.operation_id} == {"orgId", "from", "to"}
    assert {n for op, n in names if op == SECURITY.operation_id} == {"orgId", "startTime", "endTime"}


@pytest.mark.parametrize(("operation", "name"), REQUIRED)
def test_a_missing_required_parameter_is_a_400_naming_it(operation: Operation, name: str) -> None:
    fake = _fake()
    params = _params(fake, operation)
    with _http(fake) as http:
        missing = http.get(_url(operation), params={k: v for k, v in params.items() if k != name})
        blank = http.get(_url(operation), params={**params, name: ""})
    assert _error(missing, 400) == f"{name} is required."
    assert _error(blank, 400) == f"{name} is required."
    assert fake.stats.pages == 0


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_range_over_a_year_is_a_400(operation: Operation) -> None:
    fake = _fake()
    start, end = _name(operation, "range-start"), _name(operation, "range-end")
    year = operation.max_range
    assert year == timedelta(days=365)
    with _http(fake) as http:

        def ask(span: timedelta) -> httpx.Response:
            return http.get(_url(operation), params=_params(fake, operation, start=END - span, end=END))

        message = _error(ask(year + timedelta(days=1)), 400)
        assert message == (
            f"{start} and {end} are more than 365 days apart: a maximum of one year of audit events can"
            " be returned per request."
        )
        _error(ask(timedelta(days=800)), 400)
        # The library sends a year's window from 1 ms before it (exact whatever the bounds'
        # inclusivity); Webex counts whole days, so that and a year and some hours pass.
        assert ask(year + timedelta(milliseconds=1)).status_code == 200
        assert ask(year + timedelta(hours=23)).status_code == 200
        backwards = http.get(_url(operation), params=_params(fake, operation, start=END, end=START))
        assert _error(backwards, 400) == f"{start} must not be after {end}."
        bad_date = http.get(_url(operation), params={**_params(fake, operation), start: "yesterday"})
        assert _error(bad_date, 400) == f"Invalid {start}: 'yesterday' is not an ISO 8601 date-time."


@pytest.mark.parametrize("operation", OPERATIONS)
def test_page_size_and_offset_bounds_come_from_the_spec(operation: Operation) -> None:
    fake = _fake(security_audit_events=1100)
    size = operation.role("page-size")
    assert (size.minimum, size.maximum) == (1, 200 if operation is ADMIN else 1000)
    with _http(fake) as http:
        for bad in (0, int(size.maximum or 0) + 1, "ten", -1):
            message = _error(
                http.get(_url(operation), params=_params(fake, operation, **{size.name: bad})), 400
            )
            assert (
                message
                == f"{size.name} must be an integer between 1 and {size.maximum}, inclusive (got '{bad}')."
            )
        page = http.get(_url(operation), params=_params(fake, operation, **{size.name: size.maximum}))
        assert len(_items(page, operation)) == size.maximum
        if operation.paging == "offset":
            offset = operation.role("page-offset").name
            message = _error(http.get(_url(operation), params=_params(fake, operation, **{offset: -1})), 400)
            assert message == f"{offset} must be an integer >= 0 (got '-1')."
        else:
            assert not operation.has_role("page-offset")
            forged = http.get(_url(operation), params=_params(fake, operation, cursor="AAAAAAAAAAA"))
            assert _error(forged, 400) == "Invalid cursor."


# ---- the fake's knobs apply to the audit operations as to /events ---------------------------------------


@pytest.mark.parametrize(
    "operation", [*OPERATIONS, pytest.param(LIST_ADMIN_AUDIT_EVENT_CATEGORIES, id="categories")]
)
def test_faults_auth_and_scopes_apply_to_every_audit_operation(operation: Operation) -> None:
    params = _params(_fake(), operation) if operation.paging else {}
    for fault, status in [
        (Fault.INTERNAL_SERVER_ERROR, 500),
        (Fault.SERVICE_UNAVAILABLE, 503),
        (Fault.TOO_MANY_REQUESTS, 429),
    ]:
        fake = _fake(fault_rate=1.0, faults=[fault], fault_retry_after=0.5)
        with _http(fake) as http:
            response = http.get(_url(operation), params=params)
        _error(response, status)
        assert ("Retry-After" in response.headers) == (status != 500)
        assert fake.stats.faults == 1
    fake = _fake(fault_rate=1.0, faults=[Fault.CONNECTION_RESET])
    with _http(fake) as http, pytest.raises(httpx.ReadError):
        http.get(_url(operation), params=params)
    fake = _fake(fault_rate=1.0, faults=[Fault.TRUNCATED_BODY])
    with _http(fake) as http, pytest.raises(httpx.RemoteProtocolError):
        http.get(_url(operation), params=params)
    fake = _fake(forbidden_token="no-scopes")
    with httpx.Client(transport=fake.transport()) as http:
        assert _error(http.get(_url(operation), params=params), 401).startswith(
            "The request requires a valid"
        )
        forbidden = http.get(_url(operation), params=params, headers={"Authorization": "Bearer no-scopes"})
    assert "audit:events_read" in _error(forbidden, 403)
    assert fake.stats.operations[operation.operation_id] == 2


def test_rate_limits_latency_and_gateway_timeouts_apply_to_the_audit_streams() -> None:
    fake = _fake(rate_limit=2, clock=lambda: 5.5, gateway_timeout_above=150)
    with _http(fake) as http:
        statuses = [
            http.get(_url(SECURITY), params=_params(fake, SECURITY, max=10)).status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
    fake = _fake(gateway_timeout_above=150)
    with _http(fake) as http:
        assert http.get(_url(ADMIN), params=_params(fake, ADMIN, max=200)).status_code == 504
        assert http.get(_url(ADMIN), params=_params(fake, ADMIN, max=150)).status_code == 200
    assert fake.stats.faults == 1


def test_next_link_knobs_apply_to_the_security_stream() -> None:
    fake = _fake(
        next_link_max_null=True, next_link_drops_filters=True, next_link_origin="https://other.example"
    )
    with _http(fake) as http:
        first = http.get(_url(SECURITY), params=_params(fake, SECURITY, max=5))
    link = httpx.URL(first.links["next"]["url"])
    assert link.host == "other.example"
    assert link.params[_name(SECURITY, "page-size")] == "null"
    assert _org(SECURITY) not in link.params
    fake = _fake(strip_link_header=True)
    with _http(fake) as http:
        assert "link" not in http.get(_url(SECURITY), params=_params(fake, SECURITY, max=5)).headers


# ---- live mode: arrivals, late events, offsets that move --------------------------------------------------


LATE = ((0.3, 60.0, 600.0),)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_live_audit_events_arrive_as_the_clock_runs_some_late(operation: Operation) -> None:
    clock = SimClock(END)
    fake = FakeWebex.live(
        rate=100, history=timedelta(hours=1), duration=timedelta(hours=2), wall_clock=clock, late=LATE, seed=2
    )
    log = _log(fake, operation)
    assert len(log) == len(fake.events) // (10 if operation is ADMIN else 5)
    since = END - timedelta(hours=1)
    with _http(fake) as http:

        def listed() -> list[str]:  # (the range ends tomorrow: up to now)
            pages = _pages(http, fake, operation, 100, start=since, end=clock.now() + timedelta(days=1))
            return [i for page in pages for i in page]

        before = listed()
        assert before == log.expected_ids(from_=since, visible_only=True)
        hidden = set(log.expected_ids(from_=since)) - set(before)
        assert hidden, "some events of the last hour are still to come out (late)"
        clock.advance(1800)
        after = listed()
        assert after == log.expected_ids(from_=since, visible_only=True)
        assert set(before) < set(after)
        arrived = set(after) - set(before)
        assert hidden <= arrived  # the late ones came out
        assert len(arrived - hidden) > 10  # and new ones were created
    for event_id in hidden:
        shown = log.visible_at(event_id)
        assert shown is not None
        assert END < shown <= END + timedelta(seconds=1800)
    assert log.visible_at("no-such-id") is None


def test_offset_paging_while_events_arrive_pushes_later_offsets() -> None:
    """Newest first: events that arrive between two pages push the rest to later offsets, so
    the next page repeats the end of the page before (and skips nothing visible before)."""
    clock = SimClock(END)
    fake = FakeWebex.live(
        rate=200,
        history=timedelta(hours=2),
        duration=timedelta(hours=1),
        wall_clock=clock,
        late=(),
        seed=3,
        same_millisecond_fraction=0,
        boundary_fraction=0,
    )
    size, offset = 50, _name(ADMIN, "page-offset")
    params = _params(fake, ADMIN, start=END - timedelta(hours=2), end=END + timedelta(days=1), max=size)
    with _http(fake) as http:
        first = [e["id"] for e in _items(http.get(_url(ADMIN), params={**params, offset: 0}), ADMIN)]
        visible = fake.admin_audit.expected_ids(visible_only=True)
        clock.advance(60)  # 20 admin actions a minute
        arrived = len(fake.admin_audit.expected_ids(visible_only=True)) - len(visible)
        assert 0 < arrived < size
        second = [e["id"] for e in _items(http.get(_url(ADMIN), params={**params, offset: size}), ADMIN)]
    assert first == visible[:size]
    assert second[:arrived] == first[size - arrived :]  # pushed down: seen again
    assert second[arrived:] == visible[size : 2 * size - arrived]  # nothing skipped


# ---- the library against the fake ----------------------------------------------------------------------

MODES = ["sync", "async", "loopback"]


def _run(fake: FakeWebex, mode: str, call: str, **arguments: Any) -> list[Any]:
    """``client.<call>(**arguments)`` listed whole, in the mode's client."""
    if mode == "async":

        async def main() -> list[Any]:
            async with AsyncWebexEvents(
                token=fake.token, transport=fake.async_transport(), retry=FAST
            ) as client:
                return [event async for event in getattr(client, call)(**arguments)]

        return asyncio.run(main())
    if mode == "loopback":
        with fake.serve() as url, WebexEvents(token=fake.token, base_url=url, retry=FAST) as client:
            return list(getattr(client, call)(**arguments))
    with WebexEvents(token=fake.token, transport=fake.transport(), retry=FAST) as client:
        return list(getattr(client, call)(**arguments))


LISTINGS = [
    pytest.param(ADMIN, "list_admin_audit_events", AuditEvent, id="admin-audit"),
    pytest.param(SECURITY, "list_security_audit_events", SecurityAuditEvent, id="security-audit"),
]


@pytest.mark.parametrize("concurrency", [None, 1], ids=["windows", "one-query"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("operation", "call", "view"), LISTINGS)
def test_the_library_lists_each_stream_exactly_over_years_under_faults(
    operation: Operation, call: str, view: type, mode: str, concurrency: int | None
) -> None:
    start = END - timedelta(days=800)  # three requests at least: a year each
    fake = _fake(
        start=start,
        fault_rate=0.1,
        faults=FAULTS,
        fault_retry_after=0.001,
        admin_audit_events=1200,
        security_audit_events=2400,
    )
    log = _log(fake, operation)
    events = _run(
        fake,
        mode,
        call,
        org_id=fake.org_id,
        from_=start + timedelta(hours=5),
        to=END - timedelta(hours=5),
        page_size=25,
        concurrency=concurrency,
    )
    ids = [e.id for e in events]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(
        log.expected_ids(from_=start + timedelta(hours=5), to=END - timedelta(hours=5))
    )
    assert all(isinstance(e, view) for e in events)
    assert all(e.raw_json.encode() == log.event_json(e.id) for e in events)  # byte for byte
    assert fake.stats.faults >= 3, "the fault mix was met"
    assert fake.stats.statuses[400] == 0, "no request covered more than a year"
    assert fake.stats.operations[operation.operation_id] > 3


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("operation", "call", "view"), LISTINGS)
def test_the_library_filters_windows_and_categories_against_the_fake(
    operation: Operation, call: str, view: type, mode: str
) -> None:
    fake = _fake()
    log = _log(fake, operation)
    wanted = list(log.categories[:2])
    actor = log.actor_ids[0]
    events = _run(
        fake,
        mode,
        call,
        org_id=fake.org_id,
        from_=START,
        to=END,
        event_categories=wanted,
        actor_id=actor,
        page_size=3,
        window=timedelta(days=7),
    )
    expected = log.expected_ids(from_=START, to=END, event_categories=wanted, actor_id=actor)
    assert sorted(e.id for e in events) == sorted(expected)
    assert len(events) == len(expected)
    assert 0 < len(events) < len(log)
    assert {e.data.event_category for e in events} <= set(wanted)
    assert {e.actor_id for e in events} == {actor}
    assert all(isinstance(e, view) and e.actor_org_id == fake.org_id for e in events)
    assert fake.stats.pages > len(events) // 3  # pages of 3, week by week
    categories = _run_categories(fake, mode)
    assert categories == list(fake.admin_audit.categories)


def _run_categories(fake: FakeWebex, mode: str) -> list[str]:
    if mode == "async":

        async def main() -> list[str]:
            async with AsyncWebexEvents(token=fake.token, transport=fake.async_transport()) as client:
                return await client.admin_audit_event_categories()

        return asyncio.run(main())
    with WebexEvents(token=fake.token, transport=fake.transport()) as client:
        return client.admin_audit_event_categories()


class _Ticking(httpx.BaseTransport):
    """The fake in process, its clock moving ``step`` seconds before each request."""

    def __init__(self, fake: FakeWebex, clock: SimClock, step: float) -> None:
        self._inner, self._clock, self._step = fake.transport(), clock, step

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._clock.advance(self._step)
        return self._inner.handle_request(request)


def test_the_library_offset_listing_is_exact_while_late_events_come_out() -> None:
    """Late events of the range come out while the listing pages: the offsets move under it.

    The listing repeats what a moved offset serves again (skipped: each event once) and misses
    nothing that was visible when it started; what came out in the part already listed is left
    to ``follow``. A listing that took offsets at face value would deliver the repeats twice.
    """
    clock = SimClock(END)
    fake = FakeWebex.live(
        rate=300, history=timedelta(hours=3), wall_clock=clock, late=((0.5, 0.0, 900.0),), seed=4
    )
    since = END - timedelta(hours=3)
    at_start = set(fake.admin_audit.expected_ids(from_=since, to=END, visible_only=True))
    with WebexEvents(token=fake.token, transport=_Ticking(fake, clock, 20.0), retry=FAST) as client:
        stream = client.list_admin_audit_events(
            org_id=fake.org_id, from_=since, to=END, page_size=25, concurrency=1
        )
        ids = [e.id for e in stream]
    at_end = set(fake.admin_audit.expected_ids(from_=since, to=END, visible_only=True))
    assert len(at_end) > len(at_start) + 10, "events came out while the listing ran"
    assert stream.stats.repeated > 0, "the moved offsets served events again"
    assert len(ids) == len(set(ids)), "each event once although pages repeated some"
    assert at_start <= set(ids) <= at_end


FOLLOW = [
    pytest.param(ADMIN, "follow_admin_audit_events", id="admin-audit"),
    pytest.param(SECURITY, "follow_security_audit_events", id="security-audit"),
]
DAY = datetime(2024, 3, 5, tzinfo=UTC)
SINCE = DAY + timedelta(hours=1)
FINISH = DAY + timedelta(days=1, hours=2)
# Up to the lag, within the overlap, and later than both: found only by a reconcile pass.
FOLLOW_LATE = ((0.15, 0.0, 300.0), (0.03, 300.0, 1200.0), (0.02, 1800.0, 5400.0))
FOLLOW_OPTIONS: dict[str, Any] = {
    "since": SINCE,
    "lag": timedelta(minutes=5),
    "poll_interval": timedelta(minutes=5),
    "overlap": timedelta(minutes=15),
    "reconcile_horizon": timedelta(hours=3),
    "reconcile_interval": timedelta(minutes=30),
}


def _day(clock: SimClock, **options: Any) -> FakeWebex:
    return FakeWebex(
        events=50,
        seed=15,
        start=DAY,
        end=DAY + timedelta(days=1),
        late=FOLLOW_LATE,
        wall_clock=clock,
        admin_audit_events=700,
        security_audit_events=1500,
        **options,
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("operation", "call"), FOLLOW)
def test_follow_twins_deliver_a_live_day_once_with_late_events(
    operation: Operation, call: str, mode: str
) -> None:
    clock = SimClock(SINCE)
    fake = _day(clock, fault_rate=0.1, faults=FAULTS, fault_retry_after=0.001)
    options = {**FOLLOW_OPTIONS, "org_id": fake.org_id, "clock": clock.now}
    batches: list[FollowBatch] = []
    if mode == "async":

        async def sleep(seconds: float) -> None:
            clock.sleep(seconds)

        async def main() -> None:
            async with AsyncWebexEvents(
                token=fake.token, transport=fake.async_transport(), retry=FAST
            ) as client:
                async for batch in getattr(client, call)(**options, sleep=sleep):
                    batches.append(batch)
                    if batch.caught_up and clock.now() >= FINISH:
                        break

        asyncio.run(main())
    else:
        with fake.serve() if mode == "loopback" else contextlib.nullcontext("") as url:
            where = {"base_url": url} if url else {"transport": fake.transport()}
            with WebexEvents(token=fake.token, retry=FAST, **where) as client:
                for batch in getattr(client, call)(**options, sleep=clock.sleep):
                    batches.append(batch)
                    if batch.caught_up and clock.now() >= FINISH:
                        break
    ids = [e.id for b in batches for e in b.events]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1][:3]
    assert set(ids) == set(_log(fake, operation).expected_ids(from_=SINCE, to=fake.end))
    checkpoint = batches[-1].checkpoint
    assert checkpoint.delivered == len(ids)
    assert checkpoint.late > 0, "late events were found by the overlap"
    assert checkpoint.reconciled > 0, "later ones by a reconcile pass"
    assert fake.stats.faults > 0


@pytest.mark.parametrize(("operation", "call"), FOLLOW)
def test_follow_once_from_checkpoints_is_exact(operation: Operation, call: str) -> None:
    """Cron style: ``once=True`` every few minutes, each run from the last checkpoint's JSON."""
    clock = SimClock(SINCE)
    fake = _day(clock)
    seen: list[str] = []
    checkpoint: str | None = None
    step = 0
    with WebexEvents(token=fake.token, transport=fake.transport(), retry=FAST) as client:
        while clock.now() < FINISH:
            options = {**FOLLOW_OPTIONS, "org_id": fake.org_id, "clock": clock.now, "once": True}
            for batch in getattr(client, call)(**options, checkpoint=checkpoint):
                seen += [e.id for e in batch.events]
                checkpoint = batch.checkpoint.to_json()
            step += 1
            clock.advance(60 * (3 + step % 9))
    assert len(seen) == len(set(seen))
    assert set(seen) == set(_log(fake, operation).expected_ids(from_=SINCE, to=fake.end))


@pytest.mark.parametrize("command", [["webex_events.cli", "fake-server"], ["webex_events.testing"]])
def test_the_fake_server_command_prints_the_organization_and_serves_the_audit_streams(
    command: list[str],
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", *command, "--events", "500", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_cli.cli_env(None),
    )
    try:
        assert proc.stdout is not None
        assert proc.stderr is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:"), base_url
        found = None
        while found is None:  # the lines before it say how to use the server
            line = proc.stderr.readline()
            assert line, "the server said nothing of its organization"
            found = re.search(r"organization (\S+)", line)
        org = found[1]
        with httpx.Client(headers={"Authorization": "Bearer fake-token"}, timeout=30) as http:
            now = datetime.now(UTC)
            params = {_org(ADMIN): org, "from": _iso(now - timedelta(days=30)), "to": _iso(now)}
            answer = http.get(base_url + ADMIN.path, params=params)
            assert answer.status_code == 200, answer.text
            assert len(answer.json()["items"]) == 50  # a tenth of the events, all in the last 30 days
            assert http.get(base_url + ADMIN.path, params={**params, _org(ADMIN): "x"}).json()["items"] == []
    finally:
        proc.terminate()
        proc.wait(timeout=10)
