"""``Event``: a cheap, lazy, typed view over one raw event."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from webex_events_api.models import Event as EventModel
from webex_events_api.models import EventData, EventResourceEnum, EventTypeEnum
from webex_events_api.spec import EVENT_KEYS

from ._dates import parse_created
from ._wire import DecodedPage, decode_object

__all__ = ["Event"]

_RESOURCES: dict[str, EventResourceEnum] = {m.value: m for m in EventResourceEnum}
_TYPES: dict[str, EventTypeEnum] = {m.value: m for m in EventTypeEnum}
_fromisoformat = datetime.fromisoformat
# The JSON key of each Event field an accessor reads, from the spec (``nox -s generate``), bound
# once: a module global costs a typed listing nothing more per access than a literal. A key the
# spec renames is followed as long as its Python name stays (``actorId`` -> ``actorID``); a field
# whose Python name changes (``actorId`` -> ``actorUuid``) fails here, at import and in mypy,
# because the accessor is public API: renaming it is a decision, not a regeneration.
_ID = EVENT_KEYS.id
_RESOURCE = EVENT_KEYS.resource
_TYPE = EVENT_KEYS.type
_ACTOR_ID = EVENT_KEYS.actor_id
_ORG_ID = EVENT_KEYS.org_id
_APP_ID = EVENT_KEYS.app_id
_CREATED = EVENT_KEYS.created


class Event:
    """One Webex event: the decoded dict, its exact JSON text and typed accessors.

    Creating one costs a few slot assignments; the generated attrs model (``.model``, ``.data``),
    the parsed ``.created`` and the exact ``.raw_json`` are built on first access (until then an
    event listed from a page keeps a reference to that page's body). Unknown ``resource``/``type`` values
    stay plain strings and unknown fields stay in ``.raw`` (and ``.model.additional_properties``).

    Typed access never fails on what Webex actually sends (docs/design.md, "Tolerance"): a value
    whose JSON type differs from the spec's is kept as it came, on the attribute itself (each
    generated field is typed ``<spec type> | Any``): attendees as strings, ``isCallAnswered`` as
    a boolean, a ``host`` that is no object. The one documented failure is ``ValueError`` when
    a field the spec requires (``id``, ``resource``, ``type``, ``actorId``, ``orgId``,
    ``created``, ``data``) is missing: ``.model`` and ``.data`` cannot be built, ``.raw`` still is.

    >>> e = Event(raw_json='{"id":"E1","resource":"messages","type":"created","actorId":"A",'
    ...           '"orgId":"O","created":"2024-01-02T03:04:05.678Z","data":{"id":"M"}}')
    >>> e.id, e.resource, e.type, e.created.isoformat()
    ('E1', <EventResourceEnum.MESSAGES: 'messages'>, <EventTypeEnum.CREATED: 'created'>, \
'2024-01-02T03:04:05.678000+00:00')
    >>> e.data.id
    'M'
    >>> e = Event(raw_json='{"id":"E2","resource":"meetings","type":"ended","actorId":"A","orgId":"O",'
    ...           '"created":"2024-01-02T03:04:05.678Z","data":{"attendees":["a@example.com"],"host":"h"}}')
    >>> e.data.attendees, e.data.host
    (['a@example.com'], 'h')
    """

    __slots__ = ("_created", "_index", "_model", "_page", "_raw", "_raw_json")

    _raw: dict[str, Any] | None
    # bytes: the UTF-8 text of a text-only page, decoded if asked; None: cut from the page if asked
    _raw_json: str | bytes | None
    _page: DecodedPage | None
    _index: int
    _model: EventModel | None
    _created: datetime | None

    def __init__(self, *, raw_json: str, raw: Mapping[str, Any] | None = None) -> None:
        if raw is None:
            decoded, raw_json = decode_object(raw_json)
            raw = decoded
        self._raw = dict(raw)
        self._raw_json = raw_json
        self._page = None
        self._index = 0
        self._model = None
        self._created = None

    @classmethod
    def _from_wire(
        cls,
        raw: dict[str, Any] | None,
        raw_json: str | bytes | None,
        page: DecodedPage | None = None,
        index: int = 0,
    ) -> Event:
        # Hot path: no validation, no copy (the dict was just decoded for this event). At least
        # one of raw and raw_json is given; page.text_of(index) gives a missing raw_json, and a
        # missing raw is decoded from raw_json (a raw export drops the dicts: see _wire).
        self = object.__new__(cls)
        self._raw = raw
        self._raw_json = raw_json
        self._page = page
        self._index = index
        self._model = None
        self._created = None
        return self

    @property
    def raw(self) -> dict[str, Any]:
        """The event as decoded from JSON (treat as read-only)."""
        raw = self._raw
        if raw is None:
            raw = self._raw = self._decode()
        elif self._page is not None and self._page.inexact:
            # orjson's dict: exact but for integers beyond 64 bits (see DecodedPage).
            raw = self._raw = self._page.item(self._index)
        return raw

    def _field(self, key: str, default: Any) -> Any:
        """``raw.get(key, default)``; a string straight from the dict (exact whoever decoded it)."""
        raw = self._raw
        if raw is not None:
            value = raw.get(key, default)
            if type(value) is str:
                return value
        return self.raw.get(key, default)

    def _column(self, key: str) -> Any:
        """``key`` (one of ``_wire.COLUMNS``) from the dict, or from the page's column when the
        event has no dict (such a page has them all: decoded lean or text-only, or released);
        a string either way is exact, anything else: ask ``raw``."""
        raw = self._raw
        if raw is not None:
            return raw.get(key)
        page = self._page
        return self.raw.get(key) if page is None else page.columns[key][self._index]

    def _decode(self) -> dict[str, Any]:
        page = self._page
        if page is not None:
            page.typed_access()  # the listing keeps the dicts of its next pages
            if self._raw_json is None:  # a lean page's: its text is cut from the page, not asked for
                item: dict[str, Any] = page.item(self._index)
                return item
        return decode_object(self.raw_json)[0]

    @property
    def raw_json(self) -> str:
        """The exact JSON text of this event as the server sent it."""
        text = self._raw_json
        if type(text) is str:
            return text
        if isinstance(text, bytes):  # the UTF-8 text of a text-only page
            decoded = self._raw_json = text.decode()
            return decoded
        page = self._page
        assert page is not None  # one of raw_json and page is always set
        decoded = self._raw_json = page.text_of(self._index)
        if self._raw is not None:
            if page.inexact:
                self._raw = page.item(self._index)
            self._page = None  # needed no more: let the page's other texts go with their events
        return decoded

    def _utf8_json(self) -> bytes:
        """:attr:`raw_json` as UTF-8 bytes; a page's bytes as received (no str made)."""
        text = self._raw_json
        if isinstance(text, bytes):
            return text
        if text is None and self._page is not None:
            return self._page.utf8_of(self._index)
        return self.raw_json.encode("utf-8")

    # The accessors take a string straight from ``_raw`` or the page's columns (a string is exact
    # whoever decoded the page) and go through ``raw`` otherwise. They run once per event on a
    # typed listing: ``id`` and ``created`` are written out, ``resource`` and ``type`` make one
    # call (``_column``); one more shared helper costs 50-70 ns per accessor and event
    # (measured), about 1 % of a typed listing's CPU each.

    @property
    def id(self) -> str:
        """The event ID."""
        raw = self._raw
        if raw is not None:
            value = raw.get(_ID)
            if type(value) is str:
                return value
        elif (page := self._page) is not None:
            value = page.columns[_ID][self._index]  # a lean or text-only page's: no dict needed
            if type(value) is str:
                return value
        value = self.raw.get(_ID, "")
        return value if type(value) is str else str(value)

    @property
    def resource(self) -> EventResourceEnum | str:
        """The resource (an :class:`EventResource` member, or the raw string if unknown)."""
        value = self._column(_RESOURCE)
        if type(value) is str:
            return _RESOURCES.get(value, value)
        value = self.raw.get(_RESOURCE, "")
        return _RESOURCES.get(value, value) if isinstance(value, str) else str(value)

    @property
    def type(self) -> EventTypeEnum | str:
        """The event type (an :class:`EventType` member, or the raw string if unknown)."""
        value = self._column(_TYPE)
        if type(value) is str:
            return _TYPES.get(value, value)
        value = self.raw.get(_TYPE, "")
        return _TYPES.get(value, value) if isinstance(value, str) else str(value)

    @property
    def actor_id(self) -> str:
        """The ID of the person who performed the action."""
        return str(self._field(_ACTOR_ID, ""))

    @property
    def org_id(self) -> str:
        """The ID of the organization."""
        return str(self._field(_ORG_ID, ""))

    @property
    def app_id(self) -> str | None:
        """The application ID (Webex often sends the string ``"null"``), None if absent."""
        value = self._field(_APP_ID, None)
        return None if value is None else str(value)

    @property
    def created_raw(self) -> str:
        """``created`` exactly as sent."""
        raw = self._raw
        if raw is None and (page := self._page) is not None:
            value = page.columns[_CREATED][self._index]
            if type(value) is str:
                return value
        return str(self._field(_CREATED, ""))

    @property
    def created(self) -> datetime:
        """``created`` as an aware UTC datetime (ValueError if Webex sent something unparsable)."""
        created = self._created
        if created is not None:
            return created
        raw = self._raw
        if raw is not None:
            text = raw.get(_CREATED)
        elif (page := self._page) is not None:
            text = page.columns[_CREATED][self._index]
        else:
            text = None
        if type(text) is str and len(text) == 24 and text[23] == "Z":
            # The canonical form (what Webex sends): fromisoformat gives UTC itself.
            try:
                created = _fromisoformat(text)
            except ValueError:
                pass
            else:
                if created.tzinfo is UTC:
                    self._created = created
                    return created
        parsed = parse_created(self.created_raw)  # any other form
        if parsed is None:
            raise ValueError(f"event {self.id!r} has an unparsable created value {self.created_raw!r}")
        self._created = parsed
        return parsed

    @property
    def model(self) -> EventModel:
        """The generated ``webex_events_api.models.Event``, built on first access.

        ``model.to_dict()`` gives back ``raw``. ValueError if a field the spec requires is missing.
        """
        if self._model is None:
            try:
                self._model = EventModel.from_dict(self.raw)
            except KeyError as missing:  # the generated from_dict pops each required field
                raise ValueError(
                    f"event {self.id!r} lacks {missing.args[0]!r}, a field the spec requires"
                ) from None
        return self._model

    @property
    def data(self) -> EventData | Any:
        """The generated ``EventData`` of the event.

        Webex's ``data`` as it came if it is not a JSON object (typed ``Any``).
        """
        return self.model.data

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        return self.raw_json == other.raw_json

    def __hash__(self) -> int:
        return hash(self.raw_json)

    def __repr__(self) -> str:
        resource = self._column(_RESOURCE)  # (not .raw: a repr must not make the listing keep dicts)
        kind = self._column(_TYPE)
        return f"Event(id={self.id!r}, resource={resource!r}, type={kind!r}, created={self.created_raw!r})"
