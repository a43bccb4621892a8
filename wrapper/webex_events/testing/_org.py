"""The synthetic organization: compact columns for filtering, events built (and cached) on demand.

Only what filtering needs is materialized up front (one sorted ``created`` column plus small
per-event codes), so 1 000 000 events cost a few seconds and a few dozen MB. Everything else of an
event (ids, ``data``) is derived from ``blake2b(seed, position)`` when the event is first served,
so the content never depends on which events were served first.

What the spec states comes from its facts (``_facts``): the resource and type values, the
required-when rules (an event of a resource a rule names carries the field the rule asks for), and
every Event field (a field the fake's own model lacks is emitted from its example). What is left
here is realism for the names the fake knows: weights, type mixes, the ``data`` of each resource.

What Webex sends is not quite what it documents, and by default the fake sends what Webex sends
(``OBSERVED_DATA``, ``OBSERVED_TYPES``). The evidence is wxc_sdk 1.41
(``wxc_sdk/events/__init__.py``, MIT, by Johannes Krohn), whose ``EventData`` was fitted to real
List Events responses: its models can refuse unknown fields (``API_MODEL_ALLOW_EXTRA``) and its
CHANGELOG (1.17.0) adds event fields "based on unittest results". So each field it has that the
spec lacks was seen in a response, and its types are what the author found there: ``attendees`` a
list of strings (the spec leaves the items untyped), booleans for ``isCallAnswered`` (the spec: a
string), ``isModerator``, ``isLocked``..., an integer ``pageNumber``, a ``host`` of no fixed type,
the event type ``read`` (wxc_sdk also lists ``all``, which Webex uses as a webhook filter: not
sent). wxc_sdk has one flat ``EventData``; which resource carries which field is read off Webex's
resource APIs (Messages: markdown, html, files, mentionedPeople, attachments, updated;
Memberships: personOrgId, personDisplayName, isModerator, isMonitor, isRoomHidden; Rooms: title,
isLocked, isPublic, madePublic, isAnnouncementOnly) and is this fake's assumption for the file
fields (fileId, fileContentUrl, pageNumber), for the content of the attendee strings (person ids)
and for what a ``read`` event's data holds (a message's ids, no content).
``FakeWebex(documented_shapes=True)`` sends only what the spec documents instead: no ``data``
field the spec lacks (but those its filters select on), each value of the spec's JSON type
(``"true"``, not ``true``), attendees as objects, no ``read``.
"""

from __future__ import annotations

import base64
import bisect
import copy
import hashlib
import html
import json
import random
import re
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

from webex_events_api.spec import EVENT_FIELDS, EVENT_KEYS, LIST_EVENTS, Field, Operation

from ._facts import DEFAULT_FACTS, SpecFacts, get_path, sample, wire_text

__all__ = [
    "KNOWN_RESOURCES",
    "KNOWN_TYPES",
    "OBSERVED_DATA",
    "OBSERVED_TYPES",
    "Organization",
    "format_ms",
    "serialize",
    "webex_id",
]

