"""The ``follow`` job: keep a JSON Lines file, a SQLite database or stdout up to date, exactly once.

The library's :meth:`WebexEvents.follow` decides what to read and hands out batches with their
checkpoint; this module commits each batch to its sink (``_sinks``) and reports progress. A
signal stops it cleanly: a commit in progress finishes, the batch being fetched is abandoned
(the next run fetches it again), and the exit code is 0, because stopping a daemon is not an
error.

``follow`` runs for months, so it outlives what a single request cannot (``_Outage``): a network
error, a 5xx, a 429 or a malformed response that is still failing after the library's own
retries is retried again, with capped exponential backoff and jitter, from the last committed
checkpoint, until ``--give-up-after`` (default: never; with ``--once``, at once). A 401 re-reads
``--token-file`` and continues with the new token, once per change.

Any stream of the spec is followed the same way (``FollowRequest.stream``); a checkpoint records
its stream and is never taken up by another (a SQLite database keeps one per stream).
"""

from __future__ import annotations

import logging
import math
import random
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from webex_events import (
    AuthenticationError,
    FollowBatch,
    FollowCheckpoint,
    InvalidArgumentError,
    MalformedResponseError,
    RateLimitError,
    ServerError,
    WebexConnectionError,
    WebexError,
    WebexEvents,
)
from webex_events._streams import EVENTS, Stream

from ._errors import EXIT_IO, EXIT_USAGE, CliError, from_webex_error
from ._export import _critical, _signals
from ._lock import locked_output
from ._logging import emit
from ._options import FOLLOW_MAX_BACKOFF
from ._progress import format_seconds
from ._sinks import JsonlSink, Sink, SqliteSink, StdoutSink

__all__ = [
    "JSONL_SUFFIXES",
    "SQLITE_SUFFIXES",
    "FollowRequest",
    "run_follow",
    "sink_kind",
]

SinkKind = Literal["jsonl", "sqlite", "stdout"]
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
#: Output names written as JSON Lines without ``--format`` ("" is a name without a suffix).
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonlines", ".log", "")
#: The first wait after a failure; each further failure doubles it, up to the cap.
_FIRST_BACKOFF = 1.0
#: Failures a follow outlives (after the library's own retries): the server or the network.
_TRANSIENT = (WebexConnectionError, ServerError, RateLimitError, MalformedResponseError)
#: The high-water mark must have moved at least this far for a poll line to show a rate.
_RATE_MIN_SPAN = timedelta(seconds=10)

_log = logging.getLogger("webex_events.cli")


def sink_kind(output: str, fmt: str | None) -> SinkKind:
    """The sink for ``--output`` and ``--format``: ``-`` is stdout, a SQLite suffix SQLite.

    Without ``--format``, an output whose suffix is neither SQLite's nor JSON Lines' (``x.csv``)
    is refused: follow would write JSON Lines into it.
    """
    if output == "-":
        if fmt == "sqlite":
            raise CliError("--format sqlite needs --output FILE", EXIT_USAGE)
        return "stdout"
    if fmt is not None:
        return "sqlite" if fmt == "sqlite" else "jsonl"
    suffix = Path(output).suffix.lower()
    if suffix in SQLITE_SUFFIXES:
        return "sqlite"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    extra = " (CSV is for `export`)" if suffix == ".csv" else ""
    raise CliError(
        f"--output {output}: follow writes JSON Lines (.jsonl) or SQLite ({', '.join(SQLITE_SUFFIXES)}),"
        f" not {suffix}{extra}; name the output so, or pass --format jsonl to write JSON Lines to it",
        EXIT_USAGE,
    )


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
    #: Seconds a failure may last before follow exits with it (None: never; 0: at once, after
    #: the library's own retries of the request).
    give_up_after: float | None = None
    #: The longest wait between attempts while it fails (seconds).
    max_backoff: float = FOLLOW_MAX_BACKOFF.total_seconds()
    #: The stream followed (``--stream``).
    stream: Stream = EVENTS


def _open_sink(req: FollowRequest) -> Sink:
    if req.kind == "stdout":
        return StdoutSink(req.checkpoint_file)
    assert req.output is not None
    try:
        return SqliteSink(req.output, req.stream) if req.kind == "sqlite" else JsonlSink(req.output)
    except OSError as exc:
        raise CliError(f"cannot open {req.output}: {exc.strerror or exc}", EXIT_IO) from None


