"""The synthetic organization: compact columns for filtering, events built (and cached) on demand.

Only what filtering needs is materialized up front (one sorted ``created`` column plus small
per-event codes, ``_columns``), so even a large organization is cheap to create and hold.
Everything else of an event (ids, ``data``) is derived from ``blake2b(seed, position)`` when the
event is first served (``_builders``), so the content never depends on which events were served
first.

What the spec states comes from its facts (``_facts``): the resource and type values, the
required-when rules (an event of a resource a rule names carries the field the rule asks for), and
every Event field (a field the fake's own model lacks is emitted from its example). The realism
for the names the fake knows (weights, type mixes, what Webex sends beyond its spec) is in
``_evidence``; ``documented_shapes`` sends only what the spec documents instead.
"""

from __future__ import annotations

import base64
import bisect
import copy
import hashlib
import json
import random
import re
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from webex_events_api.spec import EVENT_FIELDS, EVENT_KEYS, LIST_EVENTS, Field, Operation

from ._builders import (
    BUILDERS,
    Builder,
    Ctx,
    Rand,
    as_uuid,
    build_from_schema,
    build_unknown,
    format_ms,
    probe,
    webex_id,
)
from ._columns import FAST_COLUMNS, IN_DATA, SERVICE_KEY, SERVICE_TYPE
from ._evidence import (
    ACTOR_WEIGHTS,
    DEFAULT_RESOURCE_WEIGHT,
    FUTURE_RESOURCES,
    FUTURE_SERVICE_TYPES,
    FUTURE_TYPES,
    OBSERVED_DATA,
    OBSERVED_TYPES,
    PEOPLE,
    RESOURCE_WEIGHTS,
    TYPE_WEIGHTS,
)
from ._facts import DEFAULT_FACTS, SpecFacts, get_path, sample, wire_text

if TYPE_CHECKING:
    from ._damage import Damages

# OBSERVED_DATA and OBSERVED_TYPES are re-exported: the tests hold the fake to them from here.
__all__ = [
    "KNOWN_RESOURCES",
    "KNOWN_TYPES",
    "OBSERVED_DATA",
    "OBSERVED_TYPES",
    "Organization",
    "serialize",
]

# The top-level keys of an event are the spec's (its Event schema).
_ID, _RESOURCE, _TYPE, _CREATED, _DATA = (
    EVENT_KEYS.id,
    EVENT_KEYS.resource,
    EVENT_KEYS.type,
    EVENT_KEYS.created,
    EVENT_KEYS.data,
)
_APP_ID, _ACTOR_ID, _ORG_ID = EVENT_KEYS.app_id, EVENT_KEYS.actor_id, EVENT_KEYS.org_id


def _future(candidates: Sequence[str], known: Sequence[str], stem: str) -> tuple[str, ...]:
    """The candidates the spec does not list (a made-up name if it lists them all)."""
    out = tuple(c for c in candidates if c not in known)
    n = 1
    while not out:
        out = (f"{stem}{n}",) if f"{stem}{n}" not in known else ()
        n += 1
    return out


def _spec_resources(facts: SpecFacts) -> tuple[str, ...]:
    # A spec without a resource enum still needs names to draw: the fake's own.
    return facts.resources or tuple(RESOURCE_WEIGHTS)


def _spec_types(facts: SpecFacts) -> tuple[str, ...]:
    observed = {t for types in OBSERVED_TYPES.values() for t in types}
    return facts.types or tuple(
        dict.fromkeys(t for table in TYPE_WEIGHTS.values() for t in table if t not in observed)
    )


def _observed_types(resources: Sequence[str], spec_types: Sequence[str]) -> tuple[str, ...]:
    """The types Webex sends unlisted for these resources, in table order (none the spec lists)."""
    found = (t for r, types in OBSERVED_TYPES.items() if r in resources for t in types)
    return tuple(dict.fromkeys(t for t in found if t not in spec_types))


