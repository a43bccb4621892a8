"""The fake's OAuth: /authorize, /access_token, tokens that expire, revocation, tokenExpiry.

In process on a ``SimClock`` (expiry follows the fake's wall clock), over loopback with a real
redirect to a listener, concurrently (issuance and counters under the fake's lock), and from the
command line.
"""

from __future__ import annotations

import http.server
import logging
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import _cli
import httpx
import pytest
from click.testing import CliRunner

import webex_events.testing.__main__ as module_main
from webex_events import OAuthRefresh, WebexEvents
from webex_events.testing import FakeStats, FakeWebex, Integration, SimClock
from webex_events.testing import _command as command
from webex_events_api.spec import (
    ACCESS_TOKEN,
    ACCESS_TOKEN_KEYS,
    AUTHORIZE,
    LIST_ADMIN_AUDIT_EVENTS,
    LIST_EVENTS,
    SERVER_URL,
    TOKEN_ERROR_KEYS,
    TOKEN_EXPIRY,
    TOKEN_EXPIRY_KEYS,
    Operation,
)

START = datetime(2025, 1, 1, tzinfo=UTC)
CLIENT, SECRET = "C0ffee", "s3cret-of-the-integration"
REDIRECT = "http://127.0.0.1:8765/callback"
EVENTS_SCOPE = LIST_EVENTS.scopes[0]
AUDIT_SCOPE = LIST_ADMIN_AUDIT_EVENTS.scopes[0]
TOKEN_KEYS = {getattr(ACCESS_TOKEN_KEYS, name) for name in ACCESS_TOKEN_KEYS.__slots__}
ERROR_KEYS = {getattr(TOKEN_ERROR_KEYS, name) for name in TOKEN_ERROR_KEYS.__slots__}


def _fake(clock: SimClock | None = None, **options: Any) -> FakeWebex:
    options.setdefault("client_id", CLIENT)
    options.setdefault("client_secret", SECRET)
    return FakeWebex(events=30, seed=5, end=START, wall_clock=clock or SimClock(START), **options)


def _http(fake: FakeWebex, base_url: str = SERVER_URL) -> httpx.Client:
    return httpx.Client(transport=fake.transport(), base_url=base_url + "/")


def _path(operation: Operation) -> str:
    return operation.path.lstrip("/")


def _authorize(http: httpx.Client, **params: str) -> httpx.Response:
    query = {"client_id": CLIENT, "response_type": "code", "redirect_uri": REDIRECT, "scope": EVENTS_SCOPE}
    query.update(params)
    return http.get(_path(AUTHORIZE), params=query)


def _query(response: httpx.Response) -> dict[str, str]:
    """The query of a redirect's Location (one value per key)."""
    assert response.status_code == 302, response.text
    query = urlsplit(response.headers["location"]).query
    return {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}


def _code(http: httpx.Client, **params: str) -> str:
    return _query(_authorize(http, **params))["code"]


def _exchange(http: httpx.Client, code: str, **form: str) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "client_id": CLIENT,
        "client_secret": SECRET,
        "code": code,
        "redirect_uri": REDIRECT,
    }
    data.update(form)
    return http.post(_path(ACCESS_TOKEN), data=data)


def _refresh(http: httpx.Client, refresh: str, **form: str) -> httpx.Response:
    data = {
        "grant_type": "refresh_token",
        "client_id": CLIENT,
        "client_secret": SECRET,
        "refresh_token": refresh,
    }
    data.update(form)
    return http.post(_path(ACCESS_TOKEN), data=data)


def _tokens(http: httpx.Client) -> dict[str, Any]:
    response = _exchange(http, _code(http))
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def _events(http: httpx.Client, token: str) -> httpx.Response:
    return http.get(_path(LIST_EVENTS), headers={"Authorization": f"Bearer {token}"})


def _expiry(http: httpx.Client, token: str) -> httpx.Response:
    return http.get(_path(TOKEN_EXPIRY), headers={"Authorization": f"Bearer {token}"})


