"""The version of this copy of webex-events, for ``webex_events.__version__``.

Read from the installed distribution's metadata, so pyproject.toml stays the only place the
version is written. A vendored copy (``scripts/vendor.py``) has no metadata of its own, and the
environment may hold another webex-events: its ``VENDORED.json`` says which version it is.
A copy with neither (a bare source tree on ``sys.path``) is ``0+unknown``.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

__all__ = ["UNKNOWN_VERSION", "__version__"]

UNKNOWN_VERSION = "0+unknown"
_DISTRIBUTION = "webex-events"


def _find_version() -> str:
    record = Path(__file__).with_name("VENDORED.json")
    if record.is_file():
        try:
            return str(json.loads(record.read_text(encoding="utf-8"))["version"])
        except (OSError, ValueError, KeyError, TypeError):
            return UNKNOWN_VERSION
    try:
        return metadata.version(_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return UNKNOWN_VERSION


__version__ = _find_version()
