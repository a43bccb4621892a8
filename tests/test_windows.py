"""The window scheduler (``_schedule``) and the early end of a listing at a full page (``split``).

Exactness first: every event of ``[from_, to)`` exactly once, windows in ascending order tiling
the range, whatever the server does at the bounds, with same-millisecond ties across pages,
faults and rate limits; sync and async, in process and over loopback. Then the scheduler's own
arithmetic (hypothesis, sans-IO) and the fallbacks (a server not newest first, a page inside one
millisecond).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webex_events import AsyncWebexEvents, Event, ListStats, RetryPolicy, WebexEvents, Window
from webex_events._dates import ceil_ms, format_ms, from_ms
from webex_events._operations import Split
from webex_events._query import build_query
from webex_events._schedule import REORDER_PAGES_PER_WORKER, Schedule, Task
from webex_events.testing import FakeWebex, Fault

END = datetime(2024, 1, 31, tzinfo=UTC)
START = END - timedelta(days=2)
TOKEN = "s3cr3t-schedule-token-abcdef"
FAST = RetryPolicy(backoff_base=0.001, backoff_cap=0.004, max_attempts=12, seed=7)


def fake_org(**kw: Any) -> FakeWebex:
    kw.setdefault("events", 1500)
    kw.setdefault("seed", 5)
    return FakeWebex(start=START, end=END, token=TOKEN, **kw)


def ids(events: list[Event]) -> list[str]:
    return [e.id for e in events]


def check_windows(fake: FakeWebex, windows: list[Window], lo: datetime, hi: datetime) -> None:
    """The windows tile [lo, hi) in order; each holds its events in the server's order; exact."""
    got = [e.id for w in windows for e in w.events]
    assert sorted(got) == sorted(fake.expected_ids(from_=lo, to=hi))
    assert len(set(got)) == len(got)
    assert windows[0].start == from_ms(ceil_ms(lo))
    assert windows[-1].end == from_ms(ceil_ms(hi))
    for before, after in itertools.pairwise(windows):
        assert before.end == after.start  # contiguous and ascending
    for w in windows:
        assert ids(w.events) == fake.expected_ids(from_=w.start, to=w.end)


# ------------------------------------------------------------------ exactness against the fake

_EDGE = fake_org(events=900, seed=9, same_millisecond_fraction=0.3, boundary_fraction=0.3)
_CREATED = sorted({datetime.fromisoformat(e["created"]) for e in _EDGE.events})


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    # Real event times (and +-1 ms) to hit ties and bounds, or arbitrary sub-ms instants.
    if draw(st.booleans()):
        base = draw(st.sampled_from(_CREATED))
        return base + timedelta(milliseconds=draw(st.integers(-1, 1)))
    us = draw(st.integers(0, int((END - START).total_seconds() * 1e6)))
    return START + timedelta(microseconds=us)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    a=instants(),
    b=instants(),
    page_size=st.sampled_from([1, 2, 3, 7, 20, 64]),
    concurrency=st.integers(1, 6),
    from_inclusive=st.booleans(),
    to_inclusive=st.booleans(),
)
def test_auto_windows_are_exact_under_any_inclusivity_and_ties(
    a: datetime, b: datetime, page_size: int, concurrency: int, from_inclusive: bool, to_inclusive: bool
) -> None:
    lo, hi = min(a, b), max(a, b)
    _EDGE.knobs.from_inclusive = from_inclusive
    _EDGE.knobs.to_inclusive = to_inclusive
    with WebexEvents(token=TOKEN, transport=_EDGE.transport(), retry=FAST) as client:
        stream = client.list_events(from_=lo, to=hi, page_size=page_size, concurrency=concurrency)
        windows = list(stream.windows())
    expected = _EDGE.expected_ids(from_=lo, to=hi)
    got = [e.id for w in windows for e in w.events]
    assert sorted(got) == sorted(expected)
    assert len(set(got)) == len(got)
    for before, after in itertools.pairwise(windows):
        assert before.end == after.start
    for w in windows:
        assert ids(w.events) == _EDGE.expected_ids(from_=w.start, to=w.end)
    if ceil_ms(lo) < ceil_ms(hi) and concurrency > 1:
        assert stream.stats.windows_done == stream.stats.windows_total == len(windows)


