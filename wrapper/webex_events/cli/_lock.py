"""An exclusive lock on an export's output (and so on its state file) while a command writes it.

Two exports to one file would interleave their windows and both report success; the second is
refused instead, naming the holder. The lock is an advisory ``flock`` on ``OUTPUT.lock``, held
for the life of the command and released by the kernel if the process dies (kill -9 included),
so a stale lock can never block the next run.

A ``follow`` into SQLite locks its stream only (``OUTPUT.STREAM.webex-events.lock``; events keep
``OUTPUT.webex-events.lock``): each stream has its own table and checkpoint there, so follows of
different streams may share a database (SQLite serializes their commits).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from ._errors import EXIT_IO, EXIT_USAGE, CliError

__all__ = ["LOCK_SUFFIX", "lock_path", "locked_output"]

LOCK_SUFFIX = ".webex-events.lock"


def lock_path(output: Path, part: str | None = None) -> Path:
    """Return the lock file path of an output file (of one ``part`` of it: a stream's table)."""
    return output.with_name(output.name + (f".{part}" if part else "") + LOCK_SUFFIX)


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(info["since"])))
        return f"pid {int(info['pid'])} on {info['host']}, since {since}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


@contextlib.contextmanager
def locked_output(output: Path, part: str | None = None) -> Iterator[None]:
    """Hold the lock of ``output`` (or of its ``part``) while the block runs; CliError (exit 2) if
    someone else does."""
    path = lock_path(output, part)
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise _lock_error(path, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise CliError(
                f"{output}{f' ({part})' if part else ''} is being written by another webex-events"
                f" ({_holder(path)}); wait for it to"
                f" finish or stop it (its lock: {path})",
                EXIT_USAGE,
            ) from None
        # The previous holder may have removed the file between our open and our lock: then we
        # hold a lock on a file nobody else can see, so start again on the new one.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        record = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        try:
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps(record).encode() + b"\n")
        except OSError as exc:
            raise _lock_error(path, exc) from None
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # while still holding it: a waiter re-checks the file (above)
        os.close(fd)


def _lock_error(path: Path, exc: OSError) -> CliError:
    return CliError(f"cannot write the lock file {path}: {exc.strerror or exc}", EXIT_IO)
