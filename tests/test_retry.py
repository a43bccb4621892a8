"""Retry-After parsing and the RetryPolicy (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webex_events import RetryPolicy
from webex_events._retry import parse_retry_after

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        ("0", 0.0),
        ("2.5", 2.5),
        (" 3 ", 3.0),
        ("0.001", 0.001),
        ("rand(30),add(30)", 5.0),  # malformed: default
        ("", 5.0),
        (None, 5.0),
        ("-3", 5.0),
        ("nan", 5.0),
        ("inf", 5.0),
        ("soon", 5.0),
        ("100000", 60.0),  # capped
    ],
)
def test_parse_retry_after_seconds(value: str | None, expected: float) -> None:
    assert parse_retry_after(value, default=5.0, cap=60.0, now=NOW) == pytest.approx(expected)


def test_parse_retry_after_http_date() -> None:
    header = format_datetime(NOW + timedelta(seconds=42), usegmt=True)
    assert parse_retry_after(header, default=5.0, cap=60.0, now=NOW) == pytest.approx(42.0)


def test_parse_retry_after_http_date_in_past_is_zero() -> None:
    header = format_datetime(NOW - timedelta(seconds=42), usegmt=True)
    assert parse_retry_after(header, default=5.0, cap=60.0, now=NOW) == 0.0


def test_parse_retry_after_http_date_capped() -> None:
    header = format_datetime(NOW + timedelta(hours=3), usegmt=True)
    assert parse_retry_after(header, default=5.0, cap=60.0, now=NOW) == 60.0


def test_policy_retry_after_uses_its_default_and_cap() -> None:
    policy = RetryPolicy(retry_after_default=2.0, retry_after_cap=10.0)
    assert policy.retry_after("garbage") == 2.0
    assert policy.retry_after("11") == 10.0
    assert policy.retry_after("1.25") == 1.25


@given(attempt=st.integers(1, 80), seed=st.integers(0, 2**32))
def test_backoff_full_jitter_within_bounds(attempt: int, seed: int) -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_cap=30.0, seed=seed)
    delay = policy.backoff(attempt=attempt, rng=policy.make_rng())
    assert 0.0 <= delay <= min(30.0, 0.5 * 2 ** (attempt - 1))


def test_backoff_is_reproducible_with_seed() -> None:
    policy = RetryPolicy(seed=123)
    a, b = policy.make_rng(), policy.make_rng()
    assert [policy.backoff(attempt=i, rng=a) for i in range(1, 6)] == [
        policy.backoff(attempt=i, rng=b) for i in range(1, 6)
    ]


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"max_attempts": True}, {"backoff_base": -1}, {"retry_after_cap": float("nan")}],
)
def test_policy_rejects_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_policy_is_frozen() -> None:
    policy = RetryPolicy()
    with pytest.raises(AttributeError):
        policy.max_attempts = 3  # type: ignore[misc]
