"""The audit streams of the fake: admin audit and security audit events, served from the spec facts.

Each listing of the spec besides List Events whose items the fake knows how to make (``LISTINGS``:
``LIST_ADMIN_AUDIT_EVENTS``, ``LIST_SECURITY_AUDIT_EVENTS``) gets an ``AuditLog``: the events of
the fake's organization on that stream, kept like ``Organization`` keeps /events (a sorted
``created`` column, small per-event codes, each event built from a digest of its position when
first served). How the stream is served comes from its operation's facts alone: the path, the
required parameters, the range parameters and the longest range one request may cover, the
page-size bounds, the paging style (``offset``: the ``page-offset`` parameter counts events from
the newest; ``link``: a ``Link`` header to the next page), and each filter selecting on its event
field (an ``array`` filter: the field is one of the values, comma-separated or repeated as the
parameter's ``explode`` says). ``LIST_ADMIN_AUDIT_EVENT_CATEGORIES`` answers the categories the
admin audit events carry.

What Webex does beyond its spec is the fake's assumption and written here by name: which admin
actions there are (categories, descriptions, texts), that security audit events are sign-ins and
sign-outs (``LOGINS``, ``LOGOUT``), who acts (a few administrators; everyone signs in), their
addresses and browsers, and the error wording. Spellings follow the spec's examples where it
gives one: ``EventCategory.LOGINS`` for an admin audit category, ``TargetResourceType.ORG`` for a
target type, ``ATLAS_<uuid>_0`` for a tracking id. A field of the spec the builders do not write
is sent with its example on about half of the events, so a field Webex adds arrives without an
edit here.
"""

from __future__ import annotations

import base64
import bisect
import copy
import hashlib
import itertools
import json
import math
import random
import re
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl, quote, urlencode

from webex_events_api import spec
from webex_events_api.models import AdminRolesEnum
from webex_events_api.spec import (
    AUDIT_EVENT_CATEGORY_COLLECTION_RESPONSE_KEYS,
    LIST_ADMIN_AUDIT_EVENT_CATEGORIES,
    LIST_ADMIN_AUDIT_EVENTS,
    LIST_EVENTS,
    LIST_SECURITY_AUDIT_EVENTS,
    LISTINGS,
    Field,
    Operation,
)

from ._app import FakeApp, Reply, _BadRequestError, _route, parse_datetime_us
from ._builders import Rand, as_uuid, format_ms, webex_id
from ._evidence import ACTOR_WEIGHTS
from ._facts import SpecFacts, get_path, sample, wire_text
from ._org import serialize

if TYPE_CHECKING:
    from ._org import Organization

__all__ = [
    "ADMIN_AUDIT",
    "AUDIT_LISTINGS",
    "SECURITY_AUDIT",
    "AuditLog",
    "AuditServer",
    "Served",
    "make_audit_logs",
    "stream_name",
]