KNOWN_RESOURCES: Final = _spec_resources(DEFAULT_FACTS)
KNOWN_TYPES: Final = _spec_types(DEFAULT_FACTS)


def _type_table(resource: str, types: Sequence[str]) -> tuple[list[float], list[int]]:
    """Cumulative probabilities and type codes of ``resource`` (draw: first cumulative > u)."""
    weights = TYPE_WEIGHTS.get(resource, {})
    pairs = sorted((types.index(t), w) for t, w in weights.items() if t in types and w > 0)
    if not pairs:
        pairs = [(code, 1) for code in range(len(types))]
    total = sum(w for _, w in pairs)
    running, cum, codes = 0, [], []
    for code, w in pairs:
        running += w
        cum.append(running / total)  # integer sums: the last one is exactly 1.0
        codes.append(code)
    return cum, codes


_DAY_MS: Final = 86_400_000
_HOUR_MS: Final = 3_600_000
_MASK48: Final = (1 << 48) - 1

# Gson-style HTML-safe escaping (what a Java server commonly emits). Those characters can only
# occur inside JSON strings, so a plain replace is safe; it makes the served bytes differ from any
# Python re-serialization (json.dumps or orjson), which catches clients that do not keep raw bytes.
_HTML_SAFE: Final = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("=", "\\u003d"))
# A UTF-16 surrogate code point: alone in a str, it can only be sent as a JSON escape.
_SURROGATE: Final = re.compile(r"[\ud800-\udfff]")


