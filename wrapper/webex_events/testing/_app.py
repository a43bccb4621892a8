"""The request-handling core shared by the sync/async transports and the HTTP server.

``FakeApp.handle`` turns one request into a ``Reply`` (status, headers, body, how long to wait
before answering, and whether to answer normally, reset the connection or truncate the body). The
adapters only perform the wait and the I/O, so all three ways of running the fake behave the same.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import math
import random
import re
import threading
import time
from array import array
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from webex_events_api.spec import (
    ACCESS_TOKEN,
    AUTHORIZE,
    ERROR_DETAIL_KEYS,
    ERROR_KEYS,
    EVENT_COLLECTION_RESPONSE_KEYS,
    GET_EVENT_DETAILS,
    SERVER_URL,
    TOKEN_ERROR_KEYS,
    TOKEN_EXPIRY,
    TOKEN_EXPIRY_KEYS,
    Operation,
)

from ._faults import RETRY_AFTER_FAULTS, Fault, format_seconds
from ._oauth import (
    ACCESS_TOKEN_LIFETIME,
    CODE_LIFETIME,
    NEVER_MS,
    REFRESH_TOKEN_LIFETIME,
    UNKNOWN,
    OAuthServer,
    TokenInfo,
)
from ._org import Organization, serialize
from ._paging import page_of

if TYPE_CHECKING:
    from ._audit import AuditServer, Served

__all__ = ["FakeApp", "FakeStats", "Reply", "parse_datetime_us"]

JSON_TYPE = "application/json;charset=UTF-8"
_DIGITS = re.compile(r"[0-9]{1,7}")
# The fake's own continuation parameter of a next link (opaque to clients: the spec has none).
_CURSOR = "cursor"
# How many listings paged in a planned order the fake keeps cut up (one a query being paged).
_LISTINGS_KEPT = 16
#: The path the fake serves the API under: that of the spec's server URL (``/v1``).
BASE_PATH = urlsplit(SERVER_URL).path.rstrip("/")
# A page's head: the key of its events (the spec's EventCollectionResponse) opens the array.
_PAGE_HEAD = b'{"' + EVENT_COLLECTION_RESPONSE_KEYS.items.encode() + b'":['


def _route(operation: Operation) -> re.Pattern[str]:
    """The request paths of ``operation`` (below ``BASE_PATH``); a path parameter is one segment.

    >>> _route(GET_EVENT_DETAILS).fullmatch(BASE_PATH + "/events/abc").groups()
    ('abc',)
    """
    pieces = re.split(r"\{[^}]*\}", operation.path)
    return re.compile(re.escape(BASE_PATH) + "([^/]+)".join(re.escape(piece) for piece in pieces))


def _error_body(message: str, tracking: str) -> bytes:
    """An error body as the spec's Error schema has it (the message also as its one detail)."""
    detail = {ERROR_DETAIL_KEYS.description: message}
    return serialize(
        {ERROR_KEYS.message: message, ERROR_KEYS.errors: [detail], ERROR_KEYS.tracking_id: tracking}
    )


def _token_error_body(error: str, description: str, tracking: str) -> bytes:
    """An error of the OAuth endpoints as the spec's TokenError has it: OAuth's ``error`` and
    ``error_description``, and Webex's usual ``message`` and ``trackingId``."""
    k = TOKEN_ERROR_KEYS
    return serialize(
        {k.error: error, k.error_description: description, k.message: description, k.tracking_id: tracking}
    )