_DAY_MS: Final = 86_400_000
_HOUR_MS: Final = 3_600_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_DIGITS = re.compile(r"[0-9]{1,9}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# The fake's own continuation parameter of a next link (as for /events: opaque to clients).
_CURSOR = "cursor"
# How many filter combinations a log keeps the matching positions of.
_MATCHES_KEPT = 32


# ---- Webex's behaviour beyond the spec: the fake's assumptions ---------------------------------


@dataclass(frozen=True)
class _Action:
    """One kind of audit event: its category (bare name), weight, target kind and wording.

    ``text`` is the ``actionText`` template: ``{actor}``, ``{target}`` and ``{org}`` are filled in.
    ``error``: a failed operation, sent with the spec's ``errorCode``/``errorMessage`` examples.
    """

    category: str
    weight: int
    target: str
    description: str
    text: str
    error: bool = False


_ADMIN_ACTIONS: Final = (
    _Action("LOGINS", 30, "ORG", "An Admin logged in", "{actor} logged into organization {org}"),
    _Action("LOGINS", 8, "ORG", "An Admin logged out", "{actor} logged out of organization {org}"),
    _Action("USERS", 12, "USER", "A user was created", "{actor} created user {target}"),
    _Action("USERS", 12, "USER", "A user was modified", "{actor} modified the profile of user {target}"),
    _Action("USERS", 3, "USER", "A user was deactivated", "{actor} deactivated user {target}"),
    _Action(
        "LICENSES",
        8,
        "USER",
        "Licenses were assigned",
        "{actor} assigned the Webex Meetings license to {target}",
    ),
    _Action(
        "LICENSES",
        3,
        "USER",
        "Licenses were removed",
        "{actor} removed the Webex Calling license from {target}",
    ),
    _Action(
        "ROLES",
        3,
        "USER",
        "Admin roles were changed",
        "{actor} granted the Compliance Officer role to {target}",
    ),
    _Action(
        "COMPLIANCE",
        2,
        "ORG",
        "A retention policy was changed",
        "{actor} set the messaging retention of {org} to 365 days",
    ),
    _Action(
        "COMPLIANCE",
        2,
        "ORG",
        "A legal hold matter was created",
        "{actor} created the legal hold matter «Q3 review»",
    ),
    _Action(
        "ORG_SETTINGS",
        5,
        "ORG",
        "Organization settings were changed",
        "{actor} allowed external communication for {org}",
    ),
    _Action("DEVICES", 4, "DEVICE", "A device was added", "{actor} added the device {target}"),
    _Action("LOCATIONS", 2, "LOCATION", "A location was created", "{actor} created the location {target}"),
    _Action(
        "CALLING",
        3,
        "USER",
        "A calling setting could not be changed",
        "{actor} failed to change the extension of {target}",
        error=True,
    ),
)
#: Categories the eventCategories answer lists beyond those the fake's admins act in (no events).
_QUIET_CATEGORIES: Final = ("MEETINGS", "MESSAGING", "HYBRID_SERVICES", "SUPPORT")

_SECURITY_ACTIONS: Final = (
    _Action("LOGINS", 55, "ORG", "A user logged in", "{actor} logged into organization {org}"),
    _Action("LOGOUT", 45, "ORG", "A user logged out", "{actor} logged out of organization {org}"),
)

#: Who administers the organization: indices into its people (the most active ones, a bot aside).
_ADMINS: Final = (3, 0, 5)
_ADMIN_WEIGHTS: Final = (6, 3, 1)
_DEVICES: Final = (
    "Room Kit Pro - Berlin 4.12",
    "Board 55S - Lobby",
    "Desk Pro - Zoë's desk",
    "Room Bar - Huddle 2",
)
_LOCATIONS: Final = ("San José HQ", "München Office", "Bengaluru Campus", "São Paulo")
_USER_AGENTS: Final = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.4 Mobile/15E148 Safari/604.1",
    "Webex/44.4.0.29432 (Mac OS X 14.4.1; arm64)",
)


# ---- spec facts of a listing's items ---------------------------------------------------------------


def _constant(schema: str, suffix: str) -> Any:
    """``spec.<SCHEMA>_<SUFFIX>`` for a schema name (``AuditEvent`` -> ``AUDIT_EVENT_FIELDS``)."""
    return getattr(spec, re.sub(r"(?<!^)(?=[A-Z])", "_", schema).upper() + suffix, None)


@dataclass(frozen=True)
class _Profile:
    """How the fake makes the events of one item schema: who acts and what they do."""

    actions: tuple[_Action, ...]
    admins: bool  # administrators act (admin audit), else everyone (sign-ins)
    quiet_categories: tuple[str, ...] = ()


#: By operation id: what Webex records on each audit stream (its item schema is the spec's).
_PROFILES: Final = {
    LIST_ADMIN_AUDIT_EVENTS.operation_id: _Profile(
        _ADMIN_ACTIONS, admins=True, quiet_categories=_QUIET_CATEGORIES
    ),
    LIST_SECURITY_AUDIT_EVENTS.operation_id: _Profile(_SECURITY_ACTIONS, admins=False),
}


#: The listings served from this module: those of the spec the fake knows how to fill, in spec order.
AUDIT_LISTINGS: Final = tuple(op for op in LISTINGS if op is not LIST_EVENTS and op.operation_id in _PROFILES)


def _spelled(name: str, example: object) -> str:
    """``name`` in the style of the spec's example (``EventCategory.LOGINS`` -> ``EventCategory.X``)."""
    if isinstance(example, str) and "." in example:
        return f"{example.rpartition('.')[0]}.{name}"
    return name


