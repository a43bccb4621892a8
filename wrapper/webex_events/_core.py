"""The sans-IO core shared by the sync and async clients.

Everything that decides *what* to send, *whether* to retry and *how long* to wait lives here, as
generators that yield actions and receive their results:

* ``Send(url, headers)`` → the driver sends a GET (``stream=True``, no redirects, no client auth)
  and sends back the ``httpx.Response`` with its body unread, or the ``httpx.TransportError``;
* ``Read(response)`` → the driver reads and closes the body, sends back ``bytes`` or the error;
* ``Sleep(seconds)`` → the driver sleeps (``time.sleep``/``Event.wait`` or ``asyncio.sleep``);
* ``Page(events)`` (listings only) → the driver hands the events to its consumer.

Headers are inspected before the body is read so that a Retry-After closes the shared gate at once.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import time
from collections.abc import Callable, Generator, Mapping
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, TypeVar
from urllib.parse import quote

import attrs
import httpx

from ._dates import (
    AUTO_PAGE_FILL,
    WindowPlan,
    auto_window_ms,
    ceil_ms,
    floor_ms,
    format_ms,
    from_ms,
    micros,
    parse_created,
    timedelta_ms,
    to_aware,
)
from ._errors import (
    APIError,
    InvalidArgumentError,
    UnsafeNextLinkError,
    WebexConnectionError,
    WebexError,
    error_class,
)
from ._event import Event
from ._gate import Gate
from ._models import ListStats
from ._retry import RETRY_AFTER_STATUSES, RETRY_BACKOFF_STATUSES, RetryPolicy
from ._wire import DecodedPage, TextDemand, decode_object, decode_page

__all__ = [
    "DEFAULT_BASE_URL",
    "Core",
    "Page",
    "Query",
    "Read",
    "Send",
    "Sleep",
    "parse_link_header",
]

logger = logging.getLogger("webex_events")

DEFAULT_BASE_URL = "https://webexapis.com/v1"
TOKEN_ENV = "WEBEX_ACCESS_TOKEN"  # noqa: S105 - a variable name, not a secret
_DEFAULT_PORTS = {"http": 80, "https": 443}
T = TypeVar("T")


class Send:
    """Action: send a GET to ``url`` with ``headers``."""

    __slots__ = ("headers", "url")

    def __init__(self, url: httpx.URL, headers: Mapping[str, str]) -> None:
        self.url = url
        self.headers = headers

    def __repr__(self) -> str:
        return f"Send({str(self.url)!r})"  # never the headers: they hold the token


class Read:
    """Action: read (and close) the body of ``response``."""

    __slots__ = ("response",)

    def __init__(self, response: httpx.Response) -> None:
        self.response = response


class Sleep:
    """Action: wait ``seconds``."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __repr__(self) -> str:
        return f"Sleep({self.seconds!r})"


class Page:
    """Output: the (range-filtered) events of one page."""

    __slots__ = ("events",)

    def __init__(self, events: list[Event]) -> None:
        self.events = events


Action = Send | Read | Sleep | Page


# --------------------------------------------------------------------------- validation


def resolve_token(token: object) -> str:
    """The token argument or ``$WEBEX_ACCESS_TOKEN``; InvalidArgumentError if neither is usable."""
    if token is None:
        token = os.environ.get(TOKEN_ENV)
        if token is None:
            raise InvalidArgumentError(f"token is required: pass token=... or set ${TOKEN_ENV}")
    if not isinstance(token, str):
        raise InvalidArgumentError(f"token must be a str, got {type(token).__name__}")
    token = token.strip()
    if not token:
        raise InvalidArgumentError("token must not be empty")
    if any(c in token for c in "\r\n\0"):
        raise InvalidArgumentError("token must not contain control characters")
    return token


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_base_url(base_url: object) -> httpx.URL:
    """A usable base URL: http(s), a host, no credentials; plain http only to loopback."""
    if not isinstance(base_url, str | httpx.URL):
        raise InvalidArgumentError(f"base_url must be a str, got {type(base_url).__name__}")
    try:
        url = httpx.URL(str(base_url).strip())
    except (httpx.InvalidURL, ValueError, TypeError):
        raise InvalidArgumentError("base_url is not a valid URL") from None
    if url.scheme not in _DEFAULT_PORTS:
        raise InvalidArgumentError(
            f"base_url must use https (or http to loopback), got scheme {url.scheme!r}"
        )
    if not url.host:
        raise InvalidArgumentError("base_url must include a host")
    if url.userinfo:
        raise InvalidArgumentError("base_url must not contain credentials; pass token=... instead")
    if url.scheme == "http" and not _is_loopback(url.host):
        raise InvalidArgumentError(
            f"base_url must use https: plain http is only allowed to loopback, got host {url.host!r}"
        )
    path = url.path.rstrip("/")
    return url.copy_with(path=path or "/", query=None, fragment=None)


