"""Write ``webex_events_api/spec.py``: the facts of the spec that openapi-python-client drops.

openapi-python-client keeps the models and enums but not a parameter's minimum/maximum/default,
nor the rules the spec states in ``x-webex-events-*`` extensions. This module turns
``spec/openapi.yaml`` into plain data (frozen dataclasses) plus a TypedDict of the List Events
filters, and the JSON key of each property of each object schema by Python name (``EVENT_KEYS``:
``EVENT_KEYS.actor_id == "actorId"``); the wrapper builds every request from it and reads every
Event field through it, the CLI makes its options from it, the fake server serves by it and the
CSV export takes its columns from it.

Example::

    >>> schemas = {"Event": {"properties": {}}}
    >>> spec = {"servers": [{"url": "https://h/v1"}], "paths": {}, "components": {"schemas": schemas}}
    >>> "OPERATIONS" in render(spec)
    True
"""

from __future__ import annotations

import keyword
import re
from typing import Any

__all__ = ["python_name", "render"]

_EXTENSION = "x-webex-events-"
#: The operation whose filters become ``ListEventsFilters`` (the wrapper's ``list_events``).
LIST_OPERATION = "listEvents"
_ROLES = ("range-start", "range-end", "page-size")
_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

_PRELUDE = '''
"""The facts of spec/openapi.yaml that the generated models do not carry.

Per operation: method, path and every parameter (wire name, Python name, type, enum, range,
default, description, role, and the rules of the ``x-webex-events-*`` extensions); per Event
field: path, JSON type, enum, description and example; per object schema: the JSON key of each
property by Python name (``EVENT_KEYS.actor_id == "actorId"``). The wrapper builds each request
from these facts and reads each field by these keys, the CLI makes its options from them, the
fake server serves by them and the CSV export takes its columns from them.
"""

from dataclasses import dataclass
from typing import Literal, TypedDict

{enum_imports}
__all__ = [
{exports}]

Role = Literal["filter", "path", "range-start", "range-end", "page-size"]
Rule = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True, kw_only=True)
class Parameter:
    """One parameter of an operation as spec/openapi.yaml states it.

    ``role`` says who owns it: ``filter`` (passed through as given), ``path`` (a path segment),
    or one the wrapper drives itself (``range-start``/``range-end``: the date range it splits
    into windows; ``page-size``: the page size). ``required_when``/``only_when`` pair another
    parameter's wire name with the values that make this one mandatory/applicable.
    ``event_field`` is the dotted Event field a filter selects on (by equality).
    """

    name: str
    python_name: str
    location: Literal["query", "path"]
    type: Literal["string", "integer", "number", "boolean"]
    format: str | None = None
    enum: tuple[str, ...] = ()
    open_enum: bool = False
    minimum: int | float | None = None
    maximum: int | float | None = None
    default: str | int | float | bool | None = None
    required: bool = False
    description: str = ""
    role: Role = "filter"
    required_when: Rule = ()
    only_when: Rule = ()
    event_field: str | None = None


@dataclass(frozen=True, kw_only=True)
class Operation:
    """One operation: ``method`` and ``path`` (relative to the base URL) and its parameters."""

    operation_id: str
    method: str
    path: str
    summary: str
    parameters: tuple[Parameter, ...]

    @property
    def filters(self) -> tuple[Parameter, ...]:
        """The parameters passed through as filters, in spec order."""
        return tuple(p for p in self.parameters if p.role == "filter")

    def parameter(self, name: str) -> Parameter:
        """The parameter with this wire name (KeyError if the spec has none)."""
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)

    def role(self, role: Role) -> Parameter:
        """The parameter with this role (KeyError if the spec gives none)."""
        for p in self.parameters:
            if p.role == role:
                return p
        raise KeyError(role)


@dataclass(frozen=True, kw_only=True)
class Field:
    """One field of the Event schema: ``created``, or ``data.roomId`` for a field of ``data``.

    ``type`` is the JSON type the spec states (``any`` when it states none or several).
    """

    path: str
    type: Literal["string", "integer", "number", "boolean", "array", "object", "any"]
    enum: tuple[str, ...] = ()
    description: str = ""
    example: object = None
'''


def python_name(wire: str) -> str:
    """The keyword argument for a wire name (openapi-python-client's rule: snake case).

    >>> python_name("actorId"), python_name("serviceType"), python_name("from")
    ('actor_id', 'service_type', 'from_')
    """
    name = re.sub(r"\W", "_", _CAMEL.sub("_", wire)).lower()
    return name + "_" if keyword.iskeyword(name) or not name.isidentifier() else name


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        return _resolve(spec, spec["components"]["schemas"][ref.rsplit("/", 1)[1]])
    return schema


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[1] if isinstance(ref, str) else None


