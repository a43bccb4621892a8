"""Follow Webex's published OpenAPI document: extract the Events part, apply our overlay.

Flow (every step deterministic, two runs give byte-identical files)::

    Webex's whole document (SOURCE: a file or an https URL)
      -> the Events part: ``/events``, ``/events/{eventId}`` and every component they reach
         through ``$ref`` (or name in ``security``), values as fetched
      -> ``spec/upstream/events.json`` (stored: JSON, keys sorted but properties and examples
         in Webex's order, indent 2)
      -> + ``spec/overlay.yaml`` (our deviations: an OpenAPI Overlay, each action says why)
      -> ``spec/openapi.yaml`` (PRODUCED: what scripts/regenerate.py reads; never edit it)

and a summary, in a user's terms, of what changed between the previous ``spec/openapi.yaml``
and the new one: parameters, Event fields (``data.*`` too), enum values, ranges, descriptions;
**BREAKING** marks a removed (or renamed) operation, parameter, field or enum value, a type
change, a newly required parameter and a narrower range.

Exit status: 0 nothing changed, 1 something changed (files rewritten, summary printed),
2 error (a bad source, an overlay problem) with a one-line message.

Overlay semantics (OpenAPI Overlay 1.1, RFC 9535 JSONPath targets evaluated by the pinned
``jsonpath-rfc9535``): actions apply in order to the result of the previous one. ``remove: true``
deletes every target node; ``update`` merges an object into each target object (nested objects
merge, any other value replaces), appends to a target array, replaces a target scalar; ``copy``
(1.1) merges the single node its JSONPath selects the same way. An action whose target matches
nothing is an error naming it, except an action marked ``x-webex-events-fills-gap: true``: it
only fills in what Webex leaves unstated (its target has a filter that stops matching once
Webex states the value), so when it matches nothing it is reported as obsolete instead.

Example::

    python scripts/sync_spec.py                       # fetch Webex's document (DEFAULT_SOURCE)
    python scripts/sync_spec.py ~/webex-admin.json    # from a local copy of it
    python scripts/sync_spec.py --reapply             # overlay edited: re-produce, no fetch
    python scripts/sync_spec.py --check               # exit 1 if spec/openapi.yaml is stale
    python scripts/sync_spec.py SOURCE --spec-dir /tmp/spec   # work on another spec/ directory
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import difflib
import json
import re
import sys
import traceback
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonpath_rfc9535 as jsonpath
import yaml
from jsonpath_rfc9535.serialize import canonical_string

sys.path.insert(0, str(Path(__file__).resolve().parent))
import spec_facts  # sibling script, not an installed module

__all__ = [
    "DEFAULT_SOURCE",
    "SyncError",
    "apply_overlay",
    "dump_upstream",
    "extract_events",
    "main",
    "produce",
    "render_spec",
    "summarize",
]

ROOT = Path(__file__).resolve().parent.parent
#: Webex's whole admin document: the one that carries the Events API.
DEFAULT_SOURCE = (
    "https://raw.githubusercontent.com/webex/webex-openapi-specs/main/public-spec/webex-admin.json"
)
#: The operations this project covers; everything they reach comes along.
EVENTS_PATHS = ("/events", "/events/{eventId}")
UPSTREAM = Path("upstream") / "events.json"
OVERLAY = Path("overlay.yaml")
SPEC = Path("openapi.yaml")
GAP_FILL = "x-webex-events-fills-gap"
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_OVERLAY_VERSION = re.compile(r"^1\.[01]\.\d+$")
_ACTION_KEYS = {"target", "description", "update", "remove", "copy"}
_ABSENT = "<absent>"

#: Values kept as data (their key order is the upstream's: the order of fields a reader sees).
_VERBATIM = {"example", "examples", "default", "enum", "const"}

#: Key order of the produced YAML: fixed OpenAPI field names first, in this order, then `x-`
#: extensions, then the rest. Within a schema it is the order of today's hand-written spec (so
#: spec/event.schema.json, derived key by key, does not move): type, enum, example, description.
_KEY_ORDER = [
    "openapi", "info", "servers", "security", "tags", "paths", "components",
    "title", "version", "summary", "operationId", "name", "in",
    "$ref", "type", "format", "enum", "x-enum-descriptions", "minimum", "maximum", "default",
    "example", "description", "required", "schema", "parameters", "requestBody", "responses",
    "headers", "content", "properties", "items", "anyOf", "oneOf", "allOf",
    "additionalProperties", "scheme", "license", "url",
]  # fmt: skip
#: A parameter reads best as: what it is called, where it goes, what it means, then its schema.
_PARAMETER_ORDER = ["name", "in", "description", "required", "schema", "example"]
#: Maps whose keys are names (not OpenAPI fields): kept in their order, never ranked.
_NAMED_MAPS = {
    "paths", "properties", "responses", "headers", "content", "schemas", "securitySchemes",
    "parameters", "requestBodies", "links", "callbacks", "variables", "scopes", "mapping",
}  # fmt: skip
#: Component kinds in the order of the hand-written spec this file replaced.
_COMPONENT_ORDER = ("securitySchemes", "parameters", "headers", "responses", "requestBodies", "schemas")

HEADER = """\
# PRODUCED by scripts/sync_spec.py: do not edit this file (`nox` fails when it was).
#
# What it is: the Events part of Webex's published OpenAPI document, stored as fetched in
# spec/upstream/events.json, with this project's deviations applied from spec/overlay.yaml
# (an OpenAPI Overlay: each action says what it changes and why; the `x-webex-events-*`
# extensions that scripts/regenerate.py reads are explained at its top).
#
# To change the API description, add or edit an action in spec/overlay.yaml and run
# `python scripts/sync_spec.py --reapply`; `nox -s sync_spec` also fetches Webex's latest
# document. Then `nox -s generate`: spec/event.schema.json and generated/ derive from this file.
"""


class SyncError(Exception):
    """A bad source or overlay: reported as one line, exit status 2."""


# --------------------------------------------------------------------------- source


def load_source(source: str) -> Any:
    """Webex's document from a local file or an https URL, decoded (JSON, or YAML)."""
    if "://" in source:
        if not source.startswith("https://"):
            raise SyncError(f"{source}: only https URLs (or a local file) are accepted")
        # the scheme is checked above: https only, never file:// or a custom scheme
        request = urllib.request.Request(source, headers={"User-Agent": "webex-events sync_spec"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                text = response.read().decode("utf-8")
        except (urllib.error.URLError, OSError, UnicodeDecodeError) as error:
            raise SyncError(f"cannot fetch {source}: {error}") from error
    else:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise SyncError(f"cannot read {source}: {error}") from error
    try:
        return json.loads(text)
    except ValueError:
        pass  # Webex publishes JSON; a YAML copy of it is accepted too
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SyncError(f"{source}: neither JSON nor YAML: {str(error).splitlines()[0]}") from error


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _refs(node: Any) -> Iterator[str]:
    """Every ``$ref`` below *node* (example values are data and are skipped)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            elif key not in ("example", "examples"):
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def extract_events(document: Any) -> dict[str, Any]:
    """The Events part of a whole OpenAPI document: its two paths and what they reach.

    Values are copied unchanged; components come along when a ``$ref`` (transitively) or an
    operation's ``security`` names them. Nothing else is kept: not ``info`` (it names the
    whole document, so two documents carrying the same Events API would differ).

    >>> doc = {"openapi": "3.0.0", "info": {"title": "Webex Admin"}, "paths": {
    ...     "/events": {"get": {"responses": {"200": {"content": {"application/json": {
    ...         "schema": {"$ref": "#/components/schemas/Page"}}}}}}},
    ...     "/events/{eventId}": {"get": {}}, "/people": {"get": {}}},
    ...     "components": {"schemas": {"Page": {"items": {"$ref": "#/components/schemas/Event"}},
    ...                                "Event": {"type": "object"}, "Person": {}}}}
    >>> part = extract_events(doc)
    >>> sorted(part), sorted(part["paths"]), sorted(part["components"]["schemas"])
    (['components', 'openapi', 'paths'], ['/events', '/events/{eventId}'], ['Event', 'Page'])
    """
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise SyncError("the source is not an OpenAPI document (no `paths`)")
    version = document.get("openapi")
    if not isinstance(version, str) or not version.startswith("3.0."):
        raise SyncError(f"the source is OpenAPI {version!r}; this project reads OpenAPI 3.0 documents")
    missing = [path for path in EVENTS_PATHS if path not in document["paths"]]
    if missing:
        raise SyncError(f"the source has no {' nor '.join(missing)}: is it Webex's admin document?")
    paths = {path: copy.deepcopy(document["paths"][path]) for path in EVENTS_PATHS}
    available = document.get("components") or {}
    components: dict[str, dict[str, Any]] = {}

    def take(kind: str, name: str, via: str) -> Any:
        found = available.get(kind, {}).get(name) if isinstance(available.get(kind), dict) else None
        if found is None:
            raise SyncError(f"{via} names components.{kind}.{name}, which the source does not have")
        if name in components.setdefault(kind, {}):
            return None
        components[kind][name] = copy.deepcopy(found)
        return found

    todo: list[Any] = [paths]
    for item in paths.values():
        for method in _HTTP_METHODS:
            for requirement in (item.get(method) or {}).get("security") or []:
                for name in requirement:
                    todo.append(take("securitySchemes", name, f"security of {method.upper()}"))
    while todo:
        node = todo.pop()
        for ref in _refs(node):
            parts = ref.split("/")
            if len(parts) < 4 or parts[:2] != ["#", "components"]:
                raise SyncError(f"unsupported $ref {ref!r} (only #/components/... references are followed)")
            todo.append(take(_unescape(parts[2]), _unescape(parts[3]), f"$ref {ref!r}"))
    part: dict[str, Any] = {"openapi": version, "paths": paths}
    if components:
        part["components"] = components
    return part


def _canonical(node: Any, *, names: bool = False) -> Any:
    """Keys sorted, except the names of a ``properties`` map (the order of fields, which the
    generated models follow) and data values (examples, enums, defaults), kept as fetched."""
    if isinstance(node, list):
        return [_canonical(value) for value in node]
    if not isinstance(node, dict):
        return node
    if names:
        return {key: _canonical(value) for key, value in node.items()}
    return {
        key: node[key] if key in _VERBATIM else _canonical(node[key], names=key == "properties")
        for key in sorted(node)
    }


def dump_upstream(part: dict[str, Any]) -> str:
    """The stored text of the Events part: JSON, keys sorted (see ``_canonical``), indent 2.

    >>> print(dump_upstream({"paths": {}, "openapi": "3.0.0"}), end="")
    {
      "openapi": "3.0.0",
      "paths": {}
    }
    """
    return json.dumps(_canonical(part), indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- overlay


@dataclasses.dataclass(frozen=True)
class Action:
    """One overlay action; ``label`` names it in messages (its number and description)."""

    number: int
    description: str
    target: str
    update: Any = None
    remove: bool = False
    copy: str | None = None
    fills_gap: bool = False

    @property
    def label(self) -> str:
        first = " ".join(self.description.split())
        return f"action {self.number} ({first if len(first) <= 72 else first[:69] + '...'})"


@dataclasses.dataclass
class Applied:
    """The overlay's result: the document, what its actions replaced, which ones are obsolete."""

    document: dict[str, Any]
    #: (action label, normalized path) -> the upstream value an action removed or overwrote
    replaced: dict[tuple[str, str], Any]
    #: labels of gap-filling actions that matched nothing (Webex now states the value)
    obsolete: list[str]


def load_overlay(path: Path) -> list[Action]:
    """The actions of an overlay document, checked (an unusable overlay is a SyncError)."""
    try:
        overlay = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise SyncError(f"cannot read the overlay {path}: {str(error).splitlines()[0]}") from error
    if not isinstance(overlay, dict) or not _OVERLAY_VERSION.match(str(overlay.get("overlay", ""))):
        raise SyncError(f"{path}: not an OpenAPI Overlay 1.0/1.1 document (`overlay: 1.1.0` expected)")
    info = overlay.get("info")
    if not isinstance(info, dict) or not info.get("title") or not info.get("version"):
        raise SyncError(f"{path}: `info` needs a title and a version")
    raw_actions = overlay.get("actions")
    if not isinstance(raw_actions, list) or not raw_actions:
        raise SyncError(f"{path}: `actions` must be a non-empty list")
    actions = []
    for number, raw in enumerate(raw_actions, start=1):
        if not isinstance(raw, dict):
            raise SyncError(f"{path}: action {number} is not a mapping")
        description = raw.get("description")
        if not isinstance(description, str) or not description.strip():
            raise SyncError(f"{path}: action {number} has no description (say why the deviation exists)")
        where = f"{path}: {Action(number, description, '').label}"
        unknown = sorted(str(key) for key in raw if key not in _ACTION_KEYS and not str(key).startswith("x-"))
        if unknown:
            raise SyncError(f"{where}: unknown field(s) {', '.join(unknown)}")
        if not isinstance(raw.get("target"), str):
            raise SyncError(f"{where}: `target` must be a JSONPath string")
        modifiers = [key for key in ("update", "copy") if key in raw] + (
            ["remove"] if raw.get("remove") else []
        )
        if len(modifiers) != 1:
            raise SyncError(f"{where}: needs exactly one of update, remove: true, copy")
        if "copy" in raw and (not isinstance(raw["copy"], str) or str(overlay["overlay"]).startswith("1.0.")):
            raise SyncError(f"{where}: `copy` is a JSONPath string, and needs `overlay: 1.1.0`")
        actions.append(
            Action(
                number=number,
                description=description,
                target=raw["target"],
                update=copy.deepcopy(raw.get("update")),
                remove=bool(raw.get("remove")),
                copy=raw.get("copy"),
                fills_gap=raw.get(GAP_FILL) is True,
            )
        )
    return actions


def _child(path: str, key: str | int) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else f"{path}[{canonical_string(key)}]"


def _stable_path(root: Any, location: tuple[str | int, ...]) -> str:
    """A node's path that survives a parameter inserted before it: a list member with a
    ``name`` (a parameter) is shown as a filter on that name, anything else by index or key."""
    path, node = "$", root
    for key in location:
        member = node[key]
        if isinstance(key, int) and isinstance(member, dict) and isinstance(member.get("name"), str):
            path += f"[?@.name=={canonical_string(member['name'])}]"
        else:
            path = _child(path, key)
        node = member
    return path


def _merge(target: dict[str, Any], value: dict[str, Any], path: str, replaced: dict[str, Any]) -> None:
    for key, new in value.items():
        old = target.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            _merge(old, new, _child(path, key), replaced)
            continue
        if key in target and old != new:
            replaced[_child(path, key)] = old
        target[key] = copy.deepcopy(new)


def _query(action: Action, expression: str, document: Any) -> jsonpath.JSONPathNodeList:
    try:
        return jsonpath.find(expression, document)
    except jsonpath.JSONPathError as error:
        raise SyncError(f"overlay {action.label}: bad JSONPath {expression!r}: {error}") from error


def apply_overlay(document: dict[str, Any], actions: list[Action]) -> Applied:
    """Apply *actions* in order to a copy of *document*.

    >>> doc = {"paths": {"/a": {"get": {"operationId": "A a", "tags": ["A"]}}}}
    >>> rename = Action(1, "a Python-friendly name", "$.paths['/a'].get", update={"operationId": "aA"})
    >>> applied = apply_overlay(doc, [rename])
    >>> applied.document["paths"]["/a"]["get"]["operationId"], doc["paths"]["/a"]["get"]["operationId"]
    ('aA', 'A a')
    >>> applied.replaced
    {('action 1 (a Python-friendly name)', "$['paths']['/a']['get']['operationId']"): 'A a'}
    >>> apply_overlay(doc, [Action(2, "why", "$.paths['/b']", remove=True)])
    Traceback (most recent call last):
    ...
    sync_spec.SyncError: overlay action 2 (why) matches nothing: target $.paths['/b']
    """
    result = copy.deepcopy(document)
    replaced: dict[tuple[str, str], Any] = {}
    obsolete: list[str] = []
    # what a `copy` took: removing it afterwards is a move, and hides nothing of Webex's
    copied: list[tuple[str | int, ...]] = []
    for action in actions:
        nodes = _query(action, action.target, result)
        if not nodes:
            if action.fills_gap:
                obsolete.append(action.label)
                continue
            raise SyncError(f"overlay {action.label} matches nothing: target {action.target}")
        found: dict[str, Any] = {}
        if action.remove:
            # deepest and last first, so removing one node never shifts another's index
            for node in sorted(nodes, key=lambda n: (len(n.location), n.location), reverse=True):
                if node.parent is None:
                    raise SyncError(f"overlay {action.label}: cannot remove the whole document")
                if not any(node.location[: len(source)] == source for source in copied):
                    found[_stable_path(result, node.location)] = node.value
                del node.parent.value[node.location[-1]]  # type: ignore[attr-defined]
        else:
            if action.copy is not None:
                sources = _query(action, action.copy, result)
                if len(sources) != 1:
                    raise SyncError(
                        f"overlay {action.label}: copy {action.copy} selects {len(sources)} nodes, not one"
                    )
                value = sources[0].value
                copied.append(sources[0].location)
            else:
                value = action.update
            for node in nodes:
                current = node.value
                where = _stable_path(result, node.location)
                if isinstance(current, dict):
                    if not isinstance(value, dict):
                        raise SyncError(f"overlay {action.label}: {where} is an object, the value is not")
                    _merge(current, value, where, found)
                elif isinstance(current, list):
                    current.append(copy.deepcopy(value))
                elif current != value:
                    found[where] = current
                    node.value = copy.deepcopy(value)
        replaced.update({(action.label, where): old for where, old in found.items()})
    return Applied(result, replaced, obsolete)


# --------------------------------------------------------------------------- produced spec


def _ordered(node: Any, *, names: bool = False) -> Any:
    """*node* with its keys in the produced order; *names*: a map of names, kept as it is."""
    if isinstance(node, list):
        return [_ordered(value) for value in node]
    if not isinstance(node, dict):
        return node
    if names:
        return {key: _ordered(value) for key, value in node.items()}

    order = _PARAMETER_ORDER if "name" in node and "in" in node else _KEY_ORDER

    def rank(key: str) -> tuple[int, int, str]:
        if key in order:
            return (0, order.index(key), key)
        return (1 if key.startswith("x-") else 2, 0, key)

    ordered = {}
    for key in sorted(node, key=rank):
        value = node[key]
        if key in _VERBATIM or key.startswith("x-"):
            ordered[key] = value  # data (an example, an extension's rule): as the overlay wrote it
        else:
            ordered[key] = _ordered(value, names=key in _NAMED_MAPS)
    return ordered


def _components_ordered(document: dict[str, Any]) -> dict[str, Any]:
    ordered: dict[str, Any] = _ordered(document)
    components = ordered.get("components")
    if isinstance(components, dict):
        # names sorted: an overlay addition and a Webex addition each have one place in the
        # file, whatever order they were added in
        kinds = sorted(
            components,
            key=lambda kind: (_COMPONENT_ORDER.index(kind) if kind in _COMPONENT_ORDER else 99, kind),
        )
        ordered["components"] = {
            kind: (
                {name: components[kind][name] for name in sorted(components[kind])}
                if isinstance(components[kind], dict)
                else components[kind]
            )
            for kind in kinds
        }
    return ordered


class _Dumper(yaml.SafeDumper):
    """Block style, sequences indented under their key, multi-line text as ``|`` blocks."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def render_spec(document: dict[str, Any]) -> str:
    """The text of spec/openapi.yaml: the header, then *document* as block YAML in a fixed
    key order (OpenAPI fields in the usual order; properties in their upstream order)."""
    body = yaml.dump(
        _components_ordered(document),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1 << 20,  # one line per value: diffs stay one line per change
    )
    return HEADER + body


def produce(part: dict[str, Any], actions: list[Action]) -> tuple[str, Applied]:
    """spec/openapi.yaml's text from the stored Events part and the overlay's actions."""
    applied = apply_overlay(part, actions)
    return render_spec(applied.document), applied


# --------------------------------------------------------------------------- summary


def _operations(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for path, item in (spec.get("paths") or {}).items():
        for method in _HTTP_METHODS:
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


def _fields(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    try:
        return {field["path"]: field for field in spec_facts._fields(spec)}
    except (KeyError, TypeError, AttributeError):
        return {}  # no Event schema (a first run): every field is new


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
            yield from _leaves(old.get(key, _ABSENT), new.get(key, _ABSENT), _child(path, key))
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (before, after) in enumerate(zip(old, new, strict=True)):
            yield from _leaves(before, after, _child(path, index))
    elif old != new or type(old) is not type(new):
        yield path, old, new


#: Changes the lines above already tell in a user's terms (parameters, Event fields, enums).
_TOLD = re.compile(
    r"^\$\['paths'\]\[[^]]+\]\[[^]]+\]\['(parameters|summary|description)'\]"
    r"|^\$\['components'\]\['schemas'\]\['(Event|EventData)'\]\['properties'\]"
    r"|\['enum'\]"
)


def summarize(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed from the *old* produced spec to the *new* one, in a user's terms.

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

    old_fields, new_fields = _fields(old), _fields(new)
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
        lines += ["Event fields:", *section]

    other = [where for where, _, _ in _leaves(old, new) if not _TOLD.search(where)]
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


def _review(before: Applied | None, after: Applied) -> list[str]:
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


# --------------------------------------------------------------------------- command


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return {}  # unreadable (hand-broken): compare against nothing, it is rewritten anyway
    return loaded if isinstance(loaded, dict) else {}


def _write(path: Path, text: str) -> bool:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def _stored_part(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SyncError(f"cannot read {path}: {error}") from error
    if not isinstance(loaded, dict):
        raise SyncError(f"{path}: not a JSON object")
    return loaded


def check(spec_dir: Path, overlay: Path) -> int:
    """0 when spec/openapi.yaml is what the stored upstream part + the overlay produce, else 1."""
    stored = spec_dir / UPSTREAM
    part = _stored_part(stored)
    expected, _ = produce(part, load_overlay(overlay))
    problems = []
    if dump_upstream(part) != stored.read_text(encoding="utf-8"):
        problems.append(f"{stored} is not in its stored form (was it edited by hand?)")
    current = (spec_dir / SPEC).read_text(encoding="utf-8") if (spec_dir / SPEC).exists() else ""
    if current != expected:
        diff = list(
            difflib.unified_diff(
                current.splitlines(keepends=True),
                expected.splitlines(keepends=True),
                fromfile=f"{spec_dir / SPEC} (work tree)",
                tofile=f"{spec_dir / SPEC} (produced)",
            )
        )
        sys.stdout.writelines(diff[:200])
        problems.append(
            f"{spec_dir / SPEC} is not what {stored.name} + {overlay.name} produce: never edit it; "
            "put the change in spec/overlay.yaml and run `python scripts/sync_spec.py --reapply`"
        )
    for problem in problems:
        print(f"sync_spec --check: {problem}")
    if not problems:
        print(f"sync_spec --check: {spec_dir / SPEC} is what upstream + overlay produce")
    return 1 if problems else 0


def sync(source: str | None, spec_dir: Path, overlay: Path) -> int:
    """Extract, apply, write, summarize: 0 nothing changed, 1 something did."""
    actions = load_overlay(overlay)
    stored = spec_dir / UPSTREAM
    previous_part = _stored_part(stored) if stored.exists() else None
    if source is None:
        if previous_part is None:
            raise SyncError(f"--reapply needs {stored}: run a sync from Webex's document first")
        part, source = previous_part, str(stored)
    else:
        part = extract_events(load_source(source))
    upstream_text = dump_upstream(part)
    part = json.loads(upstream_text)  # exactly what is stored, so a re-apply gives the same
    spec_text, applied = produce(part, actions)
    before = None
    if previous_part is not None:
        try:
            before = apply_overlay(previous_part, actions)
        except SyncError:
            before = None  # the overlay no longer fits the old part: nothing to compare
    old_spec = _read_yaml(spec_dir / SPEC)
    new_spec = yaml.safe_load(spec_text)
    if new_spec != applied.document:  # never write a file that does not say what was produced
        raise SyncError("internal: the produced YAML does not load back to the overlay's result")

    changed = [
        path for path, text in ((stored, upstream_text), (spec_dir / SPEC, spec_text)) if _write(path, text)
    ]
    if not changed:
        print(f"sync_spec: {spec_dir} is up to date with {source}")
        return 0
    lines = summarize(old_spec, new_spec)
    print(f"sync_spec: from {source}: rewrote {', '.join(str(path) for path in changed)}")
    print("\n".join(lines) if lines else "No change to the API description (text or order only).")
    if applied.obsolete:
        print(
            "Overlay actions that no longer apply (Webex now states the value): delete them from the overlay:"
        )
        print("\n".join(f"  {label}" for label in applied.obsolete))
    review = _review(before, applied)
    if review:
        print("Review: Webex changed text that an overlay action replaces (is the action still right?):")
        print("\n".join(review))
    if any("**BREAKING**" in line for line in lines):
        print("BREAKING changes above: users' code may stop working; say so in the changelog.")
    print("Next: `nox -s generate`, review the diff of generated/, then `nox`.")
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None,
        epilog="Exit status: 0 nothing changed, 1 something changed, 2 error.",
    )
    parser.add_argument(
        "source", nargs="?", default=DEFAULT_SOURCE, help="Webex's whole document: a file or an https URL"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="only check that openapi.yaml is current")
    mode.add_argument(
        "--reapply", action="store_true", help="re-apply the overlay to the stored part, no fetch"
    )
    parser.add_argument("--spec-dir", type=Path, default=ROOT / "spec", help="the spec/ directory to work on")
    parser.add_argument(
        "--overlay", type=Path, default=None, help="the overlay (default: SPEC_DIR/overlay.yaml)"
    )
    args = parser.parse_args(argv)
    overlay = args.overlay if args.overlay is not None else args.spec_dir / OVERLAY
    try:
        if args.check:
            return check(args.spec_dir, overlay)
        return sync(None if args.reapply else args.source, args.spec_dir, overlay)
    except SyncError as error:
        print(f"sync_spec: error: {error}", file=sys.stderr)
        return 2
    except Exception:
        traceback.print_exc()  # a bug here: exit 2 too, so CI never mistakes it for a change
        return 2


if __name__ == "__main__":
    sys.exit(main())
