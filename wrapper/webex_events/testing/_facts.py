"""What the fake server takes from the spec facts (``webex_events_api.spec``).

The fake spells no fact of spec/openapi.yaml: which query parameters filter and on which Event
field, the page-size parameter with its default and bounds, the date-range parameters, the
``required-when`` rules, the resource and type values and the Event fields all come from here,
so a spec change reaches the fake through ``nox -s generate`` alone. Tests inject other facts
(``SpecFacts(operation, fields)``) to play a spec change without regenerating.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from webex_events_api.spec import EVENT_FIELDS, EVENT_KEYS, LIST_EVENTS, Field, Operation, Parameter

__all__ = ["DEFAULT_FACTS", "Requirement", "SpecFacts", "field_of", "get_path", "sample", "wire_text"]

# A value of each JSON type for a field the spec gives neither an example nor an enum: the fake
# must still emit something schema-valid.
_SYNTHESIZED: dict[str, object] = {
    "string": "example",
    "integer": 1,
    "number": 1.5,
    "boolean": True,
    "array": [],
    "object": {},
    "any": "example",
}


def field_of(parameter: Parameter) -> str:
    """The Event field a filter selects on: its ``event_field``, else the field of its own name.

    >>> field_of(LIST_EVENTS.parameter("serviceType")), field_of(LIST_EVENTS.parameter("actorId"))
    ('data.serviceType', 'actorId')
    """
    return parameter.event_field or parameter.name


def wire_text(value: object) -> str | None:
    """A value as a query string writes it (None: no scalar, so no filter can select it).

    >>> wire_text(True), wire_text(3), wire_text("messages"), wire_text({"a": 1})
    ('true', '3', 'messages', None)
    """
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def get_path(event: Mapping[str, object], path: str) -> object:
    """The value at a dotted path of an event (None when any step is missing).

    >>> get_path({"data": {"serviceType": "calling"}}, "data.serviceType")
    'calling'
    """
    node: object = event
    for step in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(step)
    return node


def sample(kind: str, example: object = None, enum: Sequence[str] = ()) -> object:
    """A value for a field: its example, else its first enum value, else one of its JSON type.

    >>> sample("string", "positive"), sample("string", None, ("a", "b")), sample("integer")
    ('positive', 'a', 1)
    """
    if example is not None:
        return copy.deepcopy(example)
    if enum:
        return enum[0]
    return copy.deepcopy(_SYNTHESIZED.get(kind, "example"))


@dataclass(frozen=True)
class Requirement:
    """An event whose ``key`` field is one of ``values`` carries ``field`` (a ``required-when`` rule).

    ``parameter`` is the filter the rule makes mandatory; its enum gives the values ``field`` takes.
    """

    key: str
    values: tuple[str, ...]
    field: str
    parameter: Parameter


class SpecFacts:
    """The facts one fake serves by: an operation (List Events) and the Event fields.

    >>> facts = SpecFacts()
    >>> facts.page_size.name, facts.page_default, facts.page_min, facts.page_max
    ('max', 100, 1, 1000)
    >>> [(r.key, r.values, r.field) for r in facts.requirements]
    [('resource', ('convergedRecordings',), 'data.serviceType')]
    """

    def __init__(self, operation: Operation = LIST_EVENTS, fields: Sequence[Field] = EVENT_FIELDS) -> None:
        self.operation = operation
        self.fields = tuple(fields)
        #: (filter, Event field path) in spec order.
        self.filters: tuple[tuple[Parameter, str], ...] = tuple((p, field_of(p)) for p in operation.filters)
        self.by_python = {p.python_name: (p, path) for p, path in self.filters}
        self.range_start = operation.role("range-start")
        self.range_end = operation.role("range-end")
        self.page_size = operation.role("page-size")
        size = self.page_size
        # A bound the spec leaves open: no lower bound below one item, no upper bound at all.
        self.page_min = int(size.minimum) if size.minimum is not None else 1
        self.page_max = int(size.maximum) if size.maximum is not None else None
        default = size.default if isinstance(size.default, int | float) else None
        self.page_default = int(default) if default is not None else self.page_max or self.page_min
        self.by_path = {f.path: f for f in self.fields}
        self.resources = self.values_of(EVENT_KEYS.resource)
        self.types = self.values_of(EVENT_KEYS.type)
        rules = []
        for p, path in self.filters:
            for other, values in p.required_when:
                try:
                    key = field_of(operation.parameter(other))
                except KeyError:  # a rule on a parameter the operation lacks cannot apply
                    continue
                rules.append(Requirement(key, values, path, p))
        self.requirements: tuple[Requirement, ...] = tuple(rules)

    def values_of(self, path: str) -> tuple[str, ...]:
        """The spec's values of an Event field: its enum, then those of the filters on it."""
        field = self.by_path.get(path)
        values = list(field.enum) if field is not None else []
        for p, on in self.filters:
            if on == path:
                values += [v for v in p.enum if v not in values]
        return tuple(values)

    def check_required(self, params: Mapping[str, str]) -> str | None:
        """The message for the first broken ``required-when`` rule of a query, or None.

        >>> SpecFacts().check_required({"resource": "convergedRecordings"})
        'serviceType is mandatory when resource is convergedRecordings.'
        """
        for p, _path in self.filters:
            for other, values in p.required_when:
                given = params.get(other)
                if given in values and not params.get(p.name):
                    return f"{p.name} is mandatory when {other} is {given}."
        return None

    def page_size_error(self, raw: str) -> str:
        """The 400 message for a page size outside the spec's bounds."""
        name, lo, hi = self.page_size.name, self.page_min, self.page_max
        bounds = f"between {lo} and {hi}, inclusive" if hi is not None else f">= {lo}"
        return f"{name} must be an integer {bounds} (got {raw!r})."


DEFAULT_FACTS = SpecFacts()