@pytest.mark.parametrize("page_size", [5, 50, 333])
def test_auto_windows_sync_in_process(page_size: int) -> None:
    fake = fake_org(same_millisecond_fraction=0.3, boundary_fraction=0.3)
    with WebexEvents(token=TOKEN, transport=fake.transport(), retry=FAST, concurrency=5) as client:
        windows = list(client.list_events(from_=START, to=END, page_size=page_size).windows())
    check_windows(fake, windows, START, END)
    if page_size == 5:
        assert len(windows) > 100  # the range was split, not listed page after page


def test_auto_windows_async_in_process() -> None:
    fake = fake_org(same_millisecond_fraction=0.3, boundary_fraction=0.3, from_inclusive=False)

    async def main() -> list[Window]:
        async with AsyncWebexEvents(
            token=TOKEN, transport=fake.async_transport(), retry=FAST, concurrency=5
        ) as client:
            return [w async for w in client.list_events(from_=START, to=END, page_size=20).windows()]

    check_windows(fake, asyncio.run(main()), START, END)


def test_auto_windows_with_faults_and_rate_limits_over_loopback() -> None:
    fake = fake_org(
        events=1200,
        same_millisecond_fraction=0.3,
        boundary_fraction=0.3,
        to_inclusive=True,
        fault_rate=0.15,
        faults=list(Fault),
        fault_retry_after=0.02,
    )
    lo, hi = START + timedelta(hours=1, milliseconds=7), END - timedelta(hours=2)
    with fake.serve() as base_url:
        with WebexEvents(token=TOKEN, base_url=base_url, retry=FAST, concurrency=6) as client:
            sync_windows = list(client.list_events(from_=lo, to=hi, page_size=40).windows())

        async def main() -> list[Window]:
            async with AsyncWebexEvents(token=TOKEN, base_url=base_url, retry=FAST, concurrency=6) as client:
                return [w async for w in client.list_events(from_=lo, to=hi, page_size=40).windows()]

        async_windows = asyncio.run(main())
    check_windows(fake, sync_windows, lo, hi)
    check_windows(fake, async_windows, lo, hi)
    assert fake.stats.faults > 0
    assert fake.stats.early_requests == 0


def test_auto_windows_under_a_rate_limit() -> None:
    fake = fake_org(events=600, rate_limit=200.0, fault_retry_after=0.01)
    with WebexEvents(token=TOKEN, transport=fake.transport(), retry=FAST, concurrency=8) as client:
        windows = list(client.list_events(from_=START, to=END, page_size=25).windows())
    check_windows(fake, windows, START, END)


