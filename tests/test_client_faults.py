"""10 % injected faults of each kind, one kind at a time: the result is still the exact set."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from webex_events import AsyncWebexEvents, RetryPolicy, WebexEvents
from webex_events.testing import FakeWebex, Fault

END = datetime(2024, 3, 1, tzinfo=UTC)
START = END - timedelta(days=1)
TOKEN = "fault-test-token-0123456789"
FAST = RetryPolicy(backoff_base=0.001, backoff_cap=0.004, max_attempts=15, seed=11)


def faulty(kind: Fault, *, latency: float = 0.0, retry_after: float = 0.005, grace: float = 0.0) -> FakeWebex:
    return FakeWebex(
        latency=latency,
        early_grace=grace,
        events=900,
        seed=21,
        start=START,
        end=END,
        token=TOKEN,
        fault_rate=0.1,
        faults=[kind],
        fault_retry_after=retry_after,
    )


def check(fake: FakeWebex, got: list[str]) -> None:
    assert sorted(got) == sorted(fake.expected_ids(from_=START, to=END))
    assert len(got) == len(set(got))
    assert fake.stats.faults >= 3, "the fault was not exercised"
    assert fake.stats.early_requests == 0


@pytest.mark.parametrize("kind", list(Fault), ids=lambda kind: kind.value)
def test_sync_windowed_listing_survives_each_fault_kind(kind: Fault) -> None:
    # Threads: a little latency, as on a real network (a request that passed the gate just
    # before another thread saw a Retry-After is already on its way and cannot be recalled), and
    # the fake's default early_grace for the moment a preempted thread needs to close the gate;
    # Retry-After is well above that grace, so a client without a shared gate still shows.
    fake = faulty(kind, latency=0.002, retry_after=0.05, grace=0.02)
    with WebexEvents(token=TOKEN, transport=fake.transport(), retry=FAST) as client:
        stream = client.list_events(
            from_=START, to=END, window=timedelta(hours=2), concurrency=3, page_size=10
        )
        got = [event.id for event in stream]
    check(fake, got)
    assert stream.stats.retries >= fake.stats.faults


@pytest.mark.parametrize("kind", list(Fault), ids=lambda kind: kind.value)
def test_async_sequential_listing_survives_each_fault_kind(kind: Fault) -> None:
    fake = faulty(kind)

    async def run() -> list[str]:
        async with AsyncWebexEvents(token=TOKEN, transport=fake.async_transport(), retry=FAST) as client:
            return [event.id async for event in client.list_events(from_=START, to=END, page_size=10)]

    check(fake, asyncio.run(run()))
