"""Bad input fails before any request; the token never shows."""

from __future__ import annotations

import asyncio
import pickle
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from webex_events import (
    AsyncWebexEvents,
    EventResource,
    EventType,
    InvalidArgumentError,
    NotFoundError,
    ServiceType,
    WebexError,
    WebexEvents,
)

TOKEN = "s3cr3t-validation-token-1234"
NOW = datetime.now(UTC)


def forbidden(request: httpx.Request) -> httpx.Response:
    pytest.fail(f"no request may be sent, got {request.url}")


async def aforbidden(request: httpx.Request) -> httpx.Response:
    pytest.fail(f"no request may be sent, got {request.url}")


BAD_LIST_ARGS: list[tuple[dict[str, Any], str]] = [
    ({"page_size": 0}, "page_size must be between 1 and 1000, got 0"),
    ({"page_size": 1001}, "page_size"),
    ({"page_size": True}, "page_size"),
    ({"page_size": 10.0}, "page_size"),
    ({"page_size": "10"}, "page_size"),
    ({"from_": NOW - timedelta(hours=1), "to": NOW - timedelta(hours=2)}, "from_ must not be after to"),
    ({"from_": datetime(2024, 1, 1)}, "from_"),
    ({"to": datetime(2024, 1, 1)}, "to"),
    ({"from_": "2024-01-01T00:00:00"}, "from_"),
    ({"from_": "last tuesday"}, "from_"),
    ({"to": "2024-13-01T00:00:00Z"}, "to"),
    ({"from_": 1700000000}, "from_"),
    ({"resource": "convergedRecordings"}, "service_type"),
    ({"resource": EventResource.CONVERGEDRECORDINGS}, "service_type"),
    ({"resource": ""}, "resource"),
    ({"resource": 3}, "resource"),
    ({"type": ""}, "type"),
    ({"actor_id": ""}, "actor_id"),
    ({"service_type": 1}, "service_type"),
    ({"from_": NOW - timedelta(days=1), "window": timedelta(0)}, "window"),
    ({"from_": NOW - timedelta(days=1), "window": timedelta(seconds=-1)}, "window"),
    ({"from_": NOW - timedelta(days=1), "window": "sometimes"}, "window"),
    ({"from_": NOW - timedelta(days=1), "window": 60}, "window"),
    ({"from_": NOW - timedelta(days=1), "concurrency": 0}, "concurrency"),
    ({"from_": NOW - timedelta(days=1), "concurrency": True}, "concurrency"),
    ({"window": timedelta(hours=1)}, "from_ is required"),
    ({"window": "auto"}, "from_ is required"),
    ({"concurrency": 4}, "from_ is required"),
]


@pytest.mark.parametrize(("kwargs", "match"), BAD_LIST_ARGS)
def test_bad_list_arguments_raise_at_call_time(kwargs: dict[str, Any], match: str) -> None:
    client = WebexEvents(token=TOKEN, transport=httpx.MockTransport(forbidden))
    with client, pytest.raises(InvalidArgumentError, match=match) as info:
        client.list_events(**kwargs)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, WebexError)


@pytest.mark.parametrize(("kwargs", "match"), BAD_LIST_ARGS)
def test_bad_list_arguments_raise_at_call_time_async(kwargs: dict[str, Any], match: str) -> None:
    async def main() -> None:
        async with AsyncWebexEvents(token=TOKEN, transport=httpx.MockTransport(aforbidden)) as client:
            with pytest.raises(InvalidArgumentError, match=match):
                client.list_events(**kwargs)

    asyncio.run(main())


