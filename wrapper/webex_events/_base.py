"""What the sync and async clients share: construction, arguments, and every program they run.

The two clients differ only in how they perform the actions of ``_actions`` (threads or tasks);
a listing, a windowed listing and ``follow`` are programs, written once, that they both run.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Generic, Literal, TypedDict, TypeVar, Unpack, get_args, get_type_hints

import httpx

from webex_events_api.spec import (
    ListAdminAuditEventsFilters,
    ListEventsFilters,
    ListSecurityAuditEventsFilters,
)

from ._actions import Action, Emit, Run, Send, Sleep, capped_timeout, relay
from ._auth import Auth
from ._config import configure_client, tls_verify
from ._dates import spans
from ._errors import InvalidArgumentError
from ._follow import (
    DEFAULT_LAG,
    DEFAULT_OVERLAP,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_RECONCILE_HORIZON,
    DEFAULT_RECONCILE_INTERVAL,
    FollowCheckpoint,
    Follower,
    utc_now,
)
from ._models import ListStats, Window
from ._operations import list_range
from ._query import Query, build_query
from ._requester import MAX_RESPONSE_BYTES
from ._retry import RetryPolicy
from ._schedule import list_windows
from ._streams import ADMIN_AUDIT, EVENTS, SECURITY_AUDIT, Stream

#: Requests in flight for one listing of a date range, by default: Webex publishes no rate limit,
#: and at the latencies of full pages the speedup levels off around 8 (see docs/benchmarks.md).
#: A 429 pauses every request for its Retry-After, then paces them (_gate).
DEFAULT_CONCURRENCY = 8

# A fixed range for checking follow's list_events arguments before its first pass is planned.
_CHECK_RANGE = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2000, 1, 2, tzinfo=UTC))

StreamT = TypeVar("StreamT", bound="StreamBase")  # a stream of Event
AuditStreamT = TypeVar("AuditStreamT", bound="StreamBase")  # a stream of AuditEvent
HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)
TransportT = TypeVar("TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)
BatchesT = TypeVar("BatchesT")  # follow's batches of Event
AuditBatchesT = TypeVar("AuditBatchesT")  # of AuditEvent


class FollowOptions(TypedDict, total=False):
    """The arguments of ``follow`` besides the filters (see :meth:`ClientBase.follow`)."""

    since: datetime | str | None
    checkpoint: FollowCheckpoint | str | None
    lag: timedelta
    poll_interval: timedelta
    overlap: timedelta
    reconcile_horizon: timedelta
    reconcile_interval: timedelta
    once: bool
    page_size: int | None
    concurrency: int | None
    bad_events: Literal["deliver", "error"]
    clock: Callable[[], datetime] | None
    sleep: Callable[[float], Any] | None


class FollowAdminAuditOptions(FollowOptions, ListAdminAuditEventsFilters, total=False):
    """``follow_admin_audit_events``'s arguments: follow's and the stream's filters."""


class FollowSecurityAuditOptions(FollowOptions, ListSecurityAuditEventsFilters, total=False):
    """``follow_security_audit_events``'s arguments: follow's and the stream's filters."""


