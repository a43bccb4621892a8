"""Write ``webex_events_api/spec.py``: the facts of the spec that openapi-python-client drops.

openapi-python-client keeps the models and enums but not a parameter's minimum/maximum/default,
nor the rules the spec states in ``x-webex-events-*`` extensions. This module turns
``spec/openapi.yaml`` into plain data (frozen dataclasses): every operation with its parameters,
request body fields, scopes and, for a listing (``x-webex-events-paging``), its paging style,
longest range per request and the schema of its items; a TypedDict of each listing's filters
(``ListEventsFilters``...); the fields of each listing's item schema (``EVENT_FIELDS``...); and
the JSON key of each property of each object schema by Python name (``EVENT_KEYS``:
``EVENT_KEYS.actor_id == "actorId"``). The wrapper builds every request from it and reads every
event field through it, the CLI makes its options from it, the fake server serves by it and the
CSV export takes its columns from it.

Example::

    >>> schemas = {"Event": {"properties": {}}}
    >>> spec = {"servers": [{"url": "https://h/v1"}], "paths": {}, "components": {"schemas": schemas}}
    >>> "OPERATIONS" in render(spec)
    True
"""

from __future__ import annotations

import datetime
import keyword
import re
from typing import Any

__all__ = ["max_range", "page_items", "python_name", "render"]

_EXTENSION = "x-webex-events-"
#: The operation whose item schema's fields are ``EVENT_FIELDS`` (kept whatever else changes).
LIST_OPERATION = "listEvents"
_ROLES = ("range-start", "range-end", "page-size", "page-offset")
_PAGING = ("link", "offset")
_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
#: ISO 8601 durations of a fixed length (no years or months: their length varies).
_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
_METHODS = ("get", "put", "post", "patch", "delete")

