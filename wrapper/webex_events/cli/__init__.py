"""The ``webex-events`` command: export, get, fake-server.

Exit codes: 0 done, 1 local I/O failure, 2 bad usage (nothing sent), 3 authentication or
permission refused (401/403), 4 API failure after retries, 130 interrupted by Ctrl-C (SIGINT),
143 stopped by SIGTERM.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import click

from webex_events import WebexError
from webex_events._cli_entry import flush_standard_streams
from webex_events._follow import (
    DEFAULT_LAG,
    DEFAULT_OVERLAP,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_RECONCILE_HORIZON,
    DEFAULT_RECONCILE_INTERVAL,
)

from ._csv import CSV_COLUMNS
from ._errors import EXIT_INTERRUPTED, EXIT_USAGE, CliError, from_webex_error, redact
from ._export import ExportRequest, make_client, run_export
from ._logging import LEVELS, LogFormat, emit, json_mode
from ._logging import configure as configure_logging
from ._malloc import limit_malloc_arenas
from ._options import (
    DEFAULT_BASE_URL,
    TOKEN_ENV,
    CliUsageError,
    check_base_url,
    format_instant,
    now_utc,
    parse_duration,
    parse_instant,
    read_token,
)
from ._resume import ExportState, StateError, state_path
from ._spec_options import FILTER_DEST, filter_options, page_size_option, validate_filters

__all__ = ["main"]

DEMO_EVENTS = 5000
DEMO_DAYS = 7.0
DEMO_SEED = 42

# The token currently in use, so that any message can be scrubbed of it before printing.
_secret: str | None = None


class _Group(click.Group):
    """A click group whose errors are one line ``webex-events: error: ...`` with our exit codes."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command and exit with its code (``standalone_mode=False`` returns it instead)."""
        limit_malloc_arenas()  # before any worker thread starts
        code = self._run(args, prog_name, complete_var, **extra)
        if not standalone_mode:
            return code
        if code > 128:
            # Stopped by a signal: what was written is checkpointed; do not wait for worker
            # threads still blocked on a server that stopped answering (they hold nothing).
            flush_standard_streams()
            os._exit(code)
        sys.exit(code)

    def _run(
        self, args: Sequence[str] | None, prog_name: str | None, complete_var: str | None, **extra: Any
    ) -> int:
        try:
            rv = super().main(args, prog_name or "webex-events", complete_var, standalone_mode=False, **extra)
        except CliError as exc:
            _error(exc.message)
            return exc.code
        except CliUsageError as exc:
            _error(str(exc))
            return EXIT_USAGE
        except click.exceptions.NoArgsIsHelpError as exc:
            sys.stderr.write(exc.ctx.get_help() + "\n" if exc.ctx is not None else "")
            return EXIT_USAGE
        except click.UsageError as exc:
            hint = ""
            if exc.ctx is not None:
                hint = f" (see '{exc.ctx.command_path} --help')"
            _error(exc.format_message() + hint)
            return EXIT_USAGE
        except click.ClickException as exc:
            _error(exc.format_message())
            return exc.exit_code
        except click.exceptions.Abort:
            _error("interrupted")
            return EXIT_INTERRUPTED
        except KeyboardInterrupt:
            _error("interrupted")
            return EXIT_INTERRUPTED
        except WebexError as exc:
            err = from_webex_error(exc)
            _error(err.message)
            return err.code
        return rv if isinstance(rv, int) else 0


def _error(message: str) -> None:
    emit(logging.ERROR, "error", _mask(" ".join(message.split())))


def _mask(text: str) -> str:
    return redact(text, _secret)


