"""Fail with a unified diff when generated/ (or spec/event.schema.json) is stale.

Regenerates into a temporary directory from today's ``spec/`` and compares the
result with the work tree, which it never modifies.

Example::

    python scripts/check_generated.py      # exit 0: current; exit 1 and a diff: stale
"""

from __future__ import annotations

import difflib
import filecmp
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import regenerate  # sibling script, not an installed module

#: Byte-compiled caches appear next to imported generated code; they are not output.
_IGNORED = {"__pycache__", ".ruff_cache", ".mypy_cache"}


def _files(root: Path) -> set[Path]:
    if not root.exists():
        return set()
    found = set()
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if path.is_file() and not _IGNORED.intersection(relative.parts) and path.suffix != ".pyc":
            found.add(relative)
    return found


def _read_lines(path: Path) -> list[str]:
    return path.read_text(errors="replace").splitlines(keepends=True) if path.exists() else []


def compare(expected_root: Path, actual_root: Path) -> list[str]:
    """Unified diff lines between the fresh output and the work tree (empty: identical)."""
    diff: list[str] = []
    for top in (Path("generated"), regenerate.EVENT_SCHEMA):
        expected, actual = expected_root / top, actual_root / top
        # spec/event.schema.json is one file; generated/ a tree
        names = {Path()} if top.suffix else _files(expected) | _files(actual)
        for name in sorted(names):
            fresh, current = expected / name, actual / name
            if fresh.exists() and current.exists() and filecmp.cmp(fresh, current, shallow=False):
                continue
            label = (top / name).as_posix()
            # Said in words too: an empty file (py.typed, a stray __init__.py) has no diff lines.
            if not fresh.exists():
                diff.append(f"only in the work tree (the scripts do not write it): {label}\n")
            elif not current.exists():
                diff.append(f"missing from the work tree (the scripts write it): {label}\n")
            diff.extend(
                difflib.unified_diff(
                    _read_lines(current),
                    _read_lines(fresh),
                    fromfile=f"{label} (work tree)",
                    tofile=f"{label} (regenerated from spec/)",
                )
            )
            if diff and not diff[-1].endswith("\n"):
                diff.append("\n")
    return diff


def main() -> int:
    regenerate.check_pinned_tools()
    with tempfile.TemporaryDirectory(prefix="webex-events-check-") as tmp:
        fresh = Path(tmp)
        regenerate.build(fresh)
        diff = compare(fresh, regenerate.ROOT)
    if diff:
        sys.stdout.writelines(diff)
        print(
            "\ngenerated_current: generated/ is not what scripts/regenerate.py makes from spec/ today."
            "\nNever edit generated/ by hand: change spec/ or scripts/ and run `nox -s generate`."
        )
        return 1
    print("generated_current: generated/ and spec/event.schema.json match spec/openapi.yaml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
