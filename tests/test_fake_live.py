"""The fake's live mode: a wall clock, late visibility, ``FakeWebex.live``, ``SimClock``, the CLI."""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import _cli
import httpx
import pytest

from webex_events.testing import FakeWebex, SimClock

END = datetime(2024, 3, 1, tzinfo=UTC)
BASE = "https://webexapis.com/v1"
LATE = ((0.4, 30.0, 900.0), (0.1, 1200.0, 1800.0))


def _client(fake: FakeWebex, base: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {fake.token}"}
    if base is None:
        return httpx.Client(transport=fake.transport(), headers=headers)
    return httpx.Client(headers=headers)


def _late_fake(clock: SimClock, events: int = 300, **options: object) -> FakeWebex:
    """Events over the hour before END, half of them late; the clock starts at END."""
    return FakeWebex(
        events=events,
        seed=5,
        start=END - timedelta(hours=1),
        end=END,
        wall_clock=clock,
        late=LATE,
        **options,  # type: ignore[arg-type]
    )


def _pages(http: httpx.Client, url: str) -> list[httpx.Response]:
    pages = []
    next_url: str | None = url
    while next_url:
        page = http.get(next_url)
        assert page.status_code == 200, page.text
        pages.append(page)
        next_url = page.links.get("next", {}).get("url")
        assert len(pages) < 1000
    return pages


def _ids(pages: list[httpx.Response]) -> list[str]:
    return [item["id"] for page in pages for item in page.json()["items"]]


def _created_ms(fake: FakeWebex, event_id: str) -> int:
    event = next(e for e in fake.events if e["id"] == event_id)
    created = datetime.fromisoformat(event["created"])
    return round(created.timestamp() * 1000)


# ---- SimClock ---------------------------------------------------------------------------------------


def test_sim_clock_reads_advances_and_sleeps() -> None:
    clock = SimClock(datetime(2024, 1, 31, 12, tzinfo=UTC))
    assert clock() == datetime(2024, 1, 31, 12, tzinfo=UTC).timestamp()
    clock.advance(1.5)
    clock.sleep(0.25)
    assert clock.now() == datetime(2024, 1, 31, 12, 0, 1, 750000, tzinfo=UTC)
    for _ in range(1000):  # whole microseconds: no drift
        clock.advance(0.001)
    assert clock.now() == datetime(2024, 1, 31, 12, 0, 2, 750000, tzinfo=UTC)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="aware"):
        SimClock(datetime(2024, 1, 31))


def test_sim_clock_is_thread_safe() -> None:
    clock = SimClock(END)

    def tick() -> None:
        for _ in range(2000):
            clock.advance(0.001)

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clock.now() == END + timedelta(seconds=8)


def test_wall_clock_is_the_fakes_now() -> None:
    clock = SimClock(END + timedelta(minutes=42, seconds=7))
    fake = FakeWebex(events=50, wall_clock=clock)
    assert fake.now() == END + timedelta(minutes=42, seconds=7)
    assert fake.end == END  # the default end: the wall clock floored to the hour
    clock.advance(60)
    assert fake.now() == END + timedelta(minutes=43, seconds=7)


def test_wall_clock_drives_to_and_expected_ids() -> None:
    # Events up to END + 1h; the clock at END + 30 min: only the first half are out.
    clock = SimClock(END + timedelta(minutes=30))
    fake = FakeWebex(
        events=200, seed=2, start=END - timedelta(hours=1), end=END + timedelta(hours=1), wall_clock=clock
    )
    now_ms = round(clock() * 1000)
    out = [e["id"] for e in fake.events if _created_ms(fake, e["id"]) < now_ms]
    assert 0 < len(out) < 200
    assert fake.expected_ids() == out
    with _client(fake) as http:
        assert _ids(_pages(http, f"{BASE}/events?max=50")) == out
    clock.advance(3600)
    assert fake.expected_ids() == [e["id"] for e in fake.events]


# ---- late visibility ---------------------------------------------------------------------------------


def test_late_events_are_hidden_until_visible_in_process() -> None:
    clock = SimClock(END)
    fake = _late_fake(clock)
    every = fake.expected_ids()
    visible = fake.expected_ids(visible_only=True)
    assert len(every) == 300
    assert 150 < len(visible) < 300  # ~40 % of the last hour is still hidden, the rest shown
    assert visible == [i for i in every if fake.visible_at(i) <= clock.now()]  # type: ignore[operator]
    with _client(fake) as http:
        assert _ids(_pages(http, f"{BASE}/events?max=1000")) == visible
        clock.advance(1800)
        assert _ids(_pages(http, f"{BASE}/events?max=1000")) == every == fake.expected_ids(visible_only=True)


