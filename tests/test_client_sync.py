"""End to end against FakeWebex (sync client), in process and over loopback."""

from __future__ import annotations

import asyncio
import logging
import ssl
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webex_events import (
    AsyncWebexEvents,
    Event,
    EventResource,
    EventType,
    RetryPolicy,
    UnsafeNextLinkError,
    WebexEvents,
)
from webex_events.testing import FakeWebex, Fault

END = datetime(2024, 1, 31, tzinfo=UTC)
START = END - timedelta(days=2)
TOKEN = "s3cr3t-sync-token-abcdef"
FAST = RetryPolicy(backoff_base=0.001, backoff_cap=0.004, max_attempts=12, seed=7)


def fake_org(**kw: Any) -> FakeWebex:
    kw.setdefault("events", 1500)
    kw.setdefault("seed", 3)
    return FakeWebex(start=START, end=END, token=TOKEN, **kw)


def client_for(fake: FakeWebex, **kw: Any) -> WebexEvents:
    kw.setdefault("retry", FAST)
    return WebexEvents(token=TOKEN, transport=fake.transport(), **kw)


def ids(events: list[Event]) -> list[str]:
    return [e.id for e in events]


class RecordingTransport(httpx.BaseTransport):
    """Delegates to the fake; remembers where each request went."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.urls: list[httpx.URL] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(request.url)
        return self.inner.handle_request(request)


@pytest.fixture(scope="module")
def org() -> FakeWebex:
    return fake_org(events=3000, unknown_fraction=0.05)


def test_everything_sequential_many_pages(org: FakeWebex) -> None:
    org.reset_stats()
    with client_for(org) as client:
        stream = client.list_events(page_size=100)
        got = list(stream)
    assert ids(got) == org.expected_ids()  # server order (newest first), nothing lost, no duplicates
    assert stream.stats.pages == org.stats.pages == 30
    assert stream.stats.events == 3000
    for event in got[:50]:
        assert event.raw_json.encode() == org.event_json(event.id)


@pytest.mark.parametrize(
    "filters",
    [
        {"resource": "messages"},
        {"resource": EventResource.MEMBERSHIPS, "type": EventType.DELETED},
        {"type": "created"},
        {"resource": "convergedRecordings", "service_type": "calling"},
        {"resource": "meetings", "type": "ended"},
        {"from_": START + timedelta(hours=5), "to": START + timedelta(hours=30)},
        {"from_": START + timedelta(hours=5)},
        {"to": START + timedelta(hours=1, milliseconds=1)},
    ],
)
def test_filters(org: FakeWebex, filters: dict[str, Any]) -> None:
    with client_for(org) as client:
        # concurrency=1: one query, so the order is the server's across the whole range
        got = list(client.list_events(page_size=250, concurrency=1, **filters))
    assert ids(got) == org.expected_ids(
        **{k: v if not hasattr(v, "value") else v.value for k, v in filters.items()}
    )
    assert got or filters.get("resource") == "convergedRecordings"


def test_actor_filter(org: FakeWebex) -> None:
    actor = org.actor_ids[0]
    with client_for(org) as client:
        got = list(client.list_events(actor_id=actor, page_size=50))
    assert got
    assert ids(got) == org.expected_ids(actor_id=actor)
    assert {e.actor_id for e in got} == {actor}


def test_windowed_order_and_exactness(org: FakeWebex) -> None:
    with client_for(org) as client:
        stream = client.list_events(
            from_=START, to=END, window=timedelta(hours=5), concurrency=3, page_size=200
        )
        windows = list(stream.windows())
    assert len(windows) == stream.stats.windows_total == stream.stats.windows_done == 10
    assert [w.end for w in windows] == sorted(w.end for w in windows)
    assert windows[0].start == START
    assert windows[-1].end == END
    for w in windows:
        # inside a window: the order the server sent (newest first)
        assert ids(w.events) == org.expected_ids(from_=w.start, to=w.end)
    assert sorted(e.id for w in windows for e in w.events) == sorted(org.expected_ids(from_=START, to=END))


def test_window_auto(org: FakeWebex) -> None:
    with client_for(org, concurrency=2) as client:
        stream = client.list_events(from_=START, to=END, window="auto")
        got = list(stream)
    assert stream.stats.windows_total == stream.stats.windows_done  # the estimate ends exact
    assert sorted(ids(got)) == sorted(org.expected_ids(from_=START, to=END))


def test_window_auto_adapts_to_density_and_bounds_each_window() -> None:
    # 6000 events over 2 days with pages of 100: auto windows learn the density and aim at
    # 90 % of two pages each, so memory stays a few pages and few requests are wasted.
    fake = fake_org(events=6000, seed=8)
    with client_for(fake, concurrency=4) as client:
        stream = client.list_events(from_=START, to=END, window="auto", page_size=100)
        windows = list(stream.windows())
    sizes = [len(w.events) for w in windows]
    assert sorted(e.id for w in windows for e in w.events) == sorted(fake.expected_ids(from_=START, to=END))
    assert len(windows) >= 30
    assert max(sizes) <= 300
    assert sum(sizes) / len(sizes) <= 200
    assert stream.stats.requests <= 1.3 * 6000 / 100 + 2


def test_unknown_enum_values_and_fields_are_kept(org: FakeWebex) -> None:
    with client_for(org) as client:
        got = list(client.list_events(page_size=1000))
    unknown = [
        e for e in got if not isinstance(e.resource, EventResource) or not isinstance(e.type, EventType)
    ]
    assert unknown, "the fake should serve some unknown values"
    for event in unknown:
        raw = event.raw
        assert event.resource == raw["resource"]
        assert event.type == raw["type"]
        model = event.model
        assert str(model.resource) == raw["resource"]
        assert event.raw_json.encode() == org.event_json(event.id)
        assert event.created.tzinfo is not None
    # extra fields survive in the typed model
    extras = [
        e
        for e in got
        if set(e.raw) - {"id", "resource", "type", "actorId", "orgId", "created", "data", "appId"}
    ]
    for event in extras[:20]:
        assert event.model.additional_properties


# ---------------------------------------------------------------------------- exactness (hypothesis)

_EDGE = fake_org(events=600, seed=9, same_millisecond_fraction=0.3, boundary_fraction=0.3)
_CREATED = sorted({datetime.fromisoformat(e["created"]) for e in _EDGE.events})


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    # Real event times (and +-1 ms) to hit boundaries, or arbitrary instants with sub-ms parts.
    if draw(st.booleans()):
        base = draw(st.sampled_from(_CREATED))
        return base + timedelta(milliseconds=draw(st.sampled_from([-1, 0, 0, 1])))
    return START + timedelta(microseconds=draw(st.integers(0, 2 * 86_400 * 10**6)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    a=instants(),
    b=instants(),
    window_ms=st.sampled_from([1, 7, 1000, 60_000, 3_600_000, 5 * 3_600_000 + 3]) | st.integers(1, 10**8),
    from_inclusive=st.booleans(),
    to_inclusive=st.booleans(),
    concurrency=st.integers(1, 4),
)
def test_chunking_is_exact_under_any_inclusivity(
    a: datetime, b: datetime, window_ms: int, from_inclusive: bool, to_inclusive: bool, concurrency: int
) -> None:
    lo, hi = min(a, b), max(a, b)
    # keep the number of windows modest: exactness does not depend on it
    span_ms = (hi - lo) // timedelta(milliseconds=1)
    window_ms = max(window_ms, span_ms // 40 + 1)
    _EDGE.knobs.from_inclusive = from_inclusive
    _EDGE.knobs.to_inclusive = to_inclusive
    with client_for(_EDGE) as client:
        got = list(
            client.list_events(
                from_=lo,
                to=hi,
                window=timedelta(milliseconds=window_ms),
                concurrency=concurrency,
                page_size=50,
            )
        )
        seq = list(client.list_events(from_=lo, to=hi, page_size=50, concurrency=1))
    expected = _EDGE.expected_ids(from_=lo, to=hi)
    assert sorted(ids(got)) == sorted(expected)
    assert len(set(ids(got))) == len(got)
    assert ids(seq) == expected


@pytest.mark.parametrize(
    ("from_inclusive", "to_inclusive"), [(True, True), (True, False), (False, True), (False, False)]
)
def test_boundaries_all_four_inclusivity_combinations(from_inclusive: bool, to_inclusive: bool) -> None:
    fake = fake_org(
        events=800,
        seed=4,
        same_millisecond_fraction=0.4,
        boundary_fraction=0.5,
        from_inclusive=from_inclusive,
        to_inclusive=to_inclusive,
    )
    with client_for(fake) as client:
        stream = client.list_events(
            from_=START, to=END, window=timedelta(minutes=30), concurrency=4, page_size=7
        )
        got = ids(list(stream))
    assert sorted(got) == sorted(fake.expected_ids(from_=START, to=END))
    assert len(got) == len(set(got)) == 800


# ---------------------------------------------------------------------------- resilience


def test_ten_percent_faults_of_every_kind(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="webex_events")
    # A little latency, as on a real network: with threads, a request that passed the gate just
    # before another thread saw a 429 is already on its way; no client can recall it.
    fake = fake_org(
        events=2000, seed=5, fault_rate=0.1, faults=list(Fault), fault_retry_after=0.05, latency=0.002
    )
    with client_for(fake) as client:
        stream = client.list_events(
            from_=START, to=END, window=timedelta(hours=3), concurrency=4, page_size=20
        )
        got = ids(list(stream))
    assert sorted(got) == sorted(fake.expected_ids(from_=START, to=END))
    assert len(got) == len(set(got))
    assert fake.stats.faults >= 5  # ~10 % of well over 100 requests
    assert fake.stats.early_requests == 0
    # every fault retried once, and every 429 of a request that left in the client's moment of
    # reaction (inside the fake's early_grace, see test_fake_knobs), nothing else
    assert stream.stats.retries == fake.stats.faults + fake.stats.waited_out
    kinds = {s for s in fake.stats.statuses if s != 200}
    assert len(kinds) >= 3
    assert "retrying GET" in caplog.text
    assert TOKEN not in caplog.text


def test_rate_limited_concurrent_run_has_no_early_requests() -> None:
    # A little latency, as on a real network: requests already in flight when a 429 is issued
    # cannot be recalled by any client; every request *started* after it must wait.
    fake = fake_org(events=1200, rate_limit=15, latency=0.002)
    with client_for(fake, retry=RetryPolicy(max_attempts=20, seed=1)) as client:
        # 48 requests: however they straddle the fake's one-second windows, one gets > 15.
        stream = client.list_events(
            from_=START, to=END, window=timedelta(hours=2), concurrency=4, page_size=50
        )
        got = ids(list(stream))
    assert sorted(got) == sorted(fake.expected_ids(from_=START, to=END))
    assert fake.stats.rate_limited > 0
    assert fake.stats.early_requests == 0


def test_malformed_retry_after_falls_back_to_default() -> None:
    fake = fake_org(
        events=300,
        fault_rate=0.3,
        faults=[Fault.TOO_MANY_REQUESTS],
        fault_retry_after=0.02,
        retry_after_header="rand(30),add(30)",
    )
    policy = RetryPolicy(retry_after_default=0.05, max_attempts=20, seed=2)
    with client_for(fake, retry=policy) as client:
        got = ids(list(client.list_events(page_size=20)))
    assert got == fake.expected_ids()
    assert fake.stats.rate_limited > 0
    assert fake.stats.early_requests == 0


def test_504_lowers_max() -> None:
    fake = fake_org(events=900, gateway_timeout_above=250)
    transport = RecordingTransport(fake.transport())
    with WebexEvents(token=TOKEN, transport=transport, retry=FAST) as client:
        stream = client.list_events(page_size=1000)
        got = ids(list(stream))
    assert got == fake.expected_ids()
    maxes = [u.params["max"] for u in transport.urls]
    assert maxes[:3] == ["1000", "500", "250"]
    assert set(maxes[3:]) == {"250"}
    assert fake.stats.faults == 2


def test_next_link_max_null_and_dropped_filters_are_repaired() -> None:
    fake = fake_org(events=1500, next_link_max_null=True, next_link_drops_filters=True)
    transport = RecordingTransport(fake.transport())
    with WebexEvents(token=TOKEN, transport=transport, retry=FAST) as client:
        got = ids(
            list(
                client.list_events(
                    resource="messages",
                    type="created",
                    page_size=40,
                    concurrency=1,  # one query: every next link is followed
                    from_=START + timedelta(hours=3),
                    to=END - timedelta(hours=3),
                )
            )
        )
    assert got == fake.expected_ids(
        resource="messages", type="created", from_=START + timedelta(hours=3), to=END - timedelta(hours=3)
    )
    assert len(transport.urls) > 3
    for url in transport.urls:
        assert url.params["max"] == "40"
        assert url.params["resource"] == "messages"
        assert url.params["type"] == "created"


@pytest.mark.parametrize(
    "origin", ["https://evil.example.com", "http://webexapis.com", "https://webexapis.com:444"]
)
def test_cross_host_next_link_is_refused(origin: str) -> None:
    fake = fake_org(events=300, next_link_origin=origin)
    transport = RecordingTransport(fake.transport())
    with WebexEvents(token=TOKEN, transport=transport, retry=FAST) as client:
        stream = client.list_events(page_size=100)
        seen: list[str] = []
        with pytest.raises(UnsafeNextLinkError, match="refusing"):
            seen.extend(e.id for e in stream)
    assert seen == fake.expected_ids()[:100]  # the first page was delivered, then the refusal
    assert [(u.scheme, u.host, u.port) for u in transport.urls] == [("https", "webexapis.com", None)]


def test_get_event(org: FakeWebex) -> None:
    target = org.events[17]
    with client_for(org) as client:
        event = client.get_event(target["id"])
    assert event.raw == target
    assert event.raw_json.encode() == org.event_json(target["id"])


def test_early_break_stops_the_workers(org: FakeWebex) -> None:
    with client_for(org) as client:
        stream = client.list_events(
            from_=START, to=END, window=timedelta(minutes=20), concurrency=3, page_size=50
        )
        iterator: Iterator[Event] = iter(stream)
        first = [next(iterator) for _ in range(5)]
        iterator.close()  # type: ignore[attr-defined]
    assert len(first) == 5
    # bounded look-ahead: far fewer windows fetched than exist
    assert stream.stats.windows_done <= 1 < stream.stats.windows_total


def test_a_listing_left_unfinished_and_still_referenced_does_not_hang_the_exit(tmp_path: Path) -> None:
    # The stream and its iterator stay referenced by module globals until the interpreter
    # exits, so nothing closes them: the workers, waiting for a buffer slot the consumer will
    # never free, must not be joined at exit.
    script = tmp_path / "abandon.py"
    script.write_text(
        "from webex_events import WebexEvents\n"
        "from webex_events.testing import FakeWebex\n"
        "fake = FakeWebex(events=4000, seed=12)\n"
        "client = WebexEvents(token=fake.token, transport=fake.transport())\n"
        "stream = client.list_events(\n"
        "    from_=fake.start, to=fake.end, window='auto', concurrency=4, page_size=50\n"
        ")\n"
        "iterator = iter(stream)\n"
        "print(next(iterator).id in fake.expected_ids(), flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "True\n", "")


# ---------------------------------------------------------------------------- over loopback


def test_over_loopback_http() -> None:
    fake = fake_org(events=800, fault_rate=0.1, faults=list(Fault), fault_retry_after=0.05)
    with fake.serve() as base_url, WebexEvents(token=TOKEN, base_url=base_url, retry=FAST) as client:
        seq = ids(list(client.list_events(page_size=100)))
        stream = client.list_events(
            from_=START, to=END, window=timedelta(hours=6), concurrency=3, page_size=100
        )
        win = ids(list(stream))
        one = client.get_event(seq[5])
    assert seq == fake.expected_ids()
    assert sorted(win) == sorted(fake.expected_ids(from_=START, to=END))
    assert one.raw_json.encode() == fake.event_json(seq[5])
    assert fake.stats.early_requests == 0


@pytest.mark.parametrize("client_type", ["sync", "async"])
def test_a_loopback_http_client_loads_no_ca_bundle_and_an_https_client_does(
    monkeypatch: pytest.MonkeyPatch, client_type: str
) -> None:
    # Loading the CA bundle costs 20-30 ms per client; plain http (loopback only) never uses it.
    loads: list[object] = []
    real = ssl.SSLContext.load_verify_locations

    def counting(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(args or kwargs)
        real(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    client_cls: Any = WebexEvents if client_type == "sync" else AsyncWebexEvents
    fake = fake_org(events=30)
    with fake.serve() as base_url:
        client = client_cls(token=TOKEN, base_url=base_url)
        if client_type == "sync":
            with client:
                got = [e.id for e in client.list_events(from_=START, to=END)]
        else:

            async def listing() -> list[str]:
                async with client:
                    return [e.id async for e in client.list_events(from_=START, to=END)]

            got = asyncio.run(listing())
    assert sorted(got) == sorted(fake.expected_ids(from_=START, to=END))
    assert loads == []
    client_cls(token=TOKEN, base_url="https://webexapis.com/v1")  # nothing sent: construction only
    assert loads, "an https client must load the CA bundle"
