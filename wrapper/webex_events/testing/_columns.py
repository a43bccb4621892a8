"""Where the fake organization keeps the Event fields it filters on most: compact columns.

An organization keeps one byte per event for the resource, the type and the actor, and for the
``data`` field of the spec's first required-when rule on the resource or type (``SERVICE_TYPE``:
the fake's "service types"). Filters on any other field use a slow column built from the events
(``Organization._column``). A path into ``data`` starts with ``IN_DATA``.
"""

from __future__ import annotations

from typing import Final

from webex_events_api.spec import EVENT_KEYS

from ._facts import DEFAULT_FACTS, SpecFacts

__all__ = ["FAST_COLUMNS", "IN_DATA", "SERVICE_KEY", "SERVICE_TYPE"]

IN_DATA: Final = EVENT_KEYS.data + "."


def _rule_field(facts: SpecFacts) -> str | None:
    """The ``data`` field a ``required-when`` rule on the resource or type makes events carry.

    The spec's: ``data.serviceType`` (a converged recording carries its service type). The
    first such rule's, if several; None if none.
    """
    for rule in facts.requirements:
        name = rule.field[len(IN_DATA) :]
        on_columns = rule.key in (EVENT_KEYS.resource, EVENT_KEYS.type)
        if on_columns and rule.field.startswith(IN_DATA) and name and "." not in name:
            return rule.field
    return None


#: The field path of the service-type column (None: the spec has no such rule), and its key in ``data``.
SERVICE_TYPE: Final = _rule_field(DEFAULT_FACTS)
SERVICE_KEY: Final = "" if SERVICE_TYPE is None else SERVICE_TYPE[len(IN_DATA) :]
#: Field path -> the ``Organization`` attribute holding its compact column.
FAST_COLUMNS: Final[dict[str, str]] = {
    EVENT_KEYS.resource: "res",
    EVENT_KEYS.type: "typ",
    EVENT_KEYS.actor_id: "actor",
    **({} if SERVICE_TYPE is None else {SERVICE_TYPE: "svc"}),
}
