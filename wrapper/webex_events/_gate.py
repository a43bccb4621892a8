"""The client-wide rate-limit gate: Retry-After pauses, and pacing learnt from 429s.

One gate is shared by every thread or task of a client. Its policy:

* ``block_for(seconds)`` (a Retry-After) pauses everyone: ``reserve()`` lets nothing leave before.
* Until the first 429 that is all: ``reserve()`` records the send time and returns 0.0.
* ``trace`` (called from the requester's httpcore ``trace`` extension) looks again right before
  a request's first byte is written, and recalls it (:class:`Recalled`) if a pause began since
  its slot.
* One pause per request: the requester closes the gate from the trace hook the moment a 429's
  headers are read, and again when its core looks at the response (a transport without
  httpcore has no hook); the second ``block_for`` for the same send slot does nothing.
* On a 429 (``rate_limited=True``) the gate estimates the rate the server allows from the times
  requests *left* up to the rejected one (responses of 16 requests in flight come back together),
  then hands out one send slot per ``1 / rate``.
* The rate restarts at 95 % of that estimate (never above the current one), then follows a cubic
  as TCP CUBIC does: back to the estimate in ``RECOVER`` s, flat around it (each 429 costs a whole
  Retry-After: probe slowly there), then faster and faster; at twice the estimate without a 429
  the limit is taken to be gone and pacing stops. It also stops below half its highest estimate
  (see ``FLOOR``).

>>> t = [0.0]
>>> gate = Gate(clock=lambda: t[0])
>>> gate.reserve(), gate.pacing_interval  # no 429 yet: no waiting, no pacing
(0.0, 0.0)
>>> for i in range(1, 21):  # 20 more requests leave within 0.4 s; the last one gets a 429...
...     t[0] = i * 0.02
...     _ = gate.reserve()
>>> gate.block_for(0.6, rate_limited=True)  # ...with "Retry-After: 0.6" (up to the next second)
>>> gate.reserve()  # everyone waits out the pause
0.6
>>> t[0] = 1.0
>>> round(1 / gate.pacing_interval, 3)  # then 95 % of the 20 requests/s that got through
19.0
>>> gate.reserve(), round(gate.reserve(), 4)  # one slot per interval: the next caller waits
(0.0, 0.0526)
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from contextvars import ContextVar

__all__ = ["Gate", "Recalled"]

# The quota period assumed when a Retry-After is at most this long: per-second limits are the
# common case, and some servers answer "Retry-After: 1" whatever the window.
WINDOW = 1.0
BACKOFF = 0.05  # after a 429 pace at 1 - BACKOFF of the estimate (it counts only what got through)
RECOVER = 10.0  # seconds for the rate to climb back to the estimate (and as long again to leave it)
GONE = 2.0  # pacing stops once the rate has reached GONE x the estimate without a 429
MIN_SAMPLE = 3  # fewer sends before a 429 tell nothing about rates: only back off from the pace
# Below FLOOR x its highest estimate pacing stops instead (the next 429 estimates afresh): 429s that
# keep coming whatever the pace are not about rate (injected faults, a struggling server), and
# must not spiral it down to nothing; a limit that really fell is relearnt at once.
FLOOR = 0.5
HISTORY = 4096  # send times kept

# The httpcore trace events just before a request's first byte is written (HTTP/1.1, HTTP/2).
_SENDING = frozenset({"http11.send_request_headers.started", "http2.send_request_headers.started"})

# (gate key, time) of the last slot taken in this thread or asyncio task: when its request gets
# a 429, block_for (called from the same thread or task, as the drivers do) knows when it left.
_sent: ContextVar[tuple[object, float] | None] = ContextVar("webex_events_gate_sent", default=None)
# The slot (the same tuple as in _sent) whose response has already paused the gate.
_paused: ContextVar[tuple[object, float] | None] = ContextVar("webex_events_gate_paused", default=None)


class Recalled(Exception):  # noqa: N818 - not an error: the driver waits and sends again
    """Raised by :meth:`Gate.trace`: a pause began after the request took its slot; nothing was sent."""


class Gate:
    """The client-wide rate-limit gate; ``clock`` (monotonic seconds) is injectable for tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()  # held for microseconds only: also fine inside an event loop
        self._key = object()  # tags our send times in _sent (without keeping the gate alive)
        self._until = 0.0  # end of the running pause
        self._sends: deque[float] = deque(maxlen=HISTORY)
        self._limit = 0.0  # the estimated allowed rate (requests/s); 0.0: not pacing
        self._floor = 0.0
        self._since = -math.inf  # end of the last 429's pause: origin of the cubic and of estimates
        self._next = -math.inf  # the next send slot while pacing

    def block_for(self, seconds: float, *, rate_limited: bool = False) -> None:
        """Pause everyone for ``seconds`` from now (never shortens a running pause).

        ``rate_limited``: a 429, so (re)start pacing; unless its request left before the pause of
        an earlier 429 ended: it was in flight then, and that 429 has already lowered the rate.

        Called again for the response of the same send slot (this thread's or task's last
        ``reserve()``), it does nothing: the pause counts from when that response was first read.
        """
        sent = _sent.get()
        if sent is not None and sent[0] is not self._key:
            sent = None  # another client's slot
        if sent is not None:
            if _paused.get() is sent:
                return
            _paused.set(sent)
        with self._lock:
            now = self._clock()
            if rate_limited:
                sent_at = sent[1] if sent is not None else now
                if sent_at >= self._since:
                    self._decrease(now, sent_at, seconds)
                self._since = max(self._since, now + seconds)
            self._until = max(self._until, now + seconds)

    def remaining(self) -> float:
        """Seconds until the pause ends (<= 0: none running); reserves nothing."""
        with self._lock:
            return self._until - self._clock()

    def reserve(self) -> float:
        """Take a send slot and return 0.0, or return the seconds to wait (and take nothing).

        Call at the last moment before a request leaves: ``while (w := gate.reserve()) > 0: sleep(w)``.
        """
        with self._lock:
            now = self._clock()
            wait = self._until - now
            if wait > 0:
                return wait
            if self._limit:
                rate = self._pace(now)
                if not rate:
                    self._limit = 0.0  # the limit is gone
                elif (wait := self._next - now) > 0:
                    return wait
                else:
                    # A caller late by less than a slot (a sleep overshot) keeps the schedule;
                    # after an idle spell it restarts from now: no burst of saved-up slots.
                    interval = 1.0 / rate
                    self._next = (self._next if now - self._next < interval else now) + interval
            self._sends.append(now)
        _sent.set((self._key, now))
        return 0.0

    def trace(self, event: str, info: object) -> None:
        """httpcore ``trace`` extension: :class:`Recalled` if a pause runs as the headers go out.

        ``reserve()`` is called before the request is built; the first byte is written later,
        after the connection pool, maybe a connect, and (asyncio) other tasks' turns: tens of
        milliseconds on a busy event loop, while another request may get a 429. This is the last
        moment the request can be taken back: the headers are written right after, with no await
        in between (anyio writes at once unless the socket buffer is full). Raised there, httpcore
        sends nothing (it closes that HTTP/1.1 connection; an HTTP/2 stream is never opened); the
        driver takes a slot again and resends. A transport without httpcore ignores the extension:
        ``reserve()`` alone guards it.
        """
        if event in _SENDING and self.remaining() > 0:
            raise Recalled("a Retry-After pause began before the request's headers were sent")

    @property
    def pacing_interval(self) -> float:
        """Seconds between send slots now; 0.0 when not pacing."""
        with self._lock:
            rate = self._pace(self._clock())
        return 1.0 / rate if rate else 0.0

    def _pace(self, now: float) -> float:
        """The paced rate at ``now`` (requests/s); 0.0 when not pacing."""
        if not self._limit:
            return 0.0
        x = (now - self._since) / RECOVER - 1.0
        rate = self._limit * (1.0 + BACKOFF * x * x * x)
        return rate if rate < GONE * self._limit else 0.0

    def _decrease(self, now: float, sent_at: float, retry_after: float) -> None:
        """Set the limit after a 429 at ``now``: what got through per second, at most the pace.

        Counted: the sends since the last pause up to the rejected one (later ones were in flight),
        minus that one. A Retry-After up to WINDOW: those of the second before, per second (or per
        their span plus the pause if shorter: a short pause, a short window). A longer one: a longer
        quota, used up by the sends since the last pause, spread over them and the pause.
        """
        long = retry_after > WINDOW
        start = self._since if long else max(self._since, sent_at - WINDOW)
        count, first = 0, now
        for sent in reversed(self._sends):
            if sent < start:
                break
            if sent <= sent_at:
                count, first = count + 1, sent
        span = now - first + retry_after if long else min(WINDOW, now - first + retry_after)
        pace = self._pace(now)
        estimate = (count - 1) / span if count >= MIN_SAMPLE and span > 0 else math.inf
        limit = min(pace or math.inf, estimate)
        if limit == math.inf:  # not pacing, and too few sends to start
            self._limit = 0.0
            return
        if estimate < math.inf:
            self._floor = max(self._floor if pace else 0.0, FLOOR * estimate)
        self._limit = limit if limit >= self._floor else 0.0