@dataclass
class FakeStats:
    """Counters of what the fake has served (thread-safe: updated under the fake's lock).

    ``requests``: every request received; ``pages``: successful list pages; ``items``: events in
    them; ``faults``: injected faults (``fault_rate`` and ``gateway_timeout_above``);
    ``rate_limited``: 429 responses sent (rate limit, early requests, injected 429);
    ``waited_out``: requests refused with a 429 because a Retry-After was still running;
    ``early_requests``: those of them that arrived more than ``early_grace`` after that
    Retry-After was handed to the client (the client had had time to know);
    ``false_gzip``: responses labelled ``Content-Encoding: gzip`` over a plain body
    (``false_gzip_rate``); ``statuses``: responses by status code (0 for a reset connection);
    ``operations``: requests by the operation id of the spec they were routed to (``listEvents``,
    ``listAdminAuditEvents``...; a 404 has none).

    OAuth (an integration registered: ``FakeWebex(client_id=...)``): ``codes_issued``: codes
    ``/authorize`` redirected with; ``codes_exchanged``: codes exchanged for tokens;
    ``refreshes``: successful refreshes, and ``refreshes_by_token`` the same per refresh token
    presented (left out of the repr); ``oauth_errors``: errors of ``/authorize`` and
    ``/access_token`` by OAuth error code (``invalid_grant``, ``invalid_client``...);
    ``expired_401s``/``revoked_401s``: 401s answered to an access token that had expired / was
    revoked (an unknown token's 401 is only in ``statuses``).

    >>> from webex_events.testing import FakeStats
    >>> stats = FakeStats(requests=2)
    >>> stats.reset()
    >>> stats.requests
    0
    """

    requests: int = 0
    pages: int = 0
    items: int = 0
    faults: int = 0
    rate_limited: int = 0
    waited_out: int = 0
    early_requests: int = 0
    false_gzip: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    operations: Counter[str] = field(default_factory=Counter)
    codes_issued: int = 0
    codes_exchanged: int = 0
    refreshes: int = 0
    refreshes_by_token: Counter[str] = field(default_factory=Counter, repr=False)
    oauth_errors: Counter[str] = field(default_factory=Counter)
    expired_401s: int = 0
    revoked_401s: int = 0

    def reset(self) -> None:
        """Set every counter back to zero."""
        self.requests = self.pages = self.items = self.faults = 0
        self.rate_limited = self.waited_out = self.early_requests = self.false_gzip = 0
        self.statuses = Counter()
        self.operations = Counter()
        self.codes_issued = self.codes_exchanged = self.refreshes = 0
        self.expired_401s = self.revoked_401s = 0
        self.refreshes_by_token = Counter()
        self.oauth_errors = Counter()


Action = Literal["respond", "reset", "truncate"]


