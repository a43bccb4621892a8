"""Extract the parts of Webex's whole OpenAPI document that this project serves, and store them.

Which operations are taken, and into which file of ``spec/upstream/`` each goes, is data of
spec/ (``x-webex-events-upstream`` in spec/overlay.yaml): one file per area of Webex's API
(List Events and Get Event Details in ``events.json``, the admin audit operations in
``admin-audit.json``...), each holding its operations and every component they reach through
``$ref`` (or name in ``security``), values as fetched. A change Webex makes to one stream then
shows in that stream's file, and a reviewer reads it there. The stored form is JSON with keys
sorted, but properties and examples in Webex's order, indent 2. The overlay applies to the
parts merged into one document (:func:`merge_parts`).
"""

from __future__ import annotations

import copy
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "HTTP_METHODS",
    "VERBATIM",
    "Parts",
    "SyncError",
    "dump_upstream",
    "extract",
    "extract_part",
    "load_source",
    "merge_parts",
    "parse_parts",
]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

#: Values kept as data (their key order is the upstream's: the order of fields a reader sees).
VERBATIM = {"example", "examples", "default", "enum", "const"}

#: stored file name (below spec/upstream/) -> the operations it holds, as (method, path)
Parts = dict[str, tuple[tuple[str, str], ...]]

_OPERATION = re.compile(r"^(GET|PUT|POST|DELETE|OPTIONS|HEAD|PATCH|TRACE) (/\S*)$")
_PART_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*\.json$")


class SyncError(Exception):
    """A bad source or overlay: reported as one line, exit status 2."""


def parse_parts(value: object, where: str) -> Parts:
    """The ``x-webex-events-upstream`` map of the overlay, checked.

    >>> parse_parts({"events.json": ["GET /events"]}, "overlay")
    {'events.json': (('get', '/events'),)}
    """
    if not isinstance(value, Mapping) or not value:
        raise SyncError(f"{where}: `x-webex-events-upstream` must map file names to lists of operations")
    parts: Parts = {}
    seen: set[tuple[str, str]] = set()
    for name, operations in value.items():
        if not isinstance(name, str) or not _PART_NAME.match(name):
            raise SyncError(f"{where}: upstream file {name!r} must be a lower-case name ending in .json")
        if not isinstance(operations, list) or not operations:
            raise SyncError(f"{where}: upstream file {name} needs a list of operations (`GET /path`)")
        taken = []
        for operation in operations:
            match = _OPERATION.match(operation) if isinstance(operation, str) else None
            if match is None:
                raise SyncError(f"{where}: {name}: {operation!r} is not `METHOD /path`")
            key = (match[1].lower(), match[2])
            if key in seen:
                raise SyncError(f"{where}: {operation} is listed twice")
            seen.add(key)
            taken.append(key)
        parts[name] = tuple(taken)
    return parts


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


