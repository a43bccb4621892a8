"""The client against a deliberately broken server on loopback (tests/_hostile.py), sync and async."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import _cli
import httpx
import pytest
from _hostile import Answer, hostile_server

from webex_events import (
    AsyncWebexEvents,
    InvalidArgumentError,
    MalformedResponseError,
    PagingLoopError,
    ResponseTooLargeError,
    RetryPolicy,
    ServerError,
    UnsafeNextLinkError,
    WebexConnectionError,
    WebexEvents,
)

TOKEN = "hostile-T0KEN-7c1d9e42"
FAST = RetryPolicy(backoff_base=0.001, backoff_cap=0.002, max_attempts=3, retry_after_cap=0.05, seed=0)
CREATED = "2024-01-01T00:00:00.000Z"


def event(i: int) -> dict[str, Any]:
    return {"id": f"E{i}", "resource": "messages", "type": "created", "actorId": "A", "orgId": "O",
            "created": CREATED, "data": {"id": f"M{i}"}}  # fmt: skip


def page(*ids: int) -> bytes:
    return json.dumps({"items": [event(i) for i in ids]}).encode()


def next_to(cursor: str) -> dict[str, str]:
    return {"Link": f'</v1/events?cursor={cursor}>; rel="next"'}


def cursor_of(path: str) -> str | None:
    return httpx.URL(path).params.get("cursor")


def listing(
    base_url: str, *, retry: RetryPolicy = FAST, timeout: float | None = 30.0, **kwargs: Any
) -> list[str]:
    with WebexEvents(token=TOKEN, base_url=base_url, retry=retry, timeout=timeout) as client:
        return [e.id for e in client.list_events(page_size=10, **kwargs)]


def alisting(
    base_url: str, *, retry: RetryPolicy = FAST, timeout: float | None = 30.0, **kwargs: Any
) -> list[str]:
    async def main() -> list[str]:
        async with AsyncWebexEvents(token=TOKEN, base_url=base_url, retry=retry, timeout=timeout) as client:
            return [e.id async for e in client.list_events(page_size=10, **kwargs)]

    return asyncio.run(main())


LISTERS = [pytest.param(listing, id="sync"), pytest.param(alisting, id="async")]


# ------------------------------------------------------------------------------ 1. loops


def self_loop(number: int, path: str, headers: dict[str, str]) -> Answer:
    return Answer(body=page(number), headers=next_to("A"))  # every page says: next is ?cursor=A


def cycle(number: int, path: str, headers: dict[str, str]) -> Answer:
    following = {None: "A", "A": "B", "B": "A"}[cursor_of(path)]
    return Answer(body=page(number), headers=next_to(following))


@pytest.mark.parametrize("lister", LISTERS)
@pytest.mark.parametrize("scenario", [self_loop, cycle], ids=["A->A", "A->B->A"])
def test_a_next_link_that_repeats_ends_with_a_typed_error(lister: Any, scenario: Any) -> None:
    with hostile_server(scenario) as server, pytest.raises(PagingLoopError, match="leads back to a page"):
        lister(server.base_url)
    assert len(server.requests) <= 3  # first page, A (and B): then the repeat is refused unsent


def test_the_cli_stops_on_a_paging_loop_and_keeps_what_it_wrote(tmp_path: Any) -> None:
    with hostile_server(cycle) as server:
        result = run_cli("export", "--base-url", server.base_url, "--since", "1d", "--window", "1d",
                         "-o", str(tmp_path / "out.jsonl"))  # fmt: skip
    assert result.returncode == 4, result.stderr
    assert "leads back to a page already fetched" in result.stderr
    assert len(server.requests) <= 3


# ------------------------------------------------------------------------------ 2. malformed pages


@pytest.mark.parametrize("lister", LISTERS)
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{}", "'items' is missing"),
        (b'{"items":null}', "'items' is null"),
        (b'{"items":{"0":{"id":"E1"}}}', "'items' is an object"),
        (b'{"items":[{"id":"E1","created":"2024-01-01T00:00:00.000Z"},1]}', r"items\[1\] is a number"),
    ],
)
def test_a_malformed_page_is_retried_then_raised_never_empty(lister: Any, body: bytes, message: str) -> None:
    with (
        hostile_server(lambda n, p, h: Answer(body=body)) as server,
        pytest.raises(MalformedResponseError, match=message),
    ):
        lister(server.base_url)
    assert len(server.requests) == FAST.max_attempts


# ------------------------------------------------------------------------------ 3. echoed token


def echo(number: int, path: str, headers: dict[str, str]) -> Answer:
    """A proxy that echoes the Authorization value everywhere it can."""
    auth = headers.get("authorization", "")
    body = {"message": f"rejected {auth}", "trackingId": auth, "errors": [{"description": f"saw {auth}"}]}
    return Answer(status=500, headers={"TrackingID": f"ROUTER_{auth}"}, body=json.dumps(body).encode())


def test_an_echoed_token_never_appears_in_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="webex_events")
    with hostile_server(echo) as server, pytest.raises(ServerError) as info:
        listing(server.base_url)
    error = info.value
    shown = [str(error), repr(error), error.message, error.tracking_id or "", *error.errors, caplog.text]
    assert caplog.text.count("retrying") == FAST.max_attempts - 1
    for text in shown:
        assert TOKEN not in text
    assert "[REDACTED]" in str(error)


def test_an_echoed_token_never_appears_in_the_cli_output(tmp_path: Any) -> None:
    with hostile_server(echo) as server:
        result = run_cli(
            "export", "--base-url", server.base_url, "--since", "1d", "-o", str(tmp_path / "o.jsonl")
        )
    assert result.returncode == 4
    assert TOKEN not in result.stdout + result.stderr
    assert "tracking id ROUTER_Bearer [REDACTED]" in result.stderr


# ------------------------------------------------------------------------------ 4. next links


def test_a_next_link_with_credentials_is_refused_and_basic_auth_is_never_sent() -> None:
    def scenario(number: int, path: str, headers: dict[str, str]) -> Answer:
        port = headers["host"].rsplit(":", 1)[1]
        return Answer(
            body=page(number),
            headers={"Link": f'<http://user:pw@127.0.0.1:{port}/v1/events?c=1>; rel="next"'},
        )

    with hostile_server(scenario) as server, pytest.raises(UnsafeNextLinkError, match="credentials"):
        listing(server.base_url)
    assert [h["authorization"] for _, h in server.requests] == [f"Bearer {TOKEN}"]


# ------------------------------------------------------------------------------ 5. response size cap


def test_a_page_over_the_size_cap_shrinks_then_raises_a_typed_error() -> None:
    huge = page(*range(40))  # whatever max asks for: the server never shrinks

    with (
        hostile_server(lambda n, p, h: Answer(body=huge)) as server,
        WebexEvents(token=TOKEN, base_url=server.base_url, retry=FAST, max_response_bytes=1000) as client,
        pytest.raises(ResponseTooLargeError, match="max_response_bytes=1000"),
    ):
        list(client.list_events(page_size=8))
    sent_max = [httpx.URL(path).params["max"] for path, _ in server.requests]
    assert sent_max == ["8", "4", "2", "1"]  # halved as after a 504, then given up


def test_a_streamed_body_is_cut_at_the_cap_without_content_length() -> None:
    chunks_sent: list[int] = []

    def endless() -> Iterator[bytes]:
        yield b'{"items":['
        for i in range(10_000):  # 10k chunks of ~100 bytes, with no Content-Length
            chunks_sent.append(i)
            yield json.dumps(event(i)).encode() + b","

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless())

    transport = httpx.MockTransport(handler)
    with (
        WebexEvents(token=TOKEN, transport=transport, retry=FAST, max_response_bytes=5000) as client,
        pytest.raises(ResponseTooLargeError),
    ):
        client.get_event("E1")
    assert len(chunks_sent) < 200  # stopped reading soon after the cap, not at the end


# ------------------------------------------------------------------------------ 6. deadlines


def _timed(
    lister: Any, base_url: str, retry: RetryPolicy, timeout: float | None
) -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises(WebexConnectionError) as info:
        lister(base_url, retry=retry, timeout=timeout)
    return info.value, time.monotonic() - started


TRICKLE = Answer(body=page(*range(20)), trickle=0.2)  # ~2 kB at one byte per 0.2 s: minutes
TWO_TRIES = RetryPolicy(backoff_base=0.001, backoff_cap=0.002, max_attempts=2, max_total_seconds=60, seed=0)


@pytest.mark.parametrize("lister", LISTERS)
def test_a_trickled_body_fails_within_the_attempt_deadline(lister: Any) -> None:
    with hostile_server(lambda n, p, h: TRICKLE) as server:
        error, elapsed = _timed(lister, server.base_url, TWO_TRIES, timeout=1.0)
    assert "deadline" in str(error)
    assert len(server.requests) == 2
    assert elapsed < 2 * 1.0 + 1.0  # two attempts of 1 s, plus a byte interval of slack each


@pytest.mark.parametrize("lister", LISTERS)
def test_the_total_budget_is_a_deadline_inside_an_attempt(lister: Any) -> None:
    budget = RetryPolicy(backoff_base=0.001, backoff_cap=0.002, max_attempts=5, max_total_seconds=1.5, seed=0)
    with hostile_server(lambda n, p, h: TRICKLE) as server:
        _, elapsed = _timed(lister, server.base_url, budget, timeout=30.0)
    assert elapsed < 1.5 + 0.7
    assert len(server.requests) == 1


@pytest.mark.parametrize("lister", LISTERS)
def test_a_server_that_never_answers_fails_within_the_attempt_deadline(lister: Any) -> None:
    with hostile_server(lambda n, p, h: Answer(stall=10.0)) as server:
        _, elapsed = _timed(lister, server.base_url, TWO_TRIES, timeout=0.5)
    assert elapsed < 2 * 0.5 + 1.0


# ------------------------------------------------------------------------------ 7. bad input up front


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (f"Bearer {TOKEN}", "without the 'Bearer ' prefix"),
        ("tök-ën-1234", "ASCII"),
        ("abc\x7fdef", "control characters"),
        ("abc def", "whitespace"),
        ("abc\tdef", "whitespace"),
    ],
)
def test_unusable_tokens_are_refused_before_any_request(token: str, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message) as info:
        WebexEvents(token=token, transport=httpx.MockTransport(lambda r: pytest.fail("sent")))
    assert token not in str(info.value)


def test_a_range_from_year_one_is_a_valid_range() -> None:
    sent: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url)
        return httpx.Response(200, content=page(1))

    with WebexEvents(token=TOKEN, transport=httpx.MockTransport(handler)) as client:
        assert [e.id for e in client.list_events(from_=datetime(1, 1, 1, tzinfo=UTC))] == ["E1"]
        assert [e.id for e in client.list_events(from_="0001-01-01T00:00:00Z", window=timedelta(days=9000))]
    assert sent[0].params["from"] == "1969-12-31T23:59:59.999Z"  # clamped to the epoch (no event is older)


def test_a_window_that_would_make_billions_of_windows_is_refused() -> None:
    transport = httpx.MockTransport(lambda r: pytest.fail("sent"))
    with (
        WebexEvents(token=TOKEN, transport=transport) as client,
        pytest.raises(InvalidArgumentError, match="windows"),
    ):
        client.list_events(from_=datetime(2016, 1, 1, tzinfo=UTC), window=timedelta(microseconds=1))


def test_a_socks_proxy_without_socksio_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        import socksio  # noqa: F401, PLC0415
    except ImportError:
        pass
    else:
        pytest.skip("socksio is installed here")
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:9")
    with pytest.raises(InvalidArgumentError, match=r"httpx\[socks\]"):
        WebexEvents(token=TOKEN)


# ------------------------------------------------------------------------------ helpers


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return _cli.run_cli(*args, "-q", token=TOKEN, env={"WEBEX_EVENTS_MAX_ATTEMPTS": "2"})