def test_late_events_are_hidden_until_visible_over_loopback() -> None:
    clock = SimClock(END)
    fake = _late_fake(clock)
    with fake.serve() as base, _client(fake, base) as http:
        assert base.startswith("http://127.0.0.1:")
        visible = fake.expected_ids(visible_only=True)
        assert _ids(_pages(http, f"{base}/events?max=7")) == visible != fake.expected_ids()
        hidden = next(i for i in fake.expected_ids() if i not in visible)
        assert http.get(f"{base}/events/{hidden}").status_code == 404
        clock.advance(1800)
        assert http.get(f"{base}/events/{hidden}").json()["id"] == hidden
        assert _ids(_pages(http, f"{base}/events?max=7")) == fake.expected_ids()


def test_late_events_over_the_async_transport() -> None:
    clock = SimClock(END)
    fake = _late_fake(clock)

    async def listing() -> list[str]:
        headers = {"Authorization": f"Bearer {fake.token}"}
        async with httpx.AsyncClient(transport=fake.async_transport(), headers=headers) as http:
            page = await http.get(f"{BASE}/events?max=1000")
            return [item["id"] for item in page.json()["items"]]

    assert asyncio.run(listing()) == fake.expected_ids(visible_only=True)


@pytest.mark.parametrize(
    "query", ["", "&resource=messages", "&from=2024-02-29T23:20:00Z&to=2024-02-29T23:50:00Z"]
)
def test_paging_skips_invisible_events_between_pages(query: str) -> None:
    clock = SimClock(END - timedelta(minutes=5))
    fake = _late_fake(clock, events=400)
    filters: dict[str, object] = {}
    if "resource" in query:
        filters["resource"] = "messages"
    if "from" in query:
        filters["from_"] = datetime(2024, 2, 29, 23, 20, tzinfo=UTC)
        filters["to"] = datetime(2024, 2, 29, 23, 50, tzinfo=UTC)
    multiple_of_seven = False
    with _client(fake) as http:
        for _step in range(40):
            visible = fake.expected_ids(visible_only=True, **filters)  # type: ignore[arg-type]
            every = fake.expected_ids(**filters)  # type: ignore[arg-type]
            pages = _pages(http, f"{BASE}/events?max=7{query}")
            ids = _ids(pages)
            assert ids == visible  # exactly the visible ones, in order
            assert len(set(ids)) == len(ids)
            sizes = [len(page.json()["items"]) for page in pages]
            assert sizes[:-1] == [7] * (len(pages) - 1)
            assert len(pages) == max(1, math.ceil(len(visible) / 7))  # no empty last page
            for page in pages[:-1]:
                link = urlsplit(page.links["next"]["url"])
                params = parse_qs(link.query)
                assert link.path == "/v1/events"
                assert params["max"] == ["7"]
                assert set(params) == {"max", "cursor", *parse_qs(query.lstrip("&"))}
            assert "next" not in pages[-1].links
            multiple_of_seven |= len(visible) % 7 == 0 and len(visible) > 0
            if visible == every and clock.now() > END + timedelta(minutes=31):
                break
            clock.advance(61)
    assert visible == every  # everything came out in the end
    if not query:
        assert multiple_of_seven  # the case where `more` must look past hidden events was met


def test_paging_while_events_come_out_between_pages() -> None:
    """Events coming out below the cursor show up on a later page; none twice, none lost."""
    clock = SimClock(END)
    fake = _late_fake(clock)
    at_start = fake.expected_ids(visible_only=True)
    with _client(fake) as http:
        seen: list[str] = []
        url: str | None = f"{BASE}/events?max=7"
        while url:
            page = http.get(url)
            seen += [item["id"] for item in page.json()["items"]]
            url = page.links.get("next", {}).get("url")
            clock.advance(20)
    assert len(set(seen)) == len(seen)
    assert set(at_start) <= set(seen) <= set(fake.expected_ids(visible_only=True))
    assert len(seen) > len(at_start)  # some came out while the pages were read
    order = {event_id: n for n, event_id in enumerate(fake.expected_ids())}
    assert [order[i] for i in seen] == sorted(order[i] for i in seen)  # still newest first