class ClientBase(Generic[StreamT, AuditStreamT, HttpT, TransportT, BatchesT, AuditBatchesT]):
    """Constructor, the listings and ``follow`` of both clients (see :class:`WebexEvents`)."""

    _stream_type: ClassVar[type[Any]]
    _audit_stream_type: ClassVar[type[Any]]
    _http_type: ClassVar[type[httpx.Client] | type[httpx.AsyncClient]]
    #: The real return types, for ``help()`` (the methods are written once, with type variables).
    _returns: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, returns in cls._returns.items():
            setattr(cls, name, _with_signature(getattr(ClientBase, name), cls, returns))

    def __init__(
        self,
        *,
        token: str | None = None,
        auth: Auth | None = None,
        base_url: str | None = None,
        timeout: float | None = 30.0,
        retry: RetryPolicy | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        http_client: HttpT | None = None,
        transport: TransportT | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self._requester, self._concurrency, timeout = configure_client(
            token=token,
            auth=auth,
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            concurrency=concurrency,
            http_client=http_client,
            transport=transport,
            http_client_type=self._http_type,
            max_response_bytes=max_response_bytes,
        )
        self._owns_http = http_client is None
        try:
            self._http: HttpT = http_client or self._http_type(  # type: ignore[assignment]
                transport=transport,  # type: ignore[arg-type]
                timeout=timeout,
                follow_redirects=False,
                limits=httpx.Limits(max_connections=max(10, 2 * self._concurrency)),
                verify=tls_verify(self._requester.base_url),
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
        page_size: int | None = None,
        window: timedelta | Literal["auto"] | None = None,
        concurrency: int | None = None,
        bad_events: Literal["deliver", "error"] = "deliver",
        **filters: Unpack[ListEventsFilters],
    ) -> StreamT:
        """List Events in ``[from_, to)``; arguments are checked now, requests start on iteration.

        ``filters`` are the spec's List Events filters by Python name: enum members or plain
        strings (Webex adds values). ``from_``/``to``: aware datetimes or ISO 8601 strings with an
        offset; ``to`` defaults to now. ``page_size`` is bounded by the spec's range for ``max``.

        A date range (``from_`` given) is split into windows fetched ``concurrency`` at a time
        (default: the client's, 8 unless set): ``window=None`` means ``"auto"`` then, and
        ``concurrency=1`` one query whose pages are streamed in the server's order, as for a
        listing without ``from_``. ``"auto"`` lists the whole range first; when a page comes
        back full, the rest of the range is cut into windows of about two pages, sized from
        the density seen. ``window=timedelta(...)`` uses a fixed grid (each window listed
        whole). Windows come in ascending time order and, within a window, events in the
        server's order (newest first for Webex).

        Whatever order the server's pages come in, each event of the range is delivered once
        (a copy served again is skipped: ``stats.repeated``). An event without a readable
        ``created`` or an ``id`` is delivered with a warning and counted (``stats.bad``);
        ``bad_events="error"`` raises :class:`BadEventError` instead.

        >>> from webex_events import WebexEvents
        >>> from webex_events.testing import FakeWebex
        >>> fake = FakeWebex(events=40, seed=2)
        >>> with WebexEvents(token=fake.token, transport=fake.transport()) as client:
        ...     stream = client.list_events(resource="messages", page_size=10)
        ...     ids = [e.id for e in stream]
        >>> sorted(ids) == sorted(fake.expected_ids(resource="messages"))
        True
        """
        result: StreamT = self._list(
            EVENTS,
            from_=from_,
            to=to,
            page_size=page_size,
            window=window,
            concurrency=concurrency,
            bad_events=bad_events,
            filters=filters,
        )
        return result

    def list_admin_audit_events(
        self,
        *,
        from_: datetime | str,
        to: datetime | str | None = None,
        page_size: int | None = None,
        window: timedelta | Literal["auto"] | None = None,
        concurrency: int | None = None,
        bad_events: Literal["deliver", "error"] = "deliver",
        **filters: Unpack[ListAdminAuditEventsFilters],
    ) -> AuditStreamT:
        """List Admin Audit Events of ``org_id`` in ``[from_, to)``: :class:`AuditEvent` objects.

        The same windows, concurrency, order and exactness as :meth:`list_events`; Webex pages
        this stream by ``offset`` and takes at most a year per request (a longer range is
        split). ``org_id`` is required (``auth status`` of the command shows the token's).
        """
        result: AuditStreamT = self._list(
            ADMIN_AUDIT,
            from_=from_,
            to=to,
            page_size=page_size,
            window=window,
            concurrency=concurrency,
            bad_events=bad_events,
            filters=filters,
        )
        return result

    def list_security_audit_events(
        self,
        *,
        from_: datetime | str,
        to: datetime | str | None = None,
        page_size: int | None = None,
        window: timedelta | Literal["auto"] | None = None,
        concurrency: int | None = None,
        bad_events: Literal["deliver", "error"] = "deliver",
        **filters: Unpack[ListSecurityAuditEventsFilters],
    ) -> AuditStreamT:
        """List Security Audit Events (sign-ins and sign-outs) of ``org_id`` in ``[from_, to)``.

        As :meth:`list_admin_audit_events` (this stream pages by ``Link`` header).
        """
        result: AuditStreamT = self._list(
            SECURITY_AUDIT,
            from_=from_,
            to=to,
            page_size=page_size,
            window=window,
            concurrency=concurrency,
            bad_events=bad_events,
            filters=filters,
        )
        return result

    def _list(self, stream: Stream, *, filters: Mapping[str, Any], **arguments: Any) -> Any:
        query = build_query(
            filters=filters, default_concurrency=self._concurrency, stream=stream, **arguments
        )
        return (self._stream_type if stream is EVENTS else self._audit_stream_type)(
            _client=self, _query=query
        )

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
        page_size: int | None = None,
        concurrency: int | None = None,
        bad_events: Literal["deliver", "error"] = "deliver",
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], Any] | None = None,
        **filters: Unpack[ListEventsFilters],
    ) -> BatchesT:
        """Yield new events as they appear, in batches, each event exactly once (List Events).

        Each poll reads up to ``now - lag``, from ``overlap`` before the last high-water mark, and
        every ``reconcile_interval`` from ``reconcile_horizon`` back (``webex_events._follow``).
        Store ``batch.checkpoint.to_json()`` *with* ``batch.events`` and pass the last one as
        ``checkpoint=`` after a restart: nothing is lost or delivered twice. ``since``: where a
        first run starts; ``once=True``: one poll (cron), else one every ``poll_interval``.
        ``bad_events`` as for :meth:`list_events` (the checkpoint counts such events: ``bad``).
        ``clock`` and ``sleep`` are switches for tests. Arguments are checked now.

        >>> from datetime import UTC, datetime
        >>> from webex_events import WebexEvents
        >>> from webex_events.testing import FakeWebex
        >>> fake = FakeWebex(events=30, seed=4, end=datetime(2024, 1, 2, tzinfo=UTC))
        >>> with WebexEvents(token=fake.token, transport=fake.transport()) as client:
        ...     batches = list(client.follow(since=fake.start, once=True))
        >>> sorted(e.id for b in batches for e in b.events) == sorted(fake.expected_ids())
        True
        >>> batches[-1].caught_up, batches[-1].checkpoint.delivered
        (True, 30)
        """
        result: BatchesT = self._follow(
            EVENTS,
            since=since,
            checkpoint=checkpoint,
            lag=lag,
            poll_interval=poll_interval,
            overlap=overlap,
            reconcile_horizon=reconcile_horizon,
            reconcile_interval=reconcile_interval,
            once=once,
            page_size=page_size,
            concurrency=concurrency,
            bad_events=bad_events,
            clock=clock,
            sleep=sleep,
            **filters,
        )
        return result

    def follow_admin_audit_events(self, **options: Unpack[FollowAdminAuditOptions]) -> AuditBatchesT:
        """:meth:`follow` for the admin audit stream (``org_id`` required): batches of AuditEvent."""
        result: AuditBatchesT = self._follow(ADMIN_AUDIT, **options)
        return result

    def follow_security_audit_events(self, **options: Unpack[FollowSecurityAuditOptions]) -> AuditBatchesT:
        """:meth:`follow` for the security audit stream (``org_id`` required)."""
        result: AuditBatchesT = self._follow(SECURITY_AUDIT, **options)
        return result

    def _follow(
        self,
        stream: Stream,
        *,
        since: datetime | str | None = None,
        checkpoint: FollowCheckpoint | str | None = None,
        lag: timedelta = DEFAULT_LAG,
        poll_interval: timedelta = DEFAULT_POLL_INTERVAL,
        overlap: timedelta = DEFAULT_OVERLAP,
        reconcile_horizon: timedelta = DEFAULT_RECONCILE_HORIZON,
        reconcile_interval: timedelta = DEFAULT_RECONCILE_INTERVAL,
        once: bool = False,
        page_size: int | None = None,
        concurrency: int | None = None,
        bad_events: Literal["deliver", "error"] = "deliver",
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], Any] | None = None,
        **filters: Any,
    ) -> Any:
        now = clock or utc_now
        if not isinstance(poll_interval, timedelta) or poll_interval < timedelta(0):
            raise InvalidArgumentError(
                f"poll_interval must be a timedelta of at least 0, got {poll_interval!r}"
            )
        # The same checks as list_events (page size, concurrency, filters), on a dummy range.
        self._list(
            stream,
            from_=_CHECK_RANGE[0],
            to=_CHECK_RANGE[1],
            page_size=page_size,
            window=None,
            concurrency=concurrency,
            bad_events=bad_events,
            filters=filters,
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
            stream=stream,
        )

        def polls() -> Generator[Action, Any, None]:
            while True:
                planned = follower.plan(now())
                if planned is not None:
                    listing = self._list(
                        stream,
                        from_=planned.start,
                        to=planned.end,
                        page_size=page_size,
                        window=None,
                        concurrency=concurrency,
                        bad_events=bad_events,
                        filters=follower.filters,
                    )
                    yield from relay(listing._program(per_page=False), follower.batch)
                yield Emit(follower.finish())
                if once:
                    return
                yield Sleep(poll_interval.total_seconds(), poll=True)

        return self._execute(polls(), poll_sleep=sleep)

    # -- what both drivers share ------------------------------------------------------------

    def _execute(self, program: Generator[Action, Any, None], *, poll_sleep: Any) -> Any:
        raise NotImplementedError

    def _perform(self, action: Action, run: Run) -> Any:
        """Perform one action (the driver's method named by it): a result, or its awaitable."""
        return getattr(self, action.method)(action, run)  # type: ignore[union-attr]

    def _request(self, action: Send) -> httpx.Request:
        """The request of a ``Send``, its timeouts capped at the attempt's deadline."""
        timeout = capped_timeout(self._http.timeout, action.deadline)
        return self._http.build_request(
            action.verb, action.url, headers=action.headers, content=action.content, timeout=timeout
        )