def _b64(text: str) -> str:
    """Unpadded URL-safe base64 of ``text`` (an audit event id is that of a UUID)."""
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def _times(
    rng: random.Random, n: int, start: int, end: int, *, same_ms: float, boundary: float
) -> array[int]:
    """``n`` sorted epoch ms in ``[start, end)``: a few share "hot" milliseconds or sit on hours."""
    span = end - start
    hours = list(range(-(-start // _HOUR_MS) * _HOUR_MS, end, _HOUR_MS))
    hot = [start + int(rng.random() * span) for _ in range(max(1, int(n * same_ms / 20)))]
    out = array("q", bytes(8 * n))
    rnd = rng.random
    for i in range(n):
        u = rnd()
        if u < same_ms:
            out[i] = hot[int(rnd() * len(hot))]
        elif u < same_ms + boundary and hours:
            out[i] = hours[int(rnd() * len(hours))]
        else:
            out[i] = start + int(rnd() * span)
    return array("q", sorted(out))


def _visibility(created: array[int], late: Sequence[tuple[float, float, float]], key: str) -> array[int]:
    """Per position, the epoch ms from which the event is served (``late`` tiers, as for /events)."""
    rnd = random.Random(key).random  # noqa: S311 - reproducible test data
    limits = []
    running = 0.0
    for fraction, low, high in late:
        running += fraction
        limits.append((running, low * 1000.0, (high - low) * 1000.0))
    out = array("q", created)
    for i in range(len(out)):
        u, v = rnd(), rnd()
        for limit, low_ms, span_ms in limits:
            if u < limit:
                out[i] += math.floor(low_ms + v * span_ms)
                break
    return out


class AuditLog:
    """The events of one audit stream of the fake's organization (``fake.admin_audit``...).

    Like /events: kept in ascending ``created`` order by position, served newest first (ties by
    descending position, the same on every request), each event built from a digest of its
    position when first served. ``name`` is the stream's (``admin-audit``, ``security-audit``),
    ``operation`` its listing of the spec; ``org_id`` is the organization the events belong to
    (their ``actorOrgId``, what ``orgId`` selects), ``categories`` the event categories (for the
    admin audit stream, what ``GET /adminAudit/eventCategories`` answers: some have no events).
    """

    def __init__(
        self,
        operation: Operation,
        *,
        name: str,
        events: int,
        org: Organization,
        start_ms: int,
        end_ms: int,
        wall_clock: Callable[[], float],
        late: Sequence[tuple[float, float, float]] = (),
        same_millisecond_fraction: float = 0.05,
        boundary_fraction: float = 0.02,
    ) -> None:
        schema = operation.item_schema or ""
        profile = _PROFILES.get(operation.operation_id)
        fields: tuple[Field, ...] | None = _constant(schema, "_FIELDS")
        keys, data_keys = _constant(schema, "_KEYS"), _constant(schema, "_DATA_KEYS")
        if profile is None or fields is None or keys is None or data_keys is None:
            raise ValueError(f"the fake cannot make events of {schema!r} ({operation.operation_id})")
        if events < 0:
            raise ValueError(f"{name} events must be >= 0, got {events}")
        self.name = name
        self.operation = operation
        self._facts = SpecFacts(operation, fields)
        self._size = events
        self._keys, self._data_keys = keys, data_keys
        self._data = keys.data
        self._wall_clock = wall_clock
        self._fields = {f.path: f for f in fields}
        self._order = tuple(f.path for f in fields)
        self._key = hashlib.blake2b(f"webex-fake-audit:{name}:{org.seed}".encode(), digest_size=16).digest()
        rng = random.Random(f"webex-fake-audit:{name}:{org.seed}")  # noqa: S311 - reproducible test data

        self.org_id: str = org.data_org_id
        self._org_uuid_id = org.org_id  # the organization's UUID as an id (a target's id)
        self._org_name = self._example("actor_org_name", "Acme Inc.")
        # Who acts: (person id, name, email) and, for an administrator, the admin roles.
        people = org.people
        if profile.admins:
            chosen = [i for i in _ADMINS if i < len(people)] or [0]
            weights: Sequence[int] = _ADMIN_WEIGHTS[: len(chosen)]
        else:
            chosen = list(range(len(people)))
            weights = [ACTOR_WEIGHTS[i] if i < len(ACTOR_WEIGHTS) else 1 for i in chosen]
        self._actors = [people[i] for i in chosen]
        self._people = people
        roles = [r.value for r in AdminRolesEnum] or ["User"]
        self._roles = [[roles[(k + 1) % len(roles)]] for k in range(len(chosen))]
        self.actor_ids: tuple[str, ...] = tuple(p[0] for p in self._actors)

        # Categories, spelled as the spec's example of the category field spells one.
        category_field = f"{self._data}.{getattr(data_keys, 'event_category', 'eventCategory')}"
        self._category_path = category_field
        example = self._fields[category_field].example if category_field in self._fields else None
        self._actions = profile.actions
        names = list(dict.fromkeys([a.category for a in profile.actions] + list(profile.quiet_categories)))
        self.categories: tuple[str, ...] = tuple(_spelled(n, example) for n in names)
        self._action_category = bytes(names.index(a.category) for a in profile.actions)

        self._ms = _times(
            rng, events, start_ms, end_ms, same_ms=same_millisecond_fraction, boundary=boundary_fraction
        )
        self._actor_code = bytes(rng.choices(range(len(chosen)), weights=weights, k=events))
        action = bytearray(
            rng.choices(range(len(self._actions)), weights=[a.weight for a in self._actions], k=events)
        )
        if events >= 4 * len(self._actions):  # every action (so every busy category) occurs
            for code in range(len(self._actions)):
                if code not in action:
                    action[(2 * code + 1) * events // (2 * len(self._actions))] = code
        self._action_code = bytes(action)
        late_at_all = any(fraction > 0 for fraction, _, _ in late)
        self._visible = (
            _visibility(self._ms, late, f"webex-fake-late:{name}:{org.seed}") if late_at_all else None
        )
        self._json: list[bytes | None] = [None] * events
        self._ids: dict[str, int] | None = None
        self._slow: dict[str, list[str | None]] = {}
        self._matches: dict[tuple[tuple[str, frozenset[object]], ...], array[int]] = {}
        self._lock = threading.RLock()
        # Spec fields the builders never write: sent with their example on about half the events.
        self._extras = self._find_extras() if events else ()

    def __repr__(self) -> str:
        return f"AuditLog({self.name!r}, events={self._size})"

    def __len__(self) -> int:
        """How many events the stream has (visible yet or not)."""
        return self._size

    def _example(self, python_name: str, default: str) -> str:
        """The spec's example of a ``data`` field (by Python name), or ``default``."""
        key = getattr(self._data_keys, python_name, None)
        found = None if key is None else self._fields.get(f"{self._data}.{key}")
        return found.example if found is not None and isinstance(found.example, str) else default

    # ---- content --------------------------------------------------------------------------------

    def _digest(self, pos: int) -> bytes:
        return hashlib.blake2b(pos.to_bytes(8, "big"), key=self._key, digest_size=64).digest()

    def _event_id(self, pos: int) -> str:
        """The id of the event at ``pos``: base64 of a UUID, as the spec's example has it."""
        return _b64(as_uuid(self._digest(pos)[:16].hex()))

    def _known(self, pos: int) -> tuple[dict[str, object], dict[str, object]]:
        """The event at ``pos`` as the fake's model makes it: top-level and ``data`` values by
        Python name (the schema's keys map them to JSON keys)."""
        d = self._digest(pos)
        rand = Rand(d)
        action = self._actions[self._action_code[pos]]
        code = self._actor_code[pos]
        actor_id, actor_name, actor_email = self._actors[code]
        target_name, target_id = self._org_name, self._org_uuid_id
        if action.target == "USER":
            others = [p for p in self._people if p[0] != actor_id] or self._people
            target_id, target_name, _ = rand.pick(others)
        elif action.target == "DEVICE":
            target_name, target_id = rand.pick(_DEVICES), webex_id("DEVICE", rand.uuid(1))
        elif action.target == "LOCATION":
            target_name, target_id = rand.pick(_LOCATIONS), webex_id("LOCATION", rand.uuid(1))
        # An actor signs in from one of a few addresses (documentation ranges), with a few browsers.
        h = hashlib.blake2b(actor_id.encode(), digest_size=8).digest()
        addresses = (
            f"198.51.100.{h[0] % 250 + 2}",
            f"203.0.113.{h[1] % 250 + 2}",
            f"2001:db8:{h[2]:x}::{h[3]:x}",
        )
        agents = (_USER_AGENTS[h[4] % len(_USER_AGENTS)], _USER_AGENTS[h[5] % len(_USER_AGENTS)])
        # The tracking id of the admin's request, in the style of the spec's example (ATLAS_<uuid>_0).
        tracking = self._example("tracking_id", "ATLAS_00000000-0000-0000-0000-000000000000_0")
        request = as_uuid(hashlib.blake2b(d, digest_size=16).hexdigest())
        data: dict[str, object] = {
            "actor_org_name": self._org_name,
            "target_name": target_name,
            "event_description": action.description,
            "actor_name": actor_name,
            "actor_email": actor_email,
            "admin_roles": list(self._roles[code]),
            "tracking_id": _UUID.sub(request, tracking, count=1) if _UUID.search(tracking) else request,
            "target_type": _spelled(action.target, self._example("target_type", "")),
            "target_id": target_id,
            "event_category": self.categories[self._action_category[self._action_code[pos]]],
            "actor_user_agent": agents[0] if rand.chance(0.8) else agents[1],
            "actor_ip": addresses[0] if rand.chance(0.7) else rand.pick(addresses[1:]),
            "target_org_id": self.org_id,
            "action_text": action.text.format(actor=actor_name, target=target_name, org=self._org_name),
            "target_org_name": self._org_name,
        }
        if action.error:
            data["error_message"] = self._example("error_message", "The operation failed.")
            data["error_code"] = self._example("error_code", "ERROR")
        top: dict[str, object] = {
            "created": format_ms(self._ms[pos]),
            "actor_org_id": self.org_id,
            "id": self._event_id(pos),
            "actor_id": actor_id,
        }
        return top, data

    def _wire(self, pos: int) -> dict[str, object]:
        """The event's values by path (``created``, ``data.actorName``), for the schema's keys."""
        top, data = self._known(pos)
        out: dict[str, object] = {}
        for where, values, keys in ((None, top, self._keys), (self._data, data, self._data_keys)):
            for python, value in values.items():
                key = getattr(keys, python, None)  # a field the spec no longer has is not sent
                if key is not None:
                    out[key if where is None else f"{where}.{key}"] = value
        return out

    def _find_extras(self) -> tuple[tuple[str, object], ...]:
        """Spec fields (top level or directly in ``data``) the builders never write, with a value."""
        written = set(self._wire(0))
        for action in self._actions:  # the error fields are written on failures only
            if action.error:
                written |= {
                    f"{self._data}.{getattr(self._data_keys, n, '')}" for n in ("error_message", "error_code")
                }
        extras = []
        for path, f in self._fields.items():
            head, _, rest = path.partition(".")
            if path in written or path == self._data or "." in rest or (rest and head != self._data):
                continue
            extras.append((path, sample(f.type, f.example, f.enum)))
        return tuple(extras)

    def _event_dict(self, pos: int) -> dict[str, Any]:
        """The event at ``pos`` as served, keys in the spec's order."""
        values = self._wire(pos)
        d = self._digest(pos)
        for k, (path, value) in enumerate(self._extras):
            if d[(k // 8 + 40) % 64] >> (k % 8) & 1:
                values.setdefault(path, copy.deepcopy(value))
        event: dict[str, Any] = {}
        data: dict[str, Any] = {}
        prefix = f"{self._data}."
        for path in (*self._order, *values):
            if path not in values:
                continue
            value = values.pop(path)
            if path.startswith(prefix):
                data[path[len(prefix) :]] = value
            else:
                event[path] = value
            if path.startswith(prefix) and self._data not in event:
                event[self._data] = data
        return event

    def _event_json(self, pos: int) -> bytes:
        """The exact bytes served for the event at ``pos`` (built once, then cached)."""
        cached = self._json[pos]
        if cached is None:
            cached = self._json[pos] = serialize(self._event_dict(pos))
        return cached

    def _position_of(self, event_id: str) -> int | None:
        """The position of ``event_id``, or None."""
        if self._ids is None:
            with self._lock:
                if self._ids is None:
                    self._ids = {self._event_id(p): p for p in range(self._size)}
        return self._ids.get(event_id)

    def event_json(self, event_id: str) -> bytes | None:
        """The exact bytes served for ``event_id`` (None if the stream has no such event)."""
        pos = self._position_of(event_id)
        return None if pos is None else self._event_json(pos)

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event, newest first (the unfiltered listing order), each exactly as served."""
        return [json.loads(self._event_json(p)) for p in range(self._size - 1, -1, -1)]

    def _visible_ms(self, pos: int) -> int:
        """The epoch ms from which the event at ``pos`` is served (its ``created`` unless late)."""
        return (self._visible if self._visible is not None else self._ms)[pos]

    def visible_at(self, event_id: str) -> datetime | None:
        """When the fake starts serving ``event_id`` (None: no such event), as ``FakeWebex.visible_at``."""
        pos = self._position_of(event_id)
        return None if pos is None else _EPOCH + timedelta(milliseconds=self._visible_ms(pos))

    # ---- selection ------------------------------------------------------------------------------

    def _column(self, path: str) -> tuple[Sequence[object], Sequence[str | None]] | None:
        """A compact column of the field at ``path`` and its value table, if it has one."""
        if path == self._category_path:
            table = [self.categories[c] for c in self._action_category]
            return self._action_code, table
        if path == self._keys.actor_id:
            return self._actor_code, self.actor_ids
        return None

    def _values(self, path: str) -> list[str | None]:
        """Each event's value of the field at ``path`` as query text (built once per field)."""
        found = self._slow.get(path)
        if found is None:
            with self._lock:
                found = self._slow.get(path)
                if found is None:
                    found = [wire_text(get_path(self._event_dict(p), path)) for p in range(self._size)]
                    self._slow[path] = found
        return found

    def _conditions(self, values: Iterable[tuple[str, Sequence[str]]]) -> dict[str, frozenset[object]] | None:
        """Selection for (field path, accepted values) pairs; None if no event can match."""
        out: dict[str, frozenset[object]] = {}
        for path, accepted in values:
            if path == self._keys.actor_org_id:  # every event is of the organization
                if self.org_id not in accepted:
                    return None
                continue
            column = self._column(path)
            if column is not None:
                table = column[1]
                keys: frozenset[object] = frozenset(c for c, value in enumerate(table) if value in accepted)
            else:
                keys = frozenset(v for v in accepted if v)
            keys = keys & out[path] if path in out else keys
            if not keys:
                return None
            out[path] = keys
        return out

    def _matching(self, conditions: Mapping[str, frozenset[object]]) -> Sequence[int]:
        """Ascending positions of the events matching every condition (cached per combination)."""
        if not conditions:
            return range(self._size)
        query = tuple(sorted(conditions.items(), key=lambda c: c[0]))
        found = self._matches.get(query)
        if found is None:
            columns = []
            for path, keys in query:
                column = self._column(path)
                columns.append((column[0] if column is not None else self._values(path), keys))
            found = array("l", (p for p in range(self._size) if all(c[p] in keys for c, keys in columns)))
            with self._lock:
                if len(self._matches) >= _MATCHES_KEPT:
                    del self._matches[next(iter(self._matches))]
                self._matches[query] = found
        return found

    def _newest(
        self, conditions: Mapping[str, frozenset[object]], lo_ms: int, hi_ms: int, now_ms: int | None
    ) -> Iterator[int]:
        """Positions matching ``conditions`` with ``lo_ms <= created <= hi_ms``, newest first;
        with ``now_ms``, only the events visible then."""
        matches = self._matching(conditions)
        lo, hi = bisect.bisect_left(self._ms, lo_ms), bisect.bisect_right(self._ms, hi_ms)
        a, b = bisect.bisect_left(matches, lo), bisect.bisect_left(matches, hi)
        positions = (matches[i] for i in range(b - 1, a - 1, -1))
        visible = self._visible
        if now_ms is None or visible is None:
            return positions
        return (p for p in positions if visible[p] <= now_ms)

    def _filter_pairs(
        self, filters: Mapping[str, object], *, caller: str
    ) -> list[tuple[str, list[str]]] | None:
        """(field path, values) for filters by Python name; None when a value can match nothing."""
        pairs = []
        for name, value in filters.items():
            found = self._facts.by_python.get(name)
            if found is None:
                raise TypeError(f"{caller}() got an unexpected keyword argument {name!r}")
            if value is None:
                continue
            items = list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
            texts = [wire_text(v) for v in items]
            if any(t is None for t in texts):
                return None
            pairs.append((found[1], [t for t in texts if t is not None]))
        return pairs

    def expected_ids(
        self,
        *,
        from_: datetime | None = None,
        to: datetime | None = None,
        visible_only: bool = False,
        **filters: object,
    ) -> list[str]:
        """Ids of the events matching the filters in half-open ``[from_, to)``, newest first.

        ``filters`` are the stream's filters by Python name (``org_id=``, ``actor_id=``,
        ``event_categories=`` a value or a list of them), as ``list_admin_audit_events`` takes
        them; ``to`` None or in the future means now; ``visible_only``: only the events the
        server shows now (``late``). No year limit: the ground truth of any range.
        """
        pairs = self._filter_pairs(filters, caller="expected_ids")
        conditions = None if pairs is None else self._conditions(pairs)
        if conditions is None:
            return []
        now_us = int(self._wall_clock() * 1_000_000)
        to_us = now_us if to is None else min(_micros(to, "to"), now_us)
        lo_ms = -(1 << 62) if from_ is None else -(-_micros(from_, "from_") // 1000)
        positions = self._newest(
            conditions, lo_ms, -(-to_us // 1000) - 1, now_us // 1000 if visible_only else None
        )
        return [self._event_id(p) for p in positions]


def _micros(value: datetime, name: str) -> int:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime")
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def stream_name(operation: Operation) -> str:
    """The library's name of a listing's stream: ``listAdminAuditEvents`` -> ``admin-audit``."""
    words = re.sub(r"(?<!^)(?=[A-Z])", "-", operation.operation_id.removeprefix("list")).lower()
    return words.removesuffix("-events") or words


#: The stream names of the two audit listings (``admin-audit``, ``security-audit``).
ADMIN_AUDIT: Final = stream_name(LIST_ADMIN_AUDIT_EVENTS)
SECURITY_AUDIT: Final = stream_name(LIST_SECURITY_AUDIT_EVENTS)


def make_audit_logs(
    org: Organization,
    *,
    counts: Mapping[str, int],
    start_ms: int,
    end_ms: int,
    wall_clock: Callable[[], float],
    late: Sequence[tuple[float, float, float]],
    same_millisecond_fraction: float,
    boundary_fraction: float,
) -> dict[str, AuditLog]:
    """An ``AuditLog`` for each listing of the spec besides List Events that the fake can fill,
    by stream name; ``counts``: how many events each stream has."""
    logs = {}
    for operation in AUDIT_LISTINGS:
        name = stream_name(operation)
        logs[name] = AuditLog(
            operation,
            name=name,
            events=counts.get(name, 0),
            org=org,
            start_ms=start_ms,
            end_ms=end_ms,
            wall_clock=wall_clock,
            late=late,
            same_millisecond_fraction=same_millisecond_fraction,
            boundary_fraction=boundary_fraction,
        )
    return logs


# ---- serving ------------------------------------------------------------------------------------------


#: What an audit operation answers: (body, next link or None, events or None: not a page), or a
#: whole ``Reply``. Called with the request's query, origin, path and tracking id.
Answer = Callable[[str, str, str, str], "tuple[bytes, str | None, int | None] | Reply"]


@dataclass(frozen=True)
class Served:
    """One operation the fake serves through ``AuditServer``: its route and how it is answered."""

    operation: Operation
    route: re.Pattern[str]
    answer: Answer


class AuditServer:
    """Serves the audit listings and the admin audit categories for a ``FakeApp``.

    Each answer is ``(body, next link or None, number of events or None)`` (None: not a page), or
    a ``Reply`` (a 504 of ``gateway_timeout_above``); a bad request raises the app's 400 error.
    The app does the rest as for /events: authentication and scopes, rate limits, injected faults
    (5xx, 423/429, resets, truncated bodies), latency, ``Link`` headers and the counters.
    """

    def __init__(self, app: FakeApp, make: Callable[[], Mapping[str, AuditLog]]) -> None:
        self._app = app
        self._make = make
        self._logs: dict[str, AuditLog] | None = None
        self._lock = threading.Lock()
        self.served: list[Served] = []
        names = [stream_name(op) for op in AUDIT_LISTINGS]
        for index, (name, operation) in enumerate(zip(names, AUDIT_LISTINGS, strict=True)):
            answer = self._listing(name, index.to_bytes(1, "big"))
            self.served.append(Served(operation, _route(operation), answer))
        if LIST_ADMIN_AUDIT_EVENTS in AUDIT_LISTINGS:
            operation = LIST_ADMIN_AUDIT_EVENT_CATEGORIES
            self.served.append(Served(operation, _route(operation), self._categories))

    @property
    def logs(self) -> dict[str, AuditLog]:
        """The streams' events by stream name, made when first needed (a fake that never serves
        an audit stream does not pay for one)."""
        if self._logs is None:
            with self._lock:
                if self._logs is None:
                    self._logs = dict(self._make())
        return self._logs

    def route(self, path: str) -> Served | None:
        """What serves ``path``, if an audit operation does."""
        return next((s for s in self.served if s.route.fullmatch(path)), None)

    def _categories(self, query: str, origin: str, path: str, tracking: str) -> tuple[bytes, None, None]:
        admin = self.logs[ADMIN_AUDIT]
        key = AUDIT_EVENT_CATEGORY_COLLECTION_RESPONSE_KEYS.event_categories
        return serialize({key: list(admin.categories)}), None, None

    def _listing(self, name: str, tag: bytes) -> Answer:
        def answer(
            query: str, origin: str, path: str, tracking: str
        ) -> tuple[bytes, str | None, int | None] | Reply:
            log = self.logs[name]
            return self._list(log, tag, query, origin=origin, path=path, tracking=tracking)

        return answer

    def _list(
        self, log: AuditLog, tag: bytes, query: str, *, origin: str, path: str, tracking: str
    ) -> tuple[bytes, str | None, int | None] | Reply:
        app, k = self._app, self._app.knobs
        operation, facts = log.operation, log._facts
        pairs = parse_qsl(query, keep_blank_values=True)
        given: dict[str, list[str]] = {}
        for name, value in pairs:
            given.setdefault(name, []).append(value)

        def one(name: str) -> str | None:
            values = given.get(name)
            return values[-1] if values else None

        # Required parameters first (in spec order), then their values.
        for p in operation.parameters:
            if p.required and p.location == "query" and not one(p.name):
                raise _BadRequestError(f"{p.name} is required.")
        size_name = facts.page_size.name
        raw_size = one(size_name)
        if raw_size is None or raw_size == "":
            limit = facts.page_default
        elif not _DIGITS.fullmatch(raw_size) or not (
            facts.page_min <= int(raw_size) and (facts.page_max is None or int(raw_size) <= facts.page_max)
        ):
            raise _BadRequestError(facts.page_size_error(raw_size))
        else:
            limit = int(raw_size)
        broken = facts.check_required({name: values[-1] for name, values in given.items()})
        if broken is not None:
            raise _BadRequestError(broken)
        start_name, end_name = facts.range_start.name, facts.range_end.name
        dates: dict[str, int] = {}
        for name in (start_name, end_name):
            text = one(name)
            if text:
                try:
                    dates[name] = parse_datetime_us(text)
                except ValueError:
                    raise _BadRequestError(
                        f"Invalid {name}: {text!r} is not an ISO 8601 date-time."
                    ) from None
        if start_name in dates and end_name in dates:
            if dates[end_name] < dates[start_name]:
                raise _BadRequestError(f"{start_name} must not be after {end_name}.")
            if _over(dates[end_name] - dates[start_name], operation.max_range):
                raise _BadRequestError(
                    f"{start_name} and {end_name} are more than {_days(operation.max_range)} apart:"
                    " a maximum of one year of audit events can be returned per request."
                )
        offset = 0
        offset_name: str | None = None
        if operation.paging == "offset":
            p = operation.role("page-offset")
            offset_name = p.name
            raw_offset = one(p.name)
            lowest = int(p.minimum) if p.minimum is not None else 0
            if raw_offset:
                if not _DIGITS.fullmatch(raw_offset) or int(raw_offset) < lowest:
                    raise _BadRequestError(f"{p.name} must be an integer >= {lowest} (got {raw_offset!r}).")
                offset = int(raw_offset)
        below: int | None = None
        cursor = one(_CURSOR)
        if operation.paging == "link" and cursor is not None:
            raw = app._unsign(cursor, 7)
            if raw[:1] != tag:
                raise _BadRequestError("Invalid cursor.")
            below = int.from_bytes(raw[1:], "big")
        if k.gateway_timeout_above is not None and limit > k.gateway_timeout_above:
            with app._lock:
                app.stats.faults += 1
            return app._error(
                504,
                tracking,
                "An upstream server failed to respond on time. If your query uses"
                f" {size_name} parameter, please try to reduce it.",
                delay=app._delay(),
            )

        now_us = int(app._wall_clock() * 1_000_000)
        to_us = min(dates.get(end_name, now_us), now_us)  # an end in the future means up to now
        hi_ms = to_us // 1000 if k.to_inclusive else -(-to_us // 1000) - 1
        if start_name in dates:
            from_us = dates[start_name]
            lo_ms = -(-from_us // 1000) if k.from_inclusive else from_us // 1000 + 1
        else:
            lo_ms = -(1 << 62)
        wanted = []
        for p, field_path in facts.filters:
            values = [v for v in given.get(p.name, []) if v]
            if p.type == "array" and not p.explode:
                values = [item for v in values for item in v.split(",") if item]
            elif values and p.type != "array":
                values = values[-1:]
            if values:
                wanted.append((field_path, values))
        conditions = log._conditions(wanted)
        if conditions is None:  # a value no event has: an empty page, not an error
            positions: list[int] = []
        else:
            shown = log._newest(conditions, lo_ms, hi_ms, now_us // 1000)
            if below is not None:
                shown = (p for p in shown if p < below)
            positions = list(itertools.islice(shown, offset, offset + limit + 1))
        more = len(positions) > limit
        del positions[limit:]
        items_key = operation.items_key or "items"
        body = b'{"' + items_key.encode() + b'":[' + b",".join(log._event_json(p) for p in positions) + b"]}"
        link = None
        if more and operation.paging == "link":
            after = app._sign(tag + positions[-1].to_bytes(6, "big"))
            link = self._next_link(
                given,
                origin=origin,
                path=path,
                size_name=size_name,
                limit=limit,
                cursor=after,
                offset_name=offset_name,
            )
        return body, link, len(positions)

    def _next_link(
        self,
        given: Mapping[str, list[str]],
        *,
        origin: str,
        path: str,
        size_name: str,
        limit: int,
        cursor: str,
        offset_name: str | None,
    ) -> str:
        k = self._app.knobs
        keep: list[tuple[str, str]] = []
        if not k.next_link_drops_filters:
            keep = [
                (n, v) for n, vs in given.items() if n not in (size_name, _CURSOR, offset_name) for v in vs
            ]
        keep += [(size_name, "null" if k.next_link_max_null else str(limit)), (_CURSOR, cursor)]
        base = (k.next_link_origin or origin).rstrip("/")
        return f"{base}{path}?{urlencode(keep, quote_via=quote, safe=':')}"


def _over(span_us: int, limit: timedelta | None) -> bool:
    """Whether a range of ``span_us`` is longer than one request may cover.

    Counted in whole days when the limit is whole days (the fake's reading of Webex's "a
    maximum of one year": a range of 365 days and some hours still passes, as a Java
    ``Duration.toDays() > 365`` check lets it; 366 days does not), else exactly.
    """
    if limit is None:
        return False
    limit_us = (limit.days * 86_400 + limit.seconds) * 1_000_000 + limit.microseconds
    day_us = _DAY_MS * 1000
    if limit_us % day_us == 0:
        return span_us // day_us > limit_us // day_us
    return span_us > limit_us


def _days(limit: timedelta | None) -> str:
    if limit is None:  # pragma: no cover - only called with a limit
        return "any length"
    return f"{limit.days} days" if limit == timedelta(days=limit.days) else str(limit)
