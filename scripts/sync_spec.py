"""Follow Webex's published OpenAPI document: extract the parts we serve, apply our overlay.

Flow (every step deterministic, two runs give byte-identical files)::

    Webex's whole document (SOURCE: a file or an https URL)
      -> the operations we serve (``x-webex-events-upstream`` in spec/overlay.yaml), each with
         every component it reaches through ``$ref`` (or names in ``security``), values as fetched
      -> ``spec/upstream/*.json`` (stored: one file per area of the API, e.g. ``events.json``,
         ``admin-audit.json``; JSON, keys sorted but properties and examples in Webex's order)
      -> merged, + ``spec/overlay.yaml`` (our deviations: an OpenAPI Overlay, each action says why)
      -> ``spec/openapi.yaml`` (PRODUCED: what scripts/regenerate.py reads; never edit it)

and a summary, in a user's terms, of what changed between the previous ``spec/openapi.yaml``
and the new one; **BREAKING** marks what can stop users' code working. When Webex's document
no longer fits an overlay action (Webex removed what it acts on), the summary of what changed
comes first, then each action that no longer applies, and nothing is written. Each step is a
sibling module: ``_spec_extract`` (the parts and their stored form), ``_spec_overlay`` (the
overlay and what it applies), ``_spec_render`` (the produced file's text), ``_spec_changes``
(the summary). This file is the command.

Exit status: 0 nothing changed, 1 something changed (files rewritten, summary printed),
2 error (a bad source, an overlay problem, an action that no longer applies) with a one-line
message per problem on stderr.

Example::

    python scripts/sync_spec.py                       # fetch Webex's document (DEFAULT_SOURCE)
    python scripts/sync_spec.py ~/webex-admin.json    # from a local copy of it
    python scripts/sync_spec.py --reapply             # overlay edited: re-produce, no fetch
    python scripts/sync_spec.py --check               # exit 1 if spec/openapi.yaml is stale
    python scripts/sync_spec.py SOURCE --spec-dir /tmp/spec   # work on another spec/ directory
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import traceback
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
# sibling modules, not installed ones
from _spec_changes import review, summarize
from _spec_extract import Parts, SyncError, dump_upstream, extract, load_source, merge_parts
from _spec_overlay import Action, Applied, apply_overlay, load_overlay, load_upstream_parts
from _spec_render import render_spec

__all__ = [
    "DEFAULT_SOURCE",
    "SyncError",
    "apply_overlay",
    "dump_upstream",
    "extract",
    "load_overlay",
    "main",
    "merge_parts",
    "produce",
    "render_spec",
    "stored_document",
    "summarize",
]

ROOT = Path(__file__).resolve().parent.parent
#: Webex's whole admin document: the one that carries the Events API and the audit streams.
DEFAULT_SOURCE = (
    "https://raw.githubusercontent.com/webex/webex-openapi-specs/main/public-spec/webex-admin.json"
)
UPSTREAM = Path("upstream")
OVERLAY = Path("overlay.yaml")
SPEC = Path("openapi.yaml")


def produce(document: dict[str, Any], actions: list[Action]) -> tuple[str, Applied]:
    """spec/openapi.yaml's text from the stored parts (merged) and the overlay's actions."""
    applied = apply_overlay(document, actions)
    return render_spec(applied.document), applied


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


def _stored_parts(spec_dir: Path, parts: Parts) -> dict[str, dict[str, Any]]:
    """The stored upstream parts by file name (a missing file is an error)."""
    return {name: _stored_part(spec_dir / UPSTREAM / name) for name in parts}


def stored_document(spec_dir: Path, overlay: Path | None = None) -> dict[str, Any]:
    """The stored upstream parts of *spec_dir* merged: the document the overlay applies to."""
    parts = load_upstream_parts(overlay if overlay is not None else spec_dir / OVERLAY)
    return merge_parts(_stored_parts(spec_dir, parts), parts)


def _unlisted(spec_dir: Path, parts: Parts) -> list[Path]:
    """Stored files of spec/upstream/ that the overlay no longer lists."""
    folder = spec_dir / UPSTREAM
    return sorted(path for path in folder.glob("*.json") if path.name not in parts) if folder.is_dir() else []


def check(spec_dir: Path, overlay: Path) -> int:
    """0 when spec/openapi.yaml is what the stored upstream parts + the overlay produce, else 1."""
    parts = load_upstream_parts(overlay)
    stored = _stored_parts(spec_dir, parts)
    expected, _ = produce(merge_parts(stored, parts), load_overlay(overlay))
    problems = []
    for name, part in stored.items():
        path = spec_dir / UPSTREAM / name
        if dump_upstream(part) != path.read_text(encoding="utf-8"):
            problems.append(f"{path} is not in its stored form (was it edited by hand?)")
    problems += [
        f"{path} is not listed in {overlay.name} (x-webex-events-upstream)"
        for path in _unlisted(spec_dir, parts)
    ]
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
            f"{spec_dir / SPEC} is not what {spec_dir / UPSTREAM} + {overlay.name} produce: never edit "
            "it; put the change in spec/overlay.yaml and run `python scripts/sync_spec.py --reapply`"
        )
    for problem in problems:
        print(f"sync_spec --check: {problem}")
    if not problems:
        print(f"sync_spec --check: {spec_dir / SPEC} is what upstream + overlay produce")
    return 1 if problems else 0


class OverlayMismatchError(SyncError):
    """Overlay actions that Webex's document no longer fits: one message per action."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = messages


