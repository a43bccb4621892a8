"""Date parsing/formatting and the window arithmetic."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webex_events import InvalidArgumentError
from webex_events._dates import (
    WindowPlan,
    ceil_ms,
    floor_ms,
    format_ms,
    from_ms,
    is_canonical,
    parse_created,
    timedelta_ms,
    to_aware,
)

MS_2000 = 946_684_800_000
MS_2100 = 4_102_444_800_000


def test_to_aware_accepts_z_and_offsets() -> None:
    want = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert to_aware("2024-01-02T03:04:05.678Z", name="x") == want
    assert to_aware("2024-01-02T05:04:05.678+02:00", name="x") == want
    assert to_aware(want.astimezone(timezone(timedelta(hours=-7))), name="x") == want


@pytest.mark.parametrize("value", ["2024-01-02T03:04:05", datetime(2024, 1, 2), "yesterday", "", 17])
def test_to_aware_rejects(value: object) -> None:
    with pytest.raises(InvalidArgumentError, match="from_"):
        to_aware(value, name="from_")


def test_format_and_canonical() -> None:
    text = format_ms(ceil_ms(datetime(2024, 2, 29, 23, 59, 59, 999000, tzinfo=UTC)))
    assert text == "2024-02-29T23:59:59.999Z"
    assert is_canonical(text)
    assert not is_canonical("2024-02-29T23:59:59Z")
    assert not is_canonical("2024-02-29T23:59:59.999+00:00")


def test_ceil_and_floor_ms() -> None:
    dt = datetime(1970, 1, 1, 0, 0, 0, 1500, tzinfo=UTC)
    assert ceil_ms(dt) == 2
    assert floor_ms(dt) == 1
    assert ceil_ms(from_ms(5)) == floor_ms(from_ms(5)) == 5


def test_parse_created_forms() -> None:
    assert parse_created("2024-01-02T03:04:05.678Z") == datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert parse_created("2024-01-02T04:04:05+01:00") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_created("nonsense") is None


def test_timedelta_ms_rounds_up() -> None:
    assert timedelta_ms(timedelta(microseconds=1)) == 1
    assert timedelta_ms(timedelta(seconds=2, microseconds=1500)) == 2002


def test_fixed_plan_counts_its_windows_before_planning() -> None:
    fixed = WindowPlan(0, 16 * 3_600_000, step_ms=3_600_000)
    assert fixed.estimated_total() == 16
    assert not fixed.exhausted


@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(MS_2000, MS_2100),
    span=st.integers(0, 10**10),
    step=st.integers(1, 10**9),
)
def test_windows_tile_the_range_exactly(start: int, span: int, step: int) -> None:
    end = start + span
    # Cap the number of windows for speed: the property is the same.
    step = max(step, -(-span // 2000)) if span else step
    plan = WindowPlan(start, end, step_ms=step)
    counted = plan.estimated_total()  # known before any window is planned
    windows = list(iter(plan.next, None))
    assert len(windows) == counted
    if span == 0:
        assert windows == []
        return
    assert windows[0][0] == start
    assert windows[-1][1] == end
    for (_, e1), (s2, _) in itertools.pairwise(windows):
        assert e1 == s2  # no gap, no overlap
    for s, e in windows:
        assert s < e
        assert e - s <= step
    # ms-aligned and round-trips through the wire format
    for s, e in windows:
        assert ceil_ms(to_aware(format_ms(s), name="x")) == s
        assert ceil_ms(to_aware(format_ms(e), name="x")) == e


@given(a=st.integers(MS_2000, MS_2100), b=st.integers(MS_2000, MS_2100))
def test_canonical_strings_sort_like_instants(a: int, b: int) -> None:
    assert (format_ms(a) < format_ms(b)) == (a < b)


@given(
    dt=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC))
)
def test_ceil_ms_keeps_half_open_semantics(dt: datetime) -> None:
    # For any whole-millisecond event time t: t >= dt  <=>  t >= ceil_ms(dt)
    c = ceil_ms(dt)
    assert from_ms(c) >= dt
    assert from_ms(c - 1) < dt