def logging_options(f: Any) -> Any:
    """``--log-level``, ``--log-format``, ``-v``: set up the ``webex_events`` logger, then run."""

    @functools.wraps(f)
    def run(*args: Any, log_level: str | None, log_format: LogFormat, verbose: int, **kwargs: Any) -> Any:
        configure_logging(
            level=log_level, fmt=log_format, verbose=verbose, quiet=bool(kwargs.get("quiet")), redact=_mask
        )
        return f(*args, **kwargs)

    run = click.option(
        "--log-level",
        type=click.Choice(LEVELS, case_sensitive=False),
        default=None,
        envvar="WEBEX_EVENTS_LOG_LEVEL",
        show_envvar=True,
        help="Diagnostics shown on stderr (retries are warnings). Default: warning; -q: error.",
    )(run)
    run = click.option(
        "--log-format",
        type=click.Choice(["text", "json"]),
        default="text",
        envvar="WEBEX_EVENTS_LOG_FORMAT",
        show_envvar=True,
        help="text: timestamped lines; json: one JSON object per line (cron, SIEM collectors).",
    )(run)
    return click.option(
        "-v", "--verbose", count=True, help="More diagnostics: -v info, -vv debug (see --log-level)."
    )(run)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.version_option(package_name="webex-events", prog_name="webex-events")
def main() -> None:
    """Export and read the events of a Webex organization (Webex Events API).

    The access token (scope spark-compliance:events_read) is read from WEBEX_ACCESS_TOKEN or
    --token-file; it is never printed or written anywhere. Try it offline with
    `webex-events export --demo --since 7d --output demo.jsonl`.

    Exit codes: 0 done, 1 local I/O failure, 2 bad usage (nothing sent), 3 token refused
    (401/403), 4 API failure after retries, 130 interrupted (Ctrl-C), 143 stopped (SIGTERM).
    """


def _base_url_option(f: Any) -> Any:
    return click.option(
        "--base-url",
        default=DEFAULT_BASE_URL,
        show_default=True,
        # An environment default serves FedRAMP/other Webex clouds and scripted test setups.
        envvar="WEBEX_BASE_URL",
        show_envvar=True,
        help="API base URL (https; plain http only on 127.0.0.1/localhost, e.g. the fake server).",
    )(f)


def _token_file_option(f: Any) -> Any:
    return click.option(
        "--token-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=f"Read the access token from this file instead of ${TOKEN_ENV}.",
    )(f)


@contextmanager
def _demo_server(end: datetime) -> Iterator[tuple[str, str]]:
    """Serve a synthetic organization ending at ``end`` on loopback; yields (base URL, its token)."""
    from webex_events.testing import FakeWebex  # noqa: PLC0415 - only the demo needs the fake

    fake = FakeWebex(events=DEMO_EVENTS, seed=DEMO_SEED, start=end - timedelta(days=DEMO_DAYS), end=end)
    with fake.serve() as base_url:
        yield str(base_url), str(fake.token)


def _announce(token: str) -> Callable[[str], None]:
    def say(base_url: str) -> None:
        sys.stderr.write(
            f"webex-events: fake Webex serving {base_url} (token {token!r}); Ctrl-C to stop. Use it with:\n"
            f"  export WEBEX_BASE_URL={base_url} WEBEX_ACCESS_TOKEN={token}\n"
        )
        sys.stderr.flush()

    return say


def _demo_anchor(out_path: Path | None, resume: bool) -> datetime:
    """End of the demo organization: now, or the recorded end when resuming a demo export.

    The fake's data depends on its end instant, so a resumed demo must rebuild the same one.
    """
    if resume and out_path is not None:
        with contextlib.suppress(StateError, OSError):
            recorded = ExportState.load(state_path(out_path)).range_to
            return parse_instant(recorded, "state")
    return now_utc()


_EXPORT_EPILOG = (
    "CSV columns (data.X is the field X of the event's data object; a missing field is empty,"
    " a non-string value is compact JSON):\n\n\b\n"
    + "\n".join(textwrap.wrap(", ".join(CSV_COLUMNS), 76))
    + "\n\nResume: a file export keeps OUTPUT.webex-events-state.json until it finishes; after a"
    " crash, a kill or Ctrl-C, run the same command with --resume to continue exactly (no event"
    " missing, none twice)."
    "\n\nEnvironment: WEBEX_ACCESS_TOKEN (the token); WEBEX_EVENTS_MAX_ATTEMPTS (attempts per"
    " request before giving up, default 6)."
)