def validate_concurrency(value: object, *, name: str = "concurrency") -> int:
    """An int >= 1."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidArgumentError(f"{name} must be an int >= 1, got {value!r}")
    return value


def validate_timeout(value: object) -> float | None:
    """None or a number of seconds > 0."""
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
        raise InvalidArgumentError(f"timeout must be a number of seconds > 0 or None, got {value!r}")
    return float(value)


@attrs.frozen
class ClientSettings:
    """What both clients build from their constructor arguments (validated once, here)."""

    core: Core
    concurrency: int
    timeout: float | None
    owns_http: bool


def configure_client(
    *,
    token: object,
    base_url: object,
    timeout: object,
    retry: object,
    concurrency: object,
    http_client: object,
    transport: object,
    http_client_type: type[httpx.Client] | type[httpx.AsyncClient],
) -> ClientSettings:
    """Validate the arguments shared by ``WebexEvents`` and ``AsyncWebexEvents``."""
    url = validate_base_url(base_url)
    secret = resolve_token(token)
    timeout_s = validate_timeout(timeout)
    workers = validate_concurrency(concurrency)
    if retry is None:
        retry = RetryPolicy()
    elif not isinstance(retry, RetryPolicy):
        raise InvalidArgumentError(f"retry must be a RetryPolicy, got {type(retry).__name__}")
    if http_client is not None and transport is not None:
        raise InvalidArgumentError("pass http_client or transport, not both")
    if http_client is not None and not isinstance(http_client, http_client_type):
        raise InvalidArgumentError(
            f"http_client must be an httpx.{http_client_type.__name__}, got {type(http_client).__name__}"
        )
    return ClientSettings(
        core=Core(token=secret, base_url=url, retry=retry),
        concurrency=workers,
        timeout=timeout_s,
        owns_http=http_client is None,
    )


def http_limits(concurrency: int) -> httpx.Limits:
    """Connection pool size: room for every concurrent window plus retries in flight."""
    return httpx.Limits(max_connections=max(10, 2 * concurrency))


def _enum_or_str(value: object, *, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, Enum):
        value = value.value
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{name} must be a str or enum member, got {type(value).__name__}")
    if not value.strip():
        raise InvalidArgumentError(f"{name} must not be empty")
    return value


class Query:
    """The validated arguments of one ``list_events`` call (what to ask and how to split it)."""

    __slots__ = (
        "adaptive",
        "concurrency",
        "filters",
        "hi_ms",
        "lo_ms",
        "page_size",
        "step_ms",
        "text_demand",
    )

    def __init__(
        self,
        *,
        filters: dict[str, str],
        page_size: int,
        lo_ms: int | None,
        hi_ms: int,
        step_ms: int | None,
        concurrency: int,
        adaptive: bool = False,
    ) -> None:
        self.filters = filters
        self.adaptive = adaptive
        self.page_size = page_size
        self.lo_ms = lo_ms
        self.hi_ms = hi_ms
        self.step_ms = step_ms
        self.concurrency = concurrency
        self.text_demand = TextDemand()

    @property
    def windowed(self) -> bool:
        """Whether the range is split into windows fetched concurrently."""
        return self.step_ms is not None

    @property
    def windows_total(self) -> int:
        """How many windows the listing has (1 when not windowed; an estimate when adaptive)."""
        if self.step_ms is None or self.lo_ms is None:
            return 1
        return self.plan().estimated_total()

    def plan(self) -> WindowPlan:
        """A fresh plan of this listing's windows (each iteration of a stream plans anew)."""
        assert self.lo_ms is not None
        assert self.step_ms is not None
        return WindowPlan(
            self.lo_ms,
            self.hi_ms,
            step_ms=self.step_ms,
            adaptive=self.adaptive,
            target_events=int(self.page_size * AUTO_PAGE_FILL),
        )

    @property
    def start(self) -> datetime | None:
        """``from_`` rounded up to the millisecond, or None."""
        return None if self.lo_ms is None else from_ms(self.lo_ms)

    @property
    def end(self) -> datetime:
        """``to`` rounded up to the millisecond (clamped to now)."""
        return from_ms(self.hi_ms)


