"""The ``follow`` job: keep a JSON Lines file, a SQLite database or stdout up to date, exactly once.

The library's :meth:`WebexEvents.follow` decides what to read and hands out batches with their
checkpoint; this module commits each batch to its sink (``_sinks``) and reports progress. A
signal stops it cleanly: a commit in progress finishes, the batch being fetched is abandoned
(the next run fetches it again), and the exit code is 0, because stopping a daemon is not an
error.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from webex_events import FollowBatch, InvalidArgumentError, WebexError, WebexEvents

from ._errors import EXIT_IO, EXIT_USAGE, CliError, from_webex_error
from ._export import _critical, _signals
from ._lock import locked_output
from ._logging import emit
from ._sinks import JsonlSink, Sink, SqliteSink, StdoutSink

__all__ = ["SQLITE_SUFFIXES", "FollowRequest", "run_follow", "sink_kind"]

SinkKind = Literal["jsonl", "sqlite", "stdout"]
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")

_log = logging.getLogger("webex_events.cli")


def sink_kind(output: str, fmt: str | None) -> SinkKind:
    """The sink for ``--output`` and ``--format``: ``-`` is stdout, a SQLite suffix SQLite."""
    if output == "-":
        if fmt == "sqlite":
            raise CliError("--format sqlite needs --output FILE", EXIT_USAGE)
        return "stdout"
    if fmt is not None:
        return "sqlite" if fmt == "sqlite" else "jsonl"
    return "sqlite" if Path(output).suffix.lower() in SQLITE_SUFFIXES else "jsonl"


@dataclass(frozen=True)
class FollowRequest:
    """Everything ``follow`` needs, validated."""

    filters: dict[str, Any]
    since: datetime | None  # where a new follow starts (ignored when a checkpoint exists)
    lag: timedelta
    poll_interval: timedelta
    overlap: timedelta
    reconcile_horizon: timedelta
    reconcile_interval: timedelta
    once: bool
    page_size: int
    concurrency: int | None
    kind: SinkKind
    output: Path | None  # None: stdout
    checkpoint_file: Path | None  # stdout only
    quiet: bool


def _open_sink(req: FollowRequest) -> Sink:
    if req.kind == "stdout":
        return StdoutSink(req.checkpoint_file)
    assert req.output is not None
    try:
        return SqliteSink(req.output) if req.kind == "sqlite" else JsonlSink(req.output)
    except OSError as exc:
        raise CliError(f"cannot open {req.output}: {exc.strerror or exc}", EXIT_IO) from None


def _age(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


class _Report:
    """Progress on stderr, one line per poll: new events, rate, lag behind now, late, reconciled."""

    def __init__(self, *, quiet: bool, clock: Callable[[], datetime]) -> None:
        self.quiet = quiet
        self.clock = clock
        self.new = self.late = self.reconciled = 0
        self.total = self.polls = 0
        self._since = time.monotonic()

    def add(self, batch: FollowBatch) -> None:
        self.new += len(batch.events)
        self.late += batch.late
        self.reconciled += batch.reconciled
        self.total += len(batch.events)

    def poll(self, batch: FollowBatch) -> None:
        self.polls += 1
        now = self.clock()
        elapsed = time.monotonic() - self._since
        per_minute = self.new / elapsed * 60 if elapsed > 0 else 0.0
        behind = now - batch.high_water
        cp = batch.checkpoint
        if not self.quiet:
            text = (
                f"{self.new:,} new ({per_minute:,.0f}/min), up to {batch.high_water:%Y-%m-%dT%H:%M:%SZ}"
                f" ({_age(behind)} behind), last poll {now:%H:%M:%SZ}; late {self.late}, reconciled"
                f" {self.reconciled}; {cp.delivered:,} in all"
            )
            emit(
                logging.INFO,
                "poll",
                text,
                new=self.new,
                per_minute=round(per_minute, 1),
                high_water=batch.high_water.isoformat(timespec="milliseconds"),
                behind_seconds=round(behind.total_seconds(), 3),
                late=self.late,
                reconciled=self.reconciled,
                delivered=cp.delivered,
                late_total=cp.late,
                reconciled_total=cp.reconciled,
            )
        self.new = self.late = self.reconciled = 0
        self._since = time.monotonic()


def run_follow(
    req: FollowRequest,
    client_factory: Callable[[], WebexEvents],
    *,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], object] | None = None,
) -> bool:
    """Run ``follow`` until ``--once`` is done or a signal stops it; CliError on failure.

    Returns True when a signal stopped it (everything committed is durable and the sink is
    closed). ``clock`` and ``sleep`` are switches for tests (a simulated day); by default real time.
    """
    now = clock or (lambda: datetime.now(UTC))
    with ExitStack() as stack:
        if req.output is not None:
            stack.enter_context(locked_output(req.output))
        sink = _open_sink(req)
        stack.callback(sink.close)
        saved = sink.load()
        if saved is not None and req.since is not None:
            _log.info(
                "continuing from %s's checkpoint; --since applies to a new follow only", req.output or "the"
            )
        report = _Report(quiet=req.quiet, clock=now)
        stop = threading.Event()
        client = stack.enter_context(client_factory())
        try:
            batches = client.follow(
                since=req.since if saved is None else None,
                checkpoint=saved,
                lag=req.lag,
                poll_interval=req.poll_interval,
                overlap=req.overlap,
                reconcile_horizon=req.reconcile_horizon,
                reconcile_interval=req.reconcile_interval,
                once=req.once,
                page_size=req.page_size,
                concurrency=req.concurrency,
                clock=now,
                sleep=sleep or stop.wait,
                **req.filters,
            )
        except InvalidArgumentError as exc:
            raise CliError(str(exc), EXIT_USAGE) from None
        stack.enter_context(_signals())
        try:
            _drain(batches, sink, report)
        except KeyboardInterrupt:
            stop.set()
            emit(logging.INFO, "stopped", f"stopped by a signal; {report.total:,} new events committed")
            return True
        except WebexError as exc:
            raise from_webex_error(exc) from None
        except OSError as exc:
            raise CliError(f"cannot write {req.output or 'stdout'}: {exc.strerror or exc}", EXIT_IO) from None
        emit(logging.INFO, "done", f"caught up: {report.total:,} new events committed", events=report.total)
    return False


def _drain(batches: Iterator[FollowBatch], sink: Sink, report: _Report) -> None:
    try:
        for batch in batches:
            with _critical():  # a signal waits for the commit to complete
                sink.commit(batch.events, batch.checkpoint.to_json())
            report.add(batch)
            if batch.caught_up:
                report.poll(batch)
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()
    sys.stderr.flush()