_PRELUDE = '''
"""The facts of spec/openapi.yaml that the generated models do not carry.

Per operation: method, path, every parameter (wire name, Python name, type, enum, range,
default, description, role, and the rules of the ``x-webex-events-*`` extensions), the fields of
its request body, the OAuth scopes it needs and the schema it answers with; per listing
(``LISTINGS``): its paging style (``Link`` header or ``offset``), its range, page-size and
offset parameters, the longest range one request may cover, its required filters and the
schema of its items. Per listing's item schema: each field's path, JSON type, enum,
description and example (``EVENT_FIELDS``...); per object schema: the JSON key of each property
by Python name (``EVENT_KEYS.actor_id == "actorId"``). The wrapper builds each request from
these facts and reads each field by these keys, the CLI makes its options from them, the fake
server serves by them and the CSV export takes its columns from them.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, TypedDict

{enum_imports}
__all__ = [
{exports}]

Role = Literal["filter", "path", "range-start", "range-end", "page-size", "page-offset"]
Rule = tuple[tuple[str, tuple[str, ...]], ...]
Scalar = Literal["string", "integer", "number", "boolean"]
Paging = Literal["link", "offset"]


@dataclass(frozen=True, kw_only=True)
class Parameter:
    """One parameter of an operation (or one field of its request body) as spec/openapi.yaml states it.

    ``role`` says who owns it: ``filter`` (passed through as given; a body field is always one),
    ``path`` (a path segment), or one the wrapper drives itself (``range-start``/``range-end``:
    the date range it splits into windows; ``page-size``: the page size; ``page-offset``: the
    position of a page, for ``offset`` paging). ``required_when``/``only_when`` pair another
    parameter's wire name with the values that make this one mandatory/applicable.
    ``event_field`` is the dotted event field a filter selects on (by equality; an ``array``
    filter: the field is one of the values). An ``array`` has items of ``item_type``, sent as
    one comma-separated value (``explode=False``) or as the parameter repeated (``True``).
    """

    name: str
    python_name: str
    location: Literal["query", "path", "body"]
    type: Literal["string", "integer", "number", "boolean", "array"]
    item_type: Scalar | None = None
    explode: bool = True
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
class RequestBody:
    """An operation's request body: its media type (a form: ``application/x-www-form-urlencoded``),
    the schema it follows and its fields (``location="body"``), in spec order."""

    media_type: str
    schema: str | None = None
    required: bool = False
    fields: tuple[Parameter, ...] = ()

    def field(self, name: str) -> Parameter:
        """The field with this wire name (KeyError if the body has none)."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


@dataclass(frozen=True, kw_only=True)
class Operation:
    """One operation: ``method`` and ``path`` (relative to the base URL) and its parameters.

    ``body``: its request body, if any. ``scopes``: the OAuth scopes its token needs;
    ``authenticated``: whether it is sent with the bearer token (the OAuth endpoints are not).
    ``response_schema``: the schema of its successful JSON answer. A listing (``paging`` set:
    ``link``, the Link header's next URL; ``offset``, the ``page-offset`` parameter advanced by
    the items received until a page is short) has ``item_schema``, the schema of the events its
    pages carry under ``items_key``, and ``max_range``, the longest range one request may cover
    (None: any).
    """

    operation_id: str
    method: str
    path: str
    summary: str
    parameters: tuple[Parameter, ...]
    body: RequestBody | None = None
    scopes: tuple[str, ...] = ()
    authenticated: bool = True
    response_schema: str | None = None
    paging: Paging | None = None
    max_range: timedelta | None = None
    item_schema: str | None = None
    items_key: str | None = None

    @property
    def filters(self) -> tuple[Parameter, ...]:
        """The parameters passed through as filters, in spec order."""
        return tuple(p for p in self.parameters if p.role == "filter")

    @property
    def required_filters(self) -> tuple[Parameter, ...]:
        """The filters that must be given (``orgId`` of the audit streams), in spec order."""
        return tuple(p for p in self.filters if p.required)

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

    def has_role(self, role: Role) -> bool:
        """Whether a parameter has this role (an ``offset`` listing has a ``page-offset``)."""
        return any(p.role == role for p in self.parameters)


@dataclass(frozen=True, kw_only=True)
class Field:
    """One field of an event schema: ``created``, or ``data.roomId`` for a field of ``data``.

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
        "item_type": _shape(spec, resolved["items"])["type"]
        if isinstance(resolved.get("items"), dict)
        else None,
    }


def _rule(value: object, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
        raise SystemExit(f"spec_facts: {where} must map a parameter name to a list of values")
    return tuple((str(k), tuple(str(v) for v in values)) for k, values in value.items())


def _fact(
    spec: dict[str, Any], name: str, location: str, schema: dict[str, Any], where: str
) -> dict[str, Any]:
    """The facts common to a parameter and a request body field, from its schema."""
    shape = _shape(spec, schema)
    if shape["type"] == "array":
        if shape["item_type"] not in _SCALARS:
            raise SystemExit(f"spec_facts: {where} {name}: arrays of {shape['item_type']} are unsupported")
    elif shape["type"] not in _SCALARS:
        raise SystemExit(f"spec_facts: {where} {name}: unsupported type {shape['type']}")
    return {
        "name": name,
        "python_name": python_name(name),
        "location": location,
        "type": shape["type"],
        "item_type": shape["item_type"],
        "explode": True,
        "format": shape["format"],
        "enum": shape["enum"],
        "open_enum": shape["open_enum"],
        "minimum": shape["minimum"],
        "maximum": shape["maximum"],
        "default": shape["default"],
        "required": False,
        "description": "",
        "role": "filter",
        "required_when": (),
        "only_when": (),
        "event_field": None,
        "_enum_class": shape.get("enum_class"),
    }


def _parameters(spec: dict[str, Any], operation: dict[str, Any], where: str) -> list[dict[str, Any]]:
    out = []
    for raw in operation.get("parameters", []):
        param = _resolve(spec, raw)
        if param["in"] not in ("query", "path"):
            raise SystemExit(
                f"spec_facts: {where} parameter {param['name']}: `in: {param['in']}` unsupported"
            )
        role = param.get(_EXTENSION + "role")
        if param["in"] == "path":
            role = "path"
        elif role is None:
            role = "filter"
        elif role not in _ROLES:
            raise SystemExit(f"spec_facts: {where} parameter {param['name']}: unknown role {role!r}")
        fact = _fact(spec, param["name"], param["in"], param.get("schema", {}), f"{where} parameter")
        style = param.get("style", "form" if param["in"] == "query" else "simple")
        fact.update(
            {
                # OpenAPI's default: a query parameter (style form) is exploded, a path one is not
                "explode": bool(param.get("explode", style == "form")) if fact["type"] == "array" else True,
                "required": bool(param.get("required", False)),
                "description": " ".join(str(param.get("description", "")).split()),
                "role": role,
                "required_when": _rule(param.get(_EXTENSION + "required-when"), where),
                "only_when": _rule(param.get(_EXTENSION + "only-when"), where),
                "event_field": param.get(_EXTENSION + "event-field"),
            }
        )
        out.append(fact)
    return out


def _body(spec: dict[str, Any], operation: dict[str, Any], where: str) -> dict[str, Any] | None:
    """An operation's request body: media type, schema name and fields (the schema's properties)."""
    body = operation.get("requestBody")
    if not isinstance(body, dict):
        return None
    content = body.get("content") or {}
    if len(content) != 1:
        raise SystemExit(f"spec_facts: {where}: a request body needs exactly one media type")
    ((media_type, media),) = content.items()
    schema = (media or {}).get("schema") or {}
    resolved = _resolve(spec, schema)
    required = set(resolved.get("required", ()))
    fields = []
    for name, sub in (resolved.get("properties") or {}).items():
        field = _fact(spec, str(name), "body", sub, f"{where} body field")
        field.update(
            {
                "required": name in required,
                "description": " ".join(str(_resolve(spec, sub).get("description", "")).split()),
                "required_when": _rule(sub.get(_EXTENSION + "required-when"), where),
                "only_when": _rule(sub.get(_EXTENSION + "only-when"), where),
            }
        )
        fields.append(field)
    return {
        "media_type": str(media_type),
        "schema": _ref_name(schema),
        "required": bool(body.get("required", False)),
        "fields": fields,
    }


def _scopes(spec: dict[str, Any], operation: dict[str, Any]) -> tuple[bool, tuple[str, ...]]:
    """(sent with a token?, the OAuth scopes it needs) from the operation's (or the spec's) security."""
    security = operation.get("security", spec.get("security"))
    if not security:
        return (security is None, ())
    schemes = (spec.get("components") or {}).get("securitySchemes") or {}
    scopes: list[str] = []
    for requirement in security:
        for name, listed in requirement.items():
            if (schemes.get(name) or {}).get("type") == "oauth2":
                scopes += [str(scope) for scope in listed if scope not in scopes]
    return (True, tuple(scopes))


def _response_schema(operation: dict[str, Any]) -> str | None:
    """The schema name of the first successful JSON answer (None: no JSON body, or an inline one)."""
    for status, response in (operation.get("responses") or {}).items():
        if str(status).startswith("2") and isinstance(response, dict):
            media = (response.get("content") or {}).get("application/json") or {}
            return _ref_name(media.get("schema") or {})
    return None


def max_range(value: object, where: str = "spec") -> datetime.timedelta | None:
    """The ``x-webex-events-max-range`` of a listing: an ISO 8601 duration of fixed length.

    >>> max_range("P365D"), max_range("PT12H"), max_range(None)
    (datetime.timedelta(days=365), datetime.timedelta(seconds=43200), None)
    """
    if value is None:
        return None
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None or not any(match.groups()):
        raise SystemExit(
            f"spec_facts: {where}: {_EXTENSION}max-range {value!r} is no ISO 8601 duration in weeks, "
            "days, hours, minutes or seconds (years and months vary in length)"
        )
    weeks, days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
    return datetime.timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)


def _listing(spec: dict[str, Any], operation: dict[str, Any], where: str) -> dict[str, Any]:
    """A listing's paging, longest range and item schema (nothing for another operation)."""
    paging = operation.get(_EXTENSION + "paging")
    if paging is None:
        if _EXTENSION + "max-range" in operation:
            raise SystemExit(f"spec_facts: {where}: {_EXTENSION}max-range without {_EXTENSION}paging")
        return {}
    if paging not in _PAGING:
        raise SystemExit(f"spec_facts: {where}: {_EXTENSION}paging must be one of {', '.join(_PAGING)}")
    items = page_items(spec, operation)
    if items is None:
        raise SystemExit(f"spec_facts: {where}: a listing's answer needs one array of a named schema")
    return {
        "paging": paging,
        "max_range": max_range(operation.get(_EXTENSION + "max-range"), where),
        "items_key": items[0],
        "item_schema": items[1],
    }


def page_items(spec: dict[str, Any], operation: dict[str, Any]) -> tuple[str, str] | None:
    """(key, schema name) of the one array of named items of an operation's answer, else None.

    >>> spec = {"components": {"schemas": {"Page": {"properties": {"items": {
    ...     "type": "array", "items": {"$ref": "#/components/schemas/Event"}}}}}}}
    >>> ok = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}}
    >>> page_items(spec, {"responses": {"200": ok}})
    ('items', 'Event')
    """
    page = _response_schema(operation)
    if page is None:
        return None
    arrays = [
        (str(key), name)
        for key, sub in _resolve(spec, {"$ref": f"#/components/schemas/{page}"}).get("properties", {}).items()
        if sub.get("type") == "array" and (name := _ref_name(sub.get("items") or {}))
    ]
    return arrays[0] if len(arrays) == 1 else None


def _fields(spec: dict[str, Any], schema: str = "Event") -> list[dict[str, Any]]:
    """Fields of an event schema in spec order; the properties of an object field follow it as ``field.X``."""
    out = []

    def walk(node: dict[str, Any], prefix: str, depth: int) -> None:
        for name, sub in _resolve(spec, node).get("properties", {}).items():
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

    walk(spec["components"]["schemas"][schema], "", 0)
    return out


def _walked(spec: dict[str, Any], schema: str) -> set[str]:
    """The schema names :func:`_fields` reads for *schema* (itself and its object fields')."""
    names = {schema}
    for sub in spec["components"]["schemas"][schema].get("properties", {}).values():
        name = _ref_name(sub)
        if name and "properties" in _resolve(spec, sub):
            names.add(name)
    return names


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


class _Code(str):
    """Source text written as it is (not as a literal)."""


def _literal(value: object) -> str:
    if isinstance(value, _Code):
        return str(value)
    if isinstance(value, datetime.timedelta):
        return repr(value).removeprefix("datetime.")
    return repr(value)


def _call(kind: str, fields: dict[str, Any], defaults: dict[str, Any]) -> str:
    args = [
        f"{k}={_literal(v)}"
        for k, v in fields.items()
        if not k.startswith("_")
        and (k not in defaults or defaults[k] != v or type(defaults[k]) is not type(v))
    ]
    return f"{kind}({', '.join(args)})"


_PARAMETER_DEFAULTS: dict[str, Any] = {
    "item_type": None,
    "explode": True,
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
_OPERATION_DEFAULTS: dict[str, Any] = {
    "body": None,
    "scopes": (),
    "authenticated": True,
    "response_schema": None,
    "paging": None,
    "max_range": None,
    "item_schema": None,
    "items_key": None,
}
_BODY_DEFAULTS: dict[str, Any] = {"schema": None, "required": False, "fields": ()}
_FIELD_DEFAULTS: dict[str, Any] = {"enum": (), "description": "", "example": None}


def _parameter_source(p: dict[str, Any]) -> str:
    return _call("Parameter", p, _PARAMETER_DEFAULTS)


def _operation(spec: dict[str, Any], method: str, path: str, operation: dict[str, Any]) -> dict[str, Any]:
    """The facts of one operation (keys: the fields of the generated ``Operation``, plus ``_params``)."""
    where = f"{method.upper()} {path}"
    operation_id = operation.get("operationId")
    if not isinstance(operation_id, str) or not operation_id.isidentifier():
        raise SystemExit(f"spec_facts: {where}: operationId {operation_id!r} is no Python identifier")
    params = _parameters(spec, operation, where)
    body = _body(spec, operation, where)
    authenticated, scopes = _scopes(spec, operation)
    facts: dict[str, Any] = {
        "operation_id": operation_id,
        "method": method.upper(),
        "path": path,
        "summary": operation.get("summary", ""),
        "parameters": _Code("(" + "".join(_parameter_source(p) + ", " for p in params) + ")"),
        "body": None,
        "scopes": scopes,
        "authenticated": authenticated,
        "response_schema": _response_schema(operation),
        "_params": params,
    }
    if body is not None:
        fields = _Code("(" + "".join(_parameter_source(f) + ", " for f in body["fields"]) + ")")
        facts["body"] = _Code(_call("RequestBody", {**body, "fields": fields}, _BODY_DEFAULTS))
        facts["_fields"] = body["fields"]
    facts.update(_listing(spec, operation, where))
    if facts.get("paging") == "offset" and not any(p["role"] == "page-offset" for p in params):
        raise SystemExit(f"spec_facts: {where}: offset paging needs a parameter of role page-offset")
    return facts


def _filters_name(operation_id: str) -> str:
    return operation_id[:1].upper() + operation_id[1:] + "Filters"


def _annotation(p: dict[str, Any]) -> str:
    if p["type"] == "array":
        item = _SCALARS[p["item_type"]]
        return f"list[{item}] | tuple[{item}, ...]"
    annotation = _SCALARS[p["type"]]
    if p["_enum_class"]:
        annotation = f"{p['_enum_class']} | str" if p["open_enum"] else p["_enum_class"]
    return annotation


def render(spec: dict[str, Any]) -> str:
    """The source of ``webex_events_api/spec.py`` for a loaded spec (not yet formatted)."""
    operations = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in _METHODS:
                operations.append(_operation(spec, method, path, operation))
    listings = [facts for facts in operations if facts.get("paging")]
    event_schemas: list[str] = ["Event"] if "Event" in spec["components"]["schemas"] else []
    event_schemas += [f["item_schema"] for f in listings if f["item_schema"] not in event_schemas]
    enum_classes = {p["_enum_class"] for facts in listings for p in facts["_params"] if p["role"] == "filter"}
    enum_classes.discard(None)

    imports = f"from .models import {', '.join(sorted(enum_classes))}\n" if enum_classes else ""
    keys = _keys(spec)
    exports = ["LISTINGS", "OPERATIONS", "SERVER_URL", "Field", "Operation", "Parameter", "RequestBody"]
    exports += [_constant(facts["operation_id"]) for facts in operations]
    exports += [f"{_constant(name)}_FIELDS" for name in event_schemas]
    exports += [_filters_name(facts["operation_id"]) for facts in listings]
    if not any(facts["operation_id"] == LIST_OPERATION for facts in listings):
        exports.append(_filters_name(LIST_OPERATION))  # the wrapper's list_events types its filters by it
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
    for facts in operations:
        constant = _constant(facts["operation_id"])
        constants.append(constant)
        lines.append(f"\n{constant} = {_call('Operation', facts, _OPERATION_DEFAULTS)}\n")
    by_id = f"{{op.operation_id: op for op in ({', '.join(constants)},)}}"
    lines.append(f"\nOPERATIONS: dict[str, Operation] = {by_id}\n")
    listed_ops = "".join(_constant(facts["operation_id"]) + ", " for facts in listings)
    lines.append("\n#: The listing operations (``paging`` set), in spec order.\n")
    lines.append(f"LISTINGS: tuple[Operation, ...] = ({listed_ops})\n")

    for name in event_schemas:
        fields = ", ".join(_call("Field", f, _FIELD_DEFAULTS) for f in _fields(spec, name))
        lines.append(f"\n#: Every field of the {name} schema, in spec order.\n")
        lines.append(f"{_constant(name)}_FIELDS: tuple[Field, ...] = ({fields},)\n")

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

    filter_sets = [(facts["operation_id"], facts["summary"], facts["_params"]) for facts in listings]
    if not any(operation_id == LIST_OPERATION for operation_id, _, _ in filter_sets):
        filter_sets.insert(0, (LIST_OPERATION, "List Events", []))
    for operation_id, summary, params in filter_sets:
        # None means "not given", as for every optional argument of the wrapper.
        members = [f"{p['python_name']!r}: {_annotation(p)} | None" for p in params if p["role"] == "filter"]
        name = _filters_name(operation_id)
        lines.append(f"\n#: The filters of {summary} as keyword arguments (``**filters``).\n")
        typed = "{" + ", ".join(members) + "}"
        lines.append(f'{name} = TypedDict("{name}", {typed}, total=False)\n')
    return "".join(lines)
