"""The sans-IO protocol between the core and the two drivers (sync and async).

The core's generators yield these actions and receive their results:

* ``Send(url, headers)`` → the driver sends a GET (``stream=True``, no redirects, no client auth)
  and sends back the ``httpx.Response`` with its body unread, or the ``httpx.TransportError``;
* ``Read(response)`` → the driver reads and closes the body, sends back ``bytes`` or the error;
* ``Sleep(seconds)`` → the driver sleeps (``time.sleep``/``Event.wait`` or ``asyncio.sleep``);
* ``Page(events)`` (listings only) → the driver hands the events to its consumer.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from ._event import Event

__all__ = ["Action", "Page", "Read", "Send", "Sleep"]


class Send:
    """Action: send a GET to ``url`` with ``headers``."""

    __slots__ = ("headers", "url")

    def __init__(self, url: httpx.URL, headers: Mapping[str, str]) -> None:
        self.url = url
        self.headers = headers

    def __repr__(self) -> str:
        return f"Send({str(self.url)!r})"  # never the headers: they hold the token


class Read:
    """Action: read (and close) the body of ``response``."""

    __slots__ = ("response",)

    def __init__(self, response: httpx.Response) -> None:
        self.response = response


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
