"""Damaged events: bad data the fake serves on request, each on events drawn from the seed.

A damaged event keeps its place in the organization: it is filtered and placed in time by its
true content and ``created``, so every query whose range holds its true time serves it, and
``FakeWebex.expected_ids`` lists it under its true id. Only the bytes served change, as the
``Damage`` kind says; ``FakeWebex.damaged`` tells a test which events those are.
"""

from __future__ import annotations

import functools
import itertools
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from webex_events_api.spec import EVENT_DATA_KEYS, EVENT_KEYS

from ._org import serialize

if TYPE_CHECKING:
    from ._org import Organization

__all__ = ["CREATED_KINDS", "ID_KINDS", "Damage", "Damages", "draw_damages"]

#: What a bad ``created`` holds, by kind: a date-looking non-date, no key at all, null, a word.
_BAD_CREATED: Final[dict[str, object]] = {
    "created-not-a-date": "2025-13-45T99:99:99.999Z",
    "created-missing": None,
    "created-null": None,
    "created-yesterday": "yesterday",
}
CREATED_KINDS: Final = tuple(_BAD_CREATED)
ID_KINDS: Final = ("id-missing", "id-empty")
SHARED_ID: Final = "shared-id"
DEEP, LARGE, LONE_SURROGATE = "deep", "large", "lone-surrogate"

# The key in ``data`` that holds the deep value: objects nested ``depth`` levels, ``{}`` innermost.
_DEEP_KEY: Final = "nested"
# Stands for the deep value while the rest of the event is serialized (json.dumps cannot nest
# that deep); only ASCII that the serializer leaves as is, so the bytes can be swapped in after.
_DEEP_MARK: Final = "@webex-fake-deep-value@"
_FILLER: Final = "All work and no play makes a very long message. "
# Events to look at for one with a ``data.text`` (a message) before taking any.
_TEXT_SEARCH: Final = 64


@dataclass(frozen=True, slots=True)
class Damage:
    """How the fake serves one damaged event (``FakeWebex.damaged`` maps its true id to this).

    ``kind``: ``created-not-a-date`` (``"2025-13-45T99:99:99.999Z"``), ``created-missing`` (no
    ``created`` key), ``created-null``, ``created-yesterday`` (``"yesterday"``); ``id-missing``
    (no ``id`` key), ``id-empty`` (``""``); ``shared-id`` (one of two events served with the same
    id, each with its own ``created`` and content); ``deep`` (``data.nested`` is objects nested
    ``deep_event`` levels), ``large`` (``data.text`` pads the event beyond ``large_event`` bytes),
    ``lone-surrogate`` (``data.text`` holds the escape ``\\ud800``).

    ``served_id``: the id the event is served with (None: no ``id`` key), the same for both
    events of a ``shared-id`` pair.
    """

    kind: str
    served_id: str | None


def _count(value: float, size: int, name: str) -> int:
    """How many events ``value`` asks for: an int is a number of events, a float a fraction."""
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
        return value
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a number of events or a fraction between 0 and 1, got {value}")
    return round(value * size)


def _other_time(times: Sequence[int], time: int, pos: int) -> bool:
    """Whether the event at ``pos`` was created at another time than ``time``."""
    return times[pos] != time


def _nested_bytes(depth: int) -> bytes:
    """``depth`` objects nested in one another, as JSON."""
    return (b'{"' + _DEEP_KEY.encode() + b'":') * (depth - 1) + b"{}" + b"}" * (depth - 1)


