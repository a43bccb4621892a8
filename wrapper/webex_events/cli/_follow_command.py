"""``webex-events follow``: its options, checked before any request, handed to the follow job."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click

from webex_events import WebexEvents
from webex_events._follow import (
    DEFAULT_LAG,
    DEFAULT_OVERLAP,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_RECONCILE_HORIZON,
    DEFAULT_RECONCILE_INTERVAL,
)
from webex_events._streams import STREAMS

from ._common import api_options, flush_standard_streams, use_token
from ._errors import needs_scopes
from ._export import make_client
from ._options import (
    FOLLOW_MAX_BACKOFF,
    CliUsageError,
    check_base_url,
    check_output_file,
    now_utc,
    parse_duration,
    parse_instant,
    read_token,
)
from ._spec_options import check_page_size, filter_options, page_size_option, validate_filters
from ._streams import fill_from_token, stream_option

__all__ = ["GIVE_UP_ENV", "MAX_BACKOFF_ENV", "follow"]

GIVE_UP_ENV = "WEBEX_EVENTS_GIVE_UP_AFTER"
MAX_BACKOFF_ENV = "WEBEX_EVENTS_MAX_BACKOFF"

_EPILOG = (
    "Each event is written once: run it again (after a crash, a kill -9, a reboot) and it"
    " continues from its checkpoint (OUTPUT.follow-state.json beside a .jsonl file; inside a"
    " SQLite file) with nothing lost or repeated. stdout is at-least-once: after a crash the"
    " events since the last --checkpoint are written again (their ids make that harmless)."
    " Events that Webex shows late are found by re-reading the last --overlap on every poll and"
    " the last --reconcile-horizon every --reconcile-interval. A signal (Ctrl-C, SIGTERM) stops"
    " it after the commit in progress, with exit 0. Network errors, 5xx and 429 are retried for"
    " as long as it runs (see --give-up-after); a 401 re-reads --token-file; a .jsonl output"
    " moved away or truncated by log rotation is continued in the new file."
)


def _give_up_after(text: str | None, once: bool) -> float | None:
    """``--give-up-after`` in seconds: None never; 0 at once (``--once``'s default)."""
    if text is None:
        return 0.0 if once else None
    value = text.strip().lower()
    if value in {"never", "inf"}:
        return None
    if value in {"0", "0s"}:
        return 0.0
    return parse_duration(text, "--give-up-after").total_seconds()


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


@click.command(epilog=_EPILOG)
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
    help="Sink format; default from the output's suffix: .db, .sqlite, .sqlite3 sqlite; .jsonl, .ndjson,"
    " .jsonlines, .log or none jsonl; any other (.csv) is refused unless --format says which.",
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
@click.option(
    "--give-up-after",
    metavar="DURATION|never",
    default=None,
    envvar=GIVE_UP_ENV,
    show_envvar=True,
    help="Exit (code 4) once the API has been failing this long (network errors, 5xx, 429), retrying"
    " until then from the last checkpoint. Default: never; with --once, 0 (exit after the request's"
    " own retries: the next run continues).",
)
@click.option(
    "--max-backoff",
    metavar="DURATION",
    default=_duration_text(FOLLOW_MAX_BACKOFF),
    show_default=True,
    envvar=MAX_BACKOFF_ENV,
    show_envvar=True,
    help="The longest wait between attempts while the API is failing (doubling from 1s, with jitter).",
)
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
@stream_option
@api_options
def follow(
    *,
    stream_name: str,
    output: str,
    fmt: str | None,
    since: str | None,
    lag: str,
    poll_interval: str,
    overlap: str,
    reconcile_horizon: str,
    reconcile_interval: str,
    once: bool,
    give_up_after: str | None,
    max_backoff: str,
    page_size: int | None,
    concurrency: int | None,
    checkpoint_file: Path | None,
    quiet: bool,
    base_url: str,
    token_file: Path | None,
    max_response_bytes: int,
    **options: Any,
) -> None:
    """Keep appending new events to --output as they appear, each exactly once.

    Progress goes to stderr, a line per poll: new events (and the rate of those created in the
    span the poll read), how far behind now, late and reconciled events.
    """
    # The job and its sinks (sqlite3 among them) are imported only by a follow run.
    from ._follow import FollowRequest, run_follow, sink_kind  # noqa: PLC0415
    from ._sinks import follow_state_path  # noqa: PLC0415

    give_up = _give_up_after(give_up_after, once)
    backoff = parse_duration(max_backoff, "--max-backoff").total_seconds()
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
    stream = STREAMS[stream_name]
    needs_scopes(stream.operation.scopes)
    filters = validate_filters(options, stream)
    size = check_page_size(page_size, stream)
    kind = sink_kind(output, fmt)
    if checkpoint_file is not None and kind != "stdout":
        raise CliUsageError("--checkpoint is for --output - (a file output keeps its own checkpoint)")
    out_path = None if kind == "stdout" else check_output_file(output)
    if durations["reconcile_horizon"] < durations["overlap"]:
        raise CliUsageError("--reconcile-horizon must be at least --overlap")
    if durations["reconcile_interval"] <= timedelta(0) or durations["reconcile_horizon"] <= timedelta(0):
        raise CliUsageError("--reconcile-interval and --reconcile-horizon must be positive")
    has_checkpoint = (
        (out_path is not None and out_path.exists() and out_path.stat().st_size > 0)
        or (out_path is not None and kind == "jsonl" and follow_state_path(out_path).exists())
        or (checkpoint_file is not None and checkpoint_file.exists())
    )
    if start is None and not has_checkpoint:
        raise CliUsageError("a new follow needs --since (e.g. --since 1d): where to start")
    url = check_base_url(base_url)
    tokens = [use_token(read_token(token_file))]
    filters = fill_from_token(filters, stream, tokens[0])

    def reload_token() -> bool:
        """After a 401: whether --token-file now holds another token (then it is used)."""
        if token_file is None:
            return False
        try:
            token = read_token(token_file)
        except CliUsageError:  # unreadable or empty now: the 401 stands
            return False
        if token == tokens[-1]:
            return False
        tokens.append(use_token(token))
        return True

    req = FollowRequest(
        filters=filters,
        since=start,
        once=once,
        page_size=size,
        concurrency=concurrency,
        kind=kind,
        output=out_path,
        checkpoint_file=checkpoint_file,
        quiet=quiet,
        give_up_after=give_up,
        max_backoff=backoff,
        stream=stream,
        **durations,
    )

    def client() -> WebexEvents:
        return make_client(tokens[-1], url, concurrency, max_response_bytes)

    if run_follow(req, client, reload_token=reload_token):
        # Stopped by a signal, all committed and closed: exit now rather than wait for a worker
        # thread still blocked on a server that stopped answering (it holds nothing).
        flush_standard_streams()
        os._exit(0)
