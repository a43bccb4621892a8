"""Filters of an operation, validated by the facts of spec/ (``webex_events_api.spec``).

Nothing here names a parameter: types, enums, ranges and the ``required-when``/``only-when``
rules all come from the generated facts, so a filter added to spec/ is accepted, checked and
sent under its wire name after ``nox -s generate`` with no edit here. The CLI validates through
the same functions, naming its options instead of keyword arguments.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from enum import Enum

from webex_events_api.spec import LIST_EVENTS, Operation, Parameter

from ._errors import InvalidArgumentError

__all__ = ["Label", "check_number", "describe_values", "filter_values", "keyword_label", "unknown_values"]

#: How a parameter is named in messages: a keyword argument (library) or an option (CLI).
Label = Callable[[Parameter], str]


def keyword_label(parameter: Parameter) -> str:
    """The library's name for a filter: its keyword argument."""
    return parameter.python_name


def describe_values(values: tuple[str, ...]) -> str:
    """``'a', 'b' or 'c'``."""
    quoted = [repr(v) for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def check_number(parameter: Parameter, value: object, label: str) -> int | float:
    """An int (or a number, for ``type: number``) inside the spec's minimum..maximum."""
    integer = parameter.type == "integer"
    kinds = int if integer else int | float
    lo, hi = parameter.minimum, parameter.maximum
    bounds = f" between {lo} and {hi}" if lo is not None and hi is not None else ""
    if not isinstance(value, kinds) or isinstance(value, bool):
        kind = "an int" if integer else "a number"
        raise InvalidArgumentError(f"{label} must be {kind}{bounds}, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        if bounds:
            raise InvalidArgumentError(f"{label} must be{bounds}, got {value}")
        limit = f">= {lo}" if lo is not None and value < lo else f"<= {hi}"
        raise InvalidArgumentError(f"{label} must be {limit}, got {value}")
    return value


def _wire_value(parameter: Parameter, value: object, label: str) -> str:
    if parameter.type == "array":
        # Sent as one comma-separated value (the spec's explode: false, the audit streams' form).
        if isinstance(value, str | bytes) or not isinstance(value, list | tuple) or not value:
            raise InvalidArgumentError(f"{label} must be a non-empty list of str, got {value!r}")
        item = dataclasses.replace(parameter, type=parameter.item_type or "string")
        return ",".join(_wire_value(item, v, label) for v in value)
    if parameter.type in ("integer", "number"):
        return str(check_number(parameter, value, label))
    if parameter.type == "boolean":
        if not isinstance(value, bool):
            raise InvalidArgumentError(f"{label} must be a bool, got {value!r}")
        return "true" if value else "false"
    if parameter.enum and isinstance(value, Enum):
        value = value.value
    if not isinstance(value, str):
        kind = "a str or enum member" if parameter.enum else "a str"
        raise InvalidArgumentError(f"{label} must be {kind}, got {type(value).__name__}")
    if not value.strip():
        raise InvalidArgumentError(f"{label} must not be empty")
    if parameter.enum and not parameter.open_enum and value not in parameter.enum:
        raise InvalidArgumentError(f"{label} must be {describe_values(parameter.enum)}, got {value!r}")
    return value


def filter_values(
    values: Mapping[str, object], *, operation: Operation = LIST_EVENTS, label: Label = keyword_label
) -> dict[str, str]:
    """Validate filters given by Python name; return them as ``{wire name: wire value}``.

    None means "not given". Raises :class:`InvalidArgumentError` naming the argument (through
    ``label``) for an unknown filter, a wrong type, an empty string, a value out of range or a
    broken ``required-when``/``only-when`` rule.
    """
    by_python = {p.python_name: p for p in operation.filters}
    unknown = sorted(set(values) - set(by_python))
    if unknown:
        raise InvalidArgumentError(
            f"unknown filter {unknown[0]!r}: {operation.summary} takes "
            + ", ".join(label(p) for p in operation.filters)
        )
    wire: dict[str, str] = {}
    for name, value in values.items():
        if value is not None:
            parameter = by_python[name]
            wire[parameter.name] = _wire_value(parameter, value, label(parameter))
    for parameter in operation.filters:
        if parameter.required and parameter.name not in wire:
            raise InvalidArgumentError(f"{label(parameter)} is required: {parameter.description}")
        for other_name, allowed in parameter.required_when:
            other = wire.get(other_name)
            if other in allowed and parameter.name not in wire:
                example = f" (e.g. {parameter.enum[0]})" if parameter.enum else ""
                raise InvalidArgumentError(
                    f"{label(parameter)} is required when {label(operation.parameter(other_name))}"
                    f" is {other!r}{example}"
                )
        for other_name, allowed in parameter.only_when:
            if parameter.name in wire and wire.get(other_name) not in allowed:
                raise InvalidArgumentError(
                    f"{label(parameter)} only applies when {label(operation.parameter(other_name))}"
                    f" is {describe_values(allowed)}"
                )
    return wire


def unknown_values(
    wire: Mapping[str, str], *, operation: Operation = LIST_EVENTS
) -> list[tuple[Parameter, str]]:
    """The filters whose value is not in the spec's enum (accepted: Webex adds values)."""
    return [
        (p, wire[p.name])
        for p in operation.filters
        if p.enum and p.name in wire and wire[p.name] not in p.enum
    ]
