"""``AsyncWebexEvents``: the asynchronous client, a driver of the shared programs (tasks)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from datetime import datetime
from types import TracebackType
from typing import Any, ClassVar, Generic, Self

import httpx

from ._actions import READ_ERRORS, Emit, Program, Read, Run, Send, Sleep, Spawn, Wait
from ._base import ClientBase, StreamBase
from ._event import AuditEvent, Event
from ._follow import FollowBatch
from ._models import E, Window
from ._operations import audit_event_categories, get_event, token_expiry

__all__ = ["AsyncEventStream", "AsyncWebexEvents"]


def _by(deadline: float | None) -> asyncio.Timeout:
    """Cancel the block at ``deadline`` (a ``time.monotonic()`` instant; None: never)."""
    return asyncio.timeout(None if deadline is None else max(deadline - time.monotonic(), 0.0))


class AsyncEventStream(StreamBase, Generic[E]):
    """What :meth:`AsyncWebexEvents.list_events` returns: an async iterable of :class:`Event`
    (of :class:`AuditEvent` for the audit streams).

    Same order and semantics as :class:`~webex_events.EventStream`; windows are listed by up to
    ``concurrency`` tasks.
    """

    _client: AsyncWebexEvents

    async def __aiter__(self) -> AsyncIterator[E]:
        # aclosing: leaving the loop must cancel the listing's tasks now, not when the event loop
        # finalizes the generator.
        async with aclosing(self._client._execute(self._program(per_page=True))) as windows:
            async for window in windows:
                for event in window.events:
                    yield event

    def windows(self) -> AsyncIterator[Window[E]]:
        """The listing as :class:`Window` objects, in ascending time order."""
        windows: AsyncIterator[Window[E]] = self._client._execute(self._program(per_page=False))
        return windows


class AsyncWebexEvents(
    ClientBase[
        AsyncEventStream[Event],
        AsyncEventStream[AuditEvent],
        httpx.AsyncClient,
        httpx.AsyncBaseTransport,
        AsyncIterator[FollowBatch[Event]],
        AsyncIterator[FollowBatch[AuditEvent]],
    ]
):
    """Asynchronous Webex Events client (an async context manager); same arguments as WebexEvents.

    ``list_events`` and ``follow`` are not coroutines: arguments are checked on the call,
    requests start on iteration (``async for``); ``follow``'s ``sleep`` is awaited.

    >>> import asyncio
    >>> from webex_events.testing import FakeWebex
    >>> fake = FakeWebex(events=25, seed=4)
    >>> async def main() -> int:
    ...     async with AsyncWebexEvents(token=fake.token, transport=fake.async_transport()) as client:
    ...         return len([e async for e in client.list_events(page_size=10)])
    >>> asyncio.run(main()) == len(fake.events)
    True
    """

    _stream_type = _audit_stream_type = AsyncEventStream
    _http_type = httpx.AsyncClient
    _returns: ClassVar[dict[str, Any]] = {
        "list_events": AsyncEventStream[Event],
        "list_admin_audit_events": AsyncEventStream[AuditEvent],
        "list_security_audit_events": AsyncEventStream[AuditEvent],
        "follow": AsyncIterator[FollowBatch[Event]],
        "follow_admin_audit_events": AsyncIterator[FollowBatch[AuditEvent]],
        "follow_security_audit_events": AsyncIterator[FollowBatch[AuditEvent]],
    }

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
        event: Event = await self._first(get_event(self._requester, event_id))  # (event_id checked now)
        return event

    async def token_expiry(self) -> datetime:
        """When the token this client sends expires (see :meth:`WebexEvents.token_expiry`)."""
        when: datetime = await self._first(token_expiry(self._requester))
        return when

    async def admin_audit_event_categories(self) -> list[str]:
        """The categories of admin audit events (for ``event_categories=``)."""
        categories: list[str] = await self._first(audit_event_categories(self._requester))
        return categories

    async def _first(self, program: Program) -> Any:
        async with aclosing(self._execute(program)) as emitted:
            async for value in emitted:
                return value
        raise AssertionError("the program emits its answer")  # pragma: no cover

    # -- the driver: how this client performs the actions -----------------------------------

    async def _execute(
        self, program: Program, *, poll_sleep: Callable[[float], Awaitable[object]] | None = None
    ) -> AsyncGenerator[Any, None]:
        """Run ``program``; yield what it emits (and cancel the tasks it spawned when it ends)."""
        run = Run(program, poll_sleep=poll_sleep or asyncio.sleep)
        try:
            for action in run:
                if type(action) is Emit:
                    yield action.value
                    continue
                run.reply(await self._perform(action, run))
        finally:
            run.close()

    async def _send(self, action: Send, run: Run) -> httpx.Response | Exception:
        request = self._request(action)
        try:
            async with _by(action.deadline):
                # auth=None: no client-level auth may replace ours; no redirect may carry the token.
                return await self._http.send(request, stream=True, follow_redirects=False, auth=None)
        except TimeoutError:
            return httpx.ReadTimeout("the attempt's deadline passed before the headers", request=request)
        except httpx.TransportError as exc:
            return exc

    async def _read(self, action: Read, run: Run) -> bytes | Exception:
        response = action.response
        try:
            async with _by(action.deadline):
                async for chunk in response.aiter_bytes():
                    action.add(chunk)
            return action.body()
        except TimeoutError:
            return httpx.ReadTimeout(
                "the attempt's deadline passed during the body", request=response.request
            )
        except READ_ERRORS as exc:
            return exc
        finally:
            await response.aclose()

    async def _sleep(self, action: Sleep, run: Run) -> None:
        await (run.poll_sleep if action.poll else asyncio.sleep)(action.seconds)

    async def _spawn(self, action: Spawn, run: Run) -> asyncio.Task[list[Any]]:
        async def collect() -> list[Any]:
            return [value async for value in self._execute(action.program)]

        return asyncio.ensure_future(collect())

    async def _wait(self, action: Wait, run: Run) -> set[asyncio.Task[list[Any]]]:
        done, _ = await asyncio.wait(action.handles, return_when=asyncio.FIRST_COMPLETED)  # type: ignore[type-var]
        return done  # type: ignore[return-value]
