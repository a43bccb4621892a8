"""The version of this copy of webex-events, for ``webex_events.__version__``.

From the installed distribution's metadata (pyproject.toml is the one place it is written); a
vendored copy (``scripts/vendor.py``) has none of its own: its ``VENDORED.json`` says which it is.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

__all__ = ["UNKNOWN_VERSION", "__version__"]

UNKNOWN_VERSION = "0+unknown"  # a bare source tree on sys.path


def _find_version() -> str:
    record = Path(__file__).with_name("VENDORED.json")
    try:
        if record.is_file():
            return str(json.loads(record.read_text(encoding="utf-8"))["version"])
        return metadata.version("webex-events")
    except (OSError, ValueError, KeyError, TypeError, metadata.PackageNotFoundError):
        return UNKNOWN_VERSION


__version__ = _find_version()
