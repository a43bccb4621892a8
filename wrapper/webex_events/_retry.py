"""Retry policy and Retry-After parsing: pure functions, no I/O, no clock of their own."""

from __future__ import annotations

import email.utils
import math
import random
from datetime import UTC, datetime

import attrs

__all__ = ["RETRY_AFTER_STATUSES", "RETRY_BACKOFF_STATUSES", "RetryPolicy", "parse_retry_after"]

# Statuses whose Retry-After header says how long to wait (423/429 also without the header).
RETRY_AFTER_STATUSES = frozenset({423, 429, 503})
# Statuses retried with exponential backoff and full jitter.
RETRY_BACKOFF_STATUSES = frozenset({500, 502, 504})


def _positive(_inst: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not value >= 0:
        raise ValueError(f"{attribute.name} must be a number >= 0, got {value!r}")


def _attempts(_inst: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{attribute.name} must be an int >= 1, got {value!r}")


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How hard to try: bounded attempts and time, backoff with full jitter, Retry-After honoured.

    Only GET requests are sent by this client, and all of them may be retried.

    * 429, 423, 503: wait what ``Retry-After`` says (seconds, decimal or an HTTP date), at most
      ``retry_after_cap``; a missing or malformed value means ``retry_after_default`` (503 without
      the header uses backoff instead). The wait pauses *every* request of the client.
    * 500, 502, 504, connection errors, timeouts, bodies cut off: ``uniform(0, min(backoff_cap,
      backoff_base * 2 ** (attempt - 1)))`` seconds.
    * At most ``max_attempts`` attempts per request and ``max_total_seconds`` spent on one request.
    * ``seed`` makes the jitter reproducible (tests).

    >>> policy = RetryPolicy(max_attempts=3, backoff_base=0.1, seed=1)
    >>> 0 <= policy.backoff(attempt=2, rng=policy.make_rng()) <= 0.2
    True
    """

    max_attempts: int = attrs.field(default=6, validator=_attempts)
    max_total_seconds: float = attrs.field(default=300.0, validator=_positive)
    backoff_base: float = attrs.field(default=0.5, validator=_positive)
    backoff_cap: float = attrs.field(default=30.0, validator=_positive)
    retry_after_default: float = attrs.field(default=5.0, validator=_positive)
    retry_after_cap: float = attrs.field(default=120.0, validator=_positive)
    seed: int | None = None

    def make_rng(self) -> random.Random:
        """A random generator for the jitter, seeded with ``seed`` when given."""
        # Jitter is not security-sensitive.
        return random.Random(self.seed)  # noqa: S311

    def backoff(self, *, attempt: int, rng: random.Random) -> float:
        """Full-jitter delay after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0 ** min(attempt - 1, 60))
        return rng.uniform(0.0, ceiling)

    def retry_after(self, value: str | None, *, now: datetime | None = None) -> float:
        """Seconds to wait for a ``Retry-After`` value under this policy (default, cap applied)."""
        return parse_retry_after(value, default=self.retry_after_default, cap=self.retry_after_cap, now=now)


def parse_retry_after(value: str | None, *, default: float, cap: float, now: datetime | None = None) -> float:
    """Seconds to wait for a ``Retry-After`` header value, within ``[0, cap]``.

    Accepts delta-seconds (also decimal, which some servers send) and HTTP dates; anything else
    (missing, negative, ``rand(30),add(30)``...) gives ``default``.
    """
    seconds = _parse(value, now)
    if seconds is None:
        seconds = float(default)
    return float(min(max(seconds, 0.0), cap))


def _parse(value: str | None, now: datetime | None) -> float | None:
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        # float() also accepts "nan", "inf", "1e9": only finite non-negative numbers are seconds.
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
        return None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # RFC 9110 dates are GMT; parsedate gives naive for "-0000".
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else datetime.now(UTC)
    return max((when - current).total_seconds(), 0.0)