@main.command(epilog=_EXPORT_EPILOG)
@click.option(
    "--from",
    "from_",
    metavar="ISO8601",
    help="Start of the range (inclusive): 2024-01-31, 2024-01-31T08:00 or 2024-01-31T08:00+02:00."
    " A date or time without an offset is UTC.",
)
@click.option("--to", "to", metavar="ISO8601", help="End of the range (exclusive), as --from; default now.")
@click.option(
    "--since",
    metavar="DURATION",
    help="Start the range this long before now: 1w, 7d, 1.5d, 12h, 90m, 30s or sums like 1d12h.",
)
@filter_options
@page_size_option
@click.option(
    "--window",
    metavar="DURATION|auto",
    default=None,
    help="Split the range into windows of this length (or auto). Default: auto for a file, none for stdout.",
)
@click.option("--concurrency", type=click.IntRange(1, 64), default=None, help="Windows fetched in parallel.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv"]),
    default=None,
    help="Output format; default from the output extension (.csv: csv), else jsonl.",
)
@click.option(
    "--csv-escape/--no-csv-escape",
    default=True,
    help="CSV: write a text cell that starts with = + - @ tab or CR with a leading ' so a spreadsheet"
    " shows it as text instead of running it as a formula. --no-csv-escape writes cells exactly.",
)
@click.option("--output", "-o", default="-", show_default=True, help="Output file, or - for stdout.")
@click.option("--resume", is_flag=True, help="Continue the unfinished export to --output.")
@click.option(
    "--force", is_flag=True, help="Overwrite --output if it exists (refused otherwise, unless --resume)."
)
@click.option(
    "--demo", is_flag=True, help="Export from a built-in fake organization (offline, no token needed)."
)
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="No progress display and only errors logged (the summary is still printed).",
)
@_base_url_option
@_token_file_option
@logging_options
def export(
    *,
    from_: str | None,
    to: str | None,
    since: str | None,
    page_size: int,
    window: str | None,
    concurrency: int | None,
    fmt: str | None,
    csv_escape: bool,
    output: str,
    resume: bool,
    force: bool,
    demo: bool,
    quiet: bool,
    base_url: str,
    token_file: Path | None,
    **options: Any,
) -> None:
    """Export events as JSON Lines (exact JSON Webex sent, one per line) or CSV.

    Progress goes to stderr (in place on a terminal), then a one-line summary.
    """
    global _secret  # noqa: PLW0603 - the token is scrubbed from every message we print

    # Validate everything before any request (bad usage: exit 2, nothing sent).
    if since is not None and from_ is not None:
        raise CliUsageError("--since and --from cannot be combined")
    start = parse_instant(from_, "--from") if from_ is not None else None
    end = parse_instant(to, "--to") if to is not None else None
    since_td = parse_duration(since, "--since") if since is not None else None
    if start is not None and end is not None and start >= end:
        raise CliUsageError(f"--from {from_} must be before --to {to}")
    window_value: Any = None
    if window is not None:
        window_value = "auto" if window.strip().lower() == "auto" else parse_duration(window, "--window")
    filters = validate_filters(options)
    out_path: Path | None = None if output == "-" else Path(output)
    if out_path is None and resume:
        raise CliUsageError("--resume needs --output FILE (stdout cannot be resumed)")
    if out_path is not None and out_path.is_dir():
        raise CliUsageError(f"--output: {output} is a directory")
    if out_path is not None and not out_path.absolute().parent.is_dir():
        raise CliUsageError(f"--output: directory {str(out_path.absolute().parent)!r} does not exist")
    if fmt is None:
        fmt = "csv" if out_path is not None and out_path.suffix.lower() == ".csv" else "jsonl"
    if (
        out_path is None
        and start is None
        and since_td is None
        and (window is not None or (concurrency or 1) > 1)
    ):
        raise CliUsageError("--window/--concurrency need a start: pass --from or --since")
    if demo:
        base_url_checked = None
    else:
        base_url_checked = check_base_url(base_url)
        _secret = read_token(token_file)

    # Every filter of the spec, given or not: a resume with another filter value is refused.
    # "from" and "to" name this command's own --from/--to (as "since_seconds" names --since),
    # not the spec's range parameters: a state file stays valid if the spec renames those.
    fingerprint: dict[str, Any] = {
        **{
            name[len(FILTER_DEST) :]: value for name, value in options.items() if name.startswith(FILTER_DEST)
        },
        "from": format_instant(start) if start is not None else None,
        "to": format_instant(end) if end is not None else None,
        "since_seconds": since_td.total_seconds() if since_td is not None else None,
        "window": "auto" if window_value in (None, "auto") else window_value.total_seconds(),
        "format": fmt,
        # One file, one rule: a resume may not switch escaping halfway (JSONL has none).
        **({"csv_escape": csv_escape} if fmt == "csv" else {}),
        "source": "demo" if demo else base_url_checked,
    }
    fmt_value: Literal["jsonl", "csv"] = "csv" if fmt == "csv" else "jsonl"

    server: contextlib.AbstractContextManager[tuple[Any, Any]]
    if demo:
        anchor = _demo_anchor(out_path, resume)
        # The demo's "now" is the fake's end, so that a resumed demo sees the same organization.
        end = anchor if end is None or end > anchor else end
        server = _demo_server(anchor)
    else:
        server = nullcontext((base_url_checked, _secret))
    with server as (url, token):
        if demo:
            _secret = token
        req = ExportRequest(
            filters=filters,
            from_=start,
            to=end,
            since=since_td,
            page_size=page_size,
            window=window_value,
            concurrency=concurrency,
            fmt=fmt_value,
            output=out_path,
            resume=resume,
            force=force,
            base_url=str(url),
            demo=demo,
            show_progress=not quiet and not json_mode(),
            fingerprint=fingerprint,
            csv_escape=csv_escape,
        )
        run_export(req, lambda: make_client(str(token), str(url), concurrency))