# The fake's realism for the resources it knows, by name: relative weights (most traffic is
# messages). Which resources exist is the spec's business (the ``resource`` field's enum): a spec
# resource this table does not know gets _DEFAULT_RESOURCE_WEIGHT, a name the spec dropped is
# never drawn. The order is the draw order, kept so that a seed keeps its data.
_RESOURCE_WEIGHTS: Final[dict[str, int]] = {
    "messages": 35,
    "memberships": 10,
    "meetings": 6,
    "meetingMessages": 8,
    "meetingTranscripts": 3,
    "call_records": 10,
    "convergedRecordings": 4,
    "files": 7,
    "file_transcodings": 3,
    "tabs": 2,
    "rooms": 3,
    "attachmentActions": 4,
    "businessTexts": 5,
}
_DEFAULT_RESOURCE_WEIGHT: Final = 3
# Relative weights of the types of each resource the fake knows (meetings only ever end). A type
# outside the spec (and, unless documented_shapes, OBSERVED_TYPES) is ignored; a resource without
# an entry (or without such a type in it) gets every spec type uniformly.
_TYPE_WEIGHTS: Final[dict[str, dict[str, int]]] = {
    "messages": {"created": 80, "updated": 10, "deleted": 10, "read": 10},
    "memberships": {"created": 60, "updated": 20, "deleted": 20},
    "meetings": {"ended": 100},
    "meetingMessages": {"created": 90, "deleted": 10},
    "meetingTranscripts": {"created": 90, "deleted": 10},
    "call_records": {"created": 100},
    "convergedRecordings": {"created": 70, "updated": 20, "deleted": 10},
    "files": {"created": 100},
    "file_transcodings": {"created": 80, "updated": 20},
    "tabs": {"created": 50, "updated": 30, "deleted": 20},
    "rooms": {"created": 50, "updated": 50},
    "attachmentActions": {"created": 100},
    "businessTexts": {"created": 100},
}
#: What Webex sends in ``data`` beyond (or unlike) its spec, per resource: field -> the JSON type
#: sent (``string[]``: an array of strings). Source: wxc_sdk 1.41 (module docstring). The fake's
#: builders write these by default; a test holds them to this table.
OBSERVED_DATA: Final[dict[str, dict[str, str]]] = {
    "messages": {
        "markdown": "string",
        "html": "string",
        "files": "string[]",
        "mentionedPeople": "string[]",
        "attachments": "object[]",
        "updated": "string",
    },
    "memberships": {
        "personOrgId": "string",
        "personDisplayName": "string",
        "isModerator": "boolean",
        "isMonitor": "boolean",
        "isRoomHidden": "boolean",
    },
    "rooms": {
        "title": "string",
        "isLocked": "boolean",
        "isPublic": "boolean",
        "madePublic": "string",
        "isAnnouncementOnly": "boolean",
        "titleEncryptionKeyUrl": "string",
    },
    "meetings": {"attendees": "string[]"},
    "call_records": {"isCallAnswered": "boolean"},
    "files": {"fileContentUrl": "string"},
    "file_transcodings": {"fileId": "string", "fileContentUrl": "string", "pageNumber": "integer"},
    "tabs": {"contentUrl": "string"},
}
#: Event types Webex sends that its spec does not list, per resource (source: wxc_sdk 1.41).
OBSERVED_TYPES: Final[dict[str, tuple[str, ...]]] = {"messages": ("read",)}

# Values Webex may add tomorrow (used with ``unknown_fraction``; a client must pass them through
# untouched). Whatever the spec lists is known, not future: it is left out of these.
_FUTURE_RESOURCES: Final = ("whiteboards", "slidoPolls", "aiAssistantSummaries")
_FUTURE_TYPES: Final = ("archived", "moderated")
_FUTURE_SERVICE_TYPES: Final = ("customerAssist",)

# The top-level keys of an event are the spec's (its Event schema); a path into ``data`` starts
# with _IN_DATA. What ``data`` holds for each resource (the builders below) is this fake's
# knowledge of Webex beyond the spec, written here by name.
_ID, _RESOURCE, _TYPE, _CREATED, _DATA = (
    EVENT_KEYS.id,
    EVENT_KEYS.resource,
    EVENT_KEYS.type,
    EVENT_KEYS.created,
    EVENT_KEYS.data,
)
_APP_ID, _ACTOR_ID, _ORG_ID = EVENT_KEYS.app_id, EVENT_KEYS.actor_id, EVENT_KEYS.org_id
_IN_DATA: Final = _DATA + "."


def _rule_field(facts: SpecFacts) -> str | None:
    """The ``data`` field a ``required-when`` rule on the resource or type makes events carry.

    The spec's: ``data.serviceType`` (a converged recording carries its service type). The
    first such rule's, if several; None if none.
    """
    for rule in facts.requirements:
        name = rule.field[len(_IN_DATA) :]
        on_columns = rule.key in (EVENT_KEYS.resource, EVENT_KEYS.type)
        if on_columns and rule.field.startswith(_IN_DATA) and name and "." not in name:
            return rule.field
    return None


# The fake's own storage: compact per-event columns for the Event fields filtered most, by field
# path: the resource, type and actor, and the field of the spec's rule (``_rule_field``; the
# fake's "service types"). Filters on any other field use a slow column built from the events
# (see ``_column``).
_SERVICE_TYPE: Final = _rule_field(DEFAULT_FACTS)
_SERVICE_KEY: Final = "" if _SERVICE_TYPE is None else _SERVICE_TYPE[len(_IN_DATA) :]
_FAST_COLUMNS: Final[dict[str, str]] = {
    EVENT_KEYS.resource: "res",
    EVENT_KEYS.type: "typ",
    EVENT_KEYS.actor_id: "actor",
    **({} if _SERVICE_TYPE is None else {_SERVICE_TYPE: "svc"}),
}


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
    return facts.resources or tuple(_RESOURCE_WEIGHTS)