def test_an_event_comes_out_exactly_at_its_visible_time() -> None:
    probe = _late_fake(SimClock(END))
    late = [i for i in probe.expected_ids() if probe.visible_at(i) > END]  # type: ignore[operator]
    event_id = late[len(late) // 2]
    shown = probe.visible_at(event_id)
    assert shown is not None
    assert shown > datetime.fromtimestamp(_created_ms(probe, event_id) / 1000, UTC)

    clock = SimClock(shown - timedelta(milliseconds=1))
    fake = _late_fake(clock)
    assert fake.visible_at(event_id) == shown
    with _client(fake) as http:
        assert event_id not in _ids(_pages(http, f"{BASE}/events?max=1000"))
        assert event_id not in fake.expected_ids(visible_only=True)
        assert event_id in fake.expected_ids()
        missing = http.get(f"{BASE}/events/{event_id}")
        assert missing.status_code == 404
        assert missing.json()["message"] == "The requested resource could not be found."
        clock.advance(0.001)
        assert clock.now() == shown
        assert event_id in _ids(_pages(http, f"{BASE}/events?max=1000"))
        assert event_id in fake.expected_ids(visible_only=True)
        found = http.get(f"{BASE}/events/{event_id}")
        assert found.status_code == 200
        assert found.content == fake.event_json(event_id)


def test_future_events_are_not_found_by_id() -> None:
    clock = SimClock(END)
    fake = FakeWebex(
        events=100, start=END - timedelta(hours=1), end=END + timedelta(hours=1), wall_clock=clock
    )
    future = [e["id"] for e in fake.events if _created_ms(fake, e["id"]) > round(clock() * 1000)]
    assert future
    with _client(fake) as http:
        assert http.get(f"{BASE}/events/{future[0]}").status_code == 404
        clock.advance(7200)
        assert http.get(f"{BASE}/events/{future[0]}").status_code == 200


def test_visible_at_is_created_plus_a_tier_delay() -> None:
    fake = FakeWebex(events=2000, seed=9, end=END, late=((0.2, 0, 120), (0.05, 600, 1800)))
    delays = [
        (fake.visible_at(e["id"]) - datetime.fromisoformat(e["created"])).total_seconds()  # type: ignore[operator]
        for e in fake.events
    ]
    first = [d for d in delays if 0 < d <= 120]
    second = [d for d in delays if d >= 600]
    assert all(d == 0 or 0 < d <= 120 or 600 <= d <= 1800 for d in delays)
    assert 300 < len(first) < 500  # ~20 %
    assert 60 < len(second) < 140  # ~5 %
    assert max(second) > 1500  # spread over the tier
    assert min(second) < 900
    assert fake.visible_at("nope") is None


def test_no_late_means_visible_at_created_and_no_column() -> None:
    fake = FakeWebex(events=50, end=END)
    assert fake._visible is None  # zero cost
    assert all(fake.visible_at(e["id"]) == datetime.fromisoformat(e["created"]) for e in fake.events)
    assert FakeWebex(events=50, end=END, late=[(0.0, 1, 2)])._visible is None
    assert fake.expected_ids(visible_only=True) == fake.expected_ids()


def test_late_is_deterministic_and_leaves_the_organization_alone() -> None:
    plain = FakeWebex(events=500, seed=4, end=END)
    one = FakeWebex(events=500, seed=4, end=END, late=LATE)
    two = FakeWebex(events=500, seed=4, end=END, late=LATE)
    other = FakeWebex(events=500, seed=5, end=END, late=LATE)
    ids = [e["id"] for e in plain.events]
    assert [one.event_json(i) for i in ids] == [plain.event_json(i) for i in ids]  # same bytes
    assert [one.visible_at(i) for i in ids] == [two.visible_at(i) for i in ids]
    delays = [one.visible_at(e["id"]) - datetime.fromisoformat(e["created"]) for e in one.events]  # type: ignore[operator]
    other_delays = [other.visible_at(e["id"]) - datetime.fromisoformat(e["created"]) for e in other.events]  # type: ignore[operator]
    assert delays != other_delays


@pytest.mark.parametrize(
    ("late", "message"),
    [
        ([(0.6, 0, 10), (0.5, 10, 20)], "sum to at most 1"),
        ([(1.5, 0, 10)], "between 0 and 1"),
        ([(-0.1, 0, 10)], "between 0 and 1"),
        ([(0.1, 20, 10)], "min_seconds <= max_seconds"),
        ([(0.1, -5, 10)], "min_seconds <= max_seconds"),
        ([(0.1, 0, float("nan"))], "finite"),
        ([(0.1, 0)], r"\(fraction, min_seconds, max_seconds\)"),
        ([("a", 0, 1)], r"\(fraction, min_seconds, max_seconds\)"),
    ],
)
def test_late_validation(late: list[tuple[float, ...]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FakeWebex(events=10, end=END, late=late)  # type: ignore[arg-type]


def test_late_fractions_may_sum_to_one() -> None:
    fake = FakeWebex(events=100, end=END, late=[(0.7, 1, 2), (0.2, 1, 2), (0.1, 1, 2)])
    assert all(
        fake.visible_at(e["id"]) > datetime.fromisoformat(e["created"])  # type: ignore[operator]
        for e in fake.events
    )


# ---- FakeWebex.live ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_live_rate(seed: int) -> None:
    clock = SimClock(datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC))
    start = clock.now()
    fake = FakeWebex.live(
        rate=120, history=timedelta(hours=1), duration=timedelta(hours=3), wall_clock=clock, seed=seed
    )
    assert fake.start == start - timedelta(hours=1)
    assert fake.end == start + timedelta(hours=3)
    assert len(fake.events) == 120 * 240
    # Created times per minute, hour by hour: the rate within 5 % (ties and boundaries included).
    clock.advance(3 * 3600)
    for hour in range(-1, 3):
        window = fake.expected_ids(from_=start + timedelta(hours=hour), to=start + timedelta(hours=hour + 1))
        assert abs(len(window) / 60 - 120) <= 0.05 * 120, (hour, len(window))


def test_live_events_keep_arriving() -> None:
    clock = SimClock(datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC))
    fake = FakeWebex.live(rate=60, duration=timedelta(hours=2), wall_clock=clock, late=())
    with _client(fake) as http:
        before = _ids(_pages(http, f"{BASE}/events?max=1000"))
        clock.advance(600)
        after = _ids(_pages(http, f"{BASE}/events?max=1000"))
    new = after[: len(after) - len(before)]
    assert after[len(new) :] == before  # older events stay, new ones on top
    assert 500 <= len(new) <= 700  # ~60 a minute for 10 minutes
    assert all(fake.visible_at(i) <= clock.now() for i in new)  # type: ignore[operator]


def test_live_default_late_tiers() -> None:
    clock = SimClock(datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC))
    fake = FakeWebex.live(rate=30, history=timedelta(hours=2), duration=timedelta(hours=1), wall_clock=clock)
    delays = [
        (fake.visible_at(e["id"]) - datetime.fromisoformat(e["created"])).total_seconds()  # type: ignore[operator]
        for e in fake.events
    ]
    assert 0.15 < sum(0 < d <= 120 for d in delays) / len(delays) < 0.25
    assert 0.003 < sum(600 <= d <= 1800 for d in delays) / len(delays) < 0.02
    assert not any(120 < d < 600 or d > 1800 for d in delays)


