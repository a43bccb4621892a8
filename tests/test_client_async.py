"""End to end against FakeWebex (async client): the same guarantees as the sync client."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webex_events import (
    AsyncWebexEvents,
    Event,
    EventResource,
    NotFoundError,
    RetryPolicy,
    UnsafeNextLinkError,
)
from webex_events.testing import FakeWebex, Fault

END = datetime(2024, 1, 31, tzinfo=UTC)
START = END - timedelta(days=2)
TOKEN = "s3cr3t-async-token-654321"
FAST = RetryPolicy(backoff_base=0.001, backoff_cap=0.004, max_attempts=12, seed=7)
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def fake_org(**kw: Any) -> FakeWebex:
    kw.setdefault("events", 1500)
    kw.setdefault("seed", 3)
    return FakeWebex(start=START, end=END, token=TOKEN, **kw)


def client_for(fake: FakeWebex, **kw: Any) -> AsyncWebexEvents:
    kw.setdefault("retry", FAST)
    return AsyncWebexEvents(token=TOKEN, transport=fake.async_transport(), **kw)


async def collect(client: AsyncWebexEvents, **kw: Any) -> list[Event]:
    return [e async for e in client.list_events(**kw)]


def ids(events: list[Event]) -> list[str]:
    return [e.id for e in events]


class RecordingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.urls: list[httpx.URL] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(request.url)
        return await self.inner.handle_async_request(request)


def test_sequential_filters_and_get() -> None:
    fake = fake_org(unknown_fraction=0.05)

    async def main() -> None:
        async with client_for(fake) as client:
            assert ids(await collect(client, page_size=100)) == fake.expected_ids()
            got = await collect(client, resource=EventResource.MESSAGES, type="created", page_size=37)
            assert ids(got) == fake.expected_ids(resource="messages", type="created")
            actor = fake.actor_ids[1]
            # concurrency=1: one query (a date range is windowed by default), the server's order
            got_actor = await collect(client, actor_id=actor, from_=START + timedelta(hours=2), concurrency=1)
            assert ids(got_actor) == (fake.expected_ids(actor_id=actor, from_=START + timedelta(hours=2)))
            one = await client.get_event(got[3].id)
            assert one.raw_json.encode() == fake.event_json(got[3].id)
            with pytest.raises(NotFoundError):
                await client.get_event("no-such-event")

    run(main())


def test_windowed_order_bounded_and_exact() -> None:
    fake = fake_org()

    async def main() -> None:
        async with client_for(fake) as client:
            stream = client.list_events(
                from_=START, to=END, window=timedelta(hours=4), concurrency=3, page_size=60
            )
            windows = [w async for w in stream.windows()]
            assert stream.stats.windows_done == stream.stats.windows_total == 12
            for w in windows:
                assert ids(w.events) == fake.expected_ids(from_=w.start, to=w.end)
            assert [w.end for w in windows] == sorted(w.end for w in windows)

    run(main())


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lo_us=st.integers(0, 2 * 86_400 * 10**6),
    span_us=st.integers(0, 2 * 86_400 * 10**6),
    window_ms=st.integers(60_000, 10**8),
    from_inclusive=st.booleans(),
    to_inclusive=st.booleans(),
)
def test_chunking_exact_async(
    lo_us: int, span_us: int, window_ms: int, from_inclusive: bool, to_inclusive: bool
) -> None:
    fake = _EDGE
    fake.knobs.from_inclusive = from_inclusive
    fake.knobs.to_inclusive = to_inclusive
    lo = START + timedelta(microseconds=lo_us)
    hi = min(lo + timedelta(microseconds=span_us), END)

    async def main() -> list[Event]:
        async with client_for(fake) as client:
            return await collect(
                client, from_=lo, to=hi, window=timedelta(milliseconds=window_ms), concurrency=4, page_size=40
            )

    got = ids(run(main()))
    assert sorted(got) == sorted(fake.expected_ids(from_=lo, to=hi))
    assert len(got) == len(set(got))


_EDGE = fake_org(events=500, seed=12, same_millisecond_fraction=0.3, boundary_fraction=0.3)


def test_faults_of_every_kind_async(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="webex_events")
    # One thread: nothing runs between the fake handing over a 429 and the client closing its gate.
    fake = fake_org(
        events=2000, seed=5, fault_rate=0.1, faults=list(Fault), fault_retry_after=0.01, early_grace=0
    )

    async def main() -> list[Event]:
        async with client_for(fake) as client:
            return await collect(
                client, from_=START, to=END, window=timedelta(hours=3), concurrency=4, page_size=20
            )

    got = ids(run(main()))
    assert sorted(got) == sorted(fake.expected_ids(from_=START, to=END))
    assert len(got) == len(set(got))
    assert fake.stats.faults >= 5
    assert fake.stats.early_requests == 0
    assert TOKEN not in caplog.text


def test_rate_limited_async_no_early_requests() -> None:
    fake = fake_org(events=1200, rate_limit=15, latency=0.002, early_grace=0)

    async def main() -> list[Event]:
        async with client_for(fake, retry=RetryPolicy(max_attempts=20, seed=1)) as client:
            return await collect(
                # 48 requests: however they straddle the fake's one-second windows, one gets > 15.
                client,
                from_=START,
                to=END,
                window=timedelta(hours=2),
                concurrency=4,
                page_size=50,
            )

    got = ids(run(main()))
    assert sorted(got) == sorted(fake.expected_ids(from_=START, to=END))
    assert fake.stats.rate_limited > 0
    assert fake.stats.early_requests == 0


def test_504_and_link_repair_async() -> None:
    fake = fake_org(
        events=900, gateway_timeout_above=250, next_link_max_null=True, next_link_drops_filters=True
    )
    transport = RecordingTransport(fake.async_transport())

    async def main() -> list[Event]:
        async with AsyncWebexEvents(token=TOKEN, transport=transport, retry=FAST) as client:
            return await collect(client, resource="messages", page_size=1000)

    got = ids(run(main()))
    assert got == fake.expected_ids(resource="messages")
    maxes = [u.params["max"] for u in transport.urls]
    assert maxes[:3] == ["1000", "500", "250"]
    assert set(maxes[3:]) == {"250"}
    assert all(u.params["resource"] == "messages" for u in transport.urls)


def test_cross_host_next_link_refused_async() -> None:
    fake = fake_org(events=300, next_link_origin="https://evil.example.com")
    transport = RecordingTransport(fake.async_transport())

    async def main() -> None:
        async with AsyncWebexEvents(token=TOKEN, transport=transport, retry=FAST) as client:
            with pytest.raises(UnsafeNextLinkError):
                await collect(client, page_size=100)

    run(main())
    assert {u.host for u in transport.urls} == {"webexapis.com"}
    assert len(transport.urls) == 1


def test_early_break_cancels_tasks() -> None:
    fake = fake_org()

    async def main() -> None:
        async with client_for(fake) as client:
            stream = client.list_events(from_=START, to=END, window=timedelta(minutes=20), concurrency=3)
            agen = stream.__aiter__()
            first = [await agen.__anext__() for _ in range(3)]
            await agen.aclose()
            assert len(first) == 3
            assert stream.stats.windows_done <= 1 < stream.stats.windows_total
            before = fake.stats.requests
            await asyncio.sleep(0.05)
            assert fake.stats.requests == before  # nothing keeps running in the background

    run(main())


def test_async_over_loopback() -> None:
    fake = fake_org(events=700, fault_rate=0.1, faults=list(Fault), fault_retry_after=0.05)

    async def main(base_url: str) -> tuple[list[Event], list[Event]]:
        async with AsyncWebexEvents(token=TOKEN, base_url=base_url, retry=FAST) as client:
            seq = await collect(client, page_size=100)
            win = await collect(client, from_=START, to=END, window=timedelta(hours=6), concurrency=3)
            return seq, win

    with fake.serve() as base_url:
        seq, win = run(main(base_url))
    assert ids(seq) == fake.expected_ids()
    assert sorted(ids(win)) == sorted(fake.expected_ids(from_=START, to=END))
    for event in seq[:30]:
        assert event.raw_json.encode() == fake.event_json(event.id)
    assert fake.stats.early_requests == 0


def test_user_async_client_not_closed() -> None:
    fake = fake_org(events=10)

    async def main() -> bool:
        http = httpx.AsyncClient(transport=fake.async_transport())
        async with AsyncWebexEvents(token=TOKEN, http_client=http) as client:
            assert len(await collect(client)) == 10
        closed = http.is_closed
        await http.aclose()
        return closed

    assert run(main()) is False
