"""The fake's OAuth: integrations, ``/authorize``, ``/access_token`` and tokens that expire.

What Webex does behind its sign-in pages, without the pages: an integration is registered in the
fake (client id, secret, redirect URIs, scopes); ``/authorize`` answers the authorize URL at once
with the redirect a browser would get after signing in and consenting (302 to ``redirect_uri``
with ``code`` and the same ``state``); ``/access_token`` exchanges a code once and refreshes a
refresh token. Access tokens expire after ``access_token_lifetime`` seconds of the fake's wall
clock. Every name and value of these requests comes from the spec facts (``AUTHORIZE``,
``ACCESS_TOKEN`` and its form's keys, ``ACCESS_TOKEN_KEYS``, ``TOKEN_ERROR_KEYS``); the query
keys of the redirect (``code``, ``state``, ``error``, ``error_description``) and the error codes
are OAuth 2.0's (RFC 6749), which the spec states only in prose.

All state lives under the fake's lock: the fake serves concurrent requests.
"""

from __future__ import annotations

import hmac
import math
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from webex_events_api.spec import (
    ACCESS_TOKEN,
    ACCESS_TOKEN_KEYS,
    ACCESS_TOKEN_REQUEST_KEYS,
    AUTHORIZE,
    OPERATIONS,
    RequestBody,
)

if TYPE_CHECKING:
    from ._app import FakeStats, Knobs

__all__ = [
    "ACCESS_TOKEN_LIFETIME",
    "CODE_LIFETIME",
    "NEVER_MS",
    "REFRESH_TOKEN_LIFETIME",
    "SCOPES",
    "AuthorizeAnswer",
    "Integration",
    "OAuthServer",
    "TokenAnswer",
    "TokenInfo",
]

#: Webex's integration guide: an access token lasts 14 days, a refresh token 90 days.
ACCESS_TOKEN_LIFETIME = 14 * 86_400.0
REFRESH_TOKEN_LIFETIME = 90 * 86_400.0
#: How long a code may wait for its exchange (RFC 6749 recommends at most 10 minutes).
CODE_LIFETIME = 600.0
#: ``tokenExpiry`` of a token that never expires: the last millisecond of year 9999.
NEVER_MS = 253_402_300_799_999
#: Every scope an operation of the spec needs: what an integration may ask for by default.
SCOPES: tuple[str, ...] = tuple(dict.fromkeys(s for op in OPERATIONS.values() for s in op.scopes))

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_K, _F = ACCESS_TOKEN_KEYS, ACCESS_TOKEN_REQUEST_KEYS


def _body(body: RequestBody | None) -> RequestBody:
    if body is None:  # pragma: no cover - the spec gives the token endpoint its form
        raise RuntimeError("the spec's ACCESS_TOKEN operation has no request body")
    return body


_FORM = _body(ACCESS_TOKEN.body)
# Which grant types exchange a code and which refresh: those that make the spec require the form's
# code field, and those that make it require its refresh_token field.
_CODE_GRANTS = dict(_FORM.field(_F.code).required_when).get(_F.grant_type, ())
_REFRESH_GRANTS = dict(_FORM.field(_F.refresh_token).required_when).get(_F.grant_type, ())
_AUTHORIZE = {p.python_name: p for p in AUTHORIZE.parameters}


def _lifetime(seconds: float) -> int:
    """A lifetime as the answer's integer seconds: rounded down, at least 1 (0 is no lifetime)."""
    return max(1, math.floor(seconds))


@dataclass(frozen=True)
class Integration:
    """A Webex integration registered in the fake (``FakeWebex(client_id=...)``).

    ``redirect_uris``: where ``/authorize`` may send the browser back, compared exactly; empty
    (the default): any ``http``/``https`` URI on a loopback host (127.0.0.1, localhost, ::1),
    as a native app listens. ``scopes``: what it may ask for (default: every scope of the spec).

    >>> app = Integration("C1", "s3cret", ("http://127.0.0.1:8765/callback",))
    >>> app
    Integration(client_id='C1', redirect_uris=('http://127.0.0.1:8765/callback',), scopes=('spark-compliance:events_read', 'audit:events_read'))
    >>> app.allows_redirect("http://127.0.0.1:8765/callback"), app.allows_redirect("http://127.0.0.1:1/x")
    (True, False)
    >>> Integration("C2", "s").allows_redirect("http://localhost:9/cb")
    True
    """  # noqa: E501

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uris: tuple[str, ...] = ()
    scopes: tuple[str, ...] = SCOPES

    def allows_redirect(self, uri: str) -> bool:
        """Whether ``/authorize`` may redirect to ``uri``."""
        if self.redirect_uris:
            return uri in self.redirect_uris
        try:
            parts = urlsplit(uri)
            host = parts.hostname
        except ValueError:
            return False
        return parts.scheme in ("http", "https") and host in _LOOPBACK and not parts.fragment