def _spec_types(facts: SpecFacts) -> tuple[str, ...]:
    observed = {t for types in OBSERVED_TYPES.values() for t in types}
    return facts.types or tuple(
        dict.fromkeys(t for table in _TYPE_WEIGHTS.values() for t in table if t not in observed)
    )


def _observed_types(resources: Sequence[str], spec_types: Sequence[str]) -> tuple[str, ...]:
    """The types Webex sends unlisted for these resources, in table order (none the spec lists)."""
    found = (t for r, types in OBSERVED_TYPES.items() if r in resources for t in types)
    return tuple(dict.fromkeys(t for t in found if t not in spec_types))


KNOWN_RESOURCES: Final = _spec_resources(DEFAULT_FACTS)
KNOWN_TYPES: Final = _spec_types(DEFAULT_FACTS)
_UNKNOWN_RESOURCES: Final = _future(_FUTURE_RESOURCES, KNOWN_RESOURCES, "futureResource")
_UNKNOWN_TYPES: Final = _future(_FUTURE_TYPES, KNOWN_TYPES, "futureType")


def _type_table(resource: str, types: Sequence[str]) -> tuple[list[float], list[int]]:
    """Cumulative probabilities and type codes of ``resource`` (draw: first cumulative > u)."""
    weights = _TYPE_WEIGHTS.get(resource, {})
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


_PEOPLE: Final = (
    ("Matt Jones", "matt@example.com"),
    ("José Álvarez", "jose.alvarez@example.com"),
    ("Zoë Müller", "zoe.mueller@example.com"),
    ("Priya Raman", "priya.raman@example.com"),
    ("李雷", "li.lei@example.com"),
    ("Søren Ødegaard", "soren@example.com"),
    ("Aisha Bello", "aisha.bello@example.com"),
    ("Chloé Dubois", "chloe.dubois@example.com"),
    ("Kenji Watanabe", "kenji@example.com"),
    ("Compliance Bot", "compliance-bot@example.com"),
)
# Skewed activity so that actorId filters give pages of very different sizes.
_ACTOR_WEIGHTS: Final = (30, 18, 12, 10, 8, 7, 6, 5, 3, 1)

_TEXTS: Final = (
    "PROJECT UPDATE - A new project plan has been published on Box: http://box.com/s/lf5vj?view=list&sort=desc",
    "Déjà vu: the Q3 numbers are in 📈",
    "Can we move the sync to 15:00? ☕",
    "Grüße aus München 🍺 — bis morgen",
    "naïve café résumé: 日本語のテキスト 👍🏽",
    "<b>bold</b> isn't rendered in plain text & that's fine",
    "Please review PR #4521 before EOD",
    "🚀🚀🚀 shipped!",
    "Zoë's slides: 'final_v2 (really).pptx'",
    'multi\nline\tmessage with "quotes" and a \\ backslash',
    "a=1&b=2 is not HTML <script>",
    "Привет! Как дела?",
    "ok",
)
_FILE_NAMES: Final = ("Q3 Résumé.pdf", "roadmap.pptx", "notes 📝.txt", "budget&forecast.xlsx", "diagram.png")
_CALL_TYPES: Final = (
    "SIP_ENTERPRISE",
    "SIP_NATIONAL",
    "SIP_MOBILE",
    "PSTN_DIALIN",
    "SIP_INTERNATIONAL",
    "SIP_URI",
)
_USER_TYPES: Final = ("User", "User", "User", "HuntGroup", "AutomatedAttendantBasic", "Place", "VirtualLine")

_DAY_MS: Final = 86_400_000
_HOUR_MS: Final = 3_600_000
_MASK48: Final = (1 << 48) - 1

# Gson-style HTML-safe escaping (what a Java server commonly emits). Those characters can only
# occur inside JSON strings, so a plain replace is safe; it makes the served bytes differ from any
# Python re-serialization (json.dumps or orjson), which catches clients that do not keep raw bytes.
_HTML_SAFE: Final = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("=", "\\u003d"))


def serialize(obj: Any) -> bytes:
    """Serialize like the fake server: UTF-8, compact, non-ASCII raw, ``<>&=`` escaped."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in _HTML_SAFE:
        if char in text:  # str.translate is ~10x slower than a scan plus a rare replace
            text = text.replace(char, escaped)
    return text.encode()


def webex_id(kind: str, uuid: str) -> str:
    """A Webex-style id: unpadded URL-safe base64 of ``ciscospark://us/<KIND>/<uuid>``."""
    return base64.urlsafe_b64encode(f"ciscospark://us/{kind}/{uuid}".encode()).rstrip(b"=").decode()