@main.command()
@click.argument("event_id")
@click.option("--demo", is_flag=True, help="Read from the built-in fake organization of `export --demo`.")
@_base_url_option
@_token_file_option
@logging_options
def get(event_id: str, demo: bool, base_url: str, token_file: Path | None) -> None:
    """Print one event (EVENT_ID) as the exact JSON Webex sent."""
    global _secret  # noqa: PLW0603
    server: contextlib.AbstractContextManager[tuple[Any, Any]]
    if demo:
        server = _demo_server(now_utc())  # event ids do not depend on the instant: same as export's
    else:
        server = nullcontext((check_base_url(base_url), read_token(token_file)))
    try:
        with server as (url, token):
            _secret = str(token)
            with make_client(_secret, str(url)) as client:
                event = client.get_event(event_id)
    except WebexError as exc:
        raise from_webex_error(exc) from None
    sys.stdout.write(event.raw_json + "\n")
    sys.stdout.flush()


_FOLLOW_EPILOG = (
    "Each event is written once: run it again (after a crash, a kill -9, a reboot) and it"
    " continues from its checkpoint (OUTPUT.follow-state.json beside a .jsonl file; inside a"
    " SQLite file) with nothing lost or repeated. stdout is at-least-once: after a crash the"
    " events since the last --checkpoint are written again (their ids make that harmless)."
    " Events that Webex shows late are found by re-reading the last --overlap on every poll and"
    " the last --reconcile-horizon every --reconcile-interval. A signal (Ctrl-C, SIGTERM) stops"
    " it after the commit in progress, with exit 0."
)


