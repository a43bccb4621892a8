"""Apply an OpenAPI Overlay (our deviations from Webex's spec) to the Events part.

Semantics (OpenAPI Overlay 1.1, RFC 9535 JSONPath targets evaluated by the pinned
``jsonpath-rfc9535``): actions apply in order to the result of the previous one. ``remove: true``
deletes every target node; ``update`` merges an object into each target object (nested objects
merge, any other value replaces), appends to a target array, replaces a target scalar; ``copy``
(1.1) merges the single node its JSONPath selects the same way. An action whose target matches
nothing is an error naming it, except an action marked ``x-webex-events-fills-gap: true``: it
only fills in what Webex leaves unstated (its target has a filter that stops matching once
Webex states the value), so when it matches nothing it is reported as obsolete instead.

The overlay also says which of Webex's operations are taken, and into which stored file
(``x-webex-events-upstream``, read by :func:`load_upstream_parts`).
"""

from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path
from typing import Any

import jsonpath_rfc9535 as jsonpath
import yaml
from _spec_extract import Parts, SyncError, parse_parts
from jsonpath_rfc9535.serialize import canonical_string

__all__ = [
    "GAP_FILL",
    "UPSTREAM_PARTS",
    "Action",
    "Applied",
    "apply_overlay",
    "child",
    "load_overlay",
    "load_upstream_parts",
]

GAP_FILL = "x-webex-events-fills-gap"
#: The overlay's map of stored upstream files to the operations each holds.
UPSTREAM_PARTS = "x-webex-events-upstream"
_OVERLAY_VERSION = re.compile(r"^1\.[01]\.\d+$")
_ACTION_KEYS = {"target", "description", "update", "remove", "copy"}


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
    #: what went wrong with each action that no longer applies (only when not ``strict``)
    failed: list[str] = dataclasses.field(default_factory=list)


def _read(path: Path) -> dict[str, Any]:
    try:
        overlay = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise SyncError(f"cannot read the overlay {path}: {str(error).splitlines()[0]}") from error
    if not isinstance(overlay, dict) or not _OVERLAY_VERSION.match(str(overlay.get("overlay", ""))):
        raise SyncError(f"{path}: not an OpenAPI Overlay 1.0/1.1 document (`overlay: 1.1.0` expected)")
    return overlay


def load_upstream_parts(path: Path) -> Parts:
    """Which of Webex's operations the overlay applies to, by stored file (``x-webex-events-upstream``)."""
    return parse_parts(_read(path).get(UPSTREAM_PARTS), str(path))


def load_overlay(path: Path) -> list[Action]:
    """The actions of an overlay document, checked (an unusable overlay is a SyncError)."""
    overlay = _read(path)
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


def child(path: str, key: str | int) -> str:
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
            path = child(path, key)
        node = member
    return path


def _merge(target: dict[str, Any], value: dict[str, Any], path: str, replaced: dict[str, Any]) -> None:
    for key, new in value.items():
        old = target.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            _merge(old, new, child(path, key), replaced)
            continue
        if key in target and old != new:
            replaced[child(path, key)] = old
        target[key] = copy.deepcopy(new)


def _query(action: Action, expression: str, document: Any) -> jsonpath.JSONPathNodeList:
    try:
        return jsonpath.find(expression, document)
    except jsonpath.JSONPathError as error:
        raise SyncError(f"overlay {action.label}: bad JSONPath {expression!r}: {error}") from error


def apply_overlay(document: dict[str, Any], actions: list[Action], *, strict: bool = True) -> Applied:
    """Apply *actions* in order to a copy of *document*.

    *strict*: an action that no longer applies (its target or its copy's source matches
    nothing...) raises a SyncError naming it. Otherwise it is skipped, its message kept in
    ``failed``, and the others apply: what Webex's document would give, to tell what changed
    before naming the actions to fix.

    >>> doc = {"paths": {"/a": {"get": {"operationId": "A a", "tags": ["A"]}}}}
    >>> rename = Action(1, "a Python-friendly name", "$.paths['/a'].get", update={"operationId": "aA"})
    >>> applied = apply_overlay(doc, [rename])
    >>> applied.document["paths"]["/a"]["get"]["operationId"], doc["paths"]["/a"]["get"]["operationId"]
    ('aA', 'A a')
    >>> applied.replaced
    {('action 1 (a Python-friendly name)', "$['paths']['/a']['get']['operationId']"): 'A a'}
    >>> gone = Action(2, "why", "$.paths['/b']", remove=True)
    >>> apply_overlay(doc, [gone])
    Traceback (most recent call last):
    ...
    _spec_extract.SyncError: overlay action 2 (why) matches nothing: target $.paths['/b']
    >>> apply_overlay(doc, [gone, rename], strict=False).failed
    ["overlay action 2 (why) matches nothing: target $.paths['/b']"]
    """
    result = copy.deepcopy(document)
    replaced: dict[tuple[str, str], Any] = {}
    obsolete: list[str] = []
    failed: list[str] = []
    # what a `copy` took: removing it afterwards is a move, and hides nothing of Webex's
    copied: list[tuple[str | int, ...]] = []
    for action in actions:
        try:
            found = _apply(action, result, copied)
        except SyncError as error:
            if strict or str(error).startswith(f"overlay {action.label}: bad JSONPath"):
                raise
            failed.append(str(error))
            continue
        if found is None:
            obsolete.append(action.label)
            continue
        replaced.update({(action.label, where): old for where, old in found.items()})
    return Applied(result, replaced, obsolete, failed)


def _apply(
    action: Action, result: dict[str, Any], copied: list[tuple[str | int, ...]]
) -> dict[str, Any] | None:
    """Apply one action to *result* in place: what it replaced, by path (None: a gap-filling
    action that matches nothing, Webex now states the value)."""
    nodes = _query(action, action.target, result)
    if not nodes:
        if action.fills_gap:
            return None
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
    return found
