"""Each knob of the fake does what it says (latency, rate limit, faults, defects, errors)."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from webex_events.testing import FakeStats, FakeWebex, Fault

END = datetime(2024, 3, 1, tzinfo=UTC)
BASE = "https://webexapis.com/v1"


class Clock:
    """A hand-driven monotonic clock."""

    def __init__(self, now: float = 100.25) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def client(fake: FakeWebex) -> httpx.Client:
    return httpx.Client(transport=fake.transport(), headers={"Authorization": f"Bearer {fake.token}"})


def test_latency_delays_successes_not_edge_rejections(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(time, "sleep", sleeps.append)
    clock = Clock()
    fake = FakeWebex(events=20, end=END, latency=0.25, rate_limit=2, clock=clock)
    with client(fake) as http:
        statuses = [http.get(f"{BASE}/events").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert sleeps == [0.25, 0.25]  # the 429 was answered at once


def test_latency_really_waits() -> None:
    fake = FakeWebex(events=5, end=END, latency=0.05)
    started = time.monotonic()
    with client(fake) as http:
        for _ in range(3):
            http.get(f"{BASE}/events")
    assert time.monotonic() - started >= 0.15  # a lower bound only


def test_async_latency_uses_asyncio_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    waited: list[float] = []

    def forbidden(seconds: float) -> None:
        raise AssertionError("time.sleep would block the event loop")

    async def fake_sleep(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(time, "sleep", forbidden)
    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    fake = FakeWebex(events=5, end=END, latency=0.5)

    async def run() -> list[int]:
        headers = {"Authorization": f"Bearer {fake.token}"}
        async with httpx.AsyncClient(transport=fake.async_transport(), headers=headers) as http:
            rs = await asyncio.gather(*(http.get(f"{BASE}/events") for _ in range(4)))
        return [r.status_code for r in rs]

    assert asyncio.run(run()) == [200] * 4
    assert waited == [0.5] * 4


def test_latency_jitter_is_seeded() -> None:
    def delays(seed: int) -> list[float]:
        fake = FakeWebex(events=5, seed=seed, end=END, latency=0.1, latency_jitter=0.05)
        headers = {"authorization": f"Bearer {fake.token}"}
        return [fake._app.handle("GET", "https://x", "/v1/events", headers).delay for _ in range(5)]

    first = delays(1)
    assert first == delays(1)
    assert all(0.1 <= d < 0.15 for d in first)
    assert len(set(first)) > 1


def test_rate_limit_windows_and_early_requests() -> None:
    clock = Clock(10.2)
    fake = FakeWebex(events=5, end=END, rate_limit=3, clock=clock)
    with client(fake) as http:
        assert [http.get(f"{BASE}/events").status_code for _ in range(3)] == [200, 200, 200]
        limited = http.get(f"{BASE}/events")
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "0.8"
        assert limited.json()["trackingId"] == limited.headers["TrackingID"]
        assert (fake.stats.rate_limited, fake.stats.early_requests) == (1, 0)
        clock.now = 10.7  # before Retry-After ran out: early
        early = http.get(f"{BASE}/events")
        assert early.status_code == 429
        assert early.headers["Retry-After"] == "0.3"
        assert (fake.stats.rate_limited, fake.stats.early_requests) == (2, 1)
        clock.now = 11.0  # waited exactly Retry-After: a new window, not early
        assert http.get(f"{BASE}/events").status_code == 200
        assert fake.stats.early_requests == 1
        assert fake.stats.requests == 6
        assert fake.stats.statuses[429] == 2


def test_early_request_after_injected_429() -> None:
    clock = Clock(50.0)
    fake = FakeWebex(
        events=5,
        end=END,
        fault_rate=1.0,
        faults=[Fault.TOO_MANY_REQUESTS],
        fault_retry_after=0.01,
        clock=clock,
        early_grace=0,
    )
    with client(fake) as http:
        first = http.get(f"{BASE}/events")
        assert (first.status_code, first.headers["Retry-After"]) == (429, "0.01")
        http.get(f"{BASE}/events")  # right away: early
        assert fake.stats.early_requests == 1
        assert fake.stats.faults == 1
        clock.now += 0.01
        fake.knobs.fault_rate = 0.0
        assert http.get(f"{BASE}/events").status_code == 200
        assert fake.stats.early_requests == 1
        assert fake.stats.rate_limited == 2


def test_early_grace_is_the_moment_a_client_needs_to_read_a_429() -> None:
    clock = Clock(50.0)
    fake = FakeWebex(events=5, end=END, fault_rate=1.0, faults=["429"], fault_retry_after=0.1, clock=clock)
    assert fake.knobs.early_grace == 0.02
    with client(fake) as http:
        assert http.get(f"{BASE}/events").status_code == 429  # the wait runs 50.0 .. 50.1
        fake.knobs.fault_rate = 0.0
        clock.now = 50.015  # inside the grace: still refused, not counted early
        assert http.get(f"{BASE}/events").status_code == 429
        assert (fake.stats.waited_out, fake.stats.early_requests) == (1, 0)
        clock.now = 50.05  # past the grace of the first wait: early
        assert http.get(f"{BASE}/events").status_code == 429
        assert (fake.stats.waited_out, fake.stats.early_requests) == (2, 1)
        clock.now = 50.2  # every wait has run out (the early 429s set their own)
        assert http.get(f"{BASE}/events").status_code == 200
    assert fake.stats.early_requests == 1
    with pytest.raises(ValueError, match="early_grace"):
        FakeWebex(events=5, end=END, early_grace=-1)


def test_threads_that_ignore_retry_after_are_early_despite_the_grace() -> None:
    """The counter the client tests rely on catches a client without a shared gate."""
    fake = FakeWebex(events=5, end=END, latency=0.002, fault_rate=0.2, faults=["429"], fault_retry_after=0.1)

    def hammer() -> None:
        with client(fake) as http:
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline:
                http.get(f"{BASE}/events")  # ignores every Retry-After

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fake.stats.early_requests > 10


def test_retry_after_header_override() -> None:
    for text in ("rand(30),add(30)", "Wed, 21 Oct 2015 07:28:00 GMT"):
        fake = FakeWebex(events=5, end=END, fault_rate=1.0, faults=["503"], retry_after_header=text)
        with client(fake) as http:
            r = http.get(f"{BASE}/events")
        assert (r.status_code, r.headers["Retry-After"]) == (503, text)


@pytest.mark.parametrize("fault", [Fault.LOCKED, Fault.TOO_MANY_REQUESTS, Fault.SERVICE_UNAVAILABLE])
def test_retry_after_faults(fault: Fault) -> None:
    fake = FakeWebex(events=5, end=END, fault_rate=1.0, faults=[fault], fault_retry_after=1.5, early_grace=0)
    with client(fake) as http:
        r = http.get(f"{BASE}/events")
        assert r.status_code == int(fault.value)
        assert r.headers["Retry-After"] == "1.5"
        assert r.json()["message"]
        g = http.get(f"{BASE}/events/whatever")  # gets are subject to faults too (here: early 429)
        assert g.status_code == 429
    assert fake.stats.faults == 1
    assert fake.stats.early_requests == 1


@pytest.mark.parametrize("fault", [Fault.INTERNAL_SERVER_ERROR, Fault.BAD_GATEWAY, Fault.GATEWAY_TIMEOUT])
def test_server_error_faults(fault: Fault) -> None:
    fake = FakeWebex(events=5, end=END, fault_rate=1.0, faults=[fault])
    with client(fake) as http:
        r = http.get(f"{BASE}/events")
        event_id = FakeWebex(events=5, end=END).events[0]["id"]
        g = http.get(f"{BASE}/events/{event_id}")
    assert r.status_code == g.status_code == int(fault.value)
    assert "Retry-After" not in r.headers
    assert r.json()["trackingId"] == r.headers["TrackingID"]
    assert fake.stats.faults == 2
    assert fake.stats.pages == 0


def test_connection_reset_in_process() -> None:
    fake = FakeWebex(events=5, end=END, fault_rate=1.0, faults=[Fault.CONNECTION_RESET])
    with client(fake) as http, pytest.raises(httpx.ReadError):
        http.get(f"{BASE}/events")
    assert fake.stats.faults == 1
    assert fake.stats.statuses[0] == 1


def test_truncated_body_in_process_sync_and_async() -> None:
    fake = FakeWebex(events=50, end=END, fault_rate=1.0, faults=[Fault.TRUNCATED_BODY])
    with client(fake) as http, pytest.raises(httpx.RemoteProtocolError):
        http.get(f"{BASE}/events")

    async def run() -> None:
        headers = {"Authorization": f"Bearer {fake.token}"}
        async with httpx.AsyncClient(transport=fake.async_transport(), headers=headers) as http:
            await http.get(f"{BASE}/events")

    with pytest.raises(httpx.RemoteProtocolError):
        asyncio.run(run())
    assert fake.stats.faults == 2
    assert fake.stats.pages == 0


def test_fault_injection_is_seeded_and_paging_survives_it() -> None:
    def run(seed: int) -> tuple[list[str], list[object]]:
        fake = FakeWebex(events=1500, seed=seed, end=END, fault_rate=0.3, fault_retry_after=0.0)
        ids: list[str] = []
        outcomes: list[object] = []
        url: str | None = f"{BASE}/events?max=10"
        with client(fake) as http:
            while url:
                try:
                    r = http.get(url)
                except httpx.TransportError as exc:
                    outcomes.append(type(exc).__name__)
                    continue
                outcomes.append(r.status_code)
                if r.status_code != 200:
                    continue
                ids += [item["id"] for item in r.json()["items"]]
                url = r.links.get("next", {}).get("url")
        assert ids == fake.expected_ids()
        assert fake.stats.faults == sum(1 for o in outcomes if o != 200)
        return ids, outcomes

    _, first = run(4)
    _, again = run(4)
    assert first == again
    assert {"ReadError", "RemoteProtocolError", 423, 429, 500, 502, 503, 504} <= set(first)


def test_gateway_timeout_above() -> None:
    fake = FakeWebex(events=300, end=END, gateway_timeout_above=200)
    with client(fake) as http:
        big = http.get(f"{BASE}/events?max=201")
        assert big.status_code == 504
        assert "max" in big.json()["message"]
        assert http.get(f"{BASE}/events?max=200").status_code == 200
        assert http.get(f"{BASE}/events").status_code == 200  # default 100
    assert fake.stats.faults == 1


def test_next_link_max_null_defect() -> None:
    fake = FakeWebex(events=300, end=END, next_link_max_null=True)
    with client(fake) as http:
        r = http.get(f"{BASE}/events?max=50&resource=messages")
        link = r.links["next"]["url"]
        assert parse_qs(urlsplit(link).query)["max"] == ["null"]
        assert http.get(link).status_code == 400  # following it verbatim fails, as with Webex


def test_next_link_drops_filters_defect() -> None:
    fake = FakeWebex(events=300, end=END, next_link_drops_filters=True)
    with client(fake) as http:
        r = http.get(f"{BASE}/events?max=10&resource=messages")
        assert {e["resource"] for e in r.json()["items"]} == {"messages"}
        link = r.links["next"]["url"]
        assert "resource" not in parse_qs(urlsplit(link).query)
        follow = http.get(link).json()["items"]
    assert {e["resource"] for e in follow} != {"messages"}


def test_next_link_origin() -> None:
    fake = FakeWebex(events=300, end=END, next_link_origin="https://evil.example.net")
    with client(fake) as http:
        link = http.get(f"{BASE}/events").links["next"]["url"]
    assert link.startswith("https://evil.example.net/v1/events?")


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong", "bearer fake-token", "Bearer fake-token ", "fake-token", "Basic fake-token"],
)
def test_401_unless_exact_bearer_token(header: str | None) -> None:
    fake = FakeWebex(events=5, end=END)
    headers = {} if header is None else {"Authorization": header}
    with httpx.Client(transport=fake.transport()) as http:
        r = http.get(f"{BASE}/events", headers=headers)
        assert r.status_code == 401
        assert r.json()["trackingId"] == r.headers["TrackingID"]
        g = http.get(f"{BASE}/events/{fake.events[0]['id']}", headers=headers)
        assert g.status_code == 401


@pytest.mark.parametrize("path", ["/v1/nope", "/v2/events", "/events", "/v1/events/a/b", "/v1/events/"])
def test_other_paths_404(path: str) -> None:
    fake = FakeWebex(events=5, end=END)
    with client(fake) as http:
        r = http.get(f"https://webexapis.com{path}")
    assert r.status_code == 404
    assert r.headers["TrackingID"].startswith("ROUTER_")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_non_get_405(method: str) -> None:
    fake = FakeWebex(events=5, end=END)
    with client(fake) as http:
        assert http.request(method, f"{BASE}/events", json={"x": 1}).status_code == 405
        assert http.request(method, f"{BASE}/events/{fake.events[0]['id']}").status_code == 405


def test_tracking_ids_everywhere_unique_and_deterministic() -> None:
    def tracking(seed: int) -> list[str]:
        fake = FakeWebex(events=30, seed=seed, end=END, rate_limit=4, clock=Clock())
        out = []
        with httpx.Client(transport=fake.transport()) as http:
            auth = {"Authorization": f"Bearer {fake.token}"}
            for url, headers in [
                (f"{BASE}/events", auth),
                (f"{BASE}/events?max=0", auth),
                (f"{BASE}/events", {}),
                (f"{BASE}/events/nope", auth),
                (f"{BASE}/events", auth),  # 429
            ]:
                r = http.get(url, headers=headers)
                out.append(r.headers["TrackingID"])
        return out

    ids = tracking(1)
    assert all(t.startswith("ROUTER_") for t in ids)
    assert len(set(ids)) == len(ids)
    assert ids == tracking(1)
    assert ids != tracking(2)


def test_stats_counters_and_reset() -> None:
    fake = FakeWebex(events=250, end=END)
    with client(fake) as http:
        url: str | None = f"{BASE}/events?max=100"
        while url:
            r = http.get(url)
            url = r.links.get("next", {}).get("url")
        http.get(f"{BASE}/events/{fake.events[0]['id']}")
    assert (fake.stats.requests, fake.stats.pages, fake.stats.items) == (4, 3, 250)
    assert fake.stats.statuses[200] == 4
    fake.reset_stats()
    assert fake.stats == FakeStats()
    assert isinstance(fake.stats, FakeStats)


def test_invalid_knobs_raise() -> None:
    with pytest.raises(ValueError, match="fault_rate"):
        FakeWebex(events=5, fault_rate=2.0)
    with pytest.raises(ValueError, match="aware"):
        FakeWebex(events=5, end=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="'nope' is not a valid Fault"):
        FakeWebex(events=5, faults=["nope"])


def test_forbidden_token_gets_403_and_the_library_raises_permission_denied() -> None:
    from webex_events import PermissionDeniedError, WebexEvents  # noqa: PLC0415

    fake = FakeWebex(events=5, end=END, forbidden_token="no-scope")
    with httpx.Client(transport=fake.transport(), headers={"Authorization": "Bearer no-scope"}) as http:
        r = http.get(f"{BASE}/events")
    assert r.status_code == 403
    assert r.json()["trackingId"] == r.headers["TrackingID"]
    assert "scope" in r.json()["message"]
    with (
        WebexEvents(token="no-scope", transport=fake.transport()) as client,
        pytest.raises(PermissionDeniedError) as info,
    ):
        list(client.list_events())
    assert info.value.status_code == 403
    assert info.value.tracking_id is not None
    assert "no-scope" not in str(info.value)
    assert fake.stats.requests == 2  # final: not retried
