"""What changed between two produced specs, in a user's terms, and what an overlay action should review.

The summary covers operations, parameters, the fields of Event and of each listing's events
(``data.*`` too), enum values, ranges and descriptions; **BREAKING** marks a removed (or
renamed) operation, parameter, field or enum value, a type change, a newly required parameter
and a narrower range. Other changes are listed by path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import spec_facts
from _spec_extract import HTTP_METHODS
from _spec_overlay import Applied, child

__all__ = ["review", "summarize"]

_ABSENT = "<absent>"


def _operations(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for path, item in (spec.get("paths") or {}).items():
        for method in HTTP_METHODS:
            if isinstance(item, dict) and isinstance(item.get(method), dict):
                found[f"{method.upper()} {path}"] = item[method]
    return found


def _text(value: object) -> str:
    return " ".join(str(value or "").split())


def _short(value: object, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = _text(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _parameters(spec: dict[str, Any], operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for raw in operation.get("parameters") or []:
        param = spec_facts._resolve(spec, raw)
        shape = spec_facts._shape(spec, param.get("schema") or {})
        found[str(param.get("name"))] = {
            "in": param.get("in"),
            "type": shape["type"],
            "format": shape["format"],
            "enum": shape["enum"],
            "minimum": shape["minimum"],
            "maximum": shape["maximum"],
            "default": shape["default"],
            "required": bool(param.get("required", False)),
            "description": _text(param.get("description")),
        }
    return found


def _event_schemas(spec: dict[str, Any]) -> list[str]:
    """Event and the item schema of each listing (``x-webex-events-paging``), in spec order."""
    names = ["Event"]
    for operation in _operations(spec).values():
        if operation.get("x-webex-events-paging"):
            try:
                items = spec_facts.page_items(spec, operation)
            except (KeyError, TypeError, AttributeError):
                continue
            if items is not None and items[1] not in names:
                names.append(items[1])
    return names


def _fields(spec: dict[str, Any], schema: str) -> dict[str, dict[str, Any]]:
    try:
        return {field["path"]: field for field in spec_facts._fields(spec, schema)}
    except (KeyError, TypeError, AttributeError):
        return {}  # no such schema (a first run, a new listing): every field is new


def _told(spec: dict[str, Any], schemas: list[str]) -> set[str]:
    """The schemas whose properties the field sections tell (an event schema and its data)."""
    told = set()
    for name in schemas:
        try:
            told |= spec_facts._walked(spec, name)
        except (KeyError, TypeError, AttributeError):
            told.add(name)
    return told


def _range(minimum: object, maximum: object) -> str:
    return f"{'any' if minimum is None else minimum}..{'any' if maximum is None else maximum}"


def _narrower(old: dict[str, Any], new: dict[str, Any]) -> bool:
    low = new["minimum"] is not None and (old["minimum"] is None or new["minimum"] > old["minimum"])
    high = new["maximum"] is not None and (old["maximum"] is None or new["maximum"] < old["maximum"])
    return low or high


def _describe(facts: dict[str, Any]) -> str:
    bits = [str(facts["type"])]
    if facts.get("format"):
        bits.append(str(facts["format"]))
    if facts.get("enum"):
        bits.append("one of " + "|".join(facts["enum"]))
    if facts.get("minimum") is not None or facts.get("maximum") is not None:
        bits.append(_range(facts["minimum"], facts["maximum"]))
    if facts.get("default") is not None:
        bits.append(f"default {facts['default']}")
    if facts.get("required"):
        bits.append("required")
    return ", ".join(bits)


def _compare(kind: str, name: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    lines = []
    head = f"  ~ {kind} {name}:"
    if old["type"] != new["type"]:
        lines.append(f"{head} type {old['type']} -> {new['type']} **BREAKING**")
    if old.get("format") != new.get("format"):
        lines.append(f"{head} format {old.get('format')} -> {new.get('format')}")
    added = [value for value in new["enum"] if value not in old["enum"]]
    removed = [value for value in old["enum"] if value not in new["enum"]]
    if added:
        lines.append(f"{head} enum value(s) added: {', '.join(added)}")
    if removed:
        lines.append(f"{head} enum value(s) removed: {', '.join(removed)} **BREAKING**")
    if "minimum" in old and (old["minimum"], old["maximum"]) != (new["minimum"], new["maximum"]):
        change = "narrower range **BREAKING**" if _narrower(old, new) else "wider range"
        before, after = _range(old["minimum"], old["maximum"]), _range(new["minimum"], new["maximum"])
        lines.append(f"{head} range {before} -> {after} ({change})")
    if "default" in old and old["default"] != new["default"]:
        lines.append(f"{head} default {old['default']} -> {new['default']}")
    if "required" in old and old["required"] != new["required"]:
        lines.append(f"{head} now {'required **BREAKING**' if new['required'] else 'optional'}")
    if old["description"] != new["description"]:
        lines.append(f"{head} description changed: {_short(new['description'])!r}")
    return lines


def _leaves(old: Any, new: Any, path: str = "$") -> Iterator[tuple[str, Any, Any]]:
    """(path, old value, new value) of every leaf that differs (``_ABSENT`` when missing)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(key for key in new if key not in old)]:
            yield from _leaves(old.get(key, _ABSENT), new.get(key, _ABSENT), child(path, key))
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (before, after) in enumerate(zip(old, new, strict=True)):
            yield from _leaves(before, after, child(path, index))
    elif old != new or type(old) is not type(new):
        yield path, old, new