class Damages:
    """The damaged events of one organization, by position, and how each is served."""

    def __init__(self, by_pos: dict[int, Damage], *, depth: int, large: int) -> None:
        self.by_pos = by_pos
        self.depth = depth
        self.large = large

    def _damaged(self, event: dict[str, Any], damage: Damage, deep_value: object) -> dict[str, Any]:
        """``event`` as served (changed in place), the deep value (if any) as ``deep_value``."""
        kind = damage.kind
        data = event.get(EVENT_KEYS.data)
        if kind in _BAD_CREATED:
            if kind == "created-missing":
                del event[EVENT_KEYS.created]
            else:
                event[EVENT_KEYS.created] = _BAD_CREATED[kind]
        elif kind == "id-missing":
            del event[EVENT_KEYS.id]
        elif kind in (SHARED_ID, "id-empty"):
            event[EVENT_KEYS.id] = damage.served_id
        elif isinstance(data, dict):
            text = EVENT_DATA_KEYS.text
            if kind == DEEP:
                data[_DEEP_KEY] = deep_value
            elif kind == LONE_SURROGATE:
                data[text] = f"{data.get(text) or ''} \ud800".lstrip()
            elif kind == LARGE:
                room = self.large + 1 - len(serialize(event))
                if room > 0:  # ASCII filler: one byte a character, so the event ends 1 byte past
                    data[text] = (data.get(text) or "") + (_FILLER * (room // len(_FILLER) + 1))[:room]
        return event

    def render(self, pos: int, event: dict[str, Any]) -> bytes:
        """The bytes served for the event at ``pos`` (``event``: its undamaged content)."""
        damage = self.by_pos[pos]
        if damage.kind != DEEP:
            return serialize(self._damaged(event, damage, None))
        flat = serialize(self._damaged(event, damage, _DEEP_MARK))
        return flat.replace(json.dumps(_DEEP_MARK).encode(), _nested_bytes(self.depth), 1)

    def loads(self, pos: int, raw: bytes, event: Callable[[int], dict[str, Any]]) -> Any:
        """The served event as Python objects (the deep one built as json.loads cannot nest it)."""
        damage = self.by_pos.get(pos)
        if damage is None or damage.kind != DEEP:
            return json.loads(raw)
        inner: dict[str, Any] = {}
        for _ in range(self.depth - 1):
            inner = {_DEEP_KEY: inner}
        return self._damaged(event(pos), damage, inner)


def draw_damages(
    org: Organization,
    *,
    bad_created: float,
    shared_ids: float,
    missing_ids: float,
    deep_event: int,
    large_event: int | None,
    lone_surrogate: bool,
) -> Damages | None:
    """Choose the damaged events of ``org`` from its seed (None: no damage asked for).

    Each event gets at most one damage; the kinds of bad ``created`` (and of missing ids) take
    turns, so four bad events show every kind.
    """
    size = org.size
    n_created = _count(bad_created, size, "bad_created")
    n_missing = _count(missing_ids, size, "missing_ids")
    n_shared = _count(shared_ids, size, "shared_ids")
    if deep_event < 0:
        raise ValueError(f"deep_event must be a depth >= 0 (0: none), got {deep_event}")
    if large_event is not None and large_event < 0:
        raise ValueError(f"large_event must be a number of bytes >= 0, got {large_event}")
    singles = [kind for kind, on in ((DEEP, deep_event), (LARGE, large_event is not None),
                                     (LONE_SURROGATE, lone_surrogate)) if on]  # fmt: skip
    needed = n_created + n_missing + 2 * n_shared + len(singles)
    if not needed:
        return None
    if needed > size:
        raise ValueError(f"the damage asked for takes {needed} events, the organization has {size}")
    rng = random.Random(f"webex-fake-damage:{org.seed}")  # noqa: S311 - reproducible test data
    pool = rng.sample(range(size), min(size, needed + _TEXT_SEARCH))
    taken: set[int] = set()
    first_free = 0  # every position of the pool before this index is taken
    by_pos: dict[int, Damage] = {}

    def take(accept: Callable[[int], bool] | None = None) -> int | None:
        """The next position of the pool not taken yet (that ``accept`` accepts, if given)."""
        nonlocal first_free
        while first_free < len(pool) and pool[first_free] in taken:
            first_free += 1
        for p in itertools.islice(pool, first_free, None):
            if p not in taken and (accept is None or accept(p)):
                taken.add(p)
                return p
        return None

    def has_text(p: int) -> bool:
        data = org.event_dict(p).get(EVENT_KEYS.data)
        return isinstance(data, dict) and EVENT_DATA_KEYS.text in data

    def any_position() -> int:
        p = take()
        assert p is not None, "the pool holds a position for every damage asked for"
        return p

    for kind in singles:
        chosen = take(has_text) if kind != DEEP else None
        chosen = any_position() if chosen is None else chosen
        by_pos[chosen] = Damage(kind, org.event_id(chosen))
    for k in range(n_created):
        p = any_position()
        by_pos[p] = Damage(CREATED_KINDS[k % len(CREATED_KINDS)], org.event_id(p))
    for k in range(n_missing):
        by_pos[any_position()] = Damage(ID_KINDS[k % 2], None if k % 2 == 0 else "")
    for _ in range(n_shared):
        first = any_position()
        second = take(functools.partial(_other_time, org.ms, org.ms[first]))
        if second is None:
            raise ValueError("shared_ids needs events created at different times")
        by_pos[first] = by_pos[second] = Damage(SHARED_ID, org.event_id(first))
    return Damages(by_pos, depth=deep_event, large=large_event or 0)
