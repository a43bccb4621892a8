"""``webex-events export``: its options, checked before any request, handed to the export job."""

from __future__ import annotations

import contextlib
import textwrap
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Literal

import click

from webex_events import Auth
from webex_events._streams import EVENTS, STREAMS

from ._common import api_options, use_token
from ._demo import demo_anchor, demo_server
from ._errors import needs_scopes
from ._export import ExportRequest, make_client, run_export
from ._logging import json_mode
from ._options import (
    CliUsageError,
    check_base_url,
    check_output_file,
    format_instant,
    parse_duration,
    parse_instant,
    read_token,
)
from ._spec_options import check_page_size, filter_options, page_size_option, validate_filters
from ._streams import fill_from_token, stream_columns, stream_option

__all__ = ["export"]

_EPILOG = (
    "CSV columns of each --stream (data.X is the field X of the event's data object; a missing"
    " field is empty, a non-string value is compact JSON):"
    + "".join(
        f"\n\n\b\n{name}: " + "\n".join(textwrap.wrap(", ".join(stream_columns(stream)), 76))
        for name, stream in STREAMS.items()
    )
    + "\n\nResume: a file export keeps OUTPUT.webex-events-state.json until it finishes; after a"
    " crash, a kill or Ctrl-C, run the same command with --resume to continue exactly (no event"
    " missing, none twice)."
    "\n\nEnvironment: WEBEX_ACCESS_TOKEN (the token); WEBEX_EVENTS_MAX_ATTEMPTS (attempts per"
    " request before giving up, default 6)."
)


@click.command(epilog=_EPILOG)
@stream_option
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
@click.option(
    "--bad-events",
    type=click.Choice(["quarantine", "error"]),
    default="quarantine",
    show_default=True,
    help="CSV: an event CSV cannot hold (a lone surrogate in a text) is set aside as its exact JSON in"
    " OUTPUT.quarantine.jsonl, with a warning and a count in the summary; error: stop with exit 4."
    " JSON Lines holds every event.",
)
@click.option("--output", "-o", default="-", show_default=True, help="Output file, or - for stdout.")
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the unfinished export to --output (a new one if there is no --output yet).",
)
@click.option("--force", is_flag=True, help="Overwrite --output if it exists and has nothing to resume.")
@click.option(
    "--demo", is_flag=True, help="Export from a built-in fake organization (offline, no token needed)."
)
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="No progress display and only errors logged (the summary is still printed).",
)
@api_options
def export(
    *,
    stream_name: str,
    from_: str | None,
    to: str | None,
    since: str | None,
    page_size: int | None,
    window: str | None,
    concurrency: int | None,
    fmt: str | None,
    csv_escape: bool,
    bad_events: Literal["quarantine", "error"],
    output: str,
    resume: bool,
    force: bool,
    demo: bool,
    quiet: bool,
    base_url: str,
    token_file: Path | None,
    max_response_bytes: int,
    **options: Any,
) -> None:
    """Export events as JSON Lines (exact JSON Webex sent, one per line) or CSV.

    Progress goes to stderr (in place on a terminal), then a one-line summary.
    """
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
    stream = STREAMS[stream_name]
    needs_scopes(stream.operation.scopes)
    filters = validate_filters(options, stream)
    size = check_page_size(page_size, stream)
    if start is None and since_td is None and stream.operation.role("range-start").required:
        raise CliUsageError(f"--stream {stream.name} lists a date range: pass --from or --since")
    if output == "-" and resume:
        raise CliUsageError("--resume needs --output FILE (stdout cannot be resumed)")
    out_path = None if output == "-" else check_output_file(output)
    if fmt is None:
        fmt = "csv" if out_path is not None and out_path.suffix.lower() == ".csv" else "jsonl"
    if (
        out_path is None
        and start is None
        and since_td is None
        and (window is not None or (concurrency or 1) > 1)
    ):
        raise CliUsageError("--window/--concurrency need a start: pass --from or --since")
    secret: str | Auth | None = None
    if demo:
        base_url_checked = None
    else:
        base_url_checked = check_base_url(base_url)
        secret = use_token(read_token(token_file))
        filters = fill_from_token(filters, stream, secret)

    # Every filter of the stream, given or not (added below, when the token has filled them in):
    # a resume with another filter value is refused. "from" and "to" name this command's own
    # --from/--to (as "since_seconds" names --since), not the spec's range parameters: a state
    # file stays valid if the spec renames those. A stream other than events is recorded too.
    fingerprint: dict[str, Any] = {
        **({"stream": stream.name} if stream is not EVENTS else {}),
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
        anchor = demo_anchor(out_path, resume)
        # The demo's "now" is the fake's end, so that a resumed demo sees the same organization.
        end = anchor if end is None or end > anchor else end
        server = demo_server(anchor)
    else:
        server = nullcontext((base_url_checked, secret))
    with server as (url, token):
        if demo:
            filters = fill_from_token(filters, stream, use_token(token))
        fingerprint.update({p.python_name: filters.get(p.python_name) for p in stream.operation.filters})
        req = ExportRequest(
            filters=filters,
            from_=start,
            to=end,
            since=since_td,
            page_size=size,
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
            bad_events=bad_events,
            stream=stream,
        )
        run_export(req, lambda: make_client(token, str(url), concurrency, max_response_bytes))