def _shape(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``type``, ``enum``, ``open_enum``, ``enum_class``, ``format``, range and default of a schema."""
    variants = schema.get("anyOf") or schema.get("oneOf")
    if variants:
        shapes = [_shape(spec, v) for v in variants]
        enums = [s for s in shapes if s["enum"]]
        plain = [s for s in shapes if not s["enum"]]
        types = {s["type"] for s in shapes}
        shape = dict(enums[0] if enums else shapes[0])
        shape["type"] = types.pop() if len(types) == 1 else "any"
        shape["open_enum"] = bool(enums) and any(s["type"] == "string" for s in plain)
        return shape
    resolved = _resolve(spec, schema)
    enum = tuple(str(v) for v in resolved.get("enum", ()))
    kind = resolved.get("type")
    if kind is None and "properties" in resolved:
        kind = "object"
    return {
        "type": kind if isinstance(kind, str) else "any",
        "enum": enum,
        "open_enum": False,
        "enum_class": _ref_name(schema) if enum else None,
        "format": resolved.get("format"),
        "minimum": resolved.get("minimum"),
        "maximum": resolved.get("maximum"),
        "default": resolved.get("default"),
    }


def _rule(value: object, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
        raise SystemExit(f"spec_facts: {where} must map a parameter name to a list of values")
    return tuple((str(k), tuple(str(v) for v in values)) for k, values in value.items())


def _parameters(spec: dict[str, Any], operation: dict[str, Any], where: str) -> list[dict[str, Any]]:
    out = []
    for raw in operation.get("parameters", []):
        param = _resolve(spec, raw)
        shape = _shape(spec, param.get("schema", {}))
        if shape["type"] not in _SCALARS:
            raise SystemExit(
                f"spec_facts: {where} parameter {param['name']}: unsupported type {shape['type']}"
            )
        role = param.get(_EXTENSION + "role")
        if param["in"] == "path":
            role = "path"
        elif role is None:
            role = "filter"
        elif role not in _ROLES:
            raise SystemExit(f"spec_facts: {where} parameter {param['name']}: unknown role {role!r}")
        if param["in"] not in ("query", "path"):
            raise SystemExit(
                f"spec_facts: {where} parameter {param['name']}: `in: {param['in']}` unsupported"
            )
        out.append(
            {
                "name": param["name"],
                "python_name": python_name(param["name"]),
                "location": param["in"],
                "type": shape["type"],
                "format": shape["format"],
                "enum": shape["enum"],
                "open_enum": shape["open_enum"],
                "minimum": shape["minimum"],
                "maximum": shape["maximum"],
                "default": shape["default"],
                "required": bool(param.get("required", False)),
                "description": " ".join(str(param.get("description", "")).split()),
                "role": role,
                "required_when": _rule(param.get(_EXTENSION + "required-when"), where),
                "only_when": _rule(param.get(_EXTENSION + "only-when"), where),
                "event_field": param.get(_EXTENSION + "event-field"),
                "_enum_class": shape.get("enum_class"),
            }
        )
    return out


def _fields(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Event fields in spec order; the properties of an object field follow it as ``field.X``."""
    out = []

    def walk(schema: dict[str, Any], prefix: str, depth: int) -> None:
        for name, sub in _resolve(spec, schema).get("properties", {}).items():
            shape = _shape(spec, sub)
            resolved = _resolve(spec, sub)
            out.append(
                {
                    "path": prefix + name,
                    "type": shape["type"],
                    "enum": shape["enum"],
                    "description": " ".join(
                        str(resolved.get("description", sub.get("description", ""))).split()
                    ),
                    "example": sub.get("example", resolved.get("example")),
                }
            )
            if depth == 0 and "properties" in resolved:
                walk(resolved, prefix + name + ".", depth + 1)

    walk(spec["components"]["schemas"]["Event"], "", 0)
    return out


def _constant(operation_id: str) -> str:
    return _CAMEL.sub("_", operation_id).upper()


def _keys(spec: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """``(schema name, [(Python name, JSON key), ...])`` of each object schema, properties in spec order.

    The Python name is :func:`python_name` of the key: the wrapper's accessors (``Event.actor_id``)
    and keyword arguments follow it (openapi-python-client's attrs models also add ``_`` to a
    builtin's name: ``type_``).

    >>> _keys({"components": {"schemas": {"Event": {"properties": {"id": {}, "actorId": {}}}}}})
    [('Event', [('id', 'id'), ('actor_id', 'actorId')])]
    """
    out = []
    for schema_name, schema in spec["components"]["schemas"].items():
        properties = schema.get("properties")
        if not properties:
            continue
        if not str(schema_name).isidentifier():
            raise SystemExit(f"spec_facts: schema {schema_name!r} is no Python identifier")
        pairs = [(python_name(str(key)), str(key)) for key in properties]
        names = [name for name, _ in pairs]
        clash = sorted({name for name in names if names.count(name) > 1})
        if clash:
            keys = [key for name, key in pairs if name in clash]
            raise SystemExit(f"spec_facts: schema {schema_name}: properties {keys} share a Python name")
        out.append((str(schema_name), pairs))
    return out


def _literal(value: object) -> str:
    return repr(value)


def _call(kind: str, fields: dict[str, Any], defaults: dict[str, Any]) -> str:
    args = [
        f"{k}={_literal(v)}" for k, v in fields.items() if not k.startswith("_") and defaults.get(k, ...) != v
    ]
    return f"{kind}({', '.join(args)})"


_PARAMETER_DEFAULTS: dict[str, Any] = {
    "format": None,
    "enum": (),
    "open_enum": False,
    "minimum": None,
    "maximum": None,
    "default": None,
    "required": False,
    "description": "",
    "role": "filter",
    "required_when": (),
    "only_when": (),
    "event_field": None,
}
_FIELD_DEFAULTS: dict[str, Any] = {"enum": (), "description": "", "example": None}


def render(spec: dict[str, Any]) -> str:
    """The source of ``webex_events_api/spec.py`` for a loaded spec (not yet formatted)."""
    operations = []
    enum_classes: set[str] = set()
    list_filters: list[dict[str, Any]] = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue
            where = f"{method.upper()} {path}"
            params = _parameters(spec, operation, where)
            operations.append(
                (operation["operationId"], method.upper(), path, operation.get("summary", ""), params)
            )
            if operation["operationId"] == LIST_OPERATION:
                list_filters = [p for p in params if p["role"] == "filter"]
    for p in list_filters:
        if p["_enum_class"]:
            enum_classes.add(p["_enum_class"])

    imports = f"from .models import {', '.join(sorted(enum_classes))}\n" if enum_classes else ""
    keys = _keys(spec)
    exports = [
        "EVENT_FIELDS",
        "OPERATIONS",
        "SERVER_URL",
        "Field",
        "ListEventsFilters",
        "Operation",
        "Parameter",
    ]
    exports += [_constant(operation[0]) for operation in operations]
    for schema_name, _pairs in keys:
        exports += [f"{_constant(schema_name)}_KEYS", f"{schema_name}Keys"]
    listed = "".join(f"    {name!r},\n" for name in sorted(exports))
    # Compact source: the pinned ruff formats it (scripts/regenerate.py).
    lines = [_PRELUDE.format(enum_imports=imports, exports=listed)]
    servers = spec.get("servers") or []
    if not servers or not isinstance(servers[0].get("url"), str):
        raise SystemExit("spec_facts: the spec names no server (servers[0].url)")
    lines.append(
        "\n#: The base URL of the API: the first of the spec's servers (operation paths follow it).\n"
    )
    lines.append(f"SERVER_URL = {servers[0]['url']!r}\n")
    constants = []
    for operation_id, method, path, summary, params in operations:
        constant = _constant(operation_id)
        constants.append(constant)
        rendered = ", ".join(_call("Parameter", p, _PARAMETER_DEFAULTS) for p in params)
        head = f"operation_id={operation_id!r}, method={method!r}, path={path!r}, summary={summary!r}"
        lines.append(f"\n{constant} = Operation({head}, parameters=({rendered},))\n")
    by_id = f"{{op.operation_id: op for op in ({', '.join(constants)},)}}"
    lines.append(f"\nOPERATIONS: dict[str, Operation] = {by_id}\n")

    fields = ", ".join(_call("Field", f, _FIELD_DEFAULTS) for f in _fields(spec))
    lines.append("\n#: Every field of the Event schema, in spec order.\n")
    lines.append(f"EVENT_FIELDS: tuple[Field, ...] = ({fields},)\n")

    for schema_name, pairs in keys:
        # One attribute per property: a key the wrapper reads is checked by mypy, and a property
        # whose Python name changes fails where the wrapper binds it (at import), never silently.
        lines.append(
            "\n\n@dataclass(frozen=True, slots=True, kw_only=True)\n"
            f"class {schema_name}Keys:\n"
            f'    """The JSON key of each property of the ``{schema_name}`` schema, by Python name."""\n\n'
        )
        lines.extend(f"    {name}: str\n" for name, _key in pairs)
        values = ", ".join(f"{name}={key!r}" for name, key in pairs)
        lines.append(f"\n\n{_constant(schema_name)}_KEYS = {schema_name}Keys({values})\n")

    members = []
    for p in list_filters:
        annotation = _SCALARS[p["type"]]
        if p["_enum_class"]:
            annotation = f"{p['_enum_class']} | str" if p["open_enum"] else p["_enum_class"]
        # None means "not given", as for every optional argument of the wrapper.
        members.append(f"{p['python_name']!r}: {annotation} | None")
    lines.append("\n#: The filters of List Events as keyword arguments (``list_events(**filters)``).\n")
    typed = "{" + ", ".join(members) + "}"
    lines.append(f'ListEventsFilters = TypedDict("ListEventsFilters", {typed}, total=False)\n')
    return "".join(lines)
