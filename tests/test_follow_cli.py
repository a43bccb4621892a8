"""``webex-events follow`` as a user runs it: over loopback, at real speed, cron-style or as a daemon."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from _cli import cli_env, run_cli
from _hostile import Answer, hostile_server

from webex_events.cli._sinks import follow_state_path
from webex_events.testing import FakeWebex

TOKEN = "tok-SECRET-follow-91b2"
# Late arrivals at real speed: most within the lag, some beyond it (the overlap finds them),
# a few beyond lag + overlap (only a reconcile pass finds them).
LATE = ((0.2, 0.0, 1.0), (0.05, 1.6, 3.6), (0.03, 5.6, 8.0))
CRON_OPTIONS = [
    "--lag", "1.2s", "--overlap", "3.2s", "--reconcile-horizon", "2m", "--reconcile-interval", "6s",
    "--page-size", "50", "-q",
]  # fmt: skip


@contextmanager
def _live(**knobs: object) -> Iterator[tuple[FakeWebex, str]]:
    fake = FakeWebex.live(
        rate=600,
        history=timedelta(minutes=2),
        duration=timedelta(minutes=10),
        late=LATE,
        token=TOKEN,
        **knobs,
    )
    with fake.serve() as url:
        yield fake, url


def _ids(sink: Path) -> list[str]:
    if sink.suffix == ".db":
        with sqlite3.connect(sink) as db:
            return [row[0] for row in db.execute("SELECT id FROM events")]
    return [json.loads(line)["id"] for line in sink.read_bytes().splitlines()]


def _high_water(sink: Path) -> datetime:
    if sink.suffix == ".db":
        with sqlite3.connect(sink) as db:
            text = db.execute("SELECT value FROM follow_state WHERE name = 'checkpoint'").fetchone()[0]
    else:
        text = json.loads(follow_state_path(sink).read_bytes())["current"]["checkpoint"]
    return datetime.fromisoformat(json.loads(text)["high_water"])


def _cron(url: str, sink: Path, since: str, seconds: float, *, min_runs: int = 0) -> int:
    """Run `follow --once` back to back for ``seconds`` (as cron would, faster), and at least
    ``min_runs`` times (a loaded machine starts each run late); the run count."""
    runs = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline or runs < min_runs:
        r = run_cli(
            "follow",
            "--base-url",
            url,
            "-o",
            str(sink),
            "--since",
            since,
            *CRON_OPTIONS,
            "--once",
            token=TOKEN,
        )
        assert r.returncode == 0, r.stderr
        assert TOKEN not in r.stdout + r.stderr
        runs += 1
        time.sleep(1.0)
    return runs


def _final(fake: FakeWebex, url: str, sink: Path, since: str) -> None:
    """Wait until every event created before the sink's high-water mark is visible (the latest
    tier is 8 s late), run once more with a reconcile pass, and check the sink exactly.

    Every event created in [since, that mark) must be there once; events after it may be there
    (the last run read further), each once, and nothing outside [since, the last run's mark).
    """
    mark = _high_water(sink)
    start = datetime.fromisoformat(since)
    must = set(fake.expected_ids(from_=start, to=mark))
    time.sleep(9)
    args = ["follow", "--base-url", url, "-o", str(sink), "--since", since, *CRON_OPTIONS, "--once"]
    r = run_cli(*args, "--reconcile-interval", "1s", token=TOKEN)
    assert r.returncode == 0, r.stderr
    ids = _ids(sink)
    assert len(ids) == len(set(ids)), "an event was written twice"
    assert must <= set(ids), f"{len(must - set(ids))} events missing"
    assert set(ids) <= set(fake.expected_ids(from_=start, to=_high_water(sink)))
    assert len(must) > 300


_FAULTY = {
    "fault_rate": 0.2,
    "faults": ["500", "503", "429", "reset", "truncated"],
    "fault_retry_after": 0.2,
    "rate_limit": 20,
}


def _cron_runs(sink: Path, knobs: dict[str, object]) -> tuple[int, int]:
    with _live(**knobs) as (fake, url):
        since = (fake.now() - timedelta(minutes=1)).isoformat()
        runs = _cron(url, sink, since, 24, min_runs=10)
        _final(fake, url, sink, since)
        return runs, fake.stats.faults + fake.stats.rate_limited


def test_cron_style_once_runs_are_exact(tmp_path: Path) -> None:
    """JSON Lines against a polite fake and SQLite under 20 % faults and a rate limit, side by side
    (two loopback servers, two cron loops of at least ten runs each)."""
    with ThreadPoolExecutor(2) as pool:
        polite = pool.submit(_cron_runs, tmp_path / "events.jsonl", {})
        faulty = pool.submit(_cron_runs, tmp_path / "events.db", _FAULTY)
        (runs, _), (faulty_runs, faults) = polite.result(), faulty.result()
    assert runs >= 10
    assert faulty_runs >= 10
    assert faults > 5, "the faults and the rate limit were met"


def test_a_running_follow_stops_on_sigterm_with_exit_0_and_continues_exactly(tmp_path: Path) -> None:
    sink = tmp_path / "events.jsonl"
    with _live() as (fake, url):
        since = (fake.now() - timedelta(minutes=1)).isoformat()
        args = [sys.executable, "-m", "webex_events.cli", "follow", "--base-url", url, "-o", str(sink)]
        args += ["--since", since, *CRON_OPTIONS[:-1], "--poll-interval", "1s"]
        for sig in (signal.SIGTERM, signal.SIGINT):
            proc = subprocess.Popen(args, env=cli_env(TOKEN), stderr=subprocess.PIPE, text=True)
            time.sleep(4)
            sent = time.monotonic()
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=30)
            assert proc.returncode == 0, err
            assert time.monotonic() - sent < 2.5
            assert "stopped by a signal" in err
            assert "poll" in err  # progress lines: a line per poll
        _final(fake, url, sink, since)


def test_a_second_follow_on_the_same_output_is_refused(tmp_path: Path) -> None:
    sink = tmp_path / "events.db"
    with _live() as (_, url):
        args = [sys.executable, "-m", "webex_events.cli", "follow", "--base-url", url, "-o", str(sink)]
        args += ["--since", "5m", *CRON_OPTIONS]
        first = subprocess.Popen(args, env=cli_env(TOKEN), stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(3)
            second = run_cli(*args[3:], "--once", token=TOKEN)
        finally:
            first.send_signal(signal.SIGTERM)
            first.communicate(timeout=30)
    assert second.returncode == 2
    assert "being written by another webex-events" in second.stderr
    assert f"pid {first.pid}" in second.stderr
    assert first.returncode == 0


def test_stdout_follow_is_json_lines_with_a_checkpoint_file(tmp_path: Path) -> None:
    checkpoint = tmp_path / "cp.json"
    with _live() as (fake, url):
        since = (fake.now() - timedelta(minutes=1)).isoformat()
        args = [
            "follow",
            "--base-url",
            url,
            "--since",
            since,
            "--checkpoint",
            str(checkpoint),
            *CRON_OPTIONS,
            "--once",
        ]
        first = run_cli(*args, token=TOKEN)
        time.sleep(2)
        second = run_cli(*args, token=TOKEN)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    ids = [json.loads(line)["id"] for line in (first.stdout + second.stdout).splitlines()]
    assert ids
    assert len(ids) == len(set(ids))
    assert all(fake.event_json(i) is not None for i in ids)
    assert json.loads(checkpoint.read_text())["delivered"] == len(ids)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "a new follow needs --since"),
        (["--since", "1d", "--checkpoint", "x.json", "-o", "e.jsonl"], "--checkpoint is for --output -"),
        (["--since", "1d", "--lag", "soon"], "--lag"),
        (
            ["--since", "1d", "--overlap", "2h", "--reconcile-horizon", "1h"],
            "--reconcile-horizon must be at least",
        ),
        (["--since", "1d", "--format", "sqlite"], "--format sqlite needs --output FILE"),
        (["--since", "1d", "--resource", ""], "resource"),
    ],
)
def test_bad_usage_exits_2_before_any_request(tmp_path: Path, args: list[str], message: str) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "webex_events.cli", "follow", "--base-url", "http://127.0.0.1:9/v1", *args],
        env=cli_env(TOKEN),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert r.returncode == 2, r.stderr
    assert message in r.stderr


def test_sigterm_during_a_stalled_request_exits_0_within_two_seconds(tmp_path: Path) -> None:
    def stalled(number: int, path: str, headers: dict[str, str]) -> Answer:
        return Answer(stall=60.0)  # a server that stopped answering

    with hostile_server(stalled) as server:
        args = [sys.executable, "-m", "webex_events.cli", "follow", "--base-url", server.base_url]
        args += ["-o", str(tmp_path / "e.jsonl"), "--since", "2d", "-q"]
        proc = subprocess.Popen(args, env=cli_env(TOKEN), stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.requests, "the follow never sent a request"
        time.sleep(0.5)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    assert proc.returncode == 0, err
    assert took < 2.0, f"took {took:.1f} s"
    assert "stopped by a signal" in err