@dataclass(frozen=True)
class Reply:
    """What to answer: wait ``delay`` seconds, then respond / reset / send a truncated body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    delay: float = 0.0
    action: Action = "respond"
    #: Seconds of Retry-After this reply gives; the wait starts when it is delivered.
    retry_after: float = 0.0


class _BadRequestError(Exception):
    pass


def _ceil_ms(seconds: float) -> float:
    """Round up to whole milliseconds, ignoring float noise (0.8000000001 stays 0.8)."""
    return math.ceil(round(seconds * 1000, 6)) / 1000


def parse_datetime_us(text: str) -> int:
    """ISO 8601 text to microseconds since the epoch (naive means UTC); ValueError if unparsable."""
    if " " in text:  # an unencoded "+" of an offset arrives as a space
        text = text.replace(" ", "+")
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass
class Knobs:
    """Behaviour switches of a running fake (see ``FakeWebex``)."""

    token: str = field(repr=False)
    from_inclusive: bool = True
    to_inclusive: bool = False
    latency: float = 0.0
    latency_jitter: float = 0.0
    rate_limit: float | None = None
    fault_rate: float = 0.0
    faults: tuple[Fault, ...] = ()
    fault_retry_after: float = 1.0
    retry_after_header: str | None = None
    gateway_timeout_above: int | None = None
    next_link_max_null: bool = False
    next_link_drops_filters: bool = False
    next_link_origin: str | None = None
    early_grace: float = 0.02
    forbidden_token: str | None = field(default=None, repr=False)
    shuffled_pages: bool = False
    newest_last: bool = False
    overlapping_pages: bool = False
    repeated_in_page: bool = False
    strip_link_header: bool = False
    false_gzip_rate: float = 0.0
    #: When ``token`` stops being accepted (epoch seconds of the wall clock; None: never).
    token_expires_at: float | None = None
    access_token_lifetime: float = ACCESS_TOKEN_LIFETIME
    refresh_token_lifetime: float = REFRESH_TOKEN_LIFETIME
    code_lifetime: float = CODE_LIFETIME
    rotate_refresh_tokens: bool = False
    deny_authorization: bool = False


class FakeApp:
    """One fake Webex Events API: routing, auth, rate limiting, faults, filtering, paging."""

    def __init__(
        self,
        org: Organization,
        knobs: Knobs,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        visible_ms: array[int] | None = None,
    ) -> None:
        self.org = org
        # Per position, the epoch millisecond from which the event is served (FakeWebex's
        # ``late``); None: from its ``created`` (the fast path).
        self._visible = visible_ms
        self.knobs = knobs
        self.stats = FakeStats()
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._rng = random.Random(org.seed ^ 0x5EED)  # noqa: S311 - seeded fault injection
        # A stream of its own, so that labelling bodies gzip leaves the faults drawn as they were.
        self._gzip_rng = random.Random(f"webex-fake-gzip:{org.seed}")  # noqa: S311 - seeded
        # The events of the last few queries paged in a planned order (``_planned``), by query.
        self._listings: dict[tuple[object, ...], list[int]] = {}
        self._counter = 0
        self._blocked_until = -math.inf
        # (delivered at, runs until) of each Retry-After still running: "early" is judged per wait.
        self._waits: list[tuple[float, float]] = []
        self._window = -1
        self._window_count = 0
        self._tracking_key = f"tracking:{org.seed}".encode()
        self._cursor_key = org.seed.to_bytes(16, "big", signed=True)
        self._list_route = _route(org.facts.operation)
        self._get_route = _route(GET_EVENT_DETAILS)
        self._routes = tuple((op, _route(op)) for op in (TOKEN_EXPIRY, AUTHORIZE, ACCESS_TOKEN))
        self.oauth = OAuthServer(knobs, self.stats, self._lock, wall_clock)
        #: The audit streams (``_audit``), set by ``FakeWebex``: their operations are served like
        #: /events (auth, scopes, rate limits, faults, latency), each answered by its module.
        self.audit: AuditServer | None = None

    # ---- helpers --------------------------------------------------------------------------------

    def _shown_ms(self, pos: int) -> int:
        """The epoch millisecond from which the event at ``pos`` is served."""
        visible = self._visible
        return visible[pos] if visible is not None else self.org.ms[pos]

    def _tracking_id(self) -> str:
        self._counter += 1
        h = hashlib.blake2b(self._counter.to_bytes(8, "big"), key=self._tracking_key, digest_size=16)
        x = h.hexdigest().upper()
        return f"ROUTER_{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:32]}"

    def _reply(
        self,
        status: int,
        tracking: str,
        body: bytes,
        *,
        delay: float = 0.0,
        extra: list[tuple[str, str]] | None = None,
        action: Action = "respond",
    ) -> Reply:
        headers = [("Content-Type", JSON_TYPE), ("TrackingID", tracking), *(extra or [])]
        with self._lock:
            self.stats.statuses[0 if action == "reset" else status] += 1
        return Reply(status, headers, body, delay, action)

    def _error(self, status: int, tracking: str, message: str, *, delay: float = 0.0, **kw: object) -> Reply:
        body = _error_body(message, tracking)
        return self._reply(status, tracking, body, delay=delay, **kw)  # type: ignore[arg-type]

    def _retry_after(self, status: int, tracking: str, seconds: float, message: str) -> Reply:
        """An edge rejection with Retry-After (the wait starts on delivery: see ``delivered``).

        Must be called with the lock held.
        """
        if status == 429:
            self.stats.rate_limited += 1
        text = self.knobs.retry_after_header
        header = text if text is not None else format_seconds(seconds)
        body = _error_body(message, tracking)
        self.stats.statuses[status] += 1
        headers = [("Content-Type", JSON_TYPE), ("TrackingID", tracking), ("Retry-After", header)]
        return Reply(status, headers, body, retry_after=seconds)

    def delivered(self, reply: Reply) -> None:
        """The adapter has handed ``reply`` to the client: a Retry-After it carries runs from now.

        A request that reached the server after the 429 was decided but before the client could
        have read it is not "early": no client can recall a request already on its way.
        """
        if reply.retry_after:
            with self._lock:
                now = self._clock()
                self._blocked_until = max(self._blocked_until, now + reply.retry_after)
                self._waits.append((now, now + reply.retry_after))

    def _is_early(self, now: float) -> bool:
        """Whether a request arriving ``now`` ignored a Retry-After its client had had time to read.

        A threaded client needs a moment between reading a 429 and closing its gate, and a thread
        preempted in that moment (CPython switches threads every 5 ms) lets another request out;
        ``early_grace`` is that moment. Must be called with the lock held.
        """
        self._waits = [wait for wait in self._waits if wait[1] > now]
        grace = self.knobs.early_grace
        return any(start + grace <= now for start, _ in self._waits)

    def _delay(self) -> float:
        k = self.knobs
        if k.latency_jitter:
            with self._lock:
                return k.latency + self._rng.random() * k.latency_jitter
        return k.latency

    # ---- OAuth ----------------------------------------------------------------------------------

    def _bearer(self, header: str | None) -> TokenInfo:
        """What the fake knows of the bearer token of an ``Authorization`` header."""
        if header is None or not header.startswith("Bearer "):
            return UNKNOWN
        token, k = header[len("Bearer ") :], self.knobs
        if k.forbidden_token is not None and token == k.forbidden_token:
            return TokenInfo("valid", scopes=())  # a token without any scope: 403 where one is needed
        if token == k.token:  # the personal token: every scope, expires at ``token_expires_at``
            expires = k.token_expires_at
            if expires is not None and self._wall_clock() >= expires:
                return TokenInfo("expired", None, expires)
            return TokenInfo("valid", None, expires)
        return self.oauth.lookup(token)

    def _authorize(self, query: str, tracking: str) -> Reply:
        """``/authorize``: the redirect Webex sends once the user has signed in and consented."""
        answer = self.oauth.authorize(dict(parse_qsl(query, keep_blank_values=True)))
        delay = self._delay()
        if answer.location is None:  # not safe to redirect: told to the browser's user
            body = _token_error_body(answer.error, answer.description, tracking)
            return self._reply(400, tracking, body, delay=delay)
        with self._lock:
            self.stats.statuses[302] += 1
        headers = [("Location", answer.location), ("TrackingID", tracking), ("Cache-Control", "no-store")]
        return Reply(302, headers, b"", delay)

    def _access_token(self, content: bytes, content_type: str | None, tracking: str) -> Reply:
        """``/access_token``: a code exchanged or a refresh token used, or an OAuth error.

        An injected fault is answered before the request is processed (nothing issued, nothing
        spent, so a retry succeeds); a truncated body is a reset connection here.
        """
        fault = self._pick_fault()
        if fault is not None:
            reply = self._fault(Fault.CONNECTION_RESET if fault is Fault.TRUNCATED_BODY else fault, tracking)
            if reply is not None:
                return reply
        delay = self._delay()
        answer = self.oauth.token(content, content_type)
        no_store = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
        if answer.error:
            body = _token_error_body(answer.error, answer.description, tracking)
            return self._reply(answer.status, tracking, body, delay=delay, extra=no_store)
        return self._reply(200, tracking, serialize(answer.tokens), delay=delay, extra=no_store)

    # ---- entry point ------------------------------------------------------------------------------

    def handle(
        self, method: str, origin: str, target: str, headers: Mapping[str, str], content: bytes = b""
    ) -> Reply:
        """Answer one request. ``origin`` is ``scheme://host[:port]``; ``target`` is path?query.

        ``headers`` must be looked up with lower-case names; ``content`` is the request's body.
        """
        k = self.knobs
        with self._lock:
            self.stats.requests += 1
            tracking = self._tracking_id()
            now = self._clock()
            if now < self._blocked_until:
                self.stats.waited_out += 1
                if self._is_early(now):
                    self.stats.early_requests += 1
                wait = _ceil_ms(self._blocked_until - now)
                return self._retry_after(429, tracking, wait, "Too many requests: retry after the wait.")
            if k.rate_limit is not None:
                window = math.floor(now)
                if window != self._window:
                    self._window, self._window_count = window, 0
                self._window_count += 1
                if self._window_count > k.rate_limit:
                    wait = _ceil_ms(window + 1 - now)
                    return self._retry_after(429, tracking, wait, "Too many requests: rate limit exceeded.")

        path, _, query = target.partition("?")
        route: Literal["list", "get", "expiry", "audit"]
        link: str | None = None
        count: int | None = None
        served: Served | None = None
        operation: Operation
        if self._list_route.fullmatch(path):
            route, event_id, operation = "list", "", self.org.facts.operation
        elif found := self._get_route.fullmatch(path):
            route, event_id, operation = "get", unquote(found.group(1)), GET_EVENT_DETAILS
        elif self.audit is not None and (served := self.audit.route(path)) is not None:
            route, event_id, operation = "audit", "", served.operation
        else:
            matched = [op for op, pattern in self._routes if pattern.fullmatch(path)]
            if not matched:
                return self._error(
                    404, tracking, "The requested resource could not be found.", delay=self._delay()
                )
            route, event_id, operation = "expiry", "", matched[0]
        with self._lock:
            self.stats.operations[operation.operation_id] += 1
        if method != operation.method:
            return self._error(405, tracking, f"Method {method} is not allowed.", delay=self._delay())
        if operation is AUTHORIZE:
            return self._authorize(query, tracking)
        if operation is ACCESS_TOKEN:
            return self._access_token(content, headers.get("content-type"), tracking)
        info = self._bearer(headers.get("authorization"))
        if info.state != "valid":
            with self._lock:
                if info.state == "expired":
                    self.stats.expired_401s += 1
                elif info.state == "revoked":
                    self.stats.revoked_401s += 1
            return self._error(
                401,
                tracking,
                "The request requires a valid access token in the Authorization request header.",
            )
        missing = [s for s in operation.scopes if info.scopes is not None and s not in info.scopes]
        if missing:
            # A valid token without the scope (e.g. the compliance one): Webex answers 403, not 401.
            return self._error(
                403,
                tracking,
                "The server understood the request, but refused to fulfill it because the access"
                f" token is missing required scopes ({', '.join(missing)}).",
            )

        fault = self._pick_fault()
        if fault is not None:
            reply = self._fault(fault, tracking)
            if reply is not None:
                return reply
        delay = self._delay()
        if route == "expiry":
            exp = NEVER_MS if info.expires is None else math.floor(info.expires * 1000)
            body = serialize({TOKEN_EXPIRY_KEYS.exp: exp})
        elif route == "get":
            pos = self.org.position_of(event_id)
            if pos is not None and self._shown_ms(pos) > int(self._wall_clock() * 1_000_000) // 1000:
                pos = None  # not visible yet: Webex does not know it either
            if pos is None:
                return self._error(404, tracking, "The requested resource could not be found.", delay=delay)
            body = self.org.event_json(pos)
        else:
            try:
                if served is not None:  # an audit operation
                    result = served.answer(query, origin, path, tracking)
                else:
                    params = dict(parse_qsl(query, keep_blank_values=True))
                    result = self._list(params, origin, path, tracking)
            except _BadRequestError as exc:
                return self._error(400, tracking, str(exc), delay=delay)
            if isinstance(result, Reply):
                return result
            body, link, count = result
        if fault is Fault.TRUNCATED_BODY:
            return self._reply(200, tracking, body, delay=delay, action="truncate")
        extra = []
        if count is not None:  # a page of a listing
            with self._lock:
                self.stats.pages += 1
                self.stats.items += count
            if link is not None and not k.strip_link_header:
                extra.append(("Link", f'<{link}>; rel="next"'))
        if k.false_gzip_rate and self._false_gzip():
            extra.append(("Content-Encoding", "gzip"))
        return self._reply(200, tracking, body, delay=delay, extra=extra)

    def _false_gzip(self) -> bool:
        """Whether to label this response's plain body gzip (a share ``false_gzip_rate`` of them)."""
        with self._lock:
            if self._gzip_rng.random() >= self.knobs.false_gzip_rate:
                return False
            self.stats.false_gzip += 1
            return True

    # ---- faults ---------------------------------------------------------------------------------

    def _pick_fault(self) -> Fault | None:
        k = self.knobs
        if not k.fault_rate or not k.faults:
            return None
        with self._lock:
            if self._rng.random() >= k.fault_rate:
                return None
            fault = k.faults[int(self._rng.random() * len(k.faults))]
            self.stats.faults += 1
            return fault

    def _fault(self, fault: Fault, tracking: str) -> Reply | None:
        """The reply of an injected fault; None for a truncated body (the real page is cut)."""
        if fault in RETRY_AFTER_FAULTS:
            messages = {
                Fault.LOCKED: "The requested resource is temporarily unavailable.",
                Fault.TOO_MANY_REQUESTS: "Too many requests have been sent in a given amount of time.",
                Fault.SERVICE_UNAVAILABLE: "Server is overloaded with requests. Try again later.",
            }
            with self._lock:
                return self._retry_after(
                    int(fault.value), tracking, self.knobs.fault_retry_after, messages[fault]
                )
        if fault is Fault.CONNECTION_RESET:
            return self._reply(0, tracking, b"", delay=self._delay(), action="reset")
        if fault is Fault.TRUNCATED_BODY:
            return None
        messages = {
            Fault.INTERNAL_SERVER_ERROR: "Something went wrong on the server.",
            Fault.BAD_GATEWAY: "The server received an invalid response from an upstream server.",
            Fault.GATEWAY_TIMEOUT: "An upstream server failed to respond on time.",
        }
        return self._error(int(fault.value), tracking, messages[fault], delay=self._delay())

    # ---- listing --------------------------------------------------------------------------------

    def _sign(self, raw: bytes) -> str:
        """A cursor: ``raw`` and its MAC, so a client cannot forge or alter one unnoticed."""
        mac = hashlib.blake2b(raw, key=self._cursor_key, digest_size=6).digest()
        return base64.urlsafe_b64encode(raw + mac).decode()

    def _unsign(self, text: str, size: int) -> bytes:
        """The ``size`` raw bytes of a cursor made by ``_sign``; 400 if it is not one."""
        try:
            blob = base64.urlsafe_b64decode(text.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise _BadRequestError("Invalid cursor.") from None
        raw, mac = blob[:size], blob[size:]
        if len(blob) != size + 6 or hashlib.blake2b(raw, key=self._cursor_key, digest_size=6).digest() != mac:
            raise _BadRequestError("Invalid cursor.")
        return raw

    def _cursor(self, pos: int) -> str:
        """The cursor of the next page: the events below ``pos``, the last one served."""
        return self._sign(pos.to_bytes(6, "big"))

    def _plan_cursor(self, now_us: int, index: int) -> str:
        """The cursor of page ``index`` of a planned listing, its "now" frozen at its first page."""
        return self._sign(now_us.to_bytes(8, "big", signed=True) + index.to_bytes(4, "big"))

    def _list(
        self, params: dict[str, str], origin: str, path: str, tracking: str
    ) -> tuple[bytes, str | None, int] | Reply:
        k, org = self.knobs, self.org
        facts = org.facts
        size_name = facts.page_size.name
        raw_size = params.get(size_name)
        if raw_size is None:
            limit = facts.page_default
        elif not _DIGITS.fullmatch(raw_size) or not (
            facts.page_min <= int(raw_size) and (facts.page_max is None or int(raw_size) <= facts.page_max)
        ):
            raise _BadRequestError(facts.page_size_error(raw_size))
        else:
            limit = int(raw_size)
        broken = facts.check_required(params)
        if broken is not None:
            raise _BadRequestError(broken)
        start_name, end_name = facts.range_start.name, facts.range_end.name
        dates: dict[str, int] = {}
        for name in (start_name, end_name):
            if name in params:
                try:
                    dates[name] = parse_datetime_us(params[name])
                except ValueError:
                    raise _BadRequestError(
                        f"Invalid {name}: {params[name]!r} is not an ISO 8601 date-time."
                    ) from None
        # A planned listing (pages out of order, duplicates) is cut into pages at its first page:
        # its cursor keeps that page's "now" (which ends the range and decides visibility) and the
        # page number; a plain cursor keeps the last event served.
        planned = k.shuffled_pages or k.newest_last or k.overlapping_pages or k.repeated_in_page
        hi_pos: int | None = None
        now_us: int | None = None
        index = 0
        text = params.get(_CURSOR)
        if text is not None and planned:
            raw = self._unsign(text, 12)
            now_us, index = int.from_bytes(raw[:8], "big", signed=True), int.from_bytes(raw[8:], "big")
        elif text is not None:
            hi_pos = int.from_bytes(self._unsign(text, 6), "big")
        if k.gateway_timeout_above is not None and limit > k.gateway_timeout_above:
            with self._lock:
                self.stats.faults += 1
            return self._error(
                504,
                tracking,
                "An upstream server failed to respond on time. If your query uses"
                f" {size_name} parameter, please try to reduce it.",
                delay=self._delay(),
            )

        if now_us is None:
            now_us = int(self._wall_clock() * 1_000_000)
        to_us = min(dates.get(end_name, now_us), now_us)  # an end in the future means up to now
        hi_ms = to_us // 1000 if k.to_inclusive else -(-to_us // 1000) - 1
        if start_name in dates:
            from_us = dates[start_name]
            lo_ms = -(-from_us // 1000) if k.from_inclusive else from_us // 1000 + 1
        else:
            lo_ms = -(1 << 62)
        lo, hi = org.bounds(lo_ms, hi_ms)
        if hi_pos is not None:
            hi = min(hi, hi_pos)

        # Each filter of the spec selects by equality on its Event field.
        filters = org.conditions((path, params[p.name]) for p, path in facts.filters if params.get(p.name))
        if filters is None:  # a value no event has: an empty result, not an error
            filters, lo = {}, hi
        if planned:
            positions, more = self._planned(filters, lo, hi, limit=limit, now_us=now_us, index=index)
            after = self._plan_cursor(now_us, index + 1) if more else ""
        else:
            positions = self._plain(filters, lo, hi, limit, now_us)
            more = len(positions) > limit
            del positions[limit:]
            after = self._cursor(positions[-1]) if more else ""
        body = _PAGE_HEAD + b",".join(org.event_json(p) for p in positions) + b"]}"
        link = self._next_link(params, origin, path, limit, after) if more else None
        return body, link, len(positions)

    def _plain(self, filters: dict[str, int | str], lo: int, hi: int, limit: int, now_us: int) -> list[int]:
        """Up to ``limit + 1`` positions of the listing in ``[lo, hi)``, newest first."""
        org, visible = self.org, self._visible
        if visible is None:
            return list(org.select(filters, lo, hi, limit=limit + 1))
        # Late events not visible yet are skipped: a page still holds up to ``limit`` visible
        # events, and ``more`` (a next link) is decided on visible ones.
        now_ms = now_us // 1000
        shown = (p for p in org.select(filters, lo, hi) if visible[p] <= now_ms)
        return list(itertools.islice(shown, limit + 1))

    def _planned(
        self, filters: dict[str, int | str], lo: int, hi: int, *, limit: int, now_us: int, index: int
    ) -> tuple[list[int], bool]:
        """Page ``index`` of the listing in ``[lo, hi)`` cut up by the misbehaviour knobs."""
        k, visible = self.knobs, self._visible
        now_ms = now_us // 1000
        query = (lo, hi, tuple(sorted(filters.items())), None if visible is None else now_ms)
        with self._lock:
            listing = self._listings.get(query)
        if listing is None:
            shown = self.org.select(filters, lo, hi)
            if visible is not None:
                shown = (p for p in shown if visible[p] <= now_ms)
            listing = list(shown)
            if k.newest_last:  # (the newest event moves to the end: on the last page)
                listing = listing[1:] + listing[:1]
            with self._lock:
                if len(self._listings) >= _LISTINGS_KEPT:
                    del self._listings[next(iter(self._listings))]
                self._listings[query] = listing
        return page_of(
            listing,
            limit,
            index,
            shuffle=k.shuffled_pages,
            overlap=k.overlapping_pages,
            repeat=k.repeated_in_page,
            key=f"webex-fake-pages:{self.org.seed}:{lo}:{hi}:{len(listing)}:{limit}",
        )

    def _next_link(self, params: dict[str, str], origin: str, path: str, limit: int, cursor: str) -> str:
        k = self.knobs
        size_name = self.org.facts.page_size.name
        keep = (
            {}
            if k.next_link_drops_filters
            else {n: v for n, v in params.items() if n not in (size_name, _CURSOR)}
        )
        keep[size_name] = "null" if k.next_link_max_null else str(limit)
        keep[_CURSOR] = cursor
        base = (k.next_link_origin or origin).rstrip("/")
        return f"{base}{path}?{urlencode(keep, quote_via=quote, safe=':')}"
