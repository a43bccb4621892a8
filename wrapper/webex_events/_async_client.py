"""``AsyncWebexEvents``: the asyncio client, a thin driver of the same sans-IO core."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Generator
from contextlib import aclosing
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

__all__ = ["AsyncEventStream", "AsyncWebexEvents"]

T = TypeVar("T")


class AsyncWebexEvents:
    """Asynchronous Webex Events client (an async context manager); same arguments as WebexEvents.

    >>> import asyncio
    >>> from webex_events.testing import FakeWebex
    >>> fake = FakeWebex(events=25, seed=4)
    >>> async def main() -> int:
    ...     async with AsyncWebexEvents(token=fake.token, transport=fake.async_transport()) as client:
    ...         return len([e async for e in client.list_events(page_size=10)])
    >>> asyncio.run(main()) == len(fake.events)
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
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        settings = configure_client(
            token=token,
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            concurrency=concurrency,
            http_client=http_client,
            transport=transport,
            http_client_type=httpx.AsyncClient,
        )
        self._core = settings.core
        self._concurrency = settings.concurrency
        self._owns_http = settings.owns_http
        self._http = http_client or httpx.AsyncClient(
            transport=transport,
            timeout=settings.timeout,
            follow_redirects=False,
            limits=http_limits(settings.concurrency),
        )

    def __repr__(self) -> str:
        return f"AsyncWebexEvents(base_url={str(self._core.base_url)!r}, concurrency={self._concurrency})"

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def get_event(self, event_id: str) -> Event:
        """Get Event Details (see :meth:`WebexEvents.get_event`)."""
        gen = self._core.get_event(event_id)  # validates now, before any await
        box: list[Event] = []
        async with aclosing(self._drive(gen, box)) as pages:
            async for _ in pages:
                pass
        return box[0]

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
    ) -> AsyncEventStream:
        """List Events (see :meth:`WebexEvents.list_events`); returns an async iterable.

        Not a coroutine: arguments are checked on the call, requests start on iteration.
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
        return AsyncEventStream(_client=self, _query=query)

    # -- the driver ----------------------------------------------------------------------

    async def _send(self, action: Send) -> httpx.Response | Exception:
        request = self._http.build_request("GET", action.url, headers=action.headers)
        # Take a send slot at the last moment: another task may have just seen a 429, and after
        # one the gate paces requests (see _gate).
        # A deadline shared with other clients' threads, not an event: polling it is the point.
        while (wait := self._core.gate.reserve()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)
        try:
            return await self._http.send(request, stream=True, follow_redirects=False, auth=None)
        except httpx.TransportError as exc:
            return exc

    @staticmethod
    async def _read(response: httpx.Response) -> bytes | Exception:
        try:
            # Joined here, not cached on the response: the page's bytes die with the decode.
            return b"".join([chunk async for chunk in response.aiter_bytes()])
        except httpx.TransportError as exc:
            return exc
        finally:
            await response.aclose()

    async def _drive(
        self, gen: Generator[Any, Any, Any], box: list[Any]
    ) -> AsyncGenerator[list[Event], None]:
        """Execute the core's actions; yield the events of each page; the return value goes in box."""
        result: Any = None
        try:
            while True:
                try:
                    action = gen.send(result)
                except StopIteration as done:
                    box.append(done.value)
                    return
                result = None
                if type(action) is Page:
                    yield action.events
                elif type(action) is Send:
                    result = await self._send(action)
                elif type(action) is Read:
                    result = await self._read(action.response)
                elif type(action) is Sleep:
                    await asyncio.sleep(action.seconds)
                else:  # pragma: no cover - the core yields nothing else
                    raise TypeError(f"unknown action {action!r}")
        finally:
            gen.close()


class AsyncEventStream:
    """What :meth:`AsyncWebexEvents.list_events` returns: an async iterable of :class:`Event`.

    Same order and semantics as :class:`EventStream`; windows are fetched by up to
    ``concurrency`` tasks with a bounded look-ahead.
    """

    def __init__(self, *, _client: AsyncWebexEvents, _query: Query) -> None:
        self._client = _client
        self._query = _query
        self.stats = ListStats(windows_total=_query.windows_total)

    def __repr__(self) -> str:
        return f"AsyncEventStream(windows_total={self.stats.windows_total})"

    async def __aiter__(self) -> AsyncGenerator[Event, None]:
        # aclosing: closing this generator must close the inner ones now (and cancel their tasks),
        # not whenever the event loop finalizes them.
        async with aclosing(self._run(stream_pages=True)) as windows:
            async for window in windows:
                for event in window.events:
                    yield event

    def windows(self) -> AsyncIterator[Window]:
        """The listing as :class:`Window` objects, in ascending time order."""
        return self._run(stream_pages=False)

    async def _run(self, *, stream_pages: bool) -> AsyncGenerator[Window, None]:
        query = self._query
        self.stats = ListStats(windows_total=query.windows_total)
        if query.lo_ms is not None and query.lo_ms >= query.hi_ms:
            return
        if not query.windowed:
            async with aclosing(self._sequential(stream_pages=stream_pages)) as windows:
                async for window in windows:
                    yield window
        else:
            async with aclosing(self._windowed()) as windows:
                async for window in windows:
                    yield window

    async def _sequential(self, *, stream_pages: bool) -> AsyncGenerator[Window, None]:
        query, stats = self._query, self.stats
        gen = self._client._core.list_range(query, query.lo_ms, query.hi_ms, stats)
        collected: list[Event] = []
        async with aclosing(self._client._drive(gen, [])) as pages:
            async for events in pages:
                if stream_pages:
                    yield Window(start=query.start, end=query.end, events=events)
                else:
                    collected.extend(events)
        stats._window_done()
        if not stream_pages:
            yield Window(start=query.start, end=query.end, events=collected)

    async def _collect(self, lo_ms: int, hi_ms: int) -> list[Event]:
        gen = self._client._core.list_range(self._query, lo_ms, hi_ms, self.stats)
        out: list[Event] = []
        async with aclosing(self._client._drive(gen, [])) as pages:
            async for events in pages:
                out.extend(events)
        return out

    async def _windowed(self) -> AsyncGenerator[Window, None]:
        query, stats = self._query, self.stats
        plan = query.plan()
        # A bounded look-ahead: at most `concurrency` windows fetched ahead of the consumer.
        pending: deque[tuple[int, int, asyncio.Task[list[Event]]]] = deque()
        try:
            while True:
                for lo, hi in plan.take(in_flight=len(pending), concurrency=query.concurrency):
                    pending.append((lo, hi, asyncio.ensure_future(self._collect(lo, hi))))
                if not pending:
                    break
                lo, hi, task = pending.popleft()
                events = await task
                plan.observe(lo, hi, events=len(events))
                stats._window_done(estimated_total=plan.estimated_total())
                yield Window(start=from_ms(lo), end=from_ms(hi), events=events)
        finally:
            tasks = [task for _, _, task in pending]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
