"""Where ``follow`` writes: JSON Lines, SQLite or stdout, each committing events with a checkpoint.

A sink's ``commit(events, checkpoint)`` makes both durable together, and ``load()`` returns the
last committed checkpoint after undoing whatever a crash left half-done, so a restart continues
exactly (no event lost, none written twice):

* :class:`JsonlSink` appends, fsyncs, then writes the checkpoint beside the file atomically. The
  checkpoint records the file's length and a digest of its last bytes. On load, bytes past that
  length (written before a crash, never committed) are cut off. If the file is *shorter* than
  the checkpoint says (the checkpoint reached the disk and the data did not), the previous
  checkpoint, kept in the same state file, is used instead. A log rotation is followed: an
  output that is empty or absent where the checkpoint says follow wrote to it (moved away and
  created anew, or copied and truncated) continues after the checkpoint, between runs and while
  it runs (checked before each append); what was written before is in the rotated file. Any
  other difference is damage and refused.
* :class:`SqliteSink` writes the events and the checkpoint in one transaction (WAL mode): a
  crash rolls both back. One row per event keyed by id, with the exact raw JSON, ``created``
  and a column (indexed) for each filter of the stream's listing in the spec (List Events:
  ``resource``, ``type``, ``actor_id``...). Each stream has its own table (``events``,
  ``admin_audit_events``...) and checkpoint in the database, so one file can archive them all.
* :class:`StdoutSink` writes JSON Lines to stdout for a collector. It is at-least-once: after a
  crash, the events after the last checkpoint (``--checkpoint FILE``) are written again; ids
  make them idempotent downstream.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from webex_events._event import BaseEvent
from webex_events._streams import EVENTS, Stream
from webex_events_api.spec import EVENT_KEYS

from ._csv import field_value
from ._errors import EXIT_IO, EXIT_USAGE, CliError
from ._export import jsonl_line
from ._resume import OutputMovedError, check_in_place, write_atomic
from ._streams import table_name

__all__ = [
    "FOLLOW_STATE_SUFFIX",
    "SQLITE_COLUMNS",
    "JsonlSink",
    "Sink",
    "SqliteSink",
    "StdoutSink",
    "checkpoint_key",
    "follow_state_path",
    "sqlite_columns",
]

FOLLOW_STATE_SUFFIX = ".follow-state.json"
_TAIL = 4096  # bytes of the output's end whose digest the checkpoint records
_STATE_VERSION = 1
#: How long a SQLite statement waits for another process's write lock before failing.
_BUSY_SECONDS = 2.0
_EMPTY_TAIL = hashlib.sha256(b"").hexdigest()

_log = logging.getLogger("webex_events.cli")


def _write_error(path: Path, exc: OSError | sqlite3.Error) -> CliError:
    """One line naming the file a write failed on and why (exit 1)."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return CliError(f"cannot write {path}: {reason}", EXIT_IO)


def _sqlite_error(path: Path, exc: sqlite3.Error) -> CliError:
    """A SQLite failure as one line: another holder's lock, a file that is no database, or I/O."""
    name = getattr(exc, "sqlite_errorname", "")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return CliError(
            f"{path} is locked by another process ({exc}); stop the program holding it and run again",
            EXIT_IO,
        )
    if name == "SQLITE_NOTADB":
        return CliError(f"{path} is not a SQLite database: {exc}", EXIT_USAGE)
    return _write_error(path, exc)


def follow_state_path(output: Path) -> Path:
    """The checkpoint file of a JSON Lines output."""
    return output.with_name(output.name + FOLLOW_STATE_SUFFIX)


class Sink(Protocol):
    """Where a follow's batches go."""

    def load(self) -> str | None:
        """The last committed checkpoint (JSON), after repairing what a crash left; None: new."""
        ...

    def commit(self, events: Sequence[BaseEvent], checkpoint: str) -> None:
        """Make ``events`` and ``checkpoint`` durable together."""
        ...

    def close(self) -> None:
        """Release the sink."""
        ...


def _tail_digest(fh: BinaryIO, size: int) -> str:
    start = max(0, size - _TAIL)
    fh.seek(start)
    return hashlib.sha256(fh.read(size - start)).hexdigest()


