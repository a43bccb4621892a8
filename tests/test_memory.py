"""What keeps an export's memory bounded (issue 13): one worker decodes at a time, the JSONL
rendering builds no window-sized text, and the CLI's malloc settings (a user's own win)."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import webex_events._client as client_module
from webex_events import AsyncWebexEvents, Event, ListStats, RetryPolicy, WebexEvents
from webex_events._operations import _in_range
from webex_events._schedule import Schedule
from webex_events._wire import TextDemand, decode_page
from webex_events.cli import _malloc
from webex_events.cli._export import _render
from webex_events.testing import FakeWebex

END = datetime(2024, 1, 31, tzinfo=UTC)
START = END - timedelta(days=2)
TOKEN = "s3cr3t-memory-token-abcdef"
FAST = RetryPolicy(backoff_base=0.001, backoff_cap=0.004, max_attempts=12, seed=7)


def test_the_workers_of_a_sync_listing_decode_one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each step of a window's listing (where its pages are decoded) runs alone, I/O overlaps."""
    real = client_module.list_range
    lock = threading.Lock()
    inside = 0
    most = 0

    def traced(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        nonlocal inside, most
        gen = real(*args, **kwargs)
        result = None
        while True:
            with lock:
                inside += 1
                most = max(most, inside)
            try:
                time.sleep(0.001)  # gives up the GIL: without the gate another worker steps in
                action = gen.send(result)
            except StopIteration as done:
                return done.value
            finally:
                with lock:
                    inside -= 1
            result = yield action

    monkeypatch.setattr(client_module, "list_range", traced)
    fake = FakeWebex(start=START, end=END, token=TOKEN, events=1500, seed=5)
    with WebexEvents(token=TOKEN, transport=fake.transport(), retry=FAST, concurrency=6) as client:
        windows = list(client.list_events(from_=START, to=END, page_size=50).windows())
    got = [e.id for w in windows for e in w.events]
    assert sorted(got) == sorted(fake.expected_ids(from_=START, to=END))
    assert len(windows) > 6
    assert most == 1


def _live_events() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is Event)


def _wait_for_pages(stats: ListStats, pages: int) -> None:
    deadline = time.monotonic() + 10
    while stats.pages < pages and time.monotonic() < deadline:
        time.sleep(0.005)
    assert stats.pages >= pages, stats


@pytest.mark.parametrize("client_type", ["sync", "async"])
def test_events_are_made_when_the_consumer_reaches_their_page(client_type: str) -> None:
    """Finished windows wait in the reorder buffer as pages, not as Event objects (the collector
    walked those again and again: issue 13); a page's events are made as the consumer gets there."""
    fake = FakeWebex(start=START, end=END, token=TOKEN, events=3000, seed=8)
    size, ahead = 50, 8  # the consumer holds the first event while workers fetch 8 pages more
    if client_type == "sync":
        with WebexEvents(token=TOKEN, transport=fake.transport(), retry=FAST, concurrency=4) as client:
            stream = client.list_events(from_=START, to=END, page_size=size, window="auto")
            events = iter(stream)
            first = next(events)
            _wait_for_pages(stream.stats, ahead)
            live = _live_events()
            rest = [e.id for e in events]
    else:

        async def run() -> tuple[Event, int, list[str]]:
            async with AsyncWebexEvents(
                token=TOKEN, transport=fake.async_transport(), retry=FAST, concurrency=4
            ) as client:
                stream = client.list_events(from_=START, to=END, page_size=size, window="auto")
                events = aiter(stream)
                first = await anext(events)
                for _ in range(2000):  # (10 s at most)
                    if stream.stats.pages >= ahead:
                        break
                    await asyncio.sleep(0.005)
                assert stream.stats.pages >= ahead, stream.stats
                live = _live_events()
                return first, live, [e.id async for e in events]

        first, live, rest = asyncio.run(run())
    assert sorted([first.id, *rest]) == sorted(fake.expected_ids(from_=START, to=END))
    # The consumer's page (made at once: one C loop) and nothing of the pages buffered behind it.
    assert live <= size, live


def test_one_at_a_time_releases_the_gate_and_closes_the_listing() -> None:
    gate = threading.Lock()
    closed = []

    def listing() -> Generator[str, Any, int]:
        try:
            value = yield "send"
            if value == "boom":
                raise ValueError("bad page")
            yield "again"
            return 1
        finally:
            closed.append(True)

    steps = Schedule.one_at_a_time(listing(), gate)
    assert next(steps) == "send"
    with pytest.raises(ValueError, match="bad page"):
        steps.send("boom")
    assert not gate.locked()
    assert closed == [True]

    steps = Schedule.one_at_a_time(listing(), gate)
    assert next(steps) == "send"
    assert steps.send("ok") == "again"
    steps.close()  # the driver stopped (a consumer gone): the listing is closed too
    assert not gate.locked()
    assert closed == [True, True]


@pytest.mark.parametrize("source", ["events", "text-only page"])
@pytest.mark.parametrize("whitespace", ["", "\n", "\r", "\r\n"])
def test_jsonl_rendering_is_the_exact_texts_one_per_line(source: str, whitespace: str) -> None:
    texts = [
        '{"id":"a","data":{"text":"plain"}}',
        '{"id":"b","data":{"text":"caf\u00e9 \u2603 \U0001f600"}}',  # 2-, 3- and 4-byte characters
        f'{{"id":"c",{whitespace}"data":{{}}}}',  # a raw CR/LF (insignificant whitespace) becomes a space
        '{"id":"d","data":{"text":"a\\nb"}}',  # an escaped newline stays as it is
    ]
    if source == "events":
        events = [Event(raw_json=t) for t in texts]
    else:  # what a raw export lists: the page's UTF-8 bytes, no str made
        demand = TextDemand()
        demand.wanted = True
        body = ('{"items":[' + ",".join(texts) + "]}").encode()
        events = _in_range(decode_page(body, exact=True, demand=demand), None, "9999", None, 0).make()
        assert {type(e._raw_json) for e in events} == {bytes}
    expected = "\n".join(t.replace("\r", " ").replace("\n", " ") for t in texts) + "\n"
    assert _render(events, "jsonl") == expected.encode("utf-8")
    assert [e.raw_json for e in events] == texts
    assert _render([], "jsonl") == b""


class _FakeLibc:
    """``ctypes.CDLL(None)`` with a ``mallopt`` that records its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []
        self.mallopt = self

    def __call__(self, option: int, value: int) -> int:
        self.calls.append((option, value))
        return 1


@pytest.fixture
def libc(monkeypatch: pytest.MonkeyPatch) -> _FakeLibc:
    fake = _FakeLibc()
    for name in ("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_malloc.sys, "platform", "linux")
    monkeypatch.setattr(_malloc.ctypes, "CDLL", lambda _name: fake)
    return fake


def test_the_cli_caps_arenas_and_fixes_the_mmap_threshold(libc: _FakeLibc) -> None:
    assert _malloc.limit_malloc_arenas()
    assert libc.calls == [(_malloc._M_ARENA_MAX, 2), (_malloc._M_MMAP_THRESHOLD, _malloc.MMAP_THRESHOLD)]


def test_a_users_malloc_settings_win(libc: _FakeLibc, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=65536")
    assert _malloc.limit_malloc_arenas()
    assert libc.calls == []
    monkeypatch.delenv("GLIBC_TUNABLES")
    assert _malloc.limit_malloc_arenas(mmap_threshold=None)
    assert libc.calls == []
