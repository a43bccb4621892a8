"""``Schedule``: which window to fetch next and when the consumer may have it (sans-IO, shared).

Both clients run ``concurrency`` workers (threads or tasks) that loop on ``take()`` → fetch →
``done()``/``failed()``, and a consumer that loops on ``pop()``; the drivers only add a lock and
a condition to wait on. The schedule keeps every worker busy: a worker takes the oldest window
not yet started as soon as it is free, whatever the consumer is doing, and finished windows wait
in a reorder buffer until the consumer reaches them (windows are handed over in ascending time
order). The buffer is bounded (``REORDER_PAGES_PER_WORKER`` x concurrency finished pages):
when it is full only the window the consumer waits for may start, so memory stays bounded by a
slow consumer or one slow window.

Fixed windows (``window=timedelta``) tile the range on the user's grid; each is listed whole
(next links followed). ``window="auto"`` starts with one request over the whole range and refines as
pages come back: a request whose page is full ends there (see
``_operations.list_range(split=True)``: Webex lists newest first, so the page covers
``[t + 1, hi)``), and the rest ``[lo, t + 1)`` goes back to the schedule with the density the
page showed. The first rest is cut into windows of 1 to ``MAX_WINDOW_PAGES`` pages each (guided:
the pages left ÷ ``concurrency`` rounded up, so the last windows are short and workers finish
together), aimed a little below whole pages (``window_target``). A window's own rest is taken
on as one piece by the next free worker: only the oldest page of a window can be partial, so
requests stay close to the minimum number of pages (issue 13: 1.15x with windows of one page,
1.08-1.10x now on the benchmark's data, 1.08-1.15x over other seeds of the fake).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from contextlib import AbstractContextManager
from itertools import pairwise
from typing import Any, TypeVar

from ._dates import WindowPlan, from_ms
from ._models import ListStats
from ._operations import Split
from ._page_events import PageEvents, WindowPages
from ._query import Query

__all__ = ["MAX_WINDOW_PAGES", "REORDER_PAGES_PER_WORKER", "Schedule", "Task", "window_target"]

#: The longest auto window, in pages. Each window end costs a partial page (or, when a window
#: overflows, a nearly empty one), so longer windows cost fewer requests; but the pages of a
#: window are listed newest first and the consumer gets the oldest first, so a window's pages
#: wait until its last one is in (memory), and its requests are sent one after the other.
#: Measured on the fake (100k events over 30 days, concurrency 4-32), requests ÷ the minimum:
#: 1.12-1.20x with windows of one page, 1.08-1.14x with 2, 1.06-1.12x with 3; 3 cost 25 % more
#: wall time than 2 at concurrency 8 (the chains' serial requests) and 20 MB more in the CLI.
MAX_WINDOW_PAGES = 2
#: Finished pages held for the consumer, per worker, before no new window may start (only the
#: oldest, and the rests of windows already started). One window's worth: with less, windows
#: whose first page is in fill the buffer and workers wait (measured: 5.2 of 8 busy on average).
REORDER_PAGES_PER_WORKER = MAX_WINDOW_PAGES
#: A window that held no event: the next one is this many times longer.
_MAX_GROWTH = 8
#: The least relative error of an estimated density (bursts, ties, a density that changes over
#: the range), however many pages were counted (see ``_Density.error``).
_DENSITY_ERROR = 0.02
_BURSTS = 1.5  # (see _Density.error)
_DECAY = 0.9
_LONGEST_MS = 10**15  # (a density that decayed to nothing must not make an infinite window)

_PENDING, _RUNNING, _DONE, _FAILED = range(4)

_A = TypeVar("_A")
_T = TypeVar("_T")


def window_target(pages: int, page_size: int, *, density_error: float = 0.0) -> float:
    """Events an auto window of ``pages`` pages aims at: 2 standard deviations below full.

    Counts vary by about sqrt(n) for evenly spread events, and the density they are estimated
    from has a relative error of its own: ``density_error`` (large while few pages were counted,
    see ``_Density.error``), at least ``_DENSITY_ERROR``. A window that overflows costs a nearly
    empty page, one that falls short leaves its last page partial. At most half a page below
    full, for small pages.

    >>> [round(window_target(1, n) / n, 2) for n in (1000, 100, 10)]
    [0.93, 0.8, 0.5]
    >>> round(window_target(3, 1000))
    2838
    >>> round(window_target(2, 1000, density_error=1.5 / 1000**0.5))  # a density from one page
    1790
    """
    full = pages * page_size
    error = max(density_error, _DENSITY_ERROR)
    return max(full - 2 * math.sqrt(full + (error * full) ** 2), full - page_size / 2, 1.0)


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
    """Events per ms of a part of the range, from the exact counts of its pages so far.

    One page's count is noisy (about sqrt(n), more with bursts); sizing windows from the last
    page alone put their counts 5.5 % off on the fake. Sums decayed by ``_DECAY`` per page
    average the noise and still follow a density that changes over the range (days, weekends).
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

    @property
    def error(self) -> float:
        """The relative error of the estimate itself: 1.5 / sqrt(events counted).

        Poisson's 1 / sqrt(n), widened for bursts (events sharing a millisecond, an hour or a
        day boundary). It matters for the first windows, all cut from the first request's one
        page: with 1 / sqrt(n) they overflowed together whenever that page's density was low
        (requests ÷ the minimum at concurrency 16 and 32, 8 seeds: 1.14 and 1.17 with the
        fixed ``_DENSITY_ERROR`` alone, 1.11 and 1.13 with this; 2 or 3 / sqrt(n): no better).
        """
        return 1.0 if self.events <= 1 else _BURSTS / math.sqrt(self.events)

    def count(self, span: int) -> float:
        """The events expected in ``span`` ms."""
        return self.events * span / self.span if self.span > 0 else 0.0


