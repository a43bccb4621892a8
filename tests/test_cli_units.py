"""In-process unit tests of the CLI helpers (parsing, CSV, progress, state file)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from webex_events.cli._csv import CSV_COLUMNS, csv_header, csv_rows
from webex_events.cli._options import (
    CliUsageError,
    check_base_url,
    format_instant,
    parse_duration,
    parse_instant,
)
from webex_events.cli._progress import Progress
from webex_events.cli._resume import ExportState, state_path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", timedelta(days=7)),
        ("12h", timedelta(hours=12)),
        ("90m", timedelta(minutes=90)),
        ("30s", timedelta(seconds=30)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("1w", timedelta(weeks=1)),
        ("1.5h", timedelta(minutes=90)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text, "--since") == expected


@pytest.mark.parametrize("text", ["", "7", "d", "7x", "-1d", "0s", "7d junk", "1h-2m"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(CliUsageError, match="--since"):
        parse_duration(text, "--since")


def test_parse_instant() -> None:
    assert parse_instant("2024-01-31T10:00:00Z", "--from") == datetime(2024, 1, 31, 10, tzinfo=UTC)
    assert parse_instant("2024-01-31T12:00:00+02:00", "--from") == datetime(2024, 1, 31, 10, tzinfo=UTC)
    assert parse_instant("2024-01-31", "--from") == datetime(2024, 1, 31, tzinfo=UTC)
    # one rule for every form: without an offset it is UTC (as a bare date is)
    assert parse_instant("2024-01-31T10:00:00", "--from") == datetime(2024, 1, 31, 10, tzinfo=UTC)
    with pytest.raises(CliUsageError, match="ISO 8601"):
        parse_instant("last tuesday", "--from")


def test_format_instant_round_trips() -> None:
    dt = datetime(2024, 1, 31, 10, 0, 0, 123456, tzinfo=UTC)
    assert format_instant(dt) == "2024-01-31T10:00:00.123456Z"
    assert parse_instant(format_instant(dt), "x") == dt


@pytest.mark.parametrize(
    "url",
    ["https://webexapis.com/v1", "http://127.0.0.1:8080/v1", "http://localhost:1/v1", "http://[::1]:9/v1"],
)
def test_base_url_accepted(url: str) -> None:
    assert check_base_url(url + "/") == url


@pytest.mark.parametrize(
    "url", ["http://webexapis.com/v1", "ftp://127.0.0.1/v1", "webexapis.com", "https://u:p@webexapis.com/v1"]
)
def test_base_url_refused(url: str) -> None:
    with pytest.raises(CliUsageError, match="--base-url"):
        check_base_url(url)


def test_csv_rows_columns_and_values() -> None:
    raw = {
        "id": "E1",
        "resource": "messages",
        "type": "created",
        "created": "2024-01-01T00:00:00.000Z",
        "data": {"text": 'multi\nline, "quoted"', "callDurationSeconds": 12, "isCallAnswered": True},
        "extra": {"ignored": 1},
    }
    text = csv_header() + csv_rows([raw, {"id": "E2", "data": None}])
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert rows[0]["data.text"] == 'multi\nline, "quoted"'
    assert rows[0]["data.callDurationSeconds"] == "12"
    assert rows[0]["data.isCallAnswered"] == "true"
    assert rows[0]["appId"] == ""
    assert rows[1]["id"] == "E2"
    assert rows[1]["data.id"] == ""


def test_csv_columns_are_unique_and_documented_shape() -> None:
    assert len(CSV_COLUMNS) == len(set(CSV_COLUMNS))
    assert CSV_COLUMNS[:7] == ("id", "resource", "type", "appId", "actorId", "orgId", "created")


def test_progress_tty_redraws_in_place_and_throttles() -> None:
    buf = io.StringIO()
    progress = Progress(buf, tty=True)
    for i in range(1, 1001):
        progress.update(i * 10, i, 1000)
    progress.finish()
    out = buf.getvalue()
    assert "\n" not in out
    assert out.count("\r\x1b[K") <= 50  # throttled: far fewer redraws than updates
    assert "events" in out
    assert "windows" in out
    assert "events/s" in out


def test_progress_plain_lines_are_sparse() -> None:
    buf = io.StringIO()
    progress = Progress(buf, tty=False)
    for i in range(1, 101):
        progress.update(i * 10, i, 100)
    lines = buf.getvalue().splitlines()
    assert 5 <= len(lines) <= 11
    assert all(line.startswith("webex-events: ") for line in lines)
    assert "windows 100/100" in lines[-1]


def test_progress_disabled_writes_nothing() -> None:
    buf = io.StringIO()
    progress = Progress(buf, enabled=False, tty=True)
    progress.update(1, 1, 1)
    progress.finish()
    assert buf.getvalue() == ""


def test_state_file_round_trip_is_atomic(tmp_path: Path) -> None:
    spath = state_path(tmp_path / "out.jsonl")
    assert spath.name == "out.jsonl.webex-events-state.json"
    state = ExportState(
        fingerprint={"resource": "messages"},
        range_from="2024-01-01T00:00:00.000000Z",
        range_to="2024-01-02T00:00:00.000000Z",
        window_end="2024-01-01T06:00:00.000000Z",
        offset=1234,
        events=5,
        step_ms=3_600_000,
    )
    state.save(spath)
    assert ExportState.load(spath) == state
    assert json.loads(spath.read_text())["offset"] == 1234
    assert [p.name for p in tmp_path.iterdir()] == [spath.name]  # no temp file left behind
    ExportState.remove(spath)
    assert not spath.exists()


def test_csv_escapes_formula_text_and_keeps_other_values() -> None:
    raws = [
        {"id": "=1+1", "data": {"text": "@A1", "callDurationSeconds": -3, "isCallAnswered": False}},
        {"id": "-x", "data": {"text": "\tx", "attendees": ["=a"], "roomId": "\rr"}},
    ]
    rows = list(csv.DictReader(io.StringIO(csv_header() + csv_rows(raws), newline="")))
    assert (rows[0]["id"], rows[0]["data.text"]) == ("'=1+1", "'@A1")
    assert (rows[0]["data.callDurationSeconds"], rows[0]["data.isCallAnswered"]) == ("-3", "false")
    assert (rows[1]["id"], rows[1]["data.text"], rows[1]["data.roomId"]) == ("'-x", "'\tx", "'\rr")
    assert rows[1]["data.attendees"] == '["=a"]'  # JSON text starts with [: a spreadsheet keeps it
    exact = csv_header() + csv_rows(raws, escape_formulas=False)
    raw_rows = list(csv.DictReader(io.StringIO(exact, newline="")))
    assert (raw_rows[0]["id"], raw_rows[1]["data.text"]) == ("=1+1", "\tx")