def build_query(
    *,
    resource: object,
    type: object,
    actor_id: object,
    from_: object,
    to: object,
    service_type: object,
    page_size: object,
    window: object,
    concurrency: object,
    default_concurrency: int,
    now: datetime | None = None,
) -> Query:
    """Validate ``list_events`` arguments (raises InvalidArgumentError naming the argument)."""
    filters: dict[str, str] = {}
    resource_s = _enum_or_str(resource, name="resource")
    type_s = _enum_or_str(type, name="type")
    service_s = _enum_or_str(service_type, name="service_type")
    if actor_id is not None and (not isinstance(actor_id, str) or not actor_id.strip()):
        raise InvalidArgumentError(f"actor_id must be a non-empty str, got {actor_id!r}")
    if resource_s == "convergedRecordings" and service_s is None:
        raise InvalidArgumentError(
            "service_type is required when resource is 'convergedRecordings' (e.g. service_type='calling')"
        )
    for key, value in (
        ("resource", resource_s),
        ("type", type_s),
        ("actorId", actor_id),
        ("serviceType", service_s),
    ):
        if value is not None:
            filters[key] = str(value)
    if not isinstance(page_size, int) or isinstance(page_size, bool):
        raise InvalidArgumentError(f"page_size must be an int between 1 and 1000, got {page_size!r}")
    if not 1 <= page_size <= 1000:
        raise InvalidArgumentError(f"page_size must be between 1 and 1000, got {page_size}")
    conc = default_concurrency if concurrency is None else validate_concurrency(concurrency)

    current = now if now is not None else datetime.now(UTC)
    now_ms = floor_ms(current)
    lo_ms = None if from_ is None else ceil_ms(to_aware(from_, name="from_"))
    hi_ms = now_ms if to is None else min(ceil_ms(to_aware(to, name="to")), now_ms)
    if lo_ms is not None and lo_ms > hi_ms:
        raise InvalidArgumentError(
            f"from_ must not be after to, got from_={format_ms(lo_ms)} and to={format_ms(hi_ms)}"
            + (" (to is clamped to now)" if to is None or hi_ms == now_ms else "")
        )

    step_ms: int | None = None
    adaptive = False
    if window is None and concurrency is not None and conc > 1:
        window = "auto"  # asking for parallelism implies splitting the range
    if window is not None:
        if lo_ms is None:
            raise InvalidArgumentError("from_ is required when window or concurrency > 1 is given")
        if window == "auto":
            step_ms = auto_window_ms(hi_ms - lo_ms, conc)
            adaptive = True
        elif isinstance(window, timedelta):
            if window <= timedelta(0):
                raise InvalidArgumentError(f"window must be a positive timedelta or 'auto', got {window!r}")
            step_ms = timedelta_ms(window)
        else:
            raise InvalidArgumentError(f"window must be a timedelta, 'auto' or None, got {window!r}")
    return Query(
        filters=filters,
        page_size=page_size,
        lo_ms=lo_ms,
        hi_ms=hi_ms,
        step_ms=step_ms,
        concurrency=conc,
        adaptive=adaptive,
    )


# --------------------------------------------------------------------------- links

_LINK_TARGET = re.compile(r"\s*<([^>]*)>")
_LINK_PARAM = re.compile(
    r"\s*;\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*(?:=\s*(?:\"((?:[^\"\\]|\\.)*)\"|([^\s;,\"]*)))?"
)
_QUOTED_PAIR = re.compile(r"\\(.)")


