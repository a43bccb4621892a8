"""The synthetic organization: compact columns for filtering, events built (and cached) on demand.

Only what filtering needs is materialized up front (one sorted ``created`` column plus small
per-event codes), so 1 000 000 events cost a few seconds and a few dozen MB. Everything else of an
event (ids, ``data``) is derived from ``blake2b(seed, position)`` when the event is first served,
so the content never depends on which events were served first.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
import random
import threading
from array import array
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

__all__ = [
    "KNOWN_RESOURCES",
    "KNOWN_TYPES",
    "Organization",
    "format_ms",
    "serialize",
    "webex_id",
]

KNOWN_RESOURCES: Final = (
    "messages",
    "memberships",
    "meetings",
    "meetingMessages",
    "meetingTranscripts",
    "call_records",
    "convergedRecordings",
    "files",
    "file_transcodings",
    "tabs",
    "rooms",
    "attachmentActions",
    "businessTexts",
)
_RESOURCE_WEIGHTS: Final = (35, 10, 6, 8, 3, 10, 4, 7, 3, 2, 3, 4, 5)
# Values Webex may add tomorrow; a client must pass them through untouched.
_UNKNOWN_RESOURCES: Final = ("whiteboards", "slidoPolls", "aiAssistantSummaries")
KNOWN_TYPES: Final = ("created", "updated", "deleted", "ended")
_UNKNOWN_TYPES: Final = ("archived", "moderated")
_ALL_RESOURCES: Final = KNOWN_RESOURCES + _UNKNOWN_RESOURCES
_ALL_TYPES: Final = KNOWN_TYPES + _UNKNOWN_TYPES
_SERVICE_TYPES: Final = ("", "calling", "customerAssist")  # index 0: the event has none

# Cumulative probabilities of (created, updated, deleted, ended) per known resource.
_TYPE_TABLE: Final[dict[str, tuple[float, float, float, float]]] = {
    "messages": (0.8, 0.9, 1.0, 1.0),
    "memberships": (0.6, 0.8, 1.0, 1.0),
    "meetings": (0.0, 0.0, 0.0, 1.0),
    "meetingMessages": (0.9, 0.9, 1.0, 1.0),
    "meetingTranscripts": (0.9, 0.9, 1.0, 1.0),
    "call_records": (1.0, 1.0, 1.0, 1.0),
    "convergedRecordings": (0.7, 0.9, 1.0, 1.0),
    "files": (1.0, 1.0, 1.0, 1.0),
    "file_transcodings": (0.8, 1.0, 1.0, 1.0),
    "tabs": (0.5, 0.8, 1.0, 1.0),
    "rooms": (0.5, 1.0, 1.0, 1.0),
    "attachmentActions": (1.0, 1.0, 1.0, 1.0),
    "businessTexts": (1.0, 1.0, 1.0, 1.0),
}

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
    ) -> None:
        if events < 0:
            raise ValueError(f"events must be >= 0, got {events}")
        if end_ms <= start_ms:
            raise ValueError("end must be after start")
        self.size = events
        self.seed = seed
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

        self.ms = self._times(rng, events, same_millisecond_fraction, boundary_fraction)
        res_codes = rng.choices(range(len(KNOWN_RESOURCES)), weights=_RESOURCE_WEIGHTS, k=events)
        self.actor = bytes(rng.choices(range(len(_PEOPLE)), weights=_ACTOR_WEIGHTS, k=events))
        res = bytearray(events)
        typ = bytearray(events)
        svc = bytearray(events)
        self.unknown = bytearray(events)
        rnd = rng.random
        n_known_res = len(KNOWN_RESOURCES)
        conv = KNOWN_RESOURCES.index("convergedRecordings")
        tables = [_TYPE_TABLE[r] for r in KNOWN_RESOURCES]
        for i in range(events):
            r = res_codes[i]
            u = rnd()
            table = tables[r]
            t = 0 if u < table[0] else 1 if u < table[1] else 2 if u < table[2] else 3
            if unknown_fraction and rnd() < unknown_fraction:
                self.unknown[i] = 1
                if r == conv:
                    svc[i] = 2  # an unknown service type
                elif rnd() < 0.5:
                    r = n_known_res + int(rnd() * len(_UNKNOWN_RESOURCES))
                else:
                    t = len(KNOWN_TYPES) + int(rnd() * len(_UNKNOWN_TYPES))
            if r == conv and not svc[i]:
                svc[i] = 1
            res[i] = r
            typ[i] = t
        self.res = bytes(res)
        self.typ = bytes(typ)
        self.svc = bytes(svc)
        self._index_cache: dict[tuple[str, int], array[int]] = {}
        self._index_lock = threading.Lock()
        # One slot per event; bytes are filled in as events are first served (~1 kB each).
        self._json: list[bytes | None] | None = [None] * events if cache_json else None

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
        return _ALL_RESOURCES[self.res[pos]]

    def type(self, pos: int) -> str:
        return _ALL_TYPES[self.typ[pos]]

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

    def event_dict(self, pos: int) -> dict[str, Any]:
        d = self._digest(pos)
        rand = _Rand(d)
        resource, etype = self.resource(pos), self.type(pos)
        actor_id, actor_name, actor_email = self.people[self.actor[pos]]
        created = format_ms(self.ms[pos])
        builder = _BUILDERS.get(resource, _build_unknown)
        data = builder(_Ctx(self, pos, rand, etype, actor_id, actor_name, actor_email, created))
        event: dict[str, Any] = {
            "id": self.event_id(pos, d),
            "resource": resource,
            "type": etype,
            "appId": self.app_id if rand.chance(0.1) else "null",
            "actorId": actor_id,
            "orgId": self.org_id,
            "created": created,
            "data": data,
        }
        if self.unknown[pos]:
            event["region"] = "us-east-2"
            event["schemaVersion"] = 3
            data["futureField"] = {"nested": [1, 2.5, None, True], "label": "ünknown ✨"}
        return event

    # ---- selection --------------------------------------------------------------------------------

    def _index(self, column: str, code: int) -> array[int]:
        """Ascending positions whose ``column`` equals ``code`` (built once per value)."""
        key = (column, code)
        found = self._index_cache.get(key)
        if found is None:
            with self._index_lock:
                found = self._index_cache.get(key)
                if found is None:
                    col: bytes = getattr(self, column)
                    found = array("l", (i for i, c in enumerate(col) if c == code))
                    self._index_cache[key] = found
        return found

    def code(self, column: str, value: str) -> int | None:
        """The code of ``value`` in ``column`` (None: no event can match)."""
        table: Sequence[str]
        if column == "res":
            table = _ALL_RESOURCES
        elif column == "typ":
            table = _ALL_TYPES
        elif column == "actor":
            table = self.actor_ids
        else:
            table = _SERVICE_TYPES[1:]
            return table.index(value) + 1 if value in table else None
        return table.index(value) if value in table else None

    def bounds(self, lo_ms: int, hi_ms: int) -> tuple[int, int]:
        """Positions ``[lo, hi)`` of events with ``lo_ms <= created <= hi_ms``."""
        return bisect.bisect_left(self.ms, lo_ms), bisect.bisect_right(self.ms, hi_ms)

    def select(
        self,
        filters: dict[str, int],
        lo: int,
        hi: int,
        *,
        limit: int | None = None,
    ) -> Iterator[int]:
        """Positions in ``[lo, hi)`` matching all ``filters`` (column -> code), descending."""
        if lo >= hi:
            return
        checks: list[tuple[bytes, int]] = [(getattr(self, col), c) for col, c in filters.items()]
        count = 0
        if checks:
            # Walk the smallest per-value index and check the other columns on each hit.
            col, c = min(filters.items(), key=lambda kv: len(self._index(*kv)))
            idx = self._index(col, c)
            checks = [(getattr(self, k), v) for k, v in filters.items() if k != col]
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


def _person(org: Organization, rand: _Rand) -> tuple[str, str, str]:
    p: tuple[str, str, str] = rand.pick(org.people)
    return p


def _build_message(c: _Ctx) -> dict[str, Any]:
    org, _pos, rand, etype, actor, _name, email, created = c
    room_id, room_type = rand.pick(org.rooms)
    data: dict[str, Any] = {"id": webex_id("MESSAGE", rand.uuid(1)), "roomId": room_id, "roomType": room_type}
    if etype != "deleted":
        data["text"] = rand.pick(_TEXTS)
    data.update({"personId": actor, "personEmail": email, "orgId": org.data_org_id, "created": created})
    if rand.chance(0.1):
        data["meetingId"] = rand.pick(org.meetings) + "_I_183979003076423608"
    return data


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
        "created": created,
    }


def _yes_no(rand: _Rand, p: float) -> str:
    return "yes" if rand.chance(p) else "no"


def _build_meeting(c: _Ctx) -> dict[str, Any]:
    org, pos, rand, _etype, actor, name, email, _created = c
    meeting = rand.pick(org.meetings)
    attendees = []
    for _ in range(1 + rand.byte() % 5):
        pid, pname, pemail = _person(org, rand)
        attendees.append({"id": pid, "displayName": pname, "email": pemail})
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
        "isCallAnswered": "true" if answered else "false",
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
    return {
        "id": rand.uuid(1).replace("-", ""),
        "serviceType": _SERVICE_TYPES[org.svc[pos]],
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


def _build_file(c: _Ctx) -> dict[str, Any]:
    org, _pos, rand, _etype, actor, _name, email, created = c
    room_id, room_type = rand.pick(org.rooms)
    return {
        "id": webex_id("CONTENT", rand.uuid(1)),
        "roomId": room_id,
        "roomType": room_type,
        "fileName": rand.pick(_FILE_NAMES),
        "personId": actor,
        "personEmail": email,
        "orgId": org.data_org_id,
        "created": created,
    }


def _build_transcoding(c: _Ctx) -> dict[str, Any]:
    org, _pos, rand, _etype, actor, _name, _email, created = c
    room_id, room_type = rand.pick(org.rooms)
    return {
        "id": webex_id("CONTENT", rand.uuid(1)),
        "roomId": room_id,
        "roomType": room_type,
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
    return {
        "id": room_id,
        "title": rand.pick(("Project Phoenix 🔥", "Équipe Support", "Legal hold", "Random")),
        "type": room_type,
        "isLocked": rand.chance(0.2),
        "classificationId": webex_id("CLASSIFICATION", rand.uuid(0)),
        "creatorId": actor,
        "orgId": org.data_org_id,
        "created": created,
    }


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
