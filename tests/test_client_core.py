"""The request/paging/retry core, through the public clients, with small httpx.MockTransport servers."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from webex_events import (
    APIError,
    AsyncWebexEvents,
    AuthenticationError,
    BadRequestError,
    ListStats,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    UnsafeNextLinkError,
    WebexConnectionError,
    WebexEvents,
    Window,
)
from webex_events._links import parse_link_header

TOKEN = "s3cr3t-core-token-9f8e"
BASE = "https://webexapis.com/v1"
FAST = RetryPolicy(backoff_base=0.001, backoff_cap=0.002, max_attempts=4, retry_after_cap=0.05, seed=0)
CREATED = "2024-01-01T00:00:00.000Z"


def event(i: int, created: str = CREATED, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"E{i}",
        "resource": "messages",
        "type": "created",
        "actorId": "A",
        "orgId": "O",
        "created": created,
        "data": {"id": f"M{i}"},
        **extra,
    }


def page(items: list[dict[str, Any]], next_url: str | None = None, status: int = 200) -> httpx.Response:
    headers = {"TrackingID": "TRK-1"}
    if next_url:
        headers["Link"] = f'<{next_url}>; rel="next"'
    return httpx.Response(status, headers=headers, content=json.dumps({"items": items}).encode())


def make_client(handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> WebexEvents:
    return WebexEvents(token=TOKEN, transport=httpx.MockTransport(handler), retry=kw.pop("retry", FAST), **kw)


# ------------------------------------------------------------------------------ links


def test_parse_link_header_rfc8288() -> None:
    links = parse_link_header(
        [
            '<https://a/x?c=1,2>; rel="prev", <https://a/y>; title="a, b; c"; REL="Next Last"',
            "</z>;rel=next",
        ]
    )
    assert links == [
        ("https://a/x?c=1,2", {"rel": "prev"}),
        ("https://a/y", {"title": "a, b; c", "rel": "Next Last"}),
        ("/z", {"rel": "next"}),
    ]
    assert parse_link_header(["garbage, <u>; rel=next"]) == [("u", {"rel": "next"})]


def test_paging_follows_next_links_as_opaque_urls() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        n = int(request.url.params.get("cursor", "0"))
        nxt = f"{BASE}/events?cursor={n + 1}&max=2" if n < 4 else None
        # "next" not first, multiple rels, relative-free
        resp = page([event(2 * n), event(2 * n + 1)], None)
        if nxt:
            resp.headers["Link"] = f'<{BASE}/events?x=1>; rel="prev", <{nxt}>; rel="next"'
        return resp

    with make_client(handler) as client:
        stream = client.list_events(page_size=2)
        ids = [e.id for e in stream]
    assert ids == [f"E{i}" for i in range(10)]
    assert stream.stats.pages == 5
    assert stream.stats.requests == 5
    assert "cursor=3" in seen[3]


def test_relative_next_link_is_resolved_against_the_request() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "cursor" in request.url.params:
            return page([event(2)])
        return page([event(1)], "/v1/events?cursor=abc&max=5")

    with make_client(handler) as client:
        assert [e.id for e in client.list_events(page_size=5)] == ["E1", "E2"]


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example.com/v1/events?cursor=1",
        "http://webexapis.com/v1/events?cursor=1",
        "https://webexapis.com:8443/v1/events?cursor=1",
        "//evil.example.com/v1/events?cursor=1",
    ],
)
def test_cross_origin_next_link_is_refused_before_sending(target: str) -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(f"{request.url.scheme}://{request.url.host}:{request.url.port}")
        return page([event(1)], target)

    with make_client(handler) as client:
        stream = client.list_events()
        with pytest.raises(UnsafeNextLinkError) as info:
            list(stream)
    assert hosts == ["https://webexapis.com:None"]
    assert TOKEN not in str(info.value)


def test_next_link_repairs_max_null_and_dropped_filters() -> None:
    requests: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request.url)
        if len(requests) == 1:
            return page([event(1)], f"{BASE}/events?cursor=c1&max=null")
        if len(requests) == 2:
            return page([event(2)], f"{BASE}/events?cursor=c2&max=9999&resource=messages")
        return page([event(3)])

    with make_client(handler) as client:
        ids = [
            e.id for e in client.list_events(resource="messages", type="created", actor_id="A1", page_size=7)
        ]
    assert ids == ["E1", "E2", "E3"]
    for url in requests:
        assert url.params["resource"] == "messages"
        assert url.params["type"] == "created"
        assert url.params["actorId"] == "A1"
        assert url.params["max"] == "7"
        assert "to" in url.params
    assert requests[1].params["cursor"] == "c1"


def test_504_halves_max_for_retry_and_following_pages() -> None:
    maxes: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        maxes.append(request.url.params["max"])
        if int(request.url.params["max"]) > 300:
            return httpx.Response(504, json={"message": "Gateway Timeout"})
        if "cursor" not in request.url.params:
            # the server echoes the original max in its next link: the client must lower it
            return page([event(1)], f"{BASE}/events?cursor=1&max=1000")
        return page([event(2)])

    with make_client(handler) as client:
        stream = client.list_events(page_size=1000)
        assert [e.id for e in stream] == ["E1", "E2"]
    assert maxes == ["1000", "500", "250", "250"]
    assert stream.stats.retries == 2


# ------------------------------------------------------------------------------ retries


def test_retry_after_and_backoff_then_success(caplog: pytest.LogCaptureFixture) -> None:
    statuses = iter([429, 503, 500, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(statuses)
        if status == 200:
            return page([event(1)])
        return httpx.Response(status, headers={"Retry-After": "0.01", "TrackingID": f"T{status}"}, json={})

    caplog.set_level(logging.WARNING, logger="webex_events")
    with make_client(handler) as client:
        stream = client.list_events()
        assert [e.id for e in stream] == ["E1"]
    assert stream.stats.retries == 3
    records = [r for r in caplog.records if r.name == "webex_events"]
    assert len(records) == 3
    assert "HTTP 429" in records[0].getMessage()
    assert "T429" in records[0].getMessage()
    assert "attempt 1 of 4" in records[0].getMessage()
    assert TOKEN not in caplog.text


@pytest.mark.parametrize(
    "exc",
    [httpx.ConnectError("boom"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("cut")],
)
def test_transport_errors_are_retried_then_raise_connection_error(exc: Exception) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise exc

    with make_client(handler) as client, pytest.raises(WebexConnectionError, match=type(exc).__name__):
        list(client.list_events())
    assert calls == FAST.max_attempts


def test_truncated_json_is_retried() -> None:
    bodies = iter([b'{"items":[{"id":"E1"', json.dumps({"items": [event(1)]}).encode()])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=next(bodies))

    with make_client(handler) as client:
        stream = client.list_events()
        assert [e.id for e in stream] == ["E1"]
    assert stream.stats.retries == 1


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, APIError),
        (429, RateLimitError),
        (423, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
    ],
)
def test_error_mapping(status: int, cls: type[APIError]) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        body = {
            "message": f"Nope {status} {TOKEN}",
            "errors": [{"description": "why"}],
            "trackingId": "BODY-T",
        }
        return httpx.Response(status, headers={"TrackingID": "HDR-T", "Retry-After": "0"}, json=body)

    with make_client(handler) as client, pytest.raises(cls) as info:
        client.get_event("E1")
    err = info.value
    assert type(err) is cls
    assert err.status_code == status
    assert err.tracking_id == "HDR-T"
    assert err.errors == ("why",)
    assert err.url == f"{BASE}/events/E1"
    assert str(status) in str(err)
    assert "HDR-T" in str(err)
    assert TOKEN not in str(err)
    assert TOKEN not in repr(err)
    assert TOKEN not in err.message
    retried = status in {423, 429, 500, 502, 503}
    assert calls == (FAST.max_attempts if retried else 1)


def test_max_total_seconds_bounds_retries() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(429, headers={"Retry-After": "30"}, json={"message": "slow down"})

    policy = RetryPolicy(max_attempts=50, max_total_seconds=1.0, retry_after_cap=60)
    with make_client(handler, retry=policy) as client, pytest.raises(RateLimitError):
        client.get_event("E1")
    assert calls == 1  # waiting 30 s would exceed the 1 s budget


def test_redirects_are_not_followed() -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return httpx.Response(302, headers={"Location": "https://evil.example.com/steal"})

    with make_client(handler) as client, pytest.raises(APIError) as info:
        client.get_event("E1")
    assert info.value.status_code == 302
    assert hosts == ["webexapis.com"]


def test_user_http_client_auth_cannot_replace_token_and_is_not_closed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        return httpx.Response(200, json=event(1))

    http = httpx.Client(transport=httpx.MockTransport(handler), auth=("user", "pw"))
    with WebexEvents(token=TOKEN, http_client=http) as client:
        assert client.get_event("E1").id == "E1"
    assert not http.is_closed
    http.close()


def test_get_event_quotes_the_id() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.raw_path == b"/v1/events/a%2Fb%3Fc%20d"
        return httpx.Response(200, content=b' {"id":"a/b?c d","created":"x"} ')

    with make_client(handler) as client:
        got = client.get_event("a/b?c d")
    assert got.raw_json == '{"id":"a/b?c d","created":"x"}'


def test_range_filter_applies_even_in_sequential_mode() -> None:
    lo = datetime(2024, 1, 1, tzinfo=UTC)
    hi = lo + timedelta(hours=1)

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["from"] == "2023-12-31T23:59:59.999Z"
        assert request.url.params["to"] == "2024-01-01T01:00:00.000Z"
        return page(
            [
                event(1, "2024-01-01T01:00:00.000Z"),  # == to: excluded
                event(2, "2024-01-01T00:59:59.999Z"),
                event(3, "2024-01-01T00:00:00.000Z"),  # == from: included
                event(4, "2023-12-31T23:59:59.999Z"),  # from - 1 ms: excluded
                event(5, "2024-01-01T01:30:00+01:00"),  # non-canonical, 00:30Z: included
                event(6, "2024-01-01T00:00:00Z"),  # non-canonical == from: included
                event(7, "2024-01-01T00:59:59.9995Z"),  # sub-ms before to: included
            ]
        )

    with make_client(handler) as client:
        ids = [e.id for e in client.list_events(from_=lo, to=hi)]
    assert ids == ["E2", "E3", "E5", "E6", "E7"]


# ------------------------------------------------------------------------------ the gate


class Trickling:
    """A server of empty pages (each after 5 ms) whose 100th request gets "429, Retry-After: 0.3"
    with a body that trickles in over 0.2 s. Records when each request entered the transport,
    when the 429 was handed back and when its body began to be read."""

    PAUSE = 0.3

    def __init__(self) -> None:
        self.entered: list[float] = []
        self.lock = threading.Lock()
        self.back = self.body_from = self.body_to = 0.0

    def _refused(self) -> httpx.Response | None:
        with self.lock:
            self.entered.append(time.monotonic())
            if len(self.entered) != 100:
                return None
        headers = {"Retry-After": str(self.PAUSE), "Content-Type": "application/json"}
        self.back = time.monotonic()
        return httpx.Response(429, headers=headers, stream=TrickledBody(self))

    def chunks(self) -> Iterator[bytes]:
        self.body_from = time.monotonic()
        for chunk in (b'{"message": ', b'"slow', b" down", b'"}'):
            yield chunk
            self.body_to = time.monotonic()

    def sync(self, request: httpx.Request) -> httpx.Response:
        if (refused := self._refused()) is not None:
            return refused
        time.sleep(0.005)
        return page([])

    async def async_(self, request: httpx.Request) -> httpx.Response:
        if (refused := self._refused()) is not None:
            return refused
        await asyncio.sleep(0.005)
        return page([])


class TrickledBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """The 429's body: a chunk every 50 ms."""

    def __init__(self, server: Trickling) -> None:
        self.server = server

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.server.chunks():
            time.sleep(0.05)
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.server.chunks():
            await asyncio.sleep(0.05)
            yield chunk


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_gate_closes_before_a_429s_body_is_read(mode: str) -> None:
    """A 429's Retry-After pauses the other workers from its headers on, not once its body is in."""
    server = Trickling()
    lo = datetime(2024, 1, 1, tzinfo=UTC)
    kw: dict[str, Any] = {"from_": lo, "to": lo + timedelta(hours=4), "window": timedelta(minutes=1)}
    kw["concurrency"] = 4
    retry = RetryPolicy(max_attempts=4, seed=0)
    if mode == "sync":
        with WebexEvents(token=TOKEN, transport=httpx.MockTransport(server.sync), retry=retry) as client:
            stream = client.list_events(**kw)
            windows = list(stream.windows())
            stats = stream.stats
    else:

        async def main() -> tuple[ListStats, list[Window]]:
            transport = httpx.MockTransport(server.async_)
            async with AsyncWebexEvents(token=TOKEN, transport=transport, retry=retry) as client:
                stream = client.list_events(**kw)
                windows = [w async for w in stream.windows()]
                return stream.stats, windows  # (each run of a stream has new stats)

        stats, windows = asyncio.run(main())
    assert len(windows) == 240
    assert len(server.entered) == 241
    assert stats.retries == 1
    assert server.body_to - server.body_from > 0.15  # it trickled
    # From the moment its body began to be read, no request entered until the pause was over
    # (those already in flight had entered before).
    pause_end = server.back + server.PAUSE
    assert [t - server.body_from for t in server.entered if server.body_from < t < pause_end] == []
