"""The event streams the clients list: one per listing operation of the spec (``LISTINGS``).

A stream pairs an operation's facts (range, page-size and offset parameters, paging style,
longest range per request, required filters) with the view its events are read through. Its
``name`` (``events``, ``admin-audit``, ``security-audit``) is made from the operation ID, so a
listing added to spec/ gets one without an edit here; only its event view is chosen by hand.
"""

from __future__ import annotations

import re

import attrs

from webex_events_api.spec import LIST_ADMIN_AUDIT_EVENTS, LIST_EVENTS, LIST_SECURITY_AUDIT_EVENTS, Operation

from ._event import AuditEvent, BaseEvent, Event, SecurityAuditEvent

__all__ = ["ADMIN_AUDIT", "EVENTS", "SECURITY_AUDIT", "STREAMS", "Stream"]


def _name(operation: Operation) -> str:
    """``listAdminAuditEvents`` -> ``admin-audit``; ``listEvents`` -> ``events``."""
    words = re.sub(r"(?<!^)(?=[A-Z])", "-", operation.operation_id.removeprefix("list")).lower()
    return words.removesuffix("-events") or words


@attrs.frozen
class Stream:
    """One listing operation and the event view of its items."""

    operation: Operation
    event_type: type[BaseEvent]

    @property
    def name(self) -> str:
        return _name(self.operation)

    @property
    def max_range_ms(self) -> int | None:
        """The longest range one request may cover, in ms (None: any).

        One ms short of the spec's limit: a range's start is sent 1 ms early (see list_range),
        so the request spans exactly the limit, whether the server counts it strictly or not.
        """
        limit = self.operation.max_range
        return None if limit is None else int(limit.total_seconds() * 1000) - 1

    @property
    def offset_name(self) -> str | None:
        """The wire name of the offset parameter of an ``offset`` listing, else None."""
        return self.operation.role("page-offset").name if self.operation.paging == "offset" else None


EVENTS = Stream(LIST_EVENTS, Event)
ADMIN_AUDIT = Stream(LIST_ADMIN_AUDIT_EVENTS, AuditEvent)
SECURITY_AUDIT = Stream(LIST_SECURITY_AUDIT_EVENTS, SecurityAuditEvent)
#: By name: ``events``, ``admin-audit``, ``security-audit``.
STREAMS = {stream.name: stream for stream in (EVENTS, ADMIN_AUDIT, SECURITY_AUDIT)}
