"""The sans-IO protocol between the core and the two drivers (sync and async).

The core's generators yield these actions and receive their results:

* ``Send(url, headers)`` → the driver sends a GET (``stream=True``, no redirects, no client auth)
  and sends back the ``httpx.Response`` with its body unread, or the ``httpx.TransportError``;
* ``Read(response, limit)`` → the driver reads and closes the body, sends back ``bytes``, the
  error, or :class:`BodyTooLargeError` as soon as the body is known to exceed ``limit`` bytes;
* ``Sleep(seconds)`` → the driver sleeps (``time.sleep``/``Event.wait`` or ``asyncio.sleep``);
* ``Page(events)`` (listings only) → the driver hands the events to its consumer.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from ._event import Event

__all__ = ["Action", "BodyTooLargeError", "Page", "Read", "Send", "Sleep", "read_capped"]


class Send:
    """Action: send a GET to ``url`` with ``headers``."""

    __slots__ = ("headers", "url")

    def __init__(self, url: httpx.URL, headers: Mapping[str, str]) -> None:
        self.url = url
        self.headers = headers

    def __repr__(self) -> str:
        return f"Send({str(self.url)!r})"  # never the headers: they hold the token


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

    __slots__ = ("chunks", "limit", "size")

    def __init__(self, response: httpx.Response, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.chunks: list[bytes] = []
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise BodyTooLargeError(f"Content-Length {declared}")

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise BodyTooLargeError(f"more than {self.limit} bytes received")
        self.chunks.append(chunk)


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
    """Output: the (range-filtered) events of one page."""

    __slots__ = ("events",)

    def __init__(self, events: list[Event]) -> None:
        self.events = events


Action = Send | Read | Sleep | Page
