"""The exception hierarchy of webex_events (one base class: :class:`WebexError`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class WebexError(Exception):
    """Base class of every error raised by webex_events."""


class InvalidArgumentError(WebexError, ValueError):
    """An argument is invalid; raised before any request is sent. The message names the argument."""


class UnsafeNextLinkError(WebexError):
    """The server's next-page link points to another origin; it is refused so the token stays home."""


class WebexConnectionError(WebexError):
    """A transport failure (connection, timeout, body cut off) that persisted after retries."""


class UndecodableResponseError(WebexConnectionError):
    """A body that could not be decoded (its Content-Encoding, UTF-8 or JSON), still after retries."""


class PagingLoopError(WebexError):
    """The server's next-page link leads back to a page this listing already fetched.

    Following it would never end and would yield the same events again, so the listing stops.
    """


class MalformedResponseError(WebexError):
    """A complete 200 response that is not what the spec says (no ``items`` list, an item that is
    not an object...), still so after retries: never taken for an empty page.
    """


class BadEventError(MalformedResponseError):
    """An event without a readable ``created`` or an ``id``, with ``bad_events="error"``."""


class TokenRefreshError(WebexError):
    """The OAuth refresh failed for good (the refresh token expired or was revoked, or the new
    tokens could not be stored): sign in again. ``status_code``: the token endpoint's, if any."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class ResponseTooLargeError(WebexError):
    """A response body larger than the client's ``max_response_bytes`` (after shrinking the page)."""


class APIError(WebexError):
    """Webex answered with an error status (after retries, where retrying applies).

    >>> str(APIError(status_code=418, message="teapot", tracking_id="T1"))
    'HTTP 418: teapot (tracking id T1)'
    """

    def __init__(
        self,
        *,
        status_code: int,
        message: str,
        tracking_id: str | None = None,
        errors: Sequence[str] = (),
        url: str | None = None,
        method: str = "GET",
    ) -> None:
        self.status_code = status_code
        self.message = message
        self.tracking_id = tracking_id
        self.errors: tuple[str, ...] = tuple(errors)
        # Only ever built from URLs without userinfo; the token travels in a header, never here.
        self.url = url
        self.method = method
        super().__init__(self._text())

    def _text(self) -> str:
        text = f"HTTP {self.status_code}: {self.message}"
        extra = [e for e in self.errors if e and e != self.message]
        if extra:
            text += " [" + "; ".join(extra) + "]"
        if self.tracking_id:
            text += f" (tracking id {self.tracking_id})"
        if self.url:
            text += f" for {self.method} {self.url}"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code!r}, message={self.message!r}, "
            f"tracking_id={self.tracking_id!r})"
        )

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only __init__: make the errors picklable (they cross process boundaries in CLIs).
        return (_rebuild, (type(self), dict(vars(self))))


def _rebuild(cls: type[APIError], state: dict[str, Any]) -> APIError:
    return cls(**state)


class BadRequestError(APIError):
    """HTTP 400: the request was invalid (for example a bad filter value)."""


class AuthenticationError(APIError):
    """HTTP 401: the token is missing, expired or wrong."""


class PermissionDeniedError(APIError):
    """HTTP 403: the token lacks the ``spark-compliance:events_read`` scope."""


class NotFoundError(APIError):
    """HTTP 404: no such event (or URL)."""


class RateLimitError(APIError):
    """HTTP 429 or 423 still returned after all retries."""


class ServerError(APIError):
    """HTTP 5xx still returned after all retries."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    423: RateLimitError,
    429: RateLimitError,
}


def error_class(status_code: int) -> type[APIError]:
    """The APIError subclass for an HTTP status (internal helper)."""
    if status_code >= 500:
        return ServerError
    return _BY_STATUS.get(status_code, APIError)
