"""``WebexEvents``: the synchronous client, a thin driver of the sans-IO core."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from ._core import (
    DEFAULT_BASE_URL,
    Page,
    Query,
    Read,
    Send,
    Sleep,
    build_query,
    configure_client,
    http_limits,
)
from ._dates import from_ms
from ._event import Event
from ._models import ListStats, Window
from ._retry import RetryPolicy

__all__ = ["EventStream", "WebexEvents"]

T = TypeVar("T")


class _StoppedError(Exception):
    """The consumer went away: abandon the work of this listing."""


class WebexEvents:
    """Synchronous Webex Events client (a context manager).

    ``token`` defaults to ``$WEBEX_ACCESS_TOKEN``. Pass ``http_client=`` to use your own
    ``httpx.Client`` (proxies, certificates...; it is not closed here, and its ``timeout``
    applies) or ``transport=`` (tests). Redirects are never followed and the token is sent only
    to the origin of ``base_url``.

    >>> from webex_events.testing import FakeWebex
    >>> fake = FakeWebex(events=50, seed=1)
    >>> with WebexEvents(token=fake.token, transport=fake.transport()) as client:
    ...     events = list(client.list_events(page_size=20))
    >>> len(events) == len(fake.events)
    True
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | None = 30.0,
        retry: RetryPolicy | None = None,
        concurrency: int = 4,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        settings = configure_client(
            token=token,
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            concurrency=concurrency,
            http_client=http_client,
            transport=transport,
            http_client_type=httpx.Client,
        )
        self._core = settings.core
        self._concurrency = settings.concurrency
        self._owns_http = settings.owns_http
        self._http = http_client or httpx.Client(
            transport=transport,
            timeout=settings.timeout,
            follow_redirects=False,
            limits=http_limits(settings.concurrency),
        )

    def __repr__(self) -> str:
        return f"WebexEvents(base_url={str(self._core.base_url)!r}, concurrency={self._concurrency})"

    # -- lifecycle ---------------------------------------------------------------------

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

    # -- API -----------------------------------------------------------------------------

    def get_event(self, event_id: str) -> Event:
        """Get Event Details.

        >>> from webex_events.testing import FakeWebex
        >>> fake = FakeWebex(events=3, seed=1)
        >>> with WebexEvents(token=fake.token, transport=fake.transport()) as client:
        ...     client.get_event(fake.events[0]["id"]).id == fake.events[0]["id"]
        True
        """
        return self._complete(self._core.get_event(event_id))

    def list_events(
        self,
        *,
        resource: str | None = None,
        type: str | None = None,
        actor_id: str | None = None,
        from_: object = None,
        to: object = None,
        service_type: str | None = None,
        page_size: int = 1000,
        window: object = None,
        concurrency: int | None = None,
    ) -> EventStream:
        """List Events in ``[from_, to)``; arguments are checked now, requests start on iteration.

        ``window=None`` sends one query and streams its pages. ``window=timedelta(...)`` or
        ``"auto"`` (windows sized from the density seen, about 0.8 of a page each) splits the
        range and fetches up to ``concurrency`` windows at a time; events come in window order.

        >>> from webex_events.testing import FakeWebex
        >>> fake = FakeWebex(events=40, seed=2)
        >>> with WebexEvents(token=fake.token, transport=fake.transport()) as client:
        ...     stream = client.list_events(resource="messages", page_size=10)
        ...     ids = [e.id for e in stream]
        >>> sorted(ids) == sorted(fake.expected_ids(resource="messages"))
        True
        """
        query = build_query(
            resource=resource,
            type=type,
            actor_id=actor_id,
            from_=from_,
            to=to,
            service_type=service_type,
            page_size=page_size,
            window=window,
            concurrency=concurrency,
            default_concurrency=self._concurrency,
        )
        return EventStream(_client=self, _query=query)

    # -- the driver ----------------------------------------------------------------------

    def _send(self, action: Send) -> httpx.Response | Exception:
        request = self._http.build_request("GET", action.url, headers=action.headers)
        # Take a send slot at the last moment: another thread may have just seen a 429, and after
        # one the gate paces requests (see _gate).
        while (wait := self._core.gate.reserve()) > 0:
            time.sleep(wait)
        try:
            # auth=None: no client-level auth may replace ours; no redirects may carry the token.
            return self._http.send(request, stream=True, follow_redirects=False, auth=None)
        except httpx.TransportError as exc:
            return exc

    @staticmethod
    def _read(response: httpx.Response) -> bytes | Exception:
        try:
            # Joined here, not cached on the response: the page's bytes die with the decode.
            return b"".join(response.iter_bytes())
        except httpx.TransportError as exc:
            return exc
        finally:
            response.close()

    def _drive(
        self, gen: Generator[Any, Any, T], stop: threading.Event | None = None
    ) -> Generator[list[Event], None, T]:
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
                    result = self._read(action.response)
                elif type(action) is Sleep:
                    if stop is None:
                        time.sleep(action.seconds)
                    elif stop.wait(action.seconds):
                        raise _StoppedError
                else:  # pragma: no cover - the core yields nothing else
                    raise TypeError(f"unknown action {action!r}")
        finally:
            gen.close()

    def _complete(self, gen: Generator[Any, Any, T]) -> T:
        driver = self._drive(gen)
        try:
            while True:
                next(driver)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


