"""``follow``: continuous, exactly-once ingestion, against the fake's live mode (late arrivals).

A simulated day (controlled clock) followed in process, sync and async; the same day followed by
a subprocess killed with SIGKILL at random moments and restarted, into JSON Lines and SQLite; a
crash injected between the sink's data and checkpoint writes in both orders; the checkpoint's
validation. The real-time, cron-style runs over loopback are in test_follow_cli.py.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import _follow_child as child
import pytest

from webex_events import (
    AsyncWebexEvents,
    Event,
    FollowBatch,
    FollowCheckpoint,
    InvalidArgumentError,
    WebexEvents,
)
from webex_events._follow import Follower
from webex_events.cli._errors import CliError
from webex_events.cli._follow import run_follow
from webex_events.cli._sinks import SQLITE_COLUMNS, JsonlSink, SqliteSink, follow_state_path
from webex_events.testing import FakeWebex, SimClock

HERE = Path(__file__).parent


def _expected(fake: FakeWebex) -> set[str]:
    """Every event created in [since, end of day): all of them are visible by FINISH."""
    return set(fake.expected_ids(from_=child.SINCE, to=fake.end))


def _follow_day(
    fake: FakeWebex, clock: SimClock, *, until: datetime, checkpoint: FollowCheckpoint | None = None
) -> tuple[list[FollowBatch], FollowCheckpoint]:
    batches: list[FollowBatch] = []
    with WebexEvents(token=fake.token, transport=fake.transport()) as client:
        stream = client.follow(
            since=child.SINCE,
            checkpoint=checkpoint,
            lag=child.LAG,
            poll_interval=child.POLL,
            overlap=child.OVERLAP,
            reconcile_horizon=child.HORIZON,
            reconcile_interval=child.RECONCILE_EVERY,
            page_size=200,
            clock=clock.now,
            sleep=clock.sleep,
        )
        for batch in stream:
            batches.append(batch)
            if batch.caught_up and clock.now() >= until:
                break
    return batches, batches[-1].checkpoint


def _ids(batches: list[FollowBatch]) -> list[str]:
    return [e.id for b in batches for e in b.events]


def test_a_simulated_day_delivers_every_event_once_with_late_ones_counted() -> None:
    clock = SimClock(child.SINCE)
    fake = child.day_fake(clock)
    batches, cp = _follow_day(fake, clock, until=child.FINISH)
    ids = _ids(batches)
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1][:3]
    assert set(ids) == _expected(fake)
    assert cp.delivered == len(ids)
    # Each tier of lateness was met and found by the mechanism meant for it.
    assert cp.late > 0, "late events were found by the overlap re-read"
    assert cp.reconciled > 0, "events later than lag + overlap were found by a reconcile pass"
    assert sum(b.reconciled for b in batches) == cp.reconciled
    # Never ahead of now - lag.
    assert cp.high_water <= child.FINISH - child.LAG


def test_without_overlap_and_reconcile_late_events_would_be_lost() -> None:
    """The mechanism is needed: a plain cursor (no overlap, no reconcile) misses late events."""
    clock = SimClock(child.SINCE)
    fake = child.day_fake(clock)
    with WebexEvents(token=fake.token, transport=fake.transport()) as client:
        got: list[str] = []
        for batch in client.follow(
            since=child.SINCE,
            lag=timedelta(0),
            overlap=timedelta(0),
            reconcile_horizon=timedelta(minutes=1),
            reconcile_interval=timedelta(days=30),
            poll_interval=child.POLL,
            clock=clock.now,
            sleep=clock.sleep,
        ):
            got += [e.id for e in batch.events]
            if batch.caught_up and clock.now() >= child.FINISH:
                break
    assert len(set(got)) < len(_expected(fake))


def test_a_restart_from_each_checkpoint_is_exact() -> None:
    """Stop after every poll and continue from the JSON of the checkpoint: same events, once."""
    clock = SimClock(child.SINCE)
    fake = child.day_fake(clock)
    seen: list[str] = []
    cp: FollowCheckpoint | None = None
    with WebexEvents(token=fake.token, transport=fake.transport()) as client:
        while clock.now() < child.FINISH:
            for batch in client.follow(
                since=child.SINCE,
                checkpoint=cp.to_json() if cp is not None else None,
                lag=child.LAG,
                overlap=child.OVERLAP,
                reconcile_horizon=child.HORIZON,
                reconcile_interval=child.RECONCILE_EVERY,
                once=True,
                clock=clock.now,
            ):
                seen += [e.id for e in batch.events]
                cp = batch.checkpoint
            clock.advance(child.POLL.total_seconds() * random.Random(len(seen)).uniform(0.2, 3))
    assert len(seen) == len(set(seen))
    assert set(seen) == _expected(fake)


def test_async_follow_of_a_simulated_day_is_exact() -> None:
    clock = SimClock(child.SINCE)
    fake = child.day_fake(clock)

    async def sleep(seconds: float) -> None:
        clock.sleep(seconds)

    async def run() -> list[str]:
        out: list[str] = []
        async with AsyncWebexEvents(token=fake.token, transport=fake.async_transport()) as client:
            async for batch in client.follow(
                since=child.SINCE,
                lag=child.LAG,
                poll_interval=child.POLL,
                overlap=child.OVERLAP,
                reconcile_horizon=child.HORIZON,
                reconcile_interval=child.RECONCILE_EVERY,
                clock=clock.now,
                sleep=sleep,
            ):
                out += [e.id for e in batch.events]
                if batch.caught_up and clock.now() >= child.FINISH:
                    break
        return out

    ids = asyncio.run(run())
    assert len(ids) == len(set(ids))
    assert set(ids) == _expected(fake)


def test_follow_with_filters_only_delivers_matching_events() -> None:
    clock = SimClock(child.SINCE + timedelta(hours=6))
    fake = child.day_fake(clock)
    with WebexEvents(token=fake.token, transport=fake.transport()) as client:
        got = {
            e.id
            for b in client.follow(since=child.SINCE, resource="messages", clock=clock.now, once=True)
            for e in b.events
        }
        # A checkpoint is bound to its filters.
        cp = next(iter(client.follow(since=child.SINCE, resource="messages", clock=clock.now, once=True)))
        with pytest.raises(InvalidArgumentError, match="other filters"):
            client.follow(checkpoint=cp.checkpoint, resource="meetings")
    want = set(
        fake.expected_ids(
            from_=child.SINCE, to=clock.now() - child.LAG, resource="messages", visible_only=True
        )
    )
    assert got
    assert got == want


def test_since_inside_a_millisecond_starts_where_list_events_would() -> None:
    """A ``since`` with microseconds: the events of its millisecond are before it, not after (as
    ``list_events(from_=...)`` and ``FakeWebex.expected_ids`` round a bound up)."""
    clock = SimClock(child.SINCE + timedelta(hours=6))
    fake = child.day_fake(clock)
    hour = child.SINCE + timedelta(hours=1)
    event = min(
        (e for e in fake.events if datetime.fromisoformat(e["created"]) >= hour), key=lambda e: e["created"]
    )
    created = datetime.fromisoformat(event["created"])
    with WebexEvents(token=fake.token, transport=fake.transport()) as client:
        for since, included in ((created, True), (created + timedelta(microseconds=1), False)):
            got = {e.id for b in client.follow(since=since, clock=clock.now, once=True) for e in b.events}
            want = fake.expected_ids(from_=since, to=clock.now() - child.LAG, visible_only=True)
            assert (event["id"] in got) is included
            assert got == set(want)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "since= .* or checkpoint="),
        ({"since": "yesterday"}, "since must be"),
        ({"since": child.SINCE, "lag": timedelta(seconds=-1)}, "lag must be at least 0"),
        ({"since": child.SINCE, "reconcile_interval": timedelta(0)}, "reconcile_interval must be positive"),
        (
            {"since": child.SINCE, "overlap": timedelta(hours=2), "reconcile_horizon": timedelta(hours=1)},
            "must be at least the overlap",
        ),
        ({"since": child.SINCE, "poll_interval": 5}, "poll_interval must be a timedelta"),
        ({"since": child.SINCE, "checkpoint": "{}"}, "not a follow checkpoint"),
        ({"since": child.SINCE, "page_size": 0}, "page_size"),
        ({"since": child.SINCE, "colour": "red"}, "unknown filter 'colour'"),
    ],
)
def test_bad_arguments_fail_before_any_request(kwargs: dict[str, object], message: str) -> None:
    fake = FakeWebex(events=10, seed=1)
    with (
        WebexEvents(token=fake.token, transport=fake.transport()) as client,
        pytest.raises(InvalidArgumentError, match=message),
    ):
        client.follow(**kwargs)  # type: ignore[arg-type]
    assert fake.stats.requests == 0


def test_checkpoint_json_round_trips_and_rejects_tampering() -> None:
    clock = SimClock(child.SINCE)
    fake = child.day_fake(clock)
    clock.advance(3 * 3600)
    with WebexEvents(token=fake.token, transport=fake.transport()) as client:
        cp = list(client.follow(since=child.SINCE, once=True, clock=clock.now))[-1].checkpoint
    text = cp.to_json()
    again = FollowCheckpoint.from_json(text)
    assert again == cp
    assert again.to_json() == text
    assert again.delivered == len(fake.expected_ids(from_=child.SINCE, to=cp.high_water, visible_only=True))
    raw = json.loads(text)
    for broken in (
        {**raw, "version": 99},
        {**raw, "high_water_ms": raw["since_ms"] - 1},
        {**raw, "ledger": {"0": "not base64!"}},
        {**raw, "delivered": "12"},
        {k: v for k, v in raw.items() if k != "ledger"},
    ):
        with pytest.raises(InvalidArgumentError, match="not a follow checkpoint"):
            FollowCheckpoint.from_json(json.dumps(broken))


# --- kill -9 at random moments, restart: exact ------------------------------------------------


def _sink_ids(sink: Path) -> list[str]:
    if sink.suffix == ".db":
        with sqlite3.connect(sink) as db:
            return [row[0] for row in db.execute("SELECT id FROM events")]
    return [json.loads(line)["id"] for line in sink.read_bytes().splitlines()]


def _simulated_now(clock_file: Path) -> datetime:
    try:
        return datetime.fromisoformat(clock_file.read_text())
    except (FileNotFoundError, ValueError):
        return child.SINCE


@pytest.mark.parametrize("suffix", [".jsonl", ".db"])
def test_sigkill_at_random_moments_then_restart_is_exact(tmp_path: Path, suffix: str) -> None:
    sink, clock_file = tmp_path / f"events{suffix}", tmp_path / "clock"
    rng = random.Random(f"sigkill{suffix}")
    args = [sys.executable, str(HERE / "_follow_child.py"), str(sink), str(clock_file)]
    # Kills are placed by the child's progress (its simulated clock crossing random points of the
    # followed span), then a random few milliseconds later so they land mid-request, mid-write or
    # mid-commit. Placed by wall time instead, a fast machine finished before the third kill.
    span = child.FINISH - child.SINCE
    kill_points = sorted(child.SINCE + span * rng.uniform(0.05, 0.85) for _ in range(4))
    kills = 0
    for kill_point in [*kill_points, None]:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if kill_point is not None:
            deadline = time.monotonic() + 120
            while proc.poll() is None and _simulated_now(clock_file) < kill_point:
                assert time.monotonic() < deadline, "the follow made no progress"
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, 0.08))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
                continue
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        break
    assert kills == len(kill_points), f"only {kills} kills happened"
    ids = _sink_ids(sink)
    assert len(ids) == len(set(ids)), "an event was written twice"
    assert set(ids) == _expected(child.day_fake())
    checkpoint = FollowCheckpoint.from_json(_sink_checkpoint(sink))
    assert checkpoint.delivered == len(ids)
    assert checkpoint.reconciled > 0, "events later than the overlap were caught by reconcile and counted"


def _sink_checkpoint(sink: Path) -> str:
    if sink.suffix == ".db":
        with sqlite3.connect(sink) as db:
            return str(db.execute("SELECT value FROM follow_state WHERE name = 'checkpoint'").fetchone()[0])
    return str(json.loads(follow_state_path(sink).read_bytes())["current"]["checkpoint"])


# --- a crash between the data and the checkpoint, in both orders ---------------------------------


class _Crash(Exception):
    pass


def _crashing(
    sink_type: type[JsonlSink] | type[SqliteSink], order: tuple[str, str], at: str, after: int
) -> type:
    commits = [0]

    class Crashing(sink_type):  # type: ignore[valid-type,misc]
        def commit(self, events: list[Event], checkpoint: str) -> None:
            self.batch_size = len(events)
            super().commit(events, checkpoint)

        def _crash_point(self, step: str) -> None:
            if step == at and self.batch_size:  # a batch with events: something to lose
                commits[0] += 1
                if commits[0] == after:
                    raise _Crash(step)

    Crashing.order = order
    return Crashing


@pytest.mark.parametrize("sink_type", [JsonlSink, SqliteSink])
@pytest.mark.parametrize("order", [("data", "checkpoint"), ("checkpoint", "data")])
def test_a_crash_between_data_and_checkpoint_loses_and_repeats_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sink_type: type[JsonlSink] | type[SqliteSink],
    order: tuple[str, str],
) -> None:
    suffix = ".jsonl" if sink_type is JsonlSink else ".db"
    sink = tmp_path / f"events{suffix}"
    clock = SimClock(child.SINCE)
    fake = child.day_fake(clock)
    module = sys.modules["webex_events.cli._follow"]

    def client() -> WebexEvents:
        return WebexEvents(token=fake.token, transport=fake.transport())

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now() >= child.FINISH:
            raise KeyboardInterrupt

    crashes = 0
    for after in (3, 7, 20, 40):
        monkeypatch.setattr(module, sink_type.__name__, _crashing(sink_type, order, order[0], after))
        with pytest.raises(_Crash):
            run_follow(child.request(sink), client, clock=clock.now, sleep=sleep)
        crashes += 1
        if sink_type is JsonlSink and order[0] == "checkpoint":
            # The checkpoint reached the disk and the data did not: the file is short of it.
            state = json.loads(follow_state_path(sink).read_bytes())
            assert sink.stat().st_size < state["current"]["size"]
    monkeypatch.setattr(module, sink_type.__name__, sink_type)
    run_follow(child.request(sink), client, clock=clock.now, sleep=sleep)
    ids = _sink_ids(sink)
    assert crashes == 4
    assert len(ids) == len(set(ids))
    assert set(ids) == _expected(fake)


def test_sqlite_rows_have_the_spec_columns_and_exact_json(tmp_path: Path) -> None:
    sink = tmp_path / "events.db"
    clock = SimClock(child.SINCE + timedelta(hours=5))
    fake = child.day_fake(clock)
    req = child.request(sink)
    run_follow(
        type(req)(**{**req.__dict__, "once": True}),
        lambda: WebexEvents(token=fake.token, transport=fake.transport()),
        clock=clock.now,
    )
    with sqlite3.connect(sink) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(events)")]
        indexes = {row[1] for row in db.execute("PRAGMA index_list(events)")}
        rows = db.execute("SELECT id, created, resource, type, actor_id, raw FROM events").fetchall()
    assert columns == ["id", *SQLITE_COLUMNS, "raw"]
    assert {"resource", "type", "actor_id", "created"} <= set(SQLITE_COLUMNS)
    assert {f"events_{c}" for c in SQLITE_COLUMNS} <= indexes
    assert rows
    for event_id, created, resource, type_, actor, raw in rows:
        assert raw.encode() == fake.event_json(event_id)
        event = json.loads(raw)
        assert (created, resource, type_, actor) == (
            event["created"],
            event["resource"],
            event["type"],
            event["actorId"],
        )


def test_an_edited_jsonl_output_is_refused(tmp_path: Path) -> None:
    sink = tmp_path / "events.jsonl"
    clock = SimClock(child.SINCE + timedelta(hours=2))
    fake = child.day_fake(clock)
    req = child.request(sink)
    once = type(req)(**{**req.__dict__, "once": True})

    def client() -> WebexEvents:
        return WebexEvents(token=fake.token, transport=fake.transport())

    run_follow(once, client, clock=clock.now)
    data = bytearray(sink.read_bytes())
    data[-10] ^= 0x20
    sink.write_bytes(bytes(data))
    with pytest.raises(CliError, match="does not match its follow checkpoint"):
        run_follow(once, client, clock=clock.now)


def test_a_reconcile_pass_that_fails_is_run_again_on_the_next_poll() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    follower = Follower(
        since=start,
        checkpoint=None,
        filters={},
        lag=timedelta(minutes=5),
        overlap=timedelta(minutes=15),
        reconcile_horizon=timedelta(hours=24),
        reconcile_interval=timedelta(hours=1),
        now=start,
    )
    later = start + timedelta(hours=2)
    first = follower.plan(later)
    assert first is not None
    assert first.reconcile
    # The pass failed (no finish): the next poll reconciles again.
    again = follower.plan(later + timedelta(seconds=30))
    assert again is not None
    assert again.reconcile
    follower.finish()
    after = follower.plan(later + timedelta(minutes=1))
    assert after is not None
    assert not after.reconcile
