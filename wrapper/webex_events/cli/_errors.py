"""Exit codes of the command and the mapping of library errors onto them."""

from __future__ import annotations

__all__ = [
    "EXIT_API",
    "EXIT_AUTH",
    "EXIT_INTERRUPTED",
    "EXIT_IO",
    "EXIT_OK",
    "EXIT_SIGN_IN",
    "EXIT_USAGE",
    "CliError",
    "from_webex_error",
    "needs_scopes",
    "redact",
]

import re

from webex_events import (
    APIError,
    AuthenticationError,
    InvalidArgumentError,
    PermissionDeniedError,
    ResponseTooLargeError,
    TokenRefreshError,
    WebexError,
)
from webex_events._redact import redact
from webex_events_api.spec import LIST_EVENTS

EXIT_OK = 0
EXIT_IO = 1  # local failure (cannot write the output)
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_API = 4
EXIT_SIGN_IN = 5  # the OAuth refresh token is dead: `webex-events auth login` again
EXIT_INTERRUPTED = 130


# The scopes the command's operation needs (the spec's), named when Webex answers 403.
_scopes: tuple[str, ...] = LIST_EVENTS.scopes


def needs_scopes(scopes: tuple[str, ...]) -> None:
    """The scopes of the operation the command calls (``--stream``'s), for the 403 hint."""
    global _scopes  # noqa: PLW0603 - one command per process
    _scopes = scopes


# The cap in a ResponseTooLargeError's message, with the detail that may follow it.
_CAP = re.compile(r"max_response_bytes=(\d+)(?: \([^)]*\))?")


class CliError(Exception):
    """An error shown as one line ``webex-events: error: MESSAGE``, then exit ``code``."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def from_webex_error(exc: WebexError) -> CliError:
    """Translate a library error into the command's exit code and message."""
    if isinstance(exc, InvalidArgumentError):
        return CliError(str(exc), EXIT_USAGE)
    if isinstance(exc, TokenRefreshError):
        return CliError(str(exc), EXIT_SIGN_IN)
    if isinstance(exc, AuthenticationError | PermissionDeniedError):
        hint = (
            "check the access token"
            if isinstance(exc, AuthenticationError)
            else f"the token needs the {' or '.join(_scopes)} scope"
        )
        return CliError(f"{exc} ({hint})", EXIT_AUTH)
    message = str(exc) or type(exc).__name__
    if isinstance(exc, ResponseTooLargeError):
        # The library names its argument; the user knows the option that sets it.
        message = _CAP.sub(r"--max-response-bytes=\1", message)
        return CliError(f"{message}; raise it with --max-response-bytes", EXIT_API)
    tracking = getattr(exc, "tracking_id", None)
    if tracking and tracking not in message:
        message += f" (tracking id {tracking})"
    if not isinstance(exc, APIError):
        message = f"{type(exc).__name__}: {message}"
    return CliError(message, EXIT_API)
