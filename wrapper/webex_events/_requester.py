"""``Requester``: one request, sent until it succeeds or the retry policy gives up (sans-IO).

How every request is sent (``_operations`` builds what to send from the spec): auth, the gate,
retries with backoff and Retry-After, the size cap, typed errors. A response's headers are
looked at before its body is read, so a Retry-After pauses every worker at once.
"""

from __future__ import annotations

import json
import logging
import math
import socket
import time
from collections.abc import Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

import httpx

from webex_events_api.spec import ERROR_DETAIL_KEYS, ERROR_KEYS

from ._actions import Action, BodyTooLargeError, Read, Send, Sleep
from ._errors import (
    APIError,
    MalformedResponseError,
    ResponseTooLargeError,
    UndecodableResponseError,
    UnsafeNextLinkError,
    WebexConnectionError,
    WebexError,
    error_class,
)
from ._gate import Gate
from ._links import origin
from ._models import ListStats
from ._redact import redact
from ._retry import RETRY_AFTER_STATUSES, RETRY_BACKOFF_STATUSES, RetryPolicy
from ._wire import MalformedBodyError

if TYPE_CHECKING:
    from ._auth import Auth

__all__ = ["Requester", "Shrink"]

logger = logging.getLogger("webex_events")
T = TypeVar("T")

# The keys of an error body (the spec's Error and ErrorDetail schemas).
_MESSAGE, _ERRORS, _TRACKING_ID = ERROR_KEYS.message, ERROR_KEYS.errors, ERROR_KEYS.tracking_id
_DESCRIPTION = ERROR_DETAIL_KEYS.description

#: After a 504 (Webex: "If your query uses max parameter, please try to reduce it.") or a body
#: over the cap: the URL with a smaller page, or None when the page cannot shrink.
Shrink = Callable[[httpx.URL], httpx.URL | None]

#: Default cap on one response body: a full page is a few MB; far more is a broken server.
MAX_RESPONSE_BYTES = 32 * 1024 * 1024


def _unresolvable(exc: BaseException | None) -> bool:
    """Whether a transport error comes from a failed name lookup (``socket.gaierror``)."""
    while exc is not None and not isinstance(exc, socket.gaierror):
        exc = exc.__cause__ or exc.__context__
    return exc is not None