class _Segment:
    """A part of the range: pending (``density``: how to cut it; None: whole), running, done
    (``pages``) or failed (``error``). ``rest``: the rest of a window, expected to hold ``expected``
    events (by the density of its last page)."""

    __slots__ = ("density", "error", "expected", "hi", "lo", "pages", "piece", "rest", "state")

    def __init__(self, lo: int, hi: int, density: _Density | None = None) -> None:
        self.lo = lo
        self.hi = hi
        self.state = _PENDING
        self.density = density
        self.rest = False
        self.piece = False  # one of the windows the range's last part was cut into: listed whole
        self.expected = 0.0
        self.pages: list[PageEvents] = []
        self.error: BaseException | None = None


class Schedule:
    """The windows of one windowed listing, from the first request to the last window consumed.

    Not thread-safe: the drivers call it under their lock.

    >>> from webex_events._query import build_query
    >>> q = build_query(filters={}, from_="2024-01-01T00:00:00Z", to="2024-01-01T00:00:01.600Z",
    ...                 page_size=100, window="auto", concurrency=4, default_concurrency=4)
    >>> s = Schedule(q, ListStats())
    >>> first = s.take()  # the whole range
    >>> (first.hi - first.lo, s.take())
    (1600, None)
    >>> pages = [[None] * 100]  # (one page of 100 events)
    >>> s.done(first, pages, Split(first.lo + 1500, density=1.0))  # [lo + 1500, hi) listed
    >>> # 1500 events to go, 15 pages for 4 workers: windows of 2 pages while more than a page
    >>> # per worker is left, then of 1, each aimed half a page short (a density from 100 events
    >>> # is 15 % uncertain); the last 108 events are two pieces of 54 side by side (each below
    >>> # a page's 64), not one window whose second request would wait for its first
    >>> [(t.lo - first.lo, t.hi - first.lo) for t in iter(s.take, None)]  # doctest: +NORMALIZE_WHITESPACE
    [(0, 150), (150, 300), (300, 450), (450, 600), (600, 750), (750, 900), (900, 1050),
     (1050, 1200), (1200, 1264), (1264, 1328), (1328, 1392), (1392, 1446), (1446, 1500)]
    """

    def __init__(self, query: Query, stats: ListStats) -> None:
        assert query.lo_ms is not None
        self._stats = stats
        self._concurrency = query.concurrency
        self._buffer = REORDER_PAGES_PER_WORKER * query.concurrency
        self._page_size = query.page_size
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
        density = segment.density
        windows = 1 if density is None else self._windows(segment, density)
        if index > 0 and self._done >= self._buffer and not (windows and segment.rest):
            # Backpressure on new windows; the window the consumer waits for (index 0) always
            # starts, and so do the rests of started windows: their pages are done and wait
            # for them (held back, an overflowed window's nearly empty last page would be sent
            # alone when it became the oldest: a round trip with every other worker idle).
            return None
        lo, hi = segment.lo, segment.hi
        if density is not None and windows == 0:
            target = window_target(self._window_pages(), self._page_size, density_error=density.error)
            step = density.step(target)
            if step < hi - lo:
                hi = lo + step
                self._segments.insert(index + 1, _Segment(hi, segment.hi, density))
                segment.hi = hi
            segment.rest = False  # a new window
        elif windows > 1:
            step = math.ceil((hi - lo) / windows)
            hi = lo + step
            cuts = [*range(hi, segment.hi, step), segment.hi]
            pieces = [_Segment(a, b, density) for a, b in pairwise(cuts)]
            for piece in pieces:
                piece.piece = True
            self._segments[index + 1 : index + 1] = pieces
            segment.hi = hi
        segment.state = _RUNNING
        return Task(lo, hi, split=self._split)

    def done(self, task: Task, pages: list[PageEvents], split: Split | None) -> None:
        """A worker listed ``task``: its pages' events, and whether it ended early (``split.at``)."""
        index, segment = self._find(task)
        events = sum(map(len, pages))
        density = segment.density
        if split is not None and split.unordered:
            self._split = False  # the server is not newest first: no more splitting (exact anyway)
        if split is not None and split.at is not None:
            # The page holds exactly the events of [at, hi): an exact count for the density of
            # this part of the range (the first request's page starts it). [lo, at) is still to
            # list: the rest of a window is listed on as one piece; the first request's rest is
            # cut into windows.
            if density is None:
                density = _Density(0.0, 0.0)
            density.add(events, task.hi - split.at)
            rest = _Segment(segment.lo, split.at, density)
            if segment.density is not None:  # (the first request's rest is cut into windows)
                rest.rest = True
                rest.expected = split.density * (split.at - segment.lo)
            segment.lo = split.at
            self._segments.insert(index, rest)
        elif density is not None:
            density.add(events, task.hi - task.lo)
        segment.state = _DONE
        segment.pages = pages
        self._done += 1

    def failed(self, task: Task, error: BaseException) -> None:
        """A worker's window failed: the consumer gets the error when it reaches that window."""
        _, segment = self._find(task)
        segment.state = _FAILED
        segment.error = error
        self._error_at = task.lo if self._error_at is None else min(self._error_at, task.lo)

    # -- the consumer -----------------------------------------------------------------------

    def pop(self) -> WindowPages | None:
        """The next window in time order if it is finished (raises the error of a failed one)."""
        if not self._segments or self._segments[0].state not in (_DONE, _FAILED):
            return None
        segment = self._segments.pop(0)
        if segment.error is not None:
            raise segment.error
        self._done -= 1
        self._consumed += 1
        self._stats._window_done(estimated_total=self.estimated_total())
        return WindowPages(from_ms(segment.lo), from_ms(segment.hi), segment.pages)

    @property
    def complete(self) -> bool:
        """Every window has been consumed."""
        return not self._segments and (self._plan is None or self._plan.exhausted)

    def estimated_total(self) -> int:
        """Windows consumed, known, and those the pending parts need at their current length."""
        total = self._consumed
        for segment in self._segments:
            if segment.state == _PENDING and segment.density is not None:
                total += max(1, math.ceil(segment.density.count(segment.hi - segment.lo) / self._page_size))
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

    def _windows(self, segment: _Segment, density: _Density) -> int:
        """How a pending part is listed: 0, a window is cut from it by the density; 1, whole;
        more, as that many equal windows side by side.

        Whole: the rest of a window that is not far longer than a window, a piece (below), or a
        part that fits a window of whole pages (no short tail). Once the windows being cut are
        of one page (the end of the range), such a part of more than one page is one window per
        page instead (pieces), rather than one window whose second request waits for its first:
        a round trip less at the very end, where the other workers are idle. As many requests:
        each piece is aimed below a page as any one-page window (else the part stays whole).
        """
        size = self._page_size
        if segment.piece or (segment.rest and segment.expected <= MAX_WINDOW_PAGES * size):
            return 1
        expected = density.count(segment.hi - segment.lo)
        pages = math.ceil(expected / size)
        if pages > MAX_WINDOW_PAGES or expected > window_target(max(1, pages), size):
            return 0
        if (
            pages > 1
            and not segment.rest
            and self._window_pages() == 1
            and expected / pages <= window_target(1, size, density_error=density.error)
        ):
            return pages
        return 1

    def _window_pages(self) -> int:
        """Pages for the next auto window: the pages left ÷ the workers rounded up, 1 to MAX_WINDOW_PAGES.

        Guided scheduling: long windows while there is much to do (few window ends, so few
        partial pages), shorter ones towards the end so no worker is left with a long tail.
        Rounded up, not to the nearest: windows of one page only once the pages left no longer
        give each worker more than one (issue 13: from 1.5 per worker down, they cost one or two
        requests more per 100 pages, and no wall time measured at concurrency 4 to 32).
        """
        left = sum(
            s.density.count(s.hi - s.lo)
            for s in self._segments
            if s.state == _PENDING and s.density is not None
        )
        return max(1, min(MAX_WINDOW_PAGES, math.ceil(left / self._page_size / self._concurrency)))

    def _find(self, task: Task) -> tuple[int, _Segment]:
        for index, segment in enumerate(self._segments):
            if segment.lo == task.lo and segment.state == _RUNNING:
                return index, segment
        raise KeyError(task)  # pragma: no cover - a task is done once
