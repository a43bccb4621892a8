"""Small public value types: ``Window`` and ``ListStats``."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING, Generic

import attrs

from ._event import BaseEvent, Event

#: The event view of a stream: ``Event`` (the default: ``Window`` is ``Window[Event]``),
#: ``AuditEvent``. (The default is for type checkers; typing.TypeVar takes one from 3.13.)
if TYPE_CHECKING:
    from typing_extensions import TypeVar

    E = TypeVar("E", bound=BaseEvent, default=Event)
else:
    from typing import TypeVar

    E = TypeVar("E", bound=BaseEvent)

__all__ = ["ListStats", "Window"]


@attrs.frozen(kw_only=True)
class Window(Generic[E]):
    """One half-open time window ``[start, end)`` and its events, in the order the server sent.

    ``start`` is None only for an unbounded sequential listing (no ``from_``).
    """

    start: datetime | None
    end: datetime
    events: list[E]


@attrs.define(kw_only=True)
class ListStats:
    """Counters of one listing, updated while it runs (safe to read at any time).

    ``requests`` counts HTTP requests sent (retries included), ``retries`` the retried ones,
    ``pages`` the pages received, ``events`` the events yielded after the range filter.
    ``repeated``: copies of an event the server served again, not delivered; ``bad``: events
    delivered without a readable ``created`` or an ``id`` (each with a warning).
    """

    requests: int = 0
    pages: int = 0
    events: int = 0
    retries: int = 0
    repeated: int = 0
    bad: int = 0
    windows_total: int = 0
    windows_done: int = 0
    _lock: threading.Lock = attrs.field(factory=threading.Lock, repr=False, eq=False, alias="_lock")

    def _add(
        self,
        *,
        requests: int = 0,
        pages: int = 0,
        events: int = 0,
        retries: int = 0,
        repeated: int = 0,
        bad: int = 0,
    ) -> None:
        # Workers of a windowed listing update the same counters from several threads.
        with self._lock:
            self.requests += requests
            self.pages += pages
            self.events += events
            self.retries += retries
            self.repeated += repeated
            self.bad += bad

    def _window_done(self, *, estimated_total: int | None = None) -> None:
        with self._lock:
            self.windows_done += 1
            if estimated_total is not None:
                # window="auto" sizes windows as it learns the density: the total is an estimate.
                self.windows_total = estimated_total