class JsonlSink:
    """Append-only JSON Lines with a checkpoint file beside it (``OUTPUT.follow-state.json``).

    Log rotation (logrotate's ``create`` or ``copytruncate``) is picked up: the file at the path
    is reopened when it is no longer the one written (moved away), and an empty file where the
    checkpoint says follow wrote is a rotation, not damage. Before the first append to such a
    file, a checkpoint of it (empty, at the last committed position) is saved, so a crash then
    cuts that file back to empty rather than taking what it holds for damage.
    """

    #: What is made durable first; tests reverse it to prove a crash in either order is safe.
    order: tuple[str, str] = ("data", "checkpoint")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.state_path = follow_state_path(path)
        self._fh: BinaryIO = open(path, "ab+")  # noqa: SIM115 - held for the sink's life
        self._current: dict[str, Any] | None = None

    def load(self) -> str | None:
        if not self.state_path.exists():
            size = os.fstat(self._fh.fileno()).st_size
            if size:
                raise CliError(
                    f"{self.path} exists but has no follow checkpoint ({self.state_path.name}): it was"
                    " not written by `follow` (or its checkpoint was removed); choose another output",
                    EXIT_USAGE,
                )
            return None
        try:
            state = json.loads(self.state_path.read_bytes())
            if state.get("version") != _STATE_VERSION:
                raise ValueError("unknown version")
            candidates = [state["current"], *([state["previous"]] if state.get("previous") else [])]
            sizes = [int(record["size"]) for record in candidates]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise CliError(
                f"{self.state_path} is not a follow checkpoint; remove it to start over", EXIT_USAGE
            ) from None
        size = os.fstat(self._fh.fileno()).st_size
        if size == 0 and sizes[0] > 0:
            # Rotated between runs: moved away (and created anew, or not: opening created it)
            # or copied and truncated. An empty file is never damage: nothing is lost from it.
            self._current = candidates[0]
            self._rotated("is empty (rotated away, or truncated)")
            return str(candidates[0]["checkpoint"])
        for record, want in zip(candidates, sizes, strict=True):
            if size >= want and _tail_digest(self._fh, want) == record["tail"]:
                if size > want:  # written after the last commit: never confirmed, so not kept
                    self._fh.truncate(want)
                    self._fh.flush()
                    os.fsync(self._fh.fileno())
                self._current = record
                return str(record["checkpoint"])
        raise CliError(
            f"{self.path} does not match its follow checkpoint ({self.state_path.name}): it was changed"
            " by something else (an emptied or new file would be taken for a log rotation; this one"
            " is not empty); restore it or follow into a new output",
            EXIT_USAGE,
        )

    def _rotated(self, how: str) -> None:
        """Record that the file at the path is a new, empty one, before anything is written to it."""
        record = self._current
        if record is None:  # nothing committed yet: no checkpoint describes any file
            return
        _log.info(
            "%s %s where follow's checkpoint says %s bytes: taken for a log rotation; continuing"
            " after the checkpoint (what was written before is in the rotated file)",
            self.path,
            how,
            f"{int(record['size']):,}",
        )
        self._store({"size": 0, "tail": _EMPTY_TAIL, "checkpoint": record["checkpoint"]})

    def _follow_rotation(self) -> None:
        """Before appending: reopen a path moved away, and notice a file truncated (rotations)."""
        try:
            here = os.stat(self.path)
        except FileNotFoundError:
            here = None
        if here is None or not os.path.samestat(os.fstat(self._fh.fileno()), here):
            fresh: BinaryIO = open(self.path, "ab+")  # noqa: SIM115 - the sink's file from now on
            if os.fstat(fresh.fileno()).st_size:
                fresh.close()
                raise OutputMovedError(
                    f"{self.path} was replaced by another file, not empty, while follow appended to it"
                    " (a log rotation leaves it empty or absent); what was written is in the moved file",
                    EXIT_IO,
                )
            self._fh.close()
            self._fh = fresh
            self._rotated("was moved away" if here is not None else "was moved away (absent)")
            return
        size = os.fstat(self._fh.fileno()).st_size
        want = 0 if self._current is None else int(self._current["size"])
        if size == want:
            return
        if size == 0:
            self._rotated("was truncated")
            return
        raise CliError(
            f"{self.path} was changed by something else while follow appended to it ({size:,} bytes"
            f" where its checkpoint says {want:,})",
            EXIT_IO,
        )

    def commit(self, events: Sequence[BaseEvent], checkpoint: str) -> None:
        self._follow_rotation()
        data = b"".join(jsonl_line(e) for e in events)
        fh = self._fh
        fh.seek(0, os.SEEK_END)
        size = fh.tell() + len(data)
        for step in self.order:
            if step == "data":
                if data:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                    self._crash_point("data")
                    size = self._written(size, len(data))
            else:
                self._save(size, data, checkpoint)
                self._crash_point("checkpoint")

    def _written(self, size: int, length: int) -> int:
        """The file's size after an append expected to end at ``size`` (copytruncate may race it)."""
        actual = os.fstat(self._fh.fileno()).st_size
        if actual != size and actual < length:
            _log.warning(
                "%s was truncated while follow wrote %d bytes to it (a copytruncate rotation at that"
                " moment): they are in the rotated copy only if the copy was made after the write;"
                " rotate with `create` instead to rule this out",
                self.path,
                length,
            )
        return actual

    def _save(self, size: int, data: bytes, checkpoint: str) -> None:
        # The tail digest is of the bytes the file will end with (known before they are written).
        fh = self._fh
        before = size - len(data)
        start = max(0, size - _TAIL)
        if before < 0:  # truncated under the append (copytruncate): what is there now
            start, before, data = max(0, size - _TAIL), size, b""
        if start < before:
            fh.seek(start)
            tail = fh.read(before - start) + data
        else:
            tail = data[start - before :]
        self._store({"size": size, "tail": hashlib.sha256(tail).hexdigest(), "checkpoint": checkpoint})

    def _store(self, record: dict[str, Any]) -> None:
        state = {"version": _STATE_VERSION, "current": record, "previous": self._current}
        try:
            write_atomic(self.state_path, json.dumps(state, separators=(",", ":")).encode())
        except OSError as exc:
            raise _write_error(self.state_path, exc) from None
        self._current = record

    def _crash_point(self, after: str) -> None:
        """A hook for tests (crash injection); does nothing."""

    def close(self) -> None:
        self._fh.close()