@dataclass(frozen=True)
class TokenInfo:
    """What the fake knows of a bearer token: ``state``, its ``scopes`` (None: every scope) and
    when it expires (epoch seconds; None: never)."""

    state: Literal["valid", "expired", "revoked", "unknown"]
    scopes: tuple[str, ...] | None = None
    expires: float | None = None


UNKNOWN = TokenInfo("unknown")


@dataclass(frozen=True)
class AuthorizeAnswer:
    """``/authorize``'s answer: a redirect (``location``, carrying a code or an error) or, when
    redirecting is not safe (unknown client, redirect URI not registered), the error itself."""

    location: str | None
    error: str = ""
    description: str = ""


@dataclass(frozen=True)
class TokenAnswer:
    """``/access_token``'s answer: ``status`` and either the tokens or an OAuth error."""

    status: int
    tokens: dict[str, object] = field(default_factory=dict, repr=False)
    error: str = ""
    description: str = ""


@dataclass
class _Grant:
    """One authorization (an integration a user consented to): its refresh token and the access
    tokens issued through it."""

    client_id: str
    scopes: tuple[str, ...]
    refresh_token: str = field(repr=False)
    refresh_expires: float
    access_tokens: list[str] = field(default_factory=list, repr=False)


@dataclass
class _Access:
    grant: _Grant
    expires: float
    revoked: bool = False


@dataclass(frozen=True)
class _Code:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    expires: float


def _refusal(error: str, description: str, status: int = 400) -> TokenAnswer:
    return TokenAnswer(status, error=error, description=description)


def _with_query(uri: str, pairs: Sequence[tuple[str, str]]) -> str:
    """``uri`` with ``pairs`` added to its query."""
    parts = urlsplit(uri)
    query = parts.query + ("&" if parts.query else "") + urlencode(pairs)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


