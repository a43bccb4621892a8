"""The ``export`` job: list events and write them as JSONL or CSV, resumably.

Durability protocol for a file output (what makes ``--resume`` exact after SIGKILL):

0. An exclusive lock on the output (``OUTPUT.webex-events.lock``, see ``_lock``) is held for the
   whole run: a second export to the same file is refused.
1. The state file is written (atomically) before the output is created or truncated.
2. Windows are written whole (signals wait until a window's bytes are written). At least every
   ``CHECKPOINT_SECONDS``, and on Ctrl-C or an API failure, a checkpoint makes what is written
   durable: flush + fsync the output, then atomically replace the state file with (end of the
   last window written, output size). A checkpoint per window would cost two fsyncs each: that
   made the export wait on the disk rather than the network.
3. A resumed run checks the state (its own digest, its instants, its window length) and that
   the output's first ``offset`` bytes still have the recorded SHA-256, truncates the output to
   that size (dropping partial lines and the windows written after the last checkpoint) and
   lists again from the recorded window end.
4. On success the state file is removed. A new export that fails before writing any window
   leaves neither output nor state behind, so the same command simply runs again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any, BinaryIO, Literal

from webex_events import Auth, EventStream, ListStats, RetryPolicy, WebexError, WebexEvents
from webex_events._event import BaseEvent
from webex_events._streams import EVENTS, Stream

from ._csv import CSV_COLUMNS, csv_header, csv_problem, csv_rows
from ._errors import EXIT_API, EXIT_IO, EXIT_USAGE, CliError, from_webex_error
from ._lock import locked_output
from ._logging import emit
from ._options import format_instant, now_utc, parse_instant
from ._progress import Progress, format_seconds
from ._resume import ExportState, OutputMovedError, StateError, check_in_place, fsync_dir, state_path
from ._streams import stream_columns

__all__ = ["QUARANTINE_SUFFIX", "ExportRequest", "make_client", "quarantine_path", "run_export"]

Format = Literal["jsonl", "csv"]
BadEvents = Literal["quarantine", "error"]

MAX_ATTEMPTS_ENV = "WEBEX_EVENTS_MAX_ATTEMPTS"
EXIT_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader went away
_STDOUT_BATCH = 1000  # events per write when streaming unwindowed to stdout
CHECKPOINT_SECONDS = 1.0  # after SIGKILL, a resumed run fetches again at most about this much
QUARANTINE_SUFFIX = ".quarantine.jsonl"


def quarantine_path(output: Path) -> Path:
    """Where a CSV export sets aside the events CSV cannot hold: beside the output."""
    return output.with_name(output.name + QUARANTINE_SUFFIX)


@dataclass(frozen=True)
class ExportRequest:
    """Everything ``export`` needs, validated; ``to``/``from_`` are not yet resolved against now."""

    filters: dict[str, Any]  # by Python name, validated (see _spec_options)
    from_: datetime | None
    to: datetime | None
    since: timedelta | None
    page_size: int
    window: timedelta | Literal["auto"] | None
    concurrency: int | None
    fmt: Format
    output: Path | None  # None: stdout
    resume: bool
    force: bool
    base_url: str
    demo: bool
    show_progress: bool
    fingerprint: dict[str, Any] = field(default_factory=dict)
    csv_escape: bool = True  # prefix ' to text cells a spreadsheet would run as a formula
    bad_events: BadEvents = "quarantine"  # an event CSV cannot hold: set aside, or an error
    stream: Stream = EVENTS  # the listing exported (--stream)

    @property
    def columns(self) -> tuple[str, ...]:
        """The CSV columns of the stream."""
        return stream_columns(self.stream)


def make_client(
    token: str | Auth, base_url: str, concurrency: int | None = None, max_response_bytes: int | None = None
) -> WebexEvents:
    """Build the client; ``WEBEX_EVENTS_MAX_ATTEMPTS`` (undocumented in --help) bounds retries."""
    retry = RetryPolicy()
    attempts = os.environ.get(MAX_ATTEMPTS_ENV, "").strip()
    if attempts:
        try:
            retry = RetryPolicy(max_attempts=int(attempts))
        except ValueError:
            raise CliError(
                f"{MAX_ATTEMPTS_ENV} must be an integer >= 1, got {attempts!r}", EXIT_USAGE
            ) from None
    credential = "auth" if isinstance(token, Auth) else "token"
    kwargs: dict[str, Any] = {credential: token, "base_url": base_url, "retry": retry}
    if concurrency is not None:
        kwargs["concurrency"] = concurrency
    if max_response_bytes is not None:
        kwargs["max_response_bytes"] = max_response_bytes
    return WebexEvents(**kwargs)


# --- signals: Ctrl-C must never land in the middle of a checkpoint ---------------------------

_in_critical = False
_pending_signal: int | None = None
_received_signal: int = signal.SIGINT


def interrupted_exit_code() -> int:
    """128 + the signal that stopped the export (130 for Ctrl-C, 143 for SIGTERM), as shells do."""
    return 128 + int(_received_signal)


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    global _pending_signal, _received_signal  # noqa: PLW0603 - a signal handler talks through globals
    _received_signal = signum
    if _in_critical:
        _pending_signal = signum
        return
    raise KeyboardInterrupt


@contextmanager
def _critical() -> Iterator[None]:
    """Defer SIGINT/SIGTERM until the block (a checkpoint) is complete."""
    global _in_critical, _pending_signal  # noqa: PLW0603
    _in_critical = True
    try:
        yield
    finally:
        _in_critical = False
        if _pending_signal is not None:
            _pending_signal = None
            raise KeyboardInterrupt


@contextmanager
def _signals() -> Iterator[None]:
    # A signal inherited ignored stays ignored, as Python itself does: a background job
    # (`webex-events export ... &`) starts with SIGINT ignored, the terminal's Ctrl-C is not for it.
    previous = {
        s: handler
        for s in (signal.SIGINT, signal.SIGTERM)
        if (handler := signal.getsignal(s)) is not signal.SIG_IGN
    }
    for s in previous:
        signal.signal(s, _on_signal)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


# --- rendering -----------------------------------------------------------------------------------


def _render(
    events: Sequence[BaseEvent],
    fmt: Format,
    *,
    csv_escape: bool = True,
    columns: tuple[str, ...] = CSV_COLUMNS,
) -> bytes:
    """The bytes of ``events`` on stdout; an event CSV cannot hold is an error (nowhere to set it aside)."""
    if fmt == "csv":
        data, bad = _render_csv(events, csv_escape, columns)
        if bad:
            event, problem = bad[0]
            raise _unwritable(
                event, problem, "for stdout", "export to --output FILE to set it aside, or use --format jsonl"
            )
        return data
    return b"".join(map(jsonl_line, events))


def _render_csv(
    events: Sequence[BaseEvent], csv_escape: bool, columns: tuple[str, ...]
) -> tuple[bytes, list[tuple[BaseEvent, str]]]:
    """The CSV rows of ``events`` that CSV can hold, and the others with the reason."""
    rows = functools.partial(csv_rows, escape_formulas=csv_escape, columns=columns)
    try:
        return rows(e.raw for e in events).encode("utf-8"), []
    except UnicodeEncodeError:
        pass  # rare: sort the events out one by one
    good: list[BaseEvent] = []
    bad: list[tuple[BaseEvent, str]] = []
    for event in events:
        problem = csv_problem(event.raw, columns)
        if problem is None:
            good.append(event)
        else:
            bad.append((event, problem))
    return rows(e.raw for e in good).encode("utf-8"), bad


def _describe(event: BaseEvent, where: str) -> str:
    return f"event {event.id!r} (created {event.created_raw!r}, {where})"


def _unwritable(event: BaseEvent, problem: str, where: str, advice: str) -> CliError:
    """The error for an event CSV cannot hold (exit 4: the API sent what the format cannot carry)."""
    return CliError(f"{_describe(event, where)} cannot be written as CSV ({problem}); {advice}", EXIT_API)


def jsonl_line(event: BaseEvent) -> bytes:
    """One JSON Lines line of ``event``: its exact JSON text, UTF-8, newline-terminated."""
    text = event.raw_json
    if "\n" in text or "\r" in text:
        # Only insignificant whitespace can hold a raw newline in JSON (strings escape it):
        # turning it into a space keeps the exact value on one line.
        text = text.replace("\r", " ").replace("\n", " ")
    return (text + "\n").encode("utf-8")


def _header(req: ExportRequest) -> bytes:
    return csv_header(req.columns).encode("utf-8") if req.fmt == "csv" else b""


# --- the job ----------------------------------------------------------------------------------------


@dataclass
class _Counters:
    events: int = 0
    earlier: int = 0  # events written by earlier runs (resume)
    set_aside: int = 0  # events set aside in the quarantine file, by every run
    started: float = field(default_factory=time.monotonic)


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _summary(counters: _Counters, stats: ListStats | None, where: str, aside: Path | None = None) -> None:
    """The last line of an export (always shown, as text or a JSON object)."""
    total = counters.events + counters.earlier
    pages, retries = (stats.pages, stats.retries) if stats is not None else (0, 0)
    bad, repeated = (stats.bad, stats.repeated) if stats is not None else (0, 0)
    seconds = time.monotonic() - counters.started
    text = (
        f"{_count(total, 'event', 'events')}, {_count(pages, 'page', 'pages')},"
        f" {_count(retries, 'retry', 'retries')} in {format_seconds(seconds)}"
    )
    if counters.earlier:
        text += f" (resumed: {counters.earlier:,} from earlier runs)"
    if counters.set_aside:
        text += f"; {_count(counters.set_aside, 'event', 'events')} CSV cannot hold set aside in {aside}"
    if bad:
        text += (
            f"; {_count(bad, 'event', 'events')} without a readable created or id (written, with warnings)"
        )
    if repeated:
        text += f"; {_count(repeated, 'copy', 'copies')} the server sent again skipped"
    emit(
        logging.INFO,
        "done",
        text + f" -> {where}",
        events=total,
        pages=pages,
        retries=retries,
        seconds=round(seconds, 3),
        resumed=counters.earlier,
        output=where,
        quarantined=counters.set_aside,
        bad=bad,
        repeated=repeated,
    )


def _list(
    client: WebexEvents,
    req: ExportRequest,
    start: datetime | None,
    end: datetime | None,
    window: timedelta | Literal["auto"] | None,
) -> EventStream:
    listing: EventStream = client._list(  # the stream's listing (list_events() for events)
        req.stream,
        from_=start,
        to=end,
        page_size=req.page_size,
        window=window,
        concurrency=req.concurrency,
        filters=req.filters,
    )
    return listing


def run_export(req: ExportRequest, client_factory: Callable[[], WebexEvents]) -> None:
    """Run the export described by ``req``; raises :class:`CliError` on failure."""
    if req.output is None:
        _export_stdout(req, client_factory)
    else:
        _export_file(req, req.output, client_factory)


def _export_stdout(req: ExportRequest, client_factory: Callable[[], WebexEvents]) -> None:
    out = sys.stdout.buffer
    progress = Progress(sys.stderr, enabled=req.show_progress)
    counters = _Counters()
    to = _resolve_to(req)
    start = req.from_ if req.from_ is not None else (to - req.since if req.since is not None else None)
    _check_range(start, to)
    # A range is fetched in windows by default, as a file export is (without a start there is
    # nothing to split: one query streamed in batches).
    window = (req.window or "auto") if start is not None else None
    try:
        with client_factory() as client:
            stream = _list(client, req, start, to, window)
            out.write(_header(req))
            if window is None:
                batch: list[BaseEvent] = []
                for event in stream:
                    batch.append(event)
                    if len(batch) >= _STDOUT_BATCH:
                        out.write(_render(batch, req.fmt, csv_escape=req.csv_escape, columns=req.columns))
                        out.flush()
                        counters.events += len(batch)
                        batch.clear()
                        progress.update(counters.events, 0, 0)
                out.write(_render(batch, req.fmt, csv_escape=req.csv_escape, columns=req.columns))
                counters.events += len(batch)
            else:
                for win in stream.windows():
                    out.write(_render(win.events, req.fmt, csv_escape=req.csv_escape, columns=req.columns))
                    out.flush()
                    counters.events += len(win.events)
                    st = stream.stats
                    progress.update(counters.events, st.windows_done, st.windows_total)
            out.flush()
            progress.finish()
            _summary(counters, stream.stats, "stdout")
    except WebexError as exc:
        progress.finish()
        raise from_webex_error(exc) from None
    except KeyboardInterrupt:
        progress.finish()
        raise CliError("interrupted", interrupted_exit_code()) from None
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly with SIGPIPE's status, like other tools;
        # stdout is pointed at /dev/null so the interpreter's final flush cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(EXIT_PIPE) from None
    except OSError as exc:
        progress.finish()
        raise CliError(f"cannot write to stdout: {exc.strerror or exc}", EXIT_IO) from None


def _resolve_to(req: ExportRequest) -> datetime:
    now = now_utc()
    if req.to is None or req.to > now:
        # Webex lists up to the present anyway; resolving here keeps a resumed run on the same range.
        return now
    return req.to


def _check_range(start: datetime | None, end: datetime) -> None:
    if start is not None and start >= end:
        raise CliError(
            f"empty range: from {format_instant(start)} is not before to {format_instant(end)}", EXIT_USAGE
        )


def _step_ms(window: timedelta | Literal["auto"] | None) -> int | None:
    """The window length a file export records, in ms; None for ``auto``.

    A fixed ``--window`` is pinned so a resumed run uses the same grid. ``auto`` is the library's
    adaptive plan (windows of about one page, sized from the density seen so far): memory stays
    bounded by the windows in flight whatever the organization's size, and a resumed run simply
    plans again from the last completed window, which is just as exact.
    """
    if isinstance(window, timedelta):
        return max(1, -(-window // timedelta(milliseconds=1)))
    return None


def _fingerprint_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def _export_file(req: ExportRequest, output: Path, client_factory: Callable[[], WebexEvents]) -> None:
    with locked_output(output):
        _export_locked(req, output, client_factory)


def _resumable_state(req: ExportRequest, output: Path, spath: Path) -> tuple[ExportState, hashlib._Hash]:
    """The recorded state of the unfinished export, checked against the arguments and the output."""
    try:
        state = ExportState.load(spath)
        recorded = state.fingerprint.get("stream", EVENTS.name)  # made before --stream: events
        if recorded != req.stream.name:
            raise CliError(
                f"--resume: {spath} records an export of the {recorded} stream, not {req.stream.name};"
                f" pass --stream {recorded} to continue it, or remove {spath} and {output} to start over",
                EXIT_USAGE,
            )
        diff = _fingerprint_diff(state.fingerprint, req.fingerprint)
        if diff:
            raise CliError(
                f"--resume: the arguments differ from the unfinished export recorded in {spath}"
                f" ({', '.join(diff)}); run again with the same arguments, or remove {spath}"
                f" and {output} to start over",
                EXIT_USAGE,
            )
        try:
            size = output.stat().st_size
        except FileNotFoundError:
            size = -1
        if size < state.offset:
            raise StateError(f"--resume: {output} is shorter than recorded in {spath} (was it modified?)")
        return state, state.check_output(output)
    except StateError as exc:
        raise CliError(f"{exc}; remove {spath} and {output} to start over", EXIT_USAGE) from None


def _export_locked(req: ExportRequest, output: Path, client_factory: Callable[[], WebexEvents]) -> None:
    spath = state_path(output)
    state: ExportState | None = None
    hasher = hashlib.sha256()
    if spath.exists():
        if not req.resume:
            raise CliError(
                f"{spath} records an unfinished export to {output}; pass --resume to continue it,"
                " or remove both files to start over",
                EXIT_USAGE,
            )
        state, hasher = _resumable_state(req, output, spath)
    elif req.resume:
        if output.exists() and not req.force:
            # A finished export (or any other file) has nothing to continue: replacing it would
            # lose evidence that --resume was meant to keep.
            raise CliError(
                f"--resume: no unfinished export of {output} (no {spath.name}): it is finished or"
                " was not written by export; pass --force to replace it, or choose another --output",
                EXIT_USAGE,
            )
        emit(logging.WARNING, "warning", f"no unfinished export found for {output}; starting a new export")
    fresh = state is None
    qpath = quarantine_path(output)
    for path in (output, qpath):
        if fresh and path.exists() and not req.force:
            # Compliance evidence is not overwritten by accident.
            raise CliError(
                f"{path} exists; pass --force to overwrite it, or choose another --output", EXIT_USAGE
            )

    if state is None:
        to = _resolve_to(req)
        if req.from_ is not None:
            start = req.from_
        elif req.since is not None:
            start = to - req.since
        else:
            raise CliError(
                "exporting to a file needs a start: pass --from or --since (e.g. --since 7d)", EXIT_USAGE
            )
        _check_range(start, to)
        state = ExportState(
            fingerprint=req.fingerprint,
            range_from=format_instant(start),
            range_to=format_instant(to),
            window_end=format_instant(start),
            step_ms=_step_ms(req.window),
        )

    progress = Progress(sys.stderr, enabled=req.show_progress)
    counters = _Counters(earlier=state.events, set_aside=state.quarantined)
    progress.set_base(state.events)
    # The grid is fixed when the export starts and reused by every resumed run.
    window: timedelta | Literal["auto"] | None = req.window or "auto"
    if state.step_ms:
        window = timedelta(milliseconds=state.step_ms)
    resume_from = parse_instant(state.window_end, "state")
    end = parse_instant(state.range_to, "state")

    written = _Written(state, hasher, _Quarantine(qpath, state))
    with _signals():
        try:
            with _critical():
                _save_state(state, spath)  # before touching the output: a kill from here on is resumable
                fh: BinaryIO = open(output, "r+b" if output.exists() else "w+b")  # noqa: SIM115
        except OSError as exc:
            raise CliError(f"cannot write {output}: {exc.strerror or exc}", EXIT_IO) from None
        try:
            with _critical():
                fh.truncate(state.offset)
                fh.seek(state.offset)
                written.quarantine.rewind()
                if state.offset == 0:
                    written.write(fh, _header(req))
                _checkpoint(fh, state, spath, resume_from, hasher)
            stats: ListStats | None = None
            if resume_from < end:
                with client_factory() as client:
                    stream = _list(client, req, resume_from, end, window)
                    last_checkpoint = time.monotonic()
                    for win in stream.windows():
                        data, bad = _render_window(win.events, win.end, req, written.quarantine.path)
                        with _critical():
                            written.write(fh, data)
                            for event, _ in bad:
                                written.quarantine.add(event)
                            counters.events += len(win.events) - len(bad)
                            counters.set_aside += len(bad)
                            written.add(len(win.events) - len(bad), win.end, len(bad))
                            _check_in_place(fh, output, counters)
                            if time.monotonic() - last_checkpoint >= CHECKPOINT_SECONDS:
                                written.checkpoint(fh, spath)
                                last_checkpoint = time.monotonic()
                        stats = stream.stats  # replaced when iteration starts: read it fresh
                        progress.update(counters.events, stats.windows_done, stats.windows_total)
                    stats = stream.stats
                with _critical():
                    written.checkpoint(fh, spath)  # cheap insurance until the state file is removed
            _check_in_place(fh, output, counters)
            fh.close()
            written.quarantine.close()
        except WebexError as exc:
            progress.finish()
            written.save_or_rewind(fh, spath)
            err = from_webex_error(exc)
            if fresh and written.nothing_written():
                _forget(output, spath)  # nothing to resume: the same command just runs again
                raise err from None
            raise _with_resume_hint(err, output) from None
        except KeyboardInterrupt:
            progress.finish()
            written.save_or_rewind(fh, spath)
            if fresh and written.nothing_written():
                _forget(output, spath)
                raise CliError("interrupted before any window was written", interrupted_exit_code()) from None
            raise CliError(
                f"interrupted: progress saved ({state.events:,} events up to {state.window_end});"
                " run the same command with --resume to continue",
                interrupted_exit_code(),
            ) from None
        except OSError as exc:
            progress.finish()
            written.rewind(fh)
            err = CliError(f"cannot write {output}: {exc.strerror or exc}", EXIT_IO)
            raise _with_resume_hint(err, output) from None
        except OutputMovedError as exc:
            progress.finish()
            fh.close()
            written.quarantine.close()
            # The state describes a file no longer at that path: nothing there to resume.
            _forget_state(spath)
            raise CliError(f"{exc.message}; run the export again", exc.code) from None
        except CliError as exc:  # the state or quarantine file could not be written, a bad event
            progress.finish()
            written.rewind(fh)
            raise _with_resume_hint(exc, output) from None
        ExportState.remove(spath)
    progress.finish()
    _summary(counters, stats, str(output), qpath)


def _render_window(
    events: Sequence[BaseEvent], end: datetime, req: ExportRequest, qpath: Path
) -> tuple[bytes, list[tuple[BaseEvent, str]]]:
    """The bytes of a window, and the events CSV cannot hold (each warned about), for a file."""
    if req.fmt != "csv":
        return b"".join(map(jsonl_line, events)), []
    data, bad = _render_csv(events, req.csv_escape, req.columns)
    where = f"in the window ending {format_instant(end)}"
    for event, problem in bad:
        if req.bad_events == "error":
            raise _unwritable(event, problem, where, "--bad-events quarantine sets such events aside")
        emit(
            logging.WARNING,
            "warning",
            f"{_describe(event, where)} cannot be written as CSV ({problem}); set aside in {qpath}",
            id=event.id,
            created=event.created_raw,
            window_end=format_instant(end),
            quarantine=str(qpath),
        )
    return data, bad


def _check_in_place(fh: BinaryIO, output: Path, counters: _Counters) -> None:
    """The output is still at its path (not deleted, nor its directory, nor replaced)."""
    written = _count(counters.events, "event", "events")
    check_in_place(output, fh.fileno(), f"the export wrote it ({written} written by this run)")


def _forget_state(spath: Path) -> None:
    with contextlib.suppress(OSError):
        spath.unlink()


def _forget(output: Path, spath: Path) -> None:
    """Remove the output and state of a new export that wrote no window (a header at most)."""
    for path in (spath, output):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    fsync_dir(output.absolute().parent)


class _Written:
    """What was written since the last checkpoint (see the protocol in the module docstring)."""

    def __init__(self, state: ExportState, hasher: hashlib._Hash, quarantine: _Quarantine) -> None:
        self.state = state
        self.hasher = hasher  # over every byte of the output so far
        self.quarantine = quarantine
        self.events = 0  # since the last checkpoint
        self.set_aside = 0  # since the last checkpoint
        self.window_end: datetime | None = None  # end of the last window written, if not saved
        self.windows = 0  # in this run

    def write(self, fh: BinaryIO, data: bytes) -> None:
        fh.write(data)
        self.hasher.update(data)

    def add(self, events: int, window_end: datetime, set_aside: int = 0) -> None:
        self.events += events
        self.set_aside += set_aside
        self.window_end = window_end
        self.windows += 1

    def nothing_written(self) -> bool:
        return self.windows == 0 and self.state.events == 0

    def checkpoint(self, fh: BinaryIO, spath: Path) -> None:
        if self.window_end is not None:
            self.state.quarantine_offset = self.quarantine.sync()
            self.state.events += self.events
            self.state.quarantined += self.set_aside
            _checkpoint(fh, self.state, spath, self.window_end, self.hasher)
            self.events, self.set_aside, self.window_end = 0, 0, None

    def save_or_rewind(self, fh: BinaryIO, spath: Path) -> None:
        """On Ctrl-C or an API error: keep every whole window written (or drop a torn tail)."""
        try:
            if not fh.closed:
                self.checkpoint(fh, spath)
        except (OSError, CliError):
            pass
        self.rewind(fh)

    def rewind(self, fh: BinaryIO) -> None:
        """Cut the output and the quarantine file back to the last checkpoint."""
        _rewind(fh, self.state)
        with contextlib.suppress(CliError):
            self.quarantine.rewind()


class _Quarantine:
    """The events CSV cannot hold, set aside as their exact JSON, one per line, beside the output.

    Made durable with each checkpoint, which records its size (``quarantine_offset``) and count;
    a resumed or failed run cuts it back to that size, as it does the output.
    """

    def __init__(self, path: Path, state: ExportState) -> None:
        self.path = path
        self.state = state
        self._fh: BinaryIO | None = None

    def _error(self, exc: OSError) -> CliError:
        return CliError(f"cannot write {self.path}: {exc.strerror or exc}", EXIT_IO)

    def add(self, event: BaseEvent) -> None:
        try:
            if self._fh is None:
                self._fh = open(self.path, "ab")  # noqa: SIM115 - held until the export ends
            self._fh.write(jsonl_line(event))
        except OSError as exc:
            raise self._error(exc) from None

    def sync(self) -> int:
        """Make it durable; returns its size."""
        if self._fh is None:
            return self.state.quarantine_offset
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            return self._fh.tell()
        except OSError as exc:
            raise self._error(exc) from None

    def rewind(self) -> None:
        """Cut the file back to the size the state records (removed if that is none)."""
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.close()
            self._fh = None
        offset = self.state.quarantine_offset
        try:
            if offset == 0:
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
                return
            size = self.path.stat().st_size if self.path.exists() else -1
            if size < offset:
                raise CliError(
                    f"--resume: {self.path} is {'shorter than' if size >= 0 else 'missing, unlike'} what"
                    f" the state records ({self.state.quarantined:,} events set aside; was it modified?)",
                    EXIT_USAGE,
                )
            os.truncate(self.path, offset)
        except OSError as exc:
            raise self._error(exc) from None

    def close(self) -> None:
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError as exc:
                raise self._error(exc) from None
            self._fh = None


def _checkpoint(
    fh: BinaryIO, state: ExportState, spath: Path, window_end: datetime, hasher: hashlib._Hash
) -> None:
    """Make the output durable, then record (window end, output size, its digest) atomically."""
    fh.flush()
    os.fsync(fh.fileno())
    state.offset = fh.tell()
    state.output_sha256 = hasher.hexdigest()
    state.window_end = format_instant(window_end)
    _save_state(state, spath)


def _save_state(state: ExportState, spath: Path) -> None:
    """Save the state file; a failure names it (not the output), exit 1."""
    try:
        state.save(spath)
    except OSError as exc:
        raise CliError(f"cannot write the state file {spath}: {exc.strerror or exc}", EXIT_IO) from None


def _rewind(fh: BinaryIO, state: ExportState) -> None:
    """Drop what follows the last checkpoint, so the file never holds a partial window.

    After a failed write (a full disk) the buffer cannot be flushed and closing the file tries
    again: the size is cut on a duplicate of its descriptor once it is closed.
    """
    if fh.closed:
        return
    try:
        fd = os.dup(fh.fileno())
    except OSError:
        return  # the resumed run truncates anyway
    try:
        with contextlib.suppress(OSError):
            fh.close()
        os.ftruncate(fd, state.offset)
        os.fsync(fd)
    except OSError:
        pass  # the resumed run truncates anyway
    finally:
        os.close(fd)


def _with_resume_hint(err: CliError, output: Path) -> CliError:
    if err.code == EXIT_USAGE:
        return err
    return CliError(f"{err.message} (progress saved: fix the cause and rerun with --resume)", err.code)
