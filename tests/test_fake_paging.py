"""Paging, filters and from/to semantics of the fake, with plain httpx."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from webex_events.testing import FakeWebex
from webex_events_api.spec import LIST_EVENTS

END = datetime(2024, 3, 1, tzinfo=UTC)
BASE = "https://webexapis.com/v1"
# The page-size bounds are the spec's.
_SIZE = LIST_EVENTS.role("page-size")
assert _SIZE.minimum is not None
assert _SIZE.maximum is not None
MIN, MAX = int(_SIZE.minimum), int(_SIZE.maximum)


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _created(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["created"])


def collect(fake: FakeWebex, params: dict[str, str], *, base: str = BASE) -> tuple[list[str], int]:
    """Follow Link rel=next from /events with ``params``; returns (ids, pages)."""
    ids: list[str] = []
    pages = 0
    with httpx.Client(transport=fake.transport(), headers={"Authorization": f"Bearer {fake.token}"}) as http:
        r = http.get(f"{base}/events", params=params)
        while True:
            assert r.status_code == 200, r.text
            pages += 1
            ids += [item["id"] for item in r.json()["items"]]
            nxt = r.links.get("next")
            if nxt is None:
                return ids, pages
            r = http.get(nxt["url"])


@pytest.fixture(scope="module")
def fake() -> FakeWebex:
    return FakeWebex(events=1500, seed=5, end=END, days=7, same_millisecond_fraction=0.1)


def test_paging_yields_each_event_exactly_once(fake: FakeWebex) -> None:
    ids, pages = collect(fake, {"max": "37"})
    assert ids == fake.expected_ids() == [e["id"] for e in fake.events]
    assert pages == -(-1500 // 37)


def test_ties_straddle_page_boundaries(fake: FakeWebex) -> None:
    # The test above is only meaningful if a millisecond shared by several events is cut by a page.
    created = [e["created"] for e in fake.events]
    counts = Counter(created)
    cuts = [i for i in range(37, len(created), 37) if created[i - 1] == created[i]]
    assert max(counts.values()) >= 10
    assert cuts


def test_async_paging(fake: FakeWebex) -> None:
    async def run() -> list[str]:
        ids: list[str] = []
        headers = {"Authorization": f"Bearer {fake.token}"}
        async with httpx.AsyncClient(transport=fake.async_transport(), headers=headers) as http:
            url: str | None = f"{BASE}/events?max=100&from={_iso(END - timedelta(days=3))}"
            while url:
                r = await http.get(url)
                assert r.status_code == 200
                ids += [item["id"] for item in r.json()["items"]]
                url = r.links.get("next", {}).get("url")
        return ids

    ids = asyncio.run(run())
    assert ids == fake.expected_ids(from_=END - timedelta(days=3))
    assert len(ids) > 100


def test_next_link_is_absolute_keeps_filters_and_ends(fake: FakeWebex) -> None:
    actor = fake.actor_ids[0]
    headers = {"Authorization": f"Bearer {fake.token}"}
    with httpx.Client(
        transport=fake.transport(), headers=headers, base_url="http://localhost:8123/v1"
    ) as http:
        r = http.get("/events", params={"actorId": actor, "type": "created", "max": "20"})
        link = r.links["next"]["url"]
        assert r.headers["Link"].endswith('>; rel="next"')
        assert link.startswith("http://localhost:8123/v1/events?")
        query = parse_qs(urlsplit(link).query)
        assert query["actorId"] == [actor]
        assert query["type"] == ["created"]
        assert query["max"] == ["20"]
        assert "cursor" in query
        first = http.get("/events", params={"max": str(MAX)})
        assert len(first.json()["items"]) == MAX
        last, seen = first, MAX
        while "Link" in last.headers:
            last = http.get(last.links["next"]["url"])
            seen += len(last.json()["items"])
        assert seen == 1500
        # The default max is 100.
        assert len(http.get("/events").json()["items"]) == 100


def test_filters(fake: FakeWebex) -> None:
    events = fake.events
    actor = fake.actor_ids[2]
    cases: list[tuple[dict[str, str], dict[str, str]]] = [
        ({"resource": "messages"}, {"resource": "messages"}),
        ({"type": "deleted"}, {"type": "deleted"}),
        ({"actorId": actor}, {"actorId": actor}),
        ({"resource": "memberships", "type": "created", "actorId": actor},
         {"resource": "memberships", "type": "created", "actorId": actor}),
        ({"resource": "convergedRecordings", "serviceType": "calling"}, {"resource": "convergedRecordings"}),
    ]  # fmt: skip
    for params, match in cases:
        expected = [e["id"] for e in events if all(e[k] == v for k, v in match.items())]
        assert expected, params
        ids, _ = collect(fake, {**params, "max": "50"})
        assert ids == expected, params
        assert (
            fake.expected_ids(
                resource=params.get("resource"),
                type=params.get("type"),
                actor_id=params.get("actorId"),
                service_type=params.get("serviceType"),
            )
            == expected
        )
    # A value no event has gives an empty page, not an error.
    assert collect(fake, {"resource": "noSuchResource"}) == ([], 1)


def test_service_type_semantics() -> None:
    fake = FakeWebex(events=800, seed=2, end=END, unknown_fraction=0.5)
    recordings = [e for e in fake.events if e["resource"] == "convergedRecordings"]
    calling = [e["id"] for e in recordings if e["data"]["serviceType"] == "calling"]
    assert calling
    assert len(calling) < len(recordings)  # unknown-flagged recordings carry another serviceType
    ids, _ = collect(fake, {"resource": "convergedRecordings", "serviceType": "calling"})
    assert ids == calling == fake.expected_ids(resource="convergedRecordings", service_type="calling")
    with httpx.Client(transport=fake.transport(), headers={"Authorization": f"Bearer {fake.token}"}) as http:
        r = http.get(f"{BASE}/events", params={"resource": "convergedRecordings"})
    assert r.status_code == 400
    assert "serviceType" in r.json()["message"]


@pytest.mark.parametrize("from_inclusive", [True, False])
@pytest.mark.parametrize("to_inclusive", [True, False])
def test_from_to_inclusivity(from_inclusive: bool, to_inclusive: bool) -> None:
    fake = FakeWebex(
        events=1200, seed=8, end=END, days=2, from_inclusive=from_inclusive, to_inclusive=to_inclusive
    )
    times = Counter(e["created"] for e in fake.events)
    # Bounds exactly on timestamps shared by several events (the hardest case).
    shared = sorted(t for t, n in times.items() if n >= 2)
    lo, hi = datetime.fromisoformat(shared[0]), datetime.fromisoformat(shared[-1])
    assert times[shared[0]] >= 2
    assert times[shared[-1]] >= 2

    def keep(e: dict[str, Any]) -> bool:
        c = _created(e)
        above = c >= lo if from_inclusive else c > lo
        below = c <= hi if to_inclusive else c < hi
        return above and below

    expected = [e["id"] for e in fake.events if keep(e)]
    ids, _ = collect(fake, {"from": _iso(lo), "to": _iso(hi), "max": "25"})
    assert ids == expected
    # expected_ids is always half-open [from_, to), whatever the server's switches.
    assert fake.expected_ids(from_=lo, to=hi) == [e["id"] for e in fake.events if lo <= _created(e) < hi]


def test_dates_with_offsets_and_sub_millisecond_precision(fake: FakeWebex) -> None:
    event = fake.events[500]
    at = _created(event)
    # Same instant written with a +02:00 offset: [at, at+1ms) holds exactly the events of that ms.
    local = at.astimezone(datetime.now(UTC).astimezone().tzinfo).isoformat()
    same_ms = [e["id"] for e in fake.events if e["created"] == event["created"]]
    ids, _ = collect(fake, {"from": local, "to": _iso(at + timedelta(milliseconds=1))})
    assert ids == same_ms
    # from = at + 1 microsecond (inclusive) excludes the events of that millisecond.
    ids, _ = collect(
        fake, {"from": (at + timedelta(microseconds=1)).isoformat(), "to": _iso(at + timedelta(seconds=1))}
    )
    assert event["id"] not in ids


def test_to_in_the_future_means_now(fake: FakeWebex) -> None:
    ids, _ = collect(fake, {"to": "2999-01-01T00:00:00.000Z", "max": str(MAX)})
    assert ids == fake.expected_ids()
    assert fake.expected_ids(to=datetime(2999, 1, 1, tzinfo=UTC)) == ids


def test_events_after_now_are_not_listed() -> None:
    fake = FakeWebex(
        events=300,
        seed=1,
        start=datetime.now(UTC) - timedelta(hours=1),
        days=0,
        end=datetime.now(UTC) + timedelta(hours=1),
    )
    visible = fake.expected_ids()
    assert 0 < len(visible) < 300
    ids, _ = collect(fake, {"max": str(MAX)})
    assert ids == visible


@pytest.mark.parametrize("bad", [str(MIN - 1), str(MAX + 1), "abc", "null", "-1", "1.5", ""])
def test_bad_max_is_400(fake: FakeWebex, bad: str) -> None:
    with httpx.Client(transport=fake.transport(), headers={"Authorization": f"Bearer {fake.token}"}) as http:
        r = http.get(f"{BASE}/events", params={"max": bad})
    assert r.status_code == 400
    assert "max" in r.json()["message"]


@pytest.mark.parametrize(
    ("name", "value"), [("from", "yesterday"), ("to", "2024-13-01T00:00:00Z"), ("cursor", "x")]
)
def test_bad_dates_and_cursor_are_400(fake: FakeWebex, name: str, value: str) -> None:
    with httpx.Client(transport=fake.transport(), headers={"Authorization": f"Bearer {fake.token}"}) as http:
        r = http.get(f"{BASE}/events", params={name: value})
    assert r.status_code == 400
    assert r.json()["errors"][0]["description"]


def test_max_boundaries_are_accepted(fake: FakeWebex) -> None:
    with httpx.Client(transport=fake.transport(), headers={"Authorization": f"Bearer {fake.token}"}) as http:
        assert len(http.get(f"{BASE}/events?max={MIN}").json()["items"]) == MIN
        assert len(http.get(f"{BASE}/events?max={MAX}").json()["items"]) == MAX
