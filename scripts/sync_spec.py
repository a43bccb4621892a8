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
and the new one; **BREAKING** marks what can stop users' code working. Each step is a sibling
module: ``_spec_extract`` (the Events part and its stored form), ``_spec_overlay`` (the overlay
and what it applies), ``_spec_render`` (the produced file's text), ``_spec_changes`` (the
summary). This file is the command.

Exit status: 0 nothing changed, 1 something changed (files rewritten, summary printed),
2 error (a bad source, an overlay problem) with a one-line message.

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
from _spec_extract import SyncError, dump_upstream, extract_events, load_source
from _spec_overlay import Action, Applied, apply_overlay, load_overlay
from _spec_render import render_spec

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
UPSTREAM = Path("upstream") / "events.json"
OVERLAY = Path("overlay.yaml")
SPEC = Path("openapi.yaml")


def produce(part: dict[str, Any], actions: list[Action]) -> tuple[str, Applied]:
    """spec/openapi.yaml's text from the stored Events part and the overlay's actions."""
    applied = apply_overlay(part, actions)
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
