"""What the fake draws its realism from: how Webex's events differ from its spec, and sample values.

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

The rest is realism for the names the fake knows, none of it stated by the spec: weights and type
mixes per resource, people, texts and other sample values. Tables only; ``_org`` draws from them
and ``_builders`` writes them into ``data``.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ACTOR_WEIGHTS",
    "CALL_TYPES",
    "DEFAULT_RESOURCE_WEIGHT",
    "FILE_NAMES",
    "FUTURE_RESOURCES",
    "FUTURE_SERVICE_TYPES",
    "FUTURE_TYPES",
    "OBSERVED_DATA",
    "OBSERVED_TYPES",
    "PEOPLE",
    "RESOURCE_WEIGHTS",
    "TEXTS",
    "TYPE_WEIGHTS",
    "USER_TYPES",
]

# The fake's realism for the resources it knows, by name: relative weights (most traffic is
# messages). Which resources exist is the spec's business (the ``resource`` field's enum): a spec
# resource this table does not know gets DEFAULT_RESOURCE_WEIGHT, a name the spec dropped is
# never drawn. The order is the draw order, kept so that a seed keeps its data.
RESOURCE_WEIGHTS: Final[dict[str, int]] = {
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
DEFAULT_RESOURCE_WEIGHT: Final = 3
# Relative weights of the types of each resource the fake knows (meetings only ever end). A type
# outside the spec (and, unless documented_shapes, OBSERVED_TYPES) is ignored; a resource without
# an entry (or without such a type in it) gets every spec type uniformly.
TYPE_WEIGHTS: Final[dict[str, dict[str, int]]] = {
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
FUTURE_RESOURCES: Final = ("whiteboards", "slidoPolls", "aiAssistantSummaries")
FUTURE_TYPES: Final = ("archived", "moderated")
FUTURE_SERVICE_TYPES: Final = ("customerAssist",)

# The organization's people (name, email): the actors of its events.
PEOPLE: Final = (
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
ACTOR_WEIGHTS: Final = (30, 18, 12, 10, 8, 7, 6, 5, 3, 1)

# Sample values the builders write into ``data``: non-ASCII, emoji, HTML-like and escaped text on
# purpose, so a client that mangles any of it shows.
TEXTS: Final = (
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
FILE_NAMES: Final = ("Q3 Résumé.pdf", "roadmap.pptx", "notes 📝.txt", "budget&forecast.xlsx", "diagram.png")
CALL_TYPES: Final = (
    "SIP_ENTERPRISE",
    "SIP_NATIONAL",
    "SIP_MOBILE",
    "PSTN_DIALIN",
    "SIP_INTERNATIONAL",
    "SIP_URI",
)
USER_TYPES: Final = ("User", "User", "User", "HuntGroup", "AutomatedAttendantBasic", "Place", "VirtualLine")