def format_ms(ms: int) -> str:
    """Epoch milliseconds to ``YYYY-MM-DDTHH:MM:SS.sssZ``."""
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _uuid(h: str) -> str:
    """32 hex digits as a v4-looking UUID."""
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


class _Rand:
    """Deterministic choices for one event, drawn from a 64-byte digest."""

    __slots__ = ("_d", "_i")

    def __init__(self, digest: bytes) -> None:
        self._d = digest
        self._i = 32  # bytes 0..31 are reserved for uuids

    def byte(self) -> int:
        b = self._d[self._i % 64]
        self._i += 1
        return b

    def pick(self, seq: Sequence[Any]) -> Any:
        return seq[self.byte() % len(seq)]

    def chance(self, p: float) -> bool:
        return self.byte() < p * 256

    def uuid(self, n: int) -> str:
        return _uuid(self._d[n * 16 : n * 16 + 16].hex())


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

        ids = [_uuid(rng.getrandbits(128).to_bytes(16, "big").hex()) for _ in range(len(_PEOPLE) + 40)]
        self.org_uuid = ids[0]
        self.org_id = base64.b64encode(self.org_uuid.encode()).rstrip(b"=").decode()
        self.data_org_id = webex_id("ORGANIZATION", self.org_uuid)
        self.people = [
            (webex_id("PEOPLE", ids[1 + i]), name, email) for i, (name, email) in enumerate(_PEOPLE)
        ]
        self.actor_ids: tuple[str, ...] = tuple(p[0] for p in self.people)
        self.app_id = webex_id("APPLICATION", ids[len(_PEOPLE) + 1])
        self.rooms = [
            (webex_id("ROOM", ids[len(_PEOPLE) + 2 + i]), "direct" if i % 3 == 0 else "group")
            for i in range(24)
        ]
        self.meetings = [rng.getrandbits(128).to_bytes(16, "big").hex() for _ in range(30)]

        # Value tables of the compact columns (a code is an index). Resources: the spec's, in the
        # weight table's order (the draw order), then future ones; types: the spec's, then those
        # Webex sends unlisted (unless documented_shapes), then future.
        spec_resources, spec_types = _spec_resources(facts), _spec_types(facts)
        drawn = [r for r in _RESOURCE_WEIGHTS if r in spec_resources]
        drawn += [r for r in spec_resources if r not in _RESOURCE_WEIGHTS]
        future_res = _future(_FUTURE_RESOURCES, spec_resources, "futureResource")
        self.resources: tuple[str, ...] = (*drawn, *future_res)
        observed = () if documented_shapes else _observed_types(drawn, spec_types)
        sent_types = (*spec_types, *observed)
        self.types: tuple[str, ...] = (*sent_types, *_future(_FUTURE_TYPES, sent_types, "futureType"))
        known_svc = () if _SERVICE_TYPE is None else facts.values_of(_SERVICE_TYPE)
        future_svc = _future(_FUTURE_SERVICE_TYPES, known_svc, "futureServiceType")
        self.service_types: tuple[str, ...] = ("", *known_svc, *future_svc)  # index 0: the event has none
        if max(len(self.resources), len(self.types), len(self.service_types)) > 256:
            raise ValueError("the fake keeps one byte per value: at most 256 resources, types, service types")
        n_res, n_typ, n_sent_typ = len(drawn), len(spec_types), len(sent_types)
        tables = [_type_table(r, sent_types) for r in drawn]
        # Which resources (and types) must carry a service type: the required-when rules.
        need = self._needs(_SERVICE_TYPE)

        self.ms = self._times(rng, events, same_millisecond_fraction, boundary_fraction)
        weights = [_RESOURCE_WEIGHTS.get(r, _DEFAULT_RESOURCE_WEIGHT) for r in drawn]
        res_codes = rng.choices(range(n_res), weights=weights, k=events)
        self.actor = bytes(rng.choices(range(len(_PEOPLE)), weights=_ACTOR_WEIGHTS, k=events))
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
        self._builders: list[_Builder] = [_BUILDERS.get(r, _build_from_schema) for r in drawn]
        self._builders += [_build_unknown] * n_future_res
        self.schema_data = tuple(
            (f.path[len(_IN_DATA) :], f.example)
            for f in facts.fields
            if f.path.startswith(_IN_DATA) and "." not in f.path[len(_IN_DATA) :] and f.example is not None
        )
        self._fast: dict[str, bytes] = {path: getattr(self, attr) for path, attr in _FAST_COLUMNS.items()}
        self._tables: dict[str, tuple[str, ...]] = {
            EVENT_KEYS.resource: self.resources,
            EVENT_KEYS.type: self.types,
            EVENT_KEYS.actor_id: self.actor_ids,
        }
        if _SERVICE_TYPE is not None:
            self._tables[_SERVICE_TYPE] = self.service_types
        # documented_shapes: the spec's JSON type of each data field it documents or filters on.
        self._documented: dict[str, str] | None = None
        if documented_shapes:
            kinds = {f.path[len(_IN_DATA) :]: f.type for f in facts.fields if f.path.startswith(_IN_DATA)}
            for param, path in self.facts.filters:
                if path.startswith(_IN_DATA):
                    kinds.setdefault(path[len(_IN_DATA) :], param.type)
            self._documented = {name: kind for name, kind in kinds.items() if "." not in name}
        self._extras = self._find_extras() if events else ()
        self._fills = self._find_fills()
        self._slow: dict[str, tuple[list[str | None], frozenset[str]]] = {}
        self._index_cache: dict[tuple[str, int | str], array[int]] = {}
        self._index_lock = threading.RLock()
        # One slot per event; bytes are filled in as events are first served (~1 kB each).
        self._json: list[bytes | None] | None = [None] * events if cache_json else None

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

        What the model writes is found by probing it (``_probe``), not listed, so a field the spec
        gains is emitted on about half of the events (``event_dict``) with no edit here.
        """
        event, _data = self._event(0, self._digest(0))
        produced_data = _probe(self)
        extras: list[tuple[str | None, str, object]] = []
        for f in self.facts.fields:
            if f.path in _FAST_COLUMNS:
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
            if rule.field in _FAST_COLUMNS:
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
        return webex_id("EVENT", _uuid(h))

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
            return serialize(self.event_dict(pos))
        cached = cache[pos]
        if cached is None:
            # Benign race: two threads may build the same bytes; both results are identical.
            cached = cache[pos] = serialize(self.event_dict(pos))
        return cached

    def _event(self, pos: int, d: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
        """The event at ``pos`` as the fake's own model makes it, and its ``data``."""
        rand = _Rand(d)
        code = self.res[pos]
        etype = self.types[self.typ[pos]]
        actor_id, actor_name, actor_email = self.people[self.actor[pos]]
        created = format_ms(self.ms[pos])
        data = self._builders[code](_Ctx(self, pos, rand, etype, actor_id, actor_name, actor_email, created))
        if self._documented is not None:
            data = self._as_documented(data)
        if self.svc[pos]:  # the column is the truth: a builder that has no such field gets it
            data.setdefault(_SERVICE_KEY, self.service_types[self.svc[pos]])
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

        Built once per field by building every event: O(events) event builds (~20 µs each), fine
        for a test-sized organization, some seconds per million events.
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
            if value not in table or (path == _SERVICE_TYPE and not value):  # code 0: no service type
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