def _with_signature(method: Callable[..., Any], cls: type, returns: Any) -> Callable[..., Any]:
    """``method`` for ``cls``: its signature shows each keyword of its ``**kwargs: Unpack[...]``
    (the spec's filters; follow's options, with ``_follow``'s defaults) and ``returns``."""

    def bound(self: Any, *args: Any, **kwargs: Any) -> Any:
        return method(self, *args, **kwargs)

    signature = inspect.signature(method, eval_str=True)
    defaults = inspect.signature(ClientBase._follow).parameters
    kept, expanded = [], []
    for p in signature.parameters.values():
        if p.kind is not inspect.Parameter.VAR_KEYWORD:
            kept.append(p)
            continue
        (keywords,) = get_args(p.annotation)  # Unpack[SomeTypedDict]
        for name, hint in get_type_hints(keywords).items():
            default = defaults[name].default if name in defaults else None
            expanded.append(
                inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=hint)
            )
    full = signature.replace(parameters=kept + expanded, return_annotation=returns)
    bound.__signature__ = full  # type: ignore[attr-defined]
    bound.__annotations__ = {p.name: p.annotation for p in full.parameters.values() if p.name != "self"}
    bound.__annotations__["return"] = returns
    bound.__doc__, bound.__name__ = method.__doc__, method.__name__
    bound.__qualname__ = f"{cls.__name__}.{method.__name__}"
    return bound