def _duration_text(value: timedelta) -> str:
    """The shortest ``parse_duration`` text of ``value`` (a whole number of one unit: 5m, 24h)."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _duration_option(name: str, default: timedelta, text: str) -> Callable[[Any], Any]:
    # The default is the library's (webex_events._follow): one value for both.
    return click.option(
        name, metavar="DURATION", default=_duration_text(default), show_default=True, help=text
    )


@main.command(epilog=_FOLLOW_EPILOG)
@click.option(
    "--output",
    "-o",
    default="-",
    show_default=True,
    help="A .jsonl file (appended), a .db/.sqlite file (SQLite) or - for stdout.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "sqlite"]),
    default=None,
    help="Sink format; default from the output's suffix (.db, .sqlite, .sqlite3: sqlite), else jsonl.",
)
@click.option(
    "--since",
    metavar="DURATION|ISO8601",
    help="Where a new follow starts: a duration before now (7d, 12h) or an instant. Required on the"
    " first run; a later run continues from its checkpoint.",
)
@_duration_option(
    "--lag", DEFAULT_LAG, "Read only up to this long before now (Webex shows some events late)."
)
@_duration_option("--poll-interval", DEFAULT_POLL_INTERVAL, "Time between polls.")
@_duration_option("--overlap", DEFAULT_OVERLAP, "Re-read this much before the last position on every poll.")
@_duration_option("--reconcile-horizon", DEFAULT_RECONCILE_HORIZON, "How far back a reconcile pass re-reads.")
@_duration_option("--reconcile-interval", DEFAULT_RECONCILE_INTERVAL, "Time between reconcile passes.")
@click.option("--once", is_flag=True, help="Catch up to now minus --lag, commit and exit 0 (for cron).")
@filter_options
@page_size_option
@click.option("--concurrency", type=click.IntRange(1, 64), default=None, help="Requests in flight.")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --output -: keep the checkpoint in this file (without it, each run starts at --since).",
)
@click.option("--quiet", "-q", is_flag=True, help="No per-poll progress lines.")
@_base_url_option
@_token_file_option
@logging_options
def follow(
    *,
    output: str,
    fmt: str | None,
    since: str | None,
    lag: str,
    poll_interval: str,
    overlap: str,
    reconcile_horizon: str,
    reconcile_interval: str,
    once: bool,
    page_size: int,
    concurrency: int | None,
    checkpoint_file: Path | None,
    quiet: bool,
    base_url: str,
    token_file: Path | None,
    **options: Any,
) -> None:
    """Keep appending new events to --output as they appear, each exactly once.

    Progress goes to stderr, a line per poll: new events, events per minute, how far behind now,
    late and reconciled events.
    """
    global _secret  # noqa: PLW0603 - the token is scrubbed from every message we print

    from ._follow import FollowRequest, run_follow, sink_kind  # noqa: PLC0415 - only needed here

    durations = {
        name: parse_duration(text, "--" + name.replace("_", "-"))
        for name, text in (
            ("lag", lag),
            ("poll_interval", poll_interval),
            ("overlap", overlap),
            ("reconcile_horizon", reconcile_horizon),
            ("reconcile_interval", reconcile_interval),
        )
    }
    start: datetime | None = None
    if since is not None:
        try:
            start = now_utc() - parse_duration(since, "--since")
        except CliUsageError:
            start = parse_instant(since, "--since")
    filters = validate_filters(options)
    kind = sink_kind(output, fmt)
    out_path = None if kind == "stdout" else Path(output)
    if checkpoint_file is not None and out_path is not None:
        raise CliUsageError("--checkpoint is for --output - (a file output keeps its own checkpoint)")
    if out_path is not None and out_path.is_dir():
        raise CliUsageError(f"--output: {output} is a directory")
    if out_path is not None and not out_path.absolute().parent.is_dir():
        raise CliUsageError(f"--output: directory {str(out_path.absolute().parent)!r} does not exist")
    if durations["reconcile_horizon"] < durations["overlap"]:
        raise CliUsageError("--reconcile-horizon must be at least --overlap")
    if durations["reconcile_interval"] <= timedelta(0) or durations["reconcile_horizon"] <= timedelta(0):
        raise CliUsageError("--reconcile-interval and --reconcile-horizon must be positive")
    has_checkpoint = (out_path is not None and out_path.exists() and out_path.stat().st_size > 0) or (
        checkpoint_file is not None and checkpoint_file.exists()
    )
    if start is None and not has_checkpoint:
        raise CliUsageError("a new follow needs --since (e.g. --since 1d): where to start")
    url = check_base_url(base_url)
    _secret = read_token(token_file)
    req = FollowRequest(
        filters=filters,
        since=start,
        once=once,
        page_size=page_size,
        concurrency=concurrency,
        kind=kind,
        output=out_path,
        checkpoint_file=checkpoint_file,
        quiet=quiet,
        **durations,
    )
    secret = _secret
    if run_follow(req, lambda: make_client(secret, url, concurrency)):
        # Stopped by a signal, all committed and closed: exit now rather than wait for a worker
        # thread still blocked on a server that stopped answering (it holds nothing).
        flush_standard_streams()
        os._exit(0)


@main.command("fake-server")
@click.option(
    "--events", type=click.IntRange(min=0), default=1000, show_default=True, help="Number of events."
)
@click.option(
    "--days",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    help="Spread the events over the DAYS days before now (floored to the hour). With --live: the"
    " history before now (not floored; 1 hour unless given).",
)
@click.option(
    "--live",
    is_flag=True,
    help="Keep events arriving while it runs: --rate events a minute, created from --days ago to"
    " --live-for from now, each served once the clock passes its created time (plus its --late"
    " delay; default: 20% up to 2 min late, 1% 10-30 min late). Replaces --events.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    metavar="EVENTS_PER_MINUTE",
    help="With --live: events created per minute.",
)
@click.option(
    "--live-for",
    "live_for",
    default="1d",
    show_default=True,
    metavar="DURATION",
    help="With --live: how long new events keep arriving (e.g. 90m, 12h, 1d).",
)
@click.option(
    "--late",
    multiple=True,
    metavar="FRACTION:MIN-MAX",
    help="Repeatable: a FRACTION of the events becomes visible MIN to MAX seconds after its created"
    " time (e.g. --late 0.2:0-120 --late 0.01:600-1800; tiers checked in order, fractions sum to at"
    " most 1; --late 0:0-0 for none). Works with or without --live.",
)
@click.option(
    "--latency",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Seconds added to each response.",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Requests per second before answering 429 with Retry-After (default: unlimited).",
)
@click.option(
    "--fault-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Fraction of requests answered with an injected fault (5xx, 423/429, reset, truncated body).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the synthetic organization.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="Port (0: any free)."
)
@click.option(
    "--token",
    default="fake-token",
    envvar="WEBEX_ACCESS_TOKEN",
    show_envvar=True,
    help="The token the server accepts (so a shell that exported its token can use the fake as is).",
)
@logging_options
def fake_server(
    *,
    events: int,
    days: float,
    live: bool,
    rate: float,
    live_for: str,
    late: tuple[str, ...],
    latency: float,
    rate_limit: float | None,
    fault_rate: float,
    seed: int,
    port: int,
    token: str,
) -> None:
    """Run the fake Webex server on 127.0.0.1 until Ctrl-C; the first stdout line is its base URL.

    stderr says which token it accepts and how to point the CLI or the library at it. With
    --live, new events keep arriving while it runs (some of them late, as Webex shows them).
    """
    import re  # noqa: PLC0415 - only needed here

    from webex_events.testing import FakeWebex, run_server  # noqa: PLC0415 - only needed here

    ctx = click.get_current_context()

    def given(name: str) -> bool:
        return ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT

    if live and given("events"):
        raise click.UsageError("--events does not go with --live (the number of events follows --rate)", ctx)
    for name in ("rate", "live_for"):
        if not live and given(name):
            raise click.UsageError(f"--{name.replace('_', '-')} only goes with --live", ctx)
    number = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    tiers = []
    for text in late:
        found = re.fullmatch(rf"\s*({number})\s*:\s*({number})\s*-\s*({number})\s*", text)
        if found is None:
            raise click.BadParameter(
                f"{text!r} is not FRACTION:MIN-MAX (seconds), e.g. 0.2:0-120", ctx, param_hint="'--late'"
            )
        tiers.append((float(found[1]), float(found[2]), float(found[3])))
    options: dict[str, Any] = {
        "seed": seed,
        "token": token,
        "latency": latency,
        "rate_limit": rate_limit,
        "fault_rate": fault_rate,
    }
    if late:
        options["late"] = tiers
    try:
        if live:
            if given("days"):
                options["history"] = timedelta(days=days)
            duration = parse_duration(live_for, "--live-for")
            fake = FakeWebex.live(rate=rate, duration=duration, **options)
        else:
            fake = FakeWebex(events=events, days=days, **options)
    except ValueError as exc:
        raise click.UsageError(str(exc), ctx) from None
    announce = _announce(token)

    def say(base_url: str) -> None:
        announce(base_url)
        if live:
            sys.stderr.write(
                f"webex-events: live: about {rate:g} new events a minute until {format_instant(fake.end)}\n"
            )
            sys.stderr.flush()

    run_server(fake, port=port, announce=say)
