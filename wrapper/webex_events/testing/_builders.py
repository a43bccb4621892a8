"""How the fake builds an event's content: Webex-style ids and times, and the ``data`` of each resource.

An event's content is drawn from a 64-byte digest of its position (``Rand``), never from the order
events are served in. The ``data`` of each resource the fake knows is written here by name: what
Webex sends (``_evidence``), which is knowledge beyond the spec. A spec resource without a builder
gets the spec's examples (``build_from_schema``), a future one a minimal ``data``
(``build_unknown``).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import html
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from ._columns import FAST_COLUMNS, IN_DATA, SERVICE_KEY
from ._evidence import CALL_TYPES, FILE_NAMES, TEXTS, USER_TYPES

if TYPE_CHECKING:
    from ._org import Organization

__all__ = [
    "BUILDERS",
    "Builder",
    "Ctx",
    "Rand",
    "as_uuid",
    "build_from_schema",
    "build_unknown",
    "format_ms",
    "probe",
    "webex_id",
]


def webex_id(kind: str, uuid: str) -> str:
    """A Webex-style id: unpadded URL-safe base64 of ``ciscospark://us/<KIND>/<uuid>``."""
    return base64.urlsafe_b64encode(f"ciscospark://us/{kind}/{uuid}".encode()).rstrip(b"=").decode()


def format_ms(ms: int) -> str:
    """Epoch milliseconds to ``YYYY-MM-DDTHH:MM:SS.sssZ``."""
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def as_uuid(h: str) -> str:
    """32 hex digits as a v4-looking UUID."""
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


class Rand:
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
        return as_uuid(self._d[n * 16 : n * 16 + 16].hex())


class Ctx(NamedTuple):
    """What every ``data`` builder gets."""

    org: Organization
    pos: int
    rand: Rand
    etype: str
    actor: str
    name: str
    email: str
    created: str


Builder = Callable[[Ctx], dict[str, Any]]

# The ``data`` of each resource the fake knows, by name (``personId``, ``roomId``, ...): what Webex
# sends, which is knowledge beyond the spec (see ``_evidence``), so these keys are written here and
# not taken from ``EVENT_DATA_KEYS``. A spec field the builders lack is still emitted
# (``Organization._find_extras``), and the field of the spec's required-when rule is ``SERVICE_KEY``.


def _person(org: Organization, rand: Rand) -> tuple[str, str, str]:
    p: tuple[str, str, str] = rand.pick(org.people)
    return p


def _build_message(c: Ctx) -> dict[str, Any]:
    org, _pos, rand, etype, actor, _name, email, created = c
    room_id, room_type = rand.pick(org.rooms)
    data: dict[str, Any] = {"id": webex_id("MESSAGE", rand.uuid(1)), "roomId": room_id, "roomType": room_type}
    content = etype not in ("deleted", "read")  # a read receipt names the message, not its content
    if content:
        data["text"] = text = rand.pick(TEXTS)
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


def _card(rand: Rand) -> dict[str, Any]:
    """An adaptive card attachment, as the Messages API shows one."""
    return {
        "contentType": "application/vnd.microsoft.card.adaptive",
        "content": {
            "type": "AdaptiveCard",
            "version": "1.2",
            "body": [{"type": "TextBlock", "text": rand.pick(TEXTS), "wrap": True}],
            "actions": [{"type": "Action.Submit", "title": "OK ✅", "data": {"choice": "ok"}}],
        },
    }


def _build_membership(c: Ctx) -> dict[str, Any]:
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


def _yes_no(rand: Rand, p: float) -> str:
    return "yes" if rand.chance(p) else "no"


def _build_meeting(c: Ctx) -> dict[str, Any]:
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


def _build_meeting_message(c: Ctx) -> dict[str, Any]:
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
        data["text"] = rand.pick(TEXTS)
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


def _build_transcript(c: Ctx) -> dict[str, Any]:
    org, _pos, rand, _etype, actor, _name, _email, created = c
    meeting = rand.pick(org.meetings)
    return {
        "id": rand.uuid(1).replace("-", ""),
        "meetingId": f"{meeting}_I_183979003076423608",
        "creatorId": actor,
        "orgId": org.data_org_id,
        "created": created,
    }


