"""Continuous, exactly-once reading of new events: the policy behind ``follow`` (sans-IO).

Webex makes some events visible only after their ``created`` time (a transcript minutes after
the meeting). A cursor of "the newest ``created`` seen" therefore loses events that show up
late, and a cursor of "now" loses everything in flight at a restart. Instead:

* **lag**: a poll reads only up to ``now - lag`` (the *target*); the *high-water mark* (HWM)
  advances to the target, never further. Everything created before the HWM has been read once.
* **overlap**: each poll reads again from ``HWM - overlap``, so an event that became visible up
  to ``lag + overlap`` after its ``created`` is still found.
* **ledger**: the ids already delivered, bucketed by the hour of their ``created`` and kept for
  ``reconcile_horizon``, so a re-read never delivers an event twice.
* **reconcile**: every ``reconcile_interval`` a poll reads from ``HWM - reconcile_horizon``
  instead, catching events later than the overlap; they are delivered and counted.

The state is a :class:`FollowCheckpoint`: the caller stores each batch's checkpoint with the
batch's events and passes the last one back on restart; every event is then delivered exactly
once across polls and restarts. The ledger holds 8-byte BLAKE2b digests of ids.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Generic

import attrs

from ._dates import ceil_ms, floor_ms, from_ms, is_canonical, parse_ms, to_aware
from ._errors import InvalidArgumentError
from ._event import BaseEvent
from ._filters import filter_values
from ._models import E, Window
from ._streams import EVENTS, STREAMS, Stream

logger = logging.getLogger("webex_events")

#: How far behind now a poll reads. Webex publishes transcripts "a couple of minutes after" the
#: meeting ends and recordings "shortly after"; audit-log pollers of similar APIs (Microsoft 365,
#: Duo) wait minutes too. Five minutes leaves most late events to arrive before they are read.
DEFAULT_LAG = timedelta(minutes=5)
#: How much of the recent past each poll reads again (catches events up to lag + overlap late).
DEFAULT_OVERLAP = timedelta(minutes=15)
DEFAULT_POLL_INTERVAL = timedelta(seconds=30)
#: How far back a reconcile pass reads, and how long delivered ids are remembered.
DEFAULT_RECONCILE_HORIZON = timedelta(hours=24)
DEFAULT_RECONCILE_INTERVAL = timedelta(hours=1)

_BUCKET_MS = 3_600_000  # ledger buckets: one hour of ``created`` each
_NO_TIME = -_BUCKET_MS  # the bucket of events whose created cannot be read (never forgotten)
_DIGEST = 8
_VERSION = 1
_NUMBERS = ("since_ms", "high_water_ms", "last_reconcile_ms", "delivered", "late", "reconciled")


_ms = floor_ms
_dt = from_ms


def _created_ms(event: BaseEvent) -> int:
    raw = event.created_raw
    # ValueError if unparsable: an event without a time cannot be placed (it is not skipped).
    return parse_ms(raw) if is_canonical(raw) else _ms(event.created)


def _digest(event_id: str) -> bytes:
    return hashlib.blake2b(event_id.encode("utf-8"), digest_size=_DIGEST).digest()


def _positive(name: str, value: timedelta, *, zero: bool = False) -> int:
    if not isinstance(value, timedelta):
        raise InvalidArgumentError(f"{name} must be a timedelta, got {type(value).__name__}")
    ms = value // timedelta(milliseconds=1)
    if ms < 0 or (ms == 0 and not zero):
        raise InvalidArgumentError(f"{name} must be {'at least 0' if zero else 'positive'}, got {value}")
    return int(ms)


@attrs.frozen(kw_only=True)
class FollowCheckpoint:
    """Where ``follow`` stands: store it with the events of its batch, pass it back to continue.

    ``high_water``: every event created in ``[since, high_water)`` and visible when it was read
    has been delivered. ``to_json()``/``from_json()`` give a compact, versioned text form.

    >>> from datetime import UTC, datetime
    >>> cp = FollowCheckpoint(since_ms=0, high_water_ms=60_000, filters=(("resource", "messages"),))
    >>> FollowCheckpoint.from_json(cp.to_json()) == cp
    True
    >>> cp.high_water
    datetime.datetime(1970, 1, 1, 0, 1, tzinfo=datetime.timezone.utc)
    """

    since_ms: int
    high_water_ms: int
    filters: tuple[tuple[str, str], ...] = ()
    #: bucket start (ms) -> digests of the ids delivered with a ``created`` in that hour
    ledger: Mapping[int, frozenset[bytes]] = attrs.field(factory=dict, eq=False)
    last_reconcile_ms: int = 0
    delivered: int = 0
    late: int = 0
    reconciled: int = 0
    #: delivered without a readable ``created`` or an ``id`` (each with a warning)
    bad: int = 0
    #: the stream followed (``events``, ``admin-audit``, ``security-audit``)
    stream: str = "events"

    @property
    def since(self) -> datetime:
        """The start of everything this follow delivers."""
        return _dt(self.since_ms)

    @property
    def high_water(self) -> datetime:
        """Every event created before this (and since ``since``) has been delivered."""
        return _dt(self.high_water_ms)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FollowCheckpoint):
            return NotImplemented
        return self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(self.to_json())

    def to_json(self) -> str:
        """The checkpoint as one line of JSON (deterministic: equal checkpoints, equal text)."""
        ledger = {
            str(bucket): base64.b64encode(b"".join(sorted(ids))).decode("ascii")
            for bucket, ids in sorted(self.ledger.items())
            if ids
        }
        return json.dumps(
            {
                "version": _VERSION,
                "since_ms": self.since_ms,
                "high_water_ms": self.high_water_ms,
                "high_water": _dt(self.high_water_ms).isoformat(timespec="milliseconds"),
                "filters": [list(pair) for pair in self.filters],
                "last_reconcile_ms": self.last_reconcile_ms,
                "delivered": self.delivered,
                "late": self.late,
                "reconciled": self.reconciled,
                "bad": self.bad,
                "stream": self.stream,
                "ledger": ledger,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> FollowCheckpoint:
        """Parse ``to_json()`` text; :class:`InvalidArgumentError` if it is not a valid checkpoint."""
        try:
            raw = json.loads(text)
            if raw.get("version") != _VERSION:
                raise ValueError(f"version {raw.get('version')!r} (expected {_VERSION})")
            ledger: dict[int, frozenset[bytes]] = {}
            for key, blob in raw["ledger"].items():
                data = base64.b64decode(blob, validate=True)
                if len(data) % _DIGEST:
                    raise ValueError("a ledger bucket is not a whole number of digests")
                ledger[int(key)] = frozenset(data[i : i + _DIGEST] for i in range(0, len(data), _DIGEST))
            filters = tuple((str(name), str(value)) for name, value in raw["filters"])
            numbers = {name: raw[name] for name in _NUMBERS}
            numbers["bad"] = raw.get("bad", 0)  # (not in checkpoints of 0.x before it was counted)
            stream = raw.get("stream", "events")
            if stream not in STREAMS:
                raise ValueError(f"unknown stream {stream!r}")
            if not all(type(v) is int for v in numbers.values()):
                raise ValueError("a counter or time is not an integer")
            if numbers["high_water_ms"] < numbers["since_ms"]:
                raise ValueError("high_water_ms is before since_ms")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidArgumentError(f"not a follow checkpoint: {exc}") from None
        return cls(filters=filters, ledger=ledger, stream=stream, **numbers)


@attrs.frozen(kw_only=True)
class FollowBatch(Generic[E]):
    """New events (each delivered once) and the checkpoint to commit with them.

    ``late``: how many of ``events`` were created before the high-water mark of the poll that
    found them (caught by the overlap); ``reconciled``: how many were older than the overlap
    (caught by a reconcile pass). ``caught_up``: the last batch of a poll (the high-water mark is
    at the poll's target, ``now - lag``).
    """

    events: list[E]
    checkpoint: FollowCheckpoint
    late: int = 0
    reconciled: int = 0
    caught_up: bool = False

    @property
    def high_water(self) -> datetime:
        """The checkpoint's high-water mark."""
        return self.checkpoint.high_water


@attrs.frozen
class Pass:
    """One poll's read: list ``[start, end)``; ``reconcile`` when it reaches back to the horizon."""

    start: datetime
    end: datetime
    reconcile: bool


class Follower:
    """The state machine of one ``follow``: plan a pass, take its windows, hand out batches.

    >>> from datetime import UTC, datetime, timedelta
    >>> f = Follower(since=datetime(2024, 1, 1, tzinfo=UTC), checkpoint=None, filters={},
    ...              lag=timedelta(minutes=5), overlap=timedelta(minutes=15),
    ...              reconcile_horizon=timedelta(hours=24), reconcile_interval=timedelta(hours=1),
    ...              now=datetime(2024, 1, 1, 1, tzinfo=UTC))
    >>> p = f.plan(datetime(2024, 1, 1, 1, tzinfo=UTC))
    >>> (p.start.isoformat(), p.end.isoformat(), p.reconcile)
    ('2024-01-01T00:00:00+00:00', '2024-01-01T00:55:00+00:00', False)
    >>> f.finish().checkpoint.high_water.isoformat()
    '2024-01-01T00:55:00+00:00'
    """

    def __init__(
        self,
        *,
        since: datetime | str | None,
        checkpoint: FollowCheckpoint | str | None,
        filters: Mapping[str, Any],
        lag: timedelta,
        overlap: timedelta,
        reconcile_horizon: timedelta,
        reconcile_interval: timedelta,
        now: datetime,
        stream: Stream = EVENTS,
    ) -> None:
        self.lag_ms = _positive("lag", lag, zero=True)
        self.overlap_ms = _positive("overlap", overlap, zero=True)
        self.horizon_ms = _positive("reconcile_horizon", reconcile_horizon)
        self.reconcile_every_ms = _positive("reconcile_interval", reconcile_interval)
        if self.horizon_ms < self.overlap_ms:
            raise InvalidArgumentError(
                f"reconcile_horizon ({reconcile_horizon}) must be at least the overlap ({overlap})"
            )
        wire = filter_values(dict(filters), operation=stream.operation)
        self.filters: dict[str, Any] = dict(filters)
        pairs = tuple(sorted((name, str(value)) for name, value in wire.items()))
        if isinstance(checkpoint, str):
            checkpoint = FollowCheckpoint.from_json(checkpoint)
        if checkpoint is not None:
            if not isinstance(checkpoint, FollowCheckpoint):
                raise InvalidArgumentError(
                    f"checkpoint must be a FollowCheckpoint or its JSON, got {type(checkpoint).__name__}"
                )
            if checkpoint.stream != stream.name:
                raise InvalidArgumentError(
                    f"the checkpoint is of the {checkpoint.stream} stream, not {stream.name}:"
                    " start a new follow"
                )
            if checkpoint.filters != pairs:
                raise InvalidArgumentError(
                    f"the checkpoint was made with other filters ({dict(checkpoint.filters)}) than"
                    f" these ({dict(pairs)}): start a new follow for other filters"
                )
            self.checkpoint = checkpoint
        else:
            if since is None:
                raise InvalidArgumentError(
                    "follow needs since= (where to start) or checkpoint= (where it stopped)"
                )
            # Rounded up, as list_events rounds from_: an event before since is not after it.
            start_ms = ceil_ms(to_aware(since, name="since"))
            self.checkpoint = FollowCheckpoint(
                since_ms=start_ms,
                high_water_ms=start_ms,
                filters=pairs,
                last_reconcile_ms=_ms(now),
                stream=stream.name,
            )
        cp = self.checkpoint
        self._ledger: dict[int, frozenset[bytes]] = dict(cp.ledger)
        self._seen: set[bytes] = set().union(*self._ledger.values())  # every id in the ledger
        self._hwm = cp.high_water_ms
        self._counts = [cp.delivered, cp.late, cp.reconciled, cp.bad]
        self._last_reconcile = cp.last_reconcile_ms
        self._pass_hwm = self._hwm  # the HWM when the current pass was planned
        self._pass_target = self._hwm
        self._pass_reconcile: int | None = None

    def plan(self, now: datetime) -> Pass | None:
        """The read of a poll at ``now``; None when there is nothing to read yet."""
        now_ms = _ms(now)
        target = max(self._hwm, now_ms - self.lag_ms)
        since = self.checkpoint.since_ms
        reconcile = now_ms - self._last_reconcile >= self.reconcile_every_ms
        back = self.horizon_ms if reconcile else self.overlap_ms
        start = max(since, self._hwm - back)
        # Forget what no pass can read again (decided now, so a pass never loses its own ids).
        floor = self._hwm - self.horizon_ms
        self._ledger = {b: ids for b, ids in self._ledger.items() if b == _NO_TIME or b + _BUCKET_MS > floor}
        self._seen = set().union(*self._ledger.values())
        self._pass_hwm, self._pass_target = self._hwm, target
        # Recorded when the pass is complete (finish): a pass that fails is reconciled again.
        self._pass_reconcile = now_ms if reconcile else None
        if start >= target:
            return None
        return Pass(start=_dt(start), end=_dt(target), reconcile=reconcile)

    def take(self, events: Iterable[BaseEvent], end: datetime | None) -> FollowBatch[Any]:
        """The new events of a window of the pass that is read up to ``end`` (None: not known)."""
        fresh: list[BaseEvent] = []
        late = reconciled = bad = 0
        ledger = self._ledger
        changed: dict[int, set[bytes]] = {}
        overlap_floor = self._pass_hwm - self.overlap_ms
        for event in events:
            try:
                created: int | None = _created_ms(event)
            except ValueError:  # no time to place it by: delivered once, kept in its own bucket
                created = None
            bucket = _NO_TIME if created is None else created - created % _BUCKET_MS
            digest = _digest(event.id or event.raw_json)  # (an event without an id: by its text)
            if digest in self._seen:
                if digest not in ledger.get(bucket, ()) and digest not in changed.get(bucket, ()):
                    logger.warning(
                        "event %r served again, created %r: first copy kept", event.id, event.created_raw
                    )
                continue
            if created is None or not event.id:
                bad += 1
            self._seen.add(digest)
            changed.setdefault(bucket, set()).add(digest)
            fresh.append(event)
            if created is not None and created < overlap_floor:
                reconciled += 1
            elif created is not None and created < self._pass_hwm:
                late += 1
        for bucket, digests in changed.items():
            ledger[bucket] = ledger.get(bucket, frozenset()) | digests
        if end is not None:
            self._hwm = max(self._hwm, min(_ms(end), self._pass_target))
        self._counts[0] += len(fresh)
        self._counts[1] += late
        self._counts[2] += reconciled
        self._counts[3] += bad
        return FollowBatch(events=fresh, checkpoint=self._snapshot(), late=late, reconciled=reconciled)

    def batch(self, window: Window[Any]) -> FollowBatch[Any] | None:
        """:meth:`take` of a window of the pass; None when it holds nothing new."""
        batch = self.take(window.events, window.end)
        return batch if batch.events else None

    def finish(self) -> FollowBatch[Any]:
        """The end of a poll: the HWM is at its target (the pass, if any, was read whole)."""
        self._hwm = max(self._hwm, self._pass_target)
        if self._pass_reconcile is not None:
            self._last_reconcile, self._pass_reconcile = self._pass_reconcile, None
        return FollowBatch(events=[], checkpoint=self._snapshot(), caught_up=True)

    def _snapshot(self) -> FollowCheckpoint:
        cp = self.checkpoint
        delivered, late, reconciled, bad = self._counts
        self.checkpoint = FollowCheckpoint(
            since_ms=cp.since_ms,
            high_water_ms=self._hwm,
            filters=cp.filters,
            ledger=dict(self._ledger),
            last_reconcile_ms=self._last_reconcile,
            delivered=delivered,
            late=late,
            reconciled=reconciled,
            bad=bad,
            stream=cp.stream,
        )
        return self.checkpoint


def utc_now() -> datetime:
    """The default clock of ``follow``."""
    return datetime.now(UTC)
