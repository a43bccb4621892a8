"""Windowed listings: which window to list next, and the ordered, bounded hand-out (sans-IO).

:func:`list_windows` lists up to ``concurrency`` windows at once (``Spawn``); finished windows
wait in a bounded reorder buffer (``BUFFER_PER_WORKER`` x concurrency) and are handed out in
ascending time order. When it is full only the window the consumer waits for may start.

Fixed windows (``window=timedelta``) tile the range on the user's grid. ``window="auto"``
starts with one request over the whole range (the *probe*). A range of a few pages is listed on,
whole; a larger one is cut into windows of about ``WINDOW_PAGES`` pages by the density of the
probe's page (then of the windows listed), the probe's page set aside: the server's pages are
not assumed to be in any order (Webex documents none), so only a range listed whole, every next
link followed, is known complete. Every window is listed whole.
"""

from __future__ import annotations

import math

from ._actions import Emit, Handle, Program, Spawn, Wait, relay
from ._dates import WindowPlan, from_ms, spans
from ._event import Event
from ._models import ListStats, Window
from ._operations import Overflow, list_range
from ._query import Query
from ._requester import Requester

__all__ = ["BUFFER_PER_WORKER", "WINDOW_PAGES", "Schedule", "list_windows"]

#: Pages an auto window aims at. Each window's oldest page is partial: longer windows cost fewer
#: requests, but their pages are listed one after the other and wait for each other.
WINDOW_PAGES = 2
#: How full an auto window is aimed (below 1: a window that overflows costs a nearly empty page).
_FILL = 0.9
#: Finished windows held for the consumer, per worker, before no new window may start.
BUFFER_PER_WORKER = 2


class _Part:
    """A part of the range: pending, running, done (``events``) or failed (``error``).

    ``probe``: the first request of an auto listing; ``cut``: to be cut into windows.
    """

    __slots__ = ("cut", "error", "events", "hi", "lo", "probe", "running")

    def __init__(self, lo: int, hi: int, *, cut: bool = False, probe: bool = False) -> None:
        self.lo, self.hi, self.cut, self.probe = lo, hi, cut, probe
        self.running = False
        self.events: list[Event] | None = None
        self.error: BaseException | None = None


