"""``Event`` and ``AuditEvent``: typed views over one decoded event of a listing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Self

from webex_events_api.models import AuditEvent as AuditEventModel
from webex_events_api.models import (
    AuditEventData,
    EventData,
    EventResourceEnum,
    EventTypeEnum,
    SecurityAuditEventData,
)
from webex_events_api.models import Event as EventModel
from webex_events_api.models import SecurityAuditEvent as SecurityAuditEventModel
from webex_events_api.spec import AUDIT_EVENT_KEYS, EVENT_KEYS, SECURITY_AUDIT_EVENT_KEYS

from ._dates import parse_created
from ._wire import Page, decode_object

__all__ = ["AuditEvent", "BaseEvent", "Event", "SecurityAuditEvent"]

_RESOURCES: dict[str, EventResourceEnum] = {m.value: m for m in EventResourceEnum}
_TYPES: dict[str, EventTypeEnum] = {m.value: m for m in EventTypeEnum}
# The JSON key of each field an accessor reads, from the spec. A key the spec renames is followed
# as long as its Python name stays (``actorId`` -> ``actorID``); a field whose Python name changes
# fails here, at import (and in mypy): the accessor is public API, renaming it is a decision.
_ID, _CREATED = EVENT_KEYS.id, EVENT_KEYS.created
_RESOURCE, _TYPE = EVENT_KEYS.resource, EVENT_KEYS.type
_ACTOR_ID, _ORG_ID, _APP_ID = EVENT_KEYS.actor_id, EVENT_KEYS.org_id, EVENT_KEYS.app_id


class BaseEvent:
    """What every event view has: the decoded dict (``.raw``), its exact JSON text, ``id``,
    ``created``. Subclasses bind the keys and the generated model of their schema."""

    __slots__ = ("_index", "_model", "_page", "_raw", "_raw_json")
    _id_key: ClassVar[str] = _ID
    _created_key: ClassVar[str] = _CREATED

    def __init__(self, *, raw_json: str, raw: Mapping[str, Any] | None = None) -> None:
        decoded, text = decode_object(raw_json) if raw is None else (dict(raw), raw_json)
        self._raw = decoded
        self._raw_json: str | None = text
        self._page: Page | None = None
        self._index = 0
        self._model: Any = None

    @classmethod
    def _of_page(cls, page: Page, index: int) -> Self:
        # No validation, no copy: the dict was just decoded for this event.
        self = object.__new__(cls)
        self._raw, self._raw_json, self._page, self._index, self._model = (
            page.items[index],
            None,
            page,
            index,
            None,
        )
        return self

    @property
    def raw(self) -> dict[str, Any]:
        """The event as decoded from JSON (treat as read-only)."""
        return self._raw

    @property
    def raw_json(self) -> str:
        """The exact JSON text of this event as the server sent it."""
        if self._raw_json is None:
            assert self._page is not None
            self._raw_json = self._page.text(self._index)
            self._page = None
        return self._raw_json

    def _str(self, key: str, default: str = "") -> str:
        value = self._raw.get(key, default)
        return value if type(value) is str else str(value)

    @property
    def id(self) -> str:
        """The event ID."""
        return self._str(self._id_key)

    @property
    def created_raw(self) -> str:
        """``created`` exactly as sent."""
        return self._str(self._created_key)

    @property
    def created(self) -> datetime:
        """``created`` as an aware UTC datetime (ValueError if Webex sent something unparsable)."""
        parsed = parse_created(self.created_raw)
        if parsed is None:
            raise ValueError(f"event {self.id!r} has an unparsable created value {self.created_raw!r}")
        return parsed

    def _built(self, model_type: Any) -> Any:
        if self._model is None:
            try:
                self._model = model_type.from_dict(self._raw)
            except KeyError as missing:  # the generated from_dict pops each required field
                raise ValueError(
                    f"event {self.id!r} lacks {missing.args[0]!r}, a field the spec requires"
                ) from None
        return self._model

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BaseEvent):
            return NotImplemented
        return self.raw_json == other.raw_json

    def __hash__(self) -> int:
        return hash(self.raw_json)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, created={self.created_raw!r})"


class Event(BaseEvent):
    """One Webex event: the decoded dict (``.raw``), its exact JSON text and typed accessors.

    The generated attrs model (``.model``, ``.data``) and the exact ``.raw_json`` are made on
    first access (until then an event listed from a page keeps a reference to that page).
    Unknown ``resource``/``type`` values stay plain strings and unknown fields stay in ``.raw``
    (and ``.model.additional_properties``). JSON keys come from the spec (``EVENT_KEYS``).

    Typed access never fails on what Webex sends: a value whose JSON type differs from the
    spec's is kept as it came (each generated field is typed ``<spec type> | Any``). The one
    failure is ``ValueError`` from ``.model``/``.data`` when a field the spec requires is missing.

    >>> e = Event(raw_json='{"id":"E1","resource":"messages","type":"created","actorId":"A",'
    ...           '"orgId":"O","created":"2024-01-02T03:04:05.678Z","data":{"id":"M"}}')
    >>> e.id, e.resource, e.type, e.created.isoformat()
    ('E1', <EventResourceEnum.MESSAGES: 'messages'>, <EventTypeEnum.CREATED: 'created'>, \
'2024-01-02T03:04:05.678000+00:00')
    >>> e.data.id
    'M'
    """

    __slots__ = ()

    @property
    def resource(self) -> EventResourceEnum | str:
        """The resource (an :class:`EventResource` member, or the raw string if unknown)."""
        value = self._str(_RESOURCE)
        return _RESOURCES.get(value, value)

    @property
    def type(self) -> EventTypeEnum | str:
        """The event type (an :class:`EventType` member, or the raw string if unknown)."""
        value = self._str(_TYPE)
        return _TYPES.get(value, value)

    @property
    def actor_id(self) -> str:
        """The ID of the person who performed the action."""
        return self._str(_ACTOR_ID)

    @property
    def org_id(self) -> str:
        """The ID of the organization."""
        return self._str(_ORG_ID)

    @property
    def app_id(self) -> str | None:
        """The application ID (Webex often sends the string ``"null"``), None if absent."""
        value = self._raw.get(_APP_ID)
        return None if value is None else str(value)

    @property
    def model(self) -> EventModel:
        """The generated ``webex_events_api.models.Event``, built on first access.

        ``model.to_dict()`` gives back ``raw``. ValueError if a field the spec requires is missing.
        """
        model: EventModel = self._built(EventModel)
        return model

    @property
    def data(self) -> EventData | Any:
        """The generated ``EventData`` of the event.

        Webex's ``data`` as it came if it is not a JSON object (typed ``Any``).
        """
        return self.model.data

    def __repr__(self) -> str:
        resource, kind = self._raw.get(_RESOURCE), self._raw.get(_TYPE)
        return f"Event(id={self.id!r}, resource={resource!r}, type={kind!r}, created={self.created_raw!r})"


class AuditEvent(BaseEvent):
    """One event of an audit stream (admin audit or security audit): ``actor_id``,
    ``actor_org_id`` and the generated model of its stream's schema (``.model``, ``.data``).

    >>> e = AuditEvent(raw_json='{"id":"A1","created":"2024-01-02T03:04:05.678Z","actorId":"P",'
    ...                '"actorOrgId":"O","data":{"eventCategory":"LOGINS"}}')
    >>> e.id, e.actor_org_id, e.data.event_category
    ('A1', 'O', 'LOGINS')
    """

    __slots__ = ()
    _id_key, _created_key = AUDIT_EVENT_KEYS.id, AUDIT_EVENT_KEYS.created
    #: the generated model of the stream's schema (a subclass binds the security audit one)
    _model_type: ClassVar[Any] = AuditEventModel
    _actor_key, _org_key = AUDIT_EVENT_KEYS.actor_id, AUDIT_EVENT_KEYS.actor_org_id

    @property
    def actor_id(self) -> str:
        """The ID of the person who performed the action."""
        return self._str(self._actor_key)

    @property
    def actor_org_id(self) -> str:
        """The ID of the actor's organization."""
        return self._str(self._org_key)

    @property
    def model(self) -> AuditEventModel | SecurityAuditEventModel:
        """The generated model of the event's schema, built on first access (ValueError if a
        field the spec requires is missing)."""
        model: AuditEventModel | SecurityAuditEventModel = self._built(self._model_type)
        return model

    @property
    def data(self) -> AuditEventData | SecurityAuditEventData | Any:
        """The generated data model of the event (Webex's ``data`` as it came if not an object)."""
        return self.model.data


class SecurityAuditEvent(AuditEvent):
    """One event of the security audit stream (sign-ins and sign-outs): see :class:`AuditEvent`."""

    __slots__ = ()
    _id_key, _created_key = SECURITY_AUDIT_EVENT_KEYS.id, SECURITY_AUDIT_EVENT_KEYS.created
    _model_type = SecurityAuditEventModel
    _actor_key, _org_key = SECURITY_AUDIT_EVENT_KEYS.actor_id, SECURITY_AUDIT_EVENT_KEYS.actor_org_id