def test_requests_stay_close_to_the_minimum_number_of_pages() -> None:
    # Evenly spread events (no bursts): windows of ~0.93 page, so about 1.1 requests per page.
    fake = fake_org(events=20_000, same_millisecond_fraction=0.0, boundary_fraction=0.0)
    with WebexEvents(token=TOKEN, transport=fake.transport(), retry=FAST, concurrency=8) as client:
        stream = client.list_events(from_=START, to=END, page_size=500)
        got = ids(list(stream))
    assert sorted(got) == sorted(fake.expected_ids(from_=START, to=END))
    minimum = -(-len(got) // 500)
    assert stream.stats.requests <= 1.25 * minimum


@pytest.mark.parametrize(
    ("seed", "concurrency", "bound"),
    [
        # The count is not deterministic: the order pages come back in (threads) moves the density
        # each window is cut from. 40 listings of each, two at a time on both cores: 107-113
        # requests for each seed (the CI once saw 113 with seed 2); windows of one page cost
        # 115-120. The bound sits between the two.
        (2, 8, 1.14),
        (3, 8, 1.14),
        # The first request's page of this organization is 5 % sparser than the rest: every window
        # of the first round (cut from that page alone, 32 pages at concurrency 16) overflowed
        # with a margin for a Poisson density error only: 1.14-1.18x. With the error widened for
        # bursts (_Density.error): 1.08-1.13x.
        (7, 16, 1.14),
    ],
)
def test_bursty_events_cost_few_requests_beyond_the_minimum(
    seed: int, concurrency: int, bound: float
) -> None:
    # The fake's default organization is bursty (hot milliseconds, hour and day boundaries):
    # counts in equal spans vary 1.6x as much as evenly spread ones. Windows of one page each,
    # sized by the density of the page before, cost 1.15-1.20x the minimum here (issue 13);
    # windows of up to MAX_WINDOW_PAGES pages whose rest is listed on, sized by the exact count
    # of every page so far, cost 1.08-1.11x. (The bench reports the ratio; this bounds it.)
    end = datetime(2025, 1, 1, tzinfo=UTC)
    start = end - timedelta(days=30)
    fake = FakeWebex(events=100_000, seed=seed, start=start, end=end)
    with WebexEvents(token=fake.token, transport=fake.transport(), concurrency=concurrency) as client:
        stream = client.list_events(from_=start, to=end)
        count = sum(1 for _ in stream)
    assert count == 100_000
    assert stream.stats.requests <= round(bound * 100)


def test_a_range_of_one_page_is_one_request() -> None:
    fake = fake_org(events=30)
    with WebexEvents(token=TOKEN, transport=fake.transport(), retry=FAST, concurrency=8) as client:
        stream = client.list_events(from_=START, to=END)
        assert sorted(ids(list(stream))) == sorted(fake.expected_ids(from_=START, to=END))
    assert stream.stats.requests == 1


def test_defaults_window_a_range_and_not_an_unbounded_listing() -> None:
    fake = fake_org(events=300)
    with WebexEvents(token=TOKEN, transport=fake.transport(), retry=FAST) as client:
        ranged = client.list_events(from_=START, to=END, page_size=10)
        unbounded = client.list_events(page_size=10)
        one = client.list_events(from_=START, to=END, page_size=10, concurrency=1)
        assert ranged._query.windowed
        assert ranged._query.concurrency == 8
        assert not unbounded._query.windowed
        assert not one._query.windowed
        assert ids(list(one)) == fake.expected_ids(from_=START, to=END)  # the server's order
        assert sorted(ids(list(ranged))) == sorted(fake.expected_ids(from_=START, to=END))
        assert ids(list(unbounded)) == fake.expected_ids()
    assert ranged.stats.windows_done > 1


# ------------------------------------------------------------------ fallbacks (MockTransport)


def _served(
    created: list[str], *, newest_first: bool
) -> tuple[Callable[[httpx.Request], httpx.Response], list[httpx.URL]]:
    """A tiny server of events E0..En at ``created``, [from, to) filtered, offset next links."""
    sent: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url)
        params = request.url.params
        lo, hi, size = params.get("from", ""), params["to"], int(params["max"])
        rows = [(c, f"E{i}") for i, c in enumerate(created) if lo <= c < hi]
        rows.sort(reverse=newest_first)
        offset = int(params.get("offset", "0"))
        items = [{"id": i, "created": c, "resource": "messages", "type": "created"} for c, i in rows]
        chunk = items[offset : offset + size]
        headers = {}
        if offset + size < len(items):
            headers["Link"] = f'<{request.url.copy_set_param("offset", str(offset + size))}>; rel="next"'
        return httpx.Response(200, headers=headers, content=json.dumps({"items": chunk}).encode())

    return handler, sent


def _ms(base: int, offset: int) -> str:
    return format_ms(base + offset)


BASE_MS = 1_700_000_000_000


def test_a_server_not_newest_first_is_followed_page_by_page() -> None:
    created = [_ms(BASE_MS, i * 1000) for i in range(57)]
    handler, _ = _served(created, newest_first=False)
    with WebexEvents(
        token=TOKEN, transport=httpx.MockTransport(handler), retry=FAST, concurrency=4
    ) as client:
        stream = client.list_events(
            from_=created[0], to=format_ms(BASE_MS + 57_000), page_size=5, concurrency=4
        )
        got = ids(list(stream))
    assert sorted(got) == sorted(f"E{i}" for i in range(57))
    assert len(set(got)) == 57
    assert stream.stats.requests == 12  # one listing, every next link followed


def test_a_full_page_inside_one_millisecond_follows_the_next_link() -> None:
    created = [_ms(BASE_MS, 5)] * 23 + [_ms(BASE_MS, 3)] * 4 + [_ms(BASE_MS, 9)] * 2
    handler, _ = _served(created, newest_first=True)
    with WebexEvents(token=TOKEN, transport=httpx.MockTransport(handler), retry=FAST) as client:
        stream = client.list_events(
            from_=format_ms(BASE_MS), to=format_ms(BASE_MS + 10), page_size=4, concurrency=3
        )
        windows = list(stream.windows())
    got = [e.id for w in windows for e in w.events]
    assert sorted(got) == sorted(f"E{i}" for i in range(len(created)))
    assert len(set(got)) == len(created)


