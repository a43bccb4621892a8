"""Issue 12: no request starts while a Retry-After the client has read is running.

A transport wrapper records, by one monotonic clock, when each request enters the transport and
when each 429 is handed back to the client (with its Retry-After); a log handler records when
the client logs "retrying GET ... after HTTP 429 ...", which it does after it closed its gate
(the gate closes as the 429's headers are seen, the line is logged once its body is read). So
the client had read the 429 at that log record, and the pause it took runs at least until the
429's hand-back plus its Retry-After: no request may enter the transport in between. That is
exact, with no grace: requests already in flight when the 429 arrived entered before the record.

Two storms, each listing a date range with 16 windows in flight, sync and async: the fake over
loopback answering 30 % of requests with "429, Retry-After: 0.05", and the fake in process,
reached 20 ms after a request enters the transport, with a rate limit of 60 requests a second
(a 429 with a Retry-After up to the next second, also for the requests already on their way).
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import httpx
import pytest

from webex_events import AsyncWebexEvents, RetryPolicy, WebexEvents
from webex_events.testing import FakeWebex

# Every 429 is retried: the storm must end in a complete listing, not a RateLimitError.
PATIENT = RetryPolicy(max_attempts=60, seed=0)
_RETRY_429 = re.compile(r"^retrying GET .* after HTTP 429 \(attempt .*; tracking id (\S+)$")


class Recorder(logging.Handler):
    """What entered the transport, which 429s came back, and when the client logged each 429."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.entered: list[float] = []
        self.refused: dict[str, tuple[float, float]] = {}  # tracking id: (handed back at, Retry-After)
        self.logged: list[tuple[float, str]] = []  # (when, tracking id of the 429)
        self.mutex = threading.Lock()

    def enter(self) -> None:
        with self.mutex:
            self.entered.append(time.monotonic())

    def back(self, response: httpx.Response) -> None:
        if response.status_code == 429:
            at = time.monotonic()
            with self.mutex:
                self.refused[response.headers["trackingid"]] = (at, float(response.headers["retry-after"]))

    def emit(self, record: logging.LogRecord) -> None:
        at = time.monotonic()
        if (found := _RETRY_429.match(record.getMessage())) is not None:
            with self.mutex:
                self.logged.append((at, found.group(1)))

    @contextmanager
    def listening(self) -> Iterator[None]:
        logger = logging.getLogger("webex_events")
        level = logger.level  # (an in-process CLI test may have raised it: -q)
        logger.setLevel(logging.WARNING)
        logger.addHandler(self)
        try:
            yield
        finally:
            logger.removeHandler(self)
            logger.setLevel(level)

    def started_during_a_pause(self) -> list[tuple[str, float]]:
        """Requests that entered after a 429's log record and before its Retry-After ran out:
        (the 429's tracking id, ms after the record)."""
        return [
            (tracking, round((entered - logged) * 1000, 3))
            for logged, tracking in self.logged
            for entered in self.entered
            if logged < entered < self.refused[tracking][0] + self.refused[tracking][1]
        ]


class Recording(httpx.BaseTransport):
    """Records into ``recorder``; ``uplink``: seconds a request takes to reach ``inner``."""

    def __init__(self, inner: httpx.BaseTransport, recorder: Recorder, uplink: float) -> None:
        self.inner, self.recorder, self.uplink = inner, recorder, uplink

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.recorder.enter()
        time.sleep(self.uplink)
        response = self.inner.handle_request(request)
        self.recorder.back(response)
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncRecording(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, recorder: Recorder, uplink: float) -> None:
        self.inner, self.recorder, self.uplink = inner, recorder, uplink

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.recorder.enter()
        await asyncio.sleep(self.uplink)
        response = await self.inner.handle_async_request(request)
        self.recorder.back(response)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class Storm(NamedTuple):
    knobs: dict[str, Any]  # the fake's
    page_size: int
    uplink: float  # in process: seconds a request takes to reach the fake (loopback: none added)
    at_least: int  # 429s retried


STORMS = {
    # 30 % of requests answered "429, Retry-After: 0.05", over loopback (about 50 requests).
    "faults-loopback": Storm({"fault_rate": 0.3, "faults": ["429"], "fault_retry_after": 0.05}, 100, 0.0, 10),
    # At most 60 requests a calendar second, in process (about 170 requests): those in flight
    # when the first 429 of a second is decided get a 429 too.
    "rate-limit-in-process": Storm({"rate_limit": 60}, 20, 0.02, 3),
}


def list_all(fake: FakeWebex, recorder: Recorder, mode: str, base_url: str | None, storm: Storm) -> list[str]:
    """The fake's whole range, 16 windows at a time, through a recording transport."""
    kw: dict[str, Any] = {
        "from_": fake.start,
        "to": fake.end,
        "page_size": storm.page_size,
        "concurrency": 16,
    }
    limits = httpx.Limits(max_connections=32)
    where = {} if base_url is None else {"base_url": base_url}
    if mode == "sync":
        inner = fake.transport() if base_url is None else httpx.HTTPTransport(limits=limits)
        transport = Recording(inner, recorder, storm.uplink)
        with WebexEvents(token=fake.token, retry=PATIENT, transport=transport, **where) as client:
            return [e.id for e in client.list_events(**kw)]

    async def main() -> list[str]:
        inner = fake.async_transport() if base_url is None else httpx.AsyncHTTPTransport(limits=limits)
        transport = AsyncRecording(inner, recorder, storm.uplink)
        async with AsyncWebexEvents(token=fake.token, retry=PATIENT, transport=transport, **where) as client:
            return [e.id async for e in client.list_events(**kw)]

    return asyncio.run(main())


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("storm", list(STORMS))
def test_no_request_starts_during_a_retry_after_the_client_has_read(mode: str, storm: str) -> None:
    fake = FakeWebex(events=3000, seed=5, latency=0.03, **STORMS[storm].knobs)
    recorder = Recorder()
    with recorder.listening():
        if storm.endswith("loopback"):
            with fake.serve() as url:
                ids = list_all(fake, recorder, mode, url, STORMS[storm])
        else:
            ids = list_all(fake, recorder, mode, None, STORMS[storm])
    assert sorted(ids) == sorted(fake.expected_ids(from_=fake.start, to=fake.end))
    assert len(recorder.logged) >= STORMS[storm].at_least, "the storm did not happen"
    assert all(tracking in recorder.refused for _, tracking in recorder.logged)
    during = recorder.started_during_a_pause()
    stats = fake.stats
    summary = f"{stats.requests} requests, {stats.rate_limited} 429s, {len(recorder.logged)} logged"
    assert during == [], (
        f"started during a Retry-After (429, ms after it was logged): {during[:10]}; {summary}"
    )