class Requester:
    """Auth, retries, the rate-limit gate and error mapping for every request of one client."""

    def __init__(
        self,
        *,
        auth: Auth,
        base_url: httpx.URL,
        retry: RetryPolicy,
        attempt_timeout: float | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.auth = auth
        self.attempt_timeout = attempt_timeout  # connect, headers and the whole body; None: none
        self.max_response_bytes = max_response_bytes
        self.base_url = base_url
        self.origin = origin(base_url)
        self.retry = retry
        self.gate = Gate(clock)
        # The server has sent a next link: a full page without one is then the end, not a
        # proxy that strips Link headers (list_range).
        self.links_seen = False
        self._clock = clock
        self._rng = retry.make_rng()

    def scrub(self, text: str) -> str:
        """``text`` with the token masked (servers and proxies sometimes echo requests)."""
        for secret in self.auth.secrets():
            text = redact(text, secret)
        return text

    def check_origin(self, url: httpx.URL) -> None:
        """UnsafeNextLinkError unless ``url`` has the base URL's scheme, host and port, no userinfo.

        Credentials in a link would make httpx send Basic auth chosen by the server instead of
        our Bearer token.
        """
        if url.userinfo:
            raise UnsafeNextLinkError(
                f"refusing to follow a link with credentials (user:password@) to {url.host}; "
                "the only credential sent is the token, to base_url"
            )
        if origin(url) != self.origin:
            raise UnsafeNextLinkError(
                f"refusing to follow a link to {url.scheme}://{url.host}:{url.port or ''} "
                f"(not the origin of base_url {self.origin[0]}://{self.origin[1]}:{self.origin[2]}); "
                "the token is only sent to base_url"
            )

    def _pause(self, status: int, retry_after: str | None) -> float | None:
        """Close the gate if a response of ``status`` asks for a pause; return its seconds, else None."""
        if status not in RETRY_AFTER_STATUSES or (retry_after is None and status == 503):
            return None
        delay = self.retry.retry_after(retry_after)
        self.gate.block_for(delay, rate_limited=status == 429)
        return delay

    def _backoff(self, attempt: int) -> float:
        return self.retry.backoff(attempt=attempt, rng=self._rng)

    def _api_error(
        self, status: int, body: bytes, tracking: str | None, url: httpx.URL, verb: str = "GET"
    ) -> APIError:
        message = ""
        errors: list[str] = []
        try:
            payload = json.loads(body.decode("utf-8", "replace")) if body else None
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            if isinstance(payload.get(_MESSAGE), str):
                message = payload[_MESSAGE]
            for item in payload.get(_ERRORS) or ():
                if isinstance(item, dict) and isinstance(item.get(_DESCRIPTION), str):
                    errors.append(self.scrub(item[_DESCRIPTION]))
            if not tracking and isinstance(payload.get(_TRACKING_ID), str):
                tracking = payload[_TRACKING_ID]
        if not message:
            message = httpx.codes.get_reason_phrase(status) or "error"
            if 300 <= status < 400:
                message += " (redirects are not followed)"
        return error_class(status)(
            status_code=status,
            message=self.scrub(message),
            tracking_id=None if tracking is None else self.scrub(tracking),
            errors=errors,
            url=self.scrub(str(url)),
            method=verb,
        )

    def request(
        self,
        url: httpx.URL,
        *,
        parse: Callable[[bytes], T],
        stats: ListStats | None = None,
        shrink: Shrink | None = None,
        form: Mapping[str, str] | None = None,
    ) -> Generator[Action, Any, tuple[httpx.URL, httpx.Response, T]]:
        """GET ``url`` until success or the policy gives up; returns ``(final_url, response, parsed)``.

        ``shrink`` is applied to the URL after a 504 (a smaller page may answer in time).
        ``form``: POST it instead, without the bearer token (the OAuth token endpoint). A 401
        renews the token once (``auth``) and sends the request again.
        """
        policy = self.retry
        started = self._clock()
        attempt = 0
        verb = "GET" if form is None else "POST"
        content = None if form is None else urlencode(form).encode("ascii")
        headers = {"Accept": "application/json"}
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        renewed = False
        while True:
            attempt += 1
            if form is None:
                token, generation = self.auth.current()
                if self.auth.due() and (yield from self.auth.renew(self, generation)):
                    token, generation = self.auth.current()
                headers["Authorization"] = f"Bearer {token}"
            while (wait := self.gate.wait()) > 0:
                yield Sleep(wait)
            self.check_origin(url)
            if stats is not None:
                stats._add(requests=1)
            # The total budget is a deadline inside attempts too, not only a check between them.
            left = min(self.attempt_timeout or math.inf, started + policy.max_total_seconds - self._clock())
            deadline = None if left == math.inf else time.monotonic() + left
            result = yield Send(url, dict(headers), deadline, verb=verb, content=content)
            delay: float | None
            gated = False
            tracking: str | None = None
            error: WebexError
            if isinstance(result, Exception):
                failure = type(result).__name__
                error = WebexConnectionError(
                    f"{failure} on {verb} {self.scrub(str(url))}: {self.scrub(str(result))}"
                )
                if _unresolvable(result):
                    # A host name that does not resolve will not resolve in a second either.
                    raise WebexConnectionError(
                        f"cannot resolve the host of {self.scrub(str(url))}: {self.scrub(str(result))}"
                        " (check base_url and the network's DNS)"
                    )
                delay = self._backoff(attempt)
            else:
                response: httpx.Response = result
                status = response.status_code
                tracking = response.headers.get("trackingid")  # (scrubbed where it is shown)
                # Close the gate before reading the body: no other request starts from now on.
                delay = self._pause(status, response.headers.get("retry-after"))
                gated = delay is not None
                body = yield Read(response, self.max_response_bytes, deadline)
                if isinstance(body, BodyTooLargeError):
                    smaller = shrink(url) if shrink is not None else None
                    if smaller is None:
                        raise ResponseTooLargeError(
                            f"the body of HTTP {status} on {verb} {self.scrub(str(url))} is larger than"
                            f" max_response_bytes={self.max_response_bytes} ({body})"
                        )
                    logger.warning(
                        "GET %s: body over max_response_bytes=%d (%s); asking for a smaller page",
                        self.scrub(url.raw_path.decode("ascii", "replace")),
                        self.max_response_bytes,
                        body,
                    )
                    url = smaller
                    attempt -= 1  # a smaller page is a new request, not a retry of a failed one
                    continue
                elif isinstance(body, Exception):
                    failure = f"{type(body).__name__} while reading the body of HTTP {status}"
                    detail = f": {self.scrub(str(body))}" if str(body) else ""
                    if isinstance(body, httpx.DecodingError):
                        encoding = response.headers.get("content-encoding", "")
                        failure = f"a body of HTTP {status} that is not valid {encoding or 'content'}"
                        error = UndecodableResponseError(
                            f"{failure} on {verb} {self.scrub(str(url))}{detail}"
                        )
                    else:
                        error = WebexConnectionError(f"{failure} on {verb} {self.scrub(str(url))}{detail}")
                    delay = self._backoff(attempt) if delay is None else delay
                elif 200 <= status < 300:
                    try:
                        parsed = parse(body)
                    except MalformedBodyError as exc:  # complete JSON, wrong shape: retried, then raised
                        failure = f"a malformed body of HTTP {status} ({exc})"
                        error = MalformedResponseError(
                            f"{exc} in the body of HTTP {status} on {verb} {self.scrub(str(url))}"
                        )
                        delay = self._backoff(attempt)
                    except ValueError as exc:  # JSONDecodeError / UnicodeDecodeError: cut off mid-read
                        reason = f"{type(exc).__name__}: {self.scrub(str(exc))}"
                        failure = f"an undecodable body of HTTP {status} ({reason})"
                        error = UndecodableResponseError(
                            f"{failure} on {verb} {self.scrub(str(url))}: {len(body)} bytes"
                        )
                        delay = self._backoff(attempt)
                    else:
                        return url, response, parsed
                elif status == 401 and form is None and not renewed:
                    renewed = True  # once: a new token refused too is an AuthenticationError
                    if (yield from self.auth.renew(self, generation)):
                        attempt -= 1
                        continue
                    failure, delay = "HTTP 401", None
                    error = self._api_error(status, body, tracking, url, verb)
                else:
                    failure = f"HTTP {status}"
                    error = self._api_error(status, body, tracking, url, verb)
                    if status in RETRY_AFTER_STATUSES or status in RETRY_BACKOFF_STATUSES:
                        delay = self._backoff(attempt) if delay is None else delay
                        if status == 504 and shrink is not None:
                            url = shrink(url) or url
                    # other statuses are final: delay stays None
            if delay is None:
                raise error
            if attempt >= policy.max_attempts or (self._clock() - started) + delay > policy.max_total_seconds:
                raise error
            logger.warning(
                "retrying %s %s after %s (attempt %d of %d) in %.3fs; tracking id %s",
                verb,
                self.scrub(url.raw_path.decode("ascii", "replace")),
                failure,
                attempt,
                policy.max_attempts,
                delay,
                tracking and self.scrub(tracking),
            )
            if stats is not None:
                stats._add(retries=1)
            if not gated:
                yield Sleep(delay)
            # gated: the wait happens at the top of the loop, shared with every other request