class EventStream:
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

    def __init__(self, *, _client: WebexEvents, _query: Query) -> None:
        self._client = _client
        self._query = _query
        self.stats = ListStats(windows_total=_query.windows_total)

    def __repr__(self) -> str:
        return f"EventStream(windows_total={self.stats.windows_total})"

    def __iter__(self) -> Iterator[Event]:
        for window in self._run(stream_pages=True):
            yield from window.events

    def windows(self) -> Iterator[Window]:
        """The listing as :class:`Window` objects, in ascending time order.

        Without ``window=`` the whole listing is one Window (held in memory).
        """
        return self._run(stream_pages=False)

    def _run(self, *, stream_pages: bool) -> Iterator[Window]:
        query = self._query
        self.stats = ListStats(windows_total=query.windows_total)
        if query.lo_ms is not None and query.lo_ms >= query.hi_ms:
            return
        if not query.windowed:
            yield from self._sequential(stream_pages=stream_pages)
        else:
            yield from self._windowed()

    def _sequential(self, *, stream_pages: bool) -> Iterator[Window]:
        query, stats = self._query, self.stats
        gen = self._client._core.list_range(query, query.lo_ms, query.hi_ms, stats)
        collected: list[Event] = []
        for events in self._client._drive(gen):
            if stream_pages:
                yield Window(start=query.start, end=query.end, events=events)
            else:
                collected.extend(events)
        stats._window_done()
        if not stream_pages:
            yield Window(start=query.start, end=query.end, events=collected)

    def _collect(self, lo_ms: int, hi_ms: int, stop: threading.Event) -> list[Event]:
        gen = self._client._core.list_range(self._query, lo_ms, hi_ms, self.stats)
        out: list[Event] = []
        for events in self._client._drive(gen, stop):
            out.extend(events)
        return out

    def _windowed(self) -> Iterator[Window]:
        query, stats = self._query, self.stats
        plan = query.plan()
        stop = threading.Event()
        pool = ThreadPoolExecutor(max_workers=query.concurrency, thread_name_prefix="webex-events")
        # A bounded look-ahead: at most `concurrency` windows fetched ahead of the consumer.
        pending: deque[tuple[int, int, Future[list[Event]]]] = deque()
        try:
            while True:
                for lo, hi in plan.take(in_flight=len(pending), concurrency=query.concurrency):
                    pending.append((lo, hi, pool.submit(self._collect, lo, hi, stop)))
                if not pending:
                    break
                lo, hi, future = pending.popleft()
                events = future.result()
                plan.observe(lo, hi, events=len(events))
                stats._window_done(estimated_total=plan.estimated_total())
                yield Window(start=from_ms(lo), end=from_ms(hi), events=events)
        finally:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
