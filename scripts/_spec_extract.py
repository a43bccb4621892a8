"""Extract the Events part of Webex's whole OpenAPI document, and write it in its stored form.

The part is ``/events``, ``/events/{eventId}`` and every component they reach through ``$ref``
(or name in ``security``), values as fetched. Its stored form (``spec/upstream/events.json``) is
JSON with keys sorted, but properties and examples in Webex's order, indent 2.
"""

from __future__ import annotations

import copy
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "EVENTS_PATHS",
    "HTTP_METHODS",
    "VERBATIM",
    "SyncError",
    "dump_upstream",
    "extract_events",
    "load_source",
]

#: The operations this project covers; everything they reach comes along.
EVENTS_PATHS = ("/events", "/events/{eventId}")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

#: Values kept as data (their key order is the upstream's: the order of fields a reader sees).
VERBATIM = {"example", "examples", "default", "enum", "const"}


class SyncError(Exception):
    """A bad source or overlay: reported as one line, exit status 2."""


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
        key: node[key] if key in VERBATIM else _canonical(node[key], names=key == "properties")
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