class Schedule:
    """The windows of one windowed listing (see the module docstring).

    >>> from webex_events._query import build_query
    >>> q = build_query(filters={}, from_="2024-01-01T00:00:00Z", to="2024-01-01T00:00:01.600Z",
    ...                 page_size=100, window="auto", concurrency=2, default_concurrency=2)
    >>> s = Schedule(q)
    >>> first = s.take()  # the whole range first
    >>> lo = first.lo
    >>> (first.hi - lo, s.take())
    (1600, None)
    >>> s.done(first, [], Overflow(100, lo + 1500))  # its page: 100 events in [lo + 1500, hi)
    >>> # 1 event/ms: windows aimed at 90 % of 2 pages, over the whole range
    >>> [(p.lo - lo, p.hi - lo) for p in iter(s.take, None)]  # doctest: +NORMALIZE_WHITESPACE
    [(0, 180), (180, 360), (360, 540), (540, 720), (720, 900), (900, 1080), (1080, 1260),
     (1260, 1440), (1440, 1530), (1530, 1600)]
    """

    def __init__(self, query: Query) -> None:
        assert query.lo_ms is not None
        self._concurrency = query.concurrency
        self._page_size = query.page_size
        self._plan = (
            None if query.step_ms is None else WindowPlan(query.lo_ms, query.hi_ms, step_ms=query.step_ms)
        )
        self._limit = query.stream.max_range_ms  # the longest range of one request, if any
        spanned = spans(query.lo_ms, query.hi_ms, self._limit) if query.adaptive else []
        self._parts = [_Part(lo, hi, probe=True) for lo, hi in spanned]
        self._events = 0  # events seen (the probe's page, the windows') over a span: the density
        self._span = 0
        self._finished = 0  # windows done, not yet handed out
        self._failed_at: int | None = None  # no window after a failed one starts

    def take(self) -> _Part | None:
        """The next window to list, or None (nothing may start now)."""
        index = next(
            (
                i
                for i, part in enumerate(self._parts)
                if not part.running and part.events is None and part.error is None
            ),
            None,
        )
        if index is None and self._plan is not None and (window := self._plan.next()) is not None:
            self._parts.append(_Part(*window))
            index = len(self._parts) - 1
        if index is None:
            return None
        part = self._parts[index]
        if self._failed_at is not None and part.lo > self._failed_at:
            return None
        full = self._finished >= BUFFER_PER_WORKER * self._concurrency
        if index > 0 and full:
            return None
        if part.cut and self._events:
            pages_left = self._events * (part.hi - part.lo) / self._span / self._page_size
            pages = max(1, min(WINDOW_PAGES, math.ceil(pages_left / self._concurrency)))
            step = math.ceil(_FILL * pages * self._page_size * self._span / self._events)
            step = step if self._limit is None else min(step, self._limit)
            if step < part.hi - part.lo:
                self._parts.insert(index + 1, _Part(part.lo + step, part.hi, cut=True))
                part.hi = part.lo + step
            part.cut = False
        part.running = True
        return part

    def done(self, part: _Part, pages: list[list[Event]], overflow: Overflow | None) -> None:
        """``part`` was listed (its pages' events), or it was the probe and overflowed."""
        part.running = False
        if overflow is not None:  # the probe's page: a density only; the range is cut
            self._events += overflow.count
            self._span += part.hi - (part.lo if overflow.oldest_ms is None else overflow.oldest_ms)
            part.probe, part.cut = False, True
            return
        self._events += sum(map(len, pages))
        self._span += part.hi - part.lo
        part.events = [event for page in pages for event in page]
        self._finished += 1

    def failed(self, part: _Part, error: BaseException) -> None:
        """``part`` failed: the consumer gets the error when it reaches that window."""
        part.running = False
        part.error = error
        self._failed_at = part.lo if self._failed_at is None else min(self._failed_at, part.lo)

    def pop(self) -> Window | None:
        """The next window in time order if it is finished (raises the error of a failed one)."""
        if not self._parts or ((first := self._parts[0]).events is None and first.error is None):
            return None
        del self._parts[0]
        if first.error is not None:
            raise first.error
        assert first.events is not None
        self._finished -= 1
        return Window(start=from_ms(first.lo), end=from_ms(first.hi), events=first.events)

    @property
    def complete(self) -> bool:
        """Every window has been handed out."""
        return not self._parts and (self._plan is None or self._plan.exhausted)

    def estimated_total(self, handed_out: int) -> int:
        """Windows handed out, known, and those the parts still to cut need (at least one each)."""
        total = handed_out + len(self._parts)
        if self._plan is not None:
            total += self._plan.estimated_total() - self._plan.planned
        return total


def list_windows(requester: Requester, query: Query, stats: ListStats) -> Program:
    """The program of a windowed listing: emits each :class:`Window` in time order."""
    schedule = Schedule(query)
    running: dict[Handle, _Part] = {}
    handed_out = 0
    while not schedule.complete:
        while len(running) < query.concurrency and (part := schedule.take()) is not None:
            program = _list_part(requester, query, part, stats)
            running[(yield Spawn(program))] = part
        if (window := schedule.pop()) is not None:
            handed_out += 1
            stats._window_done(estimated_total=schedule.estimated_total(handed_out))
            yield Emit(window)
            continue
        for handle in (yield Wait(list(running))):
            part = running.pop(handle)
            try:
                ((pages, overflow),) = handle.result()
            except Exception as error:  # handed to the consumer, in window order
                schedule.failed(part, error)
            else:
                schedule.done(part, pages, overflow)


def _list_part(requester: Requester, query: Query, part: _Part, stats: ListStats) -> Program:
    """The program of one window: emits ``(pages, overflow)`` once it is listed."""
    pages: list[list[Event]] = []
    probe_pages = WINDOW_PAGES if part.probe else None
    listing = list_range(requester, query, part.lo, part.hi, stats, probe_pages=probe_pages)
    end = yield from relay(listing, pages.append)
    yield Emit((pages, end))
