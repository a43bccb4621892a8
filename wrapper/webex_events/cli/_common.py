"""What the commands share: the token to scrub from messages and the options most of them take."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from webex_events import Auth

from ._errors import redact
from ._logging import LEVELS, LogFormat
from ._logging import configure as configure_logging
from ._options import AUTH_FILE_ENV, DEFAULT_BASE_URL, MAX_RESPONSE_BYTES, TOKEN_ENV, set_auth_file

__all__ = ["api_options", "flush_standard_streams", "logging_options", "mask", "use_token"]

F = TypeVar("F", bound=Callable[..., Any])

# The credentials in use, so that any message can be scrubbed of them before it is printed.
_token: str | Auth | None = None
Credentials = TypeVar("Credentials", str, Auth, str | Auth)


def use_token(token: Credentials) -> Credentials:
    """Scrub ``token`` (a token, or every secret of an ``auth=`` provider) from every message
    printed from now on; returns it."""
    global _token  # noqa: PLW0603 - one process, one token
    _token = token
    return token


def mask(text: str) -> str:
    """``text`` with the token in use (if any) masked."""
    secrets = _token.secrets() if isinstance(_token, Auth) else (_token,)
    for secret in secrets:
        text = redact(text, secret)
    return text


def logging_options(f: Any) -> Any:
    """``--log-level``, ``--log-format``, ``-v``: set up the ``webex_events`` logger, then run."""

    @functools.wraps(f)
    def run(*args: Any, log_level: str | None, log_format: LogFormat, verbose: int, **kwargs: Any) -> Any:
        configure_logging(
            level=log_level, fmt=log_format, verbose=verbose, quiet=bool(kwargs.get("quiet")), redact=mask
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


def api_options(f: F) -> F:
    """``--base-url``, ``--token-file``, ``--auth-file``, ``--max-response-bytes`` and the
    logging options: those of a command calling the API. ``--auth-file`` is taken here (read by
    ``read_token``), so the commands' signatures do not change with it."""

    command = f

    @functools.wraps(command)
    def run(*args: Any, auth_file: Path | None, **kwargs: Any) -> Any:
        set_auth_file(auth_file)
        return command(*args, **kwargs)

    run = click.option(
        "--auth-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        envvar=AUTH_FILE_ENV,
        show_envvar=True,
        help="An integration's tokens (written by `webex-events auth login`), refreshed as they"
        " expire. Or set WEBEX_CLIENT_ID, WEBEX_CLIENT_SECRET and WEBEX_REFRESH_TOKEN.",
    )(run)
    f = logging_options(run)
    f = click.option(
        "--max-response-bytes",
        type=click.IntRange(min=1),
        default=MAX_RESPONSE_BYTES,
        show_default=True,
        envvar="WEBEX_MAX_RESPONSE_BYTES",
        show_envvar=True,
        metavar="N",
        help="Refuse a response body larger than N bytes (after asking for smaller pages): bounds"
        " the memory one response can take.",
    )(f)
    f = click.option(
        "--token-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=f"Read the access token from this file instead of ${TOKEN_ENV}.",
    )(f)
    return click.option(
        "--base-url",
        default=DEFAULT_BASE_URL,
        show_default=True,
        # An environment default serves FedRAMP/other Webex clouds and scripted test setups.
        envvar="WEBEX_BASE_URL",
        show_envvar=True,
        help="API base URL (https; plain http only on 127.0.0.1/localhost, e.g. the fake server).",
    )(f)


def flush_standard_streams() -> bool:
    """Flush stdout and stderr before an ``os._exit``; False if one could not be (a closed pipe).

    A stream that is None (the process started with that descriptor closed) or closed is skipped.
    """
    flushed = True
    for stream in (sys.stdout, sys.stderr):
        if stream is None or stream.closed:
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            flushed = False
    return flushed
