"""Issue 12: under a storm of 429s no request leaves while a Retry-After the client has read runs.

The fake serves over loopback (in this process) and answers 30 % of requests with "429,
Retry-After: 0.05"; the client lists a date range with 16 windows in flight. A transport records,
by a request id header, when each request's headers went out (the httpcore trace event right after
the gate's last look, in the same step as the socket write) and when each 429 came in; the fake's
``handle`` is wrapped to record when each request reached it (one monotonic clock for both).

Asserted, without any grace: no request went out during a Retry-After the client had read (client
side), and every request sent after the client read a 429 reached the server only after that 429's
Retry-After, counted from the moment the server received the rejected request (server side).

Not asserted: ``fake.stats.early_requests == 0``. The fake stamps a request when its handler thread
reads it; on a busy 2-core machine that thread runs late (measured: requests read 20-60 ms after
the client wrote them, 15-40 ms *before* the 429 they were counted early against was delivered),
so a few requests in flight are counted early. Both assertions here hold however late either side
runs: the client decides when it writes, and a request cannot arrive before it was written.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
import pytest

from webex_events import AsyncWebexEvents, RetryPolicy, WebexEvents
from webex_events.testing import FakeWebex

HEADERS_OUT = ("http11.send_request_headers.started", "http2.send_request_headers.started")
RESPONSE_IN = ("http11.receive_response_headers.complete", "http2.receive_response_headers.complete")
RETRY_AFTER = 0.05
# Every 429 is retried: the storm must end in a complete listing, not a RateLimitError.
PATIENT = RetryPolicy(max_attempts=60, seed=0)


class Recorder:
    """Client side, per request id: when its headers went out; for a 429, when and Retry-After."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.refused: dict[str, tuple[float, float]] = {}
        self._ids = itertools.count()

    def tag(self, request: httpx.Request) -> Callable[[str, Any], None]:
        """Give ``request`` an id header; return the recording function for its trace."""
        rid = str(next(self._ids))
        request.headers["x-storm-id"] = rid

        def record(event: str, info: Any) -> None:
            if event in HEADERS_OUT:  # after the client's own hook: it did not recall the request
                self.sent[rid] = time.monotonic()
            elif event in RESPONSE_IN and info["return_value"][1] == 429:
                headers = {name.lower(): value for name, value in info["return_value"][3]}
                self.refused[rid] = (time.monotonic(), float(headers[b"retry-after"]))

        return record


class Recording(httpx.HTTPTransport):
    def __init__(self, recorder: Recorder) -> None:
        super().__init__(limits=httpx.Limits(max_connections=32))
        self.recorder = recorder

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        record = self.recorder.tag(request)
        inner: Callable[[str, Any], None] | None = request.extensions.get("trace")

        def trace(event: str, info: Any) -> None:
            if inner is not None:
                inner(event, info)  # the client's hook first: it may recall the request
            record(event, info)

        request.extensions["trace"] = trace
        return super().handle_request(request)


class AsyncRecording(httpx.AsyncHTTPTransport):
    def __init__(self, recorder: Recorder) -> None:
        super().__init__(limits=httpx.Limits(max_connections=32))
        self.recorder = recorder

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        record = self.recorder.tag(request)
        inner: Callable[[str, Any], Awaitable[None]] | None = request.extensions.get("trace")

        async def trace(event: str, info: Any) -> None:
            if inner is not None:
                await inner(event, info)
            record(event, info)

        request.extensions["trace"] = trace
        return await super().handle_async_request(request)


def storm(seed: int) -> FakeWebex:
    return FakeWebex(
        events=3000,
        seed=seed,
        fault_rate=0.3,
        faults=["429"],
        fault_retry_after=RETRY_AFTER,
        latency=0.03,
        early_grace=0.02,
    )


def list_sync(fake: FakeWebex, url: str, recorder: Recorder) -> list[str]:
    with WebexEvents(token=fake.token, base_url=url, retry=PATIENT, transport=Recording(recorder)) as client:
        stream = client.list_events(from_=fake.start, to=fake.end, page_size=100, concurrency=16)
        return [e.id for e in stream]


def list_async(fake: FakeWebex, url: str, recorder: Recorder) -> list[str]:
    async def main() -> list[str]:
        client = AsyncWebexEvents(
            token=fake.token, base_url=url, retry=PATIENT, transport=AsyncRecording(recorder)
        )
        async with client:
            stream = client.list_events(from_=fake.start, to=fake.end, page_size=100, concurrency=16)
            return [e.id async for e in stream]

    return asyncio.run(main())


def arrivals(fake: FakeWebex, monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    """Server side: when each request (by id) reached the fake's handler."""
    seen: dict[str, float] = {}
    app = fake._app
    handle = app.handle

    def spy(method: str, origin: str, target: str, headers: Mapping[str, str]) -> Any:
        seen[headers["x-storm-id"]] = time.monotonic()
        return handle(method, origin, target, headers)

    monkeypatch.setattr(app, "handle", spy)
    return seen


@pytest.mark.parametrize(
    ("lister", "grace"),
    [
        pytest.param(list_async, 0.0, id="async"),
        # Threads: between one thread reading a 429 and closing the gate another may run; that
        # moment is what the fake's early_grace allows (async: same task step, no moment at all).
        pytest.param(list_sync, 0.02, id="sync"),
    ],
)
def test_no_request_leaves_during_a_retry_after_the_client_has_read(
    lister: Callable[[FakeWebex, str, Recorder], list[str]],
    grace: float,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="webex_events")  # hundreds of retry lines
    fake = storm(seed=5)
    recorder = Recorder()
    arrived = arrivals(fake, monkeypatch)
    with fake.serve() as url:
        ids = lister(fake, url, recorder)
    assert sorted(ids) == sorted(fake.expected_ids(from_=fake.start, to=fake.end))
    assert len(recorder.refused) >= 10, "the storm did not happen"

    # Client side: no request's headers went out while a Retry-After it had read was running.
    during = [
        (sent_id, got_id, round((sent - got) * 1000, 1))
        for got_id, (got, pause) in recorder.refused.items()
        for sent_id, sent in recorder.sent.items()
        if got + grace <= sent < got + pause
    ]
    # Server side: a request sent after the client read a 429 arrived after its Retry-After, counted
    # from when the server received the rejected request (before it even decided: a lower bound).
    early = [
        (sent_id, got_id, round((arrived[sent_id] - arrived[got_id]) * 1000, 1))
        for got_id, (got, pause) in recorder.refused.items()
        for sent_id, sent in recorder.sent.items()
        if sent >= got + grace and arrived[sent_id] < arrived[got_id] + pause
    ]
    stats = fake.stats
    summary = (
        f"{stats.requests} requests, {stats.rate_limited} 429s, {stats.waited_out} waited out,"
        f" {stats.early_requests} early by the fake's count"
    )
    assert during == [], f"sent during a Retry-After (id, 429 id, ms after it): {during[:10]}; {summary}"
    assert early == [], f"reached the server inside a Retry-After (ms after it): {early[:10]}; {summary}"
