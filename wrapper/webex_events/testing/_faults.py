"""Fault kinds the fake can inject, and how each one is answered."""

from __future__ import annotations

import enum
from collections.abc import Iterable

__all__ = ["RETRY_AFTER_FAULTS", "Fault", "format_seconds", "parse_faults"]


class Fault(enum.StrEnum):
    """A failure the fake injects (``FakeWebex(fault_rate=..., faults=[...])``).

    >>> from webex_events.testing import Fault
    >>> Fault("503") is Fault.SERVICE_UNAVAILABLE
    True
    >>> sorted(f.value for f in Fault.all())[:3]
    ['423', '429', '500']
    """

    LOCKED = "423"
    TOO_MANY_REQUESTS = "429"
    SERVICE_UNAVAILABLE = "503"
    INTERNAL_SERVER_ERROR = "500"
    BAD_GATEWAY = "502"
    GATEWAY_TIMEOUT = "504"
    # In process: httpx.ReadError; over a socket: the connection is reset (RST) without a response.
    CONNECTION_RESET = "reset"
    # Content-Length announces the whole page, only part of it is sent, then the connection ends.
    TRUNCATED_BODY = "truncated"

    @classmethod
    def all(cls) -> frozenset[Fault]:
        """Every fault kind (the default of ``FakeWebex(faults=...)``)."""
        return frozenset(cls)


# Answered at the edge: immediately (no latency) and with a Retry-After header.
RETRY_AFTER_FAULTS = frozenset({Fault.LOCKED, Fault.TOO_MANY_REQUESTS, Fault.SERVICE_UNAVAILABLE})


def parse_faults(faults: Iterable[Fault | str] | None) -> tuple[Fault, ...]:
    """Normalize ``faults`` (None: all) to a sorted tuple so seeded choices are reproducible."""
    chosen = Fault.all() if faults is None else {Fault(f) for f in faults}
    return tuple(sorted(chosen, key=lambda f: f.value))


def format_seconds(seconds: float) -> str:
    """Render a Retry-After value: an integer when whole, else up to 3 decimals."""
    if seconds == int(seconds):
        return str(int(seconds))
    return f"{seconds:.3f}".rstrip("0").rstrip(".")
