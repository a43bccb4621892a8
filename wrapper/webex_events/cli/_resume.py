"""The resume state file written next to an export's output.

``OUTPUT.webex-events-state.json`` records what is needed to continue an export
exactly: a fingerprint of the arguments, the resolved range, the end of the last
window fully written and the byte size of the output after it (both made durable
before the state is). It never contains the access token.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["STATE_SUFFIX", "ExportState", "StateError", "fsync_dir", "state_path"]

STATE_SUFFIX = ".webex-events-state.json"
_VERSION = 1


class StateError(Exception):
    """The state file is unreadable or does not describe this export."""


def state_path(output: Path) -> Path:
    """Return the state file path of an output file."""
    return output.with_name(output.name + STATE_SUFFIX)


def fsync_dir(directory: Path) -> None:
    """Make a rename/unlink in ``directory`` durable (best effort where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass
class ExportState:
    """Progress of one export; ``window_end``/``offset`` describe the last durable checkpoint."""

    fingerprint: dict[str, Any]
    range_from: str
    range_to: str
    window_end: str
    offset: int = 0
    events: int = 0
    step_ms: int | None = None  # window length actually used (pins an "auto" grid)
    version: int = field(default=_VERSION)

    def save(self, path: Path) -> None:
        """Write atomically: temp file in the same directory, fsync, os.replace, fsync dir."""
        data = json.dumps(asdict(self), indent=1, sort_keys=True).encode("utf-8") + b"\n"
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        fsync_dir(path.parent)

    @classmethod
    def load(cls, path: Path) -> ExportState:
        """Read a state file; :class:`StateError` if it is not one of ours."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("version") != _VERSION:
                raise StateError(f"{path}: unsupported state file version {raw.get('version')!r}")
            state = cls(
                fingerprint=dict(raw["fingerprint"]),
                range_from=str(raw["range_from"]),
                range_to=str(raw["range_to"]),
                window_end=str(raw["window_end"]),
                offset=int(raw["offset"]),
                events=int(raw["events"]),
                step_ms=None if raw.get("step_ms") is None else int(raw["step_ms"]),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StateError(f"cannot read state file {path}: {exc}") from None
        if state.offset < 0:
            raise StateError(f"{path}: negative offset")
        return state

    @staticmethod
    def remove(path: Path) -> None:
        """Delete the state file (export finished)."""
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        fsync_dir(path.parent)
