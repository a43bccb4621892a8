"""Copy webex-events into another project as a private package.

The wrapper (``wrapper/webex_events``, without the command-line interface) and the
generated low-level package (``generated/webex_events_api``) are copied as one
package named ``--package``; the generated package becomes its ``_generated``
subpackage. Every import of ``webex_events`` / ``webex_events_api`` is rewritten
so the copy never refers to the original top-level names, and the license plus
``VENDORED.json`` (version and spec hash it came from) are written next to it.

Example::

    python scripts/vendor.py ../myapp/src --package myapp._vendor.webex_events
    # then, in myapp:  from myapp._vendor.webex_events import WebexEvents

Run it again after a spec change (and ``nox -s generate``) to update a vendored
copy: the destination package is replaced as a whole.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRAPPER = ROOT / "wrapper" / "webex_events"
GENERATED = ROOT / "generated" / "webex_events_api"
SPEC = ROOT / "spec" / "openapi.yaml"
#: Not vendored: the CLI needs click and is an application, not a library.
EXCLUDED = ("cli",)
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", *EXCLUDED)
_PACKAGE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
# `from webex_events_api.x import y`, `import webex_events.x as y`, and the same
# names inside strings that name modules (e.g. pytest plugin paths).
_IMPORT = re.compile(r"\b(from|import)(\s+)(webex_events_api|webex_events)\b")
_BARE_IMPORT = re.compile(r"^\s*import\s+(webex_events_api|webex_events)(\.\w+)*\s*$", re.MULTILINE)
_MODULE_STRING = re.compile(r"([\"'])(webex_events_api|webex_events)((?:\.\w+)*)\1")


def rewrite(source: str, package: str) -> str:
    """Point every reference to the original packages at the vendored ones."""
    targets = {"webex_events": package, "webex_events_api": f"{package}._generated"}
    bare = _BARE_IMPORT.search(source)
    if bare:
        # `import webex_events` binds the old name; rewriting it would silently break callers.
        raise SystemExit(f"vendor: cannot rewrite a bare `{bare.group(0).strip()}`; use `from ... import`")
    source = _IMPORT.sub(lambda m: f"{m.group(1)}{m.group(2)}{targets[m.group(3)]}", source)
    return _MODULE_STRING.sub(lambda m: f"{m.group(1)}{targets[m.group(2)]}{m.group(3)}{m.group(1)}", source)


_SPEC_SHA256 = re.compile(r'^SPEC_SHA256 = "([0-9a-f]{64})"$', re.MULTILINE)


def check_current() -> str:
    """The spec hash ``generated/`` was built from; SystemExit if it is not today's spec/.

    ``generated/webex_events_api/_source.py`` records the hash of the spec it was generated
    from: a copy made from a stale generated/ would not match the spec it claims to follow.
    """
    spec_hash = hashlib.sha256(SPEC.read_bytes()).hexdigest()
    match = _SPEC_SHA256.search((GENERATED / "_source.py").read_text())
    built_from = match.group(1) if match else None
    if built_from != spec_hash:
        raise SystemExit(
            "vendor: generated/ is stale: it was built from another spec/openapi.yaml"
            f" (sha256 {built_from or 'unknown'}, spec/ is {spec_hash}); run `nox -s generate` first"
        )
    return spec_hash


def vendor(destination: Path, package: str) -> Path:
    """Write the vendored copy below *destination*; return the package directory."""
    if not _PACKAGE_NAME.match(package):
        raise SystemExit(f"vendor: --package must be a dotted Python name, got {package!r}")
    spec_hash = check_current()
    target = destination.joinpath(*package.split("."))
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(WRAPPER, target, ignore=_IGNORE)
    shutil.copytree(GENERATED, target / "_generated", ignore=_IGNORE)
    for path in sorted(target.rglob("*.py")):
        path.write_text(rewrite(path.read_text(), package))
    # Parent packages the destination does not have yet must be importable.
    parent = target.parent
    while parent != destination and parent.is_relative_to(destination):
        (parent / "__init__.py").touch()
        parent = parent.parent
    shutil.copy(ROOT / "LICENSE", target / "LICENSE")
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    record = {
        "vendored_from": "webex-events",
        "version": version,
        "spec_sha256": spec_hash,
        "package": package,
        "update": "python scripts/vendor.py DEST --package NAME (from a webex-events checkout)",
    }
    (target / "VENDORED.json").write_text(json.dumps(record, indent=2) + "\n")
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Vendor webex-events into another project.")
    parser.add_argument("destination", type=Path, help="source root of the other project (e.g. ../myapp/src)")
    parser.add_argument(
        "--package", required=True, help="dotted name of the copy, e.g. myapp._vendor.webex_events"
    )
    args = parser.parse_args(argv)
    destination = args.destination.resolve()
    if not destination.is_dir():
        sys.exit(f"vendor: destination {destination} is not a directory")
    target = vendor(destination, args.package)
    print(f"vendor: wrote {target} (import it as {args.package})")


if __name__ == "__main__":
    main()