def serialize(obj: Any) -> bytes:
    """Serialize like the fake server: UTF-8, compact, non-ASCII raw, ``<>&=`` escaped.

    A lone surrogate (which UTF-8 cannot encode) is written as its JSON escape (``\\ud800``).
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in _HTML_SAFE:
        if char in text:  # a scan plus a rare replace is much faster than str.translate
            text = text.replace(char, escaped)
    try:
        return text.encode()
    except UnicodeEncodeError:
        return _SURROGATE.sub(lambda found: f"\\u{ord(found[0]):04x}", text).encode()


class Organization:
    """Ground truth of one fake organization.

    Events are kept in ascending ``created`` order by *position*; the server lists them newest
    first, ties (same millisecond) by descending position, which is stable across requests.
    ``operation`` and ``fields`` are the spec facts it follows (default: the generated ones);
    its filters, resources, types and Event fields all come from them.
    """

    def __init__(
        self,
        *,
        events: int,
        seed: int,
        start_ms: int,
        end_ms: int,
        unknown_fraction: float,
        same_millisecond_fraction: float,
        boundary_fraction: float,
        cache_json: bool = True,
        operation: Operation = LIST_EVENTS,
        fields: Sequence[Field] = EVENT_FIELDS,
        documented_shapes: bool = False,
    ) -> None:
        if events < 0:
            raise ValueError(f"events must be >= 0, got {events}")
        if end_ms <= start_ms:
            raise ValueError("end must be after start")
        default = operation is LIST_EVENTS and fields is EVENT_FIELDS
        self.facts = facts = DEFAULT_FACTS if default else SpecFacts(operation, fields)
        self.size = events
        self.seed = seed
        self.documented_shapes = documented_shapes
        self.start_ms = start_ms
        self.end_ms = end_ms
        self._key = hashlib.blake2b(f"webex-fake:{seed}".encode(), digest_size=16).digest()
        self._pos_mask = int.from_bytes(self._key[:6], "big")
        rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets

        ids = [as_uuid(rng.getrandbits(128).to_bytes(16, "big").hex()) for _ in range(len(PEOPLE) + 40)]
        self.org_uuid = ids[0]
        self.org_id = base64.b64encode(self.org_uuid.encode()).rstrip(b"=").decode()
        self.data_org_id = webex_id("ORGANIZATION", self.org_uuid)
        self.people = [
            (webex_id("PEOPLE", ids[1 + i]), name, email) for i, (name, email) in enumerate(PEOPLE)
        ]
        self.actor_ids: tuple[str, ...] = tuple(p[0] for p in self.people)
        self.app_id = webex_id("APPLICATION", ids[len(PEOPLE) + 1])
        self.rooms = [
            (webex_id("ROOM", ids[len(PEOPLE) + 2 + i]), "direct" if i % 3 == 0 else "group")
            for i in range(24)
        ]
        self.meetings = [rng.getrandbits(128).to_bytes(16, "big").hex() for _ in range(30)]

        # Value tables of the compact columns (a code is an index). Resources: the spec's, in the
        # weight table's order (the draw order), then future ones; types: the spec's, then those
        # Webex sends unlisted (unless documented_shapes), then future.
        spec_resources, spec_types = _spec_resources(facts), _spec_types(facts)
        drawn = [r for r in RESOURCE_WEIGHTS if r in spec_resources]
        drawn += [r for r in spec_resources if r not in RESOURCE_WEIGHTS]
        future_res = _future(FUTURE_RESOURCES, spec_resources, "futureResource")
        self.resources: tuple[str, ...] = (*drawn, *future_res)
        observed = () if documented_shapes else _observed_types(drawn, spec_types)
        sent_types = (*spec_types, *observed)
        self.types: tuple[str, ...] = (*sent_types, *_future(FUTURE_TYPES, sent_types, "futureType"))
        known_svc = () if SERVICE_TYPE is None else facts.values_of(SERVICE_TYPE)
        future_svc = _future(FUTURE_SERVICE_TYPES, known_svc, "futureServiceType")
        self.service_types: tuple[str, ...] = ("", *known_svc, *future_svc)  # index 0: the event has none
        if max(len(self.resources), len(self.types), len(self.service_types)) > 256:
            raise ValueError("the fake keeps one byte per value: at most 256 resources, types, service types")
        n_res, n_typ, n_sent_typ = len(drawn), len(spec_types), len(sent_types)
        tables = [_type_table(r, sent_types) for r in drawn]
        # Which resources (and types) must carry a service type: the required-when rules.
        need = self._needs(SERVICE_TYPE)

        self.ms = self._times(rng, events, same_millisecond_fraction, boundary_fraction)
        weights = [RESOURCE_WEIGHTS.get(r, DEFAULT_RESOURCE_WEIGHT) for r in drawn]
        res_codes = rng.choices(range(n_res), weights=weights, k=events)
        self.actor = bytes(rng.choices(range(len(PEOPLE)), weights=ACTOR_WEIGHTS, k=events))
        res = bytearray(events)
        typ = bytearray(events)
        svc = bytearray(events)
        self.unknown = bytearray(events)
        rnd = rng.random
        need_res = need[EVENT_KEYS.resource]
        n_future_res, n_future_typ = len(self.resources) - n_res, len(self.types) - n_sent_typ
        svc_future = len(known_svc) + 1
        for i in range(events):
            r = res_codes[i]
            u = rnd()
            cum, codes = tables[r]
            t = codes[bisect.bisect_right(cum, u)]
            if unknown_fraction and rnd() < unknown_fraction:
                self.unknown[i] = 1
                if need_res[r]:
                    svc[i] = svc_future  # an unknown service type
                elif rnd() < 0.5:
                    r = n_res + int(rnd() * n_future_res)
                else:
                    t = n_sent_typ + int(rnd() * n_future_typ)
            res[i] = r
            typ[i] = t
        if events >= len(spec_resources) + len(spec_types):
            for p in _cover(
                res, typ, tables, n_res=n_res, n_typ=n_typ, sizes=(len(self.resources), len(self.types))
            ):
                svc[p] = 0  # refilled below if its new resource or type needs one
        # Every event a rule makes carry a service type gets one of the spec's (by position).
        fill = tuple(range(1, len(known_svc) + 1)) or (svc_future,)
        for column, flags in ((res, need_res), (typ, need[EVENT_KEYS.type])):
            for code in (c for c, needed in enumerate(flags) if needed):
                for match in re.finditer(re.escape(bytes([code])), column):
                    i = match.start()
                    if not svc[i]:
                        svc[i] = fill[i % len(fill)]
        self.res = bytes(res)
        self.typ = bytes(typ)
        self.svc = bytes(svc)
        self._builders: list[Builder] = [BUILDERS.get(r, build_from_schema) for r in drawn]
        self._builders += [build_unknown] * n_future_res
        self.schema_data = tuple(
            (f.path[len(IN_DATA) :], f.example)
            for f in facts.fields
            if f.path.startswith(IN_DATA) and "." not in f.path[len(IN_DATA) :] and f.example is not None
        )
        self._fast: dict[str, bytes] = {path: getattr(self, attr) for path, attr in FAST_COLUMNS.items()}
        self._tables: dict[str, tuple[str, ...]] = {
            EVENT_KEYS.resource: self.resources,
            EVENT_KEYS.type: self.types,
            EVENT_KEYS.actor_id: self.actor_ids,
        }
        if SERVICE_TYPE is not None:
            self._tables[SERVICE_TYPE] = self.service_types
        # documented_shapes: the spec's JSON type of each data field it documents or filters on.
        self._documented: dict[str, str] | None = None
        if documented_shapes:
            kinds = {f.path[len(IN_DATA) :]: f.type for f in facts.fields if f.path.startswith(IN_DATA)}
            for param, path in self.facts.filters:
                if path.startswith(IN_DATA):
                    kinds.setdefault(path[len(IN_DATA) :], param.type)
            self._documented = {name: kind for name, kind in kinds.items() if "." not in name}
        self._extras = self._find_extras() if events else ()
        self._fills = self._find_fills()
        self._slow: dict[str, tuple[list[str | None], frozenset[str]]] = {}
        self._index_cache: dict[tuple[str, int | str], array[int]] = {}
        self._index_lock = threading.RLock()
        # One slot per event; bytes are filled in as events are first served.
        self._json: list[bytes | None] | None = [None] * events if cache_json else None
        #: The events served damaged (``FakeWebex``'s bad-data knobs; None: none): set before
        #: the first event is served.
        self.damages: Damages | None = None

    def _needs(self, path: str | None) -> dict[str, list[bool]]:
        """Per resource and per type code: whether a required-when rule makes its events carry ``path``.

        Only rules keyed on the resource or the type reach a compact column this way; a field
        without a column is filled in per event instead (``_find_fills``).
        """
        tables = {EVENT_KEYS.resource: self.resources, EVENT_KEYS.type: self.types}
        need = {key: [False] * len(table) for key, table in tables.items()}
        for rule in self.facts.requirements:
            if rule.field == path and rule.key in tables:
                for value in rule.values:
                    if value in tables[rule.key]:
                        need[rule.key][tables[rule.key].index(value)] = True
        return need

    def _find_extras(self) -> tuple[tuple[str | None, str, object], ...]:
        """Spec Event fields the fake's own model never writes: (None or ``data``'s key, name, value).

        What the model writes is found by probing it (``probe``), not listed, so a field the spec
        gains is emitted on about half of the events (``event_dict``) with no edit here.
        """
        event, _data = self._event(0, self._digest(0))
        produced_data = probe(self)
        extras: list[tuple[str | None, str, object]] = []
        for f in self.facts.fields:
            if f.path in FAST_COLUMNS:
                continue
            head, _, rest = f.path.partition(".")
            value = sample(f.type, f.example, f.enum)
            if not rest and head not in event:
                extras.append((None, head, value))
            elif rest and head == EVENT_KEYS.data and "." not in rest and rest not in produced_data:
                extras.append((head, rest, value))
        return tuple(extras)

    def _find_fills(self) -> tuple[tuple[str, tuple[str, ...], str, tuple[object, ...]], ...]:
        """Required-when rules on fields without a compact column: (key, values, field, options)."""
        fills = []
        for rule in self.facts.requirements:
            if rule.field in FAST_COLUMNS:
                continue
            p, field = rule.parameter, self.facts.by_path.get(rule.field)
            options: tuple[object, ...] = p.enum or (
                (sample(field.type, field.example, field.enum),) if field is not None else (sample(p.type),)
            )
            fills.append((rule.key, rule.values, rule.field, options))
        return tuple(fills)

    def _times(self, rng: random.Random, n: int, same_ms: float, boundary: float) -> array[int]:
        start, end = self.start_ms, self.end_ms
        span = end - start
        first_hour = -(-start // _HOUR_MS) * _HOUR_MS
        hours = list(range(first_hour, end, _HOUR_MS))
        days = [h for h in hours if h % _DAY_MS == 0]
        # A few "hot" milliseconds shared by ~20 events each, so ties straddle page boundaries.
        hot = [start + int(rng.random() * span) for _ in range(max(1, int(n * same_ms / 20)))]
        out = array("q", bytes(8 * n))
        rnd = rng.random
        for i in range(n):
            u = rnd()
            if u < same_ms:
                out[i] = hot[int(rnd() * len(hot))]
            elif u < same_ms + boundary and hours:
                pool = days if days and rnd() < 0.5 else hours
                out[i] = pool[int(rnd() * len(pool))]
            else:
                out[i] = start + int(rnd() * span)
        return array("q", sorted(out))

    # ---- identity -------------------------------------------------------------------------------

    def _digest(self, pos: int) -> bytes:
        return hashlib.blake2b(pos.to_bytes(8, "big"), key=self._key, digest_size=64).digest()

    def event_id(self, pos: int, digest: bytes | None = None) -> str:
        """The id of the event at ``pos``; the (masked) position is embedded so lookups are O(1)."""
        d = digest if digest is not None else self._digest(pos)
        h = d[:10].hex() + f"{(pos ^ self._pos_mask) & _MASK48:012x}"
        return webex_id("EVENT", as_uuid(h))

    def position_of(self, event_id: str) -> int | None:
        """The position of ``event_id`` in this organization, or None."""
        try:
            text = base64.urlsafe_b64decode(event_id + "=" * (-len(event_id) % 4)).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            return None
        prefix = "ciscospark://us/EVENT/"
        if not text.startswith(prefix) or len(text) != len(prefix) + 36:
            return None
        try:
            pos = (int(text[-12:], 16) ^ self._pos_mask) & _MASK48
        except ValueError:
            return None
        if pos >= self.size or self.event_id(pos) != event_id:
            return None
        return pos

    # ---- content --------------------------------------------------------------------------------

    def resource(self, pos: int) -> str:
        return self.resources[self.res[pos]]

    def type(self, pos: int) -> str:
        return self.types[self.typ[pos]]

    def event_json(self, pos: int) -> bytes:
        """The exact bytes served for the event at ``pos`` (built once, then cached)."""
        cache = self._json
        if cache is None:
            return self._build_json(pos)
        cached = cache[pos]
        if cached is None:
            # Benign race: two threads may build the same bytes; both results are identical.
            cached = cache[pos] = self._build_json(pos)
        return cached

    def _build_json(self, pos: int) -> bytes:
        damages = self.damages
        if damages is not None and pos in damages.by_pos:
            return damages.render(pos, self.event_dict(pos))
        return serialize(self.event_dict(pos))

    def _event(self, pos: int, d: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
        """The event at ``pos`` as the fake's own model makes it, and its ``data``."""
        rand = Rand(d)
        code = self.res[pos]
        etype = self.types[self.typ[pos]]
        actor_id, actor_name, actor_email = self.people[self.actor[pos]]
        created = format_ms(self.ms[pos])
        data = self._builders[code](Ctx(self, pos, rand, etype, actor_id, actor_name, actor_email, created))
        if self._documented is not None:
            data = self._as_documented(data)
        if self.svc[pos]:  # the column is the truth: a builder that has no such field gets it
            data.setdefault(SERVICE_KEY, self.service_types[self.svc[pos]])
        event: dict[str, Any] = {
            _ID: self.event_id(pos, d),
            _RESOURCE: self.resources[code],
            _TYPE: etype,
            _APP_ID: self.app_id if rand.chance(0.1) else "null",
            _ACTOR_ID: actor_id,
            _ORG_ID: self.org_id,
            _CREATED: created,
            _DATA: data,
        }
        return event, data

    def _as_documented(self, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` in the spec's own terms: its fields only, a scalar as the spec's JSON type.

        A boolean or number where the spec says string is sent as the query text of it
        (``true`` -> ``"true"``): the spec's examples for such fields read that way.
        """
        kinds = self._documented
        assert kinds is not None
        out = {}
        for name, value in data.items():
            kind = kinds.get(name)
            if kind is not None:
                retyped = kind == "string" and isinstance(value, bool | int | float)
                out[name] = wire_text(value) if retyped else value
        return out

    def event_dict(self, pos: int) -> dict[str, Any]:
        d = self._digest(pos)
        event, data = self._event(pos, d)
        # Spec fields the model lacks: on about half of the events, chosen by the event's digest
        # (not by serving order), so the same event always has the same fields.
        for k, (where, name, value) in enumerate(self._extras):
            target = event if where is None else data
            if name not in target and d[k // 8 % 64] >> (k % 8) & 1:
                target[name] = copy.deepcopy(value)
        for k, (key, values, path, options) in enumerate(self._fills):
            if wire_text(get_path(event, key)) in values and get_path(event, path) is None:
                _set_path(event, path, copy.deepcopy(options[d[63 - k % 64] % len(options)]))
        if self.unknown[pos]:
            event["region"] = "us-east-2"
            event["schemaVersion"] = 3
            data["futureField"] = {"nested": [1, 2.5, None, True], "label": "ünknown ✨"}
        return event

    # ---- selection --------------------------------------------------------------------------------

    def _column(self, path: str) -> bytes | list[str | None]:
        """Each event's value of the field at ``path`` (a code for a compact column)."""
        fast = self._fast.get(path)
        if fast is not None:
            return fast
        return self._slow_column(path)[0]

    def _slow_column(self, path: str) -> tuple[list[str | None], frozenset[str]]:
        """The values (as query text) of a field without a compact column, and the set of them.

        Built once per field by building every event: fine for a test-sized organization, slow
        for a large one.
        """
        found = self._slow.get(path)
        if found is None:
            with self._index_lock:
                found = self._slow.get(path)
                if found is None:
                    values = [wire_text(get_path(self.event_dict(p), path)) for p in range(self.size)]
                    found = self._slow[path] = (values, frozenset(v for v in values if v is not None))
        return found

    def _index(self, path: str, key: int | str) -> array[int]:
        """Ascending positions whose field at ``path`` has ``key`` (built once per value)."""
        found = self._index_cache.get((path, key))
        if found is None:
            column = self._column(path)
            with self._index_lock:
                found = self._index_cache.get((path, key))
                if found is None:
                    found = array("l", (i for i, c in enumerate(column) if c == key))
                    self._index_cache[(path, key)] = found
        return found

    def code(self, path: str, value: str) -> int | str | None:
        """The key of ``value`` for the Event field at ``path`` (None: no event can match).

        A code for a compact column, the value itself for any other field.
        """
        table = self._tables.get(path)
        if table is not None:
            if value not in table or (path == SERVICE_TYPE and not value):  # code 0: no service type
                return None
            return table.index(value)
        return value if value in self._slow_column(path)[1] else None

    def conditions(self, values: Iterable[tuple[str, str]]) -> dict[str, int | str] | None:
        """``select`` filters for (field path, query value) pairs; None if no event can match."""
        filters: dict[str, int | str] = {}
        for path, value in values:
            key = self.code(path, value)
            if key is None or filters.get(path, key) != key:
                return None
            filters[path] = key
        return filters

    def bounds(self, lo_ms: int, hi_ms: int) -> tuple[int, int]:
        """Positions ``[lo, hi)`` of events with ``lo_ms <= created <= hi_ms``."""
        return bisect.bisect_left(self.ms, lo_ms), bisect.bisect_right(self.ms, hi_ms)

    def select(
        self,
        filters: Mapping[str, int | str],
        lo: int,
        hi: int,
        *,
        limit: int | None = None,
    ) -> Iterator[int]:
        """Positions in ``[lo, hi)`` matching all ``filters`` (field path -> key), descending."""
        if lo >= hi:
            return
        count = 0
        if filters:
            # Walk the smallest per-value index and check the other columns on each hit.
            path, key = min(filters.items(), key=lambda kv: len(self._index(*kv)))
            idx = self._index(path, key)
            checks = [(self._column(k), v) for k, v in filters.items() if k != path]
            j = bisect.bisect_left(idx, hi) - 1
            while j >= 0:
                p = idx[j]
                if p < lo:
                    return
                j -= 1
                if all(column[p] == v for column, v in checks):
                    yield p
                    count += 1
                    if limit is not None and count >= limit:
                        return
        else:
            stop = hi - limit if limit is not None else lo
            yield from range(hi - 1, max(lo, stop) - 1, -1)


def _set_path(event: dict[str, Any], path: str, value: object) -> None:
    """Set a dotted path of an event (creating objects on the way) unless a value is there."""
    *heads, last = path.split(".")
    node = event
    for head in heads:
        node = node.setdefault(head, {})
        if not isinstance(node, dict):
            return
    node.setdefault(last, value)


def _cover(
    res: bytearray,
    typ: bytearray,
    tables: Sequence[tuple[list[float], list[int]]],
    *,
    n_res: int,
    n_typ: int,
    sizes: tuple[int, int],
) -> set[int]:
    """Give every spec resource and type that the random draw left out a few events.

    The spec promises those values, so a test over the default organization must meet each of
    them. Returns the positions changed; a resource's event gets a type that resource has (its
    most likely one) when its drawn type is not, and a type goes to an event of a resource that
    has it when one is near.
    """
    allowed = [set(codes) for _cum, codes in tables]
    main = []
    for cum, codes in tables:
        shares = [c - (cum[k - 1] if k else 0.0) for k, c in enumerate(cum)]
        main.append(codes[shares.index(max(shares))])
    touched = set()
    all_res, all_typ = sizes
    for p, code in _cover_column(res, n_res, all_res, None):
        touched.add(p)
        if typ[p] not in allowed[code]:
            typ[p] = main[code]
    for p, _code in _cover_column(typ, n_typ, all_typ, lambda p, c: res[p] < n_res and c in allowed[res[p]]):
        touched.add(p)
    return touched


def _cover_column(
    column: bytearray, n_known: int, n_all: int, prefer: Callable[[int, int], bool] | None
) -> list[tuple[int, int]]:
    """Assign each known code missing from ``column`` up to 3 evenly spaced positions.

    A position is taken only from a value with more than that many events (so no value present
    before goes missing), preferably one ``prefer`` accepts (looked for nearby only: cheap).
    """
    size = len(column)
    counts = [column.count(c) for c in range(n_all)]
    missing = [c for c in range(n_known) if not counts[c]]
    if not missing:
        return []
    per = max(1, min(3, size // (10 * n_all)))
    slots = len(missing) * per
    out = []
    for s in range(slots):
        code = missing[s % len(missing)]
        start = (2 * s + 1) * size // (2 * slots)
        passes = ((True, min(size, 4096)), (False, size)) if prefer else ((False, size),)
        found = None
        for preferred, steps in passes:
            for step in range(steps):
                p = (start + step) % size
                if counts[column[p]] > per and (not preferred or (prefer is not None and prefer(p, code))):
                    found = p
                    break
            if found is not None:
                break
        if found is None:
            break  # too few events to spare one: nothing more can be covered
        counts[column[found]] -= 1
        counts[code] += 1
        column[found] = code
        out.append((found, code))
    return out
