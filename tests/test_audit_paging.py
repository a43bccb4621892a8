"""The audit streams' paging rules, each pinned against a small scripted server (MockTransport).

Admin audit pages by ``offset`` (no Link header) and takes at most a year per request; its
``orgId`` is required and ``eventCategories`` is a comma-separated list. The fake server serves
both streams for the end-to-end tests (test_audit_streams.py); here the server is scripted to
break each rule on purpose: ranges over a year refused, new events pushing the offsets while a
listing runs, an offset ignored.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from webex_events import (
    AsyncWebexEvents,
    AuditEvent,
    InvalidArgumentError,
    PagingLoopError,
    RetryPolicy,
    SecurityAuditEvent,
    WebexEvents,
)
from webex_events_api.spec import LIST_ADMIN_AUDIT_EVENTS, LIST_SECURITY_AUDIT_EVENTS

BASE = "https://webex.test/v1"
FAST = RetryPolicy(backoff_base=0.001, backoff_cap=0.002, max_attempts=3, seed=1)
START = datetime(2023, 1, 1, tzinfo=UTC)
END = datetime(2025, 7, 1, tzinfo=UTC)  # two and a half years
ORG = "ORG-1"
ADMIN = LIST_ADMIN_AUDIT_EVENTS


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


class AuditServer:
    """Admin audit by the spec's words: newest first, offset paging, a year per request."""

    def __init__(self, count: int, *, ignore_offset: bool = False) -> None:
        span = _ms(END.isoformat()) - _ms(START.isoformat())
        start = _ms(START.isoformat())
        self.created = sorted((start + (i * 7919 * 104729) % span for i in range(count)), reverse=True)
        self.ignore_offset = ignore_offset
        self.requests: list[httpx.URL] = []
        self.arrivals: list[int] = []  # created of events that appear after each request

    def ids(self) -> set[str]:
        return {f"A{c}" for c in self.created}

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url)
        p = request.url.params
        if p.get("orgId") != ORG:
            return httpx.Response(400, json={"message": "orgId is required"})
        start_name, end_name = ADMIN.role("range-start").name, ADMIN.role("range-end").name
        lo, hi = _ms(p[start_name]), _ms(p[end_name])
        if hi - lo > 366 * 86_400_000:
            return httpx.Response(400, json={"message": "The time range cannot exceed one year."})
        size = int(p.get(ADMIN.role("page-size").name, "100"))
        offset = 0 if self.ignore_offset else int(p.get(ADMIN.role("page-offset").name, "0"))
        rows = [c for c in self.created if lo <= c < hi]
        page = rows[offset : offset + size]
        if self.arrivals:  # a new event arrives, newest of the range: later offsets shift by one
            self.created = sorted([*self.created, self.arrivals.pop()], reverse=True)
        items = [{"id": f"A{c}", "created": _iso(c), "actorOrgId": ORG, "data": {}} for c in page]
        return httpx.Response(200, json={"items": items})


def _client(server: AuditServer, **kw: object) -> WebexEvents:
    transport = httpx.MockTransport(server.handler)
    return WebexEvents(token="tok-audit-1", base_url=BASE, transport=transport, retry=FAST, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "listing", [{}, {"concurrency": 1}, {"window": timedelta(days=90)}, {"concurrency": 3}]
)
def test_offset_paging_over_years_is_exact_and_each_request_within_a_year(listing: dict[str, object]) -> None:
    server = AuditServer(900)
    with _client(server) as client:
        events = list(
            client.list_admin_audit_events(org_id=ORG, from_=START, to=END, page_size=50, **listing)
        )  # type: ignore[arg-type]
    ids = [e.id for e in events]
    assert len(ids) == len(set(ids))
    assert set(ids) == server.ids()
    assert all(type(e) is AuditEvent and e.actor_org_id == ORG for e in events)
    offsets = [int(u.params.get(ADMIN.role("page-offset").name, "0")) for u in server.requests]
    assert max(offsets) > 0, "pages past the first are asked by offset"


