"""``WebexEvents``: the synchronous client, a thin driver of the sans-IO core (threads)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack

import httpx

from webex_events_api.spec import ListEventsFilters

from ._actions import (
    BodyTooLargeError,
    Page,
    Read,
    Send,
    Sleep,
    capped_timeout,
    read_capped,
    set_attempt_deadline,
)
from ._base import (
    DEFAULT_LAG,
    DEFAULT_OVERLAP,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_RECONCILE_HORIZON,
    DEFAULT_RECONCILE_INTERVAL,
    ClientBase,
    StreamBase,
)
from ._event import Event
from ._follow import FollowBatch, FollowCheckpoint
from ._gate import Recalled
from ._models import Window
from ._operations import Split, get_event, list_range
from ._page_events import PageEvents, WindowPages
from ._query import PAGE_SIZE
from ._schedule import Schedule, Task

__all__ = ["EventStream", "WebexEvents"]

T = TypeVar("T")


class _StoppedError(Exception):
    """The consumer went away: abandon the work of this listing."""


class EventStream(StreamBase):
    """What :meth:`WebexEvents.list_events` returns: an iterable of :class:`Event`.

    Each iteration runs the listing (again); ``.stats`` counts the current run. Windows come in
    ascending time order and, within a window, events in the order the server sent them.

    >>> from webex_events.testing import FakeWebex
    >>> fake = FakeWebex(events=30, seed=3)
    >>> with WebexEvents(token=fake.token, transport=fake.transport()) as client:
    ...     stream = client.list_events(page_size=7)
    ...     n = sum(1 for _ in stream)
    >>> (n, stream.stats.pages)
    (30, 5)
    """

    _client: WebexEvents

    def __iter__(self) -> Iterator[Event]:
        for window in self._run(stream_pages=True):
            yield from window.events()

    def windows(self) -> Iterator[Window]:
        """The listing as :class:`Window` objects, in ascending time order.

        Without ``window=`` the whole listing is one Window (held in memory).
        """
        with closing(self._run(stream_pages=False)) as windows:
            for window in windows:
                yield window.window()

    def _run(self, *, stream_pages: bool) -> Generator[WindowPages, None, None]:
        if not self._start():
            return
        if self._query.windowed:
            yield from self._windowed()
            return
        query, stats = self._query, self.stats
        collected: list[PageEvents] = []
        for page in self._client._drive(
            list_range(self._client._requester, query, query.lo_ms, query.hi_ms, stats)
        ):
            if stream_pages:
                yield self._whole([page])
            else:
                collected.append(page)
        stats._window_done()
        if not stream_pages:
            yield self._whole(collected)

    def _windowed(self) -> Generator[WindowPages, None, None]:
        # `concurrency` threads loop on take -> fetch -> done; the consumer (this generator) pops
        # finished windows in order. One condition: a worker waits for work (a split, a freed
        # buffer slot), the consumer for the window it needs.
        stop = threading.Event()
        cond = threading.Condition()
        schedule = Schedule(self._query, self.stats)
        concurrency = self._query.concurrency
        decoding = threading.Lock()  # one worker decodes at a time (Schedule.one_at_a_time)
        requester, query, stats = self._client._requester, self._query, self.stats

        def collect(task: Task) -> tuple[list[PageEvents], Split | None]:
            gen = list_range(requester, query, task.lo, task.hi, stats, split=task.split)
            out: list[PageEvents] = []
            driver = self._client._drive(Schedule.one_at_a_time(gen, decoding), stop)
            try:
                while True:
                    out.append(next(driver))
            except StopIteration as done:
                return out, done.value

        def work() -> None:
            while True:
                with cond:
                    task = None
                    while not stop.is_set() and (task := schedule.take()) is None:
                        cond.wait()
                    if task is None:  # stopped
                        return
                try:
                    pages, split = collect(task)
                except _StoppedError:
                    return
                except BaseException as exc:  # handed to the consumer, in window order
                    with cond:
                        schedule.failed(task, exc)
                        cond.notify_all()
                    continue
                with cond:
                    schedule.done(task, pages, split)
                    cond.notify_all()
                del pages

        # Daemon threads: a listing left unfinished while its stream is still referenced (a
        # module global, a frame kept by a traceback) must not keep the interpreter from
        # exiting; its workers wait for a consumer that will not come (a pool's threads are
        # joined at exit: the process hung).
        workers = [
            threading.Thread(target=work, name=f"webex-events-{i}", daemon=True) for i in range(concurrency)
        ]
        try:
            for worker in workers:
                worker.start()
            while True:
                with cond:
                    while (window := schedule.pop()) is None:
                        if schedule.complete:
                            return
                        cond.wait()
                    cond.notify_all()  # a buffer slot is free: a waiting worker may start
                yield window
                del window
        finally:
            stop.set()
            with cond:
                cond.notify_all()
            # Not joined: a worker blocked on a stalled server ends at its attempt's deadline on its
            # own; the consumer (a Ctrl-C in the CLI) must not wait for it.


class WebexEvents(ClientBase[EventStream, httpx.Client, httpx.BaseTransport]):
    """Synchronous Webex Events client (a context manager).

    ``token`` defaults to ``$WEBEX_ACCESS_TOKEN`` and ``base_url`` to ``$WEBEX_BASE_URL`` or
    ``https://webexapis.com/v1``. Pass ``http_client=`` to use your own ``httpx.Client``
    (proxies, certificates...; it is not closed here, and its ``timeout`` applies) or
    ``transport=`` (tests). Redirects are never followed and the token is sent only to the
    origin of ``base_url``.

    >>> from webex_events.testing import FakeWebex
    >>> fake = FakeWebex(events=50, seed=1)
    >>> with WebexEvents(token=fake.token, transport=fake.transport()) as client:
    ...     events = list(client.list_events(page_size=20))
    >>> len(events) == len(fake.events)
    True
    """

    _stream_type = EventStream
    _http_type = httpx.Client

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def get_event(self, event_id: str) -> Event:
        """Get Event Details.

        >>> from webex_events.testing import FakeWebex
        >>> fake = FakeWebex(events=3, seed=1)
        >>> with WebexEvents(token=fake.token, transport=fake.transport()) as client:
        ...     client.get_event(fake.events[0]["id"]).id == fake.events[0]["id"]
        True
        """
        driver = self._drive(get_event(self._requester, event_id))
        try:
            while True:
                next(driver)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    def follow(
        self,
        *,
        since: datetime | str | None = None,
        checkpoint: FollowCheckpoint | str | None = None,
        lag: timedelta = DEFAULT_LAG,
        poll_interval: timedelta = DEFAULT_POLL_INTERVAL,
        overlap: timedelta = DEFAULT_OVERLAP,
        reconcile_horizon: timedelta = DEFAULT_RECONCILE_HORIZON,
        reconcile_interval: timedelta = DEFAULT_RECONCILE_INTERVAL,
        once: bool = False,
        page_size: int = PAGE_SIZE,
        concurrency: int | None = None,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], object] = time.sleep,
        **filters: Unpack[ListEventsFilters],
    ) -> Iterator[FollowBatch]:
        """Yield new events as they appear, in batches, each event exactly once.

        Each poll reads up to ``now - lag``, again from ``overlap`` before the last high-water
        mark, and every ``reconcile_interval`` from ``reconcile_horizon`` back (see
        ``webex_events._follow``). Store ``batch.checkpoint.to_json()`` *with* ``batch.events``
        (same transaction, or after the events are durably written) and pass the last one as
        ``checkpoint=`` to continue after a restart: nothing is lost or delivered twice.
        ``since`` (first run) is where to start; ``once=True`` stops after one poll (cron);
        otherwise it polls every ``poll_interval`` until the caller stops iterating. ``filters``
        are those of :meth:`list_events`. ``clock`` (aware now) and ``sleep`` are switches for
        tests. Arguments are checked now, before any request.

        >>> from datetime import UTC, datetime, timedelta
        >>> from webex_events.testing import FakeWebex
        >>> fake = FakeWebex(events=30, seed=4, end=datetime(2024, 1, 2, tzinfo=UTC))
        >>> with WebexEvents(token=fake.token, transport=fake.transport()) as client:
        ...     batches = list(client.follow(since=fake.start, once=True))
        >>> sorted(e.id for b in batches for e in b.events) == sorted(fake.expected_ids())
        True
        >>> batches[-1].caught_up, batches[-1].checkpoint.delivered
        (True, 30)
        """
        follower, poll_seconds, now = self._follower(
            since=since,
            checkpoint=checkpoint,
            lag=lag,
            poll_interval=poll_interval,
            overlap=overlap,
            reconcile_horizon=reconcile_horizon,
            reconcile_interval=reconcile_interval,
            page_size=page_size,
            concurrency=concurrency,
            clock=clock,
            filters=dict(filters),
        )

        def polls() -> Iterator[FollowBatch]:
            while True:
                planned = follower.plan(now())
                if planned is not None:
                    stream = self.list_events(
                        from_=planned.start,
                        to=planned.end,
                        page_size=page_size,
                        concurrency=concurrency,
                        **follower.filters,
                    )
                    for window in stream.windows():
                        batch = follower.take(window.events, window.end)
                        if batch.events:
                            yield batch
                yield follower.finish()
                if once:
                    return
                sleep(poll_seconds)

        return polls()

    # -- the driver: how this client sends, reads and sleeps -----------------------------

    def _send(self, action: Send) -> httpx.Response | Exception:
        # Take a send slot at the last moment: another thread may have just seen a 429, and after
        # one the gate paces requests (see _gate). The gate looks again right before the bytes go
        # out (its trace hook) and recalls the request if a pause began meanwhile.
        gate = self._requester.gate
        hook = self._requester.trace  # the gate's last look; a 429 closes it as its headers come in
        while True:
            while (wait := gate.reserve()) > 0:
                time.sleep(wait)
            now = time.monotonic()
            deadline = action.deadline(now)
            timeout = capped_timeout(self._http.timeout, deadline, now)
            request = self._http.build_request(
                "GET", action.url, headers=action.headers, timeout=timeout, extensions={"trace": hook}
            )
            try:
                # auth=None: no client-level auth may replace ours; no redirects may carry the token.
                response = self._http.send(request, stream=True, follow_redirects=False, auth=None)
            except Recalled:
                continue  # nothing was sent: wait out the pause, then send it afresh
            except httpx.TransportError as exc:
                return exc
            set_attempt_deadline(response, deadline)
            return response

    @staticmethod
    def _read(action: Read) -> bytes | Exception:
        response = action.response
        try:
            body = read_capped(response, action.limit)
            for chunk in response.iter_bytes():
                body.add(chunk)
            # Joined here, not cached on the response: the page's bytes die with the decode.
            return b"".join(body.chunks)
        except (httpx.TransportError, BodyTooLargeError) as exc:
            return exc
        finally:
            response.close()

    def _drive(
        self, gen: Generator[Any, Any, T], stop: threading.Event | None = None
    ) -> Generator[PageEvents, None, T]:
        """Execute the core's actions; yield the events of each page."""
        result: Any = None
        try:
            while True:
                if stop is not None and stop.is_set():
                    raise _StoppedError
                try:
                    action = gen.send(result)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
                result = None
                if type(action) is Page:
                    yield action.events
                elif type(action) is Send:
                    result = self._send(action)
                elif type(action) is Read:
                    result = self._read(action)
                elif type(action) is Sleep:
                    if stop is None:
                        time.sleep(action.seconds)
                    elif stop.wait(action.seconds):
                        raise _StoppedError
                else:  # pragma: no cover - the core yields nothing else
                    raise TypeError(f"unknown action {action!r}")
        finally:
            gen.close()
