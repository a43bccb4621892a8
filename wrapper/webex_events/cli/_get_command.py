"""``webex-events get``: print one event as the exact JSON Webex sent."""

from __future__ import annotations

import contextlib
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click

from webex_events import WebexError

from ._common import api_options, use_token
from ._demo import demo_server
from ._errors import from_webex_error
from ._export import make_client
from ._options import check_base_url, now_utc, read_token

__all__ = ["get"]


@click.command()
@click.argument("event_id")
@click.option("--demo", is_flag=True, help="Read from the built-in fake organization of `export --demo`.")
@api_options
def get(event_id: str, demo: bool, base_url: str, token_file: Path | None, max_response_bytes: int) -> None:
    """Print one event (EVENT_ID) as the exact JSON Webex sent."""
    server: contextlib.AbstractContextManager[tuple[Any, Any]]
    if demo:
        server = demo_server(now_utc())  # event ids do not depend on the instant: same as export's
    else:
        server = nullcontext((check_base_url(base_url), read_token(token_file)))
    try:
        with server as (url, token):
            secret = use_token(token)
            with make_client(secret, str(url), max_response_bytes=max_response_bytes) as client:
                event = client.get_event(event_id)
    except WebexError as exc:
        raise from_webex_error(exc) from None
    sys.stdout.write(event.raw_json + "\n")
    sys.stdout.flush()
