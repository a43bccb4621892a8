"""``Schedule``: which window to fetch next and when the consumer may have it (sans-IO, shared).

Both clients run ``concurrency`` workers (threads or tasks) that loop on ``take()`` → fetch →
``done()``/``failed()``, and a consumer that loops on ``pop()``; the drivers only add a lock and
a condition to wait on. The schedule keeps every worker busy: a worker takes the oldest window
not yet started as soon as it is free, whatever the consumer is doing, and finished windows wait
in a reorder buffer until the consumer reaches them (windows are handed over in ascending time
order). The buffer is bounded (``REORDER_WINDOWS_PER_WORKER`` x concurrency finished windows):
when it is full only the window the consumer waits for may start, so memory stays bounded by a
slow consumer or one slow window.

Fixed windows (``window=timedelta``) tile the range on the user's grid; each is listed whole
(next links followed). ``window="auto"`` starts with one request over the whole range and refines as
pages come back: a window whose first page is
full ends there (see ``_operations.list_range(split=True)``: Webex lists newest first, so the
page covers ``[t + 1, hi)``), and the rest ``[lo, t + 1)`` goes back to the schedule with the
density the page showed, to be cut into windows of about ``SPLIT_FILL`` of a page each, taken
by whichever workers are free. Most requests then return a page that is full or nearly so.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from ._dates import WindowPlan, from_ms
from ._event import Event
from ._models import ListStats, Window
from ._operations import Split
from ._query import Query

__all__ = ["REORDER_WINDOWS_PER_WORKER", "SPLIT_FILL", "Schedule", "Task", "split_fill"]

#: Finished windows held for the consumer, per worker, before only the oldest window may start.
REORDER_WINDOWS_PER_WORKER = 1
#: Auto windows aim at most at this fraction of a page. A window of page fill f costs 1/f
#: requests per page, and one that overflows costs one more; counts vary by about sqrt(n) for
#: evenly spread events (more with bursts and an estimated density), so windows aim 2 standard
#: deviations below a full page (see ``split_fill``): 0.93 of 1000 overflows ~2% of the time.
SPLIT_FILL = 0.93
#: A window that held no event: the next one is this many times longer.
_MAX_GROWTH = 8
_DECAY = 0.5
_LONGEST_MS = 10**15  # (a density that decayed to nothing must not make an infinite window)

_PENDING, _RUNNING, _DONE, _FAILED = range(4)

_A = TypeVar("_A")
_T = TypeVar("_T")


def split_fill(page_size: int) -> float:
    """The page fill auto windows aim at: 2 sqrt(page_size) below a page, at most SPLIT_FILL.

    >>> [round(split_fill(n), 2) for n in (1000, 500, 100, 10)]
    [0.93, 0.91, 0.8, 0.5]
    """
    return min(SPLIT_FILL, max(0.5, 1 - 2 / math.sqrt(page_size)))


class Task:
    """One window for a worker: list ``[lo, hi)``; ``split``: may end early (see ``Split``)."""

    __slots__ = ("hi", "lo", "split")

    def __init__(self, lo: int, hi: int, *, split: bool) -> None:
        self.lo = lo
        self.hi = hi
        self.split = split

    def __repr__(self) -> str:
        return f"Task({self.lo}, {self.hi}, split={self.split})"


class _Density:
    """Events per ms seen near a pending segment: recent windows weigh more (``_DECAY``).

    One window's count is noisy (about sqrt(n)); sizing the next window from it alone would
    make windows after a sparse one overflow. Sums decayed by half per window track a density
    that changes over the range (days, weekends) while averaging the noise.
    """

    __slots__ = ("events", "span")

    def __init__(self, events: float, span: float) -> None:
        self.events = events
        self.span = span

    def add(self, events: float, span: int) -> None:
        self.events = self.events * _DECAY + events
        self.span = self.span * _DECAY + span

    def step(self, target: float) -> int:
        """The window length expected to hold ``target`` events (x8 the last span if none seen)."""
        wanted = self.span * _MAX_GROWTH if self.events <= 0 else target * self.span / self.events
        return max(1, math.ceil(min(wanted, _LONGEST_MS)))


class _Segment:
    """A part of the range: pending (``density``: how to cut it; None: whole), running, done
    (``events``) or failed (``error``)."""

    __slots__ = ("density", "error", "events", "hi", "lo", "state")

    def __init__(self, lo: int, hi: int, density: _Density | None = None) -> None:
        self.lo = lo
        self.hi = hi
        self.state = _PENDING
        self.density = density
        self.events: list[Event] = []
        self.error: BaseException | None = None


class Schedule:
    """The windows of one windowed listing, from the first request to the last window consumed.

    Not thread-safe: the drivers call it under their lock.

    >>> from webex_events._query import build_query
    >>> q = build_query(filters={}, from_="2024-01-01T00:00:00Z", to="2024-01-01T00:00:00.040Z",
    ...                 page_size=10, window="auto", concurrency=4, default_concurrency=4)
    >>> s = Schedule(q, ListStats())
    >>> first = s.take()  # the whole range
    >>> (first.hi - first.lo, s.take())
    (40, None)
    >>> s.done(first, [], Split(first.lo + 30, density=0.5))  # a full page: [lo + 30, hi) listed
    >>> [(t.lo - first.lo, t.hi - first.lo) for t in iter(s.take, None)]  # 5 events each
    [(0, 10), (10, 20), (20, 30)]
    """

    def __init__(self, query: Query, stats: ListStats) -> None:
        assert query.lo_ms is not None
        self._stats = stats
        self._concurrency = query.concurrency
        self._buffer = REORDER_WINDOWS_PER_WORKER * query.concurrency
        self._target = max(1.0, query.page_size * split_fill(query.page_size))
        self._split = query.adaptive
        self._segments: list[_Segment] = []  # ascending, tiling what is not consumed yet
        self._plan: WindowPlan | None = None
        self._done = 0  # finished, not consumed
        self._consumed = 0
        self._error_at: int | None = None  # no window after a failed one starts
        lo, hi = query.lo_ms, query.hi_ms
        if query.adaptive:
            # One request over the whole range first: its page is the newest events (useful, not
            # a probe thrown away), a range of one page costs one request (and a 403 is sent
            # once), and the rest is then cut by a known density into windows of nearly a page.
            # Starting with `concurrency` windows instead saves that one round trip but leaves a
            # partial page at the end of each window's remainder: more requests in all.
            self._segments = [_Segment(lo, hi)]
        else:
            self._plan = query.plan()

    # -- workers ----------------------------------------------------------------------------

    def take(self) -> Task | None:
        """The next window to fetch, or None (nothing to start now: wait for a ``done``)."""
        index = next((i for i, s in enumerate(self._segments) if s.state == _PENDING), None)
        if index is None and self._plan is not None and (window := self._plan.next()) is not None:
            self._segments.append(_Segment(*window))
            index = len(self._segments) - 1
        if index is None:
            return None
        segment = self._segments[index]
        if self._error_at is not None and segment.lo > self._error_at:
            return None
        if index > 0 and self._done >= self._buffer:
            return None  # backpressure; the window the consumer waits for (index 0) always starts
        lo, hi = segment.lo, segment.hi
        step = None if segment.density is None else segment.density.step(self._target)
        if step is not None and step < hi - lo:
            # Equal windows rather than a short tail: ceil(len / step) windows of the same length.
            pieces = -(-(hi - lo) // step)
            hi = lo + -(-(hi - lo) // pieces)
            self._segments.insert(index + 1, _Segment(hi, segment.hi, segment.density))
            segment.hi = hi
        segment.state = _RUNNING
        return Task(lo, hi, split=self._split)

    def done(self, task: Task, events: list[Event], split: Split | None) -> None:
        """A worker listed ``task``: its events, and whether it ended early (``split.at``)."""
        index, segment = self._find(task)
        if segment.density is not None:
            # A window cut by density: what it held corrects the density of the part it was cut
            # from (the object is shared with that part's pending rest).
            density, segment.density = segment.density, None
            span = task.hi - task.lo
            # (an overflowed window's count is unknown: its page's density stands for it)
            density.add(len(events) if split is None or split.at is None else split.density * span, span)
        if split is not None and split.unordered:
            self._split = False  # the server is not newest first: no more splitting (exact anyway)
        if split is not None and split.at is not None:
            # [lo, at) is still to list: pending again, cut from the density the page showed.
            # The page's density, weighing as much as one window's count.
            seen = _Density(self._target, self._target / split.density if split.density > 0 else 1)
            rest = _Segment(segment.lo, split.at, seen)
            segment.lo = split.at
            self._segments.insert(index, rest)
        segment.state = _DONE
        segment.events = events
        self._done += 1

    def failed(self, task: Task, error: BaseException) -> None:
        """A worker's window failed: the consumer gets the error when it reaches that window."""
        _, segment = self._find(task)
        segment.state = _FAILED
        segment.error = error
        self._error_at = task.lo if self._error_at is None else min(self._error_at, task.lo)

    # -- the consumer -----------------------------------------------------------------------

    def pop(self) -> Window | None:
        """The next window in time order if it is finished (raises the error of a failed one)."""
        if not self._segments or self._segments[0].state not in (_DONE, _FAILED):
            return None
        segment = self._segments.pop(0)
        if segment.error is not None:
            raise segment.error
        self._done -= 1
        self._consumed += 1
        self._stats._window_done(estimated_total=self.estimated_total())
        return Window(start=from_ms(segment.lo), end=from_ms(segment.hi), events=segment.events)

    @property
    def complete(self) -> bool:
        """Every window has been consumed."""
        return not self._segments and (self._plan is None or self._plan.exhausted)

    def estimated_total(self) -> int:
        """Windows consumed, known, and those the pending parts need at their current length."""
        total = self._consumed
        for segment in self._segments:
            if segment.state == _PENDING and segment.density is not None:
                total += -(-(segment.hi - segment.lo) // segment.density.step(self._target))
            else:
                total += 1
        if self._plan is not None:
            total += self._plan.estimated_total() - self._plan.planned
        return total

    # -- workers' steps ----------------------------------------------------------------------

    @staticmethod
    def one_at_a_time(
        gen: Generator[_A, Any, _T], gate: AbstractContextManager[Any]
    ) -> Generator[_A, Any, _T]:
        """``gen`` (a sans-IO listing) with each of its steps run holding ``gate``.

        The sync client's workers share one lock: what runs between two actions (decoding a
        page, making its events) holds the GIL anyway, so running one worker's step at a time
        costs no throughput, while the I/O between steps still overlaps. It bounds the memory of
        pages in flight: a page being decoded peaks at about 8 times its body (the text, the
        decoded items and the exact slices at once), and without the lock the workers, whose
        responses come back together, all decoded at once (issue 13: 8 workers, 60 MB).

        >>> import threading
        >>> def listing():
        ...     got = yield "send"
        ...     return got * 2
        >>> steps = Schedule.one_at_a_time(listing(), threading.Lock())
        >>> next(steps)
        'send'
        >>> try:
        ...     steps.send(21)
        ... except StopIteration as done:
        ...     done.value
        42
        """
        try:
            with gate:
                action = next(gen)
            while True:
                result = yield action
                with gate:
                    action = gen.send(result)
        except StopIteration as done:
            value: _T = done.value
            return value
        finally:
            gen.close()

    # -- helpers ----------------------------------------------------------------------------

    def _find(self, task: Task) -> tuple[int, _Segment]:
        for index, segment in enumerate(self._segments):
            if segment.lo == task.lo and segment.state == _RUNNING:
                return index, segment
        raise KeyError(task)  # pragma: no cover - a task is done once