@pytest.mark.parametrize("event_id", ["", "   ", None, 5])
def test_bad_event_id(event_id: Any) -> None:
    client = WebexEvents(token=TOKEN, transport=httpx.MockTransport(forbidden))
    with client, pytest.raises(InvalidArgumentError, match="event_id"):
        client.get_event(event_id)

    async def main() -> None:
        async with AsyncWebexEvents(token=TOKEN, transport=httpx.MockTransport(aforbidden)) as client:
            with pytest.raises(InvalidArgumentError, match="event_id"):
                await client.get_event(event_id)

    asyncio.run(main())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"base_url": "ftp://webexapis.com/v1"}, "base_url"),
        ({"base_url": "webexapis.com/v1"}, "base_url"),
        ({"base_url": "http://webexapis.com/v1"}, "base_url must use https"),
        ({"base_url": "http://10.0.0.1/v1"}, "base_url must use https"),
        ({"base_url": "https://user:pw@webexapis.com/v1"}, "credentials"),
        ({"token": ""}, "token must not be empty"),
        ({"token": "   "}, "token must not be empty"),
        ({"token": "a\nb"}, "token"),
        ({"concurrency": 0}, "concurrency"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": -1}, "timeout"),
        ({"retry": {"max_attempts": 1}}, "retry"),
        ({"http_client": httpx.Client(), "transport": httpx.MockTransport(forbidden)}, "not both"),
        ({"http_client": httpx.AsyncClient()}, "http_client"),
    ],
)
def test_bad_constructor_arguments(kwargs: dict[str, Any], match: str) -> None:
    kwargs.setdefault("token", TOKEN)
    if "http_client" not in kwargs:
        kwargs.setdefault("transport", httpx.MockTransport(forbidden))
    with pytest.raises(InvalidArgumentError, match=match):
        WebexEvents(**kwargs)


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8080/v1",
        "http://127.5.6.7/v1",
        "http://[::1]:9/v1",
        "http://localhost:1/v1",
        "https://example.org/v1/",
    ],
)
def test_loopback_http_and_https_are_allowed(base_url: str) -> None:
    WebexEvents(token=TOKEN, base_url=base_url, transport=httpx.MockTransport(forbidden)).close()


def test_token_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBEX_ACCESS_TOKEN", TOKEN)

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        return httpx.Response(404, json={"message": "gone"})

    with WebexEvents(transport=httpx.MockTransport(handler)) as client, pytest.raises(NotFoundError):
        client.get_event("x")


def test_missing_token_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEBEX_ACCESS_TOKEN", raising=False)
    with pytest.raises(InvalidArgumentError, match="WEBEX_ACCESS_TOKEN"):
        WebexEvents()
    with pytest.raises(InvalidArgumentError, match="WEBEX_ACCESS_TOKEN"):
        AsyncWebexEvents()


def test_token_never_in_repr() -> None:
    client = WebexEvents(token=TOKEN, transport=httpx.MockTransport(forbidden))
    stream = client.list_events()
    for text in (repr(client), str(client), repr(stream), repr(client._requester), repr(stream.stats)):
        assert TOKEN not in text
    aclient = AsyncWebexEvents(token=TOKEN, transport=httpx.MockTransport(aforbidden))
    assert TOKEN not in repr(aclient)
    assert TOKEN not in repr(aclient.list_events())
    client.close()


def test_enums_and_unknown_strings_are_accepted() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={"items": []})

    with WebexEvents(token=TOKEN, transport=httpx.MockTransport(handler)) as client:
        list(client.list_events(resource=EventResource.MESSAGES, type=EventType.CREATED))
        list(client.list_events(resource="holograms", type="teleported"))
        list(client.list_events(resource="convergedRecordings", service_type=ServiceType.CALLING))
    assert seen[0].params["resource"] == "messages"
    assert seen[0].params["type"] == "created"
    assert seen[1].params["resource"] == "holograms"
    assert seen[2].params["serviceType"] == "calling"


def test_future_to_is_clamped_to_now() -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.params["to"])
        return httpx.Response(200, json={"items": []})

    with WebexEvents(token=TOKEN, transport=httpx.MockTransport(handler)) as client:
        before = datetime.now(UTC)
        list(client.list_events(to=before + timedelta(days=3)))
        list(client.list_events())
    for value in sent:
        assert datetime.fromisoformat(value) <= datetime.now(UTC)
        assert datetime.fromisoformat(value) >= before - timedelta(seconds=1)


def test_errors_pickle_round_trip() -> None:
    err = NotFoundError(status_code=404, message="nope", tracking_id="T", errors=["d"], url="https://x/y")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is NotFoundError
    assert (back.status_code, back.message, back.tracking_id, back.errors, back.url) == (
        404,
        "nope",
        "T",
        ("d",),
        "https://x/y",
    )


def test_a_plain_http_client_trusts_no_certificate_and_https_verifies() -> None:
    # Plain http goes to loopback only, where no TLS connection is made: should one be made
    # anyway, its context verifies as strictly as the default and trusts nothing (fails closed).
    import ssl  # noqa: PLC0415

    import httpx  # noqa: PLC0415

    from webex_events._config import tls_verify, validate_base_url  # noqa: PLC0415

    assert tls_verify(httpx.URL("https://webexapis.com/v1")) is True
    context = tls_verify(validate_base_url("http://127.0.0.1:8080/v1/"))
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0
    assert str(validate_base_url("http://127.0.0.1:8080/v1/")) == "http://127.0.0.1:8080/v1"
