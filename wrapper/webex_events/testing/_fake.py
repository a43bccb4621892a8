"""``FakeWebex``: the public face of the fake Webex Events API."""

from __future__ import annotations

import json
import math
import random
import secrets
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO
from urllib.parse import urlsplit

from ._app import FakeApp, FakeStats, Knobs
from ._audit import ADMIN_AUDIT, SECURITY_AUDIT, AuditLog, AuditServer, make_audit_logs
from ._damage import Damage, draw_damages
from ._facts import wire_text
from ._faults import Fault, parse_faults
from ._oauth import ACCESS_TOKEN_LIFETIME, CODE_LIFETIME, REFRESH_TOKEN_LIFETIME, SCOPES, Integration
from ._org import Organization
from ._server import run_app, serve_app
from ._transport import FakeAsyncTransport, FakeTransport

__all__ = ["FakeWebex", "run_server"]

_AUTO_CACHE_LIMIT = 250_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: The default ``late`` of ``FakeWebex.live``: 20 % of the events become visible up to 2 minutes
#: after their ``created``, 1 % between 10 and 30 minutes after (Webex: transcripts "a couple of
#: minutes after" the meeting, recordings "shortly after").
LIVE_LATE: tuple[tuple[float, float, float], ...] = ((0.2, 0.0, 120.0), (0.01, 600.0, 1800.0))

Late = Sequence[tuple[float, float, float]]


def _check_late(late: Late) -> tuple[tuple[float, float, float], ...]:
    """``late`` as a tuple of ``(fraction, min_seconds, max_seconds)`` tiers; ValueError if invalid."""
    tiers = []
    total = 0.0
    for k, tier in enumerate(late, 1):
        try:
            fraction, low, high = (float(x) for x in tier)
        except (TypeError, ValueError):
            raise ValueError(
                f"late tier {k} must be (fraction, min_seconds, max_seconds) numbers, got {tier!r}"
            ) from None
        if not all(math.isfinite(x) for x in (fraction, low, high)):
            raise ValueError(f"late tier {k} {tier!r}: values must be finite")
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"late tier {k} {tier!r}: fraction must be between 0 and 1, got {fraction}")
        if not 0.0 <= low <= high:
            raise ValueError(
                f"late tier {k} {tier!r}: need 0 <= min_seconds <= max_seconds, got {low} and {high}"
            )
        total += fraction
        tiers.append((fraction, low, high))
    if total > 1.0 + 1e-9:
        raise ValueError(f"late fractions must sum to at most 1, got {total:g}")
    return tuple(tiers)


def _visibility(created: array[int], late: tuple[tuple[float, float, float], ...], seed: int) -> array[int]:
    """Per position: the epoch millisecond from which the event is served.

    Drawn from a random stream of its own (the organization's draws are untouched, so an
    organization is the same with or without ``late``); two draws per event whatever its tier,
    so an event's tier and delay depend only on the seed and its position.
    """
    rng = random.Random(f"webex-fake-late:{seed}")  # noqa: S311 - reproducible test data
    rnd = rng.random
    limits = []
    running = 0.0
    for fraction, low, high in late:
        running += fraction
        limits.append((running, low * 1000.0, (high - low) * 1000.0))
    out = array("q", created)
    for i in range(len(out)):
        u, v = rnd(), rnd()
        for limit, low_ms, span_ms in limits:
            if u < limit:
                out[i] += math.floor(low_ms + v * span_ms)
                break
    return out


def _to_ms(value: datetime, name: str) -> int:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime")
    return math.floor(value.timestamp() * 1000)


