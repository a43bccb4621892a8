"""The ``webex-events`` command run as a subprocess against the fake server over loopback."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import _cli
import httpx
import pytest

from webex_events.cli._csv import CSV_COLUMNS
from webex_events.testing import FakeWebex
from webex_events_api.spec import LIST_EVENTS

START = datetime(2024, 3, 1, tzinfo=UTC)
END = datetime(2024, 3, 4, tzinfo=UTC)
FROM = "2024-03-01T00:00:00Z"
TO = "2024-03-04T00:00:00Z"
TOKEN = "tok-SECRET-4f9c2a7e"


def run_cli(
    *args: str, token: str | None = TOKEN, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m webex_events.cli ARGS`` with a clean environment."""
    return _cli.run_cli(*args, token=token, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def fake() -> FakeWebex:
    return FakeWebex(events=1500, seed=7, start=START, end=END, token=TOKEN)


@pytest.fixture(scope="module")
def base_url(fake: FakeWebex) -> Iterator[str]:
    with fake.serve() as url:
        yield url


@pytest.fixture
def fresh_fake() -> Iterator[tuple[FakeWebex, str]]:
    fk = FakeWebex(events=50, seed=3, start=START, end=END, token=TOKEN)
    with fk.serve() as url:
        yield fk, url


def _no_token_anywhere(result: subprocess.CompletedProcess[str], *files: Path) -> None:
    assert TOKEN not in result.stdout
    assert TOKEN not in result.stderr
    for f in files:
        if f.exists():
            assert TOKEN.encode() not in f.read_bytes()


def test_export_jsonl_exact(fake: FakeWebex, base_url: str, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    r = run_cli(
        "export",
        "--base-url",
        base_url,
        "--from",
        FROM,
        "--to",
        TO,
        "--output",
        str(out),
        "--page-size",
        "100",
    )
    assert r.returncode == 0, r.stderr
    raw = out.read_bytes()
    assert raw.endswith(b"\n")
    lines = raw.decode("utf-8").splitlines()
    ids = [json.loads(line)["id"] for line in lines]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(fake.expected_ids(from_=START, to=END))
    # Each line is exactly the JSON text the server sends for that event.
    by_id = dict(zip(ids, lines, strict=True))
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        for event_id in ids[:: max(1, len(ids) // 15)]:
            body = http.get(f"/events/{event_id}").text
            assert by_id[event_id] == body
    assert not (tmp_path / "events.jsonl.webex-events-state.json").exists()
    assert "webex-events: done: " in r.stderr
    _no_token_anywhere(r, out)


def test_export_stdout_filters_and_summary(fake: FakeWebex, base_url: str) -> None:
    r = run_cli(
        "export",
        "--base-url",
        base_url,
        "--from",
        FROM,
        "--to",
        TO,
        "--resource",
        "messages",
        "--type",
        "created",
    )
    assert r.returncode == 0, r.stderr
    ids = [json.loads(line)["id"] for line in r.stdout.splitlines()]
    expected = fake.expected_ids(resource="messages", type="created", from_=START, to=END)
    assert sorted(ids) == sorted(expected)
    summary = r.stderr.strip().splitlines()[-1]
    assert summary.startswith("webex-events: done: ")
    assert "events" in summary
    assert " page" in summary
    assert "retries" in summary
    _no_token_anywhere(r)


def test_export_csv_columns(fake: FakeWebex, base_url: str, tmp_path: Path) -> None:
    out = tmp_path / "events.csv"
    r = run_cli("export", "--base-url", base_url, "--from", FROM, "--to", TO, "-o", str(out))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert list(rows[0].keys()) == list(CSV_COLUMNS)
    truth = {e["id"]: e for e in fake.events}
    assert {row["id"] for row in rows} == set(fake.expected_ids(from_=START, to=END))
    assert len(rows) == len({row["id"] for row in rows})
    for row in rows[:200]:
        event = truth[row["id"]]
        assert row["created"] == event["created"]
        assert row["resource"] == event["resource"]
        for column in CSV_COLUMNS:
            if column.startswith("data."):
                value = event["data"].get(column[5:])
                if isinstance(value, str):
                    formula = value[:1] in ("=", "+", "-", "@", "\t", "\r")
                    assert row[column] == ("'" + value if formula else value)
                elif value is None:
                    assert row[column] == ""
    # The help documents the columns.
    help_text = run_cli("export", "--help").stdout
    assert "data.personEmail" in help_text
    assert "data.callDurationSeconds" in help_text


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--from", "yesterday"], "--from"),
        (["--from", "2024-03-01T00:00:00+25:00"], "--from"),
        (["--from", TO, "--to", FROM], "before"),
        (["--since", "7d", "--from", FROM], "--since"),
        (["--since", "7x"], "--since"),
        (["--from", FROM, "--page-size", "0"], "page-size"),
        (["--from", FROM, "--page-size", "1001"], "page-size"),
        (["--from", FROM, "--format", "xml"], "format"),
        (["--from", FROM, "--window", "soon"], "--window"),
        (["--from", FROM, "--resource", "convergedRecordings"], "service-type"),
        (["--from", FROM, "--resource", ""], "resource"),
        (["--from", FROM, "--service-type", "calling"], "service-type"),
        (["--from", FROM, "--resume"], "--resume"),
        (["--from", FROM, "--base-url", "http://example.com/v1"], "https"),
        (["--from", FROM, "--token-file", "/nonexistent/token"], "token"),
        (["--from", FROM, "--bogus"], "bogus"),
    ],
)
def test_bad_usage_exits_2_and_sends_nothing(
    fresh_fake: tuple[FakeWebex, str], args: list[str], needle: str
) -> None:
    fk, url = fresh_fake
    r = run_cli("export", "--base-url", url, *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("webex-events: error: ")
    assert needle.lower() in r.stderr.lower()
    assert "Traceback" not in r.stderr
    assert fk.stats.requests == 0


def test_missing_token_exits_2(fresh_fake: tuple[FakeWebex, str]) -> None:
    fk, url = fresh_fake
    r = run_cli("export", "--base-url", url, "--since", "1d", token=None)
    assert r.returncode == 2
    assert "WEBEX_ACCESS_TOKEN" in r.stderr
    assert fk.stats.requests == 0


def test_existing_state_without_resume_exits_2(fresh_fake: tuple[FakeWebex, str], tmp_path: Path) -> None:
    fk, url = fresh_fake
    out = tmp_path / "x.jsonl"
    out.write_text("")
    (tmp_path / "x.jsonl.webex-events-state.json").write_text("{}")
    r = run_cli("export", "--base-url", url, "--from", FROM, "--to", TO, "-o", str(out))
    assert r.returncode == 2
    assert "--resume" in r.stderr
    assert fk.stats.requests == 0


def test_token_file(fresh_fake: tuple[FakeWebex, str], tmp_path: Path) -> None:
    fk, url = fresh_fake
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    r = run_cli(
        "export", "--base-url", url, "--from", FROM, "--to", TO, "--token-file", str(token_file), token=None
    )
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == len(fk.expected_ids(from_=START, to=END))
    _no_token_anywhere(r)


def test_unauthorized_exits_3(fresh_fake: tuple[FakeWebex, str], tmp_path: Path) -> None:
    _, url = fresh_fake
    out = tmp_path / "x.jsonl"
    r = run_cli(
        "export", "--base-url", url, "--from", FROM, "--to", TO, "-o", str(out), token="wrong-token-123"
    )
    assert r.returncode == 3, r.stderr
    assert r.stderr.startswith("webex-events: error: ")
    assert "401" in r.stderr
    assert "wrong-token-123" not in r.stderr
    assert "Traceback" not in r.stderr


def test_forbidden_exits_3_with_tracking_id(tmp_path: Path) -> None:
    fk = FakeWebex(events=50, seed=3, start=START, end=END, token=TOKEN, forbidden_token="no-scope-7f3a")
    with fk.serve() as url:
        r = run_cli(
            "export",
            "--base-url",
            url,
            "--from",
            FROM,
            "--to",
            TO,
            "-o",
            str(tmp_path / "x.jsonl"),
            token="no-scope-7f3a",
        )
    assert r.returncode == 3, r.stderr
    assert r.stderr.startswith("webex-events: error: ")
    assert "403" in r.stderr
    assert "ROUTER_" in r.stderr  # the tracking id, to quote to Webex support
    assert "no-scope-7f3a" not in r.stderr
    assert "Traceback" not in r.stderr
    assert fk.stats.requests == 1  # a 403 is final: not retried


def test_server_errors_exit_4_with_tracking_id(tmp_path: Path) -> None:
    fk = FakeWebex(events=50, seed=3, start=START, end=END, token=TOKEN, fault_rate=1.0, faults=["500"])
    with fk.serve() as url:
        r = run_cli(
            "export",
            "--base-url",
            url,
            "--from",
            FROM,
            "--to",
            TO,
            "-o",
            str(tmp_path / "x.jsonl"),
            env={"WEBEX_EVENTS_MAX_ATTEMPTS": "2"},
        )
    assert r.returncode == 4, r.stderr
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith("webex-events: error: ")
    assert "500" in line
    assert "tracking id" in line
    assert "Traceback" not in r.stderr
    _no_token_anywhere(r, tmp_path / "x.jsonl", tmp_path / "x.jsonl.webex-events-state.json")


def test_demo_needs_no_token(tmp_path: Path) -> None:
    out = tmp_path / "demo.jsonl"
    r = run_cli("export", "--demo", "--since", "7d", "--output", str(out), token=None)
    assert r.returncode == 0, r.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5000  # the whole demo organization: its last 7 days end "now"
    ids = [json.loads(line)["id"] for line in lines]
    assert len(ids) == len(set(ids))
    assert "webex-events: done: " in r.stderr


def test_get_prints_event(fake: FakeWebex, base_url: str) -> None:
    event_id = fake.expected_ids(from_=START, to=END)[3]
    r = run_cli("get", event_id, "--base-url", base_url)
    assert r.returncode == 0, r.stderr
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        assert r.stdout == http.get(f"{base_url}/events/{event_id}").text + "\n"
    _no_token_anywhere(r)


def test_get_missing_event_exits_4(fresh_fake: tuple[FakeWebex, str]) -> None:
    _, url = fresh_fake
    r = run_cli("get", "no-such-event", "--base-url", url)
    assert r.returncode == 4
    assert "404" in r.stderr
    assert "tracking id" in r.stderr


def test_fake_server_prints_loopback_url() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBEX_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "webex_events.cli", "fake-server", "--events", "20", "--token", "t0k"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.strip().split()[-1]
        assert url.startswith("http://127.0.0.1:")
        resp = httpx.get(url.rstrip("/") + "/events", headers={"Authorization": "Bearer t0k"}, timeout=10)
        assert resp.status_code == 200
        assert len(resp.json()["items"]) == 20
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_help_and_version() -> None:
    r = run_cli("--help")
    assert r.returncode == 0
    assert "export" in r.stdout
    assert "fake-server" in r.stdout
    r = run_cli("export", "--help")
    assert "--resume" in r.stdout
    assert "--since" in r.stdout


def test_demo_resume_rebuilds_the_same_organization(tmp_path: Path) -> None:
    out = tmp_path / "demo.jsonl"
    args = [
        sys.executable,
        "-m",
        "webex_events.cli",
        "export",
        "--demo",
        "--since",
        "7d",
        "-o",
        str(out),
        "--concurrency",
        "1",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBEX_")}
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None and not (out.exists() and out.stat().st_size > 0):
        time.sleep(0.001)
    proc.kill()
    proc.wait(timeout=30)
    if not out.with_name(out.name + ".webex-events-state.json").exists():
        pytest.skip("the demo finished before the kill")
    time.sleep(0.01)  # "now" moves on: the resumed demo must still serve the same events
    r = run_cli(
        "export", "--demo", "--since", "7d", "-o", str(out), "--concurrency", "1", "--resume", token=None
    )
    assert r.returncode == 0, r.stderr
    ids = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(ids) == len(set(ids)) == 5000


def test_a_resource_value_newer_than_the_spec_is_sent_with_a_warning(tmp_path: Path) -> None:
    """Webex adds resources before specs catch up: the CLI sends them, as the library does."""
    fk = FakeWebex(events=400, seed=9, start=START, end=END, token=TOKEN, unknown_fraction=0.3)
    known = LIST_EVENTS.parameter("resource").enum
    newer = next(e["resource"] for e in fk.events if e["resource"] not in known)
    out = tmp_path / "newer.jsonl"
    with fk.serve() as url:
        r = run_cli(
            "export", "--base-url", url, "--from", FROM, "--to", TO, "--resource", newer, "-o", str(out)
        )
    assert r.returncode == 0, r.stderr
    assert f"--resource {newer!r} is not one of the spec's values" in r.stderr
    got = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert sorted(got) == sorted(fk.expected_ids(resource=newer, from_=START, to=END))
    assert got
