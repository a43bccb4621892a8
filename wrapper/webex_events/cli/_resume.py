"""The resume state file written next to an export's output.

``OUTPUT.webex-events-state.json`` records what is needed to continue an export
exactly: a fingerprint of the arguments, the resolved range, the end of the last
window fully written, the byte size of the output after it and the SHA-256 of those
bytes (all made durable before the state is). It never contains the access token.

The state is not trusted on resume: it carries a digest of its own content (an edited
or corrupted file is refused), its instants must describe a window inside its range,
its window length must give a bounded number of windows, and the output's first
``offset`` bytes must still have the recorded digest.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from webex_events._query import MAX_WINDOWS

from ._errors import EXIT_IO, CliError

__all__ = [
    "STATE_SUFFIX",
    "ExportState",
    "OutputMovedError",
    "StateError",
    "check_in_place",
    "fsync_dir",
    "state_path",
    "write_atomic",
]

STATE_SUFFIX = ".webex-events-state.json"
_VERSION = 2
_CHUNK = 1 << 20


class StateError(Exception):
    """The state file is unreadable or does not describe this export."""


def state_path(output: Path) -> Path:
    """Return the state file path of an output file."""
    return output.with_name(output.name + STATE_SUFFIX)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically: temp file beside it, fsync, os.replace, fsync dir."""
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


class OutputMovedError(CliError):
    """The file being written is no longer at its path: deleted (or its directory), or replaced."""


def check_in_place(path: Path, fd: int, what: str) -> None:
    """The open file ``fd`` is still the file at ``path``; :class:`OutputMovedError` (exit 1) if not.

    What was written to a file deleted or renamed away meanwhile is not at ``path``: a run must
    not report it done or committed. ``what`` says what was written (for the message).
    """
    try:
        here = os.stat(path)
    except FileNotFoundError:
        here = None
    if here is None or not os.path.samestat(os.fstat(fd), here):
        how = "deleted" if here is None else "replaced by another file"
        raise OutputMovedError(f"{path} was {how} while {what}: what was written is not in it", EXIT_IO)


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
    output_sha256: str = hashlib.sha256().hexdigest()  # of the output's first `offset` bytes
    version: int = field(default=_VERSION)
    quarantined: int = 0  # events CSV cannot hold, set aside (see _export)
    quarantine_offset: int = 0  # size of the quarantine file after them

    def _record(self) -> dict[str, Any]:
        record = asdict(self)
        if not self.quarantined and not self.quarantine_offset:
            # Left out when unused: a state file written before they existed stays valid.
            del record["quarantined"], record["quarantine_offset"]
        return record

    def _content_digest(self) -> str:
        content = json.dumps(self._record(), sort_keys=True, separators=(",", ":")).encode("utf-8")
        return hashlib.sha256(content).hexdigest()

    def save(self, path: Path) -> None:
        """Write atomically: temp file in the same directory, fsync, os.replace, fsync dir."""
        record = {**self._record(), "digest": self._content_digest()}
        write_atomic(path, json.dumps(record, indent=1, sort_keys=True).encode("utf-8") + b"\n")

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
                output_sha256=str(raw["output_sha256"]),
                quarantined=int(raw.get("quarantined", 0)),
                quarantine_offset=int(raw.get("quarantine_offset", 0)),
            )
            recorded = raw["digest"]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StateError(f"cannot read state file {path}: {exc}") from None
        if recorded != state._content_digest():
            raise StateError(f"{path} was edited or corrupted (its digest does not match its content)")
        state._check(path)
        return state

    def _check(self, path: Path) -> None:
        """The recorded instants and sizes describe a possible export (StateError otherwise)."""
        try:
            instants = (self.range_from, self.range_to, self.window_end)
            start, end, done = (datetime.fromisoformat(v) for v in instants)
        except ValueError:
            raise StateError(f"{path}: an instant is not ISO 8601") from None
        if not start < end or not start <= done <= end:
            raise StateError(f"{path}: the last window written ({self.window_end}) is not inside its range")
        if min(self.offset, self.events, self.quarantined, self.quarantine_offset) < 0:
            raise StateError(f"{path}: negative offset or event count")
        if self.step_ms is not None:
            span_ms = (end - start).total_seconds() * 1000
            if self.step_ms < 1 or span_ms / self.step_ms > MAX_WINDOWS:
                raise StateError(f"{path}: window length {self.step_ms} ms gives too many windows")

    def check_output(self, output: Path) -> hashlib._Hash:
        """The output's first ``offset`` bytes still have the recorded digest; returns the hash.

        The hash continues over what the resumed export writes (see ``_export``).
        """
        digest = hashlib.sha256()
        remaining = self.offset
        try:
            with open(output, "rb") as fh:
                while remaining and (chunk := fh.read(min(_CHUNK, remaining))):
                    digest.update(chunk)
                    remaining -= len(chunk)
        except FileNotFoundError:
            pass
        if remaining or digest.hexdigest() != self.output_sha256:
            raise StateError(f"{output} is not what the unfinished export wrote (was it modified?)")
        return digest

    @staticmethod
    def remove(path: Path) -> None:
        """Delete the state file (export finished)."""
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        fsync_dir(path.parent)