def sync(source: str | None, spec_dir: Path, overlay: Path) -> int:
    """Extract, apply, write, summarize: 0 nothing changed, 1 something did.

    When an action no longer applies, what changed is printed first, then OverlayMismatchError
    names each such action; nothing is written.
    """
    actions = load_overlay(overlay)
    parts = load_upstream_parts(overlay)
    folder = spec_dir / UPSTREAM
    previous = {name: _stored_part(folder / name) for name in parts if (folder / name).exists()}
    if source is None:
        if len(previous) != len(parts):
            missing = ", ".join(str(folder / name) for name in parts if name not in previous)
            raise SyncError(f"--reapply needs {missing}: run a sync from Webex's document first")
        new_parts, source = previous, str(folder)
    else:
        new_parts = extract(load_source(source), parts)
    texts = {name: dump_upstream(part) for name, part in new_parts.items()}
    # exactly what is stored, so a re-apply gives the same
    document = merge_parts({name: json.loads(text) for name, text in texts.items()}, parts)
    applied = apply_overlay(document, actions, strict=False)
    old_spec = _read_yaml(spec_dir / SPEC)
    if applied.failed:
        lines = summarize(old_spec, applied.document)
        if lines:
            print(f"sync_spec: from {source}: what changed (nothing written: see the errors below):")
            print("\n".join(lines))
            print(
                "Fix or delete the overlay actions named below (Webex's document no longer has what "
                "they act on), then run the sync again."
            )
        raise OverlayMismatchError(applied.failed)
    spec_text = render_spec(applied.document)
    before = None
    if len(previous) == len(parts):
        try:
            before = apply_overlay(merge_parts(previous, parts), actions)
        except SyncError:
            before = None  # the overlay no longer fits the old parts: nothing to compare
    new_spec = yaml.safe_load(spec_text)
    if new_spec != applied.document:  # never write a file that does not say what was produced
        raise SyncError("internal: the produced YAML does not load back to the overlay's result")

    writes = [(folder / name, text) for name, text in texts.items()] + [(spec_dir / SPEC, spec_text)]
    changed = [path for path, text in writes if _write(path, text)]
    for path in _unlisted(spec_dir, parts):
        path.unlink()  # a part the overlay no longer lists
        changed.append(path)
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
    to_review = review(before, applied)
    if to_review:
        print("Review: Webex changed text that an overlay action replaces (is the action still right?):")
        print("\n".join(to_review))
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
        "--reapply", action="store_true", help="re-apply the overlay to the stored parts, no fetch"
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
    except OverlayMismatchError as error:
        sys.stdout.flush()  # what changed, on stdout, comes before the actions named on stderr
        for message in error.messages:
            print(f"sync_spec: error: {message}", file=sys.stderr)
        return 2
    except SyncError as error:
        print(f"sync_spec: error: {error}", file=sys.stderr)
        return 2
    except Exception:
        traceback.print_exc()  # a bug here: exit 2 too, so CI never mistakes it for a change
        return 2


if __name__ == "__main__":
    sys.exit(main())
