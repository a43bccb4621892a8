"""The client-wide rate-limit gate: a Retry-After pause shared by every worker, then pacing.

* ``block_for(seconds)`` (a Retry-After) pauses everyone: ``wait()`` lets no request start
  before it ends (requests in flight finish as they may).
* A 429 also starts pacing: starts are spaced by ``1 / rate``, the rate being 90 % of the starts
  per second since the last pause (at most a second back: what the server let through), or
  lower after another 429; each start raises it by 2 %, so pacing fades out after a few hundred
  requests without a 429. 429s that keep coming whatever the pace (faults, not a rate limit)
  stop it once it falls below half its highest estimate, rather than spiral it down.

>>> t = [0.0]
>>> gate = Gate(clock=lambda: t[0])
>>> for i in range(1, 11):  # 10 requests start within 0.5 s (no 429 yet: no waiting)...
...     t[0] = i * 0.05
...     assert gate.wait() == 0.0
>>> gate.block_for(1.0, rate_limited=True)  # ...then a 429 with Retry-After: 1
>>> gate.wait()  # everyone waits out the pause
1.0
>>> t[0] = 1.5
>>> gate.wait(), round(gate.wait(), 3)  # then one start per 1 / (0.9 x 20) s
(0.0, 0.056)
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["Gate"]

_BACKOFF = 0.9  # after a 429, pace at this share of the rate that got through
_RECOVERY = 1.02  # each start while pacing raises the rate by this factor
_FADE = 1000.0  # requests per second above which pacing stops


class Gate:
    """The client-wide rate-limit gate; ``clock`` (monotonic seconds) is a switch for tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()  # held for microseconds: fine inside an event loop too
        self._until = 0.0  # end of the running pause
        self._rate = 0.0  # paced starts per second; 0.0: not pacing
        self._peak = 0.0  # the highest estimate while pacing
        self._next = 0.0  # the next start slot while pacing
        self._starts: deque[float] = deque(maxlen=1000)

    def block_for(self, seconds: float, *, rate_limited: bool = False) -> None:
        """Pause every request start for ``seconds`` from now (never shortens a running pause)."""
        with self._lock:
            now = self._clock()
            since = max(now - 1.0, self._until)
            count = sum(1 for start in self._starts if start > since)
            if rate_limited and count >= 3:  # (fewer tell nothing about rates)
                estimate = count / (now - since)
                self._peak = max(self._peak, estimate) if self._rate else estimate
                rate = _BACKOFF * min(estimate, self._rate or estimate)
                self._rate = rate if rate >= self._peak / 2 else 0.0
            self._until = max(self._until, now + seconds)

    def wait(self) -> float:
        """0.0 and a start slot taken, or the seconds to wait before asking again."""
        with self._lock:
            now = self._clock()
            if (wait := max(self._until, self._next if self._rate else 0.0) - now) > 0:
                return wait
            if self._rate:
                # A caller late by less than a slot keeps the schedule; after an idle spell
                # it restarts from now (no burst of saved-up slots).
                interval = 1.0 / self._rate
                self._next = (self._next if now - self._next < interval else now) + interval
                self._rate = 0.0 if self._rate * _RECOVERY > _FADE else self._rate * _RECOVERY
            self._starts.append(now)
            return 0.0
