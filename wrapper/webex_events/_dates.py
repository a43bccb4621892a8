"""Dates on the wire and the window arithmetic, in integer milliseconds since the epoch (UTC).

Webex timestamps have millisecond precision, so every bound is kept as an int of milliseconds:
window arithmetic is then exact (no float or microsecond drift) and bounds compare as canonical
``YYYY-MM-DDTHH:MM:SS.sssZ`` strings, which sort like the instants they denote.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from ._errors import InvalidArgumentError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Field ranges checked too: "2025-13-45T99:99:99.999Z" sorts like a date but is none (a day 31
# of a 30-day month still passes; parsing it then fails, as for any unreadable value).
_CANONICAL = re.compile(
    r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z"
).fullmatch
_US_PER_MS = 1000


def to_aware(value: object, *, name: str) -> datetime:
    """An aware datetime from an aware datetime or an ISO 8601 string with ``Z``/offset."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidArgumentError(
                f"{name} must be an ISO 8601 date-time with a UTC offset or Z, got {value!r}"
            ) from None
    else:
        raise InvalidArgumentError(
            f"{name} must be an aware datetime or an ISO 8601 string, got {type(value).__name__}"
        )
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise InvalidArgumentError(
            f"{name} must be timezone-aware (naive datetimes are ambiguous), got {value!r}"
        )
    return dt.astimezone(UTC)


def micros(dt: datetime) -> int:
    delta = dt - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def ceil_ms(dt: datetime) -> int:
    """Milliseconds since the epoch, rounded up.

    Events carry whole milliseconds, so ``created >= x`` and ``created < x`` select the same
    events as with ``ceil_ms(x)``: rounding up keeps half-open ranges exact.
    """
    return -(-micros(dt) // _US_PER_MS)


def floor_ms(dt: datetime) -> int:
    """Milliseconds since the epoch, rounded down (used to clamp to "now", never the future)."""
    return micros(dt) // _US_PER_MS


def from_ms(ms: int) -> datetime:
    """The aware UTC datetime of ``ms`` milliseconds since the epoch."""
    return EPOCH + timedelta(milliseconds=ms)


def format_ms(ms: int) -> str:
    """Canonical Webex form ``YYYY-MM-DDTHH:MM:SS.sssZ``."""
    dt = from_ms(ms)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{dt.microsecond // 1000:03d}Z"


def is_canonical(text: str) -> bool:
    """Whether ``text`` looks like ``YYYY-MM-DDTHH:MM:SS.sssZ`` (then it sorts as a string)."""
    return _CANONICAL(text) is not None


def parse_ms(text: str) -> int:
    """Milliseconds since the epoch of a canonical ``YYYY-MM-DDTHH:MM:SS.sssZ`` (see is_canonical)."""
    return micros(datetime.fromisoformat(text)) // _US_PER_MS


def parse_created(text: str) -> datetime | None:
    """A ``created`` value in any ISO 8601 form as an aware UTC datetime, or None."""
    try:
        dt = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    if dt.tzinfo is None:
        # Webex documents UTC; a bare timestamp is read as UTC rather than dropped.
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def timedelta_ms(value: timedelta) -> int:
    """A window length in whole milliseconds (rounded up so a tiny window is still 1 ms)."""
    return -(-(value.days * 86_400_000_000 + value.seconds * 1_000_000 + value.microseconds) // 1000)


class WindowPlan:
    """The fixed grid of a ``window=timedelta`` listing: half-open windows ``[s, e)`` tiling the
    range every ``step_ms``, planned lazily in ascending order (``_schedule`` asks for them).

    >>> fixed = WindowPlan(0, 25, step_ms=10)
    >>> [fixed.next(), fixed.next(), fixed.next(), fixed.next()]
    [(0, 10), (10, 20), (20, 25), None]
    """

    def __init__(self, start_ms: int, end_ms: int, *, step_ms: int) -> None:
        self._cursor, self._end, self._step = start_ms, end_ms, max(step_ms, 1)
        self.planned = 0

    @property
    def exhausted(self) -> bool:
        """Whether every window has been planned."""
        return self._cursor >= self._end

    def next(self) -> tuple[int, int] | None:
        """The next window ``[s, e)``, or None when the range is covered."""
        if self._cursor >= self._end:
            return None
        start = self._cursor
        self._cursor = min(start + self._step, self._end)
        self.planned += 1
        return start, self._cursor

    def estimated_total(self) -> int:
        """Windows planned so far plus those the rest of the range needs."""
        return self.planned + max(0, -(-(self._end - self._cursor) // self._step))


def spans(lo_ms: int, hi_ms: int, limit_ms: int | None) -> list[tuple[int, int]]:
    """``[lo_ms, hi_ms)`` in ascending pieces of at most ``limit_ms`` (None: one piece).

    >>> spans(0, 10, 4), spans(0, 10, None)
    ([(0, 4), (4, 8), (8, 10)], [(0, 10)])
    """
    if limit_ms is None or hi_ms - lo_ms <= limit_ms:
        return [(lo_ms, hi_ms)]
    return [(lo, min(lo + limit_ms, hi_ms)) for lo in range(lo_ms, hi_ms, limit_ms)]
