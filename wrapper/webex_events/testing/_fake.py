"""``FakeWebex``: the public face of the fake Webex Events API."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from ._app import FakeApp, FakeStats, Knobs
from ._facts import wire_text
from ._faults import Fault, parse_faults
from ._org import Organization
from ._server import run_app, serve_app
from ._transport import FakeAsyncTransport, FakeTransport

__all__ = ["FakeWebex", "run_server"]

_AUTO_CACHE_LIMIT = 250_000


def _to_ms(value: datetime, name: str) -> int:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime")
    return math.floor(value.timestamp() * 1000)


def _to_us(value: datetime, name: str) -> int:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime")
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class FakeWebex:
    """A faithful, deterministic fake of the Webex Events API (moto-style, for tests and demos).

    The organization is generated from ``(seed, events, start, end)``; ``end`` defaults to now
    floored to the hour and ``start`` to ``end - days``. Lists are served newest first; events
    that share a millisecond are ordered by a stable internal sequence (the same on every
    request). ``from`` is inclusive and ``to`` exclusive by default (``from_inclusive`` /
    ``to_inclusive`` switch that: the Webex docs do not say). Knobs after creation live in
    ``fake.knobs`` and may be changed between requests.

    Events carry what Webex actually sends, not only what it documents: attendees as strings,
    booleans such as ``isCallAnswered: true`` where the spec says a string, ``data`` fields the
    spec lacks (``markdown``, ``html``, ``files``... on messages) and the type ``read`` on some
    message events (the list and its source, wxc_sdk 1.41: ``webex_events.testing._org``).
    ``documented_shapes=True`` sends strictly what the spec documents instead.

    Extra knobs: ``latency_jitter`` (seeded uniform extra latency), ``cache_json`` (keep each
    event's bytes after first use; default on up to 250 000 events, ~1 kB each) and ``clock``
    (monotonic seconds used for rate-limit windows and Retry-After bookkeeping; inject one in
    tests to make them independent of wall-clock time) and ``early_grace`` (default 0.02 s: a
    request arriving this soon after a Retry-After was handed to the client still gets a 429
    but is not counted early, because a threaded client needs a moment to read the 429 and
    close its gate; set 0 for the strictest count) and ``forbidden_token`` (a token the fake
    knows but that lacks the compliance scope: answered 403).

    >>> import httpx
    >>> from datetime import UTC, datetime
    >>> from webex_events.testing import FakeWebex
    >>> fake = FakeWebex(events=250, seed=1, end=datetime(2024, 1, 31, tzinfo=UTC))
    >>> http = httpx.Client(transport=fake.transport(), headers={"Authorization": f"Bearer {fake.token}"})
    >>> url, ids = "https://webexapis.com/v1/events?max=100", []
    >>> while url:
    ...     page = http.get(url)
    ...     ids += [item["id"] for item in page.json()["items"]]
    ...     url = page.links.get("next", {}).get("url")
    >>> ids == fake.expected_ids() == [e["id"] for e in fake.events]
    True
    >>> fake.stats.pages
    3
    """

    def __init__(
        self,
        events: int = 1000,
        seed: int = 0,
        start: datetime | None = None,
        end: datetime | None = None,
        days: float = 30.0,
        *,
        token: str = "fake-token",  # noqa: S107 - the fake's well-known test token
        unknown_fraction: float = 0.0,
        documented_shapes: bool = False,
        same_millisecond_fraction: float = 0.05,
        boundary_fraction: float = 0.02,
        from_inclusive: bool = True,
        to_inclusive: bool = False,
        latency: float = 0.0,
        latency_jitter: float = 0.0,
        rate_limit: float | None = None,
        fault_rate: float = 0.0,
        faults: Iterable[Fault | str] | None = None,
        fault_retry_after: float = 1.0,
        retry_after_header: str | None = None,
        gateway_timeout_above: int | None = None,
        next_link_max_null: bool = False,
        next_link_drops_filters: bool = False,
        next_link_origin: str | None = None,
        cache_json: bool | None = None,
        clock: Callable[[], float] | None = None,
        early_grace: float = 0.02,
        forbidden_token: str | None = None,
    ) -> None:
        if end is None:
            now = datetime.now(UTC)
            end = now.replace(minute=0, second=0, microsecond=0)
        if start is None:
            start = end - timedelta(days=days)
        for name, fraction in (
            ("unknown_fraction", unknown_fraction),
            ("same_millisecond_fraction", same_millisecond_fraction),
            ("boundary_fraction", boundary_fraction),
            ("fault_rate", fault_rate),
        ):
            if not 0.0 <= fraction <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {fraction}")
        if early_grace < 0:
            raise ValueError(f"early_grace must be >= 0, got {early_grace}")
        self.start = start
        self.end = end
        self._org = Organization(
            events=events,
            seed=seed,
            start_ms=_to_ms(start, "start"),
            end_ms=_to_ms(end, "end"),
            unknown_fraction=unknown_fraction,
            same_millisecond_fraction=same_millisecond_fraction,
            boundary_fraction=boundary_fraction,
            cache_json=events <= _AUTO_CACHE_LIMIT if cache_json is None else cache_json,
            documented_shapes=documented_shapes,
        )
        self.knobs = Knobs(
            token=token,
            from_inclusive=from_inclusive,
            to_inclusive=to_inclusive,
            latency=latency,
            latency_jitter=latency_jitter,
            rate_limit=rate_limit,
            fault_rate=fault_rate,
            faults=parse_faults(faults),
            fault_retry_after=fault_retry_after,
            retry_after_header=retry_after_header,
            gateway_timeout_above=gateway_timeout_above,
            next_link_max_null=next_link_max_null,
            next_link_drops_filters=next_link_drops_filters,
            next_link_origin=next_link_origin,
            early_grace=early_grace,
            forbidden_token=forbidden_token,
        )
        self._app = FakeApp(self._org, self.knobs, clock=clock or time.monotonic)
        self._events: list[dict[str, Any]] | None = None

    def __repr__(self) -> str:
        org = self._org
        return f"FakeWebex(events={org.size}, seed={org.seed}, start={self.start}, end={self.end})"

    @property
    def token(self) -> str:
        """The access token the fake accepts (``Authorization: Bearer <token>``)."""
        return self.knobs.token

    @property
    def actor_ids(self) -> tuple[str, ...]:
        """The person ids that act in this organization (most active first)."""
        return self._org.actor_ids

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event, newest first (the unfiltered listing order), each exactly as served."""
        if self._events is None:
            org = self._org
            self._events = [json.loads(org.event_json(p)) for p in range(org.size - 1, -1, -1)]
        return self._events

    def event_json(self, event_id: str) -> bytes | None:
        """The exact bytes served for ``event_id`` (None if there is no such event)."""
        pos = self._org.position_of(event_id)
        return None if pos is None else self._org.event_json(pos)

    @property
    def stats(self) -> FakeStats:
        """Counters of what was served so far."""
        return self._app.stats

    def reset_stats(self) -> None:
        """Zero ``stats`` (same as ``fake.stats.reset()``)."""
        self._app.stats.reset()

    def transport(self) -> FakeTransport:
        """An ``httpx.BaseTransport`` serving this fake in process."""
        return FakeTransport(self._app)

    def async_transport(self) -> FakeAsyncTransport:
        """An ``httpx.AsyncBaseTransport`` serving this fake in process."""
        return FakeAsyncTransport(self._app)

    @contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve over real loopback HTTP while the block runs; yields ``http://HOST:PORT/v1``."""
        with serve_app(self._app, host=host, port=port) as base_url:
            yield base_url

    def expected_ids(
        self,
        *,
        from_: datetime | None = None,
        to: datetime | None = None,
        **filters: object,
    ) -> list[str]:
        """Ids of the events matching the filters in half-open ``[from_, to)``, newest first.

        ``filters`` are the spec's List Events filters by Python name (``resource=``,
        ``actor_id=``, ``service_type=``, ...; None means not given), each selecting by equality
        on its Event field as the server does. Independent of the server's inclusivity switches;
        ``to`` None or in the future means now.

        >>> fake = FakeWebex(events=50, seed=1)
        >>> fake.expected_ids(resource="messages") == [
        ...     e["id"] for e in fake.events if e["resource"] == "messages"
        ... ]
        True
        >>> fake.expected_ids(colour="red")
        Traceback (most recent call last):
        TypeError: expected_ids() got an unexpected keyword argument 'colour'
        """
        org = self._org
        pairs = []
        for name, value in filters.items():
            found = org.facts.by_python.get(name)
            if found is None:
                raise TypeError(f"expected_ids() got an unexpected keyword argument {name!r}")
            if value is not None:
                text = wire_text(value)
                if text is None:
                    return []
                pairs.append((found[1], text))
        conditions = org.conditions(pairs)
        if conditions is None:
            return []
        now_us = int(time.time() * 1_000_000)
        to_us = now_us if to is None else min(_to_us(to, "to"), now_us)
        lo_ms = -(1 << 62) if from_ is None else -(-_to_us(from_, "from_") // 1000)
        lo, hi = org.bounds(lo_ms, -(-to_us // 1000) - 1)
        return [org.event_id(p) for p in org.select(conditions, lo, hi)]


def run_server(
    fake: FakeWebex | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    out: TextIO | None = None,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve ``fake`` (default: ``FakeWebex()``) over HTTP until Ctrl-C or SIGTERM.

    The first line written to ``out`` (stdout) is the base URL, flushed at once; ``announce``
    is then called with it (the CLI tells the user the token and how to use the server).
    """
    fake = fake if fake is not None else FakeWebex()
    run_app(fake._app, host=host, port=port, out=out, announce=announce)