def _age(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


class _Report:
    """Progress on stderr, one line per poll: new events, rate, lag behind now, late, reconciled.

    The rate is of the events created in the span the poll read (the high-water mark's advance),
    so it says how busy the organization is, whatever the poll's own speed; it is shown only when
    that span is long enough to mean something (a first poll after a day: the day's rate).
    """

    def __init__(self, *, quiet: bool, clock: Callable[[], datetime], mark: datetime | None) -> None:
        self.quiet = quiet
        self.clock = clock
        self.new = self.late = self.reconciled = 0
        self.total = self.polls = 0
        self._mark = mark  # the high-water mark at the last poll line (None: not known)

    def add(self, batch: FollowBatch) -> None:
        self.new += len(batch.events)
        self.late += batch.late
        self.reconciled += batch.reconciled
        self.total += len(batch.events)

    def poll(self, batch: FollowBatch) -> None:
        self.polls += 1
        now = self.clock()
        span = batch.high_water - self._mark if self._mark is not None else timedelta(0)
        # Late and reconciled events were created before the span; the others inside it.
        per_minute = None
        if span >= _RATE_MIN_SPAN:
            per_minute = (self.new - self.late - self.reconciled) / (span.total_seconds() / 60)
        behind = now - batch.high_water
        cp = batch.checkpoint
        if not self.quiet:
            rate = ""
            if per_minute is not None:
                shown = f"{per_minute:,.1f}" if per_minute < 10 else f"{per_minute:,.0f}"
                rate = f" ({shown}/min over {format_seconds(span.total_seconds())})"
            text = (
                f"{self.new:,} new{rate}, up to {batch.high_water:%Y-%m-%dT%H:%M:%SZ}"
                f" ({_age(behind)} behind), last poll {now:%H:%M:%SZ}; late {self.late}, reconciled"
                f" {self.reconciled}; {cp.delivered:,} in all"
            )
            emit(
                logging.INFO,
                "poll",
                text,
                new=self.new,
                per_minute=None if per_minute is None else round(per_minute, 1),
                span_seconds=round(span.total_seconds(), 3),
                high_water=batch.high_water.isoformat(timespec="milliseconds"),
                behind_seconds=round(behind.total_seconds(), 3),
                late=self.late,
                reconciled=self.reconciled,
                delivered=cp.delivered,
                late_total=cp.late,
                reconciled_total=cp.reconciled,
            )
        self.new = self.late = self.reconciled = 0
        self._mark = batch.high_water


class _Outage:
    """How long follow has been failing, and how long to wait before trying again.

    Capped exponential backoff with equal jitter (half the step fixed, half random), so a dead
    server is never hammered and many followers do not retry in step.
    """

    def __init__(self, *, give_up_after: float | None, max_backoff: float) -> None:
        self.give_up_after = math.inf if give_up_after is None else give_up_after
        self.max_backoff = max_backoff
        self.attempts = 0
        self._since: float | None = None  # time.monotonic() of the first failure in a row
        self._started: datetime | None = None
        self._answered: datetime | None = None  # the last batch that came through
        self._rng = random.Random()  # noqa: S311 - jitter, not security

    def failed(self, exc: WebexError) -> float:
        """The seconds to wait after ``exc``; the exit (CliError) when it has failed for too long."""
        clock = time.monotonic()
        if self._since is None:
            self._since, self._started = clock, datetime.now(UTC)
        self.attempts += 1
        failing = clock - self._since
        error = from_webex_error(exc)
        if failing >= self.give_up_after:
            if self.give_up_after > 0:
                raise CliError(
                    f"{error.message} (failing for {format_seconds(failing)}, {self.attempts} attempts;"
                    f" --give-up-after {format_seconds(self.give_up_after)})",
                    error.code,
                )
            raise error
        step = min(self.max_backoff, _FIRST_BACKOFF * 2.0 ** min(self.attempts - 1, 60))
        delay = min(step / 2 + self._rng.uniform(0, step / 2), self.give_up_after - failing)
        limit = (
            "" if self.give_up_after == math.inf else f", gives up after {format_seconds(self.give_up_after)}"
        )
        assert self._started is not None
        answered = "none yet" if self._answered is None else f"{self._answered:%Y-%m-%dT%H:%M:%SZ}"
        _log.warning(
            "the API has been failing for %s (%d %s since %s, after the request's own retries; last"
            " answer %s); last error: %s; next attempt in %s%s",
            format_seconds(failing),
            self.attempts,
            "attempt" if self.attempts == 1 else "attempts",
            f"{self._started:%Y-%m-%dT%H:%M:%SZ}",
            answered,
            error.message,
            format_seconds(delay),
            limit,
            extra={
                "fields": {
                    "event": "failing",
                    "failing_seconds": round(failing, 3),
                    "attempts": self.attempts,
                    "error_type": type(exc).__name__,
                    "retry_in_seconds": round(delay, 3),
                    "last_answer": None if self._answered is None else self._answered.isoformat(),
                }
            },
        )
        return delay

    def recovered(self) -> None:
        """A batch came through: the outage, if any, is over."""
        self._answered = datetime.now(UTC)
        if self._since is None:
            return
        failing = time.monotonic() - self._since
        _log.warning(
            "the API answers again: recovered after %s of failures (%d %s)",
            format_seconds(failing),
            self.attempts,
            "attempt" if self.attempts == 1 else "attempts",
            extra={
                "fields": {
                    "event": "recovered",
                    "failing_seconds": round(failing, 3),
                    "attempts": self.attempts,
                }
            },
        )
        self._since = self._started = None
        self.attempts = 0


def _check_stream(req: FollowRequest, saved: str | None) -> None:
    """A checkpoint of another stream is refused, and a follow without one needs ``--since``."""
    where = req.output or req.checkpoint_file or "stdout"
    if saved is None:
        if req.since is None:
            held = (
                f" has no checkpoint of the {req.stream.name} stream" if req.kind == "sqlite" else " is new"
            )
            raise CliError(f"{where}{held}: a new follow needs --since (e.g. --since 1d)", EXIT_USAGE)
        return
    try:
        stream = FollowCheckpoint.from_json(saved).stream
    except InvalidArgumentError:
        return  # the library says what is wrong with it, when follow starts
    if stream != req.stream.name:
        raise CliError(
            f"{where} holds a follow of the {stream} stream (its checkpoint says so), not"
            f" {req.stream.name}: pass --stream {stream} to continue it, or follow {req.stream.name}"
            " into another output",
            EXIT_USAGE,
        )


def _start_mark(saved: str | None, since: datetime | None) -> datetime | None:
    if saved is None:
        return since
    try:
        return FollowCheckpoint.from_json(saved).high_water
    except InvalidArgumentError:
        return None  # the library says so, with the reason, when follow starts


def run_follow(
    req: FollowRequest,
    client_factory: Callable[[], WebexEvents],
    *,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], object] | None = None,
    reload_token: Callable[[], bool] | None = None,
) -> bool:
    """Run ``follow`` until ``--once`` is done or a signal stops it; CliError on failure.

    Returns True when a signal stopped it (everything committed is durable and the sink is
    closed). ``clock`` and ``sleep`` are switches for tests (a simulated day); by default real
    time. ``reload_token``: after a 401, re-read the token (``--token-file``); True when it
    changed, and then ``client_factory`` makes a client with the new one.
    """
    now = clock or (lambda: datetime.now(UTC))
    with ExitStack() as stack:
        if req.output is not None:
            # A SQLite database keeps each stream apart: only the stream's part is locked.
            part = req.stream.name if req.kind == "sqlite" and req.stream is not EVENTS else None
            stack.enter_context(locked_output(req.output, part))
        sink = _open_sink(req)
        stack.callback(sink.close)
        saved = sink.load()
        _check_stream(req, saved)
        if saved is not None and req.since is not None:
            _log.info(
                "continuing from %s's checkpoint; --since applies to a new follow only", req.output or "the"
            )
        report = _Report(quiet=req.quiet, clock=now, mark=_start_mark(saved, req.since))
        stop = threading.Event()
        wait = sleep or stop.wait
        clients = [client_factory()]

        def close_client() -> None:  # the client in use (a new token makes a new one)
            clients[-1].close()

        stack.callback(close_client)
        outage = _Outage(give_up_after=req.give_up_after, max_backoff=req.max_backoff)
        stack.enter_context(_signals())
        try:
            while True:
                try:
                    batches = _follow(clients[-1], req, saved, now, wait)
                except InvalidArgumentError as exc:
                    raise CliError(str(exc), EXIT_USAGE) from None
                try:
                    with closing(_drain(batches, sink, report)) as committed:
                        for checkpoint in committed:
                            saved = checkpoint  # where a retry continues from
                            outage.recovered()
                    break  # --once: caught up
                except AuthenticationError as exc:
                    if reload_token is None or not reload_token():
                        raise from_webex_error(exc) from None
                    _log.warning(
                        "the access token was refused (HTTP 401) and --token-file holds another:"
                        " continuing with it from the last checkpoint"
                    )
                    clients[-1].close()
                    clients.append(client_factory())
                except _TRANSIENT as exc:
                    wait(outage.failed(exc))
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


def _follow(
    client: WebexEvents,
    req: FollowRequest,
    saved: str | None,
    now: Callable[[], datetime],
    sleep: Callable[[float], object],
) -> Iterator[FollowBatch]:
    """The library's follow, from the last committed checkpoint (or ``--since``: a new follow)."""
    batches: Iterator[FollowBatch] = client._follow(  # the stream's follow (follow() for events)
        req.stream,
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
        sleep=sleep,
        **req.filters,
    )
    return batches


def _drain(batches: Iterator[FollowBatch], sink: Sink, report: _Report) -> Generator[str, None, None]:
    """Commit each batch to the sink; yields each committed checkpoint (JSON)."""
    try:
        for batch in batches:
            checkpoint = batch.checkpoint.to_json()
            with _critical():  # a signal waits for the commit to complete
                sink.commit(batch.events, checkpoint)
            report.add(batch)
            if batch.caught_up:
                report.poll(batch)
            yield checkpoint
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()
        sys.stderr.flush()