def _filter_columns(stream: Stream) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(column, event field path split at dots) of each filter of the stream's listing."""
    operation = stream.operation
    return tuple((p.python_name, tuple((p.event_field or p.name).split("."))) for p in operation.filters)


# An Event field's column is named as the field is in Python (``Event.created``), like a filter's;
# every stream's event view has ``id`` and ``created``.
_COLUMN_OF = {getattr(EVENT_KEYS, f.name): f.name for f in fields(EVENT_KEYS)}  # JSON key -> name
_ID_COLUMN = _COLUMN_OF[EVENT_KEYS.id]
_CREATED_COLUMN = _COLUMN_OF[EVENT_KEYS.created]


def sqlite_columns(stream: Stream) -> tuple[str, ...]:
    """The columns of a stream's table, after ``id`` and before ``raw``: ``created`` and one per
    filter of its listing in the spec (its Python name)."""
    return (_CREATED_COLUMN, *(c for c, _ in _filter_columns(stream)))


#: The columns of the ``events`` table (List Events) of a SQLite sink.
SQLITE_COLUMNS: tuple[str, ...] = sqlite_columns(EVENTS)


def _column_value(raw: dict[str, Any], path: tuple[str, ...]) -> Any:
    value = field_value(raw, path)
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def checkpoint_key(stream: Stream) -> str:
    """The row of ``follow_state`` holding a stream's checkpoint (``checkpoint`` for events)."""
    return "checkpoint" if stream is EVENTS else f"checkpoint:{stream.name}"