def test_ties_at_the_split_point_are_listed_once() -> None:
    # Pages of 4 end inside runs of equal instants: the events at the oldest instant of a full
    # page are left to the rest of the range, never kept twice nor lost.
    created = [_ms(BASE_MS, t) for t in (1, 2, 2, 2, 2, 2, 3, 3, 3, 4, 4, 7, 7, 7, 7, 7, 8, 9)]
    handler, sent = _served(created, newest_first=True)
    with WebexEvents(token=TOKEN, transport=httpx.MockTransport(handler), retry=FAST) as client:
        stream = client.list_events(
            from_=format_ms(BASE_MS), to=format_ms(BASE_MS + 10), page_size=4, concurrency=2
        )
        got = ids(list(stream))
    assert sorted(got) == sorted(f"E{i}" for i in range(len(created)))
    assert any("offset" not in str(url) for url in sent[1:])  # the rest was listed as new windows


# ------------------------------------------------------------------ the scheduler, sans-IO

_LO = BASE_MS


def _query(span: int, page_size: int, concurrency: int, window_ms: int | None) -> Any:
    return build_query(
        filters={},
        from_=format_ms(_LO),
        to=format_ms(_LO + span),
        page_size=page_size,
        window="auto" if window_ms is None else timedelta(milliseconds=window_ms),
        concurrency=concurrency,
        default_concurrency=concurrency,
        now=datetime(2100, 1, 1, tzinfo=UTC),
    )


