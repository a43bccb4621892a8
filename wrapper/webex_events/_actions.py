"""The sans-IO protocol between the core and the two drivers (sync and async).

Everything a client decides is written once, as generators (*programs*) that yield these
actions; a driver performs each one and sends back its result (:class:`Run` steps a program):

* ``Send(url, headers, deadline)`` → the ``httpx.Response`` (body unread) or the
  ``httpx.TransportError``; ``Read(response, limit, deadline)`` → the body's ``bytes`` or the
  error (:class:`BodyTooLargeError` past ``limit``); both by ``deadline`` (``time.monotonic()``).
* ``Sleep(seconds)`` → None; ``poll=True``: between two polls of ``follow`` (its ``sleep=``).
* ``Spawn(program)`` → a handle (a ``Future`` or an ``asyncio.Task``), the program running
  concurrently; ``Wait(handles)`` → those done, once one is. ``handle.result()``: the list of
  what the program emitted, or its error.
* ``Emit(value)`` → None: the driver hands ``value`` to its consumer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Mapping
from typing import Any, Protocol, TypeVar

import attrs
import httpx

Program = Generator["Action", Any, None]


class Handle(Protocol):
    """What a driver returns for ``Spawn``: a future or a task (hashable)."""

    def result(self) -> list[Any]: ...
    def cancel(self) -> bool: ...


@attrs.define
class Send:
    """Send ``verb`` (GET, or POST with ``content``) to ``url``; the answer's headers by ``deadline``."""

    url: httpx.URL
    headers: Mapping[str, str]
    deadline: float | None
    verb: str = attrs.field(default="GET", kw_only=True)
    content: bytes | None = attrs.field(default=None, kw_only=True)
    method = "_send"


class Read:
    """Read (and close) the body of ``response``: at most ``limit`` bytes, by ``deadline``.

    The driver passes each chunk to :meth:`add` and then takes :meth:`body`.
    """

    __slots__ = ("_chunks", "_size", "deadline", "limit", "response")
    method = "_read"

    def __init__(self, response: httpx.Response, limit: int, deadline: float | None) -> None:
        self.response, self.limit, self.deadline = response, limit, deadline
        self._chunks: list[bytes] = []
        self._size = 0

    def add(self, chunk: bytes) -> None:
        """Keep ``chunk``; BodyTooLargeError once over the limit, ReadTimeout past the deadline."""
        if not self._chunks:
            declared = self.response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.limit:
                raise BodyTooLargeError(f"Content-Length {declared}")
        self._size += len(chunk)
        if self._size > self.limit:
            raise BodyTooLargeError(f"more than {self.limit} bytes received")
        self._chunks.append(chunk)
        if self.deadline is not None and time.monotonic() > self.deadline:
            # A trickled body restarts httpx's read timeout with each chunk: the attempt's does not.
            raise httpx.ReadTimeout(
                f"the attempt's deadline passed after {self._size} bytes", request=self.response.request
            )

    def body(self) -> bytes:
        """The body read (the chunks are released)."""
        body, self._chunks = b"".join(self._chunks), []
        return body


@attrs.define
class Sleep:
    """Wait ``seconds``; ``poll``: the wait between two polls of ``follow`` (its ``sleep=``)."""

    seconds: float
    poll: bool = attrs.field(default=False, kw_only=True)
    method = "_sleep"


@attrs.define
class Spawn:
    """Run ``program`` concurrently; the answer is its handle."""

    program: Program
    method = "_spawn"


@attrs.define
class Wait:
    """Wait until one of ``handles`` is done; the answer is the set of those done."""

    handles: list[Handle]
    method = "_wait"


@attrs.define
class Emit:
    """Hand ``value`` to the consumer."""

    value: Any


Action = Send | Read | Sleep | Spawn | Wait | Emit
R = TypeVar("R")


class BodyTooLargeError(Exception):
    """What a driver sends back for a body over the limit (it stopped reading and closed it)."""


#: What a driver sends back instead of a body: the transport failed, the body could not be
#: content-decoded (a gzip header on a plain body), or it was over the limit.
READ_ERRORS = (httpx.TransportError, httpx.DecodingError, BodyTooLargeError)


class Stopped(Exception):  # noqa: N818 - not an error: the consumer went away
    """Raised in a worker thread of a listing its consumer left: abandon the work."""


class Run:
    """Steps a program: iterate over its actions, :meth:`reply` with each result.

    ``stop`` is shared with the programs it spawns (threads): once set, their next step raises
    :class:`Stopped`. ``close()`` closes the program and cancels what it spawned.

    >>> def program():
    ...     got = yield Sleep(1)
    ...     yield Emit(got * 2)
    >>> run = Run(program())
    >>> for action in run:
    ...     run.reply(21 if type(action) is Sleep else print(action.value))
    42
    """

    def __init__(self, program: Program, stop: threading.Event | None = None, poll_sleep: Any = None) -> None:
        self._program = program
        self._answer: Any = None
        self._last: Action | None = None
        self.stop = stop
        self.poll_sleep = poll_sleep
        self.spawned: set[Handle] = set()  # not yet seen done (each holds its result)

    def __iter__(self) -> Run:
        return self

    def __next__(self) -> Action:
        if self.stop is not None and self.stop.is_set():
            raise Stopped
        answer, self._answer = self._answer, None
        self._last = self._program.send(answer)
        return self._last

    def reply(self, answer: Any) -> None:
        """The result of the last action."""
        if type(self._last) is Spawn:
            self.spawned.add(answer)
        elif type(self._last) is Wait:
            self.spawned -= answer
        self._answer = answer

    def close(self) -> None:
        self._program.close()
        for handle in self.spawned:
            handle.cancel()


def relay(program: Generator[Action, Any, R], emitted: Callable[[Any], Any]) -> Generator[Action, Any, R]:
    """Run ``program`` inside another: its actions go up, and each value it emits goes through
    ``emitted``, whose result is emitted in its place (None: nothing); returns what it returns."""
    answer: Any = None
    try:
        while True:
            try:
                action = program.send(answer)
            except StopIteration as end:
                result: R = end.value
                return result
            answer = None
            if type(action) is not Emit:
                answer = yield action
            elif (value := emitted(action.value)) is not None:
                yield Emit(value)
    finally:
        program.close()


def capped_timeout(timeout: httpx.Timeout, deadline: float | None) -> httpx.Timeout:
    """``timeout`` with every phase capped at what is left until ``deadline``."""
    if deadline is None:
        return timeout
    left = max(deadline - time.monotonic(), 0.001)
    phases = (timeout.connect, timeout.read, timeout.write, timeout.pool)
    connect, read, write, pool = (left if phase is None else min(phase, left) for phase in phases)
    return httpx.Timeout(connect=connect, read=read, write=write, pool=pool)