def _told_pattern(schemas: set[str]) -> re.Pattern[str]:
    """Changes the summary's own lines tell in a user's terms (parameters, event fields, enums)."""
    names = "|".join(re.escape(name) for name in sorted(schemas))
    return re.compile(
        r"^\$\['paths'\]\[[^]]+\]\[[^]]+\]\['(parameters|summary|description)'\]"
        rf"|^\$\['components'\]\['schemas'\]\['({names})'\]\['properties'\]"
        r"|\['enum'\]"
    )


def summarize(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed from the *old* produced spec to the *new* one, in a user's terms.

    >>> import copy
    >>> param = {"name": "max", "in": "query", "schema": {"type": "integer", "maximum": 1000}}
    >>> old = {"paths": {"/events": {"get": {"parameters": [param]}}}}
    >>> narrower = copy.deepcopy(old)
    >>> narrower["paths"]["/events"]["get"]["parameters"][0]["schema"]["maximum"] = 500
    >>> summarize(old, narrower)
    ['GET /events:', '  ~ parameter max: range any..1000 -> any..500 (narrower range **BREAKING**)']
    """
    lines: list[str] = []
    old_ops, new_ops = _operations(old), _operations(new)
    for key in [*old_ops, *(k for k in new_ops if k not in old_ops)]:
        if key not in new_ops:
            lines += [f"{key}:", "  - operation removed **BREAKING**"]
            continue
        before, after = old_ops.get(key), new_ops[key]
        section: list[str] = []
        if before is None:
            section.append(f"  + operation added: {_short(after.get('summary'))}")
        elif _text(before.get("summary")) != _text(after.get("summary")):
            section.append(f"  ~ summary changed: {_short(after.get('summary'))!r}")
        if before is not None and _text(before.get("description")) != _text(after.get("description")):
            section.append(f"  ~ description changed: {_short(after.get('description'))!r}")
        old_params, new_params = _parameters(old, before or {}), _parameters(new, after)
        for name, facts in new_params.items():
            if name not in old_params:
                about = f"{facts['in']}, {_describe(facts)}"
                section.append(f"  + parameter {name} ({about}): {_short(facts['description'])}")
        for name, facts in old_params.items():
            if name not in new_params:
                section.append(f"  - parameter {name} removed (or renamed) **BREAKING**")
            else:
                section += _compare("parameter", name, facts, new_params[name])
        if section:
            lines += [f"{key}:", *section]

    old_schemas = _event_schemas(old)
    schemas = [*old_schemas, *(name for name in _event_schemas(new) if name not in old_schemas)]
    for schema in schemas:
        old_fields, new_fields = _fields(old, schema), _fields(new, schema)
        section = []
        for path, field in new_fields.items():
            if path not in old_fields:
                section.append(f"  + {path} ({_describe(field)}): {_short(field['description'])}")
        for path, field in old_fields.items():
            if path not in new_fields:
                section.append(f"  - {path} removed (or renamed) **BREAKING**")
            else:
                section += _compare("field", path, field, new_fields[path])
        if section:
            lines += [f"{schema} fields:", *section]

    told = _told_pattern(_told(old, schemas) | _told(new, schemas))
    other = [where for where, _, _ in _leaves(old, new) if not told.search(where)]
    if other:
        lines.append(f"Other changes ({len(other)}: responses, examples, other schemas):")
        lines += [f"  ~ {where}" for where in other[:12]]
        if len(other) > 12:
            lines.append(f"  ... and {len(other) - 12} more")
    return lines


def _change(was: Any, now: Any) -> str:
    if isinstance(was, list) and isinstance(now, list):
        added = [_short(value, 40) for value in now if value not in was]
        removed = [_short(value, 40) for value in was if value not in now]
        parts = ([f"added {', '.join(added)}"] if added else []) + (
            [f"removed {', '.join(removed)}"] if removed else []
        )
        return "; ".join(parts) or "reordered"
    return f"{_short(was, 70)!r} -> {_short(now, 70)!r}"


def review(before: Applied | None, after: Applied) -> list[str]:
    """Webex's text that changed where an overlay action replaces it: is the action still right?"""
    if before is None:
        return []
    lines = []
    for label, where in sorted(set(before.replaced) | set(after.replaced)):
        old = before.replaced.get((label, where), _ABSENT)
        new = after.replaced.get((label, where), _ABSENT)
        changes = list(_leaves(old, new, where))
        if changes:
            lines.append(f"  {label}:")
            lines += [f"    {path}: {_change(was, now)}" for path, was, now in changes[:5]]
            if len(changes) > 5:
                lines.append(f"    ... and {len(changes) - 5} more")
    return lines