def parse_link_header(values: list[str]) -> list[tuple[str, dict[str, str]]]:
    """RFC 8288 ``Link`` header values → ``[(target, {param: value})]`` (param names lowercased).

    >>> parse_link_header(['<https://x/a?b=1,2>; rel="next last"; title="a;b", <y>; rel=prev'])
    [('https://x/a?b=1,2', {'rel': 'next last', 'title': 'a;b'}), ('y', {'rel': 'prev'})]
    """
    links: list[tuple[str, dict[str, str]]] = []
    for value in values:
        pos = 0
        while pos < len(value):
            m = _LINK_TARGET.match(value, pos)
            if m is None:
                # Garbage: skip to the next link-value (commas inside <> and quotes are handled above).
                comma = value.find(",", pos)
                if comma < 0:
                    break
                pos = comma + 1
                continue
            target = m.group(1).strip()
            pos = m.end()
            params: dict[str, str] = {}
            while (p := _LINK_PARAM.match(value, pos)) is not None:
                name = p.group(1).lower()
                raw = p.group(2)
                val = _QUOTED_PAIR.sub(r"\1", raw) if raw is not None else (p.group(3) or "")
                params.setdefault(name, val)  # RFC 8288: occurrences after the first are ignored
                pos = p.end()
            links.append((target, params))
            comma = value.find(",", pos)
            if comma < 0:
                break
            pos = comma + 1
    return links


def next_link(response: httpx.Response) -> str | None:
    """The target of the first ``rel="next"`` link of a response, or None."""
    values = response.headers.get_list("link")
    if not values:
        return None
    for target, params in parse_link_header(values):
        if "next" in params.get("rel", "").lower().split():
            return target
    return None


def origin(url: httpx.URL) -> tuple[str, str, int]:
    """``(scheme, host, port)`` with the default port filled in."""
    scheme = url.scheme.lower()
    return scheme, url.host.lower(), url.port or _DEFAULT_PORTS.get(scheme, 0)


# --------------------------------------------------------------------------- the core


def _filter(page: DecodedPage, lo_s: str | None, hi_s: str, lo_us: int | None, hi_us: int) -> list[Event]:
    """Events with ``lo <= created < hi`` (canonical timestamps compared as strings: fast).

    Elements of ``items`` that are not objects are skipped. Events of a ``text_only`` page keep
    their exact text and not the dict (decoded again if a field is read).
    """
    new = Event._from_wire
    texts = page.texts_ready
    text_only = page.text_only
    out: list[Event] = []
    append = out.append
    for index, raw in enumerate(page.items):
        if type(raw) is not dict:
            continue
        text = None if texts is None else texts[index]
        c = raw.get("created")
        if type(c) is str and len(c) == 24 and c[23] == "Z" and c[10] == "T" and c[19] == ".":
            keep = c < hi_s and (lo_s is None or lo_s <= c)
        else:
            dt = parse_created(c) if isinstance(c, str) else None
            if dt is None:
                # Never drop data silently: an event whose time cannot be read is kept.
                logger.warning("event %r has an unparsable created value %r; kept", raw.get("id"), c)
                keep = True
            else:
                us = micros(dt)
                keep = us < hi_us and (lo_us is None or lo_us <= us)
        if keep:
            append(new(None, text, page, index) if text_only else new(raw, text, page, index))
    if text_only:
        page.release()
    return out


class _ListState:
    __slots__ = ("max",)

    def __init__(self, max_: int) -> None:
        self.max = max_