def extract_part(document: dict[str, Any], operations: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The *operations* of a whole OpenAPI document and every component they reach.

    Values are copied unchanged; components come along when a ``$ref`` (transitively) or an
    operation's ``security`` names them. An operation the document lacks is left out (the
    change summary reports it removed). Nothing else is kept: not ``info`` (it names the whole
    document, so two documents carrying the same operations would differ), nor another method
    of the same path (a path item keeps its shared fields: ``parameters``, ``summary``...).

    >>> doc = {"openapi": "3.0.0", "info": {"title": "Webex Admin"}, "paths": {
    ...     "/events": {"get": {"responses": {"200": {"content": {"application/json": {
    ...         "schema": {"$ref": "#/components/schemas/Page"}}}}}}, "post": {}},
    ...     "/people": {"get": {}}},
    ...     "components": {"schemas": {"Page": {"items": {"$ref": "#/components/schemas/Event"}},
    ...                                "Event": {"type": "object"}, "Person": {}}}}
    >>> part = extract_part(doc, [("get", "/events"), ("get", "/gone")])
    >>> sorted(part), list(part["paths"]["/events"]), sorted(part["components"]["schemas"])
    (['components', 'openapi', 'paths'], ['get'], ['Event', 'Page'])
    """
    paths: dict[str, dict[str, Any]] = {}
    for method, path in operations:
        item = document["paths"].get(path)
        if not isinstance(item, dict) or not isinstance(item.get(method), dict):
            continue
        kept = paths.setdefault(
            path, {key: copy.deepcopy(value) for key, value in item.items() if key not in HTTP_METHODS}
        )
        kept[method] = copy.deepcopy(item[method])
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
        for method in HTTP_METHODS:
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
    part: dict[str, Any] = {"openapi": document["openapi"], "paths": paths}
    if components:
        part["components"] = components
    return part


def extract(document: Any, parts: Parts) -> dict[str, dict[str, Any]]:
    """Each stored part (by file name) of a whole OpenAPI document.

    An operation the document lacks is left out of its part; a document with none of them is
    not the one this project follows (an error).
    """
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise SyncError("the source is not an OpenAPI document (no `paths`)")
    version = document.get("openapi")
    if not isinstance(version, str) or not version.startswith("3.0."):
        raise SyncError(f"the source is OpenAPI {version!r}; this project reads OpenAPI 3.0 documents")
    wanted = [operation for operations in parts.values() for operation in operations]
    if not any(
        isinstance(document["paths"].get(path), dict) and method in document["paths"][path]
        for method, path in wanted
    ):
        named = ", ".join(f"{method.upper()} {path}" for method, path in wanted)
        raise SyncError(f"the source has none of {named}: is it Webex's admin document?")
    return {name: extract_part(document, operations) for name, operations in parts.items()}


def merge_parts(parts: Mapping[str, dict[str, Any]], listed: Parts | None = None) -> dict[str, Any]:
    """The stored parts as one document (the overlay's target): paths in the order *listed*
    names them (else the parts' order), and each component once (a component two parts reach
    is the same in both, as fetched).

    >>> one = {"openapi": "3.0.0", "paths": {"/a": {}}, "components": {"schemas": {"S": {}}}}
    >>> two = {"openapi": "3.0.0", "paths": {"/b": {}}, "components": {"schemas": {"S": {}}}}
    >>> merge_parts({"a.json": one, "b.json": two})
    {'openapi': '3.0.0', 'paths': {'/a': {}, '/b': {}}, 'components': {'schemas': {'S': {}}}}
    """
    document: dict[str, Any] = {}
    for name, part in parts.items():
        version = part.get("openapi")
        if document.setdefault("openapi", version) != version:
            raise SyncError(f"upstream/{name} is OpenAPI {version}, another part {document['openapi']}")
        paths = document.setdefault("paths", {})
        for path, item in (part.get("paths") or {}).items():
            if path in paths:
                raise SyncError(f"upstream/{name}: {path} is in another part too")
            paths[path] = copy.deepcopy(item)
        for kind, named in (part.get("components") or {}).items():
            merged = document.setdefault("components", {}).setdefault(kind, {})
            for key, value in named.items():
                if key in merged and merged[key] != value:
                    raise SyncError(f"upstream/{name}: components.{kind}.{key} differs from another part's")
                merged.setdefault(key, copy.deepcopy(value))
    if listed is not None:
        rank = {path: index for index, (_, path) in enumerate(op for ops in listed.values() for op in ops)}
        paths = document.get("paths", {})
        document["paths"] = {
            path: paths[path] for path in sorted(paths, key=lambda p: rank.get(p, len(rank)))
        }
    return document


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
        key: node[key] if key in VERBATIM else _canonical(node[key], names=key == "properties")
        for key in sorted(node)
    }


def dump_upstream(part: dict[str, Any]) -> str:
    """The stored text of a part: JSON, keys sorted (see ``_canonical``), indent 2.

    >>> print(dump_upstream({"paths": {}, "openapi": "3.0.0"}), end="")
    {
      "openapi": "3.0.0",
      "paths": {}
    }
    """
    return json.dumps(_canonical(part), indent=2, ensure_ascii=False) + "\n"
