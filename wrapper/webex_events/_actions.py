"""The sans-IO protocol between the core and the two drivers (sync and async).

The core's generators yield these actions and receive their results:

* ``Send(url, headers, attempt_timeout, total_deadline)`` → the driver sends a GET
  (``stream=True``, no redirects, no client auth) and sends back the ``httpx.Response`` with its
  body unread, or the ``httpx.TransportError``. The attempt must end (headers *and* body) by its
  deadline: ``attempt_timeout`` seconds after it is sent, and never after ``total_deadline``
  (``time.monotonic()``); the driver keeps it in the response (:func:`attempt_deadline`);
* ``Read(response, limit)`` → the driver reads and closes the body, sends back ``bytes``, the
  error, or :class:`BodyTooLargeError` as soon as the body is known to exceed ``limit`` bytes;
* ``Sleep(seconds)`` → the driver sleeps (``time.sleep``/``Event.wait`` or ``asyncio.sleep``);
* ``Page(events)`` (listings only) → the driver hands the events to its consumer.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import httpx

from ._page_events import PageEvents

__all__ = [
    "Action",
    "BodyTooLargeError",
    "Page",
    "Read",
    "Send",
    "Sleep",
    "attempt_deadline",
    "capped_timeout",
    "read_capped",
    "set_attempt_deadline",
]

_DEADLINE = "webex_events.deadline"


class Send:
    """Action: send a GET to ``url`` with ``headers``, within the attempt's deadline."""

    __slots__ = ("attempt_timeout", "headers", "total_deadline", "url")

    def __init__(
        self,
        url: httpx.URL,
        headers: Mapping[str, str],
        *,
        attempt_timeout: float | None = None,
        total_deadline: float | None = None,
    ) -> None:
        self.url = url
        self.headers = headers
        self.attempt_timeout = attempt_timeout
        self.total_deadline = total_deadline

    def deadline(self, now: float) -> float | None:
        """The attempt's deadline if it starts ``now`` (None: no deadline)."""
        own = None if self.attempt_timeout is None else now + self.attempt_timeout
        return min((d for d in (own, self.total_deadline) if d is not None), default=None)


class Read:
    """Action: read (and close) the body of ``response``, at most ``limit`` bytes."""

    __slots__ = ("limit", "response")

    def __init__(self, response: httpx.Response, limit: int) -> None:
        self.response = response
        self.limit = limit


class BodyTooLargeError(Exception):
    """What a driver sends back for a body over the limit (it stopped reading and closed it)."""


class _Capped:
    """Joins chunks, refusing as soon as they exceed the limit (shared by both drivers)."""

    __slots__ = ("chunks", "deadline", "limit", "request", "size")

    def __init__(self, response: httpx.Response, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.chunks: list[bytes] = []
        self.deadline = attempt_deadline(response)
        self.request = response.request
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise BodyTooLargeError(f"Content-Length {declared}")

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise BodyTooLargeError(f"more than {self.limit} bytes received")
        self.chunks.append(chunk)
        if self.deadline is not None and time.monotonic() > self.deadline:
            # A body trickled slowly resets httpx's read timeout with each chunk: not ours.
            raise httpx.ReadTimeout(
                f"the attempt's deadline passed after {self.size} bytes", request=self.request
            )


def read_capped(response: httpx.Response, limit: int) -> _Capped:
    """A collector for the body of ``response`` (BodyTooLargeError at once if Content-Length is over)."""
    return _Capped(response, limit)


class Sleep:
    """Action: wait ``seconds``."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __repr__(self) -> str:
        return f"Sleep({self.seconds!r})"


class Page:
    """Output: the (range-filtered) events of one page, made when the consumer takes them."""

    __slots__ = ("events",)

    def __init__(self, events: PageEvents) -> None:
        self.events = events


Action = Send | Read | Sleep | Page


def capped_timeout(timeout: httpx.Timeout, deadline: float | None, now: float) -> httpx.Timeout:
    """``timeout`` with every phase capped at what is left until ``deadline``.

    httpx's read timeout restarts with each byte: the cap bounds one wait, the drivers check the
    deadline between chunks, so a body trickled byte by byte cannot outlive the attempt.
    """
    if deadline is None:
        return timeout
    left = max(deadline - now, 0.001)
    phases = (timeout.connect, timeout.read, timeout.write, timeout.pool)
    connect, read, write, pool = (left if phase is None else min(phase, left) for phase in phases)
    return httpx.Timeout(connect=connect, read=read, write=write, pool=pool)


def set_attempt_deadline(response: httpx.Response, deadline: float | None) -> None:
    """Keep the attempt's deadline with its response (the Read that follows honours it)."""
    response.extensions[_DEADLINE] = deadline


def attempt_deadline(response: httpx.Response) -> float | None:
    """The deadline stored by :func:`set_attempt_deadline` (None: none)."""
    value = response.extensions.get(_DEADLINE)
    return value if isinstance(value, float) else None
