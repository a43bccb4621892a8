"""``auth=``: OAuth refresh and a token file, against a small scripted Webex (httpx MockTransport).

The end-to-end runs against the fake server's OAuth endpoints are in test_oauth_follow.py; here
each rule of the client is pinned on its own: refresh ahead of expiry, once after a 401 (one
refresh for many workers), the refresh token stored before the new access token is used, a
dead refresh token a typed error, a failing token endpoint retried, the file store's modes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from webex_events import (
    AsyncWebexEvents,
    AuthenticationError,
    FileTokenStore,
    InvalidArgumentError,
    OAuthRefresh,
    OAuthTokens,
    RetryPolicy,
    TokenFile,
    TokenRefreshError,
    TokenStore,
    WebexEvents,
)
from webex_events_api.spec import ACCESS_TOKEN, LIST_EVENTS

BASE = "https://webex.test/v1"
FAST = RetryPolicy(backoff_base=0.001, backoff_cap=0.002, max_attempts=4, seed=1)
START = datetime(2024, 1, 1, tzinfo=UTC)
SECRET = "client-s3cret-9f2e"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Webex:
    """A token endpoint and a one-event-per-page List Events that accepts only live tokens."""

    def __init__(self, clock: Clock, *, lifetime: int = 3600, rotate: bool = False) -> None:
        self.clock, self.lifetime, self.rotate = clock, lifetime, rotate
        self.live: dict[str, float] = {}  # access token -> expiry
        self.refresh_tokens = {"r-0"}
        self.refreshes = 0
        self.sent: list[tuple[str, str | None]] = []  # (path, bearer token)
        self.token_failures = 0  # answer the token endpoint 503 this many times
        self.refusal: int | None = None  # answer the token endpoint with this status
        self.lock = threading.Lock()
        self.on_token: Callable[[], None] = lambda: None

    def handler(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            bearer = request.headers.get("authorization", "").removeprefix("Bearer ") or None
            self.sent.append((request.url.path, bearer))
            if request.url.path.endswith(ACCESS_TOKEN.path):
                return self._token(request)
            if bearer is None or self.live.get(bearer, 0) <= self.clock():
                return httpx.Response(401, json={"message": "The request requires a valid access token."})
            # One event per request, 1 ms before the range's end: each window holds its own.
            to = datetime.fromisoformat(request.url.params[LIST_EVENTS.role("range-end").name])
            created = (
                (to - timedelta(milliseconds=1)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            )
            return httpx.Response(200, json={"items": [{"id": f"e-{created}", "created": created}]})

    def _token(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert "authorization" not in request.headers  # the client's credentials are in the form
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if self.token_failures:
            self.token_failures -= 1
            return httpx.Response(503, json={"message": "try later"})
        if self.refusal is not None:
            return httpx.Response(
                self.refusal, json={"error": "invalid_grant", "message": "refresh token expired"}
            )
        assert form["grant_type"] == "refresh_token"
        assert form["client_id"] == "C1"
        assert form["client_secret"] == SECRET
        if form["refresh_token"] not in self.refresh_tokens:
            return httpx.Response(400, json={"error": "invalid_grant", "message": "bad refresh token"})
        self.refreshes += 1
        self.on_token()
        access = f"a-{self.refreshes}"
        self.live[access] = self.clock() + self.lifetime
        refresh = form["refresh_token"]
        if self.rotate:
            self.refresh_tokens = {refresh := f"r-{self.refreshes}"}
        body = {
            "access_token": access,
            "expires_in": self.lifetime,
            "refresh_token": refresh,
            "refresh_token_expires_in": 7776000,
            "token_type": "Bearer",
            "scope": "spark-compliance:events_read",
        }
        return httpx.Response(200, json=body)

    def api_tokens(self) -> list[str | None]:
        return [token for path, token in self.sent if path.endswith(LIST_EVENTS.path)]


class MemoryStore(TokenStore):
    def __init__(self, log: list[str]) -> None:
        self.saved: list[OAuthTokens] = []
        self.log = log

    def load(self) -> OAuthTokens | None:
        return self.saved[-1] if self.saved else None

    def save(self, tokens: OAuthTokens) -> None:
        self.log.append(f"save {tokens.refresh_token}")
        self.saved.append(tokens)


def _auth(clock: Clock, store: TokenStore | None = None) -> OAuthRefresh:
    return OAuthRefresh(client_id="C1", client_secret=SECRET, refresh_token="r-0", store=store, clock=clock)


def _client(webex: Webex, auth: OAuthRefresh | TokenFile, **kw: object) -> WebexEvents:
    return WebexEvents(
        auth=auth, base_url=BASE, transport=httpx.MockTransport(webex.handler), retry=FAST, **kw
    )  # type: ignore[arg-type]


def _list(client: WebexEvents) -> int:
    return len(list(client.list_events(page_size=10, concurrency=1)))


def test_the_first_request_refreshes_then_the_token_is_reused_until_near_expiry() -> None:
    clock = Clock()
    webex = Webex(clock, lifetime=100)
    with _client(webex, _auth(clock)) as client:
        assert _list(client) == 1
        assert _list(client) == 1
        clock.now += 89  # more than a tenth of the lifetime left: kept
        _list(client)
        clock.now += 2  # within the last tenth: refreshed before sending, no 401
        _list(client)
    assert webex.refreshes == 2
    assert webex.api_tokens() == ["a-1", "a-1", "a-1", "a-2"]


def test_a_401_refreshes_once_and_the_request_is_sent_again() -> None:
    clock = Clock()
    webex = Webex(clock)
    with _client(webex, _auth(clock)) as client:
        _list(client)
        webex.live.clear()  # revoked server-side before its time
        assert _list(client) == 1  # nothing lost: the same request, with the new token
        webex.live.clear()
        webex.refusal = 401
        with pytest.raises(TokenRefreshError, match="auth login"):
            _list(client)
    assert webex.refreshes == 2


def test_a_new_token_refused_too_is_an_authentication_error() -> None:
    clock = Clock()
    webex = Webex(clock)
    webex.on_token = webex.live.clear  # every token it gives is dead at once
    original = webex._token

    def token(request: httpx.Request) -> httpx.Response:
        response = original(request)
        webex.live.clear()
        return response

    webex._token = token  # type: ignore[method-assign]
    with _client(webex, _auth(clock)) as client, pytest.raises(AuthenticationError):
        _list(client)
    assert webex.refreshes == 2  # the first token, and one refresh after its 401: no loop


def test_many_workers_hitting_401_together_cause_one_refresh() -> None:
    clock = Clock()
    webex = Webex(clock)
    with _client(webex, _auth(clock), concurrency=8) as client:
        _list(client)
        webex.live.clear()
        stream = client.list_events(from_=START, to=START + timedelta(days=8), window=timedelta(days=1))
        assert len(list(stream)) == 8
    assert webex.refreshes == 2


def test_a_rotated_refresh_token_is_stored_before_the_new_access_token_is_used() -> None:
    clock = Clock()
    webex = Webex(clock, rotate=True)
    log: list[str] = []
    store = MemoryStore(log)
    original = webex.handler

    def handler(request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith(ACCESS_TOKEN.path):
            log.append(f"use {request.headers['authorization'].removeprefix('Bearer ')}")
        return original(request)

    webex.handler = handler  # type: ignore[method-assign]
    with _client(webex, _auth(clock, store)) as client:
        _list(client)
        webex.live.clear()
        _list(client)
    assert log == ["save r-1", "use a-1", "use a-1", "save r-2", "use a-2"]
    # A new process starts from the store: the rotated refresh token, not the one it was given.
    again = _auth(clock, store)
    assert again.tokens.refresh_token == "r-2"


def test_a_failing_token_endpoint_is_retried_like_any_request() -> None:
    clock = Clock()
    webex = Webex(clock)
    webex.token_failures = 2
    with _client(webex, _auth(clock)) as client:
        assert _list(client) == 1
    assert webex.refreshes == 1


def test_a_dead_refresh_token_is_a_typed_error_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    webex = Webex(clock)
    webex.refresh_tokens = set()  # revoked
    auth = _auth(clock)
    caplog.set_level(logging.DEBUG, logger="webex_events")
    with _client(webex, auth) as client, pytest.raises(TokenRefreshError) as caught:
        _list(client)
    text = f"{caught.value} {caught.value!r} {auth!r} {auth.tokens!r} {caplog.text}"
    assert "webex-events auth login" in str(caught.value)
    assert caught.value.status_code == 400
    for secret in (SECRET, "r-0"):
        assert secret not in text
    assert webex.api_tokens() == []  # nothing was sent to the API


def test_a_refresh_token_near_its_end_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    webex = Webex(clock)
    original = webex._token

    def short(request: httpx.Request) -> httpx.Response:
        response = original(request)
        body = json.loads(response.content)
        body["refresh_token_expires_in"] = 3 * 86400
        return httpx.Response(200, json=body)

    webex._token = short  # type: ignore[method-assign]
    caplog.set_level(logging.WARNING, logger="webex_events")
    with _client(webex, _auth(clock)) as client:
        _list(client)
    assert any("refresh token expires" in r.getMessage() for r in caplog.records)


def test_the_file_store_is_private_atomic_and_refuses_a_readable_file(tmp_path: Path) -> None:
    clock = Clock()
    webex = Webex(clock, rotate=True)
    path = tmp_path / "auth.json"
    with _client(webex, _auth(clock, FileTokenStore(path))) as client:
        _list(client)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert (saved["refresh_token"], saved["access_token"], saved["client_id"]) == ("r-1", "a-1", "C1")
    assert [p.name for p in tmp_path.iterdir()] == ["auth.json"]  # no temporary left behind
    again = OAuthRefresh.from_file(path, clock=clock)  # everything from the file
    assert (again.tokens.refresh_token, again.due()) == ("r-1", False)
    os.chmod(path, 0o644)
    with pytest.raises(InvalidArgumentError, match="chmod 600"):
        OAuthRefresh.from_file(path)


def test_arguments_are_checked_before_any_request(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="client_secret, refresh_token"):
        OAuthRefresh(client_id="C1")
    with pytest.raises(InvalidArgumentError, match="holds none"):
        OAuthRefresh.from_file(tmp_path / "missing.json")
    with pytest.raises(InvalidArgumentError, match="token or auth, not both"):
        WebexEvents(token="tok-1234", auth=_auth(Clock()))
    with pytest.raises(InvalidArgumentError, match="auth must be"):
        WebexEvents(auth="tok-1234")  # type: ignore[arg-type]
    (tmp_path / "bad.json").write_text("{}")
    os.chmod(tmp_path / "bad.json", 0o600)
    with pytest.raises(InvalidArgumentError, match="not a webex-events auth file"):
        OAuthRefresh.from_file(tmp_path / "bad.json")


def test_a_token_file_is_read_again_after_a_401(tmp_path: Path) -> None:
    clock = Clock()
    webex = Webex(clock)
    webex.live = {"tok-old-1": clock.now + 10**6}
    path = tmp_path / "token"
    path.write_text("tok-old-1\n")
    with _client(webex, TokenFile(path)) as client:
        assert _list(client) == 1
        webex.live = {"tok-new-2": clock.now + 10**6}
        path.write_text("tok-new-2\n")
        assert _list(client) == 1  # the 401 made it read the file again
        webex.live = {}
        with pytest.raises(AuthenticationError):  # the file did not change: the 401 stands
            _list(client)
    assert webex.api_tokens() == ["tok-old-1", "tok-old-1", "tok-new-2", "tok-new-2"]


def test_async_refreshes_once_for_many_tasks() -> None:
    clock = Clock()
    webex = Webex(clock)

    async def run() -> int:
        async with AsyncWebexEvents(
            auth=_auth(clock),
            base_url=BASE,
            transport=httpx.MockTransport(webex.handler),
            retry=FAST,
            concurrency=8,
        ) as client:
            stream = client.list_events(from_=START, to=START + timedelta(days=8), window=timedelta(days=1))
            n = len([e async for e in stream])
            webex.live.clear()
            stream = client.list_events(from_=START, to=START + timedelta(days=8), window=timedelta(days=1))
            return n + len([e async for e in stream])

    assert asyncio.run(run()) == 16
    assert webex.refreshes == 2


def test_two_processes_sharing_an_auth_file_with_rotation_do_not_spend_each_others_token(
    tmp_path: Path,
) -> None:
    clock = Clock()
    webex = Webex(clock, rotate=True, lifetime=100)
    path = tmp_path / "auth.json"
    first = _auth(clock, FileTokenStore(path))
    second = (
        OAuthRefresh.from_file(path, clock=clock) if path.exists() else _auth(clock, FileTokenStore(path))
    )
    with _client(webex, first) as a, _client(webex, second) as b:
        assert _list(a) == 1  # a refreshes: r-0 is spent, r-1 stored
        assert _list(b) == 1  # b holds r-0: it takes a's tokens from the file instead of refreshing
        clock.now += 95  # both due: one refresh (r-1 -> r-2), the other adopts its result
        assert _list(a) == 1
        assert _list(b) == 1
    assert webex.refreshes == 2
    assert json.loads(path.read_text())["refresh_token"] == "r-2"
