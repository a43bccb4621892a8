"""The library against servers that misbehave on purpose (the fake's misbehaviour knobs).

Each case: every good event once, a bad event delivered (never dropped in silence), or a typed
error; never a traceback of another kind. In process and over a real loopback socket.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from webex_events import (
    BadEventError,
    FollowCheckpoint,
    InvalidArgumentError,
    MalformedResponseError,
    RetryPolicy,
    UndecodableResponseError,
    WebexConnectionError,
    WebexEvents,
)
from webex_events.testing import FakeWebex

END = datetime(2024, 5, 1, tzinfo=UTC)
START = END - timedelta(days=2)
FAST = RetryPolicy(backoff_base=0.001, backoff_cap=0.002, max_attempts=8, seed=3)


def _fake(**knobs: object) -> FakeWebex:
    return FakeWebex(events=300, seed=7, start=START, end=END, **knobs)  # type: ignore[arg-type]


def _ids(fake: FakeWebex, **listing: object) -> list[str]:
    with WebexEvents(token=fake.token, transport=fake.transport(), retry=FAST) as client:
        return [event.id for event in client.list_events(page_size=50, **listing)]  # type: ignore[arg-type]


@pytest.mark.parametrize("knob", ["overlapping_pages", "repeated_in_page"])
@pytest.mark.parametrize("listing", [{}, {"from_": START, "to": END, "concurrency": 1}])
def test_an_event_served_twice_is_delivered_once(knob: str, listing: dict[str, object]) -> None:
    fake = _fake(**{knob: True})
    got = _ids(fake, **listing)
    repeated = [event_id for event_id, n in Counter(got).items() if n > 1]
    assert repeated == []
    assert sorted(got) == sorted(fake.expected_ids())


def test_a_cursor_overlap_is_dropped_quietly(caplog: pytest.LogCaptureFixture) -> None:
    # The same event again on the next page (same content): dropped without a warning.
    fake = _fake(overlapping_pages=True)
    caplog.set_level(logging.WARNING, logger="webex_events")
    got = _ids(fake)
    assert len(got) == len(set(got))
    assert not [r for r in caplog.records if "served again" in r.getMessage()]  # same created: quiet


def test_a_gzip_label_on_a_plain_body_is_retried_then_a_typed_error() -> None:
    flaky = _fake(false_gzip_rate=0.3)
    assert sorted(_ids(flaky)) == sorted(flaky.expected_ids())
    assert flaky.stats.false_gzip > 0
    always = _fake(false_gzip_rate=1.0)
    with pytest.raises(UndecodableResponseError, match="gzip"):
        _ids(always)
    assert issubclass(UndecodableResponseError, WebexConnectionError)


def test_a_page_nested_too_deeply_is_delivered_or_a_typed_error() -> None:
    # 5000 levels: Python 3.11 and 3.12's json give up (RecursionError), 3.13's does not.
    fake = _fake(deep_event=5000)
    try:
        json.loads("[" * 5002 + "]" * 5002)
    except RecursionError:
        with pytest.raises(MalformedResponseError, match="nested too deeply"):
            _ids(fake)
    else:
        assert sorted(_ids(fake)) == sorted(fake.expected_ids())


def test_over_loopback_bad_pages_are_retried_and_repeats_dropped() -> None:
    fake = _fake(false_gzip_rate=0.2, overlapping_pages=True)
    with fake.serve() as url, WebexEvents(token=fake.token, base_url=url, retry=FAST) as client:
        got = [event.id for event in client.list_events(page_size=50, from_=START, to=END)]
    assert sorted(got) == sorted(fake.expected_ids())


def _follow_once(fake: FakeWebex, checkpoint: str | None = None) -> tuple[list[object], str]:
    with WebexEvents(token=fake.token, transport=fake.transport(), retry=FAST) as client:
        batches = list(
            client.follow(
                since=None if checkpoint else START,
                checkpoint=checkpoint,
                once=True,
                lag=timedelta(0),
                page_size=50,
                clock=lambda: END,
            )
        )
    return [event for batch in batches for event in batch.events], batches[-1].checkpoint.to_json()


def test_follow_delivers_events_without_a_readable_created_once_and_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = _fake(bad_created=4, missing_ids=2)
    caplog.set_level(logging.WARNING, logger="webex_events")
    events, checkpoint = _follow_once(fake)
    texts = [event.raw_json for event in events]  # type: ignore[attr-defined]
    assert len(texts) == len(set(texts)) == len(fake.expected_ids())
    bad = {damage.kind for damage in fake.damaged.values()}
    assert {"created-not-a-date", "created-missing", "created-null", "created-yesterday"} <= bad
    assert sum("unreadable created" in r.getMessage() for r in caplog.records) == 4
    assert sum("has no id" in r.getMessage() for r in caplog.records) == 2
    assert FollowCheckpoint.from_json(checkpoint).bad == 6
    again, _ = _follow_once(fake, checkpoint)  # a second run goes on past them: nothing twice
    assert again == []


@pytest.mark.parametrize(
    "listing", [{}, {"from_": START, "to": END}, {"from_": START, "to": END, "concurrency": 1}]
)
def test_bad_events_are_delivered_and_counted_or_an_error(listing: dict[str, object]) -> None:
    fake = _fake(bad_created=4, missing_ids=2, overlapping_pages=True)
    with WebexEvents(token=fake.token, transport=fake.transport(), retry=FAST) as client:
        stream = client.list_events(page_size=50, **listing)  # type: ignore[arg-type]
        texts = [event.raw_json for event in stream]
        assert len(texts) == len(set(texts)) == len(fake.expected_ids())
        assert (stream.stats.bad, stream.stats.events) == (6, len(texts))
        assert stream.stats.repeated >= 1  # the overlaps of a window's second page
        strict = client.list_events(page_size=50, bad_events="error", **listing)  # type: ignore[arg-type]
        with pytest.raises(BadEventError, match=r"event .* \(item \d+ of a page of \[.*\)\) has"):
            list(strict)
        with pytest.raises(InvalidArgumentError, match="bad_events must be"):
            client.list_events(bad_events="skip")  # type: ignore[arg-type]


def test_follow_delivers_an_id_served_with_two_created_values_once(caplog: pytest.LogCaptureFixture) -> None:
    fake = _fake(shared_ids=1)
    caplog.set_level(logging.WARNING, logger="webex_events")
    events, _ = _follow_once(fake)
    ids = [event.id for event in events]  # type: ignore[attr-defined]
    assert len(ids) == len(set(ids)) == len(set(fake.expected_ids())) - 1
    assert any("served again" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "listing", [{}, {"from_": START, "to": END}, {"from_": START, "to": END, "concurrency": 1}]
)
def test_a_full_page_without_a_next_link_is_not_the_end(
    listing: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    # A proxy that strips Link headers: the range is listed in halves, exact whatever the order.
    for knobs in ({"strip_link_header": True}, {"strip_link_header": True, "shuffled_pages": True}):
        fake = _fake(**knobs)
        caplog.clear()
        caplog.set_level(logging.WARNING, logger="webex_events")
        got = _ids(fake, **listing)
        assert sorted(got) == sorted(fake.expected_ids()), knobs
        assert sum("without a next link" in r.getMessage() for r in caplog.records) >= 1
