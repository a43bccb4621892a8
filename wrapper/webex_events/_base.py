"""What the sync and async clients share: construction, ``list_events`` arguments, window order.

The two clients only differ in how they send, read, sleep and run windows concurrently (threads
or tasks); everything they decide is decided here or in the sans-IO modules.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Generic, Literal, TypeVar, Unpack

import httpx

from webex_events_api.spec import ListEventsFilters

from ._config import configure_client, http_limits, tls_verify
from ._errors import InvalidArgumentError
from ._follow import (
    DEFAULT_LAG,
    DEFAULT_OVERLAP,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_RECONCILE_HORIZON,
    DEFAULT_RECONCILE_INTERVAL,
    Clock,
    FollowCheckpoint,
    Follower,
    utc_now,
)
from ._models import ListStats
from ._page_events import PageEvents, WindowPages
from ._query import PAGE_SIZE, Query, build_query
from ._requester import MAX_RESPONSE_BYTES
from ._retry import RetryPolicy

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_LAG",
    "DEFAULT_OVERLAP",
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_RECONCILE_HORIZON",
    "DEFAULT_RECONCILE_INTERVAL",
    "ClientBase",
    "StreamBase",
]

#: Requests in flight for one listing of a date range, by default. Webex publishes no rate limit
#: for List Events (its limits are dynamic), so the default is what a listing needs rather than
#: what a server might bear: at the latencies of pages of 1000 events (0.1 s to over 1 s), 8 in
#: flight is where the benchmark's speedup levels off (about 6x at 0.1 s; 16 gains about 10%
#: more), i.e. at most 8 to 80 requests per second, for the few seconds a large export takes.
#: If Webex answers 429, the client-wide gate (_gate) pauses every request for the Retry-After
#: and then paces them at the rate it learnt, so a too high value costs one 429, not a stream of
#: them. An unbounded listing (no from_) is one query whatever this value.
DEFAULT_CONCURRENCY = 8

# A fixed range for checking follow's list_events arguments before its first pass is planned.
_CHECK_RANGE = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2000, 1, 2, tzinfo=UTC))

StreamT = TypeVar("StreamT", bound="StreamBase")
HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)
TransportT = TypeVar("TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)


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
        concurrency: int = DEFAULT_CONCURRENCY,
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
                verify=tls_verify(settings.requester.base_url),
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

        A date range (``from_`` given) is split into windows fetched ``concurrency`` at a time
        (default: the client's, 8 unless set): ``window=None`` means ``"auto"`` then, and
        ``concurrency=1`` one query whose pages are streamed in the server's order, as for a
        listing without ``from_``. ``"auto"`` lists the whole range first; when a page comes
        back full, the rest of the range is cut into windows of nearly a page each, sized from
        the density seen, so each takes about one request. ``window=timedelta(...)`` uses a
        fixed grid (each window listed whole). Windows come in ascending time order and, within
        a window, events in the server's order (newest first for Webex).

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

    def _follower(
        self,
        *,
        since: datetime | str | None,
        checkpoint: FollowCheckpoint | str | None,
        lag: timedelta,
        poll_interval: timedelta,
        overlap: timedelta,
        reconcile_horizon: timedelta,
        reconcile_interval: timedelta,
        page_size: int,
        concurrency: int | None,
        clock: Clock | None,
        filters: dict[str, Any],
    ) -> tuple[Follower, float, Clock]:
        """Check every argument of ``follow`` (before any request) and build its state machine."""
        now = clock or utc_now
        if not isinstance(poll_interval, timedelta) or poll_interval < timedelta(0):
            raise InvalidArgumentError(
                f"poll_interval must be a timedelta of at least 0, got {poll_interval!r}"
            )
        # The same checks as list_events (page size, concurrency, filters), on a dummy range.
        build_query(
            filters=filters,
            from_=_CHECK_RANGE[0],
            to=_CHECK_RANGE[1],
            page_size=page_size,
            window=None,
            concurrency=concurrency,
            default_concurrency=self._concurrency,
        )
        follower = Follower(
            since=since,
            checkpoint=checkpoint,
            filters=filters,
            lag=lag,
            overlap=overlap,
            reconcile_horizon=reconcile_horizon,
            reconcile_interval=reconcile_interval,
            now=now(),
        )
        return follower, poll_interval.total_seconds(), now


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

    def _whole(self, pages: list[PageEvents]) -> WindowPages:
        """The unwindowed listing (or one page of it) as a window."""
        return WindowPages(self._query.start, self._query.end, pages)