@settings(max_examples=200, deadline=None)
@given(
    span=st.integers(1, 10**7),
    page_size=st.integers(1, 50),
    concurrency=st.integers(1, 6),
    window_ms=st.none() | st.integers(1, 10**7),
    data=st.data(),
)
def test_schedule_tiles_the_range_in_order_with_a_bounded_buffer(
    span: int, page_size: int, concurrency: int, window_ms: int | None, data: st.DataObject
) -> None:
    if window_ms is not None and -(-span // window_ms) > 2000:
        return  # exactness does not depend on the number of windows
    query = _query(span, page_size, concurrency, window_ms)
    schedule = Schedule(query, ListStats())
    running: list[Task] = []
    popped: list[tuple[datetime, datetime | None]] = []
    buffer = REORDER_PAGES_PER_WORKER * concurrency
    for _ in range(20_000):
        while len(running) < concurrency:
            held = schedule._done  # finished pages waiting for the consumer
            if (task := schedule.take()) is None:
                break
            index, segment = schedule._find(task)
            # Backpressure: with the buffer full only the oldest part or a window's rest starts.
            assert held < buffer or index == 0 or segment.rest
            assert task.lo < task.hi
            assert all(task.hi <= t.lo or t.hi <= task.lo for t in running)  # never overlapping
            running.append(task)
        if data.draw(st.booleans(), label="consume") or not running:
            window = schedule.pop()
            if window is not None:
                popped.append((window.start, window.end))  # type: ignore[arg-type]
            elif schedule.complete:
                break
            continue
        task = running.pop(data.draw(st.integers(0, len(running) - 1), label="which finishes"))
        # A window may end early (a full page) at any point inside it: the rest goes back.
        at = None
        if task.split and task.hi - task.lo > 1 and data.draw(st.booleans(), label="full page"):
            at = data.draw(st.integers(task.lo + 1, task.hi - 1), label="split at")
        density = data.draw(st.floats(0.0, 10.0), label="density")
        schedule.done(task, [], None if at is None else Split(at, density))
    else:
        pytest.fail("the schedule did not finish")
    assert not running
    assert popped[0][0] == datetime.fromtimestamp(_LO / 1000, UTC)
    assert popped[-1][1] == datetime.fromtimestamp((_LO + span) / 1000, UTC)
    for (_, end), (start, _) in itertools.pairwise(popped):
        assert end == start


def test_a_full_buffer_lets_only_the_oldest_window_start() -> None:
    query = _query(10**6, 10, 2, 1000)  # 1000 fixed windows
    schedule = Schedule(query, ListStats())
    first = schedule.take()
    assert first is not None
    later = []
    while (task := schedule.take()) is not None:
        later.append(task)
        schedule.done(task, [], None)  # finished out of order, the consumer waits for `first`
    assert len(later) == REORDER_PAGES_PER_WORKER * 2
    assert schedule.pop() is None  # the oldest is still running
    schedule.done(first, [], None)
    assert schedule.pop() is not None  # `first`: the buffer is still full of `later`
    assert schedule.take() is None
    assert schedule.pop() is not None
    assert schedule.take() is not None  # a slot is free again


def test_a_failed_window_reaches_the_consumer_in_order() -> None:
    query = _query(100, 10, 3, 10)
    schedule = Schedule(query, ListStats())
    a, b, c = schedule.take(), schedule.take(), schedule.take()
    assert a is not None
    assert b is not None
    assert c is not None
    schedule.failed(b, RuntimeError("boom"))
    schedule.done(c, [], None)
    assert schedule.take() is None  # nothing after a failed window starts
    schedule.done(a, [], None)
    assert schedule.pop() is not None
    with pytest.raises(RuntimeError, match="boom"):
        schedule.pop()


@pytest.mark.parametrize("concurrency", [2, 4, 8])
def test_windows_are_of_two_pages_while_a_page_per_worker_is_left(concurrency: int) -> None:
    # Guided windows: long while there is much to do, of one page at the end so that no worker is
    # left with a chain of two requests. Each window end costs a partial page, so the switch
    # comes as late as it can: once the pages left no longer give each worker one (issue 13:
    # switching below 1.5 pages per worker cost one or two requests more per 100 pages, for no
    # wall time measured). A density from 100 events is 15 % uncertain: windows of two pages of
    # 100 are aimed at 150 events, of one page at 64.
    q = build_query(
        filters={},
        from_="2024-01-01T00:00:00Z",
        to="2024-01-01T00:00:03Z",
        page_size=100,
        window="auto",
        concurrency=concurrency,
        default_concurrency=4,
    )
    schedule = Schedule(q, ListStats())
    first = schedule.take()
    assert first is not None
    schedule.done(first, [[None] * 100], Split(first.lo + 2900, density=1.0))  # type: ignore[list-item]
    *windows, last = list(iter(schedule.take, None))
    for window in windows:
        left = first.lo + 2900 - window.lo  # events not yet in a window (one per millisecond)
        assert window.hi - window.lo == (150 if left > concurrency * 100 else 64), (left, window)
    assert last.hi == first.lo + 2900  # the rest fits one window
    assert last.hi - last.lo < 200


@pytest.mark.parametrize("client_type", ["sync", "async"])
def test_the_last_part_of_a_range_is_windows_side_by_side_not_one_window_of_two_pages(
    client_type: str,
) -> None:
    # 2.5 pages of evenly spread events. The first request lists the newest page; the 1.5 pages
    # left fit one window of two pages, whose second request would wait for its first. At the
    # end of a range they are one window per page instead, fetched together: as many requests,
    # one round trip less. (Pages of 1000: a density from one page of 100 events is too
    # uncertain for pieces of 75 to be aimed below a page, and that part stays one window.)
    fake = fake_org(events=2500, same_millisecond_fraction=0.0, boundary_fraction=0.0)
    if client_type == "sync":
        with WebexEvents(token=TOKEN, transport=fake.transport(), concurrency=8) as client:
            stream = client.list_events(from_=START, to=END, page_size=1000)
            windows = list(stream.windows())
    else:

        async def listing() -> tuple[Any, list[Window]]:
            async with AsyncWebexEvents(
                token=TOKEN, transport=fake.async_transport(), concurrency=8
            ) as client:
                stream = client.list_events(from_=START, to=END, page_size=1000)
                return stream, [w async for w in stream.windows()]

        stream, windows = asyncio.run(listing())
    check_windows(fake, windows, START, END)
    assert stream.stats.requests == 3
    assert len(windows[-1].events) >= 999  # the first request's page (its oldest ms: the rest's)
    assert len(windows) == 3
    # Two pieces of equal length, neither near full (the one window listed a full page, then its
    # rest once that page was in)
    assert all(600 < len(w.events) <= 900 for w in windows[:2])
    assert windows[0].end - windows[0].start == pytest.approx(
        windows[1].end - windows[1].start, abs=timedelta(milliseconds=1)
    )
