"""Parsing and validation of command-line values (dates, durations, base URL, token, output).

Everything here raises :class:`CliUsageError` for bad input, so that the command can refuse
bad usage (exit 2) before any request is sent.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from webex_events import OAuthRefresh
from webex_events._config import DEFAULT_BASE_URL, TOKEN_ENV, validate_base_url
from webex_events._errors import InvalidArgumentError
from webex_events._requester import MAX_RESPONSE_BYTES

__all__ = [
    "AUTH_FILE_ENV",
    "DEFAULT_BASE_URL",
    "FOLLOW_MAX_BACKOFF",
    "MAX_RESPONSE_BYTES",
    "OAUTH_ENV",
    "TOKEN_ENV",
    "CliUsageError",
    "check_base_url",
    "check_output_file",
    "default_auth_file",
    "format_instant",
    "now_utc",
    "parse_duration",
    "parse_instant",
    "read_auth",
    "read_token",
    "set_auth_file",
]


#: The longest wait between two attempts of a ``follow`` whose API is failing (``--max-backoff``).
FOLLOW_MAX_BACKOFF = timedelta(minutes=1)

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")


class CliUsageError(Exception):
    """A bad command-line value; the message is shown to the user as is (exit 2)."""


def now_utc() -> datetime:
    """Return now in UTC, truncated to the millisecond (Webex's timestamp precision)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def parse_duration(text: str, option: str) -> timedelta:
    """Parse ``7d``, ``12h``, ``90m``, ``30s``, ``1w`` or combinations like ``1d12h``."""
    value = text.strip().lower()
    pos = 0
    total = 0.0
    for match in _DURATION_PART.finditer(value):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if not value or pos != len(value):
        raise CliUsageError(f"{option}: invalid duration {text!r} (expected e.g. 7d, 12h, 90m, 30s or 1d12h)")
    if total <= 0:
        raise CliUsageError(f"{option}: duration must be positive, got {text!r}")
    return timedelta(seconds=total)


def parse_instant(text: str, option: str) -> datetime:
    """Parse an ISO 8601 instant; without an offset (a bare date or a local-looking time) it is UTC.

    One rule for every form, said in ``--help``: ``2024-01-31`` and ``2024-01-31T00:00`` are the
    same instant, UTC midnight; add ``Z`` or an offset like ``+02:00`` for another zone.
    """
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CliUsageError(
            f"{option}: invalid date {text!r} (expected ISO 8601, e.g. 2024-01-31 or 2024-01-31T08:00:00Z)"
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_instant(value: datetime) -> str:
    """Format an aware datetime as ISO 8601 UTC with microseconds (exact, round-trips)."""
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def check_base_url(url: str) -> str:
    """The library's rule (https, or http only to loopback; no credentials), as a usage error.

    One rule for the command and the library: ``WEBEX_BASE_URL`` means the same to both.
    """
    try:
        return str(validate_base_url(url))
    except InvalidArgumentError as exc:
        raise CliUsageError(f"--base-url: {exc}") from None


def check_output_file(output: str) -> Path:
    """``--output`` as a path; refused if it is a directory or its directory does not exist."""
    path = Path(output)
    if path.is_dir():
        raise CliUsageError(f"--output: {output} is a directory")
    if not path.absolute().parent.is_dir():
        raise CliUsageError(f"--output: directory {str(path.absolute().parent)!r} does not exist")
    return path


#: The integration's tokens (``--auth-file``), and the OAuth environment variables.
AUTH_FILE_ENV = "WEBEX_EVENTS_AUTH_FILE"
OAUTH_ENV = ("WEBEX_CLIENT_ID", "WEBEX_CLIENT_SECRET", "WEBEX_REFRESH_TOKEN")
_auth_file: Path | None = None


def default_auth_file() -> Path:
    """Where ``auth login`` keeps the tokens by default: ``$XDG_CONFIG_HOME/webex-events/auth.json``."""
    base = os.environ.get("XDG_CONFIG_HOME", "").strip() or str(Path.home() / ".config")
    return Path(base) / "webex-events" / "auth.json"


def set_auth_file(path: Path | None) -> None:
    """``--auth-file`` of the running command (read by :func:`read_token`)."""
    global _auth_file  # noqa: PLW0603 - one command per process
    _auth_file = path


def read_auth() -> OAuthRefresh | None:
    """The integration's tokens: ``--auth-file``, and/or the OAuth variables; None if neither."""
    given = {name: os.environ.get(name, "").strip() for name in OAUTH_ENV}
    if any(given.values()) and not all(given.values()) and _auth_file is None:
        missing = ", ".join(name for name, value in given.items() if not value)
        raise CliUsageError(f"OAuth from the environment needs {missing} too (or pass --auth-file)")
    if _auth_file is None and not any(given.values()):
        return None
    client_id, secret, refresh = given.values()
    try:
        return OAuthRefresh(
            client_id=client_id or None,
            client_secret=secret or None,
            refresh_token=refresh or None,
            store=_auth_file,
        )
    except InvalidArgumentError as exc:
        raise CliUsageError(f"--auth-file: {exc}") from None


def read_token(token_file: Path | None) -> str | OAuthRefresh:
    """The credentials: an integration's (``--auth-file``, the OAuth variables), else the access
    token from ``--token-file`` or ``WEBEX_ACCESS_TOKEN``."""
    auth = read_auth()
    if auth is not None:
        if token_file is not None:
            raise CliUsageError("pass --token-file or --auth-file (OAuth), not both")
        return auth
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise CliUsageError(f"--token-file: cannot read {str(token_file)!r}: {exc.strerror}") from None
        if not token:
            raise CliUsageError(f"--token-file: {str(token_file)!r} is empty")
        return token
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        return token
    if default_auth_file().exists():  # `auth login` was run: its tokens
        set_auth_file(default_auth_file())
        auth = read_auth()
        assert auth is not None
        return auth
    raise CliUsageError(
        f"no access token: set {TOKEN_ENV}, pass --token-file, sign in with `webex-events auth login`"
        " (or try --demo)"
    )