def _build_call_record(c: Ctx) -> dict[str, Any]:
    org, pos, rand, _etype, actor, _name, _email, created = c
    answered = rand.chance(0.75)
    duration = (rand.byte() * 7 + rand.byte()) if answered else 0
    end = org.ms[pos]
    begin = end - duration * 1000 - 3000
    direction = "ORIGINATING" if rand.chance(0.5) else "TERMINATING"
    data: dict[str, Any] = {
        "id": webex_id("CALL_RECORD", rand.uuid(1)),
        "corelationId": rand.uuid(0),
        "callType": rand.pick(CALL_TYPES),
        "userId": actor,
        "userType": rand.pick(USER_TYPES),
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


def _build_recording(c: Ctx) -> dict[str, Any]:
    org, pos, rand, _etype, actor, _name, email, created = c
    data: dict[str, Any] = {"id": rand.uuid(1).replace("-", "")}
    if org.svc[pos]:  # the service type the columns gave it (a rule of the spec decides which)
        data[SERVICE_KEY] = org.service_types[org.svc[pos]]
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


def _build_file(c: Ctx) -> dict[str, Any]:
    org, _pos, rand, _etype, actor, _name, email, created = c
    room_id, room_type = rand.pick(org.rooms)
    content_id = webex_id("CONTENT", rand.uuid(1))
    return {
        "id": content_id,
        "roomId": room_id,
        "roomType": room_type,
        "fileName": rand.pick(FILE_NAMES),
        "fileContentUrl": f"https://webexapis.com/v1/contents/{content_id}",
        "personId": actor,
        "personEmail": email,
        "orgId": org.data_org_id,
        "created": created,
    }


def _build_transcoding(c: Ctx) -> dict[str, Any]:
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


def _build_tab(c: Ctx) -> dict[str, Any]:
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


def _build_room(c: Ctx) -> dict[str, Any]:
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


def _build_attachment_action(c: Ctx) -> dict[str, Any]:
    org, _pos, rand, _etype, actor, _name, _email, created = c
    room_id, room_type = rand.pick(org.rooms)
    return {
        "id": webex_id("ATTACHMENT_ACTION", rand.uuid(1)),
        "type": "submit",
        "messageId": webex_id("MESSAGE", rand.uuid(0)),
        "inputs": {"choice": rand.pick(("yes", "no", "peut-être")), "comment": rand.pick(TEXTS)},
        "personId": actor,
        "roomId": room_id,
        "roomType": room_type,
        "created": created,
    }


def _build_business_text(c: Ctx) -> dict[str, Any]:
    org, _pos, rand, _etype, actor, _name, email, created = c
    return {
        "id": rand.uuid(1),
        "direction": rand.pick(("inbound", "outbound")),
        "text": rand.pick(TEXTS),
        "fromNumber": f"+1408555{rand.byte():04d}",
        "toNumber": f"+1919555{rand.byte():04d}",
        "personId": actor,
        "personEmail": email,
        "orgId": org.data_org_id,
        "created": created,
    }


def build_unknown(c: Ctx) -> dict[str, Any]:
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


def build_from_schema(c: Ctx) -> dict[str, Any]:
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


BUILDERS: Final[dict[str, Builder]] = {
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


def probe(org: Organization) -> frozenset[str]:
    """The ``data`` keys the dedicated builders write, found by running them, plus the compact columns.

    Each builder runs over fixed contexts (every type, digests of all zero bits, all one bits and
    a few fixed pseudo-random ones, so each ``chance`` branch goes both ways) on ``org``'s events.
    The keys depend only on the builders, the types and ``documented_shapes``: kept per those.
    """
    key: tuple[str | bool, ...] = (*org.types, org.documented_shapes)
    found = _PROBED.get(key)
    if found is None:
        keys = {path[len(IN_DATA) :] for path in FAST_COLUMNS if path.startswith(IN_DATA)}
        digests = [bytes(64), bytes([255]) * 64]
        digests += [hashlib.blake2b(b"probe:%d" % n, digest_size=64).digest() for n in range(14)]
        for n, digest in enumerate(digests):
            pos = n % org.size
            actor, name, email = org.people[n % len(org.people)]
            created = format_ms(org.ms[pos])
            for etype in org.types:
                for build in BUILDERS.values():
                    keys.update(build(Ctx(org, pos, Rand(digest), etype, actor, name, email, created)))
        found = _PROBED[key] = frozenset(keys)
    return found
