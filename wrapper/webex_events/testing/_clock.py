"""``SimClock``: a hand-driven wall clock for tests of the fake's live mode."""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime, timedelta

__all__ = ["SimClock"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SimClock:
    """A simulated wall clock: time moves only when told to (thread-safe).

    Calling it returns seconds since the epoch (a float), so it can be passed as
    ``FakeWebex(wall_clock=...)`` (or ``clock=``); ``now()`` is the same instant as an aware UTC
    datetime; ``advance(seconds)`` moves it forward, and ``sleep`` is the same thing, so code under
    test that takes a sleep function returns at once while the simulated time passes. It keeps
    whole microseconds, so advancing never accumulates float error.

    >>> from datetime import UTC, datetime, timedelta
    >>> from webex_events.testing import FakeWebex, SimClock
    >>> clock = SimClock(datetime(2024, 1, 31, 12, tzinfo=UTC))
    >>> clock()
    1706702400.0
    >>> clock.sleep(90.5)
    >>> clock.now()
    datetime.datetime(2024, 1, 31, 12, 1, 30, 500000, tzinfo=datetime.timezone.utc)
    >>> fake = FakeWebex.live(rate=6, history=timedelta(minutes=10), wall_clock=clock)
    >>> seen = len(fake.expected_ids(visible_only=True))
    >>> clock.advance(600)  # ten simulated minutes later, more events are out
    >>> len(fake.expected_ids(visible_only=True)) > seen
    True
    """

    __slots__ = ("_lock", "_us")

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("start must be an aware datetime")
        delta = start - _EPOCH
        self._us = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        self._lock = threading.Lock()

    def __call__(self) -> float:
        """Seconds since the epoch (what ``time.time()`` returns)."""
        with self._lock:
            return self._us / 1_000_000

    def __repr__(self) -> str:
        return f"SimClock({self.now().isoformat()})"

    def now(self) -> datetime:
        """The simulated instant as an aware UTC datetime."""
        with self._lock:
            us = self._us
        return _EPOCH + timedelta(microseconds=us)

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward (rounded to the microsecond; negative: ValueError)."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"a clock only moves forward: seconds must be >= 0, got {seconds}")
        step = round(seconds * 1_000_000)
        with self._lock:
            self._us += step

    def sleep(self, seconds: float) -> None:
        """Same as ``advance``: hand it to code under test as its sleep function."""
        self.advance(seconds)
