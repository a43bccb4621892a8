"""Parsing and validation of command-line values (dates, durations, base URL, token).

Everything here is pure and raises :class:`CliUsageError` for bad input, so that the
command can refuse bad usage (exit 2) before any request is sent.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

__all__ = [
    "DEFAULT_BASE_URL",
    "TOKEN_ENV",
    "CliUsageError",
    "check_base_url",
    "format_instant",
    "now_utc",
    "parse_duration",
    "parse_instant",
    "read_token",
]

DEFAULT_BASE_URL = "https://webexapis.com/v1"
TOKEN_ENV = "WEBEX_ACCESS_TOKEN"  # noqa: S105 - a variable name, not a secret

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


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
    """Accept https URLs, or http only on loopback (the fake server); return it without a trailing /."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliUsageError(f"--base-url: not an http(s) URL: {url!r}")
    if parts.username is not None or parts.password is not None:
        # Credentials in a URL would end up in the state file and in messages.
        raise CliUsageError("--base-url: must not contain credentials")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
        raise CliUsageError(
            f"--base-url: plain http is only allowed on loopback (127.0.0.1); use https for {parts.hostname}"
        )
    return url.rstrip("/")


def read_token(token_file: Path | None) -> str:
    """Return the access token from ``--token-file`` or ``WEBEX_ACCESS_TOKEN``."""
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise CliUsageError(f"--token-file: cannot read {str(token_file)!r}: {exc.strerror}") from None
        if not token:
            raise CliUsageError(f"--token-file: {str(token_file)!r} is empty")
        return token
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise CliUsageError(f"no access token: set {TOKEN_ENV} or pass --token-file (or try --demo)")
    return token