def _to_us(value: datetime, name: str) -> int:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime")
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class FakeWebex:
    """A faithful, deterministic fake of the Webex Events API (moto-style, for tests and demos).

    The organization is generated from ``(seed, events, start, end)``; ``end`` defaults to now
    floored to the hour and ``start`` to ``end - days``. Lists are served newest first; events
    that share a millisecond are ordered by a stable internal sequence (the same on every
    request). ``from`` is inclusive and ``to`` exclusive by default (``from_inclusive`` /
    ``to_inclusive`` switch that: the Webex docs do not say). Knobs after creation live in
    ``fake.knobs`` and may be changed between requests.

    Events carry what Webex actually sends, not only what it documents: attendees as strings,
    booleans such as ``isCallAnswered: true`` where the spec says a string, ``data`` fields the
    spec lacks (``markdown``, ``html``, ``files``... on messages) and the type ``read`` on some
    message events (the list and its source, wxc_sdk 1.41: ``webex_events.testing._evidence``).
    ``documented_shapes=True`` sends strictly what the spec documents instead.

    Extra knobs: ``latency_jitter`` (seeded uniform extra latency), ``cache_json`` (keep each
    event's bytes after first use; default on up to 250 000 events, ~1 kB each) and ``clock``
    (monotonic seconds used for rate-limit windows and Retry-After bookkeeping; inject one in
    tests to make them independent of wall-clock time) and ``early_grace`` (default 0.02 s: a
    request arriving this soon after a Retry-After was handed to the client still gets a 429
    but is not counted early, because a threaded client needs a moment to read the 429 and
    close its gate; set 0 for the strictest count) and ``forbidden_token`` (a token the fake
    knows but that lacks the compliance scope: answered 403).

    Time: ``wall_clock`` (seconds since the epoch, default ``time.time``; a ``SimClock`` in
    tests) is the fake's "now": the default ``end`` is it floored to the hour, a list's ``to`` is
    clamped to it, and no event is served before it is visible. An event is visible from its
    ``created``, unless ``late`` says otherwise: tiers ``(fraction, min_seconds, max_seconds)``,
    checked in order (fractions sum to at most 1), put each event (independently, drawn from
    ``seed``) in tier k with probability fraction_k; it then becomes visible ``uniform(min, max)``
    seconds after its ``created``, as Webex shows some events (transcripts, recordings) minutes
    late. A list skips events not visible yet (pages still hold up to ``max`` visible events) and
    Get Event Details answers 404 for them. ``FakeWebex.live`` makes an organization whose events
    keep arriving while the clock runs.

    Misbehaviours, to test a pipeline against broken servers and bad data (each off by default
    and drawn from ``seed``; the fake stays faithful otherwise: filters, ranges, page sizes). The
    server: ``shuffled_pages`` serves a listing's pages in a fixed shuffled order (each page newest
    first; the next links still visit every event once); ``newest_last`` serves the newest event
    of each listing on its last page, the others in order; ``overlapping_pages`` repeats on each
    next page the oldest event of the page before (a cursor overlap); ``repeated_in_page`` puts
    one event of each page in it twice (these two need a ``max`` of 2, together 3, or are left
    out); ``strip_link_header`` drops the ``Link`` header, as a proxy that strips it (a full page
    without a next link); ``false_gzip_rate``: that share of the 200 responses is labelled
    ``Content-Encoding: gzip`` over its plain body (these six are in ``knobs``). The data, fixed
    at creation, on distinct events (an int is a number of events, a float a fraction of them):
    ``bad_created`` (``created`` in turn the non-date ``2025-13-45T99:99:99.999Z``, missing,
    null, ``"yesterday"``), ``missing_ids`` (``id`` in turn missing, ``""``), ``shared_ids``
    (events served with the id of another event created at another time); one event each for
    ``deep_event`` (``data`` holding objects nested that many levels, e.g. 5000),
    ``large_event`` (the event larger than that many bytes) and ``lone_surrogate`` (the escape
    ``\\ud800`` in ``data.text``). A damaged event keeps its place by its true content and
    ``created``: every query whose range holds its true time serves it, and ``expected_ids``
    lists it under its true id; ``damaged`` tells which and how.

    OAuth, as a Webex integration signs in (off unless ``client_id`` is given, or
    ``register_integration`` called): ``client_id``, ``client_secret`` (made up when not given),
    ``redirect_uris`` and ``scopes`` register an integration (``integration``). ``GET /authorize``
    answers at once with the redirect a browser gets after signing in and consenting (the fake has
    no sign-in page): 302 to ``redirect_uri`` with ``code`` and the same ``state``, or with
    ``error`` (``invalid_scope``, ``unsupported_response_type``, ``access_denied`` when
    ``knobs.deny_authorization``...); an unknown client or a redirect URI not registered is a 400
    (not redirected). ``POST /access_token`` (a form) exchanges a code once (codes are spent by
    their first presentation and expire after ``code_lifetime`` seconds, default 600) and
    refreshes a refresh token; a wrong client id or secret is a 401 ``invalid_client``, a bad,
    spent, expired or revoked code or refresh token a 400 ``invalid_grant``, each with the
    spec's TokenError body (``error``, ``error_description``, ``message``, ``trackingId``).
    Access tokens expire ``access_token_lifetime`` seconds (a float; default 14 days) after they
    are issued, refresh tokens ``refresh_token_lifetime`` seconds (default 90 days) after they
    were last used (Webex: a refresh token in use "lasts forever"); ``expires_in`` and
    ``refresh_token_expires_in`` report them in whole seconds, rounded down (at least 1). With
    ``rotate_refresh_tokens`` each refresh returns a new refresh token and the old one is dead
    (Webex documents no rotation: off by default). ``revoke``, ``revoke_all`` and
    ``issue_tokens`` (tokens without the browser) for tests. The API operations answer 401 to an
    expired, revoked or unknown token and 403 to a token without the scope they need;
    ``GET /authorizations/tokenExpiry`` answers ``{"exp": epoch ms}`` for the token presented
    (the last millisecond of year 9999 for a token that never expires). Expiry follows
    ``wall_clock``; the counters are in ``stats`` (``codes_exchanged``, ``refreshes``,
    ``refreshes_by_token``, ``expired_401s``...). The fixed ``token`` keeps working beside them,
    a personal token that never expires unless ``token_lifetime`` is given.

    >>> import httpx
    >>> from datetime import UTC, datetime
    >>> from webex_events.testing import FakeWebex
    >>> fake = FakeWebex(events=250, seed=1, end=datetime(2024, 1, 31, tzinfo=UTC))
    >>> http = httpx.Client(transport=fake.transport(), headers={"Authorization": f"Bearer {fake.token}"})
    >>> url, ids = "https://webexapis.com/v1/events?max=100", []
    >>> while url:
    ...     page = http.get(url)
    ...     ids += [item["id"] for item in page.json()["items"]]
    ...     url = page.links.get("next", {}).get("url")
    >>> ids == fake.expected_ids() == [e["id"] for e in fake.events]
    True
    >>> fake.stats.pages
    3
    """

    def __init__(
        self,
        events: int = 1000,
        seed: int = 0,
        start: datetime | None = None,
        end: datetime | None = None,
        days: float = 30.0,
        *,
        token: str = "fake-token",  # noqa: S107 - the fake's well-known test token
        unknown_fraction: float = 0.0,
        documented_shapes: bool = False,
        same_millisecond_fraction: float = 0.05,
        boundary_fraction: float = 0.02,
        from_inclusive: bool = True,
        to_inclusive: bool = False,
        latency: float = 0.0,
        latency_jitter: float = 0.0,
        rate_limit: float | None = None,
        fault_rate: float = 0.0,
        faults: Iterable[Fault | str] | None = None,
        fault_retry_after: float = 1.0,
        retry_after_header: str | None = None,
        gateway_timeout_above: int | None = None,
        next_link_max_null: bool = False,
        next_link_drops_filters: bool = False,
        next_link_origin: str | None = None,
        cache_json: bool | None = None,
        clock: Callable[[], float] | None = None,
        early_grace: float = 0.02,
        forbidden_token: str | None = None,
        wall_clock: Callable[[], float] | None = None,
        late: Late = (),
        shuffled_pages: bool = False,
        newest_last: bool = False,
        overlapping_pages: bool = False,
        repeated_in_page: bool = False,
        strip_link_header: bool = False,
        false_gzip_rate: float = 0.0,
        bad_created: float = 0,
        missing_ids: float = 0,
        shared_ids: float = 0,
        deep_event: int = 0,
        large_event: int | None = None,
        lone_surrogate: bool = False,
        token_lifetime: float | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        redirect_uris: Sequence[str] = (),
        scopes: Sequence[str] | None = None,
        access_token_lifetime: float = ACCESS_TOKEN_LIFETIME,
        refresh_token_lifetime: float = REFRESH_TOKEN_LIFETIME,
        code_lifetime: float = CODE_LIFETIME,
        rotate_refresh_tokens: bool = False,
        admin_audit_events: int | None = None,
        security_audit_events: int | None = None,
    ) -> None:
        tiers = _check_late(late)
        for name, count in (
            ("admin_audit_events", admin_audit_events),
            ("security_audit_events", security_audit_events),
        ):
            if count is not None and count < 0:
                raise ValueError(f"{name} must be >= 0, got {count}")
        self._wall_clock = wall_clock or time.time
        for name, seconds in (
            ("access_token_lifetime", access_token_lifetime),
            ("refresh_token_lifetime", refresh_token_lifetime),
            ("code_lifetime", code_lifetime),
            ("token_lifetime", 1.0 if token_lifetime is None else token_lifetime),
        ):
            if not (math.isfinite(seconds) and seconds > 0):
                raise ValueError(f"{name} must be a positive number of seconds, got {seconds}")
        if client_id is None and (client_secret is not None or redirect_uris or scopes is not None):
            raise ValueError(
                "client_secret, redirect_uris and scopes describe an integration: give client_id"
            )
        if end is None:
            now = datetime.fromtimestamp(self._wall_clock(), UTC)
            end = now.replace(minute=0, second=0, microsecond=0)
        if start is None:
            start = end - timedelta(days=days)
        for name, fraction in (
            ("unknown_fraction", unknown_fraction),
            ("same_millisecond_fraction", same_millisecond_fraction),
            ("boundary_fraction", boundary_fraction),
            ("fault_rate", fault_rate),
            ("false_gzip_rate", false_gzip_rate),
        ):
            if not 0.0 <= fraction <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {fraction}")
        if early_grace < 0:
            raise ValueError(f"early_grace must be >= 0, got {early_grace}")
        self.start = start
        self.end = end
        self._org = Organization(
            events=events,
            seed=seed,
            start_ms=_to_ms(start, "start"),
            end_ms=_to_ms(end, "end"),
            unknown_fraction=unknown_fraction,
            same_millisecond_fraction=same_millisecond_fraction,
            boundary_fraction=boundary_fraction,
            cache_json=events <= _AUTO_CACHE_LIMIT if cache_json is None else cache_json,
            documented_shapes=documented_shapes,
        )
        self._org.damages = draw_damages(
            self._org,
            bad_created=bad_created,
            shared_ids=shared_ids,
            missing_ids=missing_ids,
            deep_event=deep_event,
            large_event=large_event,
            lone_surrogate=lone_surrogate,
        )
        self.knobs = Knobs(
            token=token,
            from_inclusive=from_inclusive,
            to_inclusive=to_inclusive,
            latency=latency,
            latency_jitter=latency_jitter,
            rate_limit=rate_limit,
            fault_rate=fault_rate,
            faults=parse_faults(faults),
            fault_retry_after=fault_retry_after,
            retry_after_header=retry_after_header,
            gateway_timeout_above=gateway_timeout_above,
            next_link_max_null=next_link_max_null,
            next_link_drops_filters=next_link_drops_filters,
            next_link_origin=next_link_origin,
            early_grace=early_grace,
            forbidden_token=forbidden_token,
            shuffled_pages=shuffled_pages,
            newest_last=newest_last,
            overlapping_pages=overlapping_pages,
            repeated_in_page=repeated_in_page,
            strip_link_header=strip_link_header,
            false_gzip_rate=false_gzip_rate,
            token_expires_at=None if token_lifetime is None else self._wall_clock() + token_lifetime,
            access_token_lifetime=access_token_lifetime,
            refresh_token_lifetime=refresh_token_lifetime,
            code_lifetime=code_lifetime,
            rotate_refresh_tokens=rotate_refresh_tokens,
        )
        # Only a fake with late tiers pays for a visibility column (8 bytes an event).
        late_at_all = any(fraction > 0 for fraction, _, _ in tiers)
        self._visible = _visibility(self._org.ms, tiers, seed) if late_at_all else None
        self._app = FakeApp(
            self._org,
            self.knobs,
            clock=clock or time.monotonic,
            wall_clock=self._wall_clock,
            visible_ms=self._visible,
        )
        self._events: list[dict[str, Any]] | None = None
        # The audit streams: the same organization and time span, made when first used.
        counts = {
            ADMIN_AUDIT: events // 10 if admin_audit_events is None else admin_audit_events,
            SECURITY_AUDIT: events // 5 if security_audit_events is None else security_audit_events,
        }
        org = self._org
        self._app.audit = AuditServer(
            self._app,
            lambda: make_audit_logs(
                org,
                counts=counts,
                start_ms=org.start_ms,
                end_ms=org.end_ms,
                wall_clock=self._wall_clock,
                late=tiers,
                same_millisecond_fraction=same_millisecond_fraction,
                boundary_fraction=boundary_fraction,
            ),
        )
        self._integration: Integration | None = None
        if client_id is not None:
            self._integration = self.register_integration(
                client_id, client_secret, redirect_uris=redirect_uris, scopes=scopes
            )

    @classmethod
    def live(
        cls,
        *,
        rate: float,
        history: timedelta = timedelta(hours=1),
        duration: timedelta = timedelta(days=1),
        late: Late = LIVE_LATE,
        wall_clock: Callable[[], float] | None = None,
        seed: int = 0,
        **options: Any,
    ) -> FakeWebex:
        """A fake whose events keep arriving: ``rate`` events a minute, from ``history`` ago on.

        The events are spread over ``[now - history, now + duration)`` (now from ``wall_clock``,
        not floored), ``round(rate * minutes)`` of them, so while the clock runs new ones come
        out at about ``rate`` a minute, each when the clock passes its ``created`` plus its
        ``late`` delay. The default ``late`` (``LIVE_LATE``): 20 % of the events are visible up
        to 2 minutes after their ``created``, 1 % between 10 and 30 minutes after (Webex:
        transcripts "a couple of minutes after" the meeting, recordings "shortly after");
        ``late=()`` makes every event visible at its ``created``. ``options`` are the other
        ``FakeWebex`` keywords (not ``events``, ``start``, ``end`` or ``days``); as in any
        organization, a few % of the events share "hot" milliseconds or sit on hour and day
        boundaries (``same_millisecond_fraction``, ``boundary_fraction``: set both to 0 for an
        even stream).

        >>> from datetime import UTC, datetime, timedelta
        >>> from webex_events.testing import FakeWebex, SimClock
        >>> clock = SimClock(datetime(2024, 1, 31, 12, 0, 30, tzinfo=UTC))
        >>> fake = FakeWebex.live(rate=20, history=timedelta(minutes=30), wall_clock=clock)
        >>> len(fake.events) == 20 * (30 + 24 * 60)
        True
        >>> print(fake.start, fake.end, sep="\\n")
        2024-01-31 11:30:30+00:00
        2024-02-01 12:00:30+00:00
        >>> out = len(fake.expected_ids(visible_only=True))
        >>> clock.advance(3600)
        >>> 1100 <= len(fake.expected_ids(visible_only=True)) - out <= 1300  # ~20 a minute
        True
        """
        for name in ("events", "start", "end", "days"):
            if name in options:
                raise TypeError(f"FakeWebex.live() takes no {name!r}: it follows rate, history and duration")
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate must be a positive number of events per minute, got {rate}")
        if history < timedelta(0) or duration <= timedelta(0):
            raise ValueError(f"need history >= 0 and duration > 0, got {history} and {duration}")
        clock = wall_clock or time.time
        now = datetime.fromtimestamp(clock(), UTC)
        minutes = (history + duration) / timedelta(minutes=1)
        return cls(
            events=round(rate * minutes),
            seed=seed,
            start=now - history,
            end=now + duration,
            wall_clock=clock,
            late=late,
            **options,
        )

    def __repr__(self) -> str:
        org = self._org
        return f"FakeWebex(events={org.size}, seed={org.seed}, start={self.start}, end={self.end})"

    @property
    def token(self) -> str:
        """The fixed access token the fake accepts (``Authorization: Bearer <token>``).

        A personal token with every scope; it never expires unless ``token_lifetime`` was given
        (then it expires that many seconds after the fake was made: ``knobs.token_expires_at``).
        """
        return self.knobs.token

    # ---- OAuth ----------------------------------------------------------------------------------

    @property
    def integration(self) -> Integration | None:
        """The integration registered first (``client_id=`` or ``register_integration``), if any."""
        return self._integration

    def register_integration(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        redirect_uris: Sequence[str] = (),
        scopes: Sequence[str] | None = None,
    ) -> Integration:
        """Register an integration, as developer.webex.com does; returns it.

        ``client_id`` and ``client_secret`` are made up when not given (``C`` and 64 hex digits,
        64 hex digits, as Webex's look). ``redirect_uris``: where ``/authorize`` may send the
        browser back, compared exactly; none (the default): any ``http``/``https`` URI on a
        loopback host (127.0.0.1, localhost, ::1). ``scopes``: what the integration may ask for
        (default: every scope an operation of the spec needs).

        >>> fake = FakeWebex(events=5)
        >>> app = fake.register_integration("C123", redirect_uris=["http://127.0.0.1:8765/callback"])
        >>> app.client_id, len(app.client_secret), app.scopes
        ('C123', 64, ('spark-compliance:events_read', 'audit:events_read'))
        >>> fake.integration is app
        True
        """
        chosen = SCOPES if scopes is None else tuple(dict.fromkeys(scopes))
        if isinstance(scopes, str) or not chosen or not all(s and s.split() == [s] for s in chosen):
            raise ValueError(f"scopes must be a list of scope names without spaces, got {scopes!r}")
        uris = (redirect_uris,) if isinstance(redirect_uris, str) else tuple(redirect_uris)
        for uri in uris:
            parts = urlsplit(uri)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
                raise ValueError(
                    f"a redirect URI must be an absolute http(s) URI without fragment, got {uri!r}"
                )
        for name, value in (("client_id", client_id), ("client_secret", client_secret)):
            if value is not None and (not isinstance(value, str) or not value or value != value.strip()):
                raise ValueError(f"{name} must be a non-empty string without surrounding spaces")
        integration = Integration(
            client_id=client_id if client_id is not None else "C" + secrets.token_hex(32),
            client_secret=client_secret if client_secret is not None else secrets.token_hex(32),
            redirect_uris=uris,
            scopes=chosen,
        )
        self._app.oauth.register(integration)
        if self._integration is None:
            self._integration = integration
        return integration

    def issue_tokens(
        self, scopes: Sequence[str] | None = None, *, client_id: str | None = None
    ) -> dict[str, Any]:
        """Tokens of a new authorization, without the browser: what ``/access_token`` answers for
        a fresh code (``access_token``, ``expires_in``, ``refresh_token``...; keys from the spec).

        For tests that need a refresh token to start from. ``client_id``: the integration
        (default ``integration``); ``scopes``: those granted (default: all of the integration's).
        Counted nowhere in ``stats`` (no code was exchanged).

        >>> fake = FakeWebex(events=5, client_id="C1", access_token_lifetime=3600)
        >>> tokens = fake.issue_tokens(["spark-compliance:events_read"])
        >>> tokens["expires_in"], tokens["refresh_token_expires_in"], tokens["scope"]
        (3600, 7776000, 'spark-compliance:events_read')
        """
        if client_id is None:
            if self._integration is None:
                raise ValueError(
                    "no integration is registered: FakeWebex(client_id=...) or register_integration()"
                )
            client_id = self._integration.client_id
        return self._app.oauth.issue(client_id, scopes)

    def revoke(self, token: str, *, access_tokens: bool = True) -> bool:
        """Revoke a refresh token or an access token the fake issued; False if it was not live.

        A refresh token's authorization is revoked whole, as deleting a Webex authorization does:
        the refresh token (its next use: 400 ``invalid_grant``) and, unless ``access_tokens`` is
        False, every access token issued through it (their next use: 401). An access token:
        that one only.
        """
        return self._app.oauth.revoke(token, access_tokens=access_tokens)

    def revoke_all(self) -> None:
        """Revoke every token the fake issued (refresh and access tokens) and every unused code.

        The fixed ``token`` is not one of them (``knobs.token_expires_at`` ends it).
        """
        self._app.oauth.revoke_all()

    @property
    def actor_ids(self) -> tuple[str, ...]:
        """The person ids that act in this organization (most active first)."""
        return self._org.actor_ids

    # ---- audit streams ----------------------------------------------------------------------------

    @property
    def org_id(self) -> str:
        """The organization's id as the audit streams take it (``orgId``) and carry it (``actorOrgId``).

        >>> fake = FakeWebex(events=50, seed=1)
        >>> {e["actorOrgId"] for e in fake.admin_audit.events} == {fake.org_id}
        True
        """
        return self._org.data_org_id

    @property
    def audit_logs(self) -> dict[str, AuditLog]:
        """The audit streams by the library's stream name (``admin-audit``, ``security-audit``)."""
        audit = self._app.audit
        assert audit is not None
        return audit.logs

    @property
    def admin_audit(self) -> AuditLog:
        """The admin audit events (``GET /adminAudit/events``): ``.events``, ``.expected_ids()``,
        ``.categories`` (what ``GET /adminAudit/eventCategories`` answers), ``.visible_at()``.

        >>> from datetime import UTC, datetime
        >>> fake = FakeWebex(events=1000, seed=1, end=datetime(2024, 1, 31, tzinfo=UTC))
        >>> len(fake.admin_audit.events), fake.admin_audit.categories[0]
        (100, 'EventCategory.LOGINS')
        >>> ids = fake.admin_audit.expected_ids(org_id=fake.org_id, event_categories=["EventCategory.USERS"])
        >>> {e["data"]["eventCategory"] for e in fake.admin_audit.events if e["id"] in ids}
        {'EventCategory.USERS'}
        """
        return self.audit_logs[ADMIN_AUDIT]

    @property
    def security_audit(self) -> AuditLog:
        """The security audit events, sign-ins and sign-outs (``GET /admin/securityAudit/events``)."""
        return self.audit_logs[SECURITY_AUDIT]

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event, newest first (the unfiltered listing order), each exactly as served.

        A ``deep_event`` is built as nested dicts (``json.loads`` cannot nest it): too deep for
        ``==`` or ``repr``.
        """
        if self._events is None:
            org, damages = self._org, self._org.damages
            positions = range(org.size - 1, -1, -1)
            if damages is None:
                self._events = [json.loads(org.event_json(p)) for p in positions]
            else:
                self._events = [damages.loads(p, org.event_json(p), org.event_dict) for p in positions]
        return self._events

    @property
    def damaged(self) -> dict[str, Damage]:
        """The events served damaged (the bad-data knobs), newest first: true id -> ``Damage``.

        The true id is the one ``expected_ids`` lists; ``Damage.kind`` says what is wrong with
        the event as served and ``Damage.served_id`` which id it is served with.

        >>> fake = FakeWebex(events=50, seed=2, bad_created=4, missing_ids=1)
        >>> sorted(d.kind for d in fake.damaged.values())
        ['created-missing', 'created-not-a-date', 'created-null', 'created-yesterday', 'id-missing']
        >>> all(i in fake.expected_ids() for i in fake.damaged)
        True
        """
        damages = self._org.damages
        if damages is None:
            return {}
        org = self._org
        return {org.event_id(p): damages.by_pos[p] for p in sorted(damages.by_pos, reverse=True)}

    def event_json(self, event_id: str) -> bytes | None:
        """The exact bytes served for ``event_id`` (None if there is no such event)."""
        pos = self._org.position_of(event_id)
        return None if pos is None else self._org.event_json(pos)

    @property
    def stats(self) -> FakeStats:
        """Counters of what was served so far."""
        return self._app.stats

    def reset_stats(self) -> None:
        """Zero ``stats`` (same as ``fake.stats.reset()``)."""
        self._app.stats.reset()

    def transport(self) -> FakeTransport:
        """An ``httpx.BaseTransport`` serving this fake in process."""
        return FakeTransport(self._app)

    def async_transport(self) -> FakeAsyncTransport:
        """An ``httpx.AsyncBaseTransport`` serving this fake in process."""
        return FakeAsyncTransport(self._app)

    @contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve over real loopback HTTP while the block runs; yields ``http://HOST:PORT/v1``."""
        with serve_app(self._app, host=host, port=port) as base_url:
            yield base_url

    def now(self) -> datetime:
        """The fake's wall clock (``wall_clock``) as an aware UTC datetime.

        >>> from datetime import UTC, datetime
        >>> from webex_events.testing import SimClock
        >>> FakeWebex(events=5, wall_clock=SimClock(datetime(2024, 1, 31, 12, 30, tzinfo=UTC))).now()
        datetime.datetime(2024, 1, 31, 12, 30, tzinfo=datetime.timezone.utc)
        """
        return datetime.fromtimestamp(self._wall_clock(), UTC)

    def visible_at(self, event_id: str) -> datetime | None:
        """When the fake starts serving ``event_id``: its ``created`` plus any ``late`` delay.

        None if there is no such event. The event is listed (and found by Get Event Details)
        once ``now()`` has reached this instant.

        >>> from datetime import UTC, datetime
        >>> fake = FakeWebex(events=100, seed=3, end=datetime(2024, 1, 31, tzinfo=UTC), late=[(0.5, 60, 60)])
        >>> delays = [fake.visible_at(e["id"]) - datetime.fromisoformat(e["created"]) for e in fake.events]
        >>> sorted({d.total_seconds() for d in delays})
        [0.0, 60.0]
        >>> fake.visible_at("no-such-id") is None
        True
        """
        pos = self._org.position_of(event_id)
        if pos is None:
            return None
        ms = (self._visible if self._visible is not None else self._org.ms)[pos]
        return _EPOCH + timedelta(milliseconds=ms)

    def expected_ids(
        self,
        *,
        from_: datetime | None = None,
        to: datetime | None = None,
        visible_only: bool = False,
        **filters: object,
    ) -> list[str]:
        """Ids of the events matching the filters in half-open ``[from_, to)``, newest first.

        ``filters`` are the spec's List Events filters by Python name (``resource=``,
        ``actor_id=``, ``service_type=``, ...; None means not given), each selecting by equality
        on its Event field as the server does. Independent of the server's inclusivity switches;
        ``to`` None or in the future means now (``now()``). Every event created in the range
        counts, visible yet or not (``late``); ``visible_only=True`` keeps those the server
        shows now, i.e. what a list of that range returns at this moment. A damaged event
        (``damaged``) is listed under its true id, where its true ``created`` puts it.

        >>> fake = FakeWebex(events=50, seed=1)
        >>> fake.expected_ids(resource="messages") == [
        ...     e["id"] for e in fake.events if e["resource"] == "messages"
        ... ]
        True
        >>> fake.expected_ids(colour="red")
        Traceback (most recent call last):
        TypeError: expected_ids() got an unexpected keyword argument 'colour'
        """
        org = self._org
        pairs = []
        for name, value in filters.items():
            found = org.facts.by_python.get(name)
            if found is None:
                raise TypeError(f"expected_ids() got an unexpected keyword argument {name!r}")
            if value is not None:
                text = wire_text(value)
                if text is None:
                    return []
                pairs.append((found[1], text))
        conditions = org.conditions(pairs)
        if conditions is None:
            return []
        now_us = int(self._wall_clock() * 1_000_000)
        to_us = now_us if to is None else min(_to_us(to, "to"), now_us)
        lo_ms = -(1 << 62) if from_ is None else -(-_to_us(from_, "from_") // 1000)
        lo, hi = org.bounds(lo_ms, -(-to_us // 1000) - 1)
        positions = org.select(conditions, lo, hi)
        if visible_only and self._visible is not None:
            visible, now_ms = self._visible, now_us // 1000
            positions = (p for p in positions if visible[p] <= now_ms)
        return [org.event_id(p) for p in positions]


def run_server(
    fake: FakeWebex | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    out: TextIO | None = None,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve ``fake`` (default: ``FakeWebex()``) over HTTP until Ctrl-C or SIGTERM.

    The first line written to ``out`` (stdout) is the base URL, flushed at once; ``announce``
    is then called with it (the CLI tells the user the token and how to use the server).
    """
    fake = fake if fake is not None else FakeWebex()
    run_app(fake._app, host=host, port=port, out=out, announce=announce)
