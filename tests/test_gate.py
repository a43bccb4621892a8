"""The rate-limit gate: pacing after a 429 and its fade-out through the clients, then the policy
object (``_gate.Gate``) on a hand-driven clock.

That no request starts while a Retry-After the client has read holds is tests/test_rate_storm.py;
that the gate closes before a 429's body is read is tests/test_client_core.py.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from webex_events import AsyncWebexEvents, RetryPolicy, WebexEvents
from webex_events._gate import Gate
from webex_events.testing import FakeWebex

END = datetime(2024, 1, 31, tzinfo=UTC)
START = END - timedelta(days=2)
PATIENT = RetryPolicy(max_attempts=100, seed=0)
#: Seconds a request takes to reach the fake: the requests in flight when the server decides a
#: 429 arrive after it and are refused too, before the client could know.
UPLINK = 0.02


class Limited(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """The fake in process, reached ``UPLINK`` seconds after a request enters the transport.

    Records how many requests were in flight as each one entered, and when each reached the fake
    (on the fake's clock) with its status. ``lift``: the fake's rate limit is lifted as soon as
    its first 429 comes back.
    """

    def __init__(self, fake: FakeWebex, clock: Callable[[], float], *, lift: bool = False) -> None:
        self.fake, self.clock, self.lift = fake, clock, lift
        self.inner, self.async_inner = fake.transport(), fake.async_transport()
        self.lock = threading.Lock()
        self.flying = 0
        self.entered: list[tuple[float, int]] = []  # (when, requests in flight with it)
        self.answered: list[tuple[float, int]] = []  # (when it reached the fake, status)
        self.lifted: float | None = None

    def _enter(self) -> None:
        with self.lock:
            self.flying += 1
            self.entered.append((self.clock(), self.flying))

    def _back(self, at: float, response: httpx.Response) -> None:
        with self.lock:
            self.flying -= 1
            self.answered.append((at, response.status_code))
            if response.status_code == 429 and self.lift and self.lifted is None:
                self.fake.knobs.rate_limit = None
                self.lifted = self.clock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._enter()
        time.sleep(UPLINK)
        at = self.clock()
        response = self.inner.handle_request(request)
        self._back(at, response)
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._enter()
        await asyncio.sleep(UPLINK)
        at = self.clock()
        response = await self.async_inner.handle_async_request(request)
        self._back(at, response)
        return response

    def first_429(self) -> float | None:
        return next((at for at, status in self.answered if status == 429), None)


def list_windows(
    mode: str, transport: Limited, *, windows: int, concurrency: int, enough: Callable[[], bool] = bool
) -> None:
    """List the fake's range in ``windows`` fixed windows (one request each) until ``enough()``."""
    kw: dict[str, Any] = {"from_": START, "to": END, "window": (END - START) / windows}
    kw["concurrency"] = concurrency
    token = transport.fake.token
    if mode == "sync":
        with WebexEvents(token=token, transport=transport, retry=PATIENT) as client:
            for _ in client.list_events(**kw).windows():
                if enough():
                    break
        return

    async def main() -> None:
        async with AsyncWebexEvents(token=token, transport=transport, retry=PATIENT) as client:
            async for _ in client.list_events(**kw).windows():
                if enough():
                    break

    asyncio.run(main())


def rate_limited(limit: float) -> tuple[FakeWebex, Callable[[], float]]:
    """A fake allowing ``limit`` requests a second, its seconds counted from now."""
    origin = time.monotonic()

    def clock() -> float:
        return time.monotonic() - origin

    return FakeWebex(events=300, seed=1, start=START, end=END, rate_limit=limit, clock=clock), clock


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_pacing_after_a_429_means_fewer_429s_in_the_next_second(mode: str) -> None:
    # 40 requests a second, 16 workers: in the first second 40 go through in a few tens of ms, and
    # every request in flight when the 41st is refused is refused too. The pause runs to the end
    # of the second; then starts are paced at 90 % of what got through, rising slowly: the next
    # second's limit is reached late in it, with few requests in flight. Without pacing, each
    # second would be the first again (measured: 8-16 429s in the first second, 3-4 in the next).
    fake, clock = rate_limited(40)
    transport = Limited(fake, clock)

    def enough() -> bool:
        first = transport.first_429()
        return first is not None and transport.answered[-1][0] >= math.floor(first) + 2

    list_windows(mode, transport, windows=300, concurrency=16, enough=enough)
    first = transport.first_429()
    assert first is not None, "no 429"
    counts = Counter((math.floor(at) - math.floor(first), status) for at, status in transport.answered)
    assert counts[0, 429] >= 6, counts  # a burst, refused together
    assert counts[1, 429] <= counts[0, 429] / 2, counts
    # and the pace is about the limit, not far below it (429s of requests already in flight, from
    # the same burst, lower nothing further)
    assert counts[1, 200] >= 20, counts


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_pacing_fades_out_once_the_limit_is_gone(mode: str) -> None:
    # The limit is lifted as the first 429 comes back: paced starts rise by 2 % each until pacing
    # stops, after a few hundred. Paced, a request starts after the one before is nearly done
    # (the fake answers in UPLINK); unpaced, every worker has one in flight.
    fake, clock = rate_limited(40)
    transport = Limited(fake, clock, lift=True)
    list_windows(mode, transport, windows=500, concurrency=8)
    assert transport.lifted is not None, "no 429"
    flying = [count for at, count in transport.entered if at > transport.lifted]
    assert max(flying[:40]) < 8, flying[:40]  # paced
    assert max(flying[-100:]) == 8, flying[-100:]  # not any more
    assert sum(1 for _, status in transport.answered if status == 429) >= 1


# ------------------------------------------------------------------ the policy, on a hand clock


class Clock:
    """A hand-driven monotonic clock."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def after_a_burst(n: int = 20, pause: float = 0.5) -> tuple[Gate, Clock]:
    """``n`` requests start evenly over the second [100, 101); at 101 a 429 with ``pause``."""
    clock = Clock(100.0)
    gate = Gate(clock)
    for i in range(n):
        clock.now = 100.0 + (i + 0.5) / n
        assert gate.wait() == 0.0
    clock.now = 101.0
    gate.block_for(pause, rate_limited=True)
    return gate, clock


def paced_intervals(gate: Gate, clock: Clock, starts: int) -> list[float]:
    """Let ``starts`` requests start, each at its slot; the waits between them."""
    intervals = []
    for _ in range(starts):
        assert gate.wait() == 0.0
        wait = gate.wait()
        intervals.append(wait)
        clock.now += wait
    return intervals


def test_no_429_no_waiting() -> None:
    clock = Clock(100.0)
    gate = Gate(clock)
    for i in range(10_000):
        clock.now = 100.0 + i * 1e-4  # 10,000 requests a second
        assert gate.wait() == 0.0


@pytest.mark.parametrize("rate_limited", [False, True])
def test_a_pause_holds_every_start_and_is_never_shortened(rate_limited: bool) -> None:
    clock = Clock(10.0)
    gate = Gate(clock)
    gate.block_for(2.0, rate_limited=rate_limited)
    gate.block_for(1.0, rate_limited=rate_limited)  # never shortens
    for _ in range(5):  # as many callers as you like: all wait
        assert gate.wait() == pytest.approx(2.0)
    clock.now = 11.5
    assert gate.wait() == pytest.approx(0.5)
    clock.now = 12.0
    # a plain pause (503, 423) does not pace; nor does a 429 after fewer than a few starts
    assert [gate.wait() for _ in range(5)] == [0.0] * 5


def test_waiting_takes_no_start_slot() -> None:
    gate, clock = after_a_burst(pause=0.5)
    clock.now = 101.2
    for _ in range(100):  # callers asking during the pause are told to wait, and take nothing
        assert gate.wait() == pytest.approx(0.3)
    clock.now = 101.5
    assert gate.wait() == 0.0  # the first after the pause goes at once
    assert gate.wait() == pytest.approx(1 / (0.9 * 20))  # the next one slot later


def test_after_a_burst_starts_are_paced_at_90_percent_rising_2_percent_each() -> None:
    gate, clock = after_a_burst(n=20)
    clock.now = 101.5
    intervals = paced_intervals(gate, clock, 10)
    assert intervals == pytest.approx([1 / (0.9 * 20) / 1.02**k for k in range(10)])
    # callers at the same instant: one slot each
    waits = [gate.wait() for _ in range(5)]
    assert waits.count(0.0) == 1
    assert all(wait == pytest.approx(intervals[-1] / 1.02) for wait in waits if wait)


def test_a_late_start_keeps_the_schedule_and_an_idle_spell_saves_no_slots() -> None:
    gate, clock = after_a_burst(n=20)
    clock.now = 101.5
    assert gate.wait() == 0.0
    interval = 1 / 18
    clock.now += interval * 1.3  # a sleep overshot by less than a slot: that slot is still its own
    assert gate.wait() == 0.0
    clock.now += interval * 0.7  # and the next one is still due on time
    assert gate.wait() == 0.0
    clock.now += interval * 5  # an idle spell: one start, then the next a whole slot later
    assert gate.wait() == 0.0
    assert gate.wait() == pytest.approx(interval / 1.02**3)


def test_threads_at_one_instant_take_one_slot_between_them() -> None:
    gate, clock = after_a_burst(n=20)
    clock.now = 101.5  # the clock stands still: one slot is due
    granted: list[float] = []

    def worker() -> None:
        granted.extend(wait for wait in (gate.wait() for _ in range(2000)) if wait == 0.0)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 1


def test_429s_of_requests_already_in_flight_lower_the_pace_no_further() -> None:
    # 16 workers: the first 429 and the 7 of the requests in flight with it arrive within a few
    # ms, no request starting in between (the gate is closed): one estimate, not eight.
    gate, clock = after_a_burst(n=20, pause=0.5)
    for k in range(1, 8):
        clock.now = 101.0 + k * 0.001
        gate.block_for(0.5 - k * 0.001, rate_limited=True)
    clock.now = 101.5
    assert paced_intervals(gate, clock, 2) == pytest.approx([1 / 18, 1 / 18 / 1.02])


def test_another_429_while_pacing_slows_the_pace() -> None:
    gate, clock = after_a_burst(n=20)
    clock.now = 101.5
    before = paced_intervals(gate, clock, 20)[-1]
    clock.now += 0.001
    gate.block_for(0.1, rate_limited=True)
    clock.now += 0.1
    assert paced_intervals(gate, clock, 1)[0] > before


def test_pacing_fades_out() -> None:
    gate, clock = after_a_burst(n=20)
    clock.now = 101.5
    starts = 0
    while True:  # each request starts at its slot, no 429 comes
        assert gate.wait() == 0.0
        starts += 1
        wait = gate.wait()
        if wait == 0.0:
            break  # two at the same instant: not paced any more
        clock.now += wait
        assert starts < 1000, "pacing does not fade out"
    # at 18 a second rising 2 % a start, it passes 1000 a second after about 200 starts
    assert 150 < starts < 300
    assert [gate.wait() for _ in range(100)] == [0.0] * 100


def test_429s_whatever_the_pace_stop_pacing_rather_than_spiral_it_down() -> None:
    # Injected 429s (faults, not a rate limit) after every few paced starts: each would lower the
    # pace by 10 %; once under half the highest estimate, pacing stops instead.
    gate, clock = after_a_burst(n=20)
    clock.now = 101.5
    for _ in range(20):
        intervals = paced_intervals(gate, clock, 5)
        if intervals[-1] == 0.0:
            break
        clock.now += 0.001
        gate.block_for(0.01, rate_limited=True)
        clock.now += 0.01
    else:
        pytest.fail("pacing spiralled down")
    assert all(interval <= 2 / 18 for interval in intervals)