def test_events_arriving_while_offset_paging_shift_pages_without_loss_or_repeats() -> None:
    server = AuditServer(400)
    newest = server.created[0]
    server.arrivals = [newest + 1000 + i for i in range(30)]  # newer than all: they push offsets
    with _client(server) as client:
        events = list(
            client.list_admin_audit_events(org_id=ORG, from_=START, to=END, page_size=40, concurrency=1)
        )
    ids = [e.id for e in events]
    assert len(ids) == len(set(ids)), "a shifted page repeats its first events: delivered once"
    assert {f"A{c}" for c in server.created if c < newest + 1000} <= set(ids)


def test_a_server_ignoring_the_offset_is_a_paging_loop() -> None:
    server = AuditServer(300, ignore_offset=True)
    with _client(server) as client, pytest.raises(PagingLoopError, match="ignores offset"):
        list(client.list_admin_audit_events(org_id=ORG, from_=START, to=END, page_size=50, concurrency=1))


def test_arguments_are_checked_before_any_request() -> None:
    server = AuditServer(10)
    with _client(server) as client:
        with pytest.raises(InvalidArgumentError, match="org_id is required"):
            client.list_admin_audit_events(from_=START, to=END)  # type: ignore[call-arg]
        with pytest.raises(InvalidArgumentError, match="from_"):
            client.list_security_audit_events(org_id=ORG, from_=None)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError, match="page_size must be between 1 and 200"):
            client.list_admin_audit_events(org_id=ORG, from_=START, page_size=201)
        with pytest.raises(InvalidArgumentError, match="longer than one request"):
            client.list_admin_audit_events(org_id=ORG, from_=START, to=END, window=timedelta(days=400))
        with pytest.raises(InvalidArgumentError, match="event_categories must be a non-empty list"):
            client.list_admin_audit_events(org_id=ORG, from_=START, event_categories="LOGINS")  # type: ignore[typeddict-item]
    assert server.requests == []


def test_event_categories_go_out_comma_separated_and_security_pages_by_link() -> None:
    sent: list[httpx.URL] = []
    security = LIST_SECURITY_AUDIT_EVENTS

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url)
        created = _iso(_ms(request.url.params[security.role("range-end").name]) - 1)
        item = {
            "id": f"S{len(sent)}",
            "created": created,
            "actorOrgId": ORG,
            "data": {"eventCategory": "LOGINS"},
        }
        if len(sent) == 1:  # a next link, as the spec says this stream pages
            return httpx.Response(
                200, json={"items": [item]}, headers={"Link": f'<{request.url}&cursor=2>; rel="next"'}
            )
        return httpx.Response(200, json={"items": [item]})

    transport = httpx.MockTransport(handler)
    with WebexEvents(token="tok-audit-1", base_url=BASE, transport=transport, retry=FAST) as client:
        events = list(
            client.list_security_audit_events(
                org_id=ORG,
                from_=START,
                to=START + timedelta(days=1),
                concurrency=1,
                event_categories=["LOGINS", "LOGOUTS"],
            )
        )
    assert [type(e) for e in events] == [SecurityAuditEvent, SecurityAuditEvent]
    assert events[0].data.event_category == "LOGINS"
    assert sent[0].params["eventCategories"] == "LOGINS,LOGOUTS"
    assert "cursor=2" in str(sent[1])


def test_async_offset_paging_is_exact() -> None:
    server = AuditServer(500)

    async def run() -> list[str]:
        transport = httpx.MockTransport(server.handler)
        async with AsyncWebexEvents(
            token="tok-audit-1", base_url=BASE, transport=transport, retry=FAST
        ) as client:
            return [
                e.id
                async for e in client.list_admin_audit_events(org_id=ORG, from_=START, to=END, page_size=60)
            ]

    ids = asyncio.run(run())
    assert len(ids) == len(set(ids))
    assert set(ids) == server.ids()
