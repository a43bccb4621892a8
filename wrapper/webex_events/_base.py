"""What the sync and async clients share: construction, ``list_events`` arguments, window order.

The two clients only differ in how they send, read, sleep and run windows concurrently (threads
or tasks); everything they decide is decided here or in the sans-IO modules.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, Literal, TypeVar, Unpack

import httpx

from webex_events_api.spec import ListEventsFilters

from ._config import configure_client, http_limits
from ._dates import from_ms
from ._errors import InvalidArgumentError
from ._event import Event
from ._models import ListStats, Window
from ._query import PAGE_SIZE, Query, build_query
from ._requester import MAX_RESPONSE_BYTES
from ._retry import RetryPolicy

__all__ = ["ClientBase", "StreamBase", "WindowSchedule"]

StreamT = TypeVar("StreamT", bound="StreamBase")
HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)
TransportT = TypeVar("TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)
HandleT = TypeVar("HandleT")


class ClientBase(Generic[StreamT, HttpT, TransportT]):
    """Constructor and ``list_events`` of both clients (see :class:`WebexEvents` for the arguments)."""

    _stream_type: ClassVar[type[Any]]
    _http_type: ClassVar[type[httpx.Client] | type[httpx.AsyncClient]]

    def __init__(
        self,
        *,
        token: str | None = None,
        base_url: str | None = None,
        timeout: float | None = 30.0,
        retry: RetryPolicy | None = None,
        concurrency: int = 4,
        http_client: HttpT | None = None,
        transport: TransportT | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        settings = configure_client(
            token=token,
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            concurrency=concurrency,
            http_client=http_client,
            transport=transport,
            http_client_type=self._http_type,
            max_response_bytes=max_response_bytes,
        )
        self._requester = settings.requester
        self._concurrency = settings.concurrency
        self._owns_http = settings.owns_http
        try:
            self._http: HttpT = http_client or self._http_type(  # type: ignore[assignment]
                transport=transport,  # type: ignore[arg-type]
                timeout=settings.timeout,
                follow_redirects=False,
                limits=http_limits(settings.concurrency),
            )
        except ImportError as exc:  # e.g. ALL_PROXY=socks5://... without the socksio package
            raise InvalidArgumentError(
                f"cannot set up HTTP from the environment's proxy settings: {exc}"
                " (for a SOCKS proxy: pip install 'httpx[socks]')"
            ) from None

    def __repr__(self) -> str:
        base_url = str(self._requester.base_url)
        return f"{type(self).__name__}(base_url={base_url!r}, concurrency={self._concurrency})"

    def list_events(
        self,
        *,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
        page_size: int = PAGE_SIZE,
        window: timedelta | Literal["auto"] | None = None,
        concurrency: int | None = None,
        **filters: Unpack[ListEventsFilters],
    ) -> StreamT:
        """List Events in ``[from_, to)``; arguments are checked now, requests start on iteration.

        ``filters`` are the List Events filters of the spec, by Python name (``resource``,
        ``type``, ``actor_id``, ``service_type``...): enum members or plain strings, including
        values Webex adds after this release. ``from_``/``to`` are aware datetimes or ISO 8601
        strings with an offset; ``to`` defaults to now and is never sent in the future.
        ``page_size`` is bounded by the spec's range for ``max``.

        ``window=None`` sends one query and streams its pages. ``window=timedelta(...)`` or
        ``"auto"`` (windows sized from the density seen, about 0.8 of a page each) splits the
        range and fetches up to ``concurrency`` windows at a time; events come in window order.

        >>> from webex_events import WebexEvents
        >>> from webex_events.testing import FakeWebex
        >>> fake = FakeWebex(events=40, seed=2)
        >>> with WebexEvents(token=fake.token, transport=fake.transport()) as client:
        ...     stream = client.list_events(resource="messages", page_size=10)
        ...     ids = [e.id for e in stream]
        >>> sorted(ids) == sorted(fake.expected_ids(resource="messages"))
        True
        """
        query = build_query(
            filters=filters,
            from_=from_,
            to=to,
            page_size=page_size,
            window=window,
            concurrency=concurrency,
            default_concurrency=self._concurrency,
        )
        stream: StreamT = self._stream_type(_client=self, _query=query)
        return stream


class StreamBase:
    """What ``EventStream`` and ``AsyncEventStream`` share: the query and the counters."""

    def __init__(self, *, _client: Any, _query: Query) -> None:
        self._client = _client
        self._query = _query
        self.stats = ListStats(windows_total=_query.windows_total)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(windows_total={self.stats.windows_total})"

    def _start(self) -> bool:
        """New counters for a new run; False when the range is empty (nothing to send)."""
        query = self._query
        self.stats = ListStats(windows_total=query.windows_total)
        return query.lo_ms is None or query.lo_ms < query.hi_ms

    def _whole(self, events: list[Event]) -> Window:
        """The unwindowed listing (or one page of it) as a Window."""
        return Window(start=self._query.start, end=self._query.end, events=events)


class WindowSchedule(Generic[HandleT]):
    """Which windows to start, and the order they are handed to the consumer (oldest first).

    ``launch(lo_ms, hi_ms)`` starts fetching a window and returns a handle (a Future, a Task);
    at most ``concurrency`` windows are fetched ahead of the consumer.
    """

    def __init__(self, query: Query, stats: ListStats, launch: Callable[[int, int], HandleT]) -> None:
        self._query = query
        self._plan = query.plan()
        self._stats = stats
        self._launch = launch
        self._pending: deque[tuple[int, int, HandleT]] = deque()

    def next(self) -> tuple[int, int, HandleT] | None:
        """Start what may start now; the oldest window in flight, or None when all are done."""
        for lo, hi in self._plan.take(in_flight=len(self._pending), concurrency=self._query.concurrency):
            self._pending.append((lo, hi, self._launch(lo, hi)))
        return self._pending.popleft() if self._pending else None

    def finished(self, lo: int, hi: int, events: list[Event]) -> Window:
        """Record a window's result (it sizes the next ``auto`` windows) and wrap it."""
        self._plan.observe(lo, hi, events=len(events))
        self._stats._window_done(estimated_total=self._plan.estimated_total())
        return Window(start=from_ms(lo), end=from_ms(hi), events=events)

    def abandoned(self) -> list[HandleT]:
        """The handles still in flight (to cancel when the consumer goes away)."""
        return [handle for _, _, handle in self._pending]