class _Ctx(NamedTuple):
    """What every ``data`` builder gets."""

    org: Organization
    pos: int
    rand: _Rand
    etype: str
    actor: str
    name: str
    email: str
    created: str


_Builder = Callable[[_Ctx], dict[str, Any]]

# The ``data`` of each resource the fake knows, by name (``personId``, ``roomId``, ...): what Webex
# sends, which is knowledge beyond the spec (see the module docstring), so these keys are written
# here and not taken from ``EVENT_DATA_KEYS``. A spec field the builders lack is still emitted
# (``_find_extras``), and the field of the spec's required-when rule is ``_SERVICE_KEY``.


def _person(org: Organization, rand: _Rand) -> tuple[str, str, str]:
    p: tuple[str, str, str] = rand.pick(org.people)
    return p


def _build_message(c: _Ctx) -> dict[str, Any]:
    org, _pos, rand, etype, actor, _name, email, created = c
    room_id, room_type = rand.pick(org.rooms)
    data: dict[str, Any] = {"id": webex_id("MESSAGE", rand.uuid(1)), "roomId": room_id, "roomType": room_type}
    content = etype not in ("deleted", "read")  # a read receipt names the message, not its content
    if content:
        data["text"] = text = rand.pick(_TEXTS)
    data.update({"personId": actor, "personEmail": email, "orgId": org.data_org_id, "created": created})
    if rand.chance(0.1):
        data["meetingId"] = rand.pick(org.meetings) + "_I_183979003076423608"
    # Observed beyond the spec (OBSERVED_DATA): what the Messages API returns for a message.
    if content and rand.chance(0.3):
        data["markdown"] = f"**{text}**"
        data["html"] = f"<p><strong>{html.escape(text, quote=False)}</strong></p>"
    if content and rand.chance(0.15):
        data["files"] = [f"https://webexapis.com/v1/contents/{webex_id('CONTENT', rand.uuid(0))}"]
    if content and room_type == "group" and rand.chance(0.2):
        data["mentionedPeople"] = [_person(org, rand)[0]]
    if content and rand.chance(0.05):
        data["attachments"] = [_card(rand)]
    if etype == "updated":
        data["updated"] = created
    return data