class Core:
    """Request building, retries, paging and filtering; no I/O of its own (see module docstring)."""

    def __init__(
        self,
        *,
        token: str,
        base_url: httpx.URL,
        retry: RetryPolicy,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._token = token
        self.base_url = base_url
        self.events_url = base_url.copy_with(path=base_url.path.rstrip("/") + "/events")
        self.origin = origin(base_url)
        self.retry = retry
        self.gate = Gate(clock)
        self._clock = clock
        self._rng = retry.make_rng()
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def __repr__(self) -> str:
        return f"Core(base_url={str(self.base_url)!r})"

    def scrub(self, text: str) -> str:
        """``text`` with any occurrence of the token masked (servers sometimes echo requests)."""
        return text.replace(self._token, "***") if self._token in text else text

    def check_origin(self, url: httpx.URL) -> None:
        """UnsafeNextLinkError unless ``url`` has the base URL's scheme, host and port."""
        if origin(url) != self.origin:
            raise UnsafeNextLinkError(
                f"refusing to follow a link to {url.scheme}://{url.host}:{url.port or ''} "
                f"(not the origin of base_url {self.origin[0]}://{self.origin[1]}:{self.origin[2]}); "
                "the token is only sent to base_url"
            )

    # -- one request with retries -------------------------------------------------------

    def _api_error(self, status: int, body: bytes, tracking: str | None, url: httpx.URL) -> APIError:
        message = ""
        errors: list[str] = []
        try:
            payload = json.loads(body.decode("utf-8", "replace")) if body else None
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            if isinstance(payload.get("message"), str):
                message = payload["message"]
            for item in payload.get("errors") or ():
                if isinstance(item, dict) and isinstance(item.get("description"), str):
                    errors.append(self.scrub(item["description"]))
            if not tracking and isinstance(payload.get("trackingId"), str):
                tracking = payload["trackingId"]
        if not message:
            message = httpx.codes.get_reason_phrase(status) or "error"
            if 300 <= status < 400:
                message += " (redirects are not followed)"
        return error_class(status)(
            status_code=status,
            message=self.scrub(message),
            tracking_id=tracking,
            errors=errors,
            url=self.scrub(str(url)),
        )

    def request(
        self,
        url: httpx.URL,
        *,
        parse: Callable[[bytes], T],
        stats: ListStats | None = None,
        listing: _ListState | None = None,
    ) -> Generator[Action, Any, tuple[httpx.URL, httpx.Response, T]]:
        """GET ``url`` until success or the policy gives up; returns ``(final_url, response, parsed)``.

        ``listing`` enables the 504 rule: halve ``max`` on the URL (and for the following pages).
        """
        policy = self.retry
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            while (wait := self.gate.remaining()) > 0:
                yield Sleep(wait)
            self.check_origin(url)
            if stats is not None:
                stats._add(requests=1)
            result = yield Send(url, self._headers)
            delay: float | None
            gated = False
            tracking: str | None = None
            error: WebexError
            if isinstance(result, Exception):
                failure = type(result).__name__
                error = WebexConnectionError(
                    f"{failure} on GET {self.scrub(str(url))}: {self.scrub(str(result))}"
                )
                delay = policy.backoff(attempt=attempt, rng=self._rng)
            else:
                response: httpx.Response = result
                status = response.status_code
                tracking = response.headers.get("trackingid")
                retry_after = response.headers.get("retry-after")
                delay = None
                if status in RETRY_AFTER_STATUSES and (retry_after is not None or status != 503):
                    # Close the gate before reading the body: no other request may slip out now.
                    delay = policy.retry_after(retry_after)
                    self.gate.block_for(delay, rate_limited=status == 429)
                    gated = True
                body = yield Read(response)
                if isinstance(body, Exception):
                    failure = f"{type(body).__name__} while reading the body of HTTP {status}"
                    error = WebexConnectionError(f"{failure} on GET {self.scrub(str(url))}")
                    if delay is None:
                        delay = policy.backoff(attempt=attempt, rng=self._rng)
                elif 200 <= status < 300:
                    try:
                        parsed = parse(body)
                    except ValueError as exc:  # JSONDecodeError / UnicodeDecodeError: cut off mid-read
                        failure = f"undecodable body of HTTP {status} ({type(exc).__name__})"
                        error = WebexConnectionError(
                            f"{failure} on GET {self.scrub(str(url))}: {len(body)} bytes"
                        )
                        delay = policy.backoff(attempt=attempt, rng=self._rng)
                    else:
                        return url, response, parsed
                else:
                    failure = f"HTTP {status}"
                    error = self._api_error(status, body, tracking, url)
                    if status in RETRY_AFTER_STATUSES or status in RETRY_BACKOFF_STATUSES:
                        if delay is None:
                            delay = policy.backoff(attempt=attempt, rng=self._rng)
                        if status == 504 and listing is not None and listing.max > 1:
                            # Webex: "If your query uses max parameter, please try to reduce it."
                            listing.max = max(1, listing.max // 2)
                            url = url.copy_set_param("max", str(listing.max))
                    # other statuses are final: delay stays None
            if delay is None:
                raise error
            if attempt >= policy.max_attempts or (self._clock() - started) + delay > policy.max_total_seconds:
                raise error
            logger.warning(
                "retrying GET %s after %s (attempt %d of %d) in %.3fs; tracking id %s",
                self.scrub(url.raw_path.decode("ascii", "replace")),
                failure,
                attempt,
                policy.max_attempts,
                delay,
                tracking,
            )
            if stats is not None:
                stats._add(retries=1)
            if not gated:
                yield Sleep(delay)
            # gated: the wait happens at the top of the loop, shared with every other request

    # -- Get Event Details ----------------------------------------------------------------

    def get_event(self, event_id: object) -> Generator[Action, Any, Event]:
        """GET /events/{eventId} → Event."""
        if not isinstance(event_id, str) or not event_id.strip():
            raise InvalidArgumentError(f"event_id must be a non-empty str, got {event_id!r}")
        return self._get_event(event_id)

    def _get_event(self, event_id: str) -> Generator[Action, Any, Event]:
        # Percent-encode everything: an ID with "/" or "?" must stay one path segment.
        segment = quote(event_id, safe="").encode("ascii")
        url = self.events_url.copy_with(raw_path=self.events_url.raw_path + b"/" + segment)
        _, _, (raw, text) = yield from self.request(url, parse=decode_object)
        return Event._from_wire(raw, text)

    # -- List Events ------------------------------------------------------------------------

    def list_range(
        self, query: Query, lo_ms: int | None, hi_ms: int, stats: ListStats
    ) -> Generator[Action, Any, None]:
        """All pages of the query for ``[lo_ms, hi_ms)``; yields ``Page``s of filtered events.

        ``from`` is sent 1 ms early and the result filtered to ``lo <= created < hi``, so the
        result is exact whether the server treats ``from``/``to`` as inclusive or exclusive.
        """
        params = dict(query.filters)
        if lo_ms is not None:
            params["from"] = format_ms(lo_ms - 1)
        params["to"] = format_ms(hi_ms)
        params["max"] = str(query.page_size)
        lo_s = None if lo_ms is None else format_ms(lo_ms)
        hi_s = format_ms(hi_ms)
        lo_us = None if lo_ms is None else lo_ms * 1000
        hi_us = hi_ms * 1000
        state = _ListState(query.page_size)
        url = self.events_url.copy_merge_params(params)
        demand = query.text_demand

        def parse(body: bytes) -> DecodedPage:
            # The fast way until someone reads raw_json, then the exact way (see _wire).
            return decode_page(body, exact=demand.wanted, demand=demand)

        while True:
            url, response, page = yield from self.request(url, parse=parse, stats=stats, listing=state)
            events = _filter(page, lo_s, hi_s, lo_us, hi_us)
            target = next_link(response)
            del page, response  # while the consumer has the events, hold nothing else of the page
            stats._add(pages=1, events=len(events))
            yield Page(events)
            del events
            if target is None:
                return
            url = self.repair_next(url.join(target), params, state)

    def repair_next(self, url: httpx.URL, params: Mapping[str, str], state: _ListState) -> httpx.URL:
        """Check a next link's origin and repair known Webex defects (max=null, dropped filters)."""
        self.check_origin(url)
        present = url.params
        for key, value in params.items():
            if key != "max" and key not in present:
                url = url.copy_add_param(key, value)
        raw_max = present.get("max")
        try:
            max_value: int | None = int(raw_max) if raw_max is not None else None
        except ValueError:
            max_value = None  # "null" and other garbage
        if max_value is None or not 1 <= max_value <= state.max:
            url = url.copy_set_param("max", str(state.max))
        return url
