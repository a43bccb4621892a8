"""``AsyncWebexEvents``: the asyncio client, a thin driver of the same sans-IO core (tasks)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator
from contextlib import aclosing
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self, Unpack

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

__all__ = ["AsyncEventStream", "AsyncWebexEvents"]


def _before(deadline: float | None) -> asyncio.Timeout:
    """Cancel the block at ``deadline`` (a ``time.monotonic()`` instant; None: never)."""
    return asyncio.timeout(None if deadline is None else max(deadline - time.monotonic(), 0.0))


class AsyncEventStream(StreamBase):
    """What :meth:`AsyncWebexEvents.list_events` returns: an async iterable of :class:`Event`.

    Same order and semantics as :class:`EventStream`; windows are fetched by up to
    ``concurrency`` tasks with a bounded look-ahead.
    """

    _client: AsyncWebexEvents

    async def __aiter__(self) -> AsyncGenerator[Event, None]:
        # aclosing: closing this generator must close the inner ones now (and cancel their tasks),
        # not whenever the event loop finalizes them.
        async with aclosing(self._run(stream_pages=True)) as windows:
            async for window in windows:
                for event in window.events():
                    yield event

    async def windows(self) -> AsyncIterator[Window]:
        """The listing as :class:`Window` objects, in ascending time order."""
        async with aclosing(self._run(stream_pages=False)) as windows:
            async for window in windows:
                yield window.window()

    async def _run(self, *, stream_pages: bool) -> AsyncGenerator[WindowPages, None]:
        if not self._start():
            return
        if self._query.windowed:
            async with aclosing(self._windowed()) as windows:
                async for window in windows:
                    yield window
            return
        query, stats = self._query, self.stats
        gen = list_range(self._client._requester, query, query.lo_ms, query.hi_ms, stats)
        collected: list[PageEvents] = []
        async with aclosing(self._client._drive(gen, [])) as pages:
            async for page in pages:
                if stream_pages:
                    yield self._whole([page])
                else:
                    collected.append(page)
        stats._window_done()
        if not stream_pages:
            yield self._whole(collected)

    async def _collect(self, task: Task) -> tuple[list[PageEvents], Split | None]:
        gen = list_range(self._client._requester, self._query, task.lo, task.hi, self.stats, split=task.split)
        out: list[PageEvents] = []
        box: list[Split | None] = []
        async with aclosing(self._client._drive(gen, box)) as pages:
            async for page in pages:
                out.append(page)
        return out, box[0]

    async def _windowed(self) -> AsyncGenerator[WindowPages, None]:
        # The sync client's design with tasks: `concurrency` tasks loop on take -> fetch -> done,
        # the consumer pops finished windows in order (see _schedule).
        cond = asyncio.Condition()
        schedule = Schedule(self._query, self.stats)

        async def work() -> None:
            while True:
                async with cond:
                    while (task := schedule.take()) is None:
                        await cond.wait()
                try:
                    pages, split = await self._collect(task)
                except Exception as exc:  # handed to the consumer, in window order
                    async with cond:
                        schedule.failed(task, exc)
                        cond.notify_all()
                    continue
                async with cond:
                    schedule.done(task, pages, split)
                    cond.notify_all()
                del pages

        workers = [asyncio.ensure_future(work()) for _ in range(self._query.concurrency)]
        try:
            while True:
                async with cond:
                    while (window := schedule.pop()) is None:
                        if schedule.complete:
                            return
                        await cond.wait()
                    cond.notify_all()  # a buffer slot is free: a waiting worker may start
                yield window
                del window
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)


class AsyncWebexEvents(ClientBase[AsyncEventStream, httpx.AsyncClient, httpx.AsyncBaseTransport]):
    """Asynchronous Webex Events client (an async context manager); same arguments as WebexEvents.

    ``list_events`` is not a coroutine: arguments are checked on the call, requests start on
    iteration (``async for``).

    >>> import asyncio
    >>> from webex_events.testing import FakeWebex
    >>> fake = FakeWebex(events=25, seed=4)
    >>> async def main() -> int:
    ...     async with AsyncWebexEvents(token=fake.token, transport=fake.async_transport()) as client:
    ...         return len([e async for e in client.list_events(page_size=10)])
    >>> asyncio.run(main()) == len(fake.events)
    True
    """

    _stream_type = AsyncEventStream
    _http_type = httpx.AsyncClient

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
        gen = get_event(self._requester, event_id)  # validates now, before any await
        box: list[Event] = []
        async with aclosing(self._drive(gen, box)) as pages:
            async for _ in pages:
                pass
        return box[0]

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
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        **filters: Unpack[ListEventsFilters],
    ) -> AsyncIterator[FollowBatch]:
        """Yield (async) new events as they appear, in batches, each event exactly once.

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
        >>> async def main() -> list[FollowBatch]:
        ...     async with AsyncWebexEvents(token=fake.token, transport=fake.async_transport()) as client:
        ...         return [b async for b in client.follow(since=fake.start, once=True)]
        >>> import asyncio
        >>> batches = asyncio.run(main())
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

        async def polls() -> AsyncGenerator[FollowBatch, None]:
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
                    async for window in stream.windows():
                        batch = follower.take(window.events, window.end)
                        if batch.events:
                            yield batch
                yield follower.finish()
                if once:
                    return
                await sleep(poll_seconds)

        return polls()

    # -- the driver: how this client sends, reads and sleeps -----------------------------

    async def _send(self, action: Send) -> httpx.Response | Exception:
        # Take a send slot at the last moment: another task may have just seen a 429, and after
        # one the gate paces requests (see _gate). The loop may run other tasks for a while
        # before the bytes go out: the gate looks again then (the trace hook) and recalls it.
        gate = self._requester.gate
        hook = self._requester.atrace  # the gate's last look; a 429 closes it as its headers come in
        while True:
            # A deadline shared with other clients' threads, not an event: polling it is the point.
            while (wait := gate.reserve()) > 0:  # noqa: ASYNC110
                await asyncio.sleep(wait)
            now = time.monotonic()
            deadline = action.deadline(now)
            timeout = capped_timeout(self._http.timeout, deadline, now)
            request = self._http.build_request(
                "GET", action.url, headers=action.headers, timeout=timeout, extensions={"trace": hook}
            )
            try:
                async with _before(deadline):
                    response = await self._http.send(request, stream=True, follow_redirects=False, auth=None)
            except Recalled:
                continue  # nothing was sent: wait out the pause, then send it afresh
            except TimeoutError:
                return httpx.ReadTimeout("the attempt's deadline passed before the headers", request=request)
            except httpx.TransportError as exc:
                return exc
            set_attempt_deadline(response, deadline)
            return response

    @staticmethod
    async def _read(action: Read) -> bytes | Exception:
        response = action.response
        try:
            body = read_capped(response, action.limit)
            async with _before(body.deadline):
                async for chunk in response.aiter_bytes():
                    body.add(chunk)
            # Joined here, not cached on the response: the page's bytes die with the decode.
            return b"".join(body.chunks)
        except TimeoutError:
            return httpx.ReadTimeout(
                "the attempt's deadline passed during the body", request=response.request
            )
        except (httpx.TransportError, BodyTooLargeError) as exc:
            return exc
        finally:
            await response.aclose()

    async def _drive(self, gen: Generator[Any, Any, Any], box: list[Any]) -> AsyncGenerator[PageEvents, None]:
        """Execute the core's actions; yield the events of each page; the return value goes in box."""
        result: Any = None
        try:
            while True:
                try:
                    # The page is decoded and filtered on the loop, in this step. Decoding in
                    # asyncio.to_thread was measured (issue 13: 16 in flight, 100 ms, 2 cores):
                    # no gain, as orjson and the filter hold the GIL either way, and the loop
                    # then waits for the GIL too; the windows' workers already overlap reads.
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
                    result = await self._read(action)
                elif type(action) is Sleep:
                    await asyncio.sleep(action.seconds)
                else:  # pragma: no cover - the core yields nothing else
                    raise TypeError(f"unknown action {action!r}")
        finally:
            gen.close()