class OAuthServer:
    """The integrations, codes and tokens of one fake (under the fake's lock)."""

    def __init__(
        self, knobs: Knobs, stats: FakeStats, lock: threading.Lock, wall_clock: Callable[[], float]
    ) -> None:
        self.knobs = knobs
        self.stats = stats
        self._lock = lock
        self._now = wall_clock
        self.integrations: dict[str, Integration] = {}
        self._codes: dict[str, _Code] = {}
        self._grants: dict[str, _Grant] = {}  # by current refresh token
        self._access: dict[str, _Access] = {}
        # Codes and refresh tokens no longer valid -> why (the error_description).
        self._retired: dict[str, str] = {}

    def register(self, integration: Integration) -> None:
        """Register ``integration`` (replacing one with the same client id)."""
        with self._lock:
            self.integrations[integration.client_id] = integration

    # ---- bearer tokens --------------------------------------------------------------------------

    def lookup(self, token: str) -> TokenInfo:
        """The state of an access token this server issued (``unknown`` for any other)."""
        with self._lock:
            found = self._access.get(token)
            if found is None:
                return UNKNOWN
            scopes, expires = found.grant.scopes, found.expires
            if found.revoked:
                return TokenInfo("revoked", scopes, expires)
            if self._now() >= expires:
                return TokenInfo("expired", scopes, expires)
            return TokenInfo("valid", scopes, expires)

    def _issue(self, grant: _Grant, now: float) -> dict[str, object]:
        """A new access token for ``grant`` and the token endpoint's answer. Lock held."""
        lifetime = self.knobs.access_token_lifetime
        access = secrets.token_urlsafe(48)
        self._access[access] = _Access(grant, now + lifetime)
        grant.access_tokens.append(access)
        return {
            _K.access_token: access,
            _K.expires_in: _lifetime(lifetime),
            _K.refresh_token: grant.refresh_token,
            _K.refresh_token_expires_in: _lifetime(grant.refresh_expires - now),
            _K.token_type: "Bearer",
            _K.scope: " ".join(grant.scopes),
        }

    def _new_grant(self, client_id: str, scopes: tuple[str, ...], now: float) -> _Grant:
        """A new authorization with its refresh token. Lock held."""
        refresh = secrets.token_urlsafe(48)
        grant = _Grant(client_id, scopes, refresh, now + self.knobs.refresh_token_lifetime)
        self._grants[refresh] = grant
        return grant

    def issue(self, client_id: str, scopes: Sequence[str] | None = None) -> dict[str, object]:
        """Tokens for a new authorization of ``client_id``, as a code exchange answers them."""
        with self._lock:
            integration = self.integrations.get(client_id)
            if integration is None:
                raise ValueError(f"no integration with client id {client_id!r} is registered")
            chosen = tuple(dict.fromkeys(integration.scopes if scopes is None else scopes))
            wrong = [s for s in chosen if s not in integration.scopes]
            if wrong or not chosen:
                raise ValueError(f"scopes must be some of {integration.scopes}, got {chosen}")
            now = self._now()
            return self._issue(self._new_grant(client_id, chosen, now), now)

    def revoke(self, token: str, *, access_tokens: bool = True) -> bool:
        """Revoke a refresh token (and, with ``access_tokens``, every access token issued through
        its authorization) or one access token. False if the token is not a live one."""
        with self._lock:
            grant = self._grants.pop(token, None)
            if grant is not None:
                self._retired[token] = "The refresh token was revoked."
                if access_tokens:
                    for access in grant.access_tokens:
                        self._access[access].revoked = True
                return True
            found = self._access.get(token)
            if found is None or found.revoked:
                return False
            found.revoked = True
            return True

    def revoke_all(self) -> None:
        """Revoke every refresh and access token issued so far and every pending code."""
        with self._lock:
            for refresh in self._grants:
                self._retired[refresh] = "The refresh token was revoked."
            for code in self._codes:
                self._retired[code] = "The authorization code was revoked."
            self._grants.clear()
            self._codes.clear()
            for access in self._access.values():
                access.revoked = True

    # ---- /authorize -----------------------------------------------------------------------------

    def _refused(self, error: str) -> None:
        with self._lock:
            self.stats.oauth_errors[error] += 1

    def authorize(self, params: Mapping[str, str]) -> AuthorizeAnswer:
        """Answer an authorize request as Webex does once the user has signed in and consented."""
        client, redirect = _AUTHORIZE["client_id"], _AUTHORIZE["redirect_uri"]
        for p in (client, redirect):
            if not params.get(p.name):
                self._refused("invalid_request")
                return AuthorizeAnswer(None, "invalid_request", f"Missing parameter: {p.name}.")
        with self._lock:
            integration = self.integrations.get(params[client.name])
        if integration is None:
            self._refused("invalid_client")
            why = f"The {client.name} is not a registered integration."
            return AuthorizeAnswer(None, "invalid_client", why)
        uri = params[redirect.name]
        if not integration.allows_redirect(uri):
            self._refused("invalid_request")
            return AuthorizeAnswer(
                None, "invalid_request", f"The {redirect.name} is not one of the integration's redirect URIs."
            )
        state = _AUTHORIZE["state"]
        echo = [(state.name, params[state.name])] if state.name in params else []

        def back(error: str, description: str) -> AuthorizeAnswer:
            self._refused(error)
            pairs = [("error", error), ("error_description", description), *echo]
            return AuthorizeAnswer(_with_query(uri, pairs), error, description)

        for p in AUTHORIZE.parameters:
            if p.required and not params.get(p.name):
                return back("invalid_request", f"Missing parameter: {p.name}.")
        kind = _AUTHORIZE["response_type"]
        if kind.enum and params[kind.name] not in kind.enum:
            why = f"The {kind.name} must be one of {', '.join(kind.enum)}."
            return back("unsupported_response_type", why)
        scopes = tuple(dict.fromkeys(params[_AUTHORIZE["scope"].name].split()))
        wrong = [s for s in scopes if s not in integration.scopes]
        if wrong or not scopes:
            return back("invalid_scope", f"The integration may not ask for the scope {' '.join(wrong)!r}.")
        if self.knobs.deny_authorization:
            return back("access_denied", "The user declined to authorize the integration.")
        code = secrets.token_urlsafe(32)
        with self._lock:
            expires = self._now() + self.knobs.code_lifetime
            self._codes[code] = _Code(integration.client_id, uri, scopes, expires)
            self.stats.codes_issued += 1
        return AuthorizeAnswer(_with_query(uri, [("code", code), *echo]))

    # ---- /access_token --------------------------------------------------------------------------

    def token(self, body: bytes, content_type: str | None) -> TokenAnswer:
        """Answer a token request (its form ``body``): a code exchange or a refresh."""
        answer = self._token(body, content_type)
        if answer.error:
            self._refused(answer.error)
        return answer

    def _token(self, body: bytes, content_type: str | None) -> TokenAnswer:
        media = (content_type or "").partition(";")[0].strip().lower()
        if media != _FORM.media_type:
            return _refusal("invalid_request", f"The body must be {_FORM.media_type}.")
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return _refusal("invalid_request", "The body is not UTF-8.")
        form = dict(pairs)
        if len(form) != len(pairs):
            repeated = sorted({k for k, _ in pairs if sum(1 for n, _ in pairs if n == k) > 1})
            return _refusal("invalid_request", f"Repeated parameter: {repeated[0]}.")
        grant_type = _FORM.field(_F.grant_type)
        given = form.get(grant_type.name)
        if given and grant_type.enum and given not in grant_type.enum:
            return TokenAnswer(
                400,
                error="unsupported_grant_type",
                description=f"The {grant_type.name} must be one of {', '.join(grant_type.enum)}.",
            )
        for f in _FORM.fields:
            needed = f.required or any(form.get(other) in values for other, values in f.required_when)
            if needed and not form.get(f.name):
                return _refusal("invalid_request", f"Missing parameter: {f.name}.")
        client_id, secret = form[_F.client_id], form[_F.client_secret]
        with self._lock:
            integration = self.integrations.get(client_id)
        if integration is None or not hmac.compare_digest(
            integration.client_secret.encode(), secret.encode()
        ):
            return _refusal("invalid_client", "Unknown client_id or wrong client_secret.", 401)
        if given in _CODE_GRANTS:
            return self._redeem(client_id, form[_F.code], form[_F.redirect_uri])
        if given in _REFRESH_GRANTS:
            return self._refresh(client_id, form[_F.refresh_token])
        return _refusal("unsupported_grant_type", f"The fake does not grant {given!r}.")

    def _redeem(self, client_id: str, text: str, redirect_uri: str) -> TokenAnswer:
        """Exchange a code (spent by its first presentation, whatever the outcome)."""
        with self._lock:
            code = self._codes.pop(text, None)
            now = self._now()
            if code is None:
                why = self._retired.get(text, "The authorization code is invalid.")
                return _refusal("invalid_grant", why)
            self._retired[text] = "The authorization code was already used."
            if code.client_id != client_id:
                why = "The authorization code was issued to another client."
            elif now >= code.expires:
                why = "The authorization code has expired."
            elif code.redirect_uri != redirect_uri:
                why = "The redirect_uri differs from the one of the authorization request."
            else:
                self.stats.codes_exchanged += 1
                return TokenAnswer(200, self._issue(self._new_grant(client_id, code.scopes, now), now))
            return _refusal("invalid_grant", why)

    def _refresh(self, client_id: str, refresh: str) -> TokenAnswer:
        """A new access token for a refresh token (a new refresh token too with rotation)."""
        with self._lock:
            grant = self._grants.get(refresh)
            now = self._now()
            if grant is None:
                why = self._retired.get(refresh, "The refresh token is invalid.")
                return _refusal("invalid_grant", why)
            if grant.client_id != client_id:
                return _refusal("invalid_grant", "The refresh token was issued to another client.")
            if now >= grant.refresh_expires:
                del self._grants[refresh]
                self._retired[refresh] = "The refresh token has expired."
                return _refusal("invalid_grant", "The refresh token has expired.")
            if self.knobs.rotate_refresh_tokens:
                del self._grants[refresh]
                self._retired[refresh] = "The refresh token was replaced by a newer one (rotation)."
                grant.refresh_token = secrets.token_urlsafe(48)
                self._grants[grant.refresh_token] = grant
            # A refresh token in use is "refreshed to last forever" (Webex): its lifetime starts again.
            grant.refresh_expires = now + self.knobs.refresh_token_lifetime
            self.stats.refreshes += 1
            self.stats.refreshes_by_token[refresh] += 1
            return TokenAnswer(200, self._issue(grant, now))