class SqliteSink:
    """A SQLite database: the stream's table (one row per id; ``events``, ``admin_audit_events``...
    from its operation ID) and its checkpoint, in one transaction."""

    #: Statement order inside the transaction; tests reverse it (a crash between them rolls back).
    order: tuple[str, str] = ("data", "checkpoint")

    def __init__(self, path: Path, stream: Stream = EVENTS) -> None:
        self.path = path
        self._table, self._key = table_name(stream), checkpoint_key(stream)
        self._columns, self._filter_columns = sqlite_columns(stream), _filter_columns(stream)
        try:
            # Transactions are explicit below.
            self._db = sqlite3.connect(path, isolation_level=None, timeout=_BUSY_SECONDS)
        except sqlite3.Error as exc:
            raise _sqlite_error(path, exc) from None
        try:
            self._create()
            # The database file as opened, to notice it deleted or replaced under the connection.
            self._file = os.open(path, os.O_RDONLY)
        except OSError as exc:
            self._db.close()
            raise _write_error(path, exc) from None
        except sqlite3.Error as exc:
            self._db.close()
            raise _sqlite_error(path, exc) from None
        except CliError:
            self._db.close()
            raise
        names = ", ".join(f'"{c}"' for c in (_ID_COLUMN, *self._columns, "raw"))
        marks = ", ".join("?" for _ in range(len(self._columns) + 2))
        # OR IGNORE: an id already stored is never stored twice (follow never sends one twice;
        # this also keeps a database that another tool appended to consistent).
        # Table and column names come from the spec and are quoted; values are bound parameters.
        self._insert = f'INSERT OR IGNORE INTO "{self._table}" ({names}) VALUES ({marks})'  # noqa: S608

    def _create(self) -> None:
        """Set the database up (WAL, the tables); refuse one that another program made."""
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "follow_state" not in tables:
            raise CliError(
                f"{self.path} is a SQLite database not written by `follow` (no follow_state table);"
                " choose another output",
                EXIT_USAGE,
            )
        table, columns = self._table, ", ".join(f'"{c}" TEXT' for c in self._columns)
        self._db.execute("BEGIN IMMEDIATE")
        self._db.execute(
            f'CREATE TABLE IF NOT EXISTS "{table}"'
            f" ({_ID_COLUMN} TEXT PRIMARY KEY, {columns}, raw TEXT NOT NULL)"
        )
        # A column the spec added since the database was made (a new filter): add it.
        have = {row[1] for row in self._db.execute(f'PRAGMA table_info("{table}")')}
        for column in self._columns:
            if column not in have:
                self._db.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column}" TEXT')
        for column in self._columns:
            self._db.execute(f'CREATE INDEX IF NOT EXISTS "{table}_{column}" ON "{table}" ("{column}")')
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS follow_state (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        self._db.execute("COMMIT")

    def load(self) -> str | None:
        try:
            row = self._db.execute("SELECT value FROM follow_state WHERE name = ?", (self._key,)).fetchone()
        except sqlite3.Error as exc:
            raise _sqlite_error(self.path, exc) from None
        return None if row is None else str(row[0])

    def commit(self, events: Sequence[BaseEvent], checkpoint: str) -> None:
        try:
            self._commit(events, checkpoint)
        except sqlite3.Error as exc:
            raise _sqlite_error(self.path, exc) from None
        check_in_place(self.path, self._file, "follow committed to it")

    def _commit(self, events: Sequence[BaseEvent], checkpoint: str) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for step in self.order:
                if step == "data":
                    db.executemany(self._insert, (self._row(e) for e in events))
                else:
                    db.execute(
                        "INSERT INTO follow_state (name, value) VALUES (?, ?)"
                        " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                        (self._key, checkpoint),
                    )
                self._crash_point(step)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _row(self, event: BaseEvent) -> tuple[Any, ...]:
        raw = event.raw
        return (
            event.id,
            event.created_raw,
            *(_column_value(raw, path) for _, path in self._filter_columns),
            event.raw_json,
        )

    def _crash_point(self, after: str) -> None:
        """A hook for tests (crash injection); does nothing."""

    def close(self) -> None:
        self._db.close()
        os.close(self._file)


class StdoutSink:
    """JSON Lines on stdout (at-least-once); the checkpoint in ``checkpoint_path`` if given."""

    def __init__(self, checkpoint_path: Path | None) -> None:
        self.checkpoint_path = checkpoint_path
        self._out = sys.stdout.buffer

    def load(self) -> str | None:
        path = self.checkpoint_path
        if path is None or not path.exists():
            return None
        return path.read_text(encoding="utf-8")

    def commit(self, events: Sequence[BaseEvent], checkpoint: str) -> None:
        if events:
            self._out.write(b"".join(jsonl_line(e) for e in events))
            self._out.flush()
        if self.checkpoint_path is not None:
            try:
                write_atomic(self.checkpoint_path, checkpoint.encode("utf-8"))
            except OSError as exc:
                raise _write_error(self.checkpoint_path, exc) from None

    def close(self) -> None:
        self._out.flush()
