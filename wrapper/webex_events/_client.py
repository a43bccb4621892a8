"""``WebexEvents``: the synchronous client, a driver of the shared programs (threads)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future
from concurrent.futures import wait as wait_any
from datetime import datetime
from types import TracebackType
from typing import Any, ClassVar, Generic, Self

import httpx

from ._actions import READ_ERRORS, Emit, Program, Read, Run, Send, Sleep, Spawn, Stopped, Wait
from ._base import ClientBase, StreamBase
from ._event import AuditEvent, Event
from ._follow import FollowBatch
from ._models import E, Window
from ._operations import audit_event_categories, get_event, token_expiry

__all__ = ["EventStream", "WebexEvents"]


class EventStream(StreamBase, Generic[E]):
    """What :meth:`WebexEvents.list_events` returns: an iterable of :class:`Event` (of
    :class:`AuditEvent` for the audit streams).

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

    def __iter__(self) -> Iterator[E]:
        for window in self._client._execute(self._program(per_page=True)):
            yield from window.events

    def windows(self) -> Iterator[Window[E]]:
        """The listing as :class:`Window` objects, in ascending time order.

        Without ``window=`` the whole listing is one Window (held in memory).
        """
        windows: Iterator[Window[E]] = self._client._execute(self._program(per_page=False))
        return windows


class WebexEvents(
    ClientBase[
        EventStream[Event],
        EventStream[AuditEvent],
        httpx.Client,
        httpx.BaseTransport,
        Iterator[FollowBatch[Event]],
        Iterator[FollowBatch[AuditEvent]],
    ]
):
    """Synchronous Webex Events client (a context manager).

    ``token`` defaults to ``$WEBEX_ACCESS_TOKEN``, ``base_url`` to ``$WEBEX_BASE_URL`` or the
    spec's server. ``http_client=``: your own ``httpx.Client`` (not closed here); ``transport=``:
    for tests. Redirects are never followed; the token goes only to ``base_url``'s origin.

    >>> from webex_events.testing import FakeWebex
    >>> fake = FakeWebex(events=50, seed=1)
    >>> with WebexEvents(token=fake.token, transport=fake.transport()) as client:
    ...     events = list(client.list_events(page_size=20))
    >>> len(events) == len(fake.events)
    True
    """

    _stream_type = _audit_stream_type = EventStream
    _http_type = httpx.Client
    _returns: ClassVar[dict[str, Any]] = {
        "list_events": EventStream[Event],
        "list_admin_audit_events": EventStream[AuditEvent],
        "list_security_audit_events": EventStream[AuditEvent],
        "follow": Iterator[FollowBatch[Event]],
        "follow_admin_audit_events": Iterator[FollowBatch[AuditEvent]],
        "follow_security_audit_events": Iterator[FollowBatch[AuditEvent]],
    }

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
        (event,) = self._execute(get_event(self._requester, event_id))
        return event  # type: ignore[no-any-return]

    def token_expiry(self) -> datetime:
        """When the token this client sends expires (Webex's ``tokenExpiry``)."""
        (when,) = self._execute(token_expiry(self._requester))
        return when  # type: ignore[no-any-return]

    def admin_audit_event_categories(self) -> list[str]:
        """The categories of admin audit events (for ``event_categories=``)."""
        (categories,) = self._execute(audit_event_categories(self._requester))
        return categories  # type: ignore[no-any-return]

    # -- the driver: how this client performs the actions -----------------------------------

    def _execute(
        self,
        program: Program,
        *,
        poll_sleep: Callable[[float], object] | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[Any]:
        """Run ``program``; yield what it emits. A run that owns ``stop`` sets it when it ends,
        so the threads it spawned stop at their next step."""
        run = Run(program, stop or threading.Event(), poll_sleep or time.sleep)
        try:
            for action in run:
                if type(action) is Emit:
                    yield action.value
                else:
                    run.reply(self._perform(action, run))
        finally:
            run.close()
            if stop is None:
                run.stop.set()  # type: ignore[union-attr]

    def _send(self, action: Send, run: Run) -> httpx.Response | Exception:
        try:
            # auth=None: no client-level auth may replace ours; no redirect may carry the token.
            return self._http.send(self._request(action), stream=True, follow_redirects=False, auth=None)
        except httpx.TransportError as exc:
            return exc

    def _read(self, action: Read, run: Run) -> bytes | Exception:
        try:
            for chunk in action.response.iter_bytes():
                action.add(chunk)
            return action.body()
        except READ_ERRORS as exc:
            return exc
        finally:
            action.response.close()

    def _sleep(self, action: Sleep, run: Run) -> None:
        if action.poll:
            run.poll_sleep(action.seconds)
        elif run.stop.wait(action.seconds):  # type: ignore[union-attr]
            raise Stopped

    def _spawn(self, action: Spawn, run: Run) -> Future[list[Any]]:
        future: Future[list[Any]] = Future()
        future.set_running_or_notify_cancel()  # (running: Run.close's cancel() leaves it be)

        def work() -> None:
            try:
                future.set_result(list(self._execute(action.program, stop=run.stop)))
            except BaseException as exc:  # the future must end, whatever happened
                future.set_exception(exc)

        # A daemon thread: a listing left unfinished (its stream still referenced) must not keep
        # the interpreter from exiting; its threads end at their next step or attempt deadline.
        threading.Thread(target=work, name="webex-events", daemon=True).start()
        return future

    def _wait(self, action: Wait, run: Run) -> set[Future[list[Any]]]:
        handles: list[Future[list[Any]]] = action.handles  # type: ignore[assignment]
        return wait_any(handles, return_when=FIRST_COMPLETED).done