class StreamBase:
    """What ``EventStream`` and ``AsyncEventStream`` share: the query, the counters, the program."""

    def __init__(self, *, _client: Any, _query: Query) -> None:
        self._client = _client
        self._query = _query
        self.stats = ListStats(windows_total=_query.windows_total)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(windows_total={self.stats.windows_total})"

    def _program(self, *, per_page: bool) -> Generator[Action, Any, None]:
        """The listing (each run with new counters), emitting :class:`Window` objects in time order.

        ``per_page``: a listing that is not windowed emits each page as it comes (iteration);
        else it emits itself whole, as one window (``windows()``).
        """
        query, requester = self._query, self._client._requester
        self.stats = stats = ListStats(windows_total=query.windows_total)
        if query.lo_ms is not None and query.lo_ms >= query.hi_ms:
            return
        if query.windowed:
            yield from list_windows(requester, query, stats)
            return
        events: list[Any] = []

        def page(page_events: list[Any]) -> Window | None:
            if per_page:
                return Window(start=query.start, end=query.end, events=page_events)
            events.extend(page_events)
            return None

        # A range longer than one request may cover: its pieces, newest first (the server's order).
        pieces = (
            [(None, query.hi_ms)]
            if query.lo_ms is None
            else spans(query.lo_ms, query.hi_ms, query.stream.max_range_ms)
        )
        for lo_ms, hi_ms in reversed(pieces):
            yield from relay(list_range(requester, query, lo_ms, hi_ms, stats), page)
        stats._window_done()
        if not per_page:
            yield Emit(Window(start=query.start, end=query.end, events=events))