def _card(rand: _Rand) -> dict[str, Any]:
    """An adaptive card attachment, as the Messages API shows one."""
    return {
        "contentType": "application/vnd.microsoft.card.adaptive",
        "content": {
            "type": "AdaptiveCard",
            "version": "1.2",
            "body": [{"type": "TextBlock", "text": rand.pick(_TEXTS), "wrap": True}],
            "actions": [{"type": "Action.Submit", "title": "OK ✅", "data": {"choice": "ok"}}],
        },
    }


def _build_membership(c: _Ctx) -> dict[str, Any]:
    org, _pos, rand, _etype, _actor, _name, _email, created = c
    room_id, room_type = rand.pick(org.rooms)
    member_id, member_name, member_email = _person(org, rand)
    return {
        "id": webex_id("MEMBERSHIP", rand.uuid(1)),
        "roomId": room_id,
        "roomType": room_type,
        "personId": member_id,
        "personEmail": member_email,
        "personDisplayName": member_name,
        "personOrgId": org.data_org_id,
        "isModerator": rand.chance(0.1),
        "isMonitor": False,
        "isRoomHidden": rand.chance(0.05),
        "created": created,
    }


def _yes_no(rand: _Rand, p: float) -> str:
    return "yes" if rand.chance(p) else "no"


def _build_meeting(c: _Ctx) -> dict[str, Any]:
    org, pos, rand, _etype, actor, name, email, _created = c
    meeting = rand.pick(org.meetings)
    attendees: list[Any] = []
    for _ in range(1 + rand.byte() % 5):
        pid, pname, pemail = _person(org, rand)
        # Webex sends strings (OBSERVED_DATA); documented_shapes keeps the objects the fake sent
        # before (the spec leaves the items untyped, and an object is the documented host's shape).
        attendees.append({"id": pid, "displayName": pname, "email": pemail} if org.documented_shapes else pid)
    return {
        "id": f"{meeting}_I_{183979003076423608 + pos}",
        "meetingId": meeting,
        "creatorId": actor,
        "orgId": org.data_org_id,
        "host": {"id": actor, "displayName": name, "email": email},
        "attendees": attendees,
        "transcriptionEnabled": _yes_no(rand, 0.3),
        "recordingEnabled": _yes_no(rand, 0.4),
        "hasPostMeetingsChat": _yes_no(rand, 0.2),
        "created": format_ms(org.ms[pos] - 60_000 * (5 + rand.byte() % 55)),
    }


def _build_meeting_message(c: _Ctx) -> dict[str, Any]:
    org, _pos, rand, etype, actor, _name, email, created = c
    data: dict[str, Any] = {
        "id": webex_id("MESSAGE", rand.uuid(1)),
        "meetingId": rand.pick(org.meetings) + "_I_183979003076423608",
        "personId": actor,
        "personEmail": email,
        "orgId": org.data_org_id,
        "created": created,
    }
    if etype != "deleted":
        data["text"] = rand.pick(_TEXTS)
    if rand.chance(0.3):
        data["breakoutSessionId"] = rand.uuid(0)
    if rand.chance(0.4):
        pid, _, pemail = _person(org, rand)
        recipients: list[dict[str, str]] = [{"personId": pid, "personEmail": pemail}]
        if rand.chance(0.3):
            recipients.append({"guestDisplayName": "John Wayne", "guestEmail": "jwayne@mailinator.com"})
        data["type"] = "direct"
        data["recipients"] = recipients
    else:
        data["type"] = "group"
    return data


def _build_transcript(c: _Ctx) -> dict[str, Any]:
    org, _pos, rand, _etype, actor, _name, _email, created = c
    meeting = rand.pick(org.meetings)
    return {
        "id": rand.uuid(1).replace("-", ""),
        "meetingId": f"{meeting}_I_183979003076423608",
        "creatorId": actor,
        "orgId": org.data_org_id,
        "created": created,
    }


