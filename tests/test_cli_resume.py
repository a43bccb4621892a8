"""``webex-events export --resume``: exact after SIGKILL at various points and after Ctrl-C."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from webex_events.testing import FakeWebex

START = datetime(2024, 5, 1, tzinfo=UTC)
END = datetime(2024, 5, 3, tzinfo=UTC)
FROM = "2024-05-01T00:00:00Z"
TO = "2024-05-03T00:00:00Z"
TOKEN = "tok-SECRET-resume-91b3"
EVENTS = 2400


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBEX_")}
    env["WEBEX_ACCESS_TOKEN"] = TOKEN
    return env


def _args(url: str, out: Path) -> list[str]:
    # Small pages and windows, several pages per window: kills land mid-window.
    return [
        sys.executable,
        "-m",
        "webex_events.cli",
        "export",
        "--base-url",
        url,
        "--from",
        FROM,
        "--to",
        TO,
        "--page-size",
        "40",
        "--window",
        "2h",
        "--concurrency",
        "2",
        "--output",
        str(out),
    ]


@pytest.fixture(scope="module")
def slow_fake() -> Iterator[tuple[FakeWebex, str]]:
    fk = FakeWebex(events=EVENTS, seed=11, start=START, end=END, token=TOKEN, latency=0.01)
    with fk.serve() as url:
        yield fk, url


def _check_complete(fk: FakeWebex, out: Path) -> None:
    raw = out.read_bytes()
    assert raw.endswith(b"\n")
    lines = raw.decode("utf-8").split("\n")[:-1]
    ids = [json.loads(line)["id"] for line in lines]  # every line is complete JSON
    assert len(ids) == len(set(ids)), "duplicates"
    assert set(ids) == set(fk.expected_ids(from_=START, to=END))
    assert not out.with_name(out.name + ".webex-events-state.json").exists()
    assert TOKEN.encode() not in raw


def _start_and_kill_at(url: str, out: Path, size: int, sig: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(_args(url, out), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if out.stat().st_size >= size:
                break
        except FileNotFoundError:
            pass
        time.sleep(0.002)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    return proc


@pytest.mark.slow
@pytest.mark.parametrize("fraction", [0.0, 0.15, 0.5, 0.85])
def test_resume_after_sigkill_is_exact(
    slow_fake: tuple[FakeWebex, str], tmp_path: Path, fraction: float
) -> None:
    fk, url = slow_fake
    out = tmp_path / "events.jsonl"
    approx_total = EVENTS * 900  # bytes per event, roughly; only used to pick kill points
    proc = _start_and_kill_at(url, out, int(approx_total * fraction) if fraction else 1, signal.SIGKILL)
    if proc.returncode == 0:
        pytest.skip("export finished before the kill")  # only on an unexpectedly fast machine
    assert proc.returncode == -signal.SIGKILL
    state = out.with_name(out.name + ".webex-events-state.json")
    if state.exists():
        assert TOKEN not in state.read_text()
        # A torn write (what a crash inside write() leaves) is dropped by the resumed run.
        with out.open("ab") as fh:
            fh.write(b'{"id":"torn-partial-line')
        # Without --resume the unfinished export is refused, nothing is appended.
        again = subprocess.run(_args(url, out), env=_env(), capture_output=True, text=True, check=False)
        assert again.returncode == 2
        assert "--resume" in again.stderr
    r = subprocess.run(
        [*_args(url, out), "--resume"], env=_env(), capture_output=True, text=True, check=False
    )
    assert r.returncode == 0, r.stderr
    _check_complete(fk, out)
    assert TOKEN not in r.stderr
    assert TOKEN not in r.stdout


@pytest.mark.slow
def test_sigkill_twice_then_resume(slow_fake: tuple[FakeWebex, str], tmp_path: Path) -> None:
    fk, url = slow_fake
    out = tmp_path / "events.jsonl"
    _start_and_kill_at(url, out, 300_000, signal.SIGKILL)
    first = out.stat().st_size
    proc = subprocess.Popen(
        [*_args(url, out), "--resume"], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None and out.stat().st_size < first + 400_000:
        time.sleep(0.002)
    proc.kill()
    proc.wait(timeout=60)
    r = subprocess.run(
        [*_args(url, out), "--resume"], env=_env(), capture_output=True, text=True, check=False
    )
    assert r.returncode == 0, r.stderr
    _check_complete(fk, out)


@pytest.mark.slow
def test_ctrl_c_exits_130_and_resume_completes(slow_fake: tuple[FakeWebex, str], tmp_path: Path) -> None:
    fk, url = slow_fake
    out = tmp_path / "events.jsonl"
    proc = _start_and_kill_at(url, out, 500_000, signal.SIGINT)
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    assert proc.returncode == 130, err
    assert "--resume" in err
    assert "Traceback" not in err
    # The file holds only whole windows: every line parses.
    for line in out.read_text(encoding="utf-8").splitlines():
        json.loads(line)
    # Every whole window written is kept: the checkpoint covers the whole file, not the last
    # periodic checkpoint before the interrupt.
    state = json.loads(out.with_name(out.name + ".webex-events-state.json").read_text())
    assert state["offset"] == out.stat().st_size >= 500_000  # what was written when Ctrl-C came
    assert state["events"] == len(out.read_bytes().splitlines())
    r = subprocess.run(
        [*_args(url, out), "--resume"], env=_env(), capture_output=True, text=True, check=False
    )
    assert r.returncode == 0, r.stderr
    _check_complete(fk, out)


def test_resume_with_other_arguments_exits_2(slow_fake: tuple[FakeWebex, str], tmp_path: Path) -> None:
    fk, url = slow_fake
    out = tmp_path / "events.jsonl"
    _start_and_kill_at(url, out, 1, signal.SIGKILL)
    state = out.with_name(out.name + ".webex-events-state.json")
    if not state.exists():
        pytest.skip("killed before the state file was written")
    before = fk.stats.requests
    r = subprocess.run(
        [*_args(url, out), "--resume", "--resource", "messages"],
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 2
    assert "resource" in r.stderr
    assert fk.stats.requests == before


def test_resume_since_reuses_resolved_range(tmp_path: Path) -> None:
    """``--since`` is resolved once: a resumed run keeps the exact instants of the first run."""
    fk = FakeWebex(events=1200, seed=5, days=2.0, token=TOKEN, latency=0.05)
    out = tmp_path / "since.jsonl"
    state = out.with_name(out.name + ".webex-events-state.json")
    with fk.serve() as url:
        args = [
            sys.executable,
            "-m",
            "webex_events.cli",
            "export",
            "--base-url",
            url,
            "--since",
            "3d",
            "--output",
            str(out),
            "--page-size",
            "40",
            "--window",
            "2h",
            "--concurrency",
            "1",
        ]
        proc = subprocess.Popen(args, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if out.exists() and out.stat().st_size > 100_000:
                break
            time.sleep(0.002)
        proc.kill()
        proc.wait(timeout=60)
        first = json.loads(state.read_text())
        time.sleep(0.05)  # "now" moves on; the recorded range must not
        proc = subprocess.Popen(
            [*args, "--resume"], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        second = first
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                second = json.loads(state.read_text())
            except FileNotFoundError:  # finished already (very fast machine)
                break
            if second["offset"] > first["offset"]:
                break
            time.sleep(0.002)
        proc.kill()
        proc.wait(timeout=60)
        assert (second["range_from"], second["range_to"]) == (first["range_from"], first["range_to"])
        r = subprocess.run([*args, "--resume"], env=_env(), capture_output=True, text=True, check=False)
        assert r.returncode == 0, r.stderr
    lo = datetime.fromisoformat(first["range_from"])
    hi = datetime.fromisoformat(first["range_to"])
    ids = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(fk.expected_ids(from_=lo, to=hi))
    assert not state.exists()


def test_resume_without_state_starts_new_export_only_with_force(tmp_path: Path) -> None:
    fk = FakeWebex(events=100, seed=2, start=START, end=END, token=TOKEN)
    out = tmp_path / "new.jsonl"
    out.write_bytes(b"stale content from another export\n")
    with fk.serve() as url:
        r = subprocess.run(
            [*_args(url, out), "--resume"], env=_env(), capture_output=True, text=True, check=False
        )
        assert r.returncode == 2, r.stderr
        assert "no unfinished export" in r.stderr
        assert out.read_bytes() == b"stale content from another export\n"
        r = subprocess.run(
            [*_args(url, out), "--resume", "--force"], env=_env(), capture_output=True, text=True, check=False
        )
    assert r.returncode == 0, r.stderr
    assert "starting a new export" in r.stderr
    _check_complete(fk, out)


@pytest.mark.slow
def test_csv_resume_after_sigkill_has_one_header(slow_fake: tuple[FakeWebex, str], tmp_path: Path) -> None:
    fk, url = slow_fake
    out = tmp_path / "events.csv"
    proc = _start_and_kill_at(url, out, 400_000, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    r = subprocess.run(
        [*_args(url, out), "--resume"], env=_env(), capture_output=True, text=True, check=False
    )
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert rows[0][0] == "id"
    ids = [row[0] for row in rows[1:]]
    assert "id" not in ids
    assert len(ids) == len(set(ids))
    assert set(ids) == set(fk.expected_ids(from_=START, to=END))