def test_live_arguments() -> None:
    with pytest.raises(TypeError, match="events"):
        FakeWebex.live(rate=1, events=5)
    with pytest.raises(ValueError, match="rate"):
        FakeWebex.live(rate=0)
    with pytest.raises(ValueError, match="duration"):
        FakeWebex.live(rate=1, duration=timedelta(0))
    fake = FakeWebex.live(
        rate=1, history=timedelta(0), duration=timedelta(minutes=30), token="t", latency=0.0
    )
    assert fake.token == "t"
    assert len(fake.events) == 30


# ---- the command ---------------------------------------------------------------------------------------


@pytest.fixture
def live_server() -> Iterator[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "webex_events.cli",
            "fake-server",
            "--live",
            "--rate",
            "600",
            "--late",
            "0.5:1-2",
            "--live-for",
            "10m",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_cli.cli_env(None),
    )
    try:
        assert proc.stdout is not None
        assert proc.stderr is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("http://127.0.0.1:"), (line, proc.poll() is not None and proc.stderr.read())
        yield line
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_cli_live_server_keeps_producing_events(live_server: str) -> None:
    with httpx.Client(headers={"Authorization": "Bearer fake-token"}, timeout=30) as http:
        first = http.get(f"{live_server}/events?max=1000")
        assert first.status_code == 200
        first_ids = [item["id"] for item in first.json()["items"]]
        assert len(first_ids) == 1000  # an hour of history at 600 a minute
        time.sleep(3)
        second = http.get(f"{live_server}/events?max=1000")
        second_ids = [item["id"] for item in second.json()["items"]]
    new = set(second_ids) - set(first_ids)
    assert len(new) >= 10  # ~10 a second, half of them 1-2 s late
    newest_first = max(item["created"] for item in first.json()["items"])
    assert max(item["created"] for item in second.json()["items"]) > newest_first


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--late", "0.2-0:120"], "Invalid value for '--late'"),
        (["--late", "half:0-120"], "FRACTION:MIN-MAX"),
        (["--late", "0.7:0-1", "--late", "0.7:0-1"], "sum to at most 1"),
        (["--late", "0.5:9-1"], "min_seconds <= max_seconds"),
        (["--rate", "10"], "--rate only goes with --live"),
        (["--live-for", "1h"], "--live-for only goes with --live"),
        (["--live", "--events", "10"], "--events does not go with --live"),
        (["--live", "--live-for", "soon"], "--live-for: invalid duration"),
    ],
)
def test_cli_live_options_refuse_bad_values(args: list[str], message: str) -> None:
    result = _cli.run_cli("fake-server", *args, "--port", "0", token=None, timeout=30)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert result.stdout == ""


def test_cli_help_explains_live_options() -> None:
    result = _cli.run_cli("fake-server", "--help", token=None)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for words in ("--live", "--rate EVENTS_PER_MINUTE", "--live-for DURATION", "--late FRACTION:MIN-MAX"):
        assert words in text