def _build_call_record(c: _Ctx) -> dict[str, Any]:
    org, pos, rand, _etype, actor, _name, _email, created = c
    answered = rand.chance(0.75)
    duration = (rand.byte() * 7 + rand.byte()) if answered else 0
    end = org.ms[pos]
    begin = end - duration * 1000 - 3000
    direction = "ORIGINATING" if rand.chance(0.5) else "TERMINATING"
    data: dict[str, Any] = {
        "id": webex_id("CALL_RECORD", rand.uuid(1)),
        "corelationId": rand.uuid(0),
        "callType": rand.pick(_CALL_TYPES),
        "userId": actor,
        "userType": rand.pick(_USER_TYPES),
        "callDirection": direction,
        "isCallAnswered": answered,  # a boolean, as observed ("true"/"false" with documented_shapes)
        "callDurationSeconds": str(duration),
        "callStartTime": format_ms(begin),
    }
    if answered:
        data["callAnswerTime"] = format_ms(begin + 3000)
        if rand.chance(0.1):
            data["callTransferTime"] = format_ms(begin + 3000 + duration * 500)
    data.update(
        {
            "callingNumber": f"9104{rand.byte():03d}{rand.byte():03d}",
            "callingLineId": str(200 + rand.byte() % 50),
            "calledNumber": f"408{rand.byte():03d}{rand.byte():04d}",
            "calledLineId": str(200 + rand.byte() % 50),
            "dialedDigits": str(rand.byte()),
            "callRedirectingNumber": "",
            "callRedirectedReason": "",
            "orgId": org.data_org_id,
            "created": created,
        }
    )
    return data


def _build_recording(c: _Ctx) -> dict[str, Any]:
    org, pos, rand, _etype, actor, _name, email, created = c
    data: dict[str, Any] = {"id": rand.uuid(1).replace("-", "")}
    if org.svc[pos]:  # the service type the columns gave it (a rule of the spec decides which)
        data[_SERVICE_KEY] = org.service_types[org.svc[pos]]
    data |= {
        "topic": f"Call with +1 408 555 {rand.byte():04d}",
        "ownerId": actor,
        "ownerEmail": email,
        "ownerType": "user",
        "durationSeconds": str(rand.byte() * 3),
        "storageRegion": "US",
        "callSessionId": rand.uuid(0),
        "orgId": org.data_org_id,
        "created": created,
    }
    return data


def _build_file(c: _Ctx) -> dict[str, Any]:
    org, _pos, rand, _etype, actor, _name, email, created = c
    room_id, room_type = rand.pick(org.rooms)
    content_id = webex_id("CONTENT", rand.uuid(1))
    return {
        "id": content_id,
        "roomId": room_id,
        "roomType": room_type,
        "fileName": rand.pick(_FILE_NAMES),
        "fileContentUrl": f"https://webexapis.com/v1/contents/{content_id}",
        "personId": actor,
        "personEmail": email,
        "orgId": org.data_org_id,
        "created": created,
    }


def _build_transcoding(c: _Ctx) -> dict[str, Any]:
    org, _pos, rand, _etype, actor, _name, _email, created = c
    room_id, room_type = rand.pick(org.rooms)
    file_id = webex_id("CONTENT", rand.uuid(0))
    return {
        "id": webex_id("CONTENT", rand.uuid(1)),
        "roomId": room_id,
        "roomType": room_type,
        "fileId": file_id,
        "fileContentUrl": f"https://webexapis.com/v1/contents/{file_id}",
        "pageNumber": 1 + rand.byte() % 12,
        "personId": actor,
        "orgId": org.data_org_id,
        "created": created,
    }


def _build_tab(c: _Ctx) -> dict[str, Any]:
    org, _pos, rand, _etype, actor, _name, _email, created = c
    room_id, room_type = rand.pick(org.rooms)
    return {
        "id": webex_id("ROOM_TAB", rand.uuid(1)),
        "roomId": room_id,
        "roomType": room_type,
        "displayName": rand.pick(("Wiki", "Dashboard", "Planning Board ✅")),
        "contentUrl": "https://www.example.com/board?id=42&view=full",
        "creatorId": actor,
        "created": created,
    }


def _build_room(c: _Ctx) -> dict[str, Any]:
    org, _pos, rand, _etype, actor, _name, _email, created = c
    room_id, room_type = rand.pick(org.rooms)
    public = rand.chance(0.1)
    data: dict[str, Any] = {
        "id": room_id,
        "title": rand.pick(("Project Phoenix 🔥", "Équipe Support", "Legal hold", "Random")),
        "titleEncryptionKeyUrl": f"kms://kms-us.wbx2.com/keys/{rand.uuid(0)}",
        "type": room_type,
        "isLocked": rand.chance(0.2),
        "isPublic": public,
        "isAnnouncementOnly": rand.chance(0.1),
        "classificationId": webex_id("CLASSIFICATION", rand.uuid(0)),
        "creatorId": actor,
        "orgId": org.data_org_id,
        "created": created,
    }
    if public:
        data["madePublic"] = created
    return data