def _refused(response: httpx.Response, status: int, error: str) -> str:
    """The error_description of an OAuth refusal, after checking its shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body[TOKEN_ERROR_KEYS.error] == error
    assert body[TOKEN_ERROR_KEYS.message] == body[TOKEN_ERROR_KEYS.error_description]
    assert body[TOKEN_ERROR_KEYS.tracking_id] == response.headers["TrackingID"]
    return str(body[TOKEN_ERROR_KEYS.error_description])


# ------------------------------------------------------------------------------ the whole flow


def test_authorize_code_token_then_api_calls_work() -> None:
    fake = _fake()
    with _http(fake) as http:
        redirect = _authorize(http, state="st4te-xyz")
        back = _query(redirect)
        assert redirect.headers["location"].startswith(REDIRECT + "?")
        assert back["state"] == "st4te-xyz"
        response = _exchange(http, back["code"])
        assert response.status_code == 200, response.text
        assert response.headers["Cache-Control"] == "no-store"
        tokens = response.json()
        assert set(tokens) == TOKEN_KEYS
        assert tokens[ACCESS_TOKEN_KEYS.expires_in] == 14 * 86400
        assert tokens[ACCESS_TOKEN_KEYS.refresh_token_expires_in] == 90 * 86400
        assert tokens[ACCESS_TOKEN_KEYS.token_type] == "Bearer"
        assert tokens[ACCESS_TOKEN_KEYS.scope] == EVENTS_SCOPE
        page = _events(http, tokens[ACCESS_TOKEN_KEYS.access_token])
        assert page.status_code == 200
        assert [e["id"] for e in page.json()["items"]] == fake.expected_ids()
        assert _events(http, fake.token).status_code == 200, "the fixed token keeps working"
        assert _events(http, "not-a-token").status_code == 401
    # The library with the issued token, as any token.
    token = tokens[ACCESS_TOKEN_KEYS.access_token]
    with WebexEvents(token=token, transport=fake.transport()) as client:
        assert len(list(client.list_events(page_size=7))) == 30
    assert (fake.stats.codes_issued, fake.stats.codes_exchanged, fake.stats.refreshes) == (1, 1, 0)


def test_a_state_is_optional_and_echoed_exactly() -> None:
    with _http(_fake()) as http:
        assert "state" not in _query(_authorize(http))
        odd = "a b&c=d/é"
        assert _query(_authorize(http, state=odd))["state"] == odd
        assert _query(_authorize(http, state=""))["state"] == ""


def test_a_code_is_spent_by_its_first_use_and_expires() -> None:
    clock = SimClock(START)
    fake = _fake(clock, code_lifetime=30)
    with _http(fake) as http:
        code = _code(http)
        assert _exchange(http, code).status_code == 200
        assert "already used" in _refused(_exchange(http, code), 400, "invalid_grant")
        late = _code(http)
        clock.advance(30)
        assert "expired" in _refused(_exchange(http, late), 400, "invalid_grant")
        elsewhere = _code(http)
        assert "redirect_uri" in _refused(
            _exchange(http, elsewhere, redirect_uri="http://127.0.0.1:9/other"), 400, "invalid_grant"
        )
        assert "already used" in _refused(_exchange(http, elsewhere), 400, "invalid_grant")
        assert "invalid" in _refused(_exchange(http, "made-up-code"), 400, "invalid_grant")
        other = fake.register_integration("C-other", "other-secret")
        theirs = _code(http)
        refused = _exchange(http, theirs, client_id=other.client_id, client_secret=other.client_secret)
        assert "another client" in _refused(refused, 400, "invalid_grant")
    assert fake.stats.codes_issued == 4
    assert fake.stats.codes_exchanged == 1
    assert fake.stats.oauth_errors == {"invalid_grant": 6}


# ------------------------------------------------------------------------------ refresh, rotation


def test_refresh_returns_a_new_access_token_and_keeps_the_refresh_token() -> None:
    clock = SimClock(START)
    fake = _fake(clock, access_token_lifetime=60, refresh_token_lifetime=1000)
    with _http(fake) as http:
        first = _tokens(http)
        refresh = first[ACCESS_TOKEN_KEYS.refresh_token]
        clock.advance(400)
        again = _refresh(http, refresh)
        assert again.status_code == 200, again.text
        second = again.json()
        assert set(second) == TOKEN_KEYS
        assert second[ACCESS_TOKEN_KEYS.access_token] != first[ACCESS_TOKEN_KEYS.access_token]
        assert second[ACCESS_TOKEN_KEYS.refresh_token] == refresh, "no rotation by default"
        assert second[ACCESS_TOKEN_KEYS.expires_in] == 60
        # A refresh token in use lasts: its lifetime starts again at each refresh.
        assert second[ACCESS_TOKEN_KEYS.refresh_token_expires_in] == 1000
        clock.advance(999)
        assert _refresh(http, refresh).status_code == 200
        assert _events(http, second[ACCESS_TOKEN_KEYS.access_token]).status_code == 401, "expired"
        other = _tokens(http)
        assert _refresh(http, other[ACCESS_TOKEN_KEYS.refresh_token]).status_code == 200
    assert fake.stats.refreshes == 3
    assert fake.stats.refreshes_by_token == {refresh: 2, other[ACCESS_TOKEN_KEYS.refresh_token]: 1}
    assert refresh not in repr(fake.stats), "tokens stay out of the counters' repr"


def test_an_unused_refresh_token_expires() -> None:
    clock = SimClock(START)
    fake = _fake(clock, refresh_token_lifetime=100)
    with _http(fake) as http:
        refresh = _tokens(http)[ACCESS_TOKEN_KEYS.refresh_token]
        clock.advance(100)
        assert "expired" in _refused(_refresh(http, refresh), 400, "invalid_grant")
        assert "expired" in _refused(_refresh(http, refresh), 400, "invalid_grant")
    assert fake.stats.refreshes == 0


def test_rotation_returns_a_new_refresh_token_and_kills_the_old_one() -> None:
    fake = _fake(rotate_refresh_tokens=True)
    with _http(fake) as http:
        tokens = _tokens(http)
        chain = [tokens[ACCESS_TOKEN_KEYS.refresh_token]]
        for _ in range(3):
            answer = _refresh(http, chain[-1])
            assert answer.status_code == 200, answer.text
            chain.append(answer.json()[ACCESS_TOKEN_KEYS.refresh_token])
            assert _events(http, answer.json()[ACCESS_TOKEN_KEYS.access_token]).status_code == 200
        assert len(set(chain)) == 4
        for old in chain[:-1]:
            assert "rotation" in _refused(_refresh(http, old), 400, "invalid_grant")
        newest = _refresh(http, chain[-1])
        assert newest.status_code == 200
        chain.append(newest.json()[ACCESS_TOKEN_KEYS.refresh_token])
        # Older access tokens stay valid until they expire.
        assert _events(http, tokens[ACCESS_TOKEN_KEYS.access_token]).status_code == 200
        fake.knobs.rotate_refresh_tokens = False  # a knob: changed between requests
        last = _refresh(http, chain[-1]).json()[ACCESS_TOKEN_KEYS.refresh_token]
        assert _refresh(http, last).status_code == 200
    assert fake.stats.refreshes == 6
    assert fake.stats.refreshes_by_token == {**dict.fromkeys(chain[:-1], 1), last: 2}
    assert last == chain[-1], "no rotation once the knob is off"
    assert fake.stats.oauth_errors == {"invalid_grant": 3}


# ------------------------------------------------------------------------------ expiry, revocation


def test_an_expired_access_token_is_a_401_counted_as_expired() -> None:
    clock = SimClock(START)
    fake = _fake(clock, access_token_lifetime=2.5)
    with _http(fake) as http:
        tokens = _tokens(http)
        access = tokens[ACCESS_TOKEN_KEYS.access_token]
        assert tokens[ACCESS_TOKEN_KEYS.expires_in] == 2, "whole seconds, rounded down"
        clock.advance(2.49)
        assert _events(http, access).status_code == 200
        clock.advance(0.01)
        refused = _events(http, access)
        assert refused.status_code == 401
        assert "valid access token" in refused.json()["message"]
        assert _expiry(http, access).status_code == 401
        assert _events(http, "never-issued").status_code == 401
        assert _events(http, fake.token).status_code == 200, "the fixed token never expires"
    assert fake.stats.expired_401s == 2
    assert fake.stats.statuses[401] == 3


def test_the_fixed_token_expires_when_given_a_lifetime() -> None:
    clock = SimClock(START)
    fake = FakeWebex(events=5, end=START, wall_clock=clock, token_lifetime=12 * 3600)
    with _http(fake) as http:
        expiry = _expiry(http, fake.token)
        assert expiry.json() == {TOKEN_EXPIRY_KEYS.exp: int((START.timestamp() + 12 * 3600) * 1000)}
        clock.advance(12 * 3600)
        assert _events(http, fake.token).status_code == 401
    assert fake.stats.expired_401s == 1


def test_revoking_a_refresh_token_revokes_its_authorization() -> None:
    fake = _fake(rotate_refresh_tokens=True)
    with _http(fake) as http:
        mine, other = _tokens(http), _tokens(http)
        refreshed = _refresh(http, mine[ACCESS_TOKEN_KEYS.refresh_token]).json()
        assert fake.revoke(refreshed[ACCESS_TOKEN_KEYS.refresh_token])
        assert not fake.revoke(refreshed[ACCESS_TOKEN_KEYS.refresh_token]), "already revoked"
        refused = _refresh(http, refreshed[ACCESS_TOKEN_KEYS.refresh_token])
        assert "revoked" in _refused(refused, 400, "invalid_grant")
        for access in (mine, refreshed):  # every access token of the authorization, before and after
            assert _events(http, access[ACCESS_TOKEN_KEYS.access_token]).status_code == 401
        assert _events(http, other[ACCESS_TOKEN_KEYS.access_token]).status_code == 200
        assert _refresh(http, other[ACCESS_TOKEN_KEYS.refresh_token]).status_code == 200
        # Only the refresh token: its access tokens work until they expire.
        third = _tokens(http)
        assert fake.revoke(third[ACCESS_TOKEN_KEYS.refresh_token], access_tokens=False)
        assert _events(http, third[ACCESS_TOKEN_KEYS.access_token]).status_code == 200
        _refused(_refresh(http, third[ACCESS_TOKEN_KEYS.refresh_token]), 400, "invalid_grant")
        # One access token.
        assert fake.revoke(other[ACCESS_TOKEN_KEYS.access_token])
        assert _events(http, other[ACCESS_TOKEN_KEYS.access_token]).status_code == 401
        assert not fake.revoke("never-issued")
    assert fake.stats.revoked_401s == 3
    assert fake.stats.expired_401s == 0


def test_revoke_all_ends_every_issued_token_and_pending_code() -> None:
    fake = _fake()
    with _http(fake) as http:
        tokens = [_tokens(http) for _ in range(3)]
        pending = _code(http)
        fake.revoke_all()
        for t in tokens:
            assert _events(http, t[ACCESS_TOKEN_KEYS.access_token]).status_code == 401
            _refused(_refresh(http, t[ACCESS_TOKEN_KEYS.refresh_token]), 400, "invalid_grant")
        assert "revoked" in _refused(_exchange(http, pending), 400, "invalid_grant")
        assert _events(http, fake.token).status_code == 200, "the fixed token is not an issued one"
        assert _refresh(http, _tokens(http)[ACCESS_TOKEN_KEYS.refresh_token]).status_code == 200
    assert fake.stats.revoked_401s == 3


def test_token_expiry_answers_the_presented_tokens_expiry() -> None:
    clock = SimClock(START + timedelta(microseconds=123_456))
    fake = _fake(clock, access_token_lifetime=7200.75, forbidden_token="no-scope")
    with _http(fake) as http:
        access = _tokens(http)[ACCESS_TOKEN_KEYS.access_token]
        answer = _expiry(http, access)
        assert answer.status_code == 200
        expected = (START + timedelta(seconds=7200.75, microseconds=123_456)).timestamp()
        assert answer.json() == {TOKEN_EXPIRY_KEYS.exp: int(expected * 1000)}
        assert answer.headers["TrackingID"].startswith("ROUTER_")
        # A token that never expires: the last millisecond of year 9999.
        never = _expiry(http, fake.token).json()[TOKEN_EXPIRY_KEYS.exp]
        assert datetime.fromtimestamp(never / 1000, UTC).year == 9999
        assert _expiry(http, "no-scope").status_code == 200, "tokenExpiry needs no scope"
        assert _expiry(http, "unknown").status_code == 401
        assert (
            http.post(_path(TOKEN_EXPIRY), headers={"Authorization": f"Bearer {access}"}).status_code == 405
        )
    with WebexEvents(token=access, transport=fake.transport()) as client:
        assert client.token_expiry() == datetime.fromtimestamp(int(expected * 1000) / 1000, UTC)


def test_a_token_without_the_scope_an_operation_needs_is_a_403() -> None:
    fake = _fake()
    with _http(fake) as http:
        audit_only = _exchange(http, _code(http, scope=AUDIT_SCOPE)).json()
        assert audit_only[ACCESS_TOKEN_KEYS.scope] == AUDIT_SCOPE
        refused = _events(http, audit_only[ACCESS_TOKEN_KEYS.access_token])
        assert refused.status_code == 403
        assert EVENTS_SCOPE in refused.json()["message"]
        assert _expiry(http, audit_only[ACCESS_TOKEN_KEYS.access_token]).status_code == 200
        both = _exchange(http, _code(http, scope=f"{EVENTS_SCOPE} {AUDIT_SCOPE} {EVENTS_SCOPE}")).json()
        assert both[ACCESS_TOKEN_KEYS.scope] == f"{EVENTS_SCOPE} {AUDIT_SCOPE}"
        assert _events(http, both[ACCESS_TOKEN_KEYS.access_token]).status_code == 200


# ------------------------------------------------------------------------------ errors


def test_token_endpoint_errors_are_worded_as_oauth_and_webex_do() -> None:
    fake = _fake()
    with _http(fake) as http:
        refresh = _tokens(http)[ACCESS_TOKEN_KEYS.refresh_token]
        # The client is refused before its grant is looked at (spec: 401 invalid_client).
        _refused(_refresh(http, refresh, client_secret="wrong"), 401, "invalid_client")
        _refused(_refresh(http, refresh, client_id="C-unknown"), 401, "invalid_client")
        assert "invalid" in _refused(_refresh(http, "never-issued"), 400, "invalid_grant")
        missing = _refresh(http, refresh, refresh_token="")
        assert "refresh_token" in _refused(missing, 400, "invalid_request")
        no_code = http.post(
            _path(ACCESS_TOKEN),
            data={"grant_type": "authorization_code", "client_id": CLIENT, "client_secret": SECRET},
        )
        assert "code" in _refused(no_code, 400, "invalid_request")
        _refused(_refresh(http, refresh, grant_type="password"), 400, "unsupported_grant_type")
        no_secret = http.post(_path(ACCESS_TOKEN), data={"grant_type": "refresh_token", "client_id": CLIENT})
        assert "client_secret" in _refused(no_secret, 400, "invalid_request")
        as_json = http.post(
            _path(ACCESS_TOKEN),
            json={
                "grant_type": "refresh_token",
                "client_id": CLIENT,
                "client_secret": SECRET,
                "refresh_token": refresh,
            },
        )
        assert "x-www-form-urlencoded" in _refused(as_json, 400, "invalid_request")
        twice = http.post(
            _path(ACCESS_TOKEN),
            content=f"grant_type=refresh_token&client_id={CLIENT}&client_secret={SECRET}"
            f"&refresh_token={refresh}&refresh_token={refresh}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert "Repeated" in _refused(twice, 400, "invalid_request")
        assert http.get(_path(ACCESS_TOKEN)).status_code == 405
        assert _refresh(http, refresh).status_code == 200, "none of these spent the refresh token"
    assert fake.stats.oauth_errors == {
        "invalid_client": 2,
        "invalid_grant": 1,
        "invalid_request": 5,
        "unsupported_grant_type": 1,
    }
    assert fake.stats.refreshes == 1


def test_authorize_errors_redirect_only_where_it_is_safe() -> None:
    fake = _fake(redirect_uris=[REDIRECT])
    with _http(fake) as http:
        for params, error in (
            ({"client_id": "C-unknown"}, "invalid_client"),
            ({"redirect_uri": "http://127.0.0.1:8765/elsewhere"}, "invalid_request"),
            ({"redirect_uri": ""}, "invalid_request"),
        ):
            answer = _authorize(http, state="s", **params)
            assert "location" not in answer.headers
            _refused(answer, 400, error)
        for params, error in (
            ({"response_type": "token"}, "unsupported_response_type"),
            ({"scope": "spark:all"}, "invalid_scope"),
            ({"scope": ""}, "invalid_request"),
        ):
            back = _query(_authorize(http, state="s", **params))
            assert back["error"] == error
            assert back["error_description"]
            assert back["state"] == "s"
            assert "code" not in back
        fake.knobs.deny_authorization = True
        assert _query(_authorize(http, state="s"))["error"] == "access_denied"
        fake.knobs.deny_authorization = False
        assert "code" in _query(_authorize(http))
        assert http.post(_path(AUTHORIZE)).status_code == 405
    assert fake.stats.codes_issued == 1
    assert fake.stats.oauth_errors == {
        "invalid_client": 1,
        "invalid_request": 3,
        "unsupported_response_type": 1,
        "invalid_scope": 1,
        "access_denied": 1,
    }


def test_redirect_uris_default_to_any_loopback_uri() -> None:
    fake = _fake()
    with _http(fake) as http:
        for uri in ("http://127.0.0.1:1/cb", "http://localhost:65000/x?keep=1", "http://[::1]:8080/"):
            location = _authorize(http, redirect_uri=uri).headers["location"]
            assert location.startswith(uri)
            assert _query(_authorize(http, redirect_uri=uri))["code"]
        assert (
            "keep=1&code="
            in _authorize(http, redirect_uri="http://localhost:65000/x?keep=1").headers["location"]
        )
        for uri in (
            "https://example.com/cb",
            "http://10.0.0.1/cb",
            "http://127.0.0.1:1/cb#frag",
            "not a uri",
        ):
            _refused(_authorize(http, redirect_uri=uri), 400, "invalid_request")


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="give client_id"):
        FakeWebex(events=1, client_secret="x")
    for name in ("access_token_lifetime", "refresh_token_lifetime", "code_lifetime", "token_lifetime"):
        for bad in (0, -1, float("nan"), float("inf")):
            options: dict[str, Any] = {name: bad}
            with pytest.raises(ValueError, match=name):
                FakeWebex(events=1, **options)
    fake = FakeWebex(events=1)
    assert fake.integration is None
    with pytest.raises(ValueError, match="no integration"):
        fake.issue_tokens()
    wrong: list[dict[str, Any]] = [
        {"scopes": "one string"},
        {"scopes": []},
        {"scopes": ["two words"]},
        {"redirect_uris": ["/cb"]},
    ]
    for shape in wrong:
        with pytest.raises(ValueError, match=r"scopes|redirect URI"):
            fake.register_integration("C1", **shape)
    with pytest.raises(ValueError, match="client_secret"):
        fake.register_integration("C1", "")
    made = fake.register_integration()
    assert re.fullmatch(r"C[0-9a-f]{64}", made.client_id)
    assert re.fullmatch(r"[0-9a-f]{64}", made.client_secret)
    assert made.client_secret not in repr(made)
    assert fake.integration is made
    with pytest.raises(ValueError, match="scopes"):
        fake.issue_tokens(["spark:all"])


def test_issue_tokens_skips_the_browser() -> None:
    clock = SimClock(START)
    fake = _fake(clock, access_token_lifetime=10)
    tokens = fake.issue_tokens()
    assert set(tokens) == TOKEN_KEYS
    assert tokens[ACCESS_TOKEN_KEYS.scope] == " ".join(Integration(CLIENT, SECRET).scopes)
    with _http(fake) as http:
        assert _events(http, tokens[ACCESS_TOKEN_KEYS.access_token]).status_code == 200
        assert _refresh(http, tokens[ACCESS_TOKEN_KEYS.refresh_token]).status_code == 200
    assert (fake.stats.codes_exchanged, fake.stats.refreshes) == (0, 1)
    fake.reset_stats()
    assert fake.stats == FakeStats()


# ------------------------------------------------------------------------------ faults, threads


def test_injected_faults_on_the_token_endpoint_spend_nothing() -> None:
    fake = _fake(rotate_refresh_tokens=True, fault_rate=1.0, faults=["503", "truncated"], fault_retry_after=0)
    refresh = fake.issue_tokens()[ACCESS_TOKEN_KEYS.refresh_token]
    kinds: set[int | str] = set()
    with _http(fake) as http:
        for _ in range(12):
            try:
                answer = _refresh(http, refresh)
            except httpx.ReadError:  # a truncated body is a reset connection here
                kinds.add("reset")
            else:
                assert answer.status_code == 503
                assert "error" not in answer.json(), "a transient failure is not an OAuth refusal"
                kinds.add(503)
        assert kinds == {503, "reset"}
        fake.knobs.fault_rate = 0
        assert _refresh(http, refresh).status_code == 200, "the refresh token survived the faults"
    assert fake.stats.refreshes == 1
    assert fake.stats.faults == 12


def test_concurrent_requests_issue_distinct_tokens_and_count_exactly() -> None:
    fake = _fake()
    refresh = fake.issue_tokens()[ACCESS_TOKEN_KEYS.refresh_token]
    rotating = _fake(rotate_refresh_tokens=True)
    shared = rotating.issue_tokens()[ACCESS_TOKEN_KEYS.refresh_token]
    answers: list[httpx.Response] = []
    rotated: list[httpx.Response] = []
    barrier = threading.Barrier(16)

    def worker() -> None:
        with _http(fake) as http, _http(rotating) as other:
            barrier.wait()
            for _ in range(10):
                answers.append(_refresh(http, refresh))
            rotated.append(_refresh(other, shared))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(a.status_code == 200 for a in answers)
    access = {a.json()[ACCESS_TOKEN_KEYS.access_token] for a in answers}
    assert len(access) == 160
    assert fake.stats.refreshes == 160
    assert fake.stats.refreshes_by_token == {refresh: 160}
    # With rotation, 16 refreshes of one refresh token at once: exactly one wins.
    assert sorted(a.status_code for a in rotated) == [200] + [400] * 15
    assert rotating.stats.refreshes == 1
    assert rotating.stats.oauth_errors == {"invalid_grant": 15}


# ------------------------------------------------------------------------------ the library


def test_the_library_refreshes_against_the_fake_as_tokens_expire() -> None:
    clock = SimClock(START + timedelta(days=1))
    fake = _fake(clock, access_token_lifetime=100, rotate_refresh_tokens=True)
    tokens = fake.issue_tokens()
    auth = OAuthRefresh(
        client_id=CLIENT,
        client_secret=SECRET,
        refresh_token=tokens[ACCESS_TOKEN_KEYS.refresh_token],
        clock=clock,
    )
    with WebexEvents(auth=auth, transport=fake.transport()) as client:
        for _ in range(5):
            assert len(list(client.list_events(page_size=50, concurrency=1))) == 30
            clock.advance(100)
        fake.revoke(auth.tokens.refresh_token)
        with pytest.raises(Exception, match="auth login") as refused:
            list(client.list_events(page_size=50, concurrency=1))
    assert fake.stats.refreshes == 5
    assert fake.stats.expired_401s + fake.stats.revoked_401s <= 1
    assert SECRET not in str(refused.value)
    assert tokens[ACCESS_TOKEN_KEYS.refresh_token] not in str(refused.value)


# ------------------------------------------------------------------------------ over loopback


class _Listener(http.server.BaseHTTPRequestHandler):
    queries: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).queries.append(urlsplit(self.path).query)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def listener() -> Iterator[str]:
    """A loopback listener for the redirect (as ``auth login`` runs one); yields its URI."""
    _Listener.queries = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Listener)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/callback"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_over_loopback_with_a_real_redirect(listener: str) -> None:
    fake = FakeWebex(
        events=30, seed=5, end=START, client_id=CLIENT, client_secret=SECRET, access_token_lifetime=0.5,
        rotate_refresh_tokens=True, redirect_uris=[listener],
    )  # fmt: skip
    with fake.serve() as base_url, httpx.Client(base_url=base_url + "/", timeout=10) as http:
        params = {"client_id": CLIENT, "response_type": "code", "redirect_uri": listener}
        landed = http.get(
            _path(AUTHORIZE), params={**params, "scope": EVENTS_SCOPE, "state": "s1"}, follow_redirects=True
        )
        assert landed.status_code == 200
        assert landed.url.copy_with(query=None) == httpx.URL(listener)
        [query] = _Listener.queries
        back = {k: v[0] for k, v in parse_qs(query).items()}
        assert back["state"] == "s1"
        answer = _exchange(http, back["code"], redirect_uri=listener)
        assert answer.status_code == 200, answer.text
        tokens = answer.json()
        assert tokens[ACCESS_TOKEN_KEYS.expires_in] == 1, "at least 1 s"
        assert _events(http, tokens[ACCESS_TOKEN_KEYS.access_token]).status_code == 200
        assert _expiry(http, tokens[ACCESS_TOKEN_KEYS.access_token]).status_code == 200
        _refused(_exchange(http, back["code"], redirect_uri=listener), 400, "invalid_grant")
        # Real time: the half-second token expires.
        deadline = threading.Event()
        deadline.wait(0.6)
        assert _events(http, tokens[ACCESS_TOKEN_KEYS.access_token]).status_code == 401
        fresh = _refresh(http, tokens[ACCESS_TOKEN_KEYS.refresh_token])
        assert fresh.status_code == 200
        _refused(_refresh(http, tokens[ACCESS_TOKEN_KEYS.refresh_token]), 400, "invalid_grant")
        assert _events(http, fresh.json()[ACCESS_TOKEN_KEYS.access_token]).status_code == 200
        fake.revoke(fresh.json()[ACCESS_TOKEN_KEYS.refresh_token])
        _refused(_refresh(http, fresh.json()[ACCESS_TOKEN_KEYS.refresh_token]), 400, "invalid_grant")
    s = fake.stats
    assert (s.codes_issued, s.codes_exchanged, s.refreshes, s.expired_401s) == (1, 1, 1, 1)
    assert s.oauth_errors == {"invalid_grant": 3}


# ------------------------------------------------------------------------------ command lines


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[FakeWebex]]:
    """The fakes the command lines would serve (run_server announces, then returns at once)."""
    fakes: list[FakeWebex] = []
    logger = logging.getLogger("webex_events")
    handlers, propagate, level = list(logger.handlers), logger.propagate, logger.level

    def run_server(fake: FakeWebex, **kwargs: Any) -> None:
        fakes.append(fake)
        announce = kwargs.get("announce")
        if announce is not None:
            announce("http://127.0.0.1:1/v1")

    monkeypatch.setattr(command, "run_server", run_server)
    monkeypatch.setattr(module_main, "run_server", run_server)
    yield fakes
    logger.handlers, logger.propagate = handlers, propagate
    logger.setLevel(level)


_NO_ENV = {"WEBEX_ACCESS_TOKEN": None, "WEBEX_CLIENT_ID": None, "WEBEX_CLIENT_SECRET": None}


def test_fake_server_options_register_an_integration(served: list[FakeWebex]) -> None:
    argv = ["--events", "5", "--client-id", "C9", "--access-token-lifetime", "2.5", "--rotate-refresh-tokens",
            "--refresh-token-lifetime", "600", "--redirect-uri", REDIRECT]  # fmt: skip
    result = CliRunner().invoke(command.fake_server, argv, env=_NO_ENV)
    assert result.exit_code == 0, result.output
    [fake] = served
    app = fake.integration
    assert app is not None
    assert (app.client_id, app.redirect_uris) == ("C9", (REDIRECT,))
    k = fake.knobs
    assert (k.access_token_lifetime, k.refresh_token_lifetime, k.rotate_refresh_tokens) == (2.5, 600, True)
    assert f"client secret {app.client_secret}" in result.output, "a made-up secret is printed"
    assert f"--client-id C9 --client-secret {app.client_secret}" in result.output
    assert "access tokens last 2.5 s" in result.output
    assert "rotate" in result.output


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["--client-id", "C9", "--client-secret", "given-secret-1f"], _NO_ENV),
        ([], {**_NO_ENV, "WEBEX_CLIENT_ID": "C9", "WEBEX_CLIENT_SECRET": "given-secret-1f"}),
    ],
)
def test_fake_server_never_prints_a_secret_it_was_given(
    served: list[FakeWebex], argv: list[str], env: dict[str, str | None]
) -> None:
    result = CliRunner().invoke(command.fake_server, ["--events", "5", *argv], env=env)
    assert result.exit_code == 0, result.output
    [fake] = served
    assert fake.integration is not None
    assert fake.integration.client_secret == "given-secret-1f"
    assert "given-secret-1f" not in result.output
    assert "OAuth integration C9" in result.output


def test_fake_server_oauth_options_need_a_client_id(served: list[FakeWebex]) -> None:
    for extra in (["--client-secret", "x"], ["--rotate-refresh-tokens"], ["--access-token-lifetime", "3"]):
        result = CliRunner().invoke(command.fake_server, ["--events", "5", *extra], env=_NO_ENV)
        assert result.exit_code == 2, (extra, result.output)
        assert "only goes with --client-id" in result.output
    result = CliRunner().invoke(command.fake_server, ["--events", "5"], env=_NO_ENV)
    assert result.exit_code == 0
    assert "OAuth" not in result.output
    assert [f.integration for f in served] == [None]
    result = CliRunner().invoke(
        command.fake_server, ["--client-id", "C9", "--access-token-lifetime", "0"], env=_NO_ENV
    )
    assert result.exit_code == 2


def test_module_options_register_an_integration(
    served: list[FakeWebex], capsys: pytest.CaptureFixture[str]
) -> None:
    assert module_main.main(["--events", "5", "--client-id", "C7", "--client-secret", "given-secret-2e"]) == 0
    assert module_main.main(["--events", "5", "--client-id", "C8", "--rotate-refresh-tokens",
                             "--access-token-lifetime", "3"]) == 0  # fmt: skip
    said = capsys.readouterr().err
    given, made = (f.integration for f in served)
    assert given is not None
    assert made is not None
    assert "given-secret-2e" not in said
    assert f"secret {made.client_secret}" in said
    assert served[1].knobs.rotate_refresh_tokens
    assert served[1].knobs.access_token_lifetime == 3
    with pytest.raises(SystemExit):
        module_main.main(["--rotate-refresh-tokens"])


def test_fake_server_process_signs_an_integration_in() -> None:
    argv = ["fake-server", "--events", "12", "--client-id", "C5", "--access-token-lifetime", "30"]
    pipes: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    with subprocess.Popen(
        [sys.executable, "-m", "webex_events.cli", *argv], env=_cli.cli_env(None), **pipes
    ) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        base_url = proc.stdout.readline().strip()
        try:
            said = ""
            while "--client-secret" not in said:
                line = proc.stderr.readline()
                assert line, said
                said += line
            secret = re.search(r"--client-secret (\S+)", said)
            assert secret is not None
            with httpx.Client(base_url=base_url + "/", timeout=10) as http:
                params = {
                    "client_id": "C5",
                    "response_type": "code",
                    "redirect_uri": REDIRECT,
                    "scope": EVENTS_SCOPE,
                }
                code = _query(http.get(_path(AUTHORIZE), params=params))["code"]
                form = {"grant_type": "authorization_code", "client_id": "C5", "client_secret": secret[1],
                        "code": code, "redirect_uri": REDIRECT}  # fmt: skip
                tokens = http.post(_path(ACCESS_TOKEN), data=form).json()
                assert tokens[ACCESS_TOKEN_KEYS.expires_in] == 30
                assert len(_events(http, tokens[ACCESS_TOKEN_KEYS.access_token]).json()["items"]) == 12
        finally:
            proc.terminate()
            proc.communicate(timeout=10)
    assert f"auth login --base-url {base_url} --client-id C5" in said