def _build_attachment_action(c: _Ctx) -> dict[str, Any]:
    org, _pos, rand, _etype, actor, _name, _email, created = c
    room_id, room_type = rand.pick(org.rooms)
    return {
        "id": webex_id("ATTACHMENT_ACTION", rand.uuid(1)),
        "type": "submit",
        "messageId": webex_id("MESSAGE", rand.uuid(0)),
        "inputs": {"choice": rand.pick(("yes", "no", "peut-être")), "comment": rand.pick(_TEXTS)},
        "personId": actor,
        "roomId": room_id,
        "roomType": room_type,
        "created": created,
    }


def _build_business_text(c: _Ctx) -> dict[str, Any]:
    org, _pos, rand, _etype, actor, _name, email, created = c
    return {
        "id": rand.uuid(1),
        "direction": rand.pick(("inbound", "outbound")),
        "text": rand.pick(_TEXTS),
        "fromNumber": f"+1408555{rand.byte():04d}",
        "toNumber": f"+1919555{rand.byte():04d}",
        "personId": actor,
        "personEmail": email,
        "orgId": org.data_org_id,
        "created": created,
    }


def _build_unknown(c: _Ctx) -> dict[str, Any]:
    org, _pos, rand, _etype, actor, _name, _email, created = c
    return {
        "id": webex_id("WHITEBOARD", rand.uuid(1)),
        "personId": actor,
        "orgId": org.data_org_id,
        "created": created,
    }


def _kind(resource: str) -> str:
    """The kind in a Webex id for a resource name: ``whiteboards`` -> ``WHITEBOARDS``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", resource).upper()


def _build_from_schema(c: _Ctx) -> dict[str, Any]:
    """``data`` of a spec resource without a dedicated builder: the spec's examples of ``data``.

    Every ``data`` field with an example carries it; the identity fields are this event's own
    (a generated id of the resource's kind, this organization, the event's time).
    """
    org, pos, rand, _etype, _actor, _name, _email, created = c
    own: dict[str, object] = {
        "id": webex_id(_kind(org.resource(pos)), rand.uuid(1)),
        "orgId": org.data_org_id,
        "created": created,
    }
    data: dict[str, Any] = {"id": own["id"]}
    for name, example in org.schema_data:
        data[name] = own[name] if name in own else copy.deepcopy(example)
    data["created"] = created
    return data


_BUILDERS: Final[dict[str, _Builder]] = {
    "messages": _build_message,
    "memberships": _build_membership,
    "meetings": _build_meeting,
    "meetingMessages": _build_meeting_message,
    "meetingTranscripts": _build_transcript,
    "call_records": _build_call_record,
    "convergedRecordings": _build_recording,
    "files": _build_file,
    "file_transcodings": _build_transcoding,
    "tabs": _build_tab,
    "rooms": _build_room,
    "attachmentActions": _build_attachment_action,
    "businessTexts": _build_business_text,
}

_PROBED: dict[tuple[str | bool, ...], frozenset[str]] = {}


def _probe(org: Organization) -> frozenset[str]:
    """The ``data`` keys the dedicated builders write, found by running them, plus the compact columns.

    Each builder runs over fixed contexts (every type, digests of all zero bits, all one bits and
    a few fixed pseudo-random ones, so each ``chance`` branch goes both ways) on ``org``'s events.
    The keys depend only on the builders, the types and ``documented_shapes``: kept per those.
    """
    key: tuple[str | bool, ...] = (*org.types, org.documented_shapes)
    found = _PROBED.get(key)
    if found is None:
        keys = {path[len(_IN_DATA) :] for path in _FAST_COLUMNS if path.startswith(_IN_DATA)}
        digests = [bytes(64), bytes([255]) * 64]
        digests += [hashlib.blake2b(b"probe:%d" % n, digest_size=64).digest() for n in range(14)]
        for n, digest in enumerate(digests):
            pos = n % org.size
            actor, name, email = org.people[n % len(org.people)]
            created = format_ms(org.ms[pos])
            for etype in org.types:
                for build in _BUILDERS.values():
                    keys.update(build(_Ctx(org, pos, _Rand(digest), etype, actor, name, email, created)))
        found = _PROBED[key] = frozenset(keys)
    return found
